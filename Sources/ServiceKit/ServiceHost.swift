import BusRuntime
import Logging
import ServiceLifecycle
import Storage

/// Runs one service definition on a node: opens and migrates its database,
/// installs its methods and consumers, and gives the long-running parts
/// (outbox relay, pruning) to run beside the node.
public struct ServiceHost: Sendable {
    public struct Options: Sendable {
        /// The service's database (ignored when its definition has none): on
        /// PostgreSQL, as a role that neither owns the tables nor bypasses
        /// row-level security.
        public var databaseURL: DatabaseURL?
        /// PostgreSQL: the same database as the role that owns its tables,
        /// to migrate and to grant the service's role its rights. Nil: the
        /// service's own URL migrates (SQLite; or PostgreSQL when an operator
        /// migrated and granted beforehand). SQLite ignores it.
        public var migrationsDatabaseURL: DatabaseURL?
        /// Apply pending migrations on start; when false, refuse to start while any is pending.
        public var migrate = true
        /// Subscriber groups of every topic, as the catalog declares them:
        /// the relay holds an event for each of them until it acknowledges.
        public var declaredSubscribers: [String: [String]] = [:]
        /// Who migrates, for the migration lock's holder.
        public var holder: String

        public init(databaseURL: DatabaseURL?, migrationsDatabaseURL: DatabaseURL? = nil, migrate: Bool = true, declaredSubscribers: [String: [String]] = [:], holder: String) {
            self.databaseURL = databaseURL
            self.migrationsDatabaseURL = migrationsDatabaseURL
            self.migrate = migrate
            self.declaredSubscribers = declaredSubscribers
            self.holder = holder
        }
    }

    /// The started service: what to run beside the node, and its database.
    public struct Running: Sendable {
        /// Run after the node in a `ServiceGroup`, so they stop before it drains.
        public let services: [any Service]
        public let database: (any Database)?
    }

    public let definition: ServiceDefinition
    public let options: Options

    public init(_ definition: ServiceDefinition, options: Options) {
        self.definition = definition
        self.options = options
    }

    /// Prepares the database and installs everything on `node` (before it starts).
    public func install(on node: BusNode, logger: Logger) async throws -> Running {
        var services: [any Service] = []
        var store: ServiceStore?
        var database: (any Database)?
        if let schema = definition.schema {
            guard let url = options.databaseURL else { throw ServiceHostError("\(definition.name) needs a database URL") }
            let opened = try await openDatabase(url)
            database = opened
            do {
                try await prepare(opened, schema: schema, logger: logger)
            } catch {
                await opened.close()
                throw error
            }
            let relay = OutboxRelay(database: opened, publisher: BusEventPublisher(node: node), subscriptions: DeclaredSubscriptions(options.declaredSubscribers), logger: logger)
            store = ServiceStore(database: opened, committed: { relay.notify() })
            services.append(OutboxRelayService(relay: relay))
            services.append(IdempotencyPruner(database: opened, logger: logger))
        }
        let bindings = try await definition.start(ServiceRuntime(node: node, store: store, logger: logger))
        try check(bindings: bindings, subscribed: node.subscribedTopics)
        for binding in bindings { binding.register(on: node) }
        return Running(services: services, database: database)
    }

    /// Every declared method has exactly one handler, and the consumed topics are the declared ones.
    func check(bindings: [MethodBinding], subscribed: [String]) throws {
        let served = bindings.map(\.name).sorted()
        let declared = definition.methods.map(\.name).sorted()
        guard served == declared else {
            throw ServiceHostError("\(definition.name) serves \(served) but its definition declares \(declared)")
        }
        guard subscribed.sorted() == definition.subscriptions.sorted() else {
            throw ServiceHostError("\(definition.name) consumes \(subscribed.sorted()) but its definition declares \(definition.subscriptions.sorted())")
        }
    }

    /// Migrates (or checks that nothing is pending), as the owner when a
    /// migrations URL is given; on PostgreSQL then grants the service's role
    /// its rights and refuses a role that row-level security would not bind.
    private func prepare(_ database: any Database, schema: ServiceSchema, logger: Logger) async throws {
        guard database.dialect == .postgres, let ownerURL = options.migrationsDatabaseURL else {
            try await migrate(database, schema: schema, logger: logger)
            try await checkRole(of: database)
            return
        }
        let owner = try await openDatabase(ownerURL)
        do {
            try await migrate(owner, schema: schema, logger: logger)
            // Every start: tables added by this start's migrations need it too.
            try await PostgresRoles.grantServiceAccess(on: owner, to: try await PostgresRoles.currentRole(of: database))
        } catch {
            await owner.close()
            throw error
        }
        await owner.close()
        try await checkRole(of: database)
    }

    /// Migrates on start, or with `migrate == false` checks that nothing is pending.
    private func migrate(_ database: any Database, schema: ServiceSchema, logger: Logger) async throws {
        let migrator = schema.migrator(holder: options.holder)
        if options.migrate {
            for migration in try await migrator.deploy(to: database) {
                logger.info("applied migration \(migration.id) \(migration.name)")
            }
            return
        }
        let status = try await migrator.status(of: database)
        guard status.isCurrent else {
            throw ServiceHostError("\(database.location) is not up to date (\(status.pending.count) pending, \(status.modified.count) modified, \(status.unknown.count) unknown); run videobus migrate deploy --service \(definition.name)")
        }
    }

    /// PostgreSQL: the service's role must be bound by row-level security.
    private func checkRole(of database: any Database) async throws {
        guard database.dialect == .postgres else { return }
        let problems = try await PostgresRoles.problems(ofRuntimeRole: database)
        guard problems.isEmpty else {
            let service = definition.name
            let role = service.replacingOccurrences(of: "-", with: "_")
            throw ServiceHostError("""
                \(service) refuses to serve \(database.location): \(problems.joined(separator: "; ")), so row-level security would not isolate tenants. \
                Connect as a role that neither owns the tables nor bypasses row-level security, and migrate as the owner: \
                e.g. CREATE ROLE \(role) LOGIN PASSWORD '...' (not SUPERUSER, not BYPASSRLS), then pass its URL as --database-url \
                ($\(Self.variable(service, "DATABASE_URL"))) and the owner's as --migrations-database-url ($\(Self.variable(service, "MIGRATIONS_DATABASE_URL"))); \
                the service grants that role its rights on every start.
                """)
        }
    }

    static func variable(_ service: String, _ suffix: String) -> String {
        "VIDEOBUS_" + service.uppercased().replacingOccurrences(of: "-", with: "_") + "_" + suffix
    }
}

/// A service that cannot be hosted as asked.
public struct ServiceHostError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// Deletes idempotency records past their retention, every few minutes.
struct IdempotencyPruner: Service {
    let database: any Database
    let logger: Logger

    func run() async throws {
        try await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await Idempotency.prune(database)
                } catch {
                    logger.debug("pruning idempotency records failed: \(error)")
                }
                try? await Task.sleep(for: .seconds(600))
            }
        }
    }
}
