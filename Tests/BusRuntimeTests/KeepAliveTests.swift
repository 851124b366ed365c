import BusRuntime
import BusWire
import Foundation
import NIOCore
import NIOPosix
import Testing

/// A peer that completes the handshake, then never answers anything: a hung
/// process, or a network path that silently drops packets.
final class SilentPeerHandler: ChannelInboundHandler, Sendable {
    typealias InboundIn = Frame
    typealias OutboundOut = ByteBuffer

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let frame = unwrapInboundIn(data)
        guard frame.header.kind == .hello else { return }  // everything after the hello is ignored
        let welcome = Welcome(version: 1, node: NodeIdentity(service: "silent", instance: "silent-1", version: "test"), codecs: [], limits: .default)
        var out = ByteBuffer()
        try! FrameEncoder(compression: nil).write(Frame(header: FrameHeader(kind: .welcome), body: ByteBuffer(bytes: try! JSONEncoder().encode(welcome))), to: &out)
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
    }
}

@Suite struct KeepAliveTests {
    @Test func aPeerThatStopsAnsweringIsClosedAndItsCallsFailPromptly() async throws {
        let listener = try await ServerBootstrap(group: TestNodes.group)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([ByteToMessageHandler(FrameDecoder()), SilentPeerHandler()])
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        defer { listener.close(promise: nil) }

        var configuration = TestNodes.configuration("caller")
        configuration.keepAlive = .milliseconds(100)
        let connection = try await BusNode(configuration: configuration, group: TestNodes.group)
            .connect(host: "127.0.0.1", port: listener.localAddress!.port!)
        let started = ContinuousClock.now
        let error = await #expect(throws: BusError.self) {
            _ = try await connection.call(service: "silent", method: "anything", timeout: .seconds(30))
        }
        // Keep-alive may close the connection before the call is sent (then it is safe to retry)
        // or while it is in flight (then it is not): either way it fails as unavailable and says why.
        #expect(error?.code == .unavailable)
        #expect(error?.message.contains("stopped answering (no pong to a keep-alive ping)") == true, "\(String(describing: error))")
        // Correctness bound: detected by keep-alive (two silent periods), far before the call's deadline.
        #expect(ContinuousClock.now - started < .seconds(10))
    }

    @Test func anIdleButHealthyConnectionStaysOpen() async throws {
        var configuration = TestNodes.configuration("caller")
        // Periods long enough that a loaded test machine never starves the pong past
        // two of them (a full run on 2 cores reaches a load of 20; 1 s periods were not enough).
        configuration.keepAlive = .seconds(2)
        let server = BusNode(configuration: TestNodes.configuration("store"), group: TestNodes.group)
        let port = try await server.start().port!
        defer { Task { try await server.shutdown() } }
        let connection = try await BusNode(configuration: configuration, group: TestNodes.group).connect(host: "127.0.0.1", port: port)
        // Several keep-alive periods pass with no calls: pings are answered, the connection lives.
        let quietPeriod = ContinuousClock.now + .milliseconds(5000)
        while ContinuousClock.now < quietPeriod {
            #expect(await connection.isUsable)
            try await Task.sleep(for: .milliseconds(250))  // letting keep-alive periods pass is the point here
        }
        #expect(try await connection.call(service: "store", method: "ping") == ByteBuffer(string: "{}"))
    }
}
