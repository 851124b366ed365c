import Foundation
import Storage
import TestSupport
import Testing

/// Events reach a declared subscriber that was away for longer than its
/// registry lease, and a poison event is parked while the ones after it flow;
/// `videobus events` shows it and replays it. Real processes, killed by PID.
@Suite(.serialized) struct EventDeliveryProcessTests {
    /// The processes a test started, killed by PID when it ends.
    final class Processes: @unchecked Sendable {
        var all: [VideobusProcess] = []

        func start(_ arguments: [String], probe: Bool = true) throws -> VideobusProcess {
            let process = try VideobusProcess(arguments, executable: probe ? "outbox-probe" : "videobus")
            all.append(process)
            return process
        }

        func stopAll() {
            for process in all { process.stop() }
        }
    }

    func count(_ sql: SQL, in database: any Database) async throws -> Int64 {
        try await database.read { try $0.queryFirst(sql)!.decode(Int64.self, "n") }
    }

    func isRegistered(_ service: String, registry: [String]) async throws -> Bool {
        let (status, output) = try await VideobusProcess.run(["status"] + registry)
        guard status == 0 else { throw SystemTestError("videobus status failed:\n\(output)") }
        return output.contains(service)
    }

    @Test(arguments: Engine.allCases)
    func aDeclaredSubscriberAwayLongerThanItsLeaseReceivesEveryEvent(_ engine: Engine) async throws {
        let (publisherURL, cleanPublisher) = try await TestDatabases.freshURL(engine)
        let (subscriberURL, cleanSubscriber) = try await TestDatabases.freshURL(engine)
        let processes = Processes()
        defer {
            processes.stopAll()
            Task { await cleanPublisher(); await cleanSubscriber() }
        }
        let registry = try processes.start(["registry", "--port", "0", "--max-lease", "2"], probe: false)
        let registryFlag = ["--registry", "127.0.0.1:\(try await registry.listeningPort())"]
        let subscriber = ["subscriber", "--database", subscriberURL] + registryFlag

        // The subscriber registers, then dies.
        let first = try processes.start(subscriber)
        _ = try await first.listeningPort()
        #expect(await eventually { try await isRegistered("probe-subscriber", registry: registryFlag) })
        first.signal(SIGKILL)
        #expect(try await first.exitStatus() == SIGKILL)

        // Events are produced while it is away, and it stays away past its lease.
        let publisher = try processes.start(["publisher", "--database", publisherURL, "--events", "20", "--declare", "probe-subscriber", "--max-attempts", "2"] + registryFlag)
        #expect(await eventually(timeout: .seconds(20)) { try await !isRegistered("probe-subscriber", registry: registryFlag) })
        let outbox = try await openDatabase(DatabaseURL(publisherURL))
        defer { Task { await outbox.close() } }
        // The relay keeps trying after the registry forgot the group (it is declared)...
        let triedSinceTheLeaseRanOut = await eventually {
            try await count("SELECT COUNT(*) AS n FROM outbox_delivery WHERE last_error LIKE \("%no-responders%")", in: outbox) == 1
        }
        #expect(triedSinceTheLeaseRanOut, "\(publisher.log)")
        // ...many more times than the refusal limit, yet nothing is done, nothing parked.
        #expect(try await count("SELECT COUNT(*) AS n FROM outbox_delivery WHERE subscriber = \("probe-subscriber") AND delivered_at IS NULL AND parked_at IS NULL", in: outbox) == 20)
        #expect(try await count("SELECT COUNT(*) AS n FROM outbox_delivery WHERE parked_at IS NOT NULL OR attempts > 0", in: outbox) == 0)
        #expect(try await count("SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NOT NULL", in: outbox) == 0)

        // It comes back: everything arrives, once.
        _ = try await processes.start(subscriber).listeningPort()
        #expect(try await publisher.exitStatus(timeout: .seconds(60)) == 0, "\(publisher.log)")
        #expect(publisher.log.contains("delivered 20"))
        let applied = try await openDatabase(DatabaseURL(subscriberURL))
        defer { Task { await applied.close() } }
        #expect(try await count("SELECT COUNT(*) AS n FROM applied", in: applied) == 20)
        #expect(try await count("SELECT total AS n FROM counter WHERE id = 1", in: applied) == 20)
        #expect(try await count("SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NOT NULL", in: outbox) == 20)
    }

    @Test(arguments: Engine.allCases)
    func aPoisonEventIsParkedTheNextOnesFlowAndAReplayDeliversIt(_ engine: Engine) async throws {
        let (publisherURL, cleanPublisher) = try await TestDatabases.freshURL(engine)
        let (subscriberURL, cleanSubscriber) = try await TestDatabases.freshURL(engine)
        let processes = Processes()
        defer {
            processes.stopAll()
            Task { await cleanPublisher(); await cleanSubscriber() }
        }
        let registry = try processes.start(["registry", "--port", "0", "--max-lease", "2"], probe: false)
        let registryFlag = ["--registry", "127.0.0.1:\(try await registry.listeningPort())"]
        let subscriber = ["subscriber", "--database", subscriberURL] + registryFlag
        // `videobus events` reads only the outbox tables: pointed at the probe's database it works as on a service's.
        let events = ["--service", "analysis-store", "--database-url", publisherURL]

        let refusing = try processes.start(subscriber + ["--refuse", "5"])
        _ = try await refusing.listeningPort()
        let publisher = try processes.start(["publisher", "--database", publisherURL, "--events", "10", "--declare", "probe-subscriber", "--max-attempts", "3", "--stay"] + registryFlag)
        #expect(await eventually(timeout: .seconds(60)) { publisher.log.contains("delivered 9, parked 1") }, "\(publisher.log)")

        let applied = try await openDatabase(DatabaseURL(subscriberURL))
        defer { Task { await applied.close() } }
        #expect(try await count("SELECT COUNT(*) AS n FROM applied", in: applied) == 9)
        #expect(try await count("SELECT COUNT(*) AS n FROM applied WHERE event_id = \("evt-5")", in: applied) == 0)

        let (statusExit, status) = try await VideobusProcess.run(["events", "status"] + events)
        #expect(statusExit == 0, "\(status)")
        let groupLine = status.split(separator: "\n").first { $0.hasPrefix("probe-subscriber") }.map { $0.split(separator: " ", omittingEmptySubsequences: true) }
        #expect(groupLine?.first == "probe-subscriber" && groupLine?[1] == "0" && groupLine?.last == "1", "\(status)")
        let (parkedExit, parked) = try await VideobusProcess.run(["events", "parked"] + events)
        #expect(parkedExit == 0 && parked.contains("evt-5") && parked.contains("probe.event") && parked.contains("is poison"), "\(parked)")

        // The subscriber is fixed; the parked event is replayed and applied once.
        refusing.signal(SIGKILL)
        _ = try await refusing.exitStatus()
        _ = try await processes.start(subscriber).listeningPort()
        let (replayExit, replay) = try await VideobusProcess.run(["events", "replay", "--event", "evt-5"] + events)
        #expect(replayExit == 0 && replay.contains("replayed 1"), "\(replay)")
        #expect(await eventually(timeout: .seconds(30)) { try await count("SELECT COUNT(*) AS n FROM applied", in: applied) == 10 })
        #expect(try await count("SELECT total AS n FROM counter WHERE id = 1", in: applied) == 10)
        let (_, after) = try await VideobusProcess.run(["events", "parked"] + events)
        #expect(after.contains("(no parked events)"), "\(after)")
        let (againExit, _) = try await VideobusProcess.run(["events", "replay", "--all"] + events)
        #expect(againExit == 1, "nothing is parked any more")
    }
}
