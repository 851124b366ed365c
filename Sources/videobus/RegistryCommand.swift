import ArgumentParser
import BusRuntime
import BusWire
import Logging
import NIOCore
import NIOPosix
import Registry
import ServiceLifecycle
import UnixSignals

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

    @Option(help: ArgumentHelp(
        "Per-service registration credentials: lines SERVICE SECRET (several per service to rotate). Then a service registers only with one of its secrets. Re-read on SIGHUP.",
        valueName: "file"
    ))
    var credentials: String?

    func validate() throws {
        guard maxLease > 0 else { throw ValidationError("--max-lease must be positive") }
    }

    func run() async throws {
        node.bootstrapLogging()
        let logger = Logger(label: "videobus.registry")
        let configuration = node.configuration(service: RegistryProtocol.service, defaultPort: ServiceAddress(RegistryOptions.defaultAddress)!.port)
        let group = ProcessEventLoops.start(threads: node.threads)
        let busNode = BusNode(configuration: configuration, group: group, logger: logger)
        let secrets: RegistryCredentials?
        do {
            secrets = try credentials.map { try RegistryCredentials(contentsOf: $0) }
        } catch {
            throw ValidationError("\(error)")
        }
        let registry = RegistryService(maxLease: .nanoseconds(Int64(maxLease * 1e9)), credentials: secrets)
        registry.install(on: busNode)
        // Trapped before we listen: a SIGHUP's default action would end the registry.
        let hangups = secrets == nil ? nil : await UnixSignalsSequence(trapping: .sighup)
        let address = try await busNode.start()
        let bus = "\(address.ipAddress ?? node.host):\(address.port ?? configuration.port)"
        printLine("videobus: registry listening on \(bus)")
        let metrics = try await node.startMetricsEndpoint(group: group)
        if let secrets { logger.info("registration needs a credential: \(secrets.services.count) services have one") }
        Readiness.announce(role: "registry", bus: bus)
        lifetime.watchParentIfAsked()
        // Started in this order, stopped in the reverse one: the node drains while leases still expire.
        var services: [any Service] = metrics.map { [MetricsEndpoint.Listener(channel: $0)] } ?? []
        services.append(ClosureService {
            await cancelWhenGracefulShutdown { await registry.expireLeases { logger.info("\($0)") } }
        })
        if let hangups {
            services.append(ClosureService { await cancelWhenGracefulShutdown { await Self.reload(registry, on: hangups, logger: logger) } })
        }
        services.append(busNode)
        try await ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger).run()
    }

    /// Re-reads the credentials file on each SIGHUP, as an operator rotating
    /// secrets expects. A file that does not parse leaves the secrets in use.
    private static func reload(_ registry: RegistryService, on hangups: UnixSignalsSequence, logger: Logger) async {
        for await _ in hangups {
            do {
                let count = try registry.reloadCredentials()
                logger.notice("credentials reloaded: \(count) services have one")
            } catch {
                logger.error("credentials not reloaded (the previous ones stay in use): \(error)")
            }
        }
    }
}
