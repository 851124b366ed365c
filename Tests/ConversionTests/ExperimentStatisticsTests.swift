@testable import Conversion
import Foundation
import Testing

/// The statistics and the distributions against scipy. The vectors below are
/// pasted verbatim from `python3 scripts/conversion-vectors.py`, which
/// computes API.md's formulas with scipy.stats (t, norm, chi2) independently
/// of this code; rerun it to reproduce or extend them.
@Suite("Experiment statistics")
struct ExperimentStatisticsTests {
    @Test(arguments: Vectors.statistics)
    func agreesWithScipy(vector: StatisticsVector) throws {
        let results = ExperimentStatistics.analyze(metric: vector.metric, variants: vector.variants)
        try #require(results.comparisons.count == vector.comparisons.count)
        for (actual, expected) in zip(results.comparisons, vector.comparisons) {
            switch expected {
            case let .defined(lift, low, high, p, chance, df):
                #expect(actual.undefinedReason == nil, "\(vector.name): \(actual.undefinedReason ?? "")")
                expectClose(actual.lift, lift, vector.name + " lift")
                expectClose(actual.ciLow, low, vector.name + " ci_low")
                expectClose(actual.ciHigh, high, vector.name + " ci_high")
                expectClose(actual.pValue, p, vector.name + " p")
                expectClose(actual.chanceToWin, chance, vector.name + " chance_to_win")
                expectClose(actual.degreesOfFreedom, df, vector.name + " df")
            case let .undefined(kind):
                #expect(actual.lift == nil && actual.ciLow == nil && actual.ciHigh == nil, "\(vector.name)")
                #expect(actual.pValue == nil && actual.chanceToWin == nil && actual.degreesOfFreedom == nil, "\(vector.name)")
                let reason = try #require(actual.undefinedReason)
                #expect(reason.contains(kind.rawValue), "\(vector.name): \(reason)")
            }
        }
        if let srm = vector.srm {
            expectClose(results.srmPValue, srm, vector.name + " srm")
        } else {
            #expect(results.srmPValue == nil, "\(vector.name)")
        }
        #expect(results.decision.winnerVariantID == vector.winner, "\(vector.name)")
        #expect(results.decision.rule == vector.rule, "\(vector.name)")
    }

    /// API.md's own check: 49/100 against 51/100 has a chance to win of 0.60918.
    @Test func apiMdChanceToWinExample() {
        let comparison = ExperimentStatistics.compare(
            metric: .conversionRate, control: cr("A", 1, 100, 49), challenger: cr("B", 1, 100, 51))
        #expect(abs(comparison.chanceToWin! - 0.60918) < 5e-6)
    }

    @Test func summariesAndConfidence() {
        let challengerWins = ExperimentStatistics.analyze(
            metric: .conversionRate, variants: [cr("A", 1, 10000, 1000), cr("B", 1, 10000, 1200)])
        #expect(challengerWins.variants.map(\.rate) == [0.1, 0.12])
        #expect(challengerWins.decision.confidence == challengerWins.comparisons[0].chanceToWin)
        #expect(challengerWins.decision.reason == Decision.Rule.challengerWins.reason)

        let controlWins = ExperimentStatistics.analyze(
            metric: .conversionRate,
            variants: [cr("A", 1, 10000, 1000), cr("B", 1, 10000, 850), cr("C", 1, 10000, 1040)])
        #expect(controlWins.decision.winnerVariantID == "A")
        let bestChance = controlWins.comparisons.compactMap(\.chanceToWin).max()!
        #expect(controlWins.decision.confidence == 1 - bestChance)

        let none = ExperimentStatistics.analyze(metric: .revenue, variants: [rev("A", 1, 0, 0, 0, 0), rev("B", 1, 0, 0, 0, 0)])
        #expect(none.variants.allSatisfy { $0.rate == nil && $0.mean == nil })
        #expect(none.decision.confidence == nil)

        let lonely = ExperimentStatistics.analyze(metric: .conversionRate, variants: [cr("A", 1, 500, 50)])
        #expect(lonely.comparisons.isEmpty && lonely.decision.rule == .tooFewVariants)
    }

    @Test func reasonsAreDistinctAndReadable() {
        let reasons = Decision.Rule.allCases.map(\.reason)
        #expect(Set(reasons).count == reasons.count)
        #expect(Decision.Rule.insufficientSample.reason.contains("100 users and 25 conversions"))
    }

