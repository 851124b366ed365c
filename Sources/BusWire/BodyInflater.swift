import CZlib
import NIOCore

/// Opens frame bodies: returns them plain, inflating compressed ones within
/// the receiver's limits.
///
/// Inflation writes into one buffer of exactly `body_size + 1` bytes, allocated
/// only after the declared size passed `max_body_bytes` and the bound of what
/// deflate can produce from the bytes received. A stream that wants to write
/// more than declared (a decompression bomb) stops at that buffer's end with
/// ``WireError/Reason/sizeMismatch``: it is an error, never an allocation.
/// Not thread-safe: one per connection.
public final class BodyInflater {
    public var limits: WireLimits
    private let allocator: ByteBufferAllocator
    /// Made on the first compressed body: most connections never receive one.
    private var madeStream: UnsafeMutablePointer<z_stream>?

    /// Whether the zlib state exists yet (it is made on first use).
    public var hasState: Bool { madeStream != nil }

    private var stream: UnsafeMutablePointer<z_stream> {
        if let madeStream { return madeStream }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        let status = czlib_inflate_init(stream, 15)
        precondition(status == Z_OK, "inflateInit2 failed with \(status)")
        madeStream = stream
        return stream
    }

    /// Deflate emits at most 1032 output bytes per input byte; the constant
    /// covers the zlib header, trailer and tiny streams.
    static func maxInflatedSize(compressedBytes: Int) -> Int { 1032 * compressedBytes + 64 }

    public init(limits: WireLimits = .default, allocator: ByteBufferAllocator = ByteBufferAllocator()) {
        self.limits = limits
        self.allocator = allocator
    }

    deinit {
        guard let madeStream else { return }
        inflateEnd(madeStream)
        madeStream.deinitialize(count: 1)
        madeStream.deallocate()
    }

    /// The body of `frame` as plain bytes.
    public func body(of frame: Frame) throws(WireError) -> ByteBuffer {
        if frame.bodySize > limits.maxBodyBytes {
            throw .limit(.bodyTooLarge, .maxBodyBytes, received: frame.bodySize, max: limits.maxBodyBytes, what: "body")
        }
        guard frame.isCompressed else { return frame.body }

        let compressedBytes = frame.body.readableBytes
        if frame.bodySize > Self.maxInflatedSize(compressedBytes: compressedBytes) {
            throw WireError(.sizeMismatch, "body_size \(frame.bodySize) is more than \(compressedBytes) compressed bytes can inflate to")
        }
        return try inflate(frame.body, declaredSize: frame.bodySize)
    }

    private enum Outcome { case complete(Int), overflow, truncated, corrupt, trailingBytes }

    private func inflate(_ compressed: ByteBuffer, declaredSize: Int) throws(WireError) -> ByteBuffer {
        defer { inflateReset(stream) }
        // One byte more than declared, so that a stream producing more is caught.
        let window = min(declaredSize + 1, Int(UInt32.max))
        var output = allocator.buffer(capacity: window)
        var outcome = Outcome.corrupt
        let stream = self.stream
        _ = compressed.withUnsafeReadableBytes { input in
            output.writeWithUnsafeMutableBytes(minimumWritableBytes: window) { out in
                stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress?.assumingMemoryBound(to: Bytef.self))
                stream.pointee.avail_in = UInt32(input.count)
                stream.pointee.next_out = out.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = UInt32(window)
                let status = CZlib.inflate(stream, Z_FINISH)
                let produced = window - Int(stream.pointee.avail_out)
                switch status {
                case Z_STREAM_END:
                    outcome = stream.pointee.avail_in == 0 ? .complete(produced) : .trailingBytes
                case Z_OK, Z_BUF_ERROR:
                    outcome = stream.pointee.avail_out == 0 ? .overflow : .truncated
                default:
                    outcome = .corrupt
                }
                return produced
            }
        }
        switch outcome {
        case .complete(let produced) where produced == declaredSize:
            return output
        case .complete(let produced):
            throw WireError(.sizeMismatch, "body inflates to \(produced) bytes but declares body_size \(declaredSize)")
        case .overflow:
            throw WireError(.sizeMismatch, "body inflates to more than its declared body_size \(declaredSize)")
        case .truncated:
            throw WireError(.corruptBody, "compressed body ends before its zlib stream does")
        case .trailingBytes:
            throw WireError(.corruptBody, "bytes follow the end of the compressed body's zlib stream")
        case .corrupt:
            throw WireError(.corruptBody, "compressed body is not a valid zlib stream")
        }
    }
}
