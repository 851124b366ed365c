/// One REST route of the gateway, declared as data next to the contracts it
/// translates to: the gateway builds its router and `/openapi.json` from
/// these, so the document describes exactly what the server does.
///
/// A route becomes one bus call. The bus request is the JSON body (an
/// object) with the path and query parameters added under their names;
/// the answer is forwarded as it is, except for lists (see ``nextPageField``).
public struct HTTPRoute: Sendable {
    public enum Verb: String, Sendable, CaseIterable {
        case get, post, put, patch, delete
    }

    public struct Parameter: Sendable {
        public enum Location: String, Sendable {
            case path, query
        }

        public var name: String
        public var location: Location
        public var schema: JSONSchema
        public var required: Bool

        /// A path parameter (always required).
        public static func path(_ name: String, _ schema: JSONSchema) -> Parameter {
            Parameter(name: name, location: .path, schema: schema, required: true)
        }

        public static func query(_ name: String, _ schema: JSONSchema, required: Bool = false) -> Parameter {
            Parameter(name: name, location: .query, schema: schema, required: required)
        }
    }

    /// An answer other than success that the route gives for its own reasons
    /// (the gateway documents the ones every route shares).
    public struct Failure: Sendable {
        public var status: Int
        public var description: String

        public init(_ status: Int, _ description: String) {
            self.status = status
            self.description = description
        }
    }

    public var verb: Verb
    /// OpenAPI form: `/api/video-analysis/{video_id}`.
    public var path: String
    public var summary: String
    public var operationID: String
    public var service: String
    public var method: String
    public var parameters: [Parameter]
    /// The JSON body's schema; nil when the route takes no body.
    public var body: JSONSchema?
    /// The answer's status on success (200, 201, 204).
    public var status: Int
    /// The answer's schema; nil when it has no body (204).
    public var response: JSONSchema?
    public var failures: [Failure]
    /// For lists: the field of the bus answer that holds the next page's
    /// cursor. It is taken out of the body and sent as a
    /// `Link: <…&cursor=…>; rel="next"` header (RFC 8288) instead.
    public var nextPageField: String?
    /// For a PUT that creates or replaces: the boolean field of the bus
    /// answer that says it created (answered 201) rather than replaced
    /// (answered with ``status``); taken out of the body.
    public var createdField: String?
    /// Whether the route accepts a request without a body (as `{}`): its body's schema requires nothing.
    public var bodyMayBeEmpty: Bool {
        guard let body else { return true }
        guard case .reference(_, let resolve) = body.kind else { return body.required.isEmpty }
        return resolve().required.isEmpty
    }
    /// Whether a repeated request (same Idempotency-Key) may be answered from the first one.
    public var acceptsIdempotencyKey: Bool { verb == .post || verb == .put || verb == .patch }

    /// A route that calls `method`; its answer is the method's response
    /// (or `response`, when the route presents it differently).
    public init<Request, Response>(
        _ verb: Verb, _ path: String, calls method: BusMethod<Request, Response>,
        summary: String, operationID: String, parameters: [Parameter] = [], body: (any Contract.Type)? = nil,
        status: Int = 200, response: JSONSchema? = nil, failures: [Failure] = [], nextPageField: String? = nil, createdField: String? = nil
    ) {
        self.verb = verb
        self.path = path
        self.summary = summary
        self.operationID = operationID
        self.service = method.service
        self.method = method.name
        self.parameters = parameters
        self.body = body.map { type in JSONSchema(.reference(type.schemaName, { type.schema })) }
        self.status = status
        self.response = status == 204 ? nil : (response ?? .contract(Response.self))
        self.failures = failures
        self.nextPageField = nextPageField
        self.createdField = createdField
    }
}
