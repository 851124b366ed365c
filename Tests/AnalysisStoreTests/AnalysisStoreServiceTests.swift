import AnalysisStore
import BusRuntime
import BusWire
import Contracts
import Foundation
import NIOCore
import NIOPosix
import Storage
import TestSupport
import Testing

@Suite struct AnalysisStoreServiceTests {
    /// A migrated database with the service on it.
    func withService(_ engine: Engine, _ body: (AnalysisStoreService, any Database) async throws -> Void) async throws {
        try await TestDatabases.with(engine) { database in
            try await AnalysisStoreSchema.schema.migrator().deploy(to: database)
            try await body(AnalysisStoreService(database: database, limits: AnalysisLimits(maxVideoIDLength: 64, maxDescriptionBytes: 200_000)), database)
        }
    }

    @Test(arguments: Engine.allCases)
    func theLifeOfAnAnalysis(_ engine: Engine) async throws {
        try await withService(engine) { service, database in
            let created = try await service.create(.init(videoId: "test_001", description: "A sunset"))
            #expect(created.id.count == 25 && created.createdAt == created.updatedAt)
            #expect(try await service.get("test_001") == created)

            let unicode = "Café 字 😀 \"quoted\" \n" + String(repeating: "long description ", count: 6000)  // ~100 KB
            let updated = try await service.update(.init(videoId: "test_001", description: unicode))
            #expect(updated.description == unicode)
            #expect(updated.createdAt == created.createdAt)
            #expect(updated.updatedAt > created.updatedAt)
            #expect(try await service.get("test_001").description == unicode)

            try await service.delete("test_001")
            await #expect(throws: BusError(.notFound, "no analysis for video test_001")) { try await service.get("test_001") }
            await #expect(throws: BusError(.notFound, "no analysis for video test_001")) { try await service.delete("test_001") }
            await #expect(throws: BusError(.notFound, "no analysis for video test_001")) { try await service.update(.init(videoId: "test_001", description: "x")) }

            let topics = try await database.read { try $0.query("SELECT topic FROM outbox ORDER BY seq").map { try $0.decode(String.self, "topic") } }
            #expect(topics == ["analysis.created", "analysis.updated", "analysis.deleted"])
        }
    }

    @Test(arguments: Engine.allCases)
    func badInputIsRefusedWithTheField(_ engine: Engine) async throws {
        try await withService(engine) { service, _ in
            await #expect(throws: BusError(.invalidArgument, "video_id must not be empty")) { try await service.create(.init(videoId: "  ", description: "x")) }
            await #expect(throws: BusError(.invalidArgument, "video_id is longer than 64 characters")) { try await service.create(.init(videoId: String(repeating: "v", count: 65), description: "x")) }
            await #expect(throws: BusError(.invalidArgument, "description is longer than 200000 bytes")) { try await service.create(.init(videoId: "v", description: String(repeating: "d", count: 200_001))) }
            await #expect(throws: BusError(.invalidArgument, "limit must be 1...500")) { try await service.list(.init(limit: 0)) }
            await #expect(throws: BusError(.invalidArgument, "cursor is not one this service issued")) { try await service.list(.init(cursor: "nonsense!")) }
            await #expect(throws: BusError(.invalidArgument, "query must contain at least one word")) { try await service.search(.init(query: " -- ")) }
        }
    }

    @Test(arguments: Engine.allCases)
    func concurrentCreatesOfOneVideoLetExactlyOneWin(_ engine: Engine) async throws {
        try await withService(engine) { service, database in
            let outcomes = try await withThrowingTaskGroup(of: ErrorCode?.self) { group in
                for n in 0..<50 {
                    group.addTask {
                        do {
                            _ = try await service.create(.init(videoId: "contested", description: "attempt \(n)"))
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
                _ = try await service.create(.init(videoId: "v\(n)", description: n % 5 == 0 ? "a dog on the beach \(n)" : "city lights \(n)"))
            }
            var seen: [String] = []
            var cursor: String?
            repeat {
                let page = try await service.list(.init(limit: 10, cursor: cursor))
                #expect(page.count == page.analyses.count)
                seen += page.analyses.map(\.videoId)
                cursor = page.nextCursor
            } while cursor != nil
            #expect(seen == (0..<25).reversed().map { "v\($0)" })

            let dogs = try await service.search(.init(query: "beach DOG"))
            #expect(dogs.analyses.map(\.videoId) == ["v20", "v15", "v10", "v5", "v0"])
            // FTS syntax in a query is taken literally, not as operators.
            #expect(try await service.search(.init(query: "\"dog\" OR NEAR(")).analyses.isEmpty)
        }
    }

    @Test func methodsOverTheBusSpeakSnakeCaseJSON() async throws {
        try await withService(.sqlite) { service, _ in
            let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
            let node = BusNode(configuration: .init(identity: NodeIdentity(service: "analysis-store", instance: "as-1", version: "t")), group: group)
            service.install(on: node)
            let port = try await node.start().port!
            let caller = BusNode(configuration: .init(identity: NodeIdentity(service: "c", instance: "c-1", version: "t")), group: group)
            let connection = try await caller.connect(host: "127.0.0.1", port: port)
            let body = try await connection.call(service: "analysis-store", method: "create", body: ByteBuffer(string: #"{"video_id":"test_001","description":"A sunset"}"#))
            let object = try JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as! [String: Any]
            #expect(Set(object.keys) == ["id", "video_id", "description", "created_at", "updated_at"])
            #expect(object["video_id"] as? String == "test_001")
            await #expect(throws: BusError(.notFound, "no analysis for video nope", retryable: false)) {
                _ = try await connection.call(service: "analysis-store", method: "get", body: ByteBuffer(string: #"{"video_id":"nope"}"#))
            }
            try await node.shutdown()
            try await group.shutdownGracefully()
        }
    }
}
