import Foundation

/// Applies a service's migrations to its database, once, whoever starts first.
///
/// A history table records every applied migration (id, name, checksum,
/// applied time, duration). Each migration runs in its own transaction
/// (unless it opts out). Two instances starting at once never both migrate:
/// on PostgreSQL an advisory lock is held for the whole run; on SQLite each
/// migration takes the write lock (`BEGIN IMMEDIATE`) and re-checks the
/// history inside it. Waiting ends after ``lockTimeout`` with an error that
/// names the holder. Migrations modified after they were applied, or applied
/// migrations the code does not know, are refused before anything runs.
public struct Migrator: Sendable {
    public var service: String
    public var migrations: [Migration]
    /// Who migrates, for the lock holder's name (e.g. the instance id).
    public var holder: String
    public var lockTimeout: TimeInterval

    public static let historyTable = "schema_migrations"

    public init(service: String, migrations: [Migration], holder: String = "\(ProcessInfo.processInfo.hostName) pid \(ProcessInfo.processInfo.processIdentifier)", lockTimeout: TimeInterval = 30) {
        let ids = migrations.map(\.id)
        precondition(ids == ids.sorted() && Set(ids).count == ids.count && (ids.first ?? 1) > 0, "migration ids must be positive, unique and in order")
        self.service = service
        self.migrations = migrations
        self.holder = holder
        self.lockTimeout = lockTimeout
    }

    /// Compares the database with the code, changing nothing.
    public func status(of database: any Database) async throws(StorageError) -> MigrationStatus {
        let migrations = self.migrations
        return try await database.withoutTransaction { session in
            // Only looked at: a service's role may read the history but not create tables.
            let history = try Self.historyTableExists(session) ? Self.history(session) : []
            return Self.compare(migrations, with: history, dialect: session.dialect)
        }
    }

    /// Applies every pending migration; returns those it applied (none when
    /// another instance already did).
    @discardableResult
    public func deploy(to database: any Database) async throws(StorageError) -> [Migration] {
        let (migrations, service, holder, timeout) = (self.migrations, self.service, self.holder, lockTimeout)
        switch database.dialect {
        case .postgres:
            return try await database.withoutTransaction { session in
                // Exempt from a request's statement limit from the start: on a busy
                // server even creating the history table may take longer.
                try session.executeScript("SET statement_timeout = 0")
                defer { try? session.executeScript("RESET statement_timeout") }
                return try PostgresMigrationLock.hold(service: service, holder: holder, timeout: timeout, session: session) { () throws(StorageError) -> [Migration] in
                    try Self.createHistoryTable(session)
                    return try Self.apply(migrations, session: session, lockEach: false)
                }
            }
        case .sqlite:
            let sidecar = database.filePath.map { $0 + ".migrating" }
            return try await database.withoutTransaction { session in
                try SQLiteMigrationLock.announce(holder: holder, sidecar: sidecar) { () throws(StorageError) -> [Migration] in
                    try Self.createHistoryTable(session)
                    return try Self.apply(migrations, session: session, lockEach: true)
                }
            }
        }
    }

