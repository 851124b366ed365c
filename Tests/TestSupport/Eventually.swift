/// Polls `condition` until it holds or `timeout` passes: tests wait for a
/// state with a deadline, never for a fixed time.
public func eventually(timeout: Duration = .seconds(30), _ condition: () async throws -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if (try? await condition()) == true { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return (try? await condition()) == true
}
