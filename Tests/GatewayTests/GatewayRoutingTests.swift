import BusRuntime
import BusWire
import Contracts
import Foundation
@testable import Gateway
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Every REST route of API.md reaches its service's method, with the path
/// and query parameters in the bus request as the service reads them.
@Suite struct GatewayRoutingTests {
    /// One request and the call it must become.
    struct Row: Sendable, CustomTestStringConvertible {
        var verb: HTTPRequest.Method
        var uri: String
        var body: String?
        /// `service.method`.
        var call: String
        /// The bus request, as JSON (compared by meaning, not spelling).
        var request: String
        var status: Int = 200

        init(_ verb: HTTPRequest.Method, _ uri: String, _ body: String? = nil, calls call: String, _ request: String, status: Int = 200) {
            self.verb = verb
            self.uri = uri
            self.body = body
            self.call = call
            self.request = request
            self.status = status
        }

        var testDescription: String { "\(verb.rawValue) \(uri)" }
    }

    /// API.md, route by route.
    static let rows: [Row] = [
        // analysis-store: the seed's /api/video-analysis/
        Row(.post, "/api/video-analysis/", #"{"video_id": "v1", "description": "A sunset"}"#, calls: "analysis-store.create", #"{"video_id": "v1", "description": "A sunset"}"#, status: 201),
        Row(.get, "/api/video-analysis/?limit=10&cursor=1700000000000.abc", calls: "analysis-store.list", #"{"limit": 10, "cursor": "1700000000000.abc"}"#),
        Row(.get, "/api/video-analysis/v1", calls: "analysis-store.get", #"{"video_id": "v1"}"#),
        Row(.put, "/api/video-analysis/v1", #"{"description": "A sunrise"}"#, calls: "analysis-store.update", #"{"video_id": "v1", "description": "A sunrise"}"#),
        Row(.delete, "/api/video-analysis/v1", calls: "analysis-store.delete", #"{"video_id": "v1"}"#, status: 204),
        // analysis-store: clip analyses and the knowledge base
        Row(.put, "/api/clips/c1/analysis", #"{"features": {"motion": 0.5}, "score": 0.9}"#, calls: "analysis-store.clip-analyses.put", #"{"id": "c1", "features": {"motion": 0.5}, "score": 0.9}"#),
        Row(.get, "/api/clips/c1/analysis", calls: "analysis-store.clip-analyses.get", #"{"id": "c1"}"#),
        Row(.post, "/api/knowledge", #"{"title": "Refunds", "content": "14 days", "category": "policy"}"#, calls: "analysis-store.knowledge.create",
            #"{"title": "Refunds", "content": "14 days", "category": "policy"}"#, status: 201),
        Row(.get, "/api/knowledge?category=policy&limit=5", calls: "analysis-store.knowledge.list", #"{"category": "policy", "limit": 5}"#),
        Row(.get, "/api/knowledge/search?q=refund%20policy&category=policy&limit=3", calls: "analysis-store.knowledge.search-text", #"{"q": "refund policy", "category": "policy", "limit": 3}"#),
        Row(.post, "/api/knowledge/search", #"{"embedding": [1, 0.5], "k": 3}"#, calls: "analysis-store.knowledge.search-vector", #"{"embedding": [1, 0.5], "k": 3}"#),
        Row(.get, "/api/knowledge/d1?version=2", calls: "analysis-store.knowledge.get", #"{"id": "d1", "version": 2}"#),
        Row(.put, "/api/knowledge/d1", #"{"title": "Refunds v2"}"#, calls: "analysis-store.knowledge.update", #"{"id": "d1", "title": "Refunds v2"}"#),
        Row(.delete, "/api/knowledge/d1", calls: "analysis-store.knowledge.delete", #"{"id": "d1"}"#, status: 204),
        Row(.get, "/api/knowledge/d1/versions?limit=2", calls: "analysis-store.knowledge.versions", #"{"id": "d1", "limit": 2}"#),
        // ingest: users and keys
        Row(.post, "/api/users", #"{"email": "ada@example.com", "name": "Ada"}"#, calls: "ingest.users.create", #"{"email": "ada@example.com", "name": "Ada"}"#, status: 201),
        Row(.get, "/api/users?limit=1", calls: "ingest.users.list", #"{"limit": 1}"#),
        Row(.get, "/api/users/u1", calls: "ingest.users.get", #"{"id": "u1"}"#),
        Row(.patch, "/api/users/u1", #"{"name": "Ada L."}"#, calls: "ingest.users.update", #"{"id": "u1", "name": "Ada L."}"#),
        Row(.delete, "/api/users/u1", calls: "ingest.users.delete", #"{"id": "u1"}"#, status: 204),
        Row(.get, "/api/me", calls: "ingest.me", "{}"),
        // The key's body is optional: none at all is `{}` plus the path.
        Row(.post, "/api/users/u1/api-keys", calls: "ingest.keys.create", #"{"id": "u1"}"#, status: 201),
        Row(.get, "/api/users/u1/api-keys", calls: "ingest.keys.list", #"{"id": "u1"}"#),
        Row(.delete, "/api/users/u1/api-keys/k1", calls: "ingest.keys.delete", #"{"id": "u1", "key_id": "k1"}"#, status: 204),
        // ingest: assets and clips
        Row(.post, "/api/assets", #"{"source_url": "https://cdn.example.com/v.mp4"}"#, calls: "ingest.assets.create", #"{"source_url": "https://cdn.example.com/v.mp4"}"#, status: 201),
        Row(.get, "/api/assets?status=READY", calls: "ingest.assets.list", #"{"status": "READY"}"#),
        Row(.get, "/api/assets/a1", calls: "ingest.assets.get", #"{"id": "a1"}"#),
        Row(.patch, "/api/assets/a1", #"{"status": "PROCESSING"}"#, calls: "ingest.assets.update", #"{"id": "a1", "status": "PROCESSING"}"#),
        Row(.delete, "/api/assets/a1", calls: "ingest.assets.delete", #"{"id": "a1"}"#, status: 204),
        Row(.post, "/api/assets/a1/clips", #"{"start_s": 0, "end_s": 5.5}"#, calls: "ingest.clips.create", #"{"id": "a1", "start_s": 0, "end_s": 5.5}"#, status: 201),
        Row(.get, "/api/assets/a1/clips?limit=2", calls: "ingest.clips.list", #"{"id": "a1", "limit": 2}"#),
        // `top` is a route of its own, not the clip with id "top".
        Row(.get, "/api/clips/top?asset_id=a1&limit=10&min_score=0.7", calls: "ingest.clips.top", #"{"asset_id": "a1", "limit": 10, "min_score": 0.7}"#),
        Row(.get, "/api/clips/c1", calls: "ingest.clips.get", #"{"id": "c1"}"#),
        Row(.patch, "/api/clips/c1", #"{"status": "REJECTED"}"#, calls: "ingest.clips.update", #"{"id": "c1", "status": "REJECTED"}"#),
        Row(.delete, "/api/clips/c1", calls: "ingest.clips.delete", #"{"id": "c1"}"#, status: 204),
        // prediction
        Row(.post, "/api/models/ctr/versions", #"{"metrics": {}}"#, calls: "prediction.models.create-version", #"{"name": "ctr", "metrics": {}}"#, status: 201),
        Row(.get, "/api/models?limit=3", calls: "prediction.models.list", #"{"limit": 3}"#),
        Row(.get, "/api/models/ctr", calls: "prediction.models.get", #"{"name": "ctr"}"#),
        Row(.get, "/api/models/ctr/versions", calls: "prediction.models.versions", #"{"name": "ctr"}"#),
        Row(.get, "/api/models/ctr/versions/3", calls: "prediction.models.get-version", #"{"name": "ctr", "version": 3}"#),
        Row(.delete, "/api/models/ctr/versions/3", calls: "prediction.models.delete-version", #"{"name": "ctr", "version": 3}"#, status: 204),
        Row(.get, "/api/models/ctr/versions/3/metrics", calls: "prediction.models.metrics", #"{"name": "ctr", "version": 3}"#),
        Row(.put, "/api/models/ctr/aliases/champion", #"{"version": 3}"#, calls: "prediction.models.set-alias", #"{"name": "ctr", "alias": "champion", "version": 3}"#),
        Row(.delete, "/api/models/ctr/aliases/champion", calls: "prediction.models.delete-alias", #"{"name": "ctr", "alias": "champion"}"#, status: 204),
        Row(.post, "/api/predictions", #"{"clip_id": "c1", "model": "ctr@champion"}"#, calls: "prediction.predict", #"{"clip_id": "c1", "model": "ctr@champion"}"#, status: 201),
        Row(.get, "/api/predictions?clip_id=c1&model=ctr", calls: "prediction.predictions.list", #"{"clip_id": "c1", "model": "ctr"}"#),
        Row(.get, "/api/predictions/p1", calls: "prediction.predictions.get", #"{"id": "p1"}"#),
        Row(.put, "/api/predictions/p1/actual", #"{"ctr": 0.031}"#, calls: "prediction.predictions.set-actual", #"{"id": "p1", "ctr": 0.031}"#),
        // conversion
        Row(.post, "/api/campaigns", #"{"name": "Spring", "objective": "SALES", "budget": "1250.50"}"#, calls: "conversion.campaigns.create",
            #"{"name": "Spring", "objective": "SALES", "budget": "1250.50"}"#, status: 201),
        Row(.get, "/api/campaigns?status=ACTIVE", calls: "conversion.campaigns.list", #"{"status": "ACTIVE"}"#),
        Row(.get, "/api/campaigns/c1", calls: "conversion.campaigns.get", #"{"id": "c1"}"#),
        Row(.patch, "/api/campaigns/c1", #"{"status": "ACTIVE"}"#, calls: "conversion.campaigns.update", #"{"id": "c1", "status": "ACTIVE"}"#),
        Row(.delete, "/api/campaigns/c1", calls: "conversion.campaigns.delete", #"{"id": "c1"}"#, status: 204),
        Row(.post, "/api/campaigns/c1/metrics", #"{"spend": "10.00", "impressions": 100, "clicks": 3}"#, calls: "conversion.campaigns.add-metrics",
            #"{"id": "c1", "spend": "10.00", "impressions": 100, "clicks": 3}"#),
        Row(.get, "/api/campaigns/c1/attribution?model=linear", calls: "conversion.campaigns.attribution", #"{"id": "c1", "model": "linear"}"#),
        Row(.post, "/api/campaigns/c1/experiments", #"{"name": "Hook", "metric": "revenue", "variants": [{"id": "a", "weight": 1}, {"id": "b", "weight": 1}]}"#,
            calls: "conversion.experiments.create", #"{"id": "c1", "name": "Hook", "metric": "revenue", "variants": [{"id": "a", "weight": 1}, {"id": "b", "weight": 1}]}"#, status: 201),
        Row(.get, "/api/experiments/e1", calls: "conversion.experiments.get", #"{"id": "e1"}"#),
        Row(.patch, "/api/experiments/e1", #"{"status": "RUNNING"}"#, calls: "conversion.experiments.update", #"{"id": "e1", "status": "RUNNING"}"#),
        Row(.post, "/api/experiments/e1/observations", #"{"variant_id": "a", "users": 100, "conversions": 7}"#, calls: "conversion.experiments.observe",
            #"{"id": "e1", "variant_id": "a", "users": 100, "conversions": 7}"#),
        Row(.get, "/api/experiments/e1/results", calls: "conversion.experiments.results", #"{"id": "e1"}"#),
        Row(.post, "/api/conversions", #"{"source": "WEBHOOK", "external_id": "wh-1", "value": "10.00", "occurred_at": "2026-11-22T12:00:00Z"}"#, calls: "conversion.record",
            #"{"source": "WEBHOOK", "external_id": "wh-1", "value": "10.00", "occurred_at": "2026-11-22T12:00:00Z"}"#),
        Row(.get, "/api/conversions?campaign_id=c1&source=META&since=2026-11-01T00:00:00Z", calls: "conversion.conversions.list",
            #"{"campaign_id": "c1", "source": "META", "since": "2026-11-01T00:00:00Z"}"#),
        Row(.get, "/api/conversions/v1", calls: "conversion.conversions.get", #"{"id": "v1"}"#),
        Row(.get, "/api/conversions/v1/attribution?model=position", calls: "conversion.conversions.attribution", #"{"id": "v1", "model": "position"}"#),
    ]

    /// One gateway for the whole table (a router per row would cost more than the requests).
    @Test func everyRouteCallsItsServicesMethod() async throws {
        let services = ServiceDouble()
        try await TestGateway.test(services) { client in
            for row in Self.rows {
                let before = services.calls.count
                let response = try await client.request(row.verb, row.uri, row.body)
                #expect(Int(response.status.code) == row.status, "\(row.testDescription): \(response.status) \(response.text)")
                let calls = services.calls.dropFirst(before)
                guard calls.count == 1, let call = calls.first else {
                    Issue.record("\(row.testDescription): \(Array(calls))")
                    continue
                }
                #expect(call.name == row.call, "\(row.testDescription)")
                #expect(canonicalJSON(call.text) == canonicalJSON(row.request), "\(row.testDescription): \(call.text)")
                #expect(call.timeout == .seconds(7), "\(row.testDescription): the gateway's --call-timeout")
                if row.status == 204 {
                    #expect(response.body.readableBytes == 0, "\(row.testDescription)")
                } else {
                    // The service's answer (the double echoes its request) is what the client reads.
                    #expect(response.headers[.contentType] == "application/json", "\(row.testDescription)")
                    #expect(canonicalJSON(response.text) == canonicalJSON(call.text), "\(row.testDescription)")
                }
            }
        }
    }

    /// The table above is the whole catalog: a route added without a row here fails.
    @Test func theTableCoversEveryRouteOfTheCatalog() {
        let declared = TestGateway.routes.map { "\($0.service).\($0.method)" }
        #expect(Set(declared).count == declared.count, "each route calls a method of its own")
        #expect(Set(Self.rows.map(\.call)) == Set(declared))
        #expect(Self.rows.count == TestGateway.routes.count)
    }

    /// Every declared route, with made-up parameters, is reached as declared
    /// (none is shadowed by another's pattern), with and without a trailing slash.
    @Test func everyDeclaredRouteIsReachable() async throws {
        var requests: [(HTTPRoute, String, [String: String])] = []
        for route in TestGateway.routes {
            var path = route.path
            var query: [String] = []
            var expected: [String: String] = [:]
            for parameter in route.parameters where parameter.location == .path || parameter.required {
                let value = parameter.schema.kind.isInteger ? "7" : "p-\(parameter.name)"
                if parameter.location == .path {
                    path = path.replacingOccurrences(of: "{\(parameter.name)}", with: value)
                } else {
                    query.append("\(parameter.name)=\(value)")
                }
                expected[parameter.name] = value
            }
            let suffix = query.isEmpty ? "" : "?" + query.joined(separator: "&")
            for variant in [path, path.hasSuffix("/") ? String(path.dropLast()) : path + "/"] {
                requests.append((route, variant + suffix, expected))
            }
        }
        let planned = requests
        let services = ServiceDouble()
        try await TestGateway.test(services) { client in
            for (route, uri, expected) in planned {
                let before = services.calls.count
                let response = try await client.request(RouteHandler.method(route.verb), uri, route.body == nil ? nil : "{}")
                #expect(Int(response.status.code) == route.status, "\(route.verb) \(uri): \(response.status) \(response.text)")
                let calls = services.calls.dropFirst(before)
                #expect(calls.map(\.name) == ["\(route.service).\(route.method)"], "\(route.verb) \(uri)")
                let request = calls.last?.json ?? [:]
                for (name, value) in expected {
                    #expect("\(request[name] ?? "absent")" == value, "\(route.verb) \(uri): \(name)")
                }
            }
        }
    }

    @Test func pathParametersArePercentDecodedAndMayHoldAnything() async throws {
        let services = ServiceDouble()
        _ = try await TestGateway.test(services) { client in
            try await client.request(.get, "/api/video-analysis/caf%C3%A9%20%2F%20%22x%22")
        }
        #expect(services.lastCall?.json["video_id"] as? String == #"café / "x""#)
    }

    @Test func queryParametersTheRouteDoesNotDeclareAreNotForwarded() async throws {
        let services = ServiceDouble()
        _ = try await TestGateway.test(services) { client in
            try await client.request(.get, "/api/video-analysis/?limit=3&tenant_id=t-other&video_id=v9")
        }
        #expect(canonicalJSON(services.lastCall?.text ?? "") == canonicalJSON(#"{"limit": 3}"#))
    }

    /// A path parameter wins over a body field of its name: the path names the resource.
    @Test func aPathParameterWinsOverTheBodyFieldOfItsName() async throws {
        let services = ServiceDouble()
        _ = try await TestGateway.test(services) { client in
            try await client.request(.put, "/api/video-analysis/from-path", #"{"video_id": "from-body", "description": "d"}"#)
        }
        #expect(services.lastCall?.json["video_id"] as? String == "from-path")
        #expect(services.lastCall?.json["description"] as? String == "d")
    }

    /// Money is read from a number's text: the client's bytes reach the service as sent, the path in front.
    @Test func numbersReachTheServiceAsTheClientWroteThem() async throws {
        let services = ServiceDouble()
        _ = try await TestGateway.test(services) { client in
            try await client.request(.post, "/api/campaigns/c1/metrics", #"{"spend": 12345678901234567.89, "impressions": 1e3, "clicks": 0}"#)
        }
        #expect(services.lastCall?.text == #"{"id":"c1","spend": 12345678901234567.89, "impressions": 1e3, "clicks": 0}"#)
        // Nothing to add: the body is forwarded byte for byte.
        let bytes = #"{ "video_id" : "v1" ,"description":"caf\u00e9 \/ 1.10" }"#
        _ = try await TestGateway.test(services) { client in try await client.request(.post, "/api/video-analysis/", bytes) }
        #expect(services.lastCall?.text == bytes)
    }

    @Test func queryParametersAreCheckedAgainstTheirDeclaredTypes() async throws {
        let cases: [(String, String)] = [
            ("/api/video-analysis/?limit=-1", "limit must be at least 0, got -1"),
            ("/api/video-analysis/?limit=501", "limit must be at most 500, got 501"),
            ("/api/video-analysis/?limit=abc", "limit must be an integer, got abc"),
            ("/api/video-analysis/?limit=", "limit must be an integer, got "),
            ("/api/video-analysis/?cursor=ab", "cursor must be at least 3 characters"),
            ("/api/clips/top?min_score=1.5", "min_score must be at most 1, got 1.5"),
            ("/api/clips/top?min_score=0x1p-1", "min_score must be a number, got 0x1p-1"),
            ("/api/clips/top?min_score=nan", "min_score must be a number, got nan"),
            ("/api/clips/top?min_score=.5", "min_score must be a number, got .5"),
            ("/api/knowledge/search?category=policy", "q is required"),
            ("/api/knowledge/search?q=", "q must be at least 1 characters"),
            ("/api/models/ctr/versions/0", "version must be at least 1, got 0"),
            ("/api/models/ctr/versions/three", "version must be an integer, got three"),
        ]
        let services = ServiceDouble()
        try await TestGateway.test(services) { client in
            for (uri, detail) in cases {
                let response = try await client.request(.get, uri)
                #expect(response.status == .unprocessableContent, "\(uri): \(response.status)")
                #expect(response.isErrorShape && response.code == "invalid-argument", "\(uri): \(response.text)")
                #expect(response.detail == detail, "\(uri)")
            }
        }
        #expect(services.calls.isEmpty, "refused before any service is asked: \(services.calls)")
    }

    @Test func numberParametersAreWrittenAsJSONNumbers() async throws {
        let services = ServiceDouble()
        _ = try await TestGateway.test(services) { client in try await client.request(.get, "/api/clips/top?min_score=1e-5&limit=0") }
        #expect(services.lastCall?.text == #"{"limit":0,"min_score":1e-05}"#)
    }

    // MARK: - Answers

    /// A list's next cursor leaves the body for a `Link` header that keeps the request's filters.
    @Test func aListsNextCursorBecomesALinkHeader() async throws {
        let services = ServiceDouble()
        services.answer("analysis-store.knowledge.list", json: #"{"documents": [{"id": "d1"}], "count": 1, "next_cursor": "1700000000000.d1+/="}"#)
        services.answer("analysis-store.list", json: #"{"analyses": [], "count": 0}"#)
        let (page, last) = try await TestGateway.test(services) { client in
            (try await client.request(.get, "/api/knowledge?category=two%20words&limit=1&cursor=old.cursor"),
             try await client.request(.get, "/api/video-analysis/?limit=1"))
        }
        #expect(page.status == .ok)
        #expect(Set(page.json.keys) == ["documents", "count"], "exactly the seed's two keys: \(page.text)")
        #expect(page.headers[.link] == #"</api/knowledge?category=two%20words&limit=1&cursor=1700000000000.d1%2B%2F%3D>; rel="next""#)
        #expect(last.status == .ok && last.headers[.link] == nil)
        #expect(Set(last.json.keys) == ["analyses", "count"])
    }

    /// A PUT that creates is 201, one that replaces keeps the route's status; the flag leaves the body.
    @Test func createdOrNotDecidesTheStatus() async throws {
        let services = ServiceDouble()
        services.answer("analysis-store.clip-analyses.put") { call in
            ByteBuffer(string: call.json["score"] as? Double == 0.9 ? #"{"clip_id": "c1", "created": true}"# : #"{"clip_id": "c1", "created": false}"#)
        }
        services.answer("conversion.record", json: #"{"id": "v1", "created": false}"#)
        let (created, replaced, duplicate) = try await TestGateway.test(services) { client in
            (try await client.request(.put, "/api/clips/c1/analysis", #"{"features": {}, "score": 0.9}"#),
             try await client.request(.put, "/api/clips/c1/analysis", #"{"features": {}, "score": 0.5}"#),
             try await client.request(.post, "/api/conversions", #"{"source": "MANUAL", "external_id": "x", "value": 1, "occurred_at": "2026-11-22T12:00:00Z"}"#))
        }
        #expect(created.status == .created && created.json.keys.sorted() == ["clip_id"])
        #expect(replaced.status == .ok && replaced.json.keys.sorted() == ["clip_id"])
        // A duplicate conversion is 200 with the stored record, never an error.
        #expect(duplicate.status == .ok && duplicate.json.keys.sorted() == ["id"])
    }

    @Test func idempotencyKeysTravelWithWritesOnly() async throws {
        let services = ServiceDouble()
        let key: HTTPFields = [.idempotencyKey: "7f3c2a-retry"]
        try await TestGateway.test(services) { client in
            _ = try await client.request(.post, "/api/video-analysis/", #"{"video_id": "v", "description": "d"}"#, headers: key)
            _ = try await client.request(.put, "/api/video-analysis/v", #"{"description": "d"}"#, headers: key)
            _ = try await client.request(.patch, "/api/users/u1", #"{"name": "n"}"#, headers: key)
            _ = try await client.request(.get, "/api/video-analysis/v", headers: key)
            _ = try await client.request(.delete, "/api/video-analysis/v", headers: key)
        }
        #expect(services.calls.map(\.idempotencyKey) == ["7f3c2a-retry", "7f3c2a-retry", "7f3c2a-retry", nil, nil])
    }

    @Test(arguments: ["has space", "", String(repeating: "k", count: 256), "caf\u{E9}"])
    func aMalformedIdempotencyKeyIs422(_ key: String) async throws {
        let services = ServiceDouble()
        let response = try await TestGateway.test(services) { client in
            try await client.request(.post, "/api/video-analysis/", #"{"video_id": "v", "description": "d"}"#, headers: [.idempotencyKey: key])
        }
        #expect(response.status == .unprocessableContent && response.isErrorShape, "\(response.text)")
        #expect(response.detail == "Idempotency-Key must be 1 to 255 visible ASCII characters")
        #expect(services.calls.isEmpty)
    }

    // MARK: - Unknown paths and methods

    @Test func anUnknownPathIsA404InTheErrorShape() async throws {
        let services = ServiceDouble()
        try await TestGateway.test(services) { client in
            for uri in ["/no/such/path", "/api/video-analysis/v1/extra", "/api", "/api/users/u1/api-keys/k1/more"] {
                let response = try await client.request(.get, uri)
                #expect(response.status == .notFound, "\(uri)")
                #expect(response.isErrorShape && response.code == "not-found", "\(uri): \(response.text)")
                #expect(response.detail == "no route for GET \(uri)")
            }
        }
        #expect(services.calls.isEmpty)
    }

    @Test func aMethodThePathDoesNotHaveIs405WithAllow() async throws {
        let cases: [(HTTPRequest.Method, String, String)] = [
            (.patch, "/api/video-analysis/v1", "GET, PUT, DELETE"),
            (.delete, "/api/video-analysis/", "POST, GET"),
            (.delete, "/api/video-analysis", "POST, GET"),
            (.post, "/api/clips/top", "GET"),
            (.put, "/api/me", "GET"),
            (.post, "/healthz", "GET"),
            (.delete, "/openapi.json", "GET"),
            (HTTPRequest.Method("PROPFIND")!, "/api/assets", "POST, GET"),
        ]
        let services = ServiceDouble()
        try await TestGateway.test(services) { client in
            for (method, uri, allow) in cases {
                let response = try await client.request(method, uri, method == .get || method == .delete ? nil : "{}")
                #expect(response.status == .methodNotAllowed, "\(method) \(uri): \(response.status)")
                #expect(response.headers[.allow] == allow, "\(method) \(uri)")
                #expect(response.isErrorShape && response.code == "unimplemented", "\(response.text)")
                #expect(response.detail == "\(method.rawValue) is not allowed on \(uri); allowed: \(allow)")
            }
        }
        #expect(services.calls.isEmpty)
    }
}

extension JSONSchema.Kind {
    var isInteger: Bool {
        if case .integer = self { return true }
        return false
    }
}
