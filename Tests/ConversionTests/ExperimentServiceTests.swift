import BusRuntime
import BusWire
import Contracts
@testable import Conversion
import Foundation
import ServiceKit
import Storage
import TestSupport
import Testing

/// Experiments on both engines (API.md "conversion" › Experiments, Edge
/// rules): variants and their weights, the status machine, observations,
/// results equal to ``ExperimentStatistics/analyze(metric:variants:)`` over
/// the stored totals, the winner stored on completion, and conversions
/// counted into a running experiment. One test at a time.
@Suite(.serialized) struct ExperimentServiceTests {
    typealias F = ConversionFixture
    typealias C = ConversionContracts

    static let acme = F.context("acme")

    static let moves: [String: Set<String>] = [
        "DRAFT": ["RUNNING", "CANCELLED"],
        "RUNNING": ["PAUSED", "COMPLETED", "CANCELLED"],
        "PAUSED": ["RUNNING", "COMPLETED", "CANCELLED"],
        "COMPLETED": [],
        "CANCELLED": [],
    ]
    static let statuses = ["DRAFT", "RUNNING", "PAUSED", "COMPLETED", "CANCELLED"]

    static func variants(_ weights: Double...) -> [C.VariantSpec] {
        weights.enumerated().map { C.VariantSpec(id: $0.offset == 0 ? "control" : "v\($0.offset)", weight: $0.element) }
    }

    /// An experiment of `campaign` brought to `status` through allowed moves.
    static func experiment(_ f: F, _ campaign: String, in status: String, metric: String = "conversion_rate") async throws -> C.Experiment {
        let made = try await f.experiment(campaign, metric: metric, context: acme)
        switch status {
        case "DRAFT": return made
        case "RUNNING": return try await f.moveExperiment(made.id, to: "RUNNING", context: acme)
        case "PAUSED":
            _ = try await f.moveExperiment(made.id, to: "RUNNING", context: acme)
            return try await f.moveExperiment(made.id, to: "PAUSED", context: acme)
        case "COMPLETED":
            _ = try await f.moveExperiment(made.id, to: "RUNNING", context: acme)
            return try await f.moveExperiment(made.id, to: "COMPLETED", context: acme)
        case "CANCELLED": return try await f.moveExperiment(made.id, to: "CANCELLED", context: acme)
        default: fatalError("no status \(status)")
        }
    }

    /// What the statistics give over the experiment's stored totals.
    static func analyzed(_ experiment: C.Experiment) -> ExperimentResults {
        ExperimentStatistics.analyze(
            metric: ExperimentMetric(rawValue: experiment.metric)!,
            variants: experiment.variants.map {
                VariantObservations(
                    variantID: $0.id, weight: $0.weight, users: $0.users, conversions: $0.conversions,
                    revenue: Double($0.revenue)!, revenueSumSquares: Double($0.revenueSumSquares)!
                )
            }
        )
    }

    // MARK: - Variants

