import Foundation

/// A database location as users write it:
///
/// - `file:./data/ingest.db`, `sqlite:./data/ingest.db`, `sqlite:///abs/path.db`: SQLite file
/// - `sqlite::memory:`: SQLite in memory (tests)
/// - `postgresql://user:pass@host:5432/db?sslmode=disable&pool_size=8` (or `postgres://`):
///   PostgreSQL; `pool_size` (default 8), `synchronous_commit` (`on`, the
///   default, or `off`: see the README's durability section) and
///   `statement_timeout` (default 30 s) are ours, other parameters go to
///   libpq as they are.
///
/// SQLite also takes `?synchronous=normal|full` (see the README's durability section).
public enum DatabaseURL: Sendable, Hashable, CustomStringConvertible {
    case sqlite(SQLiteLocation, synchronous: SQLiteSynchronous)
    case postgres(PostgresSettings)

    public enum SQLiteLocation: Sendable, Hashable {
        case file(String)
        case memory
    }

    /// SQLite's durability under WAL: `normal` keeps every commit across a
    /// process crash (kill -9) but may lose the last ones on power loss;
    /// `full` syncs each commit to disk and survives power loss too.
    public enum SQLiteSynchronous: String, Sendable, Hashable {
        case normal, full
    }

    public struct PostgresSettings: Sendable, Hashable {
        public var host: String
        public var port: Int
        public var user: String?
        public var password: String?
        public var database: String?
        /// Other libpq parameters (sslmode, connect_timeout, application_name, …).
        public var parameters: [String: String]
        public var poolSize: Int
        /// Longest a statement may run before the server cancels it
        /// (`statement_timeout`, default 30 s; `0` turns the limit off).
        public var statementTimeoutMilliseconds: Int

        /// The libpq connection string (keyword=value, values quoted).
        public var conninfo: String {
            var pairs: [(String, String)] = [("host", host), ("port", String(port))]
            if let user { pairs.append(("user", user)) }
            if let password { pairs.append(("password", password)) }
            if let database { pairs.append(("dbname", database)) }
            var passed = parameters
            // Ours: server settings for every session of the pool.
            var options = ["-c statement_timeout=\(statementTimeoutMilliseconds)"]
            if let synchronousCommit = passed.removeValue(forKey: "synchronous_commit") {
                options.append("-c synchronous_commit=\(synchronousCommit)")
            }
            pairs.append(("options", options.joined(separator: " ")))
            pairs += passed.sorted { $0.key < $1.key }
            if parameters["connect_timeout"] == nil { pairs.append(("connect_timeout", "5")) }
            return pairs.map { "\($0)='\($1.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "'", with: "\\'"))'" }.joined(separator: " ")
        }
    }

