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
        try check(value, file: "analysis-store.\(name)")
    }

    /// `file`: the base name of the schema and example files (`analysis-store.knowledge.page`).
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
        try check(Empty(), "delete.response")
    }

    /// Clip analyses and the knowledge base (`AnalysisContracts+Knowledge.swift`).
    @Test func knowledgeContractsMatchTheirSchemas() throws {
        typealias C = AnalysisContracts
        let clipID = "cmwqv5b7zbhd4rzyn3q5s7t9v", assetID = "cmwqv3m0tbhd2rzynb8c1d5fg", documentID = "cmwr0a1b2bhe5rzyn6t8v0x2z"
        let time = "2026-11-21T20:14:03.552Z"
        let analysis = C.ClipAnalysis(clipId: clipID, assetId: assetID, features: ["motion": 0.62], score: 0.87, analyzer: "clip-scorer-v3",
                                      createdAt: time, updatedAt: time, created: true)
        try check(C.PutClipAnalysisRequest(clipId: clipID, features: ["motion": 0.62], score: 0.87, analyzer: "clip-scorer-v3"), "clip-analyses.put.request")
        try check(C.ClipAnalysisRequest(clipId: clipID), "clip-analyses.get.request")
        try check(analysis, "clip-analysis")
        try check(C.ClipAnalyzed(clipId: clipID, assetId: assetID, score: 0.87, features: ["motion": 0.62], analyzedAt: time), "clip-analyzed")

        let document = C.Document(id: documentID, title: "Refund policy", content: "Refunds are issued within 14 days.", category: "policy",
                                  tags: ["billing"], version: 2, hasEmbedding: true, createdAt: time, updatedAt: "2026-11-21T20:22:15.880Z")
        try check(C.CreateDocumentRequest(title: document.title, content: document.content, category: document.category, tags: ["billing"],
                                          embedding: [0.1, -0.2]), "knowledge.create.request")
        try check(C.DocumentRequest(id: documentID, version: 1), "knowledge.get.request")
        try check(C.DocumentRequest(id: documentID), "knowledge.delete.request")
        try check(C.UpdateDocumentRequest(id: documentID, changes: C.DocumentChanges(title: "T", content: "", category: "c", tags: [], embedding: [1, 0])),
                  "knowledge.update.request")
        try check(C.ListDocumentsRequest(category: "policy", limit: 10, cursor: "1795291243552.\(documentID)"), "knowledge.list.request")
        try check(C.ListVersionsRequest(id: documentID, limit: 1, cursor: "2.\(documentID)"), "knowledge.versions.request")
        try check(C.TextSearchRequest(q: "refund days", category: "policy", limit: 5), "knowledge.search-text.request")
        try check(C.VectorSearchRequest(embedding: [0.1, -0.2], k: 3, category: "policy"), "knowledge.search-vector.request")
        try check(document, "document")
        try check(C.DocumentPage(documents: [document], nextCursor: "1795291243552.\(documentID)"), "knowledge.page")
        try check(C.VersionPage(versions: [document], nextCursor: "2.\(documentID)"), "knowledge.versions.page")
        try check(C.SearchResults(results: [C.SearchResult(document: document, score: 0.94)]), "knowledge.results")
        try check(C.DocumentEvent(id: documentID, version: 2), "document-event")
        try check(Empty(), "delete.response")
    }

    /// `created` is on the bus only when a put says it; `analyzer` is always sent, null when none.
    @Test func aClipAnalysisSendsAnalyzerAndCreatedAsSpecified() throws {
        let analysis = AnalysisContracts.ClipAnalysis(clipId: "c", assetId: "a", features: [:], score: 0, analyzer: nil,
                                                      createdAt: "2026-11-21T20:14:03.552Z", updatedAt: "2026-11-21T20:14:03.552Z")
        let encoded = try JSONSerialization.jsonObject(with: Data(JSONBody.encode(analysis).readableBytesView)) as! [String: Any]
        #expect(encoded["created"] == nil)
        #expect(encoded["analyzer"] is NSNull)
        #expect(encoded["features"] as? [String: Any] != nil)
    }
}
