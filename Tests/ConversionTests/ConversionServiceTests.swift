import BusRuntime
import BusWire
import Contracts
@testable import Conversion
import Foundation
import ServiceKit
import Storage
import TestSupport
import Testing

/// Conversions on both engines (API.md "conversion" › Conversions, Edge
/// rules): deduplication as the platforms define it (also under concurrency
/// and in a replayed, shuffled stream from concurrent clients), references
/// and refusals that store nothing, campaign roll-ups, attribution through
/// the service, and tenant isolation. One test at a time.
@Suite(.serialized) struct ConversionServiceTests {
    typealias F = ConversionFixture
    typealias C = ConversionContracts

    static let acme = F.context("acme")
    static let globex = F.context("globex")
    static let window = 48 * Instants.hour

    static func request(
        _ source: String, _ external: String, at offset: Int64 = 0, event: String? = nil, campaign: String? = nil, value: String = "1.00",
        currency: String? = nil, experiment: String? = nil, variant: String? = nil, touchpoints: [C.Touch]? = nil
    ) -> C.RecordConversionRequest {
        C.RecordConversionRequest(
            source: source, externalId: external, campaignId: campaign, experimentId: experiment, variantId: variant, value: MoneyText(value),
            currency: currency, occurredAt: Instants.at(offset), eventName: event, touchpoints: touchpoints
        )
    }

    /// The record without the per-request `created` flag.
    static func stored(_ conversion: C.Conversion) -> C.Conversion {
        var copy = conversion
        copy.created = nil
        return copy
    }

    // MARK: - Deduplication

    /// MANUAL, WEBHOOK and GOOGLE: the same (source, external_id) is one
    /// conversion forever, whatever its time, event name or value; the
    /// duplicate answers the stored record with created false, changes no
    /// roll-up and enqueues no event.
    @Test(arguments: Engine.allCases)
    func sourcesWithoutWindowDeduplicateForever(engine: Engine) async throws {
        try await F.with(engine) { f in
            let campaign = try await f.campaign(context: Self.acme).id
            var created = 0
            for source in ["MANUAL", "WEBHOOK", "GOOGLE"] {
                let first = try await f.record(Self.request(source, "order-1", at: 0, campaign: campaign, value: "10.00"), context: Self.acme)
                #expect(first.created == true)
                #expect(first.source == source)
                created += 1
                let rolled = try await f.getCampaign(campaign, context: Self.acme)
                let events = try await f.count("outbox")
                for (offset, event, value) in [(0, nil, "10.00"), (365 * Instants.day, "Purchase", "99.00"), (-365 * Instants.day, "Lead", "0"), (1, nil, "10.00")] as [(Int64, String?, String)] {
                    let again = try await f.record(Self.request(source, "order-1", at: offset, event: event, campaign: campaign, value: value), context: Self.acme)
                    #expect(again.created == false, "\(source) \(offset)")
                    #expect(Self.stored(again) == Self.stored(first), "\(source) \(offset)")
                }
                // Even naming another campaign, the duplicate is the stored record and changes nothing.
                let other = try await f.campaign(context: Self.acme).id
                #expect(try await f.record(Self.request(source, "order-1", campaign: other), context: Self.acme).id == first.id)
                #expect(try await f.getCampaign(other, context: Self.acme).conversions == 0)
                #expect(try await f.getCampaign(campaign, context: Self.acme) == rolled)
                #expect(try await f.count("outbox") == events)
                #expect(try await f.conversions.get(first.id, context: Self.acme) == Self.stored(first))
                // Another external id is another conversion.
                #expect(try await f.record(Self.request(source, "order-2", campaign: campaign, value: "10.00"), context: Self.acme).created == true)
                created += 1
            }
            #expect(try await f.count("conversion") == Int64(created))
            #expect(try await f.recordedEvents().count == created)
            let campaignNow = try await f.getCampaign(campaign, context: Self.acme)
            #expect(campaignNow.conversions == Int64(created))
            #expect(campaignNow.conversionValue == "60.00")
        }
    }

