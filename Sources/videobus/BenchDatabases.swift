import AnalysisStore
import Foundation
import ServiceKit
import Storage

/// The databases a service benchmark runs on: a fresh SQLite file in a
/// temporary directory (removed afterwards), and the PostgreSQL database at
/// `postgresURL` when one is given, emptied of `tables` and migrated to
/// `schema` (the analysis-store's unless told).
enum BenchDatabases {
    static let analysisStoreTables = [
        "video_analysis_search", "video_analysis", "clip_analysis", "knowledge_search", "knowledge_version", "knowledge_document", "knowledge_tenant",
    ]

    static func forEach(
        _ name: String, postgresURL: String?, schema: ServiceSchema = AnalysisStoreSchema.schema, tables: [String] = analysisStoreTables,
        _ body: (_ label: String, _ database: any Database) async throws -> Void
    ) async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("videobus-bench-\(name)-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        var targets = [("sqlite", "file:\(directory.path)/\(name).db")]
        if let postgresURL { targets.append(("postgres", postgresURL)) }
        for (label, url) in targets {
            let database = try await openDatabase(DatabaseURL(url))
            let dropped = tables + ["outbox_delivery", "outbox", "inbox", "idempotency", "schema_migrations"]
            try await database.withoutTransaction { try $0.executeScript(dropped.map { "DROP TABLE IF EXISTS \($0)" }.joined(separator: "; ")) }
            try await schema.migrator().deploy(to: database)
            try await body(label, database)
        }
    }

    /// Milliseconds of each of `repetitions` runs of `work`, sorted (after five warm-up runs).
    static func milliseconds(repetitions: Int, _ work: () async throws -> Void) async throws -> [Double] {
        for _ in 0..<5 { try await work() }
        var samples: [Double] = []
        for _ in 0..<repetitions {
            let started = ContinuousClock.now
            try await work()
            samples.append((ContinuousClock.now - started).seconds * 1000)
        }
        return samples.sorted()
    }
}
