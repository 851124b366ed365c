import BusWire

/// Who a request is made for: a tenant, and (for requests from a person) a
/// user and that user's role. Set by the gateway after authenticating an API
/// key, carried in the frame header (PROTOCOL.md §6.4) and passed on by every
/// call a service makes while serving the request.
public struct Identity: Sendable, Hashable {
    public var tenant: String
    public var user: String?
    public var role: String?

    public init(tenant: String, user: String? = nil, role: String? = nil) {
        self.tenant = tenant
        self.user = user
        self.role = role
    }

    /// The identity a header carries; nil without a (non-empty) tenant.
    init?(header: FrameHeader) {
        guard let tenant = header.tenant, !tenant.isEmpty else { return nil }
        self.init(tenant: tenant, user: header.user, role: header.role)
    }
}

extension FrameHeader {
    /// Sets (or clears) the header's identity fields.
    mutating func carry(_ identity: Identity?) {
        tenant = identity?.tenant
        user = identity?.user
        role = identity?.role
    }
}
