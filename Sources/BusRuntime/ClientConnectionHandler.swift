import BusWire
import Foundation
import NIOCore

/// The connecting side of a connection: sends the hello, then carries calls,
/// many at once, matching answers to calls by id in whatever order they come.
final class ClientConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = ByteBuffer

    private enum State {
        case handshaking(hello: Hello, welcome: EventLoopPromise<Welcome>)
        case ready(peerLimits: WireLimits)
        /// The peer sent go-away: no new calls; outstanding ones still get answers.
        case peerDraining
        case closed(BusError)
    }

    private struct PendingCall {
        var promise: EventLoopPromise<ByteBuffer>
        var timeout: Scheduled<Void>
    }

    private var state: State
    private var pending: [UInt64: PendingCall] = [:] {
        didSet { status.outstanding.store(pending.count, ordering: .relaxed) }
    }
    /// Calls awaiting answers and the peer's draining, readable from any thread (for balancing).
    private let status: ConnectionStatus
    private var nextID: UInt64 = 1
    private var outbox: FrameOutbox
    private let inflater: BodyInflater
    private let peerName: String
    private var context: ChannelHandlerContext?

    init(hello: Hello, welcome: EventLoopPromise<Welcome>, limits: WireLimits, compression: CompressionPolicy, peerName: String, status: ConnectionStatus, allocator: ByteBufferAllocator) {
        self.status = status
        self.state = .handshaking(hello: hello, welcome: welcome)
        self.inflater = BodyInflater(limits: limits)
        self.outbox = FrameOutbox(encoder: FrameEncoder(compression: nil), allocator: allocator)
        self.compression = compression
        self.peerName = peerName
    }

    private let compression: CompressionPolicy
    /// When the hello was flushed: the welcome's arrival gives the link's round trip.
    private var helloSentAt: NIODeadline?

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        if context.channel.isActive { sendHello(context: context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        sendHello(context: context)
        context.fireChannelActive()
    }

    private var helloSent = false

    private func sendHello(context: ChannelHandlerContext) {
        guard !helloSent, case .handshaking(let hello, _) = state else { return }
        helloSent = true
        try? outbox.append(Frame(header: FrameHeader(kind: .hello), body: ByteBuffer(bytes: try! JSONEncoder().encode(hello))))
        outbox.flush(context)
        helloSentAt = .now()
    }

    /// A ping went out because the connection was silent; unanswered by the
    /// next silent period, the peer is taken for dead.
    private var awaitingPong = false

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read else {
            return context.fireUserInboundEventTriggered(event)
        }
        // The handshake has its own timeout (the connect timeout).
        if case .handshaking = state { return }
        if awaitingPong {
            fail(BusError(.unavailable, "\(peerName) stopped answering (no pong to a keep-alive ping)", retryable: false), context: context)
        } else {
            awaitingPong = true
            ping()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        awaitingPong = false
        switch (state, frame.header.kind) {
        case (.handshaking(let hello, let promise), .welcome):
            guard let welcome = try? JSONDecoder().decode(Welcome.self, from: Data(inflater.body(of: frame).readableBytesView)),
                hello.versions.contains(welcome.version)
            else {
                return fail(BusError(.protocolError, "\(peerName) sent an invalid welcome"), context: context)
            }
            // Compress only if deflate was negotiated and the link is slow enough to pay for it (§12).
            let roundTrip = helloSentAt.map { NIODeadline.now() - $0 }
            let peerIsLocal = CompressionPolicy.isLocal(remote: context.channel.remoteAddress, local: context.channel.localAddress)
            let compresses = welcome.codecs.contains(Codec.deflate) && compression.compressesOutgoing(peerIsLocal: peerIsLocal, roundTrip: roundTrip)
            outbox.encoder = FrameEncoder(peerLimits: welcome.limits, compression: compresses ? compression : nil)
            status.compressesOutgoing.store(compresses, ordering: .relaxed)
            state = .ready(peerLimits: welcome.limits)
            promise.succeed(welcome)
        case (_, .error):
            // Calls in flight may have run: whatever the frame says, they are not safe to repeat.
            let error = frame.header.error ?? BusError(.protocolError, "\(peerName) sent an error frame without an error")
            failEverything(BusError(error.code, error.message, retryable: false))
            context.close(promise: nil)
        case (.ready, .response), (.peerDraining, .response), (.ready, .eventAck), (.peerDraining, .eventAck):
            complete(frame)
        case (.ready, .goAway):
            state = .peerDraining
            status.peerDraining.store(true, ordering: .relaxed)
        case (.ready, .pong), (.peerDraining, .pong), (.peerDraining, .goAway):
            break
        // Either side may ping, call or publish (spec §4); this side serves nothing, and says so.
        case (.ready, .ping), (.peerDraining, .ping):
            answer(Frame(header: FrameHeader(kind: .pong, id: frame.header.id)), context: context)
        case (.ready, .request), (.peerDraining, .request):
            answer(Frame(header: FrameHeader(kind: .response, id: frame.header.id, error: BusError(.unimplemented, "this connection's caller serves no methods"))), context: context)
        case (.ready, .event), (.peerDraining, .event):
            answer(Frame(header: FrameHeader(kind: .eventAck, id: frame.header.id, error: BusError(.unimplemented, "this connection's caller takes no events"))), context: context)
        case (.closed, _):
            break
        default:
            let error = BusError(.protocolError, "\(peerName) sent an unexpected \(frame.header.kind.rawValue) frame")
            try? outbox.append(Frame(header: FrameHeader(kind: .error, error: error)))
            outbox.flush(context)
            fail(error, context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        // Calls in flight may have run before the connection went: not retryable.
        failEverything(BusError(.unavailable, "connection to \(peerName) closed", retryable: false))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let error = error as? WireError {
            fail(BusError(error.code, "from \(peerName): \(error.description)", retryable: false), context: context)
        } else {
            fail(BusError(.unavailable, "connection to \(peerName) failed: \(error)", retryable: false), context: context)
        }
    }

    // MARK: - Calls

    /// Whether new calls can be sent on this connection.
    var acceptsCalls: Bool {
        if case .ready = state { return true }
        return false
    }

    var outstandingCalls: Int { pending.count }

    /// Sends a request (or an event) and completes `promise` with the answer's
    /// plain body (empty for an event ack), or fails it with a ``BusError``.
    /// Never waits past `deadline`.
    func call(_ header: FrameHeader, body: ByteBuffer, deadline: NIODeadline, promise: EventLoopPromise<ByteBuffer>) {
        guard let context else { return promise.fail(BusError(.unavailable, "connection to \(peerName) is closed")) }
        let peerLimits: WireLimits
        switch state {
        case .ready(let limits): peerLimits = limits
        case .peerDraining: return promise.fail(BusError(.unavailable, "\(peerName) is draining"))
        case .closed(let error): return promise.fail(BusError(.unavailable, "connection to \(peerName) is closed: \(error.message)"))
        case .handshaking: return promise.fail(BusError(.unavailable, "connection to \(peerName) is not ready"))
        }
        guard pending.count < peerLimits.maxInFlight else {
            return promise.fail(BusError(.overloaded, "\(pending.count) calls already in flight to \(peerName) (its max_in_flight)"))
        }
        let remaining = deadline - .now()
        guard remaining > .zero else { return promise.fail(BusError(.deadlineExceeded, "deadline passed before the call was sent")) }

        var header = header
        header.id = nextID
        nextID += 1
        if header.kind == .request {
            // Round up, so that the peer never sees less time than there is.
            header.timeoutMilliseconds = UInt64((remaining.nanoseconds + 999_999) / 1_000_000)
        }
        do {
            try outbox.append(Frame(header: header, body: body))
        } catch {
            return promise.fail(BusError(error.code, error.message, retryable: false))
        }
        let id = header.id
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let timeout = context.eventLoop.scheduleTask(deadline: deadline) {
            loopBound.value.expire(id)
        }
        pending[id] = PendingCall(promise: promise, timeout: timeout)
        if outbox.isFull {
            outbox.flush(context)
        } else {
            scheduleFlush(context)
        }
    }

    private func expire(_ id: UInt64) {
        guard let call = pending.removeValue(forKey: id) else { return }
        call.promise.fail(BusError(.deadlineExceeded, "no answer from \(peerName) before the deadline", retryable: false))
    }

    private func complete(_ frame: Frame) {
        // An answer to a call that already timed out is dropped.
        guard let call = pending.removeValue(forKey: frame.header.id) else { return }
        call.timeout.cancel()
        if let error = frame.header.error {
            return call.promise.fail(error)
        }
        do {
            call.promise.succeed(try inflater.body(of: frame))
        } catch {
            call.promise.fail(BusError(error.code, "response from \(peerName): \(error.description)", retryable: false))
        }
    }

    // MARK: - Writing and failing

    private func scheduleFlush(_ context: ChannelHandlerContext) {
        guard !outbox.isFlushScheduled else { return }
        outbox.isFlushScheduled = true
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            guard let context = loopBound.value.context else { return }
            loopBound.value.outbox.flush(context)
        }
    }

    private func answer(_ frame: Frame, context: ChannelHandlerContext) {
        try? outbox.append(frame)
        scheduleFlush(context)
    }

    func ping() {
        // Also while the peer drains: its answers to our calls are still coming.
        guard let context else { return }
        switch state {
        case .ready, .peerDraining: break
        case .handshaking, .closed: return
        }
        try? outbox.append(Frame(header: FrameHeader(kind: .ping, id: 0)))
        scheduleFlush(context)
    }

    private func fail(_ error: BusError, context: ChannelHandlerContext) {
        failEverything(error)
        context.close(promise: nil)
    }

    private func failEverything(_ error: BusError) {
        status.lost.store(true, ordering: .relaxed)
        if case .handshaking(_, let welcome) = state { welcome.fail(error) }
        if case .closed = state {} else { state = .closed(error) }
        let calls = pending
        pending.removeAll()
        for call in calls.values {
            call.timeout.cancel()
            call.promise.fail(error)
        }
    }
}
