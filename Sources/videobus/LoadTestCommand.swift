import ArgumentParser
import BusRuntime
import BusWire
import Contracts
import Foundation
import LoadTest
import NIOCore
import NIOPosix

/// `videobus loadtest`: drives the bus directly and reports throughput, latency and delivery.
struct LoadTestCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "loadtest",
        abstract: "Drive the bus with a workload and report throughput, latency percentiles and the delivery ledger.",
        subcommands: [EchoLoad.self, CallLoad.self]
    )
}

struct EchoLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "Closed-loop calls to a service's echo method (W1–W4).",
        discussion: """
            W1: 1 connection × 64 in flight, 256-byte body.  W2: 1 in flight.
            W3: 16 in flight, 64 KiB compressible JSON.      W4: 8 connections × 16 in flight.
            Without --target the harness starts its own `videobus serve echo` process and reports its peak RSS.
            """
    )

    @Option(help: "Workload: W1, W2, W3, W4 or all.")
    var workload = "W1"

    @Option(help: "host:port of a running node; default: start one.")
    var target: String?

    @Option(help: "Service name of the target node.")
    var service = "echo"

    @Option(help: "Override: connections.") var connections: Int?
    @Option(help: "Override: calls in flight per connection.") var inFlight: Int?
    @Option(help: "Override: body size in bytes.") var bodyBytes: Int?
    @Option(help: "Override: realistic compressible JSON records (true) or a flat string body (false).") var compressible: Bool?
    @Option(help: "Seconds of warm-up (not measured).") var warmup: Double = 2
    @Option(help: "Seconds measured.") var duration: Double = 10
    @Option(help: "Event-loop threads of the harness.") var threads = 1
    @Option(help: "Event-loop threads of the server the harness starts.") var serverThreads = 1
    @Option(name: .customLong("token"), help: "Shared secret of the bus (default: $VIDEOBUS_TOKEN).")
    var tokenOption: String?
    var token: String? { try? busToken(tokenOption) }
    @Option(help: ArgumentHelp("For the harness's connections and the echo server it starts. " + compressionHelp, valueName: "auto|always|never"))
    var compression: CompressionMode = .auto
    @Flag(help: "Print one JSON line per run instead of the table.") var json = false

    func validate() throws {
        guard workload == "all" || Workload.standard[workload] != nil else { throw ValidationError("--workload must be W1, W2, W3, W4 or all") }
        guard warmup >= 0, duration > 0 else { throw ValidationError("--duration must be positive and --warmup not negative") }
        if let target, parse(target) == nil { throw ValidationError("--target must be host:port") }
        _ = try busToken(tokenOption)
        for (name, value) in [("--connections", connections), ("--in-flight", inFlight), ("--body-bytes", bodyBytes)] {
            if let value, value < 1 { throw ValidationError("\(name) must be at least 1") }
        }
    }

    private func parse(_ target: String) -> (String, Int)? {
        guard let colon = target.lastIndex(of: ":"), let port = Int(target[target.index(after: colon)...]), (1...65535).contains(port) else { return nil }
        return (String(target[..<colon]), port)
    }

    func run() async throws {
        let names = workload == "all" ? ["W1", "W2", "W3", "W4"] : [workload]
        let server = try target == nil ? SpawnedServer.start(threads: serverThreads, token: token, compression: compression) : nil
        defer { server?.stop() }
        let (host, port) = server.map { ("127.0.0.1", $0.port) } ?? parse(target!)!

        var workloads: [Workload] = []
        for name in names {
            var workload = Workload.standard[name]!
            workload.connections = connections ?? workload.connections
            workload.inFlight = inFlight ?? workload.inFlight
            workload.bodyBytes = bodyBytes ?? workload.bodyBytes
            workload.compressible = compressible ?? workload.compressible
            workload.warmup = .nanoseconds(Int64(warmup * 1e9))
            workload.duration = .nanoseconds(Int64(duration * 1e9))
            workloads.append(workload)
        }
        try await runWorkloads(workloads, host: host, port: port, service: service, threads: threads, token: token, compression: compression, json: json, serverPeakRSS: { server?.peakResidentBytes })
    }
}

