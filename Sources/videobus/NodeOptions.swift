import ArgumentParser
import BusRuntime
import BusWire
import Foundation
import Logging
import NIOCore
import NIOPosix

/// Options every command that runs a bus node shares.
struct NodeOptions: ParsableArguments {
    @Option(help: "Address to listen on (loopback unless you mean to expose the node).")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one (default: 7700 for the registry, a free one otherwise).")
    var port: Int?

    @Option(name: .customLong("token"), help: "Shared secret of the bus (default: $VIDEOBUS_TOKEN).")
    var tokenOption: String?

    /// The flag, else the environment (checked not empty by ``validate()``).
    var token: String? { try? busToken(tokenOption) }

    @Option(name: .customLong("service-credential"), help: ArgumentHelp(
        "This service's registration credential, for a registry with a credentials file (default: $VIDEOBUS_SERVICE_CREDENTIAL; prefer the variable: ps shows flags).",
        valueName: "secret"
    ))
    var serviceCredentialOption: String?

    /// The flag, else the environment; nil when neither is set or it is empty.
    var serviceCredential: String? {
        let value = serviceCredentialOption ?? ProcessInfo.processInfo.environment["VIDEOBUS_SERVICE_CREDENTIAL"]
        return value?.isEmpty == false ? value : nil
    }

    @Option(help: "Event-loop threads (default: one per core).")
    var threads: Int = System.coreCount

    @Option(help: "Port of the HTTP endpoint serving GET /metrics (Prometheus); none when omitted.")
    var metricsPort: Int?

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var logLevel: Logger.Level = .info

    @Option(help: ArgumentHelp(compressionHelp, valueName: "auto|always|never"))
    var compression: CompressionMode = .auto

    func validate() throws {
        let token = try busToken(tokenOption)
        // Protected mode: refuse early, with the same words as BusNode.start.
        if token == nil, !BusNode.isLoopback(host) {
            throw ValidationError("refusing to listen on \(host) without a bus token: set VIDEOBUS_TOKEN or --token (or listen on 127.0.0.1)")
        }
        if let port, !(0...65535).contains(port) { throw ValidationError("--port must be 0...65535") }
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1") }
        if let metricsPort, !(0...65535).contains(metricsPort) { throw ValidationError("--metrics-port must be 0...65535") }
    }

    /// - Parameter defaultPort: the port when `--port` is not given.
    func configuration(service: String, defaultPort: Int = 0) -> BusNode.Configuration {
        let instance = uniqueInstanceID(service)
        return BusNode.Configuration(
            identity: NodeIdentity(service: service, instance: instance, version: Videobus.configuration.version),
            host: host, port: port ?? defaultPort, token: token, compression: CompressionPolicy(mode: compression), serviceCredential: serviceCredential
        )
    }

    func bootstrapLogging() {
        ProcessLogHandler.bootstrap(level: logLevel)
    }
}

extension Logger.Level: @retroactive ExpressibleByArgument {}

extension CompressionMode: ExpressibleByArgument {}

/// The help of every `--compression` option.
let compressionHelp = "Deflate of bodies: auto offers it and compresses only on a slow link (never to this host; from 10 ms round trip), always compresses bodies of 4 KiB or more that shrink, never neither offers nor uses it."

extension NodeOptions {
    /// Starts the /metrics endpoint when `--metrics-port` was given, printing where it listens.
    func startMetricsEndpoint(group: any EventLoopGroup) async throws -> (any Channel)? {
        guard let metricsPort else { return nil }
        let channel = try await MetricsEndpoint.bootstrap().start(host: host, port: metricsPort, group: group)
        printLine("videobus: metrics on http://\(host):\(channel.localAddress?.port ?? metricsPort)/metrics")
        return channel
    }
}

/// The bus token: `--token`, else `$VIDEOBUS_TOKEN`, else none. An empty
/// one is an error, never "no authentication": a variable set to "" by
/// mistake must not open the bus.
func busToken(_ option: String?, environment: [String: String] = ProcessInfo.processInfo.environment) throws -> String? {
    if let option {
        guard !option.isEmpty else { throw ValidationError("--token is empty: give the bus's secret, or omit --token and VIDEOBUS_TOKEN for a bus without one") }
        return option
    }
    if let variable = environment["VIDEOBUS_TOKEN"] {
        guard !variable.isEmpty else { throw ValidationError("VIDEOBUS_TOKEN is set but empty: give the bus's secret, or unset it for a bus without one") }
        return variable
    }
    return nil
}

/// `service-xxxxxxxx`: unique across hosts and containers (where every PID may be 1).
func uniqueInstanceID(_ service: String) -> String {
    "\(service)-\(String(UInt32.random(in: 0...UInt32.max), radix: 16))"
}

/// Writes a line to standard output at once (unbuffered), so a parent reading
/// a pipe sees it immediately.
func printLine(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
