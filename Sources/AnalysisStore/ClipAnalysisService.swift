import BusRuntime
import BusWire
import Contracts
import Foundation
import Logging
import ServiceKit
import Storage

/// Where the analysis-store learns whether a clip exists and which asset it
/// belongs to: ingest, over the bus, asked as the request's own identity.
public struct ClipDirectory: Sendable {
    /// The clip's asset; nil when the tenant has no such clip. Throws
    /// `unavailable` when the answer cannot be had.
    public var assetOfClip: @Sendable (_ clipID: String, _ caller: Identity) async throws(BusError) -> String?

    public init(assetOfClip: @escaping @Sendable (_ clipID: String, _ caller: Identity) async throws(BusError) -> String?) {
        self.assetOfClip = assetOfClip
    }

    /// Asks ingest's `clips.get` through `node`.
    public static func ingest(through node: BusNode) -> ClipDirectory {
        ClipDirectory { clipID, caller throws(BusError) in
            do throws(BusError) {
                return try await node.call(IngestContracts.getClip, IngestContracts.ClipRequest(id: clipID), identity: caller).assetId
            } catch {
                if error.code == .notFound { return nil }
                // Never store an analysis of a clip nobody vouched for.
                throw BusError(.unavailable, "ingest could not confirm clip \(clipID): \(error.message)", retryable: error.retryable)
            }
        }
    }
}

/// Clip analyses: features and a score per clip, stored only for clips that
/// ingest confirms, each change announced as `clip.analyzed` (ingest scores
/// and ranks the clip on it).
public struct ClipAnalysisService: Sendable {
    public typealias ClipAnalysis = AnalysisContracts.ClipAnalysis
    public let store: ServiceStore
    public let clips: ClipDirectory

    public init(store: ServiceStore, clips: ClipDirectory) {
        self.store = store
        self.clips = clips
    }

    public var bindings: [MethodBinding] {
        [
            MethodBinding(AnalysisContracts.putClipAnalysis) { request, context in try await put(request, context: context) },
            MethodBinding(AnalysisContracts.getClipAnalysis) { request, context in try await get(request.clipId, context: context) },
        ]
    }

    /// Creates or replaces the clip's analysis (`created` says which) after
    /// ingest confirmed the clip; `not-found` when it did not, `unavailable`
    /// when it could not be asked — nothing is stored then.
    public func put(_ request: AnalysisContracts.PutClipAnalysisRequest, context: RequestContext) async throws(BusError) -> ClipAnalysis {
        let caller = try context.requireTenant()
        let tenant = caller.tenant, clipID = request.clipId
        let score = try KnowledgeValidation.score(request.score)
        let features = try KnowledgeValidation.features(request.features)
        let analyzer = try KnowledgeValidation.text(request.analyzer, field: "analyzer", maxLength: 200)
        guard let assetID = try await clips.assetOfClip(clipID, caller) else { throw BusError(.notFound, "no clip \(clipID)") }
        return try await store.write(answering: AnalysisContracts.putClipAnalysis, request, context: context) { session in
            let now = Timestamp.now()
            // ON CONFLICT: of two first PUTs at once, one creates and the other replaces (neither is a conflict).
            let created = try session.execute("""
                INSERT INTO clip_analysis (tenant_id, clip_id, asset_id, features, score, analyzer, created_at, updated_at)
                VALUES (\(tenant), \(clipID), \(assetID), \(features.text), \(score), \(analyzer), \(now), \(now))
                ON CONFLICT (tenant_id, clip_id) DO NOTHING
                """) == 1
            if !created {
                try session.execute("""
                    UPDATE clip_analysis SET asset_id = \(assetID), features = \(features.text), score = \(score), analyzer = \(analyzer),
                        updated_at = CASE WHEN updated_at < \(now) THEN \(now) ELSE updated_at + 1 END
                    WHERE tenant_id = \(tenant) AND clip_id = \(clipID)
                    """)
            }
            guard let row = try Self.row(session, tenant: tenant, clipID: clipID) else { throw BusError(.internal, "the analysis of clip \(clipID) is missing") }
            var analysis = try Self.analysis(row)
            // updated_at only moves forward, so consumers can tell a newer analysis from an older one.
            try Outbox.enqueue(session, AnalysisContracts.clipAnalyzed,
                               AnalysisContracts.ClipAnalyzed(clipId: clipID, assetId: assetID, score: score, features: features.numbers, analyzedAt: analysis.updatedAt),
                               tenant: tenant)
            analysis.created = created
            return analysis
        }
    }

    /// Consumes `clip.deleted` on `node`: a deleted clip's analysis goes
    /// with it, once per event. A payload that can never apply is consumed
    /// without effect and logged (refusing it would hold ingest's later events back).
    public func consumeClipDeletions(on node: BusNode, logger: Logger) {
        node.consume(IngestContracts.clipDeleted.name, into: store.database, as: AnalysisContracts.service) { payload, delivery, session in
            do {
                guard let tenant = delivery.tenant else { throw BusError(.invalidArgument, "clip.deleted needs a tenant") }
                try Self.forget(try JSONBody.decode(IngestContracts.ClipEvent.self, from: payload), tenant: tenant, session: session)
            } catch let error as BusError where error.code == .invalidArgument {
                logger.warning("clip.deleted event \(delivery.eventID) consumed without effect: \(error.message)")
            }
        }
    }

    /// Removes the deleted clip's analysis, if it has one.
    public static func forget(_ deleted: IngestContracts.ClipEvent, tenant: String, session: any DatabaseSession) throws {
        try session.execute("DELETE FROM clip_analysis WHERE tenant_id = \(tenant) AND clip_id = \(deleted.id)")
    }

    public func get(_ clipID: String, context: RequestContext) async throws(BusError) -> ClipAnalysis {
        let tenant = try context.requireTenant().tenant
        let row = try await store.read(tenant: tenant) { session in try Self.row(session, tenant: tenant, clipID: clipID) }
        guard let row else { throw BusError(.notFound, "no analysis of clip \(clipID)") }
        return try Self.analysis(row)
    }

    static func row(_ session: any DatabaseSession, tenant: String, clipID: String) throws -> Row? {
        try session.queryFirst("""
            SELECT clip_id, asset_id, features, score, analyzer, created_at, updated_at FROM clip_analysis
            WHERE tenant_id = \(tenant) AND clip_id = \(clipID)
            """)
    }

    static func analysis(_ row: Row) throws(BusError) -> ClipAnalysis {
        do {
            let featuresText: String = try row["features"]
            guard let features = try? JSONDecoder().decode([String: Double].self, from: Data(featuresText.utf8)) else {
                throw BusError(.internal, "unreadable features of a clip analysis")
            }
            let created: Timestamp = try row["created_at"]
            let updated: Timestamp = try row["updated_at"]
            return ClipAnalysis(
                clipId: try row["clip_id"], assetId: try row["asset_id"], features: features, score: try row["score"], analyzer: try row["analyzer"],
                createdAt: created.iso8601, updatedAt: updated.iso8601
            )
        } catch let error as BusError {
            throw error
        } catch {
            throw BusError(.internal, "unreadable clip analysis row: \(error)")
        }
    }
}
