@testable import BusRuntime
import BusWire
import Foundation
import NIOCore
import Registry
import TestSupport
import Testing

/// Nobody can poison the registry: a record belongs to the connection that
/// registered it (or to its process), and with a credentials file only the
/// holders of a service's secret register that service.
@Suite struct RegistryOwnershipTests {
    static let storeSecret = "store-secret-0123456789abcdef"

    func rawConnection(_ cluster: RegistryCluster, token: String? = nil) async throws -> PeerConnection {
        try await cluster.connect(as: "raw", instance: "raw-\(UInt32.random(in: 0...UInt32.max))", token: token)
    }

    func register(_ record: RegistryProtocol.InstanceRecord, on connection: PeerConnection, credential: String? = nil, instanceKey: String? = nil) async throws {
        let request = RegistryProtocol.RegisterRequest(record: record, leaseMs: 60_000, credential: credential, instanceKey: instanceKey)
        _ = try await connection.call(service: "registry", method: "register", body: JSONBody.encode(request))
    }

    func heartbeat(_ instance: String, _ state: RegistryProtocol.InstanceState = .serving, on connection: PeerConnection) async throws {
        _ = try await connection.call(service: "registry", method: "heartbeat", body: JSONBody.encode(RegistryProtocol.HeartbeatRequest(instance: instance, state: state, inFlight: 0)))
    }

    func deregister(_ instance: String, on connection: PeerConnection, instanceKey: String? = nil) async throws {
        _ = try await connection.call(service: "registry", method: "deregister", body: JSONBody.encode(RegistryProtocol.DeregisterRequest(instance: instance, instanceKey: instanceKey)))
    }

    func record(_ instance: String, service: String = "store", port: Int = 9) -> RegistryProtocol.InstanceRecord {
        RegistryProtocol.InstanceRecord(service: service, instance: instance, host: "127.0.0.1", port: port, version: "t", methods: [])
    }

    func expectDenied(_ what: String, _ body: () async throws -> Void) async {
        let error = await #expect(throws: BusError.self, "\(what)") { try await body() }
        #expect(error?.code == .permissionDenied, "\(what): \(String(describing: error))")
    }

    @Test func anotherConnectionCannotOverwriteHeartbeatOrDeregisterAnInstance() async throws {
        let cluster = try await RegistryCluster.start(maxLease: .seconds(60))
        // A lease no loaded machine lets lapse mid-test.
        let store = RegistryCluster.node("store", registryPorts: [cluster.registryPort], lease: .seconds(15))
        try await store.start()
        let instance = store.configuration.identity.instance
        #expect(await eventually { try await cluster.lookup("store").instances.count == 1 })
        let real = try #require(try await cluster.lookup("store").instances.first)

        let hostile = try await rawConnection(cluster)
        await expectDenied("overwrite") { try await register(record(instance, port: 9), on: hostile) }
        await expectDenied("heartbeat as draining") { try await heartbeat(instance, .draining, on: hostile) }
        await expectDenied("deregister") { try await deregister(instance, on: hostile) }
        await expectDenied("deregister with a guessed key") { try await deregister(instance, on: hostile, instanceKey: "guess") }
        let after = try #require(try await cluster.lookup("store").instances.first)
        #expect(after.record == real.record)
        #expect(after.state == .serving)

        // The owner can do all of it.
        let owner = try await rawConnection(cluster)
        try await register(record("ghost-1"), on: owner)
        try await heartbeat("ghost-1", .draining, on: owner)
        #expect(try await cluster.lookup("store").instances.first { $0.record.instance == "ghost-1" }?.state == .draining)
        try await register(record("ghost-1", port: 10), on: owner)
        #expect(try await cluster.lookup("store").instances.first { $0.record.instance == "ghost-1" }?.record.port == 10)
        await expectDenied("heartbeat another's ghost") { try await heartbeat("ghost-1", on: hostile) }
        try await deregister("ghost-1", on: owner)
        #expect(try await cluster.lookup("store").instances.map(\.record.instance) == [instance])

        await hostile.close()
        await owner.close()
        try await store.shutdown()
        #expect(await eventually { try await cluster.lookup("store").instances.isEmpty })
        try await cluster.stop()
    }

    @Test func theSameProcessReclaimsItsRecordOverANewConnectionWithItsKey() async throws {
        let cluster = try await RegistryCluster.start(maxLease: .seconds(60))
        let first = try await rawConnection(cluster)
        try await register(record("store-1"), on: first, instanceKey: "key-of-store-1")
        let second = try await rawConnection(cluster)
        // Without the key the new connection is a stranger, even while the first is open or after it closed.
        await expectDenied("heartbeat from a new connection") { try await heartbeat("store-1", on: second) }
        await expectDenied("register with another key") { try await register(record("store-1"), on: second, instanceKey: "key-of-someone") }
        await first.close()
        #expect(await eventually { cluster.registry.connectionCount == 1 })
        await expectDenied("register without the key after the owner left") { try await register(record("store-1"), on: second) }
        // With it, the record moves to the new connection: heartbeats work there, not on the old owner's.
        try await register(record("store-1"), on: second, instanceKey: "key-of-store-1")
        try await heartbeat("store-1", on: second)
        try await deregister("store-1", on: second)
        #expect(try await cluster.lookup("store").instances.isEmpty)
        await second.close()
        try await cluster.stop()
    }

