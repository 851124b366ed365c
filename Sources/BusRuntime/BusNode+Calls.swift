import BusWire
import NIOCore

extension BusNode {
    /// Calls `service.method` on one of its instances, found through the registry.
    ///
    /// The instance is chosen by power of two choices on calls in flight, among
    /// serving instances that are not ejected. A failure is retried on another
    /// instance when that is safe (the error promises the request had no
    /// effect, or the request carries an idempotency key and its connection
    /// was lost), within the retry budget and never past the deadline.
    /// Instances whose connection is draining are skipped without spending budget.
    /// Called while serving a request, the call ends no later than that
    /// request's deadline and carries its trace.
    public func call(
        service: String,
        method: String,
        body: ByteBuffer = ByteBuffer(),
        timeout: TimeAmount? = nil,
        idempotencyKey: String? = nil,
        trace: String? = nil,
        identity: Identity? = nil
    ) async throws(BusError) -> ByteBuffer {
        // Inside a handler, the request being served bounds this call and lends it its trace and identity.
        let serving = RequestContext.current
        var deadline = NIODeadline.now() + (timeout ?? configuration.defaultCallTimeout)
        if let inherited = serving?.deadline, inherited < deadline { deadline = inherited }
        let registry = try await discovery(until: deadline, for: service)
        var header = FrameHeader(kind: .request, service: service, method: method, idempotencyKey: idempotencyKey, trace: trace ?? serving?.trace)
        header.carry(identity ?? serving?.identity)
        return try await send(header, body: body, to: service, deadline: deadline, registry: registry, repeatable: idempotencyKey != nil)
    }

    /// Typed form: JSON request and response bodies.
    public func call<Request: Encodable & Sendable, Response: Decodable & Sendable>(
        _ service: String, _ method: String, _ request: Request, as: Response.Type,
        timeout: TimeAmount? = nil, idempotencyKey: String? = nil, identity: Identity? = nil
    ) async throws(BusError) -> Response {
        let body = try await call(service: service, method: method, body: JSONBody.encode(request), timeout: timeout, idempotencyKey: idempotencyKey, identity: identity)
        return try JSONBody.decode(Response.self, from: body)
    }

    /// Delivers an event to one instance of every service that subscribes to
    /// `topic` (or of each of `groups`, when given), and reports which
    /// acknowledged it. Receivers deduplicate on `eventID`, so a redelivery
    /// (by this call's retries or by the caller's) has no second effect.
    ///
    /// - Parameter groups: the subscriber groups to deliver to, whether or not
    ///   the registry shows them subscribed now; a group with no live instance
    ///   fails with `no-responders`. Nil: the groups the registry shows.
    public func publish(
        topic: String,
        payload: ByteBuffer,
        eventID: String,
        to groups: [String]? = nil,
        timeout: TimeAmount? = nil,
        trace: String? = nil,
        tenant: String? = nil
    ) async -> EventDeliveryReport {
        var report = EventDeliveryReport(topic: topic, eventID: eventID)
        let deadline = NIODeadline.now() + (timeout ?? configuration.defaultCallTimeout)
        let registry: RegistryClient
        do {
            registry = try await discovery(until: deadline, for: "subscribers of \(topic)")
        } catch {
            report.failed["*"] = error
            return report
        }
        let header = FrameHeader(kind: .event, trace: trace, topic: topic, eventID: eventID, source: configuration.identity.service, tenant: tenant)
        let targets = groups ?? registry.groups(subscribedTo: topic)
        if targets.count == 1, let group = targets.first {
            // The common case: one subscribing service, no task group needed.
            do {
                _ = try await send(header, body: payload, to: group, deadline: deadline, registry: registry, repeatable: true)
                report.acknowledged = [group]
            } catch {
                report.failed[group] = error
            }
            return report
        }
        await withTaskGroup(of: (String, BusError?).self) { tasks in
            for group in targets {
                tasks.addTask {
                    do {
                        _ = try await self.send(header, body: payload, to: group, deadline: deadline, registry: registry, repeatable: true)
                        return (group, nil)
                    } catch {
                        return (group, error as? BusError ?? BusError(.internal, "\(error)"))
                    }
                }
            }
            for await (group, error) in tasks {
                if let error { report.failed[group] = error } else { report.acknowledged.append(group) }
            }
        }
        report.acknowledged.sort()
        return report
    }

