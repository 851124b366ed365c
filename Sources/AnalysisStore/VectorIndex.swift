import Dispatch
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a vector was refused.
public enum VectorIndexError: Error, Equatable, Sendable {
    /// The vector's length is not the index's `dimensions`.
    case wrongDimension(expected: Int, got: Int)
    /// Every component is zero: it has no direction, so no cosine.
    case zeroVector
    /// A component is NaN or infinite.
    case notFinite
}

/// One search result: a row's id and its cosine similarity to the query.
public struct VectorMatch: Sendable, Hashable {
    public var id: String
    public var score: Float

    public init(id: String, score: Float) {
        self.id = id
        self.score = score
    }
}

/// One tenant's embeddings: a contiguous row-major Float32 matrix of unit vectors, with each row's id and category.
///
/// Exact nearest neighbours by cosine similarity: every row is normalised when
/// written (in Float64, stored as Float32), so a search is one pass of dot
/// products over the whole matrix, with a bounded heap keeping the best `k`.
/// The scan reads the matrix in order, eight floats (SIMD8) at a time; with a
/// category it compares each row's integer category code first and reads the
/// matching rows four at a time (four cache-miss streams in flight). On a large
/// matrix the scan is split over the machine's cores (`scanThreads`), each part
/// with its own heap, merged at the end. The scan is bound by memory bandwidth
/// (every search reads 4 × dims × count bytes); a matrix of 2 MiB or more sits
/// in transparent huge pages where the kernel allows it (fewer TLB misses).
///
/// Rows are padded with zeros to a multiple of eight floats (`rowStride`), so
/// the kernel has no tail loop; at 384, 768 or 1536 dimensions there is no padding.
///
/// Thread safety: a reader-writer lock inside; any number of searches run at
/// once, `upsert` and `remove` are exclusive. `@unchecked Sendable` is sound
/// because every stored property that changes after `init` (`matrix`,
/// `capacity`, `ids`, `codes`, `rowOf`, `categoryCodes`) is read only while
/// holding the lock for reading and written only while holding it for writing;
/// the lock itself lives at a fixed heap address allocated in `init` and
/// released in `deinit`; `dimensions`, `rowStride` and `scanThreads` are constants.
public final class VectorIndex: @unchecked Sendable {
    public let dimensions: Int
    /// Floats per row in the matrix: `dimensions` rounded up to a multiple of 8 (zero padded).
    public let rowStride: Int
    /// How many threads one large search may use (1: the caller's thread only).
    public let scanThreads: Int

    private let lock: UnsafeMutablePointer<pthread_rwlock_t>
    /// `capacity × rowStride` floats, 64-byte aligned; rows `0..<count` are live.
    private var matrix: UnsafeMutablePointer<Float>
    private var capacity: Int
    /// Row `r`'s id and category code.
    private var ids: [String] = []
    private var codes: [Int32] = []
    private var rowOf: [String: Int32] = [:]
    /// Category name → code, assigned on first use (never reused).
    private var categoryCodes: [String: Int32] = [:]

    /// Below this many floats (4 MiB of matrix), a search stays on the caller's thread.
    static let parallelThreshold = 1 << 20

    /// - Parameters:
    ///   - dimensions: every vector's length (at least 1).
    ///   - scanThreads: threads one search may use on a large matrix; the active processor count by default.
    public init(dimensions: Int, scanThreads: Int? = nil) {
        precondition(dimensions > 0, "VectorIndex needs at least one dimension")
        self.dimensions = dimensions
        self.rowStride = (dimensions + 7) & ~7
        self.scanThreads = max(1, min(scanThreads ?? ProcessInfo.processInfo.activeProcessorCount, 16))
        lock = .allocate(capacity: 1)
        var attributes = pthread_rwlockattr_t()
        pthread_rwlockattr_init(&attributes)
        #if canImport(Glibc)
        // glibc prefers readers by default: a steady stream of searches would starve writers.
        pthread_rwlockattr_setkind_np(&attributes, Int32(PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP))
        #endif
        pthread_rwlock_init(lock, &attributes)
        pthread_rwlockattr_destroy(&attributes)
        capacity = 0
        matrix = Self.allocateMatrix(floats: 0)
    }

    deinit {
        pthread_rwlock_destroy(lock)
        lock.deallocate()
        matrix.deallocate()
    }

    /// Live rows.
    public var count: Int {
        withReadLock { ids.count }
    }

