import AnalysisStore
import BusRuntime
import BusWire
import Contracts
import Foundation
import Logging
import ServiceKit
import Storage
import TestSupport
import Testing

/// Clip analyses and the knowledge base on both engines, called as the bus
/// would call them (with the caller's identity), the services on the service
/// role (on PostgreSQL row-level security binds them); rows and events are
/// inspected through the owner's connection. Vector searches are checked
/// against a brute-force Float64 cosine computed here over the documents'
/// original embeddings. One test at a time: each makes fresh databases.
@Suite(.serialized) struct KnowledgeServiceTests {
    typealias A = AnalysisContracts

    // MARK: - Fixture

    struct Fixture: Sendable {
        let engine: Engine
        /// The owner's connection: sees every row of every tenant.
        let owner: any Database
        /// The service role's connection (the same database as `owner` on SQLite).
        let database: any Database
        let knowledge: KnowledgeService

        /// A second instance of the service on the same database, as another process would run it.
        func anotherInstance() -> KnowledgeService { KnowledgeService(store: ServiceStore(database: database)) }

        func count(_ from: String) async throws -> Int64 {
            try await owner.read { try $0.queryFirst("SELECT COUNT(*) AS n FROM \(raw: from)")!.decode(Int64.self, "n") }
        }

        /// Every outbox event, in order.
        func events() async throws -> [Event] {
            try await owner.read { session in
                try session.query("SELECT topic, tenant, payload FROM outbox ORDER BY seq").map { row in
                    Event(topic: try row.decode(String.self, "topic"), tenant: try row.decode(String.self, "tenant"), payload: try row.decode(String.self, "payload"))
                }
            }
        }

        /// The live documents of `tenant` that have an embedding, as stored (float32 unit vectors).
        func storedEmbeddings(of tenant: String) async throws -> [StoredVector] {
            try await owner.read { session in
                try session.query("""
                    SELECT id, category, embedding FROM knowledge_document
                    WHERE tenant_id = \(tenant) AND deleted_at IS NULL AND embedding IS NOT NULL ORDER BY id
                    """).map { row in
                    StoredVector(id: try row.decode(String.self, "id"), category: try row.decode(String.self, "category"),
                                 vector: try row.decode(Float32Blob.self, "embedding").vector.map(Double.init))
                }
            }
        }
    }

    struct Event: Sendable {
        let topic: String
        let tenant: String
        let payload: String