    /// Inputs that make no statistical sense still give nil with a reason, never NaN.
    @Test func inconsistentInputsNeverProduceNaN() {
        let cases: [(ExperimentMetric, VariantObservations, VariantObservations)] = [
            (.conversionRate, cr("A", 1, 100, 150), cr("B", 1, 100, 50)),  // more conversions than users
            (.revenue, rev("A", 1, 100, 10, 500, 10), rev("B", 1, 100, 10, 600, 10)),  // sum of squares too small
            (.revenue, rev("A", 1, 100, 10, .infinity, .infinity), rev("B", 1, 100, 10, 1, 1)),
            (.revenue, rev("A", 1, 100, 10, 100, 100), rev("B", 1, 100, 10, 100, 100)),  // every user the same
        ]
        for (metric, control, challenger) in cases {
            let comparison = ExperimentStatistics.compare(metric: metric, control: control, challenger: challenger)
            let numbers = [comparison.lift, comparison.ciLow, comparison.ciHigh, comparison.pValue, comparison.chanceToWin]
            #expect(numbers.allSatisfy { $0 == nil || $0!.isFinite })
            #expect(comparison.undefinedReason != nil || numbers.allSatisfy { $0 != nil })
        }
        #expect(ExperimentStatistics.sampleRatioMismatchPValue(users: [10, 10], weights: [1, 0]) == nil)
        #expect(ExperimentStatistics.sampleRatioMismatchPValue(users: [10, 10], weights: [1, .nan]) == nil)
    }

    @Test(arguments: Vectors.distributions)
    func distributionsAgreeWithScipy(vector: DistributionVector) {
        let actual: Double
        switch vector.kind {
        case .normalCDF: actual = Distributions.normalCDF(vector.x)
        case .tCDF: actual = Distributions.studentTCDF(vector.x, df: vector.df)
        case .tTwoSidedP: actual = Distributions.studentTTwoSidedP(vector.x, df: vector.df)
        case .tQuantile: actual = Distributions.studentTQuantile(vector.x, df: vector.df)
        case .chiSquareSurvival: actual = Distributions.chiSquareSurvival(vector.x, df: vector.df)
        }
        let error = abs(actual - vector.expected) / max(abs(vector.expected), .leastNormalMagnitude)
        #expect(error <= 1e-10, "\(vector.kind)(\(vector.x), df \(vector.df)) = \(actual), scipy \(vector.expected)")
    }

    @Test func distributionEdges() {
        #expect(Distributions.studentTCDF(0, df: 3) == 0.5)
        #expect(Distributions.studentTCDF(.infinity, df: 3) == 1)
        #expect(Distributions.studentTCDF(-.infinity, df: 0.5) == 0)
        #expect(Distributions.studentTCDF(1, df: 0).isNaN)
        #expect(Distributions.studentTQuantile(0.5, df: 4) == 0)
        #expect(Distributions.studentTQuantile(1, df: 4) == .infinity)
        #expect(Distributions.studentTQuantile(0.975, df: .infinity) == Distributions.normalQuantile(0.975))
        #expect(Distributions.studentTCDF(-3, df: .infinity) == Distributions.normalCDF(-3))
        #expect(Distributions.chiSquareSurvival(0, df: 2) == 1)
        #expect(Distributions.chiSquareSurvival(.infinity, df: 2) == 0)
        // The quantile inverts the CDF across tiny and huge df and both tails.
        for df in [0.05, 0.3, 1, 2.5, 9, 40, 1e3, 1e6, 1e9, 1e11] {
            for p in [1e-200, 1e-12, 0.001, 0.025, 0.3, 0.5 - 1e-9, 0.7, 0.975, 0.999999] {
                let t = Distributions.studentTQuantile(p, df: df)
                guard t.isFinite else {
                    // Only where the answer is beyond Double (df 0.05, p 1e-200 needs t ≈ -1e4000).
                    #expect(t == -.infinity && Distributions.studentTCDF(-.greatestFiniteMagnitude, df: df) > p, "df \(df), p \(p)")
                    continue
                }
                let back = Distributions.studentTCDF(t, df: df)
                #expect(abs(back - p) <= 1e-11 * p, "df \(df), p \(p): t \(t) gives \(back)")
            }
        }
        // The normal quantile is exact to rounding, far tails included.
        for p in [1e-300, 1e-20, 1e-5, 0.02, 0.3, 0.5, 0.9, 0.99999] {
            let z = Distributions.normalQuantile(p)
            #expect(abs(Distributions.normalCDF(z) - p) <= 1e-13 * p, "p \(p)")
        }
    }

