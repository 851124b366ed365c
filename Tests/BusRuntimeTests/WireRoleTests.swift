import BusRuntime
import BusWire
import NIOCore
import TestSupport
import Testing

/// Either side may ping, call or publish (spec §4): a calling node answers
/// what it does not serve instead of dropping the connection, and a serving
/// node closes connections whose peer vanished.
@Suite struct WireRoleTests {
    @Test func aCallingNodeAnswersPingsRequestsAndEventsFromTheServingSide() async throws {
        let (listener, peers) = try await ScriptedPeer.listen(role: .server(welcomes: true, afterWelcome: [
            Frame(header: FrameHeader(kind: .ping, id: 5)),
            Frame(header: FrameHeader(kind: .request, id: 6, service: "caller", method: "anything")),
            Frame(header: FrameHeader(kind: .event, id: 7, topic: "x.happened", eventID: "evt-1")),
        ]), group: TestNodes.group)
        defer { listener.close(promise: nil) }
        // The scripted peer answers no keep-alive ping: a long keep-alive, so that only what the
        // test sends (not a slow machine's wait) could make the node drop the connection.
        var configuration = TestNodes.configuration("caller")
        configuration.keepAlive = .seconds(600)
        let connection = try await BusNode(configuration: configuration, group: TestNodes.group)
            .connect(host: "127.0.0.1", port: listener.localAddress!.port!)

        // The node's own keep-alive pings may come in between on a slow machine: they are not answers.
        func answers() -> [Frame] { peers.withLockedValue { $0.first?.frames ?? [] }.filter { $0.header.kind != .ping } }
        #expect(await eventually { answers().count >= 4 })
        let frames = answers()
        #expect(frames.map(\.header.kind) == [.hello, .pong, .response, .eventAck])
        #expect(frames[1].header.id == 5)
        #expect(frames[2].header.id == 6 && frames[2].header.error?.code == .unimplemented)
        #expect(frames[3].header.id == 7 && frames[3].header.error?.code == .unimplemented)
        #expect(await connection.isUsable)
    }

    @Test func aServingNodeClosesAConnectionWhosePeerFellSilent() async throws {
        var configuration = TestNodes.configuration("store")
        // Silence for three periods closes the connection: long enough that a
        // loaded machine still gets the hello through first, short for the test.
        configuration.keepAlive = .seconds(1)
        let server = BusNode(configuration: configuration, group: TestNodes.group)
        let port = try await server.start().port!
        defer { Task { try await server.shutdown() } }
        // Says hello, then nothing at all: no pings, as if the host vanished.
        let peer = try await ScriptedPeer.connect(port: port, group: TestNodes.group)
        #expect(await eventually { peer.frames.contains { $0.header.kind == .welcome } })
        #expect(await eventually { peer.isClosed })
    }

    @Test func handlerErrorsAreNotRetryableUnlessTheHandlerSaysSo() async throws {
        let (server, client) = try await TestNodes.serve(methods: [
            "wrote-then-failed": .async { _, _ in throw BusError(.unavailable, "downstream is down") },
            "nothing-happened": .async { _, _ in throw RetrySafe(.unavailable, "database is down; nothing was written") },
        ])
        defer { Task { try await server.shutdown() } }
        await #expect(throws: BusError(.unavailable, "downstream is down", retryable: false)) {
            _ = try await client.call(service: "store", method: "wrote-then-failed")
        }
        await #expect(throws: BusError(.unavailable, "database is down; nothing was written", retryable: true)) {
            _ = try await client.call(service: "store", method: "nothing-happened")
        }
    }
}
