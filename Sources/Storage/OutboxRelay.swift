import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Which subscriber groups (services) must receive each topic, as the
/// services' definitions declare it. A declared group receives an event even
/// while none of its instances is up: the event waits for it.
public struct DeclaredSubscriptions: Sendable, Hashable, ExpressibleByDictionaryLiteral {
    public private(set) var groupsByTopic: [String: Set<String>]

    public init(_ groupsByTopic: [String: [String]] = [:]) {
        self.groupsByTopic = groupsByTopic.mapValues(Set.init)
    }

    public init(dictionaryLiteral elements: (String, [String])...) {
        self.init(Dictionary(elements, uniquingKeysWith: +))
    }

    /// The groups declared for `topic` (empty when none is).
    public func groups(for topic: String) -> Set<String> {
        groupsByTopic[topic] ?? []
    }
}

/// Why one group did not acknowledge an event, as far as the relay cares.
public struct EventDeliveryFailure: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable, Hashable {
        /// No instance of the group could take the event (none up, none
        /// reachable, overloaded, too slow): the group waits, the event never
        /// parks for this.
        case unreachable
        /// The group received the event and refused it: counts toward parking.
        case refused
    }

    public var kind: Kind
    public var message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind == .unreachable ? "unreachable" : "refused"): \(message)" }
}

/// Delivers events to the bus; Storage's only contact with it.
public protocol EventPublisher: Sendable {
    /// The groups with a live instance subscribed to `topic` right now. Throws
    /// when that cannot be known (no registry answers): the relay then waits
    /// rather than route an event to too few groups.
    func subscribers(of topic: String) async throws -> Set<String>

    /// Delivers one event to one instance of `group`; returns only once that
    /// instance acknowledged it.
    /// `tenant`: the tenant the event belongs to, for its header.
    func publish(topic: String, payload: String, eventID: String, tenant: String, to group: String) async throws(EventDeliveryFailure)
}

/// Delivers a database's outbox events to their subscriber groups.
///
/// The first time the relay sees an event it resolves its groups, the declared
/// subscribers of its topic plus those the registry shows subscribed, and
/// records a delivery per group; an event nobody subscribes to is done at
/// once. Each group then receives its events in order of commit, on its own:
/// one group's trouble never holds another's events. A group no instance of
/// which is reachable simply waits (with backoff) however long it is away. An
/// event a group refuses is retried with growing, jittered backoff, and after
/// ``Configuration/maxAttempts`` refusals it is parked (dead-lettered) so the
/// group's later events flow on; ``OutboxInspector`` lists and replays parked
/// events. An event counts as delivered once every group acknowledged it.
///
/// After a restart the relay resumes where the table says it was. Only one
/// relay per database runs at a time (a held advisory lock on PostgreSQL; per
/// process on SQLite, whose database belongs to one process).
public final class OutboxRelay: Sendable {
    public struct Configuration: Sendable {
        /// Events read per pass (to route, and per group to deliver).
        public var batchSize: Int
        /// How often to look for new events when nobody rings ``notify()``.
        public var pollInterval: TimeAmount
        /// Wait after the first failed attempt; doubles with each further one.
        public var initialBackoff: TimeAmount
        /// Longest wait between attempts to deliver a failing event.
        public var maxBackoff: TimeAmount
        /// Refusals by one group after which an event is parked for that group.
        public var maxAttempts: Int
        /// Delivered outbox rows and inbox records older than this are pruned.
        public var retention: TimeAmount
        /// How often pruning runs.
        public var pruneInterval: TimeAmount

        public init(
            batchSize: Int = 512, pollInterval: TimeAmount = .milliseconds(200),
            initialBackoff: TimeAmount = .milliseconds(100), maxBackoff: TimeAmount = .seconds(5), maxAttempts: Int = 8,
            retention: TimeAmount = .hours(24 * 7), pruneInterval: TimeAmount = .minutes(10)
        ) {
            self.batchSize = batchSize
            self.pollInterval = pollInterval
            self.initialBackoff = initialBackoff
            self.maxBackoff = maxBackoff
            self.maxAttempts = maxAttempts
            self.retention = retention
            self.pruneInterval = pruneInterval
        }

        /// The wait before attempt `failures + 1`: exponential, capped, with
        /// jitter so that relays retrying the same group do not march in step.
        func backoff(afterFailures failures: Int) -> TimeAmount {
            let ceiling = min(maxBackoff.nanoseconds, initialBackoff.nanoseconds << min(max(failures - 1, 0), 16))
            guard ceiling > 0 else { return .zero }
            return .nanoseconds(Int64.random(in: (ceiling / 2)...ceiling))
        }
    }

