import BusRuntime
import Contracts
import NIOCore
import Storage

extension Outbox {
    /// Records an event of `topic` for `tenant` in the current transaction,
    /// its payload encoded as the topic's contract says. (There is no
    /// variant without a tenant: every event belongs to one.)
    @discardableResult
    public static func enqueue<Payload>(_ session: any DatabaseSession, _ topic: EventTopic<Payload>, _ payload: Payload, tenant: String) throws -> String {
        try enqueue(session, topic: topic.name, payload: JSONText(String(buffer: JSONBody.encode(payload))), tenant: tenant)
    }
}
