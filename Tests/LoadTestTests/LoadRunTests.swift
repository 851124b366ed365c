import BusRuntime
import BusWire
import LoadTest
import NIOCore
import NIOPosix
import Testing

/// The harness accounts for every request and measures what it ran.
/// (Its figures are reported by `videobus loadtest`, never asserted here.)
@Suite struct LoadRunTests {
    static let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)

    func node(_ service: String) -> BusNode {
        BusNode(configuration: BusNode.Configuration(identity: NodeIdentity(service: service, instance: "\(service)-1", version: "test")), group: Self.group)
    }

    @Test(arguments: ["W1", "W3", "W4"])
    func aShortRunAccountsForEveryRequest(workload name: String) async throws {
        let server = node("echo")
        let port = try await server.start().port!
        defer { Task { try await server.shutdown() } }

        var workload = try #require(Workload.standard[name])
        workload.warmup = .milliseconds(100)
        workload.duration = .milliseconds(400)
        let report = try await LoadRun(workload: workload, host: "127.0.0.1", port: port, service: "echo", caller: node("loadtest")).run()

        #expect(report.ledger.sent > 0)
        #expect(report.ledger.lost == 0)
        #expect(report.ledger.failed == 0)
        #expect(report.ledger.answered == report.ledger.sent)
        #expect(report.latency.count > 0)
        #expect(report.latency.p50 <= report.latency.p99)
        #expect(report.jsonLine.contains("\"lost\":0"))
    }

    @Test func callsToAMissingServiceAreCountedAsFailedNotLost() async throws {
        let server = node("echo")
        let port = try await server.start().port!
        defer { Task { try await server.shutdown() } }
        var workload = Workload.standard["W2"]!
        workload.warmup = .zero
        workload.duration = .milliseconds(200)
        let report = try await LoadRun(workload: workload, host: "127.0.0.1", port: port, service: "nobody", caller: node("loadtest")).run()
        #expect(report.ledger.failures["unimplemented"] == report.ledger.sent)
        #expect(report.ledger.lost == 0)
    }
}
