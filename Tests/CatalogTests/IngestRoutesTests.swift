import Catalog
import Contracts
import Foundation
@testable import Gateway
import Testing

/// Ingest's REST routes are exactly API.md's "Users and keys", and the
/// operator and gateway methods have none.
@Suite struct IngestRoutesTests {
    static var routes: [HTTPRoute] { ServiceCatalog.routes.filter { $0.service == IngestContracts.service } }

    @Test func theRoutesAreAPIMdsUsersAndKeys() {
        let table = Set(Self.routes.map { "\($0.verb.rawValue.uppercased()) \($0.path) \($0.status) \($0.method)" })
        #expect(table == [
            "POST /api/users 201 users.create",
            "GET /api/users 200 users.list",
            "GET /api/users/{id} 200 users.get",
            "PATCH /api/users/{id} 200 users.update",
            "DELETE /api/users/{id} 204 users.delete",
            "GET /api/me 200 me",
            "POST /api/users/{id}/api-keys 201 keys.create",
            "GET /api/users/{id}/api-keys 200 keys.list",
            "DELETE /api/users/{id}/api-keys/{key_id} 204 keys.delete",
        ])
        let routed = Set(Self.routes.map(\.method))
        for method in ["authenticate", "anonymous", "tenants.create", "tenants.list"] { #expect(!routed.contains(method)) }
        for route in Self.routes where route.method != "me" {
            #expect(route.failures.contains { $0.status == 403 }, "\(route.verb) \(route.path) documents 403")
        }
    }

    /// `POST /api/users/{id}/api-keys` takes `{name?}` or no body at all.
    @Test func aKeyIsCreatedWithOrWithoutABody() throws {
        let create = try #require(Self.routes.first { $0.method == "keys.create" })
        #expect(create.bodyMayBeEmpty)
        let createUser = try #require(Self.routes.first { $0.method == "users.create" })
        #expect(!createUser.bodyMayBeEmpty)
        let document = try #require(try JSONSerialization.jsonObject(with: OpenAPIDocument.json(routes: ServiceCatalog.routes, version: "test")) as? [String: Any])
        let paths = try #require(document["paths"] as? [String: [String: [String: Any]]])
        #expect((paths["/api/users/{id}/api-keys"]?["post"]?["requestBody"] as? [String: Any])?["required"] as? Bool == false)
        #expect((paths["/api/users"]?["post"]?["requestBody"] as? [String: Any])?["required"] as? Bool == true)
        #expect((paths["/api/video-analysis/"]?["post"]?["requestBody"] as? [String: Any])?["required"] as? Bool == true)
    }
}
