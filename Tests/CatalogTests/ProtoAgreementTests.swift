import Catalog
import Contracts
import Foundation
import ServiceKit
import Testing

/// Every method and event of every service in the catalog is specified in
/// `proto/`: PROTOCOL.md's method table names a schema for each request,
/// response and event payload, and that schema has the same properties,
/// required keys, types and bounds as the Swift contract. Change one side
/// and these fail until the other follows.
@Suite struct ProtoAgreementTests {
    static let proto = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("proto")

    /// PROTOCOL.md's table: message (e.g. "`analysis-store.get` request") → schema file.
    static let table: [String: String] = {
        let spec = try! String(contentsOf: proto.appendingPathComponent("PROTOCOL.md"), encoding: .utf8)
        var rows: [String: String] = [:]
        for line in spec.split(separator: "\n") where line.hasPrefix("| `") || line.hasPrefix("| events `") {
            let cells = line.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
            guard cells.count >= 2, let file = cells[1].split(separator: "`").first(where: { $0.hasSuffix(".schema.json") }) else { continue }
            rows[cells[0]] = String(file)
        }
        return rows
    }()

    static func load(_ file: String) throws -> [String: Any] {
        try JSONSerialization.jsonObject(with: Data(contentsOf: proto.appendingPathComponent("schemas/methods").appendingPathComponent(file))) as! [String: Any]
    }

    /// Follows `$ref`s (`file.json` or `file.json#/$defs/name`) to the schema they name.
    static func resolve(_ schema: [String: Any]) throws -> [String: Any] {
        guard let reference = schema["$ref"] as? String else { return schema }
        let parts = reference.split(separator: "#", maxSplits: 1)
        var target = try load(String(parts[0]))
        if parts.count == 2 {
            for key in parts[1].split(separator: "/") { target = target[String(key)] as! [String: Any] }
        }
        // Keywords beside a $ref add to the referenced schema.
        return try resolve(target).merging(schema.filter { $0.key != "$ref" }) { _, local in local }
    }

    static func types(_ schema: [String: Any]) -> Set<String> {
        if let type = schema["type"] as? String { return [type] }
        return Set(schema["type"] as? [String] ?? []).subtracting(["null"])
    }

    /// The proto schema `file` and the Swift `schema` describe the same object.
    func expectAgreement(_ file: String, _ swift: JSONSchema, _ what: String) throws {
        let proto = try Self.resolve(try Self.load(file))
        let protoProperties = proto["properties"] as? [String: [String: Any]] ?? [:]
        let swiftProperties = swift.properties ?? [:]
        #expect(Set(protoProperties.keys) == Set(swiftProperties.keys), "\(what): \(file) has properties \(protoProperties.keys.sorted()), Swift \(swiftProperties.keys.sorted())")
        #expect(Set(proto["required"] as? [String] ?? []) == Set(swift.required), "\(what): required in \(file) \(proto["required"] ?? []) vs Swift \(swift.required)")
        for (name, swiftProperty) in swiftProperties {
            guard let protoProperty = try protoProperties[name].map(Self.resolve) else { continue }
            let swiftTypes = swiftProperty.typeName == nil ? ["object"] : swiftProperty.typeNames
            #expect(Self.types(protoProperty) == swiftTypes, "\(what).\(name): \(file) says \(Self.types(protoProperty)), Swift \(swiftTypes)")
            for (keyword, value) in [("minLength", swiftProperty.minLength.map(Int64.init)), ("maxLength", swiftProperty.maxLength.map(Int64.init)),
                                     ("minimum", swiftProperty.minimum), ("maximum", swiftProperty.maximum)] {
                let protoValue = (protoProperty[keyword] as? NSNumber)?.int64Value
                #expect(protoValue == value, "\(what).\(name): \(keyword) is \(protoValue.map(String.init) ?? "absent") in \(file), \(value.map(String.init) ?? "absent") in Swift")
            }
        }
    }

    @Test func everyMethodOfEveryServiceIsSpecified() throws {
        let methods = ServiceCatalog.definitions.flatMap(\.methods)
        #expect(!methods.isEmpty)
        for method in methods {
            for (side, schema) in [("request", method.request), ("response", method.response)] {
                let row = "`\(method.fullName)` \(side)"
                let file = try #require(Self.table[row], "PROTOCOL.md's method table has no row \(row)")
                try expectAgreement(file, schema, row)
            }
        }
    }

    @Test func everyEventIsSpecified() throws {
        for event in ServiceCatalog.definitions.flatMap(\.events) {
            let row = try #require(Self.table.keys.first { $0.hasPrefix("events ") && $0.contains("`\(event.name)`") }, "PROTOCOL.md's method table has no row for event \(event.name)")
            try expectAgreement(Self.table[row]!, event.payload, event.name)
        }
    }

    /// No method is in the table that no service serves (a removed method's rows go too).
    @Test func theTableNamesNoMethodTheCatalogLacks() {
        let served = Set(ServiceCatalog.definitions.flatMap(\.methods).map(\.fullName))
        let services = Set(ServiceCatalog.names)
        for row in Self.table.keys {
            guard let name = row.split(separator: "`").first, let service = name.split(separator: ".").first, services.contains(String(service)) else { continue }
            #expect(served.contains(String(name)), "PROTOCOL.md specifies \(name), which \(service) does not serve")
        }
    }
}
