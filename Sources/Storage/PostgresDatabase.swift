import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// PostgreSQL through libpq: a bounded pool of connections, each used by one
/// thread at a time; libpq's blocking calls run on a thread pool of the same
/// size, never on Swift's cooperative threads.
///
/// A connection broken by a server restart is discarded; new ones are opened
/// on demand, with backoff (and jitter) while the server stays unreachable,
/// so callers get `unavailable` quickly instead of piling up.
public final class PostgresDatabase: Database {
    public let dialect = SQLDialect.postgres
    public let location: String
    let settings: DatabaseURL.PostgresSettings
    private let threadPool: NIOThreadPool
    private let state = NIOLockedValueBox(PoolState())
    /// How long a borrower waits for a connection when all are busy.
    public let acquireTimeout: TimeAmount

    private struct PoolState {
        var idle: [PostgresConnection] = []
        var open = 0
        var waiters: [(id: UInt64, continuation: CheckedContinuation<Handover, Never>)] = []
        var nextWaiter: UInt64 = 0
        /// Waiters between deciding to wait and queueing, and those of them
        /// whose time ran out meanwhile (they must not queue).
        var deciding: Set<UInt64> = []
        var expired: Set<UInt64> = []
        var failures = 0
        var retryAt: NIODeadline?
        var lastFailure: StorageError?
        var isClosed = false
    }

    private init(settings: DatabaseURL.PostgresSettings, acquireTimeout: TimeAmount) {
        self.settings = settings
        self.acquireTimeout = acquireTimeout
        self.location = DatabaseURL.postgres(settings).description
        self.threadPool = NIOThreadPool(numberOfThreads: settings.poolSize)
        threadPool.start()
    }

    /// Opens a pool and checks that the server answers and accepts the login.
    public static func connect(_ settings: DatabaseURL.PostgresSettings, acquireTimeout: TimeAmount = .seconds(10)) async throws(StorageError) -> PostgresDatabase {
        let database = PostgresDatabase(settings: settings, acquireTimeout: acquireTimeout)
        do {
            try await database.withConnection { (_: PostgresConnection) throws(StorageError) in }
        } catch {
            await database.close()
            throw error
        }
        return database
    }

    /// Whether a server answers (PQping), without taking a connection.
    public func isReachable() async -> Bool {
        let conninfo = settings.conninfo
        return (try? await threadPool.runIfActive { PostgresConnection.ping(conninfo) }) ?? false
    }

    public func read<T: Sendable>(_ work: @escaping @Sendable (any DatabaseSession) throws -> T) async throws(StorageError) -> T {
        try await transaction("BEGIN READ ONLY", tenant: nil, work)
    }

    public func write<T: Sendable>(_ work: @escaping @Sendable (any DatabaseSession) throws -> T) async throws(StorageError) -> T {
        try await retrying { () async throws(StorageError) -> T in try await self.transaction("BEGIN", tenant: nil, work) }
    }

    public func read<T: Sendable>(tenant: String, _ work: @escaping @Sendable (any DatabaseSession) throws -> T) async throws(StorageError) -> T {
        try Tenancy.check(tenant)
        return try await transaction("BEGIN READ ONLY", tenant: tenant, work)
    }

    public func write<T: Sendable>(tenant: String, _ work: @escaping @Sendable (any DatabaseSession) throws -> T) async throws(StorageError) -> T {
        try Tenancy.check(tenant)
        return try await retrying { () async throws(StorageError) -> T in try await self.transaction("BEGIN", tenant: tenant, work) }
    }

    /// Runs a write transaction again after a serialization failure or deadlock.
    private func retrying<T>(_ transaction: () async throws(StorageError) -> T) async throws(StorageError) -> T {
        var attempt = 1
        while true {
            do {
                return try await transaction()
            } catch {
                guard error.code == .retryable, attempt < maxTransactionAttempts else { throw error }
                attempt += 1
            }
        }
    }

    public func withoutTransaction<T: Sendable>(_ work: @escaping @Sendable (any DatabaseSession) throws -> T) async throws(StorageError) -> T {
        try await withConnection { (connection: PostgresConnection) throws(StorageError) -> T in
            try Self.storageErrors { try work(PostgresSession(connection: connection)) }
        }
    }

