import Foundation
@testable import Gateway
import Hummingbird
import HummingbirdTesting
import Testing

/// Every error leaves the router as `{"detail", "code"}`, and an unexpected
/// one says only that it happened (with a request id), never its text.
@Suite struct ErrorMiddlewareTests {
    struct Secret: Error, CustomStringConvertible {
        var description: String { "connection to analysis-store@127.0.0.1:46789 failed: the secret" }
    }

    static func application() -> some ApplicationProtocol {
        let router = Router(context: GatewayRequestContext.self)
        router.add(middleware: ErrorMiddleware())
        router.get("/bug") { _, _ -> Response in throw Secret() }
        router.get("/bad-gateway") { _, _ -> Response in throw APIError(.badGateway, "internal text 10.0.0.7:5000", code: "internal") }
        router.get("/gone") { _, _ -> Response in throw APIError(.serviceUnavailable, "analysis-store is unavailable; retry later", code: "unavailable") }
        router.get("/teapot") { _, _ -> Response in throw HTTPError(.badRequest, message: "hummingbird's own") }
        return Application(router: router)
    }

    static func json(_ buffer: ByteBuffer) -> [String: String]? {
        try? JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: String]
    }

    @Test func anUnexpectedErrorIs500WithARequestIDAndNothingElse() async throws {
        try await Self.application().test(.router) { client in
            for path in ["/bug", "/bad-gateway"] {
                try await client.execute(uri: path, method: .get) { response in
                    #expect(response.status == .internalServerError)
                    let body = Self.json(response.body)
                    #expect(body?["code"] == "internal")
                    #expect(body?["detail"]?.hasPrefix("internal error (request id ") == true, "\(String(buffer: response.body))")
                    #expect(!String(buffer: response.body).contains("secret") && !String(buffer: response.body).contains("10.0.0.7"))
                }
            }
        }
    }

    @Test func expectedErrorsKeepTheirStatusAsJSON() async throws {
        try await Self.application().test(.router) { client in
            try await client.execute(uri: "/gone", method: .get) { response in
                #expect(response.status == .serviceUnavailable && response.headers[.retryAfter] == "1")
                #expect(Self.json(response.body)?["detail"] == "analysis-store is unavailable; retry later")
            }
            try await client.execute(uri: "/teapot", method: .get) { response in
                #expect(response.status == .badRequest && Self.json(response.body)?["code"] == "invalid-argument")
            }
            try await client.execute(uri: "/nowhere", method: .get) { response in
                #expect(response.status == .notFound && Self.json(response.body)?["code"] == "not-found")
                #expect(Self.json(response.body)?["detail"] == "no route for GET /nowhere")
            }
        }
    }
}
