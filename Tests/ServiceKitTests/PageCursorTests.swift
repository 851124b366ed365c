import Contracts
import Foundation
import ServiceKit
import Storage
import TestSupport
import Testing

@Suite struct PageCursorTests {
    @Test func roundTripsAndRefusesWhatItDidNotIssue() {
        let cursor = PageCursor(createdAt: 1_763_667_705_845, id: "cmwqtdjauhoy2z9zj6dk2mdog")
        #expect(PageCursor(decoding: cursor.encoded) == cursor)
        #expect(cursor.encoded == "1763667705845.cmwqtdjauhoy2z9zj6dk2mdog")
        #expect(PageCursor(decoding: "0.a") == PageCursor(createdAt: 0, id: "a"))
        for garbage in ["", "nonsense!", "12", "12.", ".abc", "012.abc", "1.a b", "1.a.b", "-1.abc", "1234567890123456789.abc", "1." + String(repeating: "a", count: 129)] {
            #expect(PageCursor(decoding: garbage) == nil, "\(garbage)")
        }
    }

    /// What the published schema accepts is exactly what the decoder accepts.
    @Test func theDecoderAcceptsWhatThePublishedSchemaAccepts() throws {
        let schema = JSONSchema.pageCursor
        let pattern = try NSRegularExpression(pattern: try #require(schema.patterns.first))
        let samples = ["1763667705845.cmwqtdjauhoy2z9zj6dk2mdog", "0.a", "", "nonsense!", "12", "12.", ".abc", "012.abc", "1.a b", "1.a.b", "-1.abc",
                       "1234567890123456789.abc", "123456789012345678.abc", "1." + String(repeating: "a", count: 128), "1." + String(repeating: "a", count: 129), "9.A_-z"]
        for sample in samples {
            let matches = pattern.firstMatch(in: sample, range: NSRange(sample.startIndex..., in: sample)) != nil
                && (schema.minLength ?? 0) <= sample.count && sample.count <= (schema.maxLength ?? .max)
            #expect(matches == (PageCursor(decoding: sample) != nil), "\(sample)")
        }
    }

    /// Pages through rows with equal creation times in both engines, each row once, newest first.
    @Test(arguments: Engine.allCases)
    func pagesVisitEveryRowOnceNewestFirst(_ engine: Engine) async throws {
        try await TestDatabases.with(engine) { database in
            try await database.write { session in
                try session.execute("CREATE TABLE item (id TEXT PRIMARY KEY, created_at BIGINT NOT NULL)")
                try session.execute("CREATE INDEX item_newest ON item (created_at DESC, id DESC)")
                for n in 0..<23 { try session.execute("INSERT INTO item (id, created_at) VALUES (\("i\(n + 10)"), \(Int64(n / 4)))") }
            }
            var seen: [String] = []
            var cursor: PageCursor?
            repeat {
                let (rows, next) = try await database.read { [cursor] session in
                    try KeysetPage.read(limit: 5, after: cursor) { condition, fetch throws(StorageError) in
                        try session.query("SELECT id, created_at FROM item WHERE \(condition) ORDER BY created_at DESC, id DESC LIMIT \(fetch)")
                    }
                }
                #expect(rows.count <= 5)
                seen += try rows.map { row throws(StorageError) in try row.decode(String.self, "id") }
                cursor = next
            } while cursor != nil
            let expected = (0..<23).map { (id: "i\($0 + 10)", created: $0 / 4) }.sorted { ($0.created, $0.id) > ($1.created, $1.id) }.map(\.id)
            #expect(seen == expected)
            let empty = try await database.read { session in
                try KeysetPage.read(limit: 0, after: nil) { _, _ throws(StorageError) in try session.query("SELECT id FROM item") }
            }
            #expect(empty.rows.isEmpty && empty.next == nil)
        }
    }
}
