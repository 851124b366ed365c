/// The ingest service's second part: video assets and the clips cut from
/// them, with their life cycles (API.md "ingest → Assets", "Clips").
extension IngestContracts {
    /// An asset's statuses and the moves between them.
    public enum AssetStatus: String, Sendable, CaseIterable {
        case pending = "PENDING", processing = "PROCESSING", ready = "READY", failed = "FAILED", archived = "ARCHIVED"

        /// PENDING → PROCESSING → READY | FAILED, FAILED → PENDING (retry), READY | FAILED → ARCHIVED.
        public func mayMove(to next: AssetStatus) -> Bool {
            switch (self, next) {
            case (.pending, .processing), (.processing, .ready), (.processing, .failed), (.failed, .pending), (.ready, .archived), (.failed, .archived): true
            default: false
            }
        }
    }

    /// A clip's statuses and the moves between them.
    public enum ClipStatus: String, Sendable, CaseIterable {
        case pending = "PENDING", analyzed = "ANALYZED", scored = "SCORED", published = "PUBLISHED", rejected = "REJECTED"

        /// PENDING → ANALYZED → SCORED → PUBLISHED, and any → REJECTED.
        public func mayMove(to next: ClipStatus) -> Bool {
            if next == .rejected { return self != .rejected }
            switch (self, next) {
            case (.pending, .analyzed), (.analyzed, .scored), (.scored, .published): return true
            default: return false
            }
        }
    }

    // MARK: - Methods (tenant-scoped)

    public static let createAsset = BusMethod<CreateAssetRequest, Asset>(service, "assets.create", summary: "Register a video asset (PENDING) owned by the caller; conflict when its source URL is taken in the tenant.")
    public static let getAsset = BusMethod<AssetRequest, Asset>(service, "assets.get", summary: "An asset of the caller's tenant.")
    public static let updateAsset = BusMethod<UpdateAssetRequest, Asset>(service, "assets.update", summary: "Change an asset's status (legal moves only) or its facts.")
    public static let deleteAsset = BusMethod<AssetRequest, Empty>(service, "assets.delete", summary: "Soft-delete an asset and its clips.")
    public static let listAssets = BusMethod<ListAssetsRequest, AssetPage>(service, "assets.list", summary: "The tenant's assets, newest first, optionally of one status.")
    public static let createClip = BusMethod<CreateClipRequest, Clip>(service, "clips.create", summary: "Cut a clip (PENDING) from a live asset that is not archived.")
    public static let getClip = BusMethod<ClipRequest, Clip>(service, "clips.get", summary: "A clip of the caller's tenant, with its asset: whether it exists, for other services.")
    public static let updateClip = BusMethod<UpdateClipRequest, Clip>(service, "clips.update", summary: "Change a clip's status (legal moves only) or label.")
    public static let deleteClip = BusMethod<ClipRequest, Empty>(service, "clips.delete", summary: "Soft-delete a clip.")
    public static let listClips = BusMethod<ListClipsRequest, ClipPage>(service, "clips.list", summary: "An asset's clips by start time.")
    public static let topClips = BusMethod<TopClipsRequest, TopClips>(service, "clips.top", summary: "Scored clips, best score first, of one asset or the whole tenant.")

    static let mediaMethods: [MethodDescription] = [
        createAsset.description, getAsset.description, updateAsset.description, deleteAsset.description, listAssets.description,
        createClip.description, getClip.description, updateClip.description, deleteClip.description, listClips.description, topClips.description,
    ]

    // MARK: - Events

    public static let assetCreated = EventTopic<AssetEvent>("asset.created", publishedBy: service)
    public static let assetStatusChanged = EventTopic<AssetStatusChange>("asset.status_changed", publishedBy: service)
    public static let assetDeleted = EventTopic<AssetEvent>("asset.deleted", publishedBy: service)
    public static let clipCreated = EventTopic<ClipEvent>("clip.created", publishedBy: service)
    public static let clipDeleted = EventTopic<ClipEvent>("clip.deleted", publishedBy: service)

    static let mediaEvents: [EventDescription] = [
        assetCreated.description, assetStatusChanged.description, assetDeleted.description, clipCreated.description, clipDeleted.description,
    ]

