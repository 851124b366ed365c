import BusRuntime
import Contracts
import Foundation
import NIOCore
import Testing

/// Ingest's Swift contracts and `proto/schemas/methods/` agree: every field
/// Swift encodes is a schema property, every required property is encoded,
/// and every example in `proto/vectors/methods/` decodes into the Swift type.
@Suite struct IngestContractTests {
    typealias C = IngestContracts
    static let proto = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("proto")

    static func json(_ path: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: proto.appendingPathComponent(path)))
    }

    func check<T: Codable & Sendable>(_ value: T, _ name: String) throws {
        try check(value, file: "ingest.\(name)")
    }

    /// `file`: the base name of the schema and example files (`analysis-store.clip-analyzed`).
    func check<T: Codable & Sendable>(_ value: T, file name: String) throws {
        let schema = try Self.json("schemas/methods/\(name).schema.json") as! [String: Any]
        let properties = Set((schema["properties"] as? [String: Any] ?? [:]).keys)
        let required = Set(schema["required"] as? [String] ?? [])
        let encoded = try JSONSerialization.jsonObject(with: Data(JSONBody.encode(value).readableBytesView)) as! [String: Any]
        #expect(Set(encoded.keys).isSubset(of: properties), "\(name): Swift encodes \(Set(encoded.keys).subtracting(properties)) the schema lacks")
        #expect(required.isSubset(of: Set(encoded.keys)), "\(name): the schema requires \(required.subtracting(encoded.keys)) Swift does not encode")
        for example in try Self.json("vectors/methods/\(name).json") as! [Any] {
            let data = try JSONSerialization.data(withJSONObject: example)
            #expect(throws: Never.self, "an example of \(name) does not decode into \(T.self)") { _ = try JSONBody.decode(T.self, from: ByteBuffer(bytes: data)) }
        }
    }

    @Test func contractsMatchTheirSchemas() throws {
        let user = C.User(id: "cmwqtdjauhoy2z9zj6dk2mdog", email: "ada@example.com", name: "Ada", role: "USER",
                          settings: ["theme": .string("dark"), "n": .integer(2), "x": .number(1.5), "on": .bool(true), "list": .array([.null])],
                          createdAt: "2026-11-21T19:41:45.845Z", updatedAt: "2026-11-21T19:41:45.845Z")
        let key = "vbk_3kTMd9wQ2xZ8pLr5vN7bY1cF6hJ0gS4aE9uK2mP7qW1"
        try check(C.CreateUserRequest(email: "ada@example.com", name: "Ada", role: "USER", settings: [:]), "users.create.request")
        try check(C.UserRequest(id: user.id), "users.get.request")
        try check(C.UserRequest(id: user.id), "users.delete.request")
        try check(C.UpdateUserRequest(id: user.id, email: "a@b.c", name: "A", role: "ADMIN", settings: [:]), "users.update.request")
        try check(C.ListRequest(limit: 10, cursor: "1763667705845.cmwqtdjauhoy2z9zj6dk2mdog"), "list.request")
        try check(Empty(), "empty")
        try check(user, "user")
        try check(C.UserPage(users: [user], nextCursor: "1763667705845.cmwqtdjauhoy2z9zj6dk2mdog"), "users.page")
        try check(C.Me(user: user, tenantId: "default", tenantName: "default"), "me")
        try check(C.CreateKeyRequest(id: user.id, name: "ci"), "keys.create.request")
        try check(C.NewAPIKey(id: user.id, name: "ci", key: key, prefix: String(key.prefix(8)), createdAt: user.createdAt), "new-key")
        try check(C.ListKeysRequest(id: user.id, limit: 5), "keys.list.request")
        try check(C.APIKeyPage(apiKeys: [C.APIKey(id: user.id, name: "", prefix: "vbk_3kTM", createdAt: user.createdAt, lastUsedAt: nil)]), "keys.page")
        try check(C.KeyRequest(id: user.id, keyId: user.id), "keys.delete.request")
        try check(C.AuthenticateRequest(key: key), "authenticate.request")
        try check(C.Principal(tenantId: "default", tenantName: "default", userId: user.id, role: "USER", keyId: user.id), "principal")
        try check(C.AnonymousRequest(tenantName: "default"), "anonymous.request")
        try check(C.CreateTenantRequest(name: "acme"), "tenants.create.request")
        try check(C.NewTenant(tenantId: "t", tenantName: "acme", userId: user.id, email: "admin@acme", key: key), "new-tenant")
        try check(C.TenantPage(tenants: [C.Tenant(id: "default", name: "default", createdAt: user.createdAt)]), "tenants.page")
        try check(C.UserEvent(id: user.id), "user-event")
        try check(C.KeyEvent(id: user.id, userId: user.id), "key-event")

        // Assets and clips, and the clip.analyzed payload ingest consumes.
        let asset = C.Asset(
            id: "cmwqv2k9rbhd1rzyn4pxq7a2e", userId: "cmwqtdjauhoy2z9zj6dk2mdog", sourceUrl: "https://storage.example.com/videos/launch.mp4",
            title: nil, status: "PENDING", sizeBytes: nil, durationS: nil, width: nil, height: nil, fps: nil, mimeType: nil,
            videoCodec: nil, audioCodec: nil, error: nil, metadata: [:], createdAt: "2026-11-21T19:41:45.845Z", updatedAt: "2026-11-21T19:41:45.845Z"
        )
        let clip = C.Clip(
            id: "cmwqv5b7zbhd4rzyn3q5s7t9v", assetId: asset.id, startS: 12.5, endS: 30.25, label: nil, status: "SCORED", score: 0.87, rank: 1,
            features: ["motion": 0.62], createdAt: "2026-11-21T20:02:41.734Z", updatedAt: "2026-11-21T20:05:09.262Z"
        )
        try check(C.CreateAssetRequest(sourceUrl: asset.sourceUrl, title: "Launch", sizeBytes: 734_003_200, durationS: 95.5, mimeType: "video/mp4", metadata: [:]),
                  "assets.create.request")
        try check(C.AssetRequest(id: asset.id), "assets.get.request")
        try check(C.AssetRequest(id: asset.id), "assets.delete.request")
        try check(C.UpdateAssetRequest(id: asset.id, changes: C.AssetChanges(
            status: "FAILED", title: "T", sizeBytes: 1, durationS: 2, width: 3, height: 4, fps: 25, videoCodec: "h264", audioCodec: "aac",
            error: "decoder: unsupported profile", metadata: [:]
        )), "assets.update.request")
        try check(C.ListAssetsRequest(status: "READY", limit: 10, cursor: "1795290182310.cmwqv3m0tbhd2rzynb8c1d5fg"), "assets.list.request")
        try check(asset, "asset")
        try check(C.AssetPage(assets: [asset], nextCursor: "1795290105845.cmwqv2k9rbhd1rzyn4pxq7a2e"), "assets.page")
        try check(C.CreateClipRequest(assetId: asset.id, startS: 0, endS: 12.5, label: "opening"), "clips.create.request")
        try check(C.ClipRequest(id: clip.id), "clips.get.request")
        try check(C.ClipRequest(id: clip.id), "clips.delete.request")
        try check(C.UpdateClipRequest(id: clip.id, status: "PUBLISHED", label: "demo"), "clips.update.request")
        try check(C.ListClipsRequest(assetId: asset.id, limit: 2, cursor: "12.5~\(clip.id)"), "clips.list.request")
        try check(clip, "clip")
        try check(C.ClipPage(clips: [clip], nextCursor: "12.5~\(clip.id)"), "clips.page")
        try check(C.TopClipsRequest(assetId: asset.id, limit: 5, minScore: 0.7), "clips.top.request")
        try check(C.TopClips(clips: [clip]), "clips.top")
        try check(C.AssetEvent(id: asset.id, userId: asset.userId, status: "PENDING"), "asset-event")
        try check(C.AssetStatusChange(id: asset.id, from: "PROCESSING", to: "READY"), "asset-status-change")
        try check(C.ClipEvent(id: clip.id, assetId: asset.id), "clip-event")
        try check(AnalysisContracts.ClipAnalyzed(clipId: clip.id, assetId: asset.id, score: 0.87, features: ["motion": 0.62], analyzedAt: "2026-11-21T19:41:45.845Z"),
                  file: "analysis-store.clip-analyzed")
    }

    /// `me` is flat: the user's fields beside the tenant's, and it decodes back.
    @Test func meIsTheUserWithItsTenant() throws {
        let user = C.User(id: "u", email: "ada@example.com", name: "", role: "ADMIN", settings: [:], createdAt: "2026-11-21T19:41:45.845Z", updatedAt: "2026-11-21T19:41:45.845Z")
        let me = C.Me(user: user, tenantId: "t", tenantName: "acme")
        let encoded = String(buffer: try JSONBody.encode(me))
        #expect(encoded.contains(#""tenant_name":"acme""#) && encoded.contains(#""email":"ada@example.com""#) && !encoded.contains("user\""))
        #expect(try JSONBody.decode(C.Me.self, from: JSONBody.encode(me)) == me)
    }
}
