import BusRuntime
import BusWire
import Contracts
import NIOConcurrencyHelpers
import NIOCore
import Storage

/// A service's database as its methods use it: storage errors become the
/// bus errors callers can act on, committed events wake the outbox relay,
/// and writes of requests that carry an idempotency key have one effect.
///
/// Tenant data is reached only through the tenant-taking entry points
/// (``read(tenant:_:)``, ``write(tenant:conflict:_:)``,
/// ``write(answering:_:context:conflict:_:)``); there is no plain
/// `read`/`write`, so forgetting the tenant does not compile. The
/// `readSystem`/`writeSystem` pair is for system tables only.
public struct ServiceStore: Sendable {
    public let database: any Database
    /// Called after a write committed (wakes the relay, which finds its events).
    public var committed: @Sendable () -> Void

    public init(database: any Database, committed: @escaping @Sendable () -> Void = {}) {
        self.database = database
        self.committed = committed
    }

    public var dialect: SQLDialect { database.dialect }

    /// Reads within `tenant`'s session: on PostgreSQL row-level security
    /// shows only its rows; on SQLite the SQL must still filter on
    /// `tenant_id` (writes to other tenants' rows are refused on both).
    public func read<T: Sendable>(tenant: String, _ work: @escaping @Sendable (any DatabaseSession) throws -> T) async throws(BusError) -> T {
        let outcome: Result<T, BusError>
        do {
            outcome = try await database.read(tenant: tenant, Self.answering(work))
        } catch {
            throw Self.busError(error)
        }
        return try outcome.get()
    }

    /// `work` with a `BusError` it throws returned instead: the database
    /// reports any error of `work` as its own, but a refusal of the service's
    /// (not-found, invalid-argument) must reach the caller as it is. For
    /// reads only: a write that returns commits.
    private static func answering<T>(_ work: @escaping @Sendable (any DatabaseSession) throws -> T) -> @Sendable (any DatabaseSession) throws -> Result<T, BusError> {
        { session in
            do {
                return .success(try work(session))
            } catch let error as BusError {
                return .failure(error)
            }
        }
    }

    /// `work`, and where the `BusError` it throws is kept (the transaction still rolls back).
    private static func remembering<T>(
        _ work: @escaping @Sendable (any DatabaseSession) throws -> T
    ) -> (NIOLockedValueBox<BusError?>, @Sendable (any DatabaseSession) throws -> T) {
        let refusal = NIOLockedValueBox<BusError?>(nil)
        return (refusal, { session in
            do {
                return try work(session)
            } catch let error as BusError {
                refusal.withLockedValue { $0 = error }
                throw error
            }
        })
    }

    /// Writes within `tenant`'s session. A ``BusError`` thrown by `work`
    /// rolls the transaction back and reaches the caller as it is; a unique
    /// violation becomes `conflict()`.
    public func write<T: Sendable>(
        tenant: String,
        conflict: @autoclosure () -> BusError = BusError(.conflict, "conflicting change"),
        _ work: @escaping @Sendable (any DatabaseSession) throws -> T
    ) async throws(BusError) -> T {
        try await write(conflict: conflict(), in: .tenant(tenant), work)
    }

    /// Reads system tables only (outbox, inbox, idempotency: see `Tenancy`);
    /// tenant data goes through ``read(tenant:_:)``. The name is long on
    /// purpose: a forgotten tenant should not look like the normal call.
    public func readSystem<T: Sendable>(_ work: @escaping @Sendable (any DatabaseSession) throws -> T) async throws(BusError) -> T {
        let outcome: Result<T, BusError>
        do {
            outcome = try await database.read(Self.answering(work))
        } catch {
            throw Self.busError(error)
        }
        return try outcome.get()
    }

    /// Writes system tables only (see ``readSystem(_:)``); on SQLite a write
    /// to a tenant table outside a tenant session fails, on PostgreSQL row-level security refuses it.
    public func writeSystem<T: Sendable>(
        conflict: @autoclosure () -> BusError = BusError(.conflict, "conflicting change"),
        _ work: @escaping @Sendable (any DatabaseSession) throws -> T
    ) async throws(BusError) -> T {
        try await write(conflict: conflict(), in: .system, work)
    }

