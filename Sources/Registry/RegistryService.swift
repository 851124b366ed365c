import BusRuntime
import BusWire
import NIOCore

/// The registry service: a bus node whose methods keep the book of who serves
/// what, where. Several registries may run side by side; nodes register with
/// all of them and read from any.
public struct RegistryService: Sendable {
    /// The longest lease granted: an instance silent for longer is removed.
    public var maxLease: TimeAmount
    /// The longest a watch may wait before answering with an unchanged snapshot.
    public var maxWatchWait: TimeAmount
    private let book: RegistryBook

    public init(maxLease: TimeAmount = .seconds(10), maxWatchWait: TimeAmount = .seconds(30)) {
        self.maxLease = maxLease
        self.maxWatchWait = maxWatchWait
        self.book = RegistryBook(maxLease: maxLease)
    }

    /// Adds the registry's methods to `node` (whose service must be `registry`).
    public func install(on node: BusNode) {
        precondition(node.configuration.identity.service == RegistryProtocol.service)
        let book = self.book
        let maxWatchWait = self.maxWatchWait
        // Held watches would keep a draining registry up for their whole wait.
        node.onDrain { await book.drain() }
        node.register("register", .json { (request: RegistryProtocol.RegisterRequest, context: RequestContext) in
            try validate(request.record)
            guard request.leaseMs > 0 else { throw BusError(.invalidArgument, "lease_ms must be positive") }
            let response = await book.register(request)
            context.logger.info("registered \(request.record.instance) (\(request.record.service)) at \(request.record.host):\(request.record.port)")
            return response
        })
        node.register("heartbeat", .json { (request: RegistryProtocol.HeartbeatRequest, _: RequestContext) -> [String: String] in
            try await book.heartbeat(request)
            return [:]
        })
        node.register("deregister", .json { (request: RegistryProtocol.DeregisterRequest, context: RequestContext) -> [String: String] in
            await book.deregister(request.instance)
            context.logger.info("deregistered \(request.instance)")
            return [:]
        })
        node.register("lookup", .json { (request: RegistryProtocol.LookupRequest, _: RequestContext) in
            await book.snapshot(service: request.service)
        })
        node.register("watch", .json { (request: RegistryProtocol.WatchRequest, context: RequestContext) in
            var wait = TimeAmount.milliseconds(Int64(max(0, request.waitMs)))
            wait = min(wait, maxWatchWait)
            if let deadline = context.deadline {
                // Answer a little before the caller's deadline, not after it.
                wait = min(wait, (deadline - .now()) - .milliseconds(50))
            }
            if wait > .zero { await book.waitForChange(after: request.revision, wait: wait) }
            return await book.snapshot()
        })
    }

    /// Removes instances whose lease ran out, every `interval`, until cancelled.
    public func expireLeases(every interval: TimeAmount = .milliseconds(250), logger: (String) -> Void = { _ in }) async {
        while !Task.isCancelled {
            for instance in await book.expire() { logger("lease of \(instance) expired") }
            try? await Task.sleep(for: .nanoseconds(interval.nanoseconds))
        }
    }
}

private func validate(_ record: RegistryProtocol.InstanceRecord) throws(BusError) {
    for (field, value) in [("service", record.service), ("instance", record.instance), ("host", record.host)] {
        guard !value.isEmpty, value.utf8.count <= 128 else { throw BusError(.invalidArgument, "record.\(field) must be 1 to 128 bytes") }
    }
    guard (1...65535).contains(record.port) else { throw BusError(.invalidArgument, "record.port must be 1...65535") }
}
