import Contracts
import ServiceKit

/// The prediction service: a model registry (immutable numbered versions,
/// movable aliases), predictions of clips' metrics, their actual values,
/// and each version's error per metric, on a database of its own. It
/// consumes `clip.analyzed` (a prediction with every model's champion) and
/// `campaign.clip_metrics` (clips' click-through rates, the `ctr` actuals).
public enum Prediction {
    public static let definition = ServiceDefinition(
        name: PredictionContracts.service,
        summary: "model versions and aliases, predictions per clip, actuals, error per model version, on its own database",
        schema: PredictionSchema.schema,
        methods: PredictionContracts.methods,
        events: PredictionContracts.events,
        subscriptions: [AnalysisContracts.clipAnalyzed.name, ConversionContracts.clipMetrics.name],
        routes: PredictionContracts.routes
    ) { runtime in
        let store = runtime.requiredStore
        let predictions = PredictionService(store: store, clips: .bus(runtime.node))
        predictions.consumeEvents(on: runtime.node, logger: runtime.logger)
        return ModelRegistry(store: store).bindings + predictions.bindings + VersionErrors(store: store).bindings
    }
}
