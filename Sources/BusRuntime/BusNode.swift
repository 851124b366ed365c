import BusWire
import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix


/// One node of the bus per process: it serves its service's methods to peers
/// and opens connections to call other nodes.
///
/// Register methods, then ``start()``; ``shutdown()`` drains: peers are told
/// to go away, work in flight finishes (within a grace period), then the
/// listener and connections close.
public final class BusNode: Sendable {
    public let configuration: Configuration
    public let group: any EventLoopGroup
    private let ownsGroup: Bool
    private let logger: Logger
    private let state = NIOLockedValueBox(State())
    /// Discovery and registration; nil when no registry is configured.
    let registry: RegistryClient?
    let pool: PeerPool
    let retryBudget = RetryBudget()

    private struct State {
        var methods: [String: MethodHandler] = [:]
        var longPollMethods: Set<String> = []
        var subscriptions: [String: EventHandler] = [:]
        var drainHooks: [@Sendable () async -> Void] = []
        var core: NodeCore?
        var listener: (any Channel)?
        var isRegistered = false
    }

    /// - Parameter group: event loops to run on; by default the node makes
    ///   one thread per core and shuts it down with the node.
    public init(configuration: Configuration, group: (any EventLoopGroup)? = nil, logger: Logger? = nil) {
        self.configuration = configuration
        self.group = group ?? MultiThreadedEventLoopGroup(numberOfThreads: System.coreCount)
        self.ownsGroup = group == nil
        var logger = logger ?? Logger(label: "videobus.\(configuration.identity.service)")
        logger[metadataKey: "instance"] = "\(configuration.identity.instance)"
        self.logger = logger
        self.pool = PeerPool(configuration: configuration, group: self.group)
        self.registry = configuration.registries.isEmpty
            ? nil : RegistryClient(addresses: configuration.registries, configuration: configuration, group: self.group, logger: logger)
    }

    /// Methods every node serves, whatever its service.
    public static let systemMethods: Set<String> = ["ping", "echo", "info"]

    /// Adds a method. Only before ``start()``; names in ``systemMethods`` are reserved.
    ///
    /// - Parameter longPoll: the method holds its answer until something
    ///   changes (a watch). Its requests take no in-flight slot, so held polls
    ///   never starve other requests; instead they are bounded by
    ///   ``Configuration/maxLongPollsPerConnection`` and
    ///   ``Configuration/maxLongPollsPerNode``, beyond which they are answered `overloaded`.
    public func register(_ method: String, longPoll: Bool = false, _ handler: MethodHandler) {
        precondition(!Self.systemMethods.contains(method), "\(method) is a system method")
        state.withLockedValue {
            precondition($0.core == nil, "register methods before starting the node")
            $0.methods[method] = handler
            if longPoll { $0.longPollMethods.insert(method) } else { $0.longPollMethods.remove(method) }
        }
    }

    /// Handles the events of `topic` published anywhere on the bus. Only before
    /// ``start()``. The node's group is its service: each event reaches one
    /// instance of each subscribing service.
    public func subscribe(_ topic: String, _ handler: @escaping EventHandler) {
        state.withLockedValue {
            precondition($0.core == nil, "subscribe before starting the node")
            $0.subscriptions[topic] = handler
        }
    }

    /// The topics this node consumes, as ``subscribe(_:_:)`` added them.
    public var subscribedTopics: [String] {
        state.withLockedValue { Array($0.subscriptions.keys) }
    }

    /// Runs `hook` when the node starts draining, after it stopped taking new
    /// requests: for work that would otherwise hold the drain up (long polls).
    public func onDrain(_ hook: @escaping @Sendable () async -> Void) {
        state.withLockedValue { $0.drainHooks.append(hook) }
    }

