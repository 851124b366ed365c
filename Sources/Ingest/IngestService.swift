import BusRuntime
import BusWire
import Contracts
import Foundation
import ServiceKit
import Storage

/// The ingest service's methods (first part): tenants, users and API keys.
///
/// Tenant data goes through `store.read(tenant:)` / `store.write(tenant:)`,
/// and every statement on a tenant table also filters on `tenant_id`
/// explicitly. API keys are kept only as SHA-256 hashes; the plaintext is
/// in the create answer and nowhere else (never logged).
public struct IngestService: Sendable {
    public typealias User = IngestContracts.User
    public let store: ServiceStore

    public init(store: ServiceStore) {
        self.store = store
    }

    /// A handler for every method of ``IngestContracts/methods``.
    public var bindings: [MethodBinding] {
        [
            MethodBinding(IngestContracts.createUser) { request, context in try await createUser(request, as: context.requireTenant()) },
            MethodBinding(IngestContracts.getUser) { request, context in try await getUser(request.id, as: context.requireTenant()) },
            MethodBinding(IngestContracts.updateUser) { request, context in try await updateUser(request, as: context.requireTenant()) },
            MethodBinding(IngestContracts.deleteUser) { request, context in
                try await deleteUser(request.id, as: context.requireTenant())
                return Empty()
            },
            MethodBinding(IngestContracts.listUsers) { request, context in try await listUsers(request, as: context.requireTenant()) },
            MethodBinding(IngestContracts.me) { _, context in try await me(as: context.requireTenant()) },
            MethodBinding(IngestContracts.createKey) { request, context in try await createKey(request, as: context.requireTenant()) },
            MethodBinding(IngestContracts.listKeys) { request, context in try await listKeys(request, as: context.requireTenant()) },
            MethodBinding(IngestContracts.deleteKey) { request, context in
                try await deleteKey(request, as: context.requireTenant())
                return Empty()
            },
            MethodBinding(IngestContracts.authenticate) { request, _ in try await authenticate(request.key) },
            MethodBinding(IngestContracts.anonymous) { request, _ in try await anonymous(tenantName: request.tenantName) },
            MethodBinding(IngestContracts.createTenant) { request, _ in try await createTenant(name: request.name) },
            MethodBinding(IngestContracts.listTenants) { request, _ in try await listTenants(request) },
        ]
    }

    // MARK: - Users

    public func createUser(_ request: IngestContracts.CreateUserRequest, as caller: Identity) async throws(BusError) -> User {
        try Self.requireAdmin(caller, "create users")
        let (email, emailKey) = try Self.validEmail(request.email)
        let name = try Self.validName(request.name ?? "", field: "name")
        let role = try Self.validRole(request.role ?? "USER")
        let settings = try Self.settingsText(request.settings ?? [:])
        let tenant = caller.tenant
        return try await store.write(tenant: tenant, conflict: BusError(.conflict, "a user with email \(email) already exists in this tenant")) { session in
            let user = try Self.insertUser(session, tenant: tenant, email: email, emailKey: emailKey, name: name, role: role, settings: settings)
            try Outbox.enqueue(session, IngestContracts.userCreated, IngestContracts.UserEvent(id: user.id), tenant: tenant)
            return user
        }
    }

    public func getUser(_ id: String, as caller: Identity) async throws(BusError) -> User {
        let tenant = caller.tenant
        let row = try await store.read(tenant: tenant) { session in try Self.userRow(session, tenant: tenant, id: id) }
        guard let row else { throw Self.noUser(id) }
        try Self.requireSelfOrAdmin(caller, id, "read")
        return try Self.user(row)
    }