    /// 2,000 A/A experiments (same true rate in both arms): declaring a winner
    /// is always a mistake there, and must be as rare as α promises.
    @Test func aaExperimentsRarelyDeclareAWinner() {
        var random = SplitMix64(seed: 0x5EED_C0DE)
        let experiments = 2000
        let usersPerVariant = 2000
        var challengerWins = 0, anyWinner = 0, significant = 0, undefined = 0
        for _ in 0..<experiments {
            let rate = 0.05 + 0.25 * random.nextUnit()
            var variants: [VariantObservations] = []
            for id in ["A", "B"] {
                var conversions: Int64 = 0
                for _ in 0..<usersPerVariant where random.nextUnit() < rate { conversions += 1 }
                variants.append(cr(id, 1, Int64(usersPerVariant), conversions))
            }
            let results = ExperimentStatistics.analyze(metric: .conversionRate, variants: variants)
            if results.decision.winnerVariantID == "B" { challengerWins += 1 }
            if results.decision.winnerVariantID != nil { anyWinner += 1 }
            if let p = results.comparisons[0].pValue { if p < 0.05 { significant += 1 } } else { undefined += 1 }
        }
        let falseChallengerRate = Double(challengerWins) / Double(experiments)
        let anyWinnerRate = Double(anyWinner) / Double(experiments)
        // A false challenger win needs p < 0.05 on the favourable side: 2.5% expected.
        #expect(falseChallengerRate <= 0.05, "false challenger winners: \(falseChallengerRate)")
        // Any winner (the control "winning" an A/A test is as false) happens at
        // α = 5% by construction; 3 standard errors (±1.5%) of binomial noise.
        #expect(anyWinnerRate <= 0.065, "false winners of either kind: \(anyWinnerRate)")
        #expect(abs(Double(significant) / Double(experiments) - 0.05) <= 0.015)
        #expect(undefined == 0)
    }
}

/// Sebastiano Vigna's SplitMix64: tiny, seeded, the same on every platform.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in [0, 1) with 53 random bits.
    mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1p-53 }

    mutating func next(below bound: UInt64) -> UInt64 { next() % bound }
}

func expectClose(_ actual: Double?, _ expected: Double, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    guard let actual else {
        Issue.record("\(what) is nil, scipy says \(expected)", sourceLocation: sourceLocation)
        return
    }
    let tolerance = 1e-6 * max(1, abs(expected))
    #expect(abs(actual - expected) <= tolerance, "\(what) = \(actual), scipy \(expected)", sourceLocation: sourceLocation)
}

func cr(_ id: String, _ weight: Double, _ users: Int64, _ conversions: Int64) -> VariantObservations {
    VariantObservations(variantID: id, weight: weight, users: users, conversions: conversions)
}

func rev(_ id: String, _ weight: Double, _ users: Int64, _ conversions: Int64, _ revenue: Double, _ sumSquares: Double) -> VariantObservations {
    VariantObservations(
        variantID: id, weight: weight, users: users, conversions: conversions, revenue: revenue, revenueSumSquares: sumSquares)
}

struct StatisticsVector: Sendable, CustomTestStringConvertible {
    enum Undefined: String, Sendable {
        case users = "fewer than 2 users"
        case mean = "mean is zero"
        case variance = "variance"
    }

    enum Expected: Sendable {
        case defined(lift: Double, low: Double, high: Double, p: Double, chance: Double, df: Double)
        case undefined(Undefined)
    }

    var name: String
    var metric: ExperimentMetric
    var variants: [VariantObservations]
    var comparisons: [Expected]
    var srm: Double?
    var winner: String?
    var rule: Decision.Rule

    var testDescription: String { name }
}

struct DistributionVector: Sendable, CustomTestStringConvertible {
    enum Kind: Sendable { case normalCDF, tCDF, tTwoSidedP, tQuantile, chiSquareSurvival }
    var kind: Kind
    var x: Double
    var df: Double
    var expected: Double

    init(_ kind: Kind, _ x: Double, _ df: Double, _ expected: Double) {
        self.kind = kind
        self.x = x
        self.df = df
        self.expected = expected
    }

    var testDescription: String { "\(kind)(\(x), df \(df))" }
}

