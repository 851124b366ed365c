import NIOCore

/// A closed-loop workload: each connection keeps `inFlight` calls of
/// `method` outstanding, sending the next as soon as one returns.
public struct Workload: Sendable, Hashable {
    public var name: String
    /// The method called on the target (`echo` for the standard workloads).
    public var method: String
    /// The bodies sent; nil for the generated JSON of `bodyBytes`.
    public var template: BodyTemplate?
    public var connections: Int
    public var inFlight: Int
    /// Size of the JSON body sent and echoed back.
    public var bodyBytes: Int
    /// Whether the body is realistic, compressible JSON (records) or a flat string.
    public var compressible: Bool
    public var warmup: TimeAmount
    public var duration: TimeAmount
    /// Deadline of each call.
    public var callTimeout: TimeAmount
    /// The tenant every call is made for (tenant-scoped methods refuse calls without one).
    public var tenant: String?
    /// The user every call is made as (methods that record an owner need one).
    public var user: String?

    public init(
        name: String, method: String = "echo", template: BodyTemplate? = nil, connections: Int, inFlight: Int, bodyBytes: Int = 256, compressible: Bool = false,
        warmup: TimeAmount = .seconds(2), duration: TimeAmount = .seconds(10), callTimeout: TimeAmount = .seconds(5),
        tenant: String? = nil, user: String? = nil
    ) {
        self.name = name
        self.method = method
        self.template = template
        self.connections = connections
        self.inFlight = inFlight
        self.bodyBytes = bodyBytes
        self.compressible = compressible
        self.warmup = warmup
        self.duration = duration
        self.callTimeout = callTimeout
        self.tenant = tenant
        self.user = user
    }

    /// The standard workloads the README reports.
    public static let standard: [String: Workload] = [
        "W1": Workload(name: "W1", connections: 1, inFlight: 64, bodyBytes: 256),
        "W2": Workload(name: "W2", connections: 1, inFlight: 1, bodyBytes: 256),
        "W3": Workload(name: "W3", connections: 1, inFlight: 16, bodyBytes: 64 << 10, compressible: true),
        "W4": Workload(name: "W4", connections: 8, inFlight: 16, bodyBytes: 256),
    ]

    /// The generated body (when there is no template).
    public var body: ByteBuffer {
        ByteBuffer(string: compressible ? SampleJSON.array(bytes: bodyBytes) : SampleJSON.object(bytes: bodyBytes))
    }
}
