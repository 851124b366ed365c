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
    /// Methods that hold their answer until something changes (see ``BusNode/register(_:longPoll:_:)``).
    let longPollMethods: Set<String>
    let subscriptions: [String: EventHandler]
    let logger: Logger
    let metrics: RequestMetrics
    let startedAt = NIODeadline.now()

    private let inFlight = Atomic<Int>(0)
    private let draining = Atomic<Bool>(false)
    private let connections = NIOLockedValueBox<[ObjectIdentifier: NIOLoopBound<ServerConnectionHandler>]>([:])

    private let longPolls = Atomic<Int>(0)
    private let openConnections = Atomic<Int>(0)
    private let connectionSerial = Atomic<UInt64>(0)

    /// Ids of the accepted connections not yet closed: the registry asks
    /// whether the connection that owns a record is still there.
    private let openConnectionIDs = NIOLockedValueBox<Set<UInt64>>([])

    /// A fresh connection id (from 1), for ``RequestContext/connectionID``;
    /// open until ``connectionClosed(_:connectionID:)``.
    func nextConnectionID() -> UInt64 {
        let id = connectionSerial.add(1, ordering: .relaxed).newValue
        openConnectionIDs.withLockedValue { _ = $0.insert(id) }
        return id
    }

    /// Whether the accepted connection `id` is still open (0, in process, always is).
    func isConnectionOpen(_ id: UInt64) -> Bool {
        id == 0 || openConnectionIDs.withLockedValue { $0.contains(id) }
    }

    init(configuration: BusNode.Configuration, methods: [String: MethodHandler], longPollMethods: Set<String> = [], subscriptions: [String: EventHandler], logger: Logger) {
        self.configuration = configuration
        self.methods = methods
        self.longPollMethods = longPollMethods
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

    /// Takes a node-wide long-poll slot, or returns false when all are taken.
    func admitLongPoll() -> Bool {
        if longPolls.add(1, ordering: .relaxed).newValue > configuration.maxLongPollsPerNode {
            longPolls.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func releaseLongPoll() {
        longPolls.subtract(1, ordering: .relaxed)
    }

    var longPollsOutstanding: Int { longPolls.load(ordering: .relaxed) }

    /// Counts an accepted connection in, or returns false at `maxConnections`.
    func admitConnection() -> Bool {
        if openConnections.add(1, ordering: .relaxed).newValue > configuration.maxConnections {
            openConnections.subtract(1, ordering: .relaxed)
            return false
        }
        return true
    }

    func releaseConnection() {
        openConnections.subtract(1, ordering: .relaxed)
    }

    /// Accepted connections open right now.
    var connectionCount: Int { openConnections.load(ordering: .relaxed) }

    var isDraining: Bool { draining.load(ordering: .relaxed) }

    func connectionOpened(_ handler: NIOLoopBound<ServerConnectionHandler>) {
        connections.withLockedValue { $0[ObjectIdentifier(handler.value)] = handler }
    }

    func connectionClosed(_ id: ObjectIdentifier, connectionID: UInt64) {
        _ = connections.withLockedValue { $0.removeValue(forKey: id) }
        _ = openConnectionIDs.withLockedValue { $0.remove(connectionID) }
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
