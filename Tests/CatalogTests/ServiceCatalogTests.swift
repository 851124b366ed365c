import Catalog
import Contracts
import ServiceKit
import Testing

@Suite struct ServiceCatalogTests {
    @Test func namesAreUniqueAndKnown() throws {
        #expect(Set(ServiceCatalog.names).count == ServiceCatalog.names.count)
        #expect(try ServiceCatalog.definition(named: "analysis-store").schema != nil)
        #expect(throws: CatalogError.self) { try ServiceCatalog.definition(named: "nope") }
        #expect(throws: CatalogError.self) { try ServiceCatalog.definitionWithDatabase(named: "echo") }
        #expect(ServiceCatalog.helpText.contains("analysis-store"))
        #expect(!ServiceCatalog.system.contains { $0.name == "echo" })
    }

    @Test func everyRouteCallsAMethodItsServiceDeclares() {
        for route in ServiceCatalog.routes {
            let definition = ServiceCatalog.definitions.first { $0.name == route.service }
            #expect(definition?.methods.contains { $0.name == route.method } == true, "\(route.verb) \(route.path) calls \(route.service).\(route.method), which is not declared")
        }
        let operations = ServiceCatalog.routes.map(\.operationID)
        #expect(Set(operations).count == operations.count, "operation ids must be unique")
    }

    @Test func everyPathParameterIsInItsPath() {
        for route in ServiceCatalog.routes {
            for parameter in route.parameters where parameter.location == .path {
                #expect(route.path.contains("{\(parameter.name)}"), "\(route.path) lacks {\(parameter.name)}")
            }
            let placeholders = route.path.split(separator: "/").filter { $0.hasPrefix("{") }.count
            #expect(placeholders == route.parameters.filter { $0.location == .path }.count, "\(route.path): every placeholder is declared")
        }
    }

    @Test func databaseURLsComeFromTheFlagThenTheEnvironment() {
        #expect(ServiceCatalog.databaseVariable(for: "analysis-store") == "VIDEOBUS_ANALYSIS_STORE_DATABASE_URL")
        #expect(ServiceCatalog.databaseURL(for: "analysis-store", explicit: "sqlite::memory:", environment: [:]) == "sqlite::memory:")
        #expect(ServiceCatalog.databaseURL(for: "analysis-store", explicit: nil, environment: ["VIDEOBUS_ANALYSIS_STORE_DATABASE_URL": "file:/x.db"]) == "file:/x.db")
        #expect(ServiceCatalog.databaseURL(for: "analysis-store", explicit: nil, environment: [:]) == "file:./data/analysis-store.db")
    }

    @Test func subscriptionsAreDeclaredPerTopic() {
        for (topic, groups) in ServiceCatalog.declaredSubscribers {
            #expect(!groups.isEmpty)
            for group in groups { #expect((try? ServiceCatalog.definition(named: group))?.subscriptions.contains(topic) == true) }
        }
    }
}
