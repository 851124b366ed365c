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
        Migration.tenantIsolation(id: 9, tables: ["video_analysis"]),
        Migration(
            id: 10, name: "create_clip_analysis",
            sqlite: """
                CREATE TABLE clip_analysis (
                    tenant_id TEXT NOT NULL,
                    clip_id TEXT NOT NULL,
                    asset_id TEXT NOT NULL,
                    features TEXT NOT NULL CHECK (json_valid(features)),
                    score REAL NOT NULL CHECK (score >= 0 AND score <= 1),
                    analyzer TEXT,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL,
                    PRIMARY KEY (tenant_id, clip_id)
                ) STRICT
                """,
            postgres: """
                CREATE TABLE clip_analysis (
                    tenant_id TEXT NOT NULL,
                    clip_id TEXT NOT NULL,
                    asset_id TEXT NOT NULL,
                    features TEXT NOT NULL,
                    score DOUBLE PRECISION NOT NULL CHECK (score >= 0 AND score <= 1),
                    analyzer TEXT,
                    created_at BIGINT NOT NULL,
                    updated_at BIGINT NOT NULL,
                    PRIMARY KEY (tenant_id, clip_id)
                )
                """
        ),
        Migration(id: 11, name: "create_knowledge", sqlite: knowledgeTables(.sqlite), postgres: knowledgeTables(.postgres)),
        Migration.tenantIsolation(id: 12, name: "tenant_isolation_knowledge", tables: ["clip_analysis", "knowledge_document", "knowledge_version"]),
    ]

    /// Knowledge documents (current state, with the float32 unit embedding
    /// and the tenant `revision` of their last change), every version of
    /// them, full-text search over title and content (FTS5 over live
    /// documents; a weighted tsvector with GIN), and `knowledge_tenant`, a
    /// system table: each tenant's embedding dimension and a revision
    /// counter every change increments, which the in-memory vector index
    /// catches up to.
    static func knowledgeTables(_ dialect: SQLDialect) -> String {
        let (integer, blob, strict) = dialect == .sqlite ? ("INTEGER", "BLOB", " STRICT") : ("BIGINT", "BYTEA", "")
        let common = """
            CREATE TABLE knowledge_document (
                tenant_id TEXT NOT NULL,
                id TEXT NOT NULL,
                title TEXT NOT NULL,
                content TEXT NOT NULL,
                category TEXT NOT NULL,
                tags TEXT NOT NULL,
                embedding \(blob),
                version \(integer) NOT NULL,
                revision \(integer) NOT NULL,
                created_at \(integer) NOT NULL,
                updated_at \(integer) NOT NULL,
                deleted_at \(integer),
                PRIMARY KEY (tenant_id, id)
            )\(strict);
            CREATE INDEX knowledge_newest ON knowledge_document (tenant_id, created_at DESC, id DESC) WHERE deleted_at IS NULL;
            CREATE INDEX knowledge_newest_by_category ON knowledge_document (tenant_id, category, created_at DESC, id DESC) WHERE deleted_at IS NULL;
            CREATE INDEX knowledge_by_revision ON knowledge_document (tenant_id, revision);
            CREATE TABLE knowledge_version (
                tenant_id TEXT NOT NULL,
                document_id TEXT NOT NULL,
                version \(integer) NOT NULL,
                title TEXT NOT NULL,
                content TEXT NOT NULL,
                category TEXT NOT NULL,
                tags TEXT NOT NULL,
                has_embedding \(integer) NOT NULL,
                created_at \(integer) NOT NULL,
                PRIMARY KEY (tenant_id, document_id, version)
            )\(strict);
            CREATE TABLE knowledge_tenant (
                tenant TEXT PRIMARY KEY,
                dimensions \(integer),
                revision \(integer) NOT NULL
            )\(strict)
            """
        switch dialect {
        case .sqlite:
            return common + """
                ;
                CREATE VIRTUAL TABLE knowledge_search USING fts5(title, content, content='knowledge_document', content_rowid='rowid');
                CREATE TRIGGER knowledge_search_insert AFTER INSERT ON knowledge_document WHEN new.deleted_at IS NULL BEGIN
                    INSERT INTO knowledge_search (rowid, title, content) VALUES (new.rowid, new.title, new.content);
                END;
                CREATE TRIGGER knowledge_search_update AFTER UPDATE OF title, content, deleted_at ON knowledge_document BEGIN
                    INSERT INTO knowledge_search (knowledge_search, rowid, title, content)
                        SELECT 'delete', old.rowid, old.title, old.content WHERE old.deleted_at IS NULL;
                    INSERT INTO knowledge_search (rowid, title, content) SELECT new.rowid, new.title, new.content WHERE new.deleted_at IS NULL;
                END;
                CREATE TRIGGER knowledge_search_delete AFTER DELETE ON knowledge_document WHEN old.deleted_at IS NULL BEGIN
                    INSERT INTO knowledge_search (knowledge_search, rowid, title, content) VALUES ('delete', old.rowid, old.title, old.content);
                END
                """
        case .postgres:
            return common + """
                ;
                ALTER TABLE knowledge_document ADD COLUMN search tsvector GENERATED ALWAYS AS
                    (setweight(to_tsvector('simple', title), 'A') || setweight(to_tsvector('simple', content), 'B')) STORED;
                CREATE INDEX knowledge_search ON knowledge_document USING GIN (search) WHERE deleted_at IS NULL
                """
        }
    }

    /// The tables that hold one tenant's rows each (see `Tenancy`); the
    /// outbox, inbox and idempotency records are system tables.
    public static let tenantTables = ["clip_analysis", "knowledge_document", "knowledge_version", "video_analysis"]

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
            return added + (try sampleDocuments(session))
        }
    }

    /// The Gateway API seed's three knowledge documents (without embeddings:
    /// the first embedding fixes a tenant's dimension, and that is the
    /// user's to choose); documents whose title exists are left alone.
    public static let documents: [(title: String, content: String, category: String, tags: [String])] = [
        ("Hook patterns that hold viewers",
         "Open on motion or a face within the first second; state the payoff before the third second; cut every two to three seconds until the hook lands.",
         "playbook", ["hooks", "retention"]),
        ("Platform specifications",
         "Vertical 9:16 at 1080x1920 for short-form feeds; keep captions inside the safe area; loudness around -14 LUFS; clips between 15 and 60 seconds.",
         "reference", ["formats", "audio"]),
        ("Brand safety guidelines",
         "No unlicensed music, no competitor logos, no claims without a source; every sponsored clip carries its disclosure in the first frame.",
         "policy", ["brand", "compliance"]),
    ]

    static func sampleDocuments(_ session: any DatabaseSession) throws -> Int {
        var added = 0
        for sample in documents {
            let taken = try session.queryFirst("""
                SELECT 1 AS x FROM knowledge_document WHERE tenant_id = \(defaultTenant) AND title = \(sample.title) AND deleted_at IS NULL
                """)
            guard taken == nil else { continue }
            let revision = try KnowledgeService.nextRevision(session, tenant: defaultTenant, dimensions: nil)
            let id = ResourceID.make(), now = Timestamp.now()
            let tags = String(decoding: try JSONEncoder().encode(sample.tags), as: UTF8.self)
            try session.execute("""
                INSERT INTO knowledge_document (tenant_id, id, title, content, category, tags, embedding, version, revision, created_at, updated_at)
                VALUES (\(defaultTenant), \(id), \(sample.title), \(sample.content), \(sample.category), \(tags), NULL, 1, \(revision), \(now), \(now))
                """)
            _ = try KnowledgeService.recordVersion(session, tenant: defaultTenant, id: id, announcing: AnalysisContracts.documentCreated)
            added += 1
        }
        return added
    }
}
