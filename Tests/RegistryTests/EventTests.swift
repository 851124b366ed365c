import BusRuntime
import BusWire
import NIOConcurrencyHelpers
import NIOCore
import Registry
import TestSupport
import Testing

@Suite struct EventTests {
    /// Counts deliveries per (instance, event id).
    final class Deliveries: Sendable {
        let seen = NIOLockedValueBox<[String: [String]]>([:])
        func record(_ instance: String, _ eventID: String) { seen.withLockedValue { $0[instance, default: []].append(eventID) } }
        var byInstance: [String: [String]] { seen.withLockedValue { $0 } }
    }

    func subscriber(_ service: String, cluster: RegistryCluster, deliveries: Deliveries, failing: Bool = false) async throws -> BusNode {
        // A lease a loaded machine's late heartbeats cannot lose: a subscriber missing from the
        // registry for a moment would miss events published meanwhile (they go to live groups).
        let node = RegistryCluster.node(service, registryPorts: [cluster.registryPort], lease: .seconds(10))
        let instance = node.configuration.identity.instance
        node.subscribe("asset.created") { payload, delivery in
            if failing { throw BusError(.unavailable, "database is down") }
            #expect(String(buffer: payload).contains("asset"))
            deliveries.record(instance, delivery.eventID)
        }
        try await node.start()
        return node
    }

    @Test func eachEventReachesOneInstanceOfEverySubscribingGroup() async throws {
        let cluster = try await RegistryCluster.start(maxLease: .seconds(10))
        let analytics = Deliveries(), billing = Deliveries()
        let nodes = [
            try await subscriber("analytics", cluster: cluster, deliveries: analytics),
            try await subscriber("analytics", cluster: cluster, deliveries: analytics),
            try await subscriber("billing", cluster: cluster, deliveries: billing),
        ]
        let publisher = RegistryCluster.node("ingest", registryPorts: [cluster.registryPort])
        try await publisher.start()
        // The publisher routes from its own snapshot: wait until it shows all three subscribers.
        #expect(await eventually { try await publisher.registrySnapshot().instances.filter { !$0.record.subscriptions.isEmpty }.count == 3 })

        for n in 0..<40 {
            let report = await publisher.publish(topic: "asset.created", payload: ByteBuffer(string: #"{"asset_id":"asset-\#(n)"}"#), eventID: "evt-\(n)")
            #expect(report.isComplete)
            #expect(report.acknowledged == ["analytics", "billing"])
        }
        // Every event exactly once per group; the analytics group spreads over both instances.
        let analyticsEvents = analytics.byInstance.values.flatMap { $0 }
        #expect(analyticsEvents.sorted() == (0..<40).map { "evt-\($0)" }.sorted())
        #expect(analytics.byInstance.count == 2)
        #expect(billing.byInstance.values.flatMap { $0 }.count == 40)

        let nobody = await publisher.publish(topic: "nobody.listens", payload: ByteBuffer(string: "{}"), eventID: "evt-x")
        #expect(nobody.acknowledged.isEmpty && nobody.isComplete)

        for node in nodes + [publisher] { try await node.shutdown() }
        try await cluster.stop()
    }

    @Test func aRefusedEventIsReportedToThePublisherWithItsCode() async throws {
        let cluster = try await RegistryCluster.start()
        let node = try await subscriber("billing", cluster: cluster, deliveries: Deliveries(), failing: true)
        let publisher = RegistryCluster.node("ingest", registryPorts: [cluster.registryPort])
        #expect(await eventually { try await cluster.lookup("billing").instances.count == 1 })
        // Discovery first: it counts against the publish deadline, and a loaded machine may be slow to it.
        #expect(await eventually { try await publisher.registrySnapshot(timeout: .seconds(5)).instances.contains { $0.record.service == "billing" } })
        // A deadline no loaded machine reaches: the refusal comes back at once; its code is the point.
        let report = await publisher.publish(topic: "asset.created", payload: ByteBuffer(string: #"{"asset_id":"asset-1"}"#), eventID: "evt-1", timeout: .seconds(30))
        #expect(!report.isComplete)
        // The handler's own error (not retryable: handlers may have had effects) reaches the publisher.
        #expect(report.failed["billing"] == BusError(.unavailable, "database is down", retryable: false))
        try await node.shutdown()
        try await cluster.stop()
    }
}
