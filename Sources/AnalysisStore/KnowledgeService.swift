import BusRuntime
import BusWire
import Contracts
import Foundation
import ServiceKit
import Storage

/// The knowledge base: RAG documents with versions, full-text search over
/// title and content, and exact nearest-neighbour search over embeddings
/// (``KnowledgeVectors``).
///
/// Every change takes its tenant's revision first (see ``KnowledgeVectors``),
/// which also makes a tenant's knowledge changes one at a time: a document's
/// next version is always the one after the last.
public struct KnowledgeService: Sendable {
    public typealias Document = AnalysisContracts.Document
    public let store: ServiceStore
    let vectors: KnowledgeVectors

    public init(store: ServiceStore) {
        self.init(store: store, vectors: KnowledgeVectors())
    }

    init(store: ServiceStore, vectors: KnowledgeVectors) {
        self.store = store
        self.vectors = vectors
    }

    public var bindings: [MethodBinding] {
        [
            MethodBinding(AnalysisContracts.createDocument) { request, context in try await create(request, context: context) },
            MethodBinding(AnalysisContracts.getDocument) { request, context in try await get(request, context: context) },
            MethodBinding(AnalysisContracts.updateDocument) { request, context in try await update(request, context: context) },
            MethodBinding(AnalysisContracts.deleteDocument) { request, context in
                try await delete(request, context: context)
                return Empty()
            },
            MethodBinding(AnalysisContracts.listDocuments) { request, context in try await list(request, context: context) },
            MethodBinding(AnalysisContracts.listVersions) { request, context in try await versions(request, context: context) },
            MethodBinding(AnalysisContracts.searchText) { request, context in try await searchText(request, context: context) },
            MethodBinding(AnalysisContracts.searchVector) { request, context in try await searchVector(request, context: context) },
        ]
    }

    /// Loads every tenant's embeddings into memory (at start).
    public func loadVectors() async throws(BusError) {
        try await vectors.load(from: store)
    }

    // MARK: - Changes

    public func create(_ request: AnalysisContracts.CreateDocumentRequest, context: RequestContext) async throws(BusError) -> Document {
        let tenant = try context.requireTenant().tenant
        let title = try KnowledgeValidation.title(request.title)
        let content = try KnowledgeValidation.content(request.content)
        let category = try KnowledgeValidation.category(request.category)
        let tags = try KnowledgeValidation.tags(request.tags ?? [])
        let vector = try request.embedding.map { values throws(BusError) in try KnowledgeValidation.unitVector(values) }
        let document = try await store.write(answering: AnalysisContracts.createDocument, request, context: context) { session in
            let revision = try Self.nextRevision(session, tenant: tenant, dimensions: vector?.count)
            let id = ResourceID.make(), now = Timestamp.now()
            try session.execute("""
                INSERT INTO knowledge_document (tenant_id, id, title, content, category, tags, embedding, version, revision, created_at, updated_at)
                VALUES (\(tenant), \(id), \(title), \(content), \(category), \(tags), \(vector.map(EmbeddingBlob.init)), 1, \(revision), \(now), \(now))
                """)
            return try Self.recordVersion(session, tenant: tenant, id: id, announcing: AnalysisContracts.documentCreated)
        }
        await catchUpVectors(tenant)
        return document
    }

    /// A new version: the given fields replace the current ones (absent or
    /// null: kept). A change that gives no field changes nothing and makes no version.
    public func update(_ request: AnalysisContracts.UpdateDocumentRequest, context: RequestContext) async throws(BusError) -> Document {
        let tenant = try context.requireTenant().tenant
        let changes = request.changes, id = request.id
        let title = try changes.title.map { text throws(BusError) in try KnowledgeValidation.title(text) }
        let content = try changes.content.map { text throws(BusError) in try KnowledgeValidation.content(text) }
        let category = try changes.category.map { text throws(BusError) in try KnowledgeValidation.category(text) }
        let tags = try changes.tags.map { tags throws(BusError) in try KnowledgeValidation.tags(tags) }
        let vector = try changes.embedding.map { values throws(BusError) in try KnowledgeValidation.unitVector(values) }
        if title == nil, content == nil, category == nil, tags == nil, vector == nil {
            return try await get(.init(id: id), context: context)
        }
        let document = try await store.write(answering: AnalysisContracts.updateDocument, request, context: context) { session in
            let revision = try Self.nextRevision(session, tenant: tenant, dimensions: vector?.count)
            let now = Timestamp.now()
            let changed = try session.execute("""
                UPDATE knowledge_document SET
                    title = COALESCE(\(title), title), content = COALESCE(\(content), content), category = COALESCE(\(category), category),
                    tags = COALESCE(\(tags), tags), embedding = COALESCE(\(vector.map(EmbeddingBlob.init)), embedding),
                    version = version + 1, revision = \(revision),
                    updated_at = CASE WHEN updated_at < \(now) THEN \(now) ELSE updated_at + 1 END
                WHERE tenant_id = \(tenant) AND id = \(id) AND deleted_at IS NULL
                """)
            guard changed == 1 else { throw Self.noDocument(id) }
            return try Self.recordVersion(session, tenant: tenant, id: id, announcing: AnalysisContracts.documentUpdated)
        }
        await catchUpVectors(tenant)
        return document
    }

