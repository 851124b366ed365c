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
    /// Carries `request-id` and `method` metadata.
    public var logger: Logger

    /// Whether the caller has already given up.
    public var isExpired: Bool { deadline.map { $0 <= .now() } ?? false }

    /// The request the current task serves. Calls made while serving it
    /// inherit its deadline (never outliving the caller who waits) and trace.
    @TaskLocal public static var current: RequestContext?
}
