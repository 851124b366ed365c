import BusRuntime
import BusWire
import Contracts
import Foundation
import Prediction
import ServiceKit
import Storage
import TestSupport
import Testing

/// Predictions on both engines (API.md "prediction" and its edge rules):
/// model resolution, the formulas (checked against a computation here),
/// features from the clip's stored analysis, automatic predictions on
/// `clip.analyzed`, actuals given and from `campaign.clip_metrics`, tenant
/// isolation and pages. Refusals are checked to store nothing (no
/// prediction rows, no outbox rows). One test at a time: each makes a fresh database.
@Suite(.serialized) struct PredictionServiceTests {
    typealias F = PredictionFixture
    typealias C = PredictionContracts

    static let acme = F.context("acme")
    static let globex = F.context("globex")

    static func linear(_ intercept: Double, _ coefficients: [String: Double] = [:]) -> C.MetricModel {
        C.MetricModel(kind: .linear, intercept: intercept, coefficients: coefficients)
    }

    static func logistic(_ intercept: Double, _ coefficients: [String: Double] = [:]) -> C.MetricModel {
        C.MetricModel(kind: .logistic, intercept: intercept, coefficients: coefficients)
    }

    /// The engagement-like metrics most tests use: `ctr` (logistic) and `watch_time_s` (linear).
    static let engagement: [String: C.MetricModel] = [
        "ctr": logistic(-3.2, ["motion": 1.1, "faces": 0.7, "speech": 0.4]),
        "watch_time_s": linear(4.5, ["motion": 6.0, "faces": 3.0, "speech": 2.5]),
    ]

    @discardableResult
    static func create(_ f: F, _ name: String, _ metrics: [String: C.MetricModel] = engagement, context: RequestContext = acme) async throws -> C.ModelVersion {
        try await f.registry.createVersion(C.CreateVersionRequest(name: name, metrics: metrics), context: context)
    }

    static func predict(_ f: F, _ clip: String, _ model: String, _ features: [String: Double]? = [:], context: RequestContext = acme) async throws -> C.Prediction {
        try await f.predictions.predict(C.PredictRequest(clipId: clip, model: model, features: features), context: context)
    }

    /// What the test expects a metric model to give: b0 + Σ wᵢxᵢ over the
    /// coefficients (a missing feature is 0), through 1/(1+e^-z) for logistic.
    static func expected(_ model: C.MetricModel, _ features: [String: Double]) -> Double {
        let z = model.coefficients.reduce(model.intercept) { sum, term in sum + term.value * (features[term.key] ?? 0) }
        return model.kind == "logistic" ? 1 / (1 + exp(-z)) : z
    }

    /// Equal to 1e-12 relative (exactly equal when one is 0).
    static func close(_ a: Double?, _ b: Double?, relative: Double = 1e-12) -> Bool {
        guard let a, let b else { return a == nil && b == nil }
        return a == b || abs(a - b) <= relative * max(abs(a), abs(b))
    }

    /// The stored rows a refusal must not add to.
    static func stored(_ f: F) async throws -> [Int64] {
        [try await f.count("prediction"), try await f.count("prediction_value"), try await f.count("outbox")]
    }

    static func analyzed(_ clip: String, _ features: [String: Double]) -> AnalysisContracts.ClipAnalyzed {
        AnalysisContracts.ClipAnalyzed(clipId: clip, assetId: "asset-\(clip)", score: 0.5, features: features, analyzedAt: "2025-01-01T00:00:00.000Z")
    }

    static func clipMetrics(_ campaign: String, _ clip: String, impressions: Int64, clicks: Int64) -> ConversionContracts.ClipMetrics {
        ConversionContracts.ClipMetrics(campaignId: campaign, clipId: clip, impressions: impressions, clicks: clicks)
    }

    static func createdEvents(_ f: F) async throws -> [(tenant: String, event: C.PredictionEvent)] {
        try await f.events().filter { $0.topic == C.predictionCreated.name }.map { event in
            (event.tenant, try JSONDecoder().decode(C.PredictionEvent.self, from: Data(event.payload.utf8)))
        }
    }

    // MARK: - Resolution

