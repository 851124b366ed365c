import BusRuntime
import BusWire
import Contracts
import Foundation
import Logging
import ServiceKit
import Storage

/// Where predictions learn about clips, over the bus, asked as the request's
/// own identity: whether ingest has the clip, and the features of its stored analysis.
public struct ClipSource: Sendable {
    /// Whether the caller's tenant has the clip; throws `unavailable` when ingest cannot say.
    public var clipExists: @Sendable (_ clipID: String, _ caller: Identity) async throws(BusError) -> Bool
    /// The features of the clip's stored analysis; nil when it has none.
    public var analysisFeatures: @Sendable (_ clipID: String, _ caller: Identity) async throws(BusError) -> [String: Double]?

    public init(
        clipExists: @escaping @Sendable (_ clipID: String, _ caller: Identity) async throws(BusError) -> Bool,
        analysisFeatures: @escaping @Sendable (_ clipID: String, _ caller: Identity) async throws(BusError) -> [String: Double]?
    ) {
        self.clipExists = clipExists
        self.analysisFeatures = analysisFeatures
    }

    /// Ingest's `clips.get` and the analysis-store's `clip-analyses.get` through `node`.
    public static func bus(_ node: BusNode) -> ClipSource {
        ClipSource(
            clipExists: { clipID, caller throws(BusError) in
                do throws(BusError) {
                    _ = try await node.call(IngestContracts.getClip, IngestContracts.ClipRequest(id: clipID), identity: caller)
                    return true
                } catch {
                    if error.code == .notFound { return false }
                    throw BusError(.unavailable, "ingest could not confirm clip \(clipID): \(error.message)", retryable: error.retryable)
                }
            },
            analysisFeatures: { clipID, caller throws(BusError) in
                do throws(BusError) {
                    return try await node.call(AnalysisContracts.getClipAnalysis, AnalysisContracts.ClipAnalysisRequest(clipId: clipID), identity: caller).features
                } catch {
                    if error.code == .notFound { return nil }
                    throw BusError(.unavailable, "the analysis-store could not give clip \(clipID)'s analysis: \(error.message)", retryable: error.retryable)
                }
            }
        )
    }
}

/// Predictions of clips' metrics by model versions, their actual values
/// (given, or from conversion's clip metrics), and automatic predictions
/// with every model's champion when a clip is analyzed.
public struct PredictionService: Sendable {
    public typealias C = PredictionContracts
    public let store: ServiceStore
    public let clips: ClipSource

    /// The metric conversion's clip metrics fill: clicks / impressions.
    public static let clickThroughRate = "ctr"

    public init(store: ServiceStore, clips: ClipSource) {
        self.store = store
        self.clips = clips
    }

    public var bindings: [MethodBinding] {
        [
            MethodBinding(C.predict) { request, context in try await predict(request, context: context) },
            MethodBinding(C.getPrediction) { request, context in try await prediction(request.id, context: context) },
            MethodBinding(C.listPredictions) { request, context in try await list(request, context: context) },
            MethodBinding(C.setActual) { request, context in try await setActual(request, context: context) },
        ]
    }

    // MARK: - Predicting

    /// Predicts with the version `model` names, from the given features or
    /// else the clip's stored analysis; the clip must exist in the caller's tenant.
    public func predict(_ request: C.PredictRequest, context: RequestContext) async throws(BusError) -> C.Prediction {
        let caller = try context.requireTenant()
        let tenant = caller.tenant, clipID = request.clipId
        guard !clipID.isEmpty, clipID.utf8.count <= 64 else { throw BusError(.invalidArgument, "clip_id must be 1 to 64 characters") }
        let reference = try ModelReference(parsing: request.model)
        let features: [String: Double]
        if let given = request.features {
            features = try PredictionValidation.features(given)
            guard try await clips.clipExists(clipID, caller) else { throw BusError(.invalidArgument, "clip_id: no clip \(clipID)") }
        } else {
            guard let stored = try await clips.analysisFeatures(clipID, caller) else {
                throw BusError(.invalidArgument, "clip_id: clip \(clipID) has no stored analysis; send features, or store its analysis first")
            }
            features = stored
        }
        return try await store.write(answering: C.predict, request, context: context) { session in
            let version = try ModelRegistry.resolve(reference, session, tenant: tenant)
            return try Self.insert(session, tenant: tenant, clipID: clipID, version: version, features: features)
        }
    }