        func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONDecoder().decode(T.self, from: Data(payload.utf8)) }
    }

    /// A document's embedding as the test knows it.
    struct StoredVector: Sendable, Hashable {
        var id: String
        var category: String
        var vector: [Double]
    }

    /// An embedding column read back: little-endian float32s.
    struct Float32Blob: DatabaseValueConvertible {
        var vector: [Float]
        var databaseValue: DatabaseValue { .null }
        init(databaseValue: DatabaseValue) throws(StorageError) {
            guard case .blob(let bytes) = databaseValue, bytes.count % 4 == 0 else { throw StorageError(.decoding, "not float32 bytes") }
            vector = (0..<bytes.count / 4).map { i in
                Float(bitPattern: UInt32(bytes[4 * i]) | UInt32(bytes[4 * i + 1]) << 8 | UInt32(bytes[4 * i + 2]) << 16 | UInt32(bytes[4 * i + 3]) << 24)
            }
        }
    }

    func withService(_ engine: Engine, _ body: (Fixture) async throws -> Void) async throws {
        try await TestDatabases.withRoles(engine, prepare: { try await AnalysisStoreSchema.schema.migrator().deploy(to: $0) }) { owner, database in
            try await body(Fixture(engine: engine, owner: owner, database: database, knowledge: KnowledgeService(store: ServiceStore(database: database))))
        }
    }

    static func context(_ tenant: String) -> RequestContext {
        RequestContext(service: "analysis-store", method: "x", idempotencyKey: nil, identity: Identity(tenant: tenant, user: "u", role: "USER"), logger: Logger(label: "test"))
    }

    static let acme = context("acme")
    static let globex = context("globex")

    /// The bus code `work` failed with (nil when it succeeded, `internal` for a non-bus error).
    static func code(_ work: () async throws -> some Any) async -> ErrorCode? {
        await failure(work)?.code
    }

    /// The bus error `work` failed with (nil when it succeeded).
    static func failure(_ work: () async throws -> some Any) async -> BusError? {
        do {
            _ = try await work()
            return nil
        } catch let error as BusError {
            return error
        } catch {
            return BusError(.internal, "not a bus error: \(error)")
        }
    }

    // MARK: - Clip analyses

    /// Ingest as a stub: which clips each tenant has, whether it answers, and who asked.
    final class StubIngest: @unchecked Sendable {
        private let lock = NSLock()
        private var isDown = false
        private var asked: [(clip: String, caller: Identity)] = []
        let clips: [String: [String: String]]

        init(clips: [String: [String: String]]) { self.clips = clips }

        var down: Bool {
            get { lock.lock(); defer { lock.unlock() }; return isDown }
            set { lock.lock(); defer { lock.unlock() }; isDown = newValue }
        }

        var calls: [(clip: String, caller: Identity)] { lock.lock(); defer { lock.unlock() }; return asked }

        func answer(_ clipID: String, _ caller: Identity) throws(BusError) -> String? {
            lock.lock()
            asked.append((clipID, caller))
            let down = isDown
            lock.unlock()
            if down { throw BusError(.unavailable, "ingest could not confirm clip \(clipID): no responders") }
            return clips[caller.tenant]?[clipID]
        }

        var directory: ClipDirectory {
            ClipDirectory { clipID, caller throws(BusError) in try self.answer(clipID, caller) }
        }
    }

    /// `clip.deleted` takes the clip's analysis with it, once per event, in the inbox's transaction; other clips and tenants keep theirs.
    @Test(arguments: Engine.allCases)
    func aDeletedClipsAnalysisGoesWithIt(_ engine: Engine) async throws {
        try await withService(engine) { f in
            let ingest = StubIngest(clips: ["acme": ["clip-1": "asset-1", "clip-2": "asset-1"], "globex": ["clip-1": "asset-9"]])
            let service = ClipAnalysisService(store: ServiceStore(database: f.database), clips: ingest.directory)
            for (clip, ctx) in [("clip-1", Self.acme), ("clip-2", Self.acme), ("clip-1", Self.globex)] {
                _ = try await service.put(.init(clipId: clip, features: ["motion": 0.5], score: 0.5), context: ctx)
            }
            func deliver(_ clip: String, tenant: String, event: String) async throws -> Bool {
                try await Inbox.consume(f.database, eventID: event, consumer: "analysis-store", tenant: tenant) { session in
                    try ClipAnalysisService.forget(IngestContracts.ClipEvent(id: clip, assetId: "asset-1"), tenant: tenant, session: session)
                }
            }
            #expect(try await deliver("clip-1", tenant: "acme", event: "evt-1"))
            #expect(await Self.code { try await service.get("clip-1", context: Self.acme) } == .notFound)
            #expect(try await service.get("clip-2", context: Self.acme).clipId == "clip-2")
            #expect(try await service.get("clip-1", context: Self.globex).clipId == "clip-1", "another tenant's clip of the same id keeps its analysis")
            // Delivered again: consumed once, nothing else changes.
            #expect(try await deliver("clip-1", tenant: "acme", event: "evt-1") == false)
            #expect(try await f.count("clip_analysis") == 2)
            // A clip without an analysis: consumed, nothing changes.
            #expect(try await deliver("clip-9", tenant: "acme", event: "evt-2"))
            #expect(try await f.count("clip_analysis") == 2)
        }
    }

    @Test(arguments: Engine.allCases)
    func clipAnalysesAreStoredOnlyForClipsIngestConfirms(_ engine: Engine) async throws {
        try await withService(engine) { f in
            let ingest = StubIngest(clips: ["acme": ["clip-1": "asset-1", "clip-2": "asset-2"]])
            let service = ClipAnalysisService(store: ServiceStore(database: f.database), clips: ingest.directory)
            let ctx = Self.acme
            func nothingStored() async throws -> Bool {
                let analyses = try await f.count("clip_analysis"), events = try await f.count("outbox")
                return analyses == 0 && events == 0
            }

            // Unknown clip: 404, nothing stored; ingest was asked as the caller.
            #expect(await Self.code { try await service.put(.init(clipId: "no-such-clip", features: ["motion": 0.5], score: 0.5), context: ctx) } == .notFound)
            #expect(try await nothingStored())
            #expect(ingest.calls.last?.clip == "no-such-clip")
            #expect(ingest.calls.last?.caller == Identity(tenant: "acme", user: "u", role: "USER"))

            // Ingest down: 503, nothing stored.
            ingest.down = true
            #expect(await Self.code { try await service.put(.init(clipId: "clip-1", features: ["motion": 0.5], score: 0.5), context: ctx) } == .unavailable)
            #expect(try await nothingStored())
            ingest.down = false

            // Invalid input: refused, nothing stored.
            for (features, score) in [(["m": 0.5], 1.5), (["m": 0.5], -0.01), (["m": 0.5], Double.nan), (["m": 0.5], Double.infinity),
                                      (["m": Double.infinity], 0.5), (["m": Double.nan], 0.5), (["m": -Double.infinity], 0.5)] as [([String: Double], Double)] {
                let code = await Self.code { try await service.put(.init(clipId: "clip-1", features: features, score: score), context: ctx) }
                #expect(code == .invalidArgument, "\(features) \(score)")
            }
            #expect(try await nothingStored())

            // The first put creates.
            let first = try await service.put(.init(clipId: "clip-1", features: ["motion": 0.5, "faces": 2], score: 0.8, analyzer: "scorer-v1"), context: ctx)
            #expect(first.created == true)
            #expect(first.clipId == "clip-1" && first.assetId == "asset-1" && first.score == 0.8 && first.analyzer == "scorer-v1")
            #expect(first.features == ["motion": 0.5, "faces": 2])
            #expect(first.createdAt == first.updatedAt)
            #expect(ingest.calls.last?.caller == Identity(tenant: "acme", user: "u", role: "USER"), "the caller's identity reaches ingest unchanged")
            var stored = try await service.get("clip-1", context: ctx)
            #expect(stored.created == nil)
            stored.created = true
            #expect(stored == first)

            // The second put replaces (no analyzer: null).
            let second = try await service.put(.init(clipId: "clip-1", features: ["motion": 0.25], score: 0.3), context: ctx)
            #expect(second.created == false)
            #expect(second.features == ["motion": 0.25] && second.score == 0.3 && second.analyzer == nil)
            #expect(second.createdAt == first.createdAt && second.updatedAt > first.updatedAt)
            let replaced = try await service.get("clip-1", context: ctx)
            #expect(replaced.features == ["motion": 0.25] && replaced.score == 0.3 && replaced.analyzer == nil && replaced.updatedAt == second.updatedAt)
            #expect(try await f.count("clip_analysis") == 1)

            // Ingest down now: refused, the stored analysis unchanged.
            ingest.down = true
            #expect(await Self.code { try await service.put(.init(clipId: "clip-1", features: ["motion": 0.9], score: 0.9), context: ctx) } == .unavailable)
            ingest.down = false
            #expect(try await service.get("clip-1", context: ctx) == replaced)

            // Exactly one clip.analyzed per put, with what was stored.
            let events = try await f.events()
            #expect(events.map(\.topic) == ["clip.analyzed", "clip.analyzed"])
            #expect(events.allSatisfy { $0.tenant == "acme" })
            let payloads = try events.map { try $0.decode(A.ClipAnalyzed.self) }
            #expect(payloads == [
                A.ClipAnalyzed(clipId: "clip-1", assetId: "asset-1", score: 0.8, features: ["motion": 0.5, "faces": 2], analyzedAt: first.updatedAt),
                A.ClipAnalyzed(clipId: "clip-1", assetId: "asset-1", score: 0.3, features: ["motion": 0.25], analyzedAt: second.updatedAt),
            ])

            // Unknown analysis; another tenant neither reads nor writes acme's.
            #expect(await Self.code { try await service.get("clip-2", context: ctx) } == .notFound)
            #expect(await Self.code { try await service.get("clip-1", context: Self.globex) } == .notFound)
            #expect(await Self.code { try await service.put(.init(clipId: "clip-1", features: [:], score: 0.1), context: Self.globex) } == .notFound)
            #expect(ingest.calls.last?.caller.tenant == "globex")
            #expect(try await service.get("clip-1", context: ctx) == replaced)
            #expect(try await f.count("outbox") == 2)
        }
    }

    // MARK: - Knowledge CRUD

    @Test(arguments: Engine.allCases)
    func documentsHaveVersionsAndSoftDelete(_ engine: Engine) async throws {
        try await withService(engine) { f in
            let k = f.knowledge, ctx = Self.acme
            let doc = try await k.create(.init(title: "Refund policy", content: "Refunds are issued within 14 days.", category: "policy", embedding: [1, 0, 0, 0]), context: ctx)
            #expect(doc.version == 1 && doc.tags == [] && doc.hasEmbedding)
            #expect(doc.title == "Refund policy" && doc.content == "Refunds are issued within 14 days." && doc.category == "policy")
            #expect(doc.createdAt == doc.updatedAt && doc.createdAt.hasSuffix("Z"))
            #expect(try await k.get(.init(id: doc.id), context: ctx) == doc)

            let plain = try await k.create(.init(title: "Shipping", content: "Parcels leave daily.", category: "faq", tags: ["shipping", "ops"]), context: ctx)
            #expect(!plain.hasEmbedding && plain.tags == ["shipping", "ops"] && plain.version == 1)

            // Only the given fields change.
            let updated = try await k.update(.init(id: doc.id, changes: .init(content: "Refunds are issued within 30 days.")), context: ctx)
            #expect(updated.version == 2)
            #expect(updated.content == "Refunds are issued within 30 days.")
            #expect(updated.title == doc.title && updated.category == doc.category && updated.tags == doc.tags && updated.hasEmbedding)
            #expect(updated.createdAt == doc.createdAt && updated.updatedAt > doc.updatedAt)
            #expect(try await k.get(.init(id: doc.id), context: ctx) == updated)

            // Versions, newest first, a page at a time.
            let all = try await k.versions(.init(id: doc.id), context: ctx)
            #expect(all.versions.map(\.version) == [2, 1] && all.count == 2 && all.nextCursor == nil)
            let page1 = try await k.versions(.init(id: doc.id, limit: 1), context: ctx)
            #expect(page1.versions.map(\.version) == [2])
            let cursor = try #require(page1.nextCursor)
            let page2 = try await k.versions(.init(id: doc.id, limit: 1, cursor: cursor), context: ctx)
            #expect(page2.versions.map(\.version) == [1] && page2.nextCursor == nil)
            #expect(await Self.code { try await k.versions(.init(id: doc.id, cursor: "garbage!"), context: ctx) } == .invalidArgument)

            let v1 = try await k.get(.init(id: doc.id, version: 1), context: ctx)
            #expect(v1.version == 1 && v1.content == "Refunds are issued within 14 days." && v1.title == "Refund policy" && v1.updatedAt == doc.updatedAt)
            #expect(v1 == page2.versions[0])
            #expect(try await k.get(.init(id: doc.id, version: 2), context: ctx) == updated)
            #expect(await Self.code { try await k.get(.init(id: doc.id, version: 3), context: ctx) } == .notFound)

            // Listing, newest first, by category.
            let third = try await k.create(.init(title: "Brand safety", content: "No competitor logos.", category: "policy", tags: ["brand"]), context: ctx)
            #expect(try await k.list(.init(), context: ctx).documents.map(\.id) == [third.id, plain.id, doc.id])
            #expect(try await k.list(.init(category: "policy"), context: ctx).documents.map(\.id) == [third.id, doc.id])
            #expect(try await k.list(.init(category: "nope"), context: ctx).documents.isEmpty)
            let listPage = try await k.list(.init(limit: 2), context: ctx)
            #expect(listPage.documents.map(\.id) == [third.id, plain.id])
            let rest = try await k.list(.init(limit: 2, cursor: try #require(listPage.nextCursor)), context: ctx)
            #expect(rest.documents.map(\.id) == [doc.id] && rest.nextCursor == nil)
            #expect(try await k.list(.init(limit: 0), context: ctx).documents.isEmpty)
            // Another tenant sees none of it.
            #expect(try await k.list(.init(), context: Self.globex).documents.isEmpty)
            #expect(await Self.code { try await k.get(.init(id: doc.id), context: Self.globex) } == .notFound)
            #expect(await Self.code { try await k.update(.init(id: doc.id, changes: .init(title: "hijacked")), context: Self.globex) } == .notFound)
            #expect(await Self.code { try await k.delete(.init(id: doc.id), context: Self.globex) } == .notFound)
            #expect(try await k.get(.init(id: doc.id), context: ctx) == updated)

            // Found by both searches before the delete, by neither after.
            #expect(try await k.searchText(.init(q: "refunds"), context: ctx).results.map(\.document.id) == [doc.id])
            #expect(try await k.searchVector(.init(embedding: [1, 0, 0, 0]), context: ctx).results.map(\.document.id) == [doc.id])
            try await k.delete(.init(id: doc.id), context: ctx)
            #expect(await Self.code { try await k.get(.init(id: doc.id), context: ctx) } == .notFound)
            #expect(await Self.code { try await k.get(.init(id: doc.id, version: 1), context: ctx) } == .notFound)
            #expect(await Self.code { try await k.versions(.init(id: doc.id), context: ctx) } == .notFound)
            #expect(await Self.code { try await k.update(.init(id: doc.id, changes: .init(title: "back")), context: ctx) } == .notFound)
            #expect(await Self.code { try await k.delete(.init(id: doc.id), context: ctx) } == .notFound)
            #expect(try await k.list(.init(), context: ctx).documents.map(\.id) == [third.id, plain.id])
            #expect(try await k.searchText(.init(q: "refunds"), context: ctx).results.isEmpty)
            #expect(try await k.searchVector(.init(embedding: [1, 0, 0, 0], k: 100), context: ctx).results.isEmpty)

            // One event per change, each with the version it made.
            let events = try await f.events().filter { $0.topic.hasPrefix("knowledge.") }
            let ofDoc = try events.map { (topic: $0.topic, event: try $0.decode(A.DocumentEvent.self), tenant: $0.tenant) }.filter { $0.event.id == doc.id }
            #expect(ofDoc.map(\.topic) == ["knowledge.created", "knowledge.updated", "knowledge.deleted"])
            #expect(ofDoc.map(\.event.version) == [1, 2, 2])
            #expect(ofDoc.allSatisfy { $0.tenant == "acme" })
            #expect(events.count == 5, "\(events.map(\.topic))")
        }
    }

    @Test(arguments: Engine.allCases)
    func refusedDocumentsStoreNothing(_ engine: Engine) async throws {
        try await withService(engine) { f in
            let k = f.knowledge, ctx = Self.acme
            let refusals: [(String, A.CreateDocumentRequest)] = [
                ("empty title", .init(title: "", content: "c", category: "c")),
                ("title over 500", .init(title: String(repeating: "t", count: 501), content: "c", category: "c")),
                ("control character in the title", .init(title: "a\u{7}b", content: "c", category: "c")),
                ("NUL in content", .init(title: "t", content: "a\u{0}b", category: "c")),
                ("51 tags", .init(title: "t", content: "c", category: "c", tags: (0..<51).map { "tag\($0)" })),
                ("a tag over 100", .init(title: "t", content: "c", category: "c", tags: [String(repeating: "g", count: 101)])),
                ("an empty tag", .init(title: "t", content: "c", category: "c", tags: [""])),
                ("empty category", .init(title: "t", content: "c", category: "")),
                ("zero embedding", .init(title: "t", content: "c", category: "c", embedding: [0, 0, 0])),
                ("empty embedding", .init(title: "t", content: "c", category: "c", embedding: [])),
                ("non-finite embedding", .init(title: "t", content: "c", category: "c", embedding: [1, .nan, 0])),
            ]
            for (what, request) in refusals {
                #expect(await Self.code { try await k.create(request, context: ctx) } == .invalidArgument, "\(what)")
            }
            #expect(try await f.count("knowledge_document") == 0)
            #expect(try await f.count("knowledge_version") == 0)
            #expect(try await f.count("outbox") == 0)

            // The limits themselves are fine.
            let edge = try await k.create(.init(title: String(repeating: "t", count: 500), content: "line\n\ttab ✓", category: "c",
                                                tags: (0..<49).map { "tag\($0)" } + [String(repeating: "g", count: 100)]), context: ctx)
            #expect(edge.tags.count == 50 && edge.title.count == 500)

            // A refused change changes nothing.
            let changes: [A.DocumentChanges] = [
                .init(title: ""), .init(title: String(repeating: "t", count: 501)), .init(content: "\u{0}"), .init(category: ""),
                .init(tags: (0..<51).map { "tag\($0)" }), .init(tags: [String(repeating: "g", count: 101)]), .init(embedding: [0, 0]),
            ]
            for change in changes {
                #expect(await Self.code { try await k.update(.init(id: edge.id, changes: change), context: ctx) } == .invalidArgument, "\(change)")
            }
            #expect(try await k.get(.init(id: edge.id), context: ctx) == edge)
            #expect(try await f.count("knowledge_version") == 1)
            #expect(try await f.count("outbox") == 1)
            #expect(await Self.code { try await k.list(.init(limit: 501), context: ctx) } == .invalidArgument)
            #expect(await Self.code { try await k.list(.init(cursor: "nonsense!"), context: ctx) } == .invalidArgument)
        }
    }

    // MARK: - Full-text search

    @Test(arguments: Engine.allCases)
    func fullTextSearchFindsEveryWordBestFirst(_ engine: Engine) async throws {
        try await withService(engine) { f in
            let k = f.knowledge, ctx = Self.acme
            func create(_ title: String, _ content: String, _ category: String, _ context: RequestContext = Self.acme) async throws -> String {
                try await k.create(.init(title: title, content: content, category: category), context: context).id
            }
            let inTitle = try await create("Refund policy", "Customers may send goods back within fourteen days of delivery.", "policy")
            let inContent = try await create("Shipping times", "A refund policy applies when parcels arrive later than promised.", "policy")
            let oneWord = try await create("Refund", "Only one of the words appears in this document at all.", "policy")
            let faq = try await create("Refund policy questions", "Answers to what customers ask most often about returns.", "faq")
            let unicode = try await create("Café notes", "Meeting in the Straße near 東京 station about coffee.", "travel")
            let theirs = try await create("Refund policy", "Another tenant's refund policy, café and 東京 included.", "policy", Self.globex)

            func ids(_ q: String, category: String? = nil, limit: Int? = nil, _ context: RequestContext = Self.acme) async throws -> [String] {
                try await k.searchText(.init(q: q, category: category, limit: limit), context: context).results.map(\.document.id)
            }

            // Every word must match; title matches outrank content-only ones; scores descend.
            let results = try await k.searchText(.init(q: "refund policy"), context: ctx)
            #expect(Set(results.results.map(\.document.id)) == [inTitle, inContent, faq])
            #expect(results.results.last?.document.id == inContent, "a content-only match ranks below title matches")
            #expect(results.count == 3)
            #expect(zip(results.results, results.results.dropFirst()).allSatisfy { $0.score >= $1.score })
            #expect(results.results.first!.score > results.results.last!.score)
            #expect(try await ids("policy refund") .count == 3)
            #expect(try await ids("REFUND Policy") == results.results.map(\.document.id))
            #expect(try await ids("refund") .count == 4)
            #expect(!(try await ids("refund policy")).contains(oneWord))
            // Category and limit.
            #expect(try await ids("refund policy", category: "policy") == [inTitle, inContent])
            #expect(try await ids("refund policy", category: "faq") == [faq])
            #expect(try await ids("refund policy", category: "nope").isEmpty)
            #expect(try await ids("refund policy", limit: 1) == [results.results[0].document.id])
            #expect(try await ids("refund policy", limit: 0).isEmpty)
            #expect(await Self.code { try await k.searchText(.init(q: "refund", limit: 101), context: ctx) } == .invalidArgument)
            // Words only: punctuation separates, FTS syntax is literal.
            #expect(try await ids("refund* \"policy") .count == 3)
            #expect(try await ids("refund OR nothing").isEmpty)
            #expect(try await ids("refund NEAR(").isEmpty)
            for q in ["", "   ", "-- !! ?", "\"*\""] {
                #expect(await Self.code { try await k.searchText(.init(q: q), context: ctx) } == .invalidArgument, "q = \(q)")
            }
            // Unicode words are found by the same word.
            #expect(try await ids("café") == [unicode])
            #expect(try await ids("Straße") == [unicode])
            #expect(try await ids("東京") == [unicode])
            #expect(try await ids("coffee 東京 café") == [unicode])
            // Tenants apart.
            #expect(!(try await ids("refund policy")).contains(theirs))
            #expect(try await ids("refund policy", Self.globex) == [theirs])
            #expect(try await ids("café 東京", Self.globex) == [theirs])
            #expect(try await ids("shipping", Self.globex).isEmpty)
            // Changes and deletes reach the search.
            _ = try await k.update(.init(id: oneWord, changes: .init(content: "Now the policy is here too.")), context: ctx)
            #expect(Set(try await ids("refund policy")) == [inTitle, inContent, faq, oneWord])
            _ = try await k.update(.init(id: inContent, changes: .init(content: "Parcels arrive on time.")), context: ctx)
            try await k.delete(.init(id: inTitle), context: ctx)
            #expect(Set(try await ids("refund policy")) == [faq, oneWord])
            #expect(try await ids("parcels") == [inContent])
            #expect(try await ids("promised").isEmpty)
        }
    }

    // MARK: - Vector search

    struct SplitMix64 {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        /// Uniform in [-1, 1).
        mutating func component() -> Double { Double(next() >> 11) / Double(1 << 53) * 2 - 1 }
        mutating func vector(_ dimensions: Int) -> [Double] { (0..<dimensions).map { _ in component() } }
        mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    }

    /// Cosine similarity in Float64 of the original (unnormalised) vectors.
    static func cosine(_ a: [Double], _ b: [Double]) -> Double {
        var dot = 0.0, na = 0.0, nb = 0.0
        for i in a.indices {
            dot += a[i] * b[i]
            na += a[i] * a[i]
            nb += b[i] * b[i]
        }
        return dot / (na.squareRoot() * nb.squareRoot())
    }

    /// The best `k`: score descending, equal scores by id ascending.
    static func bruteForce(_ corpus: [StoredVector], _ query: [Double], k: Int, category: String? = nil) -> [(id: String, score: Double)] {
        let scored = corpus.filter { category == nil || $0.category == category }.map { (id: $0.id, score: cosine($0.vector, query)) }
        return Array(scored.sorted { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }.prefix(k))
    }

    /// `results` agrees with the brute force: ids equal and scores within 1e-5. Two
    /// distinct vectors whose exact scores are within 1e-6 (closer than float32
    /// rounding can tell apart) may swap; exact ties are ordered by id.
    static func expectAgrees(
        _ results: A.SearchResults, _ corpus: [StoredVector], _ query: [Double], k: Int, category: String? = nil,
        _ comment: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let expected = bruteForce(corpus, query, k: k, category: category)
        let exact = Dictionary(uniqueKeysWithValues: corpus.map { ($0.id, cosine($0.vector, query)) })
        #expect(results.results.count == expected.count, "\(comment): count", sourceLocation: sourceLocation)
        #expect(results.count == results.results.count, sourceLocation: sourceLocation)
        for (index, (got, want)) in zip(results.results, expected).enumerated() {
            #expect(abs(got.score - want.score) <= 1e-5, "\(comment) #\(index): score \(got.score) vs \(want.score)", sourceLocation: sourceLocation)
            if got.document.id != want.id {
                let gotExact = exact[got.document.id]
                #expect(gotExact.map { abs($0 - want.score) < 1e-6 && $0 != want.score } == true,
                        "\(comment) #\(index): \(got.document.id) (\(String(describing: gotExact))) where brute force has \(want.id) (\(want.score))",
                        sourceLocation: sourceLocation)
            }
            if let category { #expect(got.document.category == category, sourceLocation: sourceLocation) }
        }
    }

    /// `count` documents of `tenant` with random embeddings of `dimensions`, over `categories`;
    /// every 10th repeats an earlier one's vector exactly and every 15th repeats one scaled by 2
    /// (the same direction: equal scores); every 37th has no embedding.
    static func makeCorpus(
        _ k: KnowledgeService, tenant: RequestContext, count: Int, dimensions: Int, categories: [String], seed: UInt64
    ) async throws -> [StoredVector] {
        var random = SplitMix64(state: seed)
        var corpus: [StoredVector] = []
        for n in 0..<count {
            let category = categories[random.below(categories.count)]
            var vector: [Double]? = random.vector(dimensions)
            if n % 37 == 36 {
                vector = nil
            } else if n % 10 == 9, !corpus.isEmpty {
                vector = corpus[random.below(corpus.count)].vector
            } else if n % 15 == 14, !corpus.isEmpty {
                vector = corpus[random.below(corpus.count)].vector.map { $0 * 2 }
            }
            let document = try await k.create(.init(title: "Document \(n)", content: "Body \(n)", category: category, embedding: vector), context: tenant)
            #expect(document.hasEmbedding == (vector != nil))
            if let vector { corpus.append(StoredVector(id: document.id, category: category, vector: vector)) }
        }
        return corpus
    }

    /// Queries: random ones, a stored vector (the best are its exact duplicates), its opposite.
    static func queries(_ corpus: [StoredVector], dimensions: Int, seed: UInt64) -> [[Double]] {
        var random = SplitMix64(state: seed)
        var queries = (0..<4).map { _ in random.vector(dimensions) }
        // The vectors that occur more than once (by direction) make ties at the top.
        let duplicated = corpus.first { a in corpus.contains { b in b.id != a.id && cosine(a.vector, b.vector) > 1 - 1e-12 } }
        if let duplicated {
            queries.append(duplicated.vector)
            queries.append(duplicated.vector.map { -$0 })
        }
        queries.append([1] + [Double](repeating: 0, count: dimensions - 1))
        return queries
    }

    @Test(arguments: Engine.allCases)
    func vectorSearchEqualsABruteForceCosine(_ engine: Engine) async throws {
        try await withService(engine) { f in
            let k = f.knowledge, ctx = Self.acme
            let categories = ["alpha", "beta", "gamma", "delta", "epsilon"]
            let corpus = try await Self.makeCorpus(k, tenant: ctx, count: 300, dimensions: 24, categories: categories, seed: 42)
            #expect(try await f.storedEmbeddings(of: "acme").count == corpus.count)

            // The corpus has exact ties.
            let queries = Self.queries(corpus, dimensions: 24, seed: 7)
            let tied = Self.bruteForce(corpus, queries[4], k: 3)
            #expect(tied.count == 3 && tied[0].score == tied[1].score, "the corpus should hold duplicate vectors")

            for (n, query) in queries.enumerated() {
                for kk in [1, 2, 5, 10, 37, 100] {
                    let all = try await k.searchVector(.init(embedding: query, k: kk), context: ctx)
                    Self.expectAgrees(all, corpus, query, k: kk, "query \(n), k \(kk)")
                    for category in ["alpha", "delta"] {
                        let some = try await k.searchVector(.init(embedding: query, k: kk, category: category), context: ctx)
                        Self.expectAgrees(some, corpus, query, k: kk, category: category, "query \(n), k \(kk), \(category)")
                    }
                }
                // k larger than the category: every document of it.
                let inCategory = corpus.filter { $0.category == "beta" }
                #expect(inCategory.count < 100)
                let every = try await k.searchVector(.init(embedding: query, k: 100, category: "beta"), context: ctx)
                #expect(Set(every.results.map(\.document.id)) == Set(inCategory.map(\.id)))
                Self.expectAgrees(every, corpus, query, k: 100, category: "beta", "query \(n), the whole category")
                #expect(try await k.searchVector(.init(embedding: query, k: 100, category: "nope"), context: ctx).results.isEmpty)
            }
            // Default k is 10; the answer carries the documents.
            let byDefault = try await k.searchVector(.init(embedding: queries[0]), context: ctx)
            Self.expectAgrees(byDefault, corpus, queries[0], k: 10, "k by default")
            let top = try #require(byDefault.results.first)
            #expect(try await k.get(.init(id: top.document.id), context: ctx) == top.document)
            // A stored vector finds itself first (score ~1), its duplicates next to it, by id.
            let itself = try await k.searchVector(.init(embedding: corpus[0].vector, k: 1), context: ctx)
            #expect(abs((itself.results.first?.score ?? 0) - 1) < 1e-5)

            // A small tenant: k larger than its corpus gives every document.
            let small = try await Self.makeCorpus(k, tenant: Self.globex, count: 7, dimensions: 24, categories: ["alpha"], seed: 99)
            for query in queries {
                let results = try await k.searchVector(.init(embedding: query, k: 50), context: Self.globex)
                #expect(Set(results.results.map(\.document.id)) == Set(small.map(\.id)))
                Self.expectAgrees(results, small, query, k: 50, "small tenant")
                // Tenants apart: neither sees the other's ids.
                let mine = try await k.searchVector(.init(embedding: query, k: 100), context: ctx)
                #expect(Set(mine.results.map(\.document.id)).isDisjoint(with: small.map(\.id)))
            }
        }
    }

    @Test(arguments: Engine.allCases)
    func vectorRefusalsAndDimensions(_ engine: Engine) async throws {
        try await withService(engine) { f in
            let k = f.knowledge, ctx = Self.acme
            // Before any embedding, a document without one does not fix the dimension.
            let plain = try await k.create(.init(title: "Plain", content: "no vector", category: "c"), context: ctx)
            #expect(try await k.searchVector(.init(embedding: [1, 2, 3]), context: ctx).results.isEmpty)
            // The first embedding fixes the tenant's dimension.
            let first = try await k.create(.init(title: "First", content: "x", category: "c", embedding: [3, 4, 0]), context: ctx)
            #expect(await Self.code { try await k.create(.init(title: "Longer", content: "x", category: "c", embedding: [1, 2, 3, 4]), context: ctx) } == .invalidArgument)
            #expect(await Self.code { try await k.create(.init(title: "Shorter", content: "x", category: "c", embedding: [1, 2]), context: ctx) } == .invalidArgument)
            #expect(await Self.code { try await k.update(.init(id: plain.id, changes: .init(embedding: [1, 2])), context: ctx) } == .invalidArgument)
            // A query of another length is the caller's mistake (422), not the service's (500).
            for query in [[1, 2], [1, 2, 3, 4]] as [[Double]] {
                let refusal = await Self.failure { try await k.searchVector(.init(embedding: query), context: ctx) }
                #expect(refusal?.code == .invalidArgument, "\(query.count) numbers: \(String(describing: refusal))")
            }
            // Zero vectors: refused stored and queried.
            #expect(await Self.code { try await k.create(.init(title: "Zero", content: "x", category: "c", embedding: [0, 0, 0]), context: ctx) } == .invalidArgument)
            #expect(await Self.code { try await k.update(.init(id: plain.id, changes: .init(embedding: [0, 0, 0])), context: ctx) } == .invalidArgument)
            #expect(await Self.code { try await k.searchVector(.init(embedding: [0, 0, 0]), context: ctx) } == .invalidArgument)
            #expect(await Self.code { try await k.searchVector(.init(embedding: [0, -0.0, 0]), context: ctx) } == .invalidArgument)
            #expect(await Self.code { try await k.searchVector(.init(embedding: []), context: ctx) } == .invalidArgument)
            // k is 1...100.
            #expect(await Self.code { try await k.searchVector(.init(embedding: [1, 0, 0], k: 0), context: ctx) } == .invalidArgument)
            #expect(await Self.code { try await k.searchVector(.init(embedding: [1, 0, 0], k: 101), context: ctx) } == .invalidArgument)
            #expect(try await f.count("knowledge_document") == 2)
            #expect(try await f.count("outbox") == 2)

            // Adding an embedding later (same dimension) makes the document findable.
            let withVector = try await k.update(.init(id: plain.id, changes: .init(embedding: [0, 0, 5])), context: ctx)
            #expect(withVector.hasEmbedding && withVector.version == 2)
            let found = try await k.searchVector(.init(embedding: [0, 0.1, 1], k: 5), context: ctx)
            #expect(found.results.map(\.document.id) == [plain.id, first.id])
            #expect(abs(found.results[0].score - Self.cosine([0, 0, 5], [0, 0.1, 1])) < 1e-6)
            #expect(abs(found.results[1].score - Self.cosine([3, 4, 0], [0, 0.1, 1])) < 1e-6)
            // A category change moves it in the category filter.
            _ = try await k.update(.init(id: plain.id, changes: .init(category: "d")), context: ctx)
            #expect(try await k.searchVector(.init(embedding: [0, 0, 1], category: "c"), context: ctx).results.map(\.document.id) == [first.id])
            #expect(try await k.searchVector(.init(embedding: [0, 0, 1], category: "d"), context: ctx).results.map(\.document.id) == [plain.id])

            // Another tenant has its own dimension, and never finds acme's documents.
            let theirs = try await k.create(.init(title: "Theirs", content: "x", category: "c", embedding: [1, 0, 0, 0, 0]), context: Self.globex)
            #expect(try await k.searchVector(.init(embedding: [1, 0, 0, 0, 0], k: 100), context: Self.globex).results.map(\.document.id) == [theirs.id])
            let refusal = await Self.failure { try await k.searchVector(.init(embedding: [3, 4, 0]), context: Self.globex) }
            #expect(refusal?.code == .invalidArgument, "\(String(describing: refusal))")
            #expect(try await k.searchVector(.init(embedding: [3, 4, 0], k: 100), context: ctx).results.map(\.document.id).contains(theirs.id) == false)
            // A tenant without embeddings finds nothing.
            #expect(try await k.searchVector(.init(embedding: [3, 4, 0]), context: Self.context("initech")).results.isEmpty)
        }
    }

    // MARK: - The in-memory index equals the database

    @Test(arguments: Engine.allCases)
    func theIndexEqualsTheDatabaseAfterARestart(_ engine: Engine) async throws {
        try await withService(engine) { f in
            let old = f.knowledge, ctx = Self.acme
            var corpus = try await Self.makeCorpus(old, tenant: ctx, count: 120, dimensions: 12, categories: ["a", "b", "c"], seed: 2024)
            // Updates with new embeddings and categories, and deletes, through the old instance.
            var random = SplitMix64(state: 5)
            for n in stride(from: 0, to: 40, by: 4) {
                let vector = random.vector(12)
                _ = try await old.update(.init(id: corpus[n].id, changes: .init(category: "b", embedding: vector)), context: ctx)
                corpus[n].vector = vector
                corpus[n].category = "b"
            }
            for n in stride(from: 2, to: 60, by: 5) { try await old.delete(.init(id: corpus[n].id), context: ctx) }
            corpus = corpus.enumerated().filter { !stride(from: 2, to: 60, by: 5).contains($0.offset) }.map(\.element)
            // The database holds what the test expects.
            let stored = try await f.storedEmbeddings(of: "acme")
            #expect(stored.map(\.id) == corpus.map(\.id).sorted())
            let expected = Dictionary(uniqueKeysWithValues: corpus.map { ($0.id, $0) })
            for row in stored {
                let want = try #require(expected[row.id])
                #expect(row.category == want.category)
                #expect(abs(Self.cosine(row.vector, want.vector) - 1) < 1e-6)
            }

            let restarted = f.anotherInstance()
            try await restarted.loadVectors()
            let lazy = f.anotherInstance()  // catches up at its first search
            for (n, query) in Self.queries(corpus, dimensions: 12, seed: 11).enumerated() {
                for (kk, category) in [(1, nil), (10, nil), (100, nil), (5, "b"), (100, "a")] as [(Int, String?)] {
                    let request = A.VectorSearchRequest(embedding: query, k: kk, category: category)
                    let before = try await old.searchVector(request, context: ctx)
                    let after = try await restarted.searchVector(request, context: ctx)
                    #expect(after.results == before.results, "query \(n), k \(kk), \(category ?? "-")")
                    #expect(try await lazy.searchVector(request, context: ctx).results == before.results)
                    Self.expectAgrees(after, corpus, query, k: kk, category: category, "restarted: query \(n), k \(kk), \(category ?? "-")")
                    // And against the stored float32 vectors.
                    Self.expectAgrees(after, stored, query, k: kk, category: category, "stored: query \(n), k \(kk), \(category ?? "-")")
                }
            }
        }
    }

    @Test(arguments: Engine.allCases)
    func theIndexEqualsTheDatabaseAfterConcurrentWritesThroughTwoInstances(_ engine: Engine) async throws {
        try await withService(engine) { f in
            let one = f.knowledge, two = f.anotherInstance(), ctx = Self.acme
            let dimensions = 16
            let seeded = try await Self.makeCorpus(one, tenant: ctx, count: 60, dimensions: dimensions, categories: ["a", "b"], seed: 77)
            // Both instances hold an index before the writes.
            _ = try await one.searchVector(.init(embedding: seeded[0].vector), context: ctx)
            _ = try await two.searchVector(.init(embedding: seeded[0].vector), context: ctx)

            enum Outcome: Sendable {
                case created(StoredVector)
                case updated(StoredVector)
                case deleted(String)
                case searched
            }
            var random = SplitMix64(state: 31337)
            // Each seeded document is changed by at most one task, so the end state is known.
            let plans: [(n: Int, vector: [Double], category: String)] = (0..<48).map { n in (n, random.vector(dimensions), n % 3 == 0 ? "a" : "b") }
            let outcomes = try await withThrowingTaskGroup(of: Outcome.self) { group in
                for plan in plans {
                    let service = plan.n % 2 == 0 ? one : two
                    group.addTask {
                        switch plan.n % 4 {
                        case 0:
                            let document = try await service.create(.init(title: "New \(plan.n)", content: "c", category: plan.category, embedding: plan.vector), context: ctx)
                            return .created(StoredVector(id: document.id, category: plan.category, vector: plan.vector))
                        case 1:
                            let id = seeded[plan.n].id
                            _ = try await service.update(.init(id: id, changes: .init(category: plan.category, embedding: plan.vector)), context: ctx)
                            return .updated(StoredVector(id: id, category: plan.category, vector: plan.vector))
                        case 2:
                            try await service.delete(.init(id: seeded[plan.n].id), context: ctx)
                            return .deleted(seeded[plan.n].id)
                        default:
                            _ = try await service.searchVector(.init(embedding: plan.vector, k: 20), context: ctx)
                            return .searched
                        }
                    }
                }
                var all: [Outcome] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
            var expected = Dictionary(uniqueKeysWithValues: seeded.map { ($0.id, $0) })
            for outcome in outcomes {
                switch outcome {
                case .created(let vector), .updated(let vector): expected[vector.id] = vector
                case .deleted(let id): expected[id] = nil
                case .searched: break
                }
            }
            let corpus = expected.values.sorted { $0.id < $1.id }

            // The database holds exactly that.
            let stored = try await f.storedEmbeddings(of: "acme")
            #expect(stored.map(\.id) == corpus.map(\.id))
            for (row, want) in zip(stored, corpus) {
                #expect(row.category == want.category)
                #expect(abs(Self.cosine(row.vector, want.vector) - 1) < 1e-6, "\(row.id)")
            }
            let revision = try await f.owner.read { try $0.queryFirst("SELECT revision FROM knowledge_tenant")!.decode(Int64.self, "revision") }
            #expect(revision == Int64(60 + 36), "one revision per change")

            // Each instance (and a third, started now) searches what the database holds.
            let three = f.anotherInstance()
            try await three.loadVectors()
            for (n, query) in Self.queries(corpus, dimensions: dimensions, seed: 3).enumerated() {
                for (kk, category) in [(1, nil), (10, nil), (100, nil), (100, "a"), (7, "b")] as [(Int, String?)] {
                    let request = A.VectorSearchRequest(embedding: query, k: kk, category: category)
                    for (name, service) in [("one", one), ("two", two), ("three", three)] {
                        let results = try await service.searchVector(request, context: ctx)
                        Self.expectAgrees(results, corpus, query, k: kk, category: category, "\(name): query \(n), k \(kk), \(category ?? "-")")
                        Self.expectAgrees(results, stored, query, k: kk, category: category, "\(name) vs stored: query \(n), k \(kk), \(category ?? "-")")
                    }
                }
            }
        }
    }
}
