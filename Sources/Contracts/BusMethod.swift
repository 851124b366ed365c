/// A method a service serves on the bus, with the types of its request and
/// response: the one declaration the service, its callers, the gateway and
/// the protocol documents all use.
public struct BusMethod<Request: Contract, Response: Contract>: Sendable {
    public let service: String
    public let name: String
    /// What the method does, for documents.
    public let summary: String

    public init(_ service: String, _ name: String, summary: String) {
        self.service = service
        self.name = name
        self.summary = summary
    }

    /// `service.method`, as PROTOCOL.md and logs write it.
    public var fullName: String { "\(service).\(name)" }

    /// The method without its types, for catalogs and documents.
    public var description: MethodDescription {
        MethodDescription(service: service, name: name, summary: summary, requestName: Request.schemaName, request: Request.schema, responseName: Response.schemaName, response: Response.schema)
    }
}

/// A method as documents see it: names and schemas, no Swift types.
public struct MethodDescription: Sendable {
    public let service: String
    public let name: String
    public let summary: String
    public let requestName: String
    public let request: JSONSchema
    public let responseName: String
    public let response: JSONSchema

    public var fullName: String { "\(service).\(name)" }
}

/// An event topic and the type of its payload.
public struct EventTopic<Payload: Contract>: Sendable {
    public let name: String
    /// The service that publishes it.
    public let publisher: String

    public init(_ name: String, publishedBy publisher: String) {
        self.name = name
        self.publisher = publisher
    }

    public var description: EventDescription {
        EventDescription(name: name, publisher: publisher, payloadName: Payload.schemaName, payload: Payload.schema)
    }
}

/// An event topic as documents see it.
public struct EventDescription: Sendable {
    public let name: String
    public let publisher: String
    public let payloadName: String
    public let payload: JSONSchema
}

/// The answer of a method that answers nothing but success: `{}`.
public struct Empty: Contract, Hashable {
    public init() {}
    public static var schema: JSONSchema {
        var schema = JSONSchema.object([], description: "Always {}.")
        schema.additionalProperties = false
        return schema
    }
}
