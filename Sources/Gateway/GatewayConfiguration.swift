/// Settings of the HTTP gateway.
public struct GatewayConfiguration: Sendable {
    public static let defaultMaxBodyBytes = 10 << 20

    public var host: String
    public var port: Int
    /// Deadline of each bus call made for a request.
    public var callTimeoutSeconds: Double
    /// Request bodies beyond this are answered 413, before they are read when
    /// the client sends Content-Length.
    public var maxBodyBytes: Int

    public init(host: String = "127.0.0.1", port: Int = 8000, callTimeoutSeconds: Double = 10, maxBodyBytes: Int = defaultMaxBodyBytes) {
        self.host = host
        self.port = port
        self.callTimeoutSeconds = callTimeoutSeconds
        self.maxBodyBytes = maxBodyBytes
    }
}
