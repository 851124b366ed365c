import Foundation
import HTTPTypes
import HummingbirdCore
import Logging
import NIOCore
import NIOHTTPTypes
import NIOHTTPTypesHTTP1
import Synchronization

/// Hummingbird's HTTP/1 child channel with the gateway's edges: a cap on
/// open connections, and a deadline for each request's head, for each step
/// of its body and for an idle keep-alive connection. A connection that
/// misses one is closed, so a slow or lying client holds only its own socket.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let inner: HTTP1Channel
    let limits: ConnectionGuard.Limits
    let connections: ConnectionCount

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let admitted = connections.open()
        channel.closeFuture.whenComplete { _ in connections.close() }
        return inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            if !admitted {
                try operations.addHandler(RefuseConnection(), position: .first)
                return value
            }
            let guardHandler = ConnectionGuard(limits: limits)
            try operations.addHandler(ByteArrival(guardHandler), position: .first)
            let codec = try operations.handler(type: HTTP1ToHTTPServerCodec.self)
            try operations.addHandler(guardHandler, position: .after(codec))
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await inner.handle(value: value, logger: logger)
    }
}

/// Open connections across the gateway, against their cap.
final class ConnectionCount: Sendable {
    let limit: Int
    private let count = Atomic<Int>(0)

    init(limit: Int) { self.limit = limit }

    /// Counts a new connection; false when it is beyond the cap (it is counted all the same, until it closes).
    func open() -> Bool { count.wrappingAdd(1, ordering: .relaxed).newValue <= limit }
    func close() { count.wrappingSubtract(1, ordering: .relaxed) }
    var current: Int { count.load(ordering: .relaxed) }
}

/// Answers a connection beyond the cap 503 and closes it, reading nothing.
final class RefuseConnection: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    static let answer: String = {
        let body = #"{"code":"overloaded","detail":"the gateway has too many open connections; retry later"}"#
        return "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\nConnection: close\r\nContent-Length: \(body.utf8.count)\r\n\r\n" + body
    }()

    private var answered = false

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { refuse(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        refuse(context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}

    private func refuse(_ context: ChannelHandlerContext) {
        guard !answered else { return }
        answered = true
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: Self.answer))).whenComplete { _ in channel.close(promise: nil) }
    }
}

/// Tells the guard when bytes arrive, before the HTTP decoder has made a part of them.
final class ByteArrival: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer
    let connectionGuard: ConnectionGuard

    init(_ connectionGuard: ConnectionGuard) { self.connectionGuard = connectionGuard }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        connectionGuard.bytesArrived()
        context.fireChannelRead(data)
    }
}

/// One connection's deadlines, between the HTTP codec and Hummingbird.
final class ConnectionGuard: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    struct Limits: Sendable {
        var header: TimeAmount
        var body: TimeAmount
        var idle: TimeAmount
    }

    enum State {
        /// No request yet, or the last one answered: waiting for the next head's first byte.
        case idle
        /// A head's first bytes have arrived, not yet the whole head.
        case readingHead
        /// The head has arrived, not yet the body's end.
        case readingBody
        /// The request is read; the gateway is answering it (its bus call has its own deadline).
        case answering
    }

    let limits: Limits
    private var state = State.readingHead
    /// The answer was written before the request's body ended (an early 413 or 503).
    private var answeredEarly = false
    private var deadline: Scheduled<Void>?
    private var context: ChannelHandlerContext?

    init(limits: Limits) { self.limits = limits }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        arm(limits.header)
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        self.context = nil
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        deadline = nil
        context.fireChannelInactive()
    }

    /// Raw bytes arrived: the first of a head starts its deadline.
    func bytesArrived() {
        if case .idle = state {
            state = .readingHead
            arm(limits.header)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            state = .readingBody
            arm(limits.body)
        case .body:
            if case .readingBody = state { arm(limits.body) }
        case .end:
            if answeredEarly {
                answeredEarly = false
                state = .idle
                arm(limits.idle)
            } else {
                state = .answering
                disarm()
            }
        }
        context.fireChannelRead(data)
    }

    /// Hummingbird's answer to a request it could not parse is a bare 400;
    /// the gateway's errors are JSON.
    static let parseErrorBody = ByteBuffer(string: #"{"code":"invalid-argument","detail":"the request is not valid HTTP/1.1"}"#)
    private var rewritingParseError = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        if case .head(var head) = part, head.status == .badRequest, head.headerFields[.contentType] == nil,
           head.headerFields[.contentLength] == "0", head.headerFields[.connection] == "close" {
            rewritingParseError = true
            head.headerFields[.contentType] = "application/json"
            head.headerFields[.contentLength] = String(Self.parseErrorBody.readableBytes)
            context.write(wrapOutboundOut(.head(head)), promise: promise)
            return
        }
        if case .end = part, rewritingParseError {
            rewritingParseError = false
            context.write(wrapOutboundOut(.body(Self.parseErrorBody)), promise: nil)
        }
        if case .end = part {
            // Answered (possibly before the body was read: then the body keeps its deadline).
            switch state {
            case .answering:
                state = .idle
                arm(limits.idle)
            case .readingBody: answeredEarly = true
            case .idle, .readingHead: break
            }
        }
        context.write(data, promise: promise)
    }

    private func arm(_ amount: TimeAmount) {
        deadline?.cancel()
        guard let context else { return }
        deadline = context.eventLoop.assumeIsolatedUnsafeUnchecked().scheduleTask(in: amount) { [weak self] in
            self?.expired()
        }
    }

    private func disarm() {
        deadline?.cancel()
        deadline = nil
    }

    private func expired() {
        deadline = nil
        guard let context else { return }
        switch state {
        case .answering: return
        case .idle, .readingHead, .readingBody: context.close(promise: nil)
        }
    }
}