    /// Bytes held by the matrix (its whole capacity) and its side arrays (ids, category codes, id → row table; not the ids' own heap storage).
    public var memoryBytes: Int {
        withReadLock {
            capacity * rowStride * MemoryLayout<Float>.stride
                + codes.capacity * MemoryLayout<Int32>.stride
                + ids.capacity * MemoryLayout<String>.stride
                + rowOf.capacity * (MemoryLayout<String>.stride + MemoryLayout<Int32>.stride)
        }
    }

    /// Makes room for `rows` rows without growing again (as when loading a tenant whose size is known).
    public func reserveCapacity(_ rows: Int) {
        withWriteLock {
            if rows > capacity { resize(to: rows) }
            ids.reserveCapacity(rows)
            codes.reserveCapacity(rows)
            rowOf.reserveCapacity(rows)
        }
    }

    /// Adds or replaces `id` (normalised here). Throws VectorIndexError.wrongDimension / .zeroVector / .notFinite.
    public func upsert(id: String, vector: [Float], category: String) throws(VectorIndexError) {
        let unit = try normalised(vector)
        withWriteLock {
            let code: Int32
            if let existing = categoryCodes[category] {
                code = existing
            } else {
                code = Int32(categoryCodes.count)
                categoryCodes[category] = code
            }
            let row: Int
            if let existing = rowOf[id] {
                row = Int(existing)
                codes[row] = code
            } else {
                row = ids.count
                if row == capacity { resize(to: max(64, capacity + capacity / 2)) }
                ids.append(id)
                codes.append(code)
                rowOf[id] = Int32(row)
            }
            unit.withUnsafeBufferPointer { source in
                (matrix + row * rowStride).update(from: source.baseAddress!, count: rowStride)
            }
        }
    }

    /// Removes `id`; false when absent. O(dims): the last row moves into the hole.
    @discardableResult public func remove(id: String) -> Bool {
        withWriteLock {
            guard let found = rowOf.removeValue(forKey: id) else { return false }
            let hole = Int(found)
            let last = ids.count - 1
            if hole != last {
                (matrix + hole * rowStride).update(from: matrix + last * rowStride, count: rowStride)
                ids[hole] = ids[last]
                codes[hole] = codes[last]
                rowOf[ids[hole]] = Int32(hole)
            }
            ids.removeLast()
            codes.removeLast()
            return true
        }
    }

    /// The `k` rows most similar to `query` (normalised here), best first; equal scores by id ascending (deterministic);
    /// only rows of `category` when given (compare an integer category code per row during the scan, not strings).
    ///
    /// Scores are the Float32 dot products of the stored unit rows with the unit query (cosine similarity, -1...1).
    /// `k` larger than the rows there are gives them all; `k <= 0` gives none.
    public func search(_ query: [Float], k: Int, category: String? = nil) throws(VectorIndexError) -> [VectorMatch] {
        let unit = try normalised(query)
        guard k > 0 else { return [] }
        return withReadLock {
            let rows = ids.count
            var code: Int32 = -1
            if let category {
                guard let found = categoryCodes[category] else { return [] }
                code = found
            }
            let wanted = min(k, rows)
            guard wanted > 0 else { return [] }
            let stride = rowStride
            let matrix = self.matrix
            let parts = rows * stride >= Self.parallelThreshold ? min(scanThreads, max(1, rows / 1024)) : 1
            return ids.withUnsafeBufferPointer { ids in
                codes.withUnsafeBufferPointer { codes in
                    unit.withUnsafeBufferPointer { q in
                        let scan = { (part: Int) -> TopK in
                            let lower = rows * part / parts
                            let upper = rows * (part + 1) / parts
                            var top = TopK(k: wanted, ids: ids)
                            if code < 0 {
                                Self.scanAll(matrix, rows: lower..<upper, stride: stride, query: q.baseAddress!, into: &top)
                            } else {
                                Self.scanCategory(matrix, rows: lower..<upper, stride: stride, codes: codes.baseAddress!, code: code, query: q.baseAddress!, into: &top)
                            }
                            return top
                        }
                        var top: TopK
                        if parts == 1 {
                            top = scan(0)
                        } else {
                            let results = UnsafeMutableBufferPointer<TopK>.allocate(capacity: parts)
                            defer {
                                _ = results.deinitialize()
                                results.deallocate()
                            }
                            let job = ParallelScan(scan: scan, results: results)
                            DispatchQueue.concurrentPerform(iterations: parts) { part in
                                (job.results.baseAddress! + part).initialize(to: job.scan(part))
                            }
                            top = results[0]
                            for part in 1..<parts {
                                for (score, row) in results[part].entries { top.offer(score: score, row: row) }
                            }
                        }
                        return top.sorted().map { VectorMatch(id: ids[Int($0.row)], score: $0.score) }
                    }
                }
            }
        }
    }

