import Foundation
import GRDB
import NIOConcurrencyHelpers

/// SQLite through GRDB: a `DatabasePool` in WAL mode (readers never wait for
/// the writer), foreign keys on, a busy timeout so that writers from other
/// processes wait for each other instead of failing.
public final class SQLiteDatabase: Database {
    public let dialect = SQLDialect.sqlite
    public let location: String
    /// The database file; nil in memory.
    public let filePath: String?
    private let writer: any DatabaseWriter
    /// Every write goes through it: concurrent writes share a transaction.
    private let groupCommit: SQLiteGroupCommit
    /// The tenant of each connection's current transaction, read by `videobus_tenant()`.
    private let sessions: SQLiteTenantSessions
    /// Whether a relay serves this database, when it is in memory (a file's claim is a lock file).
    private let relayClaimed = NIOLockedValueBox(false)

    /// How long a writer waits for another process's write lock.
    public static let busyTimeout: TimeInterval = 10

    public init(location: DatabaseURL.SQLiteLocation, synchronous: DatabaseURL.SQLiteSynchronous = .normal) throws(StorageError) {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(Self.busyTimeout)
        let sessions = SQLiteTenantSessions()
        self.sessions = sessions
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = \(synchronous.rawValue.uppercased())")
            sessions.install(on: db)
        }
        do {
            switch location {
            case .memory:
                self.location = "sqlite::memory:"
                self.filePath = nil
                writer = try DatabaseQueue(configuration: configuration)
            case .file(let path):
                self.location = "sqlite:\(path)"
                self.filePath = path
                let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
                try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                writer = try DatabasePool(path: path, configuration: configuration)
            }
            groupCommit = SQLiteGroupCommit(writer: writer)
        } catch {
            throw StorageError(.unavailable, "cannot open \(Self.describe(location)): \(Self.storageError(error).message)")
        }
    }

    private static func describe(_ location: DatabaseURL.SQLiteLocation) -> String {
        switch location {
        case .memory: "sqlite::memory:"
        case .file(let path): "SQLite database \(path)"
        }
    }

    // Reads run on the calling thread, synchronously, on one of the pool's
    // reader connections: a point read takes microseconds, less than the two
    // thread hops of GRDB's async read (measured in README "Performance").

    public func read<T: Sendable>(_ work: @escaping @Sendable (any DatabaseSession) throws -> T) async throws(StorageError) -> T {
        do {
            return try readNow { db in try work(SQLiteSession(db: db)) }
        } catch {
            throw Self.storageError(error)
        }
    }

    public func write<T: Sendable>(_ work: @escaping @Sendable (any DatabaseSession) throws -> T) async throws(StorageError) -> T {
        try await retrying { () async throws -> T in try await self.groupCommit.write { db in try work(SQLiteSession(db: db)) } }
    }

    public func read<T: Sendable>(tenant: String, _ work: @escaping @Sendable (any DatabaseSession) throws -> T) async throws(StorageError) -> T {
        try Tenancy.check(tenant)
        let sessions = self.sessions
        do {
            return try readNow { db in try sessions.within(tenant, on: db) { try work(SQLiteSession(db: db)) } }
        } catch {
            throw Self.storageError(error)
        }
    }

    public func write<T: Sendable>(tenant: String, _ work: @escaping @Sendable (any DatabaseSession) throws -> T) async throws(StorageError) -> T {
        try Tenancy.check(tenant)
        let sessions = self.sessions
        return try await retrying { () async throws -> T in
            try await self.groupCommit.write { db in try sessions.within(tenant, on: db) { try work(SQLiteSession(db: db)) } }
        }
    }

    /// GRDB's synchronous read (a synchronous function, so that overload is the one called).
    private func readNow<T>(_ work: (GRDB.Database) throws -> T) throws -> T {
        try writer.read(work)
    }

    /// Runs a write transaction again after SQLite's busy-snapshot failure.
    private func retrying<T>(_ transaction: () async throws -> T) async throws(StorageError) -> T {
        var attempt = 1
        while true {
            do {
                return try await transaction()
            } catch {
                let failure = Self.storageError(error)
                guard failure.code == .retryable, attempt < maxTransactionAttempts else { throw failure }
                attempt += 1
            }
        }
    }

    public func withoutTransaction<T: Sendable>(_ work: @escaping @Sendable (any DatabaseSession) throws -> T) async throws(StorageError) -> T {
        do {
            return try await writer.writeWithoutTransaction { db in try work(SQLiteSession(db: db)) }
        } catch {
            throw Self.storageError(error)
        }
    }

    public func tryRelayLock() async throws(StorageError) -> (any RelayLock)? {
        if let filePath { return try SQLiteRelayLock.tryAcquire(file: filePath) }
        return SQLiteRelayLock.tryAcquire(instance: relayClaimed)
    }

    public func close() async {
        try? writer.close()
    }

    /// GRDB's and SQLite's errors as ``StorageError``s.
    static func storageError(_ error: any Error) -> StorageError {
        if let error = error as? StorageError { return error }
        guard let error = error as? DatabaseError else { return StorageError(.internal, "\(error)") }
        let message = error.message ?? "\(error)"
        let engineCode = "SQLITE \(error.extendedResultCode.rawValue)"
        let code: StorageError.Code
        if message.contains(Tenancy.refusalMarker) {
            // videobus_tenant() outside a session, or a tenant trigger's RAISE.
            return StorageError(.tenancy, message, sql: error.sql, engineCode: engineCode)
        }
        switch error.extendedResultCode {
        case .SQLITE_CONSTRAINT_UNIQUE, .SQLITE_CONSTRAINT_PRIMARYKEY: code = .conflict
        case .SQLITE_BUSY_SNAPSHOT: code = .retryable
        default:
            switch error.resultCode {
            case .SQLITE_CONSTRAINT: code = .constraint
            case .SQLITE_BUSY, .SQLITE_LOCKED: code = .unavailable
            case .SQLITE_ERROR: code = .invalidQuery
            case .SQLITE_CANTOPEN, .SQLITE_IOERR, .SQLITE_FULL, .SQLITE_READONLY, .SQLITE_CORRUPT, .SQLITE_NOTADB: code = .unavailable
            default: code = .internal
            }
        }
        return StorageError(code, message, sql: error.sql, engineCode: engineCode)
    }
}