    /// Soft delete: gone from reads, lists and both searches, its versions with it.
    public func delete(_ request: AnalysisContracts.DocumentRequest, context: RequestContext) async throws(BusError) {
        let tenant = try context.requireTenant().tenant
        let id = request.id
        _ = try await store.write(tenant: tenant) { session in
            let revision = try Self.nextRevision(session, tenant: tenant, dimensions: nil)
            guard let row = try session.queryFirst("SELECT version FROM knowledge_document WHERE tenant_id = \(tenant) AND id = \(id) AND deleted_at IS NULL") else {
                throw Self.noDocument(id)
            }
            try session.execute("""
                UPDATE knowledge_document SET deleted_at = \(Timestamp.now()), revision = \(revision)
                WHERE tenant_id = \(tenant) AND id = \(id) AND deleted_at IS NULL
                """)
            try Outbox.enqueue(session, AnalysisContracts.documentDeleted, AnalysisContracts.DocumentEvent(id: id, version: try row["version"]), tenant: tenant)
            return Empty()
        }
        await catchUpVectors(tenant)
    }

    /// Increments the tenant's revision (taking its row's lock until commit)
    /// and, for a change with an embedding, fixes or checks the tenant's dimension.
    public static func nextRevision(_ session: any DatabaseSession, tenant: String, dimensions: Int?) throws -> Int64 {
        try session.execute("""
            INSERT INTO knowledge_tenant (tenant, dimensions, revision) VALUES (\(tenant), \(dimensions), 1)
            ON CONFLICT (tenant) DO UPDATE SET revision = knowledge_tenant.revision + 1
            """)
        guard let state = try session.queryFirst("SELECT dimensions, revision FROM knowledge_tenant WHERE tenant = \(tenant)") else {
            throw BusError(.internal, "the knowledge revision of tenant \(tenant) is missing")
        }
        if let dimensions {
            if let fixed: Int = try state["dimensions"] {
                guard fixed == dimensions else {
                    throw BusError(.invalidArgument, "embedding has \(dimensions) numbers, but this tenant's embeddings have \(fixed)")
                }
            } else {
                try session.execute("UPDATE knowledge_tenant SET dimensions = \(dimensions) WHERE tenant = \(tenant)")
            }
        }
        return try state["revision"]
    }

    /// Keeps the document's new state as a version of its own, announces it, and returns it.
    static func recordVersion(
        _ session: any DatabaseSession, tenant: String, id: String, announcing topic: EventTopic<AnalysisContracts.DocumentEvent>
    ) throws -> Document {
        guard let row = try session.queryFirst("\(columns) WHERE tenant_id = \(tenant) AND id = \(id) AND deleted_at IS NULL") else { throw noDocument(id) }
        let document = try Self.document(row)
        let updated: Timestamp = try row["updated_at"]
        try session.execute("""
            INSERT INTO knowledge_version (tenant_id, document_id, version, title, content, category, tags, has_embedding, created_at)
            SELECT tenant_id, id, version, title, content, category, tags, CASE WHEN embedding IS NULL THEN 0 ELSE 1 END, \(updated)
            FROM knowledge_document WHERE tenant_id = \(tenant) AND id = \(id)
            """)
        try Outbox.enqueue(session, topic, AnalysisContracts.DocumentEvent(id: id, version: document.version), tenant: tenant)
        return document
    }

    /// After a change committed: the index reflects it before the caller's
    /// next search. A failure here only defers that to the next search.
    func catchUpVectors(_ tenant: String) async {
        _ = try? await store.read(tenant: tenant) { session in try vectors.catchUp(session, tenant: tenant) != nil }
    }

    // MARK: - Reads

    /// The document as it is, or as its version `version` was (its `updated_at` is when that version was made).
    public func get(_ request: AnalysisContracts.DocumentRequest, context: RequestContext) async throws(BusError) -> Document {
        let tenant = try context.requireTenant().tenant
        let id = request.id
        if let version = request.version {
            let row = try await store.read(tenant: tenant) { session in
                try session.queryFirst("""
                    \(Self.versionColumns) WHERE v.tenant_id = \(tenant) AND v.document_id = \(id) AND v.version = \(version) AND d.deleted_at IS NULL
                    """)
            }
            guard let row else { throw BusError(.notFound, "document \(id) has no version \(version)") }
            return try Self.version(row)
        }
        let row = try await store.read(tenant: tenant) { session in
            try session.queryFirst("\(Self.columns) WHERE tenant_id = \(tenant) AND id = \(id) AND deleted_at IS NULL")
        }
        guard let row else { throw Self.noDocument(id) }
        return try Self.document(row)
    }

