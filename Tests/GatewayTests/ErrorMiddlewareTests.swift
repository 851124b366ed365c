@testable import Gateway
import Hummingbird
import Logging
import NIOEmbedded
import Testing

/// Every error leaves the router as `{"detail", "code"}`, and an unexpected
/// one says only that it happened (with a request id), never its text.
/// (The middleware is called directly: in-process, no server, no HTTP client.)
@Suite struct ErrorMiddlewareTests {
    struct Secret: Error, CustomStringConvertible {
        var description: String { "connection to analysis-store@127.0.0.1:46789 failed: the secret" }
    }

    /// What the middleware answers when the route throws `error`: the status and headers the client gets, and the body's fields.
    static func answer(_ path: String, throwing error: any Error) async throws -> (status: HTTPResponse.Status, headers: HTTPFields, body: [String: String]) {
        let context = GatewayRequestContext(source: .init(channel: EmbeddedChannel(), logger: Logger(label: "test")))
        let request = Request(head: HTTPRequest(method: .get, scheme: "http", authority: "127.0.0.1", path: path), body: .init(buffer: ByteBuffer()))
        do {
            _ = try await ErrorMiddleware().handle(request, context: context) { _, _ in throw error }
        } catch let passed as APIError {
            // The JSON body is rendered from these two fields (APIErrorTests covers the rendering).
            let response = try passed.response(from: request, context: context)
            return (response.status, response.headers, ["detail": passed.detail, "code": passed.code])
        }
        Issue.record("the middleware let \(error) through as another type")
        return (.ok, [:], [:])
    }

    @Test func anUnexpectedErrorIs500WithARequestIDAndNothingElse() async throws {
        for error: any Error in [Secret(), APIError(.badGateway, "internal text 10.0.0.7:5000", code: "internal")] {
            let (status, _, body) = try await Self.answer("/bug", throwing: error)
            #expect(status == .internalServerError)
            #expect(body["code"] == "internal")
            #expect(body["detail"]?.hasPrefix("internal error (request id ") == true, "\(body)")
            #expect(!"\(body)".contains("secret") && !"\(body)".contains("10.0.0.7"))
        }
    }

    @Test func expectedErrorsKeepTheirStatusAsJSON() async throws {
        let gone = try await Self.answer("/gone", throwing: APIError(.serviceUnavailable, "analysis-store is unavailable; retry later", code: "unavailable"))
        #expect(gone.status == .serviceUnavailable && gone.headers[.retryAfter] == "1")
        #expect(gone.body["detail"] == "analysis-store is unavailable; retry later")
        let teapot = try await Self.answer("/teapot", throwing: HTTPError(.badRequest, message: "hummingbird's own"))
        #expect(teapot.status == .badRequest && teapot.body["code"] == "invalid-argument")
        let nowhere = try await Self.answer("/nowhere", throwing: HTTPError(.notFound))
        #expect(nowhere.status == .notFound && nowhere.body["code"] == "not-found")
        #expect(nowhere.body["detail"] == "no route for GET /nowhere")
    }
}
