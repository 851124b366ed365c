import BusWire
import NIOCore
import NIOPosix
import Synchronization

/// One multiplexed connection to another node, over which any number of
/// calls are in flight at once.
public final class PeerConnection: Sendable {
    /// What the peer said about itself in the handshake.
    public let welcome: Welcome
    let channel: any Channel
    private let handler: NIOLoopBound<ClientConnectionHandler>
    private let defaultTimeout: TimeAmount

    private init(welcome: Welcome, channel: any Channel, handler: NIOLoopBound<ClientConnectionHandler>, status: ConnectionStatus, defaultTimeout: TimeAmount) {
        self.welcome = welcome
        self.status = status
        self.channel = channel
        self.handler = handler
        self.defaultTimeout = defaultTimeout
    }

    /// Connects to the node at `host:port` and completes the handshake.
    public static func connect(
        host: String,
        port: Int,
        configuration: BusNode.Configuration,
        group: any EventLoopGroup
    ) async throws -> PeerConnection {
        let peerName = "\(host):\(port)"
        let hello = Hello(node: configuration.identity, token: configuration.token, codecs: configuration.codecs, limits: configuration.limits)
        let eventLoop = group.next()
        let welcomePromise = eventLoop.makePromise(of: Welcome.self)
        let status = ConnectionStatus()
        // The handler, kept where it is made: looking it up later fails if the channel closed meanwhile.
        let madeHandler = eventLoop.makePromise(of: NIOLoopBound<ClientConnectionHandler>.self)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(configuration.connectTimeout)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let handler = ClientConnectionHandler(
                        hello: hello, welcome: welcomePromise, limits: configuration.limits,
                        compression: configuration.compression, peerName: peerName, status: status, allocator: channel.allocator
                    )
                    try channel.pipeline.syncOperations.addHandlers([
                        IdleStateHandler(readTimeout: configuration.keepAlive),
                        ByteToMessageHandler(FrameDecoder(limits: configuration.limits)),
                        handler,
                    ])
                    madeHandler.succeed(NIOLoopBound(handler, eventLoop: channel.eventLoop))
                }
            }
        let channel: any Channel
        do {
            channel = try await bootstrap.connect(host: host, port: port).get()
        } catch {
            welcomePromise.fail(error)
            madeHandler.fail(error)
            throw BusError(.unavailable, "cannot connect to \(peerName): \(error)")
        }
        // The handshake shares the connect timeout.
        let timeout = eventLoop.scheduleTask(in: configuration.connectTimeout) {
            welcomePromise.fail(BusError(.unavailable, "\(peerName) did not complete the handshake in time"))
        }
        do {
            let welcome = try await welcomePromise.futureResult.get()
            timeout.cancel()
            let handler = try await madeHandler.futureResult.get()
            return PeerConnection(welcome: welcome, channel: channel, handler: handler, status: status, defaultTimeout: configuration.defaultCallTimeout)
        } catch {
            timeout.cancel()
            try? await channel.close()
            throw error
        }
    }

    /// Calls `service.method` with a JSON body and returns the answer's body.
    ///
    /// - Throws: ``BusError`` with the peer's code, or `deadline-exceeded`,
    ///   `unavailable` (connection lost), `overloaded` (too many calls in flight).
    public func call(
        service: String,
        method: String,
        body: ByteBuffer = ByteBuffer(),
        timeout: TimeAmount? = nil,
        idempotencyKey: String? = nil,
        trace: String? = nil,
        identity: Identity? = nil
    ) async throws(BusError) -> ByteBuffer {
        let promise = channel.eventLoop.makePromise(of: ByteBuffer.self)
        var header = FrameHeader(kind: .request, service: service, method: method, idempotencyKey: idempotencyKey, trace: trace)
        header.carry(identity)
        call(header, body: body, deadline: .now() + (timeout ?? defaultTimeout), promise: promise)
        return try await Self.answer(promise)
    }

    /// Awaits a call's answer; a cancelled caller stops waiting at once (the
    /// call may still run at the peer, so the error is not retryable).
    static func answer(_ promise: EventLoopPromise<ByteBuffer>) async throws(BusError) -> ByteBuffer {
        do {
            return try await withTaskCancellationHandler {
                try await promise.futureResult.get()
            } onCancel: {
                // A later answer finds the promise completed and is dropped.
                promise.fail(BusError(.unavailable, "the caller cancelled the call", retryable: false))
            }
        } catch {
            throw error as? BusError ?? BusError(.internal, "\(error)")
        }
    }

    /// The event-loop-level call, for callers that chain futures instead of
    /// awaiting (the load-test harness). Safe from any thread.
    public func call(_ header: FrameHeader, body: ByteBuffer, deadline: NIODeadline, promise: EventLoopPromise<ByteBuffer>) {
        let handler = self.handler
        if handler.eventLoop.inEventLoop {
            handler.value.call(header, body: body, deadline: deadline, promise: promise)
        } else {
            handler.eventLoop.execute { handler.value.call(header, body: body, deadline: deadline, promise: promise) }
        }
    }

    /// Whether this side compresses the bodies it sends on this connection
    /// (decided at the handshake from the mode, the negotiated codecs and the link).
    public var compressesOutgoing: Bool { status.compressesOutgoing.load(ordering: .relaxed) }

    /// Calls awaiting answers on this connection right now.
    public var outstandingCalls: Int { status.outstanding.load(ordering: .relaxed) }

    /// Whether the peer sent go-away: it takes no new calls on this connection.
    public var isPeerDraining: Bool { status.peerDraining.load(ordering: .relaxed) }

    /// Whether the connection has closed (a call that failed on it may have been lost in transit).
    var isClosed: Bool { status.lost.load(ordering: .relaxed) || !channel.isActive }

    private let status: ConnectionStatus

    /// The event loop this connection's I/O runs on.
    public var eventLoop: any EventLoop { channel.eventLoop }

    /// Whether the connection is open and the peer is not draining.
    public var isUsable: Bool {
        get async {
            let handler = self.handler
            return (try? await handler.eventLoop.submit { handler.value.acceptsCalls }.get()) ?? false
        }
    }

    /// Resolves when the connection has closed, for whatever reason.
    public var closeFuture: EventLoopFuture<Void> { channel.closeFuture }

    public func close() async {
        try? await channel.close()
    }
}

/// What balancers need to know of a connection, written by its handler on the
/// event loop and read anywhere: unanswered calls, and whether the peer is draining.
final class ConnectionStatus: Sendable {
    let outstanding = Atomic<Int>(0)
    let peerDraining = Atomic<Bool>(false)
    /// Set before the calls of a failed connection are failed, so that callers
    /// deciding on a retry already see the connection as lost.
    let lost = Atomic<Bool>(false)
    /// Whether bodies sent on the connection are compressed (set at the welcome).
    let compressesOutgoing = Atomic<Bool>(false)
}
