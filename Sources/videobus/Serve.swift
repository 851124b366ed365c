import ArgumentParser
import BusRuntime
import Catalog
import Logging
import NIOPosix
import ServiceKit
import ServiceLifecycle
import Storage

#if canImport(Glibc)
import Glibc
#endif

/// `videobus serve SERVICE`: runs one service's node until SIGTERM/SIGINT, then drains.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a service's node until SIGTERM or SIGINT, then drain and exit.",
        discussion: "Services:\n" + ServiceCatalog.helpText
    )

    @Argument(help: "The service to run.")
    var service: String

    @OptionGroup var node: NodeOptions

    @OptionGroup var registry: RegistryOptions

    @Flag(help: "Do not register with any registry (reachable only by address).")
    var standalone = false

    @Option(help: "The service's database (default: $VIDEOBUS_<SERVICE>_DATABASE_URL, else file:./data/<service>.db).")
    var databaseURL: String?

    @Option(name: [.customLong("migrations-database-url"), .customLong("migrations-database")], help: ArgumentHelp(
        "PostgreSQL: the same database as the role that owns the tables, to migrate and grant with (default: $VIDEOBUS_<SERVICE>_MIGRATIONS_DATABASE_URL, else $VIDEOBUS_MIGRATIONS_DATABASE_URL).",
        discussion: "The service itself then connects with --database-url as a role that neither owns the tables nor bypasses row-level security; it refuses to start otherwise. SQLite ignores it."))
    var migrationsDatabaseURL: String?

    @Flag(inversion: .prefixedNo, help: "Apply pending migrations on start; with --no-migrate, refuse to start while any is pending.")
    var migrate = true

    @OptionGroup var lifetime: LifetimeOptions

    func validate() throws {
        let definition: ServiceDefinition
        do {
            definition = try ServiceCatalog.definition(named: service)
        } catch {
            throw ValidationError("\(error)")
        }
        if definition.schema != nil {
            do {
                _ = try DatabaseURL(ServiceCatalog.databaseURL(for: service, explicit: databaseURL))
                _ = try ServiceCatalog.migrationsDatabaseURL(for: service, explicit: migrationsDatabaseURL).map(DatabaseURL.init)
            } catch {
                throw ValidationError(error.message)
            }
        }
    }

    func run() async throws {
        node.bootstrapLogging()
        let logger = Logger(label: "videobus.\(service)")
        let definition = try ServiceCatalog.definition(named: service)
        let group = ProcessEventLoops.start(threads: node.threads)
        var configuration = node.configuration(service: service)
        configuration.registries = standalone ? [] : registry.addresses
        let busNode = BusNode(configuration: configuration, group: group, logger: logger)
        let host = ServiceHost(definition, options: .init(
            databaseURL: definition.schema == nil ? nil : try DatabaseURL(ServiceCatalog.databaseURL(for: service, explicit: databaseURL)),
            migrationsDatabaseURL: definition.schema == nil ? nil : try ServiceCatalog.migrationsDatabaseURL(for: service, explicit: migrationsDatabaseURL).map(DatabaseURL.init),
            migrate: migrate, declaredSubscribers: ServiceCatalog.declaredSubscribers, holder: "videobus serve \(service) pid \(getpid())"
        ))
        let running: ServiceHost.Running
        do {
            running = try await host.install(on: busNode, logger: logger)
        } catch let error as ServiceHostError {
            throw ValidationError(error.description)
        }

        let address = try await busNode.start()
        let bus = "\(address.ipAddress ?? node.host):\(address.port ?? 0)"
        // The first line on stdout tells a parent process (the load-test harness) where we listen.
        printLine("videobus: \(service) listening on \(bus)")
        let metrics = try await node.startMetricsEndpoint(group: group)
        lifetime.watchParentIfAsked()
        // Listening and migrated; registered too, unless there is no registry to be registered with.
        var announcement: [any Service] = []
        if let registry = configuration.registries.first, Readiness.isRequested {
            let configuration = configuration
            announcement = [RegistrationAnnouncement(role: service, bus: bus) {
                try await Readiness.waitUntilRegistered(instance: configuration.identity.instance, registry: registry, configuration: configuration, group: group)
            }]
        } else {
            Readiness.announce(role: service, bus: bus)
        }
        // Dependencies first: on shutdown the relay and the others stop first, then the node drains, then /metrics closes.
        let services: [any Service] = metrics.map { [MetricsEndpoint.Listener(channel: $0)] } ?? []
        let serviceGroup = ServiceGroup(services: services + [busNode] + running.services + announcement, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await serviceGroup.run()
        await running.database?.close()
    }
}
