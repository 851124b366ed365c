import Foundation
import TestSupport
import Testing

/// The conversion service through the whole stack, as real processes:
/// campaigns, an experiment reaching a decision, conversions from two
/// sources with duplicates, attribution, the clip metrics that reach the
/// prediction service, and a conversion stream across a kill -9.
@Suite(.serialized) struct ConversionProcessTests {
    typealias Stack = GatewayTests.Stack

    static func json(_ response: HTTPResponse) -> [String: Any] { response.json ?? [:] }

    static func campaign(_ stack: Stack, _ body: String) async throws -> String {
        let created = try await stack.request("POST", "/api/campaigns", body)
        #expect(created.status == 201, "\(created.body)")
        return try #require(json(created)["id"] as? String)
    }

    @Test(arguments: Engine.allCases)
    func aCampaignsExperimentDecidesAndItsConversionsAreCountedOnce(_ engine: Engine) async throws {
        let (stack, cleanup) = try await Stack.start(engine)
        defer { stack.stop(); Task { await cleanup() } }

        // A model whose champion predicts ctr, a clip it predicted, a campaign running that clip.
        #expect(try await stack.request("POST", "/api/models/ctr-model/versions",
                                        #"{"metrics": {"ctr": {"kind": "logistic", "intercept": -3, "coefficients": {"motion": 1}}}}"#).status == 201)
        #expect(try await stack.request("PUT", "/api/models/ctr-model/aliases/champion", #"{"version": 1}"#).status == 200)
        let clip = try await ClipAnalysisProcessTests.clip(stack)
        #expect(try await stack.request("PUT", "/api/clips/\(clip)/analysis", #"{"features": {"motion": 0.5}, "score": 0.5}"#).status == 201)
        let id = try await Self.campaign(stack, #"{"name": "Spring launch", "objective": "SALES", "budget": "100.00", "status": "ACTIVE", "clip_ids": ["\#(clip)"]}"#)

        // Metrics add exactly; the clip's share reaches prediction as its ctr.
        for _ in 0..<3 {
            let added = try await stack.request("POST", "/api/campaigns/\(id)/metrics", #"{"spend": 40.10, "impressions": 1000, "clicks": 25, "clip_id": "\#(clip)"}"#)
            #expect(added.status == 200, "\(added.body)")
        }
        let shown = Self.json(try await stack.request("GET", "/api/campaigns/\(id)"))
        #expect(shown["spend"] as? String == "120.30" && shown["impressions"] as? Int == 3000 && shown["clicks"] as? Int == 75, "\(shown)")
        #expect(shown["over_budget"] as? Bool == true && shown["ctr"] as? Double == 0.025 && shown["cpa"] is NSNull, "\(shown)")
        var ctr: Double?
        #expect(await eventually {
            let predictions = Self.json(try await stack.request("GET", "/api/predictions?clip_id=\(clip)"))["predictions"] as? [[String: Any]] ?? []
            ctr = (predictions.first?["actual"] as? [String: Double])?["ctr"]
            return ctr == 0.025
        }, "the prediction's ctr actual is \(String(describing: ctr))")
        #expect(try await stack.request("POST", "/api/campaigns/\(id)/metrics", #"{"spend": "0.001", "impressions": 1, "clicks": 0}"#).status == 422)

        // An experiment reaching a decision.
        let experiment = try await stack.request("POST", "/api/campaigns/\(id)/experiments",
                                                 #"{"name": "Hook", "metric": "conversion_rate", "variants": [{"id": "control", "weight": 1}, {"id": "fast-hook", "weight": 1}]}"#)
        #expect(experiment.status == 201, "\(experiment.body)")
        let experimentID = try #require(Self.json(experiment)["id"] as? String)
        #expect(try await stack.request("POST", "/api/experiments/\(experimentID)/observations", #"{"variant_id": "control", "users": 10, "conversions": 1}"#).status == 409)
        #expect(try await stack.request("PATCH", "/api/experiments/\(experimentID)", #"{"status": "RUNNING"}"#).status == 200)
        for (variant, conversions) in [("control", 100), ("fast-hook", 150)] {
            let observed = try await stack.request("POST", "/api/experiments/\(experimentID)/observations", #"{"variant_id": "\#(variant)", "users": 1000, "conversions": \#(conversions)}"#)
            #expect(observed.status == 200 && Self.json(observed)["users"] as? Int == 1000, "\(observed.body)")
        }
        let results = Self.json(try await stack.request("GET", "/api/experiments/\(experimentID)/results"))
        let decision = try #require(results["decision"] as? [String: Any])
        #expect(decision["winner_variant_id"] as? String == "fast-hook", "\(results)")
        let completed = Self.json(try await stack.request("PATCH", "/api/experiments/\(experimentID)", #"{"status": "COMPLETED"}"#))
        #expect(completed["winner_variant_id"] as? String == "fast-hook" && (completed["confidence"] as? Double ?? 0) > 0.99, "\(completed)")
        #expect(try await stack.request("PATCH", "/api/experiments/\(experimentID)", #"{"status": "RUNNING"}"#).status == 409)

        // Conversions from two sources, duplicates answered with the stored record.
        func record(_ body: String) async throws -> HTTPResponse { try await stack.request("POST", "/api/conversions", body) }
        let meta = #"{"source": "META", "event_name": "Purchase", "external_id": "fb-1", "value": "49.90", "occurred_at": "2026-11-20T10:00:00+01:00", "campaign_id": "\#(id)"}"#
        let first = try await record(meta)
        #expect(first.status == 201, "\(first.body)")
        let again = try await record(meta)
        #expect(again.status == 200 && Self.json(again)["id"] as? String == Self.json(first)["id"] as? String && Self.json(again)["created"] == nil, "\(again.body)")
        let google = #"{"source": "GOOGLE", "external_id": "order-7", "value": 20, "occurred_at": "2026-11-21T08:00:00Z", "campaign_id": "\#(id)"}"#
        #expect(try await record(google).status == 201)
        #expect(try await record(google).status == 200)
        #expect(try await record(#"{"source": "META", "event_name": "Purchase", "external_id": "fb-1", "value": "49.90", "occurred_at": "2026-11-23T10:00:00Z", "campaign_id": "\#(id)"}"#).status == 201,
                "the same META ids more than 48 h later are a new conversion")
        #expect(try await record(#"{"source": "FAX", "external_id": "x", "value": "1", "occurred_at": "2026-11-21T08:00:00Z"}"#).status == 422)
        #expect(try await record(#"{"source": "MANUAL", "external_id": "x", "value": "1", "occurred_at": "2026-11-21T08:00:00"}"#).status == 422)
        let rolled = Self.json(try await stack.request("GET", "/api/campaigns/\(id)"))
        #expect(rolled["conversions"] as? Int == 3 && rolled["conversion_value"] as? String == "119.80" && rolled["cpa"] as? String == "40.10", "\(rolled)")

        // Attribution: credits sum to the value exactly.
        let other = try await Self.campaign(stack, #"{"name": "Retargeting", "objective": "CONVERSIONS", "budget": "50"}"#)
        let touched = try await record(#"{"source": "WEBHOOK", "external_id": "wh-1", "value": "10.00", "occurred_at": "2026-11-22T12:00:00Z", "touchpoints": [{"campaign_id": "\#(id)", "at": "2026-11-20T12:00:00Z"}, {"campaign_id": "\#(other)", "at": "2026-11-21T12:00:00Z"}, {"campaign_id": "\#(id)", "at": "2026-11-22T11:00:00Z"}]}"#)
        #expect(touched.status == 201, "\(touched.body)")
        let conversion = try #require(Self.json(touched)["id"] as? String)
        let linear = Self.json(try await stack.request("GET", "/api/conversions/\(conversion)/attribution?model=linear"))
        let credits = (linear["credits"] as? [[String: Any]] ?? []).compactMap { $0["value"] as? String }
        #expect(credits == ["6.67", "3.33"], "\(linear)")
        let campaignShare = Self.json(try await stack.request("GET", "/api/campaigns/\(other)/attribution?model=position"))
        #expect(campaignShare["credited_value"] as? String == "2.00" && campaignShare["conversions"] as? Int == 1, "\(campaignShare)")
        #expect(try await stack.request("GET", "/api/conversions/\(conversion)/attribution?model=best").status == 422)
    }

    /// Conversions stream in while the service is killed with SIGKILL and
    /// restarted; the sender retries what was not acknowledged (as ad
    /// platforms redeliver). Every conversion is counted exactly once.
    @Test func aConversionStreamAcrossAKilledServiceCountsEachOnce() async throws {
        var (stack, cleanup) = try await Stack.start(.sqlite)
        defer { stack.stop() }
        let removeDatabases = cleanup
        defer { Task { await removeDatabases() } }
        let id = try await Self.campaign(stack, #"{"name": "Stream", "objective": "SALES", "budget": "1000", "status": "ACTIVE"}"#)
        var pending = Array(0..<200)
        var killed = false, restarted = false, rounds = 0
        while !pending.isEmpty, rounds < 50 {
            rounds += 1
            var failed: [Int] = []
            for n in pending {
                if n == 60, !killed {
                    stack.conversion.signal(SIGKILL)
                    _ = try await stack.conversion.exitStatus()
                    killed = true
                }
                if n == 120, killed, !restarted {
                    stack.conversion = try VideobusProcess(["serve", "conversion"] + stack.conversionDatabaseFlags + stack.registryFlag)
                    _ = try await stack.conversion.listeningPort()
                    restarted = true
                }
                let body = #"{"source": "WEBHOOK", "external_id": "stream-\#(n)", "value": "1.25", "occurred_at": "2026-11-21T08:00:00Z", "campaign_id": "\#(id)"}"#
                let response = try await stack.request("POST", "/api/conversions", body)
                if ![200, 201].contains(response.status) {
                    #expect([503, 504].contains(response.status), "\(response.status) \(response.body)")
                    failed.append(n)
                }
            }
            pending = failed
        }
        #expect(killed && restarted && pending.isEmpty, "\(pending.count) conversions never acknowledged")
        let campaign = Self.json(try await stack.request("GET", "/api/campaigns/\(id)"))
        #expect(campaign["conversions"] as? Int == 200 && campaign["conversion_value"] as? String == "250.00", "\(campaign)")
        var listed = Set<String>(), cursor: String?
        repeat {
            let page = try await stack.request("GET", "/api/conversions?campaign_id=\(id)&limit=100" + (cursor.map { "&cursor=\($0)" } ?? ""))
            for conversion in Self.json(page)["conversions"] as? [[String: Any]] ?? [] { listed.insert(conversion["external_id"] as? String ?? "") }
            cursor = page.headers["link"].flatMap { link in link.components(separatedBy: "cursor=").last?.components(separatedBy: ">").first }
        } while cursor != nil
        #expect(listed == Set((0..<200).map { "stream-\($0)" }))
    }
}
