import GRDB
import NIOConcurrencyHelpers

/// Tenant isolation in the database itself, on both engines.
///
/// **Tenant tables** hold one tenant's rows each under a non-null
/// `tenant_id` column, and are made tenant tables by
/// ``Migration/tenantIsolation(id:name:tables:)``:
///
/// - PostgreSQL: row-level security, ENABLE + FORCE (the owner is bound too),
///   one policy whose USING and WITH CHECK compare `tenant_id` with the
///   transaction-local setting `videobus.tenant` that ``Database/read(tenant:_:)``
///   and ``Database/write(tenant:_:)`` set first thing. Outside a tenant session
///   the setting is unset: nothing is seen, every insert is refused. No bypass
///   policy exists; services connect as a role that neither owns the tables nor
///   has BYPASSRLS (``PostgresRoles``).
/// - SQLite: BEFORE INSERT/UPDATE/DELETE triggers abort when the row's
///   `tenant_id` is not `videobus_tenant()`, a function that returns the
///   connection's session tenant and raises outside a tenant session. So a
///   write outside a session, or into another tenant's rows, is an immediate
///   error. SQLite cannot filter a SELECT: service SQL always says
///   `WHERE tenant_id = <tenant>` itself (see ``SQLiteTenantSessions`` for why
///   an authorizer cannot enforce that).
///
/// **System tables** keep a `tenant` column but no isolation, because the
/// machinery that reads them works across tenants: the outbox (the relay
/// publishes every tenant's events, each with its tenant), the inbox
/// (deduplication by event id), the idempotency records (pruned across
/// tenants; keys are unique per tenant, method and key) and the migration
/// history. Services reach them through the unscoped ``Database/read(_:)``
/// and ``Database/write(_:)``, or inside a tenant session.
public enum Tenancy {
    /// The PostgreSQL setting the policies read, set per transaction.
    public static let setting = "videobus.tenant"
    /// The SQLite function that returns the session's tenant.
    public static let sqliteFunction = "videobus_tenant"
    /// The policy every tenant table has on PostgreSQL.
    public static let policy = "tenant_isolation"
    /// Starts the message of every refusal by tenant isolation (SQLite).
    static let refusalMarker = "tenant isolation:"

    /// Tenant ids are opaque, but never empty: an empty setting is how
    /// PostgreSQL shows "no tenant" after a transaction-local one ended.
    static func check(_ tenant: String) throws(StorageError) {
        guard !tenant.isEmpty else { throw StorageError(.invalidValue, "a tenant session needs a non-empty tenant id") }
        guard !tenant.utf8.contains(0) else { throw StorageError(.invalidValue, "a tenant id must not contain the NUL character") }
    }

    /// The statements that make `table` a tenant table on `dialect`.
    public static func isolationSQL(for table: String, dialect: SQLDialect) -> String {
        let quoted = quote(table)
        switch dialect {
        case .postgres:
            let matches = "tenant_id = current_setting('\(setting)', true)"
            return """
                ALTER TABLE \(quoted) ENABLE ROW LEVEL SECURITY;
                ALTER TABLE \(quoted) FORCE ROW LEVEL SECURITY;
                CREATE POLICY \(policy) ON \(quoted) USING (\(matches)) WITH CHECK (\(matches))
                """
        case .sqlite:
            let refusal = "\(refusalMarker) a \(table.replacingOccurrences(of: "'", with: "''")) row of another tenant"
            func trigger(_ event: String, _ condition: String) -> String {
                """
                CREATE TRIGGER \(quote("\(table)_tenant_\(event.lowercased())")) BEFORE \(event) ON \(quoted)
                WHEN \(condition) BEGIN SELECT RAISE(ABORT, '\(refusal)'); END
                """
            }
            return [
                trigger("INSERT", "NEW.tenant_id IS NOT \(sqliteFunction)()"),
                trigger("UPDATE", "OLD.tenant_id IS NOT \(sqliteFunction)() OR NEW.tenant_id IS NOT \(sqliteFunction)()"),
                trigger("DELETE", "OLD.tenant_id IS NOT \(sqliteFunction)()"),
            ].joined(separator: ";\n")
        }
    }

    static func quote(_ identifier: String) -> String {
        "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

extension Migration {
    /// Makes `tables` tenant tables (see ``Tenancy``); each must have a
    /// non-null `tenant_id TEXT` column. Append it after the tables' creation.
    public static func tenantIsolation(id: Int, name: String = "tenant_isolation", tables: [String]) -> Migration {
        Migration(
            id: id, name: name,
            sqlite: tables.map { Tenancy.isolationSQL(for: $0, dialect: .sqlite) }.joined(separator: ";\n"),
            postgres: tables.map { Tenancy.isolationSQL(for: $0, dialect: .postgres) }.joined(separator: ";\n")
        )
    }
}

/// The session tenant of each SQLite connection, and the `videobus_tenant()`
/// function that reads it.
///
/// Why not an authorizer that refuses a tenant table's SELECT outside a
/// session: GRDB registers its own `sqlite3_set_authorizer` callback once per
/// connection (it learns from it what each statement reads and writes, and
/// whether it begins or ends a transaction) and offers no hook into it;
/// replacing it breaks GRDB's transaction tracking. And an authorizer runs
/// when a statement is compiled, not when it runs: GRDB's statement cache
/// would let a SELECT compiled inside a session run again outside it
/// unchecked. Reads are therefore filtered by the service's own SQL, through
/// ServiceStore's tenant-only entry points.
final class SQLiteTenantSessions: Sendable {
    private let tenants = NIOLockedValueBox<[ObjectIdentifier: String]>([:])

    /// Registers `videobus_tenant()` on a new connection.
    func install(on db: GRDB.Database) {
        let connection = ObjectIdentifier(db)
        let tenants = self.tenants
        tenants.withLockedValue { $0[connection] = nil }
        db.add(function: DatabaseFunction(Tenancy.sqliteFunction, argumentCount: 0, pure: false) { _ in
            guard let tenant = tenants.withLockedValue({ $0[connection] }) else {
                throw DatabaseError(message: "\(Tenancy.refusalMarker) no tenant session (tenant tables are written only through Database.write(tenant:))")
            }
            return tenant
        })
    }

    /// Runs `work` with `tenant` as the connection's session tenant, and
    /// clears it afterwards however `work` ends.
    func within<T>(_ tenant: String, on db: GRDB.Database, _ work: () throws -> T) throws -> T {
        let connection = ObjectIdentifier(db)
        tenants.withLockedValue { $0[connection] = tenant }
        defer { tenants.withLockedValue { $0[connection] = nil } }
        return try work()
    }
}
