import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Delivers events to the bus; Storage's only contact with it.
public protocol EventPublisher: Sendable {
    /// Delivers one event to every subscriber; returns only when all
    /// acknowledged it, throws otherwise (the relay will try again).
    func publish(topic: String, payload: String, eventID: String) async throws
}

/// Delivers a database's pending outbox events, in order of commit, marking
/// each delivered only once its subscribers acknowledged it. While delivery
/// fails it retries the same event with growing, jittered backoff; after a
/// restart it resumes from the first undelivered event. Only one relay per
/// database runs at a time (a held advisory lock on PostgreSQL; per process
/// on SQLite, whose database belongs to one process).
public final class OutboxRelay: Sendable {
    public struct Configuration: Sendable {
        /// Events read per pass.
        public var batchSize: Int
        /// How often to look for new events when nobody rings ``notify()``.
        public var pollInterval: TimeAmount
        /// Longest wait between attempts to deliver a failing event.
        public var maxBackoff: TimeAmount
        /// Delivered outbox rows and inbox records older than this are pruned.
        public var retention: TimeAmount
        /// How often pruning runs.
        public var pruneInterval: TimeAmount

        public init(batchSize: Int = 512, pollInterval: TimeAmount = .milliseconds(200), maxBackoff: TimeAmount = .seconds(5), retention: TimeAmount = .hours(24 * 7), pruneInterval: TimeAmount = .minutes(10)) {
            self.batchSize = batchSize
            self.pollInterval = pollInterval
            self.maxBackoff = maxBackoff
            self.retention = retention
            self.pruneInterval = pruneInterval
        }
    }

    private let database: any Database
    private let publisher: any EventPublisher
    private let configuration: Configuration
    private let logger: Logger
    private let doorbell = Doorbell()

    public init(database: any Database, publisher: any EventPublisher, configuration: Configuration = Configuration(), logger: Logger = Logger(label: "videobus.outbox")) {
        self.database = database
        self.publisher = publisher
        self.configuration = configuration
        self.logger = logger
    }

    /// Wakes the relay now (call after committing events, for low latency).
    public func notify() {
        doorbell.ring()
    }

    /// Relays until cancelled. Waits while another relay holds the database.
    public func run() async throws {
        let lock = try await RelayLock.acquire(for: database, logger: logger)
        defer { Task { await lock.release() } }
        var failures = 0
        var lastPrune = NIODeadline.uptimeNanoseconds(0)
        while !Task.isCancelled {
            if NIODeadline.now() - lastPrune > configuration.pruneInterval {
                _ = try? await prune()
                lastPrune = .now()
            }
            do {
                guard try await lock.isHeld() else {
                    // Cancelled (shutting down): the check failed because we stop, not because the lock went.
                    if Task.isCancelled { break }
                    logger.warning("lost the relay lock (database connection lost); stopping")
                    throw StorageError(.unavailable, "the outbox relay lost its lock on \(database.location)")
                }
                let delivered = try await deliverPending()
                failures = 0
                if delivered < configuration.batchSize { await doorbell.wait(upTo: configuration.pollInterval) }
            } catch let error as StorageError where error.code == .unavailable && error.message.hasPrefix("the outbox relay lost") {
                throw error
            } catch {
                failures += 1
                let ceiling = min(configuration.maxBackoff.nanoseconds, TimeAmount.milliseconds(50).nanoseconds << min(failures, 16))
                let wait = Int64.random(in: (ceiling / 2)...ceiling)
                logger.debug("delivery failed (attempt \(failures)); retrying in \(wait / 1_000_000) ms: \(error)")
                try? await Task.sleep(for: .nanoseconds(wait))
            }
        }
    }

    /// One pass: delivers pending events in order until one fails or none is
    /// left in this batch; returns how many were delivered. (The relay loop
    /// calls it; tests and benchmarks may too, while no relay runs.)
    @discardableResult
    public func deliverPending() async throws -> Int {
        let limit = configuration.batchSize
        let events = try await database.read { session in
            try session.query("SELECT seq, event_id, topic, payload, attempts FROM outbox WHERE delivered_at IS NULL ORDER BY seq LIMIT \(limit)").map { row throws(StorageError) in
                OutboxEvent(sequence: try row["seq"], eventID: try row["event_id"], topic: try row["topic"], payload: try row["payload"], attempts: try row["attempts"])
            }
        }
        var delivered: [Int64] = []
        var failure: (any Error)?
        for event in events {
            do {
                try await publisher.publish(topic: event.topic, payload: event.payload, eventID: event.eventID)
                delivered.append(event.sequence)
            } catch {
                // Later events wait: delivery keeps the order of commit.
                failure = error
                let message = String(describing: error).prefix(500)
                let sequence = event.sequence
                _ = try? await database.write { try $0.execute("UPDATE outbox SET attempts = attempts + 1, last_error = \(String(message)) WHERE seq = \(sequence)") }
                break
            }
        }
        if !delivered.isEmpty {
            let now = Timestamp.now()
            let sequences = delivered
            try await database.write { try $0.execute("UPDATE outbox SET delivered_at = \(now) WHERE seq IN (\(SQL.list(sequences)))") }
        }
        if let failure { throw failure }
        return delivered.count
    }

    /// Deletes delivered outbox rows and inbox records older than the retention.
    @discardableResult
    public func prune(now: Timestamp = .now()) async throws(StorageError) -> (outbox: Int, inbox: Int) {
        let cutoff = Timestamp(millisecondsSince1970: now.millisecondsSince1970 - configuration.retention.nanoseconds / 1_000_000)
        return try await database.write { session in
            let outbox = try session.execute("DELETE FROM outbox WHERE delivered_at IS NOT NULL AND delivered_at < \(cutoff)")
            let inbox = try session.execute("DELETE FROM inbox WHERE processed_at < \(cutoff)")
            return (outbox, inbox)
        }
    }

    /// Undelivered events, for status and tests.
    public func pendingCount() async throws(StorageError) -> Int64 {
        try await database.read { try $0.queryFirst("SELECT COUNT(*) AS n FROM outbox WHERE delivered_at IS NULL")!.decode(Int64.self, "n") }
    }
}

/// Wakes a waiting relay early; a ring while nobody waits is kept for the next wait.
final class Doorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: (generation: UInt64, continuation: CheckedContinuation<Void, Never>)?
        var generation: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())

    func ring() {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            guard let waiter = state.waiter else {
                state.rung = true
                return nil
            }
            state.waiter = nil
            return waiter.continuation
        }
        waiter?.resume()
    }

    /// Returns when rung (or rung since the last wait), or after `timeout`.
    func wait(upTo timeout: TimeAmount) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let generation = state.withLockedValue { state -> UInt64? in
                if state.rung {
                    state.rung = false
                    return nil
                }
                state.generation += 1
                state.waiter = (state.generation, continuation)
                return state.generation
            }
            guard let generation else { return continuation.resume() }
            Task {
                try? await Task.sleep(for: .nanoseconds(timeout.nanoseconds))
                let expired = self.state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
                    guard let waiter = state.waiter, waiter.generation == generation else { return nil }
                    state.waiter = nil
                    return waiter.continuation
                }
                expired?.resume()
            }
        }
    }
}
