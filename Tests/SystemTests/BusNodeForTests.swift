import BusRuntime
import BusWire
import NIOPosix

enum BusNodeForTests {
    /// A connection from a fresh caller node to the node on `port`.
    static func connect(port: Int, token: String? = nil) async throws -> PeerConnection {
        let node = BusNode(configuration: BusNode.Configuration(
            identity: NodeIdentity(service: "system-test", instance: "system-test-\(port)", version: "test"), token: token
        ), group: MultiThreadedEventLoopGroup.singleton)
        return try await node.connect(host: "127.0.0.1", port: port)
    }
}