    /// META and TIKTOK: the same (source, event_name, external_id) within 48 h
    /// of occurred_at is a duplicate, both ways; exactly 48 h is a duplicate,
    /// 48 h + 1 ms a new record; another event name is new.
    @Test(arguments: Engine.allCases)
    func windowSourcesDeduplicateWithin48Hours(engine: Engine) async throws {
        try await F.with(engine) { f in
            let campaign = try await f.campaign(context: Self.acme).id
            var created: [String] = []
            for source in ["META", "TIKTOK"] {
                let t: Int64 = 100 * Instants.day
                let first = try await f.record(Self.request(source, "fb-1", at: t, event: "Purchase", campaign: campaign, value: "10.00"), context: Self.acme)
                #expect(first.created == true)
                #expect(first.eventName == "Purchase")
                created.append(first.id)
                let rolled = try await f.getCampaign(campaign, context: Self.acme)
                let events = try await f.count("outbox")
                for (offset, value) in [(0, "10.00"), (Self.window, "10.00"), (-Self.window, "10.00"), (1, "99.00"), (-Self.window + 1, "0"), (Self.window - 1, "10.00")] as [(Int64, String)] {
                    let again = try await f.record(Self.request(source, "fb-1", at: t + offset, event: "Purchase", campaign: campaign, value: value), context: Self.acme)
                    #expect(again.created == false, "\(source) \(offset)")
                    #expect(Self.stored(again) == Self.stored(first), "\(source) \(offset)")
                }
                #expect(try await f.getCampaign(campaign, context: Self.acme) == rolled)
                #expect(try await f.count("outbox") == events)

                for offset in [Self.window + 1, -Self.window - 1] {
                    let later = try await f.record(Self.request(source, "fb-1", at: t + offset, event: "Purchase", campaign: campaign, value: "10.00"), context: Self.acme)
                    #expect(later.created == true, "\(source) \(offset)")
                    #expect(later.id != first.id)
                    created.append(later.id)
                }
                let lead = try await f.record(Self.request(source, "fb-1", at: t, event: "Lead", campaign: campaign, value: "10.00"), context: Self.acme)
                #expect(lead.created == true)
                created.append(lead.id)
                #expect(try await f.record(Self.request(source, "fb-1", at: t + Instants.hour, event: "Lead", campaign: campaign), context: Self.acme).id == lead.id)
                // No event name is its own key.
                let unnamed = try await f.record(Self.request(source, "fb-1", at: t, campaign: campaign, value: "10.00"), context: Self.acme)
                #expect(unnamed.created == true)
                created.append(unnamed.id)
                #expect(try await f.record(Self.request(source, "fb-1", at: t - Self.window, campaign: campaign), context: Self.acme).id == unnamed.id)
            }
            // Another source with the same ids is another conversion.
            let google = try await f.record(Self.request("GOOGLE", "fb-1", at: 100 * Instants.day, event: "Purchase", campaign: campaign, value: "10.00"), context: Self.acme)
            #expect(google.created == true)
            created.append(google.id)

            #expect(try await f.count("conversion") == Int64(created.count))
            #expect(Set(try await f.recordedEvents().map(\.event.id)) == Set(created))
            let rolled = try await f.getCampaign(campaign, context: Self.acme)
            #expect(rolled.conversions == Int64(created.count))
            #expect(rolled.conversionValue == Money(minorUnits: Int64(created.count) * 1000).decimalText)
        }
    }

    /// 16 concurrent recordings of one conversion store exactly one record,
    /// one roll-up and one event; every answer is that record.
    @Test(arguments: Engine.allCases)
    func concurrentDuplicatesRecordOnce(engine: Engine) async throws {
        try await F.with(engine) { f in
            let campaign = try await f.campaign(context: Self.acme).id
            for (round, source) in ["GOOGLE", "META", "TIKTOK", "MANUAL", "WEBHOOK"].enumerated() {
                let answers = try await withThrowingTaskGroup(of: C.Conversion.self) { group in
                    for task in 0..<16 {
                        // Window sources vary their times within the window.
                        let offset = Int64(round) * 10 * Instants.day + Int64(task) * Instants.hour
                        group.addTask {
                            try await f.record(Self.request(source, "same-\(source)", at: offset, event: "Purchase", campaign: campaign, value: "2.50"), context: Self.acme)
                        }
                    }
                    var all: [C.Conversion] = []
                    for try await answer in group { all.append(answer) }
                    return all
                }
                #expect(answers.filter { $0.created == true }.count == 1, "\(source)")
                #expect(Set(answers.map(\.id)).count == 1, "\(source)")
                #expect(Set(answers.map(Self.stored)).count == 1, "\(source)")
                #expect(try await f.count("conversion") == Int64(round + 1), "\(source)")
                #expect(try await f.recordedEvents().count == round + 1, "\(source)")
                let rolled = try await f.getCampaign(campaign, context: Self.acme)
                #expect(rolled.conversions == Int64(round + 1), "\(source)")
                #expect(rolled.conversionValue == Money(minorUnits: Int64(round + 1) * 250).decimalText, "\(source)")
            }
        }
    }

    // MARK: - References and refusals

