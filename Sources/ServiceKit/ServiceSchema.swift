import Storage

/// What a service keeps in its database: its migrations and its seed data.
public struct ServiceSchema: Sendable {
    public var service: String
    public var migrations: [Migration]
    /// Inserts sample data (idempotent); returns how many rows it added.
    public var seed: @Sendable (any Database) async throws -> Int

    public init(service: String, migrations: [Migration], seed: @escaping @Sendable (any Database) async throws -> Int) {
        self.service = service
        self.migrations = migrations
        self.seed = seed
    }

    /// The migrator for this schema, named after the process that migrates.
    public func migrator(holder: String? = nil) -> Migrator {
        holder.map { Migrator(service: service, migrations: migrations, holder: $0) } ?? Migrator(service: service, migrations: migrations)
    }
}
