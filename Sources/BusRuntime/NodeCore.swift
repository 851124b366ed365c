import BusWire
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// The state every connection of a serving node shares: configuration, the
/// method table (frozen when the node starts), and node-wide counters.
final class NodeCore: Sendable {
    let configuration: BusNode.Configuration
    let methods: [String: MethodHandler]
    let subscriptions: [String: EventHandler]
    let logger: Logger
    let metrics: RequestMetrics
    let startedAt = NIODeadline.now()

    private let inFlight = Atomic<Int>(0)
    private let draining = Atomic<Bool>(false)
    private let connections = NIOLockedValueBox<[ObjectIdentifier: NIOLoopBound<ServerConnectionHandler>]>([:])

    init(configuration: BusNode.Configuration, methods: [String: MethodHandler], subscriptions: [String: EventHandler], logger: Logger) {
        self.configuration = configuration
        self.methods = methods
        self.subscriptions = subscriptions
        self.metrics = RequestMetrics(service: configuration.identity.service)
        self.logger = logger
    }

    /// Takes a node-wide in-flight slot, or returns false when all are taken.
    func admit() -> Bool {
        let taken = inFlight.add(1, ordering: .relaxed).newValue
        if taken > configuration.maxInFlightPerNode {
            inFlight.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func release() {
        inFlight.subtract(1, ordering: .relaxed)
    }

    var requestsInFlight: Int { inFlight.load(ordering: .relaxed) }

    var isDraining: Bool { draining.load(ordering: .relaxed) }

    func connectionOpened(_ handler: NIOLoopBound<ServerConnectionHandler>) {
        connections.withLockedValue { $0[ObjectIdentifier(handler.value)] = handler }
    }

    func connectionClosed(_ id: ObjectIdentifier) {
        _ = connections.withLockedValue { $0.removeValue(forKey: id) }
    }

    /// Closes every accepted connection (after draining).
    func closeConnections() {
        for handler in connections.withLockedValue({ Array($0.values) }) {
            handler.eventLoop.execute { handler.value.close() }
        }
    }

    /// Stops taking new requests and tells every peer so.
    func startDraining() {
        draining.store(true, ordering: .relaxed)
        for handler in connections.withLockedValue({ Array($0.values) }) {
            handler.eventLoop.execute { handler.value.sendGoAway() }
        }
    }
}