    private enum Scope { case tenant(String), system }

    private func write<T: Sendable>(
        conflict: @autoclosure () -> BusError, in scope: Scope,
        _ work: @escaping @Sendable (any DatabaseSession) throws -> T
    ) async throws(BusError) -> T {
        let (refusal, remembering) = Self.remembering(work)
        do {
            let result: T
            switch scope {
            case .tenant(let tenant): result = try await database.write(tenant: tenant, remembering)
            case .system: result = try await database.write(remembering)
            }
            committed()
            return result
        } catch {
            if let refused = refusal.withLockedValue({ $0 }) { throw refused }
            if error.code == .conflict { throw conflict() }
            // A connection lost during COMMIT may hide a commit that happened: no retry promise for writes.
            if error.code == .unavailable {
                throw BusError(.unavailable, "database unavailable; the change may or may not have been applied: \(error.message)", retryable: false)
            }
            throw Self.busError(error)
        }
    }

    /// A write that answers `method`'s request, in the session of the
    /// request's tenant (`unauthenticated` when it names none): when the
    /// request carries an idempotency key, its answer is stored in the same
    /// transaction, and a repeat (same tenant, key and request) gets that
    /// answer without running `work` again; the same key with another
    /// request is invalid-argument.
    public func write<Request: Contract, Response: Contract>(
        answering method: BusMethod<Request, Response>, _ request: Request, context: RequestContext?,
        conflict: @autoclosure () -> BusError = BusError(.conflict, "conflicting change"),
        _ work: @escaping @Sendable (any DatabaseSession) throws -> Response
    ) async throws(BusError) -> Response {
        guard let context else { throw BusError(.unauthenticated, "\(method.fullName) needs a tenant") }
        let tenant = try context.requireTenant().tenant
        guard let key = context.idempotencyKey else { return try await write(tenant: tenant, conflict: conflict(), work) }
        let hash = SHA256.hex(try JSONBody.encode(request).readableBytesView)
        let name = method.name
        // Twice at most: a concurrent request with the same key makes the
        // first attempt fail on the key's claim; the second finds its answer.
        var attempt = 1
        while true {
            do {
                let outcome: IdempotentOutcome<Response> = try await write(tenant: tenant, conflict: conflict()) { session in
                    switch try Idempotency.lookup(session, tenant: tenant, key: key, method: name, requestHash: hash) {
                    case .answered(let answer):
                        return .repeated(answer)
                    case .differentRequest:
                        throw BusError(.invalidArgument, "idempotency key \(key) was already used with a different request to \(name)")
                    case .new:
                        try Idempotency.claim(session, tenant: tenant, key: key, method: name, requestHash: hash)
                        let response = try work(session)
                        try Idempotency.answer(session, tenant: tenant, key: key, method: name, response: String(buffer: try JSONBody.encode(response)))
                        return .first(response)
                    }
                }
                switch outcome {
                case .first(let response): return response
                case .repeated(let answer): return try JSONBody.decode(Response.self, from: ByteBuffer(string: answer))
                }
            } catch where error.code == .conflict && attempt == 1 {
                attempt += 1
            }
        }
    }

    static func busError(_ error: StorageError) -> BusError {
        switch error.code {
        case .conflict: return BusError(.conflict, error.message)
        case .invalidValue: return BusError(.invalidArgument, error.message)
        case .timeout: return BusError(.deadlineExceeded, "the database statement ran past its time limit", retryable: false)
        // The service's own SQL reached past its tenant: a bug, not the caller's doing.
        case .tenancy: return BusError(.internal, "database error: tenant isolation refused a statement")
        // Nothing was committed: safe to send again.
        case .unavailable, .retryable: return BusError(.unavailable, "database unavailable: \(error.message)", retryable: true)
        default: return BusError(.internal, "database error: \(error.code.rawValue)")
        }
    }
}

private enum IdempotentOutcome<Response: Sendable>: Sendable {
    case first(Response)
    case repeated(String)
}