    /// Starts listening; returns the bound address (the real port when 0 was asked).
    @discardableResult
    public func start() async throws -> SocketAddress {
        // Protected mode (as Redis's): a bus without a token is safe only where nobody else can reach it.
        if configuration.token == nil, !Self.isLoopback(configuration.host) {
            throw BusError(.invalidArgument, "refusing to listen on \(configuration.host) without a bus token: set VIDEOBUS_TOKEN or --token (or listen on 127.0.0.1)", retryable: false)
        }
        let core = state.withLockedValue { state -> NodeCore in
            precondition(state.core == nil, "the node is already started")
            var methods = state.methods
            SystemMethods.install(into: &methods, configuration: configuration, node: self)
            let core = NodeCore(configuration: configuration, methods: methods, longPollMethods: state.longPollMethods, subscriptions: state.subscriptions, logger: logger)
            state.core = core
            return core
        }
        let limits = configuration.limits
        let keepAlive = configuration.keepAlive
        let listener = try await ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 256)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    guard core.admitConnection() else {
                        // One connection too many: say so (cheaply, without a handler) and close.
                        ServerConnectionHandler.refuseOverLimit(channel, core: core)
                        return
                    }
                    channel.closeFuture.whenComplete { _ in core.releaseConnection() }
                    let handler = ServerConnectionHandler(core: core, allocator: channel.allocator)
                    let (id, connectionID) = (ObjectIdentifier(handler), handler.connectionID)
                    channel.closeFuture.whenComplete { _ in core.connectionClosed(id, connectionID: connectionID) }
                    try channel.pipeline.syncOperations.addHandlers([
                        IdleStateHandler(readTimeout: keepAlive * 3),
                        ByteToMessageHandler(FrameDecoder(limits: limits, firstFrameMaxBytes: WireLimits.maxHelloBytes)),
                        handler,
                    ])
                }
            }
            .bind(host: configuration.host, port: configuration.port)
            .get()
        let address = listener.localAddress!
        state.withLockedValue {
            $0.listener = listener
            $0.isRegistered = registry != nil
        }
        if let registry {
            let identity = configuration.identity
            let record = RegistryProtocol.InstanceRecord(
                service: identity.service, instance: identity.instance,
                host: configuration.advertisedHost ?? address.ipAddress ?? configuration.host, port: address.port!,
                version: identity.version, methods: core.methods.keys.sorted(),
                subscriptions: core.subscriptions.keys.sorted()
            )
            registry.startRegistration(record, inFlight: { core.requestsInFlight })
            registry.startWatching()
        }
        logger.info("serving \(configuration.identity.service)", metadata: ["address": "\(address)"])
        return address
    }

    /// Whether `host` names only this machine: `localhost`, 127.0.0.0/8 or `::1`.
    public static func isLoopback(_ host: String) -> Bool {
        let host = host.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).lowercased()
        if host == "localhost" || host == "::1" || host == "0:0:0:0:0:0:0:1" { return true }
        let octets = host.split(separator: ".", omittingEmptySubsequences: false)
        return octets.count == 4 && octets[0] == "127" && octets.allSatisfy { UInt8($0) != nil }
    }

    /// The address the node listens on, once started.
    public var localAddress: SocketAddress? {
        state.withLockedValue { $0.listener?.localAddress }
    }

    /// Connections accepted and open right now.
    public var connectionCount: Int {
        state.withLockedValue { $0.core?.connectionCount ?? 0 }
    }

    /// Long polls (watches) held right now, across all connections.
    public var longPollsOutstanding: Int {
        state.withLockedValue { $0.core?.longPollsOutstanding ?? 0 }
    }

    /// Requests being served right now, across all connections.
    public var requestsInFlight: Int {
        state.withLockedValue { $0.core?.requestsInFlight ?? 0 }
    }

    /// Whether the accepted connection `id` (a ``RequestContext/connectionID``)
    /// is still open; 0 (in process) always is, and every id is closed once
    /// the node has stopped. For state owned by a connection (registry records).
    public func isConnectionOpen(_ id: UInt64) -> Bool {
        guard id != 0 else { return true }
        return state.withLockedValue { $0.core?.isConnectionOpen(id) ?? false }
    }

    /// Starts discovery (once) for calls and publishing.
    func startDiscoveryIfNeeded() {
        registry?.startWatching()
    }

    /// Opens a connection to another node.
    public func connect(host: String, port: Int) async throws -> PeerConnection {
        try await PeerConnection.connect(host: host, port: port, configuration: configuration, group: group)
    }

    /// Drains, then stops: new requests are refused with `unavailable`, peers
    /// get go-away, requests in flight finish (or `grace` runs out), and the
    /// node closes its listener and connections.
    public func shutdown(grace: TimeAmount = .seconds(10)) async throws {
        let (core, listener, isRegistered) = state.withLockedValue { ($0.core, $0.listener, $0.isRegistered) }
        let instance = configuration.identity.instance
        if let core {
            // Callers route around a draining instance; then its peers are told to go away.
            if isRegistered { await registry?.announceDraining(instance: instance, inFlight: core.requestsInFlight) }
            core.startDraining()
            for hook in state.withLockedValue({ $0.drainHooks }) { await hook() }
            let deadline = NIODeadline.now() + grace
            while core.requestsInFlight > 0, NIODeadline.now() < deadline, !Task.isCancelled {
                try? await Task.sleep(for: .milliseconds(5))
            }
            if core.requestsInFlight > 0 {
                logger.warning("stopping with requests still in flight", metadata: ["in-flight": "\(core.requestsInFlight)"])
            }
        }
        await registry?.stop(deregistering: isRegistered ? instance : nil)
        try? await listener?.close()
        core?.closeConnections()
        await pool.closeAll()
        if ownsGroup { try await group.shutdownGracefully() }
    }
}
