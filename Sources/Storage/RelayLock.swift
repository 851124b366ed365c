import Foundation
import Logging
import NIOConcurrencyHelpers

/// One outbox relay's claim on a database: while it is held, no other relay
/// (in this process or another) serves that database, so events leave in
/// commit order and are marked delivered by one writer.
public protocol RelayLock: Sendable {
    /// Whether the claim still holds (a lost PostgreSQL connection loses it).
    func isHeld() async -> Bool
    /// Gives the claim up; the next waiting relay takes over.
    func release() async
}

extension Database {
    /// Waits until this relay may serve the database, checking once a second.
    func waitForRelayLock(logger: Logger) async throws -> any RelayLock {
        var announced = false
        while true {
            try Task.checkCancellation()
            if let lock = try await tryRelayLock() { return lock }
            if !announced {
                logger.info("another outbox relay serves \(location); waiting to take over")
                announced = true
            }
            try await Task.sleep(for: .seconds(1))
        }
    }
}

/// PostgreSQL: a session advisory lock on a connection held for the relay's
/// life; the server drops it with the connection, so a dead relay's process
/// frees it by itself.
final class PostgresRelayLock: RelayLock {
    private static let key = "hashtext('videobus.outbox.relay')"
    private let connection: HeldConnection

    private init(_ connection: HeldConnection) {
        self.connection = connection
    }

    static func tryAcquire(on database: PostgresDatabase) async throws(StorageError) -> PostgresRelayLock? {
        let connection = try await database.holdConnection()
        let acquired: Bool
        do {
            acquired = try await connection.run { try $0.queryFirst("SELECT pg_try_advisory_lock(\(raw: key)) AS ok")!["ok"] }
        } catch {
            await connection.release()
            throw error
        }
        if acquired { return PostgresRelayLock(connection) }
        await connection.release()
        return nil
    }

    func isHeld() async -> Bool {
        do {
            try await connection.run { _ = try $0.query("SELECT 1") }
            return true
        } catch {
            return false
        }
    }

    func release() async {
        _ = try? await connection.run { try $0.query("SELECT pg_advisory_unlock(\(raw: Self.key))") }
        await connection.release()
    }
}

/// SQLite: an exclusive `flock` on a file beside the database
/// (`<database>.relay-lock`). The lock belongs to one open file description,
/// so two relays exclude each other whether they share a process or not, and
/// the kernel drops it when its process dies. The file stays: removing it
/// would let a relay lock a new file while another holds the old one.
///
/// A database in memory cannot be shared beyond its ``SQLiteDatabase``, so
/// its claim is that object's own flag.
final class SQLiteRelayLock: RelayLock {
    private enum Claim {
        case file(descriptor: Int32)
        case instance(NIOLockedValueBox<Bool>)
    }

    private let claim: Claim
    private let released = NIOLockedValueBox(false)

    private init(_ claim: Claim) {
        self.claim = claim
    }

    static func tryAcquire(file path: String) throws(StorageError) -> SQLiteRelayLock? {
        let lockPath = path + ".relay-lock"
        let descriptor = open(lockPath, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw StorageError(.unavailable, "cannot open the relay lock \(lockPath): \(String(cString: strerror(errno)))")
        }
        if flock(descriptor, LOCK_EX | LOCK_NB) == 0 { return SQLiteRelayLock(.file(descriptor: descriptor)) }
        let failure = errno
        close(descriptor)
        guard failure == EWOULDBLOCK else {
            throw StorageError(.unavailable, "cannot lock \(lockPath): \(String(cString: strerror(failure)))")
        }
        return nil
    }

    static func tryAcquire(instance claimed: NIOLockedValueBox<Bool>) -> SQLiteRelayLock? {
        let taken = claimed.withLockedValue { claimed in
            defer { claimed = true }
            return !claimed
        }
        return taken ? SQLiteRelayLock(.instance(claimed)) : nil
    }

    func isHeld() async -> Bool { true }

    func release() async {
        // Once: a second close could hit a descriptor number reused since.
        guard released.withLockedValue({ released in defer { released = true }; return !released }) else { return }
        switch claim {
        case .file(let descriptor):
            // Closing the only descriptor of the open file description releases the lock.
            close(descriptor)
        case .instance(let claimed):
            claimed.withLockedValue { $0 = false }
        }
    }
}