    // MARK: - The scan

    /// Every row of `rows`, in order: one sequential stream, which the
    /// hardware prefetcher follows best (interleaving rows here was slower).
    @inline(__always)
    private static func scanAll(_ matrix: UnsafeMutablePointer<Float>, rows: Range<Int>, stride: Int, query: UnsafePointer<Float>, into top: inout TopK) {
        var pointer = UnsafePointer(matrix + rows.lowerBound * stride)
        for row in rows {
            let score = dot(pointer, query, stride)
            if score >= top.threshold { top.offer(score: score, row: Int32(row)) }
            pointer += stride
        }
    }

    /// The rows of `rows` whose code is `code`, four at a time: the matching
    /// rows are scattered, so reading four at once keeps four cache-miss
    /// streams in flight instead of one.
    @inline(__always)
    private static func scanCategory(_ matrix: UnsafeMutablePointer<Float>, rows: Range<Int>, stride: Int, codes: UnsafePointer<Int32>, code: Int32, query: UnsafePointer<Float>, into top: inout TopK) {
        let base = UnsafePointer(matrix)
        var pending = SIMD4<Int32>()
        var waiting = 0
        for row in rows where codes[row] == code {
            pending[waiting] = Int32(row)
            waiting += 1
            if waiting == 4 {
                waiting = 0
                offer4(base, pending, 4, stride, query, &top)
            }
        }
        if waiting > 0 { offer4(base, pending, waiting, stride, query, &top) }
    }

    @inline(__always)
    private static func offer4(_ base: UnsafePointer<Float>, _ rows: SIMD4<Int32>, _ live: Int, _ stride: Int, _ query: UnsafePointer<Float>, _ top: inout TopK) {
        // Lanes past `live` repeat the first row (scored, not offered).
        let pointer = { (lane: Int) in base + Int(rows[lane < live ? lane : 0]) * stride }
        let scores = dot4(pointer(0), pointer(1), pointer(2), pointer(3), query, stride)
        guard scores.max() >= top.threshold else { return }
        for lane in 0..<live where scores[lane] >= top.threshold {
            top.offer(score: scores[lane], row: rows[lane])
        }
    }

    /// One row's dot product with the query: one 8-lane accumulator over the
    /// row's 8-float chunks in order, then a fixed pairwise reduction. `dot4`
    /// forms each of its four sums the same way, so a row scores the same bits
    /// with or without a category filter, and duplicate rows tie exactly.
    @inline(__always)
    private static func dot(_ a: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ count: Int) -> Float {
        var sum = SIMD8<Float>()
        var j = 0
        while j + 16 <= count {
            sum += load8(a + j) * load8(q + j)
            sum += load8(a + j + 8) * load8(q + j + 8)
            j += 16
        }
        if j < count { sum += load8(a + j) * load8(q + j) }
        return reduce(sum)
    }

    /// Four rows' dot products, each formed exactly as `dot` forms it.
    @inline(__always)
    private static func dot4(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ c: UnsafePointer<Float>, _ d: UnsafePointer<Float>, _ q: UnsafePointer<Float>, _ count: Int) -> SIMD4<Float> {
        var sa = SIMD8<Float>(), sb = SIMD8<Float>(), sc = SIMD8<Float>(), sd = SIMD8<Float>()
        var j = 0
        while j < count {
            let qv = load8(q + j)
            sa += load8(a + j) * qv
            sb += load8(b + j) * qv
            sc += load8(c + j) * qv
            sd += load8(d + j) * qv
            j += 8
        }
        return SIMD4(reduce(sa), reduce(sb), reduce(sc), reduce(sd))
    }

    @inline(__always)
    private static func load8(_ pointer: UnsafePointer<Float>) -> SIMD8<Float> {
        UnsafeRawPointer(pointer).loadUnaligned(as: SIMD8<Float>.self)
    }

    /// A fixed pairwise order (not `sum()`, whose order is the library's to choose).
    @inline(__always)
    private static func reduce(_ v: SIMD8<Float>) -> Float {
        let four = v.lowHalf + v.highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
    }

