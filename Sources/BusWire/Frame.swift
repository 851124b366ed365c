import NIOCore

/// One frame: a header and a body.
///
/// Decoded frames carry their body as it was on the wire (a slice of the read
/// buffer, no copy), still compressed when ``isCompressed`` is set: the runtime
/// routes on the header and inflates only bodies it is going to use, through
/// ``BodyInflater``. Frames to send normally carry a plain body, and
/// ``FrameEncoder`` decides whether compressing it pays.
public struct Frame: Sendable, Hashable {
    public var header: FrameHeader
    /// The body as on the wire.
    public var body: ByteBuffer
    /// Whether ``body`` is a zlib stream (flag bit 0).
    public var isCompressed: Bool
    /// The declared size of the body once inflated (`body_size`).
    public var bodySize: Int

    /// A frame with a plain body.
    public init(header: FrameHeader, body: ByteBuffer = ByteBuffer()) {
        self.header = header
        self.body = body
        self.isCompressed = false
        self.bodySize = body.readableBytes
    }

    /// A frame exactly as it was (or will be) on the wire.
    public init(header: FrameHeader, wireBody: ByteBuffer, isCompressed: Bool, bodySize: Int) {
        self.header = header
        self.body = wireBody
        self.isCompressed = isCompressed
        self.bodySize = bodySize
    }
}

/// Byte layout of the fixed frame prefix (protocol version 1).
///
///     offset size field
///     0      4    frame_length   bytes after this field
///     4      1    version
///     5      1    flags          bit 0: body compressed
///     6      2    header_length
///     8      4    body_size      declared size once inflated
public enum FramePrefix {
    public static let version: UInt8 = 1
    /// Size of the whole prefix, including the length field.
    public static let size = 12
    /// Size of the prefix after the length field: the smallest legal `frame_length`.
    public static let sizeAfterLength = 8
    public static let compressedFlag: UInt8 = 0x01
    public static let knownFlags: UInt8 = compressedFlag
}