    /// 2 to 10 variants with distinct ids and positive weights, stored
    /// normalised to sum 1, the first the control; anything else is
    /// invalid-argument and stores nothing.
    @Test(arguments: Engine.allCases)
    func variantsAndWeights(engine: Engine) async throws {
        try await F.with(engine) { f in
            f.clips.add("clip-1", tenant: "acme")
            let campaign = try await f.campaign(clipIds: ["clip-1"], context: Self.acme).id
            let before = try await f.stored()
            let refused: [[C.VariantSpec]] = [
                [], Self.variants(1), Array(repeating: 1.0, count: 11).enumerated().map { C.VariantSpec(id: "v\($0.offset)", weight: $0.element) },
                [.init(id: "a", weight: 1), .init(id: "a", weight: 2)],
                Self.variants(1, 0), Self.variants(1, -1), Self.variants(1, .nan), Self.variants(1, .infinity), Self.variants(.greatestFiniteMagnitude, .greatestFiniteMagnitude),
                [.init(id: "a b", weight: 1), .init(id: "b", weight: 1)], [.init(id: "", weight: 1), .init(id: "b", weight: 1)],
                [.init(id: "control", weight: 1), .init(id: "b", weight: 1, clipId: "clip-9")],
            ]
            for variants in refused {
                let error = await F.failure { try await f.experiment(campaign, variants: variants, context: Self.acme) }
                #expect(error?.code == .invalidArgument, "\(variants): \(String(describing: error))")
                #expect(error?.message.contains("variants") == true, "\(variants): \(String(describing: error))")
            }
            #expect(await F.code { try await f.experiment(campaign, metric: "ctr", context: Self.acme) } == .invalidArgument)
            #expect(await F.code { try await f.experiment("no-such-campaign", context: Self.acme) } == .notFound)
            #expect(try await f.stored() == before)

            let two = try await f.experiment(campaign, variants: Self.variants(1, 3), context: Self.acme)
            #expect(two.status == "DRAFT")
            #expect(two.campaignId == campaign)
            #expect(two.currency == "USD")
            #expect(two.variants.map(\.id) == ["control", "v1"])
            #expect(two.variants.map(\.weight) == [0.25, 0.75])
            #expect(two.variants.allSatisfy { $0.users == 0 && $0.conversions == 0 && $0.revenue == "0.00" && $0.revenueSumSquares == "0.0000" })
            #expect(two.winnerVariantId == nil)
            #expect(two.confidence == nil)
            #expect(try await f.experiments.get(two.id, context: Self.acme) == two)

            let ten = try await f.experiment(campaign, variants: Self.variants(7, 7, 7, 7, 7, 7, 7, 7, 7, 7), context: Self.acme)
            #expect(ten.variants.count == 10)
            #expect(ten.variants.allSatisfy { abs($0.weight - 0.1) < 1e-15 })
            #expect(abs(ten.variants.reduce(0) { $0 + $1.weight } - 1) < 1e-12)
            let odd = try await f.experiment(campaign, variants: [.init(id: "A_1", weight: 0.3), .init(id: "b-2", weight: 2e-3, clipId: "clip-1"), .init(id: "c", weight: 1e6)],
                                             context: Self.acme)
            #expect(abs(odd.variants.reduce(0) { $0 + $1.weight } - 1) < 1e-12)
            #expect(odd.variants[1].clipId == "clip-1")
            #expect(odd.variants.map(\.id) == ["A_1", "b-2", "c"])
        }
    }

    // MARK: - Status

    /// Every move API.md allows succeeds, every other is a conflict naming both
    /// (COMPLETED and CANCELLED are final); the same status answers unchanged.
    @Test(arguments: Engine.allCases)
    func statusMachine(engine: Engine) async throws {
        try await F.with(engine) { f in
            let campaign = try await f.campaign(context: Self.acme).id
            for from in Self.statuses {
                for to in Self.statuses where to != from {
                    let experiment = try await Self.experiment(f, campaign, in: from)
                    #expect(experiment.status == from)
                    if Self.moves[from]!.contains(to) {
                        #expect(try await f.moveExperiment(experiment.id, to: to, context: Self.acme).status == to, "\(from) → \(to)")
                        #expect(try await f.experiments.get(experiment.id, context: Self.acme).status == to)
                    } else {
                        let error = await F.failure { try await f.moveExperiment(experiment.id, to: to, context: Self.acme) }
                        #expect(error?.code == .conflict, "\(from) → \(to): \(String(describing: error))")
                        #expect(error?.message.contains(from) == true && error?.message.contains(to) == true, "\(from) → \(to): \(String(describing: error))")
                        #expect(try await f.experiments.get(experiment.id, context: Self.acme) == experiment, "\(from) → \(to)")
                    }
                }
            }
            let experiment = try await Self.experiment(f, campaign, in: "DRAFT")
            #expect(await F.code { try await f.moveExperiment(experiment.id, to: "ACTIVE", context: Self.acme) } == .invalidArgument)
            #expect(await F.code { try await f.moveExperiment("no-such-experiment", to: "RUNNING", context: Self.acme) } == .notFound)
        }
    }

