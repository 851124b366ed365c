import BusRuntime
import BusWire
import Histogram
import NIOCore

/// Runs one ``Workload`` against a node and reports what it measured.
public struct LoadRun: Sendable {
    public var workload: Workload
    /// The node whose `echo` is driven.
    public var host: String
    public var port: Int
    /// Service name of the target node.
    public var service: String
    /// The harness's own node (its connections, token and event loops).
    public var caller: BusNode

    public init(workload: Workload, host: String, port: Int, service: String, caller: BusNode) {
        self.workload = workload
        self.host = host
        self.port = port
        self.service = service
        self.caller = caller
    }

    /// - Parameter progress: called about once a second with the completions
    ///   per second of the last interval and the phase.
    public func run(progress: @Sendable (Progress) -> Void = { _ in }) async throws -> LoadReport {
        var connections: [PeerConnection] = []
        for _ in 0..<workload.connections {
            connections.append(try await caller.connect(host: host, port: port))
        }
        defer { for connection in connections { Task { await connection.close() } } }

        let body = workload.template == nil ? workload.body : ByteBuffer()
        var drivers: [NIOLoopBound<ConnectionDriver>] = []
        for (index, connection) in connections.enumerated() {
            let (service, method, tenant, user) = (service, workload.method, workload.tenant, workload.user)
            let (template, timeout, count) = (workload.template, workload.callTimeout, connections.count)
            // A driver lives on its connection's event loop, so it is made there.
            drivers.append(try await connection.eventLoop.submit {
                NIOLoopBound(ConnectionDriver(
                    connection: connection, service: service, method: method, tenant: tenant, user: user, body: body, template: template,
                    index: index, drivers: count, callTimeout: timeout
                ), eventLoop: connection.eventLoop)
            }.get())
        }
        let slots = workload.inFlight
        for driver in drivers { try await driver.eventLoop.submit { driver.value.start(slots: slots) }.get() }

        try await report(progress, phase: "warmup", for: workload.warmup, drivers: drivers)
        for driver in drivers { try await driver.eventLoop.submit { driver.value.startMeasuring() }.get() }
        let measuredStart = NIODeadline.now()
        try await report(progress, phase: "measure", for: workload.duration, drivers: drivers)
        let measuredEnd = NIODeadline.now()
        for driver in drivers {
            try await driver.eventLoop.flatSubmit { driver.value.stop() }.get()
        }

        var latencies = Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three)
        var ledger = DeliveryLedger()
        var completions = 0
        var bytes = 0
        for driver in drivers {
            let (histogram, snapshot) = try await driver.eventLoop.submit { (driver.value.latencies, driver.value.snapshot) }.get()
            latencies.add(histogram)
            ledger.add(snapshot.ledger)
            completions += snapshot.measuredCompletions
            bytes += snapshot.measuredBytes
        }
        let seconds = Double((measuredEnd - measuredStart).nanoseconds) / 1e9
        return LoadReport(
            workload: workload, seconds: seconds,
            requestsPerSecond: Double(completions) / seconds,
            megabytesPerSecond: Double(bytes) / seconds / 1e6,
            latency: LatencySummary(latencies), ledger: ledger
        )
    }

    public struct Progress: Sendable {
        public var phase: String
        public var elapsedSeconds: Int
        public var requestsPerSecond: Double
        public var failures: Int
    }

    private func report(_ progress: @Sendable (Progress) -> Void, phase: String, for duration: TimeAmount, drivers: [NIOLoopBound<ConnectionDriver>]) async throws {
        let end = NIODeadline.now() + duration
        var previous = try await totals(drivers)
        var previousTime = NIODeadline.now()
        var elapsed = 0
        while NIODeadline.now() < end {
            try await Task.sleep(for: .nanoseconds(min(1_000_000_000, (end - .now()).nanoseconds)))
            let current = try await totals(drivers)
            let now = NIODeadline.now()
            elapsed += 1
            let rate = Double(current.completed - previous.completed) / (Double((now - previousTime).nanoseconds) / 1e9)
            progress(Progress(phase: phase, elapsedSeconds: elapsed, requestsPerSecond: rate, failures: current.failed))
            previous = current
            previousTime = now
        }
    }

    private func totals(_ drivers: [NIOLoopBound<ConnectionDriver>]) async throws -> (completed: Int, failed: Int) {
        var completed = 0
        var failed = 0
        for driver in drivers {
            let ledger = try await driver.eventLoop.submit { driver.value.ledger }.get()
            completed += ledger.answered + ledger.failed
            failed += ledger.failed
        }
        return (completed, failed)
    }
}
