import BusWire
import NIOConcurrencyHelpers
import NIOCore
import Synchronization

/// One reused connection per peer instance at its registered address, opened
/// on first use, forgotten when it closes. Instances whose connections keep
/// failing are ejected for a growing, jittered while, then probed again with
/// a single attempt.
///
/// Connections are keyed by instance *and* address: when an instance's record
/// moves to another address, calls go to the new one, never over a
/// connection to an address the instance no longer registers (the old
/// connection is retired: closed once its calls are answered).
final class PeerPool: Sendable {
    private let configuration: BusNode.Configuration
    private let group: any EventLoopGroup
    private let state = NIOLockedValueBox(State())

    /// Consecutive failed connection attempts that eject an instance.
    static let ejectAfterFailures = 3

    private struct State {
        var entries: [PeerKey: Entry] = [:]
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

    /// Calls awaiting answers from `record`'s instance (0 without a connection): the balancer's load measure.
    func outstandingCalls(to record: RegistryProtocol.InstanceRecord) -> Int {
        state.withLockedValue { $0.entries[PeerKey(record)]?.connection?.outstandingCalls ?? 0 }
    }

    func isEjected(_ record: RegistryProtocol.InstanceRecord, now: NIODeadline = .now()) -> Bool {
        state.withLockedValue { state in
            guard let until = state.entries[PeerKey(record)]?.ejectedUntil else { return false }
            return until > now
        }
    }

    /// The connection to `record`'s instance, opening it if needed. Concurrent
    /// callers share one attempt, which counts as one failure if it fails; a
    /// caller stops waiting at its `deadline` without cancelling the attempt.
    func connection(to record: RegistryProtocol.InstanceRecord, deadline: NIODeadline) async throws(BusError) -> PeerConnection {
        let instance = record.instance
        let key = PeerKey(record)
        var retired: [PeerConnection] = []
        defer { for connection in retired { Self.closeWhenIdle(connection) } }
        let outcome = state.withLockedValue { state -> Result<(PeerConnection?, Task<PeerConnection, any Error>?), BusError> in
            if state.isClosed { return .failure(BusError(.unavailable, "the node is shutting down")) }
            retired = Self.retire(instance, otherThan: key, in: &state)
            var entry = state.entries[key] ?? Entry()
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
                    // A killed instance's port may now belong to another process: nothing is sent to a stranger.
                    guard connection.welcome.node.instance == instance else {
                        await connection.close()
                        throw BusError(.unavailable, "\(record.host):\(record.port) now serves \(connection.welcome.node.instance), not \(instance)")
                    }
                    pool.attemptFinished(key, .success(connection))
                    return connection
                } catch {
                    pool.attemptFinished(key, .failure(error))
                    throw error
                }
            }
            entry.connecting = connecting
            state.entries[key] = entry
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
    private func attemptFinished(_ key: PeerKey, _ result: Result<PeerConnection, any Error>) {
        let orphan = state.withLockedValue { state -> PeerConnection? in
            var entry = state.entries[key] ?? Entry()
            entry.connecting = nil
            switch result {
            case .success(let connection):
                if state.isClosed { return connection }
                entry.connection = connection
                entry.failures = 0
                entry.ejections = 0
                entry.ejectedUntil = nil
                connection.closeFuture.whenComplete { [weak self] _ in self?.forget(key, connection) }
            case .failure:
                entry.failures += 1
                if entry.failures >= Self.ejectAfterFailures {
                    // 250 ms doubling to 30 s, with jitter so that many callers do not probe at once.
                    let ceiling = Int64(min(30_000, 250 << min(entry.ejections, 7)))
                    entry.ejectedUntil = .now() + .milliseconds(Int64.random(in: (ceiling / 2)...ceiling))
                    entry.ejections += 1
                }
            }
            state.entries[key] = entry
            return nil
        }
        // Connected after the pool closed: nobody will use it.
        if let orphan { Task { await orphan.close() } }
    }

    private func forget(_ key: PeerKey, _ connection: PeerConnection) {
        state.withLockedValue { state in
            guard state.entries[key]?.connection === connection else { return }
            state.entries[key]?.connection = nil
            // Nothing left to remember about a healthy instance that went away.
            if state.entries[key]?.failures == 0 { state.entries[key] = nil }
        }
    }

    /// Drops what the pool holds for `instance` at any address but `key`'s:
    /// the instance registered a new address. Returns the connections to retire.
    private static func retire(_ instance: String, otherThan key: PeerKey, in state: inout State) -> [PeerConnection] {
        let stale = state.entries.keys.filter { $0.instance == instance && $0 != key }
        var connections: [PeerConnection] = []
        for staleKey in stale {
            if let entry = state.entries.removeValue(forKey: staleKey) {
                entry.connecting?.cancel()
                if let connection = entry.connection { connections.append(connection) }
            }
        }
        return connections
    }

    /// Closes a retired connection once the calls already sent on it are
    /// answered (or after 30 s): they were sent while the address was current.
    private static func closeWhenIdle(_ connection: PeerConnection) {
        Task {
            let deadline = NIODeadline.now() + .seconds(30)
            while connection.outstandingCalls > 0, !connection.isClosed, NIODeadline.now() < deadline {
                try? await Task.sleep(for: .milliseconds(50))
            }
            await connection.close()
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

/// What the pool keys a connection by: an instance at one address.
struct PeerKey: Hashable, Sendable {
    var instance: String
    var host: String
    var port: Int

    init(_ record: RegistryProtocol.InstanceRecord) {
        self.instance = record.instance
        self.host = record.host
        self.port = record.port
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
