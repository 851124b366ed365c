import BusWire
import NIOCore

/// Frames waiting to be written on one channel.
///
/// Frames are encoded into one buffer and written with a single flush per
/// batch (per read burst, or per event-loop tick for frames produced from
/// elsewhere), so a burst of answers costs one syscall, not one per frame;
/// large frames are flushed as soon as they are encoded. A large body that is
/// sent as it is goes to the channel as its own buffer (one `writev` with the
/// rest), never copied.
struct FrameOutbox {
    var encoder: FrameEncoder
    private var pending: ByteBuffer
    /// Buffers complete before `pending`, in order: the encoded frames before
    /// a large body, and that body.
    private var ready: [ByteBuffer] = []
    private var readyBytes = 0
    private let allocator: ByteBufferAllocator
    /// Whether a flush is already queued on the event loop.
    var isFlushScheduled = false

    init(encoder: FrameEncoder, allocator: ByteBufferAllocator) {
        self.encoder = encoder
        self.allocator = allocator
        self.pending = allocator.buffer(capacity: 0)
    }

    var isEmpty: Bool { pending.readableBytes == 0 && ready.isEmpty }

    /// Bodies at least this large are written from where they are instead of
    /// being copied behind their header.
    static let outOfLineBodyBytes = 16 << 10

    /// Past this many pending bytes, frames go out at once instead of waiting
    /// for the batch: a peer can start on a large frame while the next is encoded.
    static let flushThreshold = 64 << 10

    var isFull: Bool { readyBytes + pending.readableBytes >= Self.flushThreshold }

    /// Encodes `frame` behind the frames already pending. On error nothing is added.
    mutating func append(_ frame: Frame) throws(WireError) {
        guard let body = try encoder.write(frame, to: &pending, bodyOutOfLineFrom: Self.outOfLineBodyBytes) else { return }
        readyBytes += pending.readableBytes + body.readableBytes
        ready.append(pending)
        ready.append(body)
        pending = allocator.buffer(capacity: 0)
    }

    /// Writes everything pending and flushes; `promise` completes once all
    /// bytes written so far on the channel are written (even when none are pending).
    mutating func flush(_ context: ChannelHandlerContext, promise: EventLoopPromise<Void>? = nil) {
        isFlushScheduled = false
        guard !isEmpty else {
            if let promise { context.writeAndFlush(NIOAny(allocator.buffer(capacity: 0)), promise: promise) }
            return
        }
        if pending.readableBytes > 0 {
            let bytes = pending
            // A fresh buffer: the written one stays with the channel until sent.
            pending = allocator.buffer(capacity: min(bytes.capacity, 64 << 10))
            ready.append(bytes)
        }
        let last = ready.count - 1
        for (index, bytes) in ready.enumerated() {
            context.write(NIOAny(bytes), promise: index == last ? promise : nil)
        }
        ready.removeAll(keepingCapacity: true)
        readyBytes = 0
        context.flush()
    }
}
