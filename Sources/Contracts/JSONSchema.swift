/// A JSON Schema (draft 2020-12, as OpenAPI 3.1 uses it) of a message or a
/// parameter, declared next to the Swift type it describes. The gateway's
/// `/openapi.json` is rendered from these declarations, and tests check them
/// against `proto/schemas/methods/`, so the documents cannot drift from the
/// types.
public struct JSONSchema: Sendable {
    public indirect enum Kind: Sendable {
        case string
        case integer
        case number
        case boolean
        case array(JSONSchema)
        /// Properties in the order documents list them.
        case object([Property])
        /// Another contract type's schema, by name (`#/components/schemas/<name>`).
        case reference(String, @Sendable () -> JSONSchema)
        /// Any JSON object (free-form settings, metadata).
        case anyObject
        /// An object of any keys whose values all have this schema (names to numbers).
        case dictionary(JSONSchema)
    }

    /// One property of an object, named by the type's coding key.
    public struct Property: Sendable {
        public var name: String
        public var schema: JSONSchema
        public var required: Bool

        public init(_ key: some CodingKey, _ schema: JSONSchema, required: Bool = true) {
            self.name = key.stringValue
            self.schema = schema
            self.required = required
        }
    }

    public var kind: Kind
    public var description: String?
    /// `null` is allowed as well as the kind.
    public var nullable = false
    public var minLength: Int?
    public var maxLength: Int?
    /// ECMA-262 regular expressions; a value must match every one.
    public var patterns: [String] = []
    public var format: String?
    public var minimum: Int64?
    /// Numbers only: the value must be greater than this.
    public var exclusiveMinimum: Int64?
    public var maximum: Int64?
    public var defaultValue: String?
    public var example: String?
    /// Arrays only: bounds on the number of items.
    public var minItems: Int?
    public var maxItems: Int?
    /// Whether an object may carry keys it does not declare (ignored by the service).
    public var additionalProperties = true
    /// Strings only: a JSON number is accepted too, read from its text (money).
    public var alsoNumber = false

    public init(_ kind: Kind, description: String? = nil) {
        self.kind = kind
        self.description = description
    }

    public static func string(
        minLength: Int? = nil, maxLength: Int? = nil, patterns: [String] = [], format: String? = nil,
        example: String? = nil, description: String? = nil
    ) -> JSONSchema {
        var schema = JSONSchema(.string, description: description)
        schema.minLength = minLength
        schema.maxLength = maxLength
        schema.patterns = patterns
        schema.format = format
        schema.example = example
        return schema
    }

    public static func integer(minimum: Int64? = nil, maximum: Int64? = nil, defaultValue: Int? = nil, description: String? = nil) -> JSONSchema {
        var schema = JSONSchema(.integer, description: description)
        schema.minimum = minimum
        schema.maximum = maximum
        schema.defaultValue = defaultValue.map(String.init)
        return schema
    }

    /// A JSON number (a binary float on the wire); bounds are whole numbers here.
    public static func number(minimum: Int64? = nil, exclusiveMinimum: Int64? = nil, maximum: Int64? = nil, description: String? = nil) -> JSONSchema {
        var schema = JSONSchema(.number, description: description)
        schema.minimum = minimum
        schema.exclusiveMinimum = exclusiveMinimum
        schema.maximum = maximum
        return schema
    }

    public static func array(of items: JSONSchema, minItems: Int? = nil, maxItems: Int? = nil, description: String? = nil) -> JSONSchema {
        var schema = JSONSchema(.array(items), description: description)
        schema.minItems = minItems
        schema.maxItems = maxItems
        return schema
    }

    /// An object from any names to values of `values`.
    public static func dictionary(of values: JSONSchema, description: String? = nil) -> JSONSchema {
        JSONSchema(.dictionary(values), description: description)
    }

    public static func object(_ properties: [Property], description: String? = nil) -> JSONSchema {
        JSONSchema(.object(properties), description: description)
    }

    /// The schema of a contract type, referred to by its name.
    public static func contract<T: Contract>(_ type: T.Type, description: String? = nil) -> JSONSchema {
        JSONSchema(.reference(T.schemaName, { T.schema }), description: description)
    }

    public var orNull: JSONSchema {
        var copy = self
        copy.nullable = true
        return copy
    }

