import BusRuntime
import BusWire
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import TestSupport
import Testing

/// Bounds a hostile local peer meets before and around the handshake:
/// each test fails without its bound.
@Suite struct EdgeBoundsTests {
    @Test func aTricklingHelloIsClosedAfterTheHandshakeDeadlineWhileALegitimateCallSucceeds() async throws {
        var configuration = TestNodes.configuration("store")
        configuration.handshakeTimeout = .seconds(1)
        let server = BusNode(configuration: configuration, group: TestNodes.group)
        let port = try await server.start().port!
        defer { Task { try await server.shutdown(grace: .zero) } }

        // One byte of the length field, then nothing: a hello trickled forever.
        let trickler = try await RawClient.connect(port: port)
        trickler.send([0])

        let caller = BusNode(configuration: TestNodes.configuration("caller"), group: TestNodes.group)
        let connection = try await caller.connect(host: "127.0.0.1", port: port)
        _ = try await connection.call(service: "store", method: "ping")

        #expect(await eventually(timeout: .seconds(10)) { trickler.isClosed })
        let error = try #require(trickler.frames().first?.header.error)
        #expect(error.code == .deadlineExceeded)
        #expect(error.message.contains("handshake_timeout"))
        // The handshaked connection is not subject to the handshake deadline.
        _ = try await connection.call(service: "store", method: "ping")
        await connection.close()
    }

    @Test func aPreHandshakeFrameAboveTheHelloSizeIsRefusedWithoutBeingBuffered() async throws {
        // A handshake deadline no loaded machine reaches: only the frame's size may close the connection.
        var configuration = TestNodes.configuration("store")
        configuration.handshakeTimeout = .seconds(120)
        let server = BusNode(configuration: configuration, group: TestNodes.group)
        let port = try await server.start().port!
        defer { Task { try await server.shutdown(grace: .zero) } }

        // Announces a 1 MiB frame (well under max_frame_bytes) and sends only its 4-byte length:
        // the refusal must come from the length alone, before any of the frame is read.
        let raw = try await RawClient.connect(port: port)
        raw.send([0x00, 0x10, 0x00, 0x00])
        #expect(await eventually { raw.isClosed })
        let error = try #require(raw.frames().first?.header.error)
        #expect(error.code == .limitExceeded)
        #expect(error.message.contains("max_hello_bytes"), "\(error.message)")

        // After the handshake, frames up to max_frame_bytes are fine again.
        let caller = BusNode(configuration: TestNodes.configuration("caller"), group: TestNodes.group)
        let connection = try await caller.connect(host: "127.0.0.1", port: port)
        let big = ByteBuffer(string: "\"" + String(repeating: "x", count: 100_000) + "\"")
        let answer = try await connection.call(service: "store", method: "echo", body: big)
        #expect(answer.readableBytes == big.readableBytes)
        await connection.close()
    }

    @Test func theConnectionBeyondTheLimitIsClosedWhileOthersKeepWorking() async throws {
        var configuration = TestNodes.configuration("store")
        configuration.maxConnections = 4
        // The idle connections below send no hello: keep the handshake deadline out of the way.
        configuration.handshakeTimeout = .seconds(120)
        let server = BusNode(configuration: configuration, group: TestNodes.group)
        let port = try await server.start().port!
        defer { Task { try await server.shutdown(grace: .zero) } }

        var idle: [RawClient] = []
        for _ in 0..<3 { idle.append(try await RawClient.connect(port: port)) }
        #expect(await eventually { server.connectionCount == 3 })
        let caller = BusNode(configuration: TestNodes.configuration("caller"), group: TestNodes.group)
        let legitimate = try await caller.connect(host: "127.0.0.1", port: port)
        _ = try await legitimate.call(service: "store", method: "ping")

        // The limit+1st is told and closed at once.
        let extra = try await RawClient.connect(port: port)
        #expect(await eventually(timeout: .seconds(5)) { extra.isClosed })
        let error = try #require(extra.frames().first?.header.error)
        #expect(error.code == .overloaded)
        #expect(error.message.contains("max_connections"))
        #expect(server.connectionCount == 4)
        _ = try await legitimate.call(service: "store", method: "ping")

        // Below the limit again, a new connection is taken.
        idle.removeFirst().close()
        #expect(await eventually { server.connectionCount == 3 })
        let later = try await caller.connect(host: "127.0.0.1", port: port)
        _ = try await later.call(service: "store", method: "ping")
        for client in idle { client.close() }
        await later.close()
        await legitimate.close()
    }

    @Test(arguments: [256, 512, 1])
    func aTokenFollowedByNULsIsRefused(nuls: Int) async throws {
        let server = BusNode(configuration: TestNodes.configuration("store", token: "s3cret"), group: TestNodes.group)
        let port = try await server.start().port!
        defer { Task { try await server.shutdown(grace: .zero) } }
        let padded = BusNode(configuration: TestNodes.configuration("caller", token: "s3cret" + String(repeating: "\0", count: nuls)), group: TestNodes.group)
        let error = await #expect(throws: BusError.self) { try await padded.connect(host: "127.0.0.1", port: port) }
        #expect(error?.code == .unauthenticated)
        let truncated = BusNode(configuration: TestNodes.configuration("caller", token: "s3cre"), group: TestNodes.group)
        await #expect(throws: BusError.self) { try await truncated.connect(host: "127.0.0.1", port: port) }
    }

