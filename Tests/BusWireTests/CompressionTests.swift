import BusWire
import CZlib
import Foundation
import NIOCore
import Testing

@Suite struct CompressionTests {
    let request = FrameHeader(kind: .request, id: 1, service: "analysis-store", method: "create")

    @Test func zlibStateIsMadeOnlyWhenACompressedBodyIsSentOrReceived() throws {
        let deflater = BodyDeflater()
        let inflater = BodyInflater()
        #expect(!deflater.hasState && !inflater.hasState)
        var out = ByteBuffer()
        #expect(!deflater.compress(ByteBuffer(string: "x"), appendingTo: &out))  // too small to try
        _ = try inflater.body(of: encode(ByteBuffer(string: "{}")))
        #expect(!deflater.hasState && !inflater.hasState)
        let big = ByteBuffer(string: String(repeating: "{\"a\":1}", count: 1000))
        #expect(deflater.compress(big, appendingTo: &out))
        let compressed = try encode(big)
        #expect(compressed.isCompressed)
        #expect(try inflater.body(of: compressed) == big)
        #expect(deflater.hasState && inflater.hasState)
    }

    @Test func aFirstFrameAboveTheHelloLimitIsRefusedFromItsLengthAlone() throws {
        var parser = FrameParser(firstFrameMaxBytes: WireLimits.maxHelloBytes)
        var wire = ByteBuffer(bytes: [0x00, 0x10, 0x00, 0x00])  // announces 1 MiB, sends nothing more
        let error = #expect(throws: WireError.self) { try parser.next(from: &wire) }
        #expect(error?.reason == .frameTooLarge)
        #expect(error?.message.contains("max_hello_bytes") == true)
        // Only the first frame is bounded so.
        var later = FrameParser(firstFrameMaxBytes: WireLimits.maxHelloBytes)
        var frames = ByteBuffer()
        try FrameEncoder(compression: nil).write(Frame(header: FrameHeader(kind: .hello), body: ByteBuffer(string: "{}")), to: &frames)
        try FrameEncoder(compression: nil).write(Frame(header: request, body: ByteBuffer(repeating: 0x61, count: 100_000)), to: &frames)
        #expect(try later.next(from: &frames)?.header.kind == .hello)
        #expect(try later.next(from: &frames)?.body.readableBytes == 100_000)
    }

    func encode(_ body: ByteBuffer, encoder: FrameEncoder = FrameEncoder()) throws -> Frame {
        var wire = ByteBuffer()
        try encoder.write(Frame(header: request, body: body), to: &wire)
        var parser = FrameParser()
        return try #require(try parser.next(from: &wire))
    }

    @Test func compressibleBodiesAtTheThresholdAreCompressedAndComeBackIntact() throws {
        let body = ByteBuffer(string: String(repeating: "{\"description\":\"a sunset\"},", count: 200))
        let frame = try encode(body)
        #expect(frame.isCompressed)
        #expect(frame.body.readableBytes < body.readableBytes / 4)
        #expect(frame.bodySize == body.readableBytes)
        #expect(try BodyInflater().body(of: frame) == body)
    }

    @Test func tinyBodiesAreNotCompressed() throws {
        let body = ByteBuffer(string: String(repeating: "a", count: 4095))  // very compressible, under the threshold
        let frame = try encode(body)
        #expect(!frame.isCompressed)
        #expect(frame.body == body)
    }

    @Test func bodiesCompressionCannotShrinkAreSentPlain() throws {
        var random = SeededRandom(seed: 42)
        let body = ByteBuffer(bytes: (0..<65536).map { _ in random.byte() })
        let frame = try encode(body)
        #expect(!frame.isCompressed)
        #expect(frame.body == body)
    }

    @Test func withoutNegotiatedDeflateNothingIsCompressed() throws {
        let body = ByteBuffer(string: String(repeating: "x", count: 100_000))
        let frame = try encode(body, encoder: FrameEncoder(compression: nil))
        #expect(!frame.isCompressed)
    }

