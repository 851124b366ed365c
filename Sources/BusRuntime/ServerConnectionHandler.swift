import BusWire
import Foundation
import Logging
import NIOCore

/// The accepting side of a connection: answers the handshake, then serves
/// requests with the node's methods, many at once, answered as they finish.
final class ServerConnectionHandler: ChannelInboundHandler {
    typealias InboundIn = Frame
    typealias OutboundOut = ByteBuffer

    private enum State {
        case awaitingHello
        case ready(peer: NodeIdentity)
        case closed
    }

    private let core: NodeCore
    private var state = State.awaitingHello
    private var outbox: FrameOutbox
    private let inflater: BodyInflater
    /// Requests of this connection being worked on.
    private var inFlight = 0
    /// Long polls of this connection being held (they take no in-flight slot).
    private var longPolls = 0
    /// Tasks of async handlers (long polls included) still running, with the
    /// timer that cancels each at its deadline. All are cancelled when the
    /// connection closes: nobody is left to answer, and a closed peer's work
    /// must not hold in-flight slots or the long-poll budget.
    private var handlerTasks: [UInt64: (task: Task<Void, Never>, deadline: Scheduled<Void>?)] = [:]
    private var context: ChannelHandlerContext?
    /// Closes a connection whose hello has not arrived in time.
    private var handshakeTimer: Scheduled<Void>?

    /// Unique within the node: handlers bound per-peer resources by it.
    let connectionID: UInt64