/// `videobus loadtest call`: any method, with templated bodies.
struct CallLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Closed-loop calls of any method of a running node, with bodies from a template.",
        discussion: """
            In the body, {n} becomes a random key in 0..<--keys and {seq} a number unique to the run:
              videobus loadtest call analysis-store.create --target 127.0.0.1:7001 --body '{"video_id":"lt_{seq}","description":"A sunset"}'
              videobus loadtest call analysis-store.get --target 127.0.0.1:7001 --body '{"video_id":"lt_{n}"}' --keys 20000
            """
    )

    @Argument(help: "The method, as service.method.") var target: String
    @Option(name: .customLong("target"), help: "host:port of a running instance of the service.") var address: String
    @Option(help: "The request body template.") var body: String = "{}"
    @Option(help: "Keys {n} ranges over.") var keys = 1000
    @Option(help: "The tenant the calls are made for (tenant-scoped methods refuse calls without one).") var tenant = IngestContracts.defaultTenant
    @Option(help: "The user id the calls are made as (ingest.assets.create records it as the owner).") var user: String?
    @Option(help: "Connections.") var connections = 1
    @Option(help: "Calls in flight per connection.") var inFlight = 64
    @Option(help: "Seconds of warm-up (not measured).") var warmup: Double = 2
    @Option(help: "Seconds measured.") var duration: Double = 10
    @Option(help: "Event-loop threads of the harness.") var threads = 1
    @Option(name: .customLong("token"), help: "Shared secret of the bus (default: $VIDEOBUS_TOKEN).") var tokenOption: String?
    @Option(help: ArgumentHelp("For the harness's connections. " + compressionHelp, valueName: "auto|always|never"))
    var compression: CompressionMode = .auto
    @Flag(help: "Print one JSON line instead of the table.") var json = false

    func validate() throws {
        guard CallCommand.parse(target) != nil else { throw ValidationError("\(target) is not service.method") }
        guard ServiceAddress(address) != nil else { throw ValidationError("--target must be host:port") }
        guard !tenant.isEmpty else { throw ValidationError("--tenant must not be empty") }
        guard keys >= 1, connections >= 1, inFlight >= 1, duration > 0, warmup >= 0 else { throw ValidationError("counts and --duration must be positive") }
        _ = try busToken(tokenOption)
    }

    func run() async throws {
        let (service, method) = CallCommand.parse(target)!
        let address = ServiceAddress(self.address)!
        let workload = Workload(
            name: target, method: method, template: BodyTemplate(body, keys: keys), connections: connections, inFlight: inFlight,
            warmup: .nanoseconds(Int64(warmup * 1e9)), duration: .nanoseconds(Int64(duration * 1e9)), tenant: tenant, user: user
        )
        try await runWorkloads([workload], host: address.host, port: address.port, service: service, threads: threads,
                               token: try busToken(tokenOption), compression: compression, json: json, serverPeakRSS: { nil })
    }
}

/// Runs workloads one after the other, printing a table or a JSON line for each.
/// Exits 3 when any request was lost.
private func runWorkloads(
    _ workloads: [Workload], host: String, port: Int, service: String, threads: Int, token: String?, compression: CompressionMode, json: Bool,
    serverPeakRSS: @Sendable () -> Int?
) async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
    let caller = BusNode(
        configuration: BusNode.Configuration(
            identity: NodeIdentity(service: "loadtest", instance: uniqueInstanceID("loadtest"), version: Videobus.configuration.version),
            token: token, compression: CompressionPolicy(mode: compression)
        ),
        group: group
    )
    for workload in workloads {
        let run = LoadRun(workload: workload, host: host, port: port, service: service, caller: caller)
        let interactive = !json && isatty(STDERR_FILENO) == 1
        let name = workload.name
        var report = try await run.run { progress in
            guard interactive else { return }
            let line = "\r\(name) \(progress.phase) \(progress.elapsedSeconds)s: \(Int(progress.requestsPerSecond)) req/s, \(progress.failures) failed   "
            FileHandle.standardError.write(Data(line.utf8))
        }
        if interactive { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        report.serverPeakRSSBytes = serverPeakRSS()
        printLine(json ? report.jsonLine : report.table)
        if report.ledger.lost > 0 { throw ExitCode(3) }
    }
    try await group.shutdownGracefully()
}

/// A `videobus serve echo` child process started by the harness, stopped (by PID) when done.
final class SpawnedServer: Sendable {
    let process: Process
    let port: Int

    private init(process: Process, port: Int) {
        self.process = process
        self.port = port
    }

    static func start(threads: Int, token: String?, compression: CompressionMode = .auto) throws -> SpawnedServer {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["serve", "echo", "--port", "0", "--threads", "\(threads)", "--log-level", "warning", "--exit-with-parent", "--standalone", "--compression", compression.rawValue]
        // The secret goes through the environment, never the command line (which any local user can read in /proc).
        var environment = ProcessInfo.processInfo.environment
        environment["VIDEOBUS_TOKEN"] = token
        if token == nil { environment.removeValue(forKey: "VIDEOBUS_TOKEN") }
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        // The child's first line says where it listens.
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else {
                throw ValidationError("the echo server exited before listening (status \(process.terminationStatus))")
            }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...].trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw ValidationError("unexpected first line from the echo server: \(text)")
        }
        return SpawnedServer(process: process, port: port)
    }

    /// VmHWM of the child: its peak resident memory so far.
    var peakResidentBytes: Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(process.processIdentifier)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
            let kilobytes = Int(line.split(separator: " ").dropFirst().first ?? "")
        else { return nil }
        return kilobytes * 1024
    }

    func stop() {
        guard process.isRunning else { return }
        process.terminate()  // SIGTERM: the server drains and exits
        process.waitUntilExit()
    }
}