    public func updateUser(_ request: IngestContracts.UpdateUserRequest, as caller: Identity) async throws(BusError) -> User {
        let email = try request.email.map { email throws(BusError) in try Self.validEmail(email) }
        let name = try request.name.map { name throws(BusError) in try Self.validName(name, field: "name") }
        let role = try request.role.map { role throws(BusError) in try Self.validRole(role) }
        let settings = try request.settings.map { settings throws(BusError) in try Self.settingsText(settings) }
        let tenant = caller.tenant, id = request.id
        let conflict = BusError(.conflict, "a user with email \(email?.email ?? "") already exists in this tenant")
        return try await store.write(tenant: tenant, conflict: conflict) { session in
            guard let row = try Self.userRow(session, tenant: tenant, id: id) else { throw Self.noUser(id) }
            try Self.requireSelfOrAdmin(caller, id, "change")
            let current = try Self.user(row)
            if let role, role != current.role, !Self.isAdmin(caller) {
                throw Self.permissionDenied("only an ADMIN can change a user's role")
            }
            // Nothing to change (an empty PATCH): the user as it is, updated_at unmoved.
            if email == nil, name == nil, role == nil, settings == nil { return current }
            let now = Timestamp.now()
            var settingsValue: JSONText?
            if let settings { settingsValue = try JSONText(settings) }
            try session.execute("""
                UPDATE app_user SET
                    email = \(email?.email ?? current.email), email_key = \(email?.key ?? current.email.lowercased()),
                    name = \(name ?? current.name), role = \(role ?? current.role),
                    settings = COALESCE(\(settingsValue), settings),
                    updated_at = CASE WHEN updated_at < \(now) THEN \(now) ELSE updated_at + 1 END
                WHERE tenant_id = \(tenant) AND id = \(id) AND deleted_at IS NULL
                """)
            guard let updated = try Self.userRow(session, tenant: tenant, id: id) else { throw Self.noUser(id) }
            return try Self.user(updated)
        }
    }

    /// Soft delete: the user is gone from reads and lists, its email free
    /// again, and every key of it revoked.
    public func deleteUser(_ id: String, as caller: Identity) async throws(BusError) {
        let tenant = caller.tenant
        _ = try await store.write(tenant: tenant) { session in
            guard try Self.userRow(session, tenant: tenant, id: id) != nil else { throw Self.noUser(id) }
            try Self.requireAdmin(caller, "delete users")
            let now = Timestamp.now()
            try session.execute("UPDATE app_user SET deleted_at = \(now) WHERE tenant_id = \(tenant) AND id = \(id) AND deleted_at IS NULL")
            let keys = try session.query("SELECT id FROM api_key WHERE tenant_id = \(tenant) AND user_id = \(id) AND revoked_at IS NULL")
            for key in keys {
                let keyID: String = try key["id"]
                try Self.revoke(session, tenant: tenant, userID: id, keyID: keyID, at: now)
            }
            try Outbox.enqueue(session, IngestContracts.userDeleted, IngestContracts.UserEvent(id: id), tenant: tenant)
            return Empty()
        }
    }

    /// The tenant's users, newest first (ADMIN only).
    public func listUsers(_ request: IngestContracts.ListRequest, as caller: Identity) async throws(BusError) -> IngestContracts.UserPage {
        try Self.requireAdmin(caller, "list users")
        let limit = try Self.pageSize(request.limit)
        let cursor = try Self.cursor(request.cursor)
        let tenant = caller.tenant
        let (rows, next) = try await store.read(tenant: tenant) { session in
            try KeysetPage.read(limit: limit, after: cursor) { condition, fetch throws(StorageError) in
                try session.query("""
                    \(Self.userColumns) WHERE tenant_id = \(tenant) AND deleted_at IS NULL AND \(condition)
                    ORDER BY created_at DESC, id DESC LIMIT \(fetch)
                    """)
            }
        }
        return IngestContracts.UserPage(users: try rows.map { row throws(BusError) in try Self.user(row) }, nextCursor: next?.encoded)
    }

