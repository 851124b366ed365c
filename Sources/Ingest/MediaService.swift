import BusRuntime
import BusWire
import Contracts
import Foundation
import Logging
import ServiceKit
import Storage

/// The ingest service's assets and the clips cut from them: their life
/// cycles, the events that announce them, and the clips' scores and ranks.
///
/// Every method works within the request's tenant; its SQL names
/// `tenant_id` itself and runs in the tenant's session. Every change to an
/// asset or its clips locks the asset's row first (``lockAsset(_:tenant:id:)``),
/// so concurrent changes of one asset apply one after the other: of
/// concurrent moves from one status exactly one is made, and the others see
/// its result (the same status: answered as it is; another: conflict).
public struct MediaService: Sendable {
    public typealias Asset = IngestContracts.Asset
    public typealias Clip = IngestContracts.Clip
    typealias AssetStatus = IngestContracts.AssetStatus
    typealias ClipStatus = IngestContracts.ClipStatus
    public let store: ServiceStore

    public init(store: ServiceStore) {
        self.store = store
    }

    /// A handler for every asset and clip method of ``IngestContracts/methods``.
    public var bindings: [MethodBinding] {
        [
            MethodBinding(IngestContracts.createAsset) { request, context in try await createAsset(request, context: context) },
            MethodBinding(IngestContracts.getAsset) { request, context in try await getAsset(request.id, context: context) },
            MethodBinding(IngestContracts.updateAsset) { request, context in try await updateAsset(request, context: context) },
            MethodBinding(IngestContracts.deleteAsset) { request, context in
                try await deleteAsset(request, context: context)
                return Empty()
            },
            MethodBinding(IngestContracts.listAssets) { request, context in try await listAssets(request, context: context) },
            MethodBinding(IngestContracts.createClip) { request, context in try await createClip(request, context: context) },
            MethodBinding(IngestContracts.getClip) { request, context in try await getClip(request.id, context: context) },
            MethodBinding(IngestContracts.updateClip) { request, context in try await updateClip(request, context: context) },
            MethodBinding(IngestContracts.deleteClip) { request, context in
                try await deleteClip(request, context: context)
                return Empty()
            },
            MethodBinding(IngestContracts.listClips) { request, context in try await listClips(request, context: context) },
            MethodBinding(IngestContracts.topClips) { request, context in try await topClips(request, context: context) },
        ]
    }

    /// Consumes `clip.analyzed` on `node`, each event once (see
    /// ``applyAnalysis(_:tenant:session:)``). An event that can never apply
    /// (no tenant, a malformed payload, a score out of range) is consumed
    /// without effect and logged: refusing it would hold every later event
    /// for ingest back while the publisher retries it.
    public func consumeClipAnalyses(on node: BusNode, logger: Logger) {
        node.consume(AnalysisContracts.clipAnalyzed.name, into: store.database, as: IngestContracts.service) { payload, delivery, session in
            do {
                guard let tenant = delivery.tenant else { throw BusError(.invalidArgument, "clip.analyzed needs a tenant") }
                let analysis = try JSONBody.decode(AnalysisContracts.ClipAnalyzed.self, from: payload)
                try Self.applyAnalysis(analysis, tenant: tenant, session: session)
            } catch let error as BusError where error.code == .invalidArgument {
                logger.warning("clip.analyzed event \(delivery.eventID) consumed without effect: \(error.message)")
            }
        }
    }

    // MARK: - Assets

    public func createAsset(_ request: IngestContracts.CreateAssetRequest, context: RequestContext) async throws(BusError) -> Asset {
        let caller = try context.requireTenant()
        guard let owner = caller.user else { throw BusError(.unauthenticated, "creating an asset needs a user in the request") }
        let sourceURL = try Validate.sourceURL(request.sourceUrl)
        let fields = NewAsset(
            owner: owner, sourceURL: sourceURL, title: try Validate.text(request.title, field: "title", maxLength: 500),
            sizeBytes: try Validate.sizeBytes(request.sizeBytes), durationS: try Validate.duration(request.durationS),
            mimeType: try Validate.mimeType(request.mimeType), metadata: try Validate.metadata(request.metadata ?? [:])
        )
        let tenant = caller.tenant
        return try await store.write(answering: IngestContracts.createAsset, request, context: context,
                                     conflict: BusError(.conflict, "an asset with source_url \(sourceURL) already exists in this tenant")) { session in
            try Self.insertAsset(session, tenant: tenant, fields)
        }
    }

