import Foundation

/// How a conversion's value is shared among the campaigns that touched it.
public enum AttributionModel: String, Hashable, Sendable, Codable, CaseIterable {
    case last, first, linear, position
    case timeDecay = "time_decay"

    /// API.md: `model` defaults to `last`.
    public static let `default` = AttributionModel.last
}

/// A campaign touching the user before the conversion, in epoch milliseconds.
public struct Touchpoint: Hashable, Sendable {
    public var campaignID: String
    public var at: Int64

    public init(campaignID: String, at: Int64) {
        self.campaignID = campaignID
        self.at = at
    }
}

/// A campaign's share of one conversion's value, in minor units.
public struct AttributionCredit: Hashable, Sendable {
    public var campaignID: String
    public var minorUnits: Int64

    public init(campaignID: String, minorUnits: Int64) {
        self.campaignID = campaignID
        self.minorUnits = minorUnits
    }
}

/// Splits a conversion's value into exact credits that always sum to it.
///
/// Each touch's share is rounded down to the currency's unit and the units
/// left over go one each to the largest remainders (ties to the later touch),
/// so no unit is lost or invented. Weights that are rational (linear,
/// position) are split in exact integer arithmetic; only time decay uses
/// Doubles, and only to compute its weights.
public enum Attribution {
    /// One week, the time-decay half-life.
    public static let halfLifeMilliseconds: Int64 = 7 * 24 * 60 * 60 * 1000

    /// The credits per campaign, in order of each campaign's first touch,
    /// without zero credits.
    ///
    /// - Parameters:
    ///   - value: the conversion's value in minor units, ≥ 0.
    ///   - touchpoints: in request order, none later than `occurredAt`
    ///     (the service validates both).
    ///   - campaignID: the conversion's own campaign, credited fully when
    ///     there are no touchpoints.
    public static func credits(
        value: Int64, touchpoints: [Touchpoint], occurredAt: Int64, model: AttributionModel,
        campaignID: String? = nil
    ) -> [AttributionCredit] {
        precondition(value >= 0, "a conversion's value is validated to be ≥ 0")
        guard !touchpoints.isEmpty else {
            guard let campaignID, value > 0 else { return [] }
            return [AttributionCredit(campaignID: campaignID, minorUnits: value)]
        }
        let ordered = inTimeOrder(touchpoints)
        let perTouch = split(value, weights: weights(ordered, occurredAt: occurredAt, model: model))
        var totals: [String: Int64] = [:]
        var order: [String] = []
        for (touch, credit) in zip(ordered, perTouch) {
            if totals[touch.campaignID] == nil { order.append(touch.campaignID) }
            totals[touch.campaignID, default: 0] += credit  // ≤ value: cannot overflow
        }
        return order.compactMap { id in
            let total = totals[id]!
            return total > 0 ? AttributionCredit(campaignID: id, minorUnits: total) : nil
        }
    }

    /// Sorted by time; equal times keep request order (sorting by the
    /// original index too, because `sort` does not promise stability).
    static func inTimeOrder(_ touchpoints: [Touchpoint]) -> [Touchpoint] {
        touchpoints.enumerated()
            .sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }
            .map(\.element)
    }

    /// Integer weights per touch (in time order); only their ratios matter.
    static func weights(_ ordered: [Touchpoint], occurredAt: Int64, model: AttributionModel) -> [Int64] {
        let n = ordered.count
        var weights = [Int64](repeating: 0, count: n)
        switch model {
        case .last:
            weights[n - 1] = 1
        case .first:
            weights[0] = 1
        case .linear:
            weights = [Int64](repeating: 1, count: n)
        case .position:
            if n <= 2 { return [Int64](repeating: 1, count: n) }
            // Over 5(n−2): 40% is 2(n−2) each at the ends, 20% is one per middle touch.
            weights = [Int64](repeating: 1, count: n)
            weights[0] = 2 * Int64(n - 2)
            weights[n - 1] = 2 * Int64(n - 2)
        case .timeDecay:
            // 2^(−Δt/half-life), divided by the newest touch's weight (which
            // changes no ratio) so that weights of touches long before the
            // conversion do not all underflow; then scaled to integers with
            // headroom for their sum.
            let ages = ordered.map { occurredAt.subtractingReportingOverflow($0.at) }
            let youngest = ages.filter { !$0.overflow }.map(\.partialValue).min() ?? 0
            let scaleBits = min(52, 62 - (Int64.bitWidth - Int64(n).leadingZeroBitCount))
            let scale = Double(Int64(1) << scaleBits)
            for (index, age) in ages.enumerated() where !age.overflow {
                let halfLives = (Double(age.partialValue) - Double(youngest)) / Double(halfLifeMilliseconds)
                weights[index] = Int64((exp2(-halfLives) * scale).rounded())
            }
            if weights.allSatisfy({ $0 == 0 }) { weights[n - 1] = 1 }  // only if every age overflowed
        }
        return weights
    }

    /// Shares `value` in proportion to `weights` (non-negative, not all zero,
    /// sum within Int64): floor of each exact share, then one unit each to
    /// the largest remainders, ties to the later index.
    static func split(_ value: Int64, weights: [Int64]) -> [Int64] {
        let total = weights.reduce(0, +)
        precondition(total > 0, "some touch has weight")
        var shares = [Int64](repeating: 0, count: weights.count)
        var remainders = [Int64](repeating: 0, count: weights.count)
        var assigned: Int64 = 0
        for (index, weight) in weights.enumerated() {
            // value × weight needs 128 bits; the quotient fits since weight ≤ total.
            let product = value.multipliedFullWidth(by: weight)
            let (quotient, remainder) = total.dividingFullWidth(product)
            shares[index] = quotient
            remainders[index] = remainder
            assigned += quotient
        }
        let leftover = value - assigned  // Σ remainders / total, so < weights.count
        if leftover > 0 {
            let byRemainder = remainders.indices.sorted {
                remainders[$0] != remainders[$1] ? remainders[$0] > remainders[$1] : $0 > $1
            }
            for index in byRemainder.prefix(Int(leftover)) { shares[index] += 1 }
        }
        return shares
    }
}