    /// The caller's own user and tenant.
    public func me(as caller: Identity) async throws(BusError) -> IngestContracts.Me {
        guard let id = caller.user else { throw BusError(.unauthenticated, "the request names no user") }
        let tenant = caller.tenant
        let (row, tenantRow) = try await store.read(tenant: tenant) { session in
            (try Self.userRow(session, tenant: tenant, id: id), try session.queryFirst("SELECT name FROM tenant WHERE id = \(tenant)"))
        }
        guard let row, let tenantRow else { throw BusError(.unauthenticated, "the caller's user no longer exists") }
        return IngestContracts.Me(user: try Self.user(row), tenantId: tenant, tenantName: try Self.decode(tenantRow, "name"))
    }

    // MARK: - API keys

    public func createKey(_ request: IngestContracts.CreateKeyRequest, as caller: Identity) async throws(BusError) -> IngestContracts.NewAPIKey {
        let name = try Self.validName(request.name ?? "", field: "name")
        let tenant = caller.tenant, userID = request.id
        return try await store.write(tenant: tenant) { session in
            guard let row = try Self.userRow(session, tenant: tenant, id: userID) else { throw Self.noUser(userID) }
            try Self.requireSelfOrAdmin(caller, userID, "create keys for")
            // A key would outlive anonymous access (a credential nobody was given).
            if try Self.user(row).email == APIKeys.anonymousEmail { throw Self.permissionDenied("the anonymous user cannot have API keys") }
            return try Self.insertKey(session, tenant: tenant, userID: userID, name: name)
        }
    }

    public func listKeys(_ request: IngestContracts.ListKeysRequest, as caller: Identity) async throws(BusError) -> IngestContracts.APIKeyPage {
        let limit = try Self.pageSize(request.limit)
        let cursor = try Self.cursor(request.cursor)
        let tenant = caller.tenant, userID = request.id
        let (exists, rows, next) = try await store.read(tenant: tenant) { session in
            guard try Self.userRow(session, tenant: tenant, id: userID) != nil else { return (false, ArraySlice<Row>(), PageCursor?.none) }
            let (rows, next) = try KeysetPage.read(limit: limit, after: cursor) { condition, fetch throws(StorageError) in
                try session.query("""
                    SELECT id, name, prefix, created_at, last_used_at FROM api_key
                    WHERE tenant_id = \(tenant) AND user_id = \(userID) AND revoked_at IS NULL AND \(condition)
                    ORDER BY created_at DESC, id DESC LIMIT \(fetch)
                    """)
            }
            return (true, rows, next)
        }
        guard exists else { throw Self.noUser(userID) }
        try Self.requireSelfOrAdmin(caller, userID, "list the keys of")
        let keys = try rows.map { row throws(BusError) in
            IngestContracts.APIKey(
                id: try Self.decode(row, "id"), name: try Self.decode(row, "name"), prefix: try Self.decode(row, "prefix"),
                createdAt: try Self.decode(Timestamp.self, row, "created_at").iso8601,
                lastUsedAt: try Self.decode(Timestamp?.self, row, "last_used_at")?.iso8601
            )
        }
        return IngestContracts.APIKeyPage(apiKeys: keys, nextCursor: next?.encoded)
    }

    /// Revokes a key: refused by ``authenticate(_:)`` from the commit on.
    public func deleteKey(_ request: IngestContracts.KeyRequest, as caller: Identity) async throws(BusError) {
        let tenant = caller.tenant, userID = request.id, keyID = request.keyId
        _ = try await store.write(tenant: tenant) { session in
            guard try Self.userRow(session, tenant: tenant, id: userID) != nil else { throw Self.noUser(userID) }
            try Self.requireSelfOrAdmin(caller, userID, "revoke the keys of")
            guard try Self.revoke(session, tenant: tenant, userID: userID, keyID: keyID, at: .now()) else {
                throw BusError(.notFound, "user \(userID) has no API key \(keyID)")
            }
            return Empty()
        }
    }

    // MARK: - Authentication

