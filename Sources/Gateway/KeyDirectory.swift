import BusRuntime
import BusWire
import Contracts
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

    public func identity(forKey key: String) async throws(BusError) -> Identity {
        let method = IngestContracts.authenticate
        let principal = try await node.call(method.service, method.name, IngestContracts.AuthenticateRequest(key: key), as: IngestContracts.Principal.self, timeout: timeout)
        return Identity(tenant: principal.tenantId, user: principal.userId, role: principal.role)
    }

    public func anonymousIdentity(tenant: String) async throws(BusError) -> Identity {
        let method = IngestContracts.anonymous
        let principal = try await node.call(method.service, method.name, IngestContracts.AnonymousRequest(tenantName: tenant), as: IngestContracts.Principal.self, timeout: timeout)
        return Identity(tenant: principal.tenantId, user: principal.userId, role: principal.role)
    }
}