    private let database: any Database
    private let publisher: any EventPublisher
    private let subscriptions: DeclaredSubscriptions
    private let configuration: Configuration
    private let logger: Logger
    private let doorbell = Doorbell()
    /// Consecutive "unreachable" failures per group: they grow the group's
    /// backoff without counting toward parking, so they are not stored.
    private let unreachableStreaks = NIOLockedValueBox<[String: Int]>([:])

    public init(
        database: any Database, publisher: any EventPublisher, subscriptions: DeclaredSubscriptions = DeclaredSubscriptions(),
        configuration: Configuration = Configuration(), logger: Logger = Logger(label: "videobus.outbox")
    ) {
        self.database = database
        self.publisher = publisher
        self.subscriptions = subscriptions
        self.configuration = configuration
        self.logger = logger
    }

    /// Wakes the relay now (call after committing events, for low latency).
    public func notify() {
        doorbell.ring()
    }

    /// Relays until cancelled. Waits while another relay holds the database.
    ///
    /// The loop routes new events; each group with pending events gets a
    /// worker of its own, which delivers until nothing of that group is due.
    /// A group whose attempts hang until their deadline so holds only itself.
    public func run() async throws {
        let lock = try await database.waitForRelayLock(logger: logger)
        do {
            try await relay(holding: lock)
        } catch {
            await lock.release()
            throw error
        }
        await lock.release()
    }

    private func relay(holding lock: any RelayLock) async throws {
        let working = NIOLockedValueBox<Set<String>>([])
        try await withThrowingDiscardingTaskGroup { workers in
            var failures = 0
            var lastPrune = NIODeadline.uptimeNanoseconds(0)
            while !Task.isCancelled {
                if NIODeadline.now() - lastPrune > configuration.pruneInterval {
                    _ = try? await prune()
                    lastPrune = .now()
                }
                do {
                    guard await lock.isHeld() else {
                        // Cancelled (shutting down): the check failed because we stop, not because the lock went.
                        if Task.isCancelled { break }
                        logger.warning("lost the relay lock (database connection lost); stopping")
                        throw StorageError(.unavailable, "the outbox relay lost its lock on \(database.location)")
                    }
                    let (routed, routingFailure) = try await routePending()
                    for group in try await groupsWithPendingEvents() {
                        guard working.withLockedValue({ $0.insert(group).inserted }) else { continue }  // it has a worker
                        workers.addTask {
                            defer { working.withLockedValue { _ = $0.remove(group) } }
                            await self.work(for: group)
                        }
                    }
                    if let routingFailure { throw routingFailure }
                    failures = 0
                    if routed < configuration.batchSize { await doorbell.wait(upTo: configuration.pollInterval) }
                } catch let error as StorageError where error.code == .unavailable && error.message.hasPrefix("the outbox relay lost") {
                    throw error
                } catch {
                    // The database or the registry failed us; a group's own failures never land here.
                    failures += 1
                    let wait = configuration.backoff(afterFailures: failures + 1)
                    logger.debug("relay pass failed (\(failures) in a row); retrying in \(wait.nanoseconds / 1_000_000) ms: \(error)")
                    try? await Task.sleep(for: .nanoseconds(max(wait.nanoseconds, TimeAmount.milliseconds(10).nanoseconds)))
                }
            }
        }
    }

    /// Delivers `group`'s due events batch after batch, then ends.
    private func work(for group: String) async {
        while !Task.isCancelled {
            do {
                let outcome = try await deliver(to: group)
                // Progress may have made more due (the loop starts a new worker if so).
                if !outcome.delivered.isEmpty { doorbell.ring() }
                if !outcome.fullBatch { return }
            } catch {
                logger.debug("delivering to \(group) failed: \(error)")
                return
            }
        }
    }

    /// One pass, without a relay loop: routes new events to their groups,
    /// then delivers each group's due events in order (groups side by side)
    /// until one fails or its batch is done; returns how many deliveries were
    /// acknowledged. A group's failures are recorded, not thrown; it throws
    /// when the database fails, or when the subscribers of a new event's
    /// topic cannot be known (after delivering what was already routed).
    /// For tests and benchmarks, while no relay runs.
    @discardableResult
    public func deliverPending() async throws -> Int {
        let (_, routingFailure) = try await routePending()
        let groups = try await groupsWithPendingEvents()
        let delivered = try await withThrowingTaskGroup(of: Int.self) { tasks in
            for group in groups { tasks.addTask { try await self.deliver(to: group).delivered.count } }
            return try await tasks.reduce(0, +)
        }
        if let routingFailure { throw routingFailure }
        return delivered
    }

    private func groupsWithPendingEvents() async throws(StorageError) -> [String] {
        try await database.read { session in
            try session.query("""
                SELECT DISTINCT subscriber FROM outbox_delivery WHERE delivered_at IS NULL AND parked_at IS NULL
                """).map { row throws(StorageError) -> String in try row["subscriber"] }
        }
    }

