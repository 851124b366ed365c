import Metrics
import NIOCore
import NIOHTTP1
import NIOPosix
import Prometheus
import ServiceLifecycle

/// Serves `GET /metrics` (Prometheus text format) from the process's metrics
/// registry, on its own port so scrapers never compete with bus traffic.
struct MetricsEndpoint {
    let registry: PrometheusCollectorRegistry

    /// Makes swift-metrics report into a new Prometheus registry (once per process).
    static func bootstrap() -> MetricsEndpoint {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return MetricsEndpoint(registry: registry)
    }

    /// Listens on `host:port`; returns the bound channel (close it to stop).
    func start(host: String, port: Int, group: any EventLoopGroup) async throws -> any Channel {
        let registry = self.registry
        return try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(MetricsHTTPHandler(registry: registry))
                }
            }
            .bind(host: host, port: port)
            .get()
    }
}

extension MetricsEndpoint {
    /// A bound endpoint as a `Service` of its process's group: it serves
    /// until the process shuts down, then closes.
    struct Listener: Service {
        let channel: any Channel

        func run() async throws {
            // Cancellation ends the wait too (it throws): the endpoint closes either way.
            try? await gracefulShutdown()
            try? await channel.close()
        }
    }
}

private final class MetricsHTTPHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    let registry: PrometheusCollectorRegistry
    private var head: HTTPRequestHead?

    init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            self.head = head
        case .body:
            break
        case .end:
            guard let head else { return }
            let (status, body): (HTTPResponseStatus, [UInt8]) =
                head.method == .GET && head.uri.split(separator: "?").first == "/metrics"
                ? (.ok, registry.emitToBuffer())
                : (.notFound, Array("only GET /metrics is served here\n".utf8))
            var headers = HTTPHeaders()
            headers.add(name: "Content-Type", value: status == .ok ? "text/plain; version=0.0.4" : "text/plain")
            headers.add(name: "Content-Length", value: "\(body.count)")
            context.write(wrapOutboundOut(.head(HTTPResponseHead(version: head.version, status: status, headers: headers))), promise: nil)
            context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            self.head = nil
        }
    }
}