    /// Drops everything in the database, then applies every migration.
    /// Destroys all data: the CLI asks for `--force`.
    @discardableResult
    public func reset(_ database: any Database) async throws(StorageError) -> [Migration] {
        try await database.withoutTransaction { session in
            switch session.dialect {
            case .postgres:
                try session.executeScript("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
            case .sqlite:
                try session.executeScript("PRAGMA foreign_keys = OFF")
                let objects = try session.query("SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' AND type IN ('table', 'view')")
                for object in objects {
                    let type: String = try object["type"]
                    let name: String = try object["name"]
                    try session.executeScript("DROP \(type.uppercased()) IF EXISTS \"\(name.replacingOccurrences(of: "\"", with: "\"\""))\"")
                }
                try session.executeScript("PRAGMA foreign_keys = ON")
            }
        }
        return try await deploy(to: database)
    }

    // MARK: - Steps (on one connection, outside any transaction)

    static func createHistoryTable(_ session: any DatabaseSession) throws(StorageError) {
        let integer = session.dialect == .sqlite ? "INTEGER" : "BIGINT"
        try session.executeScript("""
            CREATE TABLE IF NOT EXISTS \(historyTable) (
                id \(integer) PRIMARY KEY,
                name TEXT NOT NULL,
                checksum TEXT NOT NULL,
                applied_at \(integer) NOT NULL,
                duration_ms \(integer) NOT NULL
            )
            """)
    }

    static func historyTableExists(_ session: any DatabaseSession) throws(StorageError) -> Bool {
        switch session.dialect {
        case .postgres: try session.queryFirst("SELECT to_regclass(\(historyTable))::text AS name")?["name"] as String? != nil
        case .sqlite: try session.queryFirst("SELECT name FROM sqlite_master WHERE type = 'table' AND name = \(historyTable)") != nil
        }
    }

    static func history(_ session: any DatabaseSession) throws(StorageError) -> [MigrationStatus.Applied] {
        try session.query("SELECT id, name, checksum, applied_at, duration_ms FROM \(raw: historyTable) ORDER BY id").map { row throws(StorageError) in
            MigrationStatus.Applied(
                id: try row["id"], name: try row["name"], checksum: try row["checksum"],
                appliedAt: try row["applied_at"], durationMs: try row["duration_ms"]
            )
        }
    }

    static func compare(_ migrations: [Migration], with history: [MigrationStatus.Applied], dialect: SQLDialect) -> MigrationStatus {
        var status = MigrationStatus()
        let code = Dictionary(uniqueKeysWithValues: migrations.map { ($0.id, $0) })
        let appliedIDs = Set(history.map(\.id))
        for applied in history {
            guard let migration = code[applied.id] else {
                status.unknown.append(applied)
                continue
            }
            let checksum = migration.checksum(for: dialect)
            if checksum == applied.checksum {
                status.applied.append(applied)
            } else {
                status.modified.append(MigrationStatus.Modified(applied: applied, code: migration, codeChecksum: checksum))
            }
        }
        status.pending = migrations.filter { !appliedIDs.contains($0.id) }
        return status
    }

    /// Applies what is pending, refusing first if anything was modified or is unknown.
    /// `lockEach`: take the write lock per migration and re-check inside it (SQLite).
    static func apply(_ migrations: [Migration], session: any DatabaseSession, lockEach: Bool) throws(StorageError) -> [Migration] {
        let status = compare(migrations, with: try history(session), dialect: session.dialect)
        if let refusal = status.refusal { throw refusal }
        var applied: [Migration] = []
        if session.dialect == .postgres, !status.pending.isEmpty {
            // A migration (an index over a big table) may rightly take longer than a request's statement limit.
            try session.executeScript("SET statement_timeout = 0")
        }
        defer { if session.dialect == .postgres { try? session.executeScript("RESET statement_timeout") } }
        for migration in status.pending {
            let started = Date()
            let begin = lockEach ? "BEGIN IMMEDIATE" : "BEGIN"
            if migration.transactional { try session.executeScript(begin) }
            do {
                if lockEach, try session.queryFirst("SELECT id FROM \(raw: historyTable) WHERE id = \(migration.id)") != nil {
                    // Another instance applied it while we waited for the lock.
                    if migration.transactional { try session.executeScript("COMMIT") }
                    continue
                }
                try session.executeScript(migration.sql(for: session.dialect))
                let duration = Int64(Date().timeIntervalSince(started) * 1000)
                try session.execute("""
                    INSERT INTO \(raw: historyTable) (id, name, checksum, applied_at, duration_ms)
                    VALUES (\(migration.id), \(migration.name), \(migration.checksum(for: session.dialect)), \(Timestamp.now()), \(duration))
                    """)
                if migration.transactional { try session.executeScript("COMMIT") }
                applied.append(migration)
            } catch {
                if migration.transactional { try? session.executeScript("ROLLBACK") }
                throw StorageError(.migration, "migration \(migration.id) \"\(migration.name)\" failed: \(error.message)", sql: error.sql, engineCode: error.engineCode)
            }
        }
        return applied
    }
}

/// The PostgreSQL migration lock: a session advisory lock keyed by service.
enum PostgresMigrationLock {
    static func hold<T>(service: String, holder: String, timeout: TimeInterval, session: any DatabaseSession, _ body: () throws(StorageError) -> T) throws(StorageError) -> T {
        // The holder's name, visible to whoever waits (pg_stat_activity.application_name).
        let label = String("videobus migrate \(service): \(holder)".prefix(63))
        try session.execute("SELECT set_config('application_name', \(label), false)")
        let key = "videobus.migrate.\(service)"
        let deadline = Date().addingTimeInterval(timeout)
        while true {
            let acquired: Bool = try session.queryFirst("SELECT pg_try_advisory_lock(hashtext(\(key))) AS ok")!["ok"]
            if acquired { break }
            guard Date() < deadline else {
                let holders = try session.query("""
                    SELECT a.pid, a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
                    WHERE l.locktype = 'advisory' AND l.granted AND l.objid = (hashtext(\(key))::bigint & 4294967295)::oid
                    """)
                let names = holders.map { row in "pid \((try? row.decode(Int64.self, "pid")) ?? 0) (\((try? row.decode(String.self, "application_name")) ?? "?"))" }
                throw StorageError(.migration, "the migration lock of \(service) is held by \(names.isEmpty ? "another session" : names.joined(separator: ", ")); gave up after \(Int(timeout)) s")
            }
            Thread.sleep(forTimeInterval: 0.1)  // on a pool thread: waiting for another process's lock
        }
        defer { _ = try? session.query("SELECT pg_advisory_unlock(hashtext(\(key)))") }
        return try body()
    }
}

/// SQLite's write lock needs no help to exclude other migrators; a sidecar
/// file says who holds it, for the error of whoever gives up waiting.
enum SQLiteMigrationLock {
    static func announce<T>(holder: String, sidecar: String?, _ body: () throws(StorageError) -> T) throws(StorageError) -> T {
        guard let sidecar else { return try body() }
        let existing = try? String(contentsOfFile: sidecar, encoding: .utf8)
        try? "\(holder)\n".write(toFile: sidecar, atomically: true, encoding: .utf8)
        defer { if existing == nil { try? FileManager.default.removeItem(atPath: sidecar) } }
        do {
            return try body()
        } catch where error.code == .unavailable {
            let name = existing?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "another process"
            throw StorageError(.migration, "the database is locked by \(name) (migrating) and stayed locked past the busy timeout: \(error.message)")
        }
    }
}
