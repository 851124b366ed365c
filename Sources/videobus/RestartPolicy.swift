/// When `videobus up` restarts a child that exited unexpectedly, and when it
/// gives up on it (and so stops the whole system): a child that keeps
/// crashing is a fault to report, not to hide behind endless restarts.
struct RestartPolicy: Sendable {
    /// The wait before the first restart; it doubles with each exit that
    /// follows a short run, up to `maximumDelay`.
    var firstDelay: Duration = .milliseconds(100)
    var maximumDelay: Duration = .seconds(5)
    /// This many unexpected exits within `window` and the child is given up.
    var budget = 5
    /// Also how long a run must last for the next delay to start again from `firstDelay`.
    var window: Duration = .seconds(60)

    enum Decision: Equatable, Sendable {
        case restart(after: Duration)
        /// `exits` unexpected exits happened within the window.
        case giveUp(exits: Int)
    }

    /// One child's unexpected exits, as far as the policy needs them.
    struct History: Sendable {
        let policy: RestartPolicy
        private var exits: [ContinuousClock.Instant] = []
        private var lastDelay: Duration?

        init(policy: RestartPolicy) {
            self.policy = policy
        }

        /// Records an unexpected exit at `now`, after a run of `ranFor`.
        mutating func recordExit(at now: ContinuousClock.Instant, ranFor: Duration) -> Decision {
            exits = exits.filter { now - $0 < policy.window } + [now]
            if exits.count >= policy.budget { return .giveUp(exits: exits.count) }
            let delay = if let lastDelay, ranFor < policy.window { min(lastDelay * 2, policy.maximumDelay) } else { policy.firstDelay }
            lastDelay = delay
            return .restart(after: delay)
        }
    }
}
