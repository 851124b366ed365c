import BusRuntime
import BusWire
import NIOCore
import NIOPosix
import TestSupport

/// Nodes on loopback port 0, sharing one event-loop group per test process.
enum TestNodes {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    static func configuration(_ service: String, token: String? = nil, maxInFlightPerNode: Int = 10_000, limits: WireLimits = .default) -> BusNode.Configuration {
        BusNode.Configuration(
            identity: NodeIdentity(service: service, instance: "\(service)-\(UInt32.random(in: 0...UInt32.max))", version: "test"),
            token: token, limits: limits, maxInFlightPerNode: maxInFlightPerNode
        )
    }

    /// Starts a node serving `methods` and returns it with a client connected to it.
    static func serve(
        _ service: String = "store",
        token: String? = nil,
        maxInFlightPerNode: Int = 10_000,
        methods: [String: MethodHandler] = [:]
    ) async throws -> (server: BusNode, client: PeerConnection) {
        let server = BusNode(configuration: configuration(service, token: token, maxInFlightPerNode: maxInFlightPerNode), group: group)
        for (name, handler) in methods { server.register(name, handler) }
        let port = try await server.start().port!
        let caller = BusNode(configuration: configuration("caller", token: token), group: group)
        return (server, try await caller.connect(host: "127.0.0.1", port: port))
    }
}

/// A gate handlers wait on until the test opens it.
actor Gate {
    private var isOpen = false
    private var waiters: [CheckedContinuation<Void, Never>] = []
    private(set) var arrived = 0

    func wait() async {
        arrived += 1
        if isOpen { return }
        await withCheckedContinuation { waiters.append($0) }
    }

    func open() {
        isOpen = true
        for waiter in waiters { waiter.resume() }
        waiters.removeAll()
    }
}
