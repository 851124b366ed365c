import BusRuntime
import BusWire
import NIOCore

/// Who an API key belongs to: the ingest service, asked over the bus.
public protocol KeyDirectory: Sendable {
    /// The identity a key stands for; `unauthenticated` for a key that is
    /// unknown, revoked or malformed.
    func identity(forKey key: String) async throws(BusError) -> Identity
    /// The identity of requests without a key, in `tenant` (created if missing).
    func anonymousIdentity(tenant: String) async throws(BusError) -> Identity
}

/// The ingest service's `authenticate` and `anonymous` methods.
public struct IngestKeyDirectory: KeyDirectory {
    let node: BusNode
    let timeout: TimeAmount

    public init(node: BusNode, timeout: TimeAmount = .seconds(5)) {
        self.node = node
        self.timeout = timeout
    }

    struct KeyRequest: Codable, Sendable {
        var key: String
    }

    struct AnonymousRequest: Codable, Sendable {
        var tenantName: String
        enum CodingKeys: String, CodingKey { case tenantName = "tenant_name" }
    }

    /// What both methods answer.
    struct Principal: Codable, Sendable {
        var tenantID: String
        var userID: String
        var role: String
        enum CodingKeys: String, CodingKey {
            case tenantID = "tenant_id", userID = "user_id", role
        }
    }

    public func identity(forKey key: String) async throws(BusError) -> Identity {
        let principal = try await node.call("ingest", "authenticate", KeyRequest(key: key), as: Principal.self, timeout: timeout)
        return Identity(tenant: principal.tenantID, user: principal.userID, role: principal.role)
    }

    public func anonymousIdentity(tenant: String) async throws(BusError) -> Identity {
        let principal = try await node.call("ingest", "anonymous", AnonymousRequest(tenantName: tenant), as: Principal.self, timeout: timeout)
        return Identity(tenant: principal.tenantID, user: principal.userID, role: principal.role)
    }
}
