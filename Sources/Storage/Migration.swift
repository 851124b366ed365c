/// One step of a service's schema, with its SQL for each dialect.
public struct Migration: Sendable, Hashable {
    /// Order of application; unique and increasing within a service.
    public var id: Int
    public var name: String
    public var sqlite: String
    public var postgres: String
    /// False for SQL that cannot run in a transaction (e.g. `CREATE INDEX CONCURRENTLY`).
    public var transactional: Bool

    public init(id: Int, name: String, sqlite: String, postgres: String, transactional: Bool = true) {
        self.id = id
        self.name = name
        self.sqlite = sqlite
        self.postgres = postgres
        self.transactional = transactional
    }

    /// One SQL text for both dialects.
    public init(id: Int, name: String, sql: String, transactional: Bool = true) {
        self.init(id: id, name: name, sqlite: sql, postgres: sql, transactional: transactional)
    }

    public func sql(for dialect: SQLDialect) -> String {
        dialect == .sqlite ? sqlite : postgres
    }

    /// Identifies the SQL text that was applied: an edit after applying is detected.
    /// (FNV-1a, 64 bits: a change detector, not a cryptographic hash.)
    public func checksum(for dialect: SQLDialect) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in sql(for: dialect).utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x0100_0000_01b3
        }
        let hex = String(hash, radix: 16)
        return "fnv1a64:" + String(repeating: "0", count: 16 - hex.count) + hex
    }
}

/// What a database holds compared with the migrations the code knows.
public struct MigrationStatus: Sendable, Hashable {
    public struct Applied: Sendable, Hashable {
        public var id: Int
        public var name: String
        public var checksum: String
        public var appliedAt: Timestamp
        public var durationMs: Int64
    }

    public struct Modified: Sendable, Hashable {
        public var applied: Applied
        public var code: Migration
        public var codeChecksum: String
    }

    /// Applied and unchanged.
    public var applied: [Applied] = []
    /// Known to the code, not applied yet.
    public var pending: [Migration] = []
    /// Applied, but the code's SQL is different now.
    public var modified: [Modified] = []
    /// Applied, and unknown to the code: the database is newer than this build.
    public var unknown: [Applied] = []

    /// Nothing pending, modified or unknown.
    public var isCurrent: Bool { pending.isEmpty && modified.isEmpty && unknown.isEmpty }

    /// Why deploying must refuse, if it must.
    var refusal: StorageError? {
        if let first = modified.first {
            return StorageError(.migration, "migration \(first.applied.id) was modified after it was applied: applied as \"\(first.applied.name)\" (\(first.applied.checksum)), the code has \"\(first.code.name)\" (\(first.codeChecksum)); add a new migration instead of editing an applied one")
        }
        if let first = unknown.first {
            return StorageError(.migration, "the database has migration \(first.id) \"\(first.name)\" that this build does not know: it is newer than the code")
        }
        return nil
    }
}
