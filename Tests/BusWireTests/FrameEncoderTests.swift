import BusWire
import NIOCore
import Testing

@Suite struct FrameEncoderTests {
    @Test func framesOverThePeersLimitsAreRefusedNamingTheLimitAndWriteNothing() throws {
        let encoder = FrameEncoder(peerLimits: WireLimits(maxFrameBytes: 1000, maxHeaderBytes: 100, maxBodyBytes: 500), compression: nil)
        var out = ByteBuffer(string: "earlier frames")
        let request = FrameHeader(kind: .request, id: 1, service: "s", method: "m")

        let longKey = FrameHeader(kind: .request, id: 1, service: "s", method: "m", idempotencyKey: String(repeating: "k", count: 200))
        #expect(throws: WireError(.headerTooLarge, limit: .maxHeaderBytes, "header of 273 bytes exceeds max_header_bytes 100 bytes")) {
            try encoder.write(Frame(header: longKey), to: &out)
        }
        #expect(throws: WireError(.bodyTooLarge, limit: .maxBodyBytes, "body of 501 bytes exceeds max_body_bytes 500 bytes")) {
            try encoder.write(Frame(header: request, body: ByteBuffer(repeating: 1, count: 501)), to: &out)
        }
        let wide = FrameEncoder(peerLimits: WireLimits(maxFrameBytes: 100), compression: nil)
        #expect(throws: WireError(.frameTooLarge, limit: .maxFrameBytes, "frame of 160 bytes exceeds max_frame_bytes 100 bytes")) {
            try wide.write(Frame(header: request, body: ByteBuffer(repeating: 1, count: 100)), to: &out)
        }
        #expect(String(buffer: out) == "earlier frames")
    }

    @Test func malformedHeadersAreNeverSent() {
        var out = ByteBuffer()
        #expect(throws: WireError(.headerMalformed, #"header: a request needs "service""#)) {
            try FrameEncoder().write(Frame(header: FrameHeader(kind: .request, id: 1)), to: &out)
        }
        #expect(throws: WireError(.headerMalformed, "header: id 9007199254740992 exceeds 2^53-1")) {
            try FrameEncoder().write(Frame(header: FrameHeader(kind: .ping, id: 1 << 53)), to: &out)
        }
        #expect(out.readableBytes == 0)
    }

    @Test func prefixDescribesTheFrame() throws {
        var out = ByteBuffer()
        try FrameEncoder().write(Frame(header: FrameHeader(kind: .ping, id: 7), body: ByteBuffer()), to: &out)
        let header = #"{"kind":"ping","id":7}"#
        #expect(out.getInteger(at: 0, as: UInt32.self) == UInt32(8 + header.utf8.count))
        #expect(out.getInteger(at: 4, as: UInt8.self) == 1)
        #expect(out.getInteger(at: 5, as: UInt8.self) == 0)
        #expect(out.getInteger(at: 6, as: UInt16.self) == UInt16(header.utf8.count))
        #expect(out.getInteger(at: 8, as: UInt32.self) == 0)
        #expect(out.getString(at: 12, length: header.utf8.count) == header)
    }

    @Test func aLargePlainBodyCanBeLeftOutOfLineWithTheSameBytesOnTheWire() throws {
        let request = FrameHeader(kind: .request, id: 3, service: "echo", method: "echo")
        for (body, compression) in [
            (ByteBuffer(string: String(repeating: "{\"a\":1}", count: 10_000)), nil),  // plain: left out of line
            (ByteBuffer(string: String(repeating: "{\"a\":1}", count: 10_000)), CompressionPolicy(mode: .always)),  // compressed: inline
            (ByteBuffer(string: "{}"), nil),  // small: inline
        ] as [(ByteBuffer, CompressionPolicy?)] {
            let encoder = FrameEncoder(compression: compression)
            var whole = ByteBuffer()
            try encoder.write(Frame(header: request, body: body), to: &whole)
            var head = ByteBuffer()
            let outOfLine = try encoder.write(Frame(header: request, body: body), to: &head, bodyOutOfLineFrom: 16 << 10)
            #expect((outOfLine != nil) == (compression == nil && body.readableBytes >= 16 << 10))
            if var outOfLine {
                #expect(outOfLine.readableBytes == body.readableBytes)
                head.writeBuffer(&outOfLine)
            }
            #expect(head == whole)
        }
    }
}