    /// `name` is the champion when set (alias `champion`), else the latest
    /// live version (alias null); `name@alias` and `name@N` name one version
    /// (alias the alias, null for a number).
    @Test(arguments: Engine.allCases)
    func referencesResolve(engine: Engine) async throws {
        try await F.with(engine) { f in
            f.clips.add("clip-1", tenant: "acme")
            for i in 1...3 { try await Self.create(f, "m", ["watch_time_s": Self.linear(Double(i))]) }

            func check(_ reference: String, version: Int, alias: String?, sourceLocation: SourceLocation = #_sourceLocation) async throws {
                let made = try await Self.predict(f, "clip-1", reference)
                #expect(made.model == "m", sourceLocation: sourceLocation)
                #expect(made.version == version, "\(reference)", sourceLocation: sourceLocation)
                #expect(made.alias == alias, "\(reference)", sourceLocation: sourceLocation)
                #expect(made.predicted == ["watch_time_s": Double(version)], sourceLocation: sourceLocation)
                let stored = try await f.predictions.prediction(made.id, context: Self.acme)
                #expect(stored.version == version, sourceLocation: sourceLocation)
                #expect(stored.alias == alias, sourceLocation: sourceLocation)
            }

            try await check("m", version: 3, alias: nil)
            try await check("m@2", version: 2, alias: nil)
            _ = try await f.registry.setAlias(C.SetAliasRequest(name: "m", alias: "staging", version: 1), context: Self.acme)
            try await check("m@staging", version: 1, alias: "staging")
            try await check("m", version: 3, alias: nil)
            _ = try await f.registry.setAlias(C.SetAliasRequest(name: "m", alias: "champion", version: 2), context: Self.acme)
            try await check("m", version: 2, alias: "champion")
            try await check("m@champion", version: 2, alias: "champion")
            try await check("m@3", version: 3, alias: nil)
            try await f.registry.deleteAlias(C.AliasRequest(name: "m", alias: "champion"), context: Self.acme)
            try await check("m", version: 3, alias: nil)
            try await f.registry.deleteVersion(C.VersionRequest(name: "m", version: 3), context: Self.acme)
            try await check("m", version: 2, alias: nil)
        }
    }

    /// An unknown name, alias or version (a deleted one included) and a
    /// malformed reference are invalid-argument naming `model` (a body's
    /// unknown reference is 422), and store nothing: no prediction, no event.
    @Test(arguments: Engine.allCases)
    func unknownOrMalformedReferencesAreRefused(engine: Engine) async throws {
        try await F.with(engine) { f in
            f.clips.add("clip-1", tenant: "acme", features: ["motion": 1])
            try await Self.create(f, "m")
            try await Self.create(f, "m")
            try await f.registry.deleteVersion(C.VersionRequest(name: "m", version: 2), context: Self.acme)
            try await Self.create(f, "empty")
            try await f.registry.deleteVersion(C.VersionRequest(name: "empty", version: 1), context: Self.acme)

            let references = ["nope", "nope@1", "nope@champion", "m@champion", "m@staging", "m@2", "m@3", "m@99999999999999999999", "empty",
                              "a@", "@x", "m@0", "m@01", "a b", "", "m@", "m@1@2", "m@-1", "m@x y", "é"]
            for reference in references {
                for features in [["motion": 1.0], nil] {
                    let error = await F.failure { try await Self.predict(f, "clip-1", reference, features) }
                    #expect(error?.code == .invalidArgument, "\(reference.debugDescription): \(String(describing: error))")
                    #expect(error?.message.contains("model") == true, "\(reference.debugDescription): \(String(describing: error))")
                }
            }
            #expect(try await Self.stored(f) == [0, 0, 0])
            #expect(try await Self.predict(f, "clip-1", "m@1").version == 1)
        }
    }

    // MARK: - Formulas

    /// Linear is b0 + Σ wᵢxᵢ and logistic 1/(1+e^-z), equal to this test's
    /// computation to 1e-12 relative, as answered and as stored; a feature
    /// the clip lacks counts as 0 and features no coefficient names are ignored.
    @Test(arguments: Engine.allCases)
    func predictionsFollowTheFormulas(engine: Engine) async throws {
        try await F.with(engine) { f in
            f.clips.add("clip-1", tenant: "acme")
            let metrics: [String: C.MetricModel] = [
                "watch_time_s": Self.linear(4.5, ["motion": 6.25, "faces": -3.125, "speech": 2.5, "absent": 17]),
                "ctr": Self.logistic(-1.2, ["motion": 1.1, "faces": 0.7, "absent": -4, "brightness": 0.013]),
                "retention": Self.linear(-0.3),
            ]
            try await Self.create(f, "m", metrics)
            let featureSets: [[String: Double]] = [
                ["motion": 0.37, "faces": 2, "speech": 0.123, "brightness": 118.5, "extra": 99, "other": -1e6],
                ["motion": -2.75, "speech": 1e-3],
                [:],
            ]
            for features in featureSets {
                let made = try await Self.predict(f, "clip-1", "m", features)
                let stored = try await f.predictions.prediction(made.id, context: Self.acme)
                #expect(Set(made.predicted.keys) == Set(metrics.keys))
                #expect(made.features == features)
                #expect(stored.features == features)
                for (name, model) in metrics {
                    let want = Self.expected(model, features)
                    #expect(Self.close(made.predicted[name], want), "\(name) from \(features): \(String(describing: made.predicted[name])) vs \(want)")
                    #expect(Self.close(stored.predicted[name], want), "stored \(name) from \(features): \(String(describing: stored.predicted[name])) vs \(want)")
                }
                #expect(made.actual == nil)
            }
            // Missing features are 0: the empty set gives the intercepts.
            let bare = try await Self.predict(f, "clip-1", "m", [:])
            #expect(bare.predicted["watch_time_s"] == 4.5)
            #expect(bare.predicted["retention"] == -0.3)
            #expect(Self.close(bare.predicted["ctr"], 1 / (1 + exp(1.2))))
        }
    }

