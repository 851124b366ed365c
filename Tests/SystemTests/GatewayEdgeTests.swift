import Foundation
import TestSupport
import Testing

/// The gateway's hardened edges, against a real gateway process: its
/// deadlines, its connection cap, its budget of body bytes and its error shapes.
@Suite(.serialized) struct GatewayEdgeTests {
    typealias Stack = GatewayTests.Stack

    /// Half-sent heads and bodies shorter than their Content-Length are
    /// closed after their deadline, and other clients are served meanwhile.
    @Test func slowAndLyingClientsAreClosedWhileOthersAreServed() async throws {
        let (stack, cleanup) = try await Stack.start(.sqlite, gatewayOptions: ["--header-timeout", "1", "--body-timeout", "1"])
        defer { stack.stop(); Task { await cleanup() } }
        var slow: [RawConnection] = []
        defer { for connection in slow { connection.close() } }
        for n in 0..<40 {
            let connection = try await RawConnection.open(port: stack.port)
            // On a loaded machine the gateway may close a connection before its first bytes go out
            // (the head's 1 s counts from the opening): that is the outcome under test, not a failure.
            if n.isMultiple(of: 2) {
                try? await connection.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            } else {
                try? await connection.send("POST /api/video-analysis/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"video_id\": ")
            }
            slow.append(connection)
        }
        #expect(try await stack.request("GET", "/healthz").status == 200)
        #expect(try await stack.request("POST", "/api/video-analysis/", #"{"video_id": "fast", "description": "x"}"#).status == 201)
        let closed = await eventually { slow.allSatisfy(\.isClosed) }
        #expect(closed, "\(slow.filter { !$0.isClosed }.count) slow connections are still open")
        #expect(try await stack.request("GET", "/healthz").status == 200)
    }

    /// A keep-alive connection with no next request is closed after the idle timeout.
    @Test func idleKeepAliveConnectionsAreClosed() async throws {
        let (stack, cleanup) = try await Stack.start(.sqlite, gatewayOptions: ["--idle-timeout", "1"])
        defer { stack.stop(); Task { await cleanup() } }
        let connection = try await RawConnection.open(port: stack.port)
        defer { connection.close() }
        try await connection.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        #expect(await eventually { connection.status == 200 })
        #expect(await eventually(timeout: .seconds(10)) { connection.isClosed })
    }

