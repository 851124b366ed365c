import ServiceLifecycle
import Storage

/// Runs an outbox relay as a `Service`: until graceful shutdown, then stops
/// (pending events stay in the outbox for the next start).
public struct OutboxRelayService: Service {
    public let relay: OutboxRelay

    public init(relay: OutboxRelay) {
        self.relay = relay
    }

    public func run() async throws {
        try await cancelWhenGracefulShutdown {
            do {
                try await relay.run()
            } catch where Task.isCancelled || error is CancellationError {
                // Shutting down: whatever the relay was doing when cancelled is not a failure.
            }
        }
    }
}