    // MARK: - Routes

    static let assets = "/api/assets"
    static let noAsset = HTTPRoute.Failure(404, "No such asset in the caller's tenant")
    static let noClip = HTTPRoute.Failure(404, "No such clip in the caller's tenant")
    static let illegalMove = HTTPRoute.Failure(409, "A status change the resource may not make from its current status")

    static let mediaRoutes: [HTTPRoute] = [
        HTTPRoute(.post, assets, calls: createAsset, summary: "Register a video asset", operationID: "createAsset", body: CreateAssetRequest.self, status: 201,
                  failures: [.init(409, "An asset of this tenant has this source URL")]),
        HTTPRoute(.get, assets, calls: listAssets, summary: "List assets, newest first", operationID: "listAssets",
                  parameters: [.query("status", MediaSchemas.assetStatusFilter)] + listParameters,
                  response: .contract(AssetList.self), nextPageField: AssetPage.CodingKeys.nextCursor.stringValue),
        HTTPRoute(.get, assets + "/{id}", calls: getAsset, summary: "Get an asset", operationID: "getAsset", parameters: [idParameter], failures: [noAsset]),
        HTTPRoute(.patch, assets + "/{id}", calls: updateAsset, summary: "Change an asset's status or facts", operationID: "updateAsset",
                  parameters: [idParameter], body: AssetChanges.self, failures: [noAsset, illegalMove]),
        HTTPRoute(.delete, assets + "/{id}", calls: deleteAsset, summary: "Delete an asset and its clips", operationID: "deleteAsset",
                  parameters: [idParameter], status: 204, failures: [noAsset]),
        HTTPRoute(.post, assets + "/{id}/clips", calls: createClip, summary: "Cut a clip from an asset", operationID: "createClip",
                  parameters: [idParameter], body: ClipBody.self, status: 201, failures: [noAsset, .init(409, "The asset is archived")]),
        HTTPRoute(.get, assets + "/{id}/clips", calls: listClips, summary: "List an asset's clips by start time", operationID: "listClips",
                  parameters: [idParameter, .query("limit", Schemas.limit), .query("cursor", MediaSchemas.clipCursor)],
                  response: .contract(ClipList.self), failures: [noAsset], nextPageField: ClipPage.CodingKeys.nextCursor.stringValue),
        HTTPRoute(.get, "/api/clips/top", calls: topClips, summary: "The best-scored clips", operationID: "topClips",
                  parameters: [.query("asset_id", MediaSchemas.assetFilter), .query("limit", MediaSchemas.topLimit), .query("min_score", MediaSchemas.score)]),
        HTTPRoute(.get, "/api/clips/{id}", calls: getClip, summary: "Get a clip", operationID: "getClip", parameters: [idParameter], failures: [noClip]),
        HTTPRoute(.patch, "/api/clips/{id}", calls: updateClip, summary: "Change a clip's status or label", operationID: "updateClip",
                  parameters: [idParameter], body: ClipChanges.self, failures: [noClip, illegalMove]),
        HTTPRoute(.delete, "/api/clips/{id}", calls: deleteClip, summary: "Delete a clip", operationID: "deleteClip",
                  parameters: [idParameter], status: 204, failures: [noClip]),
    ]

    // MARK: - Assets

    /// A video file, as the Gateway API seed's Asset.
    public struct Asset: Contract, Hashable {
        public var id: String
        public var userId: String
        public var sourceUrl: String
        public var title: String?
        public var status: String
        public var sizeBytes: Int64?
        public var durationS: Double?
        public var width: Int?
        public var height: Int?
        public var fps: Double?
        public var mimeType: String?
        public var videoCodec: String?
        public var audioCodec: String?
        public var error: String?
        public var metadata: JSONObject
        public var createdAt: String
        public var updatedAt: String