    public func getAsset(_ id: String, context: RequestContext) async throws(BusError) -> Asset {
        let tenant = try context.requireTenant().tenant
        let row = try await store.read(tenant: tenant) { session in try Self.assetRow(session, tenant: tenant, id: id) }
        guard let row else { throw Self.noAsset(id) }
        return try Self.asset(row)
    }

    public func updateAsset(_ request: IngestContracts.UpdateAssetRequest, context: RequestContext) async throws(BusError) -> Asset {
        let tenant = try context.requireTenant().tenant
        let changes = request.changes
        let target = try changes.status.map { text throws(BusError) in try Validate.status(text, AssetStatus.self) }
        let title = try Validate.text(changes.title, field: "title", maxLength: 500)
        let sizeBytes = try Validate.sizeBytes(changes.sizeBytes)
        let durationS = try Validate.duration(changes.durationS)
        let width = try Validate.pixels(changes.width, field: "width")
        let height = try Validate.pixels(changes.height, field: "height")
        let fps = try Validate.fps(changes.fps)
        let videoCodec = try Validate.text(changes.videoCodec, field: "video_codec", maxLength: 64)
        let audioCodec = try Validate.text(changes.audioCodec, field: "audio_codec", maxLength: 64)
        let error = try Validate.error(changes.error)
        let metadata = try changes.metadata.map { object throws(BusError) in try Validate.metadata(object) }
        let id = request.id
        return try await store.write(answering: IngestContracts.updateAsset, request, context: context) { session in
            guard try Self.lockAsset(session, tenant: tenant, id: id), let row = try Self.assetRow(session, tenant: tenant, id: id) else {
                throw Self.noAsset(id)
            }
            let current = try Self.asset(row)
            let from = AssetStatus(rawValue: current.status)!
            let to = target ?? from
            if to != from, !from.mayMove(to: to) {
                throw BusError(.conflict, "asset \(id) cannot move from \(from.rawValue) to \(to.rawValue)")
            }
            if to == .failed, from != .failed, error == nil, current.error == nil {
                throw BusError(.invalidArgument, "error is required to move an asset to FAILED: say why it failed")
            }
            if let durationS, let end = try Self.latestClipEnd(session, tenant: tenant, assetID: id), end > durationS {
                throw BusError(.invalidArgument, "duration_s \(Validate.number(durationS)) is shorter than a clip of asset \(id), which ends at \(Validate.number(end)) s")
            }
            let unchanged = to == from && title == nil && sizeBytes == nil && durationS == nil && width == nil && height == nil
                && fps == nil && videoCodec == nil && audioCodec == nil && error == nil && metadata == nil
            if unchanged { return current }
            // The retry to PENDING clears the failure's error (unless this change gives a new one).
            let clearsError = from == .failed && to == .pending && error == nil
            let now = Timestamp.now()
            try session.execute("""
                UPDATE asset SET
                    status = \(to.rawValue), title = COALESCE(\(title), title), size_bytes = COALESCE(\(sizeBytes), size_bytes),
                    duration_s = COALESCE(\(durationS), duration_s), width = COALESCE(\(width), width), height = COALESCE(\(height), height),
                    fps = COALESCE(\(fps), fps), video_codec = COALESCE(\(videoCodec), video_codec), audio_codec = COALESCE(\(audioCodec), audio_codec),
                    error = CASE WHEN \(clearsError ? 1 : 0) = 1 THEN NULL ELSE COALESCE(\(error), error) END,
                    metadata = COALESCE(\(metadata), metadata),
                    updated_at = CASE WHEN updated_at < \(now) THEN \(now) ELSE updated_at + 1 END
                WHERE tenant_id = \(tenant) AND id = \(id)
                """)
            if to != from {
                try Outbox.enqueue(session, IngestContracts.assetStatusChanged, IngestContracts.AssetStatusChange(id: id, from: from.rawValue, to: to.rawValue), tenant: tenant)
            }
            guard let updated = try Self.assetRow(session, tenant: tenant, id: id) else { throw Self.noAsset(id) }
            return try Self.asset(updated)
        }
    }