    /// Unknown or mismatched references, touchpoints after occurred_at,
    /// instants without a zone and bad values are invalid-argument naming the
    /// field, and store nothing (no conversion, key, credit, roll-up or event).
    @Test(arguments: Engine.allCases)
    func refusalsStoreNothing(engine: Engine) async throws {
        try await F.with(engine) { f in
            let usd = try await f.campaign(name: "usd", context: Self.acme).id
            let eur = try await f.campaign(name: "eur", currency: "EUR", context: Self.acme).id
            let other = try await f.campaign(name: "other", context: Self.acme).id
            let foreign = try await f.campaign(name: "globex's", context: Self.globex).id
            let deleted = try await f.campaign(name: "deleted", context: Self.acme).id
            try await f.campaigns.delete(deleted, context: Self.acme)
            let experiment = try await f.moveExperiment(try await f.experiment(usd, context: Self.acme).id, to: "RUNNING", context: Self.acme)
            let otherExperiment = try await f.moveExperiment(try await f.experiment(other, context: Self.acme).id, to: "RUNNING", context: Self.acme)
            let foreignExperiment = try await f.experiment(foreign, context: Self.globex).id
            let before = try await f.stored()
            let campaigns = try await [usd, eur, other].asyncMap { try await f.getCampaign($0, context: Self.acme) }
            let experiments = try await [experiment.id, otherExperiment.id].asyncMap { try await f.experiments.get($0, context: Self.acme) }

            func touch(_ campaign: String, _ offset: Int64) -> C.Touch { C.Touch(campaignId: campaign, at: Instants.at(offset)) }
            var zoneless = Self.request("GOOGLE", "x", campaign: usd)
            zoneless.occurredAt = "2026-01-01T00:00:00"
            var zonelessMillis = zoneless
            zonelessMillis.occurredAt = "2026-01-01T00:00:00.000"
            var notAnInstant = zoneless
            notAnInstant.occurredAt = "yesterday"
            var zonelessTouch = Self.request("GOOGLE", "x", campaign: usd)
            zonelessTouch.touchpoints = [C.Touch(campaignId: usd, at: "2025-12-31T00:00:00")]

            let refused: [(String, C.RecordConversionRequest, String)] = [
                ("unknown campaign", Self.request("GOOGLE", "x", campaign: "no-such-campaign"), "campaign_id"),
                ("deleted campaign", Self.request("GOOGLE", "x", campaign: deleted), "campaign_id"),
                ("another tenant's campaign", Self.request("GOOGLE", "x", campaign: foreign), "campaign_id"),
                ("unknown touchpoint campaign", Self.request("GOOGLE", "x", campaign: usd, touchpoints: [touch(usd, -2), touch("no-such-campaign", -1)]), "touchpoints"),
                ("touchpoint of another tenant", Self.request("GOOGLE", "x", touchpoints: [touch(foreign, -1)]), "touchpoints"),
                ("unknown experiment", Self.request("GOOGLE", "x", campaign: usd, experiment: "no-such-experiment"), "experiment_id"),
                ("another tenant's experiment", Self.request("GOOGLE", "x", experiment: foreignExperiment), "experiment_id"),
                ("unknown variant", Self.request("GOOGLE", "x", campaign: usd, experiment: experiment.id, variant: "nope"), "variant_id"),
                ("variant without experiment", Self.request("GOOGLE", "x", campaign: usd, variant: "control"), "variant_id"),
                ("experiment of another campaign", Self.request("GOOGLE", "x", campaign: usd, experiment: otherExperiment.id, variant: "control"), "experiment_id"),
                ("currency mismatch", Self.request("GOOGLE", "x", campaign: eur, value: "5.00"), "campaign_id"),
                ("currency mismatch, told", Self.request("GOOGLE", "x", campaign: usd, value: "5.00", currency: "EUR"), "campaign_id"),
                ("touchpoint in another currency", Self.request("GOOGLE", "x", campaign: usd, touchpoints: [touch(eur, -1)]), "touchpoints"),
                ("touchpoint later", Self.request("GOOGLE", "x", campaign: usd, touchpoints: [touch(usd, 1)]), "touchpoints"),
                ("occurred_at without a zone", zoneless, "occurred_at"),
                ("occurred_at without a zone, millis", zonelessMillis, "occurred_at"),
                ("occurred_at not an instant", notAnInstant, "occurred_at"),
                ("touchpoint without a zone", zonelessTouch, "touchpoints"),
                ("unknown source", Self.request("FACEBOOK", "x", campaign: usd), "source"),
                ("lower-case source", Self.request("meta", "x", campaign: usd), "source"),
                ("empty external id", Self.request("GOOGLE", "", campaign: usd), "external_id"),
                ("negative value", Self.request("GOOGLE", "x", campaign: usd, value: "-1.00"), "value"),
                ("over-precise value", Self.request("GOOGLE", "x", campaign: usd, value: "1.235"), "value"),
                ("yen with a fraction", Self.request("GOOGLE", "x", value: "1.5", currency: "JPY"), "value"),
                ("unknown currency", Self.request("GOOGLE", "x", campaign: usd, currency: "XXX"), "currency"),
            ]
            for (what, request, field) in refused {
                let error = await F.failure { try await f.record(request, context: Self.acme) }
                #expect(error?.code == .invalidArgument, "\(what): \(String(describing: error))")
                #expect(error?.message.contains(field) == true, "\(what): \(String(describing: error))")
            }
            #expect(try await f.stored() == before)
            #expect(try await [usd, eur, other].asyncMap { try await f.getCampaign($0, context: Self.acme) } == campaigns)
            #expect(try await [experiment.id, otherExperiment.id].asyncMap { try await f.experiments.get($0, context: Self.acme) } == experiments)

            // What is allowed: a touchpoint exactly at occurred_at, any zone, sub-milliseconds truncated, the campaign's own currency.
            var zoned = Self.request("GOOGLE", "ok-1", campaign: usd, touchpoints: [touch(usd, 0)])
            zoned.occurredAt = "2026-01-01T02:00:00.123456+02:00"
            let recorded = try await f.record(zoned, context: Self.acme)
            #expect(recorded.occurredAt == "2026-01-01T00:00:00.123Z")
            #expect(recorded.touchpoints == [C.Touch(campaignId: usd, at: "2026-01-01T00:00:00.000Z")])
            let euros = try await f.record(Self.request("GOOGLE", "ok-2", campaign: eur, value: "5", currency: "EUR"), context: Self.acme)
            #expect(euros.value == "5.00")
            #expect(euros.currency == "EUR")
            #expect(try await f.getCampaign(eur, context: Self.acme).conversionValue == "5.00")
            let free = try await f.record(Self.request("MANUAL", "ok-3", value: "7", currency: "JPY"), context: Self.acme)
            #expect(free.value == "7")
            #expect(free.campaignId == nil)
        }
    }

