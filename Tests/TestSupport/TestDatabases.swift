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

    /// Runs `body` with a fresh database of `engine`, removed afterwards.
    public static func with<T>(_ engine: Engine, _ body: (any Database) async throws -> T) async throws -> T {
        let (url, cleanup) = try await freshURL(engine)
        let database = try await openDatabase(DatabaseURL(url))
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
