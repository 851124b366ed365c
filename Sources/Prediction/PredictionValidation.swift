import BusWire
import Contracts
import Foundation

/// What the prediction service refuses, with messages that name the field.
enum PredictionValidation {
    typealias MetricModel = PredictionContracts.MetricModel

    static func modelName(_ name: String, field: String = "name") throws(BusError) -> String {
        guard isName(name, firstIsLetter: false) else {
            throw BusError(.invalidArgument, "\(field) must be 1 to \(PredictionLimits.maxNameLength) ASCII letters, digits, '_' or '-', starting with a letter or digit")
        }
        return name
    }

    static func alias(_ alias: String, field: String = "alias") throws(BusError) -> String {
        guard isName(alias, firstIsLetter: true) else {
            throw BusError(.invalidArgument, "\(field) must be 1 to \(PredictionLimits.maxNameLength) ASCII letters, digits, '_' or '-', starting with a letter")
        }
        return alias
    }

    /// `[A-Za-z0-9][A-Za-z0-9_-]*` (the first a letter when `firstIsLetter`), at most 100 long.
    static func isName(_ text: String, firstIsLetter: Bool) -> Bool {
        let bytes = Array(text.utf8)
        guard (1...PredictionLimits.maxNameLength).contains(bytes.count) else { return false }
        func letter(_ b: UInt8) -> Bool { (0x41...0x5A).contains(b) || (0x61...0x7A).contains(b) }
        func digit(_ b: UInt8) -> Bool { (0x30...0x39).contains(b) }
        guard letter(bytes[0]) || (!firstIsLetter && digit(bytes[0])) else { return false }
        return bytes.allSatisfy { letter($0) || digit($0) || $0 == 0x5F || $0 == 0x2D }
    }

    static func version(_ version: Int, field: String = "version") throws(BusError) -> Int {
        guard version >= 1 else { throw BusError(.invalidArgument, "\(field) must be at least 1, got \(version)") }
        return version
    }

    /// A version's metrics: 1 to 64, each a known kind over finite numbers.
    static func metrics(_ metrics: [String: MetricModel]) throws(BusError) -> [String: MetricModel] {
        guard !metrics.isEmpty else { throw BusError(.invalidArgument, "metrics must name at least one metric") }
        guard metrics.count <= PredictionLimits.maxMetrics else { throw BusError(.invalidArgument, "metrics has more than \(PredictionLimits.maxMetrics) entries") }
        for (name, model) in metrics {
            _ = try metricName(name, field: "metrics")
            guard PredictionContracts.MetricKind(rawValue: model.kind) != nil else {
                throw BusError(.invalidArgument, "metrics.\(name).kind must be linear or logistic, got \(model.kind)")
            }
            guard model.intercept.isFinite else { throw BusError(.invalidArgument, "metrics.\(name).intercept must be a finite number") }
            _ = try features(model.coefficients, field: "metrics.\(name).coefficients")
        }
        return metrics
    }

    /// `[A-Za-z][A-Za-z0-9_]*`, 1 to 64 long, not `id` (the actual's body puts metrics beside the prediction's `id`).
    static func metricName(_ name: String, field: String) throws(BusError) -> String {
        let bytes = Array(name.utf8)
        let valid = (1...PredictionLimits.maxMetricNameLength).contains(bytes.count)
            && ((0x41...0x5A).contains(bytes[0]) || (0x61...0x7A).contains(bytes[0]))
            && bytes.allSatisfy { (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == 0x5F }
        guard valid, name != "id" else {
            throw BusError(.invalidArgument, "\(field): metric name \(name.debugDescription) must be 1 to 64 ASCII letters, digits or '_', starting with a letter, and not 'id'")
        }
        return name
    }

    /// At most 256 finite numbers under names of at most 200 characters: the
    /// analysis-store's bounds, so that every stored analysis's features fit.
    static func features(_ features: [String: Double], field: String = "features") throws(BusError) -> [String: Double] {
        guard features.count <= PredictionLimits.maxFeatures else { throw BusError(.invalidArgument, "\(field) has more than \(PredictionLimits.maxFeatures) entries") }
        for (name, value) in features {
            guard name.unicodeScalars.count <= PredictionLimits.maxFeatureNameLength else {
                throw BusError(.invalidArgument, "\(field): a feature name is longer than \(PredictionLimits.maxFeatureNameLength) characters")
            }
            guard value.isFinite else { throw BusError(.invalidArgument, "\(field).\(name) must be a finite number") }
        }
        return features
    }

    /// Sorted-key JSON, as rows store names to numbers.
    static func json<T: Encodable>(_ value: T) throws(BusError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { throw BusError(.internal, "could not encode \(T.self)") }
        return String(decoding: data, as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String, what: String) throws(BusError) -> T {
        guard let value = try? JSONDecoder().decode(T.self, from: Data(text.utf8)) else { throw BusError(.internal, "unreadable \(what)") }
        return value
    }
}

/// A reference to a model version as requests write it: `name`, `name@alias` or `name@N`.
enum ModelReference: Hashable {
    /// The champion if there is one, else the latest live version.
    case name(String)
    case alias(String, String)
    case version(String, Int)

    init(parsing text: String) throws(BusError) {
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let name = try PredictionValidation.modelName(parts[0], field: "model")
        guard parts.count == 2 else {
            self = .name(name)
            return
        }
        let suffix = parts[1]
        if let first = suffix.utf8.first, (0x31...0x39).contains(first), suffix.utf8.allSatisfy({ (0x30...0x39).contains($0) }) {
            guard let number = Int(suffix) else { throw BusError(.invalidArgument, "model: version \(suffix) is too large") }
            self = .version(name, number)
        } else {
            self = .alias(name, try PredictionValidation.alias(suffix, field: "model"))
        }
    }

    var name: String {
        switch self {
        case .name(let name), .alias(let name, _), .version(let name, _): name
        }
    }
}

/// How a version computes one metric: deterministic, the coefficients
/// summed in the order of their names.
struct MetricFormula {
    let kind: PredictionContracts.MetricKind
    let intercept: Double
    /// Sorted by feature name.
    let coefficients: [(feature: String, weight: Double)]

    init(_ model: PredictionContracts.MetricModel) throws(BusError) {
        guard let kind = PredictionContracts.MetricKind(rawValue: model.kind) else { throw BusError(.internal, "unknown metric kind \(model.kind)") }
        self.kind = kind
        self.intercept = model.intercept
        self.coefficients = model.coefficients.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    /// b0 + Σ wᵢxᵢ (a missing feature counts as 0), through the logistic
    /// function for a rate metric; nil when the sum is not finite.
    func predict(_ features: [String: Double]) -> Double? {
        var z = intercept
        for (feature, weight) in coefficients {
            if let x = features[feature] { z += weight * x }
        }
        guard z.isFinite else { return nil }
        switch kind {
        case .linear: return z
        // Both halves stay accurate far from 0 (no 1 − tiny, no e^large).
        case .logistic: return z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z))
        }
    }
}
