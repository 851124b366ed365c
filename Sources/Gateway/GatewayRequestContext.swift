import Hummingbird

/// The gateway's request context: Hummingbird's basic one plus the client's
/// address (anonymous requests are rate-limited per address). The routes
/// read bodies themselves, bounded by ``GatewayConfiguration/maxBodyBytes``.
public struct GatewayRequestContext: Hummingbird.RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The client's IP address, when the connection has one.
    public let remoteAddress: String?

    public init(source: Source) {
        coreContext = .init(source: source)
        remoteAddress = source.channel.remoteAddress?.ipAddress
    }
}
