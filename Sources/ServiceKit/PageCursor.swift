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

    /// `<created_at ms>.<id>`: safe in a query string as it is. Clients treat
    /// it as opaque; its form is published (`JSONSchema.pageCursor`) so that a malformed
    /// cursor is refused before it reaches the database, and any well-formed
    /// one is a position to continue after.
    public var encoded: String { "\(createdAt).\(id)" }

    static let maxLength = 148

    /// The cursor `text` encodes; nil when it is not well formed.
    public init?(decoding text: String) {
        guard text.utf8.count <= Self.maxLength, let dot = text.firstIndex(of: ".") else { return nil }
        let time = text[..<dot], id = text[text.index(after: dot)...]
        guard (1...18).contains(time.utf8.count), time.utf8.allSatisfy({ (0x30...0x39).contains($0) }),
            time == "0" || time.first != "0", let createdAt = Int64(time),
            (1...128).contains(id.utf8.count),
            id.utf8.allSatisfy({ byte in
                (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x5F || byte == 0x2D
            })
        else { return nil }
        self.init(createdAt: createdAt, id: String(id))
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
