import Storage
import TestSupport
import Testing

@Suite struct PostgresRecoveryTests {
    /// Every backend of the pool killed at once, as a server restart does:
    /// calls fail `unavailable` (never crash) until fresh connections work.
    @Test func thePoolRecoversWhenItsConnectionsAreKilled() async throws {
        let (url, cleanup) = try await TestDatabases.freshURL(.postgres)
        defer { Task { await cleanup() } }
        let database = try await openDatabase(DatabaseURL(url + "?pool_size=2"))
        defer { Task { await database.close() } }
        try await database.write { try $0.executeScript("CREATE TABLE item (id TEXT PRIMARY KEY)") }
        try await database.write { try $0.execute("INSERT INTO item (id) VALUES (\("before"))") }

        let killer = try await openDatabase(DatabaseURL(url + "?pool_size=1"))
        let killed = try await killer.read { session in
            try session.query("SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        }
        await killer.close()
        #expect(killed.count >= 1)

        var failures: [StorageError.Code] = []
        var recovered = false
        for n in 0..<50 where !recovered {
            do {
                try await database.write { try $0.execute("INSERT INTO item (id) VALUES (\("after-\(n)"))") }
                recovered = true
            } catch {
                failures.append(error.code)
                try await Task.sleep(for: .milliseconds(50))  // the pool's reconnect backoff, not synchronisation
            }
        }
        #expect(recovered)
        #expect(failures.allSatisfy { $0 == .unavailable }, "failures: \(failures)")
        let count = try await database.read { try $0.queryFirst("SELECT COUNT(*) AS n FROM item")!.decode(Int64.self, "n") }
        #expect(count == 2)
    }

    /// A borrower waiting for the pool's only connection, when that one comes
    /// back broken, opens a fresh one: it never waits out the acquire limit
    /// for a connection that will not return.
    @Test func aWaiterGetsTheSlotOfABrokenConnection() async throws {
        let (url, cleanup) = try await TestDatabases.freshURL(.postgres)
        defer { Task { await cleanup() } }
        let database = try await openDatabase(DatabaseURL(url + "?pool_size=1"))
        defer { Task { await database.close() } }
        try await database.write { try $0.executeScript("CREATE TABLE item (id TEXT PRIMARY KEY)") }

        let killer = try await openDatabase(DatabaseURL(url + "?pool_size=1"))
        _ = try await killer.read { session in
            try session.query("SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()")
        }
        await killer.close()

        // The first borrows the dead connection; the others queue behind it.
        let outcomes = await withTaskGroup(of: StorageError?.self) { group in
            for n in 0..<3 {
                group.addTask {
                    do throws(StorageError) {
                        try await database.write { try $0.execute("INSERT INTO item (id) VALUES (\("item-\(n)"))") }
                        return nil
                    } catch {
                        return error
                    }
                }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        let failures = outcomes.compactMap { $0 }
        #expect(failures.allSatisfy { $0.code == .unavailable && !$0.message.contains("became free") }, "\(failures)")
        #expect(failures.count < outcomes.count, "none got a fresh connection: \(failures)")
    }
}
