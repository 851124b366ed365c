import ArgumentParser
import Foundation
import ServiceKit
import Storage

/// `videobus migrate deploy|status|reset`.
struct MigrateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "migrate",
        abstract: "Apply, inspect or reset a service's database migrations.",
        subcommands: [Deploy.self, Status.self, Reset.self]
    )

    struct Deploy: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply pending migrations (once, even when several processes start together).")
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await database.withDatabase { schema, db in
                let applied = try await schema.migrator(holder: "videobus migrate \(ProcessInfo.processInfo.processIdentifier)").deploy(to: db)
                printLine(applied.isEmpty ? "\(schema.service): up to date (\(db.location))" : applied.map { "applied \($0.id) \($0.name)" }.joined(separator: "\n"))
            }
        }
    }

    struct Status: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "List applied, pending and modified migrations.",
            discussion: "Exits 1 when anything is pending, modified, or applied but unknown to this build."
        )
        @OptionGroup var database: DatabaseOptions

        func run() async throws {
            try await database.withDatabase { schema, db in
                let status = try await schema.migrator().status(of: db)
                printLine("\(schema.service) at \(db.location)")
                for applied in status.applied { printLine("applied   \(applied.id) \(applied.name)  (\(applied.appliedAt.iso8601), \(applied.durationMs) ms)") }
                for modified in status.modified { printLine("MODIFIED  \(modified.applied.id) \(modified.applied.name)  applied \(modified.applied.checksum), code \(modified.codeChecksum)") }
                for unknown in status.unknown { printLine("UNKNOWN   \(unknown.id) \(unknown.name)  (applied by a newer build)") }
                for pending in status.pending { printLine("pending   \(pending.id) \(pending.name)") }
                if !status.isCurrent { throw ExitCode(1) }
            }
        }
    }

    struct Reset: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Drop everything in the database and apply every migration again. Destroys all data.")
        @OptionGroup var database: DatabaseOptions
        @Flag(help: "Confirm that all data of the database may be destroyed.") var force = false

        func validate() throws {
            guard force else { throw ValidationError("reset destroys all data of the database; add --force to confirm") }
        }

        func run() async throws {
            try await database.withDatabase { schema, db in
                let applied = try await schema.migrator().reset(db)
                printLine("reset \(db.location): applied \(applied.count) migrations")
            }
        }
    }
}

/// `videobus seed`: sample data for a service.
struct SeedCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "seed",
        abstract: "Insert a service's sample data (after applying its migrations)."
    )
    @OptionGroup var database: DatabaseOptions

    func run() async throws {
        try await database.withDatabase { schema, db in
            try await schema.migrator().deploy(to: db)
            let added = try await schema.seed(db)
            printLine("\(schema.service): seeded \(added) rows")
        }
    }
}