    @Test func theDeflaterIsReusableAcrossBodies() throws {
        let deflater = BodyDeflater()
        let inflater = BodyInflater()
        for size in [5000, 70_000, 4096, 300_000] {
            let body = ByteBuffer(string: String(repeating: "frame \(size) ", count: size / 10))
            var out = ByteBuffer()
            #expect(deflater.compress(body, appendingTo: &out))
            let frame = Frame(header: request, wireBody: out, isCompressed: true, bodySize: body.readableBytes)
            #expect(try inflater.body(of: frame) == body)
        }
    }

    /// 1 GiB of zeros deflates to about 1 MiB. Declared honestly it is refused
    /// from the prefix; declared as a size within the limit it is refused after
    /// inflating at most that many bytes. Either way memory stays bounded.
    @Test func aGibibyteBombIsRefusedWithBoundedMemory() throws {
        let bomb = Self.zlibStreamOfZeros(count: 1 << 30)
        #expect(bomb.readableBytes < 2 << 20)
        let highWaterBefore = Self.peakResidentBytes()
        let inflater = BodyInflater()

        let honest = Frame(header: request, wireBody: bomb, isCompressed: true, bodySize: 1 << 30)
        #expect(throws: WireError.self) { try inflater.body(of: honest) }
        do {
            _ = try inflater.body(of: honest)
        } catch {
            #expect(error.reason == .bodyTooLarge)
            #expect(error.limit == .maxBodyBytes)
            #expect(error.message == "body of 1 GiB exceeds max_body_bytes 16 MiB")
        }

        let lying = Frame(header: request, wireBody: bomb, isCompressed: true, bodySize: 16 << 20)
        do {
            _ = try inflater.body(of: lying)
            Issue.record("a lying bomb inflated")
        } catch {
            #expect(error.reason == .sizeMismatch)
        }
        // Bounded: the 16 MiB window, not the gibibyte (other suites run in
        // parallel, so the margin is generous but far below 1 GiB).
        let grown = Self.peakResidentBytes() - highWaterBefore
        #expect(grown < 256 << 20, "peak memory grew by \(grown >> 20) MiB")
    }

    @Test func truncatedOrGarbledStreamsAreCorrupt() throws {
        let body = ByteBuffer(string: String(repeating: "abcdef", count: 2000))
        var compressed = ByteBuffer()
        #expect(BodyDeflater().compress(body, appendingTo: &compressed))
        let inflater = BodyInflater()

        let cut = compressed.getSlice(at: 0, length: compressed.readableBytes - 3)!
        #expect(throws: WireError(.corruptBody, "compressed body ends before its zlib stream does")) {
            try inflater.body(of: Frame(header: request, wireBody: cut, isCompressed: true, bodySize: body.readableBytes))
        }
        var trailing = compressed
        trailing.writeString("junk")
        #expect(throws: WireError(.corruptBody, "bytes follow the end of the compressed body's zlib stream")) {
            try inflater.body(of: Frame(header: request, wireBody: trailing, isCompressed: true, bodySize: body.readableBytes))
        }
        // And the inflater still works afterwards.
        #expect(try inflater.body(of: Frame(header: request, wireBody: compressed, isCompressed: true, bodySize: body.readableBytes)) == body)
    }

    /// Streams zeros through zlib one MiB at a time, so the test itself never holds the gibibyte.
    static func zlibStreamOfZeros(count: Int) -> ByteBuffer {
        var stream = z_stream()
        precondition(czlib_deflate_init(&stream, 9, 15, 9) == Z_OK)
        defer { deflateEnd(&stream) }
        var zeros = [UInt8](repeating: 0, count: 1 << 20)
        var output = [UInt8](repeating: 0, count: 1 << 16)
        var result = ByteBuffer()
        var remaining = count
        repeat {
            let flush = remaining <= zeros.count ? Z_FINISH : Z_NO_FLUSH
            let chunk = min(remaining, zeros.count)
            remaining -= chunk
            zeros.withUnsafeMutableBufferPointer { input in
                stream.next_in = input.baseAddress
                stream.avail_in = UInt32(chunk)
                repeat {
                    output.withUnsafeMutableBufferPointer { out in
                        stream.next_out = out.baseAddress
                        stream.avail_out = UInt32(out.count)
                        deflate(&stream, flush)
                        result.writeBytes(UnsafeBufferPointer(rebasing: out[0..<(out.count - Int(stream.avail_out))]))
                    }
                } while stream.avail_out == 0
            }
        } while remaining > 0
        return result
    }

    /// The process's peak resident set (VmHWM), in bytes.
    static func peakResidentBytes() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        let line = status.split(separator: "\n").first { $0.hasPrefix("VmHWM:") } ?? ""
        return (Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0) * 1024
    }
}

