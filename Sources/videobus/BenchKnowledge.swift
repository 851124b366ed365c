import AnalysisStore
import ArgumentParser
import BusRuntime
import Contracts
import Foundation
import Logging
import ServiceKit
import Storage

/// `videobus bench knowledge`: full-text search of the knowledge base (every
/// word must match, best match first) for words of different frequencies,
/// in one tenant's large table.
struct BenchKnowledge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "knowledge",
        abstract: "Measure the knowledge base's full-text search for a common, a middling and a rare word, and two words.",
        discussion: """
            Seeds --documents documents into a temporary SQLite database (PostgreSQL too with --postgres-url, whose \
            analysis-store tables are dropped first): titles and contents drawn from a vocabulary in which \
            \(common) appears in about half the documents, \(middling) in one in twenty and \(rare) in one in a thousand.
            """
    )

    static let common = "retention"
    static let middling = "caption"
    static let rare = "zeppelin"
    static let filler = ["clip", "hook", "frame", "viewer", "brand", "audio", "cut", "scene", "light", "story", "motion", "face", "title", "music", "color", "pace"]

    @Option(help: "Documents to seed.") var documents: Int = 100_000
    @Option(help: "Results per search.") var limit: Int = 10
    @Option(help: "Timed calls per query.") var repetitions: Int = 200
    @Option(help: "A PostgreSQL database to benchmark as well.") var postgresURL: String?

    func validate() throws {
        guard documents >= 1000, (1...100).contains(limit), repetitions >= 1 else {
            throw ValidationError("--documents at least 1000, --limit 1...100, --repetitions positive")
        }
    }

    func run() async throws {
        try await BenchDatabases.forEach("knowledge", postgresURL: postgresURL) { label, database in
            let seeding = ContinuousClock.now
            try await seed(database)
            if database.dialect == .postgres { try await database.withoutTransaction { try $0.execute("ANALYZE knowledge_document") } }
            printLine("\(label): seeded \(documents) documents in \(String(format: "%.1f", (ContinuousClock.now - seeding).seconds)) s; \(limit) results per search, \(repetitions) calls per query")
            let service = KnowledgeService(store: ServiceStore(database: database))
            let context = RequestContext(service: AnalysisContracts.service, method: AnalysisContracts.searchText.name, identity: Identity(tenant: Self.tenant), logger: Logger(label: "bench"))
            for query in [Self.common, Self.middling, Self.rare, "\(Self.middling) \(Self.common)"] {
                var found = 0
                let samples = try await BenchDatabases.milliseconds(repetitions: repetitions) {
                    found = try await service.searchText(.init(q: query, limit: limit), context: context).count
                }
                printLine("  \(query.padding(toLength: 18, withPad: " ", startingAt: 0)) (\(found) returned): p50 \(format(samples, 0.5)), p99 \(format(samples, 0.99))")
            }
            await database.close()
        }
    }

    static let tenant = "bench"

    /// Documents of about 40 words; inserted directly (their versions and events are not what is measured).
    private func seed(_ database: any Database) async throws {
        let start = Timestamp.now().millisecondsSince1970 - Int64(documents)
        var generator = SystemRandomNumberGenerator()
        for batchStart in stride(from: 0, to: documents, by: 1000) {
            let range = batchStart..<min(documents, batchStart + 1000)
            let rows: [(String, String)] = range.map { n in
                var words = (0..<40).map { _ in Self.filler.randomElement(using: &generator)! }
                if n % 2 == 0 { words[Int.random(in: 0..<40, using: &generator)] = Self.common }
                if n % 20 == 6 { words[Int.random(in: 0..<40, using: &generator)] = Self.middling }
                if n % 1000 == 999 { words[Int.random(in: 0..<40, using: &generator)] = Self.rare }
                return (words.prefix(5).joined(separator: " "), words.joined(separator: " "))
            }
            try await database.write(tenant: Self.tenant) { session in
                _ = try KnowledgeService.nextRevision(session, tenant: Self.tenant, dimensions: nil)
                let values: [SQL] = zip(range, rows).map { n, row in
                    let created = start + Int64(n)
                    return "(\(Self.tenant), \(ResourceID.make()), \(row.0), \(row.1), 'bench', '[]', 1, 1, \(created), \(created))"
                }
                try session.execute("""
                    INSERT INTO knowledge_document (tenant_id, id, title, content, category, tags, version, revision, created_at, updated_at)
                    VALUES \(SQL.join(values))
                    """)
            }
        }
    }

    private func format(_ sorted: [Double], _ quantile: Double) -> String {
        String(format: "%.3f ms", sorted[min(sorted.count - 1, Int(Double(sorted.count) * quantile))])
    }
}
