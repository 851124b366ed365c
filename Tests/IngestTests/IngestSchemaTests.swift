import Ingest
import ServiceKit
import Storage
import TestSupport
import Testing

@Suite struct IngestSchemaTests {
    /// Every tenant table has a non-null `tenant_id` leading its primary key
    /// and every index, so the row-level-security migration can be one list.
    @Test(arguments: Engine.allCases)
    func tenantTablesLeadEveryKeyWithTheTenant(_ engine: Engine) async throws {
        try await TestDatabases.with(engine) { database in
            let schema = IngestSchema.schema
            #expect(try await schema.migrator().deploy(to: database).count == schema.migrations.count)
            // The Gateway API seed's sample data, once: 3 users, 2 assets, 11 clips (8 scored, ranked per asset).
            #expect(try await schema.seed(database) == 16)
            #expect(try await schema.seed(database) == 0)
            let counts = try await database.read { session in
                try ["app_user", "asset", "clip", "clip WHERE rank IS NOT NULL AND status = 'SCORED'"].map { from in
                    try session.queryFirst("SELECT COUNT(*) AS n FROM \(raw: from)")!.decode(Int64.self, "n")
                }
            }
            #expect(counts == [3, 2, 11, 8])
            let ranks = try await database.read { session in
                try session.query("SELECT rank FROM clip WHERE rank IS NOT NULL ORDER BY asset_id, rank").map { try $0.decode(Int64.self, "rank") }
            }
            #expect(ranks.sorted() == [1, 1, 2, 2, 3, 3, 4, 5])
            for table in IngestSchema.tenantTables {
                let indexes: [(name: String, firstColumn: String)]
                let tenantColumnNotNull: Bool
                switch engine {
                case .sqlite:
                    indexes = try await database.read { session in
                        try session.query("SELECT name FROM pragma_index_list(\(table))").map { row in
                            let name: String = try row["name"]
                            let first = try session.queryFirst("SELECT name FROM pragma_index_info(\(name)) WHERE seqno = 0")
                            return (name, try first?.decode(String.self, "name") ?? "")
                        }
                    }
                    tenantColumnNotNull = try await database.read { session in
                        try session.queryFirst("SELECT \"notnull\" AS n FROM pragma_table_info(\(table)) WHERE name = 'tenant_id'")?.decode(Int64.self, "n") == 1
                    }
                case .postgres:
                    indexes = try await database.read { session in
                        try session.query("""
                            SELECT i.relname AS name, a.attname AS first FROM pg_index x
                            JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class t ON t.oid = x.indrelid
                            JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = x.indkey[0]
                            WHERE t.relname = \(table)
                            """).map { (try $0.decode(String.self, "name"), try $0.decode(String.self, "first")) }
                    }
                    tenantColumnNotNull = try await database.read { session in
                        try session.queryFirst("""
                            SELECT is_nullable FROM information_schema.columns WHERE table_name = \(table) AND column_name = 'tenant_id'
                            """)?.decode(String.self, "is_nullable") == "NO"
                    }
                }
                #expect(tenantColumnNotNull, "\(table).tenant_id must be NOT NULL")
                #expect(indexes.count >= 2, "\(table): \(indexes)")
                for index in indexes { #expect(index.firstColumn == "tenant_id", "\(table): index \(index.name) leads with \(index.firstColumn)") }
            }
            // The default tenant exists from the first migration.
            let name = try await database.read { try $0.queryFirst("SELECT name FROM tenant WHERE id = 'default'")?.decode(String.self, "name") }
            #expect(name == "default")
        }
    }

    /// On PostgreSQL the tenant tables isolate tenants themselves: RLS
    /// enabled and forced, with the policy; the service's role bypasses nothing.
    @Test func thePostgresCatalogShowsEveryTenantTableForcedWithAPolicy() async throws {
        try await TestDatabases.withRoles(.postgres, prepare: { owner in
            try await IngestSchema.schema.migrator().deploy(to: owner)
        }) { owner, service in
            let tables = try await PostgresRoles.tenantTables(of: owner)
            #expect(Set(tables.map(\.table)) == Set(IngestSchema.tenantTables))
            #expect(tables.allSatisfy { $0.forced && $0.policy }, "\(tables)")
            #expect(try await PostgresRoles.problems(ofRuntimeRole: service).isEmpty)
        }
    }
}
