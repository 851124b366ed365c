import Foundation

/// What an experiment measures per user.
public enum ExperimentMetric: String, Hashable, Sendable, Codable, CaseIterable {
    case conversionRate = "conversion_rate"
    case revenue
}

/// One variant's accumulated observations: the input of the statistics.
///
/// Revenue figures are Doubles in currency units (`Money.doubleValue`): the
/// statistics are approximate by nature, while the stored totals stay exact.
public struct VariantObservations: Hashable, Sendable {
    public var variantID: String
    /// Planned share of traffic; any positive numbers, normalised here.
    public var weight: Double
    public var users: Int64
    public var conversions: Int64
    /// Sum of revenue over users (revenue experiments only).
    public var revenue: Double
    /// Sum over users of revenue² (revenue experiments only).
    public var revenueSumSquares: Double

    public init(
        variantID: String, weight: Double, users: Int64, conversions: Int64,
        revenue: Double = 0, revenueSumSquares: Double = 0
    ) {
        self.variantID = variantID
        self.weight = weight
        self.users = users
        self.conversions = conversions
        self.revenue = revenue
        self.revenueSumSquares = revenueSumSquares
    }
}

/// The results of one experiment, shaped like `GET /api/experiments/{id}/results`.
public struct ExperimentResults: Hashable, Sendable {
    public var variants: [VariantSummary]
    /// One per challenger (every variant after the first), in variant order.
    public var comparisons: [Comparison]
    /// nil when there are no users, or a weight is not a positive number.
    public var srmPValue: Double?
    public var decision: Decision
}

public struct VariantSummary: Hashable, Sendable {
    public var variantID: String
    public var users: Int64
    public var conversions: Int64
    /// conversions / users; nil without users.
    public var rate: Double?
    /// revenue / users; nil without users.
    public var mean: Double?
}

/// A challenger against the control. Either every statistic is set, or all
/// are nil and `undefinedReason` says why (never NaN, which JSON cannot carry).
public struct Comparison: Hashable, Sendable {
    public var variantID: String
    /// Relative lift m_t / m_c − 1.
    public var lift: Double?
    public var ciLow: Double?
    public var ciHigh: Double?
    public var pValue: Double?
    public var chanceToWin: Double?
    /// Welch–Satterthwaite degrees of freedom, for anyone checking the numbers.
    public var degreesOfFreedom: Double?
    public var undefinedReason: String?
}

public struct Decision: Hashable, Sendable {
    /// The rule that decided; `rule.reason` is the text answers carry.
    public enum Rule: String, Hashable, Sendable, CaseIterable {
        case tooFewVariants = "too_few_variants"
        case sampleRatioMismatch = "sample_ratio_mismatch"
        case insufficientSample = "insufficient_sample"
        case notSignificant = "not_significant"
        case challengerWins = "challenger_wins"
        case controlWins = "control_wins"

        public var reason: String {
            switch self {
            case .tooFewVariants:
                "no winner: an experiment needs a control and at least one challenger"
            case .sampleRatioMismatch:
                "no winner: sample ratio mismatch (srm_p_value < 0.001), so users were not split as the weights say and the results cannot be trusted"
            case .insufficientSample:
                "no winner yet: every variant needs at least \(ExperimentStatistics.minimumUsers) users and \(ExperimentStatistics.minimumConversions) conversions"
            case .notSignificant:
                "no winner yet: no challenger differs from the control with p < \(ExperimentStatistics.alpha)"
            case .challengerWins:
                "winner: of the challengers better than the control with p < \(ExperimentStatistics.alpha), the one with the highest lift"
            case .controlWins:
                "winner: the control, since every challenger that differs from it with p < \(ExperimentStatistics.alpha) is worse"
            }
        }
    }

    public var winnerVariantID: String?
    public var rule: Rule
    /// What completing the experiment stores: the winner's chance to win
    /// (for the control, 1 − the best challenger's); nil without a winner.
    public var confidence: Double?

    public var reason: String { rule.reason }
}

/// GrowthBook's frequentist statistics with a flat-prior chance to win, as
/// API.md specifies them, so a user can check every number against
/// GrowthBook or scipy. Pure: the service feeds it stored totals.
public enum ExperimentStatistics {
    public static let alpha = 0.05
    public static let srmThreshold = 0.001
    public static let minimumUsers: Int64 = 100
    public static let minimumConversions: Int64 = 25

    /// Compares every variant after the first (the control) with the first,
    /// tests the traffic split, and decides.
    public static func analyze(metric: ExperimentMetric, variants: [VariantObservations]) -> ExperimentResults {
        let summaries = variants.map { variant in
            VariantSummary(
                variantID: variant.variantID, users: variant.users, conversions: variant.conversions,
                rate: variant.users > 0 ? Double(variant.conversions) / Double(variant.users) : nil,
                mean: variant.users > 0 ? variant.revenue / Double(variant.users) : nil)
        }
        guard let control = variants.first, variants.count >= 2 else {
            return ExperimentResults(
                variants: summaries, comparisons: [], srmPValue: nil,
                decision: Decision(winnerVariantID: nil, rule: .tooFewVariants, confidence: nil))
        }
        let comparisons = variants.dropFirst().map { compare(metric: metric, control: control, challenger: $0) }
        let srm = sampleRatioMismatchPValue(users: variants.map(\.users), weights: variants.map(\.weight))
        let decision = decide(control: control, variants: variants, comparisons: comparisons, srmPValue: srm)
        return ExperimentResults(variants: summaries, comparisons: comparisons, srmPValue: srm, decision: decision)
    }