    /// The identity of an API key. Unknown, malformed, revoked keys and keys
    /// of deleted users are all `unauthenticated`, with the same message.
    /// Records the key's use at most once a minute.
    public func authenticate(_ key: String) async throws(BusError) -> IngestContracts.Principal {
        let refused = BusError(.unauthenticated, "unknown or revoked API key")
        // The same work for every key: hash (a bounded length), then one lookup.
        let wellFormed = APIKeys.isWellFormed(key)
        let hash = APIKeys.hash(String(decoding: key.utf8.prefix(APIKeys.length), as: UTF8.self))
        let indexed = try await store.readSystem { session in
            try session.queryFirst("""
                SELECT i.tenant_id, i.key_id, t.name FROM api_key_index i JOIN tenant t ON t.id = i.tenant_id
                WHERE i.key_hash = \(hash)
                """)
        }
        guard wellFormed, let indexed else { throw refused }
        let tenant: String = try Self.decode(indexed, "tenant_id")
        let keyID: String = try Self.decode(indexed, "key_id")
        let tenantName: String = try Self.decode(indexed, "name")
        let row = try await store.read(tenant: tenant) { session in
            try session.queryFirst("""
                SELECT k.user_id, k.last_used_at, u.role FROM api_key k
                JOIN app_user u ON u.tenant_id = k.tenant_id AND u.id = k.user_id
                WHERE k.tenant_id = \(tenant) AND k.id = \(keyID) AND k.revoked_at IS NULL AND u.deleted_at IS NULL
                """)
        }
        guard let row else { throw refused }
        let principal = IngestContracts.Principal(
            tenantId: tenant, tenantName: tenantName, userId: try Self.decode(row, "user_id"), role: try Self.decode(row, "role"), keyId: keyID
        )
        let now = Timestamp.now()
        let stale = Timestamp(millisecondsSince1970: now.millisecondsSince1970 - APIKeys.lastUsedResolutionMs)
        if (try Self.decode(Timestamp?.self, row, "last_used_at")).map({ $0 < stale }) ?? true {
            // Conditional, so concurrent first uses write once; a failure does not refuse the key.
            _ = try? await store.write(tenant: tenant) { session in
                try session.execute("""
                    UPDATE api_key SET last_used_at = \(now)
                    WHERE tenant_id = \(tenant) AND id = \(keyID) AND (last_used_at IS NULL OR last_used_at < \(stale))
                    """)
            }
        }
        return principal
    }

    /// The identity of unauthenticated requests: a USER named `anonymous` in
    /// the tenant named `tenantName`, both created when missing (idempotent,
    /// also under concurrency).
    public func anonymous(tenantName: String) async throws(BusError) -> IngestContracts.Principal {
        let name = try Self.validTenantName(tenantName)
        let nameKey = name.lowercased()
        let newID = ResourceID.make()
        let tenantRow = try await store.writeSystem { session in
            try session.execute("""
                INSERT INTO tenant (id, name, name_key, created_at) VALUES (\(newID), \(name), \(nameKey), \(Timestamp.now()))
                ON CONFLICT DO NOTHING
                """)
            return try session.queryFirst("SELECT id, name FROM tenant WHERE name_key = \(nameKey)")
        }
        guard let tenantRow else { throw BusError(.unavailable, "tenant \(name) was not found after creating it; retry", retryable: true) }
        let tenant: String = try Self.decode(tenantRow, "id")
        let settings = try Self.settingsText([:])
        let userRow = try await store.write(tenant: tenant) { session in
            let id = ResourceID.make(), now = Timestamp.now()
            let settingsJSON = try JSONText(settings)
            let inserted = try session.execute("""
                INSERT INTO app_user (tenant_id, id, email, email_key, name, role, settings, created_at, updated_at)
                VALUES (\(tenant), \(id), \(APIKeys.anonymousEmail), \(APIKeys.anonymousEmail), 'anonymous', 'USER', \(settingsJSON), \(now), \(now))
                ON CONFLICT DO NOTHING
                """)
            if inserted == 1 {
                try Outbox.enqueue(session, IngestContracts.userCreated, IngestContracts.UserEvent(id: id), tenant: tenant)
            }
            return try session.queryFirst("""
                SELECT id FROM app_user WHERE tenant_id = \(tenant) AND email_key = \(APIKeys.anonymousEmail) AND deleted_at IS NULL
                """)
        }
        guard let userRow else { throw BusError(.unavailable, "the anonymous user was not found after creating it; retry", retryable: true) }
        return IngestContracts.Principal(tenantId: tenant, tenantName: try Self.decode(tenantRow, "name"), userId: try Self.decode(userRow, "id"), role: "USER")
    }

