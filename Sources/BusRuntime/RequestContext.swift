import BusWire
import Logging
import NIOCore

/// What a handler knows about the request it serves.
public struct RequestContext: Sendable {
    /// The per-connection id of the request.
    public let requestID: UInt64
    public let service: String
    public let method: String
    /// When the caller stops waiting; nil when it sent no deadline.
    public let deadline: NIODeadline?
    public let idempotencyKey: String?
    /// W3C traceparent of the operation.
    public let trace: String?
    /// The tenant and user the request is made for; nil when the header named no tenant.
    public let identity: Identity?
    /// Which accepted connection the request came on: unique within the
    /// serving node (from 1), 0 for a request made in process. For per-peer bounds.
    public let connectionID: UInt64
    /// Carries `request-id` and `method` metadata (built on first use: most
    /// requests never log, and metadata costs an allocation).
    public var logger: Logger {
        get { customLogger ?? Self.annotate(baseLogger, requestID: requestID, service: service, method: method) }
        set { customLogger = newValue }
    }

    private let baseLogger: Logger
    private var customLogger: Logger?

    init(requestID: UInt64, service: String, method: String, deadline: NIODeadline?, idempotencyKey: String?, trace: String?, identity: Identity?, connectionID: UInt64 = 0, logger: Logger) {
        self.requestID = requestID
        self.connectionID = connectionID
        self.service = service
        self.method = method
        self.deadline = deadline
        self.idempotencyKey = idempotencyKey
        self.trace = trace
        self.identity = identity
        self.baseLogger = logger
    }

    /// A context for calling a handler in process (tests, tools): no
    /// connection, request id 0.
    public init(service: String, method: String, deadline: NIODeadline? = nil, idempotencyKey: String? = nil, trace: String? = nil, identity: Identity? = nil, connectionID: UInt64 = 0, logger: Logger) {
        self.init(requestID: 0, service: service, method: method, deadline: deadline, idempotencyKey: idempotencyKey, trace: trace, identity: identity, connectionID: connectionID, logger: logger)
    }

    private static func annotate(_ logger: Logger, requestID: UInt64, service: String, method: String) -> Logger {
        var logger = logger
        logger[metadataKey: "request-id"] = "\(requestID)"
        logger[metadataKey: "method"] = "\(service).\(method)"
        return logger
    }

    /// Whether the caller has already given up.
    public var isExpired: Bool { deadline.map { $0 <= .now() } ?? false }

    /// The tenant the request is made for, or `unauthenticated` when it named
    /// none: for methods that read or change tenant data.
    public func requireTenant() throws(BusError) -> Identity {
        guard let identity else { throw BusError(.unauthenticated, "\(service).\(method) needs a tenant") }
        return identity
    }

    /// The request the current task serves. Calls made while serving it
    /// inherit its deadline (never outliving the caller who waits), trace and identity.
    @TaskLocal public static var current: RequestContext?
}
