import Foundation
import TestSupport
import Testing

/// The seed's REST API through the whole stack, as real processes:
/// HTTP → gateway → bus → analysis-store → its database.
@Suite(.serialized) struct GatewayTests {
    struct Stack {
        var registry: VideobusProcess
        var store: VideobusProcess
        /// The gateway is ready only when every service with routes serves: ingest too.
        var ingest: VideobusProcess
        var prediction: VideobusProcess
        var conversion: VideobusProcess
        var gateway: VideobusProcess
        var registryFlag: [String]
        /// --database-url, and on PostgreSQL the owner's --migrations-database-url.
        var databaseFlags: [String]
        /// The same for ingest's database.
        var ingestDatabaseFlags: [String]
        /// The same for the prediction and conversion services' databases (on the analysis-store's engine).
        var predictionDatabaseFlags: [String]
        var conversionDatabaseFlags: [String]
        var port: Int

        /// `anonymous`: requests without a key are the `default` tenant's, as under `videobus up`.
        /// The analysis-store's database is on `engine`, ingest's on `ingestEngine`.
        static func start(
            _ engine: Engine, ingestEngine: Engine = .sqlite, gatewayOptions: [String] = [], anonymous: Bool = true
        ) async throws -> (Stack, @Sendable () async -> Void) {
            let (owner, url, cleanup) = try await TestDatabases.freshURLs(engine)
            let databaseFlags = ["--database-url", url] + (engine == .postgres ? ["--migrations-database-url", owner] : [])
            let registry = try VideobusProcess(["registry", "--port", "0"])
            let registryFlag = ["--registry", "127.0.0.1:\(try await registry.listeningPort())"]
            let store = try VideobusProcess(["serve", "analysis-store"] + databaseFlags + registryFlag)
            _ = try await store.listeningPort()
            let (ingestOwner, ingestURL, ingestCleanup) = try await TestDatabases.freshURLs(ingestEngine)
            let ingestDatabaseFlags = ["--database-url", ingestURL] + (ingestEngine == .postgres ? ["--migrations-database-url", ingestOwner] : [])
            let ingest = try VideobusProcess(["serve", "ingest"] + ingestDatabaseFlags + registryFlag)
            _ = try await ingest.listeningPort()
            let (predictionOwner, predictionURL, predictionCleanup) = try await TestDatabases.freshURLs(engine)
            let predictionDatabaseFlags = ["--database-url", predictionURL] + (engine == .postgres ? ["--migrations-database-url", predictionOwner] : [])
            let prediction = try VideobusProcess(["serve", "prediction"] + predictionDatabaseFlags + registryFlag)
            _ = try await prediction.listeningPort()
            let (conversionOwner, conversionURL, conversionCleanup) = try await TestDatabases.freshURLs(engine)
            let conversionDatabaseFlags = ["--database-url", conversionURL] + (engine == .postgres ? ["--migrations-database-url", conversionOwner] : [])
            let conversion = try VideobusProcess(["serve", "conversion"] + conversionDatabaseFlags + registryFlag)
            _ = try await conversion.listeningPort()
            let gateway = try VideobusProcess(["gateway", "--port", "0"] + registryFlag + (anonymous ? ["--anonymous-tenant", "default"] : []) + gatewayOptions)
            let port = try await gateway.listeningPort()
            let stack = Stack(
                registry: registry, store: store, ingest: ingest, prediction: prediction, conversion: conversion, gateway: gateway, registryFlag: registryFlag,
                databaseFlags: databaseFlags, ingestDatabaseFlags: ingestDatabaseFlags, predictionDatabaseFlags: predictionDatabaseFlags,
                conversionDatabaseFlags: conversionDatabaseFlags, port: port
            )
            let cleanups: @Sendable () async -> Void = {
                await cleanup()
                await ingestCleanup()
                await predictionCleanup()
                await conversionCleanup()
            }
            guard await eventually({ try await httpRequest("GET", port: port, "/readyz").status == 200 }) else {
                let log = gateway.log
                stack.stop()  // no orphans left behind by a failed start
                await cleanups()
                throw HTTPTestError("the gateway never became ready:\n\(log)")
            }
            return (stack, cleanups)
        }

        func stop() {
            gateway.stop()
            store.stop()
            ingest.stop()
            prediction.stop()
            conversion.stop()
            registry.stop()
        }

        func request(_ method: String, _ path: String, _ body: String? = nil, headers: [String: String] = [:]) async throws -> HTTPResponse {
            try await httpRequest(method, port: port, path, body: body, headers: headers)
        }
    }

