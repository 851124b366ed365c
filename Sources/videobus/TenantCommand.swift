import ArgumentParser
import BusRuntime
import BusWire
import Contracts
import Foundation
import NIOCore
import ServiceKit

/// `videobus tenant create NAME` and `videobus tenant list`: ingest's
/// operator methods over the bus, against a running system.
struct TenantCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tenant",
        abstract: "Create and list tenants (over the bus, against a running system with ingest).",
        subcommands: [TenantCreate.self, TenantList.self]
    )
}

/// What both subcommands share: where the bus is (next to a running
/// `videobus up`, nothing to say), how long to wait.
struct TenantBusOptions: ParsableArguments {
    @OptionGroup var bus: CallerOptions

    @Option(help: "Seconds to wait for the answer.")
    var timeout: Double = 10

    func validate() throws {
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
    }

    /// Calls `method` on a caller node; a bus error is printed as CODE: MESSAGE and exits as `videobus call` does.
    func call<Request, Response>(_ method: BusMethod<Request, Response>, _ request: Request) async throws -> Response {
        try await withCallerNode(name: "tenant", registries: bus.registries, token: bus.token) { node in
            do {
                return try await node.call(method, request, timeout: .nanoseconds(Int64(timeout * 1e9)))
            } catch let error as BusError {
                FileHandle.standardError.write(Data("\(error.code.rawValue): \(error.message)\n".utf8))
                throw ExitCode(CallCommand.exitCode(for: error.code))
            }
        }
    }
}

struct TenantCreate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Create a tenant with a first ADMIN user, and print that user's API key (shown once).",
        discussion: "Example: videobus tenant create acme"
    )

    @Argument(help: "The tenant's name: 1 to 63 letters, digits, '_', '.', '-'; unique case-insensitively.")
    var name: String

    @Flag(help: "Print the answer as JSON.")
    var json = false

    @OptionGroup var bus: TenantBusOptions

    func run() async throws {
        let created = try await bus.call(IngestContracts.createTenant, .init(name: name))
        if json {
            printLine(String(buffer: try JSONBody.encode(created)))
            return
        }
        printLine("tenant:  \(created.tenantName) (id \(created.tenantId))")
        printLine("admin:   \(created.email) (user id \(created.userId))")
        printLine("api key: \(created.key)")
        printLine("The key is shown this once and cannot be recovered: keep it now.")
        printLine("Use it as: curl -H 'Authorization: Bearer \(created.key)' …")
    }
}

struct TenantList: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "list", abstract: "List every tenant, newest first.")

    @Flag(help: "Print the answer as JSON.")
    var json = false

    @OptionGroup var bus: TenantBusOptions

    func run() async throws {
        var tenants: [IngestContracts.Tenant] = []
        var cursor: String?
        repeat {
            let page = try await bus.call(IngestContracts.listTenants, .init(limit: IngestLimits.maxPageSize, cursor: cursor))
            tenants += page.tenants
            cursor = page.nextCursor
        } while cursor != nil
        if json {
            printLine(String(buffer: try JSONBody.encode(IngestContracts.TenantPage(tenants: tenants))))
            return
        }
        let rows = [["NAME", "ID", "CREATED"]] + tenants.map { [$0.name, $0.id, $0.createdAt] }
        let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max()! }
        for row in rows {
            printLine(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
        }
    }
}
