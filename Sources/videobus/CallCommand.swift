import ArgumentParser
import BusRuntime
import BusWire
import Foundation
import NIOCore
import NIOPosix

/// `videobus call SERVICE.METHOD JSON`: one request from the shell.
struct CallCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Send one request through the bus and print the reply.",
        discussion: """
            The reply's JSON goes to standard output; a typed error goes to standard error as CODE: MESSAGE.
            Exit status: 0 answered; 3 try again (unavailable, no-responders, overloaded, deadline-exceeded);
            4 the request was refused (invalid-argument, not-found, conflict, unimplemented, unauthenticated,
            permission-denied, limit-exceeded); 5 any other error.
            Next to a running `videobus up` (same --data-dir) no flag is needed: its token and registry are used.
            Example: videobus call echo.info '{}'
            """
    )

    @Argument(help: "The method to call, as service.method.")
    var target: String

    @Argument(help: "The request body (JSON).")
    var body: String = "{}"

    @Option(help: "Seconds to wait for the answer.")
    var timeout: Double = 5

    @Option(help: "Idempotency key: makes retrying after a lost connection safe.")
    var idempotencyKey: String?

    @Option(help: "The tenant the request is made for (the header's identity; tenant-scoped methods need it).")
    var tenant: String?

    @Option(help: "The user the request is made by (with --tenant).")
    var user: String?

    @Option(help: "The user's role: USER, ADMIN or ENTERPRISE (with --tenant).")
    var role: String?

    @OptionGroup var bus: CallerOptions

    var parsedTarget: (service: String, method: String)? { Self.parse(target) }

    /// `service.method`: the service up to the first dot, the method after it (`ingest.clips.get`).
    static func parse(_ target: String) -> (service: String, method: String)? {
        guard let dot = target.firstIndex(of: "."), dot != target.startIndex, target.index(after: dot) != target.endIndex else { return nil }
        return (String(target[..<dot]), String(target[target.index(after: dot)...]))
    }

    func validate() throws {
        guard parsedTarget != nil else { throw ValidationError("\(target) is not service.method") }
        guard (try? JSONSerialization.jsonObject(with: Data(body.utf8), options: [.fragmentsAllowed])) != nil else {
            throw ValidationError("the body is not valid JSON: \(body)")
        }
        guard timeout > 0 else { throw ValidationError("--timeout must be positive") }
        if tenant?.isEmpty == true { throw ValidationError("--tenant must not be empty") }
        if tenant == nil, user != nil || role != nil { throw ValidationError("--user and --role need --tenant") }
    }

    func run() async throws {
        let (service, method) = parsedTarget!
        try await withCallerNode(name: "call", registries: bus.registries, token: bus.token) { node in
            do {
                let answer = try await node.call(
                    service: service, method: method, body: ByteBuffer(string: body),
                    timeout: .nanoseconds(Int64(timeout * 1e9)), idempotencyKey: idempotencyKey,
                    identity: tenant.map { Identity(tenant: $0, user: user, role: role) }
                )
                printLine(String(buffer: answer))
            } catch let error as BusError {
                FileHandle.standardError.write(Data("\(error.code.rawValue): \(error.message)\n".utf8))
                throw ExitCode(Self.exitCode(for: error.code))
            }
        }
    }

    static func exitCode(for code: ErrorCode) -> Int32 {
        switch code {
        case .unavailable, .noResponders, .overloaded, .deadlineExceeded: 3
        case .invalidArgument, .notFound, .conflict, .unimplemented, .unauthenticated, .permissionDenied, .limitExceeded: 4
        default: 5
        }
    }
}

/// Runs `body` with a node that only calls (it serves nothing and registers
/// nowhere), and shuts the node down however `body` ends, before the command exits.
func withCallerNode<T>(name: String, registries: [ServiceAddress], token: String?, _ body: (BusNode) async throws -> T) async throws -> T {
    let node = BusNode(
        configuration: BusNode.Configuration(
            identity: NodeIdentity(service: name, instance: uniqueInstanceID(name), version: Videobus.configuration.version),
            token: token, registries: registries
        ),
        group: MultiThreadedEventLoopGroup.singleton
    )
    do {
        let result = try await body(node)
        try? await node.shutdown(grace: .zero)
        return result
    } catch {
        try? await node.shutdown(grace: .zero)
        throw error
    }
}
