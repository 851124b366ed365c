import BusRuntime
import BusWire
import Catalog
import Contracts
import Foundation
@testable import Gateway
import Hummingbird
import HummingbirdTesting
import Logging
import NIOConcurrencyHelpers
import NIOCore
import Prometheus

/// The services behind the gateway, in memory: each call the gateway makes
/// is recorded as the service would receive it (method, bytes, deadline,
/// idempotency key, identity) and answered as a service would. Ingest's
/// `authenticate` and `anonymous` answer from a table of keys, as ingest
/// does; any other method answers what a test scripted for it, else echoes
/// its request back (so what a client reads is what the service wrote).
final class ServiceDouble: GatewayBus {
    /// One call, as the service receives it.
    struct Call: Sendable, CustomStringConvertible {
        var service: String
        var method: String
        var body: ByteBuffer
        var timeout: TimeAmount
        var idempotencyKey: String?
        var identity: Identity?

        var name: String { service + "." + method }
        var text: String { String(buffer: body) }
        /// The request as the service decodes it.
        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:] }
        var description: String { "\(name) \(text)" }
    }

    typealias Handler = @Sendable (Call) async throws -> ByteBuffer

    /// Keys ingest knows, as `ingest.authenticate` answers them.
    static let acmeAdminKey = "vbk_acme_admin_0123456789abcdef"
    static let acmeUserKey = "vbk_acme_user_0123456789abcdef"
    static let globexEnterpriseKey = "vbk_globex_enterprise_0123456789"
    static let principals: [String: IngestContracts.Principal] = [
        acmeAdminKey: .init(tenantId: "t-acme", tenantName: "acme", userId: "u-acme-admin", role: "ADMIN", keyId: "k-1"),
        acmeUserKey: .init(tenantId: "t-acme", tenantName: "acme", userId: "u-acme-user", role: "USER", keyId: "k-2"),
        globexEnterpriseKey: .init(tenantId: "t-globex", tenantName: "globex", userId: "u-globex", role: "ENTERPRISE", keyId: "k-3"),
    ]

    /// The services every catalog route calls: all serving, unless a test says otherwise.
    static let routeServices = Set(ServiceCatalog.routes.map(\.service))

    private struct State {
        var calls: [Call] = []
        var directoryCalls: [Call] = []
        var handlers: [String: Handler] = [:]
        var serving: Set<String> = ServiceDouble.routeServices
        var registryAnswers = true
    }

    private let state = NIOLockedValueBox(State())

    /// Calls of the services' methods, in order (ingest's `authenticate` and `anonymous` are in ``directoryCalls``).
    var calls: [Call] { state.withLockedValue { $0.calls } }
    var directoryCalls: [Call] { state.withLockedValue { $0.directoryCalls } }
    var lastCall: Call? { calls.last }

    /// `service.method` answers with what `handler` returns or throws.
    func answer(_ name: String, _ handler: @escaping Handler) {
        state.withLockedValue { $0.handlers[name] = handler }
    }

    /// `service.method` answers `json`.
    func answer(_ name: String, json: String) {
        answer(name) { _ in ByteBuffer(string: json) }
    }

    /// `service.method` fails with `error`.
    func fail(_ name: String, _ error: BusError) {
        answer(name) { _ in throw error }
    }

    /// Which services have a serving instance, as the registry says; `nil`: no registry answers.
    func setServing(_ services: Set<String>?) {
        state.withLockedValue { state in
            state.registryAnswers = services != nil
            state.serving = services ?? []
        }
    }

    func callMethod(
        service: String, method: String, body: ByteBuffer, timeout: TimeAmount, idempotencyKey: String?, identity: Identity?
    ) async throws(BusError) -> ByteBuffer {
        let call = Call(service: service, method: method, body: body, timeout: timeout, idempotencyKey: idempotencyKey, identity: identity)
        let isDirectory = call.name == "ingest.authenticate" || call.name == "ingest.anonymous"
        let handler = state.withLockedValue { state in
            if isDirectory { state.directoryCalls.append(call) } else { state.calls.append(call) }
            return state.handlers[call.name]
        }
        if let handler {
            do {
                return try await handler(call)
            } catch let error as BusError {
                throw error
            } catch {
                throw BusError(.internal, "the test's handler failed: \(error)")
            }
        }
        switch call.name {
        case "ingest.authenticate":
            let request = try JSONBody.decode(IngestContracts.AuthenticateRequest.self, from: body)
            guard let principal = Self.principals[request.key] else { throw BusError(.unauthenticated, "unknown or revoked API key") }
            return try JSONBody.encode(principal)
        case "ingest.anonymous":
            let request = try JSONBody.decode(IngestContracts.AnonymousRequest.self, from: body)
            return try JSONBody.encode(Self.anonymous(request.tenantName))
        default:
            return body
        }
    }

    static func anonymous(_ tenant: String) -> IngestContracts.Principal {
        .init(tenantId: "t-\(tenant)", tenantName: tenant, userId: "u-\(tenant)-anonymous", role: "USER")
    }

    func registrySnapshot(timeout: TimeAmount) async throws(BusError) -> RegistryProtocol.Snapshot {
        let (answers, serving) = state.withLockedValue { ($0.registryAnswers, $0.serving) }
        guard answers else { throw BusError(.noResponders, "no registry answered before the deadline") }
        return RegistryProtocol.Snapshot(revision: 1, instances: serving.sorted().map { service in
            RegistryProtocol.InstanceView(
                record: .init(service: service, instance: "\(service)-1", host: "127.0.0.1", port: 46789, version: "test", methods: []),
                state: .serving, leaseAgeMs: 0, inFlight: 0
            )
        })
    }
}