    /// Soft delete: the asset and every clip of it are gone from reads and
    /// lists, its source URL free again; `clip.deleted` for each clip, then `asset.deleted`.
    public func deleteAsset(_ request: IngestContracts.AssetRequest, context: RequestContext) async throws(BusError) {
        let tenant = try context.requireTenant().tenant
        let id = request.id
        _ = try await store.write(tenant: tenant) { session in
            guard try Self.lockAsset(session, tenant: tenant, id: id), let row = try Self.assetRow(session, tenant: tenant, id: id) else {
                throw Self.noAsset(id)
            }
            let asset = try Self.asset(row)
            let now = Timestamp.now()
            let clips = try session.query("SELECT id FROM clip WHERE tenant_id = \(tenant) AND asset_id = \(id) AND deleted_at IS NULL")
            try session.execute("UPDATE clip SET deleted_at = \(now), rank = NULL WHERE tenant_id = \(tenant) AND asset_id = \(id) AND deleted_at IS NULL")
            try session.execute("UPDATE asset SET deleted_at = \(now) WHERE tenant_id = \(tenant) AND id = \(id) AND deleted_at IS NULL")
            for clip in clips {
                try Outbox.enqueue(session, IngestContracts.clipDeleted, IngestContracts.ClipEvent(id: try IngestService.decode(clip, "id"), assetId: id), tenant: tenant)
            }
            try Outbox.enqueue(session, IngestContracts.assetDeleted, IngestContracts.AssetEvent(id: id, userId: asset.userId, status: asset.status), tenant: tenant)
            return Empty()
        }
    }

    /// Newest first; with `status`, only assets of that status (an unknown one matches nothing).
    public func listAssets(_ request: IngestContracts.ListAssetsRequest, context: RequestContext) async throws(BusError) -> IngestContracts.AssetPage {
        let tenant = try context.requireTenant().tenant
        let limit = try IngestService.pageSize(request.limit)
        let cursor = try IngestService.cursor(request.cursor)
        if let status = request.status, AssetStatus(rawValue: status) == nil { return IngestContracts.AssetPage(assets: []) }
        let status = request.status
        let (rows, next) = try await store.read(tenant: tenant) { session in
            try KeysetPage.read(limit: limit, after: cursor) { condition, fetch throws(StorageError) in
                let ofStatus: SQL = status.map { "status = \($0)" } ?? "1 = 1"
                return try session.query("""
                    \(Self.assetColumns) WHERE tenant_id = \(tenant) AND deleted_at IS NULL AND \(ofStatus) AND \(condition)
                    ORDER BY created_at DESC, id DESC LIMIT \(fetch)
                    """)
            }
        }
        return IngestContracts.AssetPage(assets: try rows.map { row throws(BusError) in try Self.asset(row) }, nextCursor: next?.encoded)
    }

    // MARK: - Clips

    public func createClip(_ request: IngestContracts.CreateClipRequest, context: RequestContext) async throws(BusError) -> Clip {
        let tenant = try context.requireTenant().tenant
        let (start, end) = try Validate.segment(start: request.startS, end: request.endS)
        let label = try Validate.text(request.label, field: "label", maxLength: 200)
        let assetID = request.assetId
        return try await store.write(answering: IngestContracts.createClip, request, context: context) { session in
            try Self.insertClip(session, tenant: tenant, assetID: assetID, start: start, end: end, label: label)
        }
    }

    /// A live clip: other services ask this to learn whether a clip exists and what asset it belongs to.
    public func getClip(_ id: String, context: RequestContext) async throws(BusError) -> Clip {
        let tenant = try context.requireTenant().tenant
        let row = try await store.read(tenant: tenant) { session in try Self.clipRow(session, tenant: tenant, id: id) }
        guard let row else { throw Self.noClip(id) }
        return try Self.clip(row)
    }

