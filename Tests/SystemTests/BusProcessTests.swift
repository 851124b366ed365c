import BusRuntime
import BusWire
import Foundation
import NIOCore
import NIOPosix
import TestSupport
import Testing

/// The bus as real processes: a registry and echo servers started from the
/// built executable, driven by the CLI and by an in-test node.
@Suite(.serialized) struct BusProcessTests {
    struct Cluster {
        var registry: VideobusProcess
        var registryPort: Int
        var servers: [VideobusProcess]

        var registryFlag: [String] { ["--registry", "127.0.0.1:\(registryPort)"] }

        static func start(servers count: Int) async throws -> Cluster {
            let registry = try VideobusProcess(["registry", "--port", "0", "--max-lease", "3"])
            let port = try await registry.listeningPort()
            var servers: [VideobusProcess] = []
            for _ in 0..<count {
                let server = try VideobusProcess(["serve", "echo", "--registry", "127.0.0.1:\(port)"])
                _ = try await server.listeningPort()
                servers.append(server)
            }
            return Cluster(registry: registry, registryPort: port, servers: servers)
        }

        func stop() {
            for server in servers { server.stop() }
            registry.stop()
        }

        func registeredEchoServers() async throws -> Int {
            let (status, output) = try await VideobusProcess.run(["status", "--json"] + registryFlag)
            guard status == 0 else { return -1 }
            return output.components(separatedBy: "\"service\":\"echo\"").count - 1
        }
    }

    @Test func callAndStatusWorkAgainstRealProcesses() async throws {
        let cluster = try await Cluster.start(servers: 2)
        defer { cluster.stop() }
        #expect(await eventually { try await cluster.registeredEchoServers() == 2 })

        let (status, table) = try await VideobusProcess.run(["status"] + cluster.registryFlag)
        #expect(status == 0)
        #expect(table.contains("SERVICE") && table.components(separatedBy: "serving").count - 1 == 2, "\(table)")

        let (callStatus, answer) = try await VideobusProcess.run(["call", "echo.echo", #"{"video_id":"test_001"}"#] + cluster.registryFlag)
        #expect(callStatus == 0)
        #expect(answer.contains(#"{"video_id":"test_001"}"#))

        let (unknownMethod, message) = try await VideobusProcess.run(["call", "echo.nope"] + cluster.registryFlag)
        #expect(unknownMethod == 4)
        #expect(message.contains("unimplemented: echo has no method nope"))
        let (noService, _) = try await VideobusProcess.run(["call", "nobody.ping"] + cluster.registryFlag)
        #expect(noService == 3)
        let (badJSON, _) = try await VideobusProcess.run(["call", "echo.echo", "{nope"] + cluster.registryFlag)
        #expect(badJSON == 64)  // ArgumentParser's usage error
    }

    @Test func aKilledServerIsRoutedAroundAndADrainedOneExitsCleanly() async throws {
        let cluster = try await Cluster.start(servers: 2)
        defer { cluster.stop() }
        #expect(await eventually { try await cluster.registeredEchoServers() == 2 })

        let caller = BusNode(configuration: BusNode.Configuration(
            identity: NodeIdentity(service: "system-test", instance: "system-test-\(getpid())", version: "test"),
            registries: [ServiceAddress(host: "127.0.0.1", port: cluster.registryPort)]
        ), group: MultiThreadedEventLoopGroup.singleton)

        // Eight callers run continuously, without idempotency keys, while one server is killed.
        // Only calls in flight at that moment may fail: promptly, as unavailable; later calls go to the live server.
        let killed = ManagedFlag()
        let outcomes = try await withThrowingTaskGroup(of: WorkerOutcome.self) { group in
            for worker in 0..<8 {
                group.addTask {
                    var outcome = WorkerOutcome()
                    for n in 0..<150 {
                        if worker == 0, n == 40 {
                            cluster.servers[0].signal(SIGKILL)
                            killed.set()
                        }
                        let body = ByteBuffer(string: "{\"w\":\(worker),\"n\":\(n)}")
                        let started = ContinuousClock.now
                        do {
                            let answer = try await caller.call(service: "echo", method: "echo", body: body, timeout: .seconds(5))
                            #expect(answer == body)
                            outcome.answered += 1
                        } catch {
                            outcome.failures.append(WorkerOutcome.Failure(code: (error as? BusError)?.code ?? .internal, after: ContinuousClock.now - started))
                        }
                    }
                    return outcome
                }
            }
            var all: [WorkerOutcome] = []
            for try await outcome in group { all.append(outcome) }
            return all
        }
        #expect(killed.isSet)
        let failures: [WorkerOutcome.Failure] = outcomes.flatMap { $0.failures }
        #expect(failures.count <= 8, "more calls failed than were in flight: \(failures.count)")
        for failure in failures {
            #expect(failure.code == .unavailable)
            #expect(failure.after < .seconds(2), "a call to the killed server took \(failure.after) to fail")
        }
        let answered = outcomes.reduce(0) { $0 + $1.answered }
        #expect(answered + failures.count == 8 * 150)

        // SIGTERM drains: the server deregisters and exits 0.
        cluster.servers[1].signal(SIGTERM)
        #expect(try await cluster.servers[1].exitStatus() == 0)
        #expect(await eventually { try await cluster.registeredEchoServers() == 0 })
        try await caller.shutdown(grace: .zero)
    }
}

/// A flag set once, read from any task.
final class ManagedFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var value = false
    func set() { lock.withLock { value = true } }
    var isSet: Bool { lock.withLock { value } }
}

struct WorkerOutcome: Sendable {
    struct Failure: Sendable {
        var code: ErrorCode
        var after: Duration
    }
    var answered = 0
    var failures: [Failure] = []
}
