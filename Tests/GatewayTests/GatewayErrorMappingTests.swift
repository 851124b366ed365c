import BusRuntime
import BusWire
import Foundation
@testable import Gateway
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// What a client reads when a service answers with a bus error: the status
/// API.md gives the code, `{"detail", "code"}`, and no word of the bus's
/// own (instances, addresses) or of an internal failure.
@Suite struct GatewayErrorMappingTests {
    struct Expectation: Sendable, CustomTestStringConvertible {
        var code: ErrorCode
        var status: Int
        /// nil: the service's own message.
        var detail: String?
        var answeredCode: String
        var retryAfter: String?

        var testDescription: String { code.rawValue }
    }

    static let service = "analysis-store"
    static let message = "what analysis-store-1f2e@10.0.0.7:46789 said"

    static let expectations: [Expectation] = [
        .init(code: .invalidArgument, status: 422, detail: nil, answeredCode: "invalid-argument"),
        .init(code: .notFound, status: 404, detail: nil, answeredCode: "not-found"),
        .init(code: .conflict, status: 409, detail: nil, answeredCode: "conflict"),
        .init(code: .permissionDenied, status: 403, detail: nil, answeredCode: "permission-denied"),
        .init(code: .limitExceeded, status: 413, detail: nil, answeredCode: "limit-exceeded"),
        .init(code: .overloaded, status: 429, detail: "analysis-store is overloaded; retry later", answeredCode: "overloaded", retryAfter: "1"),
        .init(code: .unavailable, status: 503, detail: "analysis-store is unavailable; retry later", answeredCode: "unavailable", retryAfter: "1"),
        .init(code: .noResponders, status: 503, detail: "analysis-store is unavailable; retry later", answeredCode: "no-responders", retryAfter: "1"),
        // The gateway's own credential refused by the bus: the service is unusable, not the client unknown.
        .init(code: .unauthenticated, status: 503, detail: "analysis-store is unavailable; retry later", answeredCode: "unauthenticated", retryAfter: "1"),
        .init(code: .deadlineExceeded, status: 504, detail: "analysis-store did not answer in time", answeredCode: "deadline-exceeded"),
        .init(code: .unimplemented, status: 501, detail: "analysis-store does not implement this", answeredCode: "unimplemented"),
        .init(code: .unsupportedVersion, status: 500, detail: "internal error (request id ", answeredCode: "internal"),
        .init(code: .protocolError, status: 500, detail: "internal error (request id ", answeredCode: "internal"),
        .init(code: .internal, status: 500, detail: "internal error (request id ", answeredCode: "internal"),
    ]

    @Test func everyKnownCodeHasAnExpectation() {
        #expect(Set(Self.expectations.map(\.code)) == Set(ErrorCode.known))
    }

    @Test(arguments: expectations)
    func aServiceErrorIsAnsweredAsAPIMdSays(_ expectation: Expectation) async throws {
        let services = ServiceDouble()
        services.fail("analysis-store.get", BusError(expectation.code, Self.message))
        let response = try await TestGateway.test(services) { client in try await client.request(.get, "/api/video-analysis/v1") }
        #expect(Int(response.status.code) == expectation.status, "\(response.status) \(response.text)")
        #expect(response.isErrorShape, "\(response.headers) \(response.text)")
        #expect(response.code == expectation.answeredCode)
        if let detail = expectation.detail {
            if expectation.status == 500 {
                #expect(response.detail?.hasPrefix(detail) == true, "\(response.text)")
            } else {
                #expect(response.detail == detail)
            }
            // The bus's text (an instance, an address) stays inside.
            #expect(!response.text.contains("10.0.0.7") && !response.text.contains("1f2e"), "\(response.text)")
        } else {
            // What the service says of the request reaches the client as it said it.
            #expect(response.detail == Self.message)
        }
        #expect(response.headers[.retryAfter] == expectation.retryAfter)
    }

