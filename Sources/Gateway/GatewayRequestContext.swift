import Hummingbird

/// The gateway's request context: Hummingbird's basic one with the request
/// body limit raised to the gateway's (10 MiB by default).
public struct GatewayRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage

    public init(source: Source) {
        coreContext = .init(source: source)
    }

    /// Bodies beyond this are answered 413 (see ``GatewayConfiguration/maxBodyBytes``).
    public var maxUploadSize: Int { GatewayConfiguration.defaultMaxBodyBytes }
}
