import BusWire
import NIOCore
import NIOTestUtils
import Testing

/// Every vector of `proto/vectors/` decodes to its stated meaning, and every
/// canonical one encodes back to its exact bytes.
@Suite struct VectorTests {
    static let vectors = (try? TestVector.loadAll()) ?? []

    @Test func thereAreEnoughVectors() throws {
        let vectors = try TestVector.loadAll()
        #expect(vectors.count >= 15)
        #expect(vectors.contains { $0.error == nil && $0.frames.contains { $0.isCompressed } })
        #expect(vectors.contains { $0.error?.stage == "frame" })
        #expect(vectors.contains { $0.error?.stage == "body" })
    }

    @Test(arguments: vectors)
    func decodesToItsMeaning(_ vector: TestVector) throws {
        let outcome = decode(vector.bytes, limits: vector.limits)
        #expect(outcome.frames.count == vector.frames.count, "frames decoded")
        for (decoded, expected) in zip(outcome.frames, vector.frames) {
            #expect(decoded.frame.header == expected.header)
            #expect(decoded.frame.isCompressed == expected.isCompressed)
            #expect(decoded.frame.bodySize == expected.bodySize)
            #expect(decoded.body.map { String(buffer: $0) } == expected.bodyText)
        }
        if let expected = vector.error {
            let error = try #require(outcome.error, "expected \(expected.reason)")
            #expect(error.reason.rawValue == expected.reason)
            #expect(error.code.rawValue == expected.code)
            #expect(outcome.errorStage == expected.stage)
            #expect(outcome.errorFrameIndex == expected.frameIndex)
        } else {
            #expect(outcome.error == nil)
        }
    }

    @Test(arguments: vectors.filter(\.isCanonical))
    func encodesBackToItsBytes(_ vector: TestVector) throws {
        let encoder = FrameEncoder()
        var out = ByteBuffer()
        for expected in vector.frames {
            try encoder.write(Frame(header: expected.header, body: ByteBuffer(string: expected.bodyText!)), to: &out)
        }
        #expect(out.hex == vector.bytes.hex)
    }

    /// Byte-at-a-time, frame-at-a-time and all-at-once feeding give the same frames.
    @Test func decoderIsIndependentOfHowBytesArrive() throws {
        let valid = Self.vectors.filter { $0.error == nil && $0.limits == .default }
        let pairs: [(ByteBuffer, [Frame])] = valid.map { vector in
            var parser = FrameParser()
            var bytes = vector.bytes
            var frames: [Frame] = []
            while let frame = try! parser.next(from: &bytes) { frames.append(frame) }
            return (vector.bytes, frames)
        }
        #expect(pairs.count >= 10)
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { FrameDecoder() }
    }

    struct Outcome {
        var frames: [(frame: Frame, body: ByteBuffer?)] = []
        var error: WireError?
        var errorStage: String?
        var errorFrameIndex: Int?
    }

    /// Decodes a whole stream as a receiver does: frames, then each body.
    func decode(_ bytes: ByteBuffer, limits: WireLimits) -> Outcome {
        var outcome = Outcome()
        var parser = FrameParser(limits: limits)
        let inflater = BodyInflater(limits: limits)
        var bytes = bytes
        do {
            while let frame = try parser.next(from: &bytes) {
                do {
                    outcome.frames.append((frame, try inflater.body(of: frame)))
                } catch {
                    outcome.frames.append((frame, nil))
                    outcome.error = error
                    outcome.errorStage = "body"
                    outcome.errorFrameIndex = outcome.frames.count - 1
                    return outcome
                }
            }
            try parser.finish(leftover: bytes)
        } catch {
            outcome.error = error
            outcome.errorStage = "frame"
            outcome.errorFrameIndex = outcome.frames.count
        }
        return outcome
    }
}
