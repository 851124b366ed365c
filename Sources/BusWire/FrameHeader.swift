/// The JSON header of a frame: everything the runtime needs to route, correlate
/// and reject a frame without looking at its body.
///
/// Field names on the wire are snake_case; see `proto/PROTOCOL.md` for which
/// kinds require which fields. Unknown fields from newer peers are ignored.
public struct FrameHeader: Sendable, Hashable {
    public var kind: FrameKind
    /// Correlates a request with its response, an event with its ack, a ping with its pong.
    /// At most 2^53 − 1 so that every JSON implementation reads it exactly.
    public var id: UInt64
    /// Target service of a request.
    public var service: String?
    /// Target method of a request.
    public var method: String?
    /// Milliseconds left until the caller's deadline when the frame was written.
    public var timeoutMilliseconds: UInt64?
    /// Same key, same operation: makes retrying a request safe.
    public var idempotencyKey: String?
    /// W3C `traceparent` of the operation this frame belongs to.
    public var trace: String?
    /// Event type, e.g. `asset.created`.
    public var topic: String?
    /// Globally unique id of an event; receivers deduplicate on it.
    public var eventID: String?
    /// Service that published an event.
    public var source: String?
    /// The tenant a request is made for, or an event belongs to.
    public var tenant: String?
    /// The user a request is made on behalf of (an id the ingest service issued).
    public var user: String?
    /// That user's role (`USER`, `ADMIN`, `ENTERPRISE`).
    public var role: String?
    /// Present on a failed response, a refused event and an `error` frame.
    public var error: BusError?

    /// The largest id every JSON implementation can read without loss.
    public static let maxID: UInt64 = (1 << 53) - 1

    public init(
        kind: FrameKind,
        id: UInt64 = 0,
        service: String? = nil,
        method: String? = nil,
        timeoutMilliseconds: UInt64? = nil,
        idempotencyKey: String? = nil,
        trace: String? = nil,
        topic: String? = nil,
        eventID: String? = nil,
        source: String? = nil,
        tenant: String? = nil,
        user: String? = nil,
        role: String? = nil,
        error: BusError? = nil
    ) {
        self.kind = kind
        self.id = id
        self.service = service
        self.method = method
        self.timeoutMilliseconds = timeoutMilliseconds
        self.idempotencyKey = idempotencyKey
        self.trace = trace
        self.topic = topic
        self.eventID = eventID
        self.source = source
        self.tenant = tenant
        self.user = user
        self.role = role
        self.error = error
    }

    /// The header field names in canonical order.
    public static let fieldNames = [
        "kind", "id", "service", "method", "timeout_ms", "idempotency_key",
        "trace", "topic", "event_id", "source", "tenant", "user", "role", "error",
    ]

    /// Checks the fields the kind requires; the decoder and encoder both call it,
    /// so no malformed header leaves or enters a node.
    func validate() throws(WireError) {
        if id > Self.maxID { throw .malformedHeader("id \(id) exceeds 2^53-1") }
        switch kind {
        case .request:
            if service == nil { throw .malformedHeader("a request needs \"service\"") }
            if method == nil { throw .malformedHeader("a request needs \"method\"") }
        case .event:
            if topic == nil { throw .malformedHeader("an event needs \"topic\"") }
            if eventID == nil { throw .malformedHeader("an event needs \"event_id\"") }
        case .error:
            if error == nil { throw .malformedHeader("an error frame needs \"error\"") }
        default:
            break
        }
    }
}
