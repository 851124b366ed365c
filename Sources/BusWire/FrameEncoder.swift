import NIOCore

/// Writes frames: the 12-byte prefix, the canonical header, then the body,
/// compressed when the peer accepts deflate, the body reaches the threshold,
/// and compression shrinks it.
///
/// It refuses (with a ``WireError`` naming the limit) any frame the peer
/// announced it would not accept, so the caller learns at once instead of the
/// peer closing the connection.
public struct FrameEncoder: MessageToByteEncoder {
    public typealias OutboundIn = Frame

    /// The limits the receiving peer announced.
    public var peerLimits: WireLimits
    public let compression: CompressionPolicy?
    private let deflater: BodyDeflater?

    /// - Parameter compression: how to compress bodies on this connection; nil
    ///   when nothing is compressed (the peer did not negotiate deflate, or
    ///   the connection's ``CompressionMode`` decided against it). The encoder
    ///   does not read `mode`: the caller resolves it per connection.
    public init(peerLimits: WireLimits = .default, compression: CompressionPolicy? = CompressionPolicy()) {
        self.peerLimits = peerLimits
        self.compression = compression
        self.deflater = compression.map { BodyDeflater(level: $0.level) }
    }

    public func encode(data frame: Frame, out: inout ByteBuffer) throws {
        try write(frame, to: &out)
    }

    /// Appends `frame` to `out`; on error `out` is left as it was.
    public func write(_ frame: Frame, to out: inout ByteBuffer) throws(WireError) {
        _ = try write(frame, to: &out, bodyOutOfLineFrom: .max)
    }

    /// Appends `frame` to `out`, except that a body sent as it is (not
    /// compressed here) of at least `outOfLineBytes` is not copied: `out` gets
    /// the prefix and header, and the body is returned, to be written on the
    /// channel right after them. On error `out` is left as it was.
    public func write(_ frame: Frame, to out: inout ByteBuffer, bodyOutOfLineFrom outOfLineBytes: Int) throws(WireError) -> ByteBuffer? {
        try frame.header.validate()
        if frame.bodySize > peerLimits.maxBodyBytes {
            throw .limit(.bodyTooLarge, .maxBodyBytes, received: frame.bodySize, max: peerLimits.maxBodyBytes, what: "body")
        }
        let start = out.writerIndex
        do throws(WireError) {
            out.writeRepeatingByte(0, count: FramePrefix.size)  // filled in once the lengths are known
            let headerLength = frame.header.writeJSON(to: &out)
            let maxHeader = min(peerLimits.maxHeaderBytes, Int(UInt16.max))
            if headerLength > maxHeader {
                throw .limit(.headerTooLarge, .maxHeaderBytes, received: headerLength, max: maxHeader, what: "header")
            }

            var compressed = frame.isCompressed
            if !compressed, let deflater, let compression, frame.body.readableBytes >= compression.threshold {
                compressed = deflater.compress(frame.body, appendingTo: &out)
            }
            var outOfLine: ByteBuffer?
            if !compressed || frame.isCompressed {
                if frame.body.readableBytes >= outOfLineBytes {
                    outOfLine = frame.body
                } else {
                    out.writeImmutableBuffer(frame.body)
                }
            }

            let frameLength = out.writerIndex - start - 4 + (outOfLine?.readableBytes ?? 0)
            if frameLength > peerLimits.maxFrameBytes {
                throw .limit(.frameTooLarge, .maxFrameBytes, received: frameLength, max: peerLimits.maxFrameBytes, what: "frame")
            }
            out.setInteger(UInt32(frameLength), at: start)
            out.setInteger(FramePrefix.version, at: start + 4)
            out.setInteger(compressed ? FramePrefix.compressedFlag : 0, at: start + 5)
            out.setInteger(UInt16(headerLength), at: start + 6)
            out.setInteger(UInt32(frame.bodySize), at: start + 8)
            return outOfLine
        } catch {
            out.moveWriterIndex(to: start)
            throw error
        }
    }
}
