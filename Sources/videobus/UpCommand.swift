import ArgumentParser
import BusRuntime
import BusWire
import Catalog
import Foundation
import Logging
import ServiceLifecycle
import Storage

/// `videobus up`: the whole system locally, each part its own process.
struct UpCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up",
        abstract: "Run the registry, every service and the gateway locally, each as its own process.",
        discussion: """
            Services: \(ServiceCatalog.system.map(\.name).joined(separator: ", ")).
            Logs are prefixed by process. Every port is chosen before its process starts and kept across
            restarts (with 0, a free one on 127.0.0.1). A process that exits unexpectedly is restarted with
            backoff (100 ms doubling to 5 s); one that exits 5 times within 60 s stops everything and up exits 1.
            Ctrl-C or SIGTERM stops every process, the gateway first and the registry last, and exits.
            Databases are SQLite files under --data-dir, or with --postgres one database per service on
            that server (created if missing), owned and migrated by the --postgres user and used by the service as a role of its own (videobus_<service>).
            The bus gets a random token per run ($VIDEOBUS_TOKEN when set), and every service its own
            registration credential; children get them through their environment. The token and the
            registry's address are written to --data-dir (bus-token, mode 0600; registry-address), where
            `videobus call`, `videobus status` and `videobus tenant` run from the same directory find them without flags.
            """
    )

    @Option(help: "HTTP port of the gateway (0 picks a free one).") var port = 8000
    @Option(help: "Port of the registry (0 picks a free one).") var registryPort = 7700
    @Option(help: "Directory of the SQLite databases, the bus token and the registry's credentials.") var dataDir = "./data"
    @Option(help: "A PostgreSQL server URL (postgresql://user:pass@host:port/db): each service gets its own database there.") var postgres: String?
    @Option(help: "The gateway serves requests without an API key as this tenant's anonymous user, so the seed's curl session works as it is; \"none\" requires a key on every request.") var anonymousTenant = "default"
    @Option(help: "Event-loop threads of each process it starts (they share the machine's cores; see README \"Performance\").") var threads = 1
    @Option(help: ArgumentHelp("Passed to every process: " + compressionHelp, valueName: "auto|always|never")) var compression: CompressionMode = .auto
    @Option(help: ArgumentHelp("Passed to the gateway: per-key rate limit of a role, ROLE=RATE[:BURST] (see videobus gateway --help).", valueName: "role=rate[:burst]")) var rateLimit: [String] = []

    func validate() throws {
        guard (0...65535).contains(port), (0...65535).contains(registryPort) else { throw ValidationError("--port and --registry-port must be 0...65535") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        _ = try busToken(nil)
        if let postgres {
            guard case .postgres = try DatabaseURL(postgres) else { throw ValidationError("--postgres must be a postgresql:// URL") }
        }
    }

    func run() async throws {
        let console = UpConsole()
        let services = ServiceCatalog.system.map(\.name)
        // Every port is decided here, once, so a restarted child comes back where its dependents look for it.
        let registryPort = try PortReservation(port: self.registryPort)
        let gatewayPort = try PortReservation(port: self.port)
        let servicePorts = try services.map { _ in try PortReservation(port: 0) }
        defer { for reservation in [registryPort, gatewayPort] + servicePorts { reservation.release() } }
        let secrets = try BusSecrets.create(services: services, in: LocalBus(dataDir: dataDir))
        defer { secrets.remove() }

        let registry = "127.0.0.1:\(registryPort.port)"
        let common = ["--compression", compression.rawValue, "--threads", "\(threads)"]
        let tokenOnly = ["VIDEOBUS_TOKEN": secrets.token]
        let registryChild = SupervisedChild(
            .init(name: "registry", arguments: ["registry", "--port", "\(registryPort.port)", "--credentials", secrets.local.credentialsFile.path] + common, colour: 5, environment: tokenOnly),
            console: console
        ) { _, first in
            guard first else { return }
            do {
                try secrets.announce(registry: registry)
            } catch {
                console.say("\(error)")
            }
        }
        var serviceChildren: [SupervisedChild] = []
        for (index, service) in services.enumerated() {
            let database = try await databaseSettings(for: service)
            serviceChildren.append(SupervisedChild(
                .init(
                    name: service, arguments: ["serve", service, "--port", "\(servicePorts[index].port)", "--registry", registry] + common + database.flags, colour: 2 + index,
                    environment: tokenOnly.merging(database.environment) { $1 }.merging(["VIDEOBUS_SERVICE_CREDENTIAL": secrets.credentials[service]!]) { $1 }
                ),
                after: [registryChild], console: console
            ))
        }
        var gateway = ["gateway", "--port", "\(gatewayPort.port)", "--registry", registry] + common
        if anonymousTenant != "none" { gateway += ["--anonymous-tenant", anonymousTenant] }
        gateway += rateLimit.flatMap { ["--rate-limit", $0] }
        let url = "http://127.0.0.1:\(gatewayPort.port)"
        // Started last, once every service is registered: the URL printed then answers at once.
        let gatewayChild = SupervisedChild(.init(name: "gateway", arguments: gateway, colour: 6, environment: tokenOnly), after: [registryChild] + serviceChildren, console: console) { _, first in
            if first { console.say("ready: \(url)/api/video-analysis/ (docs: \(url)/docs)") }
        }

        // Started in this order, stopped in the reverse one: the gateway first, the registry last.
        let children = [registryChild] + serviceChildren + [gatewayChild]
        let group = ServiceGroup(configuration: ServiceGroupConfiguration(
            services: children.map { ServiceGroupConfiguration.ServiceConfiguration(service: $0, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup) },
            gracefulShutdownSignals: [.sigterm, .sigint],
            logger: Logger(label: "videobus.up")
        ))
        do {
            try await group.run()
        } catch {
            console.say("stopped: \(error)")
            throw ExitCode.failure
        }
        console.say("stopped")
    }

    /// SQLite under --data-dir, or a database of its own on the --postgres
    /// server. There the --postgres user owns and migrates it, and the
    /// service connects as a role of its own (`videobus_<service>`, created
    /// if missing, a fresh random password each run) that row-level security
    /// binds. Both URLs reach the child through its environment, never its
    /// command line, where `ps` would show the password.
    private func databaseSettings(for service: String) async throws -> (flags: [String], environment: [String: String]) {
        guard let postgres else {
            try FileManager.default.createDirectory(atPath: dataDir, withIntermediateDirectories: true)
            return (["--database-url", "file:\(dataDir)/\(service).db"], [:])
        }
        let name = "videobus_" + service.replacingOccurrences(of: "-", with: "_")
        let password = (0..<4).map { _ in String(UInt64.random(in: 0...UInt64.max), radix: 16) }.joined()
        let admin = try await openDatabase(DatabaseURL(postgres))
        do {
            let exists = try await admin.read { try $0.queryFirst("SELECT 1 AS x FROM pg_database WHERE datname = \(name)") != nil }
            if !exists { try await admin.withoutTransaction { try $0.execute("CREATE DATABASE \(raw: name)") } }
            try await admin.withoutTransaction { session in
                try session.executeScript("""
                    DO $$ BEGIN
                        CREATE ROLE \(name) LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
                    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                    END $$;
                    ALTER ROLE \(name) PASSWORD '\(password)'
                    """)
            }
        } catch {
            await admin.close()
            throw error
        }
        await admin.close()
        guard var owner = URLComponents(string: postgres) else { throw ValidationError("--postgres is not a URL") }
        owner.path = "/" + name
        var runtime = owner
        runtime.user = name
        runtime.password = password
        return ([], [
            ServiceCatalog.databaseVariable(for: service): runtime.string!,
            ServiceCatalog.migrationsDatabaseVariable(for: service): owner.string!,
        ])
    }
}

