import Foundation
import Storage
import TestSupport
import Testing

@Suite struct DatabaseTests {
    /// A table with every portable type, per dialect.
    static func createTypesTable(_ dialect: SQLDialect) -> String {
        switch dialect {
        case .sqlite:
            return """
                CREATE TABLE sample (
                    id TEXT PRIMARY KEY,
                    counter INTEGER NOT NULL,
                    price_cents INTEGER NOT NULL,
                    rate_minor4 INTEGER NOT NULL,
                    at INTEGER NOT NULL,
                    doc TEXT NOT NULL CHECK (json_valid(doc)),
                    flag INTEGER NOT NULL,
                    note TEXT
                ) STRICT
                """
        case .postgres:
            return """
                CREATE TABLE sample (
                    id TEXT PRIMARY KEY,
                    counter BIGINT NOT NULL,
                    price_cents BIGINT NOT NULL,
                    rate_minor4 BIGINT NOT NULL,
                    at BIGINT NOT NULL,
                    doc JSONB NOT NULL,
                    flag BOOLEAN NOT NULL,
                    note TEXT
                )
                """
        }
    }

    @Test(arguments: Engine.allCases)
    func everyPortableTypeRoundTrips(_ engine: Engine) async throws {
        try await TestDatabases.with(engine) { database in
            try await database.write { try $0.executeScript(Self.createTypesTable($0.dialect)) }
            let counter: Int64 = 1 << 62
            let price = try #require(FixedPoint("12.34", scale: 2))
            let rate = try #require(FixedPoint("-0.0001", scale: 4))
            // The same instant written in two time zones.
            let paris = try #require(Timestamp(iso8601: "2026-02-15T03:51:21.676+02:00"))
            let utc = try #require(Timestamp(iso8601: "2026-02-15T01:51:21.676Z"))
            #expect(paris == utc)
            let doc = try JSONText(#"{"name":"Café 字 😀 \"quoted\"","n":[1,2.5,null],"nested":{"ok":true}}"#)
            let flag = true
            try await database.write { session in
                try session.execute("""
                    INSERT INTO sample (id, counter, price_cents, rate_minor4, at, doc, flag, note)
                    VALUES (\("a-1"), \(counter), \(price.minorUnits), \(rate.minorUnits), \(paris), \(doc), \(flag), \(String?.none))
                    """)
            }
            let row = try #require(try await database.read { try $0.queryFirst("SELECT * FROM sample WHERE id = \("a-1")") })
            #expect(try row.decode(Int64.self, "counter") == counter)
            #expect(try FixedPoint(databaseValue: row.value("price_cents"), scale: 2).description == "12.34")
            #expect(try FixedPoint(databaseValue: row.value("rate_minor4"), scale: 4).description == "-0.0001")
            let at: Timestamp = try row["at"]
            #expect(at == utc)
            #expect(at.iso8601 == "2026-02-15T01:51:21.676Z")
            let readDoc: JSONText = try row["doc"]
            #expect(NSDictionary(dictionary: readDoc.object as! [String: Any]) == NSDictionary(dictionary: doc.object as! [String: Any]))
            #expect(try row.decode(Bool.self, "flag") == true)
            #expect(try row.decode(String?.self, "note") == nil)
        }
    }

    @Test(arguments: Engine.allCases)
    func failuresHaveCodes(_ engine: Engine) async throws {
        try await TestDatabases.with(engine) { database in
            try await database.write { session in
                try session.executeScript("CREATE TABLE parent (id TEXT PRIMARY KEY)")
                try session.executeScript("CREATE TABLE child (id TEXT PRIMARY KEY, parent_id TEXT NOT NULL REFERENCES parent(id))")
                try session.execute("INSERT INTO parent (id) VALUES (\("p1"))")
            }
            let duplicate = await #expect(throws: StorageError.self) {
                try await database.write { try $0.execute("INSERT INTO parent (id) VALUES (\("p1"))") }
            }
            #expect(duplicate?.code == .conflict)
            let orphan = await #expect(throws: StorageError.self) {
                try await database.write { try $0.execute("INSERT INTO child (id, parent_id) VALUES (\("c1"), \("nobody"))") }
            }
            #expect(orphan?.code == .constraint)
            let typo = await #expect(throws: StorageError.self) {
                try await database.read { try $0.query("SELEKT 1") }
            }
            #expect(typo?.code == .invalidQuery)
            #expect(typo?.sql == "SELEKT 1")
        }
    }

    @Test(arguments: Engine.allCases)
    func aFailedTransactionLeavesNothingBehind(_ engine: Engine) async throws {
        struct Abort: Error {}
        try await TestDatabases.with(engine) { database in
            try await database.write { try $0.executeScript("CREATE TABLE item (id TEXT PRIMARY KEY)") }
            await #expect(throws: StorageError.self) {
                try await database.write { session in
                    try session.execute("INSERT INTO item (id) VALUES (\("kept?"))")
                    throw Abort()
                }
            }
            let count = try await database.read { try $0.queryFirst("SELECT COUNT(*) AS n FROM item")!.decode(Int64.self, "n") }
            #expect(count == 0)
            // And the connection is fine afterwards.
            try await database.write { try $0.execute("INSERT INTO item (id) VALUES (\("x"))") }
        }
    }

    @Test(arguments: Engine.allCases)
    func concurrentWritersAllLand(_ engine: Engine) async throws {
        try await TestDatabases.with(engine) { database in
            try await database.write { try $0.executeScript("CREATE TABLE item (id TEXT PRIMARY KEY, n BIGINT NOT NULL)") }
            try await withThrowingTaskGroup(of: Void.self) { group in
                // Eight writers per pooled connection: enough to queue, not so many that a loaded
                // machine keeps the last one waiting past the pool's 10 s acquire limit.
                for n in 0..<64 {
                    group.addTask { _ = try await database.write { try $0.execute("INSERT INTO item (id, n) VALUES (\("item-\(n)"), \(n))") } }
                }
                try await group.waitForAll()
            }
            let sum = try await database.read { try $0.queryFirst("SELECT COUNT(*) AS c, SUM(n) AS s FROM item")! }
            #expect(try sum.decode(Int64.self, "c") == 64)
            #expect(try sum.decode(Int64.self, "s") == (0..<64).reduce(0, +))
        }
    }

    /// SQLite commits concurrent writes together (group commit): a write that
    /// fails inside a shared transaction takes back all of its own changes
    /// and none of the others'.
    @Test(arguments: Engine.allCases)
    func concurrentWritesThatFailLeaveNothingAndTheOthersCommit(_ engine: Engine) async throws {
        try await TestDatabases.with(engine) { database in
            try await database.write { try $0.executeScript("CREATE TABLE item (id TEXT PRIMARY KEY, n BIGINT NOT NULL)") }
            try await database.write { try $0.execute("INSERT INTO item (id, n) VALUES (\("taken"), 0)") }
            let outcomes = try await withThrowingTaskGroup(of: (Int, StorageError.Code?).self) { group in
                for n in 1...64 {
                    group.addTask {
                        do {
                            _ = try await database.write { session in
                                // Two rows per write; every fourth write then collides, after its first row.
                                try session.execute("INSERT INTO item (id, n) VALUES (\("first-\(n)"), \(n))")
                                try session.execute("INSERT INTO item (id, n) VALUES (\(n % 4 == 0 ? "taken" : "second-\(n)"), \(n))")
                            }
                            return (n, nil)
                        } catch let error as StorageError {
                            return (n, error.code)
                        }
                    }
                }
                var outcomes: [Int: StorageError.Code?] = [:]
                for try await (n, code) in group { outcomes[n] = code }
                return outcomes
            }
            for n in 1...64 { #expect(outcomes[n]! == (n % 4 == 0 ? .conflict : nil), "write \(n)") }
            let ids = try await database.read { try $0.query("SELECT id FROM item").map { try $0.decode(String.self, "id") } }
            let expected = ["taken"] + (1...64).filter { $0 % 4 != 0 }.flatMap { ["first-\($0)", "second-\($0)"] }
            #expect(Set(ids) == Set(expected))
            #expect(ids.count == expected.count)
        }
    }

    @Test(arguments: Engine.allCases)
    func readTransactionsCannotWrite(_ engine: Engine) async throws {
        try await TestDatabases.with(engine) { database in
            try await database.write { try $0.executeScript("CREATE TABLE item (id TEXT PRIMARY KEY)") }
            await #expect(throws: StorageError.self) {
                try await database.read { try $0.execute("INSERT INTO item (id) VALUES (\("x"))") }
            }
        }
    }

    /// A NUL in text is refused on both engines (libpq would cut the text
    /// there without a word), and nothing is written.
    @Test(arguments: Engine.allCases)
    func textWithANulCharacterIsRefusedNotTruncated(_ engine: Engine) async throws {
        try await TestDatabases.with(engine) { database in
            try await database.write { try $0.execute("CREATE TABLE note (id TEXT PRIMARY KEY, body TEXT NOT NULL)") }
            let error = await #expect(throws: StorageError.self) {
                try await database.write { try $0.execute("INSERT INTO note (id, body) VALUES (\("n-1"), \("before\u{0}after"))") }
            }
            #expect(error?.code == .invalidValue)
            await #expect(throws: StorageError.self) { try await database.read { try $0.query("SELECT id FROM note WHERE body = \("a\u{0}")") } }
            #expect(try await database.read { try $0.query("SELECT id FROM note") }.isEmpty)
        }
    }

    /// A statement past the URL's statement_timeout is cancelled by the server and reported as a timeout.
    @Test func aPostgresStatementPastItsTimeLimitIsCancelled() async throws {
        let (url, cleanup) = try await TestDatabases.freshURL(.postgres)
        defer { Task { await cleanup() } }
        let database = try await openDatabase(DatabaseURL(url + (url.contains("?") ? "&" : "?") + "statement_timeout=200ms"))
        defer { Task { await database.close() } }
        let error = await #expect(throws: StorageError.self) { try await database.read { try $0.query("SELECT pg_sleep(5) AS slept") } }
        #expect(error?.code == .timeout)
        // The connection is still usable afterwards.
        #expect(try await database.read { try $0.queryFirst("SELECT 1 AS one") } != nil)
        // Migrations are not held to it (an index over a big table takes its time).
        let slow = Migrator(service: "slow", migrations: [Migration(id: 1, name: "slow", sql: "CREATE TABLE slow (n BIGINT); SELECT pg_sleep(0.5)")])
        #expect(try await slow.deploy(to: database).count == 1)
        // …and the limit is back afterwards.
        await #expect(throws: StorageError.self) { try await database.read { try $0.query("SELECT pg_sleep(5) AS slept") } }
    }
}
