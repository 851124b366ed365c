import Foundation
import Storage
import TestSupport
import Testing

/// The claim that lets one outbox relay at a time serve a database.
@Suite struct RelayLockTests {
    @Test(arguments: Engine.allCases)
    func oneHolderAtATimeAndTheNextTakesOverOnRelease(_ engine: Engine) async throws {
        let (url, cleanup) = try await TestDatabases.freshURL(engine)
        defer { Task { await cleanup() } }
        // Two opens of one database, as two processes would have.
        let first = try await openDatabase(DatabaseURL(url)), second = try await openDatabase(DatabaseURL(url))

        let held = try #require(try await first.tryRelayLock())
        #expect(await held.isHeld())
        #expect(try await second.tryRelayLock() == nil)
        #expect(try await first.tryRelayLock() == nil, "a holder's own database does not grant it twice")

        await held.release()
        await held.release()  // a second release changes nothing
        let next = try #require(try await second.tryRelayLock())
        #expect(try await first.tryRelayLock() == nil)
        await next.release()
        await first.close()
        await second.close()
    }

    /// Another process sees the SQLite claim: `flock(1)` on the same lock file fails while it is held.
    @Test func theSQLiteClaimExcludesOtherProcesses() async throws {
        let (url, cleanup) = try await TestDatabases.freshURL(.sqlite)
        defer { Task { await cleanup() } }
        let database = try await openDatabase(DatabaseURL(url))
        let lockFile = try #require(database.filePath) + ".relay-lock"

        let held = try #require(try await database.tryRelayLock())
        let whileHeld = try await runProgram(["flock", "--nonblock", "--conflict-exit-code", "7", lockFile, "true"])
        #expect(whileHeld.status == 7, "another process took the lock: \(whileHeld.errorText)")
        await held.release()
        let afterRelease = try await runProgram(["flock", "--nonblock", "--conflict-exit-code", "7", lockFile, "true"])
        #expect(afterRelease.status == 0, "\(afterRelease.errorText)")
        await database.close()
    }

    /// A database in memory belongs to its one object: its claim is that object's.
    @Test func aDatabaseInMemoryGrantsOneClaimAtATime() async throws {
        let database = try await openDatabase(DatabaseURL("sqlite::memory:"))
        #expect(database.filePath == nil)
        let held = try #require(try await database.tryRelayLock())
        #expect(try await database.tryRelayLock() == nil)
        await held.release()
        let again = try #require(try await database.tryRelayLock())
        await again.release()
        await database.close()
    }
}
