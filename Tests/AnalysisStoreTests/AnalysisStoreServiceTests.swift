import AnalysisStore
import BusRuntime
import BusWire
import Contracts
import Foundation
import Logging
import NIOCore
import NIOPosix
import ServiceKit
import Storage
import TestSupport
import Testing

@Suite struct AnalysisStoreServiceTests {
    /// A database migrated by its owner, with the service on it connected
    /// as the service role (on PostgreSQL row-level security binds it).
    func withService(_ engine: Engine, _ body: (AnalysisStoreService, any Database) async throws -> Void) async throws {
        try await TestDatabases.withRoles(engine, prepare: { try await AnalysisStoreSchema.schema.migrator().deploy(to: $0) }) { _, database in
            try await body(AnalysisStoreService(store: ServiceStore(database: database), limits: AnalysisLimits(maxVideoIDLength: 64, maxDescriptionBytes: 200_000)), database)
        }
    }

    /// A request of `tenant` (the tenant `default` unless said).
    func context(_ tenant: String = "default", method: String = "create", key: String? = nil) -> RequestContext {
        RequestContext(service: "analysis-store", method: method, idempotencyKey: key, identity: Identity(tenant: tenant), logger: Logger(label: "test"))
    }

    @Test(arguments: Engine.allCases)
    func theLifeOfAnAnalysis(_ engine: Engine) async throws {
        try await withService(engine) { service, database in
            let created = try await service.create(.init(videoId: "test_001", description: "A sunset"), context: context())
            #expect(created.id.count == 25 && created.createdAt == created.updatedAt)
            #expect(try await service.get("test_001", context: context()) == created)

            let unicode = "Café 字 😀 \"quoted\" \n" + String(repeating: "long description ", count: 6000)  // ~100 KB
            let updated = try await service.update(.init(videoId: "test_001", description: unicode), context: context())
            #expect(updated.description == unicode)
            #expect(updated.createdAt == created.createdAt)
            #expect(updated.updatedAt > created.updatedAt)
            #expect(try await service.get("test_001", context: context()).description == unicode)

            try await service.delete(.init(videoId: "test_001"), context: context())
            await #expect(throws: BusError(.notFound, "no analysis for video test_001")) { try await service.get("test_001", context: context()) }
            await #expect(throws: BusError(.notFound, "no analysis for video test_001")) { try await service.delete(.init(videoId: "test_001"), context: context()) }
            await #expect(throws: BusError(.notFound, "no analysis for video test_001")) { try await service.update(.init(videoId: "test_001", description: "x"), context: context()) }

            let topics = try await database.read { try $0.query("SELECT topic FROM outbox ORDER BY seq").map { try $0.decode(String.self, "topic") } }
            #expect(topics == ["analysis.created", "analysis.updated", "analysis.deleted"])
        }
    }

    @Test(arguments: Engine.allCases)
    func badInputIsRefusedWithTheField(_ engine: Engine) async throws {
        try await withService(engine) { service, _ in
            await #expect(throws: BusError(.invalidArgument, "video_id must not be empty")) { try await service.create(.init(videoId: "  ", description: "x"), context: context()) }
            await #expect(throws: BusError(.invalidArgument, "video_id is longer than 64 characters")) { try await service.create(.init(videoId: String(repeating: "v", count: 65), description: "x"), context: context()) }
            await #expect(throws: BusError(.invalidArgument, "description is longer than 200000 bytes")) { try await service.create(.init(videoId: "v", description: String(repeating: "d", count: 200_001)), context: context()) }
            await #expect(throws: BusError(.invalidArgument, "description must not contain the NUL character (U+0000)")) { try await service.create(.init(videoId: "v", description: "a\u{0}b"), context: context()) }
            await #expect(throws: BusError(.invalidArgument, "limit must be 0...500")) { try await service.list(.init(limit: 501), context: context()) }
            await #expect(throws: BusError(.invalidArgument, "cursor is not one this service issued")) { try await service.list(.init(cursor: "nonsense!"), context: context()) }
            await #expect(throws: BusError(.invalidArgument, "query must contain at least one word")) { try await service.search(.init(query: " -- "), context: context()) }
        }
    }

