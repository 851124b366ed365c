/// A storage failure with a code callers can switch on.
public struct StorageError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        /// A unique or primary key already holds the value.
        case conflict
        /// A serialization failure or deadlock: running the transaction again may succeed.
        case retryable
        /// The database cannot be reached (down, restarting, connection lost).
        case unavailable
        /// A foreign key, check or not-null constraint refused the change.
        case constraint
        /// The SQL is wrong for this database (syntax, unknown table or column).
        case invalidQuery
        /// A database URL that cannot be used.
        case invalidURL
        /// A value that does not convert to the type asked for.
        case decoding
        /// A value the databases cannot store as given (text with a NUL
        /// character: PostgreSQL refuses it, so neither engine takes it).
        case invalidValue
        /// The statement ran past its time limit (PostgreSQL `statement_timeout`) and was cancelled.
        case timeout
        /// Tenant isolation refused the statement: a tenant table touched
        /// outside a tenant session, or a row of another tenant written
        /// (PostgreSQL's row-level security, SQLite's tenant triggers).
        case tenancy
        /// Migrations refused (modified, unknown or failed) or the migration lock not obtained.
        case migration
        case `internal`
    }

    public var code: Code
    public var message: String
    /// The statement that failed, when one did (never its values).
    public var sql: String?
    /// PostgreSQL's SQLSTATE, or SQLite's extended result code.
    public var engineCode: String?

    public init(_ code: Code, _ message: String, sql: String? = nil, engineCode: String? = nil) {
        self.code = code
        self.message = message
        self.sql = sql
        self.engineCode = engineCode
    }

    public var description: String {
        var text = "\(code.rawValue): \(message)"
        if let engineCode { text += " [\(engineCode)]" }
        if let sql { text += " in: \(sql)" }
        return text
    }
}