    /// With a tenant, the transaction's first statement sets `videobus.tenant`
    /// for this transaction only (`set_config(..., true)`): COMMIT or ROLLBACK
    /// ends it, so a pooled connection never carries it into the next
    /// borrower's transaction. Row-level security policies read it.
    private func transaction<T: Sendable>(_ begin: String, tenant: String?, _ work: @escaping @Sendable (any DatabaseSession) throws -> T) async throws(StorageError) -> T {
        try await withConnection { (connection: PostgresConnection) throws(StorageError) -> T in
            try connection.simple(begin)
            do throws(StorageError) {
                if let tenant {
                    _ = try connection.execute("SELECT set_config('\(Tenancy.setting)', $1, true)", [.text(tenant)])
                }
                let result = try Self.storageErrors { try work(PostgresSession(connection: connection)) }
                try connection.simple("COMMIT")
                return result
            } catch {
                if connection.isHealthy { _ = try? connection.simple("ROLLBACK") }
                throw error
            }
        }
    }

    /// Errors thrown by a transaction's work: storage errors as they are, others as `internal`.
    private static func storageErrors<T>(_ work: () throws -> T) throws(StorageError) -> T {
        do {
            return try work()
        } catch let error as StorageError {
            throw error
        } catch {
            throw StorageError(.internal, "\(error)")
        }
    }

    /// Borrows a connection, runs `body` with it on a pool thread, returns it
    /// (or discards it when broken).
    func withConnection<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws(StorageError) -> T) async throws(StorageError) -> T {
        let connection = try await checkout()
        defer { checkin(connection) }
        return try await run(on: connection, body)
    }

    /// Runs `body` with a borrowed connection on a pool thread.
    func run<T: Sendable>(on connection: PostgresConnection, _ body: @escaping @Sendable (PostgresConnection) throws(StorageError) -> T) async throws(StorageError) -> T {
        let result: Result<T, StorageError>
        do {
            result = try await threadPool.runIfActive { () -> Result<T, StorageError> in
                do throws(StorageError) { return .success(try body(connection)) } catch { return .failure(error) }
            }
        } catch {
            result = .failure(StorageError(.unavailable, "the database pool is shut down"))
        }
        return try result.get()
    }

    /// What a waiting borrower is given: a connection, the slot of a broken
    /// one (to open anew), or nothing (its time ran out, or the pool closed).
    enum Handover: Sendable {
        case connection(PostgresConnection)
        case slot
        case none
    }

    func checkout() async throws(StorageError) -> PostgresConnection {
        enum Decision { case use(PostgresConnection), open, wait(UInt64), fail(StorageError) }
        let decision = state.withLockedValue { state -> Decision in
            if state.isClosed { return .fail(StorageError(.unavailable, "\(location) is closed")) }
            if let connection = state.idle.popLast() { return .use(connection) }
            if state.open < settings.poolSize {
                if let retryAt = state.retryAt, retryAt > .now(), let failure = state.lastFailure { return .fail(failure) }
                state.open += 1
                return .open
            }
            state.nextWaiter += 1
            state.deciding.insert(state.nextWaiter)
            return .wait(state.nextWaiter)
        }
        switch decision {
        case .use(let connection):
            return connection
        case .fail(let error):
            throw error
        case .open:
            return try await openConnection()
        case .wait(let id):
            let timeout = acquireTimeout
            let timer = Task { [weak self] in
                try await Task.sleep(for: .nanoseconds(timeout.nanoseconds))
                self?.abandonWaiter(id)
            }
            let handover = await withCheckedContinuation { (continuation: CheckedContinuation<Handover, Never>) in
                // Between the decision to wait and now, a connection may have come back
                // (with no waiter queued to take it) or the wait may have run out.
                enum Now { case answered(Handover), queued }
                let now = state.withLockedValue { state -> Now in
                    state.deciding.remove(id)
                    if state.expired.remove(id) != nil || state.isClosed { return .answered(.none) }
                    if let connection = state.idle.popLast() { return .answered(.connection(connection)) }
                    state.waiters.append((id, continuation))
                    return .queued
                }
                if case .answered(let handover) = now { continuation.resume(returning: handover) }
            }
            timer.cancel()
            switch handover {
            case .connection(let connection):
                return connection
            case .slot:
                return try await openConnection()
            case .none:
                throw StorageError(.unavailable, "no connection to \(location) became free within \(timeout.nanoseconds / 1_000_000_000) s (pool_size \(settings.poolSize))")
            }
        }
    }

    private func openConnection() async throws(StorageError) -> PostgresConnection {
        let (conninfo, location) = (settings.conninfo, self.location)
        let outcome: Result<PostgresConnection, StorageError>
        do {
            outcome = try await threadPool.runIfActive { () -> Result<PostgresConnection, StorageError> in
                do throws(StorageError) { return .success(try PostgresConnection(conninfo: conninfo, location: location)) } catch { return .failure(error) }
            }
        } catch {
            outcome = .failure(StorageError(.unavailable, "the database pool is shut down"))
        }
        state.withLockedValue { state in
            switch outcome {
            case .success:
                state.failures = 0
                state.retryAt = nil
                state.lastFailure = nil
            case .failure(let error):
                state.open -= 1
                state.failures += 1
                // 50 ms doubling to 5 s, jittered: a restarting server is not hammered.
                let ceiling = Int64(min(5_000, 50 << min(state.failures - 1, 10)))
                state.retryAt = .now() + .milliseconds(Int64.random(in: (ceiling / 2)...ceiling))
                state.lastFailure = error
            }
        }
        return try outcome.get()
    }

    func checkin(_ connection: PostgresConnection) {
        let handover = state.withLockedValue { state -> (CheckedContinuation<Handover, Never>, Handover)? in
            guard !state.isClosed else {
                state.open -= 1
                return nil
            }
            guard connection.isHealthy else {
                // Its slot goes to the first waiter, which opens a fresh connection
                // rather than waiting out its time for one that will never come back.
                if !state.waiters.isEmpty { return (state.waiters.removeFirst().continuation, .slot) }
                state.open -= 1
                return nil
            }
            if !state.waiters.isEmpty { return (state.waiters.removeFirst().continuation, .connection(connection)) }
            state.idle.append(connection)
            return nil
        }
        if let (waiter, given) = handover { waiter.resume(returning: given) }
    }

    private func abandonWaiter(_ id: UInt64) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Handover, Never>? in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else {
                // Not queued yet: it gives up as soon as it would queue.
                if state.deciding.contains(id) { state.expired.insert(id) }
                return nil
            }
            return state.waiters.remove(at: index).continuation
        }
        waiter?.resume(returning: .none)
    }

    /// PostgreSQL keeps no file of its own here.
    public var filePath: String? { nil }

    public func tryRelayLock() async throws(StorageError) -> (any RelayLock)? {
        try await PostgresRelayLock.tryAcquire(on: self)
    }

    public func close() async {
        let waiters = state.withLockedValue { state in
            state.isClosed = true
            state.idle.removeAll()
            defer { state.waiters.removeAll() }
            return state.waiters.map(\.continuation)
        }
        for waiter in waiters { waiter.resume(returning: .none) }
        try? await threadPool.shutdownGracefully()
    }
}

