import Contracts
import Foundation
import ServiceKit
import Storage

/// The analysis-store's database: video analyses as the Memory Mirror seed
/// describes them (one per video, a description, creation and update times),
/// full-text search over descriptions, and the outbox/inbox of its events.
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
    ] + Outbox.migrations(startingAt: 3) + [Idempotency.migration(id: 5)]

    /// Sample analyses; existing video ids are left alone.
    public static let samples: [(videoID: String, description: String)] = [
        ("sample_001", "A sunset over the harbour, boats returning, gulls circling the pier."),
        ("sample_002", "A dog runs along the beach chasing a ball; the camera pans left."),
        ("sample_003", "Close-up of a product logo on a coffee cup, warm morning light."),
        ("sample_004", "Stadium at night, the crowd cheering as the lights come on."),
    ]

    public static let schema = ServiceSchema(service: AnalysisContracts.service, migrations: migrations) { database in
        try await database.write { session in
            var added = 0
            for sample in samples {
                let now = Timestamp.now()
                let id = ResourceID.make()
                let inserted = try session.execute("""
                    INSERT INTO video_analysis (id, video_id, description, created_at, updated_at)
                    VALUES (\(id), \(sample.videoID), \(sample.description), \(now), \(now))
                    ON CONFLICT (video_id) DO NOTHING
                    """)
                guard inserted == 1 else { continue }
                added += 1
                try Outbox.enqueue(session, AnalysisContracts.created, AnalysisContracts.AnalysisEvent(id: id, videoId: sample.videoID))
            }
            return added
        }
    }
}
