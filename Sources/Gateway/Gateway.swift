import BusRuntime
import Contracts
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import Prometheus

/// The HTTP gateway: REST in, bus calls out. Stateless, so several can run
/// side by side behind a load balancer.
public enum Gateway {
    /// The router with every route and middleware. `routes` are the
    /// services' declared routes (the catalog's); `/openapi.json` describes them.
    /// `directory`: who API keys belong to (the ingest service, unless a test says otherwise).
    public static func router(
        node: BusNode, routes: [HTTPRoute], configuration: GatewayConfiguration, metrics: PrometheusCollectorRegistry?, version: String = "0.1.0",
        directory: (any KeyDirectory)? = nil
    ) -> Router<GatewayRequestContext> {
        router(bus: node, routes: routes, configuration: configuration, metrics: metrics, version: version, directory: directory)
    }

    /// The same router over any ``GatewayBus`` (in tests, services that answer from memory).
    public static func router<Bus: GatewayBus>(
        bus: Bus, routes: [HTTPRoute], configuration: GatewayConfiguration, metrics: PrometheusCollectorRegistry?, version: String = "0.1.0",
        directory: (any KeyDirectory)? = nil
    ) -> Router<GatewayRequestContext> {
        let router = Router(context: GatewayRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        if metrics != nil { router.add(middleware: MetricsMiddleware()) }
        var methods = Dictionary(grouping: routes, by: \.path).mapValues { $0.map { RouteHandler.method($0.verb) } }
        for path in OperationalRoutes.paths { methods[path] = [.get] }
        router.add(middleware: MethodNotAllowedMiddleware(paths: methods))
        let authenticator = Authenticator(
            directory: directory ?? IngestKeyDirectory(bus: bus),
            settings: .init(anonymousTenant: configuration.anonymousTenant, rateLimits: configuration.rateLimits)
        )
        ServiceRoutes(bus: bus, routes: routes, timeout: seconds(configuration.callTimeoutSeconds), maxBodyBytes: configuration.maxBodyBytes,
                      budget: BodyBudget(limit: configuration.maxBodyBytesInFlight), authenticator: authenticator).add(to: router)
        // Ready when every service a route calls has a serving instance.
        let dependencies = Array(Set(routes.map(\.service))).sorted()
        OperationalRoutes(bus: bus, metrics: metrics, dependencies: dependencies, openAPI: OpenAPIDocument.json(routes: routes, version: version, anonymous: configuration.anonymousTenant != nil)).add(to: router)
        return router
    }

    /// Hummingbird's HTTP/1 server with the gateway's connection cap and deadlines.
    static func server(_ configuration: GatewayConfiguration) -> HTTPServerBuilder {
        let limits = ConnectionGuard.Limits(
            header: seconds(configuration.headerTimeoutSeconds), body: seconds(configuration.bodyTimeoutSeconds),
            idle: seconds(configuration.idleTimeoutSeconds)
        )
        let connections = ConnectionCount(limit: configuration.maxConnections)
        return HTTPServerBuilder { responder in
            GuardedHTTP1Channel(inner: HTTP1Channel(responder: responder), limits: limits, connections: connections)
        }
    }

    static func seconds(_ seconds: Double) -> TimeAmount { .nanoseconds(Int64(seconds * 1e9)) }

    /// The gateway application, listening at `configuration`'s address.
    public static func application(
        node: BusNode, routes: [HTTPRoute], configuration: GatewayConfiguration, metrics: PrometheusCollectorRegistry?,
        group: any EventLoopGroup, logger: Logger, version: String = "0.1.0",
        onServerRunning: @escaping @Sendable (any Channel) async -> Void = { _ in }
    ) -> some ApplicationProtocol {
        Application(
            router: router(node: node, routes: routes, configuration: configuration, metrics: metrics, version: version),
            server: server(configuration),
            configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "videobus-gateway"),
            onServerRunning: onServerRunning,
            eventLoopGroupProvider: .shared(group),
            logger: logger
        )
    }
}