    @Test func aNodeWhoseRegistryConnectionDroppedKeepsHeartbeatingItsRecord() async throws {
        let cluster = try await RegistryCluster.start(maxLease: .seconds(60))
        // A lease long enough that a loaded machine never lets it lapse: the test is about ownership, not expiry.
        let store = RegistryCluster.node("store", registryPorts: [cluster.registryPort], lease: .seconds(15))
        try await store.start()
        let instance = store.configuration.identity.instance
        #expect(await eventually { try await cluster.lookup("store").instances.count == 1 })
        let revision = try await cluster.lookup().revision

        /// Whether the registry renewed the instance's lease after `instant`.
        func renewed(after instant: ContinuousClock.Instant) async throws -> Bool {
            let asked = ContinuousClock.now
            guard let view = try await cluster.lookup("store").instances.first, view.record.instance == instance else { return false }
            return Duration.milliseconds(view.leaseAgeMs) < asked - instant
        }
        await store.registry!.dropConnections()
        let dropped = ContinuousClock.now
        // Its first heartbeat on the new connection is refused; it registers again with its
        // key (a renewal), and from then on heartbeats there renew the lease.
        #expect(await eventually(timeout: .seconds(60)) { try await renewed(after: dropped) })
        let reclaimed = ContinuousClock.now
        #expect(await eventually(timeout: .seconds(60)) { try await renewed(after: reclaimed) })
        // Never removed and added again: the book did not change.
        #expect(try await cluster.lookup().revision == revision)
        try await store.shutdown()
        // Shutdown deregisters over a fresh connection, with the key.
        #expect(await eventually { try await cluster.lookup("store").instances.isEmpty })
        try await cluster.stop()
    }

    @Test func aNodeDrainingRightAfterItsConnectionDroppedIsShownDrainingAtOnce() async throws {
        let cluster = try await RegistryCluster.start(maxLease: .seconds(60))
        // A long lease: the node's own loop heartbeats only every 10 s, so what follows is the drain's doing.
        let store = RegistryCluster.node("store", registryPorts: [cluster.registryPort], lease: .seconds(30))
        try await store.start()
        let instance = store.configuration.identity.instance
        #expect(await eventually { try await cluster.lookup("store").instances.count == 1 })
        await store.registry!.dropConnections()
        await store.registry!.announceDraining(instance: instance, inFlight: 0)
        #expect(try await cluster.lookup("store").instances.first?.state == .draining)
        try await store.shutdown()
        #expect(await eventually { try await cluster.lookup("store").instances.isEmpty })
        try await cluster.stop()
    }

