import BusRuntime
import BusWire
import Contracts
import Foundation
import Prediction
import ServiceKit
import Storage
import TestSupport
import Testing

/// A version's error per metric (API.md "prediction") on both engines,
/// checked against a reference computed here from the definitions alone
/// (plain loops, two-pass mean and variance) over the (predicted, actual)
/// pairs as they were stored, for cases made by a seeded generator; and,
/// when numpy is installed, against numpy. Cases are packed into few
/// versions of one model per database (each case one metric of a version),
/// so one fixture per engine holds them all.
@Suite(.serialized) struct VersionErrorsTests {
    typealias C = PredictionContracts
    typealias Pair = (predicted: Double, actual: Double)

    static let acme = PredictionFixture.context("acme")
    static let globex = PredictionFixture.context("globex")

    // MARK: - Reference

    /// The lower edges of bins 1…9, as the decimals users write.
    static let binEdges: [Double] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]

    /// The calibration bin of a predicted value: how many edges it reaches
    /// ([0, 0.1) is 0, …, [0.9, 1.0] is 9).
    static func bin(_ predicted: Double) -> Int {
        var bin = 0
        for edge in binEdges where predicted >= edge { bin += 1 }
        return bin
    }

    /// MetricErrors from API.md's definitions over the pairs that have an actual.
    static func reference(_ kind: C.MetricKind, _ pairs: [Pair]) -> C.MetricErrors {
        let rate = kind == .logistic
        let n = pairs.count
        guard n > 0 else {
            return C.MetricErrors(kind: kind, n: 0, mae: nil, rmse: nil, mape: nil, mapeExcluded: 0, meanError: nil, r2: nil, maxAbsError: nil, brier: nil, ece: nil)
        }
        let count = Double(n)

        var sumError = 0.0, sumAbsError = 0.0, sumSquaredError = 0.0, maxAbsError = 0.0
        for (predicted, actual) in pairs {
            let error = predicted - actual
            sumError += error
            sumAbsError += abs(error)
            sumSquaredError += error * error
            maxAbsError = max(maxAbsError, abs(error))
        }

        var sumRelative = 0.0, nonZero = 0, zeros = 0
        for (predicted, actual) in pairs {
            if actual == 0 {
                zeros += 1
            } else {
                sumRelative += abs(actual - predicted) / abs(actual)
                nonZero += 1
            }
        }

        // SStot = Σ (a − mean a)², two passes; exactly 0 when every actual is the same.
        var sumActual = 0.0
        for (_, actual) in pairs { sumActual += actual }
        let meanActual = sumActual / count
        var ssTot = 0.0
        for (_, actual) in pairs { ssTot += (actual - meanActual) * (actual - meanActual) }
        let allEqual = pairs.allSatisfy { $0.actual == pairs[0].actual }
        let r2: Double? = allEqual ? nil : 1 - sumSquaredError / ssTot

        var brier: Double?, ece: Double?
        if rate {
            var squared = 0.0
            for (predicted, actual) in pairs { squared += (predicted - actual) * (predicted - actual) }
            brier = squared / count
            var binPredicted = [[Double]](repeating: [], count: 10), binActual = [[Double]](repeating: [], count: 10)
            for (predicted, actual) in pairs {
                binPredicted[bin(predicted)].append(predicted)
                binActual[bin(predicted)].append(actual)
            }
            var total = 0.0
            for b in 0..<10 where !binPredicted[b].isEmpty {
                let nb = Double(binPredicted[b].count)
                var sp = 0.0, sa = 0.0
                for p in binPredicted[b] { sp += p }
                for a in binActual[b] { sa += a }
                total += (nb / count) * abs(sp / nb - sa / nb)
            }
            ece = total
        }

        return C.MetricErrors(
            kind: kind, n: n, mae: sumAbsError / count, rmse: (sumSquaredError / count).squareRoot(),
            mape: nonZero > 0 ? sumRelative / Double(nonZero) : nil, mapeExcluded: zeros,
            meanError: sumError / count, r2: r2, maxAbsError: maxAbsError, brier: brier, ece: ece
        )
    }

    /// Relative tolerance 1e-9 of the larger of the expected value and
    /// `scale` (the magnitude the value is a difference of: mae for
    /// mean_error, 1 for r2), plus 1e-12 absolute; nil exactly where expected.
    static func agrees(_ got: Double?, _ expected: Double?, scale: Double = 0) -> Bool {
        switch (got, expected) {
        case (nil, nil): true
        case let (got?, expected?): got.isFinite && abs(got - expected) <= 1e-9 * max(abs(expected), scale) + 1e-12
        default: false
        }
    }

    /// Every field of `got` against `expected`, each disagreement reported with the case's label.
    static func expectAgree(_ got: C.MetricErrors?, _ expected: C.MetricErrors, _ label: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let got else {
            Issue.record("\(label): metric missing from the answer", sourceLocation: sourceLocation)
            return
        }
        #expect(got.kind == expected.kind, "\(label): kind", sourceLocation: sourceLocation)
        #expect(got.n == expected.n, "\(label): n", sourceLocation: sourceLocation)
        #expect(got.mapeExcluded == expected.mapeExcluded, "\(label): mape_excluded", sourceLocation: sourceLocation)
        let fields: [(String, Double?, Double?, Double)] = [
            ("mae", got.mae, expected.mae, 0), ("rmse", got.rmse, expected.rmse, 0), ("mape", got.mape, expected.mape, 0),
            ("mean_error", got.meanError, expected.meanError, expected.mae ?? 0), ("r2", got.r2, expected.r2, 1),
            ("max_abs_error", got.maxAbsError, expected.maxAbsError, 0), ("brier", got.brier, expected.brier, 0), ("ece", got.ece, expected.ece, 0),
        ]
        for (field, value, reference, scale) in fields {
            #expect(agrees(value, reference, scale: scale), "\(label): \(field) got \(value.map { "\($0)" } ?? "nil"), expected \(reference.map { "\($0)" } ?? "nil")",
                    sourceLocation: sourceLocation)
        }
    }

    // MARK: - Generator

    /// SplitMix64 (Steele, Lea, Flood 2014): the same cases on every run.
    struct SplitMix64 {
        var state: UInt64

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        /// Uniform in [0, 1), 53 random bits.
        mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }
        mutating func uniform(_ low: Double, _ high: Double) -> Double { low + (high - low) * unit() }
        mutating func int(_ range: ClosedRange<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
        mutating func chance(_ p: Double) -> Bool { unit() < p }
    }

    /// One sample: the feature the metric is computed from (predicted is b0 + w·x, or its logistic),
    /// optionally a predicted value written over the stored one, and the actual (nil: none is set).
    struct Sample: Sendable {
        var x: Double
        var stored: Double? = nil
        var actual: Double?
    }

    /// One metric's samples; becomes one metric of a generated version.
    struct Case: Sendable {
        var label: String
        var kind: C.MetricKind
        var intercept = 0.0
        var weight = 1.0
        var samples: [Sample]
    }

    /// The logistic function as the service computes it (`MetricFormula`): used only to aim at exact predicted values.
    static func serviceLogistic(_ z: Double) -> Double { z >= 0 ? 1 / (1 + exp(-z)) : exp(z) / (1 + exp(z)) }

    /// A z whose logistic is exactly `target`, when one exists (0.1 and 0.9 have none).
    static func logit(exactly target: Double) -> Double? {
        if target == 0 { return -800 }
        var low = -800.0, high = 800.0
        for _ in 0..<200 {
            let middle = (low + high) / 2
            if serviceLogistic(middle) < target { low = middle } else { high = middle }
        }
        var z = high
        for _ in 0..<64 {
            if serviceLogistic(z) == target { return z }
            z = z.nextUp
        }
        return nil
    }

    /// Predicted values on and just below the bin edges, reachable through the logistic function.
    static let reachableEdges: [Double] = [0.0, 0.2, 0.3, (0.3).nextDown, 0.5, 0.7, (0.7).nextDown, (0.9).nextDown, 1.0]
    /// Edges no z reaches: written over the stored predicted value.
    static let storedEdges: [Double] = [0.0, 0.1, (0.1).nextDown, 0.3, 0.7, 0.9, (0.9).nextDown, 1.0, 0.5, 0.25]

    static func generatedCases(seed: UInt64) -> [Case] {
        var rng = SplitMix64(state: seed)
        var cases: [Case] = []

        // Linear: predicted x exactly (b0 0, w 1).
        cases.append(Case(label: "linear single sample", kind: .linear, samples: [Sample(x: 3.5, actual: 2)]))
        cases.append(Case(label: "logistic single sample", kind: .logistic, intercept: 0.3, weight: 0.7, samples: [Sample(x: 1.25, actual: 0.4)]))
        cases.append(Case(label: "linear all actuals 0.1", kind: .linear, samples: (0..<37).map { _ in Sample(x: rng.uniform(-1, 1), actual: 0.1) }))
        cases.append(Case(label: "linear all actuals 1234567.891", kind: .linear,
                          samples: (0..<20).map { _ in Sample(x: 1234567.891 + rng.uniform(-50, 50), actual: 1234567.891) }))
        cases.append(Case(label: "logistic all actuals 0.3", kind: .logistic, intercept: -0.5, weight: 1.3,
                          samples: (0..<53).map { _ in Sample(x: rng.uniform(-2, 2), actual: 0.3) }))
        cases.append(Case(label: "linear some zero actuals", kind: .linear, samples: (0..<60).map { i in
            let actual = i % 4 == 0 ? (i == 8 ? -0.0 : 0.0) : rng.uniform(-20, 20)
            return Sample(x: actual + rng.uniform(-3, 3), actual: rng.chance(0.1) ? nil : actual)
        }))
        cases.append(Case(label: "linear all zero actuals", kind: .linear, samples: (0..<25).map { _ in Sample(x: rng.uniform(-5, 5), actual: 0) }))
        cases.append(Case(label: "logistic some zero actuals", kind: .logistic, intercept: -1, weight: 2, samples: (0..<70).map { _ in
            Sample(x: rng.uniform(-2, 2), actual: rng.chance(0.3) ? 0 : rng.unit())
        }))
        cases.append(Case(label: "logistic all zero actuals", kind: .logistic, samples: (0..<30).map { _ in Sample(x: rng.uniform(-4, 4), actual: 0) }))
        // On the edges, each edge several times with different actuals.
        var onEdges: [Sample] = []
        for edge in reachableEdges {
            let z = logit(exactly: edge)!
            for _ in 0..<4 { onEdges.append(Sample(x: z, actual: rng.chance(0.5) ? Double(rng.int(0...1)) : rng.unit())) }
        }
        cases.append(Case(label: "logistic predicted on reachable bin edges", kind: .logistic, samples: onEdges))
        cases.append(Case(label: "logistic predicted stored on every bin edge", kind: .logistic,
                          samples: storedEdges.flatMap { edge in (0..<3).map { _ in Sample(x: 0, stored: edge, actual: rng.unit()) } }))
        // Where 0.3 falls decides the ECE: 0.3 (bin 3) with actual 1, just below it (bin 2) with actual 0.
        let z3 = logit(exactly: 0.3)!, zBelow3 = logit(exactly: (0.3).nextDown)!
        cases.append(Case(label: "logistic 0.3 decides the bin", kind: .logistic,
                          samples: (0..<5).map { _ in Sample(x: z3, actual: 1) } + (0..<5).map { _ in Sample(x: zBelow3, actual: 0) }))
        cases.append(Case(label: "linear large values", kind: .linear, samples: (0..<120).map { _ in
            let actual = rng.uniform(1e9, 5e9)
            return Sample(x: actual + rng.uniform(-1e7, 2e7), actual: actual)
        }))
        cases.append(Case(label: "linear negative values", kind: .linear, intercept: -250, weight: 3, samples: (0..<90).map { _ in
            let actual = rng.uniform(-1e6, -1e3)
            return Sample(x: (actual + rng.uniform(-1e4, 1e4) + 250) / 3, actual: actual)
        }))
        cases.append(Case(label: "linear perfect predictions", kind: .linear, samples: (0..<40).map { _ in
            let value = rng.uniform(-100, 100)
            return Sample(x: value, actual: value)
        }))
        cases.append(Case(label: "logistic constant 0.5", kind: .logistic, samples: (0..<45).map { _ in Sample(x: 0, actual: rng.unit()) }))
        cases.append(Case(label: "linear 200 samples", kind: .linear, intercept: 10, weight: -0.5,
                          samples: (0..<200).map { _ in Sample(x: rng.uniform(-400, 400), actual: rng.uniform(-200, 200)) }))

        // Random: sizes 1…200, either kind, some samples without an actual.
        for i in 0..<16 {
            let size = rng.int(1...200)
            let missing = rng.uniform(0, 0.3)
            if rng.chance(0.5) {
                let center = rng.uniform(-1e4, 1e4), spread = pow(10, rng.uniform(-1, 4)), bias = rng.uniform(-0.5, 0.5)
                let intercept = rng.chance(0.5) ? 0 : rng.uniform(-100, 100), weight = rng.chance(0.5) ? 1 : rng.uniform(0.5, 4)
                cases.append(Case(label: "random linear \(i) (n ≤ \(size))", kind: .linear, intercept: intercept, weight: weight, samples: (0..<size).map { _ in
                    let actual = center + spread * rng.uniform(-1, 1)
                    let predicted = actual + spread * (bias + 0.4 * rng.uniform(-1, 1))
                    return Sample(x: (predicted - intercept) / weight, actual: rng.chance(missing) ? nil : actual)
                }))
            } else {
                let intercept = rng.uniform(-2, 2), weight = rng.uniform(-3, 3), noise = rng.uniform(0, 0.5)
                cases.append(Case(label: "random logistic \(i) (n ≤ \(size))", kind: .logistic, intercept: intercept, weight: weight, samples: (0..<size).map { _ in
                    let x = rng.uniform(-3, 3)
                    let p = 1 / (1 + exp(-(intercept + weight * x)))
                    let actual = min(1, max(0, p + noise * rng.uniform(-1, 1)))
                    return Sample(x: x, actual: rng.chance(missing) ? nil : actual)
                }))
            }
        }
        return cases
    }

    // MARK: - Loading

    /// A case as loaded: the version and metric that hold it, and its (predicted, actual) pairs as stored.
    struct Loaded: Sendable {
        var label: String
        var kind: C.MetricKind
        var version: Int
        var metric: String
        var pairs: [Pair]
    }

    /// Registers one version of `model` per group of at most `perVersion` cases
    /// (the k-th case of a group is metric `m<k>` over feature `x<k>`), one
    /// prediction per sample row plus one without features or actuals, and the
    /// actuals; a sample's `stored` value is written over its predicted value.
    static func load(
        _ cases: [Case], model: String, perVersion: Int = 8, into f: PredictionFixture, tenant: String
    ) async throws -> [Loaded] {
        let context = PredictionFixture.context(tenant)
        let clips = (0..<10).map { "clip-\($0)" }
        for clip in clips { f.clips.add(clip, tenant: tenant) }
        var loaded: [Loaded] = []
        var start = 0
        while start < cases.count {
            let group = Array(cases[start..<min(start + perVersion, cases.count)])
            start += group.count
            var metrics: [String: C.MetricModel] = [:]
            for (k, c) in group.enumerated() {
                metrics["m\(k)"] = C.MetricModel(kind: c.kind, intercept: c.intercept, coefficients: ["x\(k)": c.weight])
            }
            let version = try await f.registry.createVersion(.init(name: model, metrics: metrics), context: context).version
            var pairs = [[Pair]](repeating: [], count: group.count)
            let rows = group.map(\.samples.count).max()! + 1
            for i in 0..<rows {
                var features: [String: Double] = [:]
                for (k, c) in group.enumerated() where i < c.samples.count { features["x\(k)"] = c.samples[i].x }
                let prediction = try await f.predictions.predict(.init(clipId: clips[i % clips.count], model: "\(model)@\(version)", features: features), context: context)
                var actuals: [String: Double] = [:]
                for (k, c) in group.enumerated() where i < c.samples.count {
                    let metric = "m\(k)", sample = c.samples[i]
                    var predicted = try #require(prediction.predicted[metric])
                    if let stored = sample.stored {
                        let id = prediction.id
                        _ = try await f.owner.write(tenant: tenant) { session in
                            try session.execute("UPDATE prediction_value SET predicted = \(stored) WHERE tenant_id = \(tenant) AND prediction_id = \(id) AND metric = \(metric)")
                        }
                        predicted = stored
                    }
                    if let actual = sample.actual {
                        actuals[metric] = actual
                        pairs[k].append((predicted, actual))
                    }
                }
                if !actuals.isEmpty {
                    _ = try await f.predictions.setActual(.init(id: prediction.id, values: actuals), context: context)
                }
            }
            for (k, c) in group.enumerated() {
                loaded.append(Loaded(label: c.label, kind: c.kind, version: version, metric: "m\(k)", pairs: pairs[k]))
            }
        }
        return loaded
    }

    // MARK: - Generated cases against the reference

    @Test func theGeneratorCoversWhatItMust() {
        let cases = Self.generatedCases(seed: Self.seed)
        #expect(cases.count >= 24)
        for edge in Self.reachableEdges { #expect(Self.logit(exactly: edge) != nil, "no z reaches \(edge)") }
        let sizes = cases.map(\.samples.count)
        #expect(sizes.contains(1) && sizes.contains(200) && sizes.allSatisfy { (1...200).contains($0) })
        #expect(cases.contains { c in c.samples.contains { $0.actual == nil } }, "some samples have no actual")
    }

    static let seed: UInt64 = 0x5EED_0F_E7707

    /// Every field of every generated case's metric agrees with the reference over the pairs as stored.
    @Test(arguments: Engine.allCases)
    func generatedCasesAgreeWithTheReference(_ engine: Engine) async throws {
        let cases = Self.generatedCases(seed: Self.seed)
        try await PredictionFixture.with(engine) { f in
            let loaded = try await Self.load(cases, model: "gen", into: f, tenant: "acme")
            // The stored predicted values landed on the edges aimed at.
            let edges = try #require(loaded.first { $0.label == "logistic predicted on reachable bin edges" })
            #expect(Set(edges.pairs.map(\.predicted)) == Set(Self.reachableEdges))
            var answers: [Int: C.VersionMetrics] = [:]
            for version in Set(loaded.map(\.version)).sorted() {
                let answer = try await f.errors.metrics(.init(name: "gen", version: version), context: Self.acme)
                #expect(answer.name == "gen" && answer.version == version)
                #expect(Set(answer.metrics.keys) == Set(loaded.filter { $0.version == version }.map(\.metric)), "exactly the version's metrics")
                #expect(answer.qualityGate.passed == nil && answer.qualityGate.championVersion == nil && answer.qualityGate.metrics.isEmpty)
                answers[version] = answer
            }
            for c in loaded {
                Self.expectAgree(answers[c.version]?.metrics[c.metric], Self.reference(c.kind, c.pairs), "\(engine) \(c.label) (gen@\(c.version) \(c.metric))")
            }
        }
    }

    // MARK: - Undefined values, isolation, the gate, not-found, JSON

    /// Without actuals (some predictions, or none at all): n 0 and nulls, for either kind.
    @Test(arguments: Engine.allCases)
    func aMetricWithoutActualsHasNoErrors(_ engine: Engine) async throws {
        try await PredictionFixture.with(engine) { f in
            f.clips.add("clip-1", tenant: "acme")
            let metrics = [
                "views": C.MetricModel(kind: .linear, intercept: 5, coefficients: ["x": 2]),
                "rate": C.MetricModel(kind: .logistic, intercept: -1, coefficients: ["x": 1]),
            ]
            _ = try await f.registry.createVersion(.init(name: "quiet", metrics: metrics), context: Self.acme)
            _ = try await f.registry.createVersion(.init(name: "quiet", metrics: metrics), context: Self.acme)
            for x in [0.0, 1, 2] {
                _ = try await f.predictions.predict(.init(clipId: "clip-1", model: "quiet@1", features: ["x": x]), context: Self.acme)
            }
            for version in [1, 2] {
                let answer = try await f.errors.metrics(.init(name: "quiet", version: version), context: Self.acme)
                #expect(answer.metrics == [
                    "views": C.MetricErrors(kind: .linear, n: 0, mae: nil, rmse: nil, mape: nil, mapeExcluded: 0, meanError: nil, r2: nil, maxAbsError: nil, brier: nil, ece: nil),
                    "rate": C.MetricErrors(kind: .logistic, n: 0, mae: nil, rmse: nil, mape: nil, mapeExcluded: 0, meanError: nil, r2: nil, maxAbsError: nil, brier: nil, ece: nil),
                ], "quiet@\(version)")
            }
            // One metric's actual does not give the other one any.
            let prediction = try await f.predictions.predict(.init(clipId: "clip-1", model: "quiet@1", features: ["x": 1.5]), context: Self.acme)
            _ = try await f.predictions.setActual(.init(id: prediction.id, values: ["views": 7]), context: Self.acme)
            let answer = try await f.errors.metrics(.init(name: "quiet", version: 1), context: Self.acme)
            Self.expectAgree(answer.metrics["views"], Self.reference(.linear, [(8, 7)]), "views after one actual")
            Self.expectAgree(answer.metrics["rate"], Self.reference(.logistic, []), "rate without actuals")
        }
    }

    /// A version's errors count only its own predictions: not another version's, another model's, or another tenant's
    /// (all with the same metric name), nor its own predictions without actuals.
    @Test(arguments: Engine.allCases)
    func versionsModelsAndTenantsAreNotMixed(_ engine: Engine) async throws {
        try await PredictionFixture.with(engine) { f in
            func linear(_ label: String, _ pairs: [Pair], withoutActual: [Double] = []) -> Case {
                Case(label: label, kind: .linear, samples: pairs.map { Sample(x: $0.predicted, actual: $0.actual) } + withoutActual.map { Sample(x: $0, actual: nil) })
            }
            let acmeV1 = try await Self.load([linear("acme iso@1", [(1, 2), (3, 3), (5, 1)], withoutActual: [1000, -1000])], model: "iso", into: f, tenant: "acme")
            let acmeV2 = try await Self.load([linear("acme iso@2", [(100, 0), (-50, 10)])], model: "iso", into: f, tenant: "acme")
            let acmeOther = try await Self.load([linear("acme other@1", [(7, 7), (9, -9)])], model: "other", into: f, tenant: "acme")
            let globexV1 = try await Self.load([linear("globex iso@1", [(1000, -1000), (2, 4), (0.5, 0.25)])], model: "iso", into: f, tenant: "globex")
            #expect(acmeV1[0].version == 1 && acmeV2[0].version == 2 && acmeOther[0].version == 1 && globexV1[0].version == 1)
            for (loaded, model, context) in [(acmeV1, "iso", Self.acme), (acmeV2, "iso", Self.acme), (acmeOther, "other", Self.acme), (globexV1, "iso", Self.globex)] {
                let c = loaded[0]
                let answer = try await f.errors.metrics(.init(name: model, version: c.version), context: context)
                #expect(answer.metrics.count == 1)
                Self.expectAgree(answer.metrics[c.metric], Self.reference(.linear, c.pairs), "\(engine) \(c.label)")
            }
            // By hand, acme iso@1: errors −1, 0, 4.
            let v1 = try #require(try await f.errors.metrics(.init(name: "iso", version: 1), context: Self.acme).metrics["m0"])
            #expect(v1.n == 3 && v1.mae == 5.0 / 3 && v1.maxAbsError == 4 && v1.meanError == 1)
            // globex has no iso@2 (acme's is not its).
            #expect(await PredictionFixture.code { try await f.errors.metrics(.init(name: "iso", version: 2), context: Self.globex) } == .notFound)
        }
    }

    /// Passed when |mae − champion_mae| ≤ 0.1·champion_mae, per metric both predict; null without a champion.
    @Test(arguments: Engine.allCases)
    func theQualityGateComparesWithTheChampion(_ engine: Engine) async throws {
        try await PredictionFixture.with(engine) { f in
            /// A version whose `m0` has errors ±mae (so its MAE is `mae`).
            func version(mae: Double) -> Case {
                Case(label: "mae \(mae)", kind: .linear, samples: [Sample(x: 10 + mae, actual: 10), Sample(x: 20 - mae, actual: 20), Sample(x: -mae, actual: 0)])
            }
            var loaded: [Loaded] = []
            for mae in [8.0, 8.4, 9.2, 7.6, 6.8] {
                loaded += try await Self.load([version(mae: mae)], model: "gate", into: f, tenant: "acme")
            }
            #expect(loaded.map(\.version) == [1, 2, 3, 4, 5])

            // No champion: nothing compared.
            for v in 1...5 {
                let gate = try await f.errors.metrics(.init(name: "gate", version: v), context: Self.acme).qualityGate
                #expect(gate.passed == nil && gate.championVersion == nil && gate.metrics.isEmpty, "gate@\(v) without a champion")
                #expect(gate.rule == VersionErrors.gateRule)
            }

            _ = try await f.registry.setAlias(.init(name: "gate", alias: "champion", version: 1), context: Self.acme)
            let expected: [Int: Bool] = [1: true, 2: true, 3: false, 4: true, 5: false]
            for v in 1...5 {
                let answer = try await f.errors.metrics(.init(name: "gate", version: v), context: Self.acme)
                let gate = answer.qualityGate
                #expect(gate.championVersion == 1)
                #expect(gate.passed == expected[v], "gate@\(v): mae \(answer.metrics["m0"]?.mae ?? .nan)")
                #expect(Set(gate.metrics.keys) == ["m0"])
                let metric = try #require(gate.metrics["m0"])
                #expect(Self.agrees(metric.championMae, 8) && Self.agrees(metric.mae, [8.0, 8.4, 9.2, 7.6, 6.8][v - 1]))
                #expect(metric.mae == answer.metrics["m0"]?.mae && metric.passed == expected[v])
            }

            // A metric only this version predicts is not compared; one without actuals on either side leaves passed null.
            f.clips.add("clip-x", tenant: "acme")
            _ = try await f.registry.createVersion(.init(name: "gate", metrics: [
                "m0": C.MetricModel(kind: .linear, intercept: 0, coefficients: ["x": 1]),
                "fresh": C.MetricModel(kind: .linear, intercept: 0, coefficients: ["x": 1]),
            ]), context: Self.acme)
            _ = try await f.predictions.predict(.init(clipId: "clip-x", model: "gate@6", features: ["x": 1]), context: Self.acme)
            let undecided = try await f.errors.metrics(.init(name: "gate", version: 6), context: Self.acme).qualityGate
            #expect(Set(undecided.metrics.keys) == ["m0"])
            #expect(undecided.metrics["m0"]?.passed == nil && undecided.metrics["m0"]?.mae == nil && undecided.metrics["m0"]?.championMae == 8)
            #expect(undecided.passed == nil && undecided.championVersion == 1)
        }
    }

    @Test(arguments: Engine.allCases)
    func anUnknownVersionIsNotFound(_ engine: Engine) async throws {
        try await PredictionFixture.with(engine) { f in
            _ = try await f.registry.createVersion(.init(name: "known", metrics: ["y": C.MetricModel(kind: .linear, intercept: 1, coefficients: [:])]), context: Self.acme)
            _ = try await f.registry.createVersion(.init(name: "known", metrics: ["y": C.MetricModel(kind: .linear, intercept: 2, coefficients: [:])]), context: Self.acme)
            #expect(try await f.errors.metrics(.init(name: "known", version: 1), context: Self.acme).version == 1)
            #expect(await PredictionFixture.code { try await f.errors.metrics(.init(name: "known", version: 3), context: Self.acme) } == .notFound)
            #expect(await PredictionFixture.code { try await f.errors.metrics(.init(name: "unknown", version: 1), context: Self.acme) } == .notFound)
            #expect(await PredictionFixture.code { try await f.errors.metrics(.init(name: "known", version: 1), context: Self.globex) } == .notFound)
            try await f.registry.deleteVersion(.init(name: "known", version: 2), context: Self.acme)
            #expect(await PredictionFixture.code { try await f.errors.metrics(.init(name: "known", version: 2), context: Self.acme) } == .notFound)
        }
    }

    /// As the bus encodes it: linear metrics have no brier/ece keys, logistic ones have both (null when undefined); no NaN anywhere.
    @Test(arguments: Engine.allCases)
    func theEncodedErrorsHaveRateKeysOnlyForRateMetrics(_ engine: Engine) async throws {
        try await PredictionFixture.with(engine) { f in
            let cases = [
                Case(label: "linear", kind: .linear, samples: [Sample(x: 1, actual: 0), Sample(x: 2, actual: 2), Sample(x: 3, actual: 5)]),
                Case(label: "linear one sample", kind: .linear, samples: [Sample(x: 1, actual: 1)]),
                Case(label: "linear none", kind: .linear, samples: [Sample(x: 1, actual: nil)]),
                Case(label: "logistic", kind: .logistic, samples: [Sample(x: 0, actual: 0), Sample(x: 2, actual: 1)]),
                Case(label: "logistic equal actuals", kind: .logistic, samples: [Sample(x: 0, actual: 0), Sample(x: 2, actual: 0)]),
                Case(label: "logistic none", kind: .logistic, samples: [Sample(x: 1, actual: nil)]),
            ]
            let loaded = try await Self.load(cases, model: "json", into: f, tenant: "acme")
            let answer = try await f.errors.metrics(.init(name: "json", version: 1), context: Self.acme)
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            let whole = String(decoding: try encoder.encode(answer), as: UTF8.self)
            for bad in ["NaN", "nan", "Infinity", "inf"] { #expect(!whole.contains(bad), "\(bad) in \(whole)") }
            for c in loaded {
                let errors = try #require(answer.metrics[c.metric])
                let data = try encoder.encode(errors)
                let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any], "\(c.label)")
                let common: Set<String> = ["kind", "n", "mae", "rmse", "mape", "mape_excluded", "mean_error", "r2", "max_abs_error"]
                #expect(Set(object.keys) == (c.kind == .logistic ? common.union(["brier", "ece"]) : common), "\(c.label): \(String(decoding: data, as: UTF8.self))")
                // Nulls exactly where the reference has none.
                let expected = Self.reference(c.kind, c.pairs)
                for (key, value) in [("r2", expected.r2), ("mape", expected.mape), ("mae", expected.mae), ("brier", expected.brier), ("ece", expected.ece)] where object[key] != nil {
                    #expect((object[key] is NSNull) == (value == nil), "\(c.label): \(key)")
                }
                let decoded = try JSONDecoder().decode(C.MetricErrors.self, from: data)
                #expect(decoded == errors, "\(c.label) survives the round trip")
            }
        }
    }

    // MARK: - numpy

    /// Whether `python3` can import numpy here.
    static let numpyAvailable: Bool = {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", "-c", "import numpy"]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        do { try process.run() } catch { return false }
        process.waitUntilExit()
        return process.terminationStatus == 0
    }()

    /// API.md's definitions in numpy, over `[{kind, pairs: [[predicted, actual], …]}]` on stdin; a list of errors out.
    static let numpyScript = #"""
        import json, sys
        import numpy as np
        out = []
        for case in json.load(sys.stdin):
            pairs = np.array(case["pairs"], dtype=np.float64).reshape(-1, 2)
            p, a = pairs[:, 0], pairs[:, 1]
            n = len(p)
            if n == 0:
                out.append({"n": 0}); continue
            e = p - a
            nz = a != 0
            r = {"n": n, "mae": float(np.mean(np.abs(e))), "rmse": float(np.sqrt(np.mean(e ** 2))),
                 "mape": float(np.mean(np.abs(a[nz] - p[nz]) / np.abs(a[nz]))) if nz.any() else None,
                 "mape_excluded": int(np.sum(~nz)), "mean_error": float(np.mean(e)),
                 "r2": None if np.all(a == a[0]) else float(1 - np.sum(e ** 2) / np.sum((a - np.mean(a)) ** 2)),
                 "max_abs_error": float(np.max(np.abs(e)))}
            if case["kind"] == "logistic":
                bins = np.sum(p[:, None] >= np.array([0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9]), axis=1)
                r["brier"] = float(np.mean(e ** 2))
                r["ece"] = float(sum(np.sum(bins == b) / n * abs(np.mean(p[bins == b]) - np.mean(a[bins == b])) for b in range(10) if np.any(bins == b)))
            out.append(r)
        json.dump(out, sys.stdout)
        """#

    struct NumpyErrors: Decodable {
        var n: Int
        var mae, rmse, mape, r2, brier, ece: Double?
        var mapeExcluded: Int?
        var meanError, maxAbsError: Double?

        enum CodingKeys: String, CodingKey {
            case n, mae, rmse, mape, r2, brier, ece
            case mapeExcluded = "mape_excluded"
            case meanError = "mean_error"
            case maxAbsError = "max_abs_error"
        }
    }

    struct NumpyCase: Encodable {
        var kind: String
        var pairs: [[Double]]
    }

    /// The service's answers for the generated cases (on SQLite) agree with numpy's.
    @Test(.enabled(if: VersionErrorsTests.numpyAvailable, "python3 with numpy is not installed: the numpy cross-check did not run"))
    func generatedCasesAgreeWithNumpy() async throws {
        let cases = Self.generatedCases(seed: Self.seed ^ 0xA5A5)
        try await PredictionFixture.with(.sqlite) { f in
            let loaded = try await Self.load(cases, model: "np", into: f, tenant: "acme")
            let input = try JSONEncoder().encode(loaded.map { NumpyCase(kind: $0.kind.rawValue, pairs: $0.pairs.map { [$0.predicted, $0.actual] }) })
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent("vb-numpy-\(UInt64.random(in: 0...UInt64.max))")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            defer { try? FileManager.default.removeItem(at: directory) }
            let script = directory.appendingPathComponent("errors.py"), pairs = directory.appendingPathComponent("pairs.json")
            try Self.numpyScript.write(to: script, atomically: true, encoding: .utf8)
            try input.write(to: pairs)

            let result = try await runProgram(["python3", script.path], input: pairs)
            try #require(result.status == 0, "numpy script failed: \(result.errorText)")
            let data = result.output
            let numpy = try JSONDecoder().decode([NumpyErrors].self, from: data)
            try #require(numpy.count == loaded.count)

            var answers: [Int: C.VersionMetrics] = [:]
            for version in Set(loaded.map(\.version)) {
                answers[version] = try await f.errors.metrics(.init(name: "np", version: version), context: Self.acme)
            }
            for (c, reference) in zip(loaded, numpy) {
                let expected = C.MetricErrors(
                    kind: c.kind, n: reference.n, mae: reference.mae, rmse: reference.rmse, mape: reference.mape, mapeExcluded: reference.mapeExcluded ?? 0,
                    meanError: reference.meanError, r2: reference.r2, maxAbsError: reference.maxAbsError, brier: reference.brier, ece: reference.ece
                )
                Self.expectAgree(answers[c.version]?.metrics[c.metric], expected, "numpy: \(c.label) (np@\(c.version) \(c.metric))")
                // And the reference here agrees with numpy.
                Self.expectAgree(Self.reference(c.kind, c.pairs), expected, "numpy vs reference: \(c.label)")
            }
        }
    }
}
