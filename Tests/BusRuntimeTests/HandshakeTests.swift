import BusRuntime
import BusWire
import NIOCore
import Testing

@Suite struct HandshakeTests {
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
