@testable import BusRuntime
import BusWire
import NIOCore
import NIOPosix
import Registry
import TestSupport
import Testing

/// Regressions found in review: registration after an early call, failure
/// counting of shared connection attempts, deadlines while connecting, and
/// the drain of a registry holding watches.
@Suite struct ReviewRegressionTests {
    static func register(_ record: RegistryProtocol.InstanceRecord, at cluster: RegistryCluster) async throws {
        let connection = try await cluster.connect(instance: "x-\(record.instance)")
        defer { Task { await connection.close() } }
        _ = try await connection.call(service: "registry", method: "register", body: JSONBody.encode(RegistryProtocol.RegisterRequest(record: record, leaseMs: 10_000)))
    }

    @Test func aNodeThatCallsBeforeItStartsStillRegisters() async throws {
        let cluster = try await RegistryCluster.start()
        let node = RegistryCluster.node("store", registryPorts: [cluster.registryPort])
        _ = try? await node.call(service: "nobody", method: "x", timeout: .milliseconds(200))
        try await node.start()
        #expect(await eventually { try await cluster.lookup("store").instances.count == 1 })
        try await node.shutdown()
        try await cluster.stop()
    }

    @Test func concurrentCallersOfOneFailedAttemptCountOneFailure() async throws {
        let pool = PeerPool(configuration: BusNode.Configuration(identity: NodeIdentity(service: "c", instance: "c-1", version: "t")), group: RegistryCluster.group)
        let dead = RegistryProtocol.InstanceRecord(service: "store", instance: "store-dead", host: "127.0.0.1", port: 1, version: "t", methods: [])
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<10 {
                group.addTask { _ = try? await pool.connection(to: dead, deadline: .now() + .seconds(5)) }
            }
        }
        // Ten callers shared at most a few attempts: fewer than the three failures that eject.
        // (Asked as of the start of time: whether an ejection was ever set, however short it is.)
        let epoch = NIODeadline.uptimeNanoseconds(0)
        #expect(!pool.isEjected(dead, now: epoch))
        for _ in 0..<3 { _ = try? await pool.connection(to: dead, deadline: .now() + .seconds(5)) }
        #expect(pool.isEjected(dead, now: epoch))
        await pool.closeAll()
    }

    @Test func aCallNeverWaitsPastItsDeadlineForAHandshakeThatHangs() async throws {
        // Accepts TCP and never answers the hello.
        let listener = try await ServerBootstrap(group: RegistryCluster.group).bind(host: "127.0.0.1", port: 0).get()
        defer { listener.close(promise: nil) }
        // A lease long enough that a loaded machine never expires the hand-registered instance mid-test.
        let cluster = try await RegistryCluster.start(maxLease: .seconds(60))
        try await Self.register(RegistryProtocol.InstanceRecord(service: "stuck", instance: "stuck-1", host: "127.0.0.1", port: listener.localAddress!.port!, version: "t", methods: []), at: cluster)

        // A connect timeout of two minutes: a call that waited for it rather than for its own
        // deadline would take that long, which no loaded machine confuses with 300 ms.
        let caller = BusNode(configuration: BusNode.Configuration(
            identity: NodeIdentity(service: "caller", instance: "caller-\(UInt32.random(in: 0...UInt32.max))", version: "test"),
            connectTimeout: .seconds(120), registries: [ServiceAddress(host: "127.0.0.1", port: cluster.registryPort)]
        ), group: RegistryCluster.group)
        // Discovery first (it counts against a call's deadline too): this test is about connecting.
        #expect(await eventually(timeout: .seconds(90)) { try await caller.registrySnapshot(timeout: .seconds(5)).instances.contains { $0.record.service == "stuck" } })
        let started = ContinuousClock.now
        let error = await #expect(throws: BusError.self) {
            _ = try await caller.call(service: "stuck", method: "x", timeout: .milliseconds(300))
        }
        #expect(error?.code == .deadlineExceeded)
        #expect(ContinuousClock.now - started < .seconds(60), "the call waited for the connect timeout, not its deadline")
        try await cluster.stop()
    }

    @Test func aDrainingRegistryAnswersItsHeldWatchesAtOnce() async throws {
        let cluster = try await RegistryCluster.start()
        let caller = RegistryCluster.caller(registryPorts: [cluster.registryPort])
        _ = try await caller.registrySnapshot(timeout: .seconds(30))  // the caller now holds a 10 s watch open
        let started = ContinuousClock.now
        try await cluster.registry.shutdown(grace: .seconds(10))
        cluster.expiry.cancel()
        // Correctness bound: the held watch was answered, not waited out.
        #expect(ContinuousClock.now - started < .seconds(5))
    }
}
