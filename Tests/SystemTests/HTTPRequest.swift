import Foundation
import NIOCore
import NIOPosix

/// A minimal HTTP/1.1 client for system tests: one connection per request
/// (`Connection: close`), the whole response read until the server closes.
struct HTTPResponse: Sendable {
    var status: Int
    var headers: [String: String]
    var body: String

    var json: [String: Any]? { try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any] }
}

func httpRequest(_ method: String, port: Int, _ path: String, body: String? = nil, contentType: String = "application/json", headers extra: [String: String] = [:]) async throws -> HTTPResponse {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
    return try await channel.executeThenClose { inbound, outbound in
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
        if let body { head += "Content-Type: \(contentType)\r\nContent-Length: \(body.utf8.count)\r\n" }
        for (name, value) in extra { head += "\(name): \(value)\r\n" }
        try await outbound.write(ByteBuffer(string: head + "\r\n" + (body ?? "")))
        var raw = ByteBuffer()
        for try await chunk in inbound { raw.writeImmutableBuffer(chunk) }
        let text = String(buffer: raw)
        guard let split = text.range(of: "\r\n\r\n") else { throw HTTPTestError("no response head in: \(text.prefix(200))") }
        let lines = text[..<split.lowerBound].split(separator: "\r\n")
        let status = Int(lines.first?.split(separator: " ").dropFirst().first ?? "") ?? 0
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return HTTPResponse(status: status, headers: headers, body: String(text[split.upperBound...]))
    }
}

struct HTTPTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
