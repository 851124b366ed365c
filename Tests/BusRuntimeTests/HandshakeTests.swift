import BusRuntime
import BusWire
import NIOCore
import Testing

@Suite struct HandshakeTests {
    @Test func withoutATokenANodeListensOnLoopbackOnly() async throws {
        var exposed = TestNodes.configuration("store")
        exposed.host = "0.0.0.0"
        let refused = BusNode(configuration: exposed, group: TestNodes.group)
        await #expect(throws: BusError(.invalidArgument, "refusing to listen on 0.0.0.0 without a bus token: set VIDEOBUS_TOKEN or --token (or listen on 127.0.0.1)", retryable: false)) {
            try await refused.start()
        }
        exposed.token = "s3cret"
        let protected = BusNode(configuration: exposed, group: TestNodes.group)
        try await protected.start()
        try await protected.shutdown(grace: .zero)

        for host in ["127.0.0.1", "127.1.2.3", "localhost", "::1", "[::1]"] { #expect(BusNode.isLoopback(host), "\(host)") }
        for host in ["0.0.0.0", "::", "10.0.0.1", "127.example.com", "127.0.0.256", "example.com"] { #expect(!BusNode.isLoopback(host), "\(host)") }
    }

    @Test func aPeerWithoutTheTokenIsRefused() async throws {
        let server = BusNode(configuration: TestNodes.configuration("store", token: "s3cret"), group: TestNodes.group)
        let port = try await server.start().port!
        defer { Task { try await server.shutdown() } }

        let stranger = BusNode(configuration: TestNodes.configuration("caller", token: "guess"), group: TestNodes.group)
        await #expect(throws: BusError(.unauthenticated, "invalid token", retryable: false)) {
            try await stranger.connect(host: "127.0.0.1", port: port)
        }
        let anonymous = BusNode(configuration: TestNodes.configuration("caller"), group: TestNodes.group)
        await #expect(throws: BusError(.unauthenticated, "invalid token", retryable: false)) {
            try await anonymous.connect(host: "127.0.0.1", port: port)
        }
        let friend = BusNode(configuration: TestNodes.configuration("caller", token: "s3cret"), group: TestNodes.group)
        let connection = try await friend.connect(host: "127.0.0.1", port: port)
        #expect(connection.welcome.node.service == "store")
        #expect(connection.welcome.codecs == ["deflate"])
    }

    @Test func nothingListeningIsUnavailable() async throws {
        let node = BusNode(configuration: TestNodes.configuration("caller"), group: TestNodes.group)
        // Bind a port, then free it, so nothing listens there.
        let probe = BusNode(configuration: TestNodes.configuration("probe"), group: TestNodes.group)
        let port = try await probe.start().port!
        try await probe.shutdown(grace: .zero)
        let error = await #expect(throws: BusError.self) { try await node.connect(host: "127.0.0.1", port: port) }
        #expect(error?.code == .unavailable)
    }
}