    /// The object's properties, by name (nil for other kinds).
    public var properties: [String: JSONSchema]? {
        guard case .object(let properties) = kind else { return nil }
        return Dictionary(properties.map { ($0.name, $0.schema) }, uniquingKeysWith: { first, _ in first })
    }

    /// The names of the object's required properties.
    public var required: [String] {
        guard case .object(let properties) = kind else { return [] }
        return properties.filter(\.required).map(\.name)
    }

    /// Every JSON type a value may have, `null` aside: the type name, and `number` for a string that may be sent as one.
    public var typeNames: Set<String> {
        guard let typeName else { return [] }
        return alsoNumber ? [typeName, "number"] : [typeName]
    }

    /// The JSON type name (`string`, `object`, …); nil for a reference.
    public var typeName: String? {
        switch kind {
        case .string: "string"
        case .integer: "integer"
        case .number: "number"
        case .boolean: "boolean"
        case .array: "array"
        case .object, .anyObject, .dictionary: "object"
        case .reference: nil
        }
    }
}

extension JSONSchema {
    /// The schema as a JSON object (Foundation values, for JSONSerialization).
    /// References become `$ref`s under `prefix`, and the schemas they name are
    /// added to `components` (each once).
    public func jsonObject(refPrefix prefix: String, components: inout [String: JSONSchema]) -> [String: Any] {
        var object: [String: Any] = [:]
        switch kind {
        case .reference(let name, let resolve):
            if components[name] == nil {
                let referenced = resolve()
                components[name] = referenced
                // Its own references are collected too.
                _ = referenced.jsonObject(refPrefix: prefix, components: &components)
            }
            let reference: [String: Any] = ["$ref": prefix + name]
            if nullable {
                object["anyOf"] = [reference, ["type": "null"]]
            } else {
                object = reference
            }
        case .array(let items):
            object["items"] = items.jsonObject(refPrefix: prefix, components: &components)
        case .dictionary(let values):
            object["additionalProperties"] = values.jsonObject(refPrefix: prefix, components: &components)
        case .object(let properties):
            var rendered: [String: Any] = [:]
            for property in properties {
                rendered[property.name] = property.schema.jsonObject(refPrefix: prefix, components: &components)
            }
            object["properties"] = rendered
            let required = properties.filter(\.required).map(\.name)
            if !required.isEmpty { object["required"] = required }
            if !additionalProperties { object["additionalProperties"] = false }
        case .string, .integer, .number, .boolean, .anyObject:
            break
        }
        if let type = typeName {
            let types = [type] + (alsoNumber ? ["number"] : []) + (nullable ? ["null"] : [])
            object["type"] = types.count == 1 ? type : types
        }
        if let description { object["description"] = description }
        if let minLength { object["minLength"] = minLength }
        if let maxLength { object["maxLength"] = maxLength }
        switch patterns.count {
        case 0: break
        case 1: object["pattern"] = patterns[0]
        default: object["allOf"] = patterns.map { ["pattern": $0] }
        }
        if let format { object["format"] = format }
        if let minimum { object["minimum"] = minimum }
        if let exclusiveMinimum { object["exclusiveMinimum"] = exclusiveMinimum }
        if let maximum { object["maximum"] = maximum }
        if let defaultValue { object["default"] = Int(defaultValue) ?? defaultValue as Any }
        if let example { object["examples"] = [example] }
        if let minItems { object["minItems"] = minItems }
        if let maxItems { object["maxItems"] = maxItems }
        return object
    }
}

extension JSONSchema {
    /// The cursor of every list (ServiceKit's `PageCursor`): where the previous
    /// page ended, `<created_at ms>.<id>`.
    public static let pageCursor = JSONSchema.string(
        minLength: 3, maxLength: 148, patterns: ["^(0|[1-9][0-9]{0,17})\\.[0-9A-Za-z_-]{1,128}$"],
        description: "Where the previous page ended, as the Link header (rel=\"next\") gives it. Pass it back as given; a malformed one is invalid-argument."
    )
}

/// A message type of the bus whose JSON shape is declared as a schema.
public protocol Contract: Codable, Sendable {
    /// The name documents use for it (`Analysis`, `CreateAnalysis`).
    static var schemaName: String { get }
    static var schema: JSONSchema { get }
}

extension Contract {
    public static var schemaName: String { String(describing: Self.self) }
}
