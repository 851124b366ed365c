import BusWire
import Foundation
import NIOCore

/// A method a node serves, taking and returning raw JSON bodies.
public enum MethodHandler: Sendable {
    /// Runs on the connection's event loop: for work that never blocks or
    /// waits (echo, ping, lookups in memory). Costs no task or thread hop.
    case inline(@Sendable (ByteBuffer, RequestContext) throws -> ByteBuffer)
    /// Runs in its own task: for anything that awaits (databases, other calls).
    case async(@Sendable (ByteBuffer, RequestContext) async throws -> ByteBuffer)

    /// A handler taking and returning Codable values as JSON. A body that does
    /// not decode is answered `invalid-argument` with the decoder's reason.
    public static func json<Request: Decodable & Sendable, Response: Encodable & Sendable>(
        _ handler: @escaping @Sendable (Request, RequestContext) async throws -> Response
    ) -> MethodHandler {
        .async { body, context in
            let request = try JSONBody.decode(Request.self, from: body)
            return try JSONBody.encode(try await handler(request, context))
        }
    }
}

/// JSON bodies, with decoding failures turned into `invalid-argument` errors
/// a caller can act on. Keys are exactly the types' coding keys: every
/// message spells its wire names out (no key conversion, which would cost
/// every message a pass over its keys and hide the wire format).
public enum JSONBody {
    public static func decode<T: Decodable>(_ type: T.Type, from body: ByteBuffer) throws(BusError) -> T {
        do {
            return try decoder.decode(type, from: body.readableBytes == 0 ? Data("{}".utf8) : Data(body.readableBytesView))
        } catch let error as DecodingError {
            throw BusError(.invalidArgument, "body: \(describe(error))")
        } catch {
            throw BusError(.invalidArgument, "body is not valid JSON")
        }
    }

    public static func encode<T: Encodable>(_ value: T) throws(BusError) -> ByteBuffer {
        do {
            return ByteBuffer(bytes: try encoder.encode(value))
        } catch {
            throw BusError(.internal, "response could not be encoded: \(error)")
        }
    }

    // Made once: configured coders are costly to create, and are safe to share.
    private static let decoder: JSONDecoder = {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }()

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return encoder
    }()

    private static func describe(_ error: DecodingError) -> String {
        func path(_ context: DecodingError.Context) -> String {
            let keys = context.codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue }
            return keys.isEmpty ? "" : "\"" + keys.joined(separator: ".") + "\": "
        }
        switch error {
        case .keyNotFound(let key, let context): return "\(path(context))missing field \"\(key.stringValue)\""
        case .typeMismatch(let type, let context): return "\(path(context))expected \(type)"
        case .valueNotFound(let type, let context): return "\(path(context))expected \(type), found null"
        case .dataCorrupted(let context) where context.codingPath.isEmpty: return "not valid JSON"
        case .dataCorrupted(let context): return "\(path(context))\(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }
}
