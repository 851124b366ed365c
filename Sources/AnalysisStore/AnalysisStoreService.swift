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
    public let database: any Database
    public var limits: AnalysisLimits
    /// Called after a change committed events (wakes the relay).
    public var eventsCommitted: @Sendable () -> Void

    public init(database: any Database, limits: AnalysisLimits = AnalysisLimits(), eventsCommitted: @escaping @Sendable () -> Void = {}) {
        self.database = database
        self.limits = limits
        self.eventsCommitted = eventsCommitted
    }

    /// Registers the methods on `node` (before it starts).
    public func install(on node: BusNode) {
        let service = self
        node.register(AnalysisContracts.Method.create, .json { (request: AnalysisContracts.CreateRequest, _: RequestContext) in
            try await service.create(request)
        })
        node.register(AnalysisContracts.Method.get, .json { (request: AnalysisContracts.VideoRequest, _: RequestContext) in
            try await service.get(request.videoId)
        })
        node.register(AnalysisContracts.Method.update, .json { (request: AnalysisContracts.UpdateRequest, _: RequestContext) in
            try await service.update(request)
        })
        node.register(AnalysisContracts.Method.delete, .json { (request: AnalysisContracts.VideoRequest, _: RequestContext) in
            try await service.delete(request.videoId)
            return AnalysisContracts.Empty()
        })
        node.register(AnalysisContracts.Method.list, .json { (request: AnalysisContracts.ListRequest, _: RequestContext) in
            try await service.list(request)
        })
        node.register(AnalysisContracts.Method.search, .json { (request: AnalysisContracts.SearchRequest, _: RequestContext) in
            try await service.search(request)
        })
    }

    // MARK: - Methods

    public func create(_ request: AnalysisContracts.CreateRequest) async throws(BusError) -> Analysis {
        try validate(videoID: request.videoId)
        try validate(description: request.description)
        let now = Timestamp.now()
        let analysis = Analysis(id: ResourceID.make(), videoId: request.videoId, description: request.description, createdAt: now.iso8601, updatedAt: now.iso8601)
        try await write { session in
            try session.execute("""
                INSERT INTO video_analysis (id, video_id, description, created_at, updated_at)
                VALUES (\(analysis.id), \(analysis.videoId), \(analysis.description), \(now), \(now))
                """)
            try Self.announce(AnalysisContracts.Topic.created, analysis, session)
        } conflict: {
            BusError(.conflict, "an analysis for video \(request.videoId) already exists")
        }
        return analysis
    }

    public func get(_ videoID: String) async throws(BusError) -> Analysis {
        try validate(videoID: videoID)
        let row = try await read { try $0.queryFirst("\(Self.columns) WHERE video_id = \(videoID)") }
        guard let row else { throw BusError(.notFound, "no analysis for video \(videoID)") }
        return try Self.analysis(row)
    }

    public func update(_ request: AnalysisContracts.UpdateRequest) async throws(BusError) -> Analysis {
        try validate(videoID: request.videoId)
        try validate(description: request.description)
        let now = Timestamp.now()
        let updated: Analysis? = try await write { session in
            // updated_at only moves forward, even if the clock steps back.
            let changed = try session.execute("""
                UPDATE video_analysis SET description = \(request.description),
                    updated_at = CASE WHEN updated_at < \(now) THEN \(now) ELSE updated_at + 1 END
                WHERE video_id = \(request.videoId)
                """)
            guard changed == 1, let row = try session.queryFirst("\(Self.columns) WHERE video_id = \(request.videoId)") else { return nil }
            let analysis = try Self.analysis(row)
            try Self.announce(AnalysisContracts.Topic.updated, analysis, session)
            return analysis
        }
        guard let updated else { throw BusError(.notFound, "no analysis for video \(request.videoId)") }
        return updated
    }

    public func delete(_ videoID: String) async throws(BusError) {
        try validate(videoID: videoID)
        let deleted: Bool = try await write { session in
            guard let row = try session.queryFirst("\(Self.columns) WHERE video_id = \(videoID)") else { return false }
            let analysis = try Self.analysis(row)
            try session.execute("DELETE FROM video_analysis WHERE video_id = \(videoID)")
            try Self.announce(AnalysisContracts.Topic.deleted, analysis, session)
            return true
        }
        guard deleted else { throw BusError(.notFound, "no analysis for video \(videoID)") }
    }

    /// Newest first; `cursor` continues after the last analysis of the previous page.
    public func list(_ request: AnalysisContracts.ListRequest) async throws(BusError) -> AnalysisContracts.Page {
        let limit = try pageSize(request.limit)
        var after: SQL = ""
        if let cursor = request.cursor {
            guard let (createdAt, id) = Self.decodeCursor(cursor) else { throw BusError(.invalidArgument, "cursor is not one this service issued") }
            after = "WHERE created_at < \(createdAt) OR (created_at = \(createdAt) AND id < \(id))"
        }
        let filter = after
        // One more than asked: whether a next page exists.
        let rows = try await read { try $0.query("\(Self.columns) \(filter) ORDER BY created_at DESC, id DESC LIMIT \(limit + 1)") }
        let page = try rows.prefix(limit).map { row throws(BusError) in try Self.analysis(row) }
        let next: String? = rows.count > limit ? try Self.encodeCursor(rows[limit - 1]) : nil
        return AnalysisContracts.Page(analyses: page, nextCursor: next)
    }

    /// Full-text search in descriptions (all words must match), newest first;
    /// at most `limit` results, without a cursor.
    public func search(_ request: AnalysisContracts.SearchRequest) async throws(BusError) -> AnalysisContracts.Page {
        let limit = try pageSize(request.limit)
        let words = request.query.split(whereSeparator: { !$0.isLetter && !$0.isNumber }).map(String.init)
        guard !words.isEmpty else { throw BusError(.invalidArgument, "query must contain at least one word") }
        let dialect = database.dialect
        let rows = try await read { session in
            switch dialect {
            case .sqlite:
                // Each word quoted: FTS5 syntax characters in the query stay literal.
                let match = words.map { "\"" + $0.replacingOccurrences(of: "\"", with: "\"\"") + "\"" }.joined(separator: " ")
                return try session.query("""
                    SELECT a.id, a.video_id, a.description, a.created_at, a.updated_at FROM video_analysis_search s
                    JOIN video_analysis a ON a.rowid = s.rowid
                    WHERE video_analysis_search MATCH \(match) ORDER BY a.created_at DESC, a.id DESC LIMIT \(limit)
                    """)
            case .postgres:
                return try session.query("""
                    \(Self.columns) WHERE search @@ plainto_tsquery('simple', \(words.joined(separator: " ")))
                    ORDER BY created_at DESC, id DESC LIMIT \(limit)
                    """)
            }
        }
        return AnalysisContracts.Page(analyses: try rows.map { row throws(BusError) in try Self.analysis(row) })
    }

    // MARK: - Validation

    private func validate(videoID: String) throws(BusError) {
        if videoID.trimmingCharacters(in: .whitespaces).isEmpty { throw BusError(.invalidArgument, "video_id must not be empty") }
        if videoID.count > limits.maxVideoIDLength { throw BusError(.invalidArgument, "video_id is longer than \(limits.maxVideoIDLength) characters") }
        if videoID.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) {
            throw BusError(.invalidArgument, "video_id must not contain control characters")
        }
    }

    private func validate(description: String) throws(BusError) {
        if description.utf8.count > limits.maxDescriptionBytes {
            throw BusError(.invalidArgument, "description is longer than \(limits.maxDescriptionBytes) bytes")
        }
    }

    private func pageSize(_ limit: Int?) throws(BusError) -> Int {
        let limit = limit ?? AnalysisLimits.defaultPageSize
        guard (1...AnalysisLimits.maxPageSize).contains(limit) else {
            throw BusError(.invalidArgument, "limit must be 1...\(AnalysisLimits.maxPageSize)")
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

    static func announce(_ topic: String, _ analysis: Analysis, _ session: any DatabaseSession) throws {
        let payload = String(buffer: try JSONBody.encode(AnalysisContracts.AnalysisEvent(id: analysis.id, videoId: analysis.videoId)))
        try Outbox.enqueue(session, topic: topic, payload: JSONText(payload))
    }

    static func encodeCursor(_ row: Row) throws(BusError) -> String {
        do {
            let created: Int64 = try row["created_at"]
            let id: String = try row["id"]
            // base64url: safe in a query string as it is (no + or /).
            return Data("\(created).\(id)".utf8).base64EncodedString()
                .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
        } catch {
            throw BusError(.internal, "unreadable analysis row: \(error.message)")
        }
    }

    static func decodeCursor(_ cursor: String) -> (Int64, String)? {
        let standard = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let padded = standard + String(repeating: "=", count: (4 - standard.count % 4) % 4)
        guard let data = Data(base64Encoded: padded), let text = String(data: data, encoding: .utf8),
            let dot = text.firstIndex(of: "."), let created = Int64(text[..<dot])
        else { return nil }
        return (created, String(text[text.index(after: dot)...]))
    }

    // MARK: - Storage errors as bus errors

    private func read<T: Sendable>(_ work: @escaping @Sendable (any DatabaseSession) throws -> T) async throws(BusError) -> T {
        do {
            return try await database.read(work)
        } catch {
            throw Self.busError(error)
        }
    }

    private func write<T: Sendable>(
        _ work: @escaping @Sendable (any DatabaseSession) throws -> T,
        conflict: () -> BusError = { BusError(.conflict, "conflicting change") }
    ) async throws(BusError) -> T {
        do {
            let result = try await database.write(work)
            eventsCommitted()
            return result
        } catch {
            if error.code == .conflict { throw conflict() }
            // A connection lost during COMMIT may hide a commit that happened: no retry promise for writes.
            if error.code == .unavailable {
                throw BusError(.unavailable, "database unavailable; the change may or may not have been applied: \(error.message)", retryable: false)
            }
            throw Self.busError(error)
        }
    }

    static func busError(_ error: StorageError) -> BusError {
        switch error.code {
        case .conflict: return BusError(.conflict, error.message)
        // Nothing was committed: safe to send again.
        case .unavailable, .retryable: return BusError(.unavailable, "database unavailable: \(error.message)", retryable: true)
        default: return BusError(.internal, "database error: \(error.code.rawValue)")
        }
    }
}
