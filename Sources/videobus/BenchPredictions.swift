import ArgumentParser
import BusRuntime
import Contracts
import Foundation
import Logging
import Prediction
import ServiceKit
import Storage

/// `videobus bench predictions`: the error of a model version per metric
/// (`GET /api/models/{name}/versions/{v}/metrics`) over many predictions with actuals.
struct BenchPredictions: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "predictions",
        abstract: "Measure a model version's error metrics over --predictions predictions that have actuals.",
        discussion: """
            Seeds a temporary SQLite database (PostgreSQL too with --postgres-url, whose prediction tables are dropped \
            first) with model \(model): version 2 with --predictions predictions of a logistic and a linear metric, all \
            with actuals, and version 1, the champion, with a tenth as many (the quality gate computes its MAE too). \
            Then times the metrics of version 2 as the service computes them.
            """
    )

    static let model = "bench"
    static let tenant = "bench"

    @Option(help: "Predictions of the measured version.") var predictions: Int = 1_000_000
    @Option(help: "Timed calls.") var repetitions: Int = 20
    @Option(help: "A PostgreSQL database to benchmark as well.") var postgresURL: String?

    func validate() throws {
        guard predictions >= 1000, repetitions >= 1 else { throw ValidationError("--predictions at least 1000, --repetitions positive") }
    }

    func run() async throws {
        let tables = ["prediction_value", "prediction", "clip_engagement", "model_alias", "model_version", "model"]
        try await BenchDatabases.forEach("predictions", postgresURL: postgresURL, schema: PredictionSchema.schema, tables: tables) { label, database in
            let seeding = ContinuousClock.now
            try await seed(database)
            if database.dialect == .postgres { try await database.withoutTransaction { try $0.execute("VACUUM ANALYZE prediction_value") } }
            printLine("\(label): seeded \(predictions) predictions (\(2 * predictions) values) in \(String(format: "%.1f", (ContinuousClock.now - seeding).seconds)) s")
            let errors = VersionErrors(store: ServiceStore(database: database))
            let context = RequestContext(service: PredictionContracts.service, method: PredictionContracts.versionMetrics.name, identity: Identity(tenant: Self.tenant), logger: Logger(label: "bench"))
            var n = 0
            let samples = try await BenchDatabases.milliseconds(repetitions: repetitions) {
                n = try await errors.metrics(.init(name: Self.model, version: 2), context: context).metrics["ctr"]?.n ?? 0
            }
            printLine("  metrics of version 2 (n = \(n) per metric, champion's too): p50 \(format(samples, 0.5)), p99 \(format(samples, 0.99))")
            await database.close()
        }
    }

    /// Two versions through the registry; predictions' values inserted directly (predicting is not what is measured).
    private func seed(_ database: any Database) async throws {
        let metrics: [String: PredictionContracts.MetricModel] = [
            "ctr": .init(kind: .logistic, intercept: -2, coefficients: ["motion": 1.5]),
            "watch_time_s": .init(kind: .linear, intercept: 5, coefficients: ["motion": 10]),
        ]
        let registry = ModelRegistry(store: ServiceStore(database: database))
        let context = RequestContext(service: PredictionContracts.service, method: PredictionContracts.createVersion.name, identity: Identity(tenant: Self.tenant), logger: Logger(label: "bench"))
        for _ in 1...2 { _ = try await registry.createVersion(.init(name: Self.model, metrics: metrics), context: context) }
        _ = try await registry.setAlias(.init(name: Self.model, alias: "champion", version: 1), context: context)
        var generator = SystemRandomNumberGenerator()
        for (version, count) in [(1, predictions / 10), (2, predictions)] {
            for batchStart in stride(from: 0, to: count, by: 500) {
                var values: [SQL] = [], actuals: [ActualChange] = []
                for n in batchStart..<min(count, batchStart + 500) {
                    let id = "p\(version)-\(n)", clip = "clip-\(n % 5000)"
                    let motion = Double.random(in: 0...1, using: &generator)
                    let rate = 1 / (1 + exp(-(-2 + 1.5 * motion))), watch = 5 + 10 * motion
                    values.append("(\(Self.tenant), \(id), \(clip), \(Self.model), \(version), 'ctr', 'logistic', \(rate))")
                    values.append("(\(Self.tenant), \(id), \(clip), \(Self.model), \(version), 'watch_time_s', 'linear', \(watch))")
                    let clicked = Double.random(in: 0...1, using: &generator) < rate ? 1.0 : 0.0
                    actuals.append(.init(predictionID: id, model: Self.model, version: version, metric: "ctr", predicted: rate, old: nil, new: clicked))
                    actuals.append(.init(predictionID: id, model: Self.model, version: version, metric: "watch_time_s", predicted: watch, old: nil,
                                         new: watch + Double.random(in: -3...3, using: &generator)))
                }
                // Values inserted directly; their actuals through the service's own bookkeeping.
                try await database.write(tenant: Self.tenant) { [values, actuals] session in
                    try session.execute("""
                        INSERT INTO prediction_value (tenant_id, prediction_id, clip_id, model, version, metric, kind, predicted)
                        VALUES \(SQL.join(values))
                        """)
                    try ErrorSums.apply(actuals, session, tenant: Self.tenant)
                }
            }
        }
    }

    private func format(_ sorted: [Double], _ quantile: Double) -> String {
        String(format: "%.1f ms", sorted[min(sorted.count - 1, Int(Double(sorted.count) * quantile))])
    }
}
