/// The analysis-store's bus methods, events and REST routes: shared by the
/// service and its callers (the gateway, other services). Every JSON key is
/// spelled out in a `CodingKeys` and described by the type's schema.
public enum AnalysisContracts {
    public static let service = "analysis-store"

    // MARK: - Methods

    public static let create = BusMethod<CreateRequest, Analysis>(service, "create", summary: "Create the analysis of a video; conflict when it has one.")
    public static let get = BusMethod<VideoRequest, Analysis>(service, "get", summary: "The analysis of a video; not-found when it has none.")
    public static let update = BusMethod<UpdateRequest, Analysis>(service, "update", summary: "Replace the description of a video's analysis.")
    public static let delete = BusMethod<VideoRequest, Empty>(service, "delete", summary: "Delete the analysis of a video.")
    public static let list = BusMethod<ListRequest, Page>(service, "list", summary: "Analyses, newest first, a page at a time.")
    public static let search = BusMethod<SearchRequest, Page>(service, "search", summary: "Analyses whose description holds every word of the query, newest first.")

    public static let methods: [MethodDescription] = [create.description, get.description, update.description, delete.description, list.description, search.description] + knowledgeMethods

    // MARK: - Events

    public static let created = EventTopic<AnalysisEvent>("analysis.created", publishedBy: service)
    public static let updated = EventTopic<AnalysisEvent>("analysis.updated", publishedBy: service)
    public static let deleted = EventTopic<AnalysisEvent>("analysis.deleted", publishedBy: service)

    public static let events: [EventDescription] = [created.description, updated.description, deleted.description] + knowledgeEvents

    /// A clip's analysis was stored (or replaced): ingest records its features and score.
    public static let clipAnalyzed = EventTopic<ClipAnalyzed>("clip.analyzed", publishedBy: service)

    // MARK: - Routes

    static let base = "/api/video-analysis/"
    static let videoIDParameter = HTTPRoute.Parameter.path("video_id", Schemas.videoID)
    static let notFound = HTTPRoute.Failure(404, "No analysis for this video")

    /// `/api/video-analysis/` exactly as the Memory Mirror seed serves it.
    public static let routes: [HTTPRoute] = [
        HTTPRoute(.post, base, calls: create, summary: "Create an analysis", operationID: "createAnalysis", body: CreateRequest.self, status: 201,
                  failures: [.init(409, "An analysis for this video already exists")]),
        HTTPRoute(.get, base, calls: list, summary: "List analyses, newest first", operationID: "listAnalyses",
                  parameters: [.query("limit", Schemas.limit), .query("cursor", Schemas.cursor)],
                  response: .contract(AnalysisList.self), nextPageField: Page.CodingKeys.nextCursor.stringValue),
        HTTPRoute(.get, base + "{video_id}", calls: get, summary: "Get the analysis of a video", operationID: "getAnalysis",
                  parameters: [videoIDParameter], failures: [notFound]),
        HTTPRoute(.put, base + "{video_id}", calls: update, summary: "Replace the description of a video's analysis", operationID: "updateAnalysis",
                  parameters: [videoIDParameter], body: DescriptionBody.self, failures: [notFound]),
        HTTPRoute(.delete, base + "{video_id}", calls: delete, summary: "Delete the analysis of a video", operationID: "deleteAnalysis",
                  parameters: [videoIDParameter], status: 204, failures: [notFound]),
    ] + knowledgeRoutes

    // MARK: - Messages

    /// One video's analysis, as the Memory Mirror seed defines it.
    public struct Analysis: Contract, Hashable {
        public var id: String
        public var videoId: String
        public var description: String
        /// ISO 8601, UTC, milliseconds.
        public var createdAt: String
        public var updatedAt: String

        public init(id: String, videoId: String, description: String, createdAt: String, updatedAt: String) {
            self.id = id
            self.videoId = videoId
            self.description = description
            self.createdAt = createdAt
            self.updatedAt = updatedAt
        }

