import Foundation
import NIOCore
import NIOPosix

/// A raw TCP connection for tests that misbehave on purpose: it sends what
/// it is told (half a head, a lying Content-Length) and records what comes
/// back and whether the server has closed it.
final class RawConnection: @unchecked Sendable {
    let channel: any Channel
    private let collector: Collector

    final class Collector: ChannelInboundHandler, @unchecked Sendable {
        typealias InboundIn = ByteBuffer
        let lock = NSLock()
        var received = ByteBuffer()

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            var buffer = unwrapInboundIn(data)
            lock.withLock { received.writeBuffer(&buffer) }
        }
    }

    private init(channel: any Channel, collector: Collector) {
        self.channel = channel
        self.collector = collector
    }

    static func open(port: Int) async throws -> RawConnection {
        let collector = Collector()
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelInitializer { channel in channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(collector) } }
            .connect(host: "127.0.0.1", port: port).get()
        return RawConnection(channel: channel, collector: collector)
    }

    func send(_ text: String) async throws {
        try await channel.writeAndFlush(ByteBuffer(string: text)).get()
    }

    /// The server has closed the connection (or it was closed here).
    var isClosed: Bool { !channel.isActive }

    var received: String { collector.lock.withLock { String(buffer: collector.received) } }

    /// The status of the answer received so far, if a head has arrived.
    var status: Int? {
        let text = received
        guard text.hasPrefix("HTTP/1.1 ") else { return nil }
        return Int(text.dropFirst(9).prefix(3))
    }

    /// The body of the first answer, as JSON.
    var json: [String: Any]? {
        let text = received
        guard let split = text.range(of: "\r\n\r\n") else { return nil }
        return try? JSONSerialization.jsonObject(with: Data(text[split.upperBound...].utf8)) as? [String: Any]
    }

    func close() {
        channel.close(promise: nil)
    }
}
