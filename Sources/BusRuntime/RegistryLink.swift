import BusWire
import NIOCore

/// A connection to one registry, opened on first use and again after it breaks.
actor RegistryLink {
    let address: ServiceAddress
    private let configuration: BusNode.Configuration
    private let group: any EventLoopGroup
    private var connection: PeerConnection?
    private var connecting: Task<PeerConnection, any Error>?

    init(address: ServiceAddress, configuration: BusNode.Configuration, group: any EventLoopGroup) {
        self.address = address
        self.configuration = configuration
        self.group = group
    }

    func call<Request: Encodable & Sendable, Response: Decodable & Sendable>(
        _ method: String, _ request: Request, as: Response.Type, timeout: TimeAmount
    ) async throws(BusError) -> Response {
        let connection = try await connect()
        do {
            let body = try await connection.call(service: RegistryProtocol.service, method: method, body: JSONBody.encode(request), timeout: timeout)
            return try JSONBody.decode(Response.self, from: body)
        } catch {
            if error.code == .unavailable || error.code == .deadlineExceeded, self.connection === connection {
                self.connection = nil
                await connection.close()
            }
            throw error
        }
    }

    /// The open connection, or the one being opened: callers that arrive while
    /// it connects share the attempt (the actor is re-entrant across awaits).
    private func connect() async throws(BusError) -> PeerConnection {
        if let connection, !connection.isClosed { return connection }
        let attempt: Task<PeerConnection, any Error>
        if let connecting {
            attempt = connecting
        } else {
            let (address, configuration, group) = (self.address, self.configuration, self.group)
            attempt = Task { try await PeerConnection.connect(host: address.host, port: address.port, configuration: configuration, group: group) }
            connecting = attempt
        }
        do {
            let connection = try await attempt.value
            if connecting == attempt {
                connecting = nil
                self.connection = connection
            }
            return connection
        } catch {
            if connecting == attempt { connecting = nil }
            throw error as? BusError ?? BusError(.unavailable, "registry \(address): \(error)")
        }
    }

    func close() async {
        connecting?.cancel()
        connecting = nil
        await connection?.close()
        connection = nil
    }
}

/// An empty JSON object, for methods that answer nothing.
struct Empty: Codable, Sendable {}