    /// A logistic metric far from 0 either way (|z| = 40, 800, 1e6) is finite
    /// and in [0, 1], saturating to 1 and to (nearly) 0; moderate z still
    /// agrees to 1e-12 relative.
    @Test(arguments: Engine.allCases)
    func logisticStaysInRangeForLargeSums(engine: Engine) async throws {
        try await F.with(engine) { f in
            f.clips.add("clip-1", tenant: "acme")
            try await Self.create(f, "rate", ["p": Self.logistic(0, ["x": 1])])
            for x in [40.0, -40, 800, -800, 1e6, -1e6, 36.5, -36.5] {
                let made = try await Self.predict(f, "clip-1", "rate", ["x": x])
                let p = try #require(made.predicted["p"])
                #expect(p.isFinite, "x = \(x)")
                #expect((0...1).contains(p), "x = \(x): \(p)")
                if x > 0 { #expect(p > 0.999, "x = \(x): \(p)") } else { #expect(p < 1e-15, "x = \(x): \(p)") }
                if abs(x) <= 40 { #expect(Self.close(p, 1 / (1 + exp(-x))), "x = \(x): \(p)") }
                let stored = try await f.predictions.prediction(made.id, context: Self.acme)
                #expect(stored.predicted["p"] == p)
            }
        }
    }

    // MARK: - Features

    /// Without features the prediction uses the clip's stored analysis
    /// (and stores them as its features); given features win over it.
    @Test(arguments: Engine.allCases)
    func featuresDefaultToTheStoredAnalysis(engine: Engine) async throws {
        try await F.with(engine) { f in
            let analysis: [String: Double] = ["motion": 0.62, "faces": 1, "speech": 0.25]
            f.clips.add("clip-1", tenant: "acme", features: analysis)
            try await Self.create(f, "m")
            let made = try await Self.predict(f, "clip-1", "m", nil)
            #expect(made.features == analysis)
            for (name, model) in Self.engagement {
                #expect(Self.close(made.predicted[name], Self.expected(model, analysis)), "\(name)")
            }
            #expect(try await f.predictions.prediction(made.id, context: Self.acme).features == analysis)

            let given: [String: Double] = ["motion": 0.1]
            let explicit = try await Self.predict(f, "clip-1", "m", given)
            #expect(explicit.features == given)
            #expect(Self.close(explicit.predicted["watch_time_s"], 4.5 + 0.6))
        }
    }

    /// A clip with no stored analysis and no features, features for a clip
    /// the tenant does not have, or no features for an unknown clip are
    /// invalid-argument; ingest or the analysis-store down is unavailable;
    /// none of them stores anything.
    @Test(arguments: Engine.allCases)
    func clipRefusalsStoreNothing(engine: Engine) async throws {
        try await F.with(engine) { f in
            f.clips.add("bare", tenant: "acme")
            f.clips.add("analyzed", tenant: "acme", features: ["motion": 1])
            f.clips.add("theirs", tenant: "globex", features: ["motion": 1])
            try await Self.create(f, "m")

            #expect(await F.code { try await Self.predict(f, "bare", "m", nil) } == .invalidArgument)
            #expect(await F.code { try await Self.predict(f, "nope", "m", ["motion": 1]) } == .invalidArgument)
            #expect(await F.code { try await Self.predict(f, "nope", "m", nil) } == .invalidArgument)
            #expect(await F.code { try await Self.predict(f, "theirs", "m", ["motion": 1]) } == .invalidArgument)
            #expect(await F.code { try await Self.predict(f, "theirs", "m", nil) } == .invalidArgument)
            #expect(await F.code { try await Self.predict(f, "", "m", ["motion": 1]) } == .invalidArgument)
            #expect(await F.code { try await Self.predict(f, "analyzed", "m", ["motion": .infinity]) } == .invalidArgument)
            #expect(await F.code { try await Self.predict(f, "analyzed", "m", ["motion": .nan]) } == .invalidArgument)
            #expect(try await Self.stored(f) == [0, 0, 0])

            f.clips.down = true
            #expect(await F.code { try await Self.predict(f, "analyzed", "m", nil) } == .unavailable)
            #expect(await F.code { try await Self.predict(f, "analyzed", "m", ["motion": 1]) } == .unavailable)
            #expect(try await Self.stored(f) == [0, 0, 0])

            f.clips.down = false
            #expect(try await Self.predict(f, "analyzed", "m", nil).features == ["motion": 1])
            #expect(try await Self.stored(f) == [1, 2, 1])
        }
    }

    // MARK: - Automatic predictions

    /// `clip.analyzed` makes exactly one prediction per model that has a
    /// champion (with the champion's version, alias `champion`, the event's
    /// features) and none for a model without one or of another tenant, each
    /// announced by one `prediction.created`; the same event id again makes nothing.
    @Test(arguments: Engine.allCases)
    func clipAnalyzedPredictsWithEveryChampion(engine: Engine) async throws {
        try await F.with(engine) { f in
            try await Self.create(f, "alpha", ["ctr": Self.logistic(-1, ["motion": 2])])
            try await Self.create(f, "alpha", ["ctr": Self.logistic(5, ["motion": 2])])
            try await Self.create(f, "beta", ["watch_time_s": Self.linear(3, ["faces": 4])])
            try await Self.create(f, "gamma", ["watch_time_s": Self.linear(7)])
            _ = try await f.registry.setAlias(C.SetAliasRequest(name: "gamma", alias: "staging", version: 1), context: Self.acme)
            _ = try await f.registry.setAlias(C.SetAliasRequest(name: "alpha", alias: "champion", version: 1), context: Self.acme)
            _ = try await f.registry.setAlias(C.SetAliasRequest(name: "beta", alias: "champion", version: 1), context: Self.acme)
            try await Self.create(f, "other", ["watch_time_s": Self.linear(1)], context: Self.globex)
            _ = try await f.registry.setAlias(C.SetAliasRequest(name: "other", alias: "champion", version: 1), context: Self.globex)

            let features: [String: Double] = ["motion": 0.4, "faces": 2, "extra": 3]
            #expect(try await f.deliver(Self.analyzed("clip-1", features), id: "evt-analyzed-1", tenant: "acme"))

            let made = try await f.predictions.list(C.ListPredictionsRequest(), context: Self.acme).predictions
            #expect(made.count == 2)
            let byModel = Dictionary(made.map { ($0.model, $0) }, uniquingKeysWith: { a, _ in a })
            #expect(Set(byModel.keys) == ["alpha", "beta"])
            let alpha = try #require(byModel["alpha"]), beta = try #require(byModel["beta"])
            #expect(alpha.version == 1)
            #expect(beta.version == 1)
            for prediction in made {
                #expect(prediction.alias == "champion")
                #expect(prediction.clipId == "clip-1")
                #expect(prediction.features == features)
                #expect(prediction.actual == nil)
            }
            #expect(Self.close(alpha.predicted["ctr"], 1 / (1 + exp(-(-1 + 0.8)))))
            #expect(Self.close(beta.predicted["watch_time_s"], 11))
            #expect(try await f.predictions.list(C.ListPredictionsRequest(), context: Self.globex).predictions.isEmpty)

            let announced = try await Self.createdEvents(f)
            #expect(announced.count == 2)
            #expect(announced.allSatisfy { $0.tenant == "acme" })
            #expect(Set(announced.map(\.event.id)) == Set(made.map(\.id)))
            for (_, event) in announced {
                let prediction = try #require(made.first { $0.id == event.id })
                #expect(event == C.PredictionEvent(id: prediction.id, clipId: "clip-1", model: prediction.model, version: prediction.version, alias: "champion"))
            }

            #expect(try await f.deliver(Self.analyzed("clip-1", features), id: "evt-analyzed-1", tenant: "acme") == false)
            #expect(try await f.count("prediction") == 2)
            #expect(try await Self.createdEvents(f).count == 2)

        }
    }

    /// Every prediction made by request is announced once by `prediction.created` with its id, clip, model, version and alias.
    @Test(arguments: Engine.allCases)
    func predictAnnouncesPredictionCreated(engine: Engine) async throws {
        try await F.with(engine) { f in
            f.clips.add("clip-1", tenant: "acme")
            try await Self.create(f, "m")
            _ = try await f.registry.setAlias(C.SetAliasRequest(name: "m", alias: "champion", version: 1), context: Self.acme)
            let a = try await Self.predict(f, "clip-1", "m@1")
            let b = try await Self.predict(f, "clip-1", "m")
            let announced = try await Self.createdEvents(f)
            #expect(announced.map(\.tenant) == ["acme", "acme"])
            #expect(announced.map(\.event) == [
                C.PredictionEvent(id: a.id, clipId: "clip-1", model: "m", version: 1, alias: nil),
                C.PredictionEvent(id: b.id, clipId: "clip-1", model: "m", version: 1, alias: "champion"),
            ])
        }
    }

