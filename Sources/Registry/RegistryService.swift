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
    /// Bounds on records and on what one peer may register.
    public let limits: RegistryLimits
    /// Per-service secrets every register must present; nil: any peer that
    /// passed the handshake may register any service.
    public let credentials: RegistryCredentials?
    private let book: RegistryBook

    public init(maxLease: TimeAmount = .seconds(10), maxWatchWait: TimeAmount = .seconds(30), limits: RegistryLimits = RegistryLimits(), credentials: RegistryCredentials? = nil) {
        self.maxLease = maxLease
        self.maxWatchWait = maxWatchWait
        self.limits = limits
        self.credentials = credentials
        self.book = RegistryBook(maxLease: maxLease, limits: limits, credentials: credentials)
    }

    /// Reads the credentials file again (the command does on SIGHUP); on
    /// error the secrets in use stay. Records already registered stay too:
    /// a removed secret stops the next register, not a running instance.
    /// - Returns: how many services have a secret now (0 without a file).
    @discardableResult
    public func reloadCredentials() throws -> Int {
        try credentials?.reload() ?? 0
    }

    /// Adds the registry's methods to `node` (whose service must be `registry`).
    public func install(on node: BusNode) {
        precondition(node.configuration.identity.service == RegistryProtocol.service)
        let book = self.book
        let maxWatchWait = self.maxWatchWait
        let limits = self.limits
        // Held watches would keep a draining registry up for their whole wait.
        node.onDrain { await book.drain() }
        // Records belong to the connection that registered them: the book asks whether it is still there.
        let isOpen: @Sendable (UInt64) -> Bool = { [weak node] id in node?.isConnectionOpen(id) ?? false }
        node.register("register", .json { (request: RegistryProtocol.RegisterRequest, context: RequestContext) in
            try limits.validate(request.record)
            try limits.validate(secret: request.credential, "credential")
            try limits.validate(secret: request.instanceKey, "instance_key")
            guard request.leaseMs > 0 else { throw BusError(.invalidArgument, "lease_ms must be positive") }
            let response = try await book.register(request, connection: context.connectionID, ownerIsOpen: isOpen)
            let record = request.record
            context.logger.info("registered \(escapedForLog(record.instance)) (\(escapedForLog(record.service))) at \(escapedForLog(record.host)):\(record.port)")
            return response
        })
        node.register("heartbeat", .json { (request: RegistryProtocol.HeartbeatRequest, context: RequestContext) -> [String: String] in
            try limits.validate(instance: request.instance)
            try await book.heartbeat(request, connection: context.connectionID)
            return [:]
        })
        node.register("deregister", .json { (request: RegistryProtocol.DeregisterRequest, context: RequestContext) -> [String: String] in
            try limits.validate(instance: request.instance)
            try limits.validate(secret: request.instanceKey, "instance_key")
            try await book.deregister(request, connection: context.connectionID)
            context.logger.info("deregistered \(escapedForLog(request.instance))")
            return [:]
        })
        node.register("lookup", .json { (request: RegistryProtocol.LookupRequest, _: RequestContext) in
            await book.snapshot(service: request.service)
        })
        // A held watch takes no in-flight slot: watches have their own budget
        // (per connection and per node, see BusNode.Configuration), so however
        // many are held, heartbeats and lookups are served.
        node.register("watch", longPoll: true, .json { (request: RegistryProtocol.WatchRequest, context: RequestContext) in
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
            for instance in await book.expire() { logger("lease of \(escapedForLog(instance)) expired") }
            try? await Task.sleep(for: .nanoseconds(interval.nanoseconds))
        }
    }
}

/// Bounds on what peers may put in the registry: every record is sent to
/// every watcher, so one oversized record would cost every node.
public struct RegistryLimits: Sendable {
    /// `service`, `instance` and `host`: 1 to this many bytes.
    public var maxNameBytes = 128
    /// `version`: at most this many bytes.
    public var maxVersionBytes = 64
    /// Entries in `methods`, and in `subscriptions`.
    public var maxListEntries = 256
    /// Each method or topic name: 1 to this many bytes.
    public var maxEntryBytes = 128
    /// Instances one connection may have registered at once.
    public var maxInstancesPerConnection = 64
    /// Instances the registry holds.
    public var maxInstances = 10_000
    /// `credential` and `instance_key`: at most this many bytes.
    public var maxSecretBytes = 256

    public init() {}

    /// Refuses a record breaking a bound with `invalid-argument`, naming the bound.
    public func validate(_ record: RegistryProtocol.InstanceRecord) throws(BusError) {
        for (field, value) in [("service", record.service), ("instance", record.instance), ("host", record.host)] {
            guard !value.isEmpty, value.utf8.count <= maxNameBytes else {
                throw BusError(.invalidArgument, "record.\(field) must be 1 to \(maxNameBytes) bytes")
            }
        }
        guard record.version.utf8.count <= maxVersionBytes else {
            throw BusError(.invalidArgument, "record.version must be at most \(maxVersionBytes) bytes (max_version_bytes), not \(record.version.utf8.count)")
        }
        guard (1...65535).contains(record.port) else { throw BusError(.invalidArgument, "record.port must be 1...65535") }
        for (field, list) in [("methods", record.methods), ("subscriptions", record.subscriptions)] {
            guard list.count <= maxListEntries else {
                throw BusError(.invalidArgument, "record.\(field) has \(list.count) entries; at most \(maxListEntries) (max_list_entries)")
            }
            for entry in list where entry.isEmpty || entry.utf8.count > maxEntryBytes {
                throw BusError(.invalidArgument, "each of record.\(field) must be 1 to \(maxEntryBytes) bytes (max_entry_bytes), not \(entry.utf8.count)")
            }
        }
    }

    /// Refuses a secret (credential, instance key) longer than any we hand
    /// out, before it is compared; the message never shows it.
    public func validate(secret: String?, _ field: String) throws(BusError) {
        guard let secret else { return }
        guard secret.utf8.count <= maxSecretBytes else {
            throw BusError(.invalidArgument, "\(field) must be at most \(maxSecretBytes) bytes")
        }
    }

    /// Refuses an instance name that no record could have.
    public func validate(instance: String) throws(BusError) {
        guard !instance.isEmpty, instance.utf8.count <= maxNameBytes else {
            throw BusError(.invalidArgument, "instance must be 1 to \(maxNameBytes) bytes (max_name_bytes), not \(instance.utf8.count)")
        }
    }
}