    /// "No live instance" names only the service: said as it is.
    @Test func noLiveInstanceIsSaidAsItIs() async throws {
        let services = ServiceDouble()
        services.fail("conversion.campaigns.get", BusError(.noResponders, "no live instance of conversion"))
        let response = try await TestGateway.test(services) { client in try await client.request(.get, "/api/campaigns/c1") }
        #expect(response.status == .serviceUnavailable && response.headers[.retryAfter] == "1")
        #expect(response.detail == "no live instance of conversion" && response.code == "no-responders")
    }

    /// A code this build does not know (a newer peer's) is an internal error, not a guess.
    @Test func anUnknownCodeIsInternal() async throws {
        let services = ServiceDouble()
        services.fail("analysis-store.get", BusError(ErrorCode(rawValue: "teapot"), "short and stout"))
        let response = try await TestGateway.test(services) { client in try await client.request(.get, "/api/video-analysis/v1") }
        #expect(response.status == .internalServerError && response.code == "internal")
        #expect(response.detail?.hasPrefix("internal error (request id ") == true && !response.text.contains("stout"), "\(response.text)")
    }

    /// Each 500 carries its own request id, for the log line that says what happened.
    @Test func eachInternalErrorHasItsOwnRequestID() async throws {
        let services = ServiceDouble()
        services.fail("analysis-store.get", BusError(.internal, "boom"))
        let details = try await TestGateway.test(services) { client in
            var details: [String] = []
            for _ in 0..<3 { details.append(try await client.request(.get, "/api/video-analysis/v1").detail ?? "") }
            return details
        }
        #expect(Set(details).count == 3, "\(details)")
        for detail in details { #expect(detail.wholeMatch(of: #/internal error \(request id [0-9a-f]{16}\)/#) != nil, "\(detail)") }
    }

    /// A service that answers a list with something other than a JSON object is the gateway's 500, not the client's fault.
    @Test func anUnreadableAnswerIsAnInternalError() async throws {
        let services = ServiceDouble()
        services.answer("analysis-store.list", json: "[1, 2, 3]")
        services.answer("analysis-store.clip-analyses.put", json: "not json at all")
        try await TestGateway.test(services) { client in
            let list = try await client.request(.get, "/api/video-analysis/")
            let put = try await client.request(.put, "/api/clips/c1/analysis", #"{"features": {}, "score": 0.5}"#)
            for response in [list, put] {
                #expect(response.status == .internalServerError && response.code == "internal", "\(response.text)")
                #expect(response.detail?.hasPrefix("internal error (request id ") == true)
            }
        }
    }

    /// Errors of every route's own kind keep the route's error shape: 404, 409, 422 from each service family.
    @Test func errorsFromEveryServiceKeepTheirStatusAndMessage() async throws {
        let cases: [(String, HTTPRequest.Method, String, String?, BusError, HTTPResponse.Status)] = [
            ("ingest.users.create", .post, "/api/users", #"{"email": "ada@example.com"}"#, BusError(.conflict, "a user of this tenant has the email ada@example.com"), .conflict),
            ("ingest.users.delete", .delete, "/api/users/u2", nil, BusError(.permissionDenied, "only an ADMIN may delete another user"), .forbidden),
            ("prediction.predict", .post, "/api/predictions", #"{"clip_id": "c1", "model": "nope"}"#, BusError(.invalidArgument, "model: no model named nope"), .unprocessableContent),
            ("conversion.campaigns.update", .patch, "/api/campaigns/c1", #"{"status": "DRAFT"}"#, BusError(.conflict, "status: ACTIVE cannot move to DRAFT"), .conflict),
            ("analysis-store.knowledge.get", .get, "/api/knowledge/d9", nil, BusError(.notFound, "no document d9"), .notFound),
        ]
        let services = ServiceDouble()
        for (method, _, _, _, error, _) in cases { services.fail(method, error) }
        try await TestGateway.test(services) { client in
            for (_, verb, uri, body, error, status) in cases {
                let response = try await client.request(verb, uri, body)
                #expect(response.status == status, "\(verb) \(uri): \(response.text)")
                #expect(response.detail == error.message && response.code == error.code.rawValue && response.isErrorShape)
            }
        }
    }
}
