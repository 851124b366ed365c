/// What operators ask of an outbox (`videobus events`): how far behind each
/// subscriber group is, which events are parked, and putting parked events
/// back in line. Safe to use while the relay runs.
public struct OutboxInspector: Sendable {
    /// One subscriber group's backlog.
    public struct GroupStatus: Sendable, Hashable {
        public var subscriber: String
        /// Events waiting for this group (not delivered, not parked).
        public var pending: Int64
        /// When the oldest of them was committed.
        public var oldestPending: Timestamp?
        public var parked: Int64
    }

    public struct Status: Sendable, Hashable {
        /// Events whose groups the relay has not resolved yet.
        public var unrouted: Int64
        public var oldestUnrouted: Timestamp?
        /// Groups with pending or parked events, by name.
        public var groups: [GroupStatus]
    }

    /// An event a group refused until it was parked.
    public struct ParkedEvent: Sendable, Hashable {
        public var sequence: Int64
        public var eventID: String
        public var topic: String
        public var subscriber: String
        public var attempts: Int
        public var lastError: String?
        public var parkedAt: Timestamp
    }

    public let database: any Database

    public init(database: any Database) {
        self.database = database
    }

    public func status() async throws(StorageError) -> Status {
        try await database.read { session in
            let unrouted = try session.queryFirst("SELECT COUNT(*) AS n, MIN(created_at) AS oldest FROM outbox WHERE routed_at IS NULL")!
            let groups = try session.query("""
                SELECT d.subscriber,
                    SUM(CASE WHEN d.parked_at IS NULL THEN 1 ELSE 0 END) AS pending,
                    MIN(CASE WHEN d.parked_at IS NULL THEN o.created_at END) AS oldest,
                    SUM(CASE WHEN d.parked_at IS NOT NULL THEN 1 ELSE 0 END) AS parked
                FROM outbox_delivery d JOIN outbox o ON o.seq = d.seq
                WHERE d.delivered_at IS NULL
                GROUP BY d.subscriber ORDER BY d.subscriber
                """).map { row throws(StorageError) in
                GroupStatus(subscriber: try row["subscriber"], pending: try row["pending"], oldestPending: try row["oldest"], parked: try row["parked"])
            }
            return Status(unrouted: try unrouted["n"], oldestUnrouted: try unrouted["oldest"], groups: groups)
        }
    }

    /// Parked events in order of commit, of one group or of all.
    public func parked(subscriber: String? = nil) async throws(StorageError) -> [ParkedEvent] {
        let onlyGroup: SQL = subscriber.map { (group: String) -> SQL in "AND d.subscriber = \(group)" } ?? ""
        return try await database.read { session in
            try session.query("""
                SELECT d.seq, o.event_id, o.topic, d.subscriber, d.attempts, d.last_error, d.parked_at
                FROM outbox_delivery d JOIN outbox o ON o.seq = d.seq
                WHERE d.parked_at IS NOT NULL \(onlyGroup)
                ORDER BY d.seq, d.subscriber
                """).map { row throws(StorageError) in
                ParkedEvent(
                    sequence: try row["seq"], eventID: try row["event_id"], topic: try row["topic"], subscriber: try row["subscriber"],
                    attempts: try row["attempts"], lastError: try row["last_error"], parkedAt: try row["parked_at"])
            }
        }
    }

    /// Puts parked events back in line with a fresh count of attempts: the
    /// running relay delivers them again (before the group's later events,
    /// being older). `eventID` nil replays every parked event (of `subscriber`
    /// when given). Returns how many deliveries were put back.
    @discardableResult
    public func replay(eventID: String? = nil, subscriber: String? = nil) async throws(StorageError) -> Int {
        let onlyEvent: SQL = eventID.map { (id: String) -> SQL in "AND seq IN (SELECT seq FROM outbox WHERE event_id = \(id))" } ?? ""
        let onlyGroup: SQL = subscriber.map { (group: String) -> SQL in "AND subscriber = \(group)" } ?? ""
        return try await database.write { session in
            try session.execute("""
                UPDATE outbox_delivery SET parked_at = NULL, attempts = 0, next_attempt_at = 0
                WHERE parked_at IS NOT NULL \(onlyEvent) \(onlyGroup)
                """)
        }
    }
}
