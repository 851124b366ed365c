import BusRuntime
import Contracts
import Foundation
import NIOCore
import Testing

/// The analysis-store's Swift contracts and `proto/schemas/methods/` agree:
/// every field Swift encodes is a schema property, every required property is
/// encoded, and every example in `proto/vectors/methods/` decodes into the Swift type.
@Suite struct ContractSchemaAgreementTests {
    static let proto = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("proto")

    static func json(_ path: String) throws -> Any {
        try JSONSerialization.jsonObject(with: Data(contentsOf: proto.appendingPathComponent(path)))
    }

    func check<T: Codable & Sendable>(_ value: T, _ name: String) throws {
        let schema = try Self.json("schemas/methods/analysis-store.\(name).schema.json") as! [String: Any]
        let properties = Set((schema["properties"] as? [String: Any] ?? [:]).keys)
        let required = Set(schema["required"] as? [String] ?? [])
        let encoded = try JSONSerialization.jsonObject(with: Data(JSONBody.encode(value).readableBytesView)) as! [String: Any]
        #expect(Set(encoded.keys).isSubset(of: properties), "\(name): Swift encodes \(Set(encoded.keys).subtracting(properties)) the schema lacks")
        #expect(required.isSubset(of: Set(encoded.keys)), "\(name): the schema requires \(required.subtracting(encoded.keys)) Swift does not encode")
        for example in try Self.json("vectors/methods/analysis-store.\(name).json") as! [Any] {
            let data = try JSONSerialization.data(withJSONObject: example)
            #expect(throws: Never.self, "an example of \(name) does not decode into \(T.self)") { _ = try JSONBody.decode(T.self, from: ByteBuffer(bytes: data)) }
        }
    }

    @Test func contractsMatchTheirSchemas() throws {
        let analysis = AnalysisContracts.Analysis(id: "cmwqtdjauhoy2z9zj6dk2mdog", videoId: "test_001", description: "A sunset", createdAt: "2026-11-21T19:41:45.845Z", updatedAt: "2026-11-21T19:41:45.845Z")
        try check(AnalysisContracts.CreateRequest(videoId: "test_001", description: "A sunset"), "create.request")
        try check(AnalysisContracts.VideoRequest(videoId: "test_001"), "get.request")
        try check(AnalysisContracts.VideoRequest(videoId: "test_001"), "delete.request")
        try check(AnalysisContracts.UpdateRequest(videoId: "test_001", description: "A beautiful sunset"), "update.request")
        try check(AnalysisContracts.ListRequest(limit: 10, cursor: "1763667705845.cmwqtdjauhoy2z9zj6dk2mdog"), "list.request")
        try check(AnalysisContracts.SearchRequest(query: "sunset", limit: 5), "search.request")
        try check(analysis, "analysis")
        try check(AnalysisContracts.Page(analyses: [analysis], nextCursor: "1763667705845.cmwqtdjauhoy2z9zj6dk2mdog"), "page")
        try check(AnalysisContracts.AnalysisEvent(id: analysis.id, videoId: analysis.videoId), "event")
    }
}
