import Foundation

/// Events a service must tell others about, written in the same transaction
/// as the change that causes them, and delivered later by ``OutboxRelay``:
/// a committed change never loses its event, and an event never announces a
/// change that rolled back.
public enum Outbox {
    /// The migrations that create the outbox and inbox tables: add them to the
    /// service's own, with ids that fit its sequence.
    public static func migrations(startingAt id: Int) -> [Migration] {
        [
            // `outbox_delivery` holds one row per (event, subscribing group), made
            // when the relay first resolves the event's groups (`routed_at`): each
            // group has its own attempts, backoff and dead-letter state.
            Migration(
                id: id, name: "create_outbox",
                sqlite: """
                    CREATE TABLE outbox (
                        seq INTEGER PRIMARY KEY AUTOINCREMENT,
                        event_id TEXT NOT NULL UNIQUE,
                        topic TEXT NOT NULL,
                        payload TEXT NOT NULL,
                        created_at INTEGER NOT NULL,
                        routed_at INTEGER,
                        delivered_at INTEGER
                    );
                    CREATE INDEX outbox_unrouted ON outbox (seq) WHERE routed_at IS NULL;
                    CREATE INDEX outbox_delivered ON outbox (delivered_at) WHERE delivered_at IS NOT NULL;
                    CREATE TABLE outbox_delivery (
                        seq INTEGER NOT NULL REFERENCES outbox (seq) ON DELETE CASCADE,
                        subscriber TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at INTEGER NOT NULL DEFAULT 0,
                        delivered_at INTEGER,
                        parked_at INTEGER,
                        last_error TEXT,
                        PRIMARY KEY (seq, subscriber)
                    );
                    CREATE INDEX outbox_delivery_pending ON outbox_delivery (subscriber, seq) WHERE delivered_at IS NULL AND parked_at IS NULL;
                    CREATE INDEX outbox_delivery_parked ON outbox_delivery (subscriber, seq) WHERE parked_at IS NOT NULL
                    """,
                postgres: """
                    CREATE TABLE outbox (
                        seq BIGSERIAL PRIMARY KEY,
                        event_id TEXT NOT NULL UNIQUE,
                        topic TEXT NOT NULL,
                        payload TEXT NOT NULL,
                        created_at BIGINT NOT NULL,
                        routed_at BIGINT,
                        delivered_at BIGINT
                    );
                    CREATE INDEX outbox_unrouted ON outbox (seq) WHERE routed_at IS NULL;
                    CREATE INDEX outbox_delivered ON outbox (delivered_at) WHERE delivered_at IS NOT NULL;
                    CREATE TABLE outbox_delivery (
                        seq BIGINT NOT NULL REFERENCES outbox (seq) ON DELETE CASCADE,
                        subscriber TEXT NOT NULL,
                        attempts INTEGER NOT NULL DEFAULT 0,
                        next_attempt_at BIGINT NOT NULL DEFAULT 0,
                        delivered_at BIGINT,
                        parked_at BIGINT,
                        last_error TEXT,
                        PRIMARY KEY (seq, subscriber)
                    );
                    CREATE INDEX outbox_delivery_pending ON outbox_delivery (subscriber, seq) WHERE delivered_at IS NULL AND parked_at IS NULL;
                    CREATE INDEX outbox_delivery_parked ON outbox_delivery (subscriber, seq) WHERE parked_at IS NOT NULL
                    """
            ),
            Migration(
                id: id + 1, name: "create_inbox",
                sqlite: """
                    CREATE TABLE inbox (
                        event_id TEXT NOT NULL,
                        consumer TEXT NOT NULL,
                        processed_at INTEGER NOT NULL,
                        PRIMARY KEY (event_id, consumer)
                    );
                    CREATE INDEX inbox_processed ON inbox (processed_at)
                    """,
                postgres: """
                    CREATE TABLE inbox (
                        event_id TEXT NOT NULL,
                        consumer TEXT NOT NULL,
                        processed_at BIGINT NOT NULL,
                        PRIMARY KEY (event_id, consumer)
                    );
                    CREATE INDEX inbox_processed ON inbox (processed_at)
                    """
            ),
        ]
    }

