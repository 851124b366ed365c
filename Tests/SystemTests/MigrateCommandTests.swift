import Foundation
import TestSupport
import Testing

/// `videobus migrate` and `videobus seed` as a user runs them.
@Suite struct MigrateCommandTests {
    static let migrationCount = 12  // analysis-store: table, search, outbox, inbox, idempotency, tenancy (4), clip analyses, knowledge, their tenancy

    @Test(arguments: Engine.allCases)
    func twoProcessesDeployingAtOnceApplyEachMigrationOnce(_ engine: Engine) async throws {
        let (url, cleanup) = try await TestDatabases.freshURL(engine)
        defer { Task { await cleanup() } }
        let target = ["--service", "analysis-store", "--database-url", url]

        let (pendingStatus, pendingOutput) = try await VideobusProcess.run(["migrate", "status"] + target)
        #expect(pendingStatus == 1)
        #expect(pendingOutput.components(separatedBy: "pending").count - 1 == Self.migrationCount)

        let first = try VideobusProcess(["migrate", "deploy"] + target)
        let second = try VideobusProcess(["migrate", "deploy"] + target)
        defer { first.stop(); second.stop() }
        #expect(try await first.exitStatus() == 0, "\(first.log)")
        #expect(try await second.exitStatus() == 0, "\(second.log)")
        let applied = (first.log + second.log).split(separator: "\n").filter { $0.hasPrefix("applied ") }
        #expect(applied.count == Self.migrationCount, "applied lines: \(applied)")
        #expect(Set(applied).count == Self.migrationCount)

        let (status, output) = try await VideobusProcess.run(["migrate", "status"] + target)
        #expect(status == 0, "\(output)")
        #expect(output.components(separatedBy: "applied   ").count - 1 == Self.migrationCount)
    }

    @Test func seedResetAndRefusals() async throws {
        let (url, cleanup) = try await TestDatabases.freshURL(.sqlite)
        defer { Task { await cleanup() } }
        let target = ["--service", "analysis-store", "--database-url", url]

        let (seeded, seedOutput) = try await VideobusProcess.run(["seed"] + target)
        #expect(seeded == 0 && seedOutput.contains("analysis-store: seeded 7 rows"), "\(seedOutput)")
        let (_, again) = try await VideobusProcess.run(["seed"] + target)
        #expect(again.contains("seeded 0 rows"))

        let (unforced, refusal) = try await VideobusProcess.run(["migrate", "reset"] + target)
        #expect(unforced == 64)
        #expect(refusal.contains("reset destroys all data of the database; add --force to confirm"))
        let (reset, resetOutput) = try await VideobusProcess.run(["migrate", "reset", "--force"] + target)
        #expect(reset == 0 && resetOutput.contains("applied \(Self.migrationCount) migrations"), "\(resetOutput)")
        let (_, reseeded) = try await VideobusProcess.run(["seed"] + target)
        #expect(reseeded.contains("seeded 7 rows"))

        let (unknown, unknownOutput) = try await VideobusProcess.run(["migrate", "status", "--service", "nope"])
        #expect(unknown == 64 && unknownOutput.contains("unknown service nope; services with a database: analysis-store, ingest, prediction, conversion"))
        let (badURL, badURLOutput) = try await VideobusProcess.run(["migrate", "status", "--service", "analysis-store", "--database-url", "mysql://x/y"])
        #expect(badURL == 64 && badURLOutput.contains("has an unknown scheme"))
    }
}
