import BusRuntime
import BusWire
import Foundation
@testable import Gateway
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// What the gateway refuses before any service is asked: bodies too large,
/// not JSON, not an object, with a key twice or a number too long to read
/// exactly, and requests beyond the body budget or a key's rate.
@Suite struct GatewayLimitsTests {
    static let create = "/api/video-analysis/"

    /// `{"video_id": "v", "description": "ddd…"}` of exactly `size` bytes.
    static func body(ofSize size: Int) -> String {
        let frame = #"{"video_id": "v", "description": ""}"#
        return #"{"video_id": "v", "description": "\#(String(repeating: "d", count: size - frame.utf8.count))"}"#
    }

    @Test func aBodyOverTheLimitIs413AndNoServiceIsAsked() async throws {
        let services = ServiceDouble()
        let (over, at) = try await TestGateway.test(services, configuration: TestGateway.configuration(maxBodyBytes: 1000)) { client in
            (try await client.request(.post, Self.create, Self.body(ofSize: 1001)), try await client.request(.post, Self.create, Self.body(ofSize: 1000)))
        }
        #expect(over.status == .contentTooLarge && over.isErrorShape && over.code == "limit-exceeded", "\(over.text)")
        #expect(over.detail == "request body of 1001 bytes exceeds the limit of 1000 bytes")
        #expect(at.status == .created, "exactly the limit is allowed: \(at.text)")
        #expect(services.calls.count == 1 && services.calls[0].body.readableBytes == 1000)
    }

    @Test func aBodyThatIsNotJSONIs400() async throws {
        let services = ServiceDouble()
        try await TestGateway.test(services) { client in
            for body in ["{not json", #"{"video_id": "v" "description": "d"}"#, "\u{FEFF}garbage"] {
                let response = try await client.request(.post, Self.create, body)
                #expect(response.status == .badRequest && response.isErrorShape && response.code == "invalid-argument", "\(body): \(response.text)")
                #expect(response.detail == "the body is not valid JSON", "\(body)")
            }
            let empty = try await client.request(.post, Self.create, "")
            #expect(empty.status == .badRequest && empty.detail == "the request needs a JSON body", "\(empty.text)")
        }
        #expect(services.calls.isEmpty)
    }

