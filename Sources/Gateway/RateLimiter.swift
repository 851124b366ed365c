import NIOConcurrencyHelpers
import NIOCore

/// A token bucket's settings: `rate` requests per second on average, up to
/// `burst` at once. A rate of 0 means no limit.
public struct RateLimit: Sendable, Hashable {
    public var rate: Double
    public var burst: Double

    public init(rate: Double, burst: Double? = nil) {
        self.rate = rate
        self.burst = burst ?? rate * 2
    }

    public static let unlimited = RateLimit(rate: 0, burst: 0)

    /// `RATE` or `RATE:BURST`, as the command line gives it.
    public init?(_ text: Substring) {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), let rate = Double(parts[0]), rate >= 0, rate.isFinite else { return nil }
        let burst = parts.count == 2 ? Double(parts[1]) : nil
        if parts.count == 2 { guard let burst, burst >= 1, burst.isFinite else { return nil } }
        self.init(rate: rate, burst: burst ?? max(1, rate * 2))
    }
}

/// One token bucket per API key (per client address for anonymous
/// requests): a request takes a token or is told how long until one is there.
final class RateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: NIODeadline
        var limit: RateLimit

        func isFull(at now: NIODeadline) -> Bool {
            tokens + Double((now - updated).nanoseconds) / 1e9 * limit.rate >= limit.burst
        }
    }

    /// Buckets kept at most; beyond, full ones (idle long enough to refill) are dropped.
    private let capacity: Int
    private let buckets = NIOLockedValueBox<[String: Bucket]>([:])

    init(capacity: Int = 100_000) {
        self.capacity = capacity
    }

    /// Takes a token from `key`'s bucket; nil when allowed, else the seconds
    /// until a token is available (for `Retry-After`).
    func take(_ key: String, limit: RateLimit, now: NIODeadline = .now()) -> Double? {
        guard limit.rate > 0 else { return nil }
        return buckets.withLockedValue { buckets in
            var bucket = buckets[key] ?? Bucket(tokens: limit.burst, updated: now, limit: limit)
            bucket.limit = limit
            let elapsed = Double((now - bucket.updated).nanoseconds) / 1e9
            bucket.tokens = min(limit.burst, bucket.tokens + max(0, elapsed) * limit.rate)
            bucket.updated = now
            let wait: Double?
            if bucket.tokens >= 1 {
                bucket.tokens -= 1
                wait = nil
            } else {
                wait = (1 - bucket.tokens) / limit.rate
            }
            if buckets[key] == nil, buckets.count >= capacity { buckets = buckets.filter { !$0.value.isFull(at: now) } }
            buckets[key] = bucket
            return wait
        }
    }

    var count: Int { buckets.withLockedValue { $0.count } }
}
