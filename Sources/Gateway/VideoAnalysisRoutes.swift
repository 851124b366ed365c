import BusRuntime
import BusWire
import Contracts
import Foundation
import Hummingbird
import NIOCore

/// `/api/video-analysis/` exactly as the original FastAPI service served it,
/// each route translated into one call to the analysis-store over the bus.
/// Successful answers are the service's JSON, forwarded byte for byte.
struct VideoAnalysisRoutes: Sendable {
    let node: BusNode
    let timeout: TimeAmount
    let maxBodyBytes: Int
    static let base = "/api/video-analysis"

    struct DescriptionBody: Codable, Sendable {
        var description: String
    }

    func add(to router: Router<GatewayRequestContext>) {
        // Hummingbird matches these with and without the trailing slash, as FastAPI clients use both.
        router.post(RouterPath(Self.base)) { request, context in try await create(request, context) }
        router.get(RouterPath(Self.base)) { request, _ in try await list(request) }
        router.get(RouterPath(Self.base + "/:video_id")) { _, context in try await get(context) }
        router.put(RouterPath(Self.base + "/:video_id")) { request, context in try await update(request, context) }
        router.delete(RouterPath(Self.base + "/:video_id")) { _, context in try await delete(context) }
    }

    private func create(_ request: Request, _ context: GatewayRequestContext) async throws -> Response {
        let body = try await jsonBody(request, as: AnalysisContracts.CreateRequest.self)
        return try await forward(AnalysisContracts.Method.create, body, status: .created)
    }

    private func get(_ context: GatewayRequestContext) async throws -> Response {
        let videoID = try Self.videoID(context)
        return try await forward(AnalysisContracts.Method.get, try JSONBody.encode(AnalysisContracts.VideoRequest(videoId: videoID)))
    }

    private func update(_ request: Request, _ context: GatewayRequestContext) async throws -> Response {
        let videoID = try Self.videoID(context)
        let body = try await jsonBody(request, as: DescriptionBody.self)
        let description = try JSONBody.decode(DescriptionBody.self, from: body).description
        return try await forward(AnalysisContracts.Method.update, try JSONBody.encode(AnalysisContracts.UpdateRequest(videoId: videoID, description: description)))
    }

    private func delete(_ context: GatewayRequestContext) async throws -> Response {
        let videoID = try Self.videoID(context)
        _ = try await call(AnalysisContracts.Method.delete, try JSONBody.encode(AnalysisContracts.VideoRequest(videoId: videoID)))
        return Response(status: .noContent)
    }

    private func list(_ request: Request) async throws -> Response {
        var listRequest = AnalysisContracts.ListRequest()
        if let limit = request.uri.queryParameters["limit"] {
            guard let value = Int(limit) else { throw APIError(.unprocessableContent, "limit must be an integer, got \(limit)", code: "invalid-argument") }
            listRequest.limit = value
        }
        if let cursor = request.uri.queryParameters["cursor"] { listRequest.cursor = String(cursor) }
        return try await forward(AnalysisContracts.Method.list, try JSONBody.encode(listRequest))
    }

    // MARK: - Bus

    private func call(_ method: String, _ body: ByteBuffer) async throws -> ByteBuffer {
        do {
            return try await node.call(service: AnalysisContracts.service, method: method, body: body, timeout: timeout)
        } catch let error as BusError {
            throw APIError(error)
        } catch {
            throw APIError(.internalServerError, "\(error)", code: "internal")
        }
    }

    private func forward(_ method: String, _ body: ByteBuffer, status: HTTPResponse.Status = .ok) async throws -> Response {
        let answer = try await call(method, body)
        var headers = HTTPFields()
        headers[.contentType] = "application/json"
        return Response(status: status, headers: headers, body: .init(byteBuffer: answer))
    }

    // MARK: - Input

    static func videoID(_ context: GatewayRequestContext) throws -> String {
        guard let raw = context.parameters.get("video_id") else { throw APIError(.notFound, "no video_id in the path", code: "not-found") }
        return raw.removingPercentEncoding ?? raw
    }

    /// The request body, checked to be JSON of `type`'s shape: 413 beyond the
    /// limit (before reading it all), 400 when not JSON, 422 when the shape is wrong.
    func jsonBody<T: Decodable & Encodable & Sendable>(_ request: Request, as type: T.Type) async throws -> ByteBuffer {
        let limit = maxBodyBytes
        if let length = request.headers[.contentLength].flatMap(Int.init), length > limit {
            throw APIError(.contentTooLarge, "request body of \(length) bytes exceeds the limit of \(limit) bytes", code: "limit-exceeded")
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: limit)
        } catch {
            throw APIError(.contentTooLarge, "request body exceeds the limit of \(limit) bytes", code: "limit-exceeded")
        }
        guard body.readableBytes > 0, (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView))) != nil else {
            throw APIError(.badRequest, body.readableBytes == 0 ? "the request needs a JSON body" : "the body is not valid JSON", code: "invalid-argument")
        }
        do {
            // Re-encoded from the decoded value: unknown fields dropped, shape guaranteed.
            return try JSONBody.encode(try JSONBody.decode(type, from: body))
        } catch {
            throw APIError(.unprocessableContent, error.message, code: "invalid-argument")
        }
    }
}
