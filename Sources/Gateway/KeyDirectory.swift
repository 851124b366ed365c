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
    /// Asked once per key and cache lifetime, not per request: an existential costs nothing here.
    let bus: any GatewayBus
    let timeout: TimeAmount

    public init(node: BusNode, timeout: TimeAmount = .seconds(5)) {
        self.init(bus: node, timeout: timeout)
    }

    public init(bus: any GatewayBus, timeout: TimeAmount = .seconds(5)) {
        self.bus = bus
        self.timeout = timeout
    }

    public func identity(forKey key: String) async throws(BusError) -> Identity {
        try await principal(IngestContracts.authenticate, IngestContracts.AuthenticateRequest(key: key))
    }

    public func anonymousIdentity(tenant: String) async throws(BusError) -> Identity {
        try await principal(IngestContracts.anonymous, IngestContracts.AnonymousRequest(tenantName: tenant))
    }

    private func principal<Request: Contract>(_ method: BusMethod<Request, IngestContracts.Principal>, _ request: Request) async throws(BusError) -> Identity {
        let answer = try await bus.callMethod(service: method.service, method: method.name, body: JSONBody.encode(request), timeout: timeout, idempotencyKey: nil, identity: nil)
        let principal = try JSONBody.decode(IngestContracts.Principal.self, from: answer)
        return Identity(tenant: principal.tenantId, user: principal.userId, role: principal.role)
    }
}
