import Foundation

/// The analysis-store's bus methods and events: shared by the service and
/// its callers (the gateway, other services). JSON keys are snake_case.
public enum AnalysisContracts {
    public static let service = "analysis-store"

    /// Method names on the bus (`analysis-store.create`, …).
    public enum Method {
        public static let create = "create"
        public static let get = "get"
        public static let update = "update"
        public static let delete = "delete"
        public static let list = "list"
        public static let search = "search"
    }

    /// Event topics the service publishes (their payload is an ``AnalysisEvent``).
    public enum Topic {
        public static let created = "analysis.created"
        public static let updated = "analysis.updated"
        public static let deleted = "analysis.deleted"
    }

    /// One video's analysis, as the Memory Mirror seed defines it.
    public struct Analysis: Codable, Sendable, Hashable {
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
    }

    public struct CreateRequest: Codable, Sendable {
        public var videoId: String
        public var description: String
        public init(videoId: String, description: String) {
            self.videoId = videoId
            self.description = description
        }
    }

    public struct VideoRequest: Codable, Sendable {
        public var videoId: String
        public init(videoId: String) { self.videoId = videoId }
    }

    public struct UpdateRequest: Codable, Sendable {
        public var videoId: String
        public var description: String
        public init(videoId: String, description: String) {
            self.videoId = videoId
            self.description = description
        }
    }

    public struct ListRequest: Codable, Sendable {
        /// Default ``AnalysisLimits/defaultPageSize``, at most ``AnalysisLimits/maxPageSize``.
        public var limit: Int?
        /// `next_cursor` of the previous page.
        public var cursor: String?
        public init(limit: Int? = nil, cursor: String? = nil) {
            self.limit = limit
            self.cursor = cursor
        }
    }

    public struct SearchRequest: Codable, Sendable {
        public var query: String
        public var limit: Int?
        public init(query: String, limit: Int? = nil) {
            self.query = query
            self.limit = limit
        }
    }

    /// A page of analyses, newest first.
    public struct Page: Codable, Sendable {
        public var analyses: [Analysis]
        public var count: Int
        /// Present (in a `list` page) when more analyses follow; `search` answers one page.
        public var nextCursor: String?
        public init(analyses: [Analysis], nextCursor: String? = nil) {
            self.analyses = analyses
            self.count = analyses.count
            self.nextCursor = nextCursor
        }
    }

    /// Payload of the analysis events.
    public struct AnalysisEvent: Codable, Sendable, Hashable {
        public var id: String
        public var videoId: String
        public init(id: String, videoId: String) {
            self.id = id
            self.videoId = videoId
        }
    }

    public struct Empty: Codable, Sendable {
        public init() {}
    }
}

/// Bounds on analyses (the service refuses what breaks them with invalid-argument).
public struct AnalysisLimits: Sendable, Hashable {
    public var maxVideoIDLength: Int
    public var maxDescriptionBytes: Int
    public static let defaultPageSize = 50
    public static let maxPageSize = 500

    public init(maxVideoIDLength: Int = 255, maxDescriptionBytes: Int = 1 << 20) {
        self.maxVideoIDLength = maxVideoIDLength
        self.maxDescriptionBytes = maxDescriptionBytes
    }
}