    /// Beyond the cap a new connection is answered 503 with Retry-After; below it again, served.
    @Test func theConnectionCapAnswers503() async throws {
        let (stack, cleanup) = try await Stack.start(.sqlite, gatewayOptions: ["--max-connections", "4", "--header-timeout", "30"])
        defer { stack.stop(); Task { await cleanup() } }
        var held: [RawConnection] = []
        defer { for connection in held { connection.close() } }
        for _ in 0..<4 {
            let connection = try await RawConnection.open(port: stack.port)
            try await connection.send("GET /healthz HTTP/1.1\r\n")
            held.append(connection)
        }
        var refused: HTTPResponse?
        #expect(await eventually {
            let response = try await stack.request("GET", "/healthz")
            if response.status == 503 { refused = response }
            return response.status == 503
        })
        #expect(refused?.headers["retry-after"] == "1")
        #expect(refused?.json?["code"] as? String == "overloaded", "\(refused?.body ?? "")")
        for connection in held { connection.close() }
        #expect(await eventually { try await stack.request("GET", "/healthz").status == 200 })
    }

    /// Request bodies being read at once are bounded across connections: beyond the budget, 503.
    @Test func concurrentBodiesAreBoundedByTheirBudget() async throws {
        let (stack, cleanup) = try await Stack.start(.sqlite, gatewayOptions: ["--max-body-bytes", "1000000", "--max-body-bytes-in-flight", "2000000", "--body-timeout", "30"])
        defer { stack.stop(); Task { await cleanup() } }
        var held: [RawConnection] = []
        defer { for connection in held { connection.close() } }
        // Known first (the gateway then keeps the anonymous identity a minute), so that the held
        // requests reserve their bodies at once rather than after a question to ingest.
        #expect(try await stack.request("GET", "/api/video-analysis/").status == 200)
        /// A request whose 1,000,000-byte body stalls after its first bytes, holding its share of the budget.
        func holdBody() async throws -> RawConnection {
            let connection = try await RawConnection.open(port: stack.port)
            try await connection.send("POST /api/video-analysis/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000000\r\n\r\n{\"video_id\": ")
            return connection
        }
        for _ in 0..<2 { held.append(try await holdBody()) }
        var refused: HTTPResponse?
        #expect(await eventually {
            // A held request that came in while a probe held a little of the budget was itself
            // refused (answered): it holds nothing, so another takes its place.
            for index in held.indices where held[index].status != nil || held[index].isClosed {
                held[index].close()
                held[index] = try await holdBody()
            }
            let response = try await stack.request("POST", "/api/video-analysis/", #"{"video_id": "budget-\#(UUID())", "description": "x"}"#)
            if response.status == 503 { refused = response }
            return response.status == 503
        })
        #expect(refused?.headers["retry-after"] == "1")
        #expect(refused?.json?["code"] as? String == "overloaded", "\(refused?.body ?? "")")
        #expect(try await stack.request("GET", "/healthz").status == 200)
        for connection in held { connection.close() }
        #expect(await eventually {
            try await stack.request("POST", "/api/video-analysis/", #"{"video_id": "budget-\#(UUID())", "description": "x"}"#).status == 201
        })
    }

    @Test func errorsAreJSONAndSayNothingInternal() async throws {
        let (stack, cleanup) = try await Stack.start(.sqlite)
        defer { stack.stop(); Task { await cleanup() } }

        // Duplicate keys, at any depth and however escaped, are refused, naming the key.
        for body in [
            #"{"video_id": "d1", "description": "x", "video_id": "d2"}"#,
            #"{"video_id": "d1", "description": "x", "vide\u006f_id": "d2"}"#,
            #"{"video_id": "d1", "description": "x", "extra": {"a": 1, "b": [{"c": 1, "c": 2}]}}"#,
        ] {
            let response = try await stack.request("POST", "/api/video-analysis/", body)
            #expect(response.status == 422 && response.json?["code"] as? String == "invalid-argument", "\(body): \(response.status) \(response.body)")
            #expect((response.json?["detail"] as? String)?.contains("appears twice") == true, "\(response.body)")
        }
        #expect(try await stack.request("POST", "/api/video-analysis/", #"{"video_id": "d3", "description": "x", "other": {"video_id": 1}}"#).status != 422)
        let null = try await stack.request("POST", "/api/video-analysis/", "null")
        #expect(null.status == 422 && null.json?["code"] is String, "\(null.status) \(null.body)")

        // Unknown paths are JSON 404s.
        let unknown = try await stack.request("GET", "/no/such/path")
        #expect(unknown.status == 404 && unknown.json?["code"] as? String == "not-found", "\(unknown.body)")

        // A malformed chunk size is 400 (not 413), as JSON.
        let chunked = try await RawConnection.open(port: stack.port)
        defer { chunked.close() }
        try await chunked.send("POST /api/video-analysis/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n")
        #expect(await eventually { chunked.json != nil })
        #expect(chunked.status == 400 && chunked.json?["code"] as? String == "invalid-argument", "\(chunked.received)")

        // A request the parser refuses is answered as JSON too.
        let garbage = try await RawConnection.open(port: stack.port)
        defer { garbage.close() }
        try await garbage.send("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: nope\r\n\r\n")
        #expect(await eventually { garbage.json != nil })
        #expect(garbage.status == 400 && garbage.json?["detail"] is String, "\(garbage.received)")

        // With the service gone, a call is 503 with no address or bus internals in it.
        stack.store.signal(SIGKILL)
        _ = try await stack.store.exitStatus()
        for _ in 0..<5 {
            let down = try await stack.request("GET", "/api/video-analysis/anything")
            #expect([503, 504].contains(down.status), "\(down.status) \(down.body)")
            #expect(down.json?["code"] is String && !down.body.contains("127.0.0.1") && !down.body.contains("connection"), "\(down.body)")
        }
        let ready = try await stack.request("GET", "/readyz")
        #expect(!ready.body.contains("127.0.0.1"), "\(ready.body)")
    }
}
