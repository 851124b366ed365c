import Foundation
import Storage
import TestSupport
import Testing

/// Tenant sessions and tenant tables: the database itself keeps tenants
/// apart (PostgreSQL's row-level security, SQLite's tenant triggers).
@Suite struct TenancyTests {
    static let migrations = [
        Migration(
            id: 1, name: "create_note",
            sqlite: "CREATE TABLE note (id INTEGER PRIMARY KEY, tenant_id TEXT NOT NULL, body TEXT NOT NULL)",
            postgres: "CREATE TABLE note (id BIGSERIAL PRIMARY KEY, tenant_id TEXT NOT NULL, body TEXT NOT NULL)"
        ),
        Migration.tenantIsolation(id: 2, tables: ["note"]),
    ]

    struct Boom: Error {}

    func withNotes(_ engine: Engine, _ body: (_ owner: any Database, _ service: any Database) async throws -> Void) async throws {
        try await TestDatabases.withRoles(engine, prepare: { try await Migrator(service: "notes", migrations: Self.migrations).deploy(to: $0) }, body)
    }

    func insert(_ body: String, tenant: String) -> SQL {
        "INSERT INTO note (tenant_id, body) VALUES (\(tenant), \(body))"
    }

    func tenancyError(_ work: () async throws -> Void) async -> Bool {
        do {
            try await work()
            return false
        } catch let error as StorageError {
            return error.code == .tenancy
        } catch {
            return false
        }
    }

