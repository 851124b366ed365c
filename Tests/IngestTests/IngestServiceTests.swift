import BusRuntime
import BusWire
import Contracts
import Foundation
import Ingest
import ServiceKit
import Storage
import TestSupport
import Testing

/// Tenants, users and API keys on both engines, called as the bus would
/// call them (with the caller's identity).
@Suite struct IngestServiceTests {
    typealias C = IngestContracts

    /// A database migrated by its owner, with the service on it as the
    /// service's own role (on PostgreSQL, row-level security applies to it);
    /// `body` inspects through the owner's connection, which sees every row.
    func withService(_ engine: Engine, _ body: (IngestService, any Database) async throws -> Void) async throws {
        try await TestDatabases.withRoles(engine, prepare: { owner in
            try await IngestSchema.schema.migrator().deploy(to: owner)
        }) { owner, service in
            try await body(IngestService(store: ServiceStore(database: service)), owner)
        }
    }

    /// A new tenant: its admin's identity and key.
    func tenant(_ service: IngestService, _ name: String) async throws -> (admin: Identity, key: String) {
        let created = try await service.createTenant(name: name)
        return (Identity(tenant: created.tenantId, user: created.userId, role: "ADMIN"), created.key)
    }

    func identity(of user: C.User, in tenant: String) -> Identity {
        Identity(tenant: tenant, user: user.id, role: user.role)
    }

    static let denied = ErrorCode.permissionDenied

    func code(_ work: () async throws -> some Any) async -> ErrorCode? {
        do {
            _ = try await work()
            return nil
        } catch {
            return (error as? BusError)?.code
        }
    }

    @Test(arguments: Engine.allCases)
    func theDefaultTenantComesWithTheFirstMigration(_ engine: Engine) async throws {
        try await withService(engine) { service, _ in
            let page = try await service.listTenants(.init())
            #expect(page.tenants.map(\.id) == ["default"] && page.tenants.map(\.name) == ["default"])
            #expect(await code { try await service.createTenant(name: "DEFAULT") } == .conflict)
        }
    }