    /// An experiment's revenue is money in its campaign's currency: a
    /// conversion in another currency may not add to its variant, even
    /// without campaign_id (invalid-argument, nothing stored).
    @Test(arguments: Engine.allCases)
    func experimentRevenueKeepsItsCurrency(engine: Engine) async throws {
        try await F.with(engine) { f in
            let eur = try await f.campaign(currency: "EUR", context: Self.acme).id
            let experiment = try await f.moveExperiment(try await f.experiment(eur, metric: "revenue", context: Self.acme).id, to: "RUNNING", context: Self.acme)
            let before = try await f.stored()
            let error = await F.failure {
                try await f.record(Self.request("GOOGLE", "usd-into-eur", value: "5.00", experiment: experiment.id, variant: "control"), context: Self.acme)
            }
            #expect(error?.code == .invalidArgument, "\(String(describing: error))")
            #expect(try await f.stored() == before)
            #expect(try await f.experiments.get(experiment.id, context: Self.acme) == experiment)
        }
    }

    // MARK: - Roll-ups and reads

    /// The campaign's conversions and conversion_value follow every new
    /// record exactly (0.10 thirty times is 3.00; a JSON number is read from
    /// its text); each new record announces `conversion.recorded`.
    @Test(arguments: Engine.allCases)
    func rollUpsFollowConversions(engine: Engine) async throws {
        try await F.with(engine) { f in
            let campaign = try await f.campaign(context: Self.acme).id
            for index in 0..<30 {
                _ = try await f.record(Self.request("MANUAL", "dime-\(index)", campaign: campaign, value: "0.10"), context: Self.acme)
            }
            var rolled = try await f.getCampaign(campaign, context: Self.acme)
            #expect(rolled.conversions == 30)
            #expect(rolled.conversionValue == "3.00")

            let body = Data(#"{"source": "WEBHOOK", "external_id": "json-1", "campaign_id": "\#(campaign)", "value": 0.10, "occurred_at": "2026-01-01T00:00:00Z"}"#.utf8)
            let request = try JSONDecoder().decode(C.RecordConversionRequest.self, from: body)
            #expect(request.value.text == "0.1")
            let recorded = try await f.conversions.record(request, context: Self.acme)
            #expect(recorded.value == "0.10")
            rolled = try await f.getCampaign(campaign, context: Self.acme)
            #expect(rolled.conversions == 31)
            #expect(rolled.conversionValue == "3.10")

            let events = try await f.recordedEvents()
            #expect(events.count == 31)
            #expect(events.last?.tenant == "acme")
            #expect(events.last?.event == C.ConversionEvent(id: recorded.id, source: "WEBHOOK", campaignId: campaign, value: "0.10", currency: "USD"))
        }
    }

    /// Lists: newest first, by campaign, by source (unknown: empty), since an instant, in pages.
    @Test(arguments: Engine.allCases)
    func listsConversions(engine: Engine) async throws {
        try await F.with(engine) { f in
            let a = try await f.campaign(context: Self.acme).id
            let b = try await f.campaign(context: Self.acme).id
            var made: [C.Conversion] = []
            for index in 0..<7 {
                made.append(try await f.record(Self.request(index % 2 == 0 ? "GOOGLE" : "META", "l-\(index)", at: Int64(index) * Instants.day, event: "Purchase",
                                                            campaign: index < 4 ? a : b), context: Self.acme))
            }
            let all = try await f.conversions.list(C.ListConversionsRequest(), context: Self.acme)
            #expect(all.conversions.map(\.id) == made.reversed().map(\.id))
            #expect(try await f.conversions.list(C.ListConversionsRequest(campaignId: a), context: Self.acme).conversions.map(\.id) == made.prefix(4).reversed().map(\.id))
            #expect(try await f.conversions.list(C.ListConversionsRequest(source: "META"), context: Self.acme).conversions.map(\.id) == made.filter { $0.source == "META" }.reversed().map(\.id))
            #expect(try await f.conversions.list(C.ListConversionsRequest(source: "NOPE"), context: Self.acme).conversions.isEmpty)
            #expect(try await f.conversions.list(C.ListConversionsRequest(campaignId: "nope"), context: Self.acme).conversions.isEmpty)
            #expect(try await f.conversions.list(C.ListConversionsRequest(since: Instants.at(5 * Instants.day)), context: Self.acme).conversions.map(\.id)
                == made.suffix(2).reversed().map(\.id))
            #expect(await F.code { try await f.conversions.list(C.ListConversionsRequest(since: "2026-01-01T00:00:00"), context: Self.acme) } == .invalidArgument)
            var seen: [String] = [], cursor: String?
            repeat {
                let page = try await f.conversions.list(C.ListConversionsRequest(limit: 2, cursor: cursor), context: Self.acme)
                seen += page.conversions.map(\.id)
                cursor = page.nextCursor
            } while cursor != nil && seen.count < 20
            #expect(seen == all.conversions.map(\.id))
            #expect(await F.code { try await f.conversions.get("no-such-conversion", context: Self.acme) } == .notFound)
        }
    }

