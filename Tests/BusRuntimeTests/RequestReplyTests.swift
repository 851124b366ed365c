import BusRuntime
import BusWire
import Foundation
import NIOCore
import Testing

@Suite struct RequestReplyTests {
    struct Numbered: Codable, Sendable, Equatable {
        var n: Int
        var delayMs: Int

        enum CodingKeys: String, CodingKey {
            case n
            case delayMs = "delay_ms"
        }
    }

    @Test func manyCallsInFlightOnOneConnectionAreAnsweredOutOfOrderAndMatchedById() async throws {
        let (server, client) = try await TestNodes.serve(methods: [
            "slow": .json { (request: Numbered, _: RequestContext) async throws -> Numbered in
                try await Task.sleep(for: .milliseconds(request.delayMs))  // simulated work, not synchronisation
                return request
            }
        ])
        defer { Task { try await server.shutdown() } }

        let finishOrder = try await withThrowingTaskGroup(of: Int.self) { group in
            for n in 0..<200 {
                group.addTask {
                    let request = Numbered(n: n, delayMs: (200 - n) % 37)
                    let body = try await client.call(service: "store", method: "slow", body: JSONBody.encode(request))
                    let answer = try JSONBody.decode(Numbered.self, from: body)
                    #expect(answer == request)
                    return n
                }
            }
            var order: [Int] = []
            for try await n in group { order.append(n) }
            return order
        }
        #expect(finishOrder.count == 200)
        #expect(finishOrder != finishOrder.sorted(), "answers came back in request order: nothing was concurrent")
    }

    @Test func handlerErrorsReachTheCallerWithTheirCodeAndMessage() async throws {
        let (server, client) = try await TestNodes.serve(methods: [
            "get": .async { _, _ in throw BusError(.notFound, "no analysis for video test_001") },
            "crash": .async { _, _ in throw CocoaError(.fileNoSuchFile) },
        ])
        defer { Task { try await server.shutdown() } }
        await #expect(throws: BusError(.notFound, "no analysis for video test_001", retryable: false)) {
            try await client.call(service: "store", method: "get")
        }
        let error = await #expect(throws: BusError.self) { try await client.call(service: "store", method: "crash") }
        #expect(error?.code == .internal)
    }

    @Test func unknownServiceOrMethodIsUnimplemented() async throws {
        let (server, client) = try await TestNodes.serve()
        defer { Task { try await server.shutdown() } }
        let wrongService = await #expect(throws: BusError.self) { try await client.call(service: "ingest", method: "echo") }
        #expect(wrongService?.code == .unimplemented)
        await #expect(throws: BusError(.unimplemented, "store has no method nope")) {
            try await client.call(service: "store", method: "nope")
        }
    }

    @Test func invalidJSONBodiesAreInvalidArgument() async throws {
        let (server, client) = try await TestNodes.serve(methods: [
            "slow": .json { (request: Numbered, _: RequestContext) async throws -> Numbered in request }
        ])
        defer { Task { try await server.shutdown() } }
        await #expect(throws: BusError(.invalidArgument, #"body: missing field "delay_ms""#)) {
            try await client.call(service: "store", method: "slow", body: ByteBuffer(string: #"{"n":1}"#))
        }
        await #expect(throws: BusError(.invalidArgument, "body: not valid JSON")) {
            try await client.call(service: "store", method: "slow", body: ByteBuffer(string: "{"))
        }
    }

    @Test func systemMethodsAnswerOnEveryNode() async throws {
        let (server, client) = try await TestNodes.serve(methods: ["get": .inline { body, _ in body }])
        defer { Task { try await server.shutdown() } }
        #expect(String(buffer: try await client.call(service: "store", method: "ping")) == "{}")
        let body = ByteBuffer(string: #"{"payload":"\#(String(repeating: "x", count: 300_000))"}"#)
        #expect(try await client.call(service: "store", method: "echo", body: body) == body)
        let info = try JSONSerialization.jsonObject(with: Data(try await client.call(service: "store", method: "info").readableBytesView)) as! [String: Any]
        #expect(info["service"] as? String == "store")
        #expect(info["methods"] as? [String] == ["echo", "get", "info", "ping"])
    }

    @Test func bodiesOverThePeersLimitFailLocallyNamingTheLimit() async throws {
        let server = BusNode(configuration: TestNodes.configuration("store", limits: WireLimits(maxBodyBytes: 1000)), group: TestNodes.group)
        let port = try await server.start().port!
        defer { Task { try await server.shutdown() } }
        let client = try await BusNode(configuration: TestNodes.configuration("caller"), group: TestNodes.group).connect(host: "127.0.0.1", port: port)
        await #expect(throws: BusError(.limitExceeded, "body of 1001 bytes exceeds max_body_bytes 1000 bytes", retryable: false)) {
            try await client.call(service: "store", method: "echo", body: ByteBuffer(repeating: 0x61, count: 1001))
        }
        // The connection is still good.
        #expect(try await client.call(service: "store", method: "echo", body: ByteBuffer(string: "{}")) == ByteBuffer(string: "{}"))
    }

    /// Large compressible bodies, many in flight: compressed both ways, flushed
    /// as they are encoded, each answer intact and matched to its call.
    @Test func largeCompressedBodiesPipelineIntact() async throws {
        let (server, client) = try await TestNodes.serve()
        defer { Task { try await server.shutdown() } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for n in 0..<16 {
                group.addTask {
                    let body = ByteBuffer(string: "[" + (0..<4000).map { #"{"n":\#(n),"i":\#($0)}"# }.joined(separator: ",") + "]")
                    let answer = try await client.call(service: "store", method: "echo", body: body)
                    #expect(answer == body)
                }
            }
            try await group.waitForAll()
        }
    }
}
