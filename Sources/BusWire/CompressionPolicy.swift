import NIOCore

/// Whether a node offers deflate and compresses what it sends.
public enum CompressionMode: String, Sendable, Hashable, CaseIterable {
    /// Offers deflate; compresses on a connection only when the link is slow:
    /// never to a peer on the same host, otherwise only once the measured round
    /// trip reaches ``CompressionPolicy/slowLinkRoundTrip`` (see
    /// ``CompressionPolicy/compressesOutgoing(peerIsLocal:roundTrip:)``).
    case auto
    /// Offers deflate and compresses every body the per-frame rule allows, on every link.
    case always
    /// Does not offer deflate, so a peer never sends it a compressed body, and compresses nothing.
    case never
}

/// When a sender compresses bodies: per connection (``mode``), then per frame
/// (``threshold``, and only when compression shrinks the body).
public struct CompressionPolicy: Sendable, Hashable {
    /// Per connection: whether deflate is offered and used.
    public var mode: CompressionMode
    /// Bodies smaller than this go uncompressed: compressing them costs more than it saves.
    public var threshold: Int
    /// zlib level, 1 (fastest, the default) to 9.
    public var level: Int
    /// In ``CompressionMode/auto``: a link whose round trip is at least this
    /// is slow enough for compression to pay (deflate level 1 runs at about
    /// 170 MB/s per core, faster than a LAN delivers bytes, slower than
    /// loopback). 10 ms, NATS's `s2_auto` first step.
    public var slowLinkRoundTrip: TimeAmount

    public static let defaultSlowLinkRoundTrip: TimeAmount = .milliseconds(10)

    public init(mode: CompressionMode = .auto, threshold: Int = 4096, level: Int = 1, slowLinkRoundTrip: TimeAmount = CompressionPolicy.defaultSlowLinkRoundTrip) {
        self.mode = mode
        self.threshold = threshold
        self.level = level
        self.slowLinkRoundTrip = slowLinkRoundTrip
    }

    /// Whether deflate is listed in this node's handshake `codecs` (what it can receive).
    public var offersDeflate: Bool { mode != .never }

    /// Whether bodies sent on one connection (where deflate was negotiated)
    /// are compressed, from what is known of the link. A pure function: the
    /// runtime calls it at the handshake and when a round trip is measured.
    ///
    /// - `never`: no. `always`: yes.
    /// - `auto`: no when the peer is on this host (loopback, or the
    ///   connection's own address); no while no round trip is measured;
    ///   otherwise yes when the round trip is at least ``slowLinkRoundTrip``.
    public func compressesOutgoing(peerIsLocal: Bool, roundTrip: TimeAmount?) -> Bool {
        switch mode {
        case .never: return false
        case .always: return true
        case .auto:
            guard !peerIsLocal, let roundTrip else { return false }
            return roundTrip >= slowLinkRoundTrip
        }
    }

    /// Whether a connection from `local` to `remote` stays on this host: a
    /// loopback address (127.0.0.0/8, `::1`, or either mapped into IPv6), a
    /// Unix domain socket, or the same IP at both ends (a host reaching itself
    /// through one of its own addresses, which the kernel routes over loopback).
    public static func isLocal(remote: SocketAddress?, local: SocketAddress?) -> Bool {
        guard let remote else { return false }
        if case .unixDomainSocket = remote { return true }
        guard let remoteIP = remote.ipAddress?.lowercased() else { return false }
        if remoteIP.hasPrefix("127.") || remoteIP == "::1" || remoteIP.hasPrefix("::ffff:127.") { return true }
        guard let localIP = local?.ipAddress?.lowercased() else { return false }
        return remoteIP == localIP
    }
}
