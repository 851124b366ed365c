import Foundation
import NIOCore
import Storage
import TestSupport
import Testing

/// Per-group delivery: declared subscribers wait for their group, a poison
/// event is parked without holding the rest, and groups do not hold each other.
@Suite struct OutboxDeliveryTests {
    static let migrations = [Migration(id: 1, name: "create_item", sql: "CREATE TABLE item (id TEXT PRIMARY KEY)")] + Outbox.migrations(startingAt: 2) + [Outbox.tenantMigration(id: 4)]

    func prepared(_ database: any Database, events count: Int) async throws {
        try await Migrator(service: "test", migrations: Self.migrations).deploy(to: database)
        for n in 1...count { try await enqueue("evt-\(n)", topic: "item.added", database) }
    }

    func enqueue(_ eventID: String, topic: String, _ database: any Database) async throws {
        try await database.write { try Outbox.enqueue($0, topic: topic, payload: JSONText("{}"), tenant: "default", eventID: eventID) }
    }

    /// Retries at once, so that each pass is one attempt per due group.
    func relay(_ database: any Database, _ publisher: RecordingPublisher, declared: DeclaredSubscriptions = [:], maxAttempts: Int = 8) -> OutboxRelay {
        OutboxRelay(database: database, publisher: publisher, subscriptions: declared, configuration: .init(initialBackoff: .zero, maxAttempts: maxAttempts))
    }

    func deliveredEvents(_ database: any Database) async throws -> [String] {
        try await database.read { session in
            try session.query("SELECT event_id FROM outbox WHERE delivered_at IS NOT NULL ORDER BY seq").map { row throws(StorageError) -> String in try row["event_id"] }
        }
    }

