import BusRuntime
import BusWire
import NIOCore

/// What the gateway asks of the bus. ``BusNode`` is the bus it runs with;
/// the seam lets the router be tested in process against services that
/// answer from memory. The router is generic over it, so the node's calls
/// are specialized, not dispatched through a witness table.
public protocol GatewayBus: Sendable {
    /// One call of `service`'s `method` with `body` as the client's request
    /// became; the answer's bytes as the service wrote them.
    func callMethod(
        service: String, method: String, body: ByteBuffer, timeout: TimeAmount, idempotencyKey: String?, identity: Identity?
    ) async throws(BusError) -> ByteBuffer

    /// Who serves what now, as a registry answers (for `/readyz`).
    func registrySnapshot(timeout: TimeAmount) async throws(BusError) -> RegistryProtocol.Snapshot
}

extension BusNode: GatewayBus {
    // A name of its own, not `call`: a requirement spelled like the node's
    // `call` (whose trace defaults) would resolve to itself here.
    public func callMethod(
        service: String, method: String, body: ByteBuffer, timeout: TimeAmount, idempotencyKey: String?, identity: Identity?
    ) async throws(BusError) -> ByteBuffer {
        try await call(service: service, method: method, body: body, timeout: timeout, idempotencyKey: idempotencyKey, identity: identity)
    }

    public func registrySnapshot(timeout: TimeAmount) async throws(BusError) -> RegistryProtocol.Snapshot {
        try await lookupNow(timeout: timeout)
    }
}