    /// A champion whose formula cannot give a finite value from the event's
    /// features (its sum overflows) does not keep the other champions (before
    /// and after it in name order) from predicting the analyzed clip: the
    /// event applies, with one prediction per champion that can predict.
    @Test(arguments: Engine.allCases)
    func clipAnalyzedSkipsAChampionThatCannotPredict(engine: Engine) async throws {
        try await F.with(engine) { f in
            try await Self.create(f, "alpha", ["watch_time_s": Self.linear(1, ["motion": 2])])
            try await Self.create(f, "beta", ["watch_time_s": Self.linear(1, ["motion": 1e308])])
            try await Self.create(f, "gamma", ["watch_time_s": Self.linear(3)])
            for name in ["alpha", "beta", "gamma"] {
                _ = try await f.registry.setAlias(C.SetAliasRequest(name: name, alias: "champion", version: 1), context: Self.acme)
            }
            var applied: Bool?
            var failure: (any Error)?
            do {
                applied = try await f.deliver(Self.analyzed("clip-1", ["motion": 10]), id: "evt-analyzed-1", tenant: "acme")
            } catch {
                failure = error
            }
            #expect(failure == nil, "clip.analyzed failed as a whole: \(String(describing: failure))")
            #expect(applied == true)
            let made = try await f.predictions.list(C.ListPredictionsRequest(), context: Self.acme).predictions
            #expect(Set(made.map(\.model)) == ["alpha", "gamma"])
            #expect(made.count == 2)
            #expect(try await Self.createdEvents(f).count == 2)
        }
    }

