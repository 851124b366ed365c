import Foundation
import NIOConcurrencyHelpers
import NIOCore
import Storage
import TestSupport
import Testing

/// Stands in for the bus: a registry that shows `live` groups subscribed to
/// every topic, groups that are down, and groups that refuse chosen events.
final class RecordingPublisher: EventPublisher {
    struct RegistryDown: Error {}
    struct Delivery: Hashable, Sendable {
        var eventID: String
        var group: String
        var tenant: String
    }

    let delivered = NIOLockedValueBox<[Delivery]>([])
    /// Groups the registry shows subscribed (to every topic).
    let live = NIOLockedValueBox<Set<String>>(["consumer"])
    /// Groups with no reachable instance.
    let down = NIOLockedValueBox<Set<String>>([])
    /// Refusals left per event id (any group; `Int.max`: always).
    let refusalsLeft = NIOLockedValueBox<[String: Int]>([:])
    /// Event ids refused only by this group (always).
    let refusedBy = NIOLockedValueBox<[String: String]>([:])
    let registryDown = NIOLockedValueBox(false)
    /// Groups whose attempts hang (until cancelled, or a minute), then fail as unreachable.
    let hanging = NIOLockedValueBox<Set<String>>([])
    /// Every delivery attempt, failed or not.
    let attempts = NIOLockedValueBox(0)

    func subscribers(of topic: String) async throws -> Set<String> {
        if registryDown.withLockedValue({ $0 }) { throw RegistryDown() }
        return live.withLockedValue { $0 }
    }

    func publish(topic: String, payload: String, eventID: String, tenant: String, to group: String) async throws(EventDeliveryFailure) {
        attempts.withLockedValue { $0 += 1 }
        if hanging.withLockedValue({ $0.contains(group) }) {
            try? await Task.sleep(for: .seconds(60))
            throw EventDeliveryFailure(.unreachable, "deadline-exceeded: \(group) did not answer")
        }
        if down.withLockedValue({ $0.contains(group) }) { throw EventDeliveryFailure(.unreachable, "no-responders: no live instance of \(group)") }
        let refuse = refusalsLeft.withLockedValue { left -> Bool in
            guard let count = left[eventID], count > 0 else { return false }
            if count != .max { left[eventID] = count - 1 }
            return true
        } || refusedBy.withLockedValue { $0[eventID] == group }
        if refuse { throw EventDeliveryFailure(.refused, "invalid-argument: \(group) refuses \(eventID)") }
        delivered.withLockedValue { $0.append(Delivery(eventID: eventID, group: group, tenant: tenant)) }
    }

    /// Event ids delivered, in order (to any group).
    var ids: [String] { delivered.withLockedValue { $0.map(\.eventID) } }

    func ids(for group: String) -> [String] {
        delivered.withLockedValue { $0.filter { $0.group == group }.map(\.eventID) }
    }
}

@Suite struct OutboxTests {
    static let migrations = [Migration(id: 1, name: "create_item", sql: "CREATE TABLE item (id TEXT PRIMARY KEY)")] + Outbox.migrations(startingAt: 2) + [Outbox.tenantMigration(id: 4)]

    func prepared(_ database: any Database) async throws {
        try await Migrator(service: "test", migrations: Self.migrations).deploy(to: database)
    }

