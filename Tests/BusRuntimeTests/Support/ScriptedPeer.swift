import BusWire
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// A raw wire peer for tests: it records every frame it receives and answers
/// the handshake (or not) as scripted, then sends what the test asks.
final class ScriptedPeer: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = Frame
    typealias OutboundOut = ByteBuffer

    enum Role {
        /// Accepts connections: answers a hello with a welcome (when `welcomes`,
        /// listing `codecs`) and then `afterWelcome`; with `answersRequests`,
        /// answers each request with an empty response.
        case server(welcomes: Bool, afterWelcome: [Frame], codecs: [String] = [], answersRequests: Bool = false)
        /// Connects: sends a hello, then nothing (a silent client).
        case silentClient
        /// Connects offering `codecs`; once welcomed, sends `afterWelcome`,
        /// compressing the bodies that deflate shrinks when the welcome lists it.
        case client(codecs: [String], afterWelcome: [Frame])
    }

    let role: Role
    private let received = NIOLockedValueBox<[Frame]>([])
    private let closed = NIOLockedValueBox(false)

    init(role: Role) {
        self.role = role
    }

    var frames: [Frame] { received.withLockedValue { $0 } }
    var isClosed: Bool { closed.withLockedValue { $0 } }

    func channelActive(context: ChannelHandlerContext) {
        let codecs: [String]
        switch role {
        case .silentClient: codecs = []
        case .client(let offered, _): codecs = offered
        case .server: codecs = []
        }
        if case .server = role {} else {
            let hello = Hello(node: NodeIdentity(service: "raw", instance: "raw-1", version: "test"), token: nil, codecs: codecs, limits: .default)
            write([Frame(header: FrameHeader(kind: .hello), body: ByteBuffer(bytes: try! JSONEncoder().encode(hello)))], context: context)
        }
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed.withLockedValue { $0 = true }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        received.withLockedValue { $0.append(frame) }
        switch (role, frame.header.kind) {
        case (.server(true, let afterWelcome, let codecs, _), .hello):
            let welcome = Welcome(version: 1, node: NodeIdentity(service: "scripted", instance: "scripted-1", version: "test"), codecs: codecs, limits: .default)
            write([Frame(header: FrameHeader(kind: .welcome), body: ByteBuffer(bytes: try! JSONEncoder().encode(welcome)))] + afterWelcome, context: context)
        case (.server(_, _, _, true), .request):
            write([Frame(header: FrameHeader(kind: .response, id: frame.header.id))], context: context)
        case (.client(_, let afterWelcome), .welcome):
            let welcome = try! JSONDecoder().decode(Welcome.self, from: Data(frame.body.readableBytesView))
            let compressing = welcome.codecs.contains(Codec.deflate) ? CompressionPolicy(mode: .always) : nil
            write(afterWelcome, compression: compressing, context: context)
        default:
            break
        }
    }

    private func write(_ frames: [Frame], compression: CompressionPolicy? = nil, context: ChannelHandlerContext) {
        var out = ByteBuffer()
        for frame in frames { try! FrameEncoder(compression: compression).write(frame, to: &out) }
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }

    /// Listens on a free loopback port with a fresh peer per connection; `peers` collects them.
    static func listen(role: Role, group: any EventLoopGroup) async throws -> (channel: any Channel, peers: NIOLockedValueBox<[ScriptedPeer]>) {
        let peers = NIOLockedValueBox<[ScriptedPeer]>([])
        let channel = try await ServerBootstrap(group: group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let peer = ScriptedPeer(role: role)
                    peers.withLockedValue { $0.append(peer) }
                    try channel.pipeline.syncOperations.addHandlers([ByteToMessageHandler(FrameDecoder()), peer])
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        return (channel, peers)
    }

    /// Connects to `port` as a raw client.
    static func connect(port: Int, role: Role = .silentClient, group: any EventLoopGroup) async throws -> ScriptedPeer {
        let peer = ScriptedPeer(role: role)
        _ = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([ByteToMessageHandler(FrameDecoder()), peer])
                }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return peer
    }
}
