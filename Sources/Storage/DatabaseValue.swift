import Foundation

/// A value as both engines store it.
public enum DatabaseValue: Sendable, Hashable {
    case null
    case integer(Int64)
    case real(Double)
    case text(String)
    case blob([UInt8])
}

/// A Swift type with a portable database representation.
public protocol DatabaseValueConvertible: Sendable {
    var databaseValue: DatabaseValue { get }
    init(databaseValue: DatabaseValue) throws(StorageError)
}

extension DatabaseValue {
    func mismatch(_ type: Any.Type) -> StorageError {
        StorageError(.decoding, "cannot read \(self) as \(type)")
    }
}

extension String: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .text(self) }
    public init(databaseValue: DatabaseValue) throws(StorageError) {
        guard case .text(let text) = databaseValue else { throw databaseValue.mismatch(String.self) }
        self = text
    }
}

extension Int64: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .integer(self) }
    public init(databaseValue: DatabaseValue) throws(StorageError) {
        switch databaseValue {
        case .integer(let value):
            self = value
        // PostgreSQL answers SUM(bigint) as NUMERIC, i.e. text: exact when it is an integer.
        case .text(let text) where !text.contains(".") && Int64(text) != nil:
            self = Int64(text)!
        default:
            throw databaseValue.mismatch(Int64.self)
        }
    }
}

extension Int: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .integer(Int64(self)) }
    public init(databaseValue: DatabaseValue) throws(StorageError) {
        guard let int = Int(exactly: try Int64(databaseValue: databaseValue)) else { throw databaseValue.mismatch(Int.self) }
        self = int
    }
}

extension Bool: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .integer(self ? 1 : 0) }
    public init(databaseValue: DatabaseValue) throws(StorageError) {
        guard case .integer(let value) = databaseValue, value == 0 || value == 1 else { throw databaseValue.mismatch(Bool.self) }
        self = value == 1
    }
}

extension Double: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { .real(self) }
    public init(databaseValue: DatabaseValue) throws(StorageError) {
        switch databaseValue {
        case .real(let value): self = value
        case .integer(let value): self = Double(value)
        default: throw databaseValue.mismatch(Double.self)
        }
    }
}

extension Optional: DatabaseValueConvertible where Wrapped: DatabaseValueConvertible {
    public var databaseValue: DatabaseValue { self?.databaseValue ?? .null }
    public init(databaseValue: DatabaseValue) throws(StorageError) {
        if case .null = databaseValue { self = nil } else { self = try Wrapped(databaseValue: databaseValue) }
    }
}

extension DatabaseValue {
    /// Refuses text holding a NUL character before it reaches either engine:
    /// libpq would cut the text at the NUL (losing the rest without a word)
    /// and PostgreSQL cannot store one, so SQLite refuses it too and a
    /// service behaves the same on both.
    static func checkStorable(_ values: [DatabaseValue], sql: String) throws(StorageError) {
        for value in values {
            if case .text(let text) = value, text.utf8.contains(0) {
                throw StorageError(.invalidValue, "text values must not contain the NUL character (U+0000)", sql: sql)
            }
        }
    }
}
