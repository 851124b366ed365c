/// The two PostgreSQL roles of a service's database: the owner, who migrates
/// (and so owns every table), and the runtime role the service connects as,
/// which may only read and write rows. Row-level security does not bind a
/// superuser, a role with BYPASSRLS, or (without FORCE) a table's owner: the
/// runtime role must be none of these, or tenant isolation is only the
/// service's own SQL.
public enum PostgresRoles {
    /// The role a database's connections log in as.
    public static func currentRole(of database: any Database) async throws(StorageError) -> String {
        try await database.read { try $0.queryFirst("SELECT current_user::text AS role")!.decode(String.self, "role") }
    }

    /// Lets `role` read and write every table of the current schema and use
    /// its sequences (the migration history it may only read); run as the
    /// owner after migrating. Idempotent.
    public static func grantServiceAccess(on ownerDatabase: any Database, to role: String) async throws(StorageError) {
        let quoted = Tenancy.quote(role)
        try await ownerDatabase.write { session in
            let schema = Tenancy.quote(try session.queryFirst("SELECT current_schema()::text AS schema")!.decode(String.self, "schema"))
            try session.executeScript("""
                GRANT USAGE ON SCHEMA \(schema) TO \(quoted);
                GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA \(schema) TO \(quoted);
                GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA \(schema) TO \(quoted);
                REVOKE INSERT, UPDATE, DELETE ON \(schema).\(Migrator.historyTable) FROM \(quoted)
                """)
        }
    }

    /// What makes the runtime role unfit to serve: superuser, BYPASSRLS, or
    /// owning a table of the schema. Empty when it is fit.
    public static func problems(ofRuntimeRole database: any Database) async throws(StorageError) -> [String] {
        try await database.read { session in
            let role = try session.queryFirst("""
                SELECT current_user::text AS name, rolsuper, rolbypassrls FROM pg_roles WHERE rolname = current_user
                """)!
            let name: String = try role["name"]
            var problems: [String] = []
            if try role.decode(Bool.self, "rolsuper") { problems.append("role \(name) is a superuser") }
            if try role.decode(Bool.self, "rolbypassrls") { problems.append("role \(name) has BYPASSRLS") }
            let owned = try session.query("""
                SELECT c.relname::text AS name FROM pg_class c
                WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
                  AND pg_has_role(current_user, c.relowner, 'USAGE')
                ORDER BY c.relname
                """).map { row throws(StorageError) -> String in try row["name"] }
            if !owned.isEmpty { problems.append("role \(name) owns the tables \(owned.joined(separator: ", "))") }
            return problems
        }
    }

    /// The tables of the current schema with row-level security, and whether
    /// each is forced and has the tenant policy (for checks and tests).
    public static func tenantTables(of database: any Database) async throws(StorageError) -> [(table: String, forced: Bool, policy: Bool)] {
        try await database.read { session in
            try session.query("""
                SELECT c.relname::text AS name, c.relforcerowsecurity AS forced,
                       EXISTS (SELECT 1 FROM pg_policy p WHERE p.polrelid = c.oid AND p.polname = \(Tenancy.policy)) AS policy
                FROM pg_class c
                WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p') AND c.relrowsecurity
                ORDER BY c.relname
                """).map { row throws(StorageError) in (try row["name"], try row["forced"], try row["policy"]) }
        }
    }
}
