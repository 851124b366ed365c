import GRDB
import NIOConcurrencyHelpers

/// Group commit: writes that arrive while a transaction is being committed
/// wait for it, then go in together as one transaction, each in its own
/// savepoint. A write that fails rolls back its savepoint only; the others
/// commit. Every write learns its outcome after the COMMIT (or the failure
/// of the COMMIT), so an acknowledgement never precedes its commit, and the
/// durability is the database's `synchronous` setting, as for a transaction
/// of its own.
///
/// Why: a transaction costs a WAL append and a lock round of its own, and
/// GRDB's async write a hop to the writer's queue and back; under
/// concurrent writes both are paid once per batch instead of once per write.
final class SQLiteGroupCommit: Sendable {
    private let writer: any DatabaseWriter
    private let state = NIOLockedValueBox(State())

    private struct State {
        var waiting: [PendingWrite] = []
        /// Whether a drain is scheduled or running on the writer's queue.
        var draining = false
    }

    init(writer: any DatabaseWriter) {
        self.writer = writer
    }

    /// Runs `work` in a transaction shared with the writes that arrive
    /// meanwhile, and returns once that transaction committed.
    func write<T: Sendable>(_ work: @escaping @Sendable (GRDB.Database) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let outcome = Outcome<T>()
            submit(PendingWrite(
                run: { db in outcome.result = Result { try work(db) } },
                succeeded: { outcome.succeeded },
                finish: { commitFailure in
                    switch outcome.result {
                    case .success(let value)?:
                        if let commitFailure { continuation.resume(throwing: commitFailure) } else { continuation.resume(returning: value) }
                    case .failure(let error)?:
                        continuation.resume(throwing: error)
                    case nil:
                        continuation.resume(throwing: commitFailure ?? DatabaseError(message: "the write did not run"))
                    }
                }
            ))
        }
    }

    private func submit(_ write: PendingWrite) {
        let startDrain = state.withLockedValue { state -> Bool in
            state.waiting.append(write)
            if state.draining { return false }
            state.draining = true
            return true
        }
        guard startDrain else { return }
        writer.asyncWriteWithoutTransaction { db in self.drain(db) }
    }

    /// Commits batches until no write waits.
    private func drain(_ db: GRDB.Database) {
        while true {
            let batch = state.withLockedValue { state -> [PendingWrite] in
                if state.waiting.isEmpty {
                    state.draining = false
                    return []
                }
                defer { state.waiting.removeAll(keepingCapacity: true) }
                return state.waiting
            }
            if batch.isEmpty { return }
            let failure = Self.commit(batch, on: db)
            for write in batch { write.finish(failure) }
        }
    }

    /// One transaction for the batch; returns why it did not commit, if it did not.
    private static func commit(_ batch: [PendingWrite], on db: GRDB.Database) -> (any Error)? {
        do {
            try db.inTransaction(.immediate) {
                if batch.count == 1 {
                    batch[0].run(db)
                    return batch[0].succeeded() ? .commit : .rollback
                }
                for write in batch {
                    try db.inSavepoint {
                        write.run(db)
                        return write.succeeded() ? .commit : .rollback
                    }
                }
                return .commit
            }
            return nil
        } catch {
            return error
        }
    }
}

/// A write waiting for its batch: `run` executes it (on the writer's queue),
/// `finish` reports the outcome once the batch's transaction ended.
private struct PendingWrite: Sendable {
    let run: @Sendable (GRDB.Database) -> Void
    let succeeded: @Sendable () -> Bool
    let finish: @Sendable ((any Error)?) -> Void
}

/// A write's result, set on the writer's queue and read there after the commit.
private final class Outcome<T>: @unchecked Sendable {
    var result: Result<T, any Error>?
    var succeeded: Bool {
        if case .success? = result { return true }
        return false
    }
}
