import BusRuntime
import BusWire
import NIOCore
import TestSupport
import Testing

@Suite struct DrainTests {
    @Test func drainingFinishesEveryRequestInFlightAndRefusesNewOnes() async throws {
        let gate = Gate()
        let (server, client) = try await TestNodes.serve(methods: ["hold": .async { body, _ in await gate.wait(); return body }])
        let results = Task {
            try await withThrowingTaskGroup(of: Bool.self) { group in
                for n in 0..<500 {
                    // Held until the gate opens: a deadline no loaded machine reaches while 500 arrive.
                    group.addTask { try await client.call(service: "store", method: "hold", body: ByteBuffer(string: "\(n)"), timeout: .seconds(120)) == ByteBuffer(string: "\(n)") }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
        }
        #expect(await eventually { await gate.arrived == 500 })
        let shutdown = Task { try await server.shutdown(grace: .seconds(30)) }
        // Draining: a new request is refused as retryable, and the peer was told to go away.
        #expect(await eventually { !(await client.isUsable) })
        await #expect(throws: BusError.self) { try await client.call(service: "store", method: "hold") }
        await gate.open()
        #expect(try await results.value == 500)
        try await shutdown.value
    }
}
