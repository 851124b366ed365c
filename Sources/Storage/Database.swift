/// A service's database: SQLite or PostgreSQL behind one interface.
///
/// Work runs in a transaction on one connection, through a ``DatabaseSession``
/// that must not escape the closure. ``write(_:)`` runs the closure again after
/// a serialization failure or deadlock (``StorageError/Code/retryable``), so the
/// closure must have no effect outside the database.
///
/// Tenant data is read and written in a *tenant session*
/// (``read(tenant:_:)``, ``write(tenant:_:)``): the engine itself then
/// refuses rows of any other tenant in the tables made tenant tables by
/// ``Migration/tenantIsolation(id:tables:)`` (see ``Tenancy``). The plain
/// ``read(_:)`` and ``write(_:)`` are for system tables (outbox, inbox,
/// idempotency, migrations), which hold every tenant's rows.
public protocol Database: Sendable {
    var dialect: SQLDialect { get }
    /// Where the database is, without its password.
    var location: String { get }

    /// Runs `work` in a read-only transaction.
    @discardableResult
    func read<T: Sendable>(_ work: @escaping @Sendable (any DatabaseSession) throws -> T) async throws(StorageError) -> T

    /// Runs `work` in a read-write transaction and commits it.
    @discardableResult
    func write<T: Sendable>(_ work: @escaping @Sendable (any DatabaseSession) throws -> T) async throws(StorageError) -> T

    /// Runs `work` in a read-only transaction of `tenant`'s session: tenant
    /// tables show only `tenant`'s rows (PostgreSQL) or refuse changes to any
    /// other's (SQLite, where the SQL must still filter on `tenant_id`).
    @discardableResult
    func read<T: Sendable>(tenant: String, _ work: @escaping @Sendable (any DatabaseSession) throws -> T) async throws(StorageError) -> T

    /// Runs `work` in a read-write transaction of `tenant`'s session and commits it
    /// (retried like ``write(_:)``).
    @discardableResult
    func write<T: Sendable>(tenant: String, _ work: @escaping @Sendable (any DatabaseSession) throws -> T) async throws(StorageError) -> T

    /// Runs `work` on a connection outside any transaction (for statements that
    /// cannot run in one, such as some migrations).
    @discardableResult
    func withoutTransaction<T: Sendable>(_ work: @escaping @Sendable (any DatabaseSession) throws -> T) async throws(StorageError) -> T

    /// The file holding the database, for an engine that keeps one (SQLite
    /// on disk); nil otherwise.
    var filePath: String? { get }

    /// Takes the claim that lets one outbox relay at a time serve this
    /// database, across processes; nil while another relay holds it.
    func tryRelayLock() async throws(StorageError) -> (any RelayLock)?

    /// Closes every connection.
    func close() async
}

/// A connection inside a transaction (or outside one, for ``Database/withoutTransaction(_:)``).
public protocol DatabaseSession {
    var dialect: SQLDialect { get }

    /// Runs a statement; returns the number of rows it changed.
    @discardableResult
    func execute(_ sql: SQL) throws(StorageError) -> Int

    /// Runs a query and returns its rows.
    func query(_ sql: SQL) throws(StorageError) -> [Row]

    /// Runs several statements without values (migration scripts).
    func executeScript(_ text: String) throws(StorageError)
}

extension DatabaseSession {
    /// The first row, if any.
    public func queryFirst(_ sql: SQL) throws(StorageError) -> Row? {
        try query(sql).first
    }
}

/// How many times ``Database/write(_:)`` runs a transaction that failed with a serialization failure or deadlock.
let maxTransactionAttempts = 5
