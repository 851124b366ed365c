import BusRuntime
import BusWire
import Contracts
import Conversion
import Foundation
import ServiceKit
import Storage
import TestSupport
import Testing

/// Campaigns on both engines (API.md "conversion" › Campaigns, Conventions'
/// money, Edge rules): exact money through the service, 64-bit counters,
/// roll-ups, the status machine, metrics and their `campaign.clip_metrics`
/// event, clips confirmed by ingest, unique meta ids, soft delete, lists and
/// idempotency. Refusals are checked to store nothing. One test at a time:
/// each makes a fresh database.
@Suite(.serialized) struct CampaignServiceTests {
    typealias F = ConversionFixture
    typealias C = ConversionContracts

    static let acme = F.context("acme")
    static let globex = F.context("globex")

    /// API.md's status moves, written out here rather than read from the contract.
    static let moves: [String: Set<String>] = [
        "DRAFT": ["SCHEDULED", "ACTIVE", "ARCHIVED"],
        "SCHEDULED": ["ACTIVE", "DRAFT"],
        "ACTIVE": ["PAUSED", "COMPLETED"],
        "PAUSED": ["ACTIVE", "COMPLETED"],
        "COMPLETED": ["ARCHIVED"],
        "ARCHIVED": [],
    ]
    static let statuses = ["DRAFT", "SCHEDULED", "ACTIVE", "PAUSED", "COMPLETED", "ARCHIVED"]

    /// A campaign of acme brought to `status` through allowed moves.
    static func campaign(_ f: F, in status: String, clipIds: [String]? = nil, budget: String = "100.00") async throws -> C.Campaign {
        switch status {
        case "DRAFT", "SCHEDULED", "ACTIVE": return try await f.campaign(status: status, clipIds: clipIds, context: acme)
        case "PAUSED": return try await f.move(try await f.campaign(budget: budget, clipIds: clipIds, context: acme).id, to: "PAUSED", context: acme)
        case "COMPLETED": return try await f.move(try await f.campaign(budget: budget, clipIds: clipIds, context: acme).id, to: "COMPLETED", context: acme)
        case "ARCHIVED":
            let id = try await f.campaign(budget: budget, clipIds: clipIds, context: acme).id
            _ = try await f.move(id, to: "COMPLETED", context: acme)
            return try await f.move(id, to: "ARCHIVED", context: acme)
        default: fatalError("no status \(status)")
        }
    }

    // MARK: - Money

