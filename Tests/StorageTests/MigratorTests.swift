import Foundation
import NIOConcurrencyHelpers
import Storage
import TestSupport
import Testing

@Suite struct MigratorTests {
    static let base = [
        Migration(id: 1, name: "create_item", sqlite: "CREATE TABLE item (id TEXT PRIMARY KEY, n INTEGER NOT NULL) STRICT", postgres: "CREATE TABLE item (id TEXT PRIMARY KEY, n BIGINT NOT NULL)"),
        Migration(id: 2, name: "index_item_n", sql: "CREATE INDEX item_n ON item (n)"),
    ]

    func count(_ database: any Database, _ table: String) async throws -> Int64 {
        try await database.read { try $0.queryFirst("SELECT COUNT(*) AS n FROM \(raw: table)")!.decode(Int64.self, "n") }
    }

    @Test(arguments: Engine.allCases)
    func deployAppliesEachMigrationOnceAndRecordsIt(_ engine: Engine) async throws {
        try await TestDatabases.with(engine) { database in
            let migrator = Migrator(service: "test", migrations: Self.base)
            #expect(try await migrator.status(of: database).pending.map(\.id) == [1, 2])
            #expect(try await migrator.deploy(to: database).map(\.id) == [1, 2])
            #expect(try await migrator.deploy(to: database).isEmpty)
            let status = try await migrator.status(of: database)
            #expect(status.isCurrent)
            #expect(status.applied.map(\.name) == ["create_item", "index_item_n"])
            #expect(status.applied[0].checksum == Self.base[0].checksum(for: database.dialect))
            #expect(status.applied[0].appliedAt <= .now())

            let grown = Migrator(service: "test", migrations: Self.base + [Migration(id: 3, name: "add_note", sql: "ALTER TABLE item ADD COLUMN note TEXT")])
            let pending = try await grown.status(of: database)
            #expect(!pending.isCurrent && pending.pending.map(\.id) == [3])
            #expect(try await grown.deploy(to: database).map(\.id) == [3])
        }
    }

    @Test(arguments: Engine.allCases)
    func anEditedAppliedMigrationIsRefusedNamingBoth(_ engine: Engine) async throws {
        try await TestDatabases.with(engine) { database in
            try await Migrator(service: "test", migrations: Self.base).deploy(to: database)
            var edited = Self.base
            edited[1] = Migration(id: 2, name: "index_item_n_desc", sql: "CREATE INDEX item_n ON item (n DESC)")
            let migrator = Migrator(service: "test", migrations: edited)
            #expect(try await migrator.status(of: database).modified.map(\.code.name) == ["index_item_n_desc"])
            let error = await #expect(throws: StorageError.self) { try await migrator.deploy(to: database) }
            #expect(error?.code == .migration)
            #expect(error?.message.contains(#"applied as "index_item_n""#) == true)
            #expect(error?.message.contains(#"the code has "index_item_n_desc""#) == true)
        }
    }

