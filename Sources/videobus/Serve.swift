import ArgumentParser
import BusRuntime
import Logging
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// `videobus serve SERVICE`: runs one service's node until SIGTERM/SIGINT, then drains.
struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run a service's node until SIGTERM or SIGINT, then drain and exit.",
        discussion: "Services: echo (only the system methods ping, echo, info; the load-test target)."
    )

    @Argument(help: "The service to run.")
    var service: String

    @OptionGroup var node: NodeOptions

    @OptionGroup var registry: RegistryOptions

    @Flag(help: "Do not register with any registry (reachable only by address).")
    var standalone = false

    @Flag(help: ArgumentHelp("Drain and exit when the parent process exits (for harnesses and supervisors).", visibility: .hidden))
    var exitWithParent = false

    static let services = ["echo"]

    func validate() throws {
        guard Self.services.contains(service) else {
            throw ValidationError("unknown service \(service); known: \(Self.services.joined(separator: ", "))")
        }
    }

    func run() async throws {
        node.bootstrapLogging()
        let logger = Logger(label: "videobus.\(service)")
        let group = MultiThreadedEventLoopGroup(numberOfThreads: node.threads)
        var configuration = node.configuration(service: service)
        configuration.registries = standalone ? [] : registry.addresses
        let busNode = BusNode(configuration: configuration, group: group, logger: logger)
        let address = try await busNode.start()
        // The first line on stdout tells a parent process (the load-test harness) where we listen.
        printLine("videobus: \(service) listening on \(address.ipAddress ?? node.host):\(address.port ?? 0)")
        let metrics = try await node.startMetricsEndpoint(group: group)
        if exitWithParent { watchParent() }
        let services = ServiceGroup(services: [busNode], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await services.run()
        try? await metrics?.close()
        try await group.shutdownGracefully()
    }

    /// Sends ourselves SIGTERM (a graceful drain) once the parent is gone, so a
    /// crashed harness leaves no server behind.
    private func watchParent() {
        let parent = getppid()
        Task.detached {
            while getppid() == parent {
                try? await Task.sleep(for: .milliseconds(200))
            }
            kill(getpid(), SIGTERM)
        }
    }
}
