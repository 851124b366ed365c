import ServiceLifecycle

extension BusNode: Service {
    /// Runs the node until graceful shutdown is requested (SIGTERM/SIGINT in a
    /// `ServiceGroup`), then drains it.
    public func run() async throws {
        if localAddress == nil { try await start() }
        try? await gracefulShutdown()
        try await shutdown()
    }
}