    public func updateClip(_ request: IngestContracts.UpdateClipRequest, context: RequestContext) async throws(BusError) -> Clip {
        let tenant = try context.requireTenant().tenant
        let target = try request.status.map { text throws(BusError) in try Validate.status(text, ClipStatus.self) }
        let label = try Validate.text(request.label, field: "label", maxLength: 200)
        let id = request.id
        return try await store.write(answering: IngestContracts.updateClip, request, context: context) { session in
            guard let current = try Self.lockedClip(session, tenant: tenant, id: id) else { throw Self.noClip(id) }
            let from = ClipStatus(rawValue: current.status)!
            let to = target ?? from
            if to != from, !from.mayMove(to: to) {
                throw BusError(.conflict, "clip \(id) cannot move from \(from.rawValue) to \(to.rawValue)")
            }
            if to == from, label == nil { return current }
            let now = Timestamp.now()
            try session.execute("""
                UPDATE clip SET status = \(to.rawValue), label = COALESCE(\(label), label),
                    updated_at = CASE WHEN updated_at < \(now) THEN \(now) ELSE updated_at + 1 END
                WHERE tenant_id = \(tenant) AND id = \(id)
                """)
            // A rejected clip leaves the ranking.
            if to == .rejected, current.score != nil { try Self.rerank(session, tenant: tenant, assetID: current.assetId) }
            guard let updated = try Self.clipRow(session, tenant: tenant, id: id) else { throw Self.noClip(id) }
            return try Self.clip(updated)
        }
    }

    public func deleteClip(_ request: IngestContracts.ClipRequest, context: RequestContext) async throws(BusError) {
        let tenant = try context.requireTenant().tenant
        let id = request.id
        _ = try await store.write(tenant: tenant) { session in
            guard let clip = try Self.lockedClip(session, tenant: tenant, id: id) else { throw Self.noClip(id) }
            try session.execute("UPDATE clip SET deleted_at = \(Timestamp.now()), rank = NULL WHERE tenant_id = \(tenant) AND id = \(id) AND deleted_at IS NULL")
            if clip.score != nil { try Self.rerank(session, tenant: tenant, assetID: clip.assetId) }
            try Outbox.enqueue(session, IngestContracts.clipDeleted, IngestContracts.ClipEvent(id: id, assetId: clip.assetId), tenant: tenant)
            return Empty()
        }
    }

    /// An asset's clips by start time (then id).
    public func listClips(_ request: IngestContracts.ListClipsRequest, context: RequestContext) async throws(BusError) -> IngestContracts.ClipPage {
        let tenant = try context.requireTenant().tenant
        let limit = try IngestService.pageSize(request.limit)
        let cursor = try request.cursor.map { text throws(BusError) in
            guard let cursor = ClipCursor(decoding: text) else { throw BusError(.invalidArgument, "cursor is not one this service issued") }
            return cursor
        }
        let assetID = request.assetId
        let (exists, rows) = try await store.read(tenant: tenant) { session in
            guard try Self.assetRow(session, tenant: tenant, id: assetID) != nil else { return (false, [Row]()) }
            guard limit > 0 else { return (true, []) }
            let after: SQL = cursor.map { "(start_s, id) > (\($0.startS), \($0.id))" } ?? "1 = 1"
            return (true, try session.query("""
                \(Self.clipColumns) WHERE tenant_id = \(tenant) AND asset_id = \(assetID) AND deleted_at IS NULL AND \(after)
                ORDER BY start_s, id LIMIT \(limit + 1)
                """))
        }
        guard exists else { throw Self.noAsset(assetID) }
        let clips = try rows.prefix(limit).map { row throws(BusError) in try Self.clip(row) }
        let next = rows.count > limit ? clips.last.map { ClipCursor(startS: $0.startS, id: $0.id).encoded } : nil
        return IngestContracts.ClipPage(clips: clips, nextCursor: next)
    }

    /// Scored clips that are neither rejected nor deleted, best score first
    /// (ties: earlier start, then id), read in that order from an index.
    public func topClips(_ request: IngestContracts.TopClipsRequest, context: RequestContext) async throws(BusError) -> IngestContracts.TopClips {
        let tenant = try context.requireTenant().tenant
        let limit = request.limit ?? MediaLimits.defaultTopClips
        guard (0...IngestLimits.maxPageSize).contains(limit) else { throw BusError(.invalidArgument, "limit must be 0...\(IngestLimits.maxPageSize)") }
        let minScore = try Validate.score(request.minScore ?? 0, field: "min_score")
        guard limit > 0 else { return IngestContracts.TopClips(clips: []) }
        let assetID = request.assetId
        let rows = try await store.read(tenant: tenant) { session in
            // The partial indexes' own predicate, spelled as they spell it, so both engines use them.
            let ofAsset: SQL = assetID.map { "asset_id = \($0) AND " } ?? ""
            return try session.query("""
                \(Self.clipColumns) WHERE tenant_id = \(tenant) AND \(ofAsset)deleted_at IS NULL AND score IS NOT NULL AND status <> 'REJECTED'
                AND score >= \(minScore) ORDER BY score DESC, start_s, id LIMIT \(limit)
                """)
        }
        return IngestContracts.TopClips(clips: try rows.map { row throws(BusError) in try Self.clip(row) })
    }

