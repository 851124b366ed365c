import BusRuntime
import BusWire
import Contracts
import Foundation
import ServiceKit
import Storage

/// The error of a model version per metric, over its predictions that have
/// that actual (API.md "prediction"), and its quality gate against the
/// champion. Read from the sums `prediction_error` keeps per version, metric
/// and calibration bin (``ErrorSums`` changes them with every actual), plus
/// three index lookups per metric (the largest error, the smallest and
/// largest actual): the same cost at a million predictions as at ten.
public struct VersionErrors: Sendable {
    public typealias C = PredictionContracts
    public let store: ServiceStore

    /// Evidently's default for a regression's MAE: the reference's ±10%.
    public static let gateTolerance = 0.1
    public static let gateRule = "mae within ±10% of the champion's"

    public init(store: ServiceStore) {
        self.store = store
    }

    public var bindings: [MethodBinding] {
        [MethodBinding(C.versionMetrics) { request, context in try await metrics(request, context: context) }]
    }

    public func metrics(_ request: C.VersionRequest, context: RequestContext) async throws(BusError) -> C.VersionMetrics {
        let tenant = try context.requireTenant().tenant
        let name = request.name, number = request.version
        return try await store.read(tenant: tenant) { session in
            guard let row = try ModelRegistry.liveVersion(session, tenant: tenant, name: name, version: number) else { throw ModelRegistry.noVersion(name, number) }
            let version = try ModelRegistry.version(row, aliases: [:])
            let errors = try Self.errors(session, tenant: tenant, name: name, version: number, metrics: version.metrics)
            let champion = try ModelRegistry.aliased(session, tenant: tenant, name: name, alias: ModelRegistry.champion)
            var championErrors: [String: C.MetricErrors]?
            var championVersion: Int?
            if let champion {
                let reference = try ModelRegistry.version(champion, aliases: [:])
                championVersion = reference.version
                championErrors = reference.version == number
                    ? errors : try Self.errors(session, tenant: tenant, name: name, version: reference.version, metrics: reference.metrics)
            }
            return C.VersionMetrics(name: name, version: number, metrics: errors, qualityGate: Self.gate(errors, champion: championErrors, championVersion: championVersion))
        }
    }

    /// Every metric of the version, `n: 0` and nulls for one without actuals.
    static func errors(_ session: any DatabaseSession, tenant: String, name: String, version: Int, metrics: [String: C.MetricModel]) throws -> [String: C.MetricErrors] {
        var sums: [String: Sums] = [:]
        for row in try session.query("""
            SELECT metric, n, sum_predicted, sum_actual, sum_error, sum_abs_error, sum_squared_error, sum_relative_error, zero_actuals,
                shift, sum_shifted, sum_shifted_squares
            FROM prediction_error WHERE tenant_id = \(tenant) AND model = \(name) AND version = \(version)
            """) {
            sums[try row["metric"], default: Sums()].add(try Bin(row))
        }
        var errors: [String: C.MetricErrors] = [:]
        for (metric, model) in metrics {
            let kind = C.MetricKind(rawValue: model.kind) ?? .linear
            guard var metricSums = sums[metric], metricSums.n > 0 else {
                errors[metric] = Sums().errors(kind: kind)
                continue
            }
            let actuals: SQL = "FROM prediction_value WHERE tenant_id = \(tenant) AND model = \(name) AND version = \(version) AND metric = \(metric) AND actual IS NOT NULL"
            // One extreme per statement: each is a seek to an end of its index.
            metricSums.maxAbsError = try session.queryFirst("SELECT MAX(abs_error) AS x \(actuals)")?["x"] ?? 0
            let lowest: Double? = try session.queryFirst("SELECT MIN(actual) AS x \(actuals)")?["x"]
            let highest: Double? = try session.queryFirst("SELECT MAX(actual) AS x \(actuals)")?["x"]
            metricSums.actualsDiffer = lowest != highest
            errors[metric] = metricSums.errors(kind: kind)
        }
        return errors
    }

    /// One bin's sums.
    struct Bin {
        var n: Int
        var sumPredicted, sumActual, sumError, sumAbsError, sumSquaredError, sumRelativeError: Double
        var zeroActuals: Int
        /// Σ(a − shift) and Σ(a − shift)², shift being the bin's first actual: its variance without cancellation.
        var shift, sumShifted, sumShiftedSquares: Double

        init(_ row: Row) throws {
            n = try row["n"]
            sumPredicted = try row["sum_predicted"]
            sumActual = try row["sum_actual"]
            sumError = try row["sum_error"]
            sumAbsError = try row["sum_abs_error"]
            sumSquaredError = try row["sum_squared_error"]
            sumRelativeError = try row["sum_relative_error"]
            zeroActuals = try row["zero_actuals"]
            shift = try row["shift"]
            sumShifted = try row["sum_shifted"]
            sumShiftedSquares = try row["sum_shifted_squares"]
        }

