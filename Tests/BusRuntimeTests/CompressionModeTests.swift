import BusRuntime
import BusWire
import Foundation
import NIOCore
import TestSupport
import Testing

/// Compression per connection (spec §12): `auto` offers deflate but sends
/// plain bodies to a peer on this host, `always` compresses what shrinks,
/// `never` neither offers nor uses it. Observed on the wire by a raw peer.
@Suite struct CompressionModeTests {
    /// 64 KiB of JSON that deflate shrinks several times over.
    static let compressible = ByteBuffer(string: String(repeating: #"{"video_id":"v_001","description":"A sunset over the harbour, boats returning."},"#, count: 800))

    func caller(_ mode: CompressionMode) -> BusNode {
        var configuration = TestNodes.configuration("caller")
        configuration.compression.mode = mode
        // The raw peer answers no keep-alive ping: a test process starved for
        // two periods (a loaded CI machine) must not lose the connection.
        configuration.keepAlive = .seconds(600)
        return BusNode(configuration: configuration, group: TestNodes.group)
    }

    /// Calls a raw peer that welcomes with deflate; returns the hello and the request frame it received.
    func requestSeenByRawPeer(from mode: CompressionMode, body: ByteBuffer) async throws -> (hello: Hello, request: Frame, compresses: Bool) {
        let (listener, peers) = try await ScriptedPeer.listen(
            role: .server(welcomes: true, afterWelcome: [], codecs: [Codec.deflate], answersRequests: true), group: TestNodes.group
        )
        defer { listener.close(promise: nil) }
        let connection = try await caller(mode).connect(host: "127.0.0.1", port: listener.localAddress!.port!)
        defer { Task { await connection.close() } }
        _ = try await connection.call(service: "scripted", method: "take", body: body)
        // The peer recorded the request before it answered it.
        let frames = peers.withLockedValue { $0.first?.frames ?? [] }
        let helloFrame = try #require(frames.first { $0.header.kind == .hello })
        let hello = try JSONDecoder().decode(Hello.self, from: Data(helloFrame.body.readableBytesView))
        return (hello, try #require(frames.first { $0.header.kind == .request }), connection.compressesOutgoing)
    }

    @Test func anAutoNodeOffersDeflateButSendsPlainBodiesToAPeerOnThisHost() async throws {
        let seen = try await requestSeenByRawPeer(from: .auto, body: Self.compressible)
        #expect(seen.hello.codecs == [Codec.deflate])
        #expect(!seen.compresses)
        #expect(!seen.request.isCompressed)
        #expect(seen.request.body == Self.compressible)
    }

    @Test func anAlwaysNodeCompressesACompressibleBodyAboveTheThreshold() async throws {
        let seen = try await requestSeenByRawPeer(from: .always, body: Self.compressible)
        #expect(seen.hello.codecs == [Codec.deflate])
        #expect(seen.compresses)
        #expect(seen.request.isCompressed)
        #expect(seen.request.body.readableBytes < Self.compressible.readableBytes / 4)
        #expect(try BodyInflater().body(of: seen.request) == Self.compressible)
        // Under the threshold it stays plain, even on an `always` connection.
        let small = try await requestSeenByRawPeer(from: .always, body: ByteBuffer(string: String(repeating: "a", count: 4095)))
        #expect(!small.request.isCompressed)
    }

    @Test func aNeverNodeDoesNotOfferDeflateNorCompress() async throws {
        // Even facing a peer whose welcome (wrongly) lists deflate.
        let seen = try await requestSeenByRawPeer(from: .never, body: Self.compressible)
        #expect(seen.hello.codecs.isEmpty)
        #expect(!seen.compresses)
        #expect(!seen.request.isCompressed)

        // Serving, it leaves deflate out of the welcome, so the peer sends plain bodies.
        var configuration = TestNodes.configuration("store")
        configuration.compression.mode = .never
        let server = BusNode(configuration: configuration, group: TestNodes.group)
        let port = try await server.start().port!
        defer { Task { try await server.shutdown() } }
        let connection = try await caller(.always).connect(host: "127.0.0.1", port: port)
        #expect(connection.welcome.codecs.isEmpty)
        #expect(!connection.compressesOutgoing)
        #expect(try await connection.call(service: "store", method: "echo", body: Self.compressible) == Self.compressible)
    }

    /// A raw peer offering deflate sends a compressed echo request; returns the server's welcome and response.
    func echoFromRawPeer(to mode: CompressionMode) async throws -> (welcome: Welcome, request: Frame, response: Frame) {
        var configuration = TestNodes.configuration("store")
        configuration.compression.mode = mode
        configuration.keepAlive = .seconds(600)  // the raw peer sends no keep-alive ping
        let server = BusNode(configuration: configuration, group: TestNodes.group)
        let port = try await server.start().port!
        defer { Task { try await server.shutdown() } }
        let request = Frame(header: FrameHeader(kind: .request, id: 9, service: "store", method: "echo"), body: Self.compressible)
        // What the raw peer sends once deflate is negotiated: a compressed body.
        var wire = ByteBuffer()
        try FrameEncoder(compression: CompressionPolicy(mode: .always)).write(request, to: &wire)
        var parser = FrameParser()
        #expect(try parser.next(from: &wire)?.isCompressed == true)
        let peer = try await ScriptedPeer.connect(port: port, role: .client(codecs: [Codec.deflate], afterWelcome: [request]), group: TestNodes.group)
        #expect(await eventually { peer.frames.contains { $0.header.kind == .response } })
        let welcomeFrame = try #require(peer.frames.first { $0.header.kind == .welcome })
        let welcome = try JSONDecoder().decode(Welcome.self, from: Data(welcomeFrame.body.readableBytesView))
        return (welcome, request, try #require(peer.frames.first { $0.header.kind == .response }))
    }

    @Test func anAutoNodeUnderstandsCompressedBodiesAndAnswersPlainOnThisHost() async throws {
        let (welcome, _, response) = try await echoFromRawPeer(to: .auto)
        #expect(welcome.codecs == [Codec.deflate])
        #expect(response.header.id == 9 && response.header.error == nil)
        #expect(!response.isCompressed)
        #expect(response.body == Self.compressible)
    }

    @Test func anAlwaysNodeAnswersCompressed() async throws {
        let (_, _, response) = try await echoFromRawPeer(to: .always)
        #expect(response.header.error == nil)
        #expect(response.isCompressed)
        #expect(try BodyInflater().body(of: response) == Self.compressible)
    }
}
