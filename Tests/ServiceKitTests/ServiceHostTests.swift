import BusRuntime
import BusWire
import Contracts
import Logging
import NIOCore
import NIOPosix
import ServiceKit
import Storage
import Testing

/// The host runs a definition only when its handlers and consumers are the declared ones.
@Suite struct ServiceHostTests {
    struct Ping: Contract {
        static let schema = JSONSchema.object([])
    }

    static let ping = BusMethod<Ping, Ping>("probe", "ping-twice", summary: "test")
    static let other = BusMethod<Ping, Ping>("probe", "other", summary: "test")

    func definition(declaring methods: [MethodDescription], subscriptions: [String] = [], serving bindings: [MethodBinding], consuming topics: [String] = []) -> ServiceDefinition {
        ServiceDefinition(name: "probe", summary: "test", schema: ServiceSchema(service: "probe", migrations: Outbox.migrations(startingAt: 1) + [Idempotency.migration(id: 3)], seed: { _ in 0 }),
                          methods: methods, subscriptions: subscriptions) { runtime in
            for topic in topics { runtime.node.subscribe(topic) { _, _ in } }
            return bindings
        }
    }

    func install(_ definition: ServiceDefinition) async throws {
        let group = MultiThreadedEventLoopGroup.singleton
        let node = BusNode(configuration: .init(identity: NodeIdentity(service: "probe", instance: "probe-1", version: "t")), group: group)
        let host = ServiceHost(definition, options: .init(databaseURL: try DatabaseURL("sqlite::memory:"), holder: "test"))
        let running = try await host.install(on: node, logger: Logger(label: "test"))
        await running.database?.close()
    }

    @Test func aDefinitionWhoseHandlersMatchRuns() async throws {
        let binding = MethodBinding(Self.ping) { request, _ in request }
        try await install(definition(declaring: [Self.ping.description], subscriptions: ["x.happened"], serving: [binding], consuming: ["x.happened"]))
    }

    @Test func aMissingOrUndeclaredHandlerIsRefused() async throws {
        let binding = MethodBinding(Self.ping) { request, _ in request }
        await #expect(throws: ServiceHostError.self) { try await install(definition(declaring: [Self.ping.description, Self.other.description], serving: [binding])) }
        await #expect(throws: ServiceHostError.self) { try await install(definition(declaring: [], serving: [binding])) }
        await #expect(throws: ServiceHostError.self) { try await install(definition(declaring: [Self.ping.description], serving: [binding], consuming: ["undeclared"])) }
    }
}