    /// The metric's mean per user and the variance of that mean.
    static func meanAndVariance(metric: ExperimentMetric, _ variant: VariantObservations) -> (mean: Double, variance: Double) {
        let n = Double(variant.users)
        switch metric {
        case .conversionRate:
            let m = Double(variant.conversions) / n
            return (m, m * (1 - m) / n)
        case .revenue:
            let m = variant.revenue / n
            let sampleVariance = (variant.revenueSumSquares - n * m * m) / (n - 1)
            return (m, sampleVariance / n)
        }
    }

    /// One challenger t against the control c: relative lift with its
    /// delta-method variance, Welch's t test and Φ(lift/√V).
    public static func compare(
        metric: ExperimentMetric, control: VariantObservations, challenger: VariantObservations
    ) -> Comparison {
        var result = Comparison(variantID: challenger.variantID)
        guard control.users >= 2, challenger.users >= 2 else {
            result.undefinedReason = "fewer than 2 users in the control or the challenger"
            return result
        }
        let (mc, vc) = meanAndVariance(metric: metric, control)
        let (mt, vt) = meanAndVariance(metric: metric, challenger)
        guard mc != 0, mc.isFinite, mt.isFinite else {
            result.undefinedReason = mc == 0
                ? "the control's mean is zero, so a relative lift is undefined"
                : "a variant's mean is not a finite number"
            return result
        }
        let lift = mt / mc - 1
        let mc2 = mc * mc
        let variance = vt / mc2 + mt * mt * vc / (mc2 * mc2)
        guard variance.isFinite, variance > 0, vt >= 0, vc >= 0 else {
            result.undefinedReason = "the variance of the lift is zero or not a finite positive number"
            return result
        }
        let nt = Double(challenger.users), nc = Double(control.users)
        let df = (vt + vc) * (vt + vc) / (vt * vt / (nt - 1) + vc * vc / (nc - 1))
        guard df.isFinite, df > 0 else {
            result.undefinedReason = "the Welch–Satterthwaite degrees of freedom are undefined"
            return result
        }
        let standardError = variance.squareRoot()
        let t = lift / standardError
        let halfWidth = Distributions.studentTQuantile(1 - alpha / 2, df: df) * standardError
        result.lift = lift
        result.ciLow = lift - halfWidth
        result.ciHigh = lift + halfWidth
        result.pValue = Distributions.studentTTwoSidedP(t, df: df)
        result.chanceToWin = Distributions.normalCDF(t)
        result.degreesOfFreedom = df
        return result
    }

    /// χ² goodness of fit of the users per variant against total × normalised
    /// weight, with k − 1 degrees of freedom. nil when it cannot be computed.
    public static func sampleRatioMismatchPValue(users: [Int64], weights: [Double]) -> Double? {
        guard users.count >= 2, users.count == weights.count,
              weights.allSatisfy({ $0.isFinite && $0 > 0 }), users.allSatisfy({ $0 >= 0 })
        else { return nil }
        let total = users.reduce(0.0) { $0 + Double($1) }
        let weightSum = weights.reduce(0, +)
        guard total > 0, weightSum.isFinite else { return nil }
        var statistic = 0.0
        for (observed, weight) in zip(users, weights) {
            let expected = total * weight / weightSum
            let difference = Double(observed) - expected
            statistic += difference * difference / expected
        }
        return Distributions.chiSquareSurvival(statistic, df: Double(users.count - 1))
    }

    static func decide(
        control: VariantObservations, variants: [VariantObservations], comparisons: [Comparison], srmPValue: Double?
    ) -> Decision {
        func noWinner(_ rule: Decision.Rule) -> Decision { Decision(winnerVariantID: nil, rule: rule, confidence: nil) }
        if let srmPValue, srmPValue < srmThreshold { return noWinner(.sampleRatioMismatch) }
        if variants.contains(where: { $0.users < minimumUsers || $0.conversions < minimumConversions }) {
            return noWinner(.insufficientSample)
        }
        let significant = comparisons.filter { ($0.pValue ?? 1) < alpha }
        if significant.isEmpty { return noWinner(.notSignificant) }
        // The first of equal lifts wins: variant order is the tie-break a user can see.
        var best: Comparison?
        for comparison in significant where comparison.lift! > 0 {
            if best == nil || comparison.lift! > best!.lift! { best = comparison }
        }
        if let best {
            return Decision(winnerVariantID: best.variantID, rule: .challengerWins, confidence: best.chanceToWin)
        }
        let bestChallengerChance = comparisons.compactMap(\.chanceToWin).max() ?? 0
        return Decision(winnerVariantID: control.variantID, rule: .controlWins, confidence: 1 - bestChallengerChance)
    }
}

extension Comparison {
    init(variantID: String) {
        self.init(
            variantID: variantID, lift: nil, ciLow: nil, ciHigh: nil, pValue: nil, chanceToWin: nil,
            degreesOfFreedom: nil, undefinedReason: nil)
    }
}