    @Test func withCredentialsOnlyAServicesSecretRegistersIt() async throws {
        let credentials = RegistryCredentials(["store": [Self.storeSecret]])
        let cluster = try await RegistryCluster.start(maxLease: .seconds(60), credentials: credentials)
        let peer = try await rawConnection(cluster)
        await expectDenied("no credential") { try await register(record("store-1"), on: peer) }
        await expectDenied("a wrong credential") { try await register(record("store-1"), on: peer, credential: "store-secret-0123456789abcdeX") }
        await expectDenied("a prefix of the credential") { try await register(record("store-1"), on: peer, credential: String(Self.storeSecret.dropLast())) }
        await expectDenied("store's credential for another service") { try await register(record("billing-1", service: "billing"), on: peer, credential: Self.storeSecret) }
        try await register(record("store-1"), on: peer, credential: Self.storeSecret)
        #expect(try await cluster.lookup("store").instances.map(\.record.instance) == ["store-1"])

        // A real node with its credential registers; one without does not.
        let good = RegistryCluster.node("store", registryPorts: [cluster.registryPort], credential: Self.storeSecret)
        let bad = RegistryCluster.node("store", registryPorts: [cluster.registryPort])
        try await good.start()
        try await bad.start()
        #expect(await eventually { try await cluster.lookup("store").instances.contains { $0.record.instance == good.configuration.identity.instance } })
        #expect(try await !cluster.lookup("store").instances.contains { $0.record.instance == bad.configuration.identity.instance })

        // Once its owner left, the service's credential re-claims a record (a restarted
        // instance keeping its name); while the owner is there, it does not.
        let other = try await rawConnection(cluster)
        await expectDenied("claim while the owner is connected") { try await register(record("store-1", port: 11), on: other, credential: Self.storeSecret) }
        await peer.close()
        #expect(await eventually {
            do {
                try await register(record("store-1", port: 11), on: other, credential: Self.storeSecret)
                return true
            } catch { return false }
        })
        #expect(try await cluster.lookup("store").instances.first { $0.record.instance == "store-1" }?.record.port == 11)

        await other.close()
        try await good.shutdown()
        try await bad.shutdown()
        try await cluster.stop()
    }

    @Test func withoutCredentialsAnOrphanedRecordWaitsForItsLease() async throws {
        let cluster = try await RegistryCluster.start(maxLease: .seconds(60))
        let first = try await rawConnection(cluster)
        try await register(record("store-1"), on: first)
        await first.close()
        #expect(await eventually { cluster.registry.connectionCount == 0 })
        let second = try await rawConnection(cluster)
        await expectDenied("claim an orphan before it expired") { try await register(record("store-1", port: 12), on: second) }
        #expect(try await cluster.lookup("store").instances.first?.record.port == 9)
        await second.close()
        try await cluster.stop()
    }

    @Test func credentialsAreReadFromAFileAndReloaded() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("credentials-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        let old = "old-store-secret-0123456789", new = "new-store-secret-0123456789"
        try "# service secret\nstore \(old)\n\nother other-secret-0123456789\n".write(to: file, atomically: true, encoding: .utf8)
        let service = RegistryService(credentials: try RegistryCredentials(contentsOf: file.path))
        #expect(service.credentials?.accepts(old, for: "store") == true)
        #expect(service.credentials?.accepts(new, for: "store") == false)

        // Rotation: add the new secret (both work), then remove the old.
        try "store \(old)\nstore \(new)\n".write(to: file, atomically: true, encoding: .utf8)
        #expect(try service.reloadCredentials() == 1)
        #expect(service.credentials?.accepts(old, for: "store") == true)
        #expect(service.credentials?.accepts(new, for: "store") == true)
        try "store \(new)\n".write(to: file, atomically: true, encoding: .utf8)
        try service.reloadCredentials()
        #expect(service.credentials?.accepts(old, for: "store") == false)
        #expect(service.credentials?.accepts(new, for: "store") == true)

        // A broken file is refused, naming the line but not its secret, and the secrets in use stay.
        try "store \(new)\nstore \(old) extra\n".write(to: file, atomically: true, encoding: .utf8)
        let error = #expect(throws: CredentialsError.self) { try service.reloadCredentials() }
        #expect(error?.description.contains("line 2") == true)
        #expect(error?.description.contains(old) == false)
        #expect(service.credentials?.accepts(new, for: "store") == true)
        #expect(service.credentials?.accepts(nil, for: "store") == false)
        #expect(service.credentials?.accepts("", for: "store") == false)
    }

    @Test func aRegistryWithATokenRefusesPeersWithoutIt() async throws {
        let cluster = try await RegistryCluster.start { $0.token = "registry-token-0123456789" }
        let error = await #expect(throws: BusError.self) { _ = try await rawConnection(cluster) }
        #expect(error?.code == .unauthenticated)
        let peer = try await rawConnection(cluster, token: "registry-token-0123456789")
        try await register(record("store-1"), on: peer)
        await peer.close()
        try await cluster.stop()
    }

    @Test func callsFollowAnInstanceToItsNewAddress() async throws {
        let cluster = try await RegistryCluster.start(maxLease: .seconds(60))
        // Two processes' worth of nodes answering under the same instance name, unregistered:
        // the test moves the record between them, as an instance restarted on another port would.
        func server(_ answer: String) async throws -> (BusNode, Int) {
            let node = BusNode(configuration: BusNode.Configuration(identity: NodeIdentity(service: "store", instance: "store-1", version: "t")), group: RegistryCluster.group)
            node.register("whoami", .inline { _, _ in ByteBuffer(string: "\"\(answer)\"") })
            return (node, try await node.start().port!)
        }
        let (old, oldPort) = try await server("old")
        let (new, newPort) = try await server("new")
        let owner = try await rawConnection(cluster)
        try await register(record("store-1", port: oldPort), on: owner)

        let caller = RegistryCluster.caller(registryPorts: [cluster.registryPort])
        #expect(try await caller.call("store", "whoami", [String: String](), as: String.self, timeout: .seconds(60)) == "old")
        try await register(record("store-1", port: newPort), on: owner)
        #expect(await eventually { try await caller.call("store", "whoami", [String: String](), as: String.self, timeout: .seconds(60)) == "new" })
        // From then on every call goes to the new address, none over the pooled old connection.
        for _ in 0..<20 { #expect(try await caller.call("store", "whoami", [String: String](), as: String.self, timeout: .seconds(60)) == "new") }
        #expect(await eventually { old.connectionCount == 0 }, "the connection to the old address is retired")

        await owner.close()
        try await caller.shutdown(grace: .zero)
        try await old.shutdown(grace: .zero)
        try await new.shutdown(grace: .zero)
        try await cluster.stop()
    }
}