        public enum CodingKeys: String, CodingKey {
            case id, description
            case videoId = "video_id"
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, Schemas.analysisID),
            .init(CodingKeys.videoId, Schemas.videoID),
            .init(CodingKeys.description, Schemas.description),
            .init(CodingKeys.createdAt, Schemas.timestamp),
            .init(CodingKeys.updatedAt, Schemas.timestamp),
        ], description: "One video's analysis.")
    }

    public struct CreateRequest: Contract {
        public var videoId: String
        public var description: String
        public init(videoId: String, description: String) {
            self.videoId = videoId
            self.description = description
        }

        public enum CodingKeys: String, CodingKey {
            case description
            case videoId = "video_id"
        }

        public static let schemaName = "CreateAnalysis"
        public static let schema = JSONSchema.object([
            .init(CodingKeys.videoId, Schemas.videoID),
            .init(CodingKeys.description, Schemas.description),
        ])
    }

    public struct VideoRequest: Contract {
        public var videoId: String
        public init(videoId: String) { self.videoId = videoId }

        public enum CodingKeys: String, CodingKey {
            case videoId = "video_id"
        }

        public static let schema = JSONSchema.object([.init(CodingKeys.videoId, Schemas.videoID)])
    }

    public struct UpdateRequest: Contract {
        public var videoId: String
        public var description: String
        public init(videoId: String, description: String) {
            self.videoId = videoId
            self.description = description
        }

        public enum CodingKeys: String, CodingKey {
            case description
            case videoId = "video_id"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.videoId, Schemas.videoID),
            .init(CodingKeys.description, Schemas.description),
        ])
    }

    /// The body of `PUT /api/video-analysis/{video_id}` (the video is in the path).
    public struct DescriptionBody: Contract {
        public var description: String

        public enum CodingKeys: String, CodingKey {
            case description
        }

        public static let schemaName = "UpdateAnalysis"
        public static let schema = JSONSchema.object([.init(CodingKeys.description, Schemas.description)])
    }

    public struct ListRequest: Contract {
        /// Default ``AnalysisLimits/defaultPageSize``, at most ``AnalysisLimits/maxPageSize``.
        public var limit: Int?
        /// `next_cursor` of the previous page.
        public var cursor: String?
        public init(limit: Int? = nil, cursor: String? = nil) {
            self.limit = limit
            self.cursor = cursor
        }

        public enum CodingKeys: String, CodingKey {
            case limit, cursor
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.limit, Schemas.limit.orNull, required: false),
            .init(CodingKeys.cursor, Schemas.cursor.orNull, required: false),
        ])
    }

    public struct SearchRequest: Contract {
        public var query: String
        public var limit: Int?
        public init(query: String, limit: Int? = nil) {
            self.query = query
            self.limit = limit
        }

        public enum CodingKeys: String, CodingKey {
            case query, limit
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.query, .string(minLength: 1, description: "Words to find (letters and digits; everything else separates words); at least one.")),
            .init(CodingKeys.limit, Schemas.limit.orNull, required: false),
        ])
    }

    /// A page of analyses, newest first.
    public struct Page: Contract {
        public var analyses: [Analysis]
        public var count: Int
        /// Present (in a `list` page) when more analyses follow; `search` answers one page.
        public var nextCursor: String?
        public init(analyses: [Analysis], nextCursor: String? = nil) {
            self.analyses = analyses
            self.count = analyses.count
            self.nextCursor = nextCursor
        }

        public enum CodingKeys: String, CodingKey {
            case analyses, count
            case nextCursor = "next_cursor"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.analyses, .array(of: .contract(Analysis.self))),
            .init(CodingKeys.count, .integer(minimum: 0, maximum: Int64(AnalysisLimits.maxPageSize), description: "How many analyses this page holds.")),
            .init(CodingKeys.nextCursor, Schemas.cursor, required: false),
        ])
    }

    /// A page as `GET /api/video-analysis/` answers it: exactly the seed's two
    /// keys (the next page is in the `Link` header).
    public struct AnalysisList: Contract {
        public var analyses: [Analysis]
        public var count: Int

        public enum CodingKeys: String, CodingKey {
            case analyses, count
        }

        public static let schema: JSONSchema = {
            var schema = JSONSchema.object([
                .init(CodingKeys.analyses, .array(of: .contract(Analysis.self))),
                .init(CodingKeys.count, .integer(minimum: 0, maximum: Int64(AnalysisLimits.maxPageSize), description: "How many analyses this page holds.")),
            ], description: "A page of analyses, newest first; when more follow, the Link header (rel=\"next\") holds the next page's URL.")
            schema.additionalProperties = false
            return schema
        }()
    }

    /// Payload of the analysis events.
    public struct AnalysisEvent: Contract, Hashable {
        public var id: String
        public var videoId: String
        public init(id: String, videoId: String) {
            self.id = id
            self.videoId = videoId
        }

        public enum CodingKeys: String, CodingKey {
            case id
            case videoId = "video_id"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, Schemas.analysisID),
            .init(CodingKeys.videoId, Schemas.videoID),
        ])
    }

    /// Payload of `clip.analyzed`.
    public struct ClipAnalyzed: Contract, Hashable {
        public var clipId: String
        public var assetId: String
        /// In [0, 1].
        public var score: Double
        public var features: [String: Double]
        /// When this analysis was stored (its `updated_at`): a consumer
        /// ignores one older than the analysis it applied last, so events
        /// delivered out of order (a replayed parked one) never undo a newer score.
        public var analyzedAt: String

        public init(clipId: String, assetId: String, score: Double, features: [String: Double], analyzedAt: String) {
            self.clipId = clipId
            self.assetId = assetId
            self.score = score
            self.features = features
            self.analyzedAt = analyzedAt
        }

        public enum CodingKeys: String, CodingKey {
            case score, features
            case clipId = "clip_id"
            case assetId = "asset_id"
            case analyzedAt = "analyzed_at"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.clipId, IngestContracts.Schemas.resourceID),
            .init(CodingKeys.assetId, IngestContracts.Schemas.resourceID),
            .init(CodingKeys.score, IngestContracts.MediaSchemas.score),
            .init(CodingKeys.features, IngestContracts.MediaSchemas.features),
            .init(CodingKeys.analyzedAt, IngestContracts.Schemas.timestamp),
        ], description: "A clip's analysis: its score and numeric features, and when it was stored.")
    }

    /// The field schemas the messages share.
    public enum Schemas {
        public static let videoID = JSONSchema.string(
            minLength: 1, maxLength: AnalysisLimits.default.maxVideoIDLength,
            patterns: [notOnlyWhitespace, noControlCharacters], example: "test_001",
            description: "The video an analysis belongs to, compared exactly: 1 to 255 Unicode code points, not only whitespace, no control characters."
        )
        public static let description = JSONSchema.string(
            maxLength: AnalysisLimits.default.maxDescriptionBytes, patterns: ["^[^\\u0000]*$"], example: "A sunset",
            description: "Free text; at most 1 MiB of UTF-8, without the NUL character."
        )
        public static let analysisID = JSONSchema.string(patterns: ["^c[0-9a-z]{24}$"], example: "cmwqtdjauhoy2z9zj6dk2mdog", description: "Chosen by the service; opaque.")
        public static let timestamp = JSONSchema.string(
            patterns: ["^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$"], format: "date-time",
            example: "2026-11-21T19:41:45.845Z", description: "ISO 8601, UTC, milliseconds."
        )
        public static let limit = JSONSchema.integer(minimum: 0, maximum: Int64(AnalysisLimits.maxPageSize), defaultValue: AnalysisLimits.defaultPageSize, description: "Most analyses in the page; 0 answers an empty page.")
        public static let cursor = JSONSchema.pageCursor

        /// At least one character other than Unicode's space separators and tab.
        static let notOnlyWhitespace = "[^\\t \\u00A0\\u1680\\u2000-\\u200A\\u202F\\u205F\\u3000]"
        static let noControlCharacters = "^[^\\u0000-\\u001F\\u007F-\\u009F]*$"
    }
}

/// Bounds on analyses (the service refuses what breaks them with invalid-argument).
public struct AnalysisLimits: Sendable, Hashable {
    /// In Unicode code points, as JSON Schema's `maxLength` counts.
    public var maxVideoIDLength: Int
    public var maxDescriptionBytes: Int
    public static let defaultPageSize = 50
    public static let maxPageSize = 500
    public static let `default` = AnalysisLimits()

    public init(maxVideoIDLength: Int = 255, maxDescriptionBytes: Int = 1 << 20) {
        self.maxVideoIDLength = maxVideoIDLength
        self.maxDescriptionBytes = maxDescriptionBytes
    }
}