/// A GRDB connection seen through ``DatabaseSession``.
struct SQLiteSession: DatabaseSession {
    let db: GRDB.Database
    var dialect: SQLDialect { .sqlite }

    func execute(_ sql: SQL) throws(StorageError) -> Int {
        let (text, values) = sql.rendered(for: .sqlite)
        try DatabaseValue.checkStorable(values, sql: text)
        do {
            // Cached: a statement is compiled once per connection, not per call.
            let statement = try db.cachedStatement(sql: text)
            try statement.execute(arguments: Self.arguments(values))
            return db.changesCount
        } catch {
            throw SQLiteDatabase.storageError(error)
        }
    }

    /// GRDB's arguments for `values`, through its non-generic initializer:
    /// the generic one instantiates a key path at run time on every call
    /// (seen in a profile of `get`: 2% of the service's time).
    static func arguments(_ values: [DatabaseValue]) -> StatementArguments {
        StatementArguments(values.map { $0.grdbValue as (any GRDB.DatabaseValueConvertible)? })
    }

    func query(_ sql: SQL) throws(StorageError) -> [Row] {
        let (text, values) = sql.rendered(for: .sqlite)
        try DatabaseValue.checkStorable(values, sql: text)
        do {
            let statement = try db.cachedStatement(sql: text)
            let columns = statement.columnNames
            return try GRDB.Row.fetchAll(statement, arguments: Self.arguments(values)).map { row in
                Row(columns: columns, values: row.databaseValues.map(DatabaseValue.init(grdb:)))
            }
        } catch {
            throw SQLiteDatabase.storageError(error)
        }
    }

    func executeScript(_ text: String) throws(StorageError) {
        do {
            try db.execute(sql: text)
        } catch {
            throw SQLiteDatabase.storageError(error)
        }
    }
}

extension DatabaseValue {
    var grdbValue: GRDB.DatabaseValue {
        switch self {
        case .null: .null
        case .integer(let value): value.databaseValue
        case .real(let value): value.databaseValue
        case .text(let value): value.databaseValue
        case .blob(let bytes): Data(bytes).databaseValue
        }
    }

    init(grdb value: GRDB.DatabaseValue) {
        switch value.storage {
        case .null: self = .null
        case .int64(let integer): self = .integer(integer)
        case .double(let real): self = .real(real)
        case .string(let text): self = .text(text)
        case .blob(let data): self = .blob(Array(data))
        }
    }
}
