import BusWire
import Logging
import NIOConcurrencyHelpers
import NIOCore

/// Keeps a node registered with every configured registry and keeps a
/// snapshot of the bus, read from whichever registry answers.
///
/// Registration: register with a lease, heartbeat at a third of it, register
/// again when a registry answers `not-found` (it restarted or the lease
/// lapsed). Discovery: long-poll `watch` on one registry, moving to the next
/// with backoff when it fails; meanwhile the last snapshot keeps routing.
final class RegistryClient: Sendable {
    private let links: [RegistryLink]
    private let logger: Logger
    private let lease: TimeAmount
    private let credential: String?
    /// Proves to a registry that a register over a new connection comes from
    /// this same process (see ``RegistryProtocol/RegisterRequest/instanceKey``).
    private let instanceKey = randomSecret()
    private let state = NIOLockedValueBox(State())

    private struct State {
        var snapshot: RegistryProtocol.Snapshot?
        /// The last non-empty instance list of each service, and since when the
        /// snapshot lacks it: for routing while a registry that restarted is
        /// still being refilled.
        var lastKnown: [String: (instances: [RegistryProtocol.InstanceView], missingSince: NIODeadline?)] = [:]
        var tasks: [Task<Void, Never>] = []
        var instanceState = RegistryProtocol.InstanceState.serving
        var isWatching = false
        /// What this node registers, once ``startRegistration(_:inFlight:)`` ran.
        var record: RegistryProtocol.InstanceRecord?
        /// Set while every registry refuses this node's handshake (a wrong
        /// token): waiting for a snapshot is then pointless.
        var refusal: BusError?
    }

    init(addresses: [ServiceAddress], configuration: BusNode.Configuration, group: any EventLoopGroup, logger: Logger) {
        self.links = addresses.map { RegistryLink(address: $0, configuration: configuration, group: group) }
        self.logger = logger
        self.lease = configuration.lease
        self.credential = configuration.serviceCredential
    }

    /// Starts keeping a snapshot of the bus (once; later calls do nothing).
    func startWatching() {
        state.withLockedValue { state in
            guard !state.isWatching else { return }
            state.isWatching = true
            state.tasks.append(Task { await self.watch() })
        }
    }

    /// Starts registering `record` with every registry and heartbeating it.
    func startRegistration(_ record: RegistryProtocol.InstanceRecord, inFlight: @escaping @Sendable () -> Int) {
        state.withLockedValue { state in
            state.record = record
            for link in links {
                state.tasks.append(Task { await self.keepRegistered(record, with: link, inFlight: inFlight) })
            }
        }
    }

    /// The instances of `service` callers may route to: serving ones from the
    /// current snapshot, or the last ones known when the snapshot has none.
    func instances(of service: String) -> [RegistryProtocol.InstanceView] {
        routable().filter { $0.record.service == service && $0.state == .serving }
    }

    /// The current snapshot's instances, plus, for services it has lacked for
    /// less than two leases, the last instances known: a registry that
    /// restarted is being refilled (instances register again within a lease),
    /// and the old addresses are the best guess meanwhile.
    private func routable() -> [RegistryProtocol.InstanceView] {
        state.withLockedValue { state in
            let current = state.snapshot?.instances ?? []
            let now = NIODeadline.now()
            let remembered = state.lastKnown.values
                .filter { entry in entry.missingSince.map { now - $0 < lease * 2 } ?? false }
                .flatMap(\.instances)
            return current + remembered
        }
    }

    var snapshot: RegistryProtocol.Snapshot? { state.withLockedValue { $0.snapshot } }

    /// The services (event groups) with an instance subscribed to `topic`.
    func groups(subscribedTo topic: String) -> [String] {
        Set(routable().filter { $0.record.subscriptions.contains(topic) }.map(\.record.service)).sorted()
    }

