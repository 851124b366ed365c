import BusWire
import NIOCore

extension BusNode {
    /// How a node identifies itself, listens, and treats its peers.
    public struct Configuration: Sendable {
        /// Service name, instance id and version announced in every handshake.
        public var identity: NodeIdentity
        /// Address to listen on. Loopback by default: exposing a node is a decision.
        public var host: String
        /// Port to listen on; 0 picks a free one (see ``BusNode/start()``).
        public var port: Int
        /// Shared secret peers must present in their hello; nil accepts any peer.
        public var token: String?
        /// This node's service's registration credential, sent with every
        /// register to registries that require one (a credentials file); nil sends none.
        public var serviceCredential: String?
        /// What this node accepts from peers (announced in the handshake).
        public var limits: WireLimits
        /// Whether deflate is offered and when outgoing bodies are compressed:
        /// per connection by `compression.mode` (`auto` by default: only on a
        /// slow link, never to a peer on this host), then per frame by its threshold.
        public var compression: CompressionPolicy
        /// Requests in progress across all connections before new ones are answered `overloaded`.
        public var maxInFlightPerNode: Int
        /// How long establishing a connection (TCP and handshake) may take.
        public var connectTimeout: TimeAmount
        /// Deadline of a call made without one.
        public var defaultCallTimeout: TimeAmount
        /// Registries to register with and discover services from; a node
        /// registers with all of them and reads from whichever answers.
        public var registries: [ServiceAddress]
        /// The address other nodes reach this one at, when it differs from `host`.
        public var advertisedHost: String?
        /// Lease asked of the registries; heartbeats go out at a third of it.
        public var lease: TimeAmount
        /// A connection silent this long is pinged; silent twice as long, it is
        /// closed and its calls fail `unavailable`.
        public var keepAlive: TimeAmount
        /// How long an accepted connection may take to deliver its hello;
        /// past it the peer gets an `error` (`deadline-exceeded`, naming
        /// `handshake_timeout`) and the connection closes.
        public var handshakeTimeout: TimeAmount
        /// Connections the listener holds at once; one more is answered with
        /// an `error` (`overloaded`, naming `max_connections`) and closed.
        public var maxConnections: Int
        /// Long polls (methods registered with `longPoll: true`, the registry's
        /// `watch`) one connection may have outstanding. They take no in-flight
        /// slot, so held polls never starve other requests; beyond this they
        /// are answered `overloaded`.
        public var maxLongPollsPerConnection: Int
        /// Long polls outstanding across all connections; beyond this, `overloaded`.
        public var maxLongPollsPerNode: Int

        public init(
            identity: NodeIdentity,
            host: String = "127.0.0.1",
            port: Int = 0,
            token: String? = nil,
            limits: WireLimits = .default,
            compression: CompressionPolicy = CompressionPolicy(),
            maxInFlightPerNode: Int = 10_000,
            connectTimeout: TimeAmount = .seconds(2),
            defaultCallTimeout: TimeAmount = .seconds(10),
            registries: [ServiceAddress] = [],
            advertisedHost: String? = nil,
            lease: TimeAmount = .seconds(6),
            keepAlive: TimeAmount = .seconds(10),
            handshakeTimeout: TimeAmount = .seconds(5),
            maxConnections: Int = 4096,
            maxLongPollsPerConnection: Int = 16,
            maxLongPollsPerNode: Int = 1024,
            serviceCredential: String? = nil
        ) {
            self.serviceCredential = serviceCredential
            self.handshakeTimeout = handshakeTimeout
            self.maxConnections = maxConnections
            self.maxLongPollsPerConnection = maxLongPollsPerConnection
            self.maxLongPollsPerNode = maxLongPollsPerNode
            self.keepAlive = keepAlive
            self.registries = registries
            self.advertisedHost = advertisedHost
            self.lease = lease
            self.identity = identity
            self.host = host
            self.port = port
            self.token = token
            self.limits = limits
            self.compression = compression
            self.maxInFlightPerNode = maxInFlightPerNode
            self.connectTimeout = connectTimeout
            self.defaultCallTimeout = defaultCallTimeout
        }

        /// The codecs this node can inflate, as offered in its handshake.
        var codecs: [String] { compression.offersDeflate ? [Codec.deflate] : [] }
    }
}
