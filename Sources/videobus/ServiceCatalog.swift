import AnalysisStore
import ArgumentParser
import Foundation
import ServiceKit
import Storage

/// The services this build knows, with their databases' schemas.
enum ServiceCatalog {
    static let schemas: [String: ServiceSchema] = [
        AnalysisStoreSchema.service: AnalysisStoreSchema.schema,
    ]

    static func schema(_ service: String) throws -> ServiceSchema {
        guard let schema = schemas[service] else {
            throw ValidationError("unknown service \(service); services with a database: \(schemas.keys.sorted().joined(separator: ", "))")
        }
        return schema
    }

    /// The database of `service`: `--database-url`, else
    /// `$VIDEOBUS_<SERVICE>_DATABASE_URL`, else `file:./data/<service>.db`.
    static func databaseURL(for service: String, explicit: String?) -> String {
        if let explicit { return explicit }
        let variable = "VIDEOBUS_" + service.uppercased().replacingOccurrences(of: "-", with: "_") + "_DATABASE_URL"
        return ProcessInfo.processInfo.environment[variable] ?? "file:./data/\(service).db"
    }
}

/// `--service` and `--database-url`, shared by the database commands.
struct DatabaseOptions: ParsableArguments {
    @Option(help: "The service whose database to use.")
    var service: String

    @Option(help: "Database URL (default: $VIDEOBUS_<SERVICE>_DATABASE_URL, else file:./data/<service>.db).")
    var databaseURL: String?

    func validate() throws {
        _ = try ServiceCatalog.schema(service)
        do {
            _ = try DatabaseURL(ServiceCatalog.databaseURL(for: service, explicit: databaseURL))
        } catch {
            throw ValidationError(error.message)
        }
    }

    func open() async throws -> (ServiceSchema, any Database) {
        let schema = try ServiceCatalog.schema(service)
        let url = try DatabaseURL(ServiceCatalog.databaseURL(for: service, explicit: databaseURL))
        return (schema, try await openDatabase(url))
    }
}
