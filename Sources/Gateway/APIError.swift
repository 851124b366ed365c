import BusWire
import Foundation
import Hummingbird
import Logging

/// An HTTP error answered as JSON in FastAPI's shape plus a machine code:
/// `{"detail": "no analysis for video x", "code": "not-found"}`.
public struct APIError: HTTPResponseError, Sendable {
    public var status: HTTPResponse.Status
    public var detail: String
    public var code: String
    /// Headers the answer carries besides Content-Type (Allow, Retry-After).
    public var headers: HTTPFields

    public init(_ status: HTTPResponse.Status, _ detail: String, code: String, headers: HTTPFields = [:]) {
        self.status = status
        self.detail = detail
        self.code = code
        self.headers = headers
    }

    /// A bus error from a call to `service` as the HTTP status it stands for.
    /// What the service says of the request (invalid, not found, conflict,
    /// too large) reaches the client; what the bus says of its connections
    /// does not (it names instances and addresses): those are answered with
    /// a fixed text, and anything else is an internal error (500, logged,
    /// its text kept from the client by ``ErrorMiddleware``).
    public init(_ error: BusError, service: String) {
        switch error.code {
        case .invalidArgument: self.init(.unprocessableContent, error.message, code: error.code.rawValue)
        case .notFound: self.init(.notFound, error.message, code: error.code.rawValue)
        case .conflict: self.init(.conflict, error.message, code: error.code.rawValue)
        case .permissionDenied: self.init(.forbidden, error.message, code: error.code.rawValue)
        case .limitExceeded: self.init(.contentTooLarge, error.message, code: error.code.rawValue)
        case .overloaded: self.init(.tooManyRequests, "\(service) is overloaded; retry later", code: error.code.rawValue)
        case .unavailable, .noResponders, .unauthenticated:
            let detail = error.message == "no live instance of \(service)" ? error.message : "\(service) is unavailable; retry later"
            self.init(.serviceUnavailable, detail, code: error.code.rawValue)
        case .deadlineExceeded: self.init(.gatewayTimeout, "\(service) did not answer in time", code: error.code.rawValue)
        case .unimplemented: self.init(.notImplemented, "\(service) does not implement this", code: error.code.rawValue)
        default: self.init(.internalServerError, "\(service): \(error.code.rawValue): \(error.message)", code: "internal")
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        Self.response(status: status, detail: detail, code: code, headers: headers)
    }

    static func response(status: HTTPResponse.Status, detail: String, code: String, headers: HTTPFields = [:]) -> Response {
        let body = try! JSONSerialization.data(withJSONObject: ["detail": detail, "code": code], options: [.sortedKeys, .withoutEscapingSlashes])
        var headers = headers
        headers[.contentType] = "application/json"
        if status == .tooManyRequests || status == .serviceUnavailable, headers[.retryAfter] == nil { headers[.retryAfter] = "1" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}

/// The outermost middleware: every error becomes the JSON shape, and no
/// internal text reaches a client. An unexpected error (or a 500) is logged
/// with a request id and answered `internal error (request id …)`;
/// Hummingbird's own errors (the router's 404, a parse error) keep their
/// status with a JSON body.
struct ErrorMiddleware: RouterMiddleware {
    typealias Context = GatewayRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as APIError where error.status.code < 500 || error.status == .serviceUnavailable || error.status == .gatewayTimeout || error.status == .tooManyRequests || error.status == .notImplemented {
            throw error
        } catch let error as HTTPError where error.status.code < 500 || error.status == .serviceUnavailable {
            throw APIError(error.status, Self.detail(error, request), code: Self.code(error.status), headers: error.headers)
        } catch {
            let id = Self.requestID()
            context.logger.error("internal error answering \(request.method.rawValue) \(request.uri.path)", metadata: ["request.id": "\(id)", "error": "\(error)"])
            throw APIError(.internalServerError, "internal error (request id \(id))", code: "internal")
        }
    }

    static func detail(_ error: HTTPError, _ request: Request) -> String {
        switch error.status {
        case .notFound: "no route for \(request.method.rawValue) \(request.uri.path)"
        default: error.status.reasonPhrase
        }
    }

    static func code(_ status: HTTPResponse.Status) -> String {
        switch status {
        case .notFound: "not-found"
        case .contentTooLarge: "limit-exceeded"
        case .serviceUnavailable: "unavailable"
        case .methodNotAllowed: "unimplemented"
        default: "invalid-argument"
        }
    }

    static func requestID() -> String {
        String((0..<16).map { _ in "0123456789abcdef".randomElement()! })
    }
}
