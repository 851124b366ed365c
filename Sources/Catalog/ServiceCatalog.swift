import AnalysisStore
import Contracts
import Conversion
import Foundation
import Ingest
import Prediction
import ServiceKit

/// Every service this build knows. Adding a service is one line here (and
/// its module): `serve`, `up`, `migrate`, `seed`, `events`, the gateway's
/// routes, `/openapi.json` and the protocol checks all read this list.
public enum ServiceCatalog {
    public static let definitions: [ServiceDefinition] = [
        AnalysisStore.definition,
        Ingest.definition,
        Prediction.definition,
        Conversion.definition,
        .echo,
    ]

    public static var names: [String] { definitions.map(\.name) }

    /// The definition named `name`, or an error listing the known ones.
    public static func definition(named name: String) throws -> ServiceDefinition {
        guard let definition = definitions.first(where: { $0.name == name }) else {
            throw CatalogError("unknown service \(name); known: \(names.joined(separator: ", "))")
        }
        return definition
    }

    /// The definition of a service with a database (for `migrate`, `seed`, `events`).
    public static func definitionWithDatabase(named name: String) throws -> ServiceDefinition {
        let withDatabase = definitions.filter { $0.schema != nil }
        guard let definition = withDatabase.first(where: { $0.name == name }) else {
            throw CatalogError("unknown service \(name); services with a database: \(withDatabase.map(\.name).joined(separator: ", "))")
        }
        return definition
    }

    /// The services `videobus up` runs, in start order.
    public static var system: [ServiceDefinition] { definitions.filter(\.partOfSystem) }

    /// Every REST route of every service, for the gateway.
    public static var routes: [HTTPRoute] { definitions.flatMap(\.routes) }

    /// For each topic, the services that consume it.
    public static var declaredSubscribers: [String: [String]] {
        var subscribers: [String: [String]] = [:]
        for definition in definitions {
            for topic in definition.subscriptions { subscribers[topic, default: []].append(definition.name) }
        }
        return subscribers
    }

    /// One line per service, for `--help` texts.
    public static var helpText: String {
        definitions.map { "  \($0.name): \($0.summary)" }.joined(separator: "\n")
    }

    /// The database of `service`: `explicit` (`--database-url`), else
    /// `$VIDEOBUS_<SERVICE>_DATABASE_URL`, else `file:./data/<service>.db`.
    public static func databaseURL(for service: String, explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let explicit { return explicit }
        return environment[databaseVariable(for: service)] ?? "file:./data/\(service).db"
    }

    /// The URL `service` migrates with (PostgreSQL: the tables' owner):
    /// `explicit`, else $VIDEOBUS_<SERVICE>_MIGRATIONS_DATABASE_URL, else
    /// $VIDEOBUS_MIGRATIONS_DATABASE_URL; nil when none is given (the
    /// service's own URL migrates).
    public static func migrationsDatabaseURL(for service: String, explicit: String?, environment: [String: String] = ProcessInfo.processInfo.environment) -> String? {
        explicit ?? environment[migrationsDatabaseVariable(for: service)] ?? environment["VIDEOBUS_MIGRATIONS_DATABASE_URL"]
    }

    /// `VIDEOBUS_ANALYSIS_STORE_MIGRATIONS_DATABASE_URL` for `analysis-store`.
    public static func migrationsDatabaseVariable(for service: String) -> String {
        "VIDEOBUS_" + service.uppercased().replacingOccurrences(of: "-", with: "_") + "_MIGRATIONS_DATABASE_URL"
    }

    /// `VIDEOBUS_ANALYSIS_STORE_DATABASE_URL` for `analysis-store`.
    public static func databaseVariable(for service: String) -> String {
        "VIDEOBUS_" + service.uppercased().replacingOccurrences(of: "-", with: "_") + "_DATABASE_URL"
    }
}

/// A service name the catalog does not know.
public struct CatalogError: Error, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}
