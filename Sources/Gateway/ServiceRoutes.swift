import BusRuntime
import BusWire
import Contracts
import Foundation
import Hummingbird
import NIOCore
import NIOHTTP1

/// The services' REST routes, each translated into one bus call as its
/// ``HTTPRoute`` declares: the bus request is the JSON body with the path
/// and query parameters added, and the answer is the service's JSON,
/// forwarded as it is (lists move their next cursor into a `Link` header).
struct ServiceRoutes<Bus: GatewayBus>: Sendable {
    let bus: Bus
    let routes: [HTTPRoute]
    let timeout: TimeAmount
    let maxBodyBytes: Int
    let budget: BodyBudget
    let authenticator: Authenticator

    func add(to router: Router<GatewayRequestContext>) {
        for route in routes {
            let handler = RouteHandler(route: route, timeout: timeout, maxBodyBytes: maxBodyBytes, budget: budget, authenticator: authenticator)
            let bus = self.bus
            // Hummingbird matches with and without the trailing slash, as FastAPI clients use both.
            router.on(Self.routerPath(route.path), method: handler.httpMethod) { request, context in
                try await handler.handle(request, context, bus: bus)
            }
        }
    }

    /// `/a/{b}/` in OpenAPI's form as Hummingbird's `/a/:b`.
    static func routerPath(_ path: String) -> RouterPath {
        let segments = path.split(separator: "/").map { segment in
            segment.hasPrefix("{") && segment.hasSuffix("}") ? ":" + segment.dropFirst().dropLast() : String(segment)
        }
        return RouterPath("/" + segments.joined(separator: "/"))
    }
}

/// Serves one route.
struct RouteHandler: Sendable {
    let route: HTTPRoute
    let timeout: TimeAmount
    let maxBodyBytes: Int
    let budget: BodyBudget
    let authenticator: Authenticator

    var httpMethod: HTTPRequest.Method { Self.method(route.verb) }

    static func method(_ verb: HTTPRoute.Verb) -> HTTPRequest.Method {
        switch verb {
        case .get: .get
        case .post: .post
        case .put: .put
        case .patch: .patch
        case .delete: .delete
        }
    }

    /// `bus` comes with each request rather than living here, so that the
    /// handler and its helpers stay one non-generic type.
    func handle<Bus: GatewayBus>(_ request: Request, _ context: GatewayRequestContext, bus: Bus) async throws -> Response {
        // Who the request is for, before its body is read: an unknown caller costs no body budget.
        let identity = try await authenticator.authenticate(request, remoteAddress: context.remoteAddress)
        // The body's bytes count against the budget until the answer is made.
        var reserved = 0
        if route.body != nil {
            let length = request.headers[.contentLength].flatMap(Int.init)
            if let length, length > maxBodyBytes {
                throw APIError(.contentTooLarge, "request body of \(length) bytes exceeds the limit of \(maxBodyBytes) bytes", code: "limit-exceeded")
            }
            reserved = min(length ?? maxBodyBytes, maxBodyBytes)
            guard budget.reserve(reserved) else {
                throw APIError(.serviceUnavailable, "the gateway is reading too many request bodies at once; retry later", code: "overloaded")
            }
        }
        defer { budget.release(reserved) }
        let (fields, bytes) = try await body(request)
        var parameters: [(name: String, value: ParameterValue)] = []
        for parameter in route.parameters {
            if let value = try Self.value(of: parameter, request, context) { parameters.append((parameter.name, value)) }
        }
        let key = try Self.idempotencyKey(request, route)
        let busRequest = try Self.busRequest(body: fields, bytes: bytes, parameters: parameters)
        let answer: ByteBuffer
        do {
            answer = try await bus.callMethod(service: route.service, method: route.method, body: busRequest, timeout: timeout, idempotencyKey: key, identity: identity)
        } catch {
            throw APIError(error, service: route.service)
        }
        guard route.response != nil else { return Response(status: .init(code: route.status)) }
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        var body = answer
        if let field = route.nextPageField {
            (body, headers[.link]) = try Self.movingNextPage(field, of: answer, request: request)
        }
        var status = route.status
        if let field = route.createdField {
            let created: Bool
            (body, created) = try Self.takingCreated(field, of: body)
            if created { status = 201 }
        }
        return Response(status: .init(code: status), headers: headers, body: .init(byteBuffer: body))
    }

