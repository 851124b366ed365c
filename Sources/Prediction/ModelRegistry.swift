import BusRuntime
import BusWire
import Contracts
import Foundation
import ServiceKit
import Storage

/// The model registry, in the manner of MLflow's: per model name, versions
/// numbered from 1 that never change and whose numbers are never given
/// again (even after a delete), and aliases that move between them.
public struct ModelRegistry: Sendable {
    public typealias C = PredictionContracts
    public let store: ServiceStore

    /// The alias `name` alone resolves to, and that automatic predictions use.
    public static let champion = "champion"

    public init(store: ServiceStore) {
        self.store = store
    }

    public var bindings: [MethodBinding] {
        [
            MethodBinding(C.createVersion) { request, context in try await createVersion(request, context: context) },
            MethodBinding(C.listModels) { request, context in try await listModels(request, context: context) },
            MethodBinding(C.getModel) { request, context in try await model(request.name, context: context) },
            MethodBinding(C.listVersions) { request, context in try await versions(request, context: context) },
            MethodBinding(C.getVersion) { request, context in try await version(request, context: context) },
            MethodBinding(C.deleteVersion) { request, context in
                try await deleteVersion(request, context: context)
                return Empty()
            },
            MethodBinding(C.setAlias) { request, context in try await setAlias(request, context: context) },
            MethodBinding(C.deleteAlias) { request, context in
                try await deleteAlias(request, context: context)
                return Empty()
            },
        ]
    }

    // MARK: - Changes

    public func createVersion(_ request: C.CreateVersionRequest, context: RequestContext) async throws(BusError) -> C.ModelVersion {
        let tenant = try context.requireTenant().tenant
        let name = try PredictionValidation.modelName(request.name)
        let metrics = try PredictionValidation.metrics(request.metrics)
        return try await store.write(answering: C.createVersion, request, context: context) { session in
            try Self.insertVersion(session, tenant: tenant, name: name, metrics: metrics)
        }
    }

    /// The model's next version: the upsert of the model row takes its lock,
    /// so concurrent creates of one model get consecutive numbers.
    static func insertVersion(_ session: any DatabaseSession, tenant: String, name: String, metrics: [String: C.MetricModel]) throws -> C.ModelVersion {
        let now = Timestamp.now()
        try session.execute("""
            INSERT INTO model (tenant_id, name, last_version, created_at, updated_at) VALUES (\(tenant), \(name), 1, \(now), \(now))
            ON CONFLICT (tenant_id, name) DO UPDATE SET last_version = model.last_version + 1, updated_at = \(now)
            """)
        guard let row = try session.queryFirst("SELECT last_version FROM model WHERE tenant_id = \(tenant) AND name = \(name)") else {
            throw BusError(.internal, "model \(name) is missing after its upsert")
        }
        let version: Int = try row["last_version"]
        try session.execute("""
            INSERT INTO model_version (tenant_id, model, version, metrics, created_at)
            VALUES (\(tenant), \(name), \(version), \(try PredictionValidation.json(metrics)), \(now))
            """)
        return C.ModelVersion(name: name, version: version, metrics: metrics, aliases: [], createdAt: now.iso8601)
    }

    /// Deletes a version: gone from reads and resolution, its aliases with it;
    /// its predictions stay as they were made.
    public func deleteVersion(_ request: C.VersionRequest, context: RequestContext) async throws(BusError) {
        let tenant = try context.requireTenant().tenant
        let name = request.name, version = request.version
        _ = try await store.write(tenant: tenant) { session in
            let deleted = try session.execute("""
                UPDATE model_version SET deleted_at = \(Timestamp.now())
                WHERE tenant_id = \(tenant) AND model = \(name) AND version = \(version) AND deleted_at IS NULL
                """)
            guard deleted == 1 else { throw Self.noVersion(name, version) }
            try session.execute("DELETE FROM model_alias WHERE tenant_id = \(tenant) AND model = \(name) AND version = \(version)")
            try Self.touch(session, tenant: tenant, name: name)
            return Empty()
        }
    }

    public func setAlias(_ request: C.SetAliasRequest, context: RequestContext) async throws(BusError) -> C.ModelAlias {
        let tenant = try context.requireTenant().tenant
        let name = request.name, version = request.version
        let alias = try PredictionValidation.alias(request.alias)
        return try await store.write(answering: C.setAlias, request, context: context) { session in
            guard try session.queryFirst("SELECT 1 AS x FROM model WHERE tenant_id = \(tenant) AND name = \(name)") != nil else { throw Self.noModel(name) }
            return try Self.pointAlias(session, tenant: tenant, name: name, alias: alias, version: version)
        }
    }

