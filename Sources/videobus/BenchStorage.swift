import ArgumentParser
import BusRuntime
import BusWire
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Registry
import ServiceKit
import Storage

/// `videobus bench storage`: commits/s, batched rows/s and outbox relay
/// events/s on SQLite and PostgreSQL, each with its durability setting named.
struct BenchStorage: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "storage",
        abstract: "Measure single-row commits, batched inserts and outbox relay throughput.",
        discussion: "PostgreSQL cases need --postgres-url (./scripts/bench-storage starts a server with fsync on)."
    )

    @Option(help: "Seconds per case.") var seconds: Double = 3
    @Option(help: "A PostgreSQL database to benchmark (its tables are created and dropped).") var postgresURL: String?
    @Option(help: "Concurrent writers in the commit cases.") var writers: Int = 16
    @Option(help: "Events for the relay case.") var events: Int = 20_000
    @Flag(help: "Print one JSON line per case.") var json = false

    func validate() throws {
        guard seconds > 0, writers >= 1, events >= 1 else { throw ValidationError("--seconds, --writers and --events must be positive") }
        if let postgresURL { _ = try DatabaseURL(postgresURL) }
    }

    func run() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("videobus-bench-\(getpid())")
        defer { try? FileManager.default.removeItem(at: directory) }
        var targets: [(label: String, url: String)] = [
            ("sqlite synchronous=normal", "file:\(directory.path)/normal.db"),
            ("sqlite synchronous=full", "file:\(directory.path)/full.db?synchronous=full"),
        ]
        if let postgresURL {
            let separator = postgresURL.contains("?") ? "&" : "?"
            targets.append(("postgres synchronous_commit=on", postgresURL + separator + "pool_size=\(min(writers, 32))"))
            targets.append(("postgres synchronous_commit=off", postgresURL + separator + "pool_size=\(min(writers, 32))&synchronous_commit=off"))
        }
        for target in targets {
            let database = try await openDatabase(DatabaseURL(target.url))
            try await prepare(database)
            report(target.label, "single-row commits, 1 writer", try await commits(database, writers: 1), unit: "commits/s")
            report(target.label, "single-row commits, \(writers) writers", try await commits(database, writers: writers), unit: "commits/s")
            report(target.label, "batched inserts, 1000 rows per transaction", try await batched(database), unit: "rows/s")
            if !target.label.hasSuffix("full") && !target.label.hasSuffix("=off") {
                report(target.label, "outbox relay to a bus subscriber", try await relay(database), unit: "events/s")
            }
            try await database.withoutTransaction { try $0.executeScript("DROP TABLE IF EXISTS bench_item; DROP TABLE IF EXISTS outbox; DROP TABLE IF EXISTS inbox; DROP TABLE IF EXISTS schema_migrations") }
            await database.close()
        }
    }

    private func report(_ target: String, _ name: String, _ rate: Double, unit: String) {
        if json {
            printLine("{\"bench\":\"storage\",\"target\":\"\(target)\",\"case\":\"\(name)\",\"rate\":\(Int(rate)),\"unit\":\"\(unit)\"}")
        } else {
            printLine("\(target.padding(toLength: 32, withPad: " ", startingAt: 0)) \(name.padding(toLength: 46, withPad: " ", startingAt: 0)) \(Int(rate)) \(unit)")
        }
    }

    private func prepare(_ database: any Database) async throws {
        let integer = database.dialect == .sqlite ? "INTEGER" : "BIGINT"
        try await database.withoutTransaction { try $0.executeScript("DROP TABLE IF EXISTS bench_item; DROP TABLE IF EXISTS outbox; DROP TABLE IF EXISTS inbox; DROP TABLE IF EXISTS schema_migrations") }
        try await Migrator(service: "bench", migrations: [
            Migration(id: 1, name: "bench_item", sql: "CREATE TABLE bench_item (id TEXT PRIMARY KEY, n \(integer) NOT NULL, note TEXT NOT NULL)"),
        ] + Outbox.migrations(startingAt: 2) + [Outbox.tenantMigration(id: 4)]).deploy(to: database)
    }

    /// Transactions of one insert each, from `writers` concurrent tasks.
    private func commits(_ database: any Database, writers: Int) async throws -> Double {
        let deadline = ContinuousClock.now + .seconds(seconds)
        let started = ContinuousClock.now
        let total = try await withThrowingTaskGroup(of: Int.self) { group in
            for writer in 0..<writers {
                group.addTask {
                    var count = 0
                    while ContinuousClock.now < deadline {
                        let (id, n) = ("w\(writer)-\(count)-\(UInt32.random(in: 0...UInt32.max))", count)
                        try await database.write { try $0.execute("INSERT INTO bench_item (id, n, note) VALUES (\(id), \(n), \("a row of about sixty bytes of text, like a short description"))") }
                        count += 1
                    }
                    return count
                }
            }
            return try await group.reduce(0, +)
        }
        return Double(total) / (ContinuousClock.now - started).seconds
    }

    /// Transactions of 1000 rows in multi-row INSERTs of 500.
    private func batched(_ database: any Database) async throws -> Double {
        let deadline = ContinuousClock.now + .seconds(seconds)
        let started = ContinuousClock.now
        var rows = 0
        var batch = 0
        while ContinuousClock.now < deadline {
            let prefix = "b\(batch)-\(UInt32.random(in: 0...UInt32.max))"
            try await database.write { session in
                for part in 0..<2 {
                    var values: [SQL] = []
                    for n in 0..<500 {
                        values.append("(\("\(prefix)-\(part)-\(n)"), \(n), \("a row of about sixty bytes of text, like a short description"))")
                    }
                    try session.execute("INSERT INTO bench_item (id, n, note) VALUES \(SQL.join(values))")
                }
            }
            rows += 1000
            batch += 1
        }
        return Double(rows) / (ContinuousClock.now - started).seconds
    }

    /// Enqueues `events` events, then times the relay delivering all of them
    /// to a subscriber node over the bus (in this process, via a registry on loopback).
    private func relay(_ database: any Database) async throws -> Double {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        func node(_ service: String, registry: Int?, port: Int = 0) -> BusNode {
            BusNode(configuration: BusNode.Configuration(
                identity: NodeIdentity(service: service, instance: uniqueInstanceID(service), version: "bench"), port: port,
                registries: registry.map { [ServiceAddress(host: "127.0.0.1", port: $0)] } ?? []
            ), group: group)
        }
        let registryNode = node("registry", registry: nil)
        RegistryService().install(on: registryNode)
        let registryPort = try await registryNode.start().port!
        let received = ManagedCounter()
        let subscriber = node("bench-subscriber", registry: registryPort)
        subscriber.subscribe("bench.event") { _, _ in received.increment() }
        try await subscriber.start()
        let publisher = node("bench-publisher", registry: registryPort)
        try await publisher.start()
        // Wait until the publisher sees the subscriber.
        while !(try await publisher.registrySnapshot()).instances.contains(where: { $0.record.subscriptions.contains("bench.event") }) {
            try await Task.sleep(for: .milliseconds(20))
        }
        let total = events
        for start in stride(from: 0, to: total, by: 1000) {
            try await database.write { session in
                for n in start..<min(start + 1000, total) {
                    try Outbox.enqueue(session, topic: "bench.event", payload: JSONText(#"{"n":\#(n)}"#), tenant: "default", eventID: "bench-\(n)")
                }
            }
        }
        let relay = OutboxRelay(database: database, publisher: BusEventPublisher(node: publisher))
        let started = ContinuousClock.now
        while try await relay.deliverPending() > 0 {}
        let elapsed = ContinuousClock.now - started
        guard received.value >= total else { throw ValidationError("the subscriber received \(received.value) of \(total) events") }
        for busNode in [publisher, subscriber, registryNode] { try await busNode.shutdown(grace: .zero) }
        try await group.shutdownGracefully()
        return Double(total) / elapsed.seconds
    }
}

/// A counter incremented from event handlers.
final class ManagedCounter: Sendable {
    private let count = NIOLockedValueBox(0)
    func increment() { count.withLockedValue { $0 += 1 } }
    var value: Int { count.withLockedValue { $0 } }
}
