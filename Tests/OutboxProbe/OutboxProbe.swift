import ArgumentParser
import BusRuntime
import BusWire
import Foundation
import NIOCore
import NIOPosix
import ServiceKit
import Storage

/// A helper process for the outbox system tests. `publisher` writes numbered
/// events through the outbox and relays them; `subscriber` applies them
/// through the inbox. Each can SIGKILL itself at a chosen point, so the tests
/// hit every window between a commit and its acknowledgement.
@main
struct OutboxProbe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "outbox-probe", subcommands: [Publisher.self, Subscriber.self])

    static let topic = "probe.event"
    static let migrations = [
        Migration(id: 1, name: "create_probe", sqlite: """
            CREATE TABLE applied (event_id TEXT PRIMARY KEY, n INTEGER NOT NULL);
            CREATE TABLE counter (id INTEGER PRIMARY KEY, total INTEGER NOT NULL);
            INSERT INTO counter (id, total) VALUES (1, 0)
            """, postgres: """
            CREATE TABLE applied (event_id TEXT PRIMARY KEY, n BIGINT NOT NULL);
            CREATE TABLE counter (id BIGINT PRIMARY KEY, total BIGINT NOT NULL);
            INSERT INTO counter (id, total) VALUES (1, 0)
            """),
    ] + Outbox.migrations(startingAt: 2) + [Outbox.tenantMigration(id: 4)]

    static func node(_ service: String, registry: String) throws -> BusNode {
        guard let address = ServiceAddress(registry) else { throw ValidationError("--registry must be host:port") }
        return BusNode(configuration: BusNode.Configuration(
            identity: NodeIdentity(service: service, instance: "\(service)-\(getpid())", version: "test"),
            registries: [address], lease: .milliseconds(900)
        ), group: MultiThreadedEventLoopGroup.singleton)
    }

    static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }

    static func crash() -> Never {
        kill(getpid(), SIGKILL)
        fatalError("SIGKILL did not stop the process")
    }
}

struct Publisher: AsyncParsableCommand {
    @Option var database: String
    @Option var registry: String
    @Option var events: Int
    @Option(help: "Commit events up to this number, then die before relaying any.") var crashAfterCommit: Int?
    @Option(help: "A subscriber group declared for the topic: it receives every event even while it is down.") var declare: [String] = []
    @Option(help: "Refusals after which an event is parked.") var maxAttempts = 8
    @Flag(help: "Keep relaying once nothing is pending (for replays), until killed.") var stay = false

    func run() async throws {
        let db = try await openDatabase(DatabaseURL(database))
        try await Migrator(service: "probe-publisher", migrations: OutboxProbe.migrations).deploy(to: db)
        let node = try OutboxProbe.node("probe-publisher", registry: registry)
        try await node.start()
        for n in 1...events {
            let eventID = "evt-\(n)"
            try await db.write { session in
                // A restarted publisher skips the events it already committed.
                guard try session.queryFirst("SELECT seq FROM outbox WHERE event_id = \(eventID)") == nil else { return }
                try Outbox.enqueue(session, topic: OutboxProbe.topic, payload: JSONText(#"{"n":\#(n)}"#), tenant: "default", eventID: eventID)
            }
            if n == crashAfterCommit { OutboxProbe.crash() }
        }
        OutboxProbe.say("committed \(events)")
        let relay = OutboxRelay(
            database: db, publisher: BusEventPublisher(node: node, timeout: .seconds(2)),
            subscriptions: DeclaredSubscriptions([OutboxProbe.topic: declare]),
            configuration: .init(pollInterval: .milliseconds(20), initialBackoff: .milliseconds(20), maxBackoff: .milliseconds(300), maxAttempts: maxAttempts))
        let relaying = Task { try await relay.run() }
        while try await relay.pendingCount() > 0 {
            try await Task.sleep(for: .milliseconds(20))
        }
        let parked = try await OutboxInspector(database: db).parked().count
        OutboxProbe.say(parked == 0 ? "delivered \(events)" : "delivered \(events - parked), parked \(parked)")
        if stay { try await relaying.value }
        relaying.cancel()
        try await node.shutdown()
    }
}

struct Subscriber: AsyncParsableCommand {
    @Option var database: String
    @Option var registry: String
    @Option(help: "Die inside the transaction applying this event, before it commits.") var crashBeforeCommit: Int?
    @Option(help: "Die after the transaction applying this event commits, before the ack.") var crashAfterCommit: Int?
    @Option(help: "Refuse this event every time it comes (a poison event).") var refuse: Int?

    struct Event: Decodable { var n: Int }

    func run() async throws {
        let db = try await openDatabase(DatabaseURL(database))
        try await Migrator(service: "probe-subscriber", migrations: OutboxProbe.migrations).deploy(to: db)
        let node = try OutboxProbe.node("probe-subscriber", registry: registry)
        let (crashBefore, crashAfter, poison) = (crashBeforeCommit, crashAfterCommit, refuse)
        node.consume(OutboxProbe.topic, into: db, as: "probe-subscriber", afterCommit: { delivery in
            if delivery.eventID == "evt-\(crashAfter ?? -1)" { OutboxProbe.crash() }
        }) { payload, delivery, session in
            let n = try JSONBody.decode(Event.self, from: payload).n
            if n == poison { throw BusError(.invalidArgument, "event \(n) is poison") }
            try session.execute("INSERT INTO applied (event_id, n) VALUES (\(delivery.eventID), \(n))")
            try session.execute("UPDATE counter SET total = total + 1 WHERE id = 1")
            if n == crashBefore { OutboxProbe.crash() }
        }
        let address = try await node.start()
        OutboxProbe.say("subscriber listening on 127.0.0.1:\(address.port!)")
        try await Task.sleep(for: .seconds(3600))
    }
}