    @Test(arguments: Engine.allCases)
    func theSeedsAPIWorksThroughTheWholeStack(_ engine: Engine) async throws {
        let (stack, cleanup) = try await Stack.start(engine)
        defer { stack.stop(); Task { await cleanup() } }

        let created = try await stack.request("POST", "/api/video-analysis/", #"{"video_id": "test_001", "description": "A sunset"}"#)
        #expect(created.status == 201)
        #expect(created.headers["content-type"] == "application/json")
        let record = try #require(created.json)
        #expect(Set(record.keys) == ["id", "video_id", "description", "created_at", "updated_at"])
        #expect(record["video_id"] as? String == "test_001" && record["description"] as? String == "A sunset")
        #expect((record["created_at"] as? String)?.hasSuffix("Z") == true)

        #expect(try await stack.request("GET", "/api/video-analysis/test_001").json?["id"] as? String == record["id"] as? String)
        #expect(try await stack.request("GET", "/api/video-analysis/test_001/").status == 200)
        #expect(try await stack.request("POST", "/api/video-analysis", #"{"video_id": "test_001", "description": "again"}"#).status == 409)

        let unicode = "Café 字 😀 — \"quoted\" \\ \n" + String(repeating: "a long and winding description ", count: 3300)
        let body = String(data: try JSONSerialization.data(withJSONObject: ["description": unicode]), encoding: .utf8)!
        let updated = try await stack.request("PUT", "/api/video-analysis/test_001", body)
        #expect(updated.status == 200)
        #expect(updated.json?["description"] as? String == unicode)
        #expect(updated.json?["created_at"] as? String == record["created_at"] as? String)
        #expect((updated.json?["updated_at"] as? String ?? "") > (record["updated_at"] as? String ?? "~"))
        #expect(try await stack.request("GET", "/api/video-analysis/test_001").json?["description"] as? String == unicode)

        let list = try await stack.request("GET", "/api/video-analysis/?limit=5")
        #expect(list.status == 200 && list.json?["count"] as? Int == 1 && (list.json?["analyses"] as? [Any])?.count == 1)

        #expect(try await stack.request("DELETE", "/api/video-analysis/test_001").status == 204)
        let gone = try await stack.request("GET", "/api/video-analysis/test_001")
        #expect(gone.status == 404 && gone.json?["detail"] as? String == "no analysis for video test_001" && gone.json?["code"] as? String == "not-found")
        #expect(try await stack.request("DELETE", "/api/video-analysis/test_001").status == 404)
        #expect(try await stack.request("PUT", "/api/video-analysis/test_001", #"{"description": "x"}"#).status == 404)
    }

    /// The seed's list body has exactly its two keys; the next page travels in a Link header.
    @Test func listsPageThroughLinkHeaders() async throws {
        let (stack, cleanup) = try await Stack.start(.sqlite)
        defer { stack.stop(); Task { await cleanup() } }
        for n in 0..<7 {
            #expect(try await stack.request("POST", "/api/video-analysis/", #"{"video_id": "p\#(n)", "description": "page \#(n)"}"#).status == 201)
        }
        var seen: [String] = []
        var next: String? = "/api/video-analysis/?limit=3"
        var pages = 0
        while let path = next {
            let page = try await stack.request("GET", path)
            #expect(page.status == 200)
            #expect(Set(page.json?.keys.map { $0 } ?? []) == ["analyses", "count"], "\(page.body)")
            seen += (page.json?["analyses"] as? [[String: Any]] ?? []).compactMap { $0["video_id"] as? String }
            pages += 1
            next = page.headers["link"].flatMap { link in
                guard link.hasSuffix(#">; rel="next""#), link.hasPrefix("<") else { return nil }
                return String(link.dropFirst().prefix { $0 != ">" })
            }
            if let next { #expect(next.contains("limit=3") && next.contains("cursor=")) }
        }
        #expect(pages == 3)
        #expect(seen == (0..<7).reversed().map { "p\($0)" })
        #expect(try await stack.request("GET", "/api/video-analysis/?limit=0").json?["count"] as? Int == 0)
    }

    /// The same Idempotency-Key and body answer as the first time; another body is 422.
    @Test func idempotencyKeysAreHonoured() async throws {
        let (stack, cleanup) = try await Stack.start(.sqlite)
        defer { stack.stop(); Task { await cleanup() } }
        let body = #"{"video_id": "once", "description": "A sunset"}"#
        let first = try await httpRequest("POST", port: stack.port, "/api/video-analysis/", body: body, headers: ["Idempotency-Key": "abc-123"])
        let second = try await httpRequest("POST", port: stack.port, "/api/video-analysis/", body: body, headers: ["Idempotency-Key": "abc-123"])
        #expect(first.status == 201 && second.status == 201)
        #expect(first.json?["id"] as? String == second.json?["id"] as? String)
        let other = try await httpRequest("POST", port: stack.port, "/api/video-analysis/", body: #"{"video_id": "twice", "description": "A sunset"}"#, headers: ["Idempotency-Key": "abc-123"])
        #expect(other.status == 422 && other.json?["code"] as? String == "invalid-argument", "\(other.body)")
        #expect(try await stack.request("GET", "/api/video-analysis/twice").status == 404)
        let bad = try await httpRequest("POST", port: stack.port, "/api/video-analysis/", body: body, headers: ["Idempotency-Key": "has space"])
        #expect(bad.status == 422)
    }

    /// A method a path does not have is 405 with Allow, not 404.
    @Test func unsupportedMethodsAre405() async throws {
        let (stack, cleanup) = try await Stack.start(.sqlite)
        defer { stack.stop(); Task { await cleanup() } }
        let patch = try await stack.request("PATCH", "/api/video-analysis/v1", #"{"description": "x"}"#)
        #expect(patch.status == 405 && patch.headers["allow"] == "GET, PUT, DELETE", "\(patch.status) \(patch.headers)")
        #expect(try await stack.request("DELETE", "/api/video-analysis/").status == 405)
    }

    @Test func badInputIsA4xxWithJSONNeverA500() async throws {
        let (stack, cleanup) = try await Stack.start(.sqlite)
        defer { stack.stop(); Task { await cleanup() } }
        let cases: [(String, String, String?, Int)] = [
            ("POST", "/api/video-analysis/", "{not json", 400),
            ("POST", "/api/video-analysis/", "", 400),
            ("POST", "/api/video-analysis/", #"{"video_id": 5, "description": "x"}"#, 422),
            ("POST", "/api/video-analysis/", #"{"description": "x"}"#, 422),
            ("POST", "/api/video-analysis/", #"{"video_id": "", "description": "x"}"#, 422),
            ("POST", "/api/video-analysis/", #"["an", "array"]"#, 422),
            ("PUT", "/api/video-analysis/v1", #"{"text": "x"}"#, 422),
            ("GET", "/api/video-analysis/?limit=-1", nil, 422),
            ("GET", "/api/video-analysis/?limit=abc", nil, 422),
            ("GET", "/api/video-analysis/?limit=100000", nil, 422),
            ("GET", "/api/video-analysis/?cursor=bogus", nil, 422),
        ]
        for (method, path, body, status) in cases {
            let response = try await stack.request(method, path, body)
            #expect(response.status == status, "\(method) \(path) \(body ?? ""): \(response.status) \(response.body)")
            #expect(response.json?["detail"] is String && response.json?["code"] is String, "\(response.body)")
        }
        let huge = String(repeating: "a", count: 11 << 20)
        let tooLarge = try await stack.request("POST", "/api/video-analysis/", huge)
        #expect(tooLarge.status == 413 && tooLarge.json?["code"] as? String == "limit-exceeded")
        // 10 MiB is the default, not a ceiling: just under it passes the gateway (and the service refuses the description).
        let underLimit = try await stack.request("POST", "/api/video-analysis/", #"{"video_id": "big", "description": "\#(String(repeating: "d", count: 2 << 20))"}"#)
        #expect(underLimit.status == 422 && underLimit.json?["detail"] as? String == "description is longer than 1048576 bytes", "\(underLimit.body.prefix(200))")
    }

    @Test func theBodyLimitIsConfigurable() async throws {
        let (stack, cleanup) = try await Stack.start(.sqlite, gatewayOptions: ["--max-body-bytes", "1000"])
        defer { stack.stop(); Task { await cleanup() } }
        let tooLarge = try await stack.request("POST", "/api/video-analysis/", #"{"video_id": "v", "description": "\#(String(repeating: "d", count: 1000))"}"#)
        #expect(tooLarge.status == 413)
        #expect(tooLarge.json?["detail"] as? String == "request body of 1036 bytes exceeds the limit of 1000 bytes")
        #expect(try await stack.request("POST", "/api/video-analysis/", #"{"video_id": "v", "description": "small"}"#).status == 201)
    }

    @Test(arguments: Engine.allCases)
    func concurrentCreatesAllLandAndOneVideoHasOneWinner(_ engine: Engine) async throws {
        let (stack, cleanup) = try await Stack.start(engine)
        defer { stack.stop(); Task { await cleanup() } }
        let distinct = try await withThrowingTaskGroup(of: Int.self) { group in
            for n in 0..<200 {
                group.addTask { try await stack.request("POST", "/api/video-analysis/", #"{"video_id": "v\#(n)", "description": "clip \#(n)"}"#).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(distinct.filter { $0 == 201 }.count == 200, "\(Dictionary(grouping: distinct, by: { $0 }).mapValues(\.count))")
        #expect(try await stack.request("GET", "/api/video-analysis/?limit=500").json?["count"] as? Int == 200)

        let contested = try await withThrowingTaskGroup(of: Int.self) { group in
            for n in 0..<50 {
                group.addTask { try await stack.request("POST", "/api/video-analysis/", #"{"video_id": "contested", "description": "try \#(n)"}"#).status }
            }
            return try await group.reduce(into: [Int]()) { $0.append($1) }
        }
        #expect(contested.filter { $0 == 201 }.count == 1)
        #expect(contested.filter { $0 == 409 }.count == 49)
    }

    @Test func everyAcknowledgedCreateSurvivesAKilledService() async throws {
        var (stack, cleanup) = try await Stack.start(.sqlite)
        defer { stack.stop() }
        let removeDatabase = cleanup
        defer { Task { await removeDatabase() } }
        var acknowledged: [String] = []
        var restarted = false
        for n in 0..<300 {
            if n == 100 {
                // SIGKILL mid-stream; requests fail (503) until a new instance serves.
                stack.store.signal(SIGKILL)
                _ = try await stack.store.exitStatus()
            }
            if n == 150 {
                stack.store = try VideobusProcess(["serve", "analysis-store"] + stack.databaseFlags + stack.registryFlag)
                _ = try await stack.store.listeningPort()
                restarted = true
            }
            let response = try await stack.request("POST", "/api/video-analysis/", #"{"video_id": "k\#(n)", "description": "clip \#(n)"}"#)
            if response.status == 201 { acknowledged.append("k\(n)") } else { #expect([503, 504].contains(response.status), "\(response.status) \(response.body)") }
        }
        #expect(restarted)
        #expect(acknowledged.count >= 200)
        for videoID in acknowledged {
            #expect(try await stack.request("GET", "/api/video-analysis/\(videoID)").status == 200, "\(videoID) was acknowledged but is gone")
        }
    }

    @Test func operationalEndpoints() async throws {
        let (stack, cleanup) = try await Stack.start(.sqlite)
        defer { stack.stop(); Task { await cleanup() } }
        #expect(try await stack.request("GET", "/healthz").status == 200)
        #expect(try await stack.request("GET", "/readyz").json?["status"] as? String == "ready")
        let docs = try await stack.request("GET", "/docs")
        #expect(docs.status == 200 && docs.headers["content-type"]?.hasPrefix("text/html") == true && docs.body.contains("/openapi.json"))
        _ = try await stack.request("GET", "/api/video-analysis/nothing")
        let metrics = try await stack.request("GET", "/metrics")
        #expect(metrics.status == 200 && metrics.body.contains("http_route=\"/api/video-analysis/{video_id}\""), "\(metrics.body.prefix(2000))")

        // The OpenAPI document is valid OpenAPI 3.1 and describes every route.
        let openAPI = try await stack.request("GET", "/openapi.json")
        #expect(openAPI.status == 200)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("openapi-\(UUID().uuidString).json")
        try openAPI.body.write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        let validation = try await runProgram(["python3", "-m", "openapi_spec_validator", file.path])
        #expect(validation.status == 0, "openapi-spec-validator refused /openapi.json: \(validation.errorText)")
        let paths = (openAPI.json?["paths"] as? [String: Any])?.keys.sorted() ?? []
        #expect(paths == [
            "/api/assets", "/api/assets/{id}", "/api/assets/{id}/clips", "/api/campaigns", "/api/campaigns/{id}", "/api/campaigns/{id}/attribution",
            "/api/campaigns/{id}/experiments", "/api/campaigns/{id}/metrics", "/api/clips/top", "/api/clips/{id}", "/api/clips/{id}/analysis",
            "/api/conversions", "/api/conversions/{id}", "/api/conversions/{id}/attribution", "/api/experiments/{id}", "/api/experiments/{id}/observations",
            "/api/experiments/{id}/results",
            "/api/knowledge", "/api/knowledge/search", "/api/knowledge/{id}", "/api/knowledge/{id}/versions", "/api/me", "/api/models", "/api/models/{name}",
            "/api/models/{name}/aliases/{alias}", "/api/models/{name}/versions", "/api/models/{name}/versions/{version}", "/api/models/{name}/versions/{version}/metrics",
            "/api/predictions", "/api/predictions/{id}", "/api/predictions/{id}/actual", "/api/users", "/api/users/{id}", "/api/users/{id}/api-keys", "/api/users/{id}/api-keys/{key_id}",
            "/api/video-analysis/", "/api/video-analysis/{video_id}", "/docs", "/healthz", "/metrics", "/openapi.json", "/readyz",
        ])

        // Not ready while the service is down.
        stack.store.signal(SIGTERM)
        _ = try await stack.store.exitStatus()
        #expect(await eventually { try await stack.request("GET", "/readyz").status == 503 })
    }
}