    /// Foundation's parser takes a trailing comma, so the gateway forwards a body API.md calls "not JSON" (400).
    /// Foundation's parser accepts a comma before a closing bracket; RFC 8259 and API.md do not.
    @Test(arguments: [#"{"video_id": "v", "description": "d",}"#, #"{"video_id": "v", "description": "d", "tags": ["a",]}"#, "{\"video_id\": \"v\", \"description\": \"d\" ,\n }"])
    func aTrailingCommaIs400(_ body: String) async throws {
        let services = ServiceDouble()
        let response = try await TestGateway.test(services) { client in try await client.request(.post, Self.create, body) }
        #expect(response.status == .badRequest && response.isErrorShape, "\(response.text)")
        #expect(response.detail == "the body is not valid JSON")
        #expect(services.calls.isEmpty)
    }

    @Test(arguments: ["null", "[]", #"["an", "array"]"#, "42", #""text""#, "true"])
    func aBodyThatIsJSONButNotAnObjectIs422(_ body: String) async throws {
        let services = ServiceDouble()
        let response = try await TestGateway.test(services) { client in try await client.request(.post, Self.create, body) }
        #expect(response.status == .unprocessableContent && response.isErrorShape, "\(response.text)")
        #expect(response.detail == "body: expected a JSON object")
        #expect(services.calls.isEmpty)
    }

    @Test(arguments: [
        (#"{"video_id": "d1", "description": "x", "video_id": "d2"}"#, "video_id"),
        (#"{"video_id": "d1", "description": "x", "vide\u006f_id": "d2"}"#, "video_id"),
        (#"{"video_id": "d1", "description": "x", "extra": {"a": 1, "b": [{"c": 1, "c": 2}]}}"#, "c"),
    ] as [(String, String)])
    func aKeyTwiceInOneObjectIs422NamingIt(_ body: String, _ key: String) async throws {
        let services = ServiceDouble()
        let response = try await TestGateway.test(services) { client in try await client.request(.post, Self.create, body) }
        #expect(response.status == .unprocessableContent && response.isErrorShape && response.code == "invalid-argument", "\(response.text)")
        #expect(response.detail == "body: the key \(key) appears twice in one object")
        #expect(services.calls.isEmpty)
    }

    @Test func theSameKeyInDifferentObjectsIsFine() async throws {
        let services = ServiceDouble()
        let body = #"{"video_id": "d3", "description": "x", "other": {"video_id": 1}, "list": [{"a": 1}, {"a": 2}]}"#
        let response = try await TestGateway.test(services) { client in try await client.request(.post, Self.create, body) }
        #expect(response.status == .created)
        #expect(services.lastCall?.text == body)
    }

    /// Services read numbers (money) from their text, exactly up to 38 significant digits; more would be cut without a word.
    @Test func aNumberLiteralOfMoreThan38SignificantDigitsIs422() async throws {
        let digits38 = "12345678901234567890123456789012345678"
        let refused = [digits38 + "9", "-" + digits38 + "9", "0.000" + digits38 + "9", "1234567890123456789.01234567890123456789", digits38 + "9e-30"]
        // Leading and trailing zeros are not significant; strings are not numbers.
        let accepted = [digits38, "-" + digits38, "0.0000" + digits38, "1" + String(repeating: "0", count: 60), #""\#(digits38)9""#]
        let services = ServiceDouble()
        try await TestGateway.test(services) { client in
            for number in refused {
                let response = try await client.request(.post, "/api/campaigns/c1/metrics", #"{"spend": \#(number), "impressions": 1, "clicks": 0}"#)
                #expect(response.status == .unprocessableContent && response.isErrorShape && response.code == "invalid-argument", "\(number): \(response.text)")
                #expect(response.detail == "body: the number \(number.prefix(60)) has more significant digits than can be read exactly (38)", "\(number)")
            }
            #expect(services.calls.isEmpty, "\(services.calls)")
            for number in accepted {
                let response = try await client.request(.post, "/api/campaigns/c1/metrics", #"{"spend": \#(number), "impressions": 1, "clicks": 0}"#)
                #expect(response.status == .ok, "\(number): \(response.text)")
                #expect(services.lastCall?.text.contains(number) == true, "the literal reaches the service as written")
            }
        }
    }

    /// Foundation's parser stops at 512 levels; deeper bodies are refused as unreadable, without a crash, before any service is asked.
    @Test func aDeeplyNestedBodyIsRefusedAndAReasonableOneForwarded() async throws {
        let services = ServiceDouble()
        let deep = #"{"video_id": "v", "description": "d", "extra": "# + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        let nested = #"{"video_id": "v", "description": "d", "extra": "# + String(repeating: #"{"a": ["#, count: 64) + String(repeating: "]}", count: 64) + "}"
        let (refused, forwarded) = try await TestGateway.test(services) { client in
            (try await client.request(.post, Self.create, deep), try await client.request(.post, Self.create, nested))
        }
        #expect(refused.status == .badRequest && refused.isErrorShape && refused.code == "invalid-argument", "\(refused.status) \(refused.text.prefix(200))")
        #expect(forwarded.status == .created, "\(forwarded.text.prefix(200))")
        #expect(services.calls.count == 1 && services.lastCall?.text == nested)
    }

    /// Bodies being read at once share a budget: a request whose body would go beyond it is 503 with
    /// Retry-After, while requests without a body are served, and the budget comes back when the first is answered.
    @Test func theBodyBudgetIsSharedByRequestsInFlight() async throws {
        let services = ServiceDouble()
        let gate = Gate()
        let (arrivals, arrived) = AsyncStream.makeStream(of: Void.self)
        services.answer("analysis-store.create") { call in
            arrived.yield()
            await gate.wait()
            return call.body
        }
        let configuration = TestGateway.configuration(maxBodyBytes: 1000, maxBodyBytesInFlight: 1500)
        try await TestGateway.test(services, configuration: configuration) { client in
            async let held = client.request(.post, Self.create, Self.body(ofSize: 800))
            do {
                var iterator = arrivals.makeAsyncIterator()
                _ = await iterator.next()
                // 800 bytes are reserved until the held request is answered: 800 more do not fit in 1500.
                let refused = try await client.request(.put, "/api/video-analysis/v", Self.body(ofSize: 800))
                #expect(refused.status == .serviceUnavailable && refused.isErrorShape && refused.code == "overloaded", "\(refused.text)")
                #expect(refused.detail == "the gateway is reading too many request bodies at once; retry later")
                #expect(refused.headers[.retryAfter] == "1")
                #expect(try await client.request(.put, "/api/video-analysis/v", Self.body(ofSize: 700)).status == .ok, "700 more fit")
                #expect(try await client.request(.get, "/api/video-analysis/v").status == .ok, "a GET reserves nothing")
            } catch {
                gate.open()
                throw error
            }
            gate.open()
            #expect(try await held.status == .created)
            #expect(try await client.request(.put, "/api/video-analysis/v", Self.body(ofSize: 800)).status == .ok, "the budget came back")
        }
    }

    /// A key beyond its role's rate is 429 with Retry-After, and its request never reaches a service.
    @Test func aKeyBeyondItsRateIs429() async throws {
        let services = ServiceDouble()
        // A token every 1,000 s: no loaded machine refills one mid-test.
        let configuration = TestGateway.configuration(rateLimits: ["ADMIN": RateLimit(rate: 0.001, burst: 2), "USER": RateLimit(rate: 1000)])
        let admin: HTTPFields = [.authorization: "Bearer \(ServiceDouble.acmeAdminKey)"]
        try await TestGateway.test(services, configuration: configuration) { client in
            for _ in 0..<2 { #expect(try await client.request(.get, "/api/video-analysis/", headers: admin).status == .ok) }
            let limited = try await client.request(.get, "/api/video-analysis/", headers: admin)
            #expect(limited.status == .tooManyRequests && limited.isErrorShape && limited.code == "overloaded", "\(limited.text)")
            let seconds = Int(limited.headers[.retryAfter] ?? "") ?? 0
            #expect((990...1000).contains(seconds), "\(limited.headers)")
            #expect(limited.detail == "rate limit of 0.001 requests/s (burst 2) exceeded; retry in \(seconds) s")
            // Another key has its own bucket; the operators' routes are not limited.
            #expect(try await client.request(.get, "/api/video-analysis/", headers: [.xAPIKey: ServiceDouble.acmeUserKey]).status == .ok)
            #expect(try await client.request(.get, "/healthz", headers: admin).status == .ok)
        }
        #expect(services.calls.count == 3)
    }
}
