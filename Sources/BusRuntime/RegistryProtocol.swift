/// The registry's methods and messages: who serves what, where, in which state.
///
/// Bodies are JSON with snake_case keys (see `proto/PROTOCOL.md`, "Registry").
public enum RegistryProtocol {
    /// The registry's service name.
    public static let service = "registry"

    /// One running instance of a service, as it registers itself.
    public struct InstanceRecord: Codable, Sendable, Hashable {
        public var service: String
        public var instance: String
        public var host: String
        public var port: Int
        public var version: String
        public var methods: [String]
        /// Event topics this instance's group subscribes to.
        public var subscriptions: [String]

        public init(service: String, instance: String, host: String, port: Int, version: String, methods: [String], subscriptions: [String] = []) {
            self.service = service
            self.instance = instance
            self.host = host
            self.port = port
            self.version = version
            self.methods = methods
            self.subscriptions = subscriptions
        }
    }

    public enum InstanceState: String, Codable, Sendable, Hashable {
        /// Takes new requests.
        case serving
        /// Finishing its work; callers route around it.
        case draining
    }

    /// `registry.register`: add or replace an instance, with a lease.
    public struct RegisterRequest: Codable, Sendable {
        public var record: InstanceRecord
        /// Requested lease; the registry may shorten it.
        public var leaseMs: Int
        /// The instance's state; absent means serving. A draining instance that
        /// registers again (after a registry restart) stays draining.
        public var state: InstanceState?
        /// The service's registration credential, when the registry requires
        /// one (a credentials file). A secret: never logged.
        public var credential: String?
        /// A random secret the instance draws once per process and sends with
        /// every register: a register over a new connection that presents the
        /// same key comes from the same process (it reconnected), so it may
        /// take its record back from its old connection. A secret: never logged.
        public var instanceKey: String?

        public init(record: InstanceRecord, leaseMs: Int, state: InstanceState? = nil, credential: String? = nil, instanceKey: String? = nil) {
            self.record = record
            self.leaseMs = leaseMs
            self.state = state
            self.credential = credential
            self.instanceKey = instanceKey
        }

        enum CodingKeys: String, CodingKey {
            case record, state, credential
            case leaseMs = "lease_ms"
            case instanceKey = "instance_key"
        }
    }

    public struct RegisterResponse: Codable, Sendable {
        /// The lease granted: heartbeat well within it.
        public var leaseMs: Int
        public var revision: UInt64
        public init(leaseMs: Int, revision: UInt64) {
            self.leaseMs = leaseMs
            self.revision = revision
        }

        enum CodingKeys: String, CodingKey {
            case revision
            case leaseMs = "lease_ms"
        }
    }

    /// `registry.heartbeat`: renew the lease. `not-found` means the registry does
    /// not know the instance (it restarted, or the lease expired): register again.
    public struct HeartbeatRequest: Codable, Sendable {
        public var instance: String
        public var state: InstanceState
        public var inFlight: Int
        public init(instance: String, state: InstanceState, inFlight: Int) {
            self.instance = instance
            self.state = state
            self.inFlight = inFlight
        }

        enum CodingKeys: String, CodingKey {
            case instance, state
            case inFlight = "in_flight"
        }
    }

    /// `registry.deregister`: remove an instance now (on shutdown).
    public struct DeregisterRequest: Codable, Sendable {
        public var instance: String
        /// The key the instance registered with: lets it deregister over a
        /// connection other than the one that owns its record (a node closes
        /// its registry connections before it deregisters). A secret: never logged.
        public var instanceKey: String?

        public init(instance: String, instanceKey: String? = nil) {
            self.instance = instance
            self.instanceKey = instanceKey
        }

        enum CodingKeys: String, CodingKey {
            case instance
            case instanceKey = "instance_key"
        }
    }

    /// `registry.lookup`: the instances of one service, or of all when `service` is absent.
    public struct LookupRequest: Codable, Sendable {
        public var service: String?
        public init(service: String? = nil) { self.service = service }
    }

    /// `registry.watch`: answers with a snapshot as soon as the registry's revision
    /// differs from `revision` (a restarted registry counts from 1 again), or
    /// after `wait_ms` with the current one (long poll).
    public struct WatchRequest: Codable, Sendable {
        public var revision: UInt64
        public var waitMs: Int
        public init(revision: UInt64, waitMs: Int) {
            self.revision = revision
            self.waitMs = waitMs
        }

        enum CodingKeys: String, CodingKey {
            case revision
            case waitMs = "wait_ms"
        }
    }

    /// An instance as the registry sees it.
    public struct InstanceView: Codable, Sendable, Hashable {
        public var record: InstanceRecord
        public var state: InstanceState
        /// Time since the last register or heartbeat.
        public var leaseAgeMs: Int
        public var inFlight: Int
        public init(record: InstanceRecord, state: InstanceState, leaseAgeMs: Int, inFlight: Int) {
            self.record = record
            self.state = state
            self.leaseAgeMs = leaseAgeMs
            self.inFlight = inFlight
        }

        enum CodingKeys: String, CodingKey {
            case record, state
            case leaseAgeMs = "lease_age_ms"
            case inFlight = "in_flight"
        }
    }

    /// Answer of `lookup` and `watch`. The revision grows with every change, and
    /// starts again at 1 when the registry restarts.
    public struct Snapshot: Codable, Sendable, Hashable {
        public var revision: UInt64
        public var instances: [InstanceView]
        public init(revision: UInt64, instances: [InstanceView]) {
            self.revision = revision
            self.instances = instances
        }
    }
}
