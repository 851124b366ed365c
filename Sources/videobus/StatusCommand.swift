import ArgumentParser
import BusRuntime
import BusWire
import Foundation

/// `videobus status`: every instance the registry knows.
struct StatusCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "List every registered instance: service, address, state, lease age, requests in flight."
    )

    @OptionGroup var bus: CallerOptions

    @Flag(help: "Print the registry's snapshot as JSON.")
    var json = false

    @Option(help: "Seconds to wait for a registry's answer.")
    var timeout: Double = 5

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    func run() async throws {
        let snapshot = try await withCallerNode(name: "status", registries: bus.registries, token: bus.token) { node in
            do {
                return try await node.registrySnapshot(timeout: .nanoseconds(Int64(timeout * 1e9)))
            } catch let error as BusError {
                FileHandle.standardError.write(Data("\(error.code.rawValue): \(error.message)\n".utf8))
                throw ExitCode(3)
            }
        }
        if json {
            printLine(String(buffer: try JSONBody.encode(snapshot)))
            return
        }
        let rows = [["SERVICE", "INSTANCE", "ADDRESS", "STATE", "LEASE AGE", "IN FLIGHT", "VERSION"]]
            + snapshot.instances.map {
                [$0.record.service, $0.record.instance, "\($0.record.host):\($0.record.port)", $0.state.rawValue,
                 String(format: "%.1fs", Double($0.leaseAgeMs) / 1000), "\($0.inFlight)", $0.record.version]
            }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max()! }
        for row in rows {
            printLine(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
        if snapshot.instances.isEmpty { printLine("(no instances registered)") }
    }
}
