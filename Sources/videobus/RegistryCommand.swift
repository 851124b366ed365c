import ArgumentParser
import BusRuntime
import BusWire
import Logging
import NIOCore
import NIOPosix
import Registry
import ServiceLifecycle

/// `videobus registry`: runs a registry until SIGTERM/SIGINT.
struct RegistryCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "registry",
        abstract: "Run a registry: services register here and callers find them here."
    )

    @OptionGroup var node: NodeOptions

    @OptionGroup var lifetime: LifetimeOptions

    @Option(help: "Longest lease granted, in seconds: an instance silent for longer is removed.")
    var maxLease: Double = 10

    func validate() throws {
        guard maxLease > 0 else { throw ValidationError("--max-lease must be positive") }
    }

    func run() async throws {
        node.bootstrapLogging()
        let logger = Logger(label: "videobus.registry")
        let configuration = node.configuration(service: RegistryProtocol.service, defaultPort: ServiceAddress(RegistryOptions.defaultAddress)!.port)
        let group = MultiThreadedEventLoopGroup(numberOfThreads: node.threads)
        let busNode = BusNode(configuration: configuration, group: group, logger: logger)
        let registry = RegistryService(maxLease: .nanoseconds(Int64(maxLease * 1e9)))
        registry.install(on: busNode)
        let address = try await busNode.start()
        printLine("videobus: registry listening on \(address.ipAddress ?? node.host):\(address.port ?? configuration.port)")
        let metrics = try await node.startMetricsEndpoint(group: group)
        let expiry = Task { await registry.expireLeases { logger.info("\($0)") } }
        lifetime.watchParentIfAsked()
        let services = ServiceGroup(services: [busNode], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await services.run()
        expiry.cancel()
        try? await metrics?.close()
        try await group.shutdownGracefully()
    }
}
