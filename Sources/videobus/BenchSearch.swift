import AnalysisStore
import ArgumentParser
import BusRuntime
import Contracts
import Foundation
import Logging
import ServiceKit
import Storage

/// `videobus bench search`: how long the analysis-store's `search` takes for
/// a word most descriptions contain, one some contain and one few contain,
/// in one tenant's large table.
struct BenchSearch: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "search",
        abstract: "Measure full-text search (newest first, top-k) for a common, a middling and a rare word.",
        discussion: """
            Seeds --rows analyses into a temporary SQLite database: about 97% of them contain the common word \
            (\(common)), the others the middling one (\(middling)), one in 1000 also the rare one (\(rare)); \
            another tenant holds a tenth as many rows of the same words. PostgreSQL is measured too with \
            --postgres-url (its analysis-store tables are dropped first).
            """
    )

    static let common = "harbour"
    static let middling = "beach"
    static let rare = "zeppelin"

    @Option(help: "Rows to seed in the measured tenant.") var rows: Int = 170_000
    @Option(help: "Results per search.") var limit: Int = 50
    @Option(help: "Timed calls per word.") var repetitions: Int = 200
    @Option(help: "A PostgreSQL database to benchmark as well.") var postgresURL: String?

    func validate() throws {
        guard rows >= 1000, (1...AnalysisLimits.maxPageSize).contains(limit), repetitions >= 1 else {
            throw ValidationError("--rows at least 1000, --limit 1...\(AnalysisLimits.maxPageSize), --repetitions positive")
        }
    }

    func run() async throws {
        try await BenchDatabases.forEach("search", postgresURL: postgresURL) { label, database in
            let seeding = ContinuousClock.now
            try await seed(database, tenant: Self.tenant, rows: rows)
            try await seed(database, tenant: Self.otherTenant, rows: rows / 10)
            if database.dialect == .postgres { try await database.withoutTransaction { try $0.execute("ANALYZE video_analysis") } }
            printLine("\(label): seeded \(rows) rows (+\(rows / 10) of another tenant) in \(String(format: "%.1f", (ContinuousClock.now - seeding).seconds)) s; \(limit) results per search, \(repetitions) calls per word")
            let service = AnalysisStoreService(store: ServiceStore(database: database))
            let context = RequestContext(service: AnalysisContracts.service, method: AnalysisContracts.search.name, identity: Identity(tenant: Self.tenant), logger: Logger(label: "bench"))
            for word in [Self.common, Self.middling, Self.rare] {
                let matching = try await database.read(tenant: Self.tenant) { session in
                    try session.queryFirst("SELECT COUNT(*) AS n FROM video_analysis WHERE tenant_id = \(Self.tenant) AND description LIKE \("%" + word + "%")")!.decode(Int64.self, "n")
                }
                var found = 0
                let samples = try await time { found = try await service.search(.init(query: word, limit: limit), context: context).analyses.count }
                printLine("  \(word.padding(toLength: 9, withPad: " ", startingAt: 0)) (\(matching) matching rows, \(found) returned): p50 \(format(samples, 0.5)), p99 \(format(samples, 0.99))")
            }
            await database.close()
        }
    }

    /// The tenant whose searches are measured, and one whose rows must not be found.
    static let tenant = "bench"
    static let otherTenant = "bench-other"

    /// Rows with increasing creation times, two per millisecond (ties, as real clocks give).
    private func seed(_ database: any Database, tenant: String, rows: Int) async throws {
        let start = Timestamp.now().millisecondsSince1970 - Int64(rows)
        for batchStart in stride(from: 0, to: rows, by: 1000) {
            let range = batchStart..<min(rows, batchStart + 1000)
            try await database.write(tenant: tenant) { session in
                let values: [SQL] = range.map { n in
                    let created = start + Int64(n / 2)
                    var description = n % 100 < 97 ? "a seeded clip of the \(Self.common) at dusk" : "a seeded clip of the \(Self.middling) at dusk"
                    if n % 1000 == 999 { description += ", a \(Self.rare) overhead" }
                    return "(\(ResourceID.make()), \(tenant), \("bench_\(n)"), \(description), \(created), \(created))"
                }
                try session.execute("INSERT INTO video_analysis (id, tenant_id, video_id, description, created_at, updated_at) VALUES \(SQL.join(values))")
            }
        }
    }

    /// Milliseconds of each of `repetitions` calls, sorted (after a few warm-up calls).
    private func time(_ work: () async throws -> Void) async throws -> [Double] {
        try await BenchDatabases.milliseconds(repetitions: repetitions, work)
    }

    private func format(_ sorted: [Double], _ quantile: Double) -> String {
        String(format: "%.3f ms", sorted[min(sorted.count - 1, Int(Double(sorted.count) * quantile))])
    }
}