    // MARK: - Tenants

    /// A tenant, its first ADMIN (`admin@<name>`) and that user's first key, in one transaction.
    public func createTenant(name requested: String) async throws(BusError) -> IngestContracts.NewTenant {
        let name = try Self.validTenantName(requested)
        let tenant = ResourceID.make()
        let (email, emailKey) = try Self.validEmail("admin@" + name.lowercased().replacingOccurrences(of: "_", with: "-"))
        let settings = try Self.settingsText([:])
        return try await store.write(tenant: tenant, conflict: BusError(.conflict, "a tenant named \(name) already exists")) { session in
            try session.execute("""
                INSERT INTO tenant (id, name, name_key, created_at) VALUES (\(tenant), \(name), \(name.lowercased()), \(Timestamp.now()))
                """)
            let user = try Self.insertUser(session, tenant: tenant, email: email, emailKey: emailKey, name: "admin", role: "ADMIN", settings: settings)
            try Outbox.enqueue(session, IngestContracts.userCreated, IngestContracts.UserEvent(id: user.id), tenant: tenant)
            let key = try Self.insertKey(session, tenant: tenant, userID: user.id, name: "first key")
            return IngestContracts.NewTenant(tenantId: tenant, tenantName: name, userId: user.id, email: email, key: key.key)
        }
    }

    public func listTenants(_ request: IngestContracts.ListRequest) async throws(BusError) -> IngestContracts.TenantPage {
        let limit = try Self.pageSize(request.limit)
        let cursor = try Self.cursor(request.cursor)
        let (rows, next) = try await store.readSystem { session in
            try KeysetPage.read(limit: limit, after: cursor) { condition, fetch throws(StorageError) in
                try session.query("SELECT id, name, created_at FROM tenant WHERE \(condition) ORDER BY created_at DESC, id DESC LIMIT \(fetch)")
            }
        }
        let tenants = try rows.map { row throws(BusError) in
            IngestContracts.Tenant(id: try Self.decode(row, "id"), name: try Self.decode(row, "name"), createdAt: try Self.decode(Timestamp.self, row, "created_at").iso8601)
        }
        return IngestContracts.TenantPage(tenants: tenants, nextCursor: next?.encoded)
    }

    // MARK: - Statements

    static let userColumns: SQL = "SELECT id, email, name, role, settings, created_at, updated_at FROM app_user"

    static func userRow(_ session: any DatabaseSession, tenant: String, id: String) throws -> Row? {
        try session.queryFirst("\(userColumns) WHERE tenant_id = \(tenant) AND id = \(id) AND deleted_at IS NULL")
    }

    static func insertUser(
        _ session: any DatabaseSession, tenant: String, email: String, emailKey: String, name: String, role: String, settings: String
    ) throws -> User {
        let id = ResourceID.make(), now = Timestamp.now()
        let settingsJSON = try JSONText(settings)
        try session.execute("""
            INSERT INTO app_user (tenant_id, id, email, email_key, name, role, settings, created_at, updated_at)
            VALUES (\(tenant), \(id), \(email), \(emailKey), \(name), \(role), \(settingsJSON), \(now), \(now))
            """)
        guard let row = try userRow(session, tenant: tenant, id: id) else { throw BusError(.internal, "the new user \(id) is missing") }
        return try user(row)
    }

