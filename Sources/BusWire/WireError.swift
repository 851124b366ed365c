/// Why bytes could not be turned into a frame or a frame's body.
///
/// ``Reason`` names are normative (they appear in `proto/PROTOCOL.md` and in the
/// test vectors). Frame-stage reasons are fatal to the connection; body-stage
/// reasons concern one frame and the connection survives them.
public struct WireError: Error, Sendable, Hashable, CustomStringConvertible {
    public enum Reason: String, Sendable, CaseIterable {
        // Frame stage.
        case frameTooShort = "frame-too-short"
        case frameTooLarge = "frame-too-large"
        case truncated = "truncated"
        case unsupportedVersion = "unsupported-version"
        case unknownFlags = "unknown-flags"
        case headerTooLarge = "header-too-large"
        case headerOverrun = "header-overrun"
        case headerMalformed = "header-malformed"
        // Both stages: an uncompressed body that is not its declared size, or an
        // inflated body that is not.
        case sizeMismatch = "size-mismatch"
        // Body stage.
        case bodyTooLarge = "body-too-large"
        case corruptBody = "corrupt-body"
    }

    public var reason: Reason
    /// The limit that was broken, when a limit was.
    public var limit: WireLimits.Name?
    /// What a person reads: says what was received and, for a limit, its value.
    public var message: String

    public init(_ reason: Reason, limit: WireLimits.Name? = nil, _ message: String) {
        self.reason = reason
        self.limit = limit
        self.message = message
    }

    /// The error code a receiver answers with when it rejects a frame for this reason.
    public var code: ErrorCode {
        switch reason {
        case .frameTooLarge, .headerTooLarge, .bodyTooLarge: .limitExceeded
        case .unsupportedVersion: .unsupportedVersion
        default: .protocolError
        }
    }

    public var description: String { "\(reason.rawValue): \(message)" }
}

extension WireError {
    static func limit(_ reason: Reason, _ limit: WireLimits.Name, received: Int, max: Int, what: String) -> WireError {
        WireError(reason, limit: limit, "\(what) of \(ByteCount(received)) exceeds \(limit.rawValue) \(ByteCount(max))")
    }

    static func malformedHeader(_ message: String) -> WireError {
        WireError(.headerMalformed, "header: \(message)")
    }
}

/// Formats a byte count the way people read limits: "16 MiB", "1500 bytes".
struct ByteCount: CustomStringConvertible {
    var value: Int
    init(_ value: Int) { self.value = value }

    var description: String {
        for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] where value >= 1 << shift && value % (1 << shift) == 0 {
            return "\(value >> shift) \(unit)"
        }
        return value == 1 ? "1 byte" : "\(value) bytes"
    }
}