    /// Stores a prediction of `clipID` by `version` and announces it; `ctr`
    /// starts with the clip's known click-through rate as its actual.
    static func insert(
        _ session: any DatabaseSession, tenant: String, clipID: String, version: ModelRegistry.Resolved, features: [String: Double]
    ) throws -> C.Prediction {
        var predicted: [String: Double] = [:]
        for (metric, model) in version.metrics {
            guard let value = try MetricFormula(model).predict(features) else {
                throw BusError(.invalidArgument, "features: \(version.name)@\(version.version) predicts a non-finite \(metric) from them")
            }
            predicted[metric] = value
        }
        let id = ResourceID.make(), now = Timestamp.now()
        try session.execute("""
            INSERT INTO prediction (tenant_id, id, clip_id, model, version, alias, features, created_at)
            VALUES (\(tenant), \(id), \(clipID), \(version.name), \(version.version), \(version.alias), \(try PredictionValidation.json(features)), \(now))
            """)
        for (metric, value) in predicted.sorted(by: { $0.key < $1.key }) {
            try session.execute("""
                INSERT INTO prediction_value (tenant_id, prediction_id, clip_id, model, version, metric, kind, predicted)
                VALUES (\(tenant), \(id), \(clipID), \(version.name), \(version.version), \(metric), \(version.metrics[metric]!.kind), \(value))
                """)
        }
        var actual: [String: Double] = [:]
        if let value = predicted[clickThroughRate], let rate = try lockedClickThroughRate(session, tenant: tenant, clipID: clipID) {
            actual[clickThroughRate] = rate
            try ErrorSums.apply(
                [ActualChange(predictionID: id, model: version.name, version: version.version, metric: clickThroughRate, predicted: value, old: nil, new: rate)],
                session, tenant: tenant
            )
        }
        try Outbox.enqueue(session, C.predictionCreated, C.PredictionEvent(id: id, clipId: clipID, model: version.name, version: version.version, alias: version.alias), tenant: tenant)
        return C.Prediction(
            id: id, clipId: clipID, model: version.name, version: version.version, alias: version.alias, features: features,
            predicted: predicted, actual: actual.isEmpty ? nil : actual, createdAt: now.iso8601
        )
    }

    // MARK: - Actuals

    /// Merges the given actual values into the prediction's (metrics not named keep theirs).
    public func setActual(_ request: C.SetActualRequest, context: RequestContext) async throws(BusError) -> C.Prediction {
        let tenant = try context.requireTenant().tenant
        let id = request.id
        guard !request.values.isEmpty else { throw BusError(.invalidArgument, "name at least one metric and its actual value") }
        for (metric, value) in request.values where !value.isFinite {
            throw BusError(.invalidArgument, "\(metric) must be a finite number")
        }
        return try await store.write(answering: C.setActual, request, context: context) { session in
            guard let row = try session.queryFirst("\(Self.columns) WHERE tenant_id = \(tenant) AND id = \(id)") else { throw Self.noPrediction(id) }
            // The values locked before their old actuals are read: a concurrent
            // change waits here and then reads this one's result, so each
            // old actual is taken out of the sums exactly once.
            try session.execute("UPDATE prediction_value SET actual = actual WHERE tenant_id = \(tenant) AND prediction_id = \(id)")
            let stored = try session.query("""
                SELECT model, version, metric, kind, predicted, actual FROM prediction_value WHERE tenant_id = \(tenant) AND prediction_id = \(id)
                """)
            var values: [String: Row] = [:]
            for value in stored { values[try value["metric"]] = value }
            var changes: [ActualChange] = []
            for (metric, actual) in request.values.sorted(by: { $0.key < $1.key }) {
                guard let value = values[metric] else {
                    throw BusError(.invalidArgument, "\(metric): the prediction has no such metric (it has \(values.keys.sorted().joined(separator: ", ")))")
                }
                if try value["kind"] == C.MetricKind.logistic.rawValue, !(0...1).contains(actual) {
                    throw BusError(.invalidArgument, "\(metric) is a rate metric: its actual value must be from 0 to 1, got \(actual)")
                }
                changes.append(try Self.change(value, predictionID: id, to: actual))
            }
            try ErrorSums.apply(changes, session, tenant: tenant)
            return try Self.predictions(session, tenant: tenant, rows: [row])[0]
        }
    }

    /// The clip's click-through rate, its engagement row taken first (made
    /// empty when missing): an engagement event in flight commits before
    /// this reads, and one that comes after waits for this prediction to
    /// commit and then sets its `ctr` too. Either way no prediction keeps a stale rate.
    static func lockedClickThroughRate(_ session: any DatabaseSession, tenant: String, clipID: String) throws -> Double? {
        try session.execute("""
            INSERT INTO clip_engagement (tenant_id, clip_id, impressions, clicks) VALUES (\(tenant), \(clipID), 0, 0)
            ON CONFLICT (tenant_id, clip_id) DO UPDATE SET impressions = clip_engagement.impressions
            """)
        return try clickThroughRate(session, tenant: tenant, clipID: clipID)
    }