    // MARK: - Writes

    /// `vector` as a unit vector (normalised in Float64), zero padded to `rowStride`.
    private func normalised(_ vector: [Float]) throws(VectorIndexError) -> [Float] {
        guard vector.count == dimensions else { throw .wrongDimension(expected: dimensions, got: vector.count) }
        var squares = 0.0
        for component in vector {
            guard component.isFinite else { throw .notFinite }
            squares += Double(component) * Double(component)
        }
        guard squares > 0 else { throw .zeroVector }
        let norm = squares.squareRoot()
        var unit = [Float](repeating: 0, count: rowStride)
        for index in 0..<dimensions { unit[index] = Float(Double(vector[index]) / norm) }
        return unit
    }

    /// Matrices of at least 2 MiB are 2 MiB aligned and advised into transparent huge pages
    /// (where the kernel allows it): the scan then walks a few hundred TLB entries, not tens of thousands.
    private static func allocateMatrix(floats: Int) -> UnsafeMutablePointer<Float> {
        let bytes = max(floats, 16) * MemoryLayout<Float>.stride
        let hugePage = 2 << 20
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: bytes >= hugePage ? hugePage : 64)
        #if canImport(Glibc)
        if bytes >= hugePage { _ = madvise(raw, bytes / hugePage * hugePage, MADV_HUGEPAGE) }
        #endif
        return raw.bindMemory(to: Float.self, capacity: max(floats, 16))
    }

    /// Moves the live rows into a matrix of `rows` rows (called with the write lock held).
    private func resize(to rows: Int) {
        let grown = Self.allocateMatrix(floats: rows * rowStride)
        grown.update(from: matrix, count: ids.count * rowStride)
        matrix.deallocate()
        matrix = grown
        capacity = rows
    }

    // MARK: - The lock

    private func withReadLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_rdlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }

    private func withWriteLock<T>(_ body: () throws -> T) rethrows -> T {
        pthread_rwlock_wrlock(lock)
        defer { pthread_rwlock_unlock(lock) }
        return try body()
    }
}

/// What the parts of one parallel search share. `@unchecked Sendable` is sound
/// because `concurrentPerform` returns only when every part has finished (the
/// buffers `scan` reads outlive it, under the caller's read lock), and part `i`
/// writes only slot `i` of `results`.
private struct ParallelScan: @unchecked Sendable {
    let scan: (Int) -> TopK
    let results: UnsafeMutableBufferPointer<TopK>
}

/// The best `k` (score, row) pairs seen so far: a min-heap whose root is the
/// worst kept entry, ordered by score and, at equal scores, by id (a larger id
/// is worse), so ties resolve by id ascending whatever order rows are scanned in.
struct TopK {
    let k: Int
    let ids: UnsafeBufferPointer<String>
    private(set) var entries: [(score: Float, row: Int32)] = []
    /// A score below this cannot enter: -infinity until the heap is full, then the root's score.
    private(set) var threshold = -Float.infinity

    init(k: Int, ids: UnsafeBufferPointer<String>) {
        self.k = k
        self.ids = ids
        entries.reserveCapacity(k)
    }

    /// True when `a` ranks below `b` (lower score, or equal score and larger id).
    @inline(__always)
    private func worse(_ a: (score: Float, row: Int32), _ b: (score: Float, row: Int32)) -> Bool {
        if a.score != b.score { return a.score < b.score }
        return ids[Int(a.row)] > ids[Int(b.row)]
    }

    mutating func offer(score: Float, row: Int32) {
        let candidate = (score: score, row: row)
        if entries.count < k {
            entries.append(candidate)
            var child = entries.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard worse(entries[child], entries[parent]) else { break }
                entries.swapAt(child, parent)
                child = parent
            }
            if entries.count == k { threshold = entries[0].score }
            return
        }
        guard worse(entries[0], candidate) else { return }
        entries[0] = candidate
        var parent = 0
        while true {
            let left = 2 * parent + 1
            guard left < k else { break }
            var smallest = left
            if left + 1 < k, worse(entries[left + 1], entries[left]) { smallest = left + 1 }
            guard worse(entries[smallest], entries[parent]) else { break }
            entries.swapAt(smallest, parent)
            parent = smallest
        }
        threshold = entries[0].score
    }

    /// Best first: score descending, id ascending.
    func sorted() -> [(score: Float, row: Int32)] {
        entries.sorted { worse($1, $0) }
    }
}
