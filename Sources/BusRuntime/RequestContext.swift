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

    init(requestID: UInt64, service: String, method: String, deadline: NIODeadline?, idempotencyKey: String?, trace: String?, connectionID: UInt64 = 0, logger: Logger) {
        self.requestID = requestID
        self.connectionID = connectionID
        self.service = service
        self.method = method
        self.deadline = deadline
        self.idempotencyKey = idempotencyKey
        self.trace = trace
        self.baseLogger = logger
    }

    /// A context for calling a handler in process (tests, tools): no
    /// connection, request id 0.
    public init(service: String, method: String, deadline: NIODeadline? = nil, idempotencyKey: String? = nil, trace: String? = nil, connectionID: UInt64 = 0, logger: Logger) {
        self.init(requestID: 0, service: service, method: method, deadline: deadline, idempotencyKey: idempotencyKey, trace: trace, connectionID: connectionID, logger: logger)
    }

    private static func annotate(_ logger: Logger, requestID: UInt64, service: String, method: String) -> Logger {
        var logger = logger
        logger[metadataKey: "request-id"] = "\(requestID)"
        logger[metadataKey: "method"] = "\(service).\(method)"
        return logger
    }

    /// Whether the caller has already given up.
    public var isExpired: Bool { deadline.map { $0 <= .now() } ?? false }

    /// The request the current task serves. Calls made while serving it
    /// inherit its deadline (never outliving the caller who waits) and trace.
    @TaskLocal public static var current: RequestContext?
}
