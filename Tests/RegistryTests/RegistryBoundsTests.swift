import BusRuntime
import BusWire
import Foundation
import Synchronization
import NIOCore
import Registry
import TestSupport
import Testing

/// What one hostile peer can do to the registry: each test fails without its bound.
@Suite struct RegistryBoundsTests {
    func rawConnection(_ cluster: RegistryCluster, token: String? = nil) async throws -> PeerConnection {
        try await cluster.connect(as: "raw", instance: "raw-\(UInt32.random(in: 0...UInt32.max))", token: token)
    }

    func register(_ record: RegistryProtocol.InstanceRecord, on connection: PeerConnection) async throws {
        _ = try await connection.call(service: "registry", method: "register", body: JSONBody.encode(RegistryProtocol.RegisterRequest(record: record, leaseMs: 60_000)))
    }

    func record(_ instance: String, version: String = "t", methods: [String] = []) -> RegistryProtocol.InstanceRecord {
        RegistryProtocol.InstanceRecord(service: "ghost", instance: instance, host: "127.0.0.1", port: 9, version: version, methods: methods)
    }

    @Test func anOversizeRecordIsRefusedWhileOthersHeartbeatsAndLookupsKeepWorking() async throws {
        // Leases long enough that a loaded machine never expires a hand-registered instance mid-test.
        let cluster = try await RegistryCluster.start(maxLease: .seconds(60))
        // A lease a loaded machine's heartbeats keep (one every 1 s).
        let store = RegistryCluster.node("store", registryPorts: [cluster.registryPort], lease: .seconds(3))
        try await store.start()
        #expect(await eventually { try await cluster.lookup("store").instances.count == 1 })

        let hostile = try await rawConnection(cluster)
        let huge = String(repeating: "v", count: 1 << 20)  // any size past the bound; large enough to have hurt
        let versionError = await #expect(throws: BusError.self) { try await register(record("ghost-1", version: huge), on: hostile) }
        #expect(versionError?.code == .invalidArgument)
        #expect(versionError?.message.contains("max_version_bytes") == true)
        let methodsError = await #expect(throws: BusError.self) {
            try await register(record("ghost-1", methods: (0..<10_000).map { "m\($0)" }), on: hostile)
        }
        #expect(methodsError?.message.contains("max_list_entries") == true)
        let longMethod = await #expect(throws: BusError.self) { try await register(record("ghost-1", methods: [String(repeating: "m", count: 1000)]), on: hostile) }
        #expect(longMethod?.message.contains("max_entry_bytes") == true)

        // One connection registers at most 64 instances.
        for i in 0..<64 { try await register(record("ghost-\(i)"), on: hostile) }
        let tooMany = await #expect(throws: BusError.self) { try await register(record("ghost-64"), on: hostile) }
        #expect(tooMany?.code == .limitExceeded)
        #expect(tooMany?.message.contains("max_instances_per_connection") == true)
        // Registering an instance it already holds again is fine.
        try await register(record("ghost-3"), on: hostile)
        #expect(try await cluster.lookup("ghost").instances.count == 64)

