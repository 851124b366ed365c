import AnalysisStore
import ServiceKit
import Storage
import TestSupport
import Testing

@Suite struct AnalysisStoreSchemaTests {
    @Test(arguments: Engine.allCases)
    func theSchemaMigratesSearchesAndSeedsIdempotently(_ engine: Engine) async throws {
        try await TestDatabases.with(engine) { database in
            let schema = AnalysisStoreSchema.schema
            #expect(try await schema.migrator().deploy(to: database).count == schema.migrations.count)
            #expect(try await schema.seed(database) == AnalysisStoreSchema.samples.count + AnalysisStoreSchema.documents.count)
            #expect(try await schema.seed(database) == 0)
            let count = try await database.read { try $0.queryFirst("SELECT COUNT(*) AS n FROM video_analysis")!.decode(Int64.self, "n") }
            #expect(count == Int64(AnalysisStoreSchema.samples.count))
            // Seeding announced each new analysis through the outbox.
            let events = try await database.read { try $0.queryFirst("SELECT COUNT(*) AS n FROM outbox WHERE topic = \("analysis.created")")!.decode(Int64.self, "n") }
            #expect(events == count)
            // And the seed's knowledge documents, each with its first version and its event.
            let documents = try await database.read { session in
                try ["knowledge_document", "knowledge_version", "outbox WHERE topic = 'knowledge.created'"].map { from in
                    try session.queryFirst("SELECT COUNT(*) AS n FROM \(raw: from)")!.decode(Int64.self, "n")
                }
            }
            #expect(documents == Array(repeating: Int64(AnalysisStoreSchema.documents.count), count: 3))

            // Full-text search over descriptions, kept in step with updates.
            let search: SQL = database.dialect == .sqlite
                ? "SELECT a.video_id FROM video_analysis_search s JOIN video_analysis a ON a.rowid = s.rowid WHERE video_analysis_search MATCH \("harbour") ORDER BY a.video_id"
                : "SELECT video_id FROM video_analysis WHERE search @@ plainto_tsquery('simple', \("harbour")) ORDER BY video_id"
            #expect(try await database.read { try $0.query(search).map { try $0.decode(String.self, "video_id") } } == ["sample_001"])
            try await database.write(tenant: "default") { try $0.execute("UPDATE video_analysis SET description = \("A quiet harbour at dawn") WHERE tenant_id = 'default' AND video_id = \("sample_003")") }
            #expect(try await database.read { try $0.query(search).map { try $0.decode(String.self, "video_id") } } == ["sample_001", "sample_003"])
            try await database.write(tenant: "default") { try $0.execute("DELETE FROM video_analysis WHERE tenant_id = 'default' AND video_id = \("sample_001")") }
            #expect(try await database.read { try $0.query(search).map { try $0.decode(String.self, "video_id") } } == ["sample_003"])
        }
    }
}
