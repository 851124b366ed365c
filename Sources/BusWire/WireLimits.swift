/// The size limits one side of a connection enforces on what it receives.
///
/// Each side announces its limits in the handshake; a sender must respect the
/// limits its peer announced. Every breach is reported with the limit's wire
/// name (``WireLimits/Name``) so an operator knows which setting to change.
public struct WireLimits: Sendable, Hashable, Codable {
    /// Largest `frame_length` accepted: the bytes after the 4-byte length field.
    public var maxFrameBytes: Int
    /// Largest JSON header accepted.
    public var maxHeaderBytes: Int
    /// Largest body accepted once inflated (the declared `body_size`).
    public var maxBodyBytes: Int
    /// Requests a peer may have outstanding on one connection.
    public var maxInFlight: Int

    public init(
        maxFrameBytes: Int = 16 << 20,
        maxHeaderBytes: Int = 16 << 10,
        maxBodyBytes: Int = 16 << 20,
        maxInFlight: Int = 1024
    ) {
        self.maxFrameBytes = maxFrameBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxBodyBytes = maxBodyBytes
        self.maxInFlight = maxInFlight
    }

    /// The defaults of protocol version 1.
    public static let `default` = WireLimits()

    /// Largest `frame_length` an accepting side reads before the handshake
    /// completes, whatever its `max_frame_bytes`: the hello is small, and a
    /// peer that has not authenticated gets no large buffer (PROTOCOL.md §5, §11).
    /// Fixed by the protocol, not negotiated; its name in errors is `max_hello_bytes`.
    public static let maxHelloBytes = 16 << 10

    /// The names limits have on the wire, in the handshake and in error messages.
    public enum Name: String, Sendable, CaseIterable {
        case maxFrameBytes = "max_frame_bytes"
        case maxHeaderBytes = "max_header_bytes"
        case maxBodyBytes = "max_body_bytes"
        case maxInFlight = "max_in_flight"
    }

    enum CodingKeys: String, CodingKey {
        case maxFrameBytes = "max_frame_bytes"
        case maxHeaderBytes = "max_header_bytes"
        case maxBodyBytes = "max_body_bytes"
        case maxInFlight = "max_in_flight"
    }
}
