import AnalysisStore
import Foundation
import Testing

/// `VectorIndex` against a brute-force Float64 cosine computed here, on seeded
/// random data: ids and scores to 1e-5, ties by id, refusals, filters, writes
/// (replace, remove) and concurrent use. No timings: see `videobus bench vectors`.
@Suite struct VectorIndexTests {
    /// SplitMix64 with Gaussian samples, so every run sees the same vectors.
    struct Random {
        var state: UInt64
        init(seed: UInt64) { state = seed }

        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }

        mutating func uniform() -> Double { (Double(next() >> 11) + 1) / 9_007_199_254_740_992 }

        mutating func gaussian() -> Float {
            Float((-2 * Foundation.log(uniform())).squareRoot() * cos(2 * Double.pi * uniform()))
        }

        mutating func vector(_ dimensions: Int) -> [Float] { (0..<dimensions).map { _ in gaussian() } }

        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    }

    /// What the index should hold: the vectors as given, by id.
    struct Document {
        var vector: [Float]
        var category: String
    }

    /// Cosine in Float64 over the given (unnormalised) vectors, best first, equal scores by id.
    static func bruteForce(_ documents: [String: Document], query: [Float], k: Int, category: String? = nil) -> [(id: String, score: Double)] {
        let queryNorm = query.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
        var scored: [(id: String, score: Double)] = []
        for (id, document) in documents where category == nil || document.category == category {
            var dot = 0.0
            var norm = 0.0
            for (x, q) in zip(document.vector, query) {
                dot += Double(x) * Double(q)
                norm += Double(x) * Double(x)
            }
            scored.append((id, dot / (norm.squareRoot() * queryNorm)))
        }
        scored.sort { $0.score != $1.score ? $0.score > $1.score : $0.id < $1.id }
        return Array(scored.prefix(max(0, k)))
    }

    /// The index's answer equals the brute force's: same length, each score
    /// within 1e-5 of the reference at its position, and the same ids in the
    /// same order (where two reference scores are closer than Float32 can
    /// tell apart — 2e-6 — and not exactly equal, either order is accepted).
    static func expectMatches(_ found: [VectorMatch], _ reference: [(id: String, score: Double)], _ documents: [String: Document], query: [Float], sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(found.count == reference.count, sourceLocation: sourceLocation)
        for (position, (match, expected)) in zip(found, reference).enumerated() {
            #expect(abs(Double(match.score) - expected.score) <= 1e-5, "score at \(position): \(match.score) vs \(expected.score)", sourceLocation: sourceLocation)
            if match.id != expected.id {
                // Only a near-tie may swap: the found id's own reference score must be as close.
                let own = bruteForce([match.id: documents[match.id]!], query: query, k: 1)[0].score
                #expect(abs(own - expected.score) <= 2e-6 && own != expected.score, "id at \(position): \(match.id) vs \(expected.id)", sourceLocation: sourceLocation)
            }
        }
    }

    static func filled(dimensions: Int, count: Int, categories: Int, seed: UInt64) throws -> (VectorIndex, [String: Document], Random) {
        var random = Random(seed: seed)
        let index = VectorIndex(dimensions: dimensions)
        var documents: [String: Document] = [:]
        for n in 0..<count {
            // Ids not in insertion order, so id order and row order differ.
            let id = String(format: "d%05d", (n * 7_919) % 100_003)
            let document = Document(vector: random.vector(dimensions), category: "c\(random.below(categories))")
            try index.upsert(id: id, vector: document.vector, category: document.category)
            documents[id] = document
        }
        return (index, documents, random)
    }

    @Test(arguments: [1, 3, 8, 13, 64, 384])
    func matchesBruteForceForSeveralK(dimensions: Int) throws {
        let (index, documents, seeded) = try Self.filled(dimensions: dimensions, count: 1_003, categories: 5, seed: UInt64(dimensions))
        var random = seeded
        #expect(index.count == 1_003)
        for k in [1, 2, 10, 57, 1_003] {
            for _ in 0..<3 {
                let query = random.vector(dimensions)
                Self.expectMatches(try index.search(query, k: k), Self.bruteForce(documents, query: query, k: k), documents, query: query)
                let category = "c\(random.below(5))"
                Self.expectMatches(try index.search(query, k: k, category: category), Self.bruteForce(documents, query: query, k: k, category: category), documents, query: query)
            }
        }
    }

    @Test func largeEnoughToScanInParallel() throws {
        // 4,500 × 256 floats is over the 1 Mi-float threshold: the scan is split, the parts' heaps merged.
        let (index, documents, seeded) = try Self.filled(dimensions: 256, count: 4_500, categories: 3, seed: 99)
        var random = seeded
        for k in [1, 10, 100] {
            let query = random.vector(256)
            Self.expectMatches(try index.search(query, k: k), Self.bruteForce(documents, query: query, k: k), documents, query: query)
            Self.expectMatches(try index.search(query, k: k, category: "c1"), Self.bruteForce(documents, query: query, k: k, category: "c1"), documents, query: query)
        }
        let single = VectorIndex(dimensions: 256, scanThreads: 1)
        for (id, document) in documents { try single.upsert(id: id, vector: document.vector, category: document.category) }
        let query = random.vector(256)
        #expect(try single.search(query, k: 50) == index.search(query, k: 50))
    }

    @Test func duplicateVectorsTieByIDAscending() throws {
        var random = Random(seed: 7)
        let index = VectorIndex(dimensions: 12)
        let shared = random.vector(12)
        var documents: [String: Document] = [:]
        // The same direction under several ids (scaled by powers of two, which round nothing: cosine ignores length), inserted out of id order, among others.
        for (n, id) in ["m", "c", "x", "a", "q", "b", "z"].enumerated() {
            let scaled = shared.map { $0 * Float(1 << n) }
            try index.upsert(id: id, vector: scaled, category: n % 2 == 0 ? "even" : "odd")
            documents[id] = Document(vector: scaled, category: n % 2 == 0 ? "even" : "odd")
        }
        for n in 0..<40 {
            let vector = random.vector(12)
            try index.upsert(id: "r\(n)", vector: vector, category: "even")
            documents["r\(n)"] = Document(vector: vector, category: "even")
        }
        // Querying with the shared direction: the seven copies score 1 and come first, by id.
        let found = try index.search(shared, k: 5)
        #expect(found.map(\.id) == ["a", "b", "c", "m", "q"])
        #expect(Set(found.map(\.score)).count == 1)
        #expect(abs(found[0].score - 1) <= 1e-6)
        #expect(try index.search(shared, k: 2, category: "odd").map(\.id) == ["a", "b"])  // odd: c, a, b
        // With any query, the copies tie with each other and stay in id order.
        for _ in 0..<5 {
            let query = random.vector(12)
            let all = try index.search(query, k: 47)
            let copies = all.filter { $0.id.count == 1 }
            #expect(copies.map(\.id) == ["a", "b", "c", "m", "q", "x", "z"])
            #expect(Set(copies.map(\.score)).count == 1)
            Self.expectMatches(all, Self.bruteForce(documents, query: query, k: 47), documents, query: query)
        }
    }

    @Test func refusesZeroNonFiniteAndWrongDimension() throws {
        let index = VectorIndex(dimensions: 4)
        #expect(throws: VectorIndexError.zeroVector) { try index.upsert(id: "a", vector: [0, 0, 0, 0], category: "x") }
        #expect(throws: VectorIndexError.zeroVector) { try index.upsert(id: "a", vector: [0, -0.0, 0, 0], category: "x") }
        #expect(throws: VectorIndexError.notFinite) { try index.upsert(id: "a", vector: [1, .nan, 0, 0], category: "x") }
        #expect(throws: VectorIndexError.notFinite) { try index.upsert(id: "a", vector: [1, .infinity, 0, 0], category: "x") }
        #expect(throws: VectorIndexError.notFinite) { try index.upsert(id: "a", vector: [-.infinity, 1, 0, 0], category: "x") }
        #expect(throws: VectorIndexError.wrongDimension(expected: 4, got: 3)) { try index.upsert(id: "a", vector: [1, 2, 3], category: "x") }
        #expect(throws: VectorIndexError.wrongDimension(expected: 4, got: 5)) { try index.upsert(id: "a", vector: [1, 2, 3, 4, 5], category: "x") }
        #expect(throws: VectorIndexError.wrongDimension(expected: 4, got: 0)) { try index.upsert(id: "a", vector: [], category: "x") }
        #expect(index.count == 0)

        try index.upsert(id: "a", vector: [1, 2, 3, 4], category: "x")
        #expect(throws: VectorIndexError.zeroVector) { try index.search([0, 0, 0, 0], k: 1) }
        #expect(throws: VectorIndexError.notFinite) { try index.search([.nan, 0, 0, 1], k: 1) }
        #expect(throws: VectorIndexError.wrongDimension(expected: 4, got: 2)) { try index.search([1, 2], k: 1) }
        // A refused write leaves the row as it was.
        #expect(throws: VectorIndexError.notFinite) { try index.upsert(id: "a", vector: [.nan, 0, 0, 1], category: "y") }
        #expect(try index.search([1, 2, 3, 4], k: 1, category: "x").map(\.id) == ["a"])
        #expect(index.count == 1)
        // Tiny and huge (finite) components normalise fine.
        try index.upsert(id: "tiny", vector: [Float.leastNonzeroMagnitude, 0, 0, 0], category: "x")
        try index.upsert(id: "huge", vector: [0, Float.greatestFiniteMagnitude, Float.greatestFiniteMagnitude, 0], category: "x")
        #expect(try index.search([1, 0, 0, 0], k: 1) == [VectorMatch(id: "tiny", score: 1)])
        let huge = try index.search([0, 1, 1, 0], k: 1)
        #expect(huge.map(\.id) == ["huge"] && abs(huge[0].score - 1) <= 1e-6)
    }

    @Test func kLargerThanTheCorpusZeroAndEmpty() throws {
        let empty = VectorIndex(dimensions: 3)
        #expect(try empty.search([1, 0, 0], k: 10).isEmpty)
        let (index, documents, seeded) = try Self.filled(dimensions: 5, count: 9, categories: 2, seed: 3)
        var random = seeded
        let query = random.vector(5)
        let all = try index.search(query, k: 1_000)
        #expect(all.count == 9)
        Self.expectMatches(all, Self.bruteForce(documents, query: query, k: 1_000), documents, query: query)
        let c0 = documents.values.filter { $0.category == "c0" }.count
        #expect(try index.search(query, k: 1_000, category: "c0").count == c0)
        #expect(try index.search(query, k: 0).isEmpty)
        #expect(try index.search(query, k: -1).isEmpty)
        #expect(try index.search(query, k: 5, category: "no such category").isEmpty)
        // k = 0 still validates the query.
        #expect(throws: VectorIndexError.zeroVector) { try index.search([0, 0, 0, 0, 0], k: 0) }
    }

    @Test func upsertReplacesVectorAndCategory() throws {
        let (index, seededDocuments, seeded) = try Self.filled(dimensions: 16, count: 200, categories: 4, seed: 11)
        var documents = seededDocuments
        var random = seeded
        let ids = documents.keys.sorted()
        for id in ids.prefix(60) {
            let replacement = Document(vector: random.vector(16), category: random.below(2) == 0 ? "c\(random.below(4))" : "new")
            try index.upsert(id: id, vector: replacement.vector, category: replacement.category)
            documents[id] = replacement
        }
        #expect(index.count == 200)
        // The replaced row answers with its new vector, under its new category only.
        let target = ids[5]
        let exact = try index.search(documents[target]!.vector, k: 1, category: documents[target]!.category)
        #expect(exact.map(\.id) == [target])
        for category in ["c0", "c1", "c2", "c3", "new"] where category != documents[target]!.category {
            #expect(try !index.search(documents[target]!.vector, k: 300, category: category).contains { $0.id == target })
        }
        for category in [nil, "c0", "c2", "new"] {
            let query = random.vector(16)
            Self.expectMatches(try index.search(query, k: 25, category: category), Self.bruteForce(documents, query: query, k: 25, category: category), documents, query: query)
        }
    }

    @Test func removeThenSearchEqualsBruteForceOverTheRest() throws {
        let (index, seededDocuments, seeded) = try Self.filled(dimensions: 24, count: 301, categories: 3, seed: 21)
        var documents = seededDocuments
        var random = seeded
        let order = documents.keys.sorted()
        #expect(index.remove(id: "absent") == false)
        // The most recently inserted row (the matrix's last), then the first, then middle rows.
        let lastInserted = String(format: "d%05d", (300 * 7_919) % 100_003)
        let firstInserted = "d00000"
        let middle = order.filter { $0 != lastInserted && $0 != firstInserted }.enumerated().filter { $0.offset % 3 == 1 }.map(\.element)
        for id in [lastInserted, firstInserted] + middle {
            #expect(index.remove(id: id))
            #expect(index.remove(id: id) == false)
            documents[id] = nil
        }
        #expect(index.count == documents.count)
        for category in [nil, "c0", "c1", "c2"] {
            for k in [1, 10, 500] {
                let query = random.vector(24)
                Self.expectMatches(try index.search(query, k: k, category: category), Self.bruteForce(documents, query: query, k: k, category: category), documents, query: query)
            }
        }
        // Re-adding a removed id, and removing everything.
        let again = Document(vector: random.vector(24), category: "c9")
        try index.upsert(id: lastInserted, vector: again.vector, category: again.category)
        documents[lastInserted] = again
        #expect(try index.search(again.vector, k: 1).map(\.id) == [lastInserted])
        for id in documents.keys { #expect(index.remove(id: id)) }
        #expect(index.count == 0)
        #expect(try index.search(again.vector, k: 3).isEmpty)
    }

    @Test func concurrentSearchesAndWrites() async throws {
        let dimensions = 32
        let (index, seededDocuments, _) = try Self.filled(dimensions: dimensions, count: 2_000, categories: 4, seed: 31)
        // Each writer owns a disjoint set of ids, so the final state is known whatever the interleaving.
        let writers = 4
        let finals = try await withThrowingTaskGroup(of: [String: Document?].self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var random = Random(seed: 1_000 + UInt64(writer))
                    var final: [String: Document?] = [:]
                    for step in 0..<400 {
                        let id = "w\(writer)-\(random.below(60))"
                        if step % 5 == 4 {
                            index.remove(id: id)
                            final[id] = .some(nil)
                        } else {
                            let document = Document(vector: random.vector(dimensions), category: "c\(random.below(4))")
                            try index.upsert(id: id, vector: document.vector, category: document.category)
                            final[id] = document
                        }
                    }
                    return final
                }
            }
            for reader in 0..<4 {
                group.addTask {
                    var random = Random(seed: 2_000 + UInt64(reader))
                    for _ in 0..<150 {
                        let found = try index.search(random.vector(dimensions), k: 20, category: random.below(2) == 0 ? nil : "c\(random.below(4))")
                        #expect(found.count <= 20)
                        #expect(zip(found, found.dropFirst()).allSatisfy { $0.score > $1.score || ($0.score == $1.score && $0.id < $1.id) })
                    }
                    return [:]
                }
            }
            var merged: [String: Document?] = [:]
            for try await part in group { merged.merge(part) { $1 } }
            return merged
        }
        var documents = seededDocuments
        for (id, document) in finals { documents[id] = document }
        #expect(index.count == documents.count)
        var random = Random(seed: 3_000)
        for category in [nil, "c1"] {
            let query = random.vector(dimensions)
            Self.expectMatches(try index.search(query, k: 2_500, category: category), Self.bruteForce(documents, query: query, k: 2_500, category: category), documents, query: query)
        }
    }

    @Test func memoryIsTheMatrixPlusSmallSideArrays() throws {
        let index = VectorIndex(dimensions: 384)
        index.reserveCapacity(1_000)
        var random = Random(seed: 5)
        for n in 0..<1_000 { try index.upsert(id: "d\(n)", vector: random.vector(384), category: "x") }
        let matrix = 1_000 * 384 * 4
        #expect(index.memoryBytes >= matrix)
        #expect(index.memoryBytes <= matrix + matrix / 10)
        #expect(index.rowStride == 384)
        #expect(VectorIndex(dimensions: 13).rowStride == 16)
    }
}
