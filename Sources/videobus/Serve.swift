import AnalysisStore
import ArgumentParser
import BusRuntime
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
        discussion: """
            Services: analysis-store (video analyses; its own database, migrated on start),
            echo (only the system methods ping, echo, info; the load-test target).
            """
    )

    @Argument(help: "The service to run.")
    var service: String

    @OptionGroup var node: NodeOptions

    @OptionGroup var registry: RegistryOptions

    @Flag(help: "Do not register with any registry (reachable only by address).")
    var standalone = false

    @Option(help: "The service's database (default: $VIDEOBUS_<SERVICE>_DATABASE_URL, else file:./data/<service>.db).")
    var databaseURL: String?

    @Flag(inversion: .prefixedNo, help: "Apply pending migrations on start; with --no-migrate, refuse to start while any is pending.")
    var migrate = true

    @OptionGroup var lifetime: LifetimeOptions

    static let services = ["analysis-store", "echo"]

    func validate() throws {
        guard Self.services.contains(service) else {
            throw ValidationError("unknown service \(service); known: \(Self.services.joined(separator: ", "))")
        }
        if service != "echo" { _ = try DatabaseURL(ServiceCatalog.databaseURL(for: service, explicit: databaseURL)) }
    }

    func run() async throws {
        node.bootstrapLogging()
        let logger = Logger(label: "videobus.\(service)")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: node.threads)
        var configuration = node.configuration(service: service)
        configuration.registries = standalone ? [] : registry.addresses
        let busNode = BusNode(configuration: configuration, group: group, logger: logger)
        var services: [any Service] = [busNode]
        var database: (any Database)?

        if service == "analysis-store" {
            let db = try await openDatabase(DatabaseURL(ServiceCatalog.databaseURL(for: service, explicit: databaseURL)))
            database = db
            try await prepare(db, schema: AnalysisStoreSchema.schema, logger: logger)
            let relay = OutboxRelay(database: db, publisher: BusEventPublisher(node: busNode), logger: logger)
            AnalysisStoreService(database: db, eventsCommitted: { relay.notify() }).install(on: busNode)
            // Listed after the node: on shutdown the relay stops first, then the node drains.
            services.append(OutboxRelayService(relay: relay))
        }

        let address = try await busNode.start()
        // The first line on stdout tells a parent process (the load-test harness) where we listen.
        printLine("videobus: \(service) listening on \(address.ipAddress ?? node.host):\(address.port ?? 0)")
        let metrics = try await node.startMetricsEndpoint(group: group)
        lifetime.watchParentIfAsked()
        let serviceGroup = ServiceGroup(services: services, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await serviceGroup.run()
        try? await metrics?.close()
        await database?.close()
        try await group.shutdownGracefully()
    }

    /// Migrates on start, or with --no-migrate checks that nothing is pending.
    private func prepare(_ database: any Database, schema: ServiceSchema, logger: Logger) async throws {
        let migrator = schema.migrator(holder: configurationHolder)
        if migrate {
            for migration in try await migrator.deploy(to: database) {
                logger.info("applied migration \(migration.id) \(migration.name)")
            }
            return
        }
        let status = try await migrator.status(of: database)
        guard status.isCurrent else {
            throw ValidationError("\(database.location) is not up to date (\(status.pending.count) pending, \(status.modified.count) modified, \(status.unknown.count) unknown); run videobus migrate deploy --service \(service)")
        }
    }

    private var configurationHolder: String { "videobus serve \(service) pid \(getpid())" }
}
