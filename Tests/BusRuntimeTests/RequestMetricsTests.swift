import BusRuntime
import BusWire
import Metrics
import MetricsTestKit
import NIOCore
import Testing

/// Metrics go to a process-wide test backend, bootstrapped once.
let testMetrics: TestMetrics = {
    let metrics = TestMetrics()
    MetricsSystem.bootstrap(metrics)  // once per test process; no other suite bootstraps metrics
    return metrics
}()

@Suite struct RequestMetricsTests {
    @Test func everyRequestIsCountedByMethodAndOutcomeAndTimed() async throws {
        let metrics = testMetrics
        let service = "metered-\(UInt32.random(in: 0...UInt32.max))"
        let (server, client) = try await TestNodes.serve(service, methods: [
            "get": .inline { body, _ in body },
            "fail": .inline { _, _ in throw BusError(.notFound, "nothing here") },
        ])
        defer { Task { try await server.shutdown() } }
        for _ in 0..<3 { _ = try await client.call(service: service, method: "get", body: ByteBuffer(string: "{}")) }
        _ = try? await client.call(service: service, method: "fail")

        func count(_ method: String, _ outcome: String) throws -> Int64 {
            let counter = try metrics.expectCounter("videobus_requests_total", [("service", service), ("method", method), ("outcome", outcome)])
            return counter.totalValue
        }
        #expect(try count("get", "ok") == 3)
        #expect(try count("fail", "not-found") == 1)
        let timer = try metrics.expectTimer("videobus_request_duration_seconds", [("service", service), ("method", "get")])
        #expect(timer.values.count == 3)
    }
}