/// A door a handler waits at until the test opens it: how a test holds a call in flight without sleeping.
final class Gate: Sendable {
    private let state = NIOLockedValueBox<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    func wait() async {
        await withCheckedContinuation { continuation in
            let open = state.withLockedValue { state in
                if !state.open { state.waiters.append(continuation) }
                return state.open
            }
            if open { continuation.resume() }
        }
    }

    func open() {
        let waiters = state.withLockedValue { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}

/// The gateway's router, over a ``ServiceDouble``, tested through Hummingbird's router mode (no sockets).
enum TestGateway {
    static let routes = ServiceCatalog.routes

    /// The defaults of `videobus gateway`, except a recognisable call timeout and
    /// (unless nil) an anonymous tenant, as under `videobus up`.
    static func configuration(
        anonymousTenant: String? = "default", callTimeoutSeconds: Double = 7, maxBodyBytes: Int = GatewayConfiguration.defaultMaxBodyBytes,
        maxBodyBytesInFlight: Int = GatewayConfiguration.defaultMaxBodyBytesInFlight,
        rateLimits: [String: RateLimit] = GatewayConfiguration.defaultRateLimits
    ) -> GatewayConfiguration {
        GatewayConfiguration(
            callTimeoutSeconds: callTimeoutSeconds, maxBodyBytes: maxBodyBytes, maxBodyBytesInFlight: maxBodyBytesInFlight,
            anonymousTenant: anonymousTenant, rateLimits: rateLimits
        )
    }

    static func test<Value: Sendable>(
        _ services: ServiceDouble = ServiceDouble(), configuration: GatewayConfiguration = configuration(),
        metrics: PrometheusCollectorRegistry? = nil, version: String = "1.2.3",
        _ body: @Sendable (any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        let router = Gateway.router(bus: services, routes: routes, configuration: configuration, metrics: metrics, version: version)
        var logger = Logger(label: "gateway-test")
        // The 500s under test are logged as errors by design; the tests read the answers instead.
        logger.logLevel = .critical
        return try await Application(router: router, logger: logger).test(.router, body)
    }
}

extension TestClientProtocol {
    func request(_ method: HTTPRequest.Method, _ uri: String, _ body: String? = nil, headers: HTTPFields = [:]) async throws -> TestResponse {
        try await executeRequest(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(string: $0) })
    }
}

extension TestResponse {
    var text: String { String(buffer: body) }
    var json: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) as? [String: Any] ?? [:] }
    var detail: String? { json["detail"] as? String }
    var code: String? { json["code"] as? String }

    /// The gateway's error shape: JSON with exactly `detail` and `code`.
    var isErrorShape: Bool {
        headers[.contentType] == "application/json" && Set(json.keys) == ["detail", "code"] && detail != nil && code != nil
    }
}

/// `text` parsed and written again with sorted keys: two JSON texts with the same meaning compare equal.
func canonicalJSON(_ text: String) -> String {
    guard let value = try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]),
          let data = try? JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .fragmentsAllowed, .withoutEscapingSlashes])
    else { return "not JSON: " + text }
    return String(decoding: data, as: UTF8.self)
}
