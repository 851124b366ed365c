import Hummingbird

/// The gateway's request context: Hummingbird's basic one. (The routes read
/// bodies themselves, bounded by ``GatewayConfiguration/maxBodyBytes``.)
public struct GatewayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: Source) {
        coreContext = .init(source: source)
    }
}
