import Foundation

/// The ingest service's bus methods, events and REST routes: tenants, users
/// and API keys here, assets and clips in `IngestContracts+Media.swift`. Every JSON key is spelled out in a
/// `CodingKeys` and described by the type's schema.
public enum IngestContracts {
    public static let service = "ingest"

    /// The tenant every deployment has: its name and id are both `default`.
    public static let defaultTenant = "default"
    /// Roles, as the Gateway API seed's User has them.
    public static let roles = ["USER", "ADMIN", "ENTERPRISE"]

    // MARK: - Methods (tenant-scoped: they need the caller's identity)

    public static let createUser = BusMethod<CreateUserRequest, User>(service, "users.create", summary: "Create a user in the caller's tenant (ADMIN); conflict when the email is taken.")
    public static let getUser = BusMethod<UserRequest, User>(service, "users.get", summary: "A user of the caller's tenant (ADMIN, or the user itself).")
    public static let updateUser = BusMethod<UpdateUserRequest, User>(service, "users.update", summary: "Change a user's email, name, settings (ADMIN or itself) or role (ADMIN).")
    public static let deleteUser = BusMethod<UserRequest, Empty>(service, "users.delete", summary: "Soft-delete a user (ADMIN) and revoke its API keys.")
    public static let listUsers = BusMethod<ListRequest, UserPage>(service, "users.list", summary: "The tenant's users, newest first, a page at a time (ADMIN).")
    public static let me = BusMethod<Empty, Me>(service, "me", summary: "The caller's user, with its tenant.")
    public static let createKey = BusMethod<CreateKeyRequest, NewAPIKey>(service, "keys.create", summary: "A new API key for a user (ADMIN, or the user itself); the key is in this answer only.")
    public static let listKeys = BusMethod<ListKeysRequest, APIKeyPage>(service, "keys.list", summary: "A user's API keys without their secrets, newest first (ADMIN, or the user itself).")
    public static let deleteKey = BusMethod<KeyRequest, Empty>(service, "keys.delete", summary: "Revoke an API key (ADMIN, or its user).")

    // MARK: - Methods (not tenant-scoped: for the gateway and operators)

    public static let authenticate = BusMethod<AuthenticateRequest, Principal>(service, "authenticate", summary: "The tenant, user and role of an API key; unauthenticated when it is unknown or revoked.")
    public static let anonymous = BusMethod<AnonymousRequest, Principal>(service, "anonymous", summary: "The identity of unauthenticated requests: a USER named anonymous in the named tenant (both created if missing).")
    public static let createTenant = BusMethod<CreateTenantRequest, NewTenant>(service, "tenants.create", summary: "Create a tenant with a first ADMIN user and its first API key; conflict when the name is taken.")
    public static let listTenants = BusMethod<ListRequest, TenantPage>(service, "tenants.list", summary: "Every tenant, newest first, a page at a time.")

    public static let methods: [MethodDescription] = [
        createUser.description, getUser.description, updateUser.description, deleteUser.description, listUsers.description, me.description,
        createKey.description, listKeys.description, deleteKey.description,
        authenticate.description, anonymous.description, createTenant.description, listTenants.description,
    ] + mediaMethods

    // MARK: - Events

    public static let userCreated = EventTopic<UserEvent>("user.created", publishedBy: service)
    public static let userDeleted = EventTopic<UserEvent>("user.deleted", publishedBy: service)
    public static let keyRevoked = EventTopic<KeyEvent>("api_key.revoked", publishedBy: service)

    public static let events: [EventDescription] = [userCreated.description, userDeleted.description, keyRevoked.description] + mediaEvents

    // MARK: - Routes

    static let users = "/api/users"
    static let idParameter = HTTPRoute.Parameter.path("id", Schemas.resourceID)
    static let keyIDParameter = HTTPRoute.Parameter.path("key_id", Schemas.resourceID)
    static let noUser = HTTPRoute.Failure(404, "No such user in the caller's tenant")
    static let forbidden = HTTPRoute.Failure(403, "The caller's role does not allow this")
    static let listParameters: [HTTPRoute.Parameter] = [.query("limit", Schemas.limit), .query("cursor", Schemas.cursor)]

