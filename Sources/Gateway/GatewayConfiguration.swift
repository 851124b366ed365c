#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Settings of the HTTP gateway.
public struct GatewayConfiguration: Sendable {
    public static let defaultMaxBodyBytes = 10 << 20
    public static let defaultMaxBodyBytesInFlight = 64 << 20
    public static let defaultHeaderTimeoutSeconds = 10.0
    public static let defaultBodyTimeoutSeconds = 10.0
    public static let defaultIdleTimeoutSeconds = 60.0
    /// 10,000, or fewer when the process may open fewer files: a quarter of
    /// the descriptors stay free for the bus and the logs.
    public static var defaultMaxConnections: Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0, limit.rlim_cur < 1 << 40 else { return 10_000 }
        return max(16, min(10_000, Int(limit.rlim_cur) * 3 / 4))
    }

    public var host: String
    public var port: Int
    /// Deadline of each bus call made for a request.
    public var callTimeoutSeconds: Double
    /// Request bodies beyond this are answered 413, before they are read when
    /// the client sends Content-Length.
    public var maxBodyBytes: Int
    /// Bytes of request bodies being collected at once, across all
    /// connections: a request that would go beyond is answered 503 with
    /// Retry-After (its Content-Length counts, or `maxBodyBytes` without one).
    public var maxBodyBytesInFlight: Int
    /// A request head must arrive whole within this many seconds of its
    /// first byte (or of the connection's opening); else the connection is closed.
    public var headerTimeoutSeconds: Double
    /// A request body must make progress: a connection whose body has not
    /// advanced for this many seconds is closed.
    public var bodyTimeoutSeconds: Double
    /// A keep-alive connection with no request for this many seconds is closed.
    public var idleTimeoutSeconds: Double
    /// Open connections at most; beyond, a new connection is answered 503
    /// with Retry-After and closed.
    public var maxConnections: Int
    /// The tenant whose anonymous user requests without an API key are
    /// made as; nil: such requests are answered 401.
    public var anonymousTenant: String?
    /// Per-key token buckets by role (`USER`, `ADMIN`, `ENTERPRISE`); a role
    /// without an entry, or with rate 0, is not limited.
    public var rateLimits: [String: RateLimit]

    /// ENTERPRISE gets ten times the others' rate.
    public static let defaultRateLimits: [String: RateLimit] = [
        "USER": RateLimit(rate: 1_000), "ADMIN": RateLimit(rate: 1_000), "ENTERPRISE": RateLimit(rate: 10_000),
    ]

    public init(
        host: String = "127.0.0.1", port: Int = 8000, callTimeoutSeconds: Double = 10, maxBodyBytes: Int = defaultMaxBodyBytes,
        maxBodyBytesInFlight: Int = defaultMaxBodyBytesInFlight, headerTimeoutSeconds: Double = defaultHeaderTimeoutSeconds,
        bodyTimeoutSeconds: Double = defaultBodyTimeoutSeconds, idleTimeoutSeconds: Double = defaultIdleTimeoutSeconds,
        maxConnections: Int = defaultMaxConnections, anonymousTenant: String? = nil, rateLimits: [String: RateLimit] = defaultRateLimits
    ) {
        self.host = host
        self.port = port
        self.callTimeoutSeconds = callTimeoutSeconds
        self.maxBodyBytes = maxBodyBytes
        self.maxBodyBytesInFlight = maxBodyBytesInFlight
        self.headerTimeoutSeconds = headerTimeoutSeconds
        self.bodyTimeoutSeconds = bodyTimeoutSeconds
        self.idleTimeoutSeconds = idleTimeoutSeconds
        self.maxConnections = maxConnections
        self.anonymousTenant = anonymousTenant
        self.rateLimits = rateLimits
    }
}
