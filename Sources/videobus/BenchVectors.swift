import AnalysisStore
import ArgumentParser
import Foundation

/// `videobus bench vectors`: exact top-k by cosine similarity over one
/// tenant's in-memory `VectorIndex`, with recall checked against a Float64
/// brute force. `scripts/bench-vectors-numpy.py` measures numpy on the same shape.
struct BenchVectors: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vectors",
        abstract: "Measure exact vector search (cosine top-k) over one tenant's in-memory VectorIndex.",
        discussion: """
            Loads --documents seeded Gaussian vectors of --dimensions into a VectorIndex, runs warm-up queries, \
            then times --queries searches one by one (p50/p90/p99/max). Recall@k is checked on 20 of them against \
            a Float64 brute force over the same vectors. With --categories N the documents are spread over N \
            categories and each query is filtered to one of them. Compare: scripts/bench-vectors-numpy.py.
            """
    )

    @Option(help: "Documents in the tenant's index.") var documents: Int = 100_000
    @Option(help: "Dimensions of each embedding.") var dimensions: Int = 384
    @Option(help: "Timed searches.") var queries: Int = 500
    @Option(help: "Results per search.") var k: Int = 10
    @Option(help: "Categories the documents are spread over, each query filtered to one (0: no filter).") var categories: Int = 0
    @Option(help: "Threads one search may use (default: the active processor count).") var threads: Int?
    @Option(help: "Seed of the generated vectors.") var seed: UInt64 = 42

    func validate() throws {
        guard documents >= 1, dimensions >= 1, queries >= 1, k >= 1, categories >= 0 else {
            throw ValidationError("--documents, --dimensions, --queries and --k must be positive; --categories 0 or more")
        }
    }

    func run() throws {
        // Plain locals: the options' property wrappers are slow to read in the loops below.
        let (documents, dimensions, queries, k, categories) = (self.documents, self.dimensions, self.queries, self.k, self.categories)
        var random = BenchRandom(seed: seed)
        let rssBefore = Self.residentBytes()
        // Generated into one flat array first, so load time is the index's alone.
        var data = [Float](repeating: 0, count: documents * dimensions)
        for index in data.indices { data[index] = random.gaussian() }
        let category = { (document: Int) in categories == 0 ? "all" : "c\(document % categories)" }

        let index = VectorIndex(dimensions: dimensions, scanThreads: threads)
        let loading = ContinuousClock.now
        index.reserveCapacity(documents)
        try data.withUnsafeBufferPointer { all in
            for document in 0..<documents {
                let row = Array(all[document * dimensions..<(document + 1) * dimensions])
                try index.upsert(id: Self.id(document), vector: row, category: category(document))
            }
        }
        let loadSeconds = (ContinuousClock.now - loading).seconds
        let rssLoaded = Self.residentBytes()
        let matrixFloor = documents * dimensions * MemoryLayout<Float>.stride
        printLine("vectors: \(documents) documents × \(dimensions) dimensions, top-\(k), \(categories == 0 ? "no filter" : "filtered to 1 of \(categories) categories"), \(index.scanThreads) scan thread(s)")
        printLine("  loaded in \(String(format: "%.2f", loadSeconds)) s (\(Int(Double(documents) / loadSeconds)) upserts/s)")
        printLine("  memoryBytes \(Self.megabytes(index.memoryBytes)) (matrix alone 4×dims×docs = \(Self.megabytes(matrixFloor)), overhead \(String(format: "%.1f", Double(index.memoryBytes - matrixFloor) / Double(matrixFloor) * 100))%)")
        printLine("  RSS \(Self.megabytes(rssLoaded)) (before generating \(Self.megabytes(rssBefore)); includes the \(Self.megabytes(data.count * 4)) source array kept for the recall check)")

        let queryVectors = (0..<(queries + 20)).map { _ in (0..<dimensions).map { _ in random.gaussian() } }
        let filter = { (query: Int) -> String? in categories == 0 ? nil : "c\(query % categories)" }

        for query in 0..<20 { _ = try index.search(queryVectors[query], k: k, category: filter(query)) }
        var samples: [Double] = []
        samples.reserveCapacity(queries)
        var returned = 0
        for query in 20..<(20 + queries) {
            let started = ContinuousClock.now
            let found = try index.search(queryVectors[query], k: k, category: filter(query))
            samples.append((ContinuousClock.now - started).seconds * 1000)
            returned += found.count
        }
        samples.sort()
        func quantile(_ q: Double) -> String { String(format: "%.3f", samples[min(samples.count - 1, Int(Double(samples.count) * q))]) }
        printLine("  search (\(queries) timed, \(returned / queries) results each): p50 \(quantile(0.5)) ms  p90 \(quantile(0.9)) ms  p99 \(quantile(0.99)) ms  max \(String(format: "%.3f", samples.last!)) ms")

        // Recall@k against Float64 cosine over the original (unnormalised) vectors.
        let checked = min(20, queries)
        var hits = 0
        var expected = 0
        var worstScoreError = 0.0
        let norms = data.withUnsafeBufferPointer { all in
            (0..<documents).map { document in
                var sum = 0.0
                for j in 0..<dimensions { let x = Double(all[document * dimensions + j]); sum += x * x }
                return sum.squareRoot()
            }
        }
        for query in 20..<(20 + checked) {
            let q = queryVectors[query]
            let qNorm = q.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
            var scored: [(score: Double, document: Int)] = []
            data.withUnsafeBufferPointer { all in
                for document in 0..<documents where filter(query) == nil || category(document) == filter(query) {
                    var dot = 0.0
                    for j in 0..<dimensions { dot += Double(all[document * dimensions + j]) * Double(q[j]) }
                    scored.append((dot / (norms[document] * qNorm), document))
                }
            }
            scored.sort { $0.score != $1.score ? $0.score > $1.score : Self.id($0.document) < Self.id($1.document) }
            let truth = scored.prefix(k)
            let found = try index.search(q, k: k, category: filter(query))
            let truthIDs = Set(truth.map { Self.id($0.document) })
            hits += found.filter { truthIDs.contains($0.id) }.count
            expected += truth.count
            for (match, reference) in zip(found, truth) { worstScoreError = max(worstScoreError, abs(Double(match.score) - reference.score)) }
        }
        printLine("  recall@\(k) over \(checked) queries vs Float64 brute force: \(String(format: "%.4f", Double(hits) / Double(max(expected, 1)))) (largest score difference \(String(format: "%.2e", worstScoreError)))")
    }

    static func id(_ document: Int) -> String { "doc-\(document)" }

    static func megabytes(_ bytes: Int) -> String { String(format: "%.1f MB", Double(bytes) / 1_000_000) }

    /// VmRSS from /proc/self/status (0 where there is none).
    static func residentBytes() -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let fields = line.split(separator: " ")
            if fields.count >= 2, let kilobytes = Int(fields[1]) { return kilobytes * 1024 }
        }
        return 0
    }
}

/// SplitMix64 with Gaussian samples (Box–Muller), so every run sees the same vectors.
struct BenchRandom {
    private var state: UInt64
    private var spare: Float?

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    private mutating func unit() -> Double { (Double(next() >> 11) + 1) / 9_007_199_254_740_992 }

    mutating func gaussian() -> Float {
        if let spare {
            self.spare = nil
            return spare
        }
        let radius = (-2 * Foundation.log(unit())).squareRoot()
        let angle = 2 * Double.pi * unit()
        spare = Float(radius * sin(angle))
        return Float(radius * cos(angle))
    }
}
