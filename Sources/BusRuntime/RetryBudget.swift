import NIOConcurrencyHelpers

/// Limits retries to a fraction of successful calls (a token bucket), so that
/// retries never multiply the load on a struggling service.
final class RetryBudget: Sendable {
    /// Tokens earned per successful call: 0.2 allows at most 20% extra load.
    let ratio: Double
    let maxTokens: Double
    private let tokens: NIOLockedValueBox<Double>

    init(ratio: Double = 0.2, maxTokens: Double = 10) {
        self.ratio = ratio
        self.maxTokens = maxTokens
        self.tokens = NIOLockedValueBox(maxTokens)
    }

    func recordSuccess() {
        tokens.withLockedValue { $0 = min(maxTokens, $0 + ratio) }
    }

    /// Takes a token for one retry, or returns false when the budget is spent.
    func withdraw() -> Bool {
        tokens.withLockedValue { tokens in
            guard tokens >= 1 else { return false }
            tokens -= 1
            return true
        }
    }
}