        // The store's heartbeats keep it registered across several leases, and lookups answer.
        let instance = store.configuration.identity.instance
        for _ in 0..<3 {
            let view = try #require(try await cluster.lookup("store").instances.first)
            #expect(view.record.instance == instance)
            try await Task.sleep(for: .seconds(1)) // lets leases run: the bound is that it stays registered
        }
        await hostile.close()
        try await store.shutdown()
        try await cluster.stop()
    }

    @Test func aWatchFloodDoesNotStarveHeartbeatsOrLookups() async throws {
        // Few in-flight slots: without the watches' own budget, the held watches would take them all.
        // A long lease, so that no expiry changes the book (which would answer the held watches).
        let cluster = try await RegistryCluster.start(maxLease: .seconds(30)) { configuration in
            configuration.maxInFlightPerNode = 8
            configuration.maxLongPollsPerConnection = 4
            configuration.maxLongPollsPerNode = 100
        }
        let store = RegistryCluster.node("store", registryPorts: [cluster.registryPort], lease: .seconds(6))
        try await store.start()
        #expect(await eventually { try await cluster.lookup("store").instances.count == 1 })

        let revision = try await cluster.lookup().revision
        var flooders: [PeerConnection] = []
        let refused = Counter()
        for _ in 0..<4 {
            let connection = try await rawConnection(cluster)
            flooders.append(connection)
            for _ in 0..<6 {
                let promise = connection.eventLoop.makePromise(of: ByteBuffer.self)
                promise.futureResult.whenFailure { error in
                    if (error as? BusError)?.code == .overloaded { refused.value.add(1, ordering: .relaxed) }
                }
                connection.call(
                    FrameHeader(kind: .request, service: "registry", method: "watch"),
                    body: try JSONBody.encode(RegistryProtocol.WatchRequest(revision: revision, waitMs: 20_000)),
                    deadline: .now() + .seconds(25), promise: promise
                )
            }
        }
        // 4 per connection are held (16, twice the in-flight slots); the other 8 are answered overloaded at once.
        #expect(await eventually { refused.value.load(ordering: .relaxed) == 8 }, "refused \(refused.value.load(ordering: .relaxed)) of 24 watches")
        #expect(await eventually { cluster.registry.longPollsOutstanding >= 16 })

        // Meanwhile lookups answer, and the store's heartbeats (every 2 s) are served: its lease age drops again.
        var oldest = try #require(try await cluster.lookup("store").instances.first).leaseAgeMs
        #expect(await eventually(timeout: .seconds(10)) {
            let age = try #require(try await cluster.lookup("store").instances.first).leaseAgeMs
            defer { oldest = max(oldest, age) }
            return age < oldest
        }, "no heartbeat served while the watches were held")
        #expect(cluster.registry.longPollsOutstanding >= 16, "the flood's watches were still held")

        // Closing the connections ends their held watches at once, freeing the budget.
        for connection in flooders { await connection.close() }
        #expect(await eventually(timeout: .seconds(5)) { cluster.registry.longPollsOutstanding <= 1 }, "\(cluster.registry.longPollsOutstanding) long polls still held")
        try await store.shutdown()
        try await cluster.stop()
    }

    @Test func theRegistryHoldsAtMostMaxInstances() async throws {
        var limits = RegistryLimits()
        limits.maxInstances = 5
        let cluster = try await RegistryCluster.start(maxLease: .seconds(60), limits: limits)
        var connections: [PeerConnection] = []
        for c in 0..<3 {
            let connection = try await rawConnection(cluster)
            connections.append(connection)
            for i in 0..<2 where c * 2 + i < 5 { try await register(record("ghost-\(c)-\(i)"), on: connection) }
        }
        let full = await #expect(throws: BusError.self) { try await register(record("ghost-late"), on: connections[2]) }
        #expect(full?.code == .limitExceeded)
        #expect(full?.message.contains("max_instances") == true)
        // Re-registering one already held still works.
        try await register(record("ghost-0-0"), on: connections[0])
        for connection in connections { await connection.close() }
        try await cluster.stop()
    }

    @Test func aCallerWithAWrongTokenFailsAtOnceUnauthenticated() async throws {
        let cluster = try await RegistryCluster.start { $0.token = "s3cret" }
        let caller = BusNode(configuration: BusNode.Configuration(
            identity: NodeIdentity(service: "caller", instance: "caller-1", version: "t"), token: "guess",
            registries: [ServiceAddress(host: "127.0.0.1", port: cluster.registryPort)]
        ), group: RegistryCluster.group)
        let error = await #expect(throws: BusError.self) {
            _ = try await caller.call(service: "registry", method: "ping", body: ByteBuffer(string: "{}"), timeout: .seconds(60))
        }
        // Not its deadline's error: it was told it is refused rather than left waiting
        // (it used to wait out all of the deadline, then say no registry answered).
        #expect(error?.code == .unauthenticated, "\(String(describing: error))")
        try await caller.shutdown(grace: .zero)
        try await cluster.stop()
    }
}

final class Counter: Sendable {
    let value = Atomic<Int>(0)
}
