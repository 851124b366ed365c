/// A statement whose values are always bound, never spliced into its text.
///
///     let sql: SQL = "SELECT * FROM video_analysis WHERE video_id = \(videoID)"
///
/// Interpolated values become placeholders (`?` on SQLite, `$1`… on
/// PostgreSQL). Identifiers and trusted fragments go in with `\(raw:)`, and
/// other `SQL` values compose with `\(sql)`.
public struct SQL: Sendable, Hashable, ExpressibleByStringInterpolation, CustomStringConvertible {
    enum Fragment: Sendable, Hashable {
        case text(String)
        case value(DatabaseValue)
    }

    var fragments: [Fragment]

    public init(stringLiteral value: String) {
        fragments = [.text(value)]
    }

    public init(stringInterpolation: Interpolation) {
        fragments = stringInterpolation.fragments
    }

    public struct Interpolation: StringInterpolationProtocol {
        var fragments: [Fragment] = []

        public init(literalCapacity: Int, interpolationCount: Int) {}

        public mutating func appendLiteral(_ literal: String) {
            fragments.append(.text(literal))
        }

        /// A value, bound as a parameter.
        public mutating func appendInterpolation<Value: DatabaseValueConvertible>(_ value: Value) {
            fragments.append(.value(value.databaseValue))
        }

        /// An optional value, bound as a parameter (NULL when nil).
        public mutating func appendInterpolation<Value: DatabaseValueConvertible>(_ value: Value?) {
            fragments.append(.value(value.databaseValue))
        }

        /// Trusted SQL text (identifiers, keywords), written as is.
        public mutating func appendInterpolation(raw text: String) {
            fragments.append(.text(text))
        }

        /// Another statement fragment, its values still bound.
        public mutating func appendInterpolation(_ sql: SQL) {
            fragments.append(contentsOf: sql.fragments)
        }
    }

    /// The text with this dialect's placeholders, and the values in order.
    public func rendered(for dialect: SQLDialect) -> (text: String, values: [DatabaseValue]) {
        var text = ""
        var values: [DatabaseValue] = []
        for fragment in fragments {
            switch fragment {
            case .text(let part):
                text += part
            case .value(let value):
                values.append(value)
                text += dialect == .postgres ? "$\(values.count)" : "?"
            }
        }
        return (text, values)
    }

    /// The text with `?` placeholders: what logs and errors show (never values).
    public var description: String { rendered(for: .sqlite).text }

    /// Statements joined by `separator`, their values still bound (`VALUES \(SQL.join(rows))`).
    public static func join(_ parts: [SQL], separator: String = ", ") -> SQL {
        var sql = SQL(stringLiteral: "")
        sql.fragments = []
        for (index, part) in parts.enumerated() {
            if index > 0 { sql.fragments.append(.text(separator)) }
            sql.fragments.append(contentsOf: part.fragments)
        }
        return sql
    }

    /// Values joined by `separator`, each bound: `\(SQL.list(ids))` in `IN (…)`.
    public static func list<Value: DatabaseValueConvertible>(_ values: [Value], separator: String = ", ") -> SQL {
        var sql = SQL(stringLiteral: "")
        sql.fragments = []
        for (index, value) in values.enumerated() {
            if index > 0 { sql.fragments.append(.text(separator)) }
            sql.fragments.append(.value(value.databaseValue))
        }
        return sql
    }
}

/// The two SQL dialects the system speaks.
public enum SQLDialect: String, Sendable, Hashable {
    case sqlite
    case postgres
}
