import BusWire
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// One reused connection per peer instance, opened on first use, forgotten
/// when it closes. Instances whose connections keep failing are ejected for a
/// growing, jittered while, then probed again with a single attempt.
final class PeerPool: Sendable {
    private let configuration: BusNode.Configuration
    private let group: any EventLoopGroup
    private let state = NIOLockedValueBox(State())

    /// Consecutive failed connection attempts that eject an instance.
    static let ejectAfterFailures = 3

    private struct State {
        var entries: [String: Entry] = [:]
        var isClosed = false
    }

    private struct Entry {
        var connection: PeerConnection?
        /// The attempt in progress; concurrent callers share it.
        var connecting: Task<PeerConnection, any Error>?
        var failures = 0
        var ejections = 0
        var ejectedUntil: NIODeadline?
    }

    init(configuration: BusNode.Configuration, group: any EventLoopGroup) {
        self.configuration = configuration
        self.group = group
    }

    /// Calls awaiting answers from `instance` (0 without a connection): the balancer's load measure.
    func outstandingCalls(to instance: String) -> Int {
        state.withLockedValue { $0.entries[instance]?.connection?.outstandingCalls ?? 0 }
    }

    func isEjected(_ instance: String, now: NIODeadline = .now()) -> Bool {
        state.withLockedValue { state in
            guard let until = state.entries[instance]?.ejectedUntil else { return false }
            return until > now
        }
    }

    /// The connection to `record`'s instance, opening it if needed. Concurrent
    /// callers share one attempt, which counts as one failure if it fails; a
    /// caller stops waiting at its `deadline` without cancelling the attempt.
    func connection(to record: RegistryProtocol.InstanceRecord, deadline: NIODeadline) async throws(BusError) -> PeerConnection {
        let instance = record.instance
        let outcome = state.withLockedValue { state -> Result<(PeerConnection?, Task<PeerConnection, any Error>?), BusError> in
            if state.isClosed { return .failure(BusError(.unavailable, "the node is shutting down")) }
            var entry = state.entries[instance] ?? Entry()
            if let connection = entry.connection {
                // A draining peer takes no new calls; say so before anything is sent.
                if connection.isPeerDraining { return .failure(BusError(.unavailable, "\(instance) is draining")) }
                if !connection.isClosed { return .success((connection, nil)) }
                entry.connection = nil
            }
            if let connecting = entry.connecting { return .success((nil, connecting)) }
            let (configuration, group, pool) = (self.configuration, self.group, self)
            let connecting = Task {
                do {
                    let connection = try await PeerConnection.connect(host: record.host, port: record.port, configuration: configuration, group: group)
                    pool.attemptFinished(instance, .success(connection))
                    return connection
                } catch {
                    pool.attemptFinished(instance, .failure(error))
                    throw error
                }
            }
            entry.connecting = connecting
            state.entries[instance] = entry
            return .success((nil, connecting))
        }
        let (existing, attempt) = try outcome.get()
        if let existing { return existing }
        do {
            return try await Self.value(of: attempt!, until: deadline)
        } catch {
            throw error as? BusError ?? BusError(.unavailable, "cannot connect to \(instance): \(error)")
        }
    }

    /// Records the end of a connection attempt: only the attempt itself does,
    /// so a failure counts once however many callers waited for it.
    private func attemptFinished(_ instance: String, _ result: Result<PeerConnection, any Error>) {
        let orphan = state.withLockedValue { state -> PeerConnection? in
            var entry = state.entries[instance] ?? Entry()
            entry.connecting = nil
            switch result {
            case .success(let connection):
                if state.isClosed { return connection }
                entry.connection = connection
                entry.failures = 0
                entry.ejections = 0
                entry.ejectedUntil = nil
                connection.closeFuture.whenComplete { [weak self] _ in self?.forget(instance, connection) }
            case .failure:
                entry.failures += 1
                if entry.failures >= Self.ejectAfterFailures {
                    // 250 ms doubling to 30 s, with jitter so that many callers do not probe at once.
                    let ceiling = Int64(min(30_000, 250 << min(entry.ejections, 7)))
                    entry.ejectedUntil = .now() + .milliseconds(Int64.random(in: (ceiling / 2)...ceiling))
                    entry.ejections += 1
                }
            }
            state.entries[instance] = entry
            return nil
        }
        // Connected after the pool closed: nobody will use it.
        if let orphan { Task { await orphan.close() } }
    }

    private func forget(_ instance: String, _ connection: PeerConnection) {
        state.withLockedValue { state in
            guard state.entries[instance]?.connection === connection else { return }
            state.entries[instance]?.connection = nil
            // Nothing left to remember about a healthy instance that went away.
            if state.entries[instance]?.failures == 0 { state.entries[instance] = nil }
        }
    }

    /// Refuses new connections, cancels attempts in progress and closes every connection.
    func closeAll() async {
        let (connections, attempts) = state.withLockedValue { state in
            state.isClosed = true
            defer { state.entries.removeAll() }
            return (state.entries.values.compactMap(\.connection), state.entries.values.compactMap(\.connecting))
        }
        for attempt in attempts { attempt.cancel() }
        for connection in connections { await connection.close() }
    }

    /// The task's value, or a deadline-exceeded error at `deadline`, whichever
    /// comes first. The task itself goes on for its other waiters.
    ///
    /// (A task group cannot do this: it waits for all its children, and a child
    /// awaiting another task's value does not stop when cancelled.)
    static func value<T: Sendable>(of task: Task<T, any Error>, until deadline: NIODeadline) async throws -> T {
        let resumed = ResumeOnce()
        return try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let timer = Task {
                let remaining = deadline - .now()
                if remaining > .zero { try await Task.sleep(for: .nanoseconds(remaining.nanoseconds)) }
                if resumed.claim() {
                    continuation.resume(throwing: BusError(.deadlineExceeded, "deadline passed while connecting", retryable: false))
                }
            }
            Task {
                let result = await task.result
                timer.cancel()
                if resumed.claim() { continuation.resume(with: result) }
            }
        }
    }
}

/// Lets exactly one of several racers resume a continuation.
final class ResumeOnce: Sendable {
    private let done = Atomic<Bool>(false)

    /// True for the first caller only.
    func claim() -> Bool {
        !done.exchange(true, ordering: .acquiringAndReleasing)
    }
}
