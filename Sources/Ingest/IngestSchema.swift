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
    public static let tenantTables = ["app_user", "api_key", "asset", "clip"]
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
        Migration.tenantIsolation(id: 9, tables: ["app_user", "api_key"]),
        Migration(id: 10, name: "create_asset", sqlite: assetTable(dialect: .sqlite), postgres: assetTable(dialect: .postgres)),
        Migration(id: 11, name: "create_clip", sqlite: clipTable(dialect: .sqlite), postgres: clipTable(dialect: .postgres)),
        Migration.tenantIsolation(id: 12, name: "tenant_isolation_media", tables: ["asset", "clip"]),
        // jsonb refuses `\u0000`, which JSON (and so a user's settings) may hold; the service only stores and returns them.
        Migration(
            id: 13, name: "user_settings_as_text",
            sqlite: "SELECT 1 -- settings is TEXT (checked by json_valid) already",
            postgres: "ALTER TABLE app_user ALTER COLUMN settings TYPE TEXT USING settings::text"
        ),
        // When the analysis a clip's score came from was stored: an older one arriving later is ignored.
        Migration(id: 14, name: "clip_analyzed_at", sqlite: "ALTER TABLE clip ADD COLUMN analyzed_at INTEGER", postgres: "ALTER TABLE clip ADD COLUMN analyzed_at BIGINT"),
    ]

    /// Assets: `source_url` unique among the tenant's live assets; lists
    /// newest first, overall or of one status, each from its own index.
    static func assetTable(dialect: SQLDialect) -> String {
        let (integer, real, strict) = types(dialect)
        return """
            CREATE TABLE asset (
                tenant_id TEXT NOT NULL,
                id TEXT NOT NULL,
                user_id TEXT NOT NULL,
                source_url TEXT NOT NULL,
                title TEXT,
                status TEXT NOT NULL CHECK (status IN ('PENDING', 'PROCESSING', 'READY', 'FAILED', 'ARCHIVED')),
                size_bytes \(integer) CHECK (size_bytes >= 0),
                duration_s \(real) CHECK (duration_s >= 0),
                width INTEGER CHECK (width > 0),
                height INTEGER CHECK (height > 0),
                fps \(real) CHECK (fps > 0),
                mime_type TEXT,
                video_codec TEXT,
                audio_codec TEXT,
                error TEXT,
                metadata \(json("metadata", dialect: dialect)) NOT NULL,
                created_at \(integer) NOT NULL,
                updated_at \(integer) NOT NULL,
                deleted_at \(integer),
                PRIMARY KEY (tenant_id, id),
                CHECK (status <> 'FAILED' OR error IS NOT NULL)
            )\(strict);
            CREATE UNIQUE INDEX asset_source_url ON asset (tenant_id, source_url) WHERE deleted_at IS NULL;
            CREATE INDEX asset_newest ON asset (tenant_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
            CREATE INDEX asset_newest_by_status ON asset (tenant_id, status, created_at DESC, id DESC) WHERE deleted_at IS NULL
            """
    }

    /// Clips: listed by start time; the top clips (scored, not rejected,
    /// best first) of an asset or of the tenant read from partial indexes
    /// in that order, so `clips.top` never sorts.
    static func clipTable(dialect: SQLDialect) -> String {
        let (integer, real, strict) = types(dialect)
        let scored = "deleted_at IS NULL AND score IS NOT NULL AND status <> 'REJECTED'"
        return """
            CREATE TABLE clip (
                tenant_id TEXT NOT NULL,
                id TEXT NOT NULL,
                asset_id TEXT NOT NULL,
                start_s \(real) NOT NULL,
                end_s \(real) NOT NULL,
                label TEXT,
                status TEXT NOT NULL CHECK (status IN ('PENDING', 'ANALYZED', 'SCORED', 'PUBLISHED', 'REJECTED')),
                score \(real) CHECK (score >= 0 AND score <= 1),
                rank INTEGER CHECK (rank >= 1),
                features \(json("features", dialect: dialect)),
                created_at \(integer) NOT NULL,
                updated_at \(integer) NOT NULL,
                deleted_at \(integer),
                PRIMARY KEY (tenant_id, id),
                FOREIGN KEY (tenant_id, asset_id) REFERENCES asset (tenant_id, id),
                CHECK (start_s >= 0 AND start_s < end_s)
            )\(strict);
            CREATE INDEX clip_by_start ON clip (tenant_id, asset_id, start_s, id) WHERE deleted_at IS NULL;
            CREATE INDEX clip_top_of_asset ON clip (tenant_id, asset_id, score DESC, start_s, id) WHERE \(scored);
            CREATE INDEX clip_top ON clip (tenant_id, score DESC, start_s, id) WHERE \(scored)
            """
    }

    /// Column types: 64-bit integer, double, and SQLite's STRICT.
    static func types(_ dialect: SQLDialect) -> (integer: String, real: String, strict: String) {
        switch dialect {
        case .sqlite: ("INTEGER", "REAL", " STRICT")
        case .postgres: ("BIGINT", "DOUBLE PRECISION", "")
        }
    }

    /// A JSON column's type (nullable: the caller adds NOT NULL). Text on
    /// PostgreSQL too: the service only stores and returns it, and jsonb
    /// refuses a `\u0000` that JSON allows.
    static func json(_ column: String, dialect: SQLDialect) -> String {
        switch dialect {
        case .sqlite: "TEXT CHECK (\(column) IS NULL OR json_valid(\(column)))"
        case .postgres: "TEXT"
        }
    }

    /// The Gateway API seed's sample data in the `default` tenant (which
    /// comes with the first migration): three users, one of each role, and
    /// two READY assets with eleven clips, eight of them scored and ranked.
    /// Idempotent: users whose email and assets whose source URL exist are
    /// left alone (with their clips).
    public static let schema = ServiceSchema(service: IngestContracts.service, migrations: migrations) { database in
        try await database.write(tenant: IngestContracts.defaultTenant) { session in try Samples.insert(session) }
    }

}
