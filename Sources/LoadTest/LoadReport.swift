import Foundation
import Histogram

/// Latency percentiles of a run, in microseconds.
public struct LatencySummary: Sendable, Hashable {
    public var p50: UInt64
    public var p90: UInt64
    public var p99: UInt64
    public var p999: UInt64
    public var max: UInt64
    public var count: UInt64

    init(_ histogram: Histogram<UInt64>) {
        p50 = histogram.valueAtPercentile(50)
        p90 = histogram.valueAtPercentile(90)
        p99 = histogram.valueAtPercentile(99)
        p999 = histogram.valueAtPercentile(99.9)
        max = histogram.max
        count = histogram.totalCount
    }
}

/// What one run measured: throughput, latency and the delivery ledger.
public struct LoadReport: Sendable {
    public var workload: Workload
    public var seconds: Double
    public var requestsPerSecond: Double
    public var megabytesPerSecond: Double
    public var latency: LatencySummary
    public var ledger: DeliveryLedger
    /// Peak resident memory of the target server, when the harness started it.
    public var serverPeakRSSBytes: Int?

    /// A human-readable table.
    public var table: String {
        let w = workload
        var lines = [
            w.template == nil
                ? "\(w.name): \(w.connections) connection(s) × \(w.inFlight) in flight, \(w.bodyBytes)-byte \(w.compressible ? "compressible " : "")body, \(String(format: "%.1f", seconds)) s measured"
                : "\(w.name): \(w.connections) connection(s) × \(w.inFlight) in flight, \(String(format: "%.1f", seconds)) s measured",
            "  throughput   \(Int(requestsPerSecond.rounded())) req/s   \(String(format: "%.1f", megabytesPerSecond)) MB/s",
            "  latency µs   p50 \(latency.p50)   p90 \(latency.p90)   p99 \(latency.p99)   p99.9 \(latency.p999)   max \(latency.max)",
            "  ledger       sent \(ledger.sent)   answered \(ledger.answered)   failed \(ledger.failed)   lost \(ledger.lost)",
        ]
        if !ledger.failures.isEmpty {
            lines.append("  errors       " + ledger.failures.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: "   "))
        }
        if let rss = serverPeakRSSBytes {
            lines.append("  server       peak RSS \(rss >> 20) MiB")
        }
        return lines.joined(separator: "\n")
    }

    /// One JSON line, for scripts.
    public var jsonLine: String {
        let failures = ledger.failures.sorted { $0.key < $1.key }.map { "\"\($0.key)\":\($0.value)" }.joined(separator: ",")
        var fields = [
            "\"workload\":\"\(workload.name)\"", "\"method\":\"\(workload.method)\"", "\"connections\":\(workload.connections)", "\"in_flight\":\(workload.inFlight)",
            "\"body_bytes\":\(workload.bodyBytes)", "\"seconds\":\(String(format: "%.3f", seconds))",
            "\"requests_per_second\":\(Int(requestsPerSecond.rounded()))", "\"megabytes_per_second\":\(String(format: "%.2f", megabytesPerSecond))",
            "\"latency_us\":{\"p50\":\(latency.p50),\"p90\":\(latency.p90),\"p99\":\(latency.p99),\"p99_9\":\(latency.p999),\"max\":\(latency.max)}",
            "\"ledger\":{\"sent\":\(ledger.sent),\"answered\":\(ledger.answered),\"failed\":\(ledger.failed),\"lost\":\(ledger.lost),\"errors\":{\(failures)}}",
        ]
        if let rss = serverPeakRSSBytes { fields.append("\"server_peak_rss_bytes\":\(rss)") }
        return "{" + fields.joined(separator: ",") + "}"
    }
}
