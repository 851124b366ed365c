import ArgumentParser
import Catalog
import ServiceKit
import Storage

/// `--service` and `--database-url`, shared by the database commands.
struct DatabaseOptions: ParsableArguments {
    @Option(help: ArgumentHelp("The service whose database to use.", discussion: "Services with a database: \(ServiceCatalog.definitions.filter { $0.schema != nil }.map(\.name).joined(separator: ", "))."))
    var service: String

    @Option(help: "Database URL (default: $VIDEOBUS_<SERVICE>_DATABASE_URL, else file:./data/<service>.db).")
    var databaseURL: String?

    @Option(name: [.customLong("migrations-database-url"), .customLong("migrations-database")], help: "PostgreSQL: the URL of the role that owns the tables, which these commands use instead of --database-url (default: $VIDEOBUS_<SERVICE>_MIGRATIONS_DATABASE_URL, else $VIDEOBUS_MIGRATIONS_DATABASE_URL).")
    var migrationsDatabaseURL: String?

    /// The owner's URL when one is given: migrations create tables, and the owner is who may.
    private var url: String {
        ServiceCatalog.migrationsDatabaseURL(for: service, explicit: migrationsDatabaseURL) ?? ServiceCatalog.databaseURL(for: service, explicit: databaseURL)
    }

    func validate() throws {
        do {
            _ = try ServiceCatalog.definitionWithDatabase(named: service)
            _ = try DatabaseURL(url)
        } catch let error as StorageError {
            throw ValidationError(error.message)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    /// Runs `body` with the service's schema and its open database, and
    /// closes the database however `body` ends (before the command exits).
    func withDatabase<T>(_ body: (ServiceSchema, any Database) async throws -> T) async throws -> T {
        let schema = try ServiceCatalog.definitionWithDatabase(named: service).schema!
        let database = try await openDatabase(DatabaseURL(url))
        do {
            let result = try await body(schema, database)
            await database.close()
            return result
        } catch {
            await database.close()
            throw error
        }
    }
}
