import Foundation
import TestSupport
import Testing

/// `videobus serve analysis-store` as a process: migrates on start (or refuses
/// to start unmigrated with --no-migrate) and answers over the bus.
@Suite struct AnalysisStoreProcessTests {
    @Test(arguments: Engine.allCases)
    func aServedAnalysisStoreMigratesOnStartAndAnswersCalls(_ engine: Engine) async throws {
        // PostgreSQL: the service connects as a role row-level security binds, and migrates as the owner.
        let (owner, url, cleanup) = try await TestDatabases.freshURLs(engine)
        defer { Task { await cleanup() } }
        let databaseFlags = ["--database-url", url] + (engine == .postgres ? ["--migrations-database-url", owner] : [])
        let pending = 12  // every migration of the analysis-store

        let unmigrated = try VideobusProcess(["serve", "analysis-store", "--standalone", "--no-migrate"] + databaseFlags)
        defer { unmigrated.stop() }
        #expect(try await unmigrated.exitStatus() != 0)
        #expect(unmigrated.log.contains("is not up to date (\(pending) pending, 0 modified, 0 unknown); run videobus migrate deploy --service analysis-store"), "\(unmigrated.log)")

        let registry = try VideobusProcess(["registry", "--port", "0"])
        defer { registry.stop() }
        let registryFlag = ["--registry", "127.0.0.1:\(try await registry.listeningPort())"]
        let store = try VideobusProcess(["serve", "analysis-store"] + databaseFlags + registryFlag)
        defer { store.stop() }
        _ = try await store.listeningPort()
        #expect(store.log.contains("applied migration 1 create_video_analysis"))

        var created: (Int32, String) = (-1, "")
        for _ in 0..<100 {
            created = try await VideobusProcess.run(["call", "analysis-store.create", #"{"video_id":"test_001","description":"A sunset"}"#, "--tenant", "default"] + registryFlag)
            if created.0 != 3 { break }  // 3: not registered yet
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(created.0 == 0, "\(created.1)")
        #expect(created.1.contains(#""video_id":"test_001""#))
        let (got, record) = try await VideobusProcess.run(["call", "analysis-store.get", #"{"video_id":"test_001"}"#, "--tenant", "default"] + registryFlag)
        #expect(got == 0 && record.contains(#""description":"A sunset""#))
        let (duplicate, conflict) = try await VideobusProcess.run(["call", "analysis-store.create", #"{"video_id":"test_001","description":"again"}"#, "--tenant", "default"] + registryFlag)
        #expect(duplicate == 4 && conflict.contains("conflict: an analysis for video test_001 already exists"))
        // Another tenant has its own test_001; a call without a tenant is refused.
        let (other, _) = try await VideobusProcess.run(["call", "analysis-store.create", #"{"video_id":"test_001","description":"theirs"}"#, "--tenant", "acme"] + registryFlag)
        #expect(other == 0)
        let (anonymous, refusal) = try await VideobusProcess.run(["call", "analysis-store.get", #"{"video_id":"test_001"}"#] + registryFlag)
        #expect(anonymous == 4 && refusal.contains("unauthenticated: analysis-store.get needs a tenant"), "\(refusal)")

        // SIGTERM drains and exits 0; a restart finds its migrations applied.
        store.signal(SIGTERM)
        #expect(try await store.exitStatus() == 0, "\(store.log)")
        let (status, output) = try await VideobusProcess.run(["migrate", "status", "--service", "analysis-store"] + databaseFlags)
        #expect(status == 0, "\(output)")
    }

    /// The load-test harness drives a tenant-scoped method: every call made
    /// for the tenant it names, none failed or lost.
    @Test func theHarnessCallsTheStoreForATenant() async throws {
        let (_, url, cleanup) = try await TestDatabases.freshURLs(.sqlite)
        defer { Task { await cleanup() } }
        let store = try VideobusProcess(["serve", "analysis-store", "--standalone", "--port", "0", "--database-url", url])
        defer { store.stop() }
        let target = "127.0.0.1:\(try await store.listeningPort())"
        let (status, output) = try await VideobusProcess.run([
            "loadtest", "call", "analysis-store.create", "--target", target, "--warmup", "0", "--duration", "1", "--in-flight", "8", "--json",
            "--body", #"{"video_id":"lt_{seq}","description":"a harbour at dusk"}"#,
        ])
        #expect(status == 0, "\(output)")
        #expect(output.contains(#""failed":0,"lost":0"#), "\(output)")
        // What it created is there for the tenant: a get of each of the first eight answers.
        let (got, read) = try await VideobusProcess.run([
            "loadtest", "call", "analysis-store.get", "--target", target, "--warmup", "0", "--duration", "1", "--in-flight", "8", "--json",
            "--body", #"{"video_id":"lt_{n}"}"#, "--keys", "8",
        ])
        #expect(got == 0, "\(read)")
        #expect(read.contains(#""failed":0,"lost":0"#), "\(read)")
    }
}
