import Foundation
import TestSupport
import Testing

/// The prediction service through the whole stack, as real processes:
/// HTTP → gateway → prediction, which asks the analysis-store for a clip's
/// features and ingest whether a clip exists, and predicts with every
/// champion when the analysis-store announces `clip.analyzed`.
@Suite(.serialized) struct PredictionProcessTests {
    typealias Stack = GatewayTests.Stack

    static func json(_ response: HTTPResponse) -> [String: Any] { response.json ?? [:] }

    static let version1 = #"{"metrics": {"ctr": {"kind": "logistic", "intercept": -2, "coefficients": {"motion": 1.5}}, "watch_time_s": {"kind": "linear", "intercept": 5, "coefficients": {"motion": 10, "faces": 2}}}}"#
    static let version2 = #"{"metrics": {"ctr": {"kind": "logistic", "intercept": -1, "coefficients": {"motion": 0.5}}}}"#

    @Test(arguments: Engine.allCases)
    func aModelPredictsAClipAndItsErrorFollowsTheActuals(_ engine: Engine) async throws {
        let (stack, cleanup) = try await Stack.start(engine)
        defer { stack.stop(); Task { await cleanup() } }
        let model = "engagement-\(UUID().uuidString.prefix(8).lowercased())"

        // Versions 1 and 2; champion → 1.
        let first = try await stack.request("POST", "/api/models/\(model)/versions", Self.version1)
        #expect(first.status == 201, "\(first.body)")
        #expect(Set(Self.json(first).keys) == ["name", "version", "metrics", "aliases", "created_at"], "\(first.body)")
        #expect(Self.json(first)["version"] as? Int == 1)
        let second = try await stack.request("POST", "/api/models/\(model)/versions", Self.version2)
        #expect(Self.json(second)["version"] as? Int == 2, "\(second.body)")
        let alias = try await stack.request("PUT", "/api/models/\(model)/aliases/champion", #"{"version": 1}"#)
        #expect(alias.status == 200 && Self.json(alias)["version"] as? Int == 1, "\(alias.body)")
        let shown = Self.json(try await stack.request("GET", "/api/models/\(model)"))
        #expect(shown["latest_version"] as? Int == 2 && (shown["aliases"] as? [String: Any])?["champion"] as? Int == 1, "\(shown)")

        // Analysing a clip predicts it with the champion, once.
        let clip = try await ClipAnalysisProcessTests.clip(stack)
        let analysis = try await stack.request("PUT", "/api/clips/\(clip)/analysis", #"{"features": {"motion": 0.4, "faces": 3}, "score": 0.7}"#)
        #expect(analysis.status == 201, "\(analysis.body)")
        var automatic: [[String: Any]] = []
        #expect(await eventually {
            automatic = Self.json(try await stack.request("GET", "/api/predictions?clip_id=\(clip)&model=\(model)"))["predictions"] as? [[String: Any]] ?? []
            return !automatic.isEmpty
        }, "no automatic prediction for clip \(clip)")
        #expect(automatic.count == 1)
        let champion = try #require(automatic.first)
        #expect(champion["version"] as? Int == 1 && champion["alias"] as? String == "champion" && champion["model"] as? String == model, "\(champion)")
        let predicted = try #require(champion["predicted"] as? [String: Double])
        #expect(abs(predicted["ctr"]! - 1 / (1 + exp(-(-2 + 1.5 * 0.4)))) < 1e-12)
        #expect(abs(predicted["watch_time_s"]! - (5 + 10 * 0.4 + 2 * 3)) < 1e-12)
        #expect(champion["actual"] is NSNull)

        // An explicit prediction with version 2, features from the stored analysis.
        let explicit = try await stack.request("POST", "/api/predictions", #"{"clip_id": "\#(clip)", "model": "\#(model)@2"}"#)
        #expect(explicit.status == 201, "\(explicit.body)")
        let made = Self.json(explicit)
        #expect(Set(made.keys) == ["id", "clip_id", "model", "version", "alias", "features", "predicted", "actual", "created_at"], "\(explicit.body)")
        #expect(made["version"] as? Int == 2 && made["alias"] is NSNull && (made["features"] as? [String: Double])?["faces"] == 3)
        let id = try #require(made["id"] as? String)

        // Actuals merge per metric; the version's error follows.
        let actual = try await stack.request("PUT", "/api/predictions/\(id)/actual", #"{"ctr": 0.25}"#)
        #expect(actual.status == 200 && (Self.json(actual)["actual"] as? [String: Double]) == ["ctr": 0.25], "\(actual.body)")
        let championID = try #require(champion["id"] as? String)
        #expect(try await stack.request("PUT", "/api/predictions/\(championID)/actual", #"{"watch_time_s": 12}"#).status == 200)
        let merged = try await stack.request("PUT", "/api/predictions/\(championID)/actual", #"{"ctr": 0.1}"#)
        #expect((Self.json(merged)["actual"] as? [String: Double]) == ["ctr": 0.1, "watch_time_s": 12], "\(merged.body)")

        let metrics = try await stack.request("GET", "/api/models/\(model)/versions/2/metrics")
        #expect(metrics.status == 200, "\(metrics.body)")
        let ctr = try #require((Self.json(metrics)["metrics"] as? [String: Any])?["ctr"] as? [String: Any])
        let ctr2 = 1 / (1 + exp(-(-1 + 0.5 * 0.4)))
        #expect(ctr["n"] as? Int == 1 && abs((ctr["mae"] as? Double ?? -1) - abs(ctr2 - 0.25)) < 1e-12, "\(metrics.body)")
        #expect(ctr["r2"] is NSNull && ctr["brier"] is Double && ctr["ece"] is Double, "\(metrics.body)")
        let gate = try #require(Self.json(metrics)["quality_gate"] as? [String: Any])
        #expect(gate["champion_version"] as? Int == 1 && gate["passed"] is Bool, "\(metrics.body)")
        let linear = try #require(((Self.json(try await stack.request("GET", "/api/models/\(model)/versions/1/metrics")))["metrics"] as? [String: Any])?["watch_time_s"] as? [String: Any])
        #expect(linear["n"] as? Int == 1 && linear["brier"] == nil && linear["ece"] == nil, "\(linear)")

        // Bad input: clear errors, nothing stored.
        #expect(try await stack.request("POST", "/api/predictions", #"{"clip_id": "\#(clip)", "model": "no-such-model"}"#).status == 422)
        #expect(try await stack.request("POST", "/api/predictions", #"{"clip_id": "\#(clip)", "model": "\#(model)@9"}"#).status == 422)
        #expect(try await stack.request("POST", "/api/predictions", #"{"clip_id": "cnosuchclip0000000000000", "model": "\#(model)", "features": {}}"#).status == 422)
        #expect(try await stack.request("POST", "/api/models/\(model)/versions", #"{"metrics": {"ctr": {"kind": "cubic", "intercept": 0, "coefficients": {}}}}"#).status == 422)
        #expect(try await stack.request("PUT", "/api/predictions/\(id)/actual", #"{"ctr": 1.5}"#).status == 422)
        #expect(try await stack.request("GET", "/api/models/no-such-model").status == 404)
        #expect(try await stack.request("GET", "/api/models/\(model)/versions/7").status == 404)
        #expect(try await stack.request("GET", "/api/models/\(model)/versions/seven").status == 422)
        #expect(try await stack.request("GET", "/api/predictions/cnosuchprediction00000000").status == 404)
        let listed = Self.json(try await stack.request("GET", "/api/predictions?clip_id=\(clip)"))
        #expect(listed["count"] as? Int == 2, "\(listed)")

        // Deleting version 2: gone, its number never given again, its predictions stay.
        #expect(try await stack.request("DELETE", "/api/models/\(model)/versions/2").status == 204)
        #expect(try await stack.request("GET", "/api/models/\(model)/versions/2").status == 404)
        let third = try await stack.request("POST", "/api/models/\(model)/versions", Self.version2)
        #expect(Self.json(third)["version"] as? Int == 3, "\(third.body)")
        #expect(try await stack.request("GET", "/api/predictions/\(id)").status == 200)
    }
}
