import Foundation
import NIOCore
import NIOPosix
import Testing

@Suite(.serialized) struct MetricsEndpointTests {
    @Test func aServingNodeExportsItsRequestMetricsInPrometheusFormat() async throws {
        let server = try VideobusProcess(["serve", "echo", "--standalone", "--metrics-port", "0"])
        defer { server.stop() }
        let busPort = try await server.listeningPort()
        let metricsPort = try await server.port(after: "metrics on http://")

        let (status, _) = try await VideobusProcess.run(["call", "echo.echo", #"{"a":1}"#, "--registry", "127.0.0.1:1", "--timeout", "0.5"])
        #expect(status == 3)  // no registry there: the call cannot be routed (and is not counted)
        let caller = try await BusNodeForTests.connect(port: busPort)
        _ = try await caller.call(service: "echo", method: "echo", body: ByteBuffer(string: #"{"a":1}"#))
        _ = try? await caller.call(service: "echo", method: "nope")

        let page = try await httpGet(port: metricsPort, path: "/metrics")
        #expect(page.status == 200)
        #expect(page.body.contains(#"videobus_requests_total{service="echo",method="echo",outcome="ok"} 1"#), "\(page.body)")
        // Unknown method names share one label: peers cannot grow the metrics without bound.
        #expect(page.body.contains(#"videobus_requests_total{service="echo",method="_unknown",outcome="unimplemented"} 1"#))
        #expect(page.body.contains("videobus_request_duration_seconds_bucket"))
        #expect(try await httpGet(port: metricsPort, path: "/other").status == 404)
    }
}

/// A minimal HTTP/1.1 GET over a plain socket, reading until Content-Length bytes arrived.
func httpGet(port: Int, path: String) async throws -> (status: Int, body: String) {
    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .connect(host: "127.0.0.1", port: port) { channel in
            channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
        }
    return try await channel.executeThenClose { inbound, outbound in
        try await outbound.write(ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"))
        var response = ""
        for try await chunk in inbound {
            response += String(buffer: chunk)
            if let split = response.range(of: "\r\n\r\n"),
                let lengthLine = response[..<split.lowerBound].split(separator: "\r\n").first(where: { $0.lowercased().hasPrefix("content-length:") }),
                let length = Int(lengthLine.split(separator: ":")[1].trimmingCharacters(in: .whitespaces)),
                response[split.upperBound...].utf8.count >= length {
                break
            }
        }
        let status = Int(response.split(separator: " ").dropFirst().first ?? "") ?? 0
        let body = response.range(of: "\r\n\r\n").map { String(response[$0.upperBound...]) } ?? ""
        return (status, body)
    }
}
