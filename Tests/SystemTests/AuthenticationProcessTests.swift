import Foundation
import TestSupport
import Testing

/// API keys through the whole stack: `videobus tenant create` against running
/// processes, then the REST API with and without keys, across tenants.
@Suite struct AuthenticationProcessTests {
    typealias Stack = GatewayTests.Stack

    /// `videobus tenant create NAME` against the stack: the tenant's id and its first ADMIN key.
    static func createTenant(_ name: String, _ stack: Stack) async throws -> (id: String, key: String) {
        let deadline = ContinuousClock.now + .seconds(30)
        var created: (Int32, String) = (-1, "")
        repeat {
            created = try await VideobusProcess.run(["tenant", "create", name, "--json"] + stack.registryFlag)
        } while created.0 == 3 && ContinuousClock.now < deadline  // 3: ingest not registered yet
        let line = try #require(created.1.split(separator: "\n").last { $0.hasPrefix("{") }, "\(created.1)")
        let fields = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], "\(created.1)")
        return (try #require(fields["tenant_id"] as? String), try #require(fields["key"] as? String))
    }

    static func bearer(_ key: String) -> [String: String] { ["Authorization": "Bearer \(key)"] }

    @Test func keysSeparateTenantsAndTheAnonymousTenantSeesNoneOfTheirRecords() async throws {
        let (stack, cleanup) = try await Stack.start(.sqlite)
        defer { stack.stop(); Task { await cleanup() } }
        let acme = try await Self.createTenant("acme", stack)
        let beta = try await Self.createTenant("beta", stack)

        // The same video id in three tenants: acme's (by bearer), beta's (by X-API-Key), the anonymous default's.
        let body = #"{"video_id": "test_001", "description": "A sunset"}"#
        #expect(try await stack.request("POST", "/api/video-analysis/", body, headers: Self.bearer(acme.key)).status == 201)
        #expect(try await stack.request("POST", "/api/video-analysis/", #"{"video_id": "test_001", "description": "beta's"}"#, headers: ["X-API-Key": beta.key]).status == 201)
        #expect(try await stack.request("POST", "/api/video-analysis/", body, headers: Self.bearer(acme.key)).status == 409)
        #expect(try await stack.request("GET", "/api/video-analysis/test_001").status == 404)
        #expect(try await stack.request("GET", "/api/video-analysis/").json?["count"] as? Int == 0)
        #expect(try await stack.request("POST", "/api/video-analysis/", #"{"video_id": "test_001", "description": "anonymous"}"#).status == 201)

        let seen = try await stack.request("GET", "/api/video-analysis/test_001", headers: ["X-API-Key": beta.key])
        #expect(seen.json?["description"] as? String == "beta's")
        #expect(try await stack.request("GET", "/api/video-analysis/test_001", headers: Self.bearer(acme.key)).json?["description"] as? String == "A sunset")
        #expect(try await stack.request("GET", "/api/video-analysis/", headers: Self.bearer(acme.key)).json?["count"] as? Int == 1)
        #expect(try await stack.request("DELETE", "/api/video-analysis/test_001", headers: Self.bearer(acme.key)).status == 204)
        #expect(try await stack.request("GET", "/api/video-analysis/test_001", headers: ["X-API-Key": beta.key]).status == 200)

        // Who am I: the key's user and tenant.
        let me = try await stack.request("GET", "/api/me", headers: Self.bearer(acme.key))
        #expect(me.status == 200 && me.json?["tenant_name"] as? String == "acme" && me.json?["role"] as? String == "ADMIN", "\(me.body)")

        // A key that is not one is 401, even where anonymous requests are served.
        let wrong = try await stack.request("GET", "/api/video-analysis/", headers: Self.bearer("vbk_not-a-key"))
        #expect(wrong.status == 401 && wrong.json?["code"] as? String == "unauthenticated" && wrong.headers["www-authenticate"] != nil, "\(wrong)")
    }

    @Test func withoutAnonymousAccessEveryRequestNeedsAKeyAndARevokedKeyStopsWorking() async throws {
        let (stack, cleanup) = try await Stack.start(.sqlite, anonymous: false)
        defer { stack.stop(); Task { await cleanup() } }
        let acme = try await Self.createTenant("acme", stack)

        let none = try await stack.request("GET", "/api/video-analysis/")
        #expect(none.status == 401 && none.json?["detail"] as? String == "no API key: send Authorization: Bearer <key> or X-API-Key: <key>", "\(none.body)")
        #expect(try await stack.request("GET", "/healthz").status == 200, "operators' routes need no key")

        // The ADMIN adds a USER and a key for it: the USER may not manage users.
        let user = try await stack.request("POST", "/api/users", #"{"email": "ada@example.com", "name": "Ada"}"#, headers: Self.bearer(acme.key))
        #expect(user.status == 201, "\(user.body)")
        let userID = try #require(user.json?["id"] as? String)
        let key = try await stack.request("POST", "/api/users/\(userID)/api-keys", #"{"name": "laptop"}"#, headers: Self.bearer(acme.key))
        #expect(key.status == 201, "\(key.body)")
        let userKey = try #require(key.json?["key"] as? String), keyID = try #require(key.json?["id"] as? String)
        #expect(try await stack.request("GET", "/api/video-analysis/", headers: ["X-API-Key": userKey]).status == 200)
        let forbidden = try await stack.request("POST", "/api/users", #"{"email": "eve@example.com"}"#, headers: ["X-API-Key": userKey])
        #expect(forbidden.status == 403 && forbidden.json?["code"] as? String == "permission-denied", "\(forbidden.body)")

        // Revoked: refused once the gateway's cached verdict (at most 1 s) runs out.
        #expect(try await stack.request("DELETE", "/api/users/\(userID)/api-keys/\(keyID)", headers: Self.bearer(acme.key)).status == 204)
        #expect(await eventually { try await stack.request("GET", "/api/video-analysis/", headers: ["X-API-Key": userKey]).status == 401 })
        #expect(try await stack.request("GET", "/api/video-analysis/", headers: Self.bearer(acme.key)).status == 200)
    }

    @Test func aKeyBeyondItsRolesRateLimitIs429WithRetryAfter() async throws {
        // Five requests, then one every 1,000 s: no loaded machine refills a token mid-test.
        let (stack, cleanup) = try await Stack.start(.sqlite, gatewayOptions: ["--rate-limit", "ADMIN=0.001:5"], anonymous: false)
        defer { stack.stop(); Task { await cleanup() } }
        let acme = try await Self.createTenant("acme", stack)
        for _ in 0..<5 { #expect(try await stack.request("GET", "/api/video-analysis/", headers: Self.bearer(acme.key)).status == 200) }
        let limited = try await stack.request("GET", "/api/video-analysis/", headers: Self.bearer(acme.key))
        #expect(limited.status == 429 && limited.json?["code"] as? String == "overloaded", "\(limited.body)")
        #expect(Int(limited.headers["retry-after"] ?? "") ?? 0 > 900, "\(limited.headers)")
    }
}
