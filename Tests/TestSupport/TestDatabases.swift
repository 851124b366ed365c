import Foundation
import Storage
import Testing

/// The two engines every storage test runs on.
public enum Engine: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    public var testDescription: String { rawValue }
}

/// Fresh databases for tests: a new SQLite file, or a new PostgreSQL database
/// on the server `scripts/test` starts (its URL in VIDEOBUS_TEST_POSTGRES_URL).
public enum TestDatabases {
    public static var postgresURL: String? { ProcessInfo.processInfo.environment["VIDEOBUS_TEST_POSTGRES_URL"] }

    /// A URL of a new, empty database of `engine`; `cleanup` removes it.
    public static func freshURL(_ engine: Engine) async throws -> (url: String, cleanup: @Sendable () async -> Void) {
        let name = "vbtest_\(UInt64.random(in: 0...UInt64.max))"
        switch engine {
        case .sqlite:
            let directory = FileManager.default.temporaryDirectory.appendingPathComponent(name)
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            return ("file:\(directory.path)/test.db", { try? FileManager.default.removeItem(at: directory) })
        case .postgres:
            guard let adminURL = postgresURL else {
                throw TestSetupError("VIDEOBUS_TEST_POSTGRES_URL is not set: run ./scripts/test, or ./scripts/with-postgres swift test")
            }
            let admin = try await openDatabase(DatabaseURL(adminURL))
            _ = try await admin.withoutTransaction { try $0.execute("CREATE DATABASE \(raw: name)") }
            let url = adminURL.replacingOccurrences(of: "/postgres", with: "/\(name)")
            return (url, {
                _ = try? await admin.withoutTransaction { try $0.execute("DROP DATABASE IF EXISTS \(raw: name) WITH (FORCE)") }
                await admin.close()
            })
        }
    }

    /// The PostgreSQL role tests' services connect as: LOGIN, not superuser,
    /// no BYPASSRLS, owning nothing (trust authentication: no password).
    public static let serviceRole = "videobus_service"

    /// A new, empty database of `engine` as its two roles see it: `owner`
    /// migrates (the server's superuser), `service` is what a service
    /// connects as (``serviceRole``; grant it its rights after migrating,
    /// as the host does). On SQLite both are the same file.
    public static func freshURLs(_ engine: Engine) async throws -> (owner: String, service: String, cleanup: @Sendable () async -> Void) {
        let (owner, cleanup) = try await freshURL(engine)
        guard engine == .postgres else { return (owner, owner, cleanup) }
        let admin = try await openDatabase(DatabaseURL(owner))
        defer { Task { await admin.close() } }
        // Roles belong to the server, not the database: once per server, and
        // tests run in parallel, so a concurrent creation is not an error either.
        try await admin.withoutTransaction { session in
            try session.executeScript("""
                DO $$ BEGIN
                    CREATE ROLE \(serviceRole) LOGIN NOSUPERUSER NOBYPASSRLS NOCREATEDB NOCREATEROLE;
                EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
                END $$
                """)
        }
        guard var components = URLComponents(string: owner) else { throw TestSetupError("not a URL: \(owner)") }
        components.user = serviceRole
        components.password = nil
        return (owner, components.string!, cleanup)
    }

    /// Runs `body` with a fresh database of `engine` as its owner and as the
    /// service role (``freshURLs(_:)``); `prepare` runs as the owner first
    /// (migrations), then the service role is granted its rights.
    public static func withRoles<T>(
        _ engine: Engine, prepare: (any Database) async throws -> Void,
        _ body: (_ owner: any Database, _ service: any Database) async throws -> T
    ) async throws -> T {
        let (ownerURL, serviceURL, cleanup) = try await freshURLs(engine)
        var opened: [any Database] = []
        do {
            let owner = try await open(ownerURL)
            opened.append(owner)
            try await prepare(owner)
            let service: any Database
            if engine == .postgres {
                try await PostgresRoles.grantServiceAccess(on: owner, to: serviceRole)
                service = try await open(serviceURL)
                opened.append(service)
            } else {
                service = owner
            }
            let result = try await body(owner, service)
            for database in opened { await database.close() }
            await cleanup()
            return result
        } catch {
            for database in opened { await database.close() }
            await cleanup()
            throw error
        }
    }

    /// Opens a test database. A PostgreSQL pool waits up to two minutes for a
    /// free connection instead of 10 s: the whole suite shares one server, and
    /// what these tests check is the answers, not how long a loaded server queues.
    static func open(_ url: String) async throws -> any Database {
        let parsed = try DatabaseURL(url)
        guard case .postgres(let settings) = parsed else { return try await openDatabase(parsed) }
        return try await PostgresDatabase.connect(settings, acquireTimeout: .seconds(120))
    }

    /// Runs `body` with a fresh database of `engine`, removed afterwards.
    public static func with<T>(_ engine: Engine, _ body: (any Database) async throws -> T) async throws -> T {
        let (url, cleanup) = try await freshURL(engine)
        let database = try await open(url)
        do {
            let result = try await body(database)
            await database.close()
            await cleanup()
            return result
        } catch {
            await database.close()
            await cleanup()
            throw error
        }
    }
}

public struct TestSetupError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
