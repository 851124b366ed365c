/// The analysis-store's second part: clip analyses (scores that ingest
/// ranks clips by) and the knowledge base of RAG documents, searched by
/// words and by embedding (API.md "Clip analyses", "Knowledge base").
extension AnalysisContracts {
    // MARK: - Methods (tenant-scoped)

    public static let putClipAnalysis = BusMethod<PutClipAnalysisRequest, ClipAnalysis>(service, "clip-analyses.put", summary: "Store (or replace) a clip's analysis, after ingest confirms the clip exists; announces clip.analyzed.")
    public static let getClipAnalysis = BusMethod<ClipAnalysisRequest, ClipAnalysis>(service, "clip-analyses.get", summary: "A clip's analysis.")
    public static let createDocument = BusMethod<CreateDocumentRequest, Document>(service, "knowledge.create", summary: "Add a knowledge document (version 1).")
    public static let getDocument = BusMethod<DocumentRequest, Document>(service, "knowledge.get", summary: "A knowledge document, as it is or as version N was.")
    public static let updateDocument = BusMethod<UpdateDocumentRequest, Document>(service, "knowledge.update", summary: "Change a document: a new version; the previous stays readable.")
    public static let deleteDocument = BusMethod<DocumentRequest, Empty>(service, "knowledge.delete", summary: "Soft-delete a knowledge document.")
    public static let listDocuments = BusMethod<ListDocumentsRequest, DocumentPage>(service, "knowledge.list", summary: "Knowledge documents, newest first, optionally of one category.")
    public static let listVersions = BusMethod<ListVersionsRequest, VersionPage>(service, "knowledge.versions", summary: "A document's versions, newest first.")
    public static let searchText = BusMethod<TextSearchRequest, SearchResults>(service, "knowledge.search-text", summary: "Documents holding every word of the query in their title or content, best match first.")
    public static let searchVector = BusMethod<VectorSearchRequest, SearchResults>(service, "knowledge.search-vector", summary: "The documents nearest an embedding by cosine similarity, exactly.")

    static let knowledgeMethods: [MethodDescription] = [
        putClipAnalysis.description, getClipAnalysis.description, createDocument.description, getDocument.description, updateDocument.description,
        deleteDocument.description, listDocuments.description, listVersions.description, searchText.description, searchVector.description,
    ]

    // MARK: - Events

    public static let documentCreated = EventTopic<DocumentEvent>("knowledge.created", publishedBy: service)
    public static let documentUpdated = EventTopic<DocumentEvent>("knowledge.updated", publishedBy: service)
    public static let documentDeleted = EventTopic<DocumentEvent>("knowledge.deleted", publishedBy: service)

    static let knowledgeEvents: [EventDescription] = [clipAnalyzed.description, documentCreated.description, documentUpdated.description, documentDeleted.description]

    // MARK: - Routes

    static let knowledge = "/api/knowledge"
    static let idParameter = HTTPRoute.Parameter.path("id", KnowledgeSchemas.resourceID)
    static let noDocument = HTTPRoute.Failure(404, "No such document in the caller's tenant")
    static let listQuery: [HTTPRoute.Parameter] = [.query("limit", Schemas.limit), .query("cursor", Schemas.cursor)]

