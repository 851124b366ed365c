/// One result row: values by column name.
public struct Row: Sendable, Hashable {
    public let columns: [String]
    public let values: [DatabaseValue]

    public init(columns: [String], values: [DatabaseValue]) {
        self.columns = columns
        self.values = values
    }

    /// The raw value of `column`.
    public func value(_ column: String) throws(StorageError) -> DatabaseValue {
        guard let index = columns.firstIndex(of: column) else {
            throw StorageError(.decoding, "no column \(column) in the result (columns: \(columns.joined(separator: ", ")))")
        }
        return values[index]
    }

    /// `column`, converted to `T`.
    public func decode<T: DatabaseValueConvertible>(_ type: T.Type = T.self, _ column: String) throws(StorageError) -> T {
        do {
            return try T(databaseValue: value(column))
        } catch {
            throw StorageError(.decoding, "column \(column): \(error.message)")
        }
    }

    public subscript<T: DatabaseValueConvertible>(_ column: String) -> T {
        get throws(StorageError) { try decode(T.self, column) }
    }
}
