import BusRuntime
import BusWire
import NIOCore
import Registry
import TestSupport
import Testing

@Suite struct RegistryTests {
    func startStores(_ count: Int, registryPorts: [Int]) async throws -> [BusNode] {
        var nodes: [BusNode] = []
        for _ in 0..<count {
            let node = RegistryCluster.node("store", registryPorts: registryPorts)
            node.register("whoami", whoami(node.configuration.identity.instance))
            try await node.start()
            nodes.append(node)
        }
        return nodes
    }

    @Test func instancesRegisterAndCallsAreBalancedAcrossThem() async throws {
        let cluster = try await RegistryCluster.start()
        let stores = try await startStores(3, registryPorts: [cluster.registryPort])
        #expect(await eventually { try await cluster.lookup("store").instances.count == 3 })
        let view = try await cluster.lookup("store").instances[0]
        #expect(view.state == .serving)
        #expect(view.record.methods == ["echo", "info", "ping", "whoami"])

        let caller = RegistryCluster.caller(registryPorts: [cluster.registryPort])
        var hits: [String: Int] = [:]
        try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<600 {
                group.addTask { try await caller.call("store", "whoami", Empty(), as: String.self) }
            }
            for try await instance in group { hits[instance, default: 0] += 1 }
        }
        #expect(hits.count == 3, "calls reached \(hits.count) of 3 instances: \(hits)")
        for (instance, count) in hits { #expect(count >= 60, "\(instance) got only \(count) of 600 calls") }

        for store in stores { try await store.shutdown() }
        try await cluster.stop()
    }