    /// `/api/users`, `/api/users/{id}/api-keys`, `/api/me` as API.md fixes them.
    public static let routes: [HTTPRoute] = [
        HTTPRoute(.post, users, calls: createUser, summary: "Create a user (ADMIN)", operationID: "createUser", body: CreateUserRequest.self, status: 201,
                  failures: [forbidden, .init(409, "A user of this tenant has this email")]),
        HTTPRoute(.get, users, calls: listUsers, summary: "List users, newest first (ADMIN)", operationID: "listUsers",
                  parameters: listParameters, response: .contract(UserList.self), failures: [forbidden], nextPageField: UserPage.CodingKeys.nextCursor.stringValue),
        HTTPRoute(.get, users + "/{id}", calls: getUser, summary: "Get a user", operationID: "getUser", parameters: [idParameter], failures: [forbidden, noUser]),
        HTTPRoute(.patch, users + "/{id}", calls: updateUser, summary: "Change a user", operationID: "updateUser",
                  parameters: [idParameter], body: UserChanges.self, failures: [forbidden, noUser, .init(409, "A user of this tenant has this email")]),
        HTTPRoute(.delete, users + "/{id}", calls: deleteUser, summary: "Delete a user and revoke its keys (ADMIN)", operationID: "deleteUser",
                  parameters: [idParameter], status: 204, failures: [forbidden, noUser]),
        HTTPRoute(.get, "/api/me", calls: me, summary: "The caller's user and tenant", operationID: "getMe"),
        HTTPRoute(.post, users + "/{id}/api-keys", calls: createKey, summary: "Create an API key (shown once)", operationID: "createAPIKey",
                  parameters: [idParameter], body: KeyBody.self, status: 201, failures: [forbidden, noUser]),
        HTTPRoute(.get, users + "/{id}/api-keys", calls: listKeys, summary: "List a user's API keys (no secrets)", operationID: "listAPIKeys",
                  parameters: [idParameter] + listParameters, response: .contract(APIKeyList.self), failures: [forbidden, noUser],
                  nextPageField: APIKeyPage.CodingKeys.nextCursor.stringValue),
        HTTPRoute(.delete, users + "/{id}/api-keys/{key_id}", calls: deleteKey, summary: "Revoke an API key", operationID: "deleteAPIKey",
                  parameters: [idParameter, keyIDParameter], status: 204, failures: [forbidden, .init(404, "No such key of this user")]),
    ] + mediaRoutes

    // MARK: - Users

    /// A user of a tenant, as the Gateway API seed's User (its key is not here: see ``NewAPIKey``).
    public struct User: Contract, Hashable {
        public var id: String
        public var email: String
        public var name: String
        public var role: String
        public var settings: JSONObject
        public var createdAt: String
        public var updatedAt: String

        public init(id: String, email: String, name: String, role: String, settings: JSONObject, createdAt: String, updatedAt: String) {
            self.id = id
            self.email = email
            self.name = name
            self.role = role
            self.settings = settings
            self.createdAt = createdAt
            self.updatedAt = updatedAt
        }

        public enum CodingKeys: String, CodingKey {
            case id, email, name, role, settings
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }

        public static let schema = JSONSchema.object(userProperties(), description: "A user of the caller's tenant.")

        static func userProperties() -> [JSONSchema.Property] {
            [
                .init(CodingKeys.id, Schemas.resourceID),
                .init(CodingKeys.email, Schemas.email),
                .init(CodingKeys.name, Schemas.name),
                .init(CodingKeys.role, Schemas.role),
                .init(CodingKeys.settings, Schemas.settings),
                .init(CodingKeys.createdAt, Schemas.timestamp),
                .init(CodingKeys.updatedAt, Schemas.timestamp),
            ]
        }
    }