    static let knowledgeRoutes: [HTTPRoute] = [
        HTTPRoute(.put, "/api/clips/{id}/analysis", calls: putClipAnalysis, summary: "Store a clip's analysis (201 the first time, 200 after)", operationID: "putClipAnalysis",
                  parameters: [idParameter], body: ClipAnalysisBody.self, status: 200, failures: [.init(404, "No such clip in ingest"), .init(503, "ingest is unavailable")],
                  createdField: ClipAnalysis.createdField),
        HTTPRoute(.get, "/api/clips/{id}/analysis", calls: getClipAnalysis, summary: "Get a clip's analysis", operationID: "getClipAnalysis",
                  parameters: [idParameter], failures: [.init(404, "No analysis for this clip")]),
        HTTPRoute(.post, knowledge, calls: createDocument, summary: "Add a knowledge document", operationID: "createDocument", body: CreateDocumentRequest.self, status: 201),
        HTTPRoute(.get, knowledge, calls: listDocuments, summary: "List knowledge documents, newest first", operationID: "listDocuments",
                  parameters: [.query("category", KnowledgeSchemas.categoryFilter)] + listQuery,
                  response: .contract(DocumentList.self), nextPageField: DocumentPage.CodingKeys.nextCursor.stringValue),
        HTTPRoute(.get, knowledge + "/search", calls: searchText, summary: "Full-text search, best match first", operationID: "searchDocumentsByText",
                  parameters: [.query("q", KnowledgeSchemas.query, required: true), .query("category", KnowledgeSchemas.categoryFilter), .query("limit", KnowledgeSchemas.resultLimit)]),
        HTTPRoute(.post, knowledge + "/search", calls: searchVector, summary: "Nearest documents by cosine similarity (exact)", operationID: "searchDocumentsByEmbedding",
                  body: VectorSearchRequest.self),
        HTTPRoute(.get, knowledge + "/{id}", calls: getDocument, summary: "Get a document (or one of its versions)", operationID: "getDocument",
                  parameters: [idParameter, .query("version", KnowledgeSchemas.version)], failures: [noDocument]),
        HTTPRoute(.put, knowledge + "/{id}", calls: updateDocument, summary: "Change a document (a new version)", operationID: "updateDocument",
                  parameters: [idParameter], body: DocumentChanges.self, failures: [noDocument]),
        HTTPRoute(.delete, knowledge + "/{id}", calls: deleteDocument, summary: "Delete a document", operationID: "deleteDocument",
                  parameters: [idParameter], status: 204, failures: [noDocument]),
        HTTPRoute(.get, knowledge + "/{id}/versions", calls: listVersions, summary: "A document's versions, newest first", operationID: "listDocumentVersions",
                  parameters: [idParameter] + listQuery, response: .contract(VersionList.self), failures: [noDocument],
                  nextPageField: VersionPage.CodingKeys.nextCursor.stringValue),
    ]

    // MARK: - Clip analyses

    /// A clip's analysis: numeric features and a score that ingest ranks clips by.
    public struct ClipAnalysis: Contract, Hashable {
        public var clipId: String
        public var assetId: String
        public var features: [String: Double]
        public var score: Double
        public var analyzer: String?
        public var createdAt: String
        public var updatedAt: String
        /// Whether this request created it (not on the wire to HTTP clients: the gateway answers 201 or 200 by it).
        public var created: Bool?

        /// The answer's field the gateway turns into the status.
        public static let createdField = CodingKeys.created.stringValue

        public init(clipId: String, assetId: String, features: [String: Double], score: Double, analyzer: String?, createdAt: String, updatedAt: String, created: Bool? = nil) {
            self.clipId = clipId
            self.assetId = assetId
            self.features = features
            self.score = score
            self.analyzer = analyzer
            self.createdAt = createdAt
            self.updatedAt = updatedAt
            self.created = created
        }