    @Test(arguments: Engine.allCases)
    func aDatabaseNewerThanTheCodeIsRefused(_ engine: Engine) async throws {
        try await TestDatabases.with(engine) { database in
            try await Migrator(service: "test", migrations: Self.base).deploy(to: database)
            let older = Migrator(service: "test", migrations: [Self.base[0]])
            #expect(try await older.status(of: database).unknown.map(\.id) == [2])
            await #expect(throws: StorageError(.migration, #"the database has migration 2 "index_item_n" that this build does not know: it is newer than the code"#)) {
                try await older.deploy(to: database)
            }
        }
    }

    @Test(arguments: Engine.allCases)
    func aFailingMigrationRollsBackAloneAndNamesItself(_ engine: Engine) async throws {
        try await TestDatabases.with(engine) { database in
            let broken = Self.base + [Migration(id: 3, name: "broken", sql: "CREATE TABLE half (id TEXT); CREATE TABLE item (id TEXT)")]
            let error = await #expect(throws: StorageError.self) { try await Migrator(service: "test", migrations: broken).deploy(to: database) }
            #expect(error?.code == .migration)
            #expect(error?.message.hasPrefix(#"migration 3 "broken" failed:"#) == true)
            let status = try await Migrator(service: "test", migrations: broken).status(of: database)
            #expect(status.applied.map(\.id) == [1, 2])
            #expect(status.pending.map(\.id) == [3])
            // Its first statement was rolled back with it.
            await #expect(throws: StorageError.self) { try await count(database, "half") }
        }
    }

    @Test(arguments: Engine.allCases)
    func concurrentMigratorsApplyEachMigrationExactlyOnce(_ engine: Engine) async throws {
        let (url, cleanup) = try await TestDatabases.freshURL(engine)
        defer { Task { await cleanup() } }
        // Separate pools, as two processes would have; CREATE TABLE without IF NOT EXISTS fails if run twice.
        let migrations = (1...6).map { Migration(id: $0, name: "table_\($0)", sql: "CREATE TABLE t\($0) (id TEXT PRIMARY KEY)") }
        let outcomes = try await withThrowingTaskGroup(of: [Int].self) { group in
            for instance in 0..<4 {
                group.addTask {
                    let database = try await openDatabase(DatabaseURL(url))
                    defer { Task { await database.close() } }
                    return try await Migrator(service: "race", migrations: migrations, holder: "instance-\(instance)").deploy(to: database).map(\.id)
                }
            }
            var all: [[Int]] = []
            for try await applied in group { all.append(applied) }
            return all
        }
        #expect(outcomes.flatMap { $0 }.sorted() == [1, 2, 3, 4, 5, 6])
        let database = try await openDatabase(DatabaseURL(url))
        #expect(try await Migrator(service: "race", migrations: migrations).status(of: database).applied.count == 6)
        await database.close()
    }

    @Test func aMigratorThatCannotGetThePostgresLockNamesItsHolder() async throws {
        let (url, cleanup) = try await TestDatabases.freshURL(.postgres)
        defer { Task { await cleanup() } }
        let holder = try await openDatabase(DatabaseURL(url))
        let released = NIOLockedValueBox(false)
        let locked = Task {
            try await holder.withoutTransaction { session in
                try session.execute("SELECT set_config('application_name', \("the-holder"), false)")
                _ = try session.query("SELECT pg_advisory_lock(hashtext(\("videobus.migrate.locked")))")
                // Holding the lock until the other migrator has given up (bounded, should the test fail first).
                let limit = Date().addingTimeInterval(60)
                while !released.withLockedValue({ $0 }), Date() < limit { Thread.sleep(forTimeInterval: 0.01) }
                _ = try session.query("SELECT pg_advisory_unlock(hashtext(\("videobus.migrate.locked")))")
            }
        }
        let database = try await openDatabase(DatabaseURL(url))
        // Wait until the lock is really held.
        var held = false
        for _ in 0..<100 where !held {
            held = try await database.read { try !$0.query("SELECT 1 AS x FROM pg_locks WHERE locktype = 'advisory' AND granted").isEmpty }
            if !held { try await Task.sleep(for: .milliseconds(10)) }
        }
        #expect(held)
        let migrator = Migrator(service: "locked", migrations: Self.base, lockTimeout: 0.5)
        let error = await #expect(throws: StorageError.self) { try await migrator.deploy(to: database) }
        #expect(error?.code == .migration)
        #expect(error?.message.contains("held by pid") == true && error?.message.contains("the-holder") == true, "\(String(describing: error))")
        released.withLockedValue { $0 = true }
        try await locked.value
        // Once released, the migrator proceeds.
        #expect(try await migrator.deploy(to: database).count == 2)
        await database.close()
        await holder.close()
    }

    @Test func aMigrationCanOptOutOfItsTransaction() async throws {
        try await TestDatabases.with(.postgres) { database in
            let migrations = [Self.base[0], Migration(id: 2, name: "index_concurrently", sqlite: "", postgres: "CREATE INDEX CONCURRENTLY item_n ON item (n)", transactional: false)]
            let applied = try await Migrator(service: "test", migrations: migrations).deploy(to: database)
            #expect(applied.count == 2)
        }
    }

    @Test(arguments: Engine.allCases)
    func resetDropsEverythingAndReapplies(_ engine: Engine) async throws {
        try await TestDatabases.with(engine) { database in
            let migrator = Migrator(service: "test", migrations: Self.base)
            try await migrator.deploy(to: database)
            try await database.write { try $0.execute("INSERT INTO item (id, n) VALUES (\("a"), \(1))") }
            #expect(try await migrator.reset(database).count == 2)
            #expect(try await count(database, "item") == 0)
            #expect(try await migrator.status(of: database).isCurrent)
        }
    }
}
