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

    func validate() throws {
        do {
            _ = try ServiceCatalog.definitionWithDatabase(named: service)
            _ = try DatabaseURL(ServiceCatalog.databaseURL(for: service, explicit: databaseURL))
        } catch let error as StorageError {
            throw ValidationError(error.message)
        } catch {
            throw ValidationError("\(error)")
        }
    }

    func open() async throws -> (ServiceSchema, any Database) {
        let schema = try ServiceCatalog.definitionWithDatabase(named: service).schema!
        let url = try DatabaseURL(ServiceCatalog.databaseURL(for: service, explicit: databaseURL))
        return (schema, try await openDatabase(url))
    }
}
