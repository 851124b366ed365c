import Synchronization

/// The bytes of request bodies being collected at once, across all
/// connections, against their budget: a request reserves what its body may
/// take before reading it and gives it back when it is answered.
final class BodyBudget: Sendable {
    let limit: Int
    private let reserved = Mutex<Int>(0)

    init(limit: Int) { self.limit = limit }

    /// Reserves `bytes`, or returns false when they do not fit now.
    func reserve(_ bytes: Int) -> Bool {
        reserved.withLock { reserved in
            guard reserved + bytes <= limit else { return false }
            reserved += bytes
            return true
        }
    }

    func release(_ bytes: Int) {
        reserved.withLock { $0 -= bytes }
    }

    var inUse: Int { reserved.withLock { $0 } }
}