    /// Adds an item and its event in one transaction.
    func addItem(_ id: String, _ database: any Database) async throws {
        try await database.write { session in
            try session.execute("INSERT INTO item (id) VALUES (\(id))")
            try Outbox.enqueue(session, topic: "item.added", payload: JSONText(#"{"id":"\#(id)"}"#), tenant: "tenant-\(id)", eventID: "evt-\(id)")
        }
    }

    @Test(arguments: Engine.allCases)
    func eventsCommitWithTheirChangeAndRollBackWithIt(_ engine: Engine) async throws {
        struct Abort: Error {}
        try await TestDatabases.with(engine) { database in
            try await prepared(database)
            try await addItem("kept", database)
            await #expect(throws: StorageError.self) {
                try await database.write { session in
                    try session.execute("INSERT INTO item (id) VALUES (\("dropped"))")
                    try Outbox.enqueue(session, topic: "item.added", payload: JSONText("{}"), tenant: "default", eventID: "evt-dropped")
                    throw Abort()
                }
            }
            let relay = OutboxRelay(database: database, publisher: RecordingPublisher())
            #expect(try await relay.pendingCount() == 1)
        }
    }

    @Test(arguments: Engine.allCases)
    func theRelayDeliversInOrderAndRetriesAFailingEventBeforeLaterOnes(_ engine: Engine) async throws {
        try await TestDatabases.with(engine) { database in
            try await prepared(database)
            for n in 1...6 { try await addItem("\(n)", database) }
            let publisher = RecordingPublisher()
            publisher.refusalsLeft.withLockedValue { $0["evt-3"] = 2 }
            let relay = OutboxRelay(database: database, publisher: publisher, configuration: .init(initialBackoff: .zero))

            // Two passes stop at event 3: 1 and 2 are delivered, nothing after 3.
            #expect(try await relay.deliverPending() == 2)
            #expect(try await relay.deliverPending() == 0)
            #expect(publisher.ids == ["evt-1", "evt-2"])
            #expect(try await relay.pendingCount() == 4)
            #expect(try await relay.deliverPending() == 4)
            #expect(publisher.ids == (1...6).map { "evt-\($0)" })
            // Each event goes out with the tenant it was enqueued for.
            #expect(publisher.delivered.withLockedValue { $0.map(\.tenant) } == (1...6).map { "tenant-\($0)" })
            #expect(try await relay.pendingCount() == 0)
            let attempts = try await database.read { try $0.queryFirst("SELECT d.attempts FROM outbox_delivery d JOIN outbox o ON o.seq = d.seq WHERE o.event_id = \("evt-3")")! }
            #expect(try attempts.decode(Int.self, "attempts") == 2)
        }
    }

    @Test(arguments: Engine.allCases)
    func theInboxAppliesAnEventOnceAndAgainOnlyIfItFailed(_ engine: Engine) async throws {
        struct Boom: Error {}
        try await TestDatabases.with(engine) { database in
            try await prepared(database)
            let effects = NIOLockedValueBox(0)
            let apply: @Sendable (any DatabaseSession) throws -> Void = { session in
                try session.execute("INSERT INTO item (id) VALUES (\("from-event"))")
                effects.withLockedValue { $0 += 1 }
            }
            // The effect fails: nothing is recorded, so the redelivery applies it.
            await #expect(throws: StorageError.self) {
                try await Inbox.consume(database, eventID: "evt-x", consumer: "billing") { _ in throw Boom() }
            }
            #expect(try await Inbox.consume(database, eventID: "evt-x", consumer: "billing", apply))
            #expect(try await !Inbox.consume(database, eventID: "evt-x", consumer: "billing", apply))
            // Another consumer has its own record.
            #expect(try await Inbox.consume(database, eventID: "evt-x", consumer: "analytics") { _ in })
            #expect(effects.withLockedValue { $0 } == 1)
        }
    }

    @Test(arguments: Engine.allCases)
    func oneRelayAtATimeDeliversEachEventOnce(_ engine: Engine) async throws {
        let (url, cleanup) = try await TestDatabases.freshURL(engine)
        defer { Task { await cleanup() } }
        let setup = try await openDatabase(DatabaseURL(url))
        try await prepared(setup)
        for n in 1...50 { try await addItem("\(n)", setup) }
        let publisher = RecordingPublisher()
        var relays: [Task<Void, any Error>] = []
        var databases: [any Database] = []
        for _ in 0..<3 {
            let database = try await openDatabase(DatabaseURL(url))
            databases.append(database)
            let relay = OutboxRelay(database: database, publisher: publisher, configuration: .init(pollInterval: .milliseconds(20)))
            relays.append(Task { try await relay.run() })
        }
        let watcher = OutboxRelay(database: setup, publisher: publisher)
        var pending: Int64 = -1
        for _ in 0..<500 where pending != 0 {
            pending = try await watcher.pendingCount()
            if pending != 0 { try await Task.sleep(for: .milliseconds(10)) }
        }
        for relay in relays { relay.cancel() }
        for relay in relays { _ = try? await relay.value }
        for database in databases { await database.close() }
        await setup.close()
        #expect(pending == 0)
        #expect(publisher.ids == (1...50).map { "evt-\($0)" })
    }

    @Test(arguments: Engine.allCases)
    func pruningRemovesOldDeliveredEventsAndInboxRecords(_ engine: Engine) async throws {
        try await TestDatabases.with(engine) { database in
            try await prepared(database)
            for n in 1...3 { try await addItem("\(n)", database) }
            try await Inbox.consume(database, eventID: "evt-old", consumer: "c") { _ in }
            let relay = OutboxRelay(database: database, publisher: RecordingPublisher(), configuration: .init(retention: .hours(1)))
            try await relay.deliverPending()
            #expect(try await relay.prune().outbox == 0)  // all younger than an hour
            let later = Timestamp(millisecondsSince1970: Timestamp.now().millisecondsSince1970 + 2 * 3_600_000)
            let pruned = try await relay.prune(now: later)
            #expect(pruned.outbox == 3 && pruned.inbox == 1)
        }
    }

    @Test func concurrentWritersEventsAreDeliveredInCommitOrder() async throws {
        try await TestDatabases.with(.postgres) { database in
            try await prepared(database)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for writer in 0..<8 {
                    group.addTask {
                        for n in 0..<25 { try await addItem("w\(writer)-\(n)", database) }
                    }
                }
                try await group.waitForAll()
            }
            let publisher = RecordingPublisher()
            try await OutboxRelay(database: database, publisher: publisher).deliverPending()
            #expect(publisher.ids.count == 200)
            // Each writer's events arrive in the order that writer committed them.
            for writer in 0..<8 {
                let mine = publisher.ids.filter { $0.hasPrefix("evt-w\(writer)-") }
                #expect(mine == (0..<25).map { "evt-w\(writer)-\($0)" })
            }
        }
    }
}
