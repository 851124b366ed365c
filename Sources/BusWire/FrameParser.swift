import NIOCore

/// Cuts frames out of a byte stream: the pure state machine behind ``FrameDecoder``.
///
/// It decides from the 4-byte length alone whether a frame may be buffered, so
/// it never asks its caller to hold more than `4 + limits.maxFrameBytes` bytes,
/// and it hands out frames as slices of the input (no copy). Every way the
/// input can be wrong ends in a ``WireError`` naming the reason.
public struct FrameParser: Sendable {
    public var limits: WireLimits

    private enum State: Sendable {
        /// Waiting for the 4-byte length field.
        case waitingForLength
        /// The length was read and accepted; waiting for that many bytes.
        case waitingForFrame(length: Int)
    }

    private var state = State.waitingForLength
    /// The largest first frame accepted (the hello, read before the peer has
    /// authenticated), when smaller than `limits.maxFrameBytes`; nil once the
    /// first frame's length was accepted.
    public var firstFrameMaxBytes: Int?

    public init(limits: WireLimits = .default, firstFrameMaxBytes: Int? = nil) {
        self.limits = limits
        self.firstFrameMaxBytes = firstFrameMaxBytes
    }

    /// The number of bytes the parser needs buffered before it can make progress.
    public var bytesNeeded: Int {
        switch state {
        case .waitingForLength: 4
        case .waitingForFrame(let length): 4 + length
        }
    }

    /// Takes the next frame from the front of `buffer`, or returns nil when more
    /// bytes are needed. Consumes exactly the frame's bytes.
    public mutating func next(from buffer: inout ByteBuffer) throws(WireError) -> Frame? {
        if case .waitingForLength = state {
            guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return nil }
            let frameLength = Int(length)
            if frameLength < FramePrefix.sizeAfterLength {
                throw WireError(.frameTooShort, "frame_length \(frameLength) is shorter than the \(FramePrefix.sizeAfterLength)-byte prefix")
            }
            if let firstMax = firstFrameMaxBytes, firstMax < limits.maxFrameBytes, frameLength > firstMax {
                throw WireError(.frameTooLarge, "frame of \(ByteCount(frameLength)) before the handshake exceeds max_hello_bytes \(ByteCount(firstMax))")
            }
            if frameLength > limits.maxFrameBytes {
                throw .limit(.frameTooLarge, .maxFrameBytes, received: frameLength, max: limits.maxFrameBytes, what: "frame")
            }
            firstFrameMaxBytes = nil
            state = .waitingForFrame(length: frameLength)
        }
        guard case .waitingForFrame(let frameLength) = state, buffer.readableBytes >= 4 + frameLength else { return nil }
        state = .waitingForLength
        let frame = buffer.readSlice(length: 4 + frameLength)!
        return try Self.parse(frame: frame, limits: limits)
    }

    /// Reports a stream that ended with bytes of an incomplete frame left over.
    public func finish(leftover buffer: ByteBuffer) throws(WireError) {
        guard buffer.readableBytes > 0 else { return }
        throw WireError(.truncated, "stream ended after \(buffer.readableBytes) of \(bytesNeeded) bytes of a frame")
    }

    /// Parses one complete frame (length field included).
    static func parse(frame: ByteBuffer, limits: WireLimits) throws(WireError) -> Frame {
        var frame = frame
        let frameLength = Int(frame.readInteger(as: UInt32.self)!)
        let version = frame.readInteger(as: UInt8.self)!
        let flags = frame.readInteger(as: UInt8.self)!
        let headerLength = Int(frame.readInteger(as: UInt16.self)!)
        let bodySize = Int(frame.readInteger(as: UInt32.self)!)

        guard version == FramePrefix.version else {
            throw WireError(.unsupportedVersion, "frame version \(version) is not supported (this node speaks version \(FramePrefix.version))")
        }
        guard flags & ~FramePrefix.knownFlags == 0 else {
            throw WireError(.unknownFlags, "unknown flag bits 0x\(String(flags & ~FramePrefix.knownFlags, radix: 16))")
        }
        if headerLength > limits.maxHeaderBytes {
            throw .limit(.headerTooLarge, .maxHeaderBytes, received: headerLength, max: limits.maxHeaderBytes, what: "header")
        }
        let bodyLength = frameLength - FramePrefix.sizeAfterLength - headerLength
        guard bodyLength >= 0 else {
            throw WireError(.headerOverrun, "header_length \(headerLength) runs past the end of a \(frameLength)-byte frame")
        }
        let isCompressed = flags & FramePrefix.compressedFlag != 0
        if !isCompressed, bodySize != bodyLength {
            throw WireError(.sizeMismatch, "uncompressed body of \(bodyLength) bytes declares body_size \(bodySize)")
        }
        let header = try FrameHeader(json: frame.readSlice(length: headerLength)!)
        return Frame(header: header, wireBody: frame, isCompressed: isCompressed, bodySize: bodySize)
    }
}
