import BusRuntime
import BusWire
import NIOCore
import Storage

/// The outbox relay's way onto the bus: the registry says who subscribes, and
/// each delivery goes to one instance of one subscriber group.
public struct BusEventPublisher: EventPublisher {
    public let node: BusNode
    /// Deadline of one delivery attempt (and of asking the registry).
    public var timeout: TimeAmount

    public init(node: BusNode, timeout: TimeAmount = .seconds(5)) {
        self.node = node
        self.timeout = timeout
    }

    public func subscribers(of topic: String) async throws -> Set<String> {
        Set(try await node.subscribers(of: topic, timeout: timeout))
    }

    public func publish(topic: String, payload: String, eventID: String, tenant: String, to group: String) async throws(EventDeliveryFailure) {
        let report = await node.publish(topic: topic, payload: ByteBuffer(string: payload), eventID: eventID, to: [group], timeout: timeout, tenant: tenant)
        guard let error = report.failed[group] ?? report.failed["*"] else { return }
        throw Self.failure(error)
    }

    /// Whether a bus error means the group was not reached (wait for it) or
    /// that it refused the event (count toward parking).
    public static func failure(_ error: BusError) -> EventDeliveryFailure {
        switch error.code {
        case .unavailable, .noResponders, .deadlineExceeded, .overloaded: EventDeliveryFailure(.unreachable, error.description)
        default: EventDeliveryFailure(.refused, error.description)
        }
    }
}