    /// Newest first; with `category`, only that category's.
    public func list(_ request: AnalysisContracts.ListDocumentsRequest, context: RequestContext) async throws(BusError) -> AnalysisContracts.DocumentPage {
        let tenant = try context.requireTenant().tenant
        let limit = try Self.pageSize(request.limit)
        let cursor = try Self.cursor(request.cursor)
        let category = request.category
        let (rows, next) = try await store.read(tenant: tenant) { session in
            try KeysetPage.read(limit: limit, after: cursor) { condition, fetch throws(StorageError) in
                let ofCategory: SQL = category.map { "category = \($0)" } ?? "1 = 1"
                return try session.query("""
                    \(Self.columns) WHERE tenant_id = \(tenant) AND deleted_at IS NULL AND \(ofCategory) AND \(condition)
                    ORDER BY created_at DESC, id DESC LIMIT \(fetch)
                    """)
            }
        }
        return AnalysisContracts.DocumentPage(documents: try rows.map { row throws(BusError) in try Self.document(row) }, nextCursor: next?.encoded)
    }

    /// Newest first. The cursor names the last version of the page (`<version>.<document id>`).
    public func versions(_ request: AnalysisContracts.ListVersionsRequest, context: RequestContext) async throws(BusError) -> AnalysisContracts.VersionPage {
        let tenant = try context.requireTenant().tenant
        let limit = try Self.pageSize(request.limit)
        let cursor = try Self.cursor(request.cursor)
        let id = request.id
        let (exists, rows) = try await store.read(tenant: tenant) { session in
            guard try session.queryFirst("SELECT 1 AS x FROM knowledge_document WHERE tenant_id = \(tenant) AND id = \(id) AND deleted_at IS NULL") != nil else {
                return (false, [Row]())
            }
            guard limit > 0 else { return (true, []) }
            let before: SQL = cursor.map { "v.version < \($0.createdAt)" } ?? "1 = 1"
            return (true, try session.query("""
                \(Self.versionColumns) WHERE v.tenant_id = \(tenant) AND v.document_id = \(id) AND \(before)
                ORDER BY v.version DESC LIMIT \(limit + 1)
                """))
        }
        guard exists else { throw Self.noDocument(id) }
        let versions = try rows.prefix(limit).map { row throws(BusError) in try Self.version(row) }
        let next = rows.count > limit ? versions.last.map { PageCursor(createdAt: Int64($0.version), id: id).encoded } : nil
        return AnalysisContracts.VersionPage(versions: versions, nextCursor: next)
    }

    // MARK: - Search