    /// PATCH to the status it already has: 200, nothing changes (not even updated_at).
    @Test(arguments: Engine.allCases)
    func sameStatusChangesNothing(engine: Engine) async throws {
        try await F.with(engine) { f in
            let campaign = try await f.campaign(context: Self.acme).id
            for status in Self.statuses {
                let experiment = try await Self.experiment(f, campaign, in: status)
                let answer = try await f.moveExperiment(experiment.id, to: status, context: Self.acme)
                #expect(answer.status == status)
                #expect(answer == experiment, "\(status): \(answer.updatedAt) vs \(experiment.updatedAt)")
            }
        }
    }

    // MARK: - Observations

    /// Observations add exactly while RUNNING or PAUSED (409 otherwise);
    /// an unknown variant is invalid-argument; a revenue experiment needs
    /// revenue_sum_squares. Refusals change nothing.
    @Test(arguments: Engine.allCases)
    func observations(engine: Engine) async throws {
        try await F.with(engine) { f in
            let campaign = try await f.campaign(context: Self.acme).id
            for status in Self.statuses {
                let experiment = try await Self.experiment(f, campaign, in: status)
                if ["RUNNING", "PAUSED"].contains(status) {
                    let totals = try await f.observe(experiment.id, "treatment", users: 10, conversions: 3, revenue: "1.10", context: Self.acme)
                    #expect(totals == C.VariantTotals(variantId: "treatment", users: 10, conversions: 3, revenue: "1.10", revenueSumSquares: "0.0000"), "\(status)")
                } else {
                    let error = await F.failure { try await f.observe(experiment.id, "treatment", users: 10, conversions: 3, context: Self.acme) }
                    #expect(error?.code == .conflict, "\(status): \(String(describing: error))")
                    #expect(error?.message.contains(status) == true, "\(status): \(String(describing: error))")
                    #expect(try await f.experiments.get(experiment.id, context: Self.acme) == experiment)
                }
            }

            let running = try await Self.experiment(f, campaign, in: "RUNNING")
            for _ in 0..<30 { _ = try await f.observe(running.id, "control", users: 1, conversions: 0, revenue: "0.10", context: Self.acme) }
            let totals = try await f.observe(running.id, "control", users: 0, conversions: 1, context: Self.acme)
            #expect(totals == C.VariantTotals(variantId: "control", users: 30, conversions: 1, revenue: "3.00", revenueSumSquares: "0.0000"))
            let before = try await f.experiments.get(running.id, context: Self.acme)
            let unknown = await F.failure { try await f.observe(running.id, "nope", users: 1, conversions: 0, context: Self.acme) }
            #expect(unknown?.code == .invalidArgument)
            #expect(unknown?.message.contains("variant_id") == true, "\(String(describing: unknown))")
            for (users, conversions, revenue) in [(-1, 0, "0"), (0, -1, "0"), (0, 0, "-0.01"), (0, 0, "0.001"), (Int64.max, 0, "0")] as [(Int64, Int64, String)] {
                #expect(await F.code { try await f.observe(running.id, "control", users: users, conversions: conversions, revenue: revenue, context: Self.acme) } == .invalidArgument,
                        "\(users) \(conversions) \(revenue)")
            }
            #expect(await F.code { try await f.observe("no-such-experiment", "control", users: 1, conversions: 0, context: Self.acme) } == .notFound)
            #expect(try await f.experiments.get(running.id, context: Self.acme) == before)

            // Revenue experiments: revenue_sum_squares required, exact to twice the currency's digits.
            let revenue = try await Self.experiment(f, campaign, in: "RUNNING", metric: "revenue")
            let missing = await F.failure { try await f.observe(revenue.id, "control", users: 2, conversions: 2, revenue: "3.00", context: Self.acme) }
            #expect(missing?.code == .invalidArgument)
            #expect(missing?.message.contains("revenue_sum_squares") == true, "\(String(describing: missing))")
            #expect(await F.code { try await f.observe(revenue.id, "control", users: 2, conversions: 2, revenue: "3.00", squares: "4.00001", context: Self.acme) } == .invalidArgument)
            #expect(await F.code { try await f.observe(revenue.id, "control", users: 2, conversions: 2, revenue: "3.00", squares: "-1", context: Self.acme) } == .invalidArgument)
            #expect(try await f.experiments.get(revenue.id, context: Self.acme) == revenue)
            // Two users paying 1.00 and 2.00: Σ = 3.00, Σ² = 5.
            var added = try await f.observe(revenue.id, "control", users: 2, conversions: 2, revenue: "3.00", squares: "5", context: Self.acme)
            #expect(added == C.VariantTotals(variantId: "control", users: 2, conversions: 2, revenue: "3.00", revenueSumSquares: "5.0000"))
            added = try await f.observe(revenue.id, "control", users: 1, conversions: 1, revenue: "0.15", squares: "0.0225", context: Self.acme)
            #expect(added == C.VariantTotals(variantId: "control", users: 3, conversions: 3, revenue: "3.15", revenueSumSquares: "5.0225"))
        }
    }

    // MARK: - Results

    /// The results are the statistics over the stored totals, field by field;
    /// 49/100 against 51/100 gives chance_to_win 0.60918.
    @Test(arguments: Engine.allCases)
    func resultsAreTheStatisticsOfTheStoredTotals(engine: Engine) async throws {
        try await F.with(engine) { f in
            let campaign = try await f.campaign(context: Self.acme).id

            let coin = try await Self.experiment(f, campaign, in: "RUNNING")
            _ = try await f.observe(coin.id, "control", users: 100, conversions: 49, context: Self.acme)
            _ = try await f.observe(coin.id, "treatment", users: 100, conversions: 51, context: Self.acme)
            let coinResults = try await f.experiments.results(coin.id, context: Self.acme)
            #expect(coinResults.comparisons.count == 1)
            let chance = try #require(coinResults.comparisons.first?.chanceToWin)
            #expect(abs(chance - 0.60918) < 1e-5, "\(chance)")
            try Self.expectEqual(coinResults, Self.analyzed(try await f.experiments.get(coin.id, context: Self.acme)))

            // Three variants, uneven weights, a clear winner.
            let three = try await f.experiment(campaign, variants: [.init(id: "control", weight: 2), .init(id: "b", weight: 1), .init(id: "c", weight: 1)], context: Self.acme)
            _ = try await f.moveExperiment(three.id, to: "RUNNING", context: Self.acme)
            _ = try await f.observe(three.id, "control", users: 2000, conversions: 200, context: Self.acme)
            _ = try await f.observe(three.id, "b", users: 1010, conversions: 103, context: Self.acme)
            _ = try await f.observe(three.id, "c", users: 990, conversions: 160, context: Self.acme)
            let threeResults = try await f.experiments.results(three.id, context: Self.acme)
            let expected = Self.analyzed(try await f.experiments.get(three.id, context: Self.acme))
            try Self.expectEqual(threeResults, expected)
            #expect(threeResults.decision.winnerVariantId == "c")

            // Revenue.
            let revenue = try await Self.experiment(f, campaign, in: "RUNNING", metric: "revenue")
            _ = try await f.observe(revenue.id, "control", users: 500, conversions: 40, revenue: "812.50", squares: "40250.2500", context: Self.acme)
            _ = try await f.observe(revenue.id, "treatment", users: 510, conversions: 55, revenue: "1204.75", squares: "61990.5625", context: Self.acme)
            try Self.expectEqual(try await f.experiments.results(revenue.id, context: Self.acme), Self.analyzed(try await f.experiments.get(revenue.id, context: Self.acme)))

            // Nothing observed: undefined comparisons, no winner.
            let empty = try await Self.experiment(f, campaign, in: "DRAFT")
            let emptyResults = try await f.experiments.results(empty.id, context: Self.acme)
            try Self.expectEqual(emptyResults, Self.analyzed(empty))
            #expect(emptyResults.comparisons.allSatisfy { $0.lift == nil && $0.chanceToWin == nil && $0.undefinedReason != nil })
            #expect(emptyResults.decision.winnerVariantId == nil)
            #expect(await F.code { try await f.experiments.results("no-such-experiment", context: Self.acme) } == .notFound)
        }
    }

    static func expectEqual(_ answer: C.ExperimentResults, _ expected: ExperimentResults, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(answer.variants.map(\.variantId) == expected.variants.map(\.variantID), sourceLocation: sourceLocation)
        for (variant, summary) in zip(answer.variants, expected.variants) {
            #expect(variant.users == summary.users, sourceLocation: sourceLocation)
            #expect(variant.conversions == summary.conversions, sourceLocation: sourceLocation)
            #expect(variant.rate == summary.rate, sourceLocation: sourceLocation)
            #expect(variant.mean == summary.mean, sourceLocation: sourceLocation)
        }
        #expect(answer.comparisons.count == expected.comparisons.count, sourceLocation: sourceLocation)
        for (comparison, want) in zip(answer.comparisons, expected.comparisons) {
            #expect(comparison.variantId == want.variantID, sourceLocation: sourceLocation)
            #expect(comparison.lift == want.lift, sourceLocation: sourceLocation)
            #expect(comparison.ciLow == want.ciLow, sourceLocation: sourceLocation)
            #expect(comparison.ciHigh == want.ciHigh, sourceLocation: sourceLocation)
            #expect(comparison.pValue == want.pValue, sourceLocation: sourceLocation)
            #expect(comparison.chanceToWin == want.chanceToWin, sourceLocation: sourceLocation)
            #expect(comparison.undefinedReason == want.undefinedReason, sourceLocation: sourceLocation)
        }
        #expect(answer.srmPValue == expected.srmPValue, sourceLocation: sourceLocation)
        #expect(answer.decision.winnerVariantId == expected.decision.winnerVariantID, sourceLocation: sourceLocation)
        #expect(answer.decision.reason == expected.decision.reason, sourceLocation: sourceLocation)
    }

    /// Completing stores winner_variant_id and confidence as the decision is
    /// at that moment (nulls without a winner); later observations are refused, so they stay.
    @Test(arguments: Engine.allCases)
    func completingStoresTheDecision(engine: Engine) async throws {
        try await F.with(engine) { f in
            let campaign = try await f.campaign(context: Self.acme).id

            let winning = try await Self.experiment(f, campaign, in: "RUNNING")
            _ = try await f.observe(winning.id, "control", users: 1000, conversions: 100, context: Self.acme)
            _ = try await f.observe(winning.id, "treatment", users: 1000, conversions: 150, context: Self.acme)
            _ = try await f.moveExperiment(winning.id, to: "PAUSED", context: Self.acme)
            let decision = Self.analyzed(try await f.experiments.get(winning.id, context: Self.acme)).decision
            #expect(decision.winnerVariantID == "treatment")
            let completed = try await f.moveExperiment(winning.id, to: "COMPLETED", context: Self.acme)
            #expect(completed.winnerVariantId == decision.winnerVariantID)
            #expect(completed.confidence == decision.confidence)
            #expect(completed.confidence != nil)
            #expect(try await f.experiments.get(winning.id, context: Self.acme) == completed)
            #expect(try await f.experiments.results(winning.id, context: Self.acme).decision.winnerVariantId == "treatment")

            // The control wins when the challenger is significantly worse: confidence 1 − its chance to win.
            let losing = try await Self.experiment(f, campaign, in: "RUNNING")
            _ = try await f.observe(losing.id, "control", users: 1000, conversions: 150, context: Self.acme)
            _ = try await f.observe(losing.id, "treatment", users: 1000, conversions: 100, context: Self.acme)
            let lost = Self.analyzed(try await f.experiments.get(losing.id, context: Self.acme))
            let losingCompleted = try await f.moveExperiment(losing.id, to: "COMPLETED", context: Self.acme)
            #expect(losingCompleted.winnerVariantId == "control")
            #expect(losingCompleted.winnerVariantId == lost.decision.winnerVariantID)
            #expect(losingCompleted.confidence == lost.decision.confidence)
            if let chance = lost.comparisons.first?.chanceToWin, let confidence = losingCompleted.confidence {
                #expect(abs(confidence - (1 - chance)) < 1e-12)
            }

            // Too few users: no winner, null confidence.
            let early = try await Self.experiment(f, campaign, in: "RUNNING")
            _ = try await f.observe(early.id, "control", users: 50, conversions: 30, context: Self.acme)
            _ = try await f.observe(early.id, "treatment", users: 50, conversions: 45, context: Self.acme)
            let undecided = try await f.moveExperiment(early.id, to: "COMPLETED", context: Self.acme)
            #expect(undecided.winnerVariantId == nil)
            #expect(undecided.confidence == nil)

            // A cancelled experiment stores no winner.
            let cancelled = try await Self.experiment(f, campaign, in: "RUNNING")
            _ = try await f.observe(cancelled.id, "control", users: 1000, conversions: 100, context: Self.acme)
            _ = try await f.observe(cancelled.id, "treatment", users: 1000, conversions: 150, context: Self.acme)
            let gone = try await f.moveExperiment(cancelled.id, to: "CANCELLED", context: Self.acme)
            #expect(gone.winnerVariantId == nil)
            #expect(gone.confidence == nil)
        }
    }

    // MARK: - Conversions into experiments

    /// A conversion naming an experiment and variant adds 1 conversion, its
    /// value and value² to the variant while the experiment runs; not while
    /// DRAFT, COMPLETED or CANCELLED (the conversion is still recorded). A
    /// duplicate adds nothing.
    @Test(arguments: Engine.allCases)
    func conversionsCountIntoARunningExperiment(engine: Engine) async throws {
        try await F.with(engine) { f in
            let campaign = try await f.campaign(context: Self.acme).id
            var serial = 0
            func convert(_ experiment: String, _ variant: String, _ value: String) async throws -> C.Conversion {
                serial += 1
                return try await f.record(C.RecordConversionRequest(
                    source: "WEBHOOK", externalId: "x-\(serial)", campaignId: campaign, experimentId: experiment, variantId: variant, value: MoneyText(value),
                    occurredAt: Instants.at(0)
                ), context: Self.acme)
            }

            let running = try await Self.experiment(f, campaign, in: "RUNNING", metric: "revenue")
            _ = try await convert(running.id, "treatment", "2.50")
            let recorded = try await convert(running.id, "treatment", "0.10")
            var experiment = try await f.experiments.get(running.id, context: Self.acme)
            #expect(experiment.variants[1] == C.Variant(id: "treatment", weight: 0.5, clipId: nil, users: 0, conversions: 2, revenue: "2.60", revenueSumSquares: "6.2600"))
            #expect(experiment.variants[0] == running.variants[0])
            // A duplicate changes nothing.
            let again = try await f.record(C.RecordConversionRequest(
                source: "WEBHOOK", externalId: recorded.externalId, campaignId: campaign, experimentId: running.id, variantId: "treatment", value: MoneyText("0.10"),
                occurredAt: Instants.at(0)
            ), context: Self.acme)
            #expect(again.created == false)
            #expect(try await f.experiments.get(running.id, context: Self.acme) == experiment)
            // Paused still counts (observations are taken while paused).
            _ = try await f.moveExperiment(running.id, to: "PAUSED", context: Self.acme)
            _ = try await convert(running.id, "control", "1")
            experiment = try await f.experiments.get(running.id, context: Self.acme)
            #expect(experiment.variants[0].conversions == 1)
            #expect(experiment.variants[0].revenue == "1.00")
            #expect(experiment.variants[0].revenueSumSquares == "1.0000")

            for status in ["DRAFT", "COMPLETED", "CANCELLED"] {
                let idle = try await Self.experiment(f, campaign, in: status)
                let conversion = try await convert(idle.id, "treatment", "5.00")
                #expect(conversion.created == true)
                #expect(conversion.experimentId == idle.id)
                #expect(try await f.experiments.get(idle.id, context: Self.acme).variants == idle.variants, "\(status)")
            }
            // Without variant_id: recorded, no variant changes.
            let untouched = try await Self.experiment(f, campaign, in: "RUNNING")
            _ = try await f.record(C.RecordConversionRequest(
                source: "WEBHOOK", externalId: "no-variant", campaignId: campaign, experimentId: untouched.id, value: MoneyText("1.00"), occurredAt: Instants.at(0)
            ), context: Self.acme)
            #expect(try await f.experiments.get(untouched.id, context: Self.acme).variants == untouched.variants)
            #expect(try await f.getCampaign(campaign, context: Self.acme).conversions == 7)
        }
    }
}
