import AnalysisStore
import BusRuntime
import Contracts
import Foundation
import Logging
import ServiceKit
import Storage
import TestSupport
import Testing

/// `search` answers exactly the newest `limit` matches by (created_at DESC,
/// id DESC), whichever way it finds them (on SQLite a common word walks the
/// tenant's rows newest first, a rare one sorts every match), with creation
/// times that are not in insertion (rowid) order, ties on created_at, and
/// another tenant's newer matches around.
@Suite struct SearchTopKTests {
    struct Seeded: Sendable {
        var id: String
        var videoID: String
        var description: String
        var createdAt: Int64
    }

    static let tenant = "tenant-a"
    static let other = "tenant-b"
    static let base: Int64 = 1_700_000_000_000

    /// 3,000 rows of `tenant`: `harbour` in 9 of 10, `gull` in 1 of 40, `kite` in 1 of 100, `zeppelin` in 1 of 150.
    /// Creation times are a permutation of insertion order, two rows per
    /// millisecond, and ids are not in insertion order either.
    static func tenantRows() -> [Seeded] {
        let count = 3_000
        return (0..<count).map { n in
            var words: [String] = []
            if n % 10 != 3 { words.append("harbour") }
            if n % 40 == 11 { words.append("gull") }
            if n % 100 == 5 { words.append("kite") }
            if n % 150 == 7 { words.append("zeppelin") }
            words.append("clip \(n)")
            return Seeded(id: String(format: "a%05d", (n * 1_571) % count), videoID: "v\(n)", description: words.joined(separator: " "),
                          createdAt: base + Int64((n * 7_919) % count / 2))
        }
    }

    /// 2,500 rows of `other`, all with `gull` and `harbour`, 1 in 100 with
    /// `kite`, all newer than any of `tenant`'s (so a leak would be in the
    /// top), inserted between them.
    static func otherRows() -> [Seeded] {
        (0..<2_500).map { n in
            Seeded(id: String(format: "b%05d", n), videoID: "w\(n)", description: "harbour gull other \(n)" + (n % 100 == 0 ? " kite" : ""), createdAt: base + 10_000 + Int64(n))
        }
    }

    static func insert(_ rows: ArraySlice<Seeded>, tenant: String, into database: any Database) async throws {
        try await database.write(tenant: tenant) { session in
            let values: [SQL] = rows.map { "(\($0.id), \(tenant), \($0.videoID), \($0.description), \($0.createdAt), \($0.createdAt))" }
            try session.execute("INSERT INTO video_analysis (id, tenant_id, video_id, description, created_at, updated_at) VALUES \(SQL.join(values))")
        }
    }

    @Test(arguments: Engine.allCases)
    func searchReturnsExactlyTheNewestMatches(_ engine: Engine) async throws {
        // The other tenant's `gull` rows take the table's count of it past the
        // point where SQLite stops sorting every match.
        #expect(Self.otherRows().count >= AnalysisStoreService.rareMatchCount)
        try await TestDatabases.withRoles(engine, prepare: { try await AnalysisStoreSchema.schema.migrator().deploy(to: $0) }) { _, database in
            let service = AnalysisStoreService(store: ServiceStore(database: database))
            let mine = Self.tenantRows(), theirs = Self.otherRows()
            // Interleaved batches: the tenants' rowids alternate.
            for (start, otherStart) in zip(stride(from: 0, to: mine.count, by: 250), stride(from: 0, to: theirs.count, by: 250)) {
                try await Self.insert(mine[start..<min(mine.count, start + 250)], tenant: Self.tenant, into: database)
                try await Self.insert(theirs[otherStart..<min(theirs.count, otherStart + 250)], tenant: Self.other, into: database)
            }
            try await Self.insert(mine[2_500...], tenant: Self.tenant, into: database)

            let context = RequestContext(service: "analysis-store", method: "search", identity: Identity(tenant: Self.tenant), logger: Logger(label: "test"))
            let newestFirst = mine.sorted { ($0.createdAt, $0.id) > ($1.createdAt, $1.id) }
            // harbour: common everywhere; gull: common in the table, sparse in
            // the tenant (several windows); kite and zeppelin: rare (sorted),
            // kite with the other tenant's newer matches around; a limit
            // beyond the matches (the walk runs out of rows).
            for (query, limit) in [("harbour", 50), ("harbour", 500), ("HARBOUR clip", 7), ("gull", 50), ("gull", 500), ("kite", 10), ("kite", 500), ("zeppelin", 10), ("zeppelin", 500), ("harbour", 0)] {
                let words = query.lowercased().split(separator: " ").map(String.init)
                let expected = newestFirst.filter { row in words.allSatisfy { row.description.split(separator: " ").contains(Substring($0)) } }.prefix(limit)
                let found = try await service.search(.init(query: query, limit: limit), context: context).analyses
                #expect(found.map(\.id) == expected.map(\.id), "\(query) limit \(limit)")
                #expect(found.allSatisfy { $0.id.hasPrefix("a") }, "another tenant's analysis found for \(query)")
            }
            // The other tenant sees only its own.
            let theirContext = RequestContext(service: "analysis-store", method: "search", identity: Identity(tenant: Self.other), logger: Logger(label: "test"))
            let theirGulls = try await service.search(.init(query: "gull", limit: 50), context: theirContext).analyses
            #expect(theirGulls.map(\.id) == theirs.reversed().prefix(50).map(\.id))
            let theirKites = try await service.search(.init(query: "kite", limit: 500), context: theirContext).analyses
            #expect(theirKites.map(\.id) == theirs.reversed().filter { $0.description.hasSuffix(" kite") }.map(\.id))
        }
    }
}
