import BusRuntime
import BusWire
import LoadTest
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing

@Suite struct BodyTemplateTests {
    @Test func placeholdersAreFilledPerRequest() {
        var generator = SystemRandomNumberGenerator()
        let template = BodyTemplate(#"{"video_id":"v_{n}","seq":{seq},"note":"{not a placeholder}"}"#, keys: 3)
        #expect(!template.isFixed)
        for sequence in 0..<50 {
            let body = String(buffer: template.render(sequence: UInt64(sequence), generator: &generator))
            #expect(body.hasSuffix(#","seq":\#(sequence),"note":"{not a placeholder}"}"#), "\(body)")
            #expect([#"{"video_id":"v_0""#, #"{"video_id":"v_1""#, #"{"video_id":"v_2""#].contains { body.hasPrefix($0) }, "\(body)")
        }
        #expect(BodyTemplate("{}").isFixed)
    }

    @Test func sequencesAreUniqueAcrossConnections() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let seen = NIOLockedValueBox<[String]>([])
        let server = BusNode(configuration: .init(identity: NodeIdentity(service: "sink", instance: "sink-1", version: "t")), group: group)
        server.register("take", .inline { body, _ in
            seen.withLockedValue { $0.append(String(buffer: body)) }
            return ByteBuffer(string: "{}")
        })
        let port = try await server.start().port!
        let caller = BusNode(configuration: .init(identity: NodeIdentity(service: "lt", instance: "lt-1", version: "t")), group: group)
        let workload = Workload(name: "sink.take", method: "take", template: BodyTemplate("{seq}"), connections: 3, inFlight: 8, warmup: .zero, duration: .milliseconds(300))
        let report = try await LoadRun(workload: workload, host: "127.0.0.1", port: port, service: "sink", caller: caller).run()
        let bodies = seen.withLockedValue { $0 }
        #expect(report.ledger.lost == 0 && report.ledger.answered == bodies.count)
        #expect(Set(bodies).count == bodies.count, "a {seq} repeated")
        try await server.shutdown()
        try await group.shutdownGracefully()
    }
}
