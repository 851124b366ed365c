import BusRuntime
import BusWire
import NIOCore
import NIOPosix
import Registry
import TestSupport

/// A registry and service nodes on loopback, for tests.
struct RegistryCluster {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    let registry: BusNode
    let registryPort: Int
    let expiry: Task<Void, Never>

    static func start(port: Int = 0, maxLease: TimeAmount = .seconds(30), limits: RegistryLimits = RegistryLimits(), credentials: RegistryCredentials? = nil, configure: (inout BusNode.Configuration) -> Void = { _ in }) async throws -> RegistryCluster {
        var configuration = BusNode.Configuration(
            identity: NodeIdentity(service: "registry", instance: "registry-\(UInt16.random(in: 0...UInt16.max))", version: "test"), port: port
        )
        configure(&configuration)
        let node = BusNode(configuration: configuration, group: group)
        let service = RegistryService(maxLease: maxLease, limits: limits, credentials: credentials)
        service.install(on: node)
        let bound = try await node.start().port!
        return RegistryCluster(registry: node, registryPort: bound, expiry: Task { await service.expireLeases(every: .milliseconds(50)) })
    }

    func stop() async throws {
        expiry.cancel()
        try await registry.shutdown(grace: .zero)
    }

    /// How long a test's connects and calls may take: what these tests check
    /// is where calls land, never how fast, and a full run of the suites
    /// keeps both cores of a CI machine busy.
    static let patience: TimeAmount = .seconds(60)

    /// A node of `service` registered with the registries at `ports`. The
    /// default lease outlasts any stall of a loaded CI machine (a late
    /// heartbeat would expire a live instance mid-test); tests about expiry
    /// ask for short leases themselves.
    static func node(_ service: String, registryPorts: [Int], lease: TimeAmount = .seconds(10), methods: [String: MethodHandler] = [:], credential: String? = nil) -> BusNode {
        let instance = "\(service)-\(UInt32.random(in: 0...UInt32.max))"
        let node = BusNode(configuration: BusNode.Configuration(
            identity: NodeIdentity(service: service, instance: instance, version: "test"),
            connectTimeout: Self.patience, defaultCallTimeout: Self.patience,
            registries: registryPorts.map { ServiceAddress(host: "127.0.0.1", port: $0) }, lease: lease,
            serviceCredential: credential
        ), group: group)
        for (name, handler) in methods { node.register(name, handler) }
        return node
    }

    /// A node that only calls, discovering through the registries at `ports`.
    static func caller(registryPorts: [Int]) -> BusNode {
        node("caller", registryPorts: registryPorts)
    }

    /// A bare connection to this registry, as `instance` of service `service`.
    func connect(as service: String = "x", instance: String = "x", token: String? = nil) async throws -> PeerConnection {
        let configuration = BusNode.Configuration(
            identity: NodeIdentity(service: service, instance: instance, version: "test"), token: token,
            connectTimeout: Self.patience, defaultCallTimeout: Self.patience
        )
        return try await BusNode(configuration: configuration, group: Self.group).connect(host: "127.0.0.1", port: registryPort)
    }

    /// The registry's current view, straight from its `lookup` method.
    func lookup(_ service: String? = nil) async throws -> RegistryProtocol.Snapshot {
        let connection = try await connect(as: "probe", instance: "probe")
        defer { Task { await connection.close() } }
        let body = try await connection.call(service: "registry", method: "lookup", body: JSONBody.encode(RegistryProtocol.LookupRequest(service: service)))
        return try JSONBody.decode(RegistryProtocol.Snapshot.self, from: body)
    }
}

/// Answers with the serving instance's id, so tests see where calls land.
func whoami(_ instance: String) -> MethodHandler {
    .inline { _, _ in ByteBuffer(string: "\"\(instance)\"") }
}