    /// A prediction repeated with its idempotency key answers the same
    /// prediction without storing or announcing another; the same key with
    /// another body is invalid-argument and stores nothing.
    @Test(arguments: Engine.allCases)
    func predictIdempotencyKey(engine: Engine) async throws {
        try await F.with(engine) { f in
            f.clips.add("clip-1", tenant: "acme")
            try await Self.create(f, "m")
            let keyed = F.context("acme", key: "predict-key-1")
            let first = try await Self.predict(f, "clip-1", "m", ["motion": 1], context: keyed)
            let again = try await Self.predict(f, "clip-1", "m", ["motion": 1], context: keyed)
            #expect(again == first)
            #expect(try await Self.stored(f) == [1, 2, 1])
            #expect(await F.code { try await Self.predict(f, "clip-1", "m", ["motion": 2], context: keyed) } == .invalidArgument)
            #expect(try await Self.stored(f) == [1, 2, 1])
        }
    }

    // MARK: - Actuals

    /// `setActual` merges per metric (a second call with another metric keeps
    /// the first; a repeat overwrites only its own), reads back the same, and
    /// accepts 0 and 1 for a rate metric and any finite number for a linear one.
    @Test(arguments: Engine.allCases)
    func actualsMergePerMetric(engine: Engine) async throws {
        try await F.with(engine) { f in
            f.clips.add("clip-1", tenant: "acme")
            try await Self.create(f, "m")
            let made = try await Self.predict(f, "clip-1", "m", ["motion": 0.5])
            #expect(made.actual == nil)

            let first = try await f.predictions.setActual(C.SetActualRequest(id: made.id, values: ["watch_time_s": 12.5]), context: Self.acme)
            #expect(first.actual == ["watch_time_s": 12.5])
            let second = try await f.predictions.setActual(C.SetActualRequest(id: made.id, values: ["ctr": 0.25]), context: Self.acme)
            #expect(second.actual == ["watch_time_s": 12.5, "ctr": 0.25])
            #expect(second.predicted == made.predicted)
            #expect(try await f.predictions.prediction(made.id, context: Self.acme).actual == ["watch_time_s": 12.5, "ctr": 0.25])

            let third = try await f.predictions.setActual(C.SetActualRequest(id: made.id, values: ["ctr": 1]), context: Self.acme)
            #expect(third.actual == ["watch_time_s": 12.5, "ctr": 1])
            let fourth = try await f.predictions.setActual(C.SetActualRequest(id: made.id, values: ["ctr": 0, "watch_time_s": -3]), context: Self.acme)
            #expect(fourth.actual == ["watch_time_s": -3, "ctr": 0])
            #expect(try await f.predictions.prediction(made.id, context: Self.acme).actual == ["watch_time_s": -3, "ctr": 0])
        }
    }

