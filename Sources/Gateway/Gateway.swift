import BusRuntime
import Contracts
import Hummingbird
import Logging
import NIOCore
import Prometheus

/// The HTTP gateway: REST in, bus calls out. Stateless, so several can run
/// side by side behind a load balancer.
public enum Gateway {
    /// The services the gateway's routes call (readiness waits for them).
    public static let dependencies = [AnalysisContracts.service]

    /// The router with every route and middleware.
    public static func router(node: BusNode, configuration: GatewayConfiguration, metrics: PrometheusCollectorRegistry?) -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self)
        if metrics != nil { router.add(middleware: MetricsMiddleware()) }
        VideoAnalysisRoutes(node: node, timeout: .nanoseconds(Int64(configuration.callTimeoutSeconds * 1e9)), maxBodyBytes: configuration.maxBodyBytes).add(to: router)
        OperationalRoutes(node: node, metrics: metrics, dependencies: dependencies).add(to: router)
        return router
    }

    /// The gateway application, listening at `configuration`'s address.
    public static func application(
        node: BusNode, configuration: GatewayConfiguration, metrics: PrometheusCollectorRegistry?,
        group: any EventLoopGroup, logger: Logger,
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router(node: node, configuration: configuration, metrics: metrics),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "videobus-gateway"),
            onServerRunning: onServerRunning,
            eventLoopGroupProvider: .shared(group),
            logger: logger
        )
    }
}