    /// Resolves the groups of events not routed yet, in order of commit, and
    /// records a pending delivery per group. Stops at the first event whose
    /// topic's subscribers cannot be known, so no group ever sees a later
    /// event routed before an earlier one. Returns how many events it read,
    /// and that failure.
    private func routePending() async throws -> (read: Int, failure: (any Error)?) {
        let limit = configuration.batchSize
        let events = try await database.read { session in
            try session.query("SELECT seq, topic FROM outbox WHERE routed_at IS NULL ORDER BY seq LIMIT \(raw: String(limit))").map { row throws(StorageError) -> (sequence: Int64, topic: String) in
                (try row["seq"], try row["topic"])
            }
        }
        guard !events.isEmpty else { return (0, nil) }
        var targets: [String: [String]] = [:]
        var routable = events.count
        var failure: (any Error)?
        for (index, event) in events.enumerated() where targets[event.topic] == nil {
            do {
                targets[event.topic] = try await subscriptions.groups(for: event.topic).union(publisher.subscribers(of: event.topic)).sorted()
            } catch {
                routable = index
                failure = error
                break
            }
        }
        let routed = Array(events.prefix(routable))
        if !routed.isEmpty {
            let now = Timestamp.now()
            let unsubscribed = routed.filter { targets[$0.topic]!.isEmpty }.map(\.sequence)
            let deliveries = routed.flatMap { event in targets[event.topic]!.map { (event.sequence, $0) } }
            try await database.write { session in
                for chunk in deliveries.chunked(into: 1000) {
                    let rows = SQL.join(chunk.map { sequence, group -> SQL in "(\(sequence), \(group))" })
                    try session.execute("INSERT INTO outbox_delivery (seq, subscriber) VALUES \(rows)")
                }
                try session.execute("UPDATE outbox SET routed_at = \(now) WHERE seq IN (\(SQL.list(routed.map(\.sequence))))")
                // Nobody to tell: done now, as before there were per-group deliveries.
                if !unsubscribed.isEmpty {
                    try session.execute("UPDATE outbox SET delivered_at = \(now) WHERE seq IN (\(SQL.list(unsubscribed)))")
                }
            }
        }
        return (events.count, failure)
    }

    /// Delivers `group`'s pending events in order of commit, if its first is
    /// due; returns the sequences it acknowledged. A refusal under the limit,
    /// or the group being unreachable, stops the group here until its backoff
    /// passes; a refusal at the limit parks that event and goes on.
    /// `fullBatch`: a whole batch was handled, so more may be waiting.
    private func deliver(to group: String) async throws -> (delivered: [Int64], fullBatch: Bool) {
        let limit = configuration.batchSize
        let now = Timestamp.now()
        let events = try await database.read { session -> [(event: OutboxEvent, due: Timestamp)] in
            // A group waiting out its backoff costs one index lookup, not a batch of payloads.
            let head = try session.queryFirst("""
                SELECT next_attempt_at FROM outbox_delivery
                WHERE subscriber = \(group) AND delivered_at IS NULL AND parked_at IS NULL ORDER BY seq LIMIT 1
                """)
            guard let head, try head.decode(Timestamp.self, "next_attempt_at") <= now else { return [] }
            return try session.query("""
                SELECT d.seq, d.attempts, d.next_attempt_at, o.event_id, o.topic, o.payload, o.tenant
                FROM outbox_delivery d JOIN outbox o ON o.seq = d.seq
                WHERE d.subscriber = \(group) AND d.delivered_at IS NULL AND d.parked_at IS NULL
                ORDER BY d.seq LIMIT \(raw: String(limit))
                """).map { row throws(StorageError) -> (event: OutboxEvent, due: Timestamp) in
                (OutboxEvent(sequence: try row["seq"], eventID: try row["event_id"], topic: try row["topic"], payload: try row["payload"], tenant: try row["tenant"], attempts: try row["attempts"]), try row["next_attempt_at"])
            }
        }
        var delivered: [Int64] = []
        var handled = 0
        for (event, due) in events {
            // Only a replay puts an event before one that is waiting out its backoff.
            guard due <= now else { break }
            do {
                try await publisher.publish(topic: event.topic, payload: event.payload, eventID: event.eventID, tenant: event.tenant, to: group)
                delivered.append(event.sequence)
                if let streak = unreachableStreaks.withLockedValue({ $0.removeValue(forKey: group) }) {
                    logger.info("reached \(group) again after \(streak) failed attempts")
                }
            } catch {
                if try await recordFailure(error, of: event, to: group) == .stop { break }
            }
            handled += 1
        }
        if !delivered.isEmpty { try await markDelivered(delivered, to: group) }
        return (delivered, handled == limit)
    }

