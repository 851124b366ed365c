import BusRuntime
import BusWire
import Contracts
import Foundation
@testable import Gateway
import Hummingbird
import HummingbirdTesting
import NIOCore
import Prometheus
import TestSupport
import Testing

/// `/openapi.json` says what the router does: every route, no other, each
/// with its operation, parameters, answers and security; and it is valid OpenAPI 3.1.
@Suite struct GatewayOpenAPITests {
    static let operational = ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"]

    static func document(anonymousTenant: String? = "default") async throws -> (TestResponse, [String: Any]) {
        let response = try await TestGateway.test(configuration: TestGateway.configuration(anonymousTenant: anonymousTenant)) { client in
            try await client.request(.get, "/openapi.json")
        }
        return (response, response.json)
    }

    @Test func itListsEveryRouteAndNothingElse() async throws {
        let (response, document) = try await Self.document()
        #expect(response.status == .ok && response.headers[.contentType] == "application/json")
        #expect(document["openapi"] as? String == "3.1.0")
        #expect((document["info"] as? [String: Any])?["version"] as? String == "1.2.3")
        let paths = try #require(document["paths"] as? [String: [String: Any]])
        var documented: Set<String> = []
        for (path, item) in paths { for verb in item.keys { documented.insert("\(verb) \(path)") } }
        let served = Set(TestGateway.routes.map { "\($0.verb.rawValue) \($0.path)" } + Self.operational.map { "get \($0)" })
        #expect(documented == served, "documented only: \(documented.subtracting(served)); served only: \(served.subtracting(documented))")
        let operationIDs = paths.values.flatMap { $0.values.compactMap { ($0 as? [String: Any])?["operationId"] as? String } }
        #expect(Set(operationIDs).count == operationIDs.count, "operation ids are unique")
    }

