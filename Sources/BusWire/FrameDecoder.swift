import NIOCore

/// Decodes frames from a channel's bytes (wrap it in a `ByteToMessageHandler`).
///
/// Errors are thrown into the pipeline as ``WireError``; all of them are fatal
/// to the connection, and the runtime answers them with an `error` frame.
public struct FrameDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = Frame

    private var parser: FrameParser

    /// - Parameter firstFrameMaxBytes: a smaller limit for the first frame
    ///   only: the accepting side passes ``WireLimits/maxHelloBytes``, so a
    ///   peer that has not authenticated cannot make it buffer a large frame.
    public init(limits: WireLimits = .default, firstFrameMaxBytes: Int? = nil) {
        self.parser = FrameParser(limits: limits, firstFrameMaxBytes: firstFrameMaxBytes)
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let frame = try parser.next(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(frame))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer, seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        if seenEOF { try parser.finish(leftover: buffer) }
        return .needMoreData
    }
}
