import BusRuntime
import BusWire
import Foundation
import NIOCore
import NIOPosix
import TestSupport
import Testing

/// Assets and clips through the whole stack, as real processes: HTTP →
/// gateway → bus → ingest → its database, and `clip.analyzed` events from
/// a bus node → ingest's inbox.
@Suite(.serialized) struct IngestMediaProcessTests {
    typealias Stack = GatewayTests.Stack

    static func json(_ response: HTTPResponse) -> [String: Any] { response.json ?? [:] }

    /// The README's curl session, then analyses arriving as events.
    @Test(arguments: Engine.allCases)
    func anAssetIsRegisteredProcessedCutScoredAndRanked(_ engine: Engine) async throws {
        let (stack, cleanup) = try await Stack.start(.sqlite, ingestEngine: engine)
        defer { stack.stop(); Task { await cleanup() } }

        let created = try await stack.request("POST", "/api/assets", #"{"source_url": "https://example.com/videos/talk.mp4", "title": "Talk", "size_bytes": 2147483648}"#)
        #expect(created.status == 201, "\(created.body)")
        let asset = try #require(Self.json(created)["id"] as? String)
        #expect(Self.json(created)["status"] as? String == "PENDING" && Self.json(created)["size_bytes"] as? Int64 == 2_147_483_648)
        #expect(try await stack.request("POST", "/api/assets", #"{"source_url": "https://example.com/videos/talk.mp4"}"#).status == 409)
        #expect(try await stack.request("POST", "/api/assets", #"{"source_url": "ftp://example.com/talk.mp4"}"#).status == 422)

        let skipping = try await stack.request("PATCH", "/api/assets/\(asset)", #"{"status": "READY"}"#)
        #expect(skipping.status == 409 && skipping.body.contains("PENDING") && skipping.body.contains("READY"), "\(skipping.body)")
        #expect(try await stack.request("PATCH", "/api/assets/\(asset)", #"{"status": "PROCESSING"}"#).status == 200)
        let ready = try await stack.request("PATCH", "/api/assets/\(asset)", #"{"status": "READY", "duration_s": 95.5, "width": 1920, "height": 1080, "fps": 25}"#)
        #expect(ready.status == 200 && Self.json(ready)["status"] as? String == "READY", "\(ready.body)")
        #expect(try await stack.request("GET", "/api/assets?status=READY").body.contains(asset))
        #expect(try await stack.request("GET", "/api/assets?status=NOPE").json?["count"] as? Int == 0)

        #expect(try await stack.request("POST", "/api/assets/\(asset)/clips", #"{"start_s": 90, "end_s": 100}"#).status == 422)
        var clips: [String] = []
        for (start, end) in [(60.0, 75.0), (0.0, 12.5), (30.0, 45.0)] {
            let clip = try await stack.request("POST", "/api/assets/\(asset)/clips", #"{"start_s": \#(start), "end_s": \#(end)}"#)
            #expect(clip.status == 201, "\(clip.body)")
            clips.append(try #require(Self.json(clip)["id"] as? String))
        }
        // By start time, two pages through the Link header.
        let first = try await stack.request("GET", "/api/assets/\(asset)/clips?limit=2")
        #expect((first.json?["clips"] as? [[String: Any]])?.compactMap { $0["start_s"] as? Double } == [0, 30])
        let link = try #require(first.headers["link"])
        let next = String(link.dropFirst().prefix { $0 != ">" })
        #expect((try await stack.request("GET", next).json?["clips"] as? [[String: Any]])?.compactMap { $0["start_s"] as? Double } == [60])

        // Two analyses arrive; the second event is delivered twice.
        let analyzer = try await Self.analyzer(registryFlag: stack.registryFlag)
        defer { Task { try? await analyzer.shutdown(grace: .zero) } }
        for (clip, score, eventID) in [(clips[0], 0.4, "analysis-1"), (clips[2], 0.9, "analysis-2"), (clips[2], 0.9, "analysis-2")] {
            let at = eventID == "analysis-1" ? "2026-11-30T10:00:00.000Z" : "2026-11-30T10:00:01.000Z"
            let payload = #"{"clip_id": "\#(clip)", "asset_id": "\#(asset)", "score": \#(score), "features": {"motion": 0.5}, "analyzed_at": "\#(at)"}"#
            let report = await analyzer.publish(topic: "clip.analyzed", payload: ByteBuffer(string: payload), eventID: eventID, timeout: .seconds(30), tenant: "default")
            // Both consumers of clip.analyzed in the stack: ingest ranks, prediction predicts with champions.
            #expect(Set(report.acknowledged) == ["ingest", "prediction"], "\(report)")
        }
        let top = try await stack.request("GET", "/api/clips/top?asset_id=\(asset)&min_score=0.3")
        let ranked = (top.json?["clips"] as? [[String: Any]]) ?? []
        #expect(ranked.compactMap { $0["id"] as? String } == [clips[2], clips[0]], "\(top.body)")
        #expect(ranked.compactMap { $0["rank"] as? Int } == [1, 2])
        #expect(ranked.allSatisfy { $0["status"] as? String == "SCORED" })
        #expect((try await stack.request("GET", "/api/clips/top?asset_id=\(asset)&min_score=0.5").json?["clips"] as? [Any])?.count == 1)
        #expect(try await stack.request("GET", "/api/clips/top?min_score=abc").status == 422)
        #expect(try await stack.request("GET", "/api/clips/top?min_score=1.5").status == 422)

        // Publishing and rejecting by PATCH; then the asset goes, with its clips.
        #expect(try await stack.request("PATCH", "/api/clips/\(clips[2])", #"{"status": "PUBLISHED"}"#).json?["status"] as? String == "PUBLISHED")
        #expect(try await stack.request("PATCH", "/api/clips/\(clips[1])", #"{"status": "PUBLISHED"}"#).status == 409)
        #expect(try await stack.request("DELETE", "/api/assets/\(asset)").status == 204)
        #expect(try await stack.request("GET", "/api/clips/\(clips[0])").status == 404)
        #expect(try await stack.request("GET", "/api/assets/\(asset)").status == 404)
        #expect(try await stack.request("POST", "/api/assets", #"{"source_url": "https://example.com/videos/talk.mp4"}"#).status == 201)
    }

    /// Every 201 of a stream of creates is still there after ingest was killed (SIGKILL) mid-stream and started again.
    @Test func everyAcknowledgedAssetSurvivesAKilledIngest() async throws {
        var (stack, cleanup) = try await Stack.start(.sqlite)
        defer { stack.stop() }
        let removeDatabases = cleanup
        defer { Task { await removeDatabases() } }
        var acknowledged: [String] = []
        var restarted = false
        for n in 0..<300 {
            if n == 100 {
                stack.ingest.signal(SIGKILL)
                _ = try await stack.ingest.exitStatus()
            }
            if n == 150 {
                stack.ingest = try VideobusProcess(["serve", "ingest"] + stack.ingestDatabaseFlags + stack.registryFlag)
                _ = try await stack.ingest.listeningPort()
                restarted = true
            }
            let response = try await stack.request("POST", "/api/assets", #"{"source_url": "s3://bucket/video-\#(n).mp4"}"#)
            if response.status == 201 {
                acknowledged.append(try #require(Self.json(response)["id"] as? String))
            } else {
                #expect([503, 504].contains(response.status), "\(response.status) \(response.body)")
            }
        }
        #expect(restarted)
        #expect(acknowledged.count >= 200)
        for id in acknowledged {
            #expect(try await stack.request("GET", "/api/assets/\(id)").status == 200, "\(id) was acknowledged but is gone")
        }
    }

    /// A node that publishes as the analysis-store will, once ingest's subscription shows in its registry snapshot.
    static func analyzer(registryFlag: [String]) async throws -> BusNode {
        let address = try #require(registryFlag.last?.split(separator: ":").last.flatMap { Int($0) })
        let node = BusNode(configuration: BusNode.Configuration(
            identity: NodeIdentity(service: "clip-analyzer", instance: "clip-analyzer-\(UInt32.random(in: 0...UInt32.max))", version: "test"),
            registries: [ServiceAddress(host: "127.0.0.1", port: address)]
        ), group: MultiThreadedEventLoopGroup.singleton)
        try await node.start()
        let subscribed = await eventually {
            try await node.registrySnapshot().instances.contains { $0.record.subscriptions.contains("clip.analyzed") }
        }
        guard subscribed else { throw HTTPTestError("ingest's subscription to clip.analyzed never showed in the registry") }
        return node
    }
}