enum Vectors {
    // BEGIN generated by scripts/conversion-vectors.py
    static let statistics: [StatisticsVector] = [
        StatisticsVector(
            name: "49/100 vs 51/100 (API.md's chance to win)", metric: .conversionRate,
            variants: [cr("A", 1.0, 100, 49), cr("B", 1.0, 100, 51)],
            comparisons: [
                .defined(lift: 0.04081632653061229, low: -0.24956826731409643, high: 0.331200920375321, p: 0.7819265538441484, chance: 0.6091813095808981, df: 197.99999999999997),
            ],
            srm: 1.0, winner: nil, rule: .notSignificant),
        StatisticsVector(
            name: "clear winner", metric: .conversionRate,
            variants: [cr("A", 1.0, 10000, 1000), cr("B", 1.0, 10000, 1200)],
            comparisons: [
                .defined(lift: 0.19999999999999996, low: 0.10494100836978074, high: 0.2950589916302192, p: 3.7397508200818926e-05, chance: 0.9999813769334056, df: 19871.600792879053),
            ],
            srm: 1.0, winner: "B", rule: .challengerWins),
        StatisticsVector(
            name: "three variants, best lift wins", metric: .conversionRate,
            variants: [cr("A", 1.0, 10000, 1000), cr("B", 1.0, 10000, 1110), cr("C", 1.0, 10000, 1250)],
            comparisons: [
                .defined(lift: 0.10999999999999988, low: 0.020270155082843452, high: 0.19972984491715629, p: 0.016276058412235728, chance: 0.9918665062794649, df: 19955.775855184795),
                .defined(lift: 0.25, low: 0.15199581312907345, high: 0.34800418687092655, p: 5.781978484290174e-07, chance: 0.9999997133484281, df: 19810.911761842646),
            ],
            srm: 1.0, winner: "C", rule: .challengerWins),
        StatisticsVector(
            name: "significant worse challenger: control wins", metric: .conversionRate,
            variants: [cr("A", 1.0, 10000, 1200), cr("B", 1.0, 10000, 1000)],
            comparisons: [
                .defined(lift: -0.16666666666666663, low: -0.23267985529876334, high: -0.10065347803456993, p: 7.531541836830807e-07, chance: 3.7352214117069785e-07, df: 19871.600792879053),
            ],
            srm: 1.0, winner: "A", rule: .controlWins),
        StatisticsVector(
            name: "worse significant, better not significant: control wins", metric: .conversionRate,
            variants: [cr("A", 1.0, 10000, 1000), cr("B", 1.0, 10000, 850), cr("C", 1.0, 10000, 1040)],
            comparisons: [
                .defined(lift: -0.15000000000000002, low: -0.22406936482916978, high: -0.07593063517083028, p: 7.230055527402452e-05, chance: 3.602375472808979e-05, df: 19892.38391305609),
                .defined(lift: 0.039999999999999813, low: -0.04555665357100343, high: 0.12555665357100304, p: 0.35947316036988464, chance: 0.8202689466947604, df: 19991.96014629497),
            ],
            srm: 1.0, winner: "A", rule: .controlWins),
        StatisticsVector(
            name: "sample ratio mismatch blocks a significant winner", metric: .conversionRate,
            variants: [cr("A", 1.0, 10000, 1000), cr("B", 1.0, 9000, 1300)],
            comparisons: [
                .defined(lift: 0.4444444444444442, low: 0.33268637421597597, high: 0.5562025146729125, p: 6.7945180950062645e-15, chance: 0.9999999999999968, df: 17785.210947423366),
            ],
            srm: 4.023672190684225e-13, winner: nil, rule: .sampleRatioMismatch),
        StatisticsVector(
            name: "split within chance passes SRM", metric: .conversionRate,
            variants: [cr("A", 1.0, 10000, 1000), cr("B", 1.0, 9800, 1200)],
            comparisons: [
                .defined(lift: 0.22448979591836715, low: 0.12755135116497252, high: 0.3214282406717618, p: 5.681502544309888e-06, chance: 0.9999971760645333, df: 19567.553979705528),
            ],
            srm: 0.15521848968468005, winner: "B", rule: .challengerWins),
        StatisticsVector(
            name: "unequal weights 20/80, matching split", metric: .conversionRate,
            variants: [cr("A", 0.2, 2000, 200), cr("B", 0.8, 8000, 960)],
            comparisons: [
                .defined(lift: 0.19999999999999996, low: 0.026836639007438517, high: 0.3731633609925614, p: 0.02360519099277072, chance: 0.988229970869411, df: 3273.3622602472997),
            ],
            srm: 1.0, winner: "B", rule: .challengerWins),
        StatisticsVector(
            name: "unequal weights 20/80, even split is a mismatch", metric: .conversionRate,
            variants: [cr("A", 0.2, 5000, 500), cr("B", 0.8, 5000, 600)],
            comparisons: [
                .defined(lift: 0.19999999999999996, low: 0.06555809394114537, high: 0.33444190605885454, p: 0.0035527599447866213, chance: 0.9982275839361923, df: 9934.806717031941),
            ],
            srm: 0.0, winner: nil, rule: .sampleRatioMismatch),
        StatisticsVector(
            name: "unnormalised weights 1:2:2", metric: .conversionRate,
            variants: [cr("A", 1.0, 2000, 300), cr("B", 2.0, 4000, 640), cr("C", 2.0, 3950, 600)],
            comparisons: [
                .defined(lift: 0.06666666666666665, low: -0.06798482741840711, high: 0.20131816075174042, p: 0.3317672179314326, chance: 0.8341450686063965, df: 4093.112624977465),
                .defined(lift: 0.012658227848101333, low: -0.11672382998015593, high: 0.1420402856763586, p: 0.8478986000352827, chance: 0.5760555279772498, df: 4033.194094209213),
            ],
            srm: 0.8282483656546955, winner: nil, rule: .notSignificant),
        StatisticsVector(
            name: "99 users: below the minimum sample", metric: .conversionRate,
            variants: [cr("A", 1.0, 99, 30), cr("B", 1.0, 99, 70)],
            comparisons: [
                .defined(lift: 1.3333333333333335, low: 0.5713855041669855, high: 2.095281162499681, p: 0.0006838611617276991, chance: 0.9997207991928788, df: 195.98134621332883),
            ],
            srm: 1.0, winner: nil, rule: .insufficientSample),
        StatisticsVector(
            name: "24 conversions: below the minimum sample", metric: .conversionRate,
            variants: [cr("A", 1.0, 5000, 24), cr("B", 1.0, 5000, 90)],
            comparisons: [
                .defined(lift: 2.75, low: 1.0676249200772971, high: 4.432375079922703, p: 0.0013597507968444395, chance: 0.9993229518238796, df: 7517.062881270152),
            ],
            srm: 1.0, winner: nil, rule: .insufficientSample),
        StatisticsVector(
            name: "control with no conversions: lift undefined", metric: .conversionRate,
            variants: [cr("A", 1.0, 1000, 0), cr("B", 1.0, 1000, 40)],
            comparisons: [
                .undefined(.mean),
            ],
            srm: 1.0, winner: nil, rule: .insufficientSample),
        StatisticsVector(
            name: "everyone converted: zero variance", metric: .conversionRate,
            variants: [cr("A", 1.0, 200, 200), cr("B", 1.0, 200, 200)],
            comparisons: [
                .undefined(.variance),
            ],
            srm: 1.0, winner: nil, rule: .notSignificant),
        StatisticsVector(
            name: "challenger with no conversions: zero variance", metric: .conversionRate,
            variants: [cr("A", 1.0, 200, 30), cr("B", 1.0, 200, 0)],
            comparisons: [
                .undefined(.variance),
            ],
            srm: 1.0, winner: nil, rule: .insufficientSample),
        StatisticsVector(
            name: "one user in a variant", metric: .conversionRate,
            variants: [cr("A", 1.0, 1, 1), cr("B", 1.0, 300, 40)],
            comparisons: [
                .undefined(.users),
            ],
            srm: 1.4739602890883843e-66, winner: nil, rule: .sampleRatioMismatch),
        StatisticsVector(
            name: "no users at all", metric: .conversionRate,
            variants: [cr("A", 1.0, 0, 0), cr("B", 1.0, 0, 0)],
            comparisons: [
                .undefined(.users),
            ],
            srm: nil, winner: nil, rule: .insufficientSample),
        StatisticsVector(
            name: "small samples, few degrees of freedom", metric: .conversionRate,
            variants: [cr("A", 1.0, 10, 2), cr("B", 1.0, 10, 5)],
            comparisons: [
                .defined(lift: 1.5, low: -2.226809848150656, high: 5.226809848150657, p: 0.407816727665225, chance: 0.801928045423963, df: 17.17253121452895),
            ],
            srm: 1.0, winner: nil, rule: .insufficientSample),
        StatisticsVector(
            name: "a million users, small lift", metric: .conversionRate,
            variants: [cr("A", 1.0, 1000000, 50000), cr("B", 1.0, 1000000, 50700)],
            comparisons: [
                .defined(lift: 0.014000000000000012, low: 0.0017934086690077448, high: 0.02620659133099228, p: 0.02458102597455907, chance: 0.987709541253064, df: 1999911.3373134097),
            ],
            srm: 1.0, winner: "B", rule: .challengerWins),
        StatisticsVector(
            name: "fifty million users (df near 1e8)", metric: .conversionRate,
            variants: [cr("A", 1.0, 50000000, 2500000), cr("B", 1.0, 50000000, 2503000)],
            comparisons: [
                .defined(lift: 0.0011999999999998678, low: -0.000510167736391291, high: 0.0029101677363910267, p: 0.16904514229583484, chance: 0.9154774303924962, df: 99999965.73076265),
            ],
            srm: 1.0, winner: nil, rule: .notSignificant),
        StatisticsVector(
            name: "ten variants", metric: .conversionRate,
            variants: [cr("A", 1.0, 1000, 100), cr("B", 1.0, 1007, 103), cr("C", 1.0, 1014, 112), cr("D", 1.0, 1021, 127), cr("E", 1.0, 1028, 148), cr("F", 1.0, 1035, 175), cr("G", 1.0, 1042, 208), cr("H", 1.0, 1049, 247), cr("I", 1.0, 1056, 292), cr("J", 1.0, 1063, 343)],
            comparisons: [
                .defined(lift: 0.022840119165839168, low: -0.2441511884120663, high: 0.2898314267437446, p: 0.8667819708416012, chance: 0.5666174745081536, df: 2004.9814471943923),
                .defined(lift: 0.10453648915187363, low: -0.17741663692135207, high: 0.38648961522509934, p: 0.46724268703227595, chance: 0.7664209901364356, df: 2010.197381063453),
                .defined(lift: 0.24387855044074414, low: -0.06366917632173164, high: 0.5514262772032199, p: 0.12006900063731091, chance: 0.9400442972012002, df: 2007.8889176742377),
                .defined(lift: 0.43968871595330716, low: 0.09638666064475931, high: 0.782990771261855, p: 0.01209102687963458, chance: 0.9939937268451298, df: 1993.0494518758974),
                .defined(lift: 0.6908212560386473, low: 0.30201369924627447, high: 1.07962881283102, p: 0.0005037711059660455, chance: 0.9997535167163171, df: 1965.4116653453277),
                .defined(lift: 0.9961612284069097, low: 0.552415663407708, high: 1.4399067934061114, p: 1.1277697571294845e-05, chance: 0.9999946536952937, df: 1929.1358647400073),
                .defined(lift: 1.354623450905624, low: 0.846749467070817, high: 1.862497434740431, p: 1.8724310986613426e-07, chance: 0.9999999157252446, df: 1890.1168800787175),
                .defined(lift: 1.7651515151515147, low: 1.184149163333943, high: 2.3461538669690865, p: 3.039543811941073e-09, chance: 0.9999999987270651, df: 1853.6892222787567),
                .defined(lift: 2.2267168391345247, low: 1.563746723079146, high: 2.8896869551899034, p: 5.84227151082227e-11, chance: 0.9999999999776051, df: 1823.7560285505629),
            ],
            srm: 0.9166591502812612, winner: "J", rule: .challengerWins),
        StatisticsVector(
            name: "revenue: clear winner", metric: .revenue,
            variants: [rev("A", 1.0, 1000, 300, 50000.0, 8893600.0), rev("B", 1.0, 1000, 320, 60000.0, 11691900.0)],
            comparisons: [
                .defined(lift: 0.19999999999999996, low: 0.03678177103430244, high: 0.36321822896569744, p: 0.016347562519722535, chance: 0.9918721666331409, df: 1970.9087923430607),
            ],
            srm: 1.0, winner: "B", rule: .challengerWins),
        StatisticsVector(
            name: "revenue: not significant", metric: .revenue,
            variants: [rev("A", 1.0, 1000, 300, 50000.0, 8893600.0), rev("B", 1.0, 1000, 310, 52000.0, 9921775.0)],
            comparisons: [
                .defined(lift: 0.040000000000000036, low: -0.10752923140650084, high: 0.1875292314065009, p: 0.5949698209640044, chance: 0.7025447546184129, df: 1990.7013759836843),
            ],
            srm: 1.0, winner: nil, rule: .notSignificant),
        StatisticsVector(
            name: "revenue: unequal variances and sizes", metric: .revenue,
            variants: [rev("A", 1.0, 400, 100, 8000.0, 169975.0), rev("B", 1.0, 450, 120, 9675.0, 926412.5)],
            comparisons: [
                .defined(lift: 0.07499999999999996, low: -0.11214194332471039, high: 0.2621419433247103, p: 0.43136934175381614, chance: 0.7845160488821843, df: 464.76228997248205),
            ],
            srm: 0.08634782098366274, winner: nil, rule: .notSignificant),
        StatisticsVector(
            name: "revenue: significant worse, control wins", metric: .revenue,
            variants: [rev("A", 1.0, 3000, 900, 90000.0, 3899600.0), rev("B", 1.0, 3000, 880, 81000.0, 3638516.0)],
            comparisons: [
                .defined(lift: -0.09999999999999998, low: -0.13391254067520866, high: -0.06608745932479129, p: 7.819591512984395e-09, chance: 3.720767186888649e-09, df: 5944.326894200722),
            ],
            srm: 1.0, winner: "A", rule: .controlWins),
        StatisticsVector(
            name: "revenue: control earned nothing", metric: .revenue,
            variants: [rev("A", 1.0, 500, 0, 0.0, 0.0), rev("B", 1.0, 500, 40, 1500.0, 54400.0)],
            comparisons: [
                .undefined(.mean),
            ],
            srm: 1.0, winner: nil, rule: .insufficientSample),
        StatisticsVector(
            name: "revenue: three users each (df about 3)", metric: .revenue,
            variants: [rev("A", 1.0, 3, 2, 30.0, 308.0), rev("B", 1.0, 3, 3, 42.0, 750.0)],
            comparisons: [
                .defined(lift: 0.3999999999999999, low: -1.7512610496477703, high: 2.55126104964777, p: 0.5327767624452819, chance: 0.7688452008072749, df: 2.197050326896761),
            ],
            srm: 1.0, winner: nil, rule: .insufficientSample),
    ]