    @Test(arguments: Engine.allCases)
    func concurrentCreatesOfOneVideoLetExactlyOneWin(_ engine: Engine) async throws {
        try await withService(engine) { service, database in
            let outcomes = try await withThrowingTaskGroup(of: ErrorCode?.self) { group in
                for n in 0..<50 {
                    group.addTask {
                        do {
                            _ = try await service.create(.init(videoId: "contested", description: "attempt \(n)"), context: context())
                            return nil
                        } catch {
                            return (error as? BusError)?.code
                        }
                    }
                }
                var all: [ErrorCode?] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
            #expect(outcomes.filter { $0 == nil }.count == 1)
            #expect(outcomes.filter { $0 == .conflict }.count == 49)
            let events = try await database.read { try $0.queryFirst("SELECT COUNT(*) AS n FROM outbox")!.decode(Int64.self, "n") }
            #expect(events == 1)
        }
    }

    @Test(arguments: Engine.allCases)
    func listingPagesNewestFirstAndSearchFindsWords(_ engine: Engine) async throws {
        try await withService(engine) { service, _ in
            for n in 0..<25 {
                _ = try await service.create(.init(videoId: "v\(n)", description: n % 5 == 0 ? "a dog on the beach \(n)" : "city lights \(n)"), context: context())
            }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await service.list(.init(limit: 10, cursor: cursor), context: context())
                #expect(page.count == page.analyses.count)
                seen += page.analyses.map(\.videoId)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(seen == (0..<25).reversed().map { "v\($0)" })

            let dogs = try await service.search(.init(query: "beach DOG"), context: context())
            #expect(dogs.analyses.map(\.videoId) == ["v20", "v15", "v10", "v5", "v0"])
            // FTS syntax in a query is taken literally, not as operators.
            #expect(try await service.search(.init(query: "\"dog\" OR NEAR("), context: context()).analyses.isEmpty)
        }
    }

    @Test func methodsOverTheBusSpeakSnakeCaseJSON() async throws {
        try await withService(.sqlite) { service, _ in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let node = BusNode(configuration: .init(identity: NodeIdentity(service: "analysis-store", instance: "as-1", version: "t")), group: group)
            for binding in service.bindings { binding.register(on: node) }
            let port = try await node.start().port!
            let caller = BusNode(configuration: .init(identity: NodeIdentity(service: "c", instance: "c-1", version: "t")), group: group)
            let connection = try await caller.connect(host: "127.0.0.1", port: port)
            let body = try await connection.call(service: "analysis-store", method: "create", body: ByteBuffer(string: #"{"video_id":"test_001","description":"A sunset"}"#), identity: Identity(tenant: "default"))
            let object = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as! [String: Any]
            #expect(Set(object.keys) == ["id", "video_id", "description", "created_at", "updated_at"])
            #expect(object["video_id"] as? String == "test_001")
            await #expect(throws: BusError(.notFound, "no analysis for video nope", retryable: false)) {
                _ = try await connection.call(service: "analysis-store", method: "get", body: ByteBuffer(string: #"{"video_id":"nope"}"#), identity: Identity(tenant: "default"))
            }
            try await node.shutdown()
            try await group.shutdownGracefully()
        }
    }

    // MARK: - Idempotency keys

    func keyed(_ key: String) -> RequestContext {
        context(key: key)
    }

    func eventCount(_ database: any Database) async throws -> Int64 {
        try await database.read { try $0.queryFirst("SELECT COUNT(*) AS n FROM outbox")!.decode(Int64.self, "n") }
    }

    @Test(arguments: Engine.allCases)
    func aRepeatedKeyedRequestGetsTheFirstAnswerAndChangesNothing(_ engine: Engine) async throws {
        try await withService(engine) { service, database in
            let request = AnalysisContracts.CreateRequest(videoId: "keyed", description: "A sunset")
            let first = try await service.create(request, context: keyed("k-1"))
            let again = try await service.create(request, context: keyed("k-1"))
            #expect(again == first)
            #expect(try await eventCount(database) == 1)
            // Another body under the same key is refused, and changes nothing.
            await #expect(throws: BusError(.invalidArgument, "idempotency key k-1 was already used with a different request to create")) {
                try await service.create(.init(videoId: "other", description: "A sunset"), context: keyed("k-1"))
            }
            await #expect(throws: BusError.self) { try await service.get("other", context: context()) }
            // Without a key a repeat is a second request: conflict.
            await #expect(throws: BusError(.conflict, "an analysis for video keyed already exists")) { try await service.create(request, context: context()) }
            // Keys are per method: the same key on update is a new request.
            let updated = try await service.update(.init(videoId: "keyed", description: "A beautiful sunset"), context: keyed("k-1"))
            #expect(try await service.update(.init(videoId: "keyed", description: "A beautiful sunset"), context: keyed("k-1")) == updated)
            // A delete repeated with its key answers as the first time, not 404.
            try await service.delete(.init(videoId: "keyed"), context: keyed("d-1"))
            try await service.delete(.init(videoId: "keyed"), context: keyed("d-1"))
            #expect(try await eventCount(database) == 3)
        }
    }

    @Test(arguments: Engine.allCases)
    func concurrentRepeatsOfOneKeyHaveOneEffect(_ engine: Engine) async throws {
        try await withService(engine) { service, database in
            let request = AnalysisContracts.CreateRequest(videoId: "raced", description: "once")
            let answers = try await withThrowingTaskGroup(of: AnalysisContracts.Analysis.self) { group in
                for _ in 0..<20 { group.addTask { try await service.create(request, context: keyed("race-1")) } }
                var all: [AnalysisContracts.Analysis] = []
                for try await answer in group { all.append(answer) }
                return all
            }
            #expect(answers.count == 20)
            #expect(Set(answers.map(\.id)).count == 1, "every repeat gets the first answer")
            #expect(try await eventCount(database) == 1)
        }
    }

    @Test(arguments: Engine.allCases)
    func anExpiredKeyStartsAfresh(_ engine: Engine) async throws {
        try await withService(engine) { service, database in
            let first = try await service.create(.init(videoId: "old", description: "x"), context: keyed("k-old"))
            // Age the record past the retention.
            let past = Timestamp.now().millisecondsSince1970 - Idempotency.retentionMilliseconds - 1
            try await database.write { try $0.execute("UPDATE idempotency SET created_at = \(past)") }
            try await service.delete(.init(videoId: "old"), context: context())
            let second = try await service.create(.init(videoId: "old", description: "x"), context: keyed("k-old"))
            #expect(second.id != first.id)
            #expect(try await Idempotency.prune(database, now: Timestamp(millisecondsSince1970: Timestamp.now().millisecondsSince1970 + Idempotency.retentionMilliseconds + 1)) == 1)
        }
    }
}
