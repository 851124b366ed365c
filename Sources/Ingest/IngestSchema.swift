import Contracts
import ServiceKit
import Storage

/// The ingest service's database. System tables (no tenant): `tenant`, and
/// `api_key_index`, which finds a key's tenant before any tenant is known.
/// Tenant tables (``tenantTables``): every one has `tenant_id TEXT NOT NULL`
/// leading its primary key and indexes, and every statement on them filters
/// on it.
public enum IngestSchema {
    /// The tables whose rows belong to a tenant (for row-level security).
    public static let tenantTables = ["app_user", "api_key"]
    /// The tables every tenant shares.
    public static let systemTables = ["tenant", "api_key_index"]

    public static let migrations: [Migration] = [
        Migration(
            id: 1, name: "create_tenant",
            sqlite: """
                CREATE TABLE tenant (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    name_key TEXT NOT NULL UNIQUE,
                    created_at INTEGER NOT NULL
                ) STRICT;
                CREATE INDEX tenant_newest ON tenant (created_at DESC, id DESC);
                INSERT INTO tenant (id, name, name_key, created_at)
                VALUES ('default', 'default', 'default', CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER))
                """,
            postgres: """
                CREATE TABLE tenant (
                    id TEXT PRIMARY KEY,
                    name TEXT NOT NULL,
                    name_key TEXT NOT NULL UNIQUE,
                    created_at BIGINT NOT NULL
                );
                CREATE INDEX tenant_newest ON tenant (created_at DESC, id DESC);
                INSERT INTO tenant (id, name, name_key, created_at)
                VALUES ('default', 'default', 'default', (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::BIGINT)
                """
        ),
        Migration(
            id: 2, name: "create_app_user",
            sqlite: """
                CREATE TABLE app_user (
                    tenant_id TEXT NOT NULL,
                    id TEXT NOT NULL,
                    email TEXT NOT NULL,
                    email_key TEXT NOT NULL,
                    name TEXT NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('USER', 'ADMIN', 'ENTERPRISE')),
                    settings TEXT NOT NULL CHECK (json_valid(settings)),
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    deleted_at INTEGER,
                    PRIMARY KEY (tenant_id, id)
                ) STRICT;
                CREATE UNIQUE INDEX app_user_email ON app_user (tenant_id, email_key) WHERE deleted_at IS NULL;
                CREATE INDEX app_user_newest ON app_user (tenant_id, created_at DESC, id DESC) WHERE deleted_at IS NULL
                """,
            postgres: """
                CREATE TABLE app_user (
                    tenant_id TEXT NOT NULL,
                    id TEXT NOT NULL,
                    email TEXT NOT NULL,
                    email_key TEXT NOT NULL,
                    name TEXT NOT NULL,
                    role TEXT NOT NULL CHECK (role IN ('USER', 'ADMIN', 'ENTERPRISE')),
                    settings JSONB NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    deleted_at BIGINT,
                    PRIMARY KEY (tenant_id, id)
                );
                CREATE UNIQUE INDEX app_user_email ON app_user (tenant_id, email_key) WHERE deleted_at IS NULL;
                CREATE INDEX app_user_newest ON app_user (tenant_id, created_at DESC, id DESC) WHERE deleted_at IS NULL
                """
        ),
        Migration(
            id: 3, name: "create_api_key",
            sqlite: """
                CREATE TABLE api_key (
                    tenant_id TEXT NOT NULL,
                    id TEXT NOT NULL,
                    user_id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    prefix TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    last_used_at INTEGER,
                    revoked_at INTEGER,
                    PRIMARY KEY (tenant_id, id)
                ) STRICT;
                CREATE INDEX api_key_of_user ON api_key (tenant_id, user_id, created_at DESC, id DESC) WHERE revoked_at IS NULL;
                CREATE TABLE api_key_index (
                    key_hash TEXT PRIMARY KEY,
                    tenant_id TEXT NOT NULL,
                    key_id TEXT NOT NULL
                ) STRICT;
                CREATE UNIQUE INDEX api_key_index_key ON api_key_index (tenant_id, key_id)
                """,
            postgres: """
                CREATE TABLE api_key (
                    tenant_id TEXT NOT NULL,
                    id TEXT NOT NULL,
                    user_id TEXT NOT NULL,
                    name TEXT NOT NULL,
                    prefix TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    last_used_at BIGINT,
                    revoked_at BIGINT,
                    PRIMARY KEY (tenant_id, id)
                );
                CREATE INDEX api_key_of_user ON api_key (tenant_id, user_id, created_at DESC, id DESC) WHERE revoked_at IS NULL;
                CREATE TABLE api_key_index (
                    key_hash TEXT PRIMARY KEY,
                    tenant_id TEXT NOT NULL,
                    key_id TEXT NOT NULL
                );
                CREATE UNIQUE INDEX api_key_index_key ON api_key_index (tenant_id, key_id)
                """
        ),
    ] + Outbox.migrations(startingAt: 4) + [
        Idempotency.migration(id: 6),
        Outbox.tenantMigration(id: 7),
        Idempotency.tenantMigration(id: 8),
        Migration.tenantIsolation(id: 9, tables: tenantTables),
    ]

    /// No sample data: the `default` tenant comes with the first migration,
    /// and `videobus tenant create` makes the rest.
    public static let schema = ServiceSchema(service: IngestContracts.service, migrations: migrations) { _ in 0 }
}