    /// The clip's click-through rate from the engagement summed so far; nil
    /// before any impression (or when clicks exceed impressions: not a rate).
    static func clickThroughRate(_ session: any DatabaseSession, tenant: String, clipID: String) throws -> Double? {
        guard let row = try session.queryFirst("SELECT impressions, clicks FROM clip_engagement WHERE tenant_id = \(tenant) AND clip_id = \(clipID)") else { return nil }
        let impressions: Int64 = try row["impressions"], clicks: Int64 = try row["clicks"]
        guard impressions > 0, clicks <= impressions else { return nil }
        return Double(clicks) / Double(impressions)
    }

    // MARK: - Events

    /// Consumes `clip.analyzed` (a prediction with every model's champion)
    /// and `campaign.clip_metrics` (the clip's ctr actuals), each event once.
    /// A payload that can never apply is consumed without effect and logged.
    public func consumeEvents(on node: BusNode, logger: Logger) {
        let store = self.store
        node.consume(AnalysisContracts.clipAnalyzed.name, into: store.database, as: C.service, afterCommit: { _ in store.committed() }) { payload, delivery, session in
            try Self.applying("clip.analyzed", delivery, logger) { tenant throws in
                let analyzed = try JSONBody.decode(AnalysisContracts.ClipAnalyzed.self, from: payload)
                for refusal in try Self.predictWithChampions(analyzed, tenant: tenant, session: session) {
                    logger.warning("clip.analyzed event \(delivery.eventID): no prediction of clip \(analyzed.clipId): \(refusal.message)")
                }
            }
        }
        node.consume(ConversionContracts.clipMetrics.name, into: store.database, as: C.service) { payload, delivery, session in
            try Self.applying("campaign.clip_metrics", delivery, logger) { tenant throws in
                try Self.recordEngagement(try JSONBody.decode(ConversionContracts.ClipMetrics.self, from: payload), tenant: tenant, session: session)
            }
        }
    }

    /// Runs `effect` for the event's tenant; an event that can never apply is logged, not retried.
    private static func applying(_ topic: String, _ delivery: EventDelivery, _ logger: Logger, _ effect: (String) throws -> Void) throws {
        do {
            guard let tenant = delivery.tenant else { throw BusError(.invalidArgument, "\(topic) needs a tenant") }
            try effect(tenant)
        } catch let error as BusError where error.code == .invalidArgument {
            logger.warning("\(topic) event \(delivery.eventID) consumed without effect: \(error.message)")
        }
    }

    /// One prediction per model that has a champion, with the analysis's
    /// features; returns why a champion made none (a non-finite value from
    /// these features: nothing of it is stored, and the others still predict).
    @discardableResult
    public static func predictWithChampions(_ analyzed: AnalysisContracts.ClipAnalyzed, tenant: String, session: any DatabaseSession) throws -> [BusError] {
        let features = try PredictionValidation.features(analyzed.features)
        let champions = try session.query("""
            SELECT v.model, v.version, v.metrics FROM model_alias a
            JOIN model_version v ON v.tenant_id = a.tenant_id AND v.model = a.model AND v.version = a.version
            WHERE a.tenant_id = \(tenant) AND a.alias = \(ModelRegistry.champion) AND v.deleted_at IS NULL
            ORDER BY v.model
            """)
        var refusals: [BusError] = []
        for row in champions {
            let version = ModelRegistry.Resolved(
                name: try row["model"], version: try row["version"], alias: ModelRegistry.champion,
                metrics: try PredictionValidation.decode([String: C.MetricModel].self, try row["metrics"], what: "model version metrics")
            )
            do {
                _ = try insert(session, tenant: tenant, clipID: analyzed.clipId, version: version, features: features)
            } catch let refusal as BusError where refusal.code == .invalidArgument {
                refusals.append(refusal)
            }
        }
        return refusals
    }