    @Test func longPollsHaveTheirOwnBudgetAndEndWithTheirConnection() async throws {
        var configuration = TestNodes.configuration("store", maxInFlightPerNode: 1)
        configuration.maxLongPollsPerConnection = 3
        configuration.maxLongPollsPerNode = 4
        let server = BusNode(configuration: configuration, group: TestNodes.group)
        // Holds until cancelled (or 60 s).
        server.register("hold", longPoll: true, .async { _, _ in
            try await Task.sleep(for: .seconds(60))
            return ByteBuffer(string: "{}")
        })
        let port = try await server.start().port!
        defer { Task { try await server.shutdown(grace: .zero) } }
        let caller = BusNode(configuration: TestNodes.configuration("caller"), group: TestNodes.group)

        func hold(on connection: PeerConnection) -> EventLoopFuture<ByteBuffer> {
            let promise = connection.eventLoop.makePromise(of: ByteBuffer.self)
            connection.call(FrameHeader(kind: .request, service: "store", method: "hold"), body: ByteBuffer(), deadline: .now() + .seconds(30), promise: promise)
            return promise.futureResult
        }
        let a = try await caller.connect(host: "127.0.0.1", port: port)
        let b = try await caller.connect(host: "127.0.0.1", port: port)
        _ = (0..<3).map { _ in hold(on: a) }
        let perConnection = await #expect(throws: BusError.self) { try await hold(on: a).get() }
        #expect(perConnection?.code == .overloaded)
        #expect(perConnection?.message.contains("max_long_polls_per_connection") == true)
        _ = hold(on: b)
        #expect(await eventually { server.longPollsOutstanding == 4 })
        let perNode = await #expect(throws: BusError.self) { try await hold(on: b).get() }
        #expect(perNode?.message.contains("max_long_polls_per_node") == true)

        // Four held polls, one in-flight slot: other requests are still served.
        _ = try await b.call(service: "store", method: "ping")
        _ = try await a.call(service: "store", method: "ping")

        // A closed connection's polls end at once and free the budget.
        await a.close()
        #expect(await eventually(timeout: .seconds(10)) { server.longPollsOutstanding == 1 })
        await b.close()
        #expect(await eventually(timeout: .seconds(10)) { server.longPollsOutstanding == 0 })
    }

    @Test func handlerTasksAreCancelledAtTheirDeadlineAndWhenTheirConnectionCloses() async throws {
        // Holds until cancelled (or 60 s).
        let (server, client) = try await TestNodes.serve(methods: ["slow": .async { _, _ in
            try await Task.sleep(for: .seconds(60))
            return ByteBuffer(string: "{}")
        }])
        defer { Task { try await server.shutdown(grace: .zero) } }
        let expired = await #expect(throws: BusError.self) { try await client.call(service: "store", method: "slow", timeout: .milliseconds(200)) }
        #expect(expired?.code == .deadlineExceeded)
        #expect(await eventually(timeout: .seconds(10)) { server.requestsInFlight == 0 }, "the handler still runs past its deadline")

        let promise = client.eventLoop.makePromise(of: ByteBuffer.self)
        client.call(FrameHeader(kind: .request, service: "store", method: "slow"), body: ByteBuffer(), deadline: .now() + .seconds(30), promise: promise)
        #expect(await eventually { server.requestsInFlight == 1 })
        await client.close()
        #expect(await eventually(timeout: .seconds(10)) { server.requestsInFlight == 0 }, "the handler still runs after its connection closed")
    }

    @Test func peerStringsAreEscapedForLogs() {
        #expect(escapedForLog("store-1") == "store-1")
        let forged = escapedForLog("x\n2026-01-01T00:00:00 info registry : registered evil\r\t\u{1B}[31m\u{2028}\\")
        #expect(!forged.contains("\n") && !forged.contains("\r") && !forged.contains("\u{1B}") && !forged.contains("\u{2028}"))
        #expect(forged.hasPrefix("x\\n2026"))
        #expect(forged.hasSuffix("\\r\\t\\u{1b}[31m\\u{2028}\\\\"))
        #expect(escapedForLog(String(repeating: "a", count: 10_000)).count == 257)
    }
}

/// A TCP client that sends raw bytes and records what it receives.
final class RawClient: ChannelInboundHandler, @unchecked Sendable {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let received = NIOLockedValueBox(ByteBuffer())
    private let closed = NIOLockedValueBox(false)
    private var channel: (any Channel)?

    var isClosed: Bool { closed.withLockedValue { $0 } }

    /// The frames received so far (those complete).
    func frames() -> [Frame] {
        var buffer = received.withLockedValue { $0 }
        var parser = FrameParser()
        var frames: [Frame] = []
        while let frame = try? parser.next(from: &buffer) { frames.append(frame) }
        return frames
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        received.withLockedValue { $0.writeBuffer(&bytes) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed.withLockedValue { $0 = true }
    }

    func send(_ bytes: [UInt8]) {
        channel?.writeAndFlush(ByteBuffer(bytes: bytes), promise: nil)
    }

    func close() {
        channel?.close(promise: nil)
    }

    static func connect(port: Int, group: any EventLoopGroup = TestNodes.group) async throws -> RawClient {
        let client = RawClient()
        client.channel = try await ClientBootstrap(group: group)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(client) }
            }
            .connect(host: "127.0.0.1", port: port).get()
        return client
    }
}
