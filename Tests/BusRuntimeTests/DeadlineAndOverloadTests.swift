import BusRuntime
import BusWire
import NIOCore
import TestSupport
import Testing

@Suite struct DeadlineAndOverloadTests {
    @Test func theCallerNeverWaitsPastItsDeadline() async throws {
        let gate = Gate()
        let (server, client) = try await TestNodes.serve(methods: ["hang": .async { body, _ in await gate.wait(); return body }])
        defer { Task { await gate.open(); try await server.shutdown() } }
        let started = ContinuousClock.now
        let error = await #expect(throws: BusError.self) {
            try await client.call(service: "store", method: "hang", timeout: .milliseconds(100))
        }
        #expect(error?.code == .deadlineExceeded)
        // Correctness bound, not a benchmark: the call ended at its deadline, not when the handler did.
        #expect(ContinuousClock.now - started < .seconds(5))
        // A late answer to the expired call is dropped and the connection keeps working.
        await gate.open()
        #expect(try await client.call(service: "store", method: "echo", body: ByteBuffer(string: "1")) == ByteBuffer(string: "1"))
    }

    @Test func theServerAnswersWorkFinishedPastItsDeadlineAsExpired() async throws {
        let finished = Gate()
        let (server, client) = try await TestNodes.serve(methods: [
            "slow": .async { body, context in
                // Work that outlives the deadline; the caller stops waiting at once.
                while !context.isExpired { try? await Task.sleep(for: .milliseconds(5)) }
                await finished.open()
                return body
            }
        ])
        defer { Task { try await server.shutdown() } }
        await #expect(throws: BusError.self) { try await client.call(service: "store", method: "slow", timeout: .milliseconds(50)) }
        #expect(await eventually { server.requestsInFlight == 0 })
    }

    @Test func aFullNodeAnswersOverloadedAtOnce() async throws {
        let gate = Gate()
        let (server, client) = try await TestNodes.serve(maxInFlightPerNode: 4, methods: ["hold": .async { body, _ in await gate.wait(); return body }])
        defer { Task { try await server.shutdown() } }
        let outcomes = try await withThrowingTaskGroup(of: ErrorCode?.self) { group in
            for _ in 0..<10 {
                group.addTask {
                    do {
                        _ = try await client.call(service: "store", method: "hold")
                        return nil
                    } catch {
                        return (error as? BusError)?.code
                    }
                }
            }
            // The four admitted requests wait at the gate; the other six were refused.
            #expect(await eventually { await gate.arrived == 4 })
            await gate.open()
            var codes: [ErrorCode?] = []
            for try await code in group { codes.append(code) }
            return codes
        }
        #expect(outcomes.filter { $0 == nil }.count == 4)
        #expect(outcomes.filter { $0 == .overloaded }.count == 6)
    }
}