    // MARK: - Analyses

    /// Records a clip's analysis: its features and score; PENDING and
    /// ANALYZED clips become SCORED (later statuses keep theirs); the
    /// asset's clips are ranked again. A clip that does not exist (any
    /// more) in the tenant, and an analysis not newer than the one the clip
    /// has, are left alone: the event is still consumed.
    public static func applyAnalysis(_ analysis: AnalysisContracts.ClipAnalyzed, tenant: String, session: any DatabaseSession) throws {
        let score = try Validate.score(analysis.score, field: "score")
        guard let analyzedAt = Timestamp(iso8601: analysis.analyzedAt) else {
            throw BusError(.invalidArgument, "analyzed_at must be an ISO 8601 instant, got \(analysis.analyzedAt)")
        }
        guard let clip = try lockedClip(session, tenant: tenant, id: analysis.clipId) else { return }
        let features = try Validate.features(analysis.features)
        let now = Timestamp.now()
        let applied = try session.execute("""
            UPDATE clip SET score = \(score), features = \(features), analyzed_at = \(analyzedAt),
                status = CASE WHEN status IN ('PENDING', 'ANALYZED') THEN 'SCORED' ELSE status END,
                updated_at = CASE WHEN updated_at < \(now) THEN \(now) ELSE updated_at + 1 END
            WHERE tenant_id = \(tenant) AND id = \(clip.id) AND deleted_at IS NULL AND (analyzed_at IS NULL OR analyzed_at < \(analyzedAt))
            """)
        if applied == 1 { try rerank(session, tenant: tenant, assetID: clip.assetId) }
    }

    /// Ranks the asset's scored clips that are neither rejected nor deleted
    /// (1 = best score; ties: earlier start, then id), and clears the rank
    /// of every other clip of it. Writes only the ranks that change.
    static func rerank(_ session: any DatabaseSession, tenant: String, assetID: String) throws {
        // Deleted clips lost their rank when deleted: only live ones, from `clip_by_start`.
        try session.execute("""
            UPDATE clip SET rank = NULL WHERE tenant_id = \(tenant) AND asset_id = \(assetID) AND deleted_at IS NULL
            AND rank IS NOT NULL AND (score IS NULL OR status = 'REJECTED')
            """)
        let ranked = try session.query("""
            SELECT id, rank FROM clip WHERE tenant_id = \(tenant) AND asset_id = \(assetID)
            AND deleted_at IS NULL AND score IS NOT NULL AND status <> 'REJECTED' ORDER BY score DESC, start_s, id
            """)
        for (index, row) in ranked.enumerated() {
            let rank = index + 1
            let id: String = try row["id"]
            let current: Int? = try row["rank"]
            if current != rank { try session.execute("UPDATE clip SET rank = \(rank) WHERE tenant_id = \(tenant) AND id = \(id)") }
        }
    }

    // MARK: - Statements

    static let assetColumns: SQL = """
        SELECT id, user_id, source_url, title, status, size_bytes, duration_s, width, height, fps, mime_type,
        video_codec, audio_codec, error, metadata, created_at, updated_at FROM asset
        """
    static let clipColumns: SQL = "SELECT id, asset_id, start_s, end_s, label, status, score, rank, features, created_at, updated_at FROM clip"

    static func assetRow(_ session: any DatabaseSession, tenant: String, id: String) throws -> Row? {
        try session.queryFirst("\(assetColumns) WHERE tenant_id = \(tenant) AND id = \(id) AND deleted_at IS NULL")
    }

    static func clipRow(_ session: any DatabaseSession, tenant: String, id: String) throws -> Row? {
        try session.queryFirst("\(clipColumns) WHERE tenant_id = \(tenant) AND id = \(id) AND deleted_at IS NULL")
    }