    // MARK: - Input

    /// The JSON body as an object, with the bytes it was read from (empty
    /// and nil when the route takes none): 413 beyond the limit (before
    /// reading when Content-Length says so), 400 when it is not JSON, 422 when
    /// it is JSON but not an object.
    private func body(_ request: Request) async throws -> ([String: Any], ByteBuffer?) {
        guard route.body != nil else { return ([:], nil) }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > maxBodyBytes {
            throw APIError(.contentTooLarge, "request body of \(length) bytes exceeds the limit of \(maxBodyBytes) bytes", code: "limit-exceeded")
        }
        var request = request
        let bytes: ByteBuffer
        do {
            bytes = try await request.collectBody(upTo: maxBodyBytes)
        } catch let error as HTTPError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "request body exceeds the limit of \(maxBodyBytes) bytes", code: "limit-exceeded")
        } catch let error as HTTPParserError {
            throw APIError(.badRequest, "the request is not valid HTTP/1.1 (\(Self.describe(error)))", code: "invalid-argument", headers: [.connection: "close"])
        }
        guard bytes.readableBytes > 0 else {
            if route.bodyMayBeEmpty { return ([:], nil) }
            throw APIError(.badRequest, "the request needs a JSON body", code: "invalid-argument")
        }
        let data = Data(bytes.readableBytesView)
        guard let value = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            throw APIError(.badRequest, "the body is not valid JSON", code: "invalid-argument")
        }
        guard let object = value as? [String: Any] else {
            throw APIError(.unprocessableContent, "body: expected a JSON object", code: "invalid-argument")
        }
        switch data.withUnsafeBytes({ JSONDuplicateKeys.firstFinding(in: $0) }) {
        case .repeatedKey(let key): throw APIError(.unprocessableContent, "body: the key \(key) appears twice in one object", code: "invalid-argument")
        case .trailingComma: throw APIError(.badRequest, "the body is not valid JSON", code: "invalid-argument")
        case nil: break
        }
        // Services read numbers (money) from their text, exactly up to 38 significant digits; more would be cut without a word.
        if let number = MoneyText.firstOverlongNumber(inJSON: bytes.readableBytesView) {
            throw APIError(.unprocessableContent, "body: the number \(number.prefix(60)) has more significant digits than can be read exactly (38)", code: "invalid-argument")
        }
        return (object, bytes)
    }

    /// The bus request: the body as the client sent it when nothing is added
    /// to it (it was just checked to be one JSON object without repeated
    /// keys, so the service reads exactly what the client wrote), the
    /// parameters alone when there is no body, the client's bytes with the
    /// parameters written in front of its fields when none shares a name
    /// (so numbers keep their text: money is read from it), else the body
    /// re-encoded with the parameters merged in (a parameter wins over a
    /// body field of its name).
    static func busRequest(body: [String: Any], bytes: ByteBuffer?, parameters: [(name: String, value: ParameterValue)]) throws -> ByteBuffer {
        if parameters.isEmpty, let bytes { return bytes }
        if body.isEmpty { return ParameterValue.object(parameters) }
        if let bytes, !parameters.contains(where: { body[$0.name] != nil }), let spliced = splicing(parameters, into: bytes) { return spliced }
        var fields = body
        for (name, value) in parameters { fields[name] = value.json }
        do {
            return ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: fields, options: [.sortedKeys, .withoutEscapingSlashes]))
        } catch {
            throw APIError(.unprocessableContent, "the request cannot be encoded as JSON", code: "invalid-argument")
        }
    }

    /// `{<parameters>,<the object's own fields>}` from a non-empty JSON object's bytes; nil when they do not start with `{` (after whitespace).
    static func splicing(_ parameters: [(name: String, value: ParameterValue)], into object: ByteBuffer) -> ByteBuffer? {
        let view = object.readableBytesView
        guard let open = view.firstIndex(where: { $0 != 0x20 && $0 != 0x09 && $0 != 0x0A && $0 != 0x0D }), view[open] == UInt8(ascii: "{") else { return nil }
        var spliced = ParameterValue.object(parameters)
        spliced.moveWriterIndex(to: spliced.writerIndex - 1)  // drop its closing brace
        spliced.writeStaticString(",")
        spliced.writeBytes(view[view.index(after: open)...])
        return spliced
    }

    /// A parameter's value as the bus request carries it; 422 when it breaks its declared type or bounds.
    static func value(of parameter: HTTPRoute.Parameter, _ request: Request, _ context: GatewayRequestContext) throws -> ParameterValue? {
        let raw: String?
        switch parameter.location {
        case .path: raw = context.parameters.get(parameter.name).map { $0.removingPercentEncoding ?? $0 }
        case .query: raw = request.uri.queryParameters[Substring(parameter.name)].map(String.init)
        }
        guard let raw else {
            if parameter.required { throw APIError(.unprocessableContent, "\(parameter.name) is required", code: "invalid-argument") }
            return nil
        }
        if case .number = parameter.schema.kind { return .number(try number(parameter, raw)) }
        guard case .integer = parameter.schema.kind else {
            // An unknown id in a path is the service's 404, not a 422 for its length.
            return .string(parameter.location == .path ? raw : try string(parameter, raw))
        }
        guard let number = Int64(raw) else {
            throw APIError(.unprocessableContent, "\(parameter.name) must be an integer, got \(raw)", code: "invalid-argument")
        }
        if let minimum = parameter.schema.minimum, number < minimum {
            throw APIError(.unprocessableContent, "\(parameter.name) must be at least \(minimum), got \(number)", code: "invalid-argument")
        }
        if let maximum = parameter.schema.maximum, number > maximum {
            throw APIError(.unprocessableContent, "\(parameter.name) must be at most \(maximum), got \(number)", code: "invalid-argument")
        }
        return .integer(number)
    }

    /// A string parameter within its declared lengths (in characters, as JSON Schema counts them).
    static func string(_ parameter: HTTPRoute.Parameter, _ raw: String) throws -> String {
        let length = raw.unicodeScalars.count
        if let minimum = parameter.schema.minLength, length < minimum {
            throw APIError(.unprocessableContent, "\(parameter.name) must be at least \(minimum) characters", code: "invalid-argument")
        }
        if let maximum = parameter.schema.maxLength, length > maximum {
            throw APIError(.unprocessableContent, "\(parameter.name) must be at most \(maximum) characters", code: "invalid-argument")
        }
        return raw
    }

    /// A number parameter: written as JSON writes numbers, finite, within its declared bounds.
    static func number(_ parameter: HTTPRoute.Parameter, _ raw: String) throws -> Double {
        guard isJSONNumber(raw), let number = Double(raw), number.isFinite else {
            throw APIError(.unprocessableContent, "\(parameter.name) must be a number, got \(raw)", code: "invalid-argument")
        }
        if let minimum = parameter.schema.minimum, number < Double(minimum) {
            throw APIError(.unprocessableContent, "\(parameter.name) must be at least \(minimum), got \(raw)", code: "invalid-argument")
        }
        if let minimum = parameter.schema.exclusiveMinimum, number <= Double(minimum) {
            throw APIError(.unprocessableContent, "\(parameter.name) must be more than \(minimum), got \(raw)", code: "invalid-argument")
        }
        if let maximum = parameter.schema.maximum, number > Double(maximum) {
            throw APIError(.unprocessableContent, "\(parameter.name) must be at most \(maximum), got \(raw)", code: "invalid-argument")
        }
        return number
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`: what `Double(_:)` reads beyond it (hex, `+.5`, `inf`) is not a JSON number.
    static func isJSONNumber(_ text: String) -> Bool {
        var bytes = text.utf8[...]
        func digits() -> Int {
            let count = bytes.prefix { (0x30...0x39).contains($0) }.count
            bytes = bytes.dropFirst(count)
            return count
        }
        if bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
        let leadingZero = bytes.first == UInt8(ascii: "0")
        let integer = digits()
        guard integer > 0, !leadingZero || integer == 1 else { return false }
        if bytes.first == UInt8(ascii: ".") {
            bytes = bytes.dropFirst()
            guard digits() > 0 else { return false }
        }
        if bytes.first == UInt8(ascii: "e") || bytes.first == UInt8(ascii: "E") {
            bytes = bytes.dropFirst()
            if bytes.first == UInt8(ascii: "+") || bytes.first == UInt8(ascii: "-") { bytes = bytes.dropFirst() }
            guard digits() > 0 else { return false }
        }
        return bytes.isEmpty
    }

    /// The `Idempotency-Key` header: 1 to 255 visible ASCII characters.
    static func idempotencyKey(_ request: Request, _ route: HTTPRoute) throws -> String? {
        guard route.acceptsIdempotencyKey, let key = request.headers[.idempotencyKey] else { return nil }
        guard (1...255).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw APIError(.unprocessableContent, "Idempotency-Key must be 1 to 255 visible ASCII characters", code: "invalid-argument")
        }
        return key
    }

    // MARK: - Output

    /// The answer without its next-page cursor, and the `Link` header that carries it instead.
    static func movingNextPage(_ field: String, of answer: ByteBuffer, request: Request) throws -> (ByteBuffer, String?) {
        guard var object = (try? JSONSerialization.jsonObject(with: Data(answer.readableBytesView))) as? [String: Any] else {
            throw APIError(.badGateway, "the service's answer is not a JSON object", code: "internal")
        }
        let cursor = object.removeValue(forKey: field) as? String
        let body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes]))
        guard let cursor else { return (body, nil) }
        // The same path and filters, with the next cursor.
        var query = request.uri.queryParameters.filter { $0.key != "cursor" }.map { "\(Self.escape(String($0.key)))=\(Self.escape(String($0.value)))" }
        query.append("cursor=\(Self.escape(cursor))")
        return (body, "<\(request.uri.path)?\(query.joined(separator: "&"))>; rel=\"next\"")
    }

    /// The answer without its `field`, and whether that field was true (the service created what the PUT named).
    static func takingCreated(_ field: String, of answer: ByteBuffer) throws -> (ByteBuffer, Bool) {
        guard var object = (try? JSONSerialization.jsonObject(with: Data(answer.readableBytesView))) as? [String: Any] else {
            throw APIError(.badGateway, "the service's answer is not a JSON object", code: "internal")
        }
        let created = object.removeValue(forKey: field) as? Bool ?? false
        return (ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])), created)
    }

    /// A parser error in words, without the parser's internals.
    static func describe(_ error: HTTPParserError) -> String {
        switch error {
        case .invalidChunkSize: "malformed chunk size"
        case .invalidContentLength: "malformed Content-Length"
        case .invalidEOFState: "the connection ended mid-request"
        case .headerOverflow: "headers too large"
        default: "malformed request"
        }
    }

    static func escape(_ text: String) -> String {
        text.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? text
    }
}

/// A request whose path exists but not with its method is 405 with
/// `Allow` (whatever the method, even one the router has never heard of),
/// not the router's 404.
struct MethodNotAllowedMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    /// Path segments (nil where a parameter stands) and the methods allowed there.
    let paths: [(segments: [Substring?], allow: String)]

    /// `paths`: OpenAPI-form paths (`/api/video-analysis/{video_id}`) → their methods.
    /// The most literal path matches first, as in the router (`/api/clips/top` before `/api/clips/{id}`).
    init(paths: [String: [HTTPRequest.Method]]) {
        self.paths = paths.map { path, methods in
            (Self.segments(path).map { $0.hasPrefix("{") ? nil : $0 }, methods.map(\.rawValue).joined(separator: ", "))
        }.sorted { $0.segments.count(where: { $0 == nil }) < $1.segments.count(where: { $0 == nil }) }
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let segments = Self.segments(request.uri.path)
            guard let known = paths.first(where: { Self.matches($0.segments, segments) }) else {
                throw APIError(.notFound, "no route for \(request.method.rawValue) \(request.uri.path)", code: "not-found")
            }
            throw APIError(.methodNotAllowed, "\(request.method.rawValue) is not allowed on \(request.uri.path); allowed: \(known.allow)", code: "unimplemented", headers: [.allow: known.allow])
        }
    }

    static func segments(_ path: String) -> [Substring] {
        path.split(separator: "/", omittingEmptySubsequences: true)
    }

    static func matches(_ pattern: [Substring?], _ segments: [Substring]) -> Bool {
        pattern.count == segments.count && zip(pattern, segments).allSatisfy { $0 == nil || $0 == $1 }
    }
}

extension HTTPFields.Element.Name {
    static let idempotencyKey = Self("Idempotency-Key")!
    static let link = Self("Link")!
}