        var meanActual: Double { shift + sumShifted / Double(n) }
        /// Σ(a − mean)² within the bin.
        var squaredDeviations: Double { max(0, sumShiftedSquares - sumShifted * sumShifted / Double(n)) }
    }

    /// A metric's sums over its bins.
    struct Sums {
        var n = 0
        var sumError = 0.0, sumAbsError = 0.0, sumSquaredError = 0.0, sumRelativeError = 0.0
        var zeroActuals = 0
        /// Σ over bins of |Σ predicted − Σ actual|: ECE × n.
        var calibrationGap = 0.0
        var bins: [Bin] = []
        var maxAbsError = 0.0
        /// Whether the actuals are not all the same (else SStot is 0 exactly, and R² undefined).
        var actualsDiffer = false

        mutating func add(_ bin: Bin) {
            guard bin.n > 0 else { return }
            n += bin.n
            sumError += bin.sumError
            sumAbsError += bin.sumAbsError
            sumSquaredError += bin.sumSquaredError
            sumRelativeError += bin.sumRelativeError
            zeroActuals += bin.zeroActuals
            calibrationGap += abs(bin.sumPredicted - bin.sumActual)
            bins.append(bin)
        }

        /// SStot from the bins' means and deviations (Chan et al.'s combination).
        var squaredDeviations: Double {
            let mean = bins.reduce(0.0) { $0 + Double($1.n) * $1.meanActual } / Double(n)
            return bins.reduce(0.0) { total, bin in
                let offset = bin.meanActual - mean
                return total + bin.squaredDeviations + Double(bin.n) * offset * offset
            }
        }

        /// Undefined values (no actuals; R² of equal actuals; MAPE without a non-zero actual) are nil.
        func errors(kind: C.MetricKind) -> C.MetricErrors {
            let rate = kind == .logistic
            guard n > 0 else {
                return C.MetricErrors(kind: kind, n: 0, mae: nil, rmse: nil, mape: nil, mapeExcluded: 0, meanError: nil, r2: nil, maxAbsError: nil, brier: nil, ece: nil)
            }
            let count = Double(n), nonZero = n - zeroActuals
            let total = actualsDiffer ? squaredDeviations : 0
            return C.MetricErrors(
                kind: kind, n: n, mae: sumAbsError / count, rmse: (sumSquaredError / count).squareRoot(),
                mape: nonZero > 0 ? sumRelativeError / Double(nonZero) : nil, mapeExcluded: zeroActuals,
                meanError: sumError / count, r2: total > 0 ? 1 - sumSquaredError / total : nil, maxAbsError: maxAbsError,
                brier: rate ? sumSquaredError / count : nil, ece: rate ? calibrationGap / count : nil
            )
        }
    }

    /// Per metric both predict: within ±10% of the champion's MAE; overall,
    /// every compared metric passed (nil when none could be compared).
    static func gate(_ errors: [String: C.MetricErrors], champion: [String: C.MetricErrors]?, championVersion: Int?) -> C.QualityGate {
        guard let champion else { return C.QualityGate(rule: gateRule, championVersion: nil, passed: nil, metrics: [:]) }
        var metrics: [String: C.GateMetric] = [:]
        for (metric, own) in errors {
            guard let reference = champion[metric] else { continue }
            var passed: Bool?
            if let mae = own.mae, let championMae = reference.mae {
                passed = abs(mae - championMae) <= gateTolerance * championMae
            }
            metrics[metric] = C.GateMetric(mae: own.mae, championMae: reference.mae, passed: passed)
        }
        let decided = metrics.values.compactMap(\.passed)
        return C.QualityGate(rule: gateRule, championVersion: championVersion, passed: decided.isEmpty ? nil : decided.allSatisfy { $0 }, metrics: metrics)
    }
}

/// One actual value changing (set, or replaced).
package struct ActualChange {
    var predictionID: String
    var model: String
    var version: Int
    var metric: String
    var predicted: Double
    var old: Double?
    var new: Double

    package init(predictionID: String, model: String, version: Int, metric: String, predicted: Double, old: Double?, new: Double) {
        self.predictionID = predictionID
        self.model = model
        self.version = version
        self.metric = metric
        self.predicted = predicted
        self.old = old
        self.new = new
    }
}

