import BusWire
import Foundation
import NIOCore

/// The methods every node answers: `ping`, `echo` and `info`.
enum SystemMethods {
    struct Info: Codable, Sendable {
        var service: String
        var instance: String
        var version: String
        var uptimeMs: Int64
        var inFlight: Int
        var methods: [String]

        enum CodingKeys: String, CodingKey {
            case service, instance, version, methods
            case uptimeMs = "uptime_ms"
            case inFlight = "in_flight"
        }
    }

    static func install(into methods: inout [String: MethodHandler], configuration: BusNode.Configuration, node: BusNode) {
        let names = (Array(methods.keys) + Array(BusNode.systemMethods)).sorted()
        let startedAt = NIODeadline.now()
        methods["ping"] = .inline { _, _ in ByteBuffer(string: "{}") }
        // Answers with its body untouched: what the benchmarks measure is the bus.
        methods["echo"] = .inline { body, _ in body }
        methods["info"] = .inline { [weak node] _, _ in
            let identity = configuration.identity
            let info = Info(
                service: identity.service, instance: identity.instance, version: identity.version,
                uptimeMs: (NIODeadline.now() - startedAt).nanoseconds / 1_000_000,
                inFlight: node?.requestsInFlight ?? 0, methods: names
            )
            return try JSONBody.encode(info)
        }
    }
}
