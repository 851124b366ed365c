import ArgumentParser
import BusRuntime
import BusWire
import Catalog
import Foundation
import Gateway
import Hummingbird
import Logging
import Metrics
import NIOCore
import NIOPosix
import Prometheus
import ServiceLifecycle

/// `videobus gateway`: REST over the bus.
struct GatewayCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "gateway",
        abstract: "Serve the services' REST API (and /docs, /openapi.json, /healthz, /readyz, /metrics) over the bus.",
        discussion: "Routes of: " + Set(ServiceCatalog.routes.map(\.service)).sorted().joined(separator: ", ")
    )

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "HTTP port (0 picks a free one).") var port = 8000
    @Option(help: "Seconds each bus call may take.") var callTimeout: Double = 10
    @Option(help: "Largest request body, in bytes; larger ones are answered 413.") var maxBodyBytes: Int = GatewayConfiguration.defaultMaxBodyBytes
    @Option(help: "Bytes of request bodies read at once across all connections; a request beyond is answered 503 with Retry-After.") var maxBodyBytesInFlight: Int = GatewayConfiguration.defaultMaxBodyBytesInFlight
    @Option(help: "Seconds a request head may take to arrive whole; then the connection is closed.") var headerTimeout: Double = GatewayConfiguration.defaultHeaderTimeoutSeconds
    @Option(help: "Seconds a request body may go without progress; then the connection is closed.") var bodyTimeout: Double = GatewayConfiguration.defaultBodyTimeoutSeconds
    @Option(help: "Seconds a keep-alive connection may stay idle between requests.") var idleTimeout: Double = GatewayConfiguration.defaultIdleTimeoutSeconds
    @Option(help: "Open connections at most; beyond, new ones are answered 503 and closed (default: 10000, or 3/4 of the open-file limit).") var maxConnections: Int = GatewayConfiguration.defaultMaxConnections
    @Option(help: "Serve requests without an API key as the anonymous USER of this tenant (created if missing). Off by default: such requests are answered 401.") var anonymousTenant: String?
    @Option(help: ArgumentHelp("Per-key rate limit of a role: ROLE=RATE[:BURST] in requests per second (0: unlimited); repeat per role. Default: USER=1000, ADMIN=1000, ENTERPRISE=10000, burst twice the rate.", valueName: "role=rate[:burst]")) var rateLimit: [String] = []
    @Option(help: "Event-loop threads (default: one per core).") var threads: Int = System.coreCount
    @Option(help: "Log level.") var logLevel: Logger.Level = .info
    @Option(help: ArgumentHelp(compressionHelp, valueName: "auto|always|never")) var compression: CompressionMode = .auto
    @Option(name: .customLong("token"), help: "Shared secret of the bus (default: $VIDEOBUS_TOKEN).") var tokenOption: String?
    @OptionGroup var registry: RegistryOptions

    @OptionGroup var lifetime: LifetimeOptions

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be 0...65535") }
        guard callTimeout > 0, threads >= 1, maxBodyBytes >= 1 else { throw ValidationError("--call-timeout, --threads and --max-body-bytes must be positive") }
        guard headerTimeout > 0, bodyTimeout > 0, idleTimeout > 0, maxConnections >= 1 else {
            throw ValidationError("--header-timeout, --body-timeout, --idle-timeout and --max-connections must be positive")
        }
        guard maxBodyBytesInFlight >= maxBodyBytes else { throw ValidationError("--max-body-bytes-in-flight must be at least --max-body-bytes") }
        _ = try busToken(tokenOption)
        _ = try rateLimits()
        if let anonymousTenant, anonymousTenant.trimmingCharacters(in: .whitespaces).isEmpty { throw ValidationError("--anonymous-tenant needs a tenant name") }
    }

    /// The defaults, with each `--rate-limit ROLE=RATE[:BURST]` replacing its role's.
    func rateLimits() throws -> [String: RateLimit] {
        var limits = GatewayConfiguration.defaultRateLimits
        for option in rateLimit {
            let parts = option.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let limit = RateLimit(parts[1]) else {
                throw ValidationError("--rate-limit \(option): expected ROLE=RATE[:BURST], e.g. USER=100 or ENTERPRISE=1000:5000")
            }
            let role = parts[0].uppercased()
            guard ["USER", "ADMIN", "ENTERPRISE"].contains(role) else { throw ValidationError("--rate-limit \(option): the roles are USER, ADMIN and ENTERPRISE") }
            limits[role] = limit
        }
        return limits
    }

    func run() async throws {
        ProcessLogHandler.bootstrap(level: logLevel)
        let logger = Logger(label: "videobus.gateway")
        let metrics = MetricsEndpoint.bootstrap().registry
        let group = ProcessEventLoops.start(threads: threads)
        let node = BusNode(configuration: BusNode.Configuration(
            identity: NodeIdentity(service: "gateway", instance: uniqueInstanceID("gateway"), version: Videobus.configuration.version),
            token: try busToken(tokenOption), compression: CompressionPolicy(mode: compression), registries: registry.addresses
        ), group: group, logger: logger)
        let configuration = GatewayConfiguration(
            host: host, port: port, callTimeoutSeconds: callTimeout, maxBodyBytes: maxBodyBytes, maxBodyBytesInFlight: maxBodyBytesInFlight,
            headerTimeoutSeconds: headerTimeout, bodyTimeoutSeconds: bodyTimeout, idleTimeoutSeconds: idleTimeout, maxConnections: maxConnections,
            anonymousTenant: anonymousTenant, rateLimits: try rateLimits()
        )
        let application = Gateway.application(node: node, routes: ServiceCatalog.routes, configuration: configuration, metrics: metrics, group: group, logger: logger, version: Videobus.configuration.version) { channel in
            let address = "\(configuration.host):\(channel.localAddress?.port ?? configuration.port)"
            printLine("videobus: gateway listening on http://\(address)")
            Readiness.announce(role: "gateway", http: address)
        }
        lifetime.watchParentIfAsked()
        // The node only calls, so it is not a server to run: it is shut down once the HTTP server (stopped first) has drained.
        let nodeShutdown = ClosureService {
            try? await gracefulShutdown()
            try await node.shutdown(grace: .zero)
        }
        let services = ServiceGroup(services: [nodeShutdown, application], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await services.run()
    }
}
