/// What a frame is for. The raw values are the `kind` strings of the header.
public enum FrameKind: String, Sendable, Hashable, CaseIterable {
    /// First frame of the connecting side: versions, identity, token, codecs, limits.
    case hello
    /// The accepting side's answer to `hello`.
    case welcome
    case request
    /// Answer to a request; carries an `error` when it failed.
    case response
    /// Delivery of one event to one subscriber instance.
    case event
    /// Acknowledges an event, or refuses it when it carries an `error`.
    case eventAck = "event-ack"
    case ping
    case pong
    /// The sender is draining: no new requests on this connection.
    case goAway = "go-away"
    /// A connection-level failure; the sender closes right after.
    case error

    /// Whether the header must carry an `id` to correlate frames.
    public var requiresID: Bool {
        switch self {
        case .request, .response, .event, .eventAck, .ping, .pong: true
        case .hello, .welcome, .goAway, .error: false
        }
    }
}