    /// Concurrent actuals of one prediction's metric (and a
    /// `campaign.clip_metrics` event setting the same ctr) leave one of them
    /// stored, and the version's errors equal to a recomputation over the
    /// stored actuals: n, mae and mean_error over both predictions of the
    /// version, whatever order the writers ran in.
    @Test(arguments: Engine.allCases)
    func concurrentActualsKeepVersionErrorsExact(engine: Engine) async throws {
        try await F.with(engine) { f in
            f.clips.add("clip-1", tenant: "acme")
            f.clips.add("clip-2", tenant: "acme")
            try await Self.create(f, "m", ["ctr": Self.logistic(0, ["motion": 1])])
            let p1 = try await Self.predict(f, "clip-1", "m", ["motion": 0])
            let p2 = try await Self.predict(f, "clip-2", "m", ["motion": 0])
            _ = try await f.predictions.setActual(C.SetActualRequest(id: p2.id, values: ["ctr": 0.2]), context: Self.acme)
            _ = try await f.predictions.setActual(C.SetActualRequest(id: p1.id, values: ["ctr": 0.5]), context: Self.acme)

            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 1...12 {
                    group.addTask {
                        _ = try await f.predictions.setActual(C.SetActualRequest(id: p1.id, values: ["ctr": Double(i) / 16]), context: Self.acme)
                    }
                }
                group.addTask {
                    _ = try await f.deliver(Self.clipMetrics("camp-a", "clip-1", impressions: 1000, clicks: 30), id: "evt-metrics-1", tenant: "acme")
                }
                try await group.waitForAll()
            }

            let final = try #require(try await f.predictions.prediction(p1.id, context: Self.acme).actual?["ctr"])
            let predicted = try #require(p1.predicted["ctr"])
            let errors = try #require(try await f.errors.metrics(C.VersionRequest(name: "m", version: 1), context: Self.acme).metrics["ctr"])
            #expect(errors.n == 2)
            let mae = (abs(predicted - final) + abs(predicted - 0.2)) / 2
            let meanError = ((predicted - final) + (predicted - 0.2)) / 2
            #expect(Self.close(errors.mae, mae, relative: 1e-9), "mae \(String(describing: errors.mae)) vs \(mae) (final ctr \(final))")
            #expect(Self.close(errors.meanError, meanError, relative: 1e-9), "mean_error \(String(describing: errors.meanError)) vs \(meanError)")
        }
    }

    /// An unknown metric (alone or beside a good one), a rate metric's actual
    /// outside [0, 1], a non-finite number or no values are invalid-argument
    /// and change nothing; an unknown id (or another tenant's) is not-found.
    @Test(arguments: Engine.allCases)
    func actualRefusals(engine: Engine) async throws {
        try await F.with(engine) { f in
            f.clips.add("clip-1", tenant: "acme")
            try await Self.create(f, "m")
            let made = try await Self.predict(f, "clip-1", "m", ["motion": 0.5])
            _ = try await f.predictions.setActual(C.SetActualRequest(id: made.id, values: ["ctr": 0.5]), context: Self.acme)

            let refused: [[String: Double]] = [
                ["nope": 1], ["ctr": 0.1, "nope": 1], ["ctr": 1.5], ["ctr": -0.1], ["ctr": 0.2, "watch_time_s": .infinity],
                ["watch_time_s": .nan], [:],
            ]
            for values in refused {
                #expect(await F.code { try await f.predictions.setActual(C.SetActualRequest(id: made.id, values: values), context: Self.acme) } == .invalidArgument, "\(values)")
            }
            #expect(try await f.predictions.prediction(made.id, context: Self.acme).actual == ["ctr": 0.5])

            #expect(await F.code { try await f.predictions.setActual(C.SetActualRequest(id: "cnope", values: ["ctr": 0.5]), context: Self.acme) } == .notFound)
            #expect(await F.code { try await f.predictions.setActual(C.SetActualRequest(id: made.id, values: ["ctr": 0.5]), context: Self.globex) } == .notFound)
            #expect(await F.code { try await f.predictions.prediction("cnope", context: Self.acme) } == .notFound)
        }
    }

    /// An idempotency key: the same key and body answers the first answer
    /// again without applying it again; the same key with another body is
    /// invalid-argument and changes nothing.
    @Test(arguments: Engine.allCases)
    func actualIdempotencyKey(engine: Engine) async throws {
        try await F.with(engine) { f in
            f.clips.add("clip-1", tenant: "acme")
            try await Self.create(f, "m")
            let made = try await Self.predict(f, "clip-1", "m", ["motion": 0.5])
            let keyed = F.context("acme", key: "actual-key-1")
            let request = C.SetActualRequest(id: made.id, values: ["watch_time_s": 20])

            let answer = try await f.predictions.setActual(request, context: keyed)
            #expect(answer.actual == ["watch_time_s": 20])
            _ = try await f.predictions.setActual(C.SetActualRequest(id: made.id, values: ["watch_time_s": 30]), context: Self.acme)

            let repeated = try await f.predictions.setActual(request, context: keyed)
            #expect(repeated == answer)
            #expect(try await f.predictions.prediction(made.id, context: Self.acme).actual == ["watch_time_s": 30])

            #expect(await F.code { try await f.predictions.setActual(C.SetActualRequest(id: made.id, values: ["watch_time_s": 21]), context: keyed) } == .invalidArgument)
            #expect(try await f.predictions.prediction(made.id, context: Self.acme).actual == ["watch_time_s": 30])
        }
    }

    // MARK: - Actuals from campaign.clip_metrics

    /// Two campaigns' `campaign.clip_metrics` for one clip sum: ctr = total
    /// clicks / total impressions, set on every prediction of that clip that
    /// predicts ctr (other metrics' actuals kept), not on a prediction without
    /// ctr, of another clip or of another tenant's same clip id; the same
    /// event id again changes nothing; a prediction made afterwards starts with that ctr.
    @Test(arguments: Engine.allCases)
    func clipMetricsFillCtr(engine: Engine) async throws {
        try await F.with(engine) { f in
            for tenant in ["acme", "globex"] {
                f.clips.add("clip-1", tenant: tenant)
                f.clips.add("clip-2", tenant: tenant)
            }
            try await Self.create(f, "m")
            try await Self.create(f, "watch-only", ["watch_time_s": Self.linear(2)])
            try await Self.create(f, "m", context: Self.globex)

            let p1 = try await Self.predict(f, "clip-1", "m", ["motion": 1])
            let p2 = try await Self.predict(f, "clip-1", "m", ["motion": 2])
            let noCtr = try await Self.predict(f, "clip-1", "watch-only")
            let otherClip = try await Self.predict(f, "clip-2", "m")
            let otherTenant = try await Self.predict(f, "clip-1", "m", context: Self.globex)
            _ = try await f.predictions.setActual(C.SetActualRequest(id: p1.id, values: ["watch_time_s": 9]), context: Self.acme)

            func actual(_ p: C.Prediction, _ context: RequestContext = Self.acme) async throws -> [String: Double]? {
                try await f.predictions.prediction(p.id, context: context).actual
            }

            #expect(try await f.deliver(Self.clipMetrics("camp-a", "clip-1", impressions: 1000, clicks: 30), id: "evt-metrics-a", tenant: "acme"))
            #expect(try await actual(p1) == ["watch_time_s": 9, "ctr": 0.03])
            #expect(try await actual(p2) == ["ctr": 0.03])

            #expect(try await f.deliver(Self.clipMetrics("camp-b", "clip-1", impressions: 500, clicks: 20), id: "evt-metrics-b", tenant: "acme"))
            let rate = 50.0 / 1500.0
            #expect(try await actual(p1) == ["watch_time_s": 9, "ctr": rate])
            #expect(try await actual(p2) == ["ctr": rate])
            #expect(try await actual(noCtr) == nil)
            #expect(try await actual(otherClip) == nil)
            #expect(try await actual(otherTenant, Self.globex) == nil)

            #expect(try await f.deliver(Self.clipMetrics("camp-b", "clip-1", impressions: 500, clicks: 20), id: "evt-metrics-b", tenant: "acme") == false)
            #expect(try await actual(p1) == ["watch_time_s": 9, "ctr": rate])
            #expect(try await actual(p2) == ["ctr": rate])

            let later = try await Self.predict(f, "clip-1", "m", ["faces": 1])
            #expect(later.actual == ["ctr": rate])
            #expect(try await actual(later) == ["ctr": rate])
            #expect(try await Self.predict(f, "clip-1", "watch-only").actual == nil)
            #expect(try await Self.predict(f, "clip-1", "m", context: Self.globex).actual == nil)
            #expect(try await f.deliver(Self.analyzed("clip-1", ["motion": 1]), id: "evt-analyzed-1", tenant: "acme"))

            // A champion's automatic prediction of the clip starts with the ctr too.
            _ = try await f.registry.setAlias(C.SetAliasRequest(name: "m", alias: "champion", version: 1), context: Self.acme)
            #expect(try await f.deliver(Self.analyzed("clip-1", ["motion": 1]), id: "evt-analyzed-2", tenant: "acme"))
            let automatic = try #require(try await f.predictions.list(C.ListPredictionsRequest(clipId: "clip-1", model: "m", limit: 1), context: Self.acme).predictions.first)
            #expect(automatic.alias == "champion")
            #expect(automatic.actual == ["ctr": rate])
        }
    }

    /// Predictions of a clip made while its `campaign.clip_metrics` events
    /// arrive all end with ctr = the clip's final total clicks / total
    /// impressions: no prediction keeps a rate an event committed meanwhile replaced.
    @Test(arguments: Engine.allCases)
    func ctrIsCurrentForPredictionsMadeDuringEvents(engine: Engine) async throws {
        try await F.with(engine) { f in
            f.clips.add("clip-1", tenant: "acme")
            try await Self.create(f, "m")
            _ = try await Self.predict(f, "clip-1", "m")
            try await withThrowingTaskGroup(of: Void.self) { group in
                for i in 0..<16 {
                    group.addTask { _ = try await Self.predict(f, "clip-1", "m", ["motion": Double(i)]) }
                }
                for i in 1...8 {
                    group.addTask {
                        _ = try await f.deliver(Self.clipMetrics("camp-\(i)", "clip-1", impressions: 100 * Int64(i), clicks: Int64(i)), id: "evt-metrics-\(i)", tenant: "acme")
                    }
                }
                try await group.waitForAll()
            }
            let total = Double((1...8).reduce(0, +)) / Double((1...8).reduce(0) { $0 + 100 * $1 })
            let made = try await f.predictions.list(C.ListPredictionsRequest(clipId: "clip-1"), context: Self.acme).predictions
            #expect(made.count == 17)
            let stale = made.filter { $0.actual?["ctr"] != total }
            #expect(stale.isEmpty, "\(stale.count) of 17 predictions have a ctr other than \(total): \(stale.map { $0.actual?["ctr"] as Any })")
        }
    }

    /// Clicks above impressions are not a rate: ctr stays unset on the clip's
    /// predictions, before and after the event.
    @Test(arguments: Engine.allCases)
    func clicksAboveImpressionsLeaveCtrUnset(engine: Engine) async throws {
        try await F.with(engine) { f in
            f.clips.add("clip-1", tenant: "acme")
            try await Self.create(f, "m")
            let before = try await Self.predict(f, "clip-1", "m")
            #expect(try await f.deliver(Self.clipMetrics("camp-a", "clip-1", impressions: 3, clicks: 5), id: "evt-metrics-1", tenant: "acme"))
            #expect(try await f.predictions.prediction(before.id, context: Self.acme).actual == nil)
            let after = try await Self.predict(f, "clip-1", "m")
            #expect(after.actual == nil)
            #expect(try await f.predictions.prediction(after.id, context: Self.acme).actual == nil)
        }
    }

    // MARK: - Tenants

    /// Tenant B cannot predict with, read, list, or set actuals on tenant A's
    /// models and predictions; A's `clip.analyzed` and `campaign.clip_metrics`
    /// of a clip id B also has never touch B's predictions.
    @Test(arguments: Engine.allCases)
    func predictionsArePerTenant(engine: Engine) async throws {
        try await F.with(engine) { f in
            for tenant in ["acme", "globex"] { f.clips.add("clip-1", tenant: tenant, features: ["motion": 1]) }
            try await Self.create(f, "m")
            _ = try await f.registry.setAlias(C.SetAliasRequest(name: "m", alias: "champion", version: 1), context: Self.acme)
            try await Self.create(f, "g")
            try await Self.create(f, "g", context: Self.globex)
            _ = try await f.registry.setAlias(C.SetAliasRequest(name: "g", alias: "champion", version: 1), context: Self.globex)

            let ours = try await Self.predict(f, "clip-1", "m", nil)
            let theirs = try await Self.predict(f, "clip-1", "g", nil, context: Self.globex)

            for reference in ["m", "m@1", "m@champion"] {
                #expect(await F.code { try await Self.predict(f, "clip-1", reference, nil, context: Self.globex) } == .invalidArgument)
            }
            #expect(await F.code { try await f.predictions.prediction(ours.id, context: Self.globex) } == .notFound)
            #expect(await F.code { try await f.predictions.setActual(C.SetActualRequest(id: ours.id, values: ["ctr": 0.1]), context: Self.globex) } == .notFound)
            #expect(try await f.predictions.list(C.ListPredictionsRequest(), context: Self.globex).predictions.map(\.id) == [theirs.id])
            #expect(try await f.predictions.list(C.ListPredictionsRequest(model: "m"), context: Self.globex).predictions.isEmpty)
            #expect(try await f.predictions.list(C.ListPredictionsRequest(), context: Self.acme).predictions.map(\.id) == [ours.id])

            #expect(try await f.deliver(Self.analyzed("clip-1", ["motion": 2]), id: "evt-acme-analyzed", tenant: "acme"))
            #expect(try await f.deliver(Self.clipMetrics("camp", "clip-1", impressions: 10, clicks: 1), id: "evt-acme-metrics", tenant: "acme"))
            let globexAfter = try await f.predictions.list(C.ListPredictionsRequest(), context: Self.globex).predictions
            #expect(globexAfter.map(\.id) == [theirs.id])
            #expect(globexAfter.first?.actual == nil)
            #expect(try await f.predictions.prediction(ours.id, context: Self.acme).actual == ["ctr": 0.1])
            #expect(try await Self.createdEvents(f).filter { $0.tenant == "globex" }.count == 1)
        }
    }

    // MARK: - Pages

    /// Predictions page newest first, two at a time over five (2, 2, 1, every
    /// one once, in reverse order of creation); clip_id and model filter (an
    /// unknown value gives an empty list); a garbage cursor is
    /// invalid-argument; limit 0 is an empty list.
    @Test(arguments: Engine.allCases)
    func predictionsPageNewestFirst(engine: Engine) async throws {
        try await F.with(engine) { f in
            f.clips.add("clip-1", tenant: "acme")
            f.clips.add("clip-2", tenant: "acme")
            try await Self.create(f, "m")
            try await Self.create(f, "n", ["watch_time_s": Self.linear(1)])
            var made: [C.Prediction] = []
            for (clip, model) in [("clip-1", "m"), ("clip-2", "m"), ("clip-1", "n"), ("clip-1", "m@1"), ("clip-2", "n")] {
                made.append(try await Self.predict(f, clip, model))
            }

            var pages: [[String]] = []
            var cursor: String?
            repeat {
                let page = try await f.predictions.list(C.ListPredictionsRequest(limit: 2, cursor: cursor), context: Self.acme)
                #expect(page.count == page.predictions.count)
                pages.append(page.predictions.map(\.id))
                cursor = page.nextCursor
            } while cursor != nil && pages.count < 10
            #expect(pages.map(\.count) == [2, 2, 1])
            #expect(pages.flatMap { $0 } == made.reversed().map(\.id))

            func ids(clip: String? = nil, model: String? = nil) async throws -> [String] {
                try await f.predictions.list(C.ListPredictionsRequest(clipId: clip, model: model), context: Self.acme).predictions.map(\.id)
            }
            #expect(try await ids(clip: "clip-1") == [made[3], made[2], made[0]].map(\.id))
            #expect(try await ids(model: "m") == [made[3], made[1], made[0]].map(\.id))
            #expect(try await ids(clip: "clip-1", model: "n") == [made[2].id])
            #expect(try await ids(clip: "clip-9") == [])
            #expect(try await ids(model: "nope") == [])
            #expect(try await ids(model: "m@1") == [])

            // Paging a filtered list.
            var filtered: [String] = []
            cursor = nil
            var rounds = 0
            repeat {
                let page = try await f.predictions.list(C.ListPredictionsRequest(clipId: "clip-1", limit: 2, cursor: cursor), context: Self.acme)
                filtered += page.predictions.map(\.id)
                cursor = page.nextCursor
                rounds += 1
            } while cursor != nil && rounds < 10
            #expect(filtered == [made[3], made[2], made[0]].map(\.id))

            for garbage in ["garbage", "12.", ".abc", "01.abc", "1.a b"] {
                #expect(await F.code { try await f.predictions.list(C.ListPredictionsRequest(cursor: garbage), context: Self.acme) } == .invalidArgument, "\(garbage)")
            }
            #expect(await F.code { try await f.predictions.list(C.ListPredictionsRequest(limit: -1), context: Self.acme) } == .invalidArgument)
            #expect(await F.code { try await f.predictions.list(C.ListPredictionsRequest(limit: 501), context: Self.acme) } == .invalidArgument)
            let none = try await f.predictions.list(C.ListPredictionsRequest(limit: 0), context: Self.acme)
            #expect(none.predictions.isEmpty)
            #expect(none.count == 0)
            #expect(none.nextCursor == nil)
        }
    }
}
