import BusRuntime
import Contracts
import Foundation
import Hummingbird
import Prometheus

/// Health, readiness, metrics and the API's own description.
struct OperationalRoutes: Sendable {
    /// Asked only by `/readyz`: off the services' path, so not worth a generic.
    let bus: any GatewayBus
    let metrics: PrometheusCollectorRegistry?
    /// Services that must have a serving instance for the gateway to be ready.
    let dependencies: [String]
    /// The paths served here (GET only).
    static let paths = ["/healthz", "/readyz", "/metrics", "/openapi.json", "/docs"]
    /// The OpenAPI document, rendered once.
    let openAPI: Data

    func add(to router: Router<GatewayRequestContext>) {
        router.get("/healthz") { _, _ in Self.json(.ok, #"{"status":"ok"}"#) }
        router.get("/readyz") { _, _ in try await ready() }
        router.get("/metrics") { _, _ in
            guard let metrics else { throw APIError(.notFound, "metrics are not enabled", code: "not-found") }
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: metrics.emitToBuffer())))
        }
        let document = ByteBuffer(bytes: openAPI)
        router.get("/openapi.json") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/json"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: document))
        }
        router.get("/docs") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/html; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: DocsPage.html)))
        }
    }

    /// Ready when a registry answers now and every dependency has a serving instance.
    private func ready() async throws -> Response {
        let snapshot: RegistryProtocol.Snapshot
        do {
            snapshot = try await bus.registrySnapshot(timeout: .seconds(1))
        } catch {
            throw APIError(.serviceUnavailable, "no registry answered", code: "unavailable")
        }
        let missing = dependencies.filter { service in !snapshot.instances.contains { $0.record.service == service && $0.state == .serving } }
        guard missing.isEmpty else {
            throw APIError(.serviceUnavailable, "no serving instance of \(missing.joined(separator: ", "))", code: "unavailable")
        }
        return Self.json(.ok, #"{"status":"ready"}"#)
    }

    static func json(_ status: HTTPResponse.Status, _ text: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
