import AnalysisStore
import BusRuntime
import BusWire
import Contracts
import Foundation
import Logging
import ServiceKit
import Storage
import TestSupport
import Testing

/// The analysis-store keeps tenants apart: at the service (every method
/// needs a tenant and reaches only its rows) and in the database beneath it.
@Suite struct TenantIsolationTests {
    func withService(_ engine: Engine, prepare: @escaping (any Database) async throws -> Void = { try await AnalysisStoreSchema.schema.migrator().deploy(to: $0) },
                     _ body: (AnalysisStoreService, _ owner: any Database, _ service: any Database) async throws -> Void) async throws {
        try await TestDatabases.withRoles(engine, prepare: prepare) { owner, database in
            try await body(AnalysisStoreService(store: ServiceStore(database: database)), owner, database)
        }
    }

    func context(_ tenant: String?, method: String = "create", key: String? = nil) -> RequestContext {
        RequestContext(service: "analysis-store", method: method, idempotencyKey: key, identity: tenant.map { Identity(tenant: $0) }, logger: Logger(label: "test"))
    }

    @Test(arguments: Engine.allCases)
    func aTenantNeitherSeesNorChangesAnotherTenantsAnalyses(_ engine: Engine) async throws {
        try await withService(engine) { service, _, database in
            let (a, b) = (context("tenant-a"), context("tenant-b"))
            // The same video id in two tenants is two analyses.
            let mine = try await service.create(.init(videoId: "test_001", description: "A sunset over the harbour"), context: a)
            let theirs = try await service.create(.init(videoId: "test_001", description: "City lights at night"), context: b)
            #expect(mine.id != theirs.id)
            _ = try await service.create(.init(videoId: "b_only", description: "A dog on the beach"), context: b)

            // As a, against b's rows: nothing seen, nothing changed.
            let missing = BusError(.notFound, "no analysis for video b_only")
            await #expect(throws: missing) { try await service.get("b_only", context: a) }
            await #expect(throws: missing) { try await service.update(.init(videoId: "b_only", description: "hijacked"), context: a) }
            await #expect(throws: missing) { try await service.delete(.init(videoId: "b_only"), context: a) }
            #expect(try await service.list(.init(), context: a).analyses.map(\.id) == [mine.id])
            #expect(try await service.search(.init(query: "dog"), context: a).analyses.isEmpty)
            #expect(try await service.search(.init(query: "lights"), context: a).analyses.isEmpty)
            #expect(try await service.get("test_001", context: a) == mine)
            _ = try await service.update(.init(videoId: "test_001", description: "A harbour at dusk"), context: a)
            try await service.delete(.init(videoId: "test_001"), context: a)

            // b's analyses are as b left them.
            #expect(try await service.get("test_001", context: b) == theirs)
            #expect(try await service.get("b_only", context: b).description == "A dog on the beach")
            #expect(try await service.list(.init(), context: b).analyses.map(\.videoId) == ["b_only", "test_001"])
            #expect(try await service.search(.init(query: "dog"), context: b).analyses.map(\.videoId) == ["b_only"])

            // Each event carries the tenant of its change.
            let events = try await database.read { try $0.query("SELECT tenant, topic FROM outbox ORDER BY seq").map { "\(try $0.decode(String.self, "tenant")) \(try $0.decode(String.self, "topic"))" } }
            #expect(events == ["tenant-a analysis.created", "tenant-b analysis.created", "tenant-b analysis.created", "tenant-a analysis.updated", "tenant-a analysis.deleted"])
        }
    }