/// Keeps `prediction_error` equal to the sums over every value with an
/// actual: each change takes the old actual's terms out and puts the new
/// one's in, in the transaction that changes the value.
package enum ErrorSums {
    /// Sets the actuals and updates the sums. Value rows first, then the sums'
    /// rows in one order, so that concurrent changes never wait on each other in a circle.
    package static func apply(_ changes: [ActualChange], _ session: any DatabaseSession, tenant: String) throws {
        let changes = changes.filter { $0.old != $0.new }
        for change in changes.sorted(by: { ($0.predictionID, $0.metric) < ($1.predictionID, $1.metric) }) {
            try session.execute("""
                UPDATE prediction_value SET actual = \(change.new), abs_error = \(abs(change.predicted - change.new))
                WHERE tenant_id = \(tenant) AND prediction_id = \(change.predictionID) AND metric = \(change.metric)
                """)
        }
        let ordered = changes.sorted { a, b in
            (a.model, a.version, a.metric, bin(a.predicted)) < (b.model, b.version, b.metric, bin(b.predicted))
        }
        for change in ordered {
            if let old = change.old { try remove(change, actual: old, session, tenant: tenant) }
            try add(change, actual: change.new, session, tenant: tenant)
        }
    }

    /// The calibration bin of a predicted value: [0, 0.1) is 0, …, [0.9, 1.0] is 9
    /// (below 0 is 0, above 1 is 9), the edges compared as the decimals users write them.
    static func bin(_ predicted: Double) -> Int {
        [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9].reduce(0) { $0 + (predicted >= $1 ? 1 : 0) }
    }

    /// One value's terms: error, |error|, error², relative error (0 for a zero actual) and whether the actual is zero.
    static func terms(predicted: Double, actual: Double) -> (error: Double, absolute: Double, squared: Double, relative: Double, zero: Int) {
        let error = predicted - actual
        return (error, abs(error), error * error, actual != 0 ? abs(actual - predicted) / abs(actual) : 0, actual == 0 ? 1 : 0)
    }

    static func add(_ change: ActualChange, actual: Double, _ session: any DatabaseSession, tenant: String) throws {
        let t = terms(predicted: change.predicted, actual: actual)
        try session.execute("""
            INSERT INTO prediction_error (tenant_id, model, version, metric, bin, n, sum_predicted, sum_actual, sum_error, sum_abs_error,
                sum_squared_error, sum_relative_error, zero_actuals, shift, sum_shifted, sum_shifted_squares)
            VALUES (\(tenant), \(change.model), \(change.version), \(change.metric), \(bin(change.predicted)), 1, \(change.predicted), \(actual), \(t.error),
                \(t.absolute), \(t.squared), \(t.relative), \(t.zero), \(actual), 0, 0)
            ON CONFLICT (tenant_id, model, version, metric, bin) DO UPDATE SET
                n = prediction_error.n + 1,
                sum_predicted = prediction_error.sum_predicted + excluded.sum_predicted,
                sum_actual = prediction_error.sum_actual + excluded.sum_actual,
                sum_error = prediction_error.sum_error + excluded.sum_error,
                sum_abs_error = prediction_error.sum_abs_error + excluded.sum_abs_error,
                sum_squared_error = prediction_error.sum_squared_error + excluded.sum_squared_error,
                sum_relative_error = prediction_error.sum_relative_error + excluded.sum_relative_error,
                zero_actuals = prediction_error.zero_actuals + excluded.zero_actuals,
                sum_shifted = prediction_error.sum_shifted + (excluded.shift - prediction_error.shift),
                sum_shifted_squares = prediction_error.sum_shifted_squares + (excluded.shift - prediction_error.shift) * (excluded.shift - prediction_error.shift)
            """)
    }

    /// Takes a replaced actual's terms out; a bin left without values goes (its sums start afresh).
    static func remove(_ change: ActualChange, actual: Double, _ session: any DatabaseSession, tenant: String) throws {
        let t = terms(predicted: change.predicted, actual: actual)
        let key: SQL = "tenant_id = \(tenant) AND model = \(change.model) AND version = \(change.version) AND metric = \(change.metric) AND bin = \(bin(change.predicted))"
        try session.execute("""
            UPDATE prediction_error SET
                n = n - 1, sum_predicted = sum_predicted - \(change.predicted), sum_actual = sum_actual - \(actual), sum_error = sum_error - \(t.error),
                sum_abs_error = sum_abs_error - \(t.absolute), sum_squared_error = sum_squared_error - \(t.squared),
                sum_relative_error = sum_relative_error - \(t.relative), zero_actuals = zero_actuals - \(t.zero),
                sum_shifted = sum_shifted - (\(actual) - shift), sum_shifted_squares = sum_shifted_squares - (\(actual) - shift) * (\(actual) - shift)
            WHERE \(key)
            """)
        try session.execute("DELETE FROM prediction_error WHERE \(key) AND n = 0")
    }
}