/// The per-connection decision (spec §12) as a pure function of the mode and the link.
@Suite struct CompressionModeDecisionTests {
    @Test func autoCompressesOnlyOnALinkWhoseRoundTripReachesTheThreshold() {
        let auto = CompressionPolicy()
        #expect(auto.mode == .auto && auto.slowLinkRoundTrip == .milliseconds(10))
        #expect(!auto.compressesOutgoing(peerIsLocal: false, roundTrip: nil))  // not measured yet
        #expect(!auto.compressesOutgoing(peerIsLocal: false, roundTrip: .microseconds(200)))  // a LAN
        #expect(!auto.compressesOutgoing(peerIsLocal: false, roundTrip: .microseconds(9_999)))
        #expect(auto.compressesOutgoing(peerIsLocal: false, roundTrip: .milliseconds(10)))
        #expect(auto.compressesOutgoing(peerIsLocal: false, roundTrip: .milliseconds(150)))  // across a continent
        // A peer on this host never, whatever the measure says (a busy peer answers late).
        #expect(!auto.compressesOutgoing(peerIsLocal: true, roundTrip: .milliseconds(150)))
        // The threshold is the node's to set.
        let eager = CompressionPolicy(slowLinkRoundTrip: .milliseconds(1))
        #expect(eager.compressesOutgoing(peerIsLocal: false, roundTrip: .milliseconds(2)))
        #expect(!eager.compressesOutgoing(peerIsLocal: false, roundTrip: .microseconds(500)))
    }

    @Test func alwaysAndNeverIgnoreTheLink() {
        let always = CompressionPolicy(mode: .always)
        let never = CompressionPolicy(mode: .never)
        for (local, roundTrip) in [(true, nil), (false, nil), (false, TimeAmount.microseconds(100)), (false, .milliseconds(200))] as [(Bool, TimeAmount?)] {
            #expect(always.compressesOutgoing(peerIsLocal: local, roundTrip: roundTrip))
            #expect(!never.compressesOutgoing(peerIsLocal: local, roundTrip: roundTrip))
        }
        #expect(always.offersDeflate && CompressionPolicy().offersDeflate && !never.offersDeflate)
    }

    @Test func aPeerIsLocalOnLoopbackAUnixSocketOrTheConnectionsOwnAddress() throws {
        let here = try SocketAddress(ipAddress: "10.0.0.5", port: 7000)
        for remote in ["127.0.0.1", "127.8.9.10", "::1", "::ffff:127.0.0.1"] {
            #expect(CompressionPolicy.isLocal(remote: try SocketAddress(ipAddress: remote, port: 40000), local: here), "\(remote)")
        }
        #expect(CompressionPolicy.isLocal(remote: try SocketAddress(unixDomainSocketPath: "/tmp/bus.sock"), local: nil))
        #expect(CompressionPolicy.isLocal(remote: try SocketAddress(ipAddress: "10.0.0.5", port: 40000), local: here))
        for remote in ["10.0.0.6", "192.168.1.20", "::ffff:10.0.0.6", "2001:db8::1", "128.0.0.1"] {
            #expect(!CompressionPolicy.isLocal(remote: try SocketAddress(ipAddress: remote, port: 40000), local: here), "\(remote)")
        }
        #expect(!CompressionPolicy.isLocal(remote: nil, local: here))
    }
}
