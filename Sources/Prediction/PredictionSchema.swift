import Contracts
import Foundation
import ServiceKit
import Storage

/// The prediction service's database: the model registry (models with the
/// highest version number they ever gave, immutable versions, aliases),
/// predictions with one row per predicted metric (where actuals land, and
/// which the error aggregates scan), and each clip's engagement summed from
/// conversion's `campaign.clip_metrics` events.
public enum PredictionSchema {
    public static let migrations: [Migration] = [
        Migration(id: 1, name: "create_model_registry", sqlite: registryTables(.sqlite), postgres: registryTables(.postgres)),
        Migration(id: 2, name: "create_prediction", sqlite: predictionTables(.sqlite), postgres: predictionTables(.postgres)),
    ] + Outbox.migrations(startingAt: 3) + [
        Idempotency.migration(id: 5),
        Outbox.tenantMigration(id: 6),
        Idempotency.tenantMigration(id: 7),
        Migration.tenantIsolation(id: 8, tables: tenantTables),
    ]

    /// The tables that hold one tenant's rows each.
    public static let tenantTables = ["model", "model_version", "model_alias", "prediction", "prediction_value", "prediction_error", "clip_engagement"]

    /// `model.last_version` is the highest number ever given, so a deleted
    /// version's number is never given again.
    static func registryTables(_ dialect: SQLDialect) -> String {
        let (integer, strict) = dialect == .sqlite ? ("INTEGER", " STRICT") : ("BIGINT", "")
        return """
            CREATE TABLE model (
                tenant_id TEXT NOT NULL,
                name TEXT NOT NULL,
                last_version \(integer) NOT NULL,
                created_at \(integer) NOT NULL,
                updated_at \(integer) NOT NULL,
                PRIMARY KEY (tenant_id, name)
            )\(strict);
            CREATE INDEX model_newest ON model (tenant_id, created_at DESC, name DESC);
            CREATE TABLE model_version (
                tenant_id TEXT NOT NULL,
                model TEXT NOT NULL,
                version \(integer) NOT NULL,
                metrics TEXT NOT NULL,
                created_at \(integer) NOT NULL,
                deleted_at \(integer),
                PRIMARY KEY (tenant_id, model, version)
            )\(strict);
            CREATE TABLE model_alias (
                tenant_id TEXT NOT NULL,
                model TEXT NOT NULL,
                alias TEXT NOT NULL,
                version \(integer) NOT NULL,
                updated_at \(integer) NOT NULL,
                PRIMARY KEY (tenant_id, model, alias)
            )\(strict);
            CREATE INDEX model_alias_by_alias ON model_alias (tenant_id, alias)
            """
    }

    /// `prediction_value` is one row per prediction and metric (with its
    /// absolute error once it has an actual: the largest is an index's last
    /// entry). `prediction_error` keeps, per model version, metric and
    /// calibration bin, the sums every error metric is made of, changed in
    /// the transaction that changes an actual: reading a version's error
    /// costs the same at a million predictions as at ten.
    static func predictionTables(_ dialect: SQLDialect) -> String {
        let (integer, real, strict) = dialect == .sqlite ? ("INTEGER", "REAL", " STRICT") : ("BIGINT", "DOUBLE PRECISION", "")
        return """
            CREATE TABLE prediction (
                tenant_id TEXT NOT NULL,
                id TEXT NOT NULL,
                clip_id TEXT NOT NULL,
                model TEXT NOT NULL,
                version \(integer) NOT NULL,
                alias TEXT,
                features TEXT NOT NULL,
                created_at \(integer) NOT NULL,
                PRIMARY KEY (tenant_id, id)
            )\(strict);
            CREATE INDEX prediction_newest ON prediction (tenant_id, created_at DESC, id DESC);
            CREATE INDEX prediction_of_clip ON prediction (tenant_id, clip_id, created_at DESC, id DESC);
            CREATE INDEX prediction_of_model ON prediction (tenant_id, model, created_at DESC, id DESC);
            CREATE TABLE prediction_value (
                tenant_id TEXT NOT NULL,
                prediction_id TEXT NOT NULL,
                clip_id TEXT NOT NULL,
                model TEXT NOT NULL,
                version \(integer) NOT NULL,
                metric TEXT NOT NULL,
                kind TEXT NOT NULL,
                predicted \(real) NOT NULL,
                actual \(real),
                abs_error \(real),
                PRIMARY KEY (tenant_id, prediction_id, metric)
            )\(strict);
            CREATE INDEX prediction_value_by_actual ON prediction_value (tenant_id, model, version, metric, actual) WHERE actual IS NOT NULL;
            CREATE INDEX prediction_value_by_error ON prediction_value (tenant_id, model, version, metric, abs_error) WHERE actual IS NOT NULL;
            CREATE INDEX prediction_value_of_clip ON prediction_value (tenant_id, clip_id, metric);
            CREATE TABLE prediction_error (
                tenant_id TEXT NOT NULL,
                model TEXT NOT NULL,
                version \(integer) NOT NULL,
                metric TEXT NOT NULL,
                bin \(integer) NOT NULL,
                n \(integer) NOT NULL,
                sum_predicted \(real) NOT NULL,
                sum_actual \(real) NOT NULL,
                sum_error \(real) NOT NULL,
                sum_abs_error \(real) NOT NULL,
                sum_squared_error \(real) NOT NULL,
                sum_relative_error \(real) NOT NULL,
                zero_actuals \(integer) NOT NULL,
                shift \(real) NOT NULL,
                sum_shifted \(real) NOT NULL,
                sum_shifted_squares \(real) NOT NULL,
                PRIMARY KEY (tenant_id, model, version, metric, bin)
            )\(strict);
            CREATE TABLE clip_engagement (
                tenant_id TEXT NOT NULL,
                clip_id TEXT NOT NULL,
                impressions \(integer) NOT NULL,
                clicks \(integer) NOT NULL,
                PRIMARY KEY (tenant_id, clip_id)
            )\(strict)
            """
    }

    /// The tenant the samples belong to.
    public static let defaultTenant = "default"

    /// The sample model: `engagement` version 1 over the features ingest's
    /// sample clips carry, with `champion` pointing at it, so that the
    /// sample clips' analyses are predicted as soon as they are stored.
    public static let sampleModel = (
        name: "engagement",
        metrics: [
            "ctr": PredictionContracts.MetricModel(kind: .logistic, intercept: -3.2, coefficients: ["motion": 1.1, "faces": 0.7, "speech": 0.4]),
            "watch_time_s": PredictionContracts.MetricModel(kind: .linear, intercept: 4.5, coefficients: ["motion": 6.0, "faces": 3.0, "speech": 2.5]),
        ]
    )

    public static let schema = ServiceSchema(service: PredictionContracts.service, migrations: migrations) { database in
        try await database.write(tenant: defaultTenant) { session in
            guard try session.queryFirst("SELECT 1 AS x FROM model WHERE tenant_id = \(defaultTenant) AND name = \(sampleModel.name)") == nil else { return 0 }
            let version = try ModelRegistry.insertVersion(session, tenant: defaultTenant, name: sampleModel.name, metrics: sampleModel.metrics)
            _ = try ModelRegistry.pointAlias(session, tenant: defaultTenant, name: sampleModel.name, alias: ModelRegistry.champion, version: version.version)
            return 1
        }
    }
}
