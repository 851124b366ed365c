import BusWire
import NIOCore

/// A connection to one registry, opened on first use and again after it breaks.
actor RegistryLink {
    let address: ServiceAddress
    private let configuration: BusNode.Configuration
    private let group: any EventLoopGroup
    private var connection: PeerConnection?

    init(address: ServiceAddress, configuration: BusNode.Configuration, group: any EventLoopGroup) {
        self.address = address
        self.configuration = configuration
        self.group = group
    }

    func call<Request: Encodable & Sendable, Response: Decodable & Sendable>(
        _ method: String, _ request: Request, as: Response.Type, timeout: TimeAmount
    ) async throws(BusError) -> Response {
        let connection: PeerConnection
        if let existing = self.connection {
            connection = existing
        } else {
            do {
                connection = try await PeerConnection.connect(host: address.host, port: address.port, configuration: configuration, group: group)
            } catch {
                throw error as? BusError ?? BusError(.unavailable, "registry \(address): \(error)")
            }
            self.connection = connection
        }
        do {
            let body = try await connection.call(service: RegistryProtocol.service, method: method, body: JSONBody.encode(request), timeout: timeout)
            return try JSONBody.decode(Response.self, from: body)
        } catch {
            if error.code == .unavailable || error.code == .deadlineExceeded {
                self.connection = nil
                await connection.close()
            }
            throw error
        }
    }

    func close() async {
        await connection?.close()
        connection = nil
    }
}

/// An empty JSON object, for methods that answer nothing.
struct Empty: Codable, Sendable {}