        public enum CodingKeys: String, CodingKey {
            case features, score, analyzer, created
            case clipId = "clip_id"
            case assetId = "asset_id"
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(clipId, forKey: .clipId)
            try container.encode(assetId, forKey: .assetId)
            try container.encodeOrNull(features, forKey: .features)
            try container.encode(score, forKey: .score)
            try container.encodeOrNull(analyzer, forKey: .analyzer)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(updatedAt, forKey: .updatedAt)
            if let created { try container.encode(created, forKey: .created) }
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.clipId, KnowledgeSchemas.resourceID),
            .init(CodingKeys.assetId, KnowledgeSchemas.resourceID),
            .init(CodingKeys.features, KnowledgeSchemas.features),
            .init(CodingKeys.score, KnowledgeSchemas.score),
            .init(CodingKeys.analyzer, KnowledgeSchemas.analyzer.orNull),
            .init(CodingKeys.createdAt, Schemas.timestamp),
            .init(CodingKeys.updatedAt, Schemas.timestamp),
            .init(CodingKeys.created, JSONSchema(.boolean, description: "On the bus only: whether this request created the analysis (HTTP answers 201 for true, 200 for false, without the field)."), required: false),
        ], description: "A clip's analysis.")
    }

    /// The body of `PUT /api/clips/{id}/analysis`.
    public struct ClipAnalysisBody: Contract {
        public var features: [String: Double]
        public var score: Double
        public var analyzer: String?

        public enum CodingKeys: String, CodingKey {
            case features, score, analyzer
        }

        public static let schemaName = "PutClipAnalysis"
        public static let schema = JSONSchema.object(bodyProperties())

        static func bodyProperties() -> [JSONSchema.Property] {
            [
                .init(CodingKeys.features, KnowledgeSchemas.features),
                .init(CodingKeys.score, KnowledgeSchemas.score),
                .init(CodingKeys.analyzer, KnowledgeSchemas.analyzer.orNull, required: false),
            ]
        }
    }

    public struct PutClipAnalysisRequest: Contract {
        /// The clip (the route's `{id}`).
        public var clipId: String
        public var features: [String: Double]
        public var score: Double
        public var analyzer: String?

        public init(clipId: String, features: [String: Double], score: Double, analyzer: String? = nil) {
            self.clipId = clipId
            self.features = features
            self.score = score
            self.analyzer = analyzer
        }

        public enum CodingKeys: String, CodingKey {
            case features, score, analyzer
            case clipId = "id"
        }

        public static let schema = JSONSchema.object([.init(CodingKeys.clipId, KnowledgeSchemas.resourceID)] + ClipAnalysisBody.bodyProperties())
    }

    public struct ClipAnalysisRequest: Contract {
        /// The clip (the route's `{id}`).
        public var clipId: String
        public init(clipId: String) { self.clipId = clipId }

        public enum CodingKeys: String, CodingKey {
            case clipId = "id"
        }

        public static let schema = JSONSchema.object([.init(CodingKeys.clipId, KnowledgeSchemas.resourceID)])
    }

    // MARK: - Knowledge documents

    /// A RAG document, as the Gateway API seed's KnowledgeDocument (its
    /// embedding is kept for search, not returned: `has_embedding` says whether it has one).
    public struct Document: Contract, Hashable {
        public var id: String
        public var title: String
        public var content: String
        public var category: String
        public var tags: [String]
        public var version: Int
        public var hasEmbedding: Bool
        public var createdAt: String
        public var updatedAt: String

        public init(id: String, title: String, content: String, category: String, tags: [String], version: Int, hasEmbedding: Bool, createdAt: String, updatedAt: String) {
            self.id = id
            self.title = title
            self.content = content
            self.category = category
            self.tags = tags
            self.version = version
            self.hasEmbedding = hasEmbedding
            self.createdAt = createdAt
            self.updatedAt = updatedAt
        }

        public enum CodingKeys: String, CodingKey {
            case id, title, content, category, tags, version
            case hasEmbedding = "has_embedding"
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, KnowledgeSchemas.resourceID),
            .init(CodingKeys.title, KnowledgeSchemas.title),
            .init(CodingKeys.content, KnowledgeSchemas.content),
            .init(CodingKeys.category, KnowledgeSchemas.category),
            .init(CodingKeys.tags, KnowledgeSchemas.tags),
            .init(CodingKeys.version, KnowledgeSchemas.version),
            .init(CodingKeys.hasEmbedding, JSONSchema(.boolean, description: "Whether the document has an embedding (vector search finds only those that do).")),
            .init(CodingKeys.createdAt, Schemas.timestamp),
            .init(CodingKeys.updatedAt, Schemas.timestamp),
        ], description: "A knowledge document (or one version of it: then `updated_at` is when that version was made).")
    }

    public struct CreateDocumentRequest: Contract {
        public var title: String
        public var content: String
        public var category: String
        public var tags: [String]?
        public var embedding: [Double]?

        public init(title: String, content: String, category: String, tags: [String]? = nil, embedding: [Double]? = nil) {
            self.title = title
            self.content = content
            self.category = category
            self.tags = tags
            self.embedding = embedding
        }

        public enum CodingKeys: String, CodingKey {
            case title, content, category, tags, embedding
        }

        public static let schemaName = "CreateDocument"
        public static let schema = JSONSchema.object([
            .init(CodingKeys.title, KnowledgeSchemas.title),
            .init(CodingKeys.content, KnowledgeSchemas.content),
            .init(CodingKeys.category, KnowledgeSchemas.category),
            .init(CodingKeys.tags, KnowledgeSchemas.tags.orNull, required: false),
            .init(CodingKeys.embedding, KnowledgeSchemas.embedding.orNull, required: false),
        ])
    }

    public struct DocumentRequest: Contract {
        public var id: String
        /// A past (or the current) version; absent: the document as it is.
        public var version: Int?

        public init(id: String, version: Int? = nil) {
            self.id = id
            self.version = version
        }

        public enum CodingKeys: String, CodingKey {
            case id, version
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, KnowledgeSchemas.resourceID),
            .init(CodingKeys.version, KnowledgeSchemas.version.orNull, required: false),
        ])
    }

    /// The body of `PUT /api/knowledge/{id}`: any of the fields (absent or null: unchanged).
    public struct DocumentChanges: Contract {
        public var title: String?
        public var content: String?
        public var category: String?
        public var tags: [String]?
        public var embedding: [Double]?

        public init(title: String? = nil, content: String? = nil, category: String? = nil, tags: [String]? = nil, embedding: [Double]? = nil) {
            self.title = title
            self.content = content
            self.category = category
            self.tags = tags
            self.embedding = embedding
        }

        public enum CodingKeys: String, CodingKey {
            case title, content, category, tags, embedding
        }

        public static let schemaName = "UpdateDocument"
        public static let schema = JSONSchema.object(changeProperties())

        static func changeProperties() -> [JSONSchema.Property] {
            [
                .init(CodingKeys.title, KnowledgeSchemas.title.orNull, required: false),
                .init(CodingKeys.content, KnowledgeSchemas.content.orNull, required: false),
                .init(CodingKeys.category, KnowledgeSchemas.category.orNull, required: false),
                .init(CodingKeys.tags, KnowledgeSchemas.tags.orNull, required: false),
                .init(CodingKeys.embedding, KnowledgeSchemas.embedding.orNull, required: false),
            ]
        }
    }

    public struct UpdateDocumentRequest: Contract {
        public var id: String
        public var changes: DocumentChanges

        public init(id: String, changes: DocumentChanges) {
            self.id = id
            self.changes = changes
        }

        public enum CodingKeys: String, CodingKey {
            case id
        }

        /// Flat: `id` beside the changed fields.
        public init(from decoder: any Decoder) throws {
            id = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .id)
            changes = try DocumentChanges(from: decoder)
        }

        public func encode(to encoder: any Encoder) throws {
            try changes.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
        }

        public static let schema = JSONSchema.object([.init(CodingKeys.id, KnowledgeSchemas.resourceID)] + DocumentChanges.changeProperties())
    }

    public struct ListDocumentsRequest: Contract {
        public var category: String?
        public var limit: Int?
        public var cursor: String?

        public init(category: String? = nil, limit: Int? = nil, cursor: String? = nil) {
            self.category = category
            self.limit = limit
            self.cursor = cursor
        }

        public enum CodingKeys: String, CodingKey {
            case category, limit, cursor
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.category, KnowledgeSchemas.categoryFilter.orNull, required: false),
            .init(CodingKeys.limit, Schemas.limit.orNull, required: false),
            .init(CodingKeys.cursor, Schemas.cursor.orNull, required: false),
        ])
    }

    public struct DocumentPage: Contract {
        public var documents: [Document]
        public var count: Int
        public var nextCursor: String?

        public init(documents: [Document], nextCursor: String? = nil) {
            self.documents = documents
            self.count = documents.count
            self.nextCursor = nextCursor
        }

        public enum CodingKeys: String, CodingKey {
            case documents, count
            case nextCursor = "next_cursor"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.documents, .array(of: .contract(Document.self))),
            .init(CodingKeys.count, KnowledgeSchemas.count),
            .init(CodingKeys.nextCursor, Schemas.cursor, required: false),
        ])
    }

    /// `GET /api/knowledge`: exactly `documents` and `count`.
    public struct DocumentList: Contract {
        public var documents: [Document]
        public var count: Int

        public enum CodingKeys: String, CodingKey {
            case documents, count
        }

        public static let schema: JSONSchema = {
            var schema = JSONSchema.object([
                .init(CodingKeys.documents, .array(of: .contract(Document.self))),
                .init(CodingKeys.count, KnowledgeSchemas.count),
            ], description: "A page of documents, newest first; when more follow, the Link header (rel=\"next\") holds the next page's URL.")
            schema.additionalProperties = false
            return schema
        }()
    }

    public struct ListVersionsRequest: Contract {
        public var id: String
        public var limit: Int?
        public var cursor: String?

        public init(id: String, limit: Int? = nil, cursor: String? = nil) {
            self.id = id
            self.limit = limit
            self.cursor = cursor
        }

        public enum CodingKeys: String, CodingKey {
            case id, limit, cursor
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, KnowledgeSchemas.resourceID),
            .init(CodingKeys.limit, Schemas.limit.orNull, required: false),
            .init(CodingKeys.cursor, Schemas.cursor.orNull, required: false),
        ])
    }

    public struct VersionPage: Contract {
        public var versions: [Document]
        public var count: Int
        public var nextCursor: String?

        public init(versions: [Document], nextCursor: String? = nil) {
            self.versions = versions
            self.count = versions.count
            self.nextCursor = nextCursor
        }

        public enum CodingKeys: String, CodingKey {
            case versions, count
            case nextCursor = "next_cursor"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.versions, .array(of: .contract(Document.self))),
            .init(CodingKeys.count, KnowledgeSchemas.count),
            .init(CodingKeys.nextCursor, Schemas.cursor, required: false),
        ])
    }

    /// `GET /api/knowledge/{id}/versions`: exactly `versions` and `count`.
    public struct VersionList: Contract {
        public var versions: [Document]
        public var count: Int

        public enum CodingKeys: String, CodingKey {
            case versions, count
        }

        public static let schema: JSONSchema = {
            var schema = JSONSchema.object([
                .init(CodingKeys.versions, .array(of: .contract(Document.self))),
                .init(CodingKeys.count, KnowledgeSchemas.count),
            ], description: "A page of a document's versions, newest first; when more follow, the Link header (rel=\"next\") holds the next page's URL.")
            schema.additionalProperties = false
            return schema
        }()
    }

    public struct TextSearchRequest: Contract {
        public var q: String
        public var category: String?
        public var limit: Int?

        public init(q: String, category: String? = nil, limit: Int? = nil) {
            self.q = q
            self.category = category
            self.limit = limit
        }

        public enum CodingKeys: String, CodingKey {
            case q, category, limit
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.q, KnowledgeSchemas.query),
            .init(CodingKeys.category, KnowledgeSchemas.categoryFilter.orNull, required: false),
            .init(CodingKeys.limit, KnowledgeSchemas.resultLimit.orNull, required: false),
        ])
    }

    public struct VectorSearchRequest: Contract {
        public var embedding: [Double]
        public var k: Int?
        public var category: String?

        public init(embedding: [Double], k: Int? = nil, category: String? = nil) {
            self.embedding = embedding
            self.k = k
            self.category = category
        }

        public enum CodingKeys: String, CodingKey {
            case embedding, k, category
        }

        public static let schemaName = "VectorSearch"
        public static let schema = JSONSchema.object([
            .init(CodingKeys.embedding, KnowledgeSchemas.embedding),
            .init(CodingKeys.k, KnowledgeSchemas.k.orNull, required: false),
            .init(CodingKeys.category, KnowledgeSchemas.categoryFilter.orNull, required: false),
        ])
    }

    public struct SearchResult: Contract, Hashable {
        public var document: Document
        public var score: Double

        public init(document: Document, score: Double) {
            self.document = document
            self.score = score
        }

        public enum CodingKeys: String, CodingKey {
            case document, score
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.document, .contract(Document.self)),
            .init(CodingKeys.score, JSONSchema.number(description: "Higher is better: the text match's rank, or the cosine similarity (-1 to 1).")),
        ])
    }

    /// A ranked answer: one page, best first.
    public struct SearchResults: Contract {
        public var results: [SearchResult]
        public var count: Int

        public init(results: [SearchResult]) {
            self.results = results
            self.count = results.count
        }

        public enum CodingKeys: String, CodingKey {
            case results, count
        }

        public static let schema: JSONSchema = {
            var schema = JSONSchema.object([
                .init(CodingKeys.results, .array(of: .contract(SearchResult.self))),
                .init(CodingKeys.count, KnowledgeSchemas.count),
            ], description: "Matches, best first (one page, no cursor).")
            schema.additionalProperties = false
            return schema
        }()
    }

    /// Payload of the knowledge events.
    public struct DocumentEvent: Contract, Hashable {
        public var id: String
        public var version: Int

        public init(id: String, version: Int) {
            self.id = id
            self.version = version
        }

        public enum CodingKeys: String, CodingKey {
            case id, version
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, KnowledgeSchemas.resourceID),
            .init(CodingKeys.version, KnowledgeSchemas.version),
        ])
    }

    // MARK: - Field schemas

    public enum KnowledgeSchemas {
        public static let resourceID = IngestContracts.Schemas.resourceID
        public static let title = JSONSchema.string(minLength: 1, maxLength: KnowledgeLimits.maxTitleLength, patterns: [Schemas.noControlCharacters], example: "Refund policy", description: "1 to 500 characters without control characters.")
        public static let content = JSONSchema.string(maxLength: KnowledgeLimits.maxContentBytes, patterns: ["^[^\\u0000]*$"], example: "Refunds are issued within 14 days.", description: "Free text; at most 1 MiB of UTF-8, without the NUL character.")
        public static let category = JSONSchema.string(
            minLength: 1, maxLength: 100, patterns: [Schemas.noControlCharacters], example: "policy",
            description: "1 to 100 characters without control characters; compared exactly."
        )
        /// A filter by category: any text; an unknown one matches nothing.
        public static let categoryFilter = JSONSchema.string(example: "policy", description: "Only documents of this category (compared exactly; an unknown one matches nothing).")
        public static let tags = JSONSchema.array(
            of: .string(minLength: 1, maxLength: 100, patterns: [Schemas.noControlCharacters], example: "billing"), maxItems: KnowledgeLimits.maxTags,
            description: "Up to 50 labels of 1 to 100 characters; `[]` when not given."
        )
        public static let embedding = JSONSchema.array(
            of: JSONSchema(.number), minItems: 1, maxItems: KnowledgeLimits.maxDimensions,
            description: "1 to 4096 numbers, not all zero; stored as the float32 unit vector in its direction. Every embedding of a tenant has the dimension of its first one."
        )
        public static let version = JSONSchema.integer(minimum: 1, description: "1 for a new document, one more at each change.")
        public static let query = JSONSchema.string(minLength: 1, maxLength: 1000, description: "Words to find (letters and digits; everything else separates words); at least one.")
        public static let resultLimit = JSONSchema.integer(minimum: 0, maximum: 100, defaultValue: 10, description: "Most results.")
        public static let k = JSONSchema.integer(minimum: 1, maximum: 100, defaultValue: 10, description: "How many nearest documents.")
        public static let count = JSONSchema.integer(minimum: 0, maximum: Int64(AnalysisLimits.maxPageSize), description: "How many items the answer holds.")
        public static let score = JSONSchema.number(minimum: 0, maximum: 1, description: "From 0 to 1.")
        public static let features = JSONSchema.dictionary(of: JSONSchema(.number), description: "Numeric features: names (at most 200 characters) to numbers, at most 256 of them.")
        public static let analyzer = JSONSchema.string(maxLength: 200, patterns: [Schemas.noControlCharacters], example: "clip-scorer-v3", description: "What produced the analysis.")
    }
}

/// Bounds on knowledge documents.
public enum KnowledgeLimits {
    public static let maxTitleLength = 500
    public static let maxContentBytes = 1 << 20
    public static let maxTags = 50
    public static let maxDimensions = 4096
    public static let maxFeatures = 256
}