    static let distributions: [DistributionVector] = [
        DistributionVector(.normalCDF, -37.5, 0.0, 4.605353009581954e-308),
        DistributionVector(.normalCDF, -20.0, 0.0, 2.7536241186061556e-89),
        DistributionVector(.normalCDF, -8.0, 0.0, 6.22096057427174e-16),
        DistributionVector(.normalCDF, -1.0, 0.0, 0.15865525393145707),
        DistributionVector(.normalCDF, 0.0, 0.0, 0.5),
        DistributionVector(.normalCDF, 1e-10, 0.0, 0.5000000000398942),
        DistributionVector(.normalCDF, 3.0, 0.0, 0.9986501019683699),
        DistributionVector(.normalCDF, 8.0, 0.0, 0.9999999999999993),
        DistributionVector(.tCDF, -1000.0, 0.1, 0.20918568425460027),
        DistributionVector(.tCDF, -40.0, 1.0, 0.007956089912025812),
        DistributionVector(.tCDF, -5.0, 2.5, 0.011725594985430925),
        DistributionVector(.tCDF, -1e-08, 3.0, 0.499999996324474),
        DistributionVector(.tCDF, 2.0, 30.0, 0.9726874775185085),
        DistributionVector(.tCDF, -10.0, 30.0, 2.287625704114809e-11),
        DistributionVector(.tCDF, -30.0, 10.0, 1.9808961710156623e-11),
        DistributionVector(.tCDF, -300.0, 5.0, 3.904953728961106e-12),
        DistributionVector(.tCDF, 0.5, 0.5, 0.6213409635352818),
        DistributionVector(.tCDF, -2.5, 10000.0, 0.006217609775291849),
        DistributionVector(.tCDF, -6.0, 1000000.0, 9.86924906177215e-10),
        DistributionVector(.tCDF, -2.0, 1000000000.0, 0.022750132083156623),
        DistributionVector(.tCDF, 1.5, 5000000000.0, 0.9331927986995721),
        DistributionVector(.tCDF, -3.0, 1000000000000.0, 0.0013498980316633353),
        DistributionVector(.tCDF, -3.0, 1000000000000000.0, 0.0013498980316301262),
        DistributionVector(.tCDF, -100000.0, 1.0, 3.183098861731804e-06),
        DistributionVector(.tCDF, -10000000000.0, 2.0, 5e-21),
        DistributionVector(.tCDF, 3.0, 0.001, 0.5026157608208659),
        DistributionVector(.tCDF, -1.0, 0.001, 0.4979308612246316),
        DistributionVector(.tCDF, -2.0, 7.3, 0.041970519667051565),
        DistributionVector(.tTwoSidedP, 1e-12, 5.0, 0.9999999999992408),
        DistributionVector(.tTwoSidedP, 50.0, 3.0, 1.761715204127197e-05),
        DistributionVector(.tTwoSidedP, 8.0, 200.0, 9.879200909330596e-14),
        DistributionVector(.tTwoSidedP, 0.7, 1.0, 0.6111997755715705),
        DistributionVector(.tTwoSidedP, 4.0, 10000000.0, 6.334293869016885e-05),
        DistributionVector(.tQuantile, 0.975, 0.1, 1682362288745.0078),
        DistributionVector(.tQuantile, 0.975, 0.5, 164.55767348048818),
        DistributionVector(.tQuantile, 0.975, 1.0, 12.706204736174694),
        DistributionVector(.tQuantile, 0.975, 2.0, 4.302652729749462),
        DistributionVector(.tQuantile, 0.975, 3.7, 2.8675207071911895),
        DistributionVector(.tQuantile, 0.975, 10.0, 2.228138851986274),
        DistributionVector(.tQuantile, 0.975, 100.0, 1.9839715185235518),
        DistributionVector(.tQuantile, 0.975, 10000.0, 1.960201239890626),
        DistributionVector(.tQuantile, 0.975, 100000000.0, 1.9599640082627663),
        DistributionVector(.tQuantile, 0.975, 1000000000000.0, 1.9599639845424262),
        DistributionVector(.tQuantile, 1e-12, 3.0, -10331.108244292487),
        DistributionVector(.tQuantile, 1e-10, 1000000.0, -6.361406848876743),
        DistributionVector(.tQuantile, 0.500001, 7.0, 2.5974602756555918e-06),
        DistributionVector(.tQuantile, 0.499999999, 2.0, -2.8284272017620538e-09),
        DistributionVector(.tQuantile, 0.999999, 1.0, 318309.88617359026),
        DistributionVector(.tQuantile, 1e-300, 50.0, -6675289.062943936),
        DistributionVector(.tQuantile, 0.025, 2.5, -3.5746548420036834),
        DistributionVector(.tQuantile, 0.9, 0.05, 10876044676001.973),
        DistributionVector(.chiSquareSurvival, 1e-06, 1.0, 0.9992021155721779),
        DistributionVector(.chiSquareSurvival, 0.5, 1.0, 0.47950012218695337),
        DistributionVector(.chiSquareSurvival, 3.84, 1.0, 0.05004352124870519),
        DistributionVector(.chiSquareSurvival, 100.0, 1.0, 1.5239706048320995e-23),
        DistributionVector(.chiSquareSurvival, 700.0, 1.0, 2.990226975124623e-154),
        DistributionVector(.chiSquareSurvival, 0.001, 9.0, 1.0),
        DistributionVector(.chiSquareSurvival, 20.0, 9.0, 0.017912404529843298),
        DistributionVector(.chiSquareSurvival, 200.0, 9.0, 3.312992393909567e-38),
        DistributionVector(.chiSquareSurvival, 50.0, 2.0, 1.3887943864964e-11),
        DistributionVector(.chiSquareSurvival, 9000.0, 10000.0, 0.999999999999873),
        DistributionVector(.chiSquareSurvival, 11000.0, 10000.0, 3.6183295580964682e-12),
        DistributionVector(.chiSquareSurvival, 1000000.0, 1000000.0, 0.4998119368033945),
        DistributionVector(.chiSquareSurvival, 1002000.0, 1000000.0, 0.07871866138612969),
        DistributionVector(.chiSquareSurvival, 5.0, 3.0, 0.1717971442967335),
        DistributionVector(.chiSquareSurvival, 0.1, 4.0, 0.9987908957257497),
    ]
    // END generated by scripts/conversion-vectors.py
}