    @Test func shutdownDeregistersAndASilentInstanceExpires() async throws {
        // The stores' leases are long enough for a loaded machine; the ghost asks for a short one itself.
        let cluster = try await RegistryCluster.start(maxLease: .seconds(10))
        let stores = try await startStores(2, registryPorts: [cluster.registryPort])
        #expect(await eventually { try await cluster.lookup("store").instances.count == 2 })
        try await stores[0].shutdown()
        #expect(await eventually { try await cluster.lookup("store").instances.map(\.record.instance) == [stores[1].configuration.identity.instance] })

        // An instance that registers and then falls silent is removed when its lease runs out.
        let connection = try await cluster.connect()
        let record = RegistryProtocol.InstanceRecord(service: "ghost", instance: "ghost-1", host: "127.0.0.1", port: 9, version: "t", methods: [])
        let registered = try await connection.call(service: "registry", method: "register", body: JSONBody.encode(RegistryProtocol.RegisterRequest(record: record, leaseMs: 400)))
        #expect(try JSONBody.decode(RegistryProtocol.RegisterResponse.self, from: registered).leaseMs == 400)
        // No heartbeat follows: the registry removes the ghost once its lease runs out.
        #expect(await eventually { try await cluster.lookup("ghost").instances.isEmpty })
        await #expect(throws: BusError(.notFound, "instance ghost-1 is not registered")) {
            _ = try await connection.call(service: "registry", method: "heartbeat", body: JSONBody.encode(RegistryProtocol.HeartbeatRequest(instance: "ghost-1", state: .serving, inFlight: 0)))
        }
        await #expect(throws: BusError(.invalidArgument, "record.port must be 1...65535")) {
            var bad = record
            bad.port = 0
            _ = try await connection.call(service: "registry", method: "register", body: JSONBody.encode(RegistryProtocol.RegisterRequest(record: bad, leaseMs: 200)))
        }
        try await stores[1].shutdown()
        try await cluster.stop()
    }

    @Test func aDeadInstanceIsRoutedAroundAndEjected() async throws {
        let cluster = try await RegistryCluster.start(maxLease: .seconds(60))
        let stores = try await startStores(1, registryPorts: [cluster.registryPort])
        // A registered instance nothing listens for: as if its process was killed.
        let connection = try await cluster.connect()
        let dead = RegistryProtocol.InstanceRecord(service: "store", instance: "store-dead", host: "127.0.0.1", port: 1, version: "t", methods: ["whoami"])
        // The cluster's longest lease: a loaded machine must not expire the dead record before the caller meets it.
        _ = try await connection.call(service: "registry", method: "register", body: JSONBody.encode(RegistryProtocol.RegisterRequest(record: dead, leaseMs: 60_000)))
        #expect(await eventually { try await cluster.lookup("store").instances.count == 2 })

        let caller = RegistryCluster.caller(registryPorts: [cluster.registryPort])
        for _ in 0..<50 {
            let instance = try await caller.call("store", "whoami", Empty(), as: String.self)
            #expect(instance == stores[0].configuration.identity.instance)
        }
        try await stores[0].shutdown()
        try await cluster.stop()
    }

    @Test func anAddressNowServingAnotherInstanceGetsNoCalls() async throws {
        let cluster = try await RegistryCluster.start()
        let stores = try await startStores(1, registryPorts: [cluster.registryPort])
        // A stale record whose port a different process now listens on (as after a kill and a port reuse).
        let stranger = RegistryCluster.node("other", registryPorts: [])
        stranger.register("whoami", whoami("stranger"))
        let strangerPort = try await stranger.start().port!
        let connection = try await cluster.connect()
        let stale = RegistryProtocol.InstanceRecord(service: "store", instance: "store-killed", host: "127.0.0.1", port: strangerPort, version: "t", methods: ["whoami"])
        _ = try await connection.call(service: "registry", method: "register", body: JSONBody.encode(RegistryProtocol.RegisterRequest(record: stale, leaseMs: 30_000)))
        #expect(await eventually { try await cluster.lookup("store").instances.count == 2 })

        let caller = RegistryCluster.caller(registryPorts: [cluster.registryPort])
        for _ in 0..<30 {
            let instance = try await caller.call("store", "whoami", Empty(), as: String.self)
            #expect(instance == stores[0].configuration.identity.instance)
        }
        try await stranger.shutdown()
        try await stores[0].shutdown()
        try await cluster.stop()
    }

    @Test func callsKeepWorkingWhileTheRegistryRestarts() async throws {
        var cluster = try await RegistryCluster.start()
        let port = cluster.registryPort
        let stores = try await startStores(2, registryPorts: [port])
        let caller = RegistryCluster.caller(registryPorts: [port])
        #expect(await eventually { try await cluster.lookup("store").instances.count == 2 })
        _ = try await caller.call("store", "whoami", Empty(), as: String.self)

        // Registry down: routing continues from the last snapshot.
        try await cluster.stop()
        for _ in 0..<20 { _ = try await caller.call("store", "whoami", Empty(), as: String.self) }

        // A new, empty registry on the same port: the services register again by themselves.
        cluster = try await RegistryCluster.start(port: port)
        #expect(await eventually { try await cluster.lookup("store").instances.count == 2 })
        for _ in 0..<20 { _ = try await caller.call("store", "whoami", Empty(), as: String.self) }

        for store in stores { try await store.shutdown() }
        try await cluster.stop()
    }

    @Test func nodesRegisterWithEveryRegistry() async throws {
        let first = try await RegistryCluster.start()
        let second = try await RegistryCluster.start()
        let stores = try await startStores(1, registryPorts: [first.registryPort, second.registryPort])
        #expect(await eventually { try await first.lookup("store").instances.count == 1 })
        #expect(await eventually { try await second.lookup("store").instances.count == 1 })
        // Either registry alone is enough to find the service.
        try await first.stop()
        let caller = RegistryCluster.caller(registryPorts: [first.registryPort, second.registryPort])
        _ = try await caller.call("store", "whoami", Empty(), as: String.self)
        for store in stores { try await store.shutdown() }
        try await second.stop()
    }

    @Test func anUnknownServiceHasNoResponders() async throws {
        let cluster = try await RegistryCluster.start()
        let caller = RegistryCluster.caller(registryPorts: [cluster.registryPort])
        await #expect(throws: BusError(.noResponders, "no live instance of nobody")) {
            _ = try await caller.call(service: "nobody", method: "x")
        }
        try await cluster.stop()
    }
}

struct Empty: Codable, Sendable {}
