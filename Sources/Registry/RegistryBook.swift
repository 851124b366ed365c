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
        /// The connection that registered it (0: in process, unbounded):
        /// only it may heartbeat, replace or deregister the record.
        var owner: UInt64
        /// The key its process registered with: proves a later register or
        /// deregister over another connection comes from the same process.
        var instanceKey: String?
    }

    private var entries: [String: Entry] = [:]
    private(set) var revision: UInt64 = 1
    private var watchers: [UInt64: CheckedContinuation<Void, Never>] = [:]
    private var nextWatcher: UInt64 = 0
    private var isDraining = false
    let maxLease: TimeAmount
    let limits: RegistryLimits
    static let minLease = TimeAmount.milliseconds(100)

    /// Per-service secrets a register must present; nil: none needed.
    let credentials: RegistryCredentials?

    init(maxLease: TimeAmount, limits: RegistryLimits = RegistryLimits(), credentials: RegistryCredentials? = nil) {
        self.maxLease = maxLease
        self.limits = limits
        self.credentials = credentials
    }

    /// - Parameter connection: the connection registering (``RequestContext/connectionID``);
    ///   one connection may hold at most `limits.maxInstancesPerConnection`
    ///   instances, the registry at most `limits.maxInstances`.
    /// - Parameter ownerIsOpen: whether an accepted connection is still open
    ///   (``BusNode/isConnectionOpen(_:)``), to know whether a record's owner is gone.
    func register(_ request: RegistryProtocol.RegisterRequest, connection: UInt64 = 0, ownerIsOpen: (UInt64) -> Bool = { _ in true }) throws(BusError) -> RegistryProtocol.RegisterResponse {
        let lease = max(Self.minLease, min(.milliseconds(Int64(request.leaseMs)), maxLease))
        let state = request.state ?? .serving
        let previous = entries[request.record.instance]
        if let credentials, !credentials.accepts(request.credential, for: request.record.service) {
            throw BusError(.permissionDenied, "registering \(escapedForLog(request.record.service)) needs one of its credentials (--service-credential); none given matches")
        }
        if let previous, previous.owner != connection, connection != 0 {
            try mayClaim(previous, for: request, ownerIsOpen: ownerIsOpen(previous.owner))
        }
        if previous == nil, entries.count >= limits.maxInstances {
            throw BusError(.limitExceeded, "the registry holds max_instances \(limits.maxInstances) instances")
        }
        if connection != 0, previous?.owner != connection {
            let held = entries.values.lazy.filter { $0.owner == connection }.count
            if held >= limits.maxInstancesPerConnection {
                throw BusError(.limitExceeded, "this connection registered max_instances_per_connection \(limits.maxInstancesPerConnection) instances")
            }
        }
        entries[request.record.instance] = Entry(
            record: request.record, state: state, renewedAt: .now(), lease: lease, inFlight: 0,
            owner: connection, instanceKey: request.instanceKey
        )
        if previous?.record != request.record || previous?.state != state { changed() }
        return RegistryProtocol.RegisterResponse(leaseMs: Int(lease.nanoseconds / 1_000_000), revision: revision)
    }

    /// Whether a register over a connection other than the record's owner
    /// may take the record over. The same process may (it presents the
    /// record's instance key: its link to the registry reconnected, perhaps
    /// before the registry noticed the old connection die). Another process
    /// may only once the owner's connection has closed and only with the
    /// credential of the record's service (the instance restarted under its
    /// name); without a credentials file it waits until the lease expires.
    private func mayClaim(_ entry: Entry, for request: RegistryProtocol.RegisterRequest, ownerIsOpen: Bool) throws(BusError) {
        if Self.sameProcess(entry, request.instanceKey) { return }
        if !ownerIsOpen, let credentials, credentials.accepts(request.credential, for: entry.record.service) { return }
        throw BusError(.permissionDenied, "instance \(escapedForLog(entry.record.instance)) is registered by another connection; only that connection or the same process can change it (or register again once its lease expired)")
    }

    private static func sameProcess(_ entry: Entry, _ key: String?) -> Bool {
        guard let stored = entry.instanceKey, let key else { return false }
        return constantTimeEquals(stored, key)
    }

    /// - Parameter connection: the connection heartbeating; only the
    ///   record's owner may (a node whose link reconnected registers again).
    func heartbeat(_ request: RegistryProtocol.HeartbeatRequest, connection: UInt64 = 0) throws(BusError) {
        guard var entry = entries[request.instance] else {
            throw BusError(.notFound, "instance \(request.instance) is not registered")
        }
        guard connection == 0 || entry.owner == connection else {
            throw BusError(.permissionDenied, "instance \(escapedForLog(request.instance)) is registered by another connection: register it again over this one")
        }
        entry.renewedAt = .now()
        entry.inFlight = max(0, request.inFlight)
        let stateChanged = entry.state != request.state
        entry.state = request.state
        entries[request.instance] = entry
        if stateChanged { changed() }
    }

    /// Removes `request.instance`, when asked by its owner connection or by
    /// its process (the instance key); an unknown instance is no error.
    func deregister(_ request: RegistryProtocol.DeregisterRequest, connection: UInt64 = 0) throws(BusError) {
        guard let entry = entries[request.instance] else { return }
        guard connection == 0 || entry.owner == connection || Self.sameProcess(entry, request.instanceKey) else {
            throw BusError(.permissionDenied, "instance \(escapedForLog(request.instance)) is registered by another connection")
        }
        entries.removeValue(forKey: request.instance)
        changed()
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