        public init(
            id: String, userId: String, sourceUrl: String, title: String?, status: String, sizeBytes: Int64?, durationS: Double?,
            width: Int?, height: Int?, fps: Double?, mimeType: String?, videoCodec: String?, audioCodec: String?, error: String?,
            metadata: JSONObject, createdAt: String, updatedAt: String
        ) {
            self.id = id
            self.userId = userId
            self.sourceUrl = sourceUrl
            self.title = title
            self.status = status
            self.sizeBytes = sizeBytes
            self.durationS = durationS
            self.width = width
            self.height = height
            self.fps = fps
            self.mimeType = mimeType
            self.videoCodec = videoCodec
            self.audioCodec = audioCodec
            self.error = error
            self.metadata = metadata
            self.createdAt = createdAt
            self.updatedAt = updatedAt
        }

        public enum CodingKeys: String, CodingKey {
            case id, title, status, width, height, fps, error, metadata
            case userId = "user_id"
            case sourceUrl = "source_url"
            case sizeBytes = "size_bytes"
            case durationS = "duration_s"
            case mimeType = "mime_type"
            case videoCodec = "video_codec"
            case audioCodec = "audio_codec"
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }

        /// Every key, unknown facts as null.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(userId, forKey: .userId)
            try container.encode(sourceUrl, forKey: .sourceUrl)
            try container.encodeOrNull(title, forKey: .title)
            try container.encode(status, forKey: .status)
            try container.encodeOrNull(sizeBytes, forKey: .sizeBytes)
            try container.encodeOrNull(durationS, forKey: .durationS)
            try container.encodeOrNull(width, forKey: .width)
            try container.encodeOrNull(height, forKey: .height)
            try container.encodeOrNull(fps, forKey: .fps)
            try container.encodeOrNull(mimeType, forKey: .mimeType)
            try container.encodeOrNull(videoCodec, forKey: .videoCodec)
            try container.encodeOrNull(audioCodec, forKey: .audioCodec)
            try container.encodeOrNull(error, forKey: .error)
            try container.encode(metadata, forKey: .metadata)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(updatedAt, forKey: .updatedAt)
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, Schemas.resourceID),
            .init(CodingKeys.userId, Schemas.resourceID),
            .init(CodingKeys.sourceUrl, MediaSchemas.sourceURL),
            .init(CodingKeys.title, MediaSchemas.title.orNull),
            .init(CodingKeys.status, MediaSchemas.assetStatus),
            .init(CodingKeys.sizeBytes, MediaSchemas.sizeBytes.orNull),
            .init(CodingKeys.durationS, MediaSchemas.duration.orNull),
            .init(CodingKeys.width, MediaSchemas.pixels.orNull),
            .init(CodingKeys.height, MediaSchemas.pixels.orNull),
            .init(CodingKeys.fps, MediaSchemas.fps.orNull),
            .init(CodingKeys.mimeType, MediaSchemas.mimeType.orNull),
            .init(CodingKeys.videoCodec, MediaSchemas.codec.orNull),
            .init(CodingKeys.audioCodec, MediaSchemas.codec.orNull),
            .init(CodingKeys.error, MediaSchemas.error.orNull),
            .init(CodingKeys.metadata, MediaSchemas.metadata),
            .init(CodingKeys.createdAt, Schemas.timestamp),
            .init(CodingKeys.updatedAt, Schemas.timestamp),
        ], description: "A video file of the caller's tenant; facts not known yet are null.")
    }

    public struct CreateAssetRequest: Contract {
        public var sourceUrl: String
        public var title: String?
        public var sizeBytes: Int64?
        public var durationS: Double?
        public var mimeType: String?
        public var metadata: JSONObject?

        public init(sourceUrl: String, title: String? = nil, sizeBytes: Int64? = nil, durationS: Double? = nil, mimeType: String? = nil, metadata: JSONObject? = nil) {
            self.sourceUrl = sourceUrl
            self.title = title
            self.sizeBytes = sizeBytes
            self.durationS = durationS
            self.mimeType = mimeType
            self.metadata = metadata
        }

        public enum CodingKeys: String, CodingKey {
            case title, metadata
            case sourceUrl = "source_url"
            case sizeBytes = "size_bytes"
            case durationS = "duration_s"
            case mimeType = "mime_type"
        }

        public static let schemaName = "CreateAsset"
        public static let schema = JSONSchema.object([
            .init(CodingKeys.sourceUrl, MediaSchemas.sourceURL),
            .init(CodingKeys.title, MediaSchemas.title.orNull, required: false),
            .init(CodingKeys.sizeBytes, MediaSchemas.sizeBytes.orNull, required: false),
            .init(CodingKeys.durationS, MediaSchemas.duration.orNull, required: false),
            .init(CodingKeys.mimeType, MediaSchemas.mimeType.orNull, required: false),
            .init(CodingKeys.metadata, MediaSchemas.metadata.orNull, required: false),
        ])
    }

    public struct AssetRequest: Contract {
        public var id: String
        public init(id: String) { self.id = id }

        public enum CodingKeys: String, CodingKey {
            case id
        }

        public static let schema = JSONSchema.object([.init(CodingKeys.id, Schemas.resourceID)])
    }

    /// The body of `PATCH /api/assets/{id}`: the fields to change (absent or null: unchanged).
    public struct AssetChanges: Contract {
        public var status: String?
        public var title: String?
        public var sizeBytes: Int64?
        public var durationS: Double?
        public var width: Int?
        public var height: Int?
        public var fps: Double?
        public var videoCodec: String?
        public var audioCodec: String?
        public var error: String?
        /// Replaces the metadata as a whole.
        public var metadata: JSONObject?

        public init(
            status: String? = nil, title: String? = nil, sizeBytes: Int64? = nil, durationS: Double? = nil, width: Int? = nil, height: Int? = nil,
            fps: Double? = nil, videoCodec: String? = nil, audioCodec: String? = nil, error: String? = nil, metadata: JSONObject? = nil
        ) {
            self.status = status
            self.title = title
            self.sizeBytes = sizeBytes
            self.durationS = durationS
            self.width = width
            self.height = height
            self.fps = fps
            self.videoCodec = videoCodec
            self.audioCodec = audioCodec
            self.error = error
            self.metadata = metadata
        }

        public enum CodingKeys: String, CodingKey {
            case status, title, width, height, fps, error, metadata
            case sizeBytes = "size_bytes"
            case durationS = "duration_s"
            case videoCodec = "video_codec"
            case audioCodec = "audio_codec"
        }

        public static let schemaName = "UpdateAsset"
        public static let schema = JSONSchema.object(changeProperties())

        static func changeProperties() -> [JSONSchema.Property] {
            [
                .init(CodingKeys.status, MediaSchemas.assetStatus.orNull, required: false),
                .init(CodingKeys.title, MediaSchemas.title.orNull, required: false),
                .init(CodingKeys.sizeBytes, MediaSchemas.sizeBytes.orNull, required: false),
                .init(CodingKeys.durationS, MediaSchemas.duration.orNull, required: false),
                .init(CodingKeys.width, MediaSchemas.pixels.orNull, required: false),
                .init(CodingKeys.height, MediaSchemas.pixels.orNull, required: false),
                .init(CodingKeys.fps, MediaSchemas.fps.orNull, required: false),
                .init(CodingKeys.videoCodec, MediaSchemas.codec.orNull, required: false),
                .init(CodingKeys.audioCodec, MediaSchemas.codec.orNull, required: false),
                .init(CodingKeys.error, MediaSchemas.error.orNull, required: false),
                .init(CodingKeys.metadata, MediaSchemas.metadata.orNull, required: false),
            ]
        }
    }

    public struct UpdateAssetRequest: Contract {
        public var id: String
        public var changes: AssetChanges

        public init(id: String, changes: AssetChanges) {
            self.id = id
            self.changes = changes
        }

        public enum CodingKeys: String, CodingKey {
            case id
        }

        /// Flat: `id` beside the changed fields.
        public init(from decoder: any Decoder) throws {
            id = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .id)
            changes = try AssetChanges(from: decoder)
        }

        public func encode(to encoder: any Encoder) throws {
            try changes.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
        }

        public static let schema = JSONSchema.object([.init(CodingKeys.id, Schemas.resourceID)] + AssetChanges.changeProperties())
    }

    public struct ListAssetsRequest: Contract {
        public var status: String?
        public var limit: Int?
        public var cursor: String?

        public init(status: String? = nil, limit: Int? = nil, cursor: String? = nil) {
            self.status = status
            self.limit = limit
            self.cursor = cursor
        }

        public enum CodingKeys: String, CodingKey {
            case status, limit, cursor
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.status, MediaSchemas.assetStatusFilter.orNull, required: false),
            .init(CodingKeys.limit, Schemas.limit.orNull, required: false),
            .init(CodingKeys.cursor, Schemas.cursor.orNull, required: false),
        ])
    }

    public struct AssetPage: Contract {
        public var assets: [Asset]
        public var count: Int
        public var nextCursor: String?

        public init(assets: [Asset], nextCursor: String? = nil) {
            self.assets = assets
            self.count = assets.count
            self.nextCursor = nextCursor
        }

        public enum CodingKeys: String, CodingKey {
            case assets, count
            case nextCursor = "next_cursor"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.assets, .array(of: .contract(Asset.self))),
            .init(CodingKeys.count, Schemas.count),
            .init(CodingKeys.nextCursor, Schemas.cursor, required: false),
        ])
    }

    /// `GET /api/assets`: exactly `assets` and `count`.
    public struct AssetList: Contract {
        public var assets: [Asset]
        public var count: Int

        public enum CodingKeys: String, CodingKey {
            case assets, count
        }

        public static let schema: JSONSchema = {
            var schema = JSONSchema.object([
                .init(CodingKeys.assets, .array(of: .contract(Asset.self))),
                .init(CodingKeys.count, Schemas.count),
            ], description: "A page of assets, newest first; when more follow, the Link header (rel=\"next\") holds the next page's URL.")
            schema.additionalProperties = false
            return schema
        }()
    }

    // MARK: - Clips

    /// A segment of an asset, as the Gateway API seed's Clip.
    public struct Clip: Contract, Hashable {
        public var id: String
        public var assetId: String
        public var startS: Double
        public var endS: Double
        public var label: String?
        public var status: String
        /// In [0, 1], from the clip's analysis; null until it is scored.
        public var score: Double?
        /// 1 for the asset's best-scored clip; null until it is scored.
        public var rank: Int?
        /// The analysis's numeric features; null until it is scored.
        public var features: [String: Double]?
        public var createdAt: String
        public var updatedAt: String

        public init(
            id: String, assetId: String, startS: Double, endS: Double, label: String?, status: String, score: Double?, rank: Int?,
            features: [String: Double]?, createdAt: String, updatedAt: String
        ) {
            self.id = id
            self.assetId = assetId
            self.startS = startS
            self.endS = endS
            self.label = label
            self.status = status
            self.score = score
            self.rank = rank
            self.features = features
            self.createdAt = createdAt
            self.updatedAt = updatedAt
        }

        public enum CodingKeys: String, CodingKey {
            case id, label, status, score, rank, features
            case assetId = "asset_id"
            case startS = "start_s"
            case endS = "end_s"
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(assetId, forKey: .assetId)
            try container.encode(startS, forKey: .startS)
            try container.encode(endS, forKey: .endS)
            try container.encodeOrNull(label, forKey: .label)
            try container.encode(status, forKey: .status)
            try container.encodeOrNull(score, forKey: .score)
            try container.encodeOrNull(rank, forKey: .rank)
            try container.encodeOrNull(features, forKey: .features)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(updatedAt, forKey: .updatedAt)
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, Schemas.resourceID),
            .init(CodingKeys.assetId, Schemas.resourceID),
            .init(CodingKeys.startS, MediaSchemas.seconds),
            .init(CodingKeys.endS, MediaSchemas.seconds),
            .init(CodingKeys.label, MediaSchemas.label.orNull),
            .init(CodingKeys.status, MediaSchemas.clipStatus),
            .init(CodingKeys.score, MediaSchemas.score.orNull),
            .init(CodingKeys.rank, JSONSchema.integer(minimum: 1, description: "1 for the asset's best-scored clip (ties: earlier start, then id); null until scored.").orNull),
            .init(CodingKeys.features, MediaSchemas.features.orNull),
            .init(CodingKeys.createdAt, Schemas.timestamp),
            .init(CodingKeys.updatedAt, Schemas.timestamp),
        ], description: "A segment of an asset.")
    }

    /// The body of `POST /api/assets/{id}/clips`.
    public struct ClipBody: Contract {
        public var startS: Double
        public var endS: Double
        public var label: String?

        public enum CodingKeys: String, CodingKey {
            case label
            case startS = "start_s"
            case endS = "end_s"
        }

        public static let schemaName = "CreateClip"
        public static let schema = JSONSchema.object(bodyProperties())

        static func bodyProperties() -> [JSONSchema.Property] {
            [
                .init(CodingKeys.startS, MediaSchemas.seconds),
                .init(CodingKeys.endS, MediaSchemas.seconds),
                .init(CodingKeys.label, MediaSchemas.label.orNull, required: false),
            ]
        }
    }

    public struct CreateClipRequest: Contract {
        /// The asset to cut from (the route's `{id}`).
        public var assetId: String
        public var startS: Double
        public var endS: Double
        public var label: String?

        public init(assetId: String, startS: Double, endS: Double, label: String? = nil) {
            self.assetId = assetId
            self.startS = startS
            self.endS = endS
            self.label = label
        }

        public enum CodingKeys: String, CodingKey {
            case label
            case assetId = "id"
            case startS = "start_s"
            case endS = "end_s"
        }

        public static let schema = JSONSchema.object([.init(CodingKeys.assetId, Schemas.resourceID)] + ClipBody.bodyProperties())
    }

    public struct ClipRequest: Contract {
        public var id: String
        public init(id: String) { self.id = id }

        public enum CodingKeys: String, CodingKey {
            case id
        }

        public static let schema = JSONSchema.object([.init(CodingKeys.id, Schemas.resourceID)])
    }

    /// The body of `PATCH /api/clips/{id}`.
    public struct ClipChanges: Contract {
        public var status: String?
        public var label: String?

        public enum CodingKeys: String, CodingKey {
            case status, label
        }

        public static let schemaName = "UpdateClip"
        public static let schema = JSONSchema.object(changeProperties())

        static func changeProperties() -> [JSONSchema.Property] {
            [
                .init(CodingKeys.status, MediaSchemas.clipStatus.orNull, required: false),
                .init(CodingKeys.label, MediaSchemas.label.orNull, required: false),
            ]
        }
    }

    public struct UpdateClipRequest: Contract {
        public var id: String
        public var status: String?
        public var label: String?

        public init(id: String, status: String? = nil, label: String? = nil) {
            self.id = id
            self.status = status
            self.label = label
        }

        public enum CodingKeys: String, CodingKey {
            case id, status, label
        }

        public static let schema = JSONSchema.object([.init(CodingKeys.id, Schemas.resourceID)] + ClipChanges.changeProperties())
    }

    public struct ListClipsRequest: Contract {
        /// The asset (the route's `{id}`).
        public var assetId: String
        public var limit: Int?
        public var cursor: String?

        public init(assetId: String, limit: Int? = nil, cursor: String? = nil) {
            self.assetId = assetId
            self.limit = limit
            self.cursor = cursor
        }

        public enum CodingKeys: String, CodingKey {
            case limit, cursor
            case assetId = "id"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.assetId, Schemas.resourceID),
            .init(CodingKeys.limit, Schemas.limit.orNull, required: false),
            .init(CodingKeys.cursor, MediaSchemas.clipCursor.orNull, required: false),
        ])
    }

    public struct ClipPage: Contract {
        public var clips: [Clip]
        public var count: Int
        public var nextCursor: String?

        public init(clips: [Clip], nextCursor: String? = nil) {
            self.clips = clips
            self.count = clips.count
            self.nextCursor = nextCursor
        }

        public enum CodingKeys: String, CodingKey {
            case clips, count
            case nextCursor = "next_cursor"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.clips, .array(of: .contract(Clip.self))),
            .init(CodingKeys.count, Schemas.count),
            .init(CodingKeys.nextCursor, MediaSchemas.clipCursor, required: false),
        ])
    }

    /// `GET /api/assets/{id}/clips`: exactly `clips` and `count`.
    public struct ClipList: Contract {
        public var clips: [Clip]
        public var count: Int

        public enum CodingKeys: String, CodingKey {
            case clips, count
        }

        public static let schema: JSONSchema = {
            var schema = JSONSchema.object([
                .init(CodingKeys.clips, .array(of: .contract(Clip.self))),
                .init(CodingKeys.count, Schemas.count),
            ], description: "A page of an asset's clips by start time; when more follow, the Link header (rel=\"next\") holds the next page's URL.")
            schema.additionalProperties = false
            return schema
        }()
    }

    public struct TopClipsRequest: Contract {
        /// One asset's clips; absent: the whole tenant's.
        public var assetId: String?
        public var limit: Int?
        public var minScore: Double?

        public init(assetId: String? = nil, limit: Int? = nil, minScore: Double? = nil) {
            self.assetId = assetId
            self.limit = limit
            self.minScore = minScore
        }

        public enum CodingKeys: String, CodingKey {
            case limit
            case assetId = "asset_id"
            case minScore = "min_score"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.assetId, MediaSchemas.assetFilter.orNull, required: false),
            .init(CodingKeys.limit, MediaSchemas.topLimit.orNull, required: false),
            .init(CodingKeys.minScore, MediaSchemas.score.orNull, required: false),
        ])
    }

    /// The best-scored clips: one ranked page, without a cursor.
    public struct TopClips: Contract {
        public var clips: [Clip]
        public var count: Int

        public init(clips: [Clip]) {
            self.clips = clips
            self.count = clips.count
        }

        public enum CodingKeys: String, CodingKey {
            case clips, count
        }

        public static let schema: JSONSchema = {
            var schema = JSONSchema.object([
                .init(CodingKeys.clips, .array(of: .contract(Clip.self))),
                .init(CodingKeys.count, Schemas.count),
            ], description: "Scored clips that are neither rejected nor deleted, best score first (ties: earlier start, then id).")
            schema.additionalProperties = false
            return schema
        }()
    }

    // MARK: - Event payloads

    public struct AssetEvent: Contract, Hashable {
        public var id: String
        public var userId: String
        public var status: String

        public init(id: String, userId: String, status: String) {
            self.id = id
            self.userId = userId
            self.status = status
        }

        public enum CodingKeys: String, CodingKey {
            case id, status
            case userId = "user_id"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, Schemas.resourceID),
            .init(CodingKeys.userId, Schemas.resourceID),
            .init(CodingKeys.status, MediaSchemas.assetStatus),
        ])
    }

    public struct AssetStatusChange: Contract, Hashable {
        public var id: String
        public var from: String
        public var to: String

        public init(id: String, from: String, to: String) {
            self.id = id
            self.from = from
            self.to = to
        }

        public enum CodingKeys: String, CodingKey {
            case id, from, to
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, Schemas.resourceID),
            .init(CodingKeys.from, MediaSchemas.assetStatus),
            .init(CodingKeys.to, MediaSchemas.assetStatus),
        ])
    }

    public struct ClipEvent: Contract, Hashable {
        public var id: String
        public var assetId: String

        public init(id: String, assetId: String) {
            self.id = id
            self.assetId = assetId
        }

        public enum CodingKeys: String, CodingKey {
            case id
            case assetId = "asset_id"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, Schemas.resourceID),
            .init(CodingKeys.assetId, Schemas.resourceID),
        ])
    }

    // MARK: - Field schemas

    public enum MediaSchemas {
        public static let sourceURL = JSONSchema.string(
            minLength: 1, maxLength: MediaLimits.maxSourceURLLength, patterns: [MediaLimits.sourceURLPattern],
            example: "https://storage.example.com/videos/launch.mp4",
            description: "Where the video is: an http, https, gs or s3 URL (scheme in lower case) with a host, in ASCII (anything else percent-encoded); unique in the tenant (among assets not deleted)."
        )
        public static let title = JSONSchema.string(maxLength: 500, patterns: [Schemas.noControlCharacters], example: "Launch keynote", description: "Without control characters.")
        public static let assetStatus = JSONSchema.string(
            patterns: ["^(PENDING|PROCESSING|READY|FAILED|ARCHIVED)$"], example: "READY",
            description: "PENDING → PROCESSING → READY or FAILED; FAILED → PENDING (retry); READY or FAILED → ARCHIVED. Any other move is a conflict naming both statuses."
        )
        public static let assetStatusFilter = JSONSchema.string(example: "READY", description: "Only assets of this status (an unknown one matches nothing).")
        /// A filter by asset: any text; one that names no asset of the tenant matches nothing.
        public static let assetFilter = JSONSchema.string(example: "cmwqtdjauhoy2z9zj6dk2mdog", description: "Only this asset's clips (an unknown id matches nothing).")
        public static let sizeBytes = JSONSchema.integer(minimum: 0, description: "The file's size in bytes (64-bit).")
        public static let duration = JSONSchema.number(minimum: 0, maximum: MediaLimits.maxDurationS, description: "The video's length in seconds.")
        public static let pixels = JSONSchema.integer(minimum: 1, maximum: 65536, description: "Pixels.")
        public static let fps = JSONSchema.number(exclusiveMinimum: 0, maximum: 1000, description: "Frames per second.")
        public static let mimeType = JSONSchema.string(maxLength: 127, patterns: ["^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]*$"], example: "video/mp4", description: "type/subtype.")
        public static let codec = JSONSchema.string(maxLength: 64, patterns: [Schemas.noControlCharacters], example: "h264", description: "A codec's name.")
        public static let error = JSONSchema.string(
            minLength: 1, maxLength: 10000, patterns: ["^[^\\u0000]*$"], example: "decoder: unsupported profile",
            description: "Why processing failed: not empty, no NUL. An asset moves to FAILED only with one (given then or before); the retry to PENDING clears it."
        )
        public static let metadata = JSONSchema(.anyObject, description: "Free-form: any JSON object of at most 64 KiB (as compact JSON); `{}` when not given.")
        public static let seconds = JSONSchema.number(minimum: 0, maximum: MediaLimits.maxDurationS, description: "Seconds from the asset's start: 0 ≤ start_s < end_s, and end_s ≤ the asset's duration_s when known.")
        public static let label = JSONSchema.string(maxLength: 200, patterns: [Schemas.noControlCharacters], example: "opening", description: "Without control characters.")
        public static let clipStatus = JSONSchema.string(
            patterns: ["^(PENDING|ANALYZED|SCORED|PUBLISHED|REJECTED)$"], example: "SCORED",
            description: "PENDING → ANALYZED → SCORED → PUBLISHED, and any → REJECTED. Any other move is a conflict naming both statuses."
        )
        public static let score = JSONSchema.number(minimum: 0, maximum: 1, description: "From 0 to 1.")
        public static let features = JSONSchema.dictionary(of: JSONSchema(.number), description: "Numeric features of the clip's analysis: names to numbers.")
        public static let topLimit = JSONSchema.integer(minimum: 0, maximum: Int64(IngestLimits.maxPageSize), defaultValue: MediaLimits.defaultTopClips, description: "Most clips in the answer.")
        /// Clips page by start time: `<start_s>~<id>`.
        public static let clipCursor = JSONSchema.string(
            minLength: 3, maxLength: 128, patterns: ["^(0|[1-9][0-9]{0,20})(\\.[0-9]{1,20})?(e[+-]?[0-9]{1,3})?~[0-9A-Za-z_-]{1,64}$"],
            description: "Where the previous page ended, as the Link header (rel=\"next\") gives it. Pass it back as given; a malformed one is invalid-argument."
        )
    }
}

/// Bounds on assets and clips.
public enum MediaLimits {
    public static let maxSourceURLLength = 2048
    /// A scheme, `://`, an authority (`userinfo@`, a host of URL characters,
    /// `:port`), then anything printable in ASCII from a `/`, `?` or `#` on.
    /// It ends with `(?![\s\S])`, not `$`, which some engines (Python's,
    /// ICU's) also match before a final line feed.
    public static let sourceURLPattern = "^(https?|gs|s3)://([A-Za-z0-9._~!$&'()*+,;=:%-]*@)?[A-Za-z0-9._~!$&'()*+,;=%-]+(:[0-9]*)?([/?#][!-~]*)?(?![\\s\\S])"
    /// Ten days: longer than any video, short of what a double loses precision on.
    public static let maxDurationS: Int64 = 864_000
    public static let maxMetadataBytes = 65536
    public static let defaultTopClips = 10
}