    /// Points `alias` at a live `version` of an existing model (an unknown version is the body's fault: invalid-argument).
    static func pointAlias(_ session: any DatabaseSession, tenant: String, name: String, alias: String, version: Int) throws -> C.ModelAlias {
        guard try liveVersion(session, tenant: tenant, name: name, version: version) != nil else {
            throw BusError(.invalidArgument, "version: model \(name) has no version \(version)")
        }
        let previous = try session.queryFirst("SELECT version FROM model_alias WHERE tenant_id = \(tenant) AND model = \(name) AND alias = \(alias)")
        let now = Timestamp.now()
        try session.execute("""
            INSERT INTO model_alias (tenant_id, model, alias, version, updated_at) VALUES (\(tenant), \(name), \(alias), \(version), \(now))
            ON CONFLICT (tenant_id, model, alias) DO UPDATE SET version = \(version), updated_at = \(now)
            """)
        try touch(session, tenant: tenant, name: name)
        return C.ModelAlias(name: name, alias: alias, version: version, previousVersion: try previous.map { try $0["version"] }, updatedAt: now.iso8601)
    }

    public func deleteAlias(_ request: C.AliasRequest, context: RequestContext) async throws(BusError) {
        let tenant = try context.requireTenant().tenant
        let name = request.name, alias = request.alias
        _ = try await store.write(tenant: tenant) { session in
            guard try session.execute("DELETE FROM model_alias WHERE tenant_id = \(tenant) AND model = \(name) AND alias = \(alias)") == 1 else {
                throw BusError(.notFound, "model \(name) has no alias \(alias)")
            }
            try Self.touch(session, tenant: tenant, name: name)
            return Empty()
        }
    }

    static func touch(_ session: any DatabaseSession, tenant: String, name: String) throws {
        try session.execute("UPDATE model SET updated_at = \(Timestamp.now()) WHERE tenant_id = \(tenant) AND name = \(name) AND updated_at < \(Timestamp.now())")
    }

    // MARK: - Reads

    public func model(_ name: String, context: RequestContext) async throws(BusError) -> C.Model {
        let tenant = try context.requireTenant().tenant
        let model = try await store.read(tenant: tenant) { session in
            try session.queryFirst("SELECT name, created_at, updated_at FROM model WHERE tenant_id = \(tenant) AND name = \(name)").map { row in
                try Self.model(session, row: row, tenant: tenant)
            }
        }
        guard let model else { throw Self.noModel(name) }
        return model
    }

    /// Newest first; the cursor names the last model of the page (`<created_at>.<name>`).
    public func listModels(_ request: C.ListModelsRequest, context: RequestContext) async throws(BusError) -> C.ModelPage {
        let tenant = try context.requireTenant().tenant
        let limit = try Self.pageSize(request.limit)
        let cursor = try Self.cursor(request.cursor)
        guard limit > 0 else { return C.ModelPage(models: []) }
        let models = try await store.read(tenant: tenant) { session in
            let after: SQL = cursor.map { "(created_at, name) < (\($0.createdAt), \($0.id))" } ?? "1 = 1"
            return try session.query("""
                SELECT name, created_at, updated_at FROM model WHERE tenant_id = \(tenant) AND \(after)
                ORDER BY created_at DESC, name DESC LIMIT \(limit + 1)
                """).map { row in try Self.model(session, row: row, tenant: tenant) }
        }
        let page = Array(models.prefix(limit))
        let next = models.count > limit ? page.last.map { model in
            PageCursor(createdAt: Timestamp(iso8601: model.createdAt)?.millisecondsSince1970 ?? 0, id: model.name).encoded
        } : nil
        return C.ModelPage(models: page, nextCursor: next)
    }

    static func model(_ session: any DatabaseSession, row: Row, tenant: String) throws -> C.Model {
        let name: String = try row["name"]
        let latest = try session.queryFirst("""
            SELECT MAX(version) AS v FROM model_version WHERE tenant_id = \(tenant) AND model = \(name) AND deleted_at IS NULL
            """)
        var aliases: [String: Int] = [:]
        for alias in try session.query("SELECT alias, version FROM model_alias WHERE tenant_id = \(tenant) AND model = \(name)") {
            aliases[try alias["alias"]] = try alias["version"]
        }
        let latestVersion: Int? = try latest.flatMap { row in try row["v"] }
        let created: Timestamp = try row["created_at"], updated: Timestamp = try row["updated_at"]
        return C.Model(name: name, latestVersion: latestVersion, aliases: aliases, createdAt: created.iso8601, updatedAt: updated.iso8601)
    }

    /// Live versions, newest first; the cursor names the last version of the page (`<version>.<name>`).
    public func versions(_ request: C.ListVersionsRequest, context: RequestContext) async throws(BusError) -> C.ModelVersionPage {
        let tenant = try context.requireTenant().tenant
        let limit = try Self.pageSize(request.limit)
        let cursor = try Self.cursor(request.cursor)
        let name = request.name
        let (exists, versions) = try await store.read(tenant: tenant) { session in
            guard try session.queryFirst("SELECT 1 AS x FROM model WHERE tenant_id = \(tenant) AND name = \(name)") != nil else { return (false, [C.ModelVersion]()) }
            guard limit > 0 else { return (true, []) }
            let before: SQL = cursor.map { "AND version < \($0.createdAt)" } ?? ""
            let rows = try session.query("""
                SELECT model, version, metrics, created_at FROM model_version
                WHERE tenant_id = \(tenant) AND model = \(name) AND deleted_at IS NULL \(before)
                ORDER BY version DESC LIMIT \(limit + 1)
                """)
            let aliases = try Self.aliasesByVersion(session, tenant: tenant, name: name)
            return (true, try rows.map { row in try Self.version(row, aliases: aliases) })
        }
        guard exists else { throw Self.noModel(name) }
        let page = Array(versions.prefix(limit))
        let next = versions.count > limit ? page.last.map { PageCursor(createdAt: Int64($0.version), id: name).encoded } : nil
        return C.ModelVersionPage(versions: page, nextCursor: next)
    }

