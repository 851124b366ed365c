import BusRuntime
import BusWire
import NIOCore
import Storage

extension BusNode {
    /// Subscribes to `topic` and applies each event exactly once to `database`:
    /// the effect runs in a transaction that also records the event in the
    /// inbox under `consumer`, so a redelivery (after a lost ack, a retry or
    /// a restart) changes nothing. An event of a tenant is applied in that
    /// tenant's session. Before ``start()``, like ``subscribe(_:_:)``.
    ///
    /// - Parameter afterCommit: runs once the effect's transaction committed
    ///   and before the event is acknowledged (e.g. to wake this service's
    ///   own outbox relay when the effect enqueued events).
    public func consume(
        _ topic: String,
        into database: any Database,
        as consumer: String,
        afterCommit: (@Sendable (EventDelivery) async -> Void)? = nil,
        _ effect: @escaping @Sendable (ByteBuffer, EventDelivery, any DatabaseSession) throws -> Void
    ) {
        subscribe(topic) { payload, delivery in
            let applied: Bool
            do {
                applied = try await Inbox.consume(database, eventID: delivery.eventID, consumer: consumer, tenant: delivery.tenant) { session in
                    try effect(payload, delivery, session)
                }
            } catch let error as StorageError {
                guard error.code == .unavailable || error.code == .retryable else { throw error }
                // Nothing was committed: the publisher may deliver it again.
                throw RetrySafe(.unavailable, "\(consumer) could not record \(delivery.eventID): \(error.message)")
            }
            if applied, let afterCommit { await afterCommit(delivery) }
        }
    }
}