    /// 0.10 added 30 times is exactly 3.00; a JSON number is read from its
    /// text; "1.230" is 1.23 but "1.235" is refused; JPY has no fraction;
    /// negative amounts are refused. Refusals change nothing.
    @Test(arguments: Engine.allCases)
    func moneyIsExact(engine: Engine) async throws {
        try await F.with(engine) { f in
            let created = try await f.campaign(budget: "2.5", context: Self.acme)
            #expect(created.budget == "2.50")
            #expect(created.spend == "0.00")
            #expect(created.conversionValue == "0.00")
            #expect(created.currency == "USD")
            var campaign = created
            for _ in 0..<30 { campaign = try await f.metrics(created.id, spend: "0.10", context: Self.acme) }
            #expect(campaign.spend == "3.00")
            #expect(try await f.getCampaign(created.id, context: Self.acme).spend == "3.00")
            #expect(campaign.overBudget)

            // A JSON number body value, decoded from its text (never a Double: 0.1 + … would drift).
            let body = Data(#"{"id": "\#(created.id)", "spend": 0.10, "impressions": 1, "clicks": 0}"#.utf8)
            let request = try JSONDecoder().decode(C.CampaignMetricsRequest.self, from: body)
            #expect(request.spend.text == "0.1")
            let huge = try JSONDecoder().decode(C.CampaignMetricsRequest.self, from: Data(#"{"id": "x", "spend": 12345678901234567.89, "impressions": 0, "clicks": 0}"#.utf8))
            #expect(huge.spend.text == "12345678901234567.89")
            campaign = try await f.campaigns.addMetrics(request, context: Self.acme)
            #expect(campaign.spend == "3.10")
            #expect(campaign.impressions == 1)

            // Trailing zeros are fine; a value that needs more digits than USD has is not.
            campaign = try await f.metrics(created.id, spend: "1.230", context: Self.acme)
            #expect(campaign.spend == "4.33")
            let before = try await f.getCampaign(created.id, context: Self.acme)
            let events = try await f.count("outbox")
            for spend in ["1.235", "0.001", "-0.01", "-1", "abc", "", "1e-3", "NaN"] {
                let error = await F.failure { try await f.metrics(created.id, spend: spend, context: Self.acme) }
                #expect(error?.code == .invalidArgument, "\(spend): \(String(describing: error))")
                #expect(error?.message.contains("spend") == true, "\(spend): \(String(describing: error))")
            }
            let tooPrecise = try JSONDecoder().decode(C.CampaignMetricsRequest.self, from: Data(#"{"id": "\#(created.id)", "spend": 1.235, "impressions": 0, "clicks": 0}"#.utf8))
            #expect(await F.code { try await f.campaigns.addMetrics(tooPrecise, context: Self.acme) } == .invalidArgument)
            #expect(try await f.getCampaign(created.id, context: Self.acme) == before)
            #expect(try await f.count("outbox") == events)

            // Budgets: over-precision and negatives refused, nothing stored.
            let campaigns = try await f.count("campaign")
            for budget in ["1.235", "-5.00", "-0.01", "x"] {
                let error = await F.failure { try await f.campaign(budget: budget, context: Self.acme) }
                #expect(error?.code == .invalidArgument, "\(budget)")
                #expect(error?.message.contains("budget") == true, "\(budget): \(String(describing: error))")
                let patched = await F.failure {
                    try await f.campaigns.update(C.UpdateCampaignRequest(id: created.id, changes: C.CampaignChanges(budget: MoneyText(budget))), context: Self.acme)
                }
                #expect(patched?.code == .invalidArgument, "\(budget)")
            }
            #expect(await F.code { try await f.campaign(currency: "usd", context: Self.acme) } == .invalidArgument)
            #expect(await F.code { try await f.campaign(currency: "XYZ", context: Self.acme) } == .invalidArgument)
            #expect(try await f.count("campaign") == campaigns)
            #expect(try await f.getCampaign(created.id, context: Self.acme) == before)

            // JPY: whole numbers only, answered without a point.
            let yen = try await f.campaign(budget: "1000", currency: "JPY", context: Self.acme)
            #expect(yen.budget == "1000")
            #expect(yen.spend == "0")
            #expect(yen.conversionValue == "0")
            #expect(try await f.metrics(yen.id, spend: "250.0", context: Self.acme).spend == "250")
            #expect(try await f.metrics(yen.id, spend: "1e3", context: Self.acme).spend == "1250")
            for spend in ["0.5", "1.5", "250.01"] {
                #expect(await F.code { try await f.metrics(yen.id, spend: spend, context: Self.acme) } == .invalidArgument, "\(spend)")
            }
            #expect(await F.code { try await f.campaign(budget: "1000.5", currency: "JPY", context: Self.acme) } == .invalidArgument)
            #expect(try await f.getCampaign(yen.id, context: Self.acme).spend == "1250")

            // Concurrent additions to one campaign: each applied exactly once.
            let shared = try await f.campaign(context: Self.acme).id
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<20 { group.addTask { _ = try await f.metrics(shared, spend: "0.10", impressions: 3, clicks: 1, context: Self.acme) } }
                try await group.waitForAll()
            }
            let summed = try await f.getCampaign(shared, context: Self.acme)
            #expect(summed.spend == "2.00")
            #expect(summed.impressions == 60)
            #expect(summed.clicks == 20)

            // BHD: three digits.
            let dinar = try await f.campaign(budget: "1.5", currency: "BHD", context: Self.acme)
            #expect(dinar.budget == "1.500")
            #expect(try await f.metrics(dinar.id, spend: "0.001", context: Self.acme).spend == "0.001")
        }
    }

    /// Counters and minor units are 64-bit: totals near 2^62 add exactly,
    /// up to Int64.max; one more is invalid-argument and changes nothing.
    @Test(arguments: Engine.allCases)
    func countersAre64BitAndOverflowIsRefused(engine: Engine) async throws {
        try await F.with(engine) { f in
            let id = try await f.campaign(context: Self.acme).id
            let big: Int64 = 1 << 62
            var campaign = try await f.metrics(id, impressions: big, clicks: big, context: Self.acme)
            #expect(campaign.impressions == big)
            campaign = try await f.metrics(id, impressions: big - 1, clicks: 3, context: Self.acme)
            #expect(campaign.impressions == Int64.max)
            #expect(campaign.clicks == big + 3)
            #expect(try await f.getCampaign(id, context: Self.acme).impressions == Int64.max)

            let before = try await f.getCampaign(id, context: Self.acme)
            let error = await F.failure { try await f.metrics(id, impressions: 1, context: Self.acme) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.contains("impressions") == true, "\(String(describing: error))")
            #expect(await F.code { try await f.metrics(id, clicks: Int64.max, context: Self.acme) } == .invalidArgument)
            // Nothing of a refused request is applied, not even its valid parts.
            #expect(await F.code { try await f.metrics(id, spend: "1.00", impressions: 1, clicks: 1, context: Self.acme) } == .invalidArgument)
            #expect(await F.code { try await f.metrics(id, impressions: -1, context: Self.acme) } == .invalidArgument)
            #expect(await F.code { try await f.metrics(id, clicks: -1, context: Self.acme) } == .invalidArgument)
            #expect(try await f.getCampaign(id, context: Self.acme) == before)

            // Spend in minor units up to Int64.max, exactly.
            let spender = try await f.campaign(context: Self.acme).id
            #expect(try await f.metrics(spender, spend: "46116860184273879.04", context: Self.acme).spend == "46116860184273879.04")  // 2^62 cents
            #expect(try await f.metrics(spender, spend: "46116860184273879.03", context: Self.acme).spend == "92233720368547758.07")  // Int64.max cents
            let spent = try await f.getCampaign(spender, context: Self.acme)
            #expect(await F.code { try await f.metrics(spender, spend: "0.01", context: Self.acme) } == .invalidArgument)
            #expect(await F.code { try await f.metrics(spender, spend: "92233720368547758.08", context: Self.acme) } == .invalidArgument)
            #expect(try await f.getCampaign(spender, context: Self.acme) == spent)
        }
    }

    // MARK: - Roll-ups

    /// ctr, cpa and roas are null while undefined (no impressions, no
    /// conversions, no spend) and right once defined; cpa rounds half up;
    /// over_budget is spend > budget (equal is not over).
    @Test(arguments: Engine.allCases)
    func rollUps(engine: Engine) async throws {
        try await F.with(engine) { f in
            let id = try await f.campaign(budget: "10.00", context: Self.acme).id
            var campaign = try await f.getCampaign(id, context: Self.acme)
            #expect(campaign.ctr == nil)
            #expect(campaign.cpa == nil)
            #expect(campaign.roas == nil)
            #expect(campaign.overBudget == false)
            // The answer's JSON carries the nulls (never NaN, never absent).
            let json = try JSONSerialization.jsonObject(with: try JSONEncoder().encode(campaign)) as! [String: Any]
            for key in ["ctr", "cpa", "roas"] { #expect(json[key] is NSNull, "\(key)") }

            campaign = try await f.metrics(id, spend: "10.00", impressions: 1000, clicks: 37, context: Self.acme)
            #expect(campaign.ctr == 37.0 / 1000.0)
            #expect(campaign.cpa == nil)
            #expect(campaign.roas == 0)
            #expect(campaign.overBudget == false)  // equal to the budget
            campaign = try await f.metrics(id, spend: "0.01", context: Self.acme)
            #expect(campaign.overBudget == true)

            for value in ["5.00", "2.50", "0.01"] {
                _ = try await f.record(C.RecordConversionRequest(
                    source: "MANUAL", externalId: "o-\(value)", campaignId: id, value: MoneyText(value), occurredAt: Instants.at(0)
                ), context: Self.acme)
            }
            campaign = try await f.getCampaign(id, context: Self.acme)
            #expect(campaign.conversions == 3)
            #expect(campaign.conversionValue == "7.51")
            #expect(campaign.cpa == "3.34")  // 10.01 / 3 = 3.3366…
            #expect(campaign.roas == 751.0 / 1001.0)

            // Half up: 0.05 / 2 = 0.025 → 0.03; 0.07 / 2 = 0.035 → 0.04; 0.04 / 3 = 0.0133… → 0.01.
            for (spend, count, cpa) in [("0.05", 2, "0.03"), ("0.07", 2, "0.04"), ("0.04", 3, "0.01"), ("0.05", 3, "0.02"), ("1.00", 8, "0.13")] {
                let other = try await f.campaign(context: Self.acme).id
                _ = try await f.metrics(other, spend: spend, context: Self.acme)
                for index in 0..<count {
                    _ = try await f.record(C.RecordConversionRequest(
                        source: "GOOGLE", externalId: "\(other)-\(index)", campaignId: other, value: MoneyText("0"), occurredAt: Instants.at(0)
                    ), context: Self.acme)
                }
                let rolled = try await f.getCampaign(other, context: Self.acme)
                #expect(rolled.cpa == cpa, "\(spend) / \(count)")
                #expect(rolled.roas == 0)
            }
            // JPY: cpa in whole yen, half up.
            let yen = try await f.campaign(budget: "100", currency: "JPY", context: Self.acme).id
            _ = try await f.metrics(yen, spend: "5", context: Self.acme)
            for index in 0..<2 {
                _ = try await f.record(C.RecordConversionRequest(
                    source: "GOOGLE", externalId: "yen-\(index)", campaignId: yen, value: MoneyText("3"), currency: "JPY", occurredAt: Instants.at(0)
                ), context: Self.acme)
            }
            let rolled = try await f.getCampaign(yen, context: Self.acme)
            #expect(rolled.cpa == "3")
            #expect(rolled.conversionValue == "6")
            #expect(rolled.roas == 6.0 / 5.0)
        }
    }

    // MARK: - Status

    /// Every move API.md allows succeeds; every other is a conflict naming
    /// both statuses and changes nothing; the same status is answered unchanged.
    @Test(arguments: Engine.allCases)
    func statusMachine(engine: Engine) async throws {
        try await F.with(engine) { f in
            for from in Self.statuses {
                for to in Self.statuses {
                    let campaign = try await Self.campaign(f, in: from)
                    #expect(campaign.status == from)
                    if from == to {
                        continue  // statusUnchanged
                    } else if Self.moves[from]!.contains(to) {
                        let moved = try await f.move(campaign.id, to: to, context: Self.acme)
                        #expect(moved.status == to, "\(from) → \(to)")
                        #expect(try await f.getCampaign(campaign.id, context: Self.acme).status == to)
                    } else {
                        let error = await F.failure { try await f.move(campaign.id, to: to, context: Self.acme) }
                        #expect(error?.code == .conflict, "\(from) → \(to): \(String(describing: error))")
                        #expect(error?.message.contains(from) == true && error?.message.contains(to) == true, "\(from) → \(to): \(String(describing: error))")
                        #expect(try await f.getCampaign(campaign.id, context: Self.acme) == campaign, "\(from) → \(to)")
                    }
                }
            }
            // Unknown statuses are invalid-argument; a campaign starts as DRAFT, SCHEDULED or ACTIVE only.
            let campaign = try await Self.campaign(f, in: "DRAFT")
            #expect(await F.code { try await f.move(campaign.id, to: "RUNNING", context: Self.acme) } == .invalidArgument)
            #expect(await F.code { try await f.move(campaign.id, to: "active", context: Self.acme) } == .invalidArgument)
            let count = try await f.count("campaign")
            for status in ["PAUSED", "COMPLETED", "ARCHIVED", "NOPE"] {
                #expect(await F.code { try await f.campaign(status: status, context: Self.acme) } == .invalidArgument, "\(status)")
            }
            #expect(try await f.count("campaign") == count)
            #expect(try await f.campaign(status: nil, context: Self.acme).status == "DRAFT")
        }
    }

    /// PATCH to the status it already has: 200, nothing changes (not even updated_at).
    @Test(arguments: Engine.allCases)
    func sameStatusChangesNothing(engine: Engine) async throws {
        try await F.with(engine) { f in
            for status in Self.statuses {
                let campaign = try await Self.campaign(f, in: status)
                let answer = try await f.move(campaign.id, to: status, context: Self.acme)
                #expect(answer.status == status)
                #expect(answer == campaign, "\(status): \(answer.updatedAt) vs \(campaign.updatedAt)")
                #expect(try await f.getCampaign(campaign.id, context: Self.acme) == campaign, "\(status)")
            }
        }
    }

    /// Metrics are added while ACTIVE, PAUSED or COMPLETED; otherwise 409 and nothing changes.
    @Test(arguments: Engine.allCases)
    func metricsOnlyWhileRunningOrAfter(engine: Engine) async throws {
        try await F.with(engine) { f in
            for status in Self.statuses {
                let campaign = try await Self.campaign(f, in: status)
                if ["ACTIVE", "PAUSED", "COMPLETED"].contains(status) {
                    let added = try await f.metrics(campaign.id, spend: "1.50", impressions: 10, clicks: 2, context: Self.acme)
                    #expect(added.spend == "1.50", "\(status)")
                    #expect(added.impressions == 10)
                    #expect(added.clicks == 2)
                    #expect(added.status == status)
                } else {
                    let error = await F.failure { try await f.metrics(campaign.id, spend: "1.50", impressions: 10, clicks: 2, context: Self.acme) }
                    #expect(error?.code == .conflict, "\(status): \(String(describing: error))")
                    #expect(error?.message.contains(status) == true, "\(status): \(String(describing: error))")
                    #expect(try await f.getCampaign(campaign.id, context: Self.acme) == campaign)
                }
            }
            #expect(await F.code { try await f.metrics("no-such-campaign", spend: "1.00", context: Self.acme) } == .notFound)
        }
    }

    // MARK: - Clips

    /// A clip_id that is not one of the campaign's clip_ids is invalid-argument;
    /// one that is enqueues exactly one `campaign.clip_metrics` with the increments.
    @Test(arguments: Engine.allCases)
    func metricsOfAClipAreAnnounced(engine: Engine) async throws {
        try await F.with(engine) { f in
            f.clips.add("clip-1", tenant: "acme")
            f.clips.add("clip-2", tenant: "acme")
            let campaign = try await f.campaign(clipIds: ["clip-1"], context: Self.acme)
            #expect(campaign.clipIds == ["clip-1"])

            let error = await F.failure { try await f.metrics(campaign.id, spend: "1.00", impressions: 5, clicks: 1, clip: "clip-2", context: Self.acme) }
            #expect(error?.code == .invalidArgument)
            #expect(error?.message.contains("clip_id") == true, "\(String(describing: error))")
            #expect(try await f.getCampaign(campaign.id, context: Self.acme) == campaign)
            #expect(try await f.count("outbox") == 0)

            _ = try await f.metrics(campaign.id, spend: "1.00", impressions: 5, clicks: 1, context: Self.acme)
            #expect(try await f.count("outbox") == 0)  // no clip named: no event

            let added = try await f.metrics(campaign.id, spend: "2.00", impressions: 1000, clicks: 40, clip: "clip-1", context: Self.acme)
            #expect(added.impressions == 1005)
            #expect(added.clicks == 41)
            let events = try await f.clipMetricsEvents()
            #expect(events.count == 1)
            #expect(events.first?.tenant == "acme")
            #expect(events.first?.event == C.ClipMetrics(campaignId: campaign.id, clipId: "clip-1", impressions: 1000, clicks: 40))
            #expect(try await f.count("outbox") == 1)
        }
    }

    /// clip_ids are confirmed through ingest as the caller: an unknown clip (or
    /// another tenant's) is invalid-argument, ingest down is unavailable; nothing is stored.
    @Test(arguments: Engine.allCases)
    func clipIdsAreConfirmedByIngest(engine: Engine) async throws {
        try await F.with(engine) { f in
            f.clips.add("clip-1", tenant: "acme")
            f.clips.add("clip-g", tenant: "globex")
            for clips in [["clip-x"], ["clip-1", "clip-x"], ["clip-g"], ["clip-1", "clip-1"]] {
                let error = await F.failure { try await f.campaign(clipIds: clips, context: Self.acme) }
                #expect(error?.code == .invalidArgument, "\(clips): \(String(describing: error))")
                #expect(error?.message.contains("clip_ids") == true, "\(clips): \(String(describing: error))")
            }
            #expect(try await f.stored() == [0, 0, 0, 0, 0, 0, 0])

            f.clips.down = true
            let down = await F.failure { try await f.campaign(clipIds: ["clip-1"], context: Self.acme) }
            #expect(down?.code == .unavailable, "\(String(describing: down))")
            #expect(try await f.stored() == [0, 0, 0, 0, 0, 0, 0])
            f.clips.down = false

            let campaign = try await f.campaign(clipIds: ["clip-1"], context: Self.acme)
            #expect(campaign.clipIds == ["clip-1"])
            // The same on update: refused, nothing changed.
            #expect(await F.code {
                try await f.campaigns.update(C.UpdateCampaignRequest(id: campaign.id, changes: C.CampaignChanges(clipIds: ["clip-1", "clip-x"])), context: Self.acme)
            } == .invalidArgument)
            f.clips.down = true
            #expect(await F.code {
                try await f.campaigns.update(C.UpdateCampaignRequest(id: campaign.id, changes: C.CampaignChanges(clipIds: ["clip-1"])), context: Self.acme)
            } == .unavailable)
            f.clips.down = false
            #expect(try await f.getCampaign(campaign.id, context: Self.acme) == campaign)
            f.clips.add("clip-2", tenant: "acme")
            let changed = try await f.campaigns.update(
                C.UpdateCampaignRequest(id: campaign.id, changes: C.CampaignChanges(clipIds: ["clip-2", "clip-1"])), context: Self.acme
            )
            #expect(changed.clipIds == ["clip-2", "clip-1"])
            // Without clips ingest is not asked.
            let calls = f.clips.calls
            f.clips.down = true
            _ = try await f.campaign(context: Self.acme)
            #expect(f.clips.calls == calls)
        }
    }

    // MARK: - Uniqueness, delete, lists

    /// meta_campaign_id is unique among a tenant's live campaigns (conflict),
    /// per tenant, and free again once its campaign is deleted.
    @Test(arguments: Engine.allCases)
    func metaCampaignIDIsUniquePerTenant(engine: Engine) async throws {
        try await F.with(engine) { f in
            let first = try await f.campaign(meta: "act_1", context: Self.acme)
            #expect(first.metaCampaignId == "act_1")
            let count = try await f.count("campaign")
            #expect(await F.code { try await f.campaign(meta: "act_1", context: Self.acme) } == .conflict)
            #expect(try await f.count("campaign") == count)
            #expect(try await f.campaign(meta: "act_1", context: Self.globex).metaCampaignId == "act_1")

            let second = try await f.campaign(meta: "act_2", context: Self.acme)
            let error = await F.failure {
                try await f.campaigns.update(C.UpdateCampaignRequest(id: second.id, changes: C.CampaignChanges(metaCampaignId: "act_1")), context: Self.acme)
            }
            #expect(error?.code == .conflict, "\(String(describing: error))")
            #expect(try await f.getCampaign(second.id, context: Self.acme) == second)

            try await f.campaigns.delete(first.id, context: Self.acme)
            let again = try await f.campaign(meta: "act_1", context: Self.acme)
            #expect(again.metaCampaignId == "act_1")
            #expect(again.id != first.id)
        }
    }

    /// A deleted campaign is 404 for every call and gone from lists.
    @Test(arguments: Engine.allCases)
    func softDelete(engine: Engine) async throws {
        try await F.with(engine) { f in
            let kept = try await f.campaign(name: "kept", context: Self.acme)
            let gone = try await f.campaign(name: "gone", context: Self.acme)
            try await f.campaigns.delete(gone.id, context: Self.acme)
            #expect(await F.code { try await f.getCampaign(gone.id, context: Self.acme) } == .notFound)
            #expect(await F.code { try await f.campaigns.delete(gone.id, context: Self.acme) } == .notFound)
            #expect(await F.code { try await f.move(gone.id, to: "PAUSED", context: Self.acme) } == .notFound)
            #expect(await F.code { try await f.metrics(gone.id, spend: "1.00", context: Self.acme) } == .notFound)
            #expect(await F.code { try await f.experiment(gone.id, context: Self.acme) } == .notFound)
            #expect(await F.code {
                try await f.conversions.campaignAttribution(C.CampaignAttributionRequest(id: gone.id), context: Self.acme)
            } == .notFound)
            let page = try await f.campaigns.list(C.ListCampaignsRequest(), context: Self.acme)
            #expect(page.campaigns.map(\.id) == [kept.id])
            #expect(try await f.campaigns.list(C.ListCampaignsRequest(status: "ACTIVE"), context: Self.acme).campaigns.map(\.id) == [kept.id])
            // A conversion may not reference it.
            #expect(await F.code {
                try await f.record(C.RecordConversionRequest(source: "MANUAL", externalId: "x", campaignId: gone.id, value: MoneyText("1"), occurredAt: Instants.at(0)), context: Self.acme)
            } == .invalidArgument)
            #expect(await F.code { try await f.campaigns.delete("no-such-campaign", context: Self.acme) } == .notFound)
        }
    }

    /// Newest first, pages that cover every campaign once, filtered by status
    /// (an unknown one matches nothing); limit 0 is empty; bad limits and cursors are invalid-argument.
    @Test(arguments: Engine.allCases)
    func listsByStatusAndPages(engine: Engine) async throws {
        try await F.with(engine) { f in
            var made: [C.Campaign] = []
            for (index, status) in ["DRAFT", "ACTIVE", "ACTIVE", "SCHEDULED", "ACTIVE", "DRAFT", "ACTIVE"].enumerated() {
                made.append(try await f.campaign(name: "c\(index)", status: status, context: Self.acme))
            }
            _ = try await f.campaign(name: "other tenant", context: Self.globex)
            let newestFirst = made.reversed().map(\.id)

            var seen: [String] = [], cursor: String?, pages = 0
            repeat {
                let page = try await f.campaigns.list(C.ListCampaignsRequest(limit: 3, cursor: cursor), context: Self.acme)
                #expect(page.count == page.campaigns.count)
                #expect(page.campaigns.count <= 3)
                seen += page.campaigns.map(\.id)
                cursor = page.nextCursor
                pages += 1
            } while cursor != nil && pages < 10
            #expect(seen == newestFirst)
            #expect(pages == 3)

            let active = try await f.campaigns.list(C.ListCampaignsRequest(status: "ACTIVE"), context: Self.acme)
            #expect(active.campaigns.map(\.id) == made.filter { $0.status == "ACTIVE" }.reversed().map(\.id))
            var activeSeen: [String] = []
            cursor = nil
            repeat {
                let page = try await f.campaigns.list(C.ListCampaignsRequest(status: "ACTIVE", limit: 1, cursor: cursor), context: Self.acme)
                activeSeen += page.campaigns.map(\.id)
                #expect(page.campaigns.allSatisfy { $0.status == "ACTIVE" })
                cursor = page.nextCursor
            } while cursor != nil && activeSeen.count < 10
            #expect(activeSeen == active.campaigns.map(\.id))
            #expect(try await f.campaigns.list(C.ListCampaignsRequest(status: "NOPE"), context: Self.acme).campaigns.isEmpty)
            #expect(try await f.campaigns.list(C.ListCampaignsRequest(status: "PAUSED"), context: Self.acme).campaigns.isEmpty)
            let empty = try await f.campaigns.list(C.ListCampaignsRequest(limit: 0), context: Self.acme)
            #expect(empty.campaigns.isEmpty)
            #expect(empty.count == 0)
            for limit in [-1, 501] {
                #expect(await F.code { try await f.campaigns.list(C.ListCampaignsRequest(limit: limit), context: Self.acme) } == .invalidArgument)
            }
            #expect(await F.code { try await f.campaigns.list(C.ListCampaignsRequest(cursor: "garbage"), context: Self.acme) } == .invalidArgument)
        }
    }

    // MARK: - Idempotency

    /// The same Idempotency-Key with the same body applies once and answers
    /// the first answer (one event); another body with that key is
    /// invalid-argument; another key applies again.
    @Test(arguments: Engine.allCases)
    func idempotentMetrics(engine: Engine) async throws {
        try await F.with(engine) { f in
            f.clips.add("clip-1", tenant: "acme")
            let id = try await f.campaign(clipIds: ["clip-1"], context: Self.acme).id
            let keyed = F.context("acme", key: "k-1")
            let first = try await f.metrics(id, spend: "1.25", impressions: 100, clicks: 7, clip: "clip-1", context: keyed)
            let second = try await f.metrics(id, spend: "1.25", impressions: 100, clicks: 7, clip: "clip-1", context: keyed)
            #expect(first == second)
            var stored = try await f.getCampaign(id, context: Self.acme)
            #expect(stored.spend == "1.25")
            #expect(stored.impressions == 100)
            #expect(try await f.clipMetricsEvents().count == 1)

            #expect(await F.code { try await f.metrics(id, spend: "9.99", impressions: 100, clicks: 7, clip: "clip-1", context: keyed) } == .invalidArgument)
            stored = try await f.getCampaign(id, context: Self.acme)
            #expect(stored.spend == "1.25")

            // Concurrent repeats of one key: still once.
            let concurrentKey = F.context("acme", key: "k-2")
            try await withThrowingTaskGroup(of: C.Campaign.self) { group in
                for _ in 0..<8 { group.addTask { try await f.metrics(id, spend: "0.10", impressions: 1, clicks: 1, context: concurrentKey) } }
                var answers: Set<C.Campaign> = []
                for try await answer in group { answers.insert(answer) }
                #expect(answers.count == 1)
            }
            stored = try await f.getCampaign(id, context: Self.acme)
            #expect(stored.spend == "1.35")
            #expect(stored.impressions == 101)

            _ = try await f.metrics(id, spend: "1.25", impressions: 100, clicks: 7, clip: "clip-1", context: F.context("acme", key: "k-3"))
            stored = try await f.getCampaign(id, context: Self.acme)
            #expect(stored.spend == "2.60")
            #expect(try await f.clipMetricsEvents().count == 2)
        }
    }
}