    /// Locks a live asset's row until the transaction ends; false when it
    /// does not exist (any more). Every change to an asset or its clips
    /// takes it first, so on PostgreSQL they happen one at a time per asset
    /// and each sees the last one's result: a clip cannot be cut from an
    /// asset being deleted or archived, nor end past a duration being
    /// shortened, and ranks are computed from all the asset's scores.
    /// (SQLite writes one transaction at a time anyway.)
    static func lockAsset(_ session: any DatabaseSession, tenant: String, id: String) throws -> Bool {
        try session.execute("UPDATE asset SET updated_at = updated_at WHERE tenant_id = \(tenant) AND id = \(id) AND deleted_at IS NULL") == 1
    }

    /// A live clip, read after its asset was locked (see ``lockAsset(_:tenant:id:)``).
    static func lockedClip(_ session: any DatabaseSession, tenant: String, id: String) throws -> Clip? {
        guard let row = try clipRow(session, tenant: tenant, id: id), try lockAsset(session, tenant: tenant, id: try clip(row).assetId),
            let locked = try clipRow(session, tenant: tenant, id: id)
        else { return nil }
        return try clip(locked)
    }

    static func latestClipEnd(_ session: any DatabaseSession, tenant: String, assetID: String) throws -> Double? {
        try session.queryFirst("SELECT MAX(end_s) AS e FROM clip WHERE tenant_id = \(tenant) AND asset_id = \(assetID) AND deleted_at IS NULL")
            .flatMap { row in try row["e"] }
    }

    /// An asset's validated fields at creation.
    struct NewAsset: Sendable {
        var owner: String
        var sourceURL: String
        var title: String?
        var sizeBytes: Int64?
        var durationS: Double?
        var mimeType: String?
        var metadata: JSONText
        /// The seed's assets come with more facts and a status.
        var status = AssetStatus.pending
        var width: Int?
        var height: Int?
        var fps: Double?
        var videoCodec: String?
        var audioCodec: String?
    }

    static func insertAsset(_ session: any DatabaseSession, tenant: String, _ new: NewAsset) throws -> Asset {
        let id = ResourceID.make(), now = Timestamp.now()
        try session.execute("""
            INSERT INTO asset (tenant_id, id, user_id, source_url, title, status, size_bytes, duration_s, width, height, fps,
                mime_type, video_codec, audio_codec, metadata, created_at, updated_at)
            VALUES (\(tenant), \(id), \(new.owner), \(new.sourceURL), \(new.title), \(new.status.rawValue), \(new.sizeBytes), \(new.durationS),
                \(new.width), \(new.height), \(new.fps), \(new.mimeType), \(new.videoCodec), \(new.audioCodec), \(new.metadata), \(now), \(now))
            """)
        guard let row = try assetRow(session, tenant: tenant, id: id) else { throw BusError(.internal, "the new asset \(id) is missing") }
        let asset = try asset(row)
        try Outbox.enqueue(session, IngestContracts.assetCreated, IngestContracts.AssetEvent(id: id, userId: new.owner, status: asset.status), tenant: tenant)
        return asset
    }

    /// A clip of a live asset that is not archived, within its duration when known.
    static func insertClip(_ session: any DatabaseSession, tenant: String, assetID: String, start: Double, end: Double, label: String?) throws -> Clip {
        guard try lockAsset(session, tenant: tenant, id: assetID), let row = try assetRow(session, tenant: tenant, id: assetID) else {
            throw noAsset(assetID)
        }
        let asset = try asset(row)
        if asset.status == AssetStatus.archived.rawValue { throw BusError(.conflict, "asset \(assetID) is ARCHIVED: no new clips") }
        if let duration = asset.durationS, end > duration {
            throw BusError(.invalidArgument, "end_s \(Validate.number(end)) is beyond the asset's duration_s \(Validate.number(duration))")
        }
        let id = ResourceID.make(), now = Timestamp.now()
        try session.execute("""
            INSERT INTO clip (tenant_id, id, asset_id, start_s, end_s, label, status, created_at, updated_at)
            VALUES (\(tenant), \(id), \(assetID), \(start), \(end), \(label), 'PENDING', \(now), \(now))
            """)
        try Outbox.enqueue(session, IngestContracts.clipCreated, IngestContracts.ClipEvent(id: id, assetId: assetID), tenant: tenant)
        guard let inserted = try clipRow(session, tenant: tenant, id: id) else { throw BusError(.internal, "the new clip \(id) is missing") }
        return try clip(inserted)
    }

