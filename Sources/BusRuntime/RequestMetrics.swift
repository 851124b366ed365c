import BusWire
import Metrics
import NIOConcurrencyHelpers
import NIOCore

/// Per-method request metrics of a serving node, through swift-metrics:
///
/// - `videobus_requests_total{service, method, outcome}`: outcome is `ok` or the error code;
/// - `videobus_request_duration_seconds{service, method}`: from arrival to answer.
///
/// The metric objects are made once per method and outcome and cached, so a
/// request costs a dictionary lookup and two atomic updates, not a factory call.
final class RequestMetrics: Sendable {
    private let service: String
    private let counters = NIOLockedValueBox<[Key: Counter]>([:])
    private let timers = NIOLockedValueBox<[String: Metrics.Timer]>([:])

    private struct Key: Hashable {
        var method: String
        var outcome: String
    }

    init(service: String) {
        self.service = service
    }

    func record(method: String, outcome: BusError?, since start: NIODeadline) {
        let key = Key(method: method, outcome: outcome?.code.rawValue ?? "ok")
        let service = self.service
        let counter = counters.withLockedValue { counters in
            if let counter = counters[key] { return counter }
            let counter = Counter(label: "videobus_requests_total", dimensions: [("service", service), ("method", method), ("outcome", key.outcome)])
            counters[key] = counter
            return counter
        }
        counter.increment()
        let timer = timers.withLockedValue { timers in
            if let timer = timers[method] { return timer }
            let timer = Metrics.Timer(label: "videobus_request_duration_seconds", dimensions: [("service", service), ("method", method)], preferredDisplayUnit: .seconds)
            timers[method] = timer
            return timer
        }
        timer.recordNanoseconds((NIODeadline.now() - start).nanoseconds)
    }
}