    /// The groups (services) with a live instance subscribed to `topic`, as
    /// the registry shows them now.
    public func subscribers(of topic: String, timeout: TimeAmount? = nil) async throws(BusError) -> [String] {
        let registry = try await discovery(until: .now() + (timeout ?? configuration.defaultCallTimeout), for: "subscribers of \(topic)")
        return registry.groups(subscribedTo: topic)
    }

    /// Everything the registries know (for `videobus status`).
    public func registrySnapshot(timeout: TimeAmount = .seconds(2)) async throws(BusError) -> RegistryProtocol.Snapshot {
        let registry = try await discovery(until: .now() + timeout, for: "the registry's snapshot")
        return registry.snapshot!
    }

    /// A fresh answer from a registry (not the cached snapshot): for readiness
    /// checks that must know a registry is reachable now.
    public func lookupNow(timeout: TimeAmount = .seconds(1)) async throws(BusError) -> RegistryProtocol.Snapshot {
        guard let registry else { throw BusError(.noResponders, "no registry is configured") }
        return try await registry.lookupNow(timeout: timeout)
    }

    /// The registry client, once it holds a first snapshot.
    private func discovery(until deadline: NIODeadline, for what: @autoclosure () -> String) async throws(BusError) -> RegistryClient {
        guard let registry else {
            throw BusError(.noResponders, "no registry is configured, so \(what()) cannot be found")
        }
        startDiscoveryIfNeeded()
        if registry.snapshot == nil, !(try await registry.waitForSnapshot(until: deadline)) {
            throw BusError(.noResponders, "no registry answered before the deadline")
        }
        return registry
    }

    /// Sends one request or event to an instance of `service`, trying others
    /// when that is safe. `repeatable`: a second delivery has no second effect
    /// (an idempotency key, or an event), so a lost connection may be retried.
    private func send(
        _ header: FrameHeader, body: ByteBuffer, to service: String,
        deadline: NIODeadline, registry: RegistryClient, repeatable: Bool
    ) async throws(BusError) -> ByteBuffer {
        var tried: Set<String> = []
        var lastError: BusError?
        while NIODeadline.now() < deadline {
            guard let instance = pick(registry.instances(of: service), avoiding: tried) else {
                throw lastError ?? BusError(.noResponders, "no live instance of \(service)")
            }
            tried.insert(instance.instance)
            let connection: PeerConnection
            do {
                connection = try await pool.connection(to: instance, deadline: deadline)
            } catch {
                // Nothing was sent: trying another instance is always safe.
                lastError = error
                continue
            }
            let promise = connection.eventLoop.makePromise(of: ByteBuffer.self)
            connection.call(header, body: body, deadline: deadline, promise: promise)
            do {
                let answer = try await PeerConnection.answer(promise)
                retryBudget.recordSuccess()
                return answer
            } catch {
                guard !Task.isCancelled else { throw error }
                // A lost connection may have lost the request or its answer: repeat it only
                // when a second delivery has no second effect.
                let safe = error.retryable || (repeatable && error.code == .unavailable && connection.isClosed)
                guard safe, retryBudget.withdraw() else { throw error }
                lastError = error
            }
        }
        throw lastError.map { BusError(.deadlineExceeded, "deadline passed after: \($0.message)", retryable: false) }
            ?? BusError(.deadlineExceeded, "deadline passed before \(service) answered", retryable: false)
    }

    /// Power of two choices: of two random candidates, the one with fewer calls in flight.
    private func pick(_ instances: [RegistryProtocol.InstanceView], avoiding tried: Set<String>) -> RegistryProtocol.InstanceRecord? {
        let now = NIODeadline.now()
        var candidates = instances.map(\.record).filter { !tried.contains($0.instance) && !pool.isEjected($0, now: now) }
        if candidates.isEmpty {
            // Every instance is ejected or tried: probe an untried one anyway rather than fail.
            candidates = instances.map(\.record).filter { !tried.contains($0.instance) }
        }
        guard let first = candidates.randomElement() else { return nil }
        guard candidates.count > 1 else { return first }
        var second = candidates.randomElement()!
        while second.instance == first.instance { second = candidates.randomElement()! }
        return pool.outstandingCalls(to: first) <= pool.outstandingCalls(to: second) ? first : second
    }
}
