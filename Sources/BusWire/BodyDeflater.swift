import CZlib
import NIOCore

/// Compresses bodies with zlib (the `deflate` codec), keeping the result only
/// when it is strictly smaller than the original.
///
/// It owns one zlib stream, reset between bodies, so compressing costs no
/// set-up or allocation per frame. The stream (about 256 KiB of zlib state)
/// is made on the first body compressed: a connection that never sends a
/// large body never pays for it. Not thread-safe: one per connection.
public final class BodyDeflater {
    /// zlib level: 1 is fastest and is the protocol's recommended default; 9 compresses best.
    public let level: Int
    private var madeStream: UnsafeMutablePointer<z_stream>?

    public init(level: Int = 1) {
        precondition((0...9).contains(level), "zlib level must be 0...9, got \(level)")
        self.level = level
    }

    /// Whether the zlib state exists yet (it is made on first use).
    public var hasState: Bool { madeStream != nil }

    private var stream: UnsafeMutablePointer<z_stream> {
        if let madeStream { return madeStream }
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // Fails only for invalid parameters (ours are fixed) or out of memory.
        let status = czlib_deflate_init(stream, Int32(level), 15, 8)
        precondition(status == Z_OK, "deflateInit2 failed with \(status)")
        madeStream = stream
        return stream
    }

    deinit {
        guard let madeStream else { return }
        deflateEnd(madeStream)
        madeStream.deinitialize(count: 1)
        madeStream.deallocate()
    }

    /// Appends the zlib stream of `body` to `out` if it is smaller than `body`.
    ///
    /// The output window is one byte short of the body, so an incompressible
    /// body is given up on as soon as it cannot fit, and `out` never grows by
    /// more than the body's size.
    /// - Returns: whether `out` now holds the compressed body; when false, `out` is unchanged.
    public func compress(_ body: ByteBuffer, appendingTo out: inout ByteBuffer) -> Bool {
        let window = body.readableBytes - 1
        guard window > 0, body.readableBytes <= Int(UInt32.max) else { return false }
        defer { deflateReset(stream) }
        let stream = self.stream
        var finished = false
        _ = body.withUnsafeReadableBytes { input in
            out.writeWithUnsafeMutableBytes(minimumWritableBytes: window) { output in
                stream.pointee.next_in = UnsafeMutablePointer(mutating: input.baseAddress!.assumingMemoryBound(to: Bytef.self))
                stream.pointee.avail_in = UInt32(input.count)
                stream.pointee.next_out = output.baseAddress!.assumingMemoryBound(to: Bytef.self)
                stream.pointee.avail_out = UInt32(window)
                finished = deflate(stream, Z_FINISH) == Z_STREAM_END
                return finished ? window - Int(stream.pointee.avail_out) : 0
            }
        }
        return finished
    }
}