/// The secrets of one `up` run: a bus token and a registration credential
/// per service, written to the data directory for the registry (its
/// credentials file) and for the user's own commands (the token), both 0600.
struct BusSecrets {
    let local: LocalBus
    let token: String
    let credentials: [String: String]

    static func create(services: [String], in local: LocalBus) throws -> BusSecrets {
        try FileManager.default.createDirectory(at: local.directory, withIntermediateDirectories: true)
        let token = try busToken(nil) ?? randomSecret(words: 4)
        let credentials = Dictionary(uniqueKeysWithValues: services.map { ($0, randomSecret(words: 4)) })
        let lines = credentials.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        try LocalBus.writePrivate("# written by videobus up: one registration secret per service\n" + lines.joined(separator: "\n") + "\n", to: local.credentialsFile)
        try LocalBus.writePrivate(token + "\n", to: local.tokenFile)
        return BusSecrets(local: local, token: token, credentials: credentials)
    }

    /// Tells the user's commands where the registry listens (not a secret).
    func announce(registry: String) throws {
        try LocalBus.writePrivate(registry + "\n", to: local.registryFile)
    }

    /// Removes the files once the run is over: a later command must not find a dead bus's token.
    func remove() {
        for file in [local.tokenFile, local.registryFile, local.credentialsFile] {
            try? FileManager.default.removeItem(at: file)
        }
    }
}
