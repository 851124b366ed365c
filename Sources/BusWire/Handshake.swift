/// Who a node is, as it introduces itself in the handshake.
public struct NodeIdentity: Codable, Sendable, Hashable {
    /// Service name, e.g. `ingest`.
    public var service: String
    /// Unique per process, e.g. `ingest-7f3a`.
    public var instance: String
    /// The node's software version.
    public var version: String

    public init(service: String, instance: String, version: String) {
        self.service = service
        self.instance = instance
        self.version = version
    }
}

/// Body of the `hello` frame, the first frame the connecting side sends.
public struct Hello: Codable, Sendable, Hashable {
    /// Protocol versions the sender speaks.
    public var versions: [Int]
    public var node: NodeIdentity
    /// The shared secret, when the bus has one.
    public var token: String?
    /// Codecs the sender can inflate, e.g. `["deflate"]`.
    public var codecs: [String]
    /// What the sender accepts from its peer.
    public var limits: WireLimits

    public init(versions: [Int] = [Int(FramePrefix.version)], node: NodeIdentity, token: String?, codecs: [String], limits: WireLimits) {
        self.versions = versions
        self.node = node
        self.token = token
        self.codecs = codecs
        self.limits = limits
    }
}

/// Body of the `welcome` frame: the accepting side's answer to `hello`.
public struct Welcome: Codable, Sendable, Hashable {
    /// The version both sides now speak.
    public var version: Int
    public var node: NodeIdentity
    /// The codecs both sides accept.
    public var codecs: [String]
    /// What the accepting side accepts from its peer.
    public var limits: WireLimits

    public init(version: Int, node: NodeIdentity, codecs: [String], limits: WireLimits) {
        self.version = version
        self.node = node
        self.codecs = codecs
        self.limits = limits
    }
}

/// The compression codecs of protocol version 1.
public enum Codec {
    /// zlib format (RFC 1950), as in HTTP's `Content-Encoding: deflate`.
    public static let deflate = "deflate"
}