    public struct CreateUserRequest: Contract {
        public var email: String
        public var name: String?
        public var role: String?
        public var settings: JSONObject?

        public init(email: String, name: String? = nil, role: String? = nil, settings: JSONObject? = nil) {
            self.email = email
            self.name = name
            self.role = role
            self.settings = settings
        }

        public enum CodingKeys: String, CodingKey {
            case email, name, role, settings
        }

        public static let schemaName = "CreateUser"
        public static let schema = JSONSchema.object([
            .init(CodingKeys.email, Schemas.email),
            .init(CodingKeys.name, Schemas.name.orNull, required: false),
            .init(CodingKeys.role, Schemas.role.orNull, required: false),
            .init(CodingKeys.settings, Schemas.settings.orNull, required: false),
        ])
    }

    public struct UserRequest: Contract {
        public var id: String
        public init(id: String) { self.id = id }

        public enum CodingKeys: String, CodingKey {
            case id
        }

        public static let schema = JSONSchema.object([.init(CodingKeys.id, Schemas.resourceID)])
    }

    /// The body of `PATCH /api/users/{id}`: the fields to change, any of them.
    public struct UserChanges: Contract {
        public var email: String?
        public var name: String?
        public var role: String?
        public var settings: JSONObject?

        public enum CodingKeys: String, CodingKey {
            case email, name, role, settings
        }

        public static let schemaName = "UpdateUser"
        public static let schema = JSONSchema.object(changeProperties())

        static func changeProperties() -> [JSONSchema.Property] {
            [
                .init(CodingKeys.email, Schemas.email.orNull, required: false),
                .init(CodingKeys.name, Schemas.name.orNull, required: false),
                .init(CodingKeys.role, Schemas.role.orNull, required: false),
                .init(CodingKeys.settings, Schemas.settings.orNull, required: false),
            ]
        }
    }

    public struct UpdateUserRequest: Contract {
        public var id: String
        public var email: String?
        public var name: String?
        public var role: String?
        /// Replaces the settings as a whole.
        public var settings: JSONObject?

        public init(id: String, email: String? = nil, name: String? = nil, role: String? = nil, settings: JSONObject? = nil) {
            self.id = id
            self.email = email
            self.name = name
            self.role = role
            self.settings = settings
        }

        public enum CodingKeys: String, CodingKey {
            case id, email, name, role, settings
        }

        public static let schema = JSONSchema.object([.init(CodingKeys.id, Schemas.resourceID)] + UserChanges.changeProperties())
    }

    public struct ListRequest: Contract {
        public var limit: Int?
        public var cursor: String?
        public init(limit: Int? = nil, cursor: String? = nil) {
            self.limit = limit
            self.cursor = cursor
        }

