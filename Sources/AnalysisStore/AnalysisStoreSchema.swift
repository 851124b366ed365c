import Contracts
import Foundation
import ServiceKit
import Storage

/// The analysis-store's database: video analyses as the Memory Mirror seed
/// describes them (one per video, a description, creation and update times),
/// full-text search over descriptions, and the outbox/inbox of its events.
/// Analyses belong to tenants: `video_analysis` is a tenant table.
public enum AnalysisStoreSchema {
    public static let migrations: [Migration] = [
        Migration(
            id: 1, name: "create_video_analysis",
            sqlite: """
                CREATE TABLE video_analysis (
                    id TEXT PRIMARY KEY,
                    video_id TEXT NOT NULL UNIQUE,
                    description TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                ) STRICT;
                CREATE INDEX video_analysis_newest ON video_analysis (created_at DESC, id DESC)
                """,
            postgres: """
                CREATE TABLE video_analysis (
                    id TEXT PRIMARY KEY,
                    video_id TEXT NOT NULL UNIQUE,
                    description TEXT NOT NULL,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL
                );
                CREATE INDEX video_analysis_newest ON video_analysis (created_at DESC, id DESC)
                """
        ),
        Migration(
            id: 2, name: "search_descriptions",
            sqlite: """
                CREATE VIRTUAL TABLE video_analysis_search USING fts5(description, content='video_analysis', content_rowid='rowid');
                CREATE TRIGGER video_analysis_search_insert AFTER INSERT ON video_analysis BEGIN
                    INSERT INTO video_analysis_search (rowid, description) VALUES (new.rowid, new.description);
                END;
                CREATE TRIGGER video_analysis_search_delete AFTER DELETE ON video_analysis BEGIN
                    INSERT INTO video_analysis_search (video_analysis_search, rowid, description) VALUES ('delete', old.rowid, old.description);
                END;
                CREATE TRIGGER video_analysis_search_update AFTER UPDATE OF description ON video_analysis BEGIN
                    INSERT INTO video_analysis_search (video_analysis_search, rowid, description) VALUES ('delete', old.rowid, old.description);
                    INSERT INTO video_analysis_search (rowid, description) VALUES (new.rowid, new.description);
                END
                """,
            postgres: """
                ALTER TABLE video_analysis ADD COLUMN search tsvector GENERATED ALWAYS AS (to_tsvector('simple', description)) STORED;
                CREATE INDEX video_analysis_search ON video_analysis USING GIN (search)
                """
        ),
    ] + Outbox.migrations(startingAt: 3) + [Idempotency.migration(id: 5)] + [
        Outbox.tenantMigration(id: 6),
        Idempotency.tenantMigration(id: 7),
        // Every analysis belongs to a tenant; those from before tenancy to
        // `default`. video_id is unique per tenant, and the list index leads
        // with the tenant. SQLite cannot drop a column's UNIQUE: the table is
        // rebuilt with the same rowids, so the search index (whose rows are
        // keyed by rowid) still points at the right analyses, and is rebuilt
        // anyway to be sure.
        Migration(
            id: 8, name: "video_analysis_per_tenant",
            sqlite: """
                CREATE TABLE video_analysis_per_tenant (
                    id TEXT PRIMARY KEY,
                    tenant_id TEXT NOT NULL,
                    video_id TEXT NOT NULL,
                    description TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    UNIQUE (tenant_id, video_id)
                ) STRICT;
                INSERT INTO video_analysis_per_tenant (rowid, id, tenant_id, video_id, description, created_at, updated_at)
                    SELECT rowid, id, 'default', video_id, description, created_at, updated_at FROM video_analysis;
                DROP TABLE video_analysis;
                ALTER TABLE video_analysis_per_tenant RENAME TO video_analysis;
                CREATE INDEX video_analysis_newest ON video_analysis (tenant_id, created_at DESC, id DESC);
                CREATE TRIGGER video_analysis_search_insert AFTER INSERT ON video_analysis BEGIN
                    INSERT INTO video_analysis_search (rowid, description) VALUES (new.rowid, new.description);
                END;
                CREATE TRIGGER video_analysis_search_delete AFTER DELETE ON video_analysis BEGIN
                    INSERT INTO video_analysis_search (video_analysis_search, rowid, description) VALUES ('delete', old.rowid, old.description);
                END;
                CREATE TRIGGER video_analysis_search_update AFTER UPDATE OF description ON video_analysis BEGIN
                    INSERT INTO video_analysis_search (video_analysis_search, rowid, description) VALUES ('delete', old.rowid, old.description);
                    INSERT INTO video_analysis_search (rowid, description) VALUES (new.rowid, new.description);
                END;
                INSERT INTO video_analysis_search (video_analysis_search) VALUES ('rebuild')
                """,
            postgres: """
                ALTER TABLE video_analysis ADD COLUMN tenant_id TEXT NOT NULL DEFAULT 'default';
                ALTER TABLE video_analysis ALTER COLUMN tenant_id DROP DEFAULT;
                ALTER TABLE video_analysis DROP CONSTRAINT video_analysis_video_id_key;
                ALTER TABLE video_analysis ADD CONSTRAINT video_analysis_tenant_video UNIQUE (tenant_id, video_id);
                DROP INDEX video_analysis_newest;
                CREATE INDEX video_analysis_newest ON video_analysis (tenant_id, created_at DESC, id DESC)
                """
        ),
        Migration.tenantIsolation(id: 9, tables: tenantTables),
    ]

    /// The tables that hold one tenant's rows each (see `Tenancy`); the
    /// outbox, inbox and idempotency records are system tables.
    public static let tenantTables = ["video_analysis"]

    /// The tenant the samples belong to (and every analysis from before tenancy).
    public static let defaultTenant = "default"

    /// Sample analyses; existing video ids are left alone.
    public static let samples: [(videoID: String, description: String)] = [
        ("sample_001", "A sunset over the harbour, boats returning, gulls circling the pier."),
        ("sample_002", "A dog runs along the beach chasing a ball; the camera pans left."),
        ("sample_003", "Close-up of a product logo on a coffee cup, warm morning light."),
        ("sample_004", "Stadium at night, the crowd cheering as the lights come on."),
    ]

    public static let schema = ServiceSchema(service: AnalysisContracts.service, migrations: migrations) { database in
        try await database.write(tenant: defaultTenant) { session in
            var added = 0
            for sample in samples {
                let now = Timestamp.now()
                let id = ResourceID.make()
                let inserted = try session.execute("""
                    INSERT INTO video_analysis (id, tenant_id, video_id, description, created_at, updated_at)
                    VALUES (\(id), \(defaultTenant), \(sample.videoID), \(sample.description), \(now), \(now))
                    ON CONFLICT (tenant_id, video_id) DO NOTHING
                    """)
                guard inserted == 1 else { continue }
                added += 1
                try Outbox.enqueue(session, AnalysisContracts.created, AnalysisContracts.AnalysisEvent(id: id, videoId: sample.videoID), tenant: defaultTenant)
            }
            return added
        }
    }
}