    @Test(arguments: Engine.allCases)
    func pagesAndSearchStayWithinTheTenant(_ engine: Engine) async throws {
        try await withService(engine) { service, _, _ in
            let (a, b) = (context("tenant-a"), context("tenant-b"))
            for n in 0..<12 {
                _ = try await service.create(.init(videoId: "v\(n)", description: "a boat \(n)"), context: a)
                _ = try await service.create(.init(videoId: "v\(n)", description: "a boat \(n)"), context: b)
            }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await service.list(.init(limit: 5, cursor: cursor), context: a)
                seen += page.analyses.map(\.id)
                cursor = page.nextCursor
            } while cursor != nil
            let aIDs = try await service.list(.init(limit: 100), context: a).analyses.map(\.id)
            #expect(seen == aIDs && seen.count == 12)
            // A cursor from b's pages positions a's page, and shows a's rows only.
            let bPage = try await service.list(.init(limit: 5), context: b)
            let continued = try await service.list(.init(limit: 100, cursor: bPage.nextCursor), context: a)
            #expect(Set(continued.analyses.map(\.id)).isSubset(of: Set(aIDs)))
            #expect(try await service.search(.init(query: "boat", limit: 100), context: a).analyses.map(\.id) == aIDs)
        }
    }

    @Test(arguments: Engine.allCases)
    func idempotencyKeysArePerTenant(_ engine: Engine) async throws {
        try await withService(engine) { service, _, _ in
            let first = try await service.create(.init(videoId: "k", description: "a"), context: context("tenant-a", key: "key-1"))
            let other = try await service.create(.init(videoId: "k", description: "b"), context: context("tenant-b", key: "key-1"))
            #expect(first.id != other.id && other.description == "b")
            #expect(try await service.create(.init(videoId: "k", description: "a"), context: context("tenant-a", key: "key-1")) == first)
        }
    }

    @Test(arguments: Engine.allCases)
    func withoutATenantEveryMethodIsUnauthenticatedAndTheDatabaseRefuses(_ engine: Engine) async throws {
        try await withService(engine) { service, _, database in
            _ = try await service.create(.init(videoId: "kept", description: "A sunset"), context: context("default"))
            func refused(_ method: String) -> BusError { BusError(.unauthenticated, "analysis-store.\(method) needs a tenant") }
            await #expect(throws: refused("create")) { try await service.create(.init(videoId: "x", description: "x"), context: context(nil, method: "create")) }
            await #expect(throws: refused("get")) { try await service.get("kept", context: context(nil, method: "get")) }
            await #expect(throws: refused("update")) { try await service.update(.init(videoId: "kept", description: "x"), context: context(nil, method: "update")) }
            await #expect(throws: refused("delete")) { try await service.delete(.init(videoId: "kept"), context: context(nil, method: "delete")) }
            await #expect(throws: refused("list")) { try await service.list(.init(), context: context(nil, method: "list")) }
            await #expect(throws: refused("search")) { try await service.search(.init(query: "sunset"), context: context(nil, method: "search")) }

            // Beneath the service: no insert outside a tenant session on either
            // engine; on PostgreSQL not a row seen or changed either.
            let insert: SQL = "INSERT INTO video_analysis (id, tenant_id, video_id, description, created_at, updated_at) VALUES ('x', 'default', 'x', 'x', 0, 0)"
            await #expect(throws: StorageError.self) { try await database.write { try $0.execute(insert) } }
            if engine == .postgres {
                #expect(try await database.read { try $0.query("SELECT id FROM video_analysis") }.isEmpty)
                #expect(try await database.write { try $0.execute("DELETE FROM video_analysis") } == 0)
            } else {
                await #expect(throws: StorageError.self) { try await database.write { try $0.execute("DELETE FROM video_analysis") } }
            }
            #expect(try await service.get("kept", context: context("default")).description == "A sunset")
        }
    }

    @Test func thePostgresCatalogShowsEveryTenantTableForcedWithAPolicyAndTheServiceRoleBound() async throws {
        try await withService(.postgres) { _, owner, database in
            let tables = try await PostgresRoles.tenantTables(of: owner)
            #expect(tables.map(\.table).sorted() == AnalysisStoreSchema.tenantTables.sorted())
            #expect(tables.allSatisfy { $0.forced && $0.policy }, "\(tables)")
            // Every table with a tenant_id column is a tenant table.
            let withTenantColumn = try await owner.read { session in
                try session.query("""
                    SELECT DISTINCT table_name::text AS name FROM information_schema.columns
                    WHERE table_schema = current_schema() AND column_name = 'tenant_id' ORDER BY 1
                    """).map { try $0.decode(String.self, "name") }
            }
            #expect(withTenantColumn == tables.map(\.table))
            // The service's role: not the owner of any table, not superuser, no BYPASSRLS.
            let role = try await database.read { session in
                try session.queryFirst("""
                    SELECT r.rolsuper, r.rolbypassrls,
                           (SELECT COUNT(*) FROM pg_class c WHERE c.relowner = r.oid AND c.relnamespace = current_schema()::regnamespace) AS owned
                    FROM pg_roles r WHERE r.rolname = current_user
                    """)!
            }
            #expect(try role.decode(Bool.self, "rolsuper") == false)
            #expect(try role.decode(Bool.self, "rolbypassrls") == false)
            #expect(try role.decode(Int64.self, "owned") == 0)
            #expect(try await PostgresRoles.problems(ofRuntimeRole: database).isEmpty)
        }
    }

    /// A database of the schema before tenancy, with rows, upgraded in place:
    /// the rows belong to `default`, are listed and found, and nothing is lost.
    @Test(arguments: Engine.allCases)
    func anUpgradedDatabaseKeepsEveryRowInTheDefaultTenant(_ engine: Engine) async throws {
        let before = Array(AnalysisStoreSchema.migrations.prefix { $0.id <= 5 })
        #expect(before.count == 5)
        let old = [("old_1", "A lighthouse in the fog"), ("old_2", "Children flying kites in the park"), ("old_3", "A lighthouse keeper climbs the stairs")]
        try await withService(engine, prepare: { owner in
            try await Migrator(service: "analysis-store", migrations: before).deploy(to: owner)
            try await owner.write { session in
                for (n, (videoID, description)) in old.enumerated() {
                    try session.execute("""
                        INSERT INTO video_analysis (id, video_id, description, created_at, updated_at)
                        VALUES (\("id_old_\(n)"), \(videoID), \(description), \(1_700_000_000_000 + Int64(n)), \(1_700_000_000_000 + Int64(n)))
                        """)
                }
                try session.execute("INSERT INTO outbox (event_id, topic, payload, created_at) VALUES ('evt-old', 'analysis.created', '{}', 0)")
                try session.execute("INSERT INTO idempotency (key, method, request_hash, response, created_at) VALUES ('k-old', 'create', 'h', '{}', 0)")
            }
            try await AnalysisStoreSchema.schema.migrator().deploy(to: owner)
        }) { service, owner, database in
            let byDefault = context("default")
            #expect(try await service.list(.init(), context: byDefault).analyses.map(\.videoId) == ["old_3", "old_2", "old_1"])
            #expect(try await service.search(.init(query: "lighthouse"), context: byDefault).analyses.map(\.videoId) == ["old_3", "old_1"])
            #expect(try await service.get("old_2", context: byDefault).description == "Children flying kites in the park")
            #expect(try await service.list(.init(), context: context("acme")).analyses.isEmpty)
            // New rows live beside the old ones, and search keeps up with both.
            _ = try await service.create(.init(videoId: "old_1", description: "Another lighthouse"), context: context("acme"))
            _ = try await service.update(.init(videoId: "old_2", description: "A lighthouse at noon"), context: byDefault)
            #expect(try await service.search(.init(query: "lighthouse"), context: byDefault).analyses.map(\.videoId) == ["old_3", "old_2", "old_1"])
            #expect(try await service.search(.init(query: "lighthouse"), context: context("acme")).analyses.map(\.videoId) == ["old_1"])
            // System tables kept their rows, in the default tenant.
            #expect(try await database.read { try $0.queryFirst("SELECT tenant FROM outbox WHERE event_id = 'evt-old'")?.decode(String.self, "tenant") } == "default")
            #expect(try await database.read { try $0.queryFirst("SELECT tenant FROM idempotency WHERE key = 'k-old'")?.decode(String.self, "tenant") } == "default")
            #expect(try await AnalysisStoreSchema.schema.migrator().status(of: owner).isCurrent)
        }
    }
}
