import ArgumentParser
import BusWire
import NIOCore

/// `videobus bench wire`: the cost of the wire format on one core.
struct BenchWire: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wire",
        abstract: "Measure frame encode+decode and body deflate/inflate on the current thread.",
        discussion: "Pin it to one core for stable figures: taskset -c 0 videobus bench wire"
    )

    @Option(help: "Seconds to measure each case.")
    var seconds: Double = 3

    @Option(help: "Body size of the round-trip case, bytes.")
    var frameBody: Int = 256

    @Option(help: "Body size of the compression cases, bytes.")
    var compressBody: Int = 64 << 10

    enum Case: String, ExpressibleByArgument, CaseIterable {
        case frame, deflate, inflate
    }

    @Option(name: .customLong("case"), help: "Run only these cases (frame, deflate, inflate); all by default.")
    var cases: [Case] = Case.allCases

    @Flag(help: "Print one JSON line instead of the table.")
    var json = false

    func validate() throws {
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
        guard frameBody >= 2 else { throw ValidationError("--frame-body must be at least 2 bytes") }
        guard compressBody >= 4096 else { throw ValidationError("--compress-body must be at least 4096 bytes") }
    }

    func run() throws {
        let benchmark = WireBenchmark(duration: .milliseconds(Int64(seconds * 1000)))
        let results = try cases.map { benchmarkCase in
            switch benchmarkCase {
            case .frame: try benchmark.frameRoundTrip(bodyBytes: frameBody)
            case .deflate: try benchmark.deflate(bodyBytes: compressBody)
            case .inflate: try benchmark.inflate(bodyBytes: compressBody)
            }
        }
        if json {
            let fields = results.map { "\"\($0.key)\":{\"rate\":\(Int($0.rate)),\"unit\":\"\($0.unit)\",\"ns_per_op\":\(Int($0.nanosecondsPerOperation))}" }
            print("{\"bench\":\"wire\",\(fields.joined(separator: ","))}")
        } else {
            print("case".padding(24) + "rate".padding(20) + "ns/op")
            for result in results {
                print(result.name.padding(24) + "\(formatted(result.rate)) \(result.unit)".padding(20) + "\(Int(result.nanosecondsPerOperation))")
            }
        }
    }

    private func formatted(_ rate: Double) -> String {
        rate >= 1000 ? String(Int(rate.rounded())) : String(Double(Int(rate * 10)) / 10)
    }
}

extension String {
    fileprivate func padding(_ width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
