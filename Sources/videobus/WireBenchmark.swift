import BusWire
import LoadTest
import NIOCore

/// The wire micro-benchmarks: each case runs its operation in a loop on the
/// calling thread for a fixed duration and reports operations per second.
struct WireBenchmark {
    struct Result {
        /// Machine-readable name, used in the JSON line.
        var key: String
        var name: String
        var rate: Double
        var unit: String
        var nanosecondsPerOperation: Double
    }

    var duration: Duration

    /// Encode then decode a request frame with a JSON body of `bodyBytes`,
    /// uncompressed (it is under the threshold), as the runtime does per call.
    func frameRoundTrip(bodyBytes: Int) throws -> Result {
        let encoder = FrameEncoder()
        let inflater = BodyInflater()
        var parser = FrameParser()
        var header = FrameHeader(
            kind: .request, id: 1, service: "analysis-store", method: "get",
            timeoutMilliseconds: 5000, trace: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        )
        let body = ByteBuffer(string: SampleJSON.object(bytes: bodyBytes))
        var wire = ByteBuffer()
        var checksum = 0
        let (operations, elapsed) = try measure {
            header.id &+= 1
            try encoder.write(Frame(header: header, body: body), to: &wire)
            guard let frame = try parser.next(from: &wire) else { throw BenchmarkError("frame did not decode") }
            checksum &+= try inflater.body(of: frame).readableBytes &+ Int(frame.header.id)
            wire.clear()
        }
        precondition(checksum != 0)
        return result("frame_round_trip", "frame round trip", operations, elapsed, unit: "frames/s")
    }

    /// Compress a JSON body of `bodyBytes` (zlib level 1, as the encoder does).
    func deflate(bodyBytes: Int) throws -> Result {
        let deflater = BodyDeflater()
        let body = ByteBuffer(string: SampleJSON.array(bytes: bodyBytes))
        var out = ByteBuffer()
        let (operations, elapsed) = try measure {
            guard deflater.compress(body, appendingTo: &out) else { throw BenchmarkError("body did not compress") }
            out.clear()
        }
        return throughput("deflate", "deflate \(bodyBytes >> 10) KiB JSON", operations, elapsed, bytes: bodyBytes)
    }

    /// Inflate the same body, bounded by its declared size as a receiver does.
    func inflate(bodyBytes: Int) throws -> Result {
        let encoder = FrameEncoder()
        var wire = ByteBuffer()
        try encoder.write(Frame(header: FrameHeader(kind: .response, id: 1), body: ByteBuffer(string: SampleJSON.array(bytes: bodyBytes))), to: &wire)
        var parser = FrameParser()
        guard let frame = try parser.next(from: &wire), frame.isCompressed else { throw BenchmarkError("body did not compress") }
        let inflater = BodyInflater()
        var checksum = 0
        let (operations, elapsed) = try measure {
            checksum &+= try inflater.body(of: frame).readableBytes
        }
        precondition(checksum != 0)
        return throughput("inflate", "inflate \(bodyBytes >> 10) KiB JSON", operations, elapsed, bytes: bodyBytes)
    }

    /// Runs `operation` in batches until `duration` has passed.
    private func measure(_ operation: () throws -> Void) throws -> (Int, Duration) {
        let clock = ContinuousClock()
        for _ in 0..<100 { try operation() }  // warm caches and allocator
        var operations = 0
        let start = clock.now
        var elapsed = Duration.zero
        while elapsed < duration {
            for _ in 0..<64 { try operation() }
            operations += 64
            elapsed = clock.now - start
        }
        return (operations, elapsed)
    }

    private func result(_ key: String, _ name: String, _ operations: Int, _ elapsed: Duration, unit: String) -> Result {
        let seconds = elapsed.seconds
        return Result(key: key, name: name, rate: Double(operations) / seconds, unit: unit, nanosecondsPerOperation: seconds * 1e9 / Double(operations))
    }

    private func throughput(_ key: String, _ name: String, _ operations: Int, _ elapsed: Duration, bytes: Int) -> Result {
        var result = result(key, name, operations, elapsed, unit: "MB/s")
        result.rate = result.rate * Double(bytes) / 1e6
        return result
    }
}

struct BenchmarkError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
}

