import BusWire
import Foundation
import Hummingbird

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

    /// A bus error as the HTTP status it stands for.
    public init(_ error: BusError) {
        let status: HTTPResponse.Status = switch error.code {
        case .invalidArgument: .unprocessableContent
        case .notFound: .notFound
        case .conflict: .conflict
        case .limitExceeded: .contentTooLarge
        case .overloaded: .tooManyRequests
        case .unavailable, .noResponders, .unauthenticated: .serviceUnavailable
        case .deadlineExceeded: .gatewayTimeout
        case .unimplemented: .notImplemented
        default: .internalServerError
        }
        self.init(status, error.message, code: error.code.rawValue)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        let body = try JSONSerialization.data(withJSONObject: ["detail": detail, "code": code], options: [.sortedKeys, .withoutEscapingSlashes])
        var headers = self.headers
        headers[.contentType] = "application/json"
        if status == .tooManyRequests || status == .serviceUnavailable { headers[.retryAfter] = "1" }
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: body)))
    }
}
