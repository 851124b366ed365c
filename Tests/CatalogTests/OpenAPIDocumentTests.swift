import Catalog
import Contracts
import Foundation
@testable import Gateway
import Testing

/// `/openapi.json` as the gateway renders it from the catalog's routes.
@Suite struct OpenAPIDocumentTests {
    static var document: [String: Any] { try! JSONSerialization.jsonObject(with: OpenAPIDocument.json(routes: ServiceCatalog.routes, version: "test")) as! [String: Any] }

    @Test func everyRouteIsDocumented() throws {
        let paths = try #require(Self.document["paths"] as? [String: [String: Any]])
        for route in ServiceCatalog.routes {
            let operation = try #require(paths[route.path]?[route.verb.rawValue] as? [String: Any], "\(route.verb) \(route.path) is missing")
            let responses = try #require(operation["responses"] as? [String: Any])
            #expect(responses[String(route.status)] != nil)
            #expect(responses["422"] != nil, "every route can answer 422")
            for failure in route.failures { #expect(responses[String(failure.status)] != nil) }
        }
    }

    @Test func everyReferenceResolves() throws {
        let text = String(decoding: OpenAPIDocument.json(routes: ServiceCatalog.routes, version: "test"), as: UTF8.self)
        let components = try #require(Self.document["components"] as? [String: [String: Any]])
        var references = Set<String>()
        var rest = Substring(text)
        while let range = rest.range(of: "\"$ref\" : \"#/components/") {
            rest = rest[range.upperBound...]
            references.insert(String(rest.prefix { $0 != "\"" }))
        }
        #expect(!references.isEmpty)
        for reference in references {
            let parts = reference.split(separator: "/").map(String.init)
            #expect(components[parts[0]]?[parts[1]] != nil, "#/components/\(reference) is not defined")
        }
    }

    /// The seed's list body: exactly `analyses` and `count`; the next page is a Link header.
    @Test func theAnalysisListHasExactlyTheSeedsKeys() throws {
        let schemas = try #require((Self.document["components"] as? [String: Any])?["schemas"] as? [String: [String: Any]])
        let list = try #require(schemas["AnalysisList"])
        #expect(Set((list["properties"] as? [String: Any])?.keys.map { $0 } ?? []) == ["analyses", "count"])
        #expect(list["additionalProperties"] as? Bool == false)
        let get = try #require(((Self.document["paths"] as? [String: [String: Any]])?["/api/video-analysis/"]?["get"] as? [String: Any])?["responses"] as? [String: [String: Any]])
        #expect((get["200"]?["headers"] as? [String: Any])?["Link"] != nil)
    }
}
