import BusRuntime
import BusWire
import Foundation
import Logging
import NIOPosix
import ServiceKit
import Storage
import TestSupport
import Testing

/// On PostgreSQL the host serves only as a role that row-level security
/// binds: it migrates as the owner, grants the service's role its rights, and
/// refuses a superuser or a role that owns the tables, saying what to do.
@Suite struct ServiceHostRoleTests {
    static let definition = ServiceDefinition(
        name: "probe", summary: "test",
        schema: ServiceSchema(service: "probe", migrations: [
            Migration(id: 1, name: "create_note", sql: "CREATE TABLE note (id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL)"),
            Migration.tenantIsolation(id: 2, tables: ["note"]),
        ] + Outbox.migrations(startingAt: 3) + [Outbox.tenantMigration(id: 5)], seed: { _ in 0 }),
        methods: []
    ) { _ in [] }

    func install(database: String, migrations: String? = nil, migrate: Bool = true) async throws -> any Database {
        let node = BusNode(configuration: .init(identity: NodeIdentity(service: "probe", instance: "probe-1", version: "t")), group: MultiThreadedEventLoopGroup.singleton)
        let host = ServiceHost(Self.definition, options: .init(databaseURL: try DatabaseURL(database), migrationsDatabaseURL: try migrations.map(DatabaseURL.init), migrate: migrate, holder: "test"))
        return try #require(try await host.install(on: node, logger: Logger(label: "test")).database)
    }

    func refusal(_ work: () async throws -> Void) async -> String? {
        do {
            try await work()
            return nil
        } catch {
            return "\(error)"
        }
    }

    @Test func aSuperuserIsRefusedWithWhatToDo() async throws {
        let (owner, _, cleanup) = try await TestDatabases.freshURLs(.postgres)
        defer { Task { await cleanup() } }
        let message = await refusal { await (try await install(database: owner)).close() }
        #expect(message?.contains("is a superuser") == true, "\(message ?? "started")")
        #expect(message?.contains("CREATE ROLE probe LOGIN") == true)
        #expect(message?.contains("--migrations-database-url") == true)
    }

    @Test func aRoleThatOwnsTheTablesIsRefused() async throws {
        let (owner, service, cleanup) = try await TestDatabases.freshURLs(.postgres)
        defer { Task { await cleanup() } }
        // A role that may create tables, so that it migrates and owns them itself.
        let admin = try await openDatabase(DatabaseURL(owner))
        try await admin.withoutTransaction { session in
            try session.executeScript("""
                DO $$ BEGIN
                    CREATE ROLE videobus_table_owner LOGIN NOSUPERUSER NOBYPASSRLS;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                END $$;
                GRANT CREATE ON SCHEMA public TO videobus_table_owner
                """)
        }
        await admin.close()
        let ownerRole = service.replacingOccurrences(of: TestDatabases.serviceRole + "@", with: "videobus_table_owner@")
        let message = await refusal { await (try await install(database: ownerRole)).close() }
        #expect(message?.contains("role videobus_table_owner owns the tables inbox, note, outbox") == true, "\(message ?? "started")")
    }

    @Test func withTheOwnersURLForMigrationsTheServiceRoleServesWithinItsTenant() async throws {
        let (owner, service, cleanup) = try await TestDatabases.freshURLs(.postgres)
        defer { Task { await cleanup() } }
        // Twice: the grants are repeated on every start without harm.
        await (try await install(database: service, migrations: owner)).close()
        let database = try await install(database: service, migrations: owner)
        try await database.write(tenant: "a") { try $0.execute("INSERT INTO note (id, tenant_id) VALUES ('n1', 'a')") }
        #expect(try await database.read(tenant: "a") { try $0.query("SELECT id FROM note").count } == 1)
        #expect(try await database.read(tenant: "b") { try $0.query("SELECT id FROM note").count } == 0)
        await #expect(throws: StorageError.self) { try await database.write(tenant: "b") { try $0.execute("INSERT INTO note (id, tenant_id) VALUES ('n2', 'a')") } }
        await #expect(throws: StorageError.self) { try await database.write { try $0.execute("DELETE FROM schema_migrations") } }
        await database.close()
        // Migrated and granted beforehand, the service starts with its own URL alone (--no-migrate).
        await (try await install(database: service, migrate: false)).close()
    }
}