    public func version(_ request: C.VersionRequest, context: RequestContext) async throws(BusError) -> C.ModelVersion {
        let tenant = try context.requireTenant().tenant
        let name = request.name, number = request.version
        let version = try await store.read(tenant: tenant) { session in
            try Self.liveVersion(session, tenant: tenant, name: name, version: number).map { row in
                try Self.version(row, aliases: try Self.aliasesByVersion(session, tenant: tenant, name: name))
            }
        }
        guard let version else { throw Self.noVersion(name, number) }
        return version
    }

    static func liveVersion(_ session: any DatabaseSession, tenant: String, name: String, version: Int) throws -> Row? {
        try session.queryFirst("""
            SELECT model, version, metrics, created_at FROM model_version
            WHERE tenant_id = \(tenant) AND model = \(name) AND version = \(version) AND deleted_at IS NULL
            """)
    }

    static func aliasesByVersion(_ session: any DatabaseSession, tenant: String, name: String) throws -> [Int: [String]] {
        var aliases: [Int: [String]] = [:]
        for row in try session.query("SELECT alias, version FROM model_alias WHERE tenant_id = \(tenant) AND model = \(name) ORDER BY alias") {
            aliases[try row["version"], default: []].append(try row["alias"])
        }
        return aliases
    }

    static func version(_ row: Row, aliases: [Int: [String]]) throws -> C.ModelVersion {
        let number: Int = try row["version"]
        let created: Timestamp = try row["created_at"]
        return C.ModelVersion(
            name: try row["model"], version: number,
            metrics: try PredictionValidation.decode([String: C.MetricModel].self, try row["metrics"], what: "model version metrics"),
            aliases: aliases[number] ?? [], createdAt: created.iso8601
        )
    }

    // MARK: - Resolution

    /// A version as a prediction uses it.
    struct Resolved {
        var name: String
        var version: Int
        /// The alias that resolved it; nil for `name@N` and for a model without a champion.
        var alias: String?
        var metrics: [String: C.MetricModel]
    }

    /// `name` → its champion, else its latest live version; `name@alias`; `name@N`.
    /// Anything unknown is the request's fault: invalid-argument naming `model`.
    static func resolve(_ reference: ModelReference, _ session: any DatabaseSession, tenant: String) throws -> Resolved {
        let name = reference.name
        let row: Row?
        var alias: String?
        switch reference {
        case .version(_, let version):
            row = try liveVersion(session, tenant: tenant, name: name, version: version)
            guard row != nil else { throw BusError(.invalidArgument, "model: \(name) has no version \(version)") }
        case .alias(_, let named):
            row = try aliased(session, tenant: tenant, name: name, alias: named)
            guard row != nil else { throw BusError(.invalidArgument, "model: \(name) has no alias \(named)") }
            alias = named
        case .name:
            if let championed = try aliased(session, tenant: tenant, name: name, alias: champion) {
                row = championed
                alias = champion
            } else {
                row = try session.queryFirst("""
                    SELECT model, version, metrics, created_at FROM model_version
                    WHERE tenant_id = \(tenant) AND model = \(name) AND deleted_at IS NULL ORDER BY version DESC LIMIT 1
                    """)
                guard row != nil else { throw BusError(.invalidArgument, "model: no model \(name) (or it has no live version)") }
            }
        }
        guard let row else { throw BusError(.internal, "model resolution lost its row") }
        return Resolved(
            name: name, version: try row["version"], alias: alias,
            metrics: try PredictionValidation.decode([String: C.MetricModel].self, try row["metrics"], what: "model version metrics")
        )
    }

    static func aliased(_ session: any DatabaseSession, tenant: String, name: String, alias: String) throws -> Row? {
        try session.queryFirst("""
            SELECT v.model, v.version, v.metrics, v.created_at FROM model_alias a
            JOIN model_version v ON v.tenant_id = a.tenant_id AND v.model = a.model AND v.version = a.version
            WHERE a.tenant_id = \(tenant) AND a.model = \(name) AND a.alias = \(alias) AND v.deleted_at IS NULL
            """)
    }

    // MARK: - Errors and pages

    static func noModel(_ name: String) -> BusError { BusError(.notFound, "no model \(name)") }
    static func noVersion(_ name: String, _ version: Int) -> BusError { BusError(.notFound, "model \(name) has no version \(version)") }

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
