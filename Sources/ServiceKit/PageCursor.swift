import Foundation
import Storage

/// Keyset pagination for every list of every service: rows ordered newest
/// first by `(created_at, id)`, and a cursor that names the last row of a
/// page. The next page starts with a row-value comparison, which both
/// engines answer with a seek on an index over `(created_at DESC, id DESC)`;
/// an `OR` of the two columns would scan every newer row (O(n²) to page
/// through everything).
public struct PageCursor: Sendable, Hashable {
    public var createdAt: Int64
    public var id: String

    public init(createdAt: Int64, id: String) {
        self.createdAt = createdAt
        self.id = id
    }

    /// The cursor after `row`, which holds the columns `created_at` and `id`.
    public init(after row: Row) throws(StorageError) {
        self.init(createdAt: try row["created_at"], id: try row["id"])
    }

    /// Opaque text, safe in a query string as it is (base64url, no padding).
    public var encoded: String {
        Data("\(createdAt).\(id)".utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The cursor `text` encodes; nil when it is not one ``encoded`` made.
    public init?(decoding text: String) {
        guard !text.isEmpty, text.utf8.count <= 512 else { return nil }
        let standard = text.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        let padded = standard + String(repeating: "=", count: (4 - standard.count % 4) % 4)
        guard let data = Data(base64Encoded: padded), let plain = String(data: data, encoding: .utf8),
            let dot = plain.firstIndex(of: "."), let createdAt = Int64(plain[..<dot])
        else { return nil }
        let id = String(plain[plain.index(after: dot)...])
        guard !id.isEmpty else { return nil }
        self.init(createdAt: createdAt, id: id)
    }

    /// `(created_at, id) < (…, …)`, qualified by `table` when given.
    public func olderRows(table: String? = nil) -> SQL {
        let prefix = table.map { $0 + "." } ?? ""
        return "(\(raw: prefix)created_at, \(raw: prefix)id) < (\(createdAt), \(id))"
    }
}

/// One page of rows, newest first, and the cursor of the next page.
public struct KeysetPage: Sendable {
    /// Reads `limit + 1` rows to learn whether another page follows.
    /// `query(condition, fetch)` runs the list's SELECT with `WHERE condition`
    /// (always true on the first page), ordered by `created_at DESC, id DESC`,
    /// `LIMIT fetch`.
    public static func read(
        limit: Int, after cursor: PageCursor?, table: String? = nil,
        _ query: (SQL, Int) throws(StorageError) -> [Row]
    ) throws(StorageError) -> (rows: ArraySlice<Row>, next: PageCursor?) {
        guard limit > 0 else { return ([], nil) }
        let condition: SQL = cursor?.olderRows(table: table) ?? "1 = 1"
        let rows = try query(condition, limit + 1)
        let next = rows.count > limit ? try PageCursor(after: rows[limit - 1]) : nil
        return (rows.prefix(limit), next)
    }
}