    @Test(arguments: Engine.allCases)
    func anEventForAnAbsentDeclaredGroupWaitsUntilTheGroupComes(_ engine: Engine) async throws {
        try await TestDatabases.with(engine) { database in
            try await prepared(database, events: 3)
            try await enqueue("evt-unheard", topic: "nobody.listens", database)
            let publisher = RecordingPublisher()
            publisher.live.withLockedValue { $0 = [] }
            publisher.down.withLockedValue { $0 = ["billing"] }
            let relay = relay(database, publisher, declared: ["item.added": ["billing"]], maxAttempts: 2)

            // Many more passes than the refusal limit: the group is away, which never parks.
            for _ in 1...6 { #expect(try await relay.deliverPending() == 0) }
            #expect(publisher.attempts.withLockedValue { $0 } >= 6)
            #expect(try await relay.pendingCount() == 3)
            // Nobody declared or subscribed to the other topic: that one is done.
            #expect(try await deliveredEvents(database) == ["evt-unheard"])
            let status = try await OutboxInspector(database: database).status()
            #expect(status.groups.map(\.subscriber) == ["billing"])
            #expect(status.groups.first?.pending == 3 && status.groups.first?.parked == 0)
            #expect(status.groups.first?.oldestPending != nil)
            #expect(try await OutboxInspector(database: database).parked().isEmpty)

            publisher.down.withLockedValue { $0 = [] }
            #expect(try await relay.deliverPending() == 3)
            #expect(publisher.ids(for: "billing") == ["evt-1", "evt-2", "evt-3"])
            #expect(try await relay.pendingCount() == 0)
            #expect(try await deliveredEvents(database).count == 4)
        }
    }

    @Test(arguments: Engine.allCases)
    func aPoisonEventIsParkedAfterTheLimitAndTheNextOnesFlow(_ engine: Engine) async throws {
        try await TestDatabases.with(engine) { database in
            try await prepared(database, events: 5)
            let publisher = RecordingPublisher()
            publisher.refusalsLeft.withLockedValue { $0["evt-2"] = .max }
            let relay = relay(database, publisher, maxAttempts: 3)

            #expect(try await relay.deliverPending() == 1)  // evt-1; evt-2 refused (1 of 3)
            #expect(try await relay.deliverPending() == 0)  // refused (2 of 3): later events still wait
            #expect(publisher.ids == ["evt-1"])
            #expect(try await relay.deliverPending() == 3)  // refused (3 of 3): parked, 3…5 flow
            #expect(publisher.ids == ["evt-1", "evt-3", "evt-4", "evt-5"])
            #expect(try await relay.pendingCount() == 0)
            #expect(try await deliveredEvents(database) == ["evt-1", "evt-3", "evt-4", "evt-5"])

            let inspector = OutboxInspector(database: database)
            let parked = try await inspector.parked()
            #expect(parked.map(\.eventID) == ["evt-2"])
            #expect(parked.first?.subscriber == "consumer" && parked.first?.attempts == 3 && parked.first?.topic == "item.added")
            #expect(parked.first?.lastError?.contains("refuses evt-2") == true)
            let status = try await inspector.status()
            #expect(status.groups.map { [$0.subscriber, "\($0.pending)", "\($0.parked)"] } == [["consumer", "0", "1"]])
            #expect(status.groups.first?.oldestPending == nil)
            // Parked is final until replayed: more passes do not try it again.
            let attemptsSoFar = publisher.attempts.withLockedValue { $0 }
            #expect(try await relay.deliverPending() == 0)
            #expect(publisher.attempts.withLockedValue { $0 } == attemptsSoFar)
        }
    }

    @Test(arguments: Engine.allCases)
    func aReplayedEventIsDeliveredOnceMore(_ engine: Engine) async throws {
        try await TestDatabases.with(engine) { database in
            try await prepared(database, events: 3)
            let publisher = RecordingPublisher()
            publisher.refusalsLeft.withLockedValue { $0["evt-2"] = 1 }
            let relay = relay(database, publisher, maxAttempts: 1)
            #expect(try await relay.deliverPending() == 2)
            let inspector = OutboxInspector(database: database)
            #expect(try await inspector.parked().map(\.eventID) == ["evt-2"])

            #expect(try await inspector.replay(eventID: "evt-2", subscriber: "someone-else") == 0)
            #expect(try await inspector.replay(eventID: "evt-2") == 1)
            #expect(try await inspector.parked().isEmpty)
            #expect(try await relay.pendingCount() == 1)
            #expect(try await relay.deliverPending() == 1)
            #expect(publisher.ids == ["evt-1", "evt-3", "evt-2"])
            #expect(try await relay.pendingCount() == 0)
            #expect(try await deliveredEvents(database) == ["evt-1", "evt-2", "evt-3"])
            #expect(try await inspector.replay(eventID: "evt-2") == 0)
            #expect(try await relay.deliverPending() == 0)
            #expect(publisher.ids.filter { $0 == "evt-2" }.count == 1)
        }
    }

    @Test(arguments: Engine.allCases)
    func oneGroupsTroubleNeverHoldsAnothersEvents(_ engine: Engine) async throws {
        try await TestDatabases.with(engine) { database in
            try await prepared(database, events: 3)
            let publisher = RecordingPublisher()
            publisher.live.withLockedValue { $0 = ["search"] }
            publisher.down.withLockedValue { $0 = ["billing"] }
            publisher.refusedBy.withLockedValue { $0["evt-1"] = "search" }
            let relay = relay(database, publisher, declared: ["item.added": ["billing"]], maxAttempts: 2)

            #expect(try await relay.deliverPending() == 0)
            #expect(try await relay.deliverPending() == 2)  // search parks evt-1 and takes 2, 3; billing still away
            #expect(publisher.ids(for: "search") == ["evt-2", "evt-3"])
            #expect(publisher.ids(for: "billing").isEmpty)
            let status = try await OutboxInspector(database: database).status()
            #expect(status.groups.map { [$0.subscriber, "\($0.pending)", "\($0.parked)"] } == [["billing", "3", "0"], ["search", "0", "1"]])
            // No event is done until billing has it too.
            #expect(try await deliveredEvents(database).isEmpty)

            publisher.down.withLockedValue { $0 = [] }
            #expect(try await relay.deliverPending() == 3)
            #expect(publisher.ids(for: "billing") == ["evt-1", "evt-2", "evt-3"])
            #expect(try await deliveredEvents(database) == ["evt-2", "evt-3"])  // evt-1 is parked for search
            #expect(try await relay.pendingCount() == 0)
        }
    }

    @Test(arguments: Engine.allCases)
    func anEventIsDeliveredOnceEveryGroupAcknowledgedItEvenAtTheSameMoment(_ engine: Engine) async throws {
        try await TestDatabases.with(engine) { database in
            try await prepared(database, events: 200)
            let publisher = RecordingPublisher()
            publisher.live.withLockedValue { $0 = ["a", "b", "c"] }
            // Small batches: the groups mark the same events delivered in many overlapping transactions.
            let relay = OutboxRelay(database: database, publisher: publisher, configuration: .init(batchSize: 5))
            while try await relay.deliverPending() > 0 {}
            for group in ["a", "b", "c"] { #expect(publisher.ids(for: group) == (1...200).map { "evt-\($0)" }) }
            #expect(try await deliveredEvents(database).count == 200)
        }
    }

    @Test(arguments: Engine.allCases)
    func aGroupWhoseAttemptsHangHoldsOnlyItselfInTheRunningRelay(_ engine: Engine) async throws {
        try await TestDatabases.with(engine) { database in
            try await prepared(database, events: 2)
            let publisher = RecordingPublisher()
            publisher.live.withLockedValue { $0 = ["fast", "stuck"] }
            publisher.hanging.withLockedValue { $0 = ["stuck"] }
            let relay = OutboxRelay(database: database, publisher: publisher, configuration: .init(pollInterval: .milliseconds(20)))
            let running = Task { try await relay.run() }
            defer { running.cancel() }
            #expect(await eventually { publisher.ids(for: "fast") == ["evt-1", "evt-2"] })
            // Written while stuck's attempt at evt-1 still hangs: fast gets it all the same.
            try await enqueue("evt-3", topic: "item.added", database)
            relay.notify()
            #expect(await eventually { publisher.ids(for: "fast") == ["evt-1", "evt-2", "evt-3"] })
            #expect(publisher.ids(for: "stuck").isEmpty)
            running.cancel()
            _ = try? await running.value
        }
    }

    @Test(arguments: Engine.allCases)
    func eventsWaitUnroutedWhileTheSubscribersCannotBeKnown(_ engine: Engine) async throws {
        try await TestDatabases.with(engine) { database in
            try await prepared(database, events: 2)
            let publisher = RecordingPublisher()
            publisher.registryDown.withLockedValue { $0 = true }
            let relay = relay(database, publisher)
            await #expect(throws: RecordingPublisher.RegistryDown.self) { try await relay.deliverPending() }
            #expect(try await relay.pendingCount() == 2)
            #expect(try await deliveredEvents(database).isEmpty)
            #expect(try await OutboxInspector(database: database).status().unrouted == 2)

            publisher.registryDown.withLockedValue { $0 = false }
            #expect(try await relay.deliverPending() == 2)
            #expect(publisher.ids == ["evt-1", "evt-2"])
        }
    }

    @Test(arguments: Engine.allCases)
    func aRefusedEventWaitsOutItsBackoff(_ engine: Engine) async throws {
        try await TestDatabases.with(engine) { database in
            try await prepared(database, events: 2)
            let publisher = RecordingPublisher()
            publisher.refusalsLeft.withLockedValue { $0["evt-1"] = 1 }
            // maxBackoff too: it caps the first wait (5 s by default, which a loaded machine can sleep through).
            let relay = OutboxRelay(database: database, publisher: publisher, configuration: .init(initialBackoff: .seconds(600), maxBackoff: .seconds(600)))
            #expect(try await relay.deliverPending() == 0)
            #expect(try await relay.deliverPending() == 0)
            #expect(publisher.attempts.withLockedValue { $0 } == 1, "the second pass tried before the backoff passed")
        }
    }
}
