import BusRuntime
import BusWire
import Contracts
import Foundation
import ServiceKit
import Storage

/// The analysis-store's methods on the bus, over its own database. Every
/// change is announced through the outbox in the same transaction.
public struct AnalysisStoreService: Sendable {
    public typealias Analysis = AnalysisContracts.Analysis
    public let store: ServiceStore
    public var limits: AnalysisLimits

    public init(store: ServiceStore, limits: AnalysisLimits = .default) {
        self.store = store
        self.limits = limits
    }

    /// A handler for every method of ``AnalysisContracts/methods``.
    public var bindings: [MethodBinding] {
        [
            MethodBinding(AnalysisContracts.create) { request, context in try await create(request, context: context) },
            MethodBinding(AnalysisContracts.get) { request, context in try await get(request.videoId, context: context) },
            MethodBinding(AnalysisContracts.update) { request, context in try await update(request, context: context) },
            MethodBinding(AnalysisContracts.delete) { request, context in
                try await delete(request, context: context)
                return Empty()
            },
            MethodBinding(AnalysisContracts.list) { request, context in try await list(request, context: context) },
            MethodBinding(AnalysisContracts.search) { request, context in try await search(request, context: context) },
        ]
    }

    // MARK: - Methods
    //
    // Every method works within the request's tenant (`unauthenticated`
    // without one): its SQL names `tenant_id` itself (SQLite cannot filter
    // for it) and runs in the tenant's session (PostgreSQL's row-level
    // security and SQLite's tenant triggers refuse anything else).

    public func create(_ request: AnalysisContracts.CreateRequest, context: RequestContext) async throws(BusError) -> Analysis {
        let tenant = try context.requireTenant().tenant
        try validate(videoID: request.videoId)
        try validate(description: request.description)
        return try await store.write(answering: AnalysisContracts.create, request, context: context,
                                     conflict: BusError(.conflict, "an analysis for video \(request.videoId) already exists")) { session in
            let now = Timestamp.now()
            let analysis = Analysis(id: ResourceID.make(), videoId: request.videoId, description: request.description, createdAt: now.iso8601, updatedAt: now.iso8601)
            try session.execute("""
                INSERT INTO video_analysis (id, tenant_id, video_id, description, created_at, updated_at)
                VALUES (\(analysis.id), \(tenant), \(analysis.videoId), \(analysis.description), \(now), \(now))
                """)
            try Self.announce(AnalysisContracts.created, analysis, tenant: tenant, session)
            return analysis
        }
    }

    public func get(_ videoID: String, context: RequestContext) async throws(BusError) -> Analysis {
        let tenant = try context.requireTenant().tenant
        try validate(videoID: videoID)
        let row = try await store.read(tenant: tenant) { try $0.queryFirst("\(Self.columns) WHERE tenant_id = \(tenant) AND video_id = \(videoID)") }
        guard let row else { throw BusError(.notFound, "no analysis for video \(videoID)") }
        return try Self.analysis(row)
    }

    public func update(_ request: AnalysisContracts.UpdateRequest, context: RequestContext) async throws(BusError) -> Analysis {
        let tenant = try context.requireTenant().tenant
        try validate(videoID: request.videoId)
        try validate(description: request.description)
        return try await store.write(answering: AnalysisContracts.update, request, context: context) { session in
            let now = Timestamp.now()
            // updated_at only moves forward, even if the clock steps back.
            let changed = try session.execute("""
                UPDATE video_analysis SET description = \(request.description),
                    updated_at = CASE WHEN updated_at < \(now) THEN \(now) ELSE updated_at + 1 END
                WHERE tenant_id = \(tenant) AND video_id = \(request.videoId)
                """)
            guard changed == 1, let row = try session.queryFirst("\(Self.columns) WHERE tenant_id = \(tenant) AND video_id = \(request.videoId)") else {
                throw BusError(.notFound, "no analysis for video \(request.videoId)")
            }
            let analysis = try Self.analysis(row)
            try Self.announce(AnalysisContracts.updated, analysis, tenant: tenant, session)
            return analysis
        }
    }

    public func delete(_ request: AnalysisContracts.VideoRequest, context: RequestContext) async throws(BusError) {
        let tenant = try context.requireTenant().tenant
        let videoID = request.videoId
        try validate(videoID: videoID)
        _ = try await store.write(answering: AnalysisContracts.delete, request, context: context) { session in
            guard let row = try session.queryFirst("\(Self.columns) WHERE tenant_id = \(tenant) AND video_id = \(videoID)") else {
                throw BusError(.notFound, "no analysis for video \(videoID)")
            }
            let analysis = try Self.analysis(row)
            try session.execute("DELETE FROM video_analysis WHERE tenant_id = \(tenant) AND video_id = \(videoID)")
            try Self.announce(AnalysisContracts.deleted, analysis, tenant: tenant, session)
            return Empty()
        }
    }

