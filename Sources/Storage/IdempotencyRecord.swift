/// The answers of requests that carried an idempotency key, kept for
/// ``Idempotency/retention`` in the service's own database and written in
/// the same transaction as the request's effect: a repeated request is
/// answered from here and changes nothing.
public enum Idempotency {
    /// How long a key is remembered.
    public static let retentionMilliseconds: Int64 = 24 * 3600 * 1000

    /// The migration that creates the table: add it to the service's own.
    public static func migration(id: Int) -> Migration {
        Migration(
            id: id, name: "create_idempotency",
            sqlite: """
                CREATE TABLE idempotency (
                    key TEXT NOT NULL,
                    method TEXT NOT NULL,
                    request_hash TEXT NOT NULL,
                    response TEXT,
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (key, method)
                );
                CREATE INDEX idempotency_created ON idempotency (created_at)
                """,
            postgres: """
                CREATE TABLE idempotency (
                    key TEXT NOT NULL,
                    method TEXT NOT NULL,
                    request_hash TEXT NOT NULL,
                    response TEXT,
                    created_at BIGINT NOT NULL,
                    PRIMARY KEY (key, method)
                );
                CREATE INDEX idempotency_created ON idempotency (created_at)
                """
        )
    }

    /// The migration that makes keys unique per tenant: (tenant, method,
    /// key). Records kept so far belong to the tenant `default`. A system
    /// table (see ``Tenancy``): pruned across tenants.
    public static func tenantMigration(id: Int) -> Migration {
        Migration(
            id: id, name: "idempotency_tenant",
            sqlite: """
                CREATE TABLE idempotency_by_tenant (
                    tenant TEXT NOT NULL,
                    method TEXT NOT NULL,
                    key TEXT NOT NULL,
                    request_hash TEXT NOT NULL,
                    response TEXT,
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (tenant, method, key)
                );
                INSERT INTO idempotency_by_tenant (tenant, method, key, request_hash, response, created_at)
                    SELECT 'default', method, key, request_hash, response, created_at FROM idempotency;
                DROP TABLE idempotency;
                ALTER TABLE idempotency_by_tenant RENAME TO idempotency;
                CREATE INDEX idempotency_created ON idempotency (created_at)
                """,
            postgres: """
                ALTER TABLE idempotency ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
                ALTER TABLE idempotency ALTER COLUMN tenant DROP DEFAULT;
                ALTER TABLE idempotency DROP CONSTRAINT idempotency_pkey;
                ALTER TABLE idempotency ADD PRIMARY KEY (tenant, method, key)
                """
        )
    }

    /// What a key already holds.
    public enum Lookup: Sendable, Equatable {
        /// Unknown (or expired): the request runs, and ``claim`` records it.
        case new
        /// The same request was answered: its answer.
        case answered(String)
        /// The key was used with another request.
        case differentRequest
    }

    /// Looks `key` up for `method`, in the request's transaction. An expired
    /// record is removed, so its key starts afresh.
    public static func lookup(_ session: any DatabaseSession, tenant: String, key: String, method: String, requestHash: String, now: Timestamp = .now()) throws(StorageError) -> Lookup {
        guard let row = try session.queryFirst("SELECT request_hash, response, created_at FROM idempotency WHERE tenant = \(tenant) AND method = \(method) AND key = \(key)") else { return .new }
        let created: Int64 = try row["created_at"]
        if created < now.millisecondsSince1970 - retentionMilliseconds {
            try session.execute("DELETE FROM idempotency WHERE tenant = \(tenant) AND method = \(method) AND key = \(key)")
            return .new
        }
        guard try row.decode(String.self, "request_hash") == requestHash else { return .differentRequest }
        let response: String? = try row["response"]
        return response.map(Lookup.answered) ?? .new
    }

    /// Claims `key` before the request's effect runs. A concurrent request
    /// with the same key waits for this transaction (PostgreSQL) or runs
    /// after it (SQLite) and then fails with `conflict`; retried, it finds
    /// this request's answer.
    public static func claim(_ session: any DatabaseSession, tenant: String, key: String, method: String, requestHash: String, now: Timestamp = .now()) throws(StorageError) {
        try session.execute("""
            INSERT INTO idempotency (tenant, method, key, request_hash, response, created_at)
            VALUES (\(tenant), \(method), \(key), \(requestHash), NULL, \(now))
            """)
    }

    /// Stores the answer of a claimed key, in the same transaction as the effect.
    public static func answer(_ session: any DatabaseSession, tenant: String, key: String, method: String, response: String) throws(StorageError) {
        try session.execute("UPDATE idempotency SET response = \(response) WHERE tenant = \(tenant) AND method = \(method) AND key = \(key)")
    }

    /// Deletes records older than the retention; returns how many.
    @discardableResult
    public static func prune(_ database: any Database, now: Timestamp = .now()) async throws(StorageError) -> Int {
        let cutoff = now.millisecondsSince1970 - retentionMilliseconds
        return try await database.write { try $0.execute("DELETE FROM idempotency WHERE created_at < \(cutoff)") }
    }
}
