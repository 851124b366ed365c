import BusWire
import NIOCore

/// Frames waiting to be written on one channel.
///
/// Frames are encoded into one buffer and written with a single flush per
/// batch (per read burst, or per event-loop tick for frames produced from
/// elsewhere), so a burst of answers costs one syscall, not one per frame;
/// large frames are flushed as soon as they are encoded.
struct FrameOutbox {
    var encoder: FrameEncoder
    private var pending: ByteBuffer
    private let allocator: ByteBufferAllocator
    /// Whether a flush is already queued on the event loop.
    var isFlushScheduled = false

    init(encoder: FrameEncoder, allocator: ByteBufferAllocator) {
        self.encoder = encoder
        self.allocator = allocator
        self.pending = allocator.buffer(capacity: 0)
    }

    var isEmpty: Bool { pending.readableBytes == 0 }

    /// Past this many pending bytes, frames go out at once instead of waiting
    /// for the batch: a peer can start on a large frame while the next is encoded.
    static let flushThreshold = 64 << 10

    var isFull: Bool { pending.readableBytes >= Self.flushThreshold }

    /// Encodes `frame` behind the frames already pending. On error nothing is added.
    mutating func append(_ frame: Frame) throws(WireError) {
        try encoder.write(frame, to: &pending)
    }

    /// Writes everything pending and flushes; `promise` completes once all
    /// bytes written so far on the channel are written (even when none are pending).
    mutating func flush(_ context: ChannelHandlerContext, promise: EventLoopPromise<Void>? = nil) {
        isFlushScheduled = false
        guard !isEmpty else {
            if let promise { context.writeAndFlush(NIOAny(allocator.buffer(capacity: 0)), promise: promise) }
            return
        }
        let bytes = pending
        // A fresh buffer: the written one stays with the channel until sent.
        pending = allocator.buffer(capacity: min(bytes.capacity, 64 << 10))
        context.writeAndFlush(NIOAny(bytes), promise: promise)
    }
}
