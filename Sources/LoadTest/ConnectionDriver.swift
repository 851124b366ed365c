import BusRuntime
import BusWire
import Histogram
import NIOCore

/// Keeps a fixed number of calls outstanding on one connection, entirely on
/// that connection's event loop: a finished call records its latency and
/// sends the next one, with no task, lock or thread hop per request.
final class ConnectionDriver {
    enum Phase { case warmup, measuring, stopping }

    private let connection: PeerConnection
    private let header: FrameHeader
    private let body: ByteBuffer
    private let template: BodyTemplate?
    /// Numbers `{seq}`: unique across the run's drivers (each owns a residue).
    private var sequence: UInt64
    private let stride: UInt64
    private var generator = SystemRandomNumberGenerator()
    private let callTimeout: TimeAmount
    private var phase = Phase.warmup

    private(set) var latencies = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
    private(set) var ledger = DeliveryLedger()
    /// Completions (answers and failures) inside the measured window.
    private(set) var measuredCompletions = 0
    private(set) var measuredBytes = 0
    private var outstanding = 0
    private var drained: EventLoopPromise<Void>?

    init(connection: PeerConnection, service: String, method: String, tenant: String?, user: String?, body: ByteBuffer, template: BodyTemplate?, index: Int, drivers: Int, callTimeout: TimeAmount) {
        self.connection = connection
        var header = FrameHeader(kind: .request, service: service, method: method)
        header.tenant = tenant
        header.user = user
        self.header = header
        self.body = body
        self.template = template
        self.sequence = UInt64(index)
        self.stride = UInt64(drivers)
        self.callTimeout = callTimeout
    }

    var eventLoop: any EventLoop { connection.eventLoop }

    func start(slots: Int) {
        for _ in 0..<slots { fire() }
    }

    func startMeasuring() { phase = .measuring }

    /// Stops sending; the future completes when every outstanding call has ended.
    func stop() -> EventLoopFuture<Void> {
        phase = .stopping
        if outstanding == 0 { return eventLoop.makeSucceededVoidFuture() }
        let promise = eventLoop.makePromise(of: Void.self)
        drained = promise
        return promise.futureResult
    }

    private func fire() {
        guard phase != .stopping else { return }
        let started = NIODeadline.now()
        let promise = eventLoop.makePromise(of: ByteBuffer.self)
        outstanding += 1
        ledger.sent += 1
        let loopBound = NIOLoopBound(self, eventLoop: eventLoop)
        promise.futureResult.whenComplete { result in
            loopBound.value.finished(result, started: started)
        }
        var requestBody = body
        if let template {
            requestBody = template.render(sequence: sequence, generator: &generator)
            sequence += stride
        }
        connection.call(header, body: requestBody, deadline: started + callTimeout, promise: promise)
    }

    private func finished(_ result: Result<ByteBuffer, any Error>, started: NIODeadline) {
        outstanding -= 1
        let isMeasured = phase == .measuring
        switch result {
        case .success(let answer):
            ledger.answered += 1
            if isMeasured { measuredBytes += answer.readableBytes + body.readableBytes }  // the generated body's size (templates: approximate)
        case .failure(let error):
            ledger.recordFailure((error as? BusError)?.code ?? .internal)
        }
        if isMeasured {
            measuredCompletions += 1
            let micros = (NIODeadline.now() - started).nanoseconds / 1000
            _ = latencies.record(UInt64(max(micros, 0)))
        }
        if phase == .stopping, outstanding == 0 {
            drained?.succeed()
            drained = nil
        }
        fire()
    }

    /// A consistent copy of the counters, taken on the event loop.
    struct Snapshot: Sendable {
        var ledger: DeliveryLedger
        var measuredCompletions: Int
        var measuredBytes: Int
    }

    var snapshot: Snapshot {
        Snapshot(ledger: ledger, measuredCompletions: measuredCompletions, measuredBytes: measuredBytes)
    }
}