    // MARK: - Replay

    /// One conversion request of the replayed stream, and the unique record it belongs to.
    struct Sent: Sendable {
        var request: C.RecordConversionRequest
        var unique: Int
    }

    /// What a unique record is known by once stored: source, dedup event,
    /// external id, its 10-day slot for window sources, campaign and value.
    static func identity(source: String, event: String?, external: String, occurredAt: Int64, campaign: String?, value: Int64) -> String {
        let windowed = source == "META" || source == "TIKTOK"
        let slot = windowed ? String((occurredAt - Instants.base) / (10 * Instants.day)) : "-"
        return [source, windowed ? (event ?? "") : "", external, slot, campaign ?? "-", String(value)].joined(separator: "|")
    }

    /// 10,000 requests (8,000 unique, 2,000 duplicates: re-sends at other
    /// times, inside the 48 h window for META/TIKTOK, any time and any event
    /// name for the others; META/TIKTOK ids also recur 10 days apart as new
    /// conversions), replayed 3 times, shuffled, from 4 concurrent clients:
    /// the stored set is exactly the unique set, each recorded once, and
    /// every campaign's roll-up is the sum over its unique conversions.
    @Test(arguments: Engine.allCases)
    func replayedStreamRecordsTheUniqueSet(engine: Engine) async throws {
        let uniqueCount = 8_000, duplicateCount = 2_000, replays = 3, clients = 4
        try await F.with(engine) { f in
            var campaigns: [String] = []
            for index in 0..<5 { campaigns.append(try await f.campaign(name: "replay \(index)", context: Self.acme).id) }
            var random = SeededGenerator(seed: 20_260_101)
            let sources = ["META", "TIKTOK", "GOOGLE", "MANUAL", "WEBHOOK"]
            let slot = 10 * Instants.day

            // The unique conversions.
            var uniques: [(request: C.RecordConversionRequest, identity: String, minor: Int64, slotStart: Int64)] = []
            for index in 0..<uniqueCount {
                let source = sources[Int.random(in: 0..<sources.count, using: &random)]
                let windowed = source == "META" || source == "TIKTOK"
                // Window sources: ids shared by three conversions in slots 10 days apart (new each time).
                let external = windowed ? "w-\(index / 3)" : "s-\(index)"
                let slotIndex = windowed ? Int64(index % 3) + 3 * Int64(Int.random(in: 0..<4, using: &random)) : Int64(Int.random(in: 0..<12, using: &random))
                let slotStart = slotIndex * slot
                let occurred = slotStart + Int64.random(in: 0...Self.window, using: &random)
                let event = windowed ? ["Purchase", "Lead"][index % 3 == 0 ? 0 : Int.random(in: 0..<2, using: &random)] : nil
                let minor = Int64.random(in: 0...100_000, using: &random)
                let campaign = Int.random(in: 0..<10, using: &random) == 0 ? nil : campaigns[Int.random(in: 0..<campaigns.count, using: &random)]
                var touchpoints: [C.Touch]?
                if Int.random(in: 0..<4, using: &random) == 0 {
                    touchpoints = (0..<Int.random(in: 1...3, using: &random)).map { _ in
                        C.Touch(campaignId: campaigns[Int.random(in: 0..<campaigns.count, using: &random)], at: Instants.at(-Int64.random(in: 1...(30 * Instants.day), using: &random)))
                    }
                }
                let request = C.RecordConversionRequest(
                    source: source, externalId: external, campaignId: campaign, value: MoneyText(Money(minorUnits: minor).decimalText),
                    occurredAt: Instants.at(occurred), eventName: event, clickId: "click-\(index)", touchpoints: touchpoints
                )
                // Window sources: slots of one id must differ (index % 3 differs within a trio, so they do).
                uniques.append((request, Self.identity(source: source, event: event, external: external, occurredAt: Instants.base + occurred, campaign: campaign, value: minor), minor, slotStart))
            }
            #expect(Set(uniques.map(\.identity)).count == uniqueCount)

            // The stream: every unique once, plus duplicates sent differently.
            var stream = uniques.enumerated().map { Sent(request: $0.element.request, unique: $0.offset) }
            for _ in 0..<duplicateCount {
                let unique = Int.random(in: 0..<uniqueCount, using: &random)
                var request = uniques[unique].request
                if request.source == "META" || request.source == "TIKTOK" {
                    // Anywhere in its 48 h slot: within 48 h of every other send of it (the edges included).
                    let edge = Int.random(in: 0..<4, using: &random)
                    let inSlot = edge == 0 ? 0 : edge == 1 ? Self.window : Int64.random(in: 0...Self.window, using: &random)
                    request.occurredAt = Instants.at(uniques[unique].slotStart + inSlot)
                } else {
                    request.occurredAt = Instants.at(Int64.random(in: 0...(120 * Instants.day), using: &random))
                    request.eventName = ["Purchase", "Lead", nil][Int.random(in: 0..<3, using: &random)]
                }
                request.clickId = "again-\(Int.random(in: 0..<1_000_000, using: &random))"
                stream.append(Sent(request: request, unique: unique))
            }
            var replayed: [Sent] = []
            for _ in 0..<replays { replayed += stream }
            replayed.shuffle(using: &random)
            let sliceSize = (replayed.count + clients - 1) / clients
            let slices = stride(from: 0, to: replayed.count, by: sliceSize).map { Array(replayed[$0..<min($0 + sliceSize, replayed.count)]) }

            let clock = ContinuousClock()
            let started = clock.now
            let answers = try await withThrowingTaskGroup(of: [(Int, C.Conversion)].self) { group in
                for slice in slices {
                    group.addTask {
                        var answers: [(Int, C.Conversion)] = []
                        answers.reserveCapacity(slice.count)
                        for sent in slice { answers.append((sent.unique, try await f.record(sent.request, context: Self.acme))) }
                        return answers
                    }
                }
                var all: [(Int, C.Conversion)] = []
                for try await answers in group { all += answers }
                return all
            }
            let elapsed = clock.now - started
            print("replay on \(engine): \(replayed.count) requests (\(uniqueCount) unique) from \(clients) clients in \(elapsed)")

            // Every request answered; each unique recorded by exactly one request; all its sends answer that record.
            #expect(answers.count == replayed.count)
            #expect(answers.filter { $0.1.created == true }.count == uniqueCount)
            var idOf: [Int: String] = [:]
            var mismatched = 0
            for (unique, answer) in answers {
                if let id = idOf[unique] { if id != answer.id { mismatched += 1 } } else { idOf[unique] = answer.id }
            }
            #expect(mismatched == 0)
            #expect(Set(idOf.values).count == uniqueCount)

            // The stored set is exactly the unique set.
            let rows = try await f.owner.read { session in
                try session.query("SELECT source, event_name, external_id, occurred_at, campaign_id, value FROM conversion WHERE tenant_id = 'acme'").map { row in
                    let occurred: Timestamp = try row["occurred_at"]
                    return Self.identity(
                        source: try row["source"], event: try row["event_name"], external: try row["external_id"], occurredAt: occurred.millisecondsSince1970,
                        campaign: try row["campaign_id"], value: try row["value"]
                    )
                }
            }
            #expect(rows.count == uniqueCount)
            #expect(rows.sorted() == uniques.map(\.identity).sorted())
            #expect(try await f.recordedEvents().count == uniqueCount)
            let credits = uniques.reduce(0) { total, unique in
                total + (unique.request.touchpoints.map { Set($0.map(\.campaignId)).count } ?? (unique.request.campaignId == nil ? 0 : 1))
            }
            #expect(try await f.count("conversion_credit", tenant: "acme") == Int64(credits))

            // Roll-ups: the sums over the unique set.
            for campaign in campaigns {
                let mine = uniques.filter { $0.request.campaignId == campaign }
                let rolled = try await f.getCampaign(campaign, context: Self.acme)
                #expect(rolled.conversions == Int64(mine.count))
                #expect(rolled.conversionValue == Money(minorUnits: mine.reduce(0) { $0 + $1.minor }).decimalText)
            }
        }
    }