    /// Records `group`'s acknowledgements, and marks delivered the events
    /// every group has now acknowledged.
    private func markDelivered(_ sequences: [Int64], to group: String) async throws(StorageError) {
        let now = Timestamp.now()
        try await database.write { session in
            if session.dialect == .postgres {
                // Two groups finishing the same event at once would each still see
                // the other's delivery pending: the row lock makes the second wait
                // for the first to commit, and then see it. (Ordered: no deadlock.)
                _ = try session.query("SELECT seq FROM outbox WHERE seq IN (\(SQL.list(sequences))) ORDER BY seq FOR UPDATE")
            }
            try session.execute("UPDATE outbox_delivery SET delivered_at = \(now) WHERE subscriber = \(group) AND seq IN (\(SQL.list(sequences)))")
            try session.execute("""
                UPDATE outbox SET delivered_at = \(now)
                WHERE seq IN (\(SQL.list(sequences))) AND delivered_at IS NULL
                  AND NOT EXISTS (SELECT 1 FROM outbox_delivery d WHERE d.seq = outbox.seq AND d.delivered_at IS NULL)
                """)
        }
    }

    private enum AfterFailure { case stop, goOn }

    /// Records why `group` did not take `event`, and when to try it again.
    private func recordFailure(_ failure: EventDeliveryFailure, of event: OutboxEvent, to group: String) async throws -> AfterFailure {
        let now = Timestamp.now()
        let message = String(failure.message.prefix(500))
        let sequence = event.sequence
        switch failure.kind {
        case .unreachable:
            let streak = unreachableStreaks.withLockedValue { streaks in
                streaks[group, default: 0] += 1
                return streaks[group]!
            }
            let next = now.adding(configuration.backoff(afterFailures: streak))
            try await database.write { session in
                try session.execute("UPDATE outbox_delivery SET next_attempt_at = \(next), last_error = \(message) WHERE seq = \(sequence) AND subscriber = \(group)")
            }
            if streak == 1 {
                logger.info("cannot reach \(group); its events wait: \(message)")
            } else {
                logger.debug("\(group) still unreachable for \(event.eventID) (\(streak) in a row): \(message)")
            }
            return .stop
        case .refused:
            let attempts = event.attempts + 1
            if attempts >= configuration.maxAttempts {
                try await database.write { session in
                    try session.execute("UPDATE outbox_delivery SET attempts = \(attempts), last_error = \(message), parked_at = \(now) WHERE seq = \(sequence) AND subscriber = \(group)")
                }
                logger.warning("parked \(event.eventID) (\(event.topic)) for \(group) after \(attempts) refusals: \(message)")
                return .goOn
            }
            let next = now.adding(configuration.backoff(afterFailures: attempts))
            try await database.write { session in
                try session.execute("UPDATE outbox_delivery SET attempts = \(attempts), last_error = \(message), next_attempt_at = \(next) WHERE seq = \(sequence) AND subscriber = \(group)")
            }
            logger.debug("\(group) refused \(event.eventID) (attempt \(attempts) of \(configuration.maxAttempts)): \(message)")
            return .stop
        }
    }

    /// Deletes delivered outbox rows (with their deliveries) and inbox records
    /// older than the retention. Parked events stay until replayed and delivered.
    @discardableResult
    public func prune(now: Timestamp = .now()) async throws(StorageError) -> (outbox: Int, inbox: Int) {
        let cutoff = Timestamp(millisecondsSince1970: now.millisecondsSince1970 - configuration.retention.nanoseconds / 1_000_000)
        return try await database.write { session in
            try session.execute("DELETE FROM outbox_delivery WHERE seq IN (SELECT seq FROM outbox WHERE delivered_at IS NOT NULL AND delivered_at < \(cutoff))")
            let outbox = try session.execute("DELETE FROM outbox WHERE delivered_at IS NOT NULL AND delivered_at < \(cutoff)")
            let inbox = try session.execute("DELETE FROM inbox WHERE processed_at < \(cutoff)")
            return (outbox, inbox)
        }
    }

    /// Events with work left: not routed yet, or waiting for a group. Parked
    /// deliveries do not count (``OutboxInspector`` reports them).
    public func pendingCount() async throws(StorageError) -> Int64 {
        try await database.read { session in
            try session.queryFirst("""
                SELECT COUNT(*) AS n FROM outbox o
                WHERE o.delivered_at IS NULL AND (o.routed_at IS NULL OR EXISTS (
                    SELECT 1 FROM outbox_delivery d WHERE d.seq = o.seq AND d.delivered_at IS NULL AND d.parked_at IS NULL))
                """)!.decode(Int64.self, "n")
        }
    }
}

extension Timestamp {
    func adding(_ amount: TimeAmount) -> Timestamp {
        Timestamp(millisecondsSince1970: millisecondsSince1970 + amount.nanoseconds / 1_000_000)
    }
}

extension Array {
    func chunked(into size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
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
