import BusRuntime
import BusWire
import NIOCore

/// The registry's state: instances with leases, a revision that grows with
/// every change, and the watchers waiting for the next one.
actor RegistryBook {
    private struct Entry {
        var record: RegistryProtocol.InstanceRecord
        var state: RegistryProtocol.InstanceState
        var renewedAt: NIODeadline
        var lease: TimeAmount
        var inFlight: Int
        /// The connection that registered it (0: in process, unbounded).
        var owner: UInt64
    }

    private var entries: [String: Entry] = [:]
    private(set) var revision: UInt64 = 1
    private var watchers: [UInt64: CheckedContinuation<Void, Never>] = [:]
    private var nextWatcher: UInt64 = 0
    private var isDraining = false
    let maxLease: TimeAmount
    let limits: RegistryLimits
    static let minLease = TimeAmount.milliseconds(100)

    init(maxLease: TimeAmount, limits: RegistryLimits = RegistryLimits()) {
        self.maxLease = maxLease
        self.limits = limits
    }

    /// - Parameter connection: the connection registering (``RequestContext/connectionID``);
    ///   one connection may hold at most `limits.maxInstancesPerConnection`
    ///   instances, the registry at most `limits.maxInstances`.
    func register(_ request: RegistryProtocol.RegisterRequest, connection: UInt64 = 0) throws(BusError) -> RegistryProtocol.RegisterResponse {
        let lease = max(Self.minLease, min(.milliseconds(Int64(request.leaseMs)), maxLease))
        let state = request.state ?? .serving
        let previous = entries[request.record.instance]
        if previous == nil, entries.count >= limits.maxInstances {
            throw BusError(.limitExceeded, "the registry holds max_instances \(limits.maxInstances) instances")
        }
        if connection != 0, previous?.owner != connection {
            let held = entries.values.lazy.filter { $0.owner == connection }.count
            if held >= limits.maxInstancesPerConnection {
                throw BusError(.limitExceeded, "this connection registered max_instances_per_connection \(limits.maxInstancesPerConnection) instances")
            }
        }
        entries[request.record.instance] = Entry(record: request.record, state: state, renewedAt: .now(), lease: lease, inFlight: 0, owner: connection)
        if previous?.record != request.record || previous?.state != state { changed() }
        return RegistryProtocol.RegisterResponse(leaseMs: Int(lease.nanoseconds / 1_000_000), revision: revision)
    }

    func heartbeat(_ request: RegistryProtocol.HeartbeatRequest) throws(BusError) {
        guard var entry = entries[request.instance] else {
            throw BusError(.notFound, "instance \(request.instance) is not registered")
        }
        entry.renewedAt = .now()
        entry.inFlight = max(0, request.inFlight)
        let stateChanged = entry.state != request.state
        entry.state = request.state
        entries[request.instance] = entry
        if stateChanged { changed() }
    }

    func deregister(_ instance: String) {
        if entries.removeValue(forKey: instance) != nil { changed() }
    }

    /// Removes instances whose lease ran out; returns their ids.
    func expire(now: NIODeadline = .now()) -> [String] {
        let expired = entries.filter { now - $0.value.renewedAt > $0.value.lease }.map(\.key)
        for instance in expired { entries.removeValue(forKey: instance) }
        if !expired.isEmpty { changed() }
        return expired
    }

    func snapshot(service: String? = nil) -> RegistryProtocol.Snapshot {
        let now = NIODeadline.now()
        let views = entries.values
            .filter { service == nil || $0.record.service == service }
            .sorted { ($0.record.service, $0.record.instance) < ($1.record.service, $1.record.instance) }
            .map { RegistryProtocol.InstanceView(record: $0.record, state: $0.state, leaseAgeMs: Int((now - $0.renewedAt).nanoseconds / 1_000_000), inFlight: $0.inFlight) }
        return RegistryProtocol.Snapshot(revision: revision, instances: views)
    }

    /// Returns once the revision differs from `revision`, or after `wait`.
    func waitForChange(after revision: UInt64, wait: TimeAmount) async {
        // Any difference (not only newer) answers at once: a restarted registry counts from 1 again.
        guard self.revision == revision, !isDraining else { return }
        let id = nextWatcher
        nextWatcher += 1
        let timer = Task { [weak self] in
            try? await Task.sleep(for: .nanoseconds(wait.nanoseconds))
            await self?.wake(id)
        }
        // A cancelled watch (its connection closed) is answered at once, freeing its budget.
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                if Task.isCancelled { continuation.resume() } else { watchers[id] = continuation }
            }
        } onCancel: {
            Task { await self.wake(id) }
        }
        timer.cancel()
    }

    /// Answers every held watch now, and every later one at once: the
    /// registry is draining. (A watch admitted just before the drain may reach
    /// the book only after it.)
    func drain() {
        isDraining = true
        let waiting = watchers
        watchers.removeAll()
        for continuation in waiting.values { continuation.resume() }
    }

    private func wake(_ id: UInt64) {
        watchers.removeValue(forKey: id)?.resume()
    }

    private func changed() {
        revision += 1
        let waiting = watchers
        watchers.removeAll()
        for continuation in waiting.values { continuation.resume() }
    }
}
