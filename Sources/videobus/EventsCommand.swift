import ArgumentParser
import Catalog
import Foundation
import Storage

/// `videobus events status|parked|replay`: a service's outbox as its
/// subscribers see it, read from (and for replay, written to) its database.
struct EventsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "events",
        abstract: "Inspect a service's outgoing events: backlog per subscriber group, parked events, replay.",
        subcommands: [Status.self, Parked.self, Replay.self]
    )

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Per subscriber group: pending events, the oldest one's age, parked events.")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await database.withDatabase { _, db in
                let status = try await OutboxInspector(database: db).status()
                let now = Timestamp.now()
                var rows = [["GROUP", "PENDING", "OLDEST PENDING", "PARKED"]]
                rows += status.groups.map { [$0.subscriber, "\($0.pending)", $0.oldestPending.map { age(since: $0, now: now) } ?? "-", "\($0.parked)"] }
                // Groups the catalog declares for this service's topics, caught up or not.
                let definition = try ServiceCatalog.definitionWithDatabase(named: database.service)
                let declared = Set(definition.events.flatMap { ServiceCatalog.declaredSubscribers[$0.name] ?? [] })
                for group in declared.sorted() where !status.groups.contains(where: { $0.subscriber == group }) {
                    rows.append([group, "0", "-", "0"])
                }
                if status.unrouted > 0 {
                    rows.append(["(not yet routed)", "\(status.unrouted)", status.oldestUnrouted.map { age(since: $0, now: now) } ?? "-", "-"])
                }
                if rows.count == 1 { return printLine("(nothing pending or parked)") }
                printTable(rows)
            }
        }
    }

    struct Parked: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List events a subscriber group refused until they were parked.")
        @OptionGroup var database: DatabaseOptions
        @Option(help: "Only this subscriber group's.") var group: String?

        func run() async throws {
            try await database.withDatabase { _, db in
                let parked = try await OutboxInspector(database: db).parked(subscriber: group)
                if parked.isEmpty { return printLine("(no parked events)") }
                printTable([["EVENT", "TOPIC", "GROUP", "ATTEMPTS", "PARKED AT", "LAST ERROR"]] + parked.map {
                    [$0.eventID, $0.topic, $0.subscriber, "\($0.attempts)", $0.parkedAt.iso8601, $0.lastError ?? ""]
                })
            }
        }
    }

    struct Replay: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Put parked events back in line: the service's running relay delivers them again.",
            discussion: "Exits 1 when nothing matched."
        )
        @OptionGroup var database: DatabaseOptions
        @Option(name: .customLong("event"), help: "The parked event to replay (its event id).") var eventID: String?
        @Flag(help: "Replay every parked event.") var all = false
        @Option(help: "Only to this subscriber group.") var group: String?

        func validate() throws {
            guard (eventID != nil) != all else { throw ValidationError("name one event with --event ID, or replay all with --all") }
        }

        func run() async throws {
            try await database.withDatabase { _, db in
                let replayed = try await OutboxInspector(database: db).replay(eventID: eventID, subscriber: group)
                printLine("replayed \(replayed) parked \(replayed == 1 ? "delivery" : "deliveries")")
                if replayed == 0 { throw ExitCode(1) }
            }
        }
    }
}

private func age(since then: Timestamp, now: Timestamp) -> String {
    let seconds = Double(max(0, now.millisecondsSince1970 - then.millisecondsSince1970)) / 1000
    switch seconds {
    case ..<120: return String(format: "%.1fs", seconds)
    case ..<7200: return String(format: "%.0fm", seconds / 60)
    default: return String(format: "%.1fh", seconds / 3600)
    }
}

private func printTable(_ rows: [[String]]) {
    let widths = rows[0].indices.map { column in rows.map { $0[column].count }.max()! }
    for row in rows {
        printLine(zip(row, widths).map { $0.padding(toLength: $1, withPad: " ", startingAt: 0) }.joined(separator: "  ").trimmingCharacters(in: .whitespaces))
    }
}