    @Test(arguments: Engine.allCases)
    func usersLiveAndDieWithTheirEmailsUniquePerTenantCaseInsensitively(_ engine: Engine) async throws {
        try await withService(engine) { service, database in
            let (admin, _) = try await tenant(service, "acme")
            let ada = try await service.createUser(.init(email: "Ada@Example.com", name: "Ada", settings: ["theme": .string("dark"), "n": .integer(3)]), as: admin)
            #expect(ada.email == "Ada@Example.com" && ada.role == "USER" && ada.name == "Ada" && ada.createdAt == ada.updatedAt)
            #expect(ada.settings == ["theme": .string("dark"), "n": .integer(3)])
            #expect(try await service.getUser(ada.id, as: admin) == ada)
            #expect(try await service.updateUser(.init(id: ada.id), as: admin) == ada, "an empty change changes nothing")

            await #expect(throws: BusError(.conflict, "a user with email ada@example.COM already exists in this tenant")) {
                try await service.createUser(.init(email: "ada@example.COM"), as: admin)
            }
            // The same email in another tenant is another user.
            let (other, _) = try await tenant(service, "globex")
            _ = try await service.createUser(.init(email: "ada@example.com"), as: other)

            let updated = try await service.updateUser(.init(id: ada.id, name: "Ada L.", role: "ENTERPRISE", settings: [:]), as: admin)
            #expect(updated.name == "Ada L." && updated.role == "ENTERPRISE" && updated.settings == [:] && updated.email == ada.email)
            #expect(updated.updatedAt > ada.updatedAt && updated.createdAt == ada.createdAt)

            let page = try await service.listUsers(.init(), as: admin)
            #expect(page.count == 2 && page.users.first?.id == ada.id)
            let first = try await service.listUsers(.init(limit: 1), as: admin)
            let second = try await service.listUsers(.init(limit: 1, cursor: first.nextCursor), as: admin)
            #expect(first.users.count == 1 && second.users.count == 1 && first.users[0].id != second.users[0].id && second.nextCursor == nil)

            try await service.deleteUser(ada.id, as: admin)
            await #expect(throws: BusError(.notFound, "no user \(ada.id)")) { try await service.getUser(ada.id, as: admin) }
            await #expect(throws: BusError(.notFound, "no user \(ada.id)")) { try await service.deleteUser(ada.id, as: admin) }
            #expect(try await service.listUsers(.init(), as: admin).users.map(\.id).contains(ada.id) == false)
            // A deleted user's email may be used again.
            let again = try await service.createUser(.init(email: "ADA@example.com"), as: admin)
            #expect(again.id != ada.id)

            let topics = try await database.read { try $0.query("SELECT topic FROM outbox ORDER BY seq").map { try $0.decode(String.self, "topic") } }
            #expect(topics.filter { $0 == "user.created" }.count == 5)  // two admins, ada, ada in globex, ada again
            #expect(topics.filter { $0 == "user.deleted" }.count == 1)
            #expect(topics.filter { $0 == "api_key.revoked" }.isEmpty)
        }
    }

    @Test(arguments: Engine.allCases)
    func badInputIsRefusedNamingTheField(_ engine: Engine) async throws {
        try await withService(engine) { service, _ in
            let (admin, _) = try await tenant(service, "acme")
            for email in ["", "no-at-sign", "two@@example.com", "a b@example.com", "ada@", "@example.com", "ada@exa mple.com", "ada@example..com"] {
                await #expect(throws: BusError(.invalidArgument, "email must be an address like name@example.com"), "\(email)") {
                    try await service.createUser(.init(email: email), as: admin)
                }
            }
            await #expect(throws: BusError(.invalidArgument, "role must be USER, ADMIN or ENTERPRISE")) {
                try await service.createUser(.init(email: "ada@example.com", role: "ROOT"), as: admin)
            }
            await #expect(throws: BusError(.invalidArgument, "role must be USER, ADMIN or ENTERPRISE")) {
                try await service.createUser(.init(email: "ada@example.com", role: "admin"), as: admin)
            }
            await #expect(throws: BusError(.invalidArgument, "email must be an address like name@example.com")) {
                try await service.updateUser(.init(id: admin.user!, email: "nope"), as: admin)
            }
            await #expect(throws: BusError(.invalidArgument, "limit must be 0...500")) { try await service.listUsers(.init(limit: 501), as: admin) }
            await #expect(throws: BusError(.invalidArgument, "cursor is not one this service issued")) { try await service.listUsers(.init(cursor: "x"), as: admin) }
            await #expect(throws: BusError(.invalidArgument, "tenant name must be 1 to 63 letters, digits, '_', '.' or '-', starting with a letter or digit")) {
                try await service.createTenant(name: "-acme")
            }
            #expect(try await service.listUsers(.init(limit: 0), as: admin).users.isEmpty)
        }
    }

    @Test(arguments: Engine.allCases)
    func aUserActsOnItselfOnlyAndCannotChangeItsRole(_ engine: Engine) async throws {
        try await withService(engine) { service, _ in
            let (admin, _) = try await tenant(service, "acme")
            let ada = try await service.createUser(.init(email: "ada@example.com"), as: admin)
            let bob = try await service.createUser(.init(email: "bob@example.com", role: "ENTERPRISE"), as: admin)
            let asAda = identity(of: ada, in: admin.tenant), asBob = identity(of: bob, in: admin.tenant)

            #expect(try await service.getUser(ada.id, as: asAda) == ada)
            let renamed = try await service.updateUser(.init(id: ada.id, name: "Ada", settings: ["lang": .string("en")]), as: asAda)
            #expect(renamed.name == "Ada" && renamed.settings == ["lang": .string("en")])
            // Its own role, unchanged, is fine; another is not.
            _ = try await service.updateUser(.init(id: ada.id, role: "USER"), as: asAda)
            #expect(await code { try await service.updateUser(.init(id: ada.id, role: "ADMIN"), as: asAda) } == Self.denied)
            #expect(try await service.getUser(ada.id, as: admin).role == "USER")

            #expect(await code { try await service.getUser(bob.id, as: asAda) } == Self.denied)
            #expect(await code { try await service.updateUser(.init(id: bob.id, name: "x"), as: asAda) } == Self.denied)
            #expect(await code { try await service.deleteUser(bob.id, as: asAda) } == Self.denied)
            #expect(await code { try await service.deleteUser(ada.id, as: asAda) } == Self.denied)
            #expect(await code { try await service.createUser(.init(email: "eve@example.com"), as: asAda) } == Self.denied)
            #expect(await code { try await service.listUsers(.init(), as: asBob) } == Self.denied)
            #expect(await code { try await service.createKey(.init(id: bob.id), as: asAda) } == Self.denied)
            #expect(await code { try await service.listKeys(.init(id: bob.id), as: asAda) } == Self.denied)
            let bobsKey = try await service.createKey(.init(id: bob.id), as: asBob)
            #expect(await code { try await service.deleteKey(.init(id: bob.id, keyId: bobsKey.id), as: asAda) } == Self.denied)

            // Keys for itself: create, list, revoke.
            let own = try await service.createKey(.init(id: ada.id, name: "laptop"), as: asAda)
            #expect(try await service.listKeys(.init(id: ada.id), as: asAda).apiKeys.map(\.id) == [own.id])
            try await service.deleteKey(.init(id: ada.id, keyId: own.id), as: asAda)
            #expect(try await service.listKeys(.init(id: ada.id), as: asAda).apiKeys.isEmpty)

            // An ADMIN can change roles, and `me` is the caller.
            #expect(try await service.updateUser(.init(id: ada.id, role: "ADMIN"), as: admin).role == "ADMIN")
            let me = try await service.me(as: asBob)
            #expect(me.user == bob && me.tenantId == admin.tenant && me.tenantName == "acme")
            await #expect(throws: BusError(.unauthenticated, "the request names no user")) { try await service.me(as: Identity(tenant: admin.tenant)) }
        }
    }

    @Test(arguments: Engine.allCases)
    func keysAreShownOnceStoredHashedAndRefusedOnceRevoked(_ engine: Engine) async throws {
        try await withService(engine) { service, database in
            let (admin, adminKey) = try await tenant(service, "acme")
            let ada = try await service.createUser(.init(email: "ada@example.com"), as: admin)
            let key = try await service.createKey(.init(id: ada.id, name: "ci"), as: admin)
            #expect(APIKeys.isWellFormed(key.key) && key.key.hasPrefix("vbk_") && key.key.count == 47)
            #expect(key.prefix == String(key.key.prefix(8)) && key.name == "ci")
            let unnamed = try await service.createKey(.init(id: ada.id), as: admin)
            #expect(unnamed.name == "" && unnamed.key != key.key)

            // Listing shows no secret.
            let listed = try await service.listKeys(.init(id: ada.id), as: admin)
            #expect(Set(listed.apiKeys.map(\.id)) == [key.id, unnamed.id] && listed.count == 2)
            let text = String(buffer: try JSONBody.encode(listed))
            #expect(!text.contains(key.key) && !text.contains(unnamed.key) && text.contains(#""last_used_at":null"#))

            let principal = try await service.authenticate(key.key)
            #expect(principal == C.Principal(tenantId: admin.tenant, tenantName: "acme", userId: ada.id, role: "USER", keyId: key.id))
            #expect(try await service.authenticate(adminKey).role == "ADMIN")
            let used = try await service.listKeys(.init(id: ada.id), as: admin).apiKeys.first { $0.id == key.id }
            #expect(used?.lastUsedAt != nil)

            // The plaintext is in no table: only its hash is.
            for secret in [key.key, unnamed.key, adminKey] {
                #expect(try await Self.databaseMentions(database, secret) == false)
                #expect(try await Self.databaseMentions(database, APIKeys.hash(secret)))
            }
            if engine == .sqlite, database.location.hasPrefix("sqlite:/") {
                let path = String(database.location.dropFirst("sqlite:".count))
                for file in [path, path + "-wal"] {
                    let bytes = (try? Data(contentsOf: URL(fileURLWithPath: file))) ?? Data()
                    #expect(bytes.range(of: Data(key.key.utf8)) == nil, "\(file) holds a key")
                }
            }

            try await service.deleteKey(.init(id: ada.id, keyId: key.id), as: admin)
            await #expect(throws: BusError(.unauthenticated, "unknown or revoked API key")) { try await service.authenticate(key.key) }
            await #expect(throws: BusError(.notFound, "user \(ada.id) has no API key \(key.id)")) { try await service.deleteKey(.init(id: ada.id, keyId: key.id), as: admin) }
            #expect(try await service.authenticate(unnamed.key).userId == ada.id)

            // Deleting a user revokes its keys.
            try await service.deleteUser(ada.id, as: admin)
            await #expect(throws: BusError(.unauthenticated, "unknown or revoked API key")) { try await service.authenticate(unnamed.key) }
            let topics = try await database.read { try $0.query("SELECT topic FROM outbox ORDER BY seq").map { try $0.decode(String.self, "topic") } }
            #expect(topics.filter { $0 == "api_key.revoked" }.count == 2)
        }
    }

    /// Whether any text column of any table holds `text`.
    static func databaseMentions(_ database: any Database, _ text: String) async throws -> Bool {
        try await database.read { session in
            for table in IngestSchema.tenantTables + IngestSchema.systemTables + ["outbox"] {
                let rows = try session.query("SELECT * FROM \(raw: table)")
                for row in rows {
                    for value in row.values {
                        if case .text(let stored) = value, stored.contains(text) { return true }
                    }
                }
            }
            return false
        }
    }

    @Test(arguments: Engine.allCases)
    func unknownAndMalformedKeysAreUnauthenticated(_ engine: Engine) async throws {
        try await withService(engine) { service, _ in
            _ = try await tenant(service, "acme")
            for key in ["", "nope", "vbk_", APIKeys.generate(), "vbk_" + String(repeating: "!", count: 43), String(repeating: "x", count: 5000)] {
                await #expect(throws: BusError(.unauthenticated, "unknown or revoked API key")) { try await service.authenticate(key) }
            }
        }
    }

    @Test(arguments: Engine.allCases)
    func theAnonymousIdentityIsCreatedOnceUnderConcurrency(_ engine: Engine) async throws {
        try await withService(engine) { service, database in
            let principals = try await withThrowingTaskGroup(of: C.Principal.self) { group in
                for n in 0..<20 {
                    group.addTask { try await service.anonymous(tenantName: n % 2 == 0 ? "public" : "PUBLIC") }
                }
                var all: [C.Principal] = []
                for try await principal in group { all.append(principal) }
                return all
            }
            #expect(Set(principals).count == 1, "\(Set(principals))")
            let principal = try #require(principals.first)
            #expect(principal.role == "USER" && principal.keyId == nil)
            let tenants = try await service.listTenants(.init()).tenants
            #expect(tenants.filter { $0.name.lowercased() == "public" }.count == 1)
            let users = try await database.read { try $0.queryFirst("SELECT COUNT(*) AS n FROM app_user")!.decode(Int64.self, "n") }
            #expect(users == 1)

            let inDefault = try await service.anonymous(tenantName: "default")
            #expect(inDefault.tenantId == "default" && inDefault.tenantName == "default")
            #expect(try await service.anonymous(tenantName: "default") == inDefault)
            let me = try await service.me(as: Identity(tenant: inDefault.tenantId, user: inDefault.userId, role: inDefault.role))
            #expect(me.user.name == "anonymous" && me.tenantName == "default")
            // Anonymous access mints no credential that would outlive it.
            await #expect(throws: BusError(Self.denied, "the anonymous user cannot have API keys")) {
                try await service.createKey(.init(id: inDefault.userId), as: Identity(tenant: inDefault.tenantId, user: inDefault.userId, role: inDefault.role))
            }
        }
    }

    @Test(arguments: Engine.allCases)
    func tenantsAreCreatedWithAnAdminAndListed(_ engine: Engine) async throws {
        try await withService(engine) { service, _ in
            let created = try await service.createTenant(name: "Acme")
            #expect(created.tenantName == "Acme" && created.tenantId != "default" && created.email == "admin@acme")
            await #expect(throws: BusError(.conflict, "a tenant named acme already exists")) { try await service.createTenant(name: "acme") }
            let principal = try await service.authenticate(created.key)
            #expect(principal.tenantId == created.tenantId && principal.userId == created.userId && principal.role == "ADMIN" && principal.tenantName == "Acme")
            let admin = Identity(tenant: created.tenantId, user: created.userId, role: "ADMIN")
            let me = try await service.me(as: admin)
            #expect(me.user.role == "ADMIN" && me.user.email == "admin@acme")

            _ = try await service.createTenant(name: "globex")
            let all = try await service.listTenants(.init())
            #expect(all.tenants.map(\.name) == ["globex", "Acme", "default"] && all.count == 3)
            let first = try await service.listTenants(.init(limit: 2))
            let rest = try await service.listTenants(.init(limit: 2, cursor: first.nextCursor))
            #expect(first.tenants.map(\.name) + rest.tenants.map(\.name) == ["globex", "Acme", "default"] && rest.nextCursor == nil)
        }
    }

    @Test(arguments: Engine.allCases)
    func aTenantNeitherSeesNorChangesAnotherTenantsUsersOrKeys(_ engine: Engine) async throws {
        try await withService(engine) { service, _ in
            let (a, _) = try await tenant(service, "tenant-a")
            let (b, _) = try await tenant(service, "tenant-b")
            let bob = try await service.createUser(.init(email: "bob@b.example"), as: b)
            let bobsKey = try await service.createKey(.init(id: bob.id), as: b)

            let notFound = BusError(.notFound, "no user \(bob.id)")
            await #expect(throws: notFound) { try await service.getUser(bob.id, as: a) }
            await #expect(throws: notFound) { try await service.updateUser(.init(id: bob.id, name: "x"), as: a) }
            await #expect(throws: notFound) { try await service.deleteUser(bob.id, as: a) }
            await #expect(throws: notFound) { try await service.createKey(.init(id: bob.id), as: a) }
            await #expect(throws: notFound) { try await service.listKeys(.init(id: bob.id), as: a) }
            await #expect(throws: notFound) { try await service.deleteKey(.init(id: bob.id, keyId: bobsKey.id), as: a) }
            // Not even with a's admin naming b's admin, nor a USER of a (404, never 403).
            await #expect(throws: BusError(.notFound, "no user \(b.user!)")) { try await service.getUser(b.user!, as: a) }
            let ann = try await service.createUser(.init(email: "ann@a.example"), as: a)
            await #expect(throws: notFound) { try await service.getUser(bob.id, as: identity(of: ann, in: a.tenant)) }

            let listed = try await service.listUsers(.init(), as: a).users.map(\.id)
            #expect(Set(listed) == [a.user!, ann.id])
            // b's data is intact.
            #expect(try await service.getUser(bob.id, as: b).name == "")
            #expect(try await service.authenticate(bobsKey.key).tenantId == b.tenant)
            #expect(try await service.listKeys(.init(id: bob.id), as: b).count == 1)
        }
    }
}
