import BusRuntime
import BusWire
import Contracts
import Logging
import NIOCore
import Storage

/// Everything that makes a service, in one value: its name, its database
/// (migrations and seed data), the methods it serves, the events it
/// publishes and consumes, and its REST routes. The CLI (`serve`, `up`,
/// `migrate`, `seed`), the gateway's router and `/openapi.json` all read
/// the catalog of definitions, so a new service is one module that exports
/// one of these and one line in the catalog.
public struct ServiceDefinition: Sendable {
    public var name: String
    /// One line for `--help` and documents.
    public var summary: String
    /// Its database; nil for a service without one (echo).
    public var schema: ServiceSchema?
    /// The methods it serves, as their contracts declare them.
    public var methods: [MethodDescription]
    /// The events it publishes.
    public var events: [EventDescription]
    /// The topics it consumes: publishers hold their events for it even while
    /// no instance of it is up.
    public var subscriptions: [String]
    /// Its public REST routes, served by the gateway.
    public var routes: [HTTPRoute]
    /// Whether `videobus up` runs it as part of the system (echo is a load-test target).
    public var partOfSystem: Bool
    /// Builds the running service: returns a handler for every method in
    /// ``methods`` and consumes every topic in ``subscriptions`` on
    /// `runtime.node` (the host checks both).
    public var start: @Sendable (ServiceRuntime) async throws -> [MethodBinding]

    public init(
        name: String, summary: String, schema: ServiceSchema?, methods: [MethodDescription] = [], events: [EventDescription] = [],
        subscriptions: [String] = [], routes: [HTTPRoute] = [], partOfSystem: Bool = true,
        start: @escaping @Sendable (ServiceRuntime) async throws -> [MethodBinding]
    ) {
        self.name = name
        self.summary = summary
        self.schema = schema
        self.methods = methods
        self.events = events
        self.subscriptions = subscriptions
        self.routes = routes
        self.partOfSystem = partOfSystem
        self.start = start
    }

    /// The node that answers only the system methods (ping, echo, info): the load-test target.
    public static let echo = ServiceDefinition(
        name: "echo", summary: "only the system methods ping, echo and info; the load-test target",
        schema: nil, partOfSystem: false, start: { _ in [] }
    )
}

/// What a starting service is given.
public struct ServiceRuntime: Sendable {
    public let node: BusNode
    /// The service's database, migrated; nil when its definition has no schema.
    public let store: ServiceStore?
    public let logger: Logger

    public init(node: BusNode, store: ServiceStore?, logger: Logger) {
        self.node = node
        self.store = store
        self.logger = logger
    }

    /// The store, for services that declared a schema.
    public var requiredStore: ServiceStore {
        guard let store else { preconditionFailure("\(node.configuration.identity.service) declared no schema, so it has no database") }
        return store
    }
}

/// A method's contract with the code that serves it.
public struct MethodBinding: Sendable {
    public let name: String
    let handler: MethodHandler

    /// Serves `method`: decodes its request, encodes its response.
    public init<Request, Response>(_ method: BusMethod<Request, Response>, _ serve: @escaping @Sendable (Request, RequestContext) async throws -> Response) {
        self.name = method.name
        self.handler = .json(serve)
    }

    /// Adds the method to `node` (before it starts).
    public func register(on node: BusNode) {
        node.register(name, handler)
    }
}

extension BusNode {
    /// Calls a method by its contract.
    public func call<Request, Response>(
        _ method: BusMethod<Request, Response>, _ request: Request,
        timeout: TimeAmount? = nil, idempotencyKey: String? = nil, identity: Identity? = nil
    ) async throws(BusError) -> Response {
        try await call(method.service, method.name, request, as: Response.self, timeout: timeout, idempotencyKey: idempotencyKey, identity: identity)
    }
}
