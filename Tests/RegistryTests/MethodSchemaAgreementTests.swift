import BusRuntime
import Foundation
import Testing

/// The registry's Swift messages and `proto/schemas/methods/` agree: every
/// field a Swift value encodes is a schema property, every required property
/// is encoded, and every example of `proto/vectors/methods/` decodes into the
/// Swift type.
@Suite struct MethodSchemaAgreementTests {
    static let proto = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("proto")

    static func json(_ path: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: proto.appendingPathComponent(path)))
    }

    static let record = RegistryProtocol.InstanceRecord(service: "store", instance: "store-1", host: "127.0.0.1", port: 7001, version: "0.1.0", methods: ["get"], subscriptions: ["asset.created"])

    /// Encodes `value` and checks its top-level keys against the schema's properties and required list.
    func check<T: Codable & Sendable>(_ value: T, schema: String, examples: String) throws {
        let schemaObject = try Self.json("schemas/methods/\(schema)") as! [String: Any]
        let properties = Set((schemaObject["properties"] as? [String: Any] ?? [:]).keys)
        let required = Set(schemaObject["required"] as? [String] ?? [])
        let encoded = try JSONSerialization.jsonObject(with: Data(JSONBody.encode(value).readableBytesView)) as! [String: Any]
        #expect(Set(encoded.keys).isSubset(of: properties), "\(schema): Swift encodes \(Set(encoded.keys).subtracting(properties)) which the schema lacks")
        #expect(required.isSubset(of: Set(encoded.keys)), "\(schema): requires \(required.subtracting(encoded.keys)) which Swift does not encode")
        for example in try Self.json("vectors/methods/\(examples)") as! [Any] {
            let data = try JSONSerialization.data(withJSONObject: example)
            #expect(throws: Never.self, "\(examples) example does not decode into \(T.self)") {
                _ = try JSONBody.decode(T.self, from: .init(bytes: data))
            }
        }
    }

    @Test func registryMessagesMatchTheirSchemas() throws {
        try check(RegistryProtocol.RegisterRequest(record: Self.record, leaseMs: 6000, state: .draining), schema: "registry.register.request.schema.json", examples: "registry.register.request.json")
        try check(RegistryProtocol.RegisterResponse(leaseMs: 6000, revision: 3), schema: "registry.register.response.schema.json", examples: "registry.register.response.json")
        try check(RegistryProtocol.HeartbeatRequest(instance: "store-1", state: .serving, inFlight: 2), schema: "registry.heartbeat.request.schema.json", examples: "registry.heartbeat.request.json")
        try check(RegistryProtocol.DeregisterRequest(instance: "store-1"), schema: "registry.deregister.request.schema.json", examples: "registry.deregister.request.json")
        try check(RegistryProtocol.LookupRequest(service: "store"), schema: "registry.lookup.request.schema.json", examples: "registry.lookup.request.json")
        try check(RegistryProtocol.WatchRequest(revision: 3, waitMs: 10_000), schema: "registry.watch.request.schema.json", examples: "registry.watch.request.json")
        let view = RegistryProtocol.InstanceView(record: Self.record, state: .serving, leaseAgeMs: 120, inFlight: 0)
        try check(RegistryProtocol.Snapshot(revision: 3, instances: [view]), schema: "registry.snapshot.schema.json", examples: "registry.lookup.response.json")
    }
}