    /// Each operation: its parameters as declared, its success and its errors, the key it needs.
    @Test func eachOperationSaysWhatItsRouteDoes() async throws {
        let (_, document) = try await Self.document()
        let paths = try #require(document["paths"] as? [String: [String: [String: Any]]])
        for route in TestGateway.routes {
            let name = "\(route.verb.rawValue) \(route.path)"
            let operation = try #require(paths[route.path]?[route.verb.rawValue], "\(name)")
            #expect(operation["operationId"] as? String == route.operationID, "\(name)")
            #expect(operation["tags"] as? [String] == [route.service], "\(name)")
            let parameters = (operation["parameters"] as? [[String: Any]] ?? []).map { "\($0["in"] ?? "?") \($0["name"] ?? "?") \(($0["required"] as? Bool) == true ? 1 : 0)" }
            let declared = route.parameters.map { "\($0.location.rawValue) \($0.name) \($0.required ? 1 : 0)" }
                + (route.acceptsIdempotencyKey ? ["header Idempotency-Key 0"] : [])
            #expect(parameters == declared, "\(name)")
            let responses = try #require(operation["responses"] as? [String: Any], "\(name)")
            var statuses = Set(responses.keys)
            #expect(statuses.contains(String(route.status)), "\(name)")
            if route.createdField != nil { #expect(statuses.contains("201"), "\(name)") }
            for shared in ["401", "422", "429", "503", "504"] { #expect(statuses.contains(shared), "\(name) documents \(shared)") }
            // Only a route that reads a body can answer "not JSON" or "too large".
            #expect(statuses.contains("400") == (route.body != nil) && statuses.contains("413") == (route.body != nil), "\(name)")
            statuses.subtract(["200", "201", "204", "400", "401", "413", "422", "429", "503", "504"])
            #expect(statuses.isSubset(of: Set(route.failures.map { String($0.status) })), "\(name): \(statuses)")
            #expect((operation["requestBody"] != nil) == (route.body != nil), "\(name)")
            if route.nextPageField != nil {
                let success = responses[String(route.status)] as? [String: Any]
                #expect((success?["headers"] as? [String: Any])?["Link"] != nil, "\(name) documents its Link header")
            }
        }
    }

    /// Both header forms are security schemes; no key is allowed only where the gateway serves an anonymous tenant.
    @Test(arguments: [nil, "default"] as [String?])
    func securityFollowsAnonymousAccess(_ anonymousTenant: String?) async throws {
        let (_, document) = try await Self.document(anonymousTenant: anonymousTenant)
        let schemes = ((document["components"] as? [String: Any])?["securitySchemes"] as? [String: Any]) ?? [:]
        #expect(Set(schemes.keys) == ["bearer", "apiKey"])
        let paths = try #require(document["paths"] as? [String: [String: [String: Any]]])
        for route in TestGateway.routes {
            let security = paths[route.path]?[route.verb.rawValue]?["security"] as? [[String: Any]] ?? []
            let expected = anonymousTenant == nil ? [["bearer"], ["apiKey"]] : [["bearer"], ["apiKey"], []]
            #expect(security.map { $0.keys.sorted() } == expected, "\(route.verb) \(route.path)")
        }
        for path in Self.operational {
            #expect(paths[path]?["get"]?["security"] == nil, "\(path) needs no key")
        }
    }

    @Test(arguments: [nil, "default"] as [String?])
    func theDocumentIsValidOpenAPI(_ anonymousTenant: String?) async throws {
        let (response, _) = try await Self.document(anonymousTenant: anonymousTenant)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("openapi-\(UUID().uuidString).json")
        try Data(response.body.readableBytesView).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let validation = try await runProgram(["python3", "-m", "openapi_spec_validator", file.path])
        #expect(validation.status == 0, "openapi-spec-validator refused /openapi.json: \(validation.errorText) \(String(decoding: validation.output, as: UTF8.self))")
    }
}

/// `/healthz`, `/readyz`, `/metrics` and `/docs`, for operators.
@Suite struct GatewayOperationalTests {
    @Test func healthIsUpWithoutAskingAnything() async throws {
        let services = ServiceDouble()
        services.setServing(nil)
        let response = try await TestGateway.test(services) { client in try await client.request(.get, "/healthz") }
        #expect(response.status == .ok && canonicalJSON(response.text) == #"{"status":"ok"}"#)
    }

    @Test func readyWhenEveryServiceWithRoutesServes() async throws {
        let response = try await TestGateway.test { client in try await client.request(.get, "/readyz") }
        #expect(response.status == .ok && response.headers[.contentType] == "application/json")
        #expect(canonicalJSON(response.text) == #"{"status":"ready"}"#)
    }

    @Test func notReadyNamesTheMissingServices() async throws {
        let services = ServiceDouble()
        services.setServing(ServiceDouble.routeServices.subtracting(["conversion", "ingest"]))
        let response = try await TestGateway.test(services) { client in try await client.request(.get, "/readyz") }
        #expect(response.status == .serviceUnavailable && response.isErrorShape && response.code == "unavailable", "\(response.text)")
        #expect(response.detail == "no serving instance of conversion, ingest")
        #expect(response.headers[.retryAfter] == "1")
    }

    @Test func notReadyWithoutARegistryAndNoAddressInTheAnswer() async throws {
        let services = ServiceDouble()
        services.setServing(nil)
        let response = try await TestGateway.test(services) { client in try await client.request(.get, "/readyz") }
        #expect(response.status == .serviceUnavailable && response.detail == "no registry answered" && response.code == "unavailable")
        #expect(!response.text.contains("127.0.0.1"))
    }

    @Test func metricsAre404UnlessEnabledThenPrometheusText() async throws {
        let off = try await TestGateway.test { client in try await client.request(.get, "/metrics") }
        #expect(off.status == .notFound && off.isErrorShape && off.detail == "metrics are not enabled")
        let registry = PrometheusCollectorRegistry()
        registry.makeCounter(descriptor: MetricNameDescriptor(metricName: "gateway_test", unitName: "marker", helpText: "")).increment(by: Int64(3))
        let on = try await TestGateway.test(metrics: registry) { client in try await client.request(.get, "/metrics") }
        #expect(on.status == .ok && on.headers[.contentType] == "text/plain; version=0.0.4")
        #expect(on.text.contains("gateway_test_marker 3"), "\(on.text)")
    }

    @Test func docsIsOneSelfContainedPageThatReadsTheDocument() async throws {
        let response = try await TestGateway.test { client in try await client.request(.get, "/docs") }
        #expect(response.status == .ok && response.headers[.contentType] == "text/html; charset=utf-8")
        #expect(response.text.contains("/openapi.json"))
        // Nothing fetched from another host: it works offline.
        #expect(!response.text.contains("src=\"http") && !response.text.contains("href=\"http"), "no script, style or font from elsewhere")
    }
}