/// A connection taken out of the pool for as long as its holder needs it
/// (for session state such as an advisory lock), then given back.
public final class HeldConnection: Sendable {
    private let database: PostgresDatabase
    private let connection: PostgresConnection
    private let released = NIOLockedValueBox(false)

    init(database: PostgresDatabase, connection: PostgresConnection) {
        self.database = database
        self.connection = connection
    }

    /// Runs `work` on this connection, outside any transaction.
    public func run<T: Sendable>(_ work: @escaping @Sendable (any DatabaseSession) throws -> T) async throws(StorageError) -> T {
        try await database.run(on: connection) { (connection: PostgresConnection) throws(StorageError) -> T in
            do {
                return try work(PostgresSession(connection: connection))
            } catch let error as StorageError {
                throw error
            } catch {
                throw StorageError(.internal, "\(error)")
            }
        }
    }

    /// Gives the connection back to the pool (once).
    public func release() async {
        guard released.withLockedValue({ done in defer { done = true }; return !done }) else { return }
        database.checkin(connection)
    }
}

extension PostgresDatabase {
    /// Takes a connection out of the pool until ``HeldConnection/release()``.
    public func holdConnection() async throws(StorageError) -> HeldConnection {
        HeldConnection(database: self, connection: try await checkout())
    }
}

/// A libpq connection seen through ``DatabaseSession``.
struct PostgresSession: DatabaseSession {
    let connection: PostgresConnection
    var dialect: SQLDialect { .postgres }

    func execute(_ sql: SQL) throws(StorageError) -> Int {
        let (text, values) = sql.rendered(for: .postgres)
        return try connection.execute(text, values).changedRows
    }

    func query(_ sql: SQL) throws(StorageError) -> [Row] {
        let (text, values) = sql.rendered(for: .postgres)
        return try connection.execute(text, values).rows
    }

    func executeScript(_ text: String) throws(StorageError) {
        try connection.simple(text)
    }
}
