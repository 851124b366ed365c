import Catalog
import Contracts
import Foundation
@testable import Gateway
import Testing

/// Ingest's REST routes are exactly API.md's "Users and keys", "Assets" and
/// "Clips", and the operator and gateway methods have none.
@Suite struct IngestRoutesTests {
    static var routes: [HTTPRoute] { ServiceCatalog.routes.filter { $0.service == IngestContracts.service } }

    @Test func theRoutesAreAPIMdsUsersKeysAssetsAndClips() {
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
            "POST /api/assets 201 assets.create",
            "GET /api/assets 200 assets.list",
            "GET /api/assets/{id} 200 assets.get",
            "PATCH /api/assets/{id} 200 assets.update",
            "DELETE /api/assets/{id} 204 assets.delete",
            "POST /api/assets/{id}/clips 201 clips.create",
            "GET /api/assets/{id}/clips 200 clips.list",
            "GET /api/clips/top 200 clips.top",
            "GET /api/clips/{id} 200 clips.get",
            "PATCH /api/clips/{id} 200 clips.update",
            "DELETE /api/clips/{id} 204 clips.delete",
        ])
        let routed = Set(Self.routes.map(\.method))
        for method in ["authenticate", "anonymous", "tenants.create", "tenants.list"] { #expect(!routed.contains(method)) }
        // Roles matter for users and keys only: USER and ENTERPRISE use assets and clips as ADMIN does.
        for route in Self.routes where route.path.hasPrefix("/api/users") {
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
