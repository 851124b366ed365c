import Foundation
import TestSupport
import Testing

/// Clip analyses and the knowledge base through the whole stack, as real
/// processes: HTTP → gateway → analysis-store, which asks ingest over the bus
/// whether the clip exists and announces `clip.analyzed`, which ingest
/// applies (score, SCORED, rank).
@Suite(.serialized) struct ClipAnalysisProcessTests {
    typealias Stack = GatewayTests.Stack

    static func json(_ response: HTTPResponse) -> [String: Any] { response.json ?? [:] }

    /// A READY asset with one clip; the clip's id.
    static func clip(_ stack: Stack) async throws -> String {
        let created = try await stack.request("POST", "/api/assets", #"{"source_url": "https://example.com/videos/analysed-\#(UUID().uuidString).mp4"}"#)
        #expect(created.status == 201, "\(created.body)")
        let asset = try #require(json(created)["id"] as? String)
        #expect(try await stack.request("PATCH", "/api/assets/\(asset)", #"{"status": "PROCESSING"}"#).status == 200)
        let ready = try await stack.request("PATCH", "/api/assets/\(asset)", #"{"status": "READY", "duration_s": 120}"#)
        #expect(ready.status == 200, "\(ready.body)")
        let clip = try await stack.request("POST", "/api/assets/\(asset)/clips", #"{"start_s": 10, "end_s": 25, "label": "intro"}"#)
        #expect(clip.status == 201, "\(clip.body)")
        return try #require(json(clip)["id"] as? String)
    }

    /// The clip as ingest shows it.
    static func ingestClip(_ stack: Stack, _ id: String) async throws -> [String: Any] {
        json(try await stack.request("GET", "/api/clips/\(id)"))
    }

    /// Ingest shows the clip SCORED with `score`, rank 1, within the deadline.
    static func expectScored(_ stack: Stack, _ clip: String, _ score: Double, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let applied = await eventually {
            let shown = try await ingestClip(stack, clip)
            return shown["status"] as? String == "SCORED" && shown["score"] as? Double == score && shown["rank"] as? Int == 1
        }
        if !applied {
            let shown = try await ingestClip(stack, clip)
            Issue.record("ingest never applied the analysis with score \(score): \(shown)", sourceLocation: sourceLocation)
        }
    }

    @Test func aClipAnalysisIsStoredOnlyForAClipIngestConfirmsAndIngestScoresIt() async throws {
        let (started, cleanup) = try await Stack.start(.sqlite)
        var stack = started
        defer { stack.stop() }
        defer { Task { await cleanup() } }

        let clip = try await Self.clip(stack)
        #expect(try await Self.ingestClip(stack, clip)["status"] as? String == "PENDING")

        // First PUT: 201; again: 200. Neither body carries `created`.
        let first = try await stack.request("PUT", "/api/clips/\(clip)/analysis", #"{"features": {"motion": 0.5, "faces": 2}, "score": 0.8, "analyzer": "scorer-v1"}"#)
        #expect(first.status == 201, "\(first.body)")
        let firstBody = Self.json(first)
        #expect(Set(firstBody.keys) == ["clip_id", "asset_id", "features", "score", "analyzer", "created_at", "updated_at"], "\(first.body)")
        #expect(firstBody["clip_id"] as? String == clip && firstBody["score"] as? Double == 0.8 && firstBody["analyzer"] as? String == "scorer-v1")
        try await Self.expectScored(stack, clip, 0.8)
        #expect((try await Self.ingestClip(stack, clip)["features"] as? [String: Any])?["motion"] as? Double == 0.5)

        let second = try await stack.request("PUT", "/api/clips/\(clip)/analysis", #"{"features": {"motion": 0.25}, "score": 0.6}"#)
        #expect(second.status == 200, "\(second.body)")
        #expect(Self.json(second)["created"] == nil && Self.json(second)["score"] as? Double == 0.6, "\(second.body)")
        #expect(Self.json(second)["analyzer"] is NSNull, "a put without analyzer replaces it with null: \(second.body)")
        try await Self.expectScored(stack, clip, 0.6)
        let stored = try await stack.request("GET", "/api/clips/\(clip)/analysis")
        #expect(stored.status == 200 && Self.json(stored)["score"] as? Double == 0.6, "\(stored.body)")
        #expect((Self.json(stored)["features"] as? [String: Any])?.keys.sorted() == ["motion"])

        // Unknown clips, bad input.
        let unknown = try await stack.request("PUT", "/api/clips/cnosuchclip0000000000000/analysis", #"{"features": {}, "score": 0.5}"#)
        #expect(unknown.status == 404, "\(unknown.body)")
        #expect(try await stack.request("GET", "/api/clips/cnosuchclip0000000000000/analysis").status == 404)
        #expect(try await stack.request("PUT", "/api/clips/\(clip)/analysis", #"{"features": {}, "score": 1.5}"#).status == 422)
        #expect(try await stack.request("PUT", "/api/clips/\(clip)/analysis", #"{"features": {"motion": "fast"}, "score": 0.5}"#).status == 422)

        // Ingest down: 503, and nothing stored.
        stack.ingest.signal(SIGKILL)
        _ = try await stack.ingest.exitStatus()
        let refused = try await stack.request("PUT", "/api/clips/\(clip)/analysis", #"{"features": {"motion": 0.9}, "score": 0.9}"#)
        #expect(refused.status == 503, "\(refused.status) \(refused.body)")
        let unchanged = try await stack.request("GET", "/api/clips/\(clip)/analysis")
        #expect(unchanged.status == 200 && Self.json(unchanged)["score"] as? Double == 0.6 && Self.json(unchanged)["updated_at"] as? String == Self.json(stored)["updated_at"] as? String,
                "\(unchanged.body)")

        // Ingest back: the PUT works again, and is applied.
        stack.ingest = try VideobusProcess(["serve", "ingest"] + stack.ingestDatabaseFlags + stack.registryFlag)
        _ = try await stack.ingest.listeningPort()
        var status = 0
        #expect(await eventually {
            status = try await stack.request("PUT", "/api/clips/\(clip)/analysis", #"{"features": {"motion": 0.7}, "score": 0.7}"#).status
            return status == 200
        }, "after ingest restarted: \(status)")
        try await Self.expectScored(stack, clip, 0.7)

        // The clip deleted in ingest: its analysis goes too (clip.deleted reaches the analysis-store).
        #expect(try await stack.request("DELETE", "/api/clips/\(clip)").status == 204)
        #expect(await eventually { try await stack.request("GET", "/api/clips/\(clip)/analysis").status == 404 })
    }

    @Test func theKnowledgeRoutesAnswerThroughTheGateway() async throws {
        let (stack, cleanup) = try await Stack.start(.sqlite)
        defer { stack.stop(); Task { await cleanup() } }

        let created = try await stack.request("POST", "/api/knowledge", #"{"title": "Unicorn hooks", "content": "Open on a unicorn within the first second.", "category": "playbook", "embedding": [1, 0, 0]}"#)
        #expect(created.status == 201, "\(created.body)")
        let document = Self.json(created)
        #expect(Set(document.keys) == ["id", "title", "content", "category", "tags", "version", "has_embedding", "created_at", "updated_at"], "\(created.body)")
        #expect(document["version"] as? Int == 1 && document["has_embedding"] as? Bool == true && (document["tags"] as? [Any])?.isEmpty == true)
        let id = try #require(document["id"] as? String)

        let text = try await stack.request("GET", "/api/knowledge/search?q=unicorn%20hooks")
        #expect(text.status == 200, "\(text.body)")
        #expect(Set(Self.json(text).keys) == ["results", "count"])
        let textResults = Self.json(text)["results"] as? [[String: Any]] ?? []
        #expect(textResults.compactMap { ($0["document"] as? [String: Any])?["id"] as? String } == [id], "\(text.body)")
        #expect(textResults.first?["score"] is Double)
        #expect(try await stack.request("GET", "/api/knowledge/search?q=%20--%20").status == 422)

        let vector = try await stack.request("POST", "/api/knowledge/search", #"{"embedding": [2, 0.1, 0], "k": 5}"#)
        #expect(vector.status == 200, "\(vector.body)")
        let vectorResults = Self.json(vector)["results"] as? [[String: Any]] ?? []
        #expect(vectorResults.compactMap { ($0["document"] as? [String: Any])?["id"] as? String } == [id], "\(vector.body)")
        let score = try #require(vectorResults.first?["score"] as? Double)
        #expect(abs(score - 2 / (4.01 as Double).squareRoot()) < 1e-5)

        let zero = try await stack.request("POST", "/api/knowledge/search", #"{"embedding": [0, 0, 0]}"#)
        #expect(zero.status == 422, "\(zero.body)")
        // Another length than the tenant's dimension: 422 naming the field, not a 500.
        let wrongLength = try await stack.request("POST", "/api/knowledge/search", #"{"embedding": [1, 0]}"#)
        #expect(wrongLength.status == 422, "\(wrongLength.status) \(wrongLength.body)")
        let wrongCreate = try await stack.request("POST", "/api/knowledge", #"{"title": "t", "content": "c", "category": "c", "embedding": [1, 0]}"#)
        #expect(wrongCreate.status == 422, "\(wrongCreate.status) \(wrongCreate.body)")
    }
}