    public init(_ text: String) throws(StorageError) {
        func invalid(_ why: String) -> StorageError {
            StorageError(.invalidURL, "database URL \(DatabaseURL.redact(text)) \(why)")
        }
        if text == "sqlite::memory:" {
            self = .sqlite(.memory, synchronous: .normal)
            return
        }
        for scheme in ["file:", "sqlite:"] where text.hasPrefix(scheme) {
            var rest = String(text.dropFirst(scheme.count))
            var synchronous = SQLiteSynchronous.normal
            if let question = rest.firstIndex(of: "?") {
                let query = rest[rest.index(after: question)...]
                rest = String(rest[..<question])
                for pair in query.split(separator: "&") {
                    let keyValue = pair.split(separator: "=", maxSplits: 1).map(String.init)
                    guard keyValue.count == 2, keyValue[0] == "synchronous", let value = SQLiteSynchronous(rawValue: keyValue[1].lowercased()) else {
                        throw invalid("has an unknown parameter \(pair) (SQLite takes synchronous=normal|full)")
                    }
                    synchronous = value
                }
            }
            if rest.hasPrefix("//") {
                // sqlite:///abs/path.db: an empty host, then the absolute path.
                rest.removeFirst(2)
                guard rest.hasPrefix("/") else { throw invalid("names a host; write sqlite:///absolute/path.db or sqlite:relative/path.db") }
            }
            guard !rest.isEmpty else { throw invalid("has no file path") }
            self = .sqlite(.file(rest.removingPercentEncoding ?? rest), synchronous: synchronous)
            return
        }
        guard text.hasPrefix("postgresql://") || text.hasPrefix("postgres://") else {
            throw invalid("has an unknown scheme: use file:, sqlite:, sqlite::memory: or postgresql://")
        }
        guard let components = URLComponents(string: text) else { throw invalid("is not a valid URL") }
        guard let host = components.host, !host.isEmpty else { throw invalid("has no host") }
        var parameters: [String: String] = [:]
        var poolSize = 8
        var statementTimeout = 30_000
        for item in components.queryItems ?? [] {
            guard let value = item.value else { throw invalid("has a parameter without a value: \(item.name)") }
            if item.name == "synchronous_commit", !["on", "off", "local", "remote_write", "remote_apply"].contains(value) {
                throw invalid("has synchronous_commit \(value); it must be on, off, local, remote_write or remote_apply")
            }
            if item.name == "pool_size" {
                guard let size = Int(value), (1...256).contains(size) else { throw invalid("has pool_size \(value); it must be 1...256") }
                poolSize = size
            } else if item.name == "statement_timeout" {
                guard let milliseconds = Self.milliseconds(value) else {
                    throw invalid("has statement_timeout \(value); write milliseconds (30000) or a duration with ms, s or min (30s)")
                }
                statementTimeout = milliseconds
            } else {
                parameters[item.name] = value
            }
        }
        let database = components.path.isEmpty ? nil : String(components.path.dropFirst())
        self = .postgres(PostgresSettings(
            host: host, port: components.port ?? 5432,
            user: components.user?.removingPercentEncoding, password: components.password?.removingPercentEncoding,
            database: database?.isEmpty == true ? nil : database?.removingPercentEncoding,
            parameters: parameters, poolSize: poolSize, statementTimeoutMilliseconds: statementTimeout
        ))
    }

    /// `30000`, `30000ms`, `30s` or `1min` in milliseconds (at most a day).
    static func milliseconds(_ text: String) -> Int? {
        for (suffix, factor) in [("ms", 1), ("min", 60_000), ("s", 1000), ("", 1)] where text.hasSuffix(suffix) {
            guard let number = Int(text.dropLast(suffix.count)), number >= 0 else { return nil }
            let total = number.multipliedReportingOverflow(by: factor)
            return !total.overflow && total.partialValue <= 86_400_000 ? total.partialValue : nil
        }
        return nil
    }

    public var dialect: SQLDialect {
        switch self {
        case .sqlite: .sqlite
        case .postgres: .postgres
        }
    }

    /// The location without a password, for logs and errors.
    public var description: String {
        switch self {
        case .sqlite(.memory, _): return "sqlite::memory:"
        case .sqlite(.file(let path), let synchronous): return "sqlite:\(path)" + (synchronous == .full ? "?synchronous=full" : "")
        case .postgres(let settings):
            let user = settings.user.map { $0 + (settings.password == nil ? "" : ":***") + "@" } ?? ""
            return "postgresql://\(user)\(settings.host):\(settings.port)/\(settings.database ?? "")"
        }
    }

    /// Hides the password of a URL that may not even parse.
    static func redact(_ text: String) -> String {
        guard let at = text.range(of: "@"), let schemeEnd = text.range(of: "://"), schemeEnd.upperBound < at.lowerBound else { return text }
        let credentials = text[schemeEnd.upperBound..<at.lowerBound]
        guard let colon = credentials.firstIndex(of: ":") else { return text }
        return text.replacingCharacters(in: text.index(after: colon)..<at.lowerBound, with: "***")
    }
}

/// Opens the database `url` names.
public func openDatabase(_ url: DatabaseURL) async throws(StorageError) -> any Database {
    switch url {
    case .sqlite(let location, let synchronous):
        return try SQLiteDatabase(location: location, synchronous: synchronous)
    case .postgres(let settings):
        return try await PostgresDatabase.connect(settings)
    }
}
