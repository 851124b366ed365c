import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Makes sure one relay at a time serves a database: a session advisory lock
/// on a connection held for the relay's life on PostgreSQL (other processes
/// included); a per-process claim on SQLite.
final class RelayLock: Sendable {
    private enum Kind: Sendable {
        case postgres(HeldConnection)
        case sqlite(String)
    }

    private let kind: Kind
    private static let sqliteClaims = NIOLockedValueBox<Set<String>>([])

    private init(_ kind: Kind) {
        self.kind = kind
    }

    /// Waits until this relay may run.
    static func acquire(for database: any Database, logger: Logger) async throws -> RelayLock {
        var announced = false
        while true {
            try Task.checkCancellation()
            if let postgres = database as? PostgresDatabase {
                let connection = try await postgres.holdConnection()
                let acquired: Bool = try await connection.run { try $0.queryFirst("SELECT pg_try_advisory_lock(hashtext('videobus.outbox.relay')) AS ok")!["ok"] }
                if acquired { return RelayLock(.postgres(connection)) }
                await connection.release()
            } else {
                let key = database.location
                let claimed = sqliteClaims.withLockedValue { $0.insert(key).inserted }
                if claimed { return RelayLock(.sqlite(key)) }
            }
            if !announced {
                logger.info("another outbox relay serves \(database.location); waiting to take over")
                announced = true
            }
            try await Task.sleep(for: .seconds(1))
        }
    }

    /// Whether the lock is still held (a lost connection loses it).
    func isHeld() async throws -> Bool {
        switch kind {
        case .sqlite: return true
        case .postgres(let connection):
            do {
                try await connection.run { _ = try $0.query("SELECT 1") }
                return true
            } catch {
                return false
            }
        }
    }

    func release() async {
        switch kind {
        case .sqlite(let key):
            _ = Self.sqliteClaims.withLockedValue { $0.remove(key) }
        case .postgres(let connection):
            _ = try? await connection.run { try $0.query("SELECT pg_advisory_unlock(hashtext('videobus.outbox.relay'))") }
            await connection.release()
        }
    }
}