    /// Documents whose title or content holds every word of `q`, best match
    /// first (a title match weighs more): SQLite's bm25 (negated, so higher
    /// is better) or PostgreSQL's ts_rank.
    public func searchText(_ request: AnalysisContracts.TextSearchRequest, context: RequestContext) async throws(BusError) -> AnalysisContracts.SearchResults {
        let tenant = try context.requireTenant().tenant
        let limit = request.limit ?? 10
        guard (0...100).contains(limit) else { throw BusError(.invalidArgument, "limit must be 0...100") }
        // A filter: any text; one no document has matches nothing.
        let category = request.category
        let words = request.q.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
        guard !words.isEmpty else { throw BusError(.invalidArgument, "q must contain at least one word (letters or digits)") }
        guard limit > 0 else { return AnalysisContracts.SearchResults(results: []) }
        let dialect = store.dialect
        let rows = try await store.read(tenant: tenant) { session in
            let ofCategory: SQL = category.map { "AND d.category = \($0)" } ?? ""
            switch dialect {
            case .sqlite:
                // Each word quoted: FTS5's syntax characters stay literal.
                let match = words.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: " ")
                return try session.query("""
                    SELECT \(Self.documentFields), -bm25(knowledge_search, 2.0, 1.0) AS score
                    FROM knowledge_search CROSS JOIN knowledge_document d ON d.rowid = knowledge_search.rowid
                    WHERE knowledge_search MATCH \(match) AND d.tenant_id = \(tenant) AND d.deleted_at IS NULL \(ofCategory)
                    ORDER BY bm25(knowledge_search, 2.0, 1.0), d.id LIMIT \(limit)
                    """)
            case .postgres:
                return try session.query("""
                    SELECT \(Self.documentFields), ts_rank(d.search, q) AS score
                    FROM knowledge_document d, plainto_tsquery('simple', \(words.joined(separator: " "))) q
                    WHERE d.tenant_id = \(tenant) AND d.deleted_at IS NULL AND d.search @@ q \(ofCategory)
                    ORDER BY score DESC, d.id LIMIT \(limit)
                    """)
            }
        }
        return AnalysisContracts.SearchResults(results: try rows.map { row throws(BusError) in
            AnalysisContracts.SearchResult(document: try Self.document(row), score: try Self.decode(Double.self, row, "score"))
        })
    }

    /// The `k` documents nearest the embedding by cosine similarity, exactly
    /// (every embedding of the tenant is compared), highest first.
    public func searchVector(_ request: AnalysisContracts.VectorSearchRequest, context: RequestContext) async throws(BusError) -> AnalysisContracts.SearchResults {
        let tenant = try context.requireTenant().tenant
        let k = request.k ?? 10
        guard (1...100).contains(k) else { throw BusError(.invalidArgument, "k must be 1...100") }
        let query = try KnowledgeValidation.unitVector(request.embedding)
        // A filter: any text; one no document has matches nothing.
        let category = request.category
        let vectors = self.vectors
        let (matches, rows) = try await store.read(tenant: tenant) { session in
            guard let index = try vectors.catchUp(session, tenant: tenant) else { return ([VectorMatch](), [Row]()) }
            guard index.dimensions == query.count else {
                throw BusError(.invalidArgument, "embedding has \(query.count) numbers, but this tenant's embeddings have \(index.dimensions)")
            }
            let matches = try index.search(query, k: k, category: category)
            guard !matches.isEmpty else { return (matches, []) }
            let rows = try session.query("""
                \(Self.columns) WHERE tenant_id = \(tenant) AND id IN (\(SQL.list(matches.map(\.id)))) AND deleted_at IS NULL
                """)
            return (matches, rows)
        }
        var documents: [String: Document] = [:]
        for row in rows {
            let document = try Self.document(row)
            documents[document.id] = document
        }
        return AnalysisContracts.SearchResults(results: matches.compactMap { match in
            documents[match.id].map { AnalysisContracts.SearchResult(document: $0, score: Double(match.score)) }
        })
    }

    // MARK: - Rows

    static let documentFields: SQL = """
        d.id, d.title, d.content, d.category, d.tags, d.version, CASE WHEN d.embedding IS NULL THEN 0 ELSE 1 END AS has_embedding, d.created_at, d.updated_at
        """
    static let columns: SQL = "SELECT \(documentFields) FROM knowledge_document d"
    static let versionColumns: SQL = """
        SELECT v.document_id AS id, v.title, v.content, v.category, v.tags, v.version, v.has_embedding, d.created_at, v.created_at AS updated_at
        FROM knowledge_version v JOIN knowledge_document d ON d.tenant_id = v.tenant_id AND d.id = v.document_id
        """

    static func document(_ row: Row) throws(BusError) -> Document {
        let tagsText = try decode(String.self, row, "tags")
        guard let tags = try? JSONDecoder().decode([String].self, from: Data(tagsText.utf8)) else { throw BusError(.internal, "unreadable tags of a document") }
        return Document(
            id: try decode(String.self, row, "id"), title: try decode(String.self, row, "title"), content: try decode(String.self, row, "content"),
            category: try decode(String.self, row, "category"), tags: tags, version: try decode(Int.self, row, "version"),
            hasEmbedding: try decode(Int64.self, row, "has_embedding") == 1,
            createdAt: try decode(Timestamp.self, row, "created_at").iso8601, updatedAt: try decode(Timestamp.self, row, "updated_at").iso8601
        )
    }

    static func version(_ row: Row) throws(BusError) -> Document { try document(row) }

    static func decode<T: DatabaseValueConvertible>(_ type: T.Type, _ row: Row, _ column: String) throws(BusError) -> T {
        do {
            return try row.decode(T.self, column)
        } catch {
            throw BusError(.internal, "unreadable document row: \(error.message)")
        }
    }

    static func noDocument(_ id: String) -> BusError { BusError(.notFound, "no document \(id)") }

    static func pageSize(_ limit: Int?) throws(BusError) -> Int {
        let limit = limit ?? AnalysisLimits.defaultPageSize
        guard (0...AnalysisLimits.maxPageSize).contains(limit) else { throw BusError(.invalidArgument, "limit must be 0...\(AnalysisLimits.maxPageSize)") }
        return limit
    }

    static func cursor(_ text: String?) throws(BusError) -> PageCursor? {
        guard let text else { return nil }
        guard let cursor = PageCursor(decoding: text) else { throw BusError(.invalidArgument, "cursor is not one this service issued") }
        return cursor
    }
}