    init(core: NodeCore, allocator: ByteBufferAllocator) {
        self.core = core
        self.connectionID = core.nextConnectionID()
        self.inflater = BodyInflater(limits: core.configuration.limits)
        // Until the hello says otherwise, assume the protocol's defaults and no compression.
        self.outbox = FrameOutbox(encoder: FrameEncoder(compression: nil), allocator: allocator)
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        core.connectionOpened(NIOLoopBound(self, eventLoop: context.eventLoop))
        // A hello trickled a byte at a time must not hold the connection forever.
        let timeout = core.configuration.handshakeTimeout
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        handshakeTimer = context.eventLoop.scheduleTask(in: timeout) {
            loopBound.value.handshakeTimedOut(after: timeout)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        handshakeTimer?.cancel()
        handshakeTimer = nil
        self.context = nil
    }

    private func handshakeTimedOut(after timeout: TimeAmount) {
        guard case .awaitingHello = state, let context else { return }
        core.logger.debug("closing a connection that sent no hello within handshake_timeout")
        refuse(BusError(.deadlineExceeded, "no hello within handshake_timeout \(timeout.nanoseconds / 1_000_000) ms"), context: context)
    }

    /// Answers a connection beyond `max_connections` with an `error` frame and
    /// closes it; it gets no connection handler and no frame decoder.
    static func refuseOverLimit(_ channel: any Channel, core: NodeCore) {
        let error = BusError(.overloaded, "\(core.configuration.identity.instance) holds max_connections \(core.configuration.maxConnections) connections")
        try? channel.pipeline.syncOperations.addHandler(OverLimitRefusal(error: error))
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        switch state {
        case .awaitingHello:
            handshake(frame, context: context)
        case .ready:
            switch frame.header.kind {
            case .request: serve(frame, context: context)
            case .event: deliver(frame, context: context)
            case .ping: send(Frame(header: FrameHeader(kind: .pong, id: frame.header.id)))
            case .pong: measured(frame.header.id)
            case .goAway: break
            case .error: context.close(promise: nil)
            default: refuse(BusError(.protocolError, "a \(frame.header.kind.rawValue) frame is not expected by a serving node"), context: context)
            }
        case .closed:
            break
        }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        outbox.flush(context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        state = .closed
        for (task, deadline) in handlerTasks.values {
            deadline?.cancel()
            task.cancel()
        }
        handlerTasks.removeAll()
        context.fireChannelInactive()
    }

    /// While the peer does not read our answers, stop reading its requests:
    /// the socket's buffers, not ours, absorb a slow reader.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        try? context.channel.syncOptions?.setOption(.autoRead, value: context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    /// Peers ping an idle connection every keep-alive period; a connection
    /// silent for three is half-open (the peer vanished): close it.
    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            core.logger.debug("closing a connection silent for three keep-alive periods")
            context.close(promise: nil)
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: Error) {
        if let wireError = error as? WireError {
            refuse(BusError(wireError), context: context)
        } else {
            context.close(promise: nil)
        }
    }

    // MARK: - Handshake

    private func handshake(_ frame: Frame, context: ChannelHandlerContext) {
        handshakeTimer?.cancel()
        handshakeTimer = nil
        guard frame.header.kind == .hello else {
            return refuse(BusError(.protocolError, "the first frame must be a hello, not \(frame.header.kind.rawValue)"), context: context)
        }
        let hello: Hello
        do {
            hello = try JSONDecoder().decode(Hello.self, from: Data(inflater.body(of: frame).readableBytesView))
        } catch {
            return refuse(BusError(.protocolError, "hello body is not a valid hello object"), context: context)
        }
        guard hello.versions.contains(Int(FramePrefix.version)) else {
            return refuse(BusError(.unsupportedVersion, "versions \(hello.versions) offered; this node speaks \(FramePrefix.version)"), context: context)
        }
        if let token = core.configuration.token, !constantTimeEquals(hello.token ?? "", token) {
            core.logger.warning("refused a peer with a wrong token", metadata: ["peer": "\(escapedForLog(hello.node.instance))"])
            return refuse(BusError(.unauthenticated, "invalid token"), context: context)
        }
        let codecs = hello.codecs.filter { core.configuration.codecs.contains($0) }
        let welcome = Welcome(version: Int(FramePrefix.version), node: core.configuration.identity, codecs: codecs, limits: core.configuration.limits)
        // Compression per connection (§12): in auto mode, not to a peer on this
        // host, and to others only once a ping's round trip says the link is slow.
        let compression = core.configuration.compression
        let peerIsLocal = CompressionPolicy.isLocal(remote: context.channel.remoteAddress, local: context.channel.localAddress)
        let negotiated = codecs.contains(Codec.deflate)
        peerLimits = hello.limits
        outbox.encoder = FrameEncoder(
            peerLimits: hello.limits,
            compression: negotiated && compression.compressesOutgoing(peerIsLocal: peerIsLocal, roundTrip: nil) ? compression : nil
        )
        state = .ready(peer: hello.node)
        send(Frame(header: FrameHeader(kind: .welcome), body: ByteBuffer(bytes: try! JSONEncoder().encode(welcome))))
        // A peer that connects while we drain is told at once.
        if core.isDraining { send(Frame(header: FrameHeader(kind: .goAway))) }
        if negotiated, compression.mode == .auto, !peerIsLocal {
            roundTripPingSentAt = .now()
            send(Frame(header: FrameHeader(kind: .ping, id: Self.roundTripPingID)))
        }
    }

    /// The id of the ping that measures the link after the welcome (this side sends no other ping).
    private static let roundTripPingID: UInt64 = 1
    private var roundTripPingSentAt: NIODeadline?
    private var peerLimits = WireLimits.default

    /// A pong came: if it answers the round-trip ping, decide whether to compress from it.
    private func measured(_ id: UInt64) {
        guard id == Self.roundTripPingID, let sentAt = roundTripPingSentAt else { return }
        roundTripPingSentAt = nil
        let compression = core.configuration.compression
        if compression.compressesOutgoing(peerIsLocal: false, roundTrip: .now() - sentAt) {
            outbox.encoder = FrameEncoder(peerLimits: peerLimits, compression: compression)
        }
    }

    // MARK: - Requests

    private func serve(_ frame: Frame, context: ChannelHandlerContext) {
        let header = frame.header
        let id = header.id
        let arrived = NIODeadline.now()
        // Names come from the peer: unknown ones share one label, so no peer can grow the metrics without bound.
        let method = header.method.flatMap { core.methods[$0] == nil ? nil : $0 } ?? "_unknown"
        let metrics = core.metrics
        let isLongPoll = core.longPollMethods.contains(method)
        if let refusal = isLongPoll ? admitLongPoll() : admitWork() {
            metrics.record(method: method, outcome: refusal, since: arrived)
            return answer(id, .failure(refusal))
        }
        var released = false
        func complete(_ result: Result<ByteBuffer, BusError>) {
            precondition(!released)
            released = true
            if isLongPoll { releaseLongPoll() } else { releaseWork() }
            if case .failure(let error) = result {
                metrics.record(method: method, outcome: error, since: arrived)
            } else {
                metrics.record(method: method, outcome: nil, since: arrived)
            }
            answer(id, result)
        }

        let deadline = header.timeoutMilliseconds.map { NIODeadline.now() + .milliseconds(Int64(min($0, UInt64(Int64.max / 1_000_000)))) }
        if header.timeoutMilliseconds == 0 {
            return complete(.failure(BusError(.deadlineExceeded, "the request arrived with no time left")))
        }
        let body: ByteBuffer
        do {
            body = try inflater.body(of: frame)
        } catch {
            return complete(.failure(BusError(error.code, error.description, retryable: false)))
        }
        guard let service = header.service, let method = header.method else {
            return complete(.failure(BusError(.invalidArgument, "a request needs service and method")))
        }
        guard service == core.configuration.identity.service else {
            return complete(.failure(BusError(.unimplemented, "\(core.configuration.identity.instance) serves \(core.configuration.identity.service), not \(service)")))
        }
        guard let handler = core.methods[method] else {
            return complete(.failure(BusError(.unimplemented, "\(service) has no method \(method)")))
        }
        let requestContext = RequestContext(
            requestID: id, service: service, method: method, deadline: deadline,
            idempotencyKey: header.idempotencyKey, trace: header.trace, identity: Identity(header: header),
            connectionID: connectionID, logger: core.logger
        )

        switch handler {
        case .inline(let run):
            complete(Result { try run(body, requestContext) }.mapError(BusError.init(handlerError:)))
        case .async(let run):
            let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
            let completion = NIOLoopBound(complete, eventLoop: context.eventLoop)
            let task = Task {
                let result: Result<ByteBuffer, BusError>
                do {
                    result = .success(try await RequestContext.$current.withValue(requestContext) { try await run(body, requestContext) })
                } catch {
                    result = .failure(BusError(handlerError: error))
                }
                // Cancelled at its deadline: whatever it threw, the answer is deadline-exceeded.
                let cancelled = Task.isCancelled
                loopBound.eventLoop.execute {
                    loopBound.value.handlerTasks.removeValue(forKey: id)?.deadline?.cancel()
                    if requestContext.isExpired, cancelled || { if case .success = result { true } else { false } }() {
                        completion.value(.failure(BusError(.deadlineExceeded, "\(service).\(method) finished after its deadline")))
                    } else {
                        completion.value(result)
                    }
                    loopBound.value.scheduleFlush()
                }
            }
            if case .closed = state {
                task.cancel()
            } else {
                // Past its deadline the caller has stopped waiting: stop the work too.
                let timer = deadline.map { context.eventLoop.scheduleTask(deadline: $0) { task.cancel() } }
                handlerTasks[id] = (task, timer)
            }
        }
    }

    /// Takes an in-flight slot for a request or event, or says why not.
    private func admitWork() -> BusError? {
        if core.isDraining {
            return BusError(.unavailable, "\(core.configuration.identity.instance) is draining")
        }
        guard inFlight < core.configuration.limits.maxInFlight, core.admit() else {
            return BusError(.overloaded, "\(core.configuration.identity.instance) has too many requests in flight")
        }
        inFlight += 1
        return nil
    }

    private func releaseWork() {
        inFlight -= 1
        core.release()
    }

    /// Takes a long-poll slot (per connection, then node-wide), or says why not.
    private func admitLongPoll() -> BusError? {
        if core.isDraining {
            return BusError(.unavailable, "\(core.configuration.identity.instance) is draining")
        }
        guard longPolls < core.configuration.maxLongPollsPerConnection else {
            return BusError(.overloaded, "this connection holds max_long_polls_per_connection \(core.configuration.maxLongPollsPerConnection) long polls")
        }
        guard core.admitLongPoll() else {
            return BusError(.overloaded, "\(core.configuration.identity.instance) holds max_long_polls_per_node \(core.configuration.maxLongPollsPerNode) long polls")
        }
        longPolls += 1
        return nil
    }

    private func releaseLongPoll() {
        longPolls -= 1
        core.releaseLongPoll()
    }

    // MARK: - Events

    private func deliver(_ frame: Frame, context: ChannelHandlerContext) {
        let header = frame.header
        let id = header.id
        guard let topic = header.topic, let eventID = header.eventID else {
            return acknowledge(id, BusError(.invalidArgument, "an event needs topic and event_id"))
        }
        guard let handler = core.subscriptions[topic] else {
            return acknowledge(id, BusError(.unimplemented, "\(core.configuration.identity.service) does not subscribe to \(topic)"))
        }
        if let refusal = admitWork() { return acknowledge(id, refusal) }
        let body: ByteBuffer
        do {
            body = try inflater.body(of: frame)
        } catch {
            releaseWork()
            return acknowledge(id, BusError(error.code, error.description, retryable: false))
        }
        let delivery = EventDelivery(topic: topic, eventID: eventID, source: header.source, trace: header.trace, tenant: header.tenant, logger: core.logger)
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        Task {
            var failure: BusError?
            do {
                try await handler(body, delivery)
            } catch {
                failure = BusError(handlerError: error)
            }
            let outcome = failure
            loopBound.eventLoop.execute {
                loopBound.value.releaseWork()
                loopBound.value.acknowledge(id, outcome)
                loopBound.value.scheduleFlush()
            }
        }
    }

    /// Acks an event, or refuses it with `error`.
    private func acknowledge(_ id: UInt64, _ error: BusError?) {
        send(Frame(header: FrameHeader(kind: .eventAck, id: id, error: error)))
    }

    private func answer(_ id: UInt64, _ result: Result<ByteBuffer, BusError>) {
        switch result {
        case .success(let body):
            send(Frame(header: FrameHeader(kind: .response, id: id), body: body))
        case .failure(let error):
            send(Frame(header: FrameHeader(kind: .response, id: id, error: error)))
        }
    }

    // MARK: - Writing

    private func send(_ frame: Frame) {
        defer { if outbox.isFull, let context { outbox.flush(context) } }
        do {
            try outbox.append(frame)
        } catch {
            // The answer itself breaks the peer's limits (e.g. a response body
            // over its max_body_bytes): tell the caller that instead.
            guard frame.header.kind == .response else { return }
            try? outbox.append(Frame(header: FrameHeader(kind: .response, id: frame.header.id, error: BusError(error.code, "response not sent: \(error.message)"))))
        }
    }

    /// Flushes at the end of this event-loop tick, once however many frames were added.
    func scheduleFlush() {
        guard !outbox.isFlushScheduled, let context else { return }
        outbox.isFlushScheduled = true
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        context.eventLoop.execute {
            guard let context = loopBound.value.context else { return }
            loopBound.value.outbox.flush(context)
        }
    }

    /// Sends a connection-level error and closes.
    private func refuse(_ error: BusError, context: ChannelHandlerContext) {
        guard case .closed = state else {
            state = .closed
            send(Frame(header: FrameHeader(kind: .error, error: error)))
            closeAfterFlushing(context)
            return
        }
    }

    // MARK: - Drain

    /// Tells the peer to send no new requests here.
    func sendGoAway() {
        guard case .ready = state else { return }
        send(Frame(header: FrameHeader(kind: .goAway)))
        scheduleFlush()
    }

    /// Closes once everything written so far has reached the socket: answers
    /// produced just before the end of a drain are not thrown away.
    func close() {
        guard let context else { return }
        closeAfterFlushing(context)
    }

    private func closeAfterFlushing(_ context: ChannelHandlerContext) {
        let flushed = context.eventLoop.makePromise(of: Void.self)
        outbox.flush(context, promise: flushed)
        let channel = context.channel
        flushed.futureResult.whenComplete { _ in channel.close(promise: nil) }
    }
}

/// Says `error` as soon as the connection is active, ignores what it reads, and closes.
final class OverLimitRefusal: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer
    private let error: BusError

