import BusRuntime
import BusWire
import NIOCore
import Storage

/// The outbox relay's way onto the bus: each event goes to one instance of
/// every subscribing service, and counts as delivered only when all of them
/// acknowledged it.
public struct BusEventPublisher: EventPublisher {
    public let node: BusNode
    /// Deadline of one delivery attempt.
    public var timeout: TimeAmount

    public init(node: BusNode, timeout: TimeAmount = .seconds(5)) {
        self.node = node
        self.timeout = timeout
    }

    public func publish(topic: String, payload: String, eventID: String) async throws {
        let report = await node.publish(topic: topic, payload: ByteBuffer(string: payload), eventID: eventID, timeout: timeout)
        guard report.isComplete else {
            let failures = report.failed.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: "; ")
            throw BusError(.unavailable, "event \(eventID) not acknowledged by \(failures)")
        }
    }
}
