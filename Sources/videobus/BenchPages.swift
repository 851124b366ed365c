import AnalysisStore
import ArgumentParser
import BusRuntime
import Contracts
import Foundation
import Logging
import ServiceKit
import Storage

/// `videobus bench pages`: how long a list page takes at the start and near
/// the end of a large table, through the analysis-store's own `list`, and,
/// for comparison, the same page found with an `OR` cursor condition.
struct BenchPages: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pages",
        abstract: "Measure list pages at the start and near the end of a large table (keyset cursors).",
        discussion: "PostgreSQL is measured too with --postgres-url (its video_analysis table is dropped first)."
    )

    @Option(help: "Rows to seed.") var rows: Int = 166_000
    @Option(help: "Page size.") var limit: Int = 50
    @Option(help: "Timed repetitions per case.") var repetitions: Int = 200
    @Option(help: "A PostgreSQL database to benchmark as well.") var postgresURL: String?

    func validate() throws {
        guard rows > limit, limit >= 1, repetitions >= 1 else { throw ValidationError("--rows must exceed --limit, both positive; --repetitions positive") }
    }

    func run() async throws {
        try await BenchDatabases.forEach("pages", postgresURL: postgresURL) { label, database in
            try await seed(database)
            let service = AnalysisStoreService(store: ServiceStore(database: database))
            let context = RequestContext(service: AnalysisContracts.service, method: AnalysisContracts.list.name, identity: Identity(tenant: Self.tenant), logger: Logger(label: "bench"))
            // The cursor of the page that starts `limit` rows before the end.
            let deep = try await database.read(tenant: Self.tenant) { [rows, limit] session in
                try PageCursor(after: session.queryFirst("SELECT id, created_at FROM video_analysis WHERE tenant_id = \(Self.tenant) ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET \(rows - limit - 1)")!)
            }
            let first = try await time { _ = try await service.list(.init(limit: limit), context: context) }
            let last = try await time { _ = try await service.list(.init(limit: limit, cursor: deep.encoded), context: context) }
            let orCondition = try await time {
                _ = try await database.read(tenant: Self.tenant) { [limit] session in
                    try session.query("""
                        SELECT id, video_id, description, created_at, updated_at FROM video_analysis
                        WHERE tenant_id = \(Self.tenant) AND (created_at < \(deep.createdAt) OR (created_at = \(deep.createdAt) AND id < \(deep.id)))
                        ORDER BY created_at DESC, id DESC LIMIT \(limit + 1)
                        """)
                }
            }
            printLine("\(label): \(rows) rows, pages of \(limit): first page \(format(first)), last page \(format(last)) (row-value cursor); last page with an OR cursor \(format(orCondition))")
            await database.close()
        }
    }

    /// The tenant whose rows are measured.
    static let tenant = "bench"

    /// Rows with distinct, increasing creation times (some equal, as real clocks give).
    private func seed(_ database: any Database) async throws {
        let start = Timestamp.now().millisecondsSince1970 - Int64(rows)
        for batchStart in stride(from: 0, to: rows, by: 1000) {
            let range = batchStart..<min(rows, batchStart + 1000)
            try await database.write(tenant: Self.tenant) { session in
                let values: [SQL] = range.map { n in
                    let created = start + Int64(n / 2)
                    return "(\(ResourceID.make()), \(Self.tenant), \("bench_\(n)"), \("a seeded record for the page benchmark"), \(created), \(created))"
                }
                try session.execute("INSERT INTO video_analysis (id, tenant_id, video_id, description, created_at, updated_at) VALUES \(SQL.join(values))")
            }
        }
        if database.dialect == .postgres { try await database.withoutTransaction { try $0.execute("ANALYZE video_analysis") } }
    }

    /// Median milliseconds of `repetitions` runs (after a few warm-up runs).
    private func time(_ work: () async throws -> Void) async throws -> Double {
        let samples = try await BenchDatabases.milliseconds(repetitions: repetitions, work)
        return samples[samples.count / 2]
    }

    private func format(_ milliseconds: Double) -> String {
        String(format: "%.3f ms", milliseconds)
    }
}