    /// A new key for `userID`: its hash in the tenant's `api_key` row's index entry, the plaintext only in the answer.
    static func insertKey(_ session: any DatabaseSession, tenant: String, userID: String, name: String) throws -> IngestContracts.NewAPIKey {
        let key = APIKeys.generate()
        let id = ResourceID.make(), now = Timestamp.now()
        let prefix = String(key.prefix(APIKeys.prefixLength))
        try session.execute("""
            INSERT INTO api_key (tenant_id, id, user_id, name, prefix, created_at)
            VALUES (\(tenant), \(id), \(userID), \(name), \(prefix), \(now))
            """)
        try session.execute("INSERT INTO api_key_index (key_hash, tenant_id, key_id) VALUES (\(APIKeys.hash(key)), \(tenant), \(id))")
        return IngestContracts.NewAPIKey(id: id, name: name, key: key, prefix: prefix, createdAt: now.iso8601)
    }

    /// Revokes one live key of `userID`; false when it has none of that id.
    @discardableResult
    static func revoke(_ session: any DatabaseSession, tenant: String, userID: String, keyID: String, at now: Timestamp) throws -> Bool {
        let changed = try session.execute("""
            UPDATE api_key SET revoked_at = \(now)
            WHERE tenant_id = \(tenant) AND id = \(keyID) AND user_id = \(userID) AND revoked_at IS NULL
            """)
        guard changed == 1 else { return false }
        try session.execute("DELETE FROM api_key_index WHERE tenant_id = \(tenant) AND key_id = \(keyID)")
        try Outbox.enqueue(session, IngestContracts.keyRevoked, IngestContracts.KeyEvent(id: keyID, userId: userID), tenant: tenant)
        return true
    }

    // MARK: - Rows

    static func user(_ row: Row) throws(BusError) -> User {
        let settingsText: String = try decode(row, "settings")
        guard let settings = try? JSONDecoder().decode(JSONObject.self, from: Data(settingsText.utf8)) else {
            throw BusError(.internal, "unreadable settings of user row")
        }
        return User(
            id: try decode(row, "id"), email: try decode(row, "email"), name: try decode(row, "name"), role: try decode(row, "role"), settings: settings,
            createdAt: try decode(Timestamp.self, row, "created_at").iso8601, updatedAt: try decode(Timestamp.self, row, "updated_at").iso8601
        )
    }

    static func decode<T: DatabaseValueConvertible>(_ row: Row, _ column: String) throws(BusError) -> T {
        try decode(T.self, row, column)
    }

    static func decode<T: DatabaseValueConvertible>(_ type: T.Type, _ row: Row, _ column: String) throws(BusError) -> T {
        do {
            return try row.decode(T.self, column)
        } catch {
            throw BusError(.internal, "unreadable row: \(error.message)")
        }
    }

    // MARK: - Authorization

    static func isAdmin(_ caller: Identity) -> Bool { caller.role == "ADMIN" }

    static func permissionDenied(_ message: String) -> BusError {
        BusError(.permissionDenied, message)
    }

    static func requireAdmin(_ caller: Identity, _ action: String) throws(BusError) {
        guard isAdmin(caller) else { throw permissionDenied("only an ADMIN can \(action)") }
    }

    /// An ADMIN acts on any user of its tenant; anyone else only on itself.
    static func requireSelfOrAdmin(_ caller: Identity, _ userID: String, _ action: String) throws(BusError) {
        guard isAdmin(caller) || caller.user == userID else { throw permissionDenied("only an ADMIN can \(action) another user") }
    }

    static func noUser(_ id: String) -> BusError { BusError(.notFound, "no user \(id)") }

    // MARK: - Validation

