import Foundation
import Storage
import TestSupport
import Testing

/// Nothing lost, nothing applied twice, with processes killed (SIGKILL) in
/// every window: a publisher between commit and delivery, a subscriber
/// before its commit, and a subscriber after its commit but before its ack.
@Suite(.serialized) struct OutboxCrashTests {
    @Test(arguments: Engine.allCases)
    func everyEventIsAppliedExactlyOnceThroughKills(_ engine: Engine) async throws {
        let (publisherURL, cleanPublisher) = try await TestDatabases.freshURL(engine)
        let (subscriberURL, cleanSubscriber) = try await TestDatabases.freshURL(engine)
        var processes: [VideobusProcess] = []
        defer {
            for process in processes { process.stop() }
            Task { await cleanPublisher(); await cleanSubscriber() }
        }
        func start(_ arguments: [String], probe: Bool = true) throws -> VideobusProcess {
            let process = try VideobusProcess(arguments, executable: probe ? "outbox-probe" : "videobus")
            processes.append(process)
            return process
        }

        let registry = try start(["registry", "--port", "0", "--max-lease", "2"], probe: false)
        let registryFlag = ["--registry", "127.0.0.1:\(try await registry.listeningPort())"]
        let subscriber = ["subscriber", "--database", subscriberURL] + registryFlag
        let publisher = ["publisher", "--database", publisherURL, "--events", "20", "--declare", "probe-subscriber"] + registryFlag

        // 1. A subscriber that dies inside the transaction applying event 5.
        let first = try start(subscriber + ["--crash-before-commit", "5"])
        _ = try await first.listeningPort()
        // 2. A publisher that commits events 1…8, then dies before relaying any.
        let crashingPublisher = try start(publisher + ["--crash-after-commit", "8"])
        #expect(try await crashingPublisher.exitStatus() == SIGKILL)
        let outbox = try await openDatabase(DatabaseURL(publisherURL))
        let committed = try await outbox.read { try $0.queryFirst("SELECT COUNT(*) AS n, COUNT(delivered_at) AS d FROM outbox")! }
        #expect(try committed.decode(Int64.self, "n") == 8)
        #expect(try committed.decode(Int64.self, "d") == 0)
        // 3. The publisher again: commits the rest and relays everything.
        let relaying = try start(publisher)
        #expect(try await first.exitStatus(timeout: .seconds(30)) == SIGKILL)
        // 4. A subscriber that dies after committing event 12, before acknowledging it.
        let second = try start(subscriber + ["--crash-after-commit", "12"])
        #expect(try await second.exitStatus(timeout: .seconds(30)) == SIGKILL)
        // 5. A subscriber that stays: it receives event 12 again and must not apply it twice.
        _ = try await start(subscriber).listeningPort()
        #expect(try await relaying.exitStatus(timeout: .seconds(60)) == 0, "\(relaying.log)")
        #expect(relaying.log.contains("delivered 20"))

        let applied = try await openDatabase(DatabaseURL(subscriberURL))
        let counts = try await applied.read { session in
            try session.queryFirst("SELECT (SELECT COUNT(*) FROM applied) AS rows, (SELECT total FROM counter WHERE id = 1) AS total, (SELECT COUNT(*) FROM inbox) AS inbox")!
        }
        #expect(try counts.decode(Int64.self, "rows") == 20)
        #expect(try counts.decode(Int64.self, "total") == 20, "an event was applied twice")
        #expect(try counts.decode(Int64.self, "inbox") == 20)
        // A lost ack is the subscriber being unreachable: recorded, but never counted toward parking.
        let retried = try await outbox.read { session in
            try session.queryFirst("SELECT d.attempts, d.last_error FROM outbox_delivery d JOIN outbox o ON o.seq = d.seq WHERE o.event_id = \("evt-12")")!
        }
        #expect(try retried.decode(String?.self, "last_error") != nil, "event 12 was never redelivered: the crash after commit was not exercised")
        #expect(try retried.decode(Int64.self, "attempts") == 0)
        await applied.close()
        await outbox.close()
    }
}