        public enum CodingKeys: String, CodingKey {
            case limit, cursor
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.limit, Schemas.limit.orNull, required: false),
            .init(CodingKeys.cursor, Schemas.cursor.orNull, required: false),
        ])
    }

    public struct UserPage: Contract {
        public var users: [User]
        public var count: Int
        public var nextCursor: String?
        public init(users: [User], nextCursor: String? = nil) {
            self.users = users
            self.count = users.count
            self.nextCursor = nextCursor
        }

        public enum CodingKeys: String, CodingKey {
            case users, count
            case nextCursor = "next_cursor"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.users, .array(of: .contract(User.self))),
            .init(CodingKeys.count, Schemas.count),
            .init(CodingKeys.nextCursor, Schemas.cursor, required: false),
        ])
    }

    /// `GET /api/users`: exactly `users` and `count` (the next page is in the `Link` header).
    public struct UserList: Contract {
        public var users: [User]
        public var count: Int

        public enum CodingKeys: String, CodingKey {
            case users, count
        }

        public static let schema: JSONSchema = {
            var schema = JSONSchema.object([
                .init(CodingKeys.users, .array(of: .contract(User.self))),
                .init(CodingKeys.count, Schemas.count),
            ], description: "A page of users, newest first; when more follow, the Link header (rel=\"next\") holds the next page's URL.")
            schema.additionalProperties = false
            return schema
        }()
    }

    /// The caller's user and its tenant.
    public struct Me: Contract, Hashable {
        public var user: User
        public var tenantId: String
        public var tenantName: String

        public init(user: User, tenantId: String, tenantName: String) {
            self.user = user
            self.tenantId = tenantId
            self.tenantName = tenantName
        }

        public enum CodingKeys: String, CodingKey {
            case tenantId = "tenant_id"
            case tenantName = "tenant_name"
        }

        /// Flat: the user's fields beside `tenant_id` and `tenant_name`.
        public init(from decoder: any Decoder) throws {
            user = try User(from: decoder)
            let container = try decoder.container(keyedBy: CodingKeys.self)
            tenantId = try container.decode(String.self, forKey: .tenantId)
            tenantName = try container.decode(String.self, forKey: .tenantName)
        }

        public func encode(to encoder: any Encoder) throws {
            try user.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(tenantId, forKey: .tenantId)
            try container.encode(tenantName, forKey: .tenantName)
        }

        public static let schema = JSONSchema.object(User.userProperties() + [
            .init(CodingKeys.tenantId, Schemas.tenantID),
            .init(CodingKeys.tenantName, Schemas.tenantName),
        ], description: "The caller's user, with the id and name of its tenant.")
    }

    // MARK: - API keys

    public struct CreateKeyRequest: Contract {
        /// The user the key is for.
        public var id: String
        public var name: String?
        public init(id: String, name: String? = nil) {
            self.id = id
            self.name = name
        }

        public enum CodingKeys: String, CodingKey {
            case id, name
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, Schemas.resourceID),
            .init(CodingKeys.name, Schemas.keyName.orNull, required: false),
        ])
    }

    /// The body of `POST /api/users/{id}/api-keys`.
    public struct KeyBody: Contract {
        public var name: String?

        public enum CodingKeys: String, CodingKey {
            case name
        }

        public static let schemaName = "CreateAPIKey"
        public static let schema = JSONSchema.object([.init(CodingKeys.name, Schemas.keyName.orNull, required: false)])
    }

    /// A new key: the only answer that ever holds `key`.
    public struct NewAPIKey: Contract, Hashable {
        public var id: String
        public var name: String
        public var key: String
        public var prefix: String
        public var createdAt: String

        public init(id: String, name: String, key: String, prefix: String, createdAt: String) {
            self.id = id
            self.name = name
            self.key = key
            self.prefix = prefix
            self.createdAt = createdAt
        }

        public enum CodingKeys: String, CodingKey {
            case id, name, key, prefix
            case createdAt = "created_at"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, Schemas.resourceID),
            .init(CodingKeys.name, Schemas.keyName),
            .init(CodingKeys.key, Schemas.key),
            .init(CodingKeys.prefix, Schemas.keyPrefix),
            .init(CodingKeys.createdAt, Schemas.timestamp),
        ], description: "A new API key. `key` is shown in this answer only: the service keeps its SHA-256 hash.")
    }

    /// A key as lists show it: no secret.
    public struct APIKey: Contract, Hashable {
        public var id: String
        public var name: String
        public var prefix: String
        public var createdAt: String
        /// Within a minute of the last use; absent when never used.
        public var lastUsedAt: String?

        public init(id: String, name: String, prefix: String, createdAt: String, lastUsedAt: String?) {
            self.id = id
            self.name = name
            self.prefix = prefix
            self.createdAt = createdAt
            self.lastUsedAt = lastUsedAt
        }

        public enum CodingKeys: String, CodingKey {
            case id, name, prefix
            case createdAt = "created_at"
            case lastUsedAt = "last_used_at"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(name, forKey: .name)
            try container.encode(prefix, forKey: .prefix)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(lastUsedAt, forKey: .lastUsedAt)  // null when never used
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, Schemas.resourceID),
            .init(CodingKeys.name, Schemas.keyName),
            .init(CodingKeys.prefix, Schemas.keyPrefix),
            .init(CodingKeys.createdAt, Schemas.timestamp),
            .init(CodingKeys.lastUsedAt, Schemas.timestamp.orNull),
        ], description: "An API key without its secret.")
    }

    public struct ListKeysRequest: Contract {
        /// The user whose keys to list.
        public var id: String
        public var limit: Int?
        public var cursor: String?
        public init(id: String, limit: Int? = nil, cursor: String? = nil) {
            self.id = id
            self.limit = limit
            self.cursor = cursor
        }

        public enum CodingKeys: String, CodingKey {
            case id, limit, cursor
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, Schemas.resourceID),
            .init(CodingKeys.limit, Schemas.limit.orNull, required: false),
            .init(CodingKeys.cursor, Schemas.cursor.orNull, required: false),
        ])
    }

    public struct APIKeyPage: Contract {
        public var apiKeys: [APIKey]
        public var count: Int
        public var nextCursor: String?
        public init(apiKeys: [APIKey], nextCursor: String? = nil) {
            self.apiKeys = apiKeys
            self.count = apiKeys.count
            self.nextCursor = nextCursor
        }

        public enum CodingKeys: String, CodingKey {
            case count
            case apiKeys = "api_keys"
            case nextCursor = "next_cursor"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.apiKeys, .array(of: .contract(APIKey.self))),
            .init(CodingKeys.count, Schemas.count),
            .init(CodingKeys.nextCursor, Schemas.cursor, required: false),
        ])
    }

    /// `GET /api/users/{id}/api-keys`: exactly `api_keys` and `count`.
    public struct APIKeyList: Contract {
        public var apiKeys: [APIKey]
        public var count: Int

        public enum CodingKeys: String, CodingKey {
            case count
            case apiKeys = "api_keys"
        }

        public static let schema: JSONSchema = {
            var schema = JSONSchema.object([
                .init(CodingKeys.apiKeys, .array(of: .contract(APIKey.self))),
                .init(CodingKeys.count, Schemas.count),
            ], description: "A page of API keys, newest first; when more follow, the Link header (rel=\"next\") holds the next page's URL.")
            schema.additionalProperties = false
            return schema
        }()
    }

    public struct KeyRequest: Contract {
        /// The key's user.
        public var id: String
        public var keyId: String
        public init(id: String, keyId: String) {
            self.id = id
            self.keyId = keyId
        }

        public enum CodingKeys: String, CodingKey {
            case id
            case keyId = "key_id"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, Schemas.resourceID),
            .init(CodingKeys.keyId, Schemas.resourceID),
        ])
    }

    // MARK: - Authentication and tenants

    public struct AuthenticateRequest: Contract {
        public var key: String
        public init(key: String) { self.key = key }

        public enum CodingKeys: String, CodingKey {
            case key
        }

        public static let schema = JSONSchema.object([.init(CodingKeys.key, .string(maxLength: 1024, description: "The API key as the client sent it."))])
    }

    public struct AnonymousRequest: Contract {
        public var tenantName: String
        public init(tenantName: String) { self.tenantName = tenantName }

        public enum CodingKeys: String, CodingKey {
            case tenantName = "tenant_name"
        }

        public static let schema = JSONSchema.object([.init(CodingKeys.tenantName, Schemas.tenantName)])
    }

    /// Who a request is made by: what the gateway puts in the bus header.
    public struct Principal: Contract, Hashable {
        public var tenantId: String
        public var tenantName: String
        public var userId: String
        public var role: String
        /// The key that authenticated (absent for the anonymous identity): `api_key.revoked` names it.
        public var keyId: String?

        public init(tenantId: String, tenantName: String, userId: String, role: String, keyId: String? = nil) {
            self.tenantId = tenantId
            self.tenantName = tenantName
            self.userId = userId
            self.role = role
            self.keyId = keyId
        }

        public enum CodingKeys: String, CodingKey {
            case role
            case tenantId = "tenant_id"
            case tenantName = "tenant_name"
            case userId = "user_id"
            case keyId = "key_id"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.tenantId, Schemas.tenantID),
            .init(CodingKeys.tenantName, Schemas.tenantName),
            .init(CodingKeys.userId, Schemas.resourceID),
            .init(CodingKeys.role, Schemas.role),
            .init(CodingKeys.keyId, Schemas.resourceID, required: false),
        ], description: "The tenant, user and role a request is made for.")
    }

    public struct CreateTenantRequest: Contract {
        public var name: String
        public init(name: String) { self.name = name }

        public enum CodingKeys: String, CodingKey {
            case name
        }

        public static let schema = JSONSchema.object([.init(CodingKeys.name, Schemas.tenantName)])
    }

    public struct NewTenant: Contract, Hashable {
        public var tenantId: String
        public var tenantName: String
        public var userId: String
        public var email: String
        public var key: String

        public init(tenantId: String, tenantName: String, userId: String, email: String, key: String) {
            self.tenantId = tenantId
            self.tenantName = tenantName
            self.userId = userId
            self.email = email
            self.key = key
        }

        public enum CodingKeys: String, CodingKey {
            case email, key
            case tenantId = "tenant_id"
            case tenantName = "tenant_name"
            case userId = "user_id"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.tenantId, Schemas.tenantID),
            .init(CodingKeys.tenantName, Schemas.tenantName),
            .init(CodingKeys.userId, Schemas.resourceID),
            .init(CodingKeys.email, Schemas.email),
            .init(CodingKeys.key, Schemas.key),
        ], description: "A new tenant, its first ADMIN user and that user's first API key (shown once).")
    }

    public struct Tenant: Contract, Hashable {
        public var id: String
        public var name: String
        public var createdAt: String

        public init(id: String, name: String, createdAt: String) {
            self.id = id
            self.name = name
            self.createdAt = createdAt
        }

        public enum CodingKeys: String, CodingKey {
            case id, name
            case createdAt = "created_at"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, Schemas.tenantID),
            .init(CodingKeys.name, Schemas.tenantName),
            .init(CodingKeys.createdAt, Schemas.timestamp),
        ])
    }

    public struct TenantPage: Contract {
        public var tenants: [Tenant]
        public var count: Int
        public var nextCursor: String?
        public init(tenants: [Tenant], nextCursor: String? = nil) {
            self.tenants = tenants
            self.count = tenants.count
            self.nextCursor = nextCursor
        }

        public enum CodingKeys: String, CodingKey {
            case tenants, count
            case nextCursor = "next_cursor"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.tenants, .array(of: .contract(Tenant.self))),
            .init(CodingKeys.count, Schemas.count),
            .init(CodingKeys.nextCursor, Schemas.cursor, required: false),
        ])
    }

    // MARK: - Event payloads

    public struct UserEvent: Contract, Hashable {
        public var id: String
        public init(id: String) { self.id = id }

        public enum CodingKeys: String, CodingKey {
            case id
        }

        public static let schema = JSONSchema.object([.init(CodingKeys.id, Schemas.resourceID)])
    }

    public struct KeyEvent: Contract, Hashable {
        public var id: String
        public var userId: String
        public init(id: String, userId: String) {
            self.id = id
            self.userId = userId
        }

        public enum CodingKeys: String, CodingKey {
            case id
            case userId = "user_id"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, Schemas.resourceID),
            .init(CodingKeys.userId, Schemas.resourceID),
        ])
    }

    // MARK: - Field schemas

    public enum Schemas {
        public static let resourceID = JSONSchema.string(minLength: 1, maxLength: 64, example: "cmwqtdjauhoy2z9zj6dk2mdog", description: "Chosen by the service; opaque.")
        public static let tenantID = JSONSchema.string(minLength: 1, maxLength: 64, example: "default", description: "The tenant's id: `default` for the default tenant, else chosen by the service; opaque.")
        public static let tenantName = JSONSchema.string(
            minLength: 1, maxLength: 63, patterns: ["^[A-Za-z0-9][A-Za-z0-9_.-]*$"], example: "acme",
            description: "1 to 63 letters, digits, `_`, `.`, `-`, starting with a letter or digit; unique case-insensitively."
        )
        public static let email = JSONSchema.string(
            minLength: 3, maxLength: 254, patterns: ["^[^@\\s\\u0000-\\u001f\\u007f-\\u009f]{1,64}@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*$"], example: "ada@example.com",
            description: "An email address; unique in its tenant, case-insensitively (among users not deleted)."
        )
        public static let name = JSONSchema.string(maxLength: 200, patterns: [noControlCharacters], example: "Ada Lovelace", description: "A display name without control characters; empty when not given.")
        public static let role = JSONSchema.string(patterns: ["^(USER|ADMIN|ENTERPRISE)$"], example: "USER", description: "USER (the default), ADMIN (manages users and keys) or ENTERPRISE (a USER with a higher rate limit).")
        public static let settings = JSONSchema(.anyObject, description: "Free-form settings: any JSON object; `{}` when not given.")
        public static let keyName = JSONSchema.string(maxLength: 200, patterns: [noControlCharacters], example: "ci", description: "A label for the key without control characters; empty when not given.")
        /// What the service refuses in names: Unicode's control characters (Cc).
        static let noControlCharacters = "^[^\\u0000-\\u001f\\u007f-\\u009f]*$"
        public static let key = JSONSchema.string(
            minLength: 47, maxLength: 47, patterns: ["^vbk_[0-9A-Za-z]{43}$"], example: "vbk_3kTMd9wQ2xZ8pLr5vN7bY1cF6hJ0gS4aE9uK2mP7qW1",
            description: "The API key: `vbk_` and 43 base-62 characters (256 random bits). Send it as `Authorization: Bearer <key>` or `X-API-Key: <key>`."
        )
        public static let keyPrefix = JSONSchema.string(minLength: 8, maxLength: 8, example: "vbk_3kTM", description: "The key's first 8 characters, to tell keys apart.")
        public static let timestamp = JSONSchema.string(
            patterns: ["^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3}Z$"], format: "date-time",
            example: "2026-11-21T19:41:45.845Z", description: "ISO 8601, UTC, milliseconds."
        )
        public static let limit = JSONSchema.integer(minimum: 0, maximum: Int64(IngestLimits.maxPageSize), defaultValue: IngestLimits.defaultPageSize, description: "Most items in the page; 0 answers an empty page.")
        public static let count = JSONSchema.integer(minimum: 0, maximum: Int64(IngestLimits.maxPageSize), description: "How many items this page holds.")
        public static let cursor = JSONSchema.pageCursor
    }
}

public enum IngestLimits {
    public static let defaultPageSize = 50
    public static let maxPageSize = 500
}

/// Any JSON value, for free-form fields (a user's settings).
public enum JSONValue: Codable, Sendable, Hashable {
    case null
    case bool(Bool)
    case integer(Int64)
    case number(Double)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let value = try? container.decode(Bool.self) {
            self = .bool(value)
        } else if let value = try? container.decode(Int64.self) {
            self = .integer(value)
        } else if let value = try? container.decode(Double.self) {
            self = .number(value)
        } else if let value = try? container.decode(String.self) {
            self = .string(value)
        } else if let value = try? container.decode([JSONValue].self) {
            self = .array(value)
        } else {
            self = .object(try container.decode([String: JSONValue].self))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let value): try container.encode(value)
        case .integer(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .string(let value): try container.encode(value)
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

/// A JSON object (a user's settings).
public typealias JSONObject = [String: JSONValue]