    /// Waits until a first snapshot has arrived, or `deadline`; throws at once
    /// when the registries refused this node (`unauthenticated`): no wait helps.
    func waitForSnapshot(until deadline: NIODeadline) async throws(BusError) -> Bool {
        while NIODeadline.now() < deadline, !Task.isCancelled {
            let (snapshot, refusal) = state.withLockedValue { ($0.snapshot, $0.refusal) }
            if snapshot != nil { return true }
            if let refusal { throw refusal }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return snapshot != nil
    }

    /// Asks the registries (in order, the first that answers) for their
    /// current view, bypassing the cached snapshot: whether a registry is
    /// reachable right now.
    func lookupNow(timeout: TimeAmount) async throws(BusError) -> RegistryProtocol.Snapshot {
        var lastError = BusError(.noResponders, "no registry is configured")
        for link in links {
            do {
                return try await link.call("lookup", RegistryProtocol.LookupRequest(), as: RegistryProtocol.Snapshot.self, timeout: timeout)
            } catch {
                lastError = error
            }
        }
        throw lastError
    }

    /// Marks this instance draining in every registry at once, so callers route around it.
    func announceDraining(instance: String, inFlight: Int) async {
        let record = state.withLockedValue { state in
            state.instanceState = .draining
            return state.record
        }
        await withTaskGroup(of: Void.self) { group in
            for link in links {
                group.addTask {
                    do throws(BusError) {
                        _ = try await link.call("heartbeat", RegistryProtocol.HeartbeatRequest(instance: instance, state: .draining, inFlight: inFlight), as: Empty.self, timeout: .seconds(1))
                    } catch where error.code == .notFound || error.code == .permissionDenied {
                        // Forgotten, or the link reconnected since the last heartbeat:
                        // registering as draining says it now, not a heartbeat period later.
                        guard let record else { return }
                        let request = RegistryProtocol.RegisterRequest(
                            record: record, leaseMs: Int(self.lease.nanoseconds / 1_000_000), state: .draining,
                            credential: self.credential, instanceKey: self.instanceKey
                        )
                        _ = try? await link.call("register", request, as: RegistryProtocol.RegisterResponse.self, timeout: .seconds(1))
                    } catch {}
                }
            }
        }
    }

    /// Stops the loops (waiting for them, so no registration lands after the
    /// deregistration) and, when `deregistering` an instance, removes it from
    /// every registry.
    func stop(deregistering instance: String?) async {
        let tasks = state.withLockedValue { $0.tasks }
        for task in tasks { task.cancel() }
        // Closing the links ends calls in flight (a held watch) at once.
        for link in links { await link.close() }
        for task in tasks { await task.value }
        if let instance {
            await withTaskGroup(of: Void.self) { group in
                for link in links {
                    group.addTask {
                        _ = try? await link.call("deregister", RegistryProtocol.DeregisterRequest(instance: instance, instanceKey: self.instanceKey), as: Empty.self, timeout: .seconds(1))
                    }
                }
            }
        }
        for link in links { await link.close() }
    }

    /// Closes every registry connection as a network failure would; the
    /// loops open new ones (and move this instance's records onto them).
    func dropConnections() async {
        for link in links { await link.close() }
    }

    // MARK: - Loops

    private func keepRegistered(_ record: RegistryProtocol.InstanceRecord, with link: RegistryLink, inFlight: @Sendable () -> Int) async {
        var grantedLease: TimeAmount?
        var backoff = Backoff()
        while !Task.isCancelled {
            do {
                if grantedLease == nil {
                    let instanceState = state.withLockedValue { $0.instanceState }
                    let request = RegistryProtocol.RegisterRequest(
                        record: record, leaseMs: Int(lease.nanoseconds / 1_000_000), state: instanceState,
                        credential: credential, instanceKey: instanceKey
                    )
                    let response = try await link.call("register", request, as: RegistryProtocol.RegisterResponse.self, timeout: .seconds(2))
                    grantedLease = .milliseconds(Int64(response.leaseMs))
                    logger.info("registered with registry \(link.address)")
                } else {
                    let instanceState = state.withLockedValue { $0.instanceState }
                    _ = try await link.call("heartbeat", RegistryProtocol.HeartbeatRequest(instance: record.instance, state: instanceState, inFlight: inFlight()), as: Empty.self, timeout: .seconds(2))
                }
                backoff.reset()
                try? await Task.sleep(for: .nanoseconds((grantedLease ?? lease).nanoseconds / 3))
            } catch {
                if error.code == .notFound {
                    // The registry forgot us (restart or lapsed lease): register again now.
                    logger.info("registry \(link.address) does not know this instance; registering again")
                    grantedLease = nil
                    continue
                }
                if error.code == .permissionDenied, grantedLease != nil {
                    // The link reconnected: the record belongs to our old connection.
                    // Registering again with our instance key moves it to this one.
                    logger.info("registry \(link.address) holds this instance for another connection; registering again")
                    grantedLease = nil
                    continue
                }
                if error.code == .unauthenticated || error.code == .permissionDenied {
                    // A wrong token or credential (or another process holding our
                    // instance name) is a misconfiguration, not a passing failure: say so loudly.
                    logger.warning("registry \(link.address) refused this node: \(error.message)")
                } else {
                    logger.debug("registry \(link.address) unreachable: \(error.message)")
                }
                try? await Task.sleep(for: .nanoseconds(backoff.next(max: .nanoseconds((grantedLease ?? lease).nanoseconds / 3)).nanoseconds))
            }
        }
    }

    private func watch() async {
        var index = 0
        var revision: UInt64 = 0
        var backoff = Backoff()
        while !Task.isCancelled {
            let link = links[index]
            do {
                let snapshot = try await link.call("watch", RegistryProtocol.WatchRequest(revision: revision, waitMs: 10_000), as: RegistryProtocol.Snapshot.self, timeout: .seconds(12))
                revision = snapshot.revision
                update(snapshot)
                backoff.reset()
            } catch {
                if error.code == .unauthenticated || error.code == .unsupportedVersion {
                    // Retrying will not help: callers waiting for a first snapshot are told now.
                    let refused = links.count == 1 || index == links.count - 1
                    if refused { state.withLockedValue { $0.refusal = BusError(error.code, "registry \(link.address) refused this node: \(error.message)", retryable: false) } }
                }
                logger.debug("watching registry \(link.address) failed: \(error.message)")
                // Revisions of different registries are unrelated: start over on the next one.
                index = (index + 1) % links.count
                revision = 0
                try? await Task.sleep(for: .nanoseconds(backoff.next(max: .seconds(2)).nanoseconds))
            }
        }
    }

    private func update(_ snapshot: RegistryProtocol.Snapshot) {
        let now = NIODeadline.now()
        state.withLockedValue { state in
            state.snapshot = snapshot
            state.refusal = nil
            let present = Dictionary(grouping: snapshot.instances, by: \.record.service)
            for (service, known) in state.lastKnown where present[service] == nil {
                // The window starts when a snapshot first lacks the service, not
                // when it was last seen: a held watch confirms nothing changed.
                let since = known.missingSince ?? now
                if now - since < lease * 2 {
                    state.lastKnown[service] = (known.instances, since)
                } else {
                    state.lastKnown[service] = nil
                }
            }
            for (service, instances) in present {
                state.lastKnown[service] = (instances, nil)
            }
        }
    }
}

/// `words` × 64 random bits, as hex digits (from the system's CSPRNG): 2 words
/// (128 bits) for an instance key, 4 (256 bits) for a bus token or credential.
public func randomSecret(words: Int = 2) -> String {
    var generator = SystemRandomNumberGenerator()
    return (0..<words).map { _ in
        let hex = String(generator.next() as UInt64, radix: 16)
        return String(repeating: "0", count: 16 - hex.count) + hex
    }.joined()
}

/// Exponential backoff with "equal jitter": a random wait between half the
/// ceiling and the ceiling, so retries spread out but never collapse to zero.
struct Backoff {
    private var attempt = 0
    let base: TimeAmount

    init(base: TimeAmount = .milliseconds(50)) {
        self.base = base
    }

    mutating func next(max: TimeAmount) -> TimeAmount {
        let ceiling = min(max.nanoseconds, base.nanoseconds << min(attempt, 20))
        attempt += 1
        return .nanoseconds(Int64.random(in: (ceiling / 2)...Swift.max(ceiling / 2, ceiling)))
    }

    mutating func reset() { attempt = 0 }
}