    static func noAsset(_ id: String) -> BusError { BusError(.notFound, "no asset \(id)") }
    static func noClip(_ id: String) -> BusError { BusError(.notFound, "no clip \(id)") }

    // MARK: - Rows

    static func asset(_ row: Row) throws(BusError) -> Asset {
        func decode<T: DatabaseValueConvertible>(_ type: T.Type, _ row: Row, _ column: String) throws(BusError) -> T {
            try IngestService.decode(type, row, column)
        }
        return Asset(
            id: try decode(String.self, row, "id"), userId: try decode(String.self, row, "user_id"), sourceUrl: try decode(String.self, row, "source_url"),
            title: try decode(String?.self, row, "title"), status: try decode(String.self, row, "status"),
            sizeBytes: try decode(Int64?.self, row, "size_bytes"), durationS: try decode(Double?.self, row, "duration_s"),
            width: try decode(Int?.self, row, "width"), height: try decode(Int?.self, row, "height"), fps: try decode(Double?.self, row, "fps"),
            mimeType: try decode(String?.self, row, "mime_type"), videoCodec: try decode(String?.self, row, "video_codec"),
            audioCodec: try decode(String?.self, row, "audio_codec"), error: try decode(String?.self, row, "error"),
            metadata: try json(JSONObject.self, try decode(String.self, row, "metadata"), "metadata"),
            createdAt: try decode(Timestamp.self, row, "created_at").iso8601, updatedAt: try decode(Timestamp.self, row, "updated_at").iso8601
        )
    }

    static func clip(_ row: Row) throws(BusError) -> Clip {
        func decode<T: DatabaseValueConvertible>(_ type: T.Type, _ row: Row, _ column: String) throws(BusError) -> T {
            try IngestService.decode(type, row, column)
        }
        let features = try decode(String?.self, row, "features").map { text throws(BusError) in try json([String: Double].self, text, "features") }
        return Clip(
            id: try decode(String.self, row, "id"), assetId: try decode(String.self, row, "asset_id"),
            startS: try decode(Double.self, row, "start_s"), endS: try decode(Double.self, row, "end_s"),
            label: try decode(String?.self, row, "label"), status: try decode(String.self, row, "status"),
            score: try decode(Double?.self, row, "score"), rank: try decode(Int?.self, row, "rank"), features: features,
            createdAt: try decode(Timestamp.self, row, "created_at").iso8601, updatedAt: try decode(Timestamp.self, row, "updated_at").iso8601
        )
    }

    static func json<T: Decodable>(_ type: T.Type, _ text: String, _ column: String) throws(BusError) -> T {
        guard let value = try? JSONDecoder().decode(T.self, from: Data(text.utf8)) else { throw BusError(.internal, "unreadable \(column) in a row") }
        return value
    }
}

/// Where a page of an asset's clips ended: `<start_s>~<id>`. Start times
/// are written in Swift's shortest form that reads back to the same double,
/// so the next page starts exactly after the last clip.
struct ClipCursor: Sendable, Hashable {
    var startS: Double
    var id: String

    var encoded: String { "\(startS)~\(id)" }

    init(startS: Double, id: String) {
        self.startS = startS
        self.id = id
    }

    init?(decoding text: String) {
        let parts = text.split(separator: "~", maxSplits: 1, omittingEmptySubsequences: false)
        guard text.utf8.count <= 128, parts.count == 2, let first = parts[0].utf8.first, (0x30...0x39).contains(first),
            parts[0].utf8.allSatisfy({ (0x30...0x39).contains($0) || ".e+-".utf8.contains($0) }), let start = Double(parts[0]), start >= 0,
            (1...64).contains(parts[1].utf8.count),
            parts[1].utf8.allSatisfy({ byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x5F || byte == 0x2D
            })
        else { return nil }
        // Past any clip: a well-formed cursor is a position, even beyond the last one.
        self.init(startS: min(start, Double(MediaLimits.maxDurationS) + 1), id: String(parts[1]))
    }
}