    @Test(arguments: Engine.allCases)
    func aTenantSessionReachesOnlyItsOwnRows(_ engine: Engine) async throws {
        try await withNotes(engine) { _, database in
            try await database.write(tenant: "a") { try $0.execute(insert("a's note", tenant: "a")) }
            try await database.write(tenant: "b") { try $0.execute(insert("b's note", tenant: "b")) }
            func bodies(of tenant: String) async throws -> [String] {
                try await database.read(tenant: tenant) { try $0.query("SELECT body FROM note WHERE tenant_id = \(tenant)").map { try $0.decode(String.self, "body") } }
            }

            // Writing another tenant's rows from a's session: refused, or (PostgreSQL) not even seen.
            #expect(await tenancyError { _ = try await database.write(tenant: "a") { try $0.execute(insert("planted", tenant: "b")) } })
            #expect(await tenancyError { _ = try await database.write(tenant: "a") { try $0.execute("UPDATE note SET tenant_id = 'b' WHERE tenant_id = 'a'") } })
            for statement: SQL in ["UPDATE note SET body = 'changed' WHERE tenant_id = 'b'", "DELETE FROM note WHERE tenant_id = 'b'"] {
                switch engine {
                case .postgres: #expect(try await database.write(tenant: "a") { try $0.execute(statement) } == 0)
                case .sqlite: #expect(await tenancyError { _ = try await database.write(tenant: "a") { try $0.execute(statement) } })
                }
            }
            #expect(try await bodies(of: "b") == ["b's note"])
            #expect(try await bodies(of: "a") == ["a's note"])
            if engine == .postgres {
                // Row-level security filters even a query that forgets to.
                #expect(try await database.read(tenant: "a") { try $0.query("SELECT body FROM note").map { try $0.decode(String.self, "body") } } == ["a's note"])
            }

            // Outside a tenant session: no insert, and (PostgreSQL) nothing seen.
            #expect(await tenancyError { _ = try await database.write { try $0.execute(insert("orphan", tenant: "a")) } })
            switch engine {
            case .postgres:
                #expect(try await database.read { try $0.query("SELECT body FROM note") }.isEmpty)
                #expect(try await database.write { try $0.execute("DELETE FROM note") } == 0)
            case .sqlite:
                // SQLite cannot filter a SELECT (service SQL filters by tenant
                // itself); the session function refuses to answer outside a session.
                #expect(await tenancyError { _ = try await database.read { try $0.query("SELECT videobus_tenant() AS t") } })
                #expect(await tenancyError { _ = try await database.write { try $0.execute("DELETE FROM note") } })
            }
            #expect(try await bodies(of: "a") == ["a's note"])

            // A failed tenant transaction leaves no tenant behind.
            // (The work's own error arrives as an internal storage error.)
            await #expect(throws: StorageError.self) {
                try await database.write(tenant: "a") { session in
                    try session.execute(insert("rolled back", tenant: "a"))
                    throw Boom()
                }
            }
            #expect(await tenancyError { _ = try await database.write { try $0.execute(insert("orphan", tenant: "a")) } })
            #expect(try await bodies(of: "a") == ["a's note"])
            await #expect(throws: StorageError.self) { try await database.read(tenant: "") { _ in } }
        }
    }

    /// 1,000 transactions of ten tenants (reads, writes, failing writes and
    /// unscoped reads, interleaved) over a pool of two connections: none sees
    /// a row or the setting of another tenant, none outside a session sees any.
    @Test(arguments: Engine.allCases)
    func interleavedTransactionsOverTwoConnectionsNeverSeeAForeignRow(_ engine: Engine) async throws {
        let (ownerURL, serviceURL, cleanup) = try await TestDatabases.freshURLs(engine)
        let owner = try await openDatabase(DatabaseURL(ownerURL))
        try await Migrator(service: "notes", migrations: Self.migrations).deploy(to: owner)
        if engine == .postgres { try await PostgresRoles.grantServiceAccess(on: owner, to: TestDatabases.serviceRole) }
        let database = try await openDatabase(DatabaseURL(serviceURL + (engine == .postgres ? "?pool_size=2" : "")))
        defer {
            Task {
                await database.close()
                await owner.close()
                await cleanup()
            }
        }
        let tenants = (0..<10).map { "t\($0)" }
        for tenant in tenants {
            try await database.write(tenant: tenant) { try $0.execute(insert("seed", tenant: tenant)) }
        }
        let sessionTenant: SQL = engine == .postgres ? "SELECT current_setting('videobus.tenant', true) AS t" : "SELECT videobus_tenant() AS t"
        // One transaction, numbered `n`: a problem seen, or nil.
        let transaction: @Sendable (Int) async throws -> String? = { n in
            let tenant = tenants[n % tenants.count]
            // Rows and setting seen inside `tenant`'s session: only its own.
            let check: @Sendable (any DatabaseSession) throws -> String? = { session in
                let setting: String? = try session.queryFirst(sessionTenant)!["t"]
                guard setting == tenant else { return "\(n): session tenant \(setting ?? "nil") in \(tenant)'s transaction" }
                // PostgreSQL: no filter, row-level security alone. SQLite: the SQL filters, as services do.
                let filter: SQL = engine == .postgres ? "" : "WHERE tenant_id = \(tenant)"
                let seen = try session.query("SELECT tenant_id FROM note \(filter)").map { try $0.decode(String.self, "tenant_id") }
                return seen.allSatisfy { $0 == tenant } && !seen.isEmpty ? nil : "\(n): \(tenant) saw \(Set(seen))"
            }
            switch n % 4 {
            case 0:
                return try await database.write(tenant: tenant) { session in
                    try session.execute(self.insert("task \(n)", tenant: tenant))
                    return try check(session)
                }
            case 1:
                return try await database.read(tenant: tenant, check)
            case 2:
                do {
                    try await database.write(tenant: tenant) { session in
                        try session.execute(self.insert("rolled back \(n)", tenant: tenant))
                        throw Boom()
                    }
                    return "\(n): the failing write did not fail"
                } catch let error as StorageError where error.message.contains("Boom") {
                    return nil
                }
            default:
                switch engine {
                case .postgres:
                    return try await database.read { session in
                        let setting: String? = try session.queryFirst(sessionTenant)!["t"]
                        let rows = try session.query("SELECT tenant_id FROM note").count
                        return (setting ?? "").isEmpty && rows == 0 ? nil : "\(n): outside a session saw \(rows) rows, tenant \(setting ?? "nil")"
                    }
                case .sqlite:
                    let refused = await tenancyError { _ = try await database.read { try $0.query(sessionTenant) } }
                    return refused ? nil : "\(n): a tenant outside any session"
                }
            }
        }
        // Sixteen workers at once, so the two connections are always contended, yet no
        // borrower waits behind hundreds of others (the pool's acquire limit is 10 s).
        let problems = try await withThrowingTaskGroup(of: [String].self) { group in
            for worker in 0..<16 {
                group.addTask {
                    var found: [String] = []
                    for n in stride(from: worker, to: 1000, by: 16) {
                        if let problem = try await transaction(n) { found.append(problem) }
                    }
                    return found
                }
            }
            var problems: [String] = []
            for try await found in group { problems += found }
            return problems
        }
        #expect(problems.isEmpty, "\(problems.prefix(10))")
        // Every committed row is in the tenant of the task that wrote it; nothing rolled back stayed.
        let rows = try await owner.read { try $0.query("SELECT tenant_id, body FROM note").map { (try $0.decode(String.self, "tenant_id"), try $0.decode(String.self, "body")) } }
        #expect(rows.count == 10 + 250)
        for (tenant, body) in rows where body.hasPrefix("task ") {
            #expect(tenant == tenants[Int(body.dropFirst(5))! % tenants.count])
        }
    }

    /// A consumed event of a tenant is applied in that tenant's session, and the inbox records its tenant.
    @Test(arguments: Engine.allCases)
    func anEventOfATenantIsAppliedInItsSession(_ engine: Engine) async throws {
        let migrations = Self.migrations + Outbox.migrations(startingAt: 3) + [Outbox.tenantMigration(id: 5)]
        try await TestDatabases.withRoles(engine, prepare: { try await Migrator(service: "notes", migrations: migrations).deploy(to: $0) }) { _, database in
            #expect(try await Inbox.consume(database, eventID: "evt-1", consumer: "notes", tenant: "a") { try $0.execute(insert("from an event", tenant: "a")) })
            await #expect(throws: StorageError.self) {
                try await Inbox.consume(database, eventID: "evt-2", consumer: "notes", tenant: "b") { try $0.execute(insert("planted", tenant: "a")) }
            }
            let recorded = try await database.read { try $0.query("SELECT event_id, tenant FROM inbox").map { "\(try $0.decode(String.self, "event_id")) \(try $0.decode(String.self, "tenant"))" } }
            #expect(recorded == ["evt-1 a"])
            #expect(try await database.read(tenant: "a") { try $0.query("SELECT body FROM note WHERE tenant_id = 'a'").count } == 1)
        }
    }

    @Test func thePostgresCatalogShowsForcedRowLevelSecurityAndAServiceRoleItBinds() async throws {
        try await withNotes(.postgres) { owner, service in
            let tables = try await PostgresRoles.tenantTables(of: owner)
            #expect(tables.map(\.table) == ["note"])
            #expect(tables.allSatisfy { $0.forced && $0.policy })
            #expect(try await PostgresRoles.problems(ofRuntimeRole: service).isEmpty)
            #expect(try await PostgresRoles.problems(ofRuntimeRole: owner).contains { $0.contains("is a superuser") })
            #expect(try await PostgresRoles.currentRole(of: service) == TestDatabases.serviceRole)
        }
    }
}