    // MARK: - Attribution

    /// For every model, a conversion's credits are `Attribution.credits` of
    /// its stored touchpoints and sum exactly to its value; a campaign's
    /// attribution is the sum of its credits over all conversions, counting
    /// only those with a non-zero credit.
    @Test(arguments: Engine.allCases)
    func attributionThroughTheService(engine: Engine) async throws {
        try await F.with(engine) { f in
            let a = try await f.campaign(name: "a", context: Self.acme).id
            let b = try await f.campaign(name: "b", context: Self.acme).id
            let c = try await f.campaign(name: "c", context: Self.acme).id
            let unused = try await f.campaign(name: "unused", context: Self.acme).id
            let day = Instants.day
            let t: Int64 = 60 * day
            func touch(_ campaign: String, _ offset: Int64) -> C.Touch { C.Touch(campaignId: campaign, at: Instants.at(t + offset)) }
            let requests: [C.RecordConversionRequest] = [
                Self.request("META", "1", at: t, event: "Purchase", campaign: a, value: "100.00", touchpoints: [touch(a, -10 * day), touch(b, -5 * day), touch(c, -day)]),
                Self.request("GOOGLE", "2", at: t, value: "0.07", touchpoints: [touch(a, -3 * day), touch(a, -2 * day), touch(b, -2 * day), touch(c, -Instants.hour)]),
                Self.request("MANUAL", "3", at: t, campaign: b, value: "12.34"),
                Self.request("MANUAL", "4", at: t, value: "5.00"),
                Self.request("WEBHOOK", "5", at: t, value: "0.01", touchpoints: [touch(b, 0)]),
                Self.request("TIKTOK", "6", at: t, event: "Purchase", campaign: c, value: "33.33", touchpoints: [touch(c, -20 * day), touch(a, -day)]),
                Self.request("GOOGLE", "7", at: t, campaign: a, value: "0", touchpoints: [touch(a, -day)]),
                Self.request("GOOGLE", "8", at: t, value: "1000.01", touchpoints: [
                    touch(c, -day), touch(a, -30 * day), touch(b, -7 * day), touch(a, -day), touch(c, -14 * day), touch(b, -2 * Instants.hour),
                ]),
                Self.request("GOOGLE", "9", at: t, campaign: c, value: "9.99", touchpoints: [touch(a, -3 * day), touch(b, -3 * day)]),
                Self.request("GOOGLE", "10", at: t, value: "0.03", touchpoints: [touch(a, -day), touch(b, -day), touch(c, -day), touch(a, -day)]),
            ]
            var conversions: [C.Conversion] = []
            for request in requests { conversions.append(try await f.record(request, context: Self.acme)) }

            for model in [nil] + AttributionModel.allCases.map(\.rawValue) {
                let resolved = AttributionModel(rawValue: model ?? "last")!
                var expected: [String: (minor: Int64, count: Int64)] = [:]
                for conversion in conversions {
                    let answer = try await f.conversions.attribution(C.ConversionAttributionRequest(id: conversion.id, model: model), context: Self.acme)
                    #expect(answer.model == resolved.rawValue)
                    #expect(answer.conversionId == conversion.id)
                    #expect(answer.currency == "USD")
                    let value = try Money(parsing: conversion.value).minorUnits
                    let credits = Attribution.credits(
                        value: value,
                        touchpoints: conversion.touchpoints.map { Touchpoint(campaignID: $0.campaignId, at: Timestamp(iso8601: $0.at)!.millisecondsSince1970) },
                        occurredAt: Timestamp(iso8601: conversion.occurredAt)!.millisecondsSince1970, model: resolved, campaignID: conversion.campaignId
                    )
                    #expect(answer.credits == credits.map { C.Credit(campaignId: $0.campaignID, value: Money(minorUnits: $0.minorUnits).decimalText) },
                            "\(resolved) \(conversion.externalId)")
                    // Exactly the value, unless there is no one to credit (neither touchpoints nor campaign).
                    let creditable = !conversion.touchpoints.isEmpty || conversion.campaignId != nil
                    #expect(try answer.credits.reduce(0) { $0 + (try Money(parsing: $1.value).minorUnits) } == (creditable ? value : 0), "\(resolved) \(conversion.externalId)")
                    #expect(answer.credits.allSatisfy { $0.value != "0.00" })
                    for credit in credits where credit.minorUnits > 0 {
                        expected[credit.campaignID, default: (0, 0)].minor += credit.minorUnits
                        expected[credit.campaignID, default: (0, 0)].count += 1
                    }
                }
                for campaign in [a, b, c, unused] {
                    let answer = try await f.conversions.campaignAttribution(C.CampaignAttributionRequest(id: campaign, model: model), context: Self.acme)
                    #expect(answer.model == resolved.rawValue)
                    #expect(answer.campaignId == campaign)
                    #expect(answer.currency == "USD")
                    #expect(answer.creditedValue == Money(minorUnits: expected[campaign]?.minor ?? 0).decimalText, "\(resolved) \(campaign)")
                    #expect(answer.conversions == expected[campaign]?.count ?? 0, "\(resolved) \(campaign)")
                }
            }
            // A conversion with neither touchpoints nor campaign: no credits.
            #expect(try await f.conversions.attribution(C.ConversionAttributionRequest(id: conversions[3].id), context: Self.acme).credits.isEmpty)
            #expect(try await f.conversions.attribution(C.ConversionAttributionRequest(id: conversions[2].id), context: Self.acme).credits
                == [C.Credit(campaignId: b, value: "12.34")])
            #expect(await F.code { try await f.conversions.attribution(C.ConversionAttributionRequest(id: conversions[0].id, model: "shapley"), context: Self.acme) } == .invalidArgument)
            #expect(await F.code { try await f.conversions.campaignAttribution(C.CampaignAttributionRequest(id: a, model: "LAST"), context: Self.acme) } == .invalidArgument)
            #expect(await F.code { try await f.conversions.attribution(C.ConversionAttributionRequest(id: "no-such-conversion"), context: Self.acme) } == .notFound)
            #expect(await F.code { try await f.conversions.campaignAttribution(C.CampaignAttributionRequest(id: "no-such-campaign"), context: Self.acme) } == .notFound)
        }
    }

    // MARK: - Tenants

    /// Another tenant's campaign, experiment and conversion are not found for
    /// every call (and unchanged); lists are per tenant; references across
    /// tenants are unknown; the same external id in two tenants records twice.
    @Test(arguments: Engine.allCases)
    func tenantsAreIsolated(engine: Engine) async throws {
        try await F.with(engine) { f in
            f.clips.add("clip-1", tenant: "acme")
            let campaign = try await f.campaign(clipIds: ["clip-1"], meta: "act_1", context: Self.acme)
            let experiment = try await f.moveExperiment(try await f.experiment(campaign.id, context: Self.acme).id, to: "RUNNING", context: Self.acme)
            let conversion = try await f.record(Self.request("GOOGLE", "order-1", campaign: campaign.id, value: "4.00"), context: Self.acme)
            let stored = try await f.stored()
            let acmeCampaign = try await f.getCampaign(campaign.id, context: Self.acme)
            let g = Self.globex

            #expect(await F.code { try await f.getCampaign(campaign.id, context: g) } == .notFound)
            #expect(await F.code { try await f.move(campaign.id, to: "PAUSED", context: g) } == .notFound)
            #expect(await F.code { try await f.campaigns.update(C.UpdateCampaignRequest(id: campaign.id, changes: C.CampaignChanges(name: "mine")), context: g) } == .notFound)
            #expect(await F.code { try await f.metrics(campaign.id, spend: "1.00", context: g) } == .notFound)
            #expect(await F.code { try await f.campaigns.delete(campaign.id, context: g) } == .notFound)
            #expect(await F.code { try await f.conversions.campaignAttribution(C.CampaignAttributionRequest(id: campaign.id), context: g) } == .notFound)
            #expect(await F.code { try await f.experiment(campaign.id, context: g) } == .notFound)
            #expect(await F.code { try await f.experiments.get(experiment.id, context: g) } == .notFound)
            #expect(await F.code { try await f.moveExperiment(experiment.id, to: "PAUSED", context: g) } == .notFound)
            #expect(await F.code { try await f.observe(experiment.id, "control", users: 1, conversions: 1, context: g) } == .notFound)
            #expect(await F.code { try await f.experiments.results(experiment.id, context: g) } == .notFound)
            #expect(await F.code { try await f.conversions.get(conversion.id, context: g) } == .notFound)
            #expect(await F.code { try await f.conversions.attribution(C.ConversionAttributionRequest(id: conversion.id), context: g) } == .notFound)
            #expect(await F.code { try await f.record(Self.request("GOOGLE", "x", campaign: campaign.id), context: g) } == .invalidArgument)
            #expect(await F.code { try await f.record(Self.request("GOOGLE", "x", experiment: experiment.id, variant: "control"), context: g) } == .invalidArgument)
            #expect(try await f.stored() == stored)
            #expect(try await f.getCampaign(campaign.id, context: Self.acme) == acmeCampaign)
            #expect(try await f.experiments.get(experiment.id, context: Self.acme) == experiment)

            #expect(try await f.campaigns.list(C.ListCampaignsRequest(), context: g).campaigns.isEmpty)
            #expect(try await f.conversions.list(C.ListConversionsRequest(), context: g).conversions.isEmpty)
            #expect(try await f.conversions.list(C.ListConversionsRequest(campaignId: campaign.id), context: g).conversions.isEmpty)

            // The same ids in globex: its own records.
            let theirs = try await f.campaign(meta: "act_1", context: g)
            let again = try await f.record(Self.request("GOOGLE", "order-1", campaign: theirs.id, value: "4.00"), context: g)
            #expect(again.created == true)
            #expect(again.id != conversion.id)
            let metaFirst = try await f.record(Self.request("META", "fb-1", event: "Purchase", value: "1.00"), context: Self.acme)
            let metaSecond = try await f.record(Self.request("META", "fb-1", event: "Purchase", value: "1.00"), context: g)
            #expect(metaFirst.created == true)
            #expect(metaSecond.created == true)
            #expect(try await f.conversions.list(C.ListConversionsRequest(), context: g).conversions.map(\.id) == [metaSecond.id, again.id])
            #expect(try await f.conversions.list(C.ListConversionsRequest(), context: Self.acme).conversions.map(\.id) == [metaFirst.id, conversion.id])
            #expect(try await f.campaigns.list(C.ListCampaignsRequest(), context: g).campaigns.map(\.id) == [theirs.id])
            #expect(try await f.campaigns.list(C.ListCampaignsRequest(), context: Self.acme).campaigns.map(\.id) == [campaign.id])
            #expect(try await f.getCampaign(theirs.id, context: g).conversions == 1)
            #expect(try await f.count("conversion", tenant: "acme") == 2)
            #expect(try await f.count("conversion", tenant: "globex") == 2)
        }
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