    /// Newest first; `cursor` continues after the last analysis of the
    /// previous page. A cursor holds no tenant: it positions within whichever
    /// tenant asks, and never reaches another's rows.
    public func list(_ request: AnalysisContracts.ListRequest, context: RequestContext) async throws(BusError) -> AnalysisContracts.Page {
        let tenant = try context.requireTenant().tenant
        let limit = try pageSize(request.limit)
        var cursor: PageCursor?
        if let text = request.cursor {
            guard let decoded = PageCursor(decoding: text) else { throw BusError(.invalidArgument, "cursor is not one this service issued") }
            cursor = decoded
        }
        let (rows, next) = try await store.read(tenant: tenant) { [cursor] session in
            try KeysetPage.read(limit: limit, after: cursor) { condition, fetch throws(StorageError) in
                try session.query("\(Self.columns) WHERE tenant_id = \(tenant) AND \(condition) ORDER BY created_at DESC, id DESC LIMIT \(fetch)")
            }
        }
        return AnalysisContracts.Page(analyses: try rows.map { row throws(BusError) in try Self.analysis(row) }, nextCursor: next?.encoded)
    }

    /// Full-text search in descriptions (all words must match), newest first;
    /// at most `limit` results, without a cursor.
    public func search(_ request: AnalysisContracts.SearchRequest, context: RequestContext) async throws(BusError) -> AnalysisContracts.Page {
        let tenant = try context.requireTenant().tenant
        let limit = try pageSize(request.limit)
        let words = request.query.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
        guard !words.isEmpty else { throw BusError(.invalidArgument, "query must contain at least one word") }
        let dialect = store.dialect
        let rows = try await store.read(tenant: tenant) { session in
            switch dialect {
            case .sqlite:
                // Each word quoted: FTS5 syntax characters in the query stay literal.
                let match = words.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: " ")
                return try Self.searchSQLite(session, tenant: tenant, match: match, limit: limit)
            case .postgres:
                return try session.query("""
                    \(Self.columns) WHERE tenant_id = \(tenant) AND search @@ plainto_tsquery('simple', \(words.joined(separator: " ")))
                    ORDER BY created_at DESC, id DESC LIMIT \(limit)
                    """)
            }
        }
        return AnalysisContracts.Page(analyses: try rows.map { row throws(BusError) in try Self.analysis(row) })
    }

    // MARK: - Search on SQLite
    //
    // FTS5 finds matches in rowid order and knows nothing of creation times
    // or tenants. One query joining it to video_analysis leaves the plan to
    // SQLite, which has no statistics: it either sorts every match (cost
    // grows with the matches) or walks the tenant's rows newest first asking
    // FTS5 about each (0.01 ms a row: 1.6 s for a word in one row of 1000
    // among 170,000).
    // So the strategy is chosen here:
    //
    // - Walk the tenant's rows newest first on `video_analysis_newest`
    //   (tenant_id, created_at DESC, id DESC) in windows, and keep those
    //   FTS5 finds among each window's rowids (one FTS5 query per window over
    //   the rowid range the window spans), until `limit` are kept or the
    //   tenant has no more rows. The walk is in the result's own order, so
    //   what it keeps is exactly the newest `limit` matches whatever order
    //   the rowids are in; rowids only make the range query cheap (they
    //   grow with insertion, so a window's rowids are close together). A
    //   common word is answered by the first window.
    // - If the first window is not enough, a bounded FTS5 count tells a rare
    //   word (fewer than `rareMatchCount` matches in the whole table): its
    //   few matches are joined and sorted, driven by FTS5.
    // - Otherwise the walk goes on, each window sized for the matches still
    //   missing at the density seen so far (4 times larger while none were
    //   found), at most 16,384 rows. If the matches are many in the table
    //   but sparse in the tenant's newest rows, it gives up after examining
    //   `walkBudget` rows and the sort answers.

    /// Fewer matches than this (in all tenants) are sorted rather than walked.
    public static let rareMatchCount = 2_000
    /// Rows of the tenant's index plus rowids from FTS5 the walk examines at most.
    static let walkBudget = 50_000

    static func searchSQLite(_ session: any DatabaseSession, tenant: String, match: String, limit: Int) throws(StorageError) -> [Row] {
        guard limit > 0 else { return [] }
        var kept: [Int64] = []
        var after: PageCursor?
        var window = 2 * limit + 64
        var examined = 0
        var walked = 0
        while examined < walkBudget {
            let older: SQL = after?.olderRows() ?? "1 = 1"
            // Rowids only (from the index alone): the window may be thousands of rows.
            let rowids = try session.query("""
                SELECT rowid AS r FROM video_analysis WHERE tenant_id = \(tenant) AND \(older)
                ORDER BY created_at DESC, id DESC LIMIT \(window)
                """).map { row throws(StorageError) in try row.decode(Int64.self, "r") }
            guard let last = rowids.last, let lowest = rowids.min(), let highest = rowids.max() else { break }
            let found = try session.query("""
                SELECT rowid AS r FROM video_analysis_search
                WHERE video_analysis_search MATCH \(match) AND rowid BETWEEN \(lowest) AND \(highest)
                """)
            let matching = Set(try found.map { row throws(StorageError) in try row.decode(Int64.self, "r") })
            kept += rowids.filter(matching.contains)
            if kept.count >= limit || rowids.count < window { return try rows(session, tenant: tenant, rowids: Array(kept.prefix(limit))) }
            if after == nil {
                let matches = try session.queryFirst("""
                    SELECT COUNT(*) AS n FROM (SELECT 1 FROM video_analysis_search WHERE video_analysis_search MATCH \(match) LIMIT \(rareMatchCount))
                    """)?.decode(Int64.self, "n") ?? 0
                if matches < rareMatchCount { break }
            }
            examined += rowids.count + found.count
            walked += rowids.count
            guard let lastKeys = try session.queryFirst("SELECT created_at, id FROM video_analysis WHERE rowid = \(last) AND tenant_id = \(tenant)") else { break }
            after = try PageCursor(after: lastKeys)
            // Enough rows for the matches still missing at the density seen so far, with a margin.
            let missing = Double(limit - kept.count)
            let estimate = kept.isEmpty ? Double(window) * 4 : missing * Double(walked) / Double(kept.count) * 1.25 + 64
            window = Int(min(max(estimate, Double(window)), 16_384))
        }
        return try sortingAllMatches(session, tenant: tenant, match: match, limit: limit)
    }

    /// Every match joined and sorted; FTS5 drives (CROSS JOIN), so a rare
    /// word never walks the tenant's rows testing each.
    private static func sortingAllMatches(_ session: any DatabaseSession, tenant: String, match: String, limit: Int) throws(StorageError) -> [Row] {
        try session.query("""
            SELECT a.id, a.video_id, a.description, a.created_at, a.updated_at FROM video_analysis_search s
            CROSS JOIN video_analysis a ON a.rowid = s.rowid
            WHERE video_analysis_search MATCH \(match) AND a.tenant_id = \(tenant)
            ORDER BY a.created_at DESC, a.id DESC LIMIT \(limit)
            """)
    }

    /// The tenant's rows of `rowids`, newest first, looked up by rowid
    /// (NOT INDEXED: never by walking the tenant's index).
    private static func rows(_ session: any DatabaseSession, tenant: String, rowids: [Int64]) throws(StorageError) -> [Row] {
        guard !rowids.isEmpty else { return [] }
        return try session.query("""
            SELECT id, video_id, description, created_at, updated_at FROM video_analysis NOT INDEXED
            WHERE rowid IN (\(SQL.list(rowids))) AND tenant_id = \(tenant)
            ORDER BY created_at DESC, id DESC
            """)
    }

    // MARK: - Validation

    private func validate(videoID: String) throws(BusError) {
        if videoID.trimmingCharacters(in: .whitespaces).isEmpty { throw BusError(.invalidArgument, "video_id must not be empty") }
        // Code points, as JSON Schema's maxLength counts (the published schema states this bound).
        if videoID.unicodeScalars.count > limits.maxVideoIDLength { throw BusError(.invalidArgument, "video_id is longer than \(limits.maxVideoIDLength) characters") }
        if videoID.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw BusError(.invalidArgument, "video_id must not contain control characters")
        }
    }

    private func validate(description: String) throws(BusError) {
        if description.utf8.count > limits.maxDescriptionBytes {
            throw BusError(.invalidArgument, "description is longer than \(limits.maxDescriptionBytes) bytes")
        }
        if description.utf8.contains(0) {
            throw BusError(.invalidArgument, "description must not contain the NUL character (U+0000)")
        }
    }

    private func pageSize(_ limit: Int?) throws(BusError) -> Int {
        let limit = limit ?? AnalysisLimits.defaultPageSize
        guard (0...AnalysisLimits.maxPageSize).contains(limit) else {
            throw BusError(.invalidArgument, "limit must be 0...\(AnalysisLimits.maxPageSize)")
        }
        return limit
    }

    // MARK: - Rows

    static let columns: SQL = "SELECT id, video_id, description, created_at, updated_at FROM video_analysis"

    static func analysis(_ row: Row) throws(BusError) -> Analysis {
        do {
            let created: Timestamp = try row["created_at"]
            let updated: Timestamp = try row["updated_at"]
            return Analysis(id: try row["id"], videoId: try row["video_id"], description: try row["description"], createdAt: created.iso8601, updatedAt: updated.iso8601)
        } catch {
            throw BusError(.internal, "unreadable analysis row: \(error.message)")
        }
    }

    static func announce(_ topic: EventTopic<AnalysisContracts.AnalysisEvent>, _ analysis: Analysis, tenant: String, _ session: any DatabaseSession) throws {
        try Outbox.enqueue(session, topic, AnalysisContracts.AnalysisEvent(id: analysis.id, videoId: analysis.videoId), tenant: tenant)
    }
}