    /// Adds the clicks and impressions to the clip's engagement and sets the
    /// resulting click-through rate as the `ctr` actual of every prediction of the clip.
    public static func recordEngagement(_ metrics: ConversionContracts.ClipMetrics, tenant: String, session: any DatabaseSession) throws {
        guard metrics.impressions >= 0, metrics.clicks >= 0 else {
            throw BusError(.invalidArgument, "impressions and clicks must not be negative")
        }
        try session.execute("""
            INSERT INTO clip_engagement (tenant_id, clip_id, impressions, clicks) VALUES (\(tenant), \(metrics.clipId), \(metrics.impressions), \(metrics.clicks))
            ON CONFLICT (tenant_id, clip_id) DO UPDATE SET
                impressions = clip_engagement.impressions + \(metrics.impressions), clicks = clip_engagement.clicks + \(metrics.clicks)
            """)
        guard let rate = try clickThroughRate(session, tenant: tenant, clipID: metrics.clipId) else { return }
        // Locked before their old actuals are read (see ``setActual(_:context:)``).
        try session.execute("""
            UPDATE prediction_value SET actual = actual WHERE tenant_id = \(tenant) AND clip_id = \(metrics.clipId) AND metric = \(clickThroughRate)
            """)
        let values = try session.query("""
            SELECT prediction_id, model, version, metric, predicted, actual FROM prediction_value
            WHERE tenant_id = \(tenant) AND clip_id = \(metrics.clipId) AND metric = \(clickThroughRate)
            """)
        try ErrorSums.apply(try values.map { value in try change(value, predictionID: try value["prediction_id"], to: rate) }, session, tenant: tenant)
    }

    /// A `prediction_value` row's actual set to `actual`.
    static func change(_ value: Row, predictionID: String, to actual: Double) throws -> ActualChange {
        ActualChange(
            predictionID: predictionID, model: try value["model"], version: try value["version"], metric: try value["metric"],
            predicted: try value["predicted"], old: try value["actual"], new: actual
        )
    }

    // MARK: - Reads

    public func prediction(_ id: String, context: RequestContext) async throws(BusError) -> C.Prediction {
        let tenant = try context.requireTenant().tenant
        let prediction = try await store.read(tenant: tenant) { session in
            try session.queryFirst("\(Self.columns) WHERE tenant_id = \(tenant) AND id = \(id)").map { row in
                try Self.predictions(session, tenant: tenant, rows: [row])[0]
            }
        }
        guard let prediction else { throw Self.noPrediction(id) }
        return prediction
    }

    /// Newest first, optionally of one clip and one model (by name).
    public func list(_ request: C.ListPredictionsRequest, context: RequestContext) async throws(BusError) -> C.PredictionPage {
        let tenant = try context.requireTenant().tenant
        let limit = try ModelRegistry.pageSize(request.limit)
        let cursor = try ModelRegistry.cursor(request.cursor)
        let clipID = request.clipId, model = request.model
        let (predictions, next) = try await store.read(tenant: tenant) { session in
            let (rows, next) = try KeysetPage.read(limit: limit, after: cursor) { condition, fetch throws(StorageError) in
                let ofClip: SQL = clipID.map { "AND clip_id = \($0)" } ?? ""
                let ofModel: SQL = model.map { "AND model = \($0)" } ?? ""
                return try session.query("""
                    \(Self.columns) WHERE tenant_id = \(tenant) \(ofClip) \(ofModel) AND \(condition)
                    ORDER BY created_at DESC, id DESC LIMIT \(fetch)
                    """)
            }
            return (try Self.predictions(session, tenant: tenant, rows: Array(rows)), next)
        }
        return C.PredictionPage(predictions: predictions, nextCursor: next?.encoded)
    }

    static let columns: SQL = "SELECT id, clip_id, model, version, alias, features, created_at FROM prediction"

    /// The predictions of `rows`, in their order, with their values (one query for all).
    static func predictions(_ session: any DatabaseSession, tenant: String, rows: [Row]) throws -> [C.Prediction] {
        guard !rows.isEmpty else { return [] }
        let ids: [String] = try rows.map { try $0["id"] }
        var predicted: [String: [String: Double]] = [:], actual: [String: [String: Double]] = [:]
        for value in try session.query("""
            SELECT prediction_id, metric, predicted, actual FROM prediction_value WHERE tenant_id = \(tenant) AND prediction_id IN (\(SQL.list(ids)))
            """) {
            let id: String = try value["prediction_id"], metric: String = try value["metric"]
            predicted[id, default: [:]][metric] = try value["predicted"]
            if let observed: Double = try value["actual"] { actual[id, default: [:]][metric] = observed }
        }
        return try rows.map { row in
            let id: String = try row["id"]
            let created: Timestamp = try row["created_at"]
            return C.Prediction(
                id: id, clipId: try row["clip_id"], model: try row["model"], version: try row["version"], alias: try row["alias"],
                features: try PredictionValidation.decode([String: Double].self, try row["features"], what: "prediction features"),
                predicted: predicted[id] ?? [:], actual: actual[id], createdAt: created.iso8601
            )
        }
    }

    static func noPrediction(_ id: String) -> BusError { BusError(.notFound, "no prediction \(id)") }
}
