import BusWire

/// Accounts for every request a run sent: answered, failed with a code, or
/// lost (neither). A correct bus loses nothing.
public struct DeliveryLedger: Sendable, Hashable {
    public var sent = 0
    public var answered = 0
    public var failures: [String: Int] = [:]

    public var failed: Int { failures.values.reduce(0, +) }
    public var lost: Int { sent - answered - failed }

    mutating func recordFailure(_ code: ErrorCode) {
        failures[code.rawValue, default: 0] += 1
    }

    mutating func add(_ other: DeliveryLedger) {
        sent += other.sent
        answered += other.answered
        failures.merge(other.failures, uniquingKeysWith: +)
    }
}
