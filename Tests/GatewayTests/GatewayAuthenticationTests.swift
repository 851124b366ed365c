import BusRuntime
import BusWire
import Foundation
@testable import Gateway
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Keys and tenancy as a client meets them through the router: who a request
/// is made for reaches every service call in the bus header, as ingest said.
/// (The authenticator's own rules — header forms, caching, revocation, buckets
/// — are AuthenticatorTests'; here the real ingest directory asks the double over the bus.)
@Suite struct GatewayAuthenticationTests {
    static let keyed = TestGateway.configuration(anonymousTenant: nil)
    static let challenge = HTTPField.Name("WWW-Authenticate")!

    @Test func aKeysTenantUserAndRoleTravelWithTheCall() async throws {
        let services = ServiceDouble()
        try await TestGateway.test(services, configuration: Self.keyed) { (client: any TestClientProtocol) async throws in
            #expect(try await client.request(.get, "/api/video-analysis/v1", headers: [.authorization: "Bearer \(ServiceDouble.acmeAdminKey)"]).status == .ok)
            #expect(try await client.request(.post, "/api/campaigns", #"{"name": "n"}"#, headers: [.xAPIKey: ServiceDouble.globexEnterpriseKey]).status == .created)
        }
        #expect(services.calls.map(\.identity) == [
            Identity(tenant: "t-acme", user: "u-acme-admin", role: "ADMIN"),
            Identity(tenant: "t-globex", user: "u-globex", role: "ENTERPRISE"),
        ])
        // Ingest was asked as its contract says, with the key alone and no identity of its own.
        #expect(services.directoryCalls.map(\.name) == ["ingest.authenticate", "ingest.authenticate"])
        #expect(services.directoryCalls.map { canonicalJSON($0.text) } == [
            canonicalJSON(#"{"key": "\#(ServiceDouble.acmeAdminKey)"}"#), canonicalJSON(#"{"key": "\#(ServiceDouble.globexEnterpriseKey)"}"#),
        ])
        #expect(services.directoryCalls.allSatisfy { $0.identity == nil && $0.idempotencyKey == nil })
    }

    /// The tenant is the key's: nothing a client writes in a header, the query or the body changes it.
    @Test func aClientCannotChooseItsTenant() async throws {
        let services = ServiceDouble()
        let headers: HTTPFields = [
            .xAPIKey: ServiceDouble.acmeUserKey, HTTPField.Name("X-Tenant-ID")!: "t-globex", HTTPField.Name("X-Videobus-Tenant")!: "t-globex",
            HTTPField.Name("X-User-ID")!: "u-globex", HTTPField.Name("X-Role")!: "ADMIN",
        ]
        try await TestGateway.test(services, configuration: Self.keyed) { client in
            _ = try await client.request(.get, "/api/video-analysis/?tenant_id=t-globex", headers: headers)
            _ = try await client.request(.post, "/api/video-analysis/", #"{"video_id": "v", "description": "d", "tenant_id": "t-globex"}"#, headers: headers)
        }
        #expect(services.calls.map(\.identity) == [Identity?](repeating: Identity(tenant: "t-acme", user: "u-acme-user", role: "USER"), count: 2))
    }

    @Test func withoutAnonymousAccessNoKeyIs401AndNoServiceIsAsked() async throws {
        let services = ServiceDouble()
        let response = try await TestGateway.test(services, configuration: Self.keyed) { client in try await client.request(.get, "/api/video-analysis/") }
        #expect(response.status == .unauthorized && response.isErrorShape && response.code == "unauthenticated", "\(response.text)")
        #expect(response.detail == "no API key: send Authorization: Bearer <key> or X-API-Key: <key>")
        #expect(response.headers[Self.challenge] == #"Bearer realm="videobus""#)
        #expect(services.calls.isEmpty && services.directoryCalls.isEmpty)
    }

    /// An unknown or revoked key is 401 even where anonymous requests are served: never quietly anonymous.
    @Test(arguments: [nil, "default"] as [String?])
    func anUnknownKeyIs401(_ anonymousTenant: String?) async throws {
        let services = ServiceDouble()
        let response = try await TestGateway.test(services, configuration: TestGateway.configuration(anonymousTenant: anonymousTenant)) { client in
            try await client.request(.get, "/api/video-analysis/", headers: [.authorization: "Bearer vbk_not-a-key"])
        }
        #expect(response.status == .unauthorized && response.isErrorShape && response.code == "unauthenticated", "\(response.text)")
        #expect(response.detail == "the API key is not valid (unknown, revoked or malformed)")
        #expect(response.headers[Self.challenge] == #"Bearer realm="videobus""#)
        #expect(services.calls.isEmpty)
        #expect(services.directoryCalls.map(\.name) == ["ingest.authenticate"])
    }

    /// Who the caller is is settled before its body is read: an unknown caller's large body is 401, not 413, and costs no budget.
    @Test func authenticationComesBeforeTheBody() async throws {
        let services = ServiceDouble()
        let body = #"{"video_id": "v", "description": "\#(String(repeating: "d", count: 5000))"}"#
        let configuration = TestGateway.configuration(anonymousTenant: nil, maxBodyBytes: 1000, maxBodyBytesInFlight: 1000)
        let (unknown, known) = try await TestGateway.test(services, configuration: configuration) { client in
            (try await client.request(.post, "/api/video-analysis/", body), try await client.request(.post, "/api/video-analysis/", body, headers: [.xAPIKey: ServiceDouble.acmeUserKey]))
        }
        #expect(unknown.status == .unauthorized, "\(unknown.text)")
        #expect(known.status == .contentTooLarge, "\(known.text)")
    }

    @Test func anonymousRequestsAreTheAnonymousTenantsUser() async throws {
        let services = ServiceDouble()
        try await TestGateway.test(services, configuration: TestGateway.configuration(anonymousTenant: "default")) { (client: any TestClientProtocol) async throws in
            for _ in 0..<3 { #expect(try await client.request(.get, "/api/video-analysis/v1").status == .ok) }
            #expect(try await client.request(.get, "/api/me", headers: [.xAPIKey: ServiceDouble.acmeAdminKey]).status == .ok)
        }
        let anonymous = Identity(tenant: "t-default", user: "u-default-anonymous", role: "USER")
        #expect(services.calls.map(\.identity) == [anonymous, anonymous, anonymous, Identity(tenant: "t-acme", user: "u-acme-admin", role: "ADMIN")])
        // Asked once and remembered (the anonymous user has no key to revoke), with the tenant's name.
        #expect(services.directoryCalls.map(\.name) == ["ingest.anonymous", "ingest.authenticate"])
        #expect(canonicalJSON(services.directoryCalls.first?.text ?? "") == canonicalJSON(#"{"tenant_name": "default"}"#))
    }

    /// Ingest unreachable is the gateway's 503 (or 504) naming ingest, never a 401 that would tell a client its key is bad.
    @Test(arguments: [
        (BusError(.noResponders, "no live instance of ingest"), 503, "no live instance of ingest"),
        (BusError(.unavailable, "connection to ingest-9a@10.0.0.7:4000 closed"), 503, "ingest is unavailable; retry later"),
        (BusError(.deadlineExceeded, "no answer from ingest-9a@10.0.0.7:4000"), 504, "ingest did not answer in time"),
    ] as [(BusError, Int, String)])
    func anUnreachableIngestIsNotA401(_ error: BusError, _ status: Int, _ detail: String) async throws {
        let services = ServiceDouble()
        services.fail("ingest.authenticate", error)
        services.fail("ingest.anonymous", error)
        try await TestGateway.test(services, configuration: TestGateway.configuration(anonymousTenant: "default")) { client in
            for headers: HTTPFields in [[.xAPIKey: ServiceDouble.acmeUserKey], [:]] {
                let response = try await client.request(.get, "/api/video-analysis/", headers: headers)
                #expect(Int(response.status.code) == status && response.isErrorShape, "\(headers): \(response.text)")
                #expect(response.detail == detail)
            }
        }
        #expect(services.calls.isEmpty)
    }

    /// A malformed Authorization header is 401 before ingest is asked.
    @Test func aMalformedAuthorizationIs401WithoutAskingIngest() async throws {
        let services = ServiceDouble()
        try await TestGateway.test(services, configuration: TestGateway.configuration(anonymousTenant: "default")) { client in
            for headers: HTTPFields in [[.authorization: "Basic dXNlcjpwYXNz"], [.authorization: "Bearer"], [.xAPIKey: "a b"],
                                        [.authorization: "Bearer \(ServiceDouble.acmeAdminKey)", .xAPIKey: ServiceDouble.acmeUserKey]] {
                let response = try await client.request(.get, "/api/video-analysis/", headers: headers)
                #expect(response.status == .unauthorized && response.isErrorShape && response.headers[Self.challenge] != nil, "\(headers): \(response.text)")
            }
        }
        #expect(services.calls.isEmpty && services.directoryCalls.isEmpty)
    }

    /// The operators' routes and the API's description need no key, even where every other route does.
    @Test func operationalRoutesNeedNoKey() async throws {
        let services = ServiceDouble()
        try await TestGateway.test(services, configuration: Self.keyed) { (client: any TestClientProtocol) async throws in
            for uri in ["/healthz", "/readyz", "/openapi.json", "/docs"] {
                #expect(try await client.request(.get, uri).status == .ok, "\(uri)")
            }
        }
        #expect(services.directoryCalls.isEmpty)
    }
}