    /// The migration that gives the outbox and the inbox their `tenant`
    /// column (system tables: see ``Tenancy``). Rows written before it
    /// belong to the tenant `default`, so a deployed database upgrades in
    /// place; from then on every event names its tenant.
    public static func tenantMigration(id: Int) -> Migration {
        Migration(
            id: id, name: "outbox_inbox_tenant",
            sqlite: """
                ALTER TABLE outbox ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
                ALTER TABLE inbox ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default'
                """,
            postgres: """
                ALTER TABLE outbox ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
                ALTER TABLE outbox ALTER COLUMN tenant DROP DEFAULT;
                ALTER TABLE inbox ADD COLUMN tenant TEXT NOT NULL DEFAULT 'default';
                ALTER TABLE inbox ALTER COLUMN tenant DROP DEFAULT
                """
        )
    }

    /// Records an event of `tenant` in the current transaction.
    ///
    /// On PostgreSQL it also takes a transaction-scoped lock, so transactions
    /// that write events commit one at a time from here on: the outbox's
    /// sequence is then the order of commit, which the relay keeps. Enqueue
    /// late in a transaction to hold that lock briefly.
    @discardableResult
    public static func enqueue(_ session: any DatabaseSession, topic: String, payload: JSONText, tenant: String, eventID: String = newEventID()) throws(StorageError) -> String {
        try Tenancy.check(tenant)
        if session.dialect == .postgres {
            _ = try session.query("SELECT pg_advisory_xact_lock(hashtext('videobus.outbox.order'))")
        }
        try session.execute("""
            INSERT INTO outbox (event_id, topic, payload, tenant, created_at)
            VALUES (\(eventID), \(topic), \(payload.text), \(tenant), \(Timestamp.now()))
            """)
        return eventID
    }

    /// A new event id: time-ordered and unique (milliseconds, then randomness).
    public static func newEventID() -> String {
        let millis = UInt64(Date().timeIntervalSince1970 * 1000)
        let time = String(millis, radix: 16)
        let random = String(UInt64.random(in: 0...UInt64.max), radix: 16)
        return "evt_" + String(repeating: "0", count: max(0, 12 - time.count)) + time + String(repeating: "0", count: 16 - random.count) + random
    }
}

/// One pending event as the relay reads it.
public struct OutboxEvent: Sendable, Hashable {
    public var sequence: Int64
    public var eventID: String
    public var topic: String
    public var payload: String
    /// The tenant the event belongs to; it travels in the event's header.
    public var tenant: String
    /// Refusals by the group being delivered to, so far.
    public var attempts: Int
}

/// Records which events a consumer has applied, in the same transaction as
/// the effect, so that a redelivered event changes nothing.
public enum Inbox {
    /// Runs `effect` in a transaction that also records (`eventID`, `consumer`);
    /// if the event was already recorded, does nothing and returns false.
    /// If `effect` throws, nothing is recorded and a redelivery will try again.
    /// An event of a tenant is applied in that tenant's session.
    @discardableResult
    public static func consume(
        _ database: any Database, eventID: String, consumer: String, tenant: String? = nil,
        _ effect: @escaping @Sendable (any DatabaseSession) throws -> Void
    ) async throws(StorageError) -> Bool {
        let apply: @Sendable (any DatabaseSession) throws -> Bool = { session in
            let recorded = try session.execute("""
                INSERT INTO inbox (event_id, consumer, tenant, processed_at) VALUES (\(eventID), \(consumer), \(tenant ?? ""), \(Timestamp.now()))
                ON CONFLICT (event_id, consumer) DO NOTHING
                """)
            guard recorded == 1 else { return false }
            try effect(session)
            return true
        }
        if let tenant { return try await database.write(tenant: tenant, apply) }
        return try await database.write(apply)
    }
}
