/// The typed error codes of the bus, as they travel in a header's `error.code`.
///
/// Extensible like an open enum: a peer may send a code this build does not
/// know; it keeps its raw value and is treated as ``internal`` when deciding
/// whether to retry.
public struct ErrorCode: RawRepresentable, Hashable, Sendable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let rawValue: String

    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }

    public static let invalidArgument: ErrorCode = "invalid-argument"
    public static let notFound: ErrorCode = "not-found"
    public static let conflict: ErrorCode = "conflict"
    /// The service or method is not served by the node that received the request.
    public static let unimplemented: ErrorCode = "unimplemented"
    /// No live instance of the service could be found (decided on the caller's side).
    public static let noResponders: ErrorCode = "no-responders"
    /// The request was not started: the peer is going away or went away before processing it.
    public static let unavailable: ErrorCode = "unavailable"
    public static let deadlineExceeded: ErrorCode = "deadline-exceeded"
    /// Rejected before any work because a queue or in-flight limit is full.
    public static let overloaded: ErrorCode = "overloaded"
    public static let unauthenticated: ErrorCode = "unauthenticated"
    /// The caller passed the handshake but may not do this: its role does not
    /// allow it, or the record is another's (a user's; a registry record another
    /// connection owns; a service it has no credential for).
    public static let permissionDenied: ErrorCode = "permission-denied"
    public static let limitExceeded: ErrorCode = "limit-exceeded"
    public static let unsupportedVersion: ErrorCode = "unsupported-version"
    public static let protocolError: ErrorCode = "protocol-error"
    public static let `internal`: ErrorCode = "internal"

    /// Every code protocol version 1 defines, in the order of `proto/schemas/error-codes.json`.
    public static let known: [ErrorCode] = [
        .invalidArgument, .notFound, .conflict, .unimplemented, .noResponders, .unavailable,
        .deadlineExceeded, .overloaded, .unauthenticated, .permissionDenied, .limitExceeded, .unsupportedVersion,
        .protocolError, .internal,
    ]

    /// Whether an error with this code promises, by default, that the request had no effect.
    public var isRetryableByDefault: Bool {
        switch self {
        case .noResponders, .unavailable, .overloaded: true
        default: false
        }
    }

    public var description: String { rawValue }
}

/// A typed error as it travels on the wire: in a failed response, a refused
/// event (nack) or a connection-level `error` frame.
public struct BusError: Error, Hashable, Sendable, CustomStringConvertible {
    public var code: ErrorCode
    public var message: String
    /// A promise from the side that produced the error that the request had no
    /// effect, so sending it again is safe.
    public var retryable: Bool

    public init(_ code: ErrorCode, _ message: String, retryable: Bool? = nil) {
        self.code = code
        self.message = message
        self.retryable = retryable ?? code.isRetryableByDefault
    }

    public init(_ wireError: WireError) {
        self.init(wireError.code, wireError.description)
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
