import BusWire
import NIOCore
import Testing

/// Throws mutated and random inputs at the decoder: it must answer each with
/// frames or a ``WireError``, never crash or hang, and never need more buffered
/// bytes, or allocate a larger body, than its limits allow.
@Suite struct FrameParserFuzzTests {
    /// Small limits so that random lengths hit them often.
    static let limits = WireLimits(maxFrameBytes: 4096, maxHeaderBytes: 512, maxBodyBytes: 8192)
    static let iterations = 100_000

    @Test func mutatedAndRandomInputsOnlyEverYieldFramesOrNamedErrors() throws {
        var random = SeededRandom(seed: 0x5EED)
        let seeds = try Self.seedInputs()
        var reasons: [WireError.Reason: Int] = [:]
        var framesDecoded = 0
        var bodiesOpened = 0

        for iteration in 0..<Self.iterations {
            let input: [UInt8]
            switch iteration % 4 {
            case 0: input = (0..<random.int(in: 0...96)).map { _ in random.byte() }
            case 1: input = Self.randomFrame(&random)
            default: input = Self.mutate(seeds[random.int(in: 0...(seeds.count - 1))], &random)
            }
            let result = Self.feed(input, chunked: &random)
            framesDecoded += result.frames
            bodiesOpened += result.bodies
            if let reason = result.reason { reasons[reason, default: 0] += 1 }
        }
        // The generator must actually reach deep paths, not only fail at the prefix.
        #expect(framesDecoded > 10_000)
        #expect(bodiesOpened > 5_000)
        for reason in [WireError.Reason.frameTooLarge, .headerMalformed, .sizeMismatch, .truncated, .unsupportedVersion, .corruptBody] {
            #expect(reasons[reason, default: 0] > 0, "fuzzing never produced \(reason.rawValue)")
        }
    }

    struct FeedResult { var frames = 0, bodies = 0, reason: WireError.Reason? }

    /// Feeds `input` in random chunks, as reads arrive, checking the bounds after each step.
    static func feed(_ input: [UInt8], chunked random: inout SeededRandom) -> FeedResult {
        var parser = FrameParser(limits: limits)
        let inflater = BodyInflater(limits: limits)
        var buffered = ByteBuffer()
        var offset = 0
        var result = FeedResult()
        do throws(WireError) {
            while offset < input.count {
                let chunk = min(input.count - offset, random.int(in: 1...64))
                buffered.writeBytes(input[offset..<(offset + chunk)])
                offset += chunk
                while let frame = try parser.next(from: &buffered) {
                    result.frames += 1
                    let body = try inflater.body(of: frame)
                    result.bodies += 1
                    if body.readableBytes > limits.maxBodyBytes { Issue.record("opened a body of \(body.readableBytes) bytes, over max_body_bytes") }
                }
                if parser.bytesNeeded > 4 + limits.maxFrameBytes { Issue.record("parser waits for \(parser.bytesNeeded) bytes, more than max_frame_bytes") }
                if buffered.readableBytes >= parser.bytesNeeded { Issue.record("parser left a complete frame unread") }
            }
            try parser.finish(leftover: buffered)
        } catch {
            result.reason = error.reason
        }
        return result
    }

    /// The valid vectors plus frames written by the encoder, compressed and not.
    static func seedInputs() throws -> [[UInt8]] {
        var seeds = try TestVector.loadAll().filter { $0.error == nil }.map { Array($0.bytes.readableBytesView) }
        let encoder = FrameEncoder(peerLimits: limits, compression: CompressionPolicy(threshold: 64))
        for size in [0, 10, 100, 1000, 3000] {
            var out = ByteBuffer()
            let body = "{\"text\":\"" + String(repeating: "abc", count: size / 3) + "\"}"
            try encoder.write(Frame(header: FrameHeader(kind: .request, id: 9, service: "s", method: "m"), body: ByteBuffer(string: body)), to: &out)
            seeds.append(Array(out.readableBytesView))
        }
        return seeds
    }

    static func mutate(_ seed: [UInt8], _ random: inout SeededRandom) -> [UInt8] {
        var bytes = seed
        for _ in 0..<random.int(in: 1...4) {
            guard !bytes.isEmpty else { break }
            let at = random.int(in: 0...(bytes.count - 1))
            switch random.int(in: 0...6) {
            case 0: bytes[at] ^= 1 << UInt8(random.int(in: 0...7))
            case 1: bytes[at] = random.byte()
            case 2: bytes.removeSubrange(at...)  // truncate
            case 3: bytes.insert(random.byte(), at: at)
            case 4: bytes.remove(at: at)
            case 5: bytes.append(contentsOf: seed)  // a second frame
            default:
                // Rewrite one prefix field with an interesting value.
                let field = random.int(in: 0...3)
                let value = [0, 1, 7, 8, 0xFF, 0xFFFF, 0x7FFF_FFFF, 0xFFFF_FFFF][random.int(in: 0...7)]
                let (offset, width) = [(0, 4), (6, 2), (8, 4), (4, 2)][field]
                if bytes.count >= offset + width {
                    for i in 0..<width { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * (width - 1 - i))) }
                }
            }
        }
        return bytes
    }

    /// A structurally plausible frame with random prefix fields and a random-ish header.
    static func randomFrame(_ random: inout SeededRandom) -> [UInt8] {
        let headers = [
            "{\"kind\":\"request\",\"id\":1,\"service\":\"a\",\"method\":\"b\"}", "{\"kind\":\"ping\",\"id\":2}",
            "{\"kind\":\"event\",\"id\":3,\"topic\":\"t\",\"event_id\":\"e\"}", "{\"kind\":\"pong\"}", "{}", "[]",
            "{\"kind\":\"response\",\"id\":4,\"error\":{\"code\":\"x\",\"message\":\"\\u00e9\",\"retryable\":true}}",
            "{\"kind\":\"ping\",\"id\":5,\"x\":[{\"y\":[1,2e5,-0.5,null,true]}]}",
        ]
        var header = Array(headers[random.int(in: 0...(headers.count - 1))].utf8)
        if random.int(in: 0...2) == 0, !header.isEmpty { header[random.int(in: 0...(header.count - 1))] = random.byte() }
        let compressed = random.int(in: 0...1) == 1
        var body: [UInt8] = (0..<random.int(in: 0...300)).map { _ in random.int(in: 0...1) == 0 ? 0x61 : random.byte() }
        if compressed {
            var out = ByteBuffer()
            let plain = ByteBuffer(bytes: Array(repeating: 0x7B, count: random.int(in: 1...9000)))
            if BodyDeflater().compress(plain, appendingTo: &out) { body = Array(out.readableBytesView) }
        }
        let declared = random.int(in: 0...3) == 0 ? random.int(in: 0...20000) : body.count
        var frame: [UInt8] = []
        let length = 8 + header.count + body.count
        frame += [UInt8(length >> 24 & 0xFF), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
        frame += [random.int(in: 0...9) == 0 ? 2 : 1, compressed ? 1 : 0]
        frame += [UInt8(header.count >> 8), UInt8(header.count & 0xFF)]
        frame += [UInt8(declared >> 24 & 0xFF), UInt8(declared >> 16 & 0xFF), UInt8(declared >> 8 & 0xFF), UInt8(declared & 0xFF)]
        return frame + header + body
    }
}

/// Deterministic randomness, so a failing input can be reproduced from the seed.
struct SeededRandom {
    private var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    mutating func int(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.count))
    }

    mutating func byte() -> UInt8 { UInt8(truncatingIfNeeded: next()) }
}
