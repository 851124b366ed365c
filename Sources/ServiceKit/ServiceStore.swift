import BusRuntime
import BusWire
import Contracts
import NIOConcurrencyHelpers
import NIOCore
import Storage

/// A service's database as its methods use it: storage errors become the
/// bus errors callers can act on, committed events wake the outbox relay,
/// and writes of requests that carry an idempotency key have one effect.
public struct ServiceStore: Sendable {
    public let database: any Database
    /// Called after a write committed (wakes the relay, which finds its events).
    public var committed: @Sendable () -> Void

    public init(database: any Database, committed: @escaping @Sendable () -> Void = {}) {
        self.database = database
        self.committed = committed
    }

    public var dialect: SQLDialect { database.dialect }

    /// Reads within `tenant`'s rows.
    public func read<T: Sendable>(tenant: String, _ work: @escaping @Sendable (any DatabaseSession) throws -> T) async throws(BusError) -> T {
        try await read(work)
    }

    /// Writes within `tenant`'s rows (see ``write(conflict:_:)``).
    public func write<T: Sendable>(
        tenant: String,
        conflict: @autoclosure () -> BusError = BusError(.conflict, "conflicting change"),
        _ work: @escaping @Sendable (any DatabaseSession) throws -> T
    ) async throws(BusError) -> T {
        try await write(conflict: conflict(), work)
    }

    public func read<T: Sendable>(_ work: @escaping @Sendable (any DatabaseSession) throws -> T) async throws(BusError) -> T {
        do {
            return try await database.read(work)
        } catch {
            throw Self.busError(error)
        }
    }

    /// Runs `work` in a write transaction. A ``BusError`` thrown by `work`
    /// rolls the transaction back and reaches the caller as it is; a unique
    /// violation becomes `conflict()`.
    public func write<T: Sendable>(
        conflict: @autoclosure () -> BusError = BusError(.conflict, "conflicting change"),
        _ work: @escaping @Sendable (any DatabaseSession) throws -> T
    ) async throws(BusError) -> T {
        let refusal = NIOLockedValueBox<BusError?>(nil)
        do {
            let result = try await database.write { session in
                do {
                    return try work(session)
                } catch let error as BusError {
                    refusal.withLockedValue { $0 = error }
                    throw error
                }
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

    /// A write that answers `method`'s request: when the request carries an
    /// idempotency key, its answer is stored in the same transaction, and a
    /// repeat (same key, same request) gets that answer without running
    /// `work` again; the same key with another request is invalid-argument.
    public func write<Request: Contract, Response: Contract>(
        answering method: BusMethod<Request, Response>, _ request: Request, context: RequestContext?,
        conflict: @autoclosure () -> BusError = BusError(.conflict, "conflicting change"),
        _ work: @escaping @Sendable (any DatabaseSession) throws -> Response
    ) async throws(BusError) -> Response {
        guard let key = context?.idempotencyKey else { return try await write(conflict: conflict(), work) }
        let hash = SHA256.hex(try JSONBody.encode(request).readableBytesView)
        let name = method.name
        // Twice at most: a concurrent request with the same key makes the
        // first attempt fail on the key's claim; the second finds its answer.
        var attempt = 1
        while true {
            do {
                let outcome: IdempotentOutcome<Response> = try await write(conflict: conflict()) { session in
                    switch try Idempotency.lookup(session, key: key, method: name, requestHash: hash) {
                    case .answered(let answer):
                        return .repeated(answer)
                    case .differentRequest:
                        throw BusError(.invalidArgument, "idempotency key \(key) was already used with a different request to \(name)")
                    case .new:
                        try Idempotency.claim(session, key: key, method: name, requestHash: hash)
                        let response = try work(session)
                        try Idempotency.answer(session, key: key, method: name, response: String(buffer: try JSONBody.encode(response)))
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