    /// The address as stored (trimmed) and its case-insensitive key.
    static func validEmail(_ text: String) throws(BusError) -> (email: String, key: String) {
        let email = text.trimmingCharacters(in: .whitespaces)
        let invalid = BusError(.invalidArgument, "email must be an address like name@example.com")
        // Lengths in characters, as the schema's maxLength counts them.
        guard (3...254).contains(email.unicodeScalars.count) else { throw invalid }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, (1...64).contains(parts[0].unicodeScalars.count), !parts[1].isEmpty,
            parts[0].unicodeScalars.allSatisfy({ !$0.properties.isWhitespace && $0.properties.generalCategory != .control }),
            parts[1].split(separator: ".", omittingEmptySubsequences: false).allSatisfy({ label in
                !label.isEmpty && label.utf8.allSatisfy { byte in
                    (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == 0x2D
                }
            })
        else { throw invalid }
        let key = email.lowercased()
        if key.hasSuffix("@" + APIKeys.anonymousDomain) { throw BusError(.invalidArgument, "email: the domain \(APIKeys.anonymousDomain) is reserved") }
        return (email, key)
    }

    static func validName(_ name: String, field: String) throws(BusError) -> String {
        guard name.unicodeScalars.count <= 200 else { throw BusError(.invalidArgument, "\(field) is longer than 200 characters") }
        guard !name.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw BusError(.invalidArgument, "\(field) must not contain control characters")
        }
        return name
    }

    static func validRole(_ role: String) throws(BusError) -> String {
        guard IngestContracts.roles.contains(role) else { throw BusError(.invalidArgument, "role must be USER, ADMIN or ENTERPRISE") }
        return role
    }

    static func validTenantName(_ name: String) throws(BusError) -> String {
        guard (1...63).contains(name.utf8.count), name.utf8.enumerated().allSatisfy({ index, byte in
            let alphanumeric = (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
            return alphanumeric || (index > 0 && (byte == 0x5F || byte == 0x2E || byte == 0x2D))
        }) else {
            throw BusError(.invalidArgument, "tenant name must be 1 to 63 letters, digits, '_', '.' or '-', starting with a letter or digit")
        }
        return name
    }

    static func settingsText(_ settings: JSONObject) throws(BusError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(settings), let text = String(data: data, encoding: .utf8) else {
            throw BusError(.invalidArgument, "settings must be a JSON object")
        }
        guard data.count <= 65536 else { throw BusError(.invalidArgument, "settings is larger than 65536 bytes of JSON") }
        return text
    }

    static func pageSize(_ limit: Int?) throws(BusError) -> Int {
        let limit = limit ?? IngestLimits.defaultPageSize
        guard (0...IngestLimits.maxPageSize).contains(limit) else { throw BusError(.invalidArgument, "limit must be 0...\(IngestLimits.maxPageSize)") }
        return limit
    }

    static func cursor(_ text: String?) throws(BusError) -> PageCursor? {
        guard let text else { return nil }
        guard let cursor = PageCursor(decoding: text) else { throw BusError(.invalidArgument, "cursor is not one this service issued") }
        return cursor
    }
}

/// API keys: `vbk_` and 43 base-62 characters (256 random bits), kept as SHA-256 hashes.
public enum APIKeys {
    public static let marker = "vbk_"
    public static let length = 47
    public static let prefixLength = 8
    /// `last_used_at` is at most this stale (one write per key per minute at most).
    public static let lastUsedResolutionMs: Int64 = 60_000
    static let alphabet = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz".utf8)
    static let anonymousDomain = "anonymous.invalid"
    static let anonymousEmail = "anonymous@" + anonymousDomain

    /// A new key from the system's cryptographic generator.
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        var bytes = Array(marker.utf8)
        for _ in 0..<(length - marker.utf8.count) { bytes.append(alphabet[Int.random(in: 0..<alphabet.count, using: &generator)]) }
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func isWellFormed(_ key: String) -> Bool {
        let bytes = Array(key.utf8)
        return bytes.count == length && key.hasPrefix(marker) && bytes.dropFirst(marker.utf8.count).allSatisfy { alphabet.contains($0) }
    }

    /// What the database keeps of a key.
    public static func hash(_ key: String) -> String {
        SHA256.hex(Array(key.utf8))
    }
}