    init(error: BusError) { self.error = error }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { refuse(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        refuse(context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    private var sent = false

    private func refuse(_ context: ChannelHandlerContext) {
        guard !sent else { return }
        sent = true
        var out = context.channel.allocator.buffer(capacity: 160)
        try? FrameEncoder(compression: nil).write(Frame(header: FrameHeader(kind: .error, error: error)), to: &out)
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(out)).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// Compares secrets byte for byte, in time that does not depend on where they
/// differ. Equal only when the lengths are equal and every byte is.
///
/// (The lengths are compared as whole integers: folding their difference
/// into a byte once let a token followed by 256·k NUL bytes pass.)
public func constantTimeEquals(_ a: String, _ b: String) -> Bool {
    let x = Array(a.utf8), y = Array(b.utf8)
    var difference: UInt8 = x.count == y.count ? 0 : 1
    for i in 0..<max(x.count, y.count) {
        difference |= (i < x.count ? x[i] : 0) ^ (i < y.count ? y[i] : 0)
    }
    return difference == 0
}

/// A string a peer supplied (an instance, service or method name), made safe
/// to log: control characters, line and paragraph separators and backslashes
/// are escaped, so a newline cannot forge a log line, and it is cut at 256
/// characters.
public func escapedForLog(_ string: String) -> String {
    var out = ""
    var count = 0
    for scalar in string.unicodeScalars {
        if count == 256 { out += "…"; break }
        count += 1
        switch scalar {
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\r": out += "\\r"
        case "\t": out += "\\t"
        case _ where scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) || scalar.value == 0x2028 || scalar.value == 0x2029:
            out += "\\u{\(String(scalar.value, radix: 16))}"
        default: out.unicodeScalars.append(scalar)
        }
    }
    return out
}

/// Thrown by a handler to say its failure had no effect, so the caller may
/// safely send the request again (to this or another instance).
///
/// Without it, a handler's error reaches the caller as not retryable: a
/// handler may have written before it failed, and a `BusError` it rethrows
/// (say, `unavailable` from a nested call) speaks for that nested call, not
/// for the work the handler already did.
public struct RetrySafe: Error, Sendable {
    public var error: BusError

    public init(_ code: ErrorCode, _ message: String) {
        self.error = BusError(code, message, retryable: true)
    }
}

extension BusError {
    /// What a caller sees of an error thrown by a handler: its code and
    /// message, retryable only when the handler said so with ``RetrySafe``;
    /// anything but a bus error is `internal`.
    init(handlerError error: any Error) {
        switch error {
        case let safe as RetrySafe: self = safe.error
        case let error as BusError: self = BusError(error.code, error.message, retryable: false)
        default: self.init(.internal, "\(error)", retryable: false)
        }
    }
}
