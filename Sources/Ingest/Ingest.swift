import Contracts
import ServiceKit

/// The ingest service: tenants, users and API keys (the gateway
/// authenticates requests through it), and video assets with their clips,
/// on a database of its own. It consumes `clip.analyzed` to score and rank clips.
public enum Ingest {
    public static let definition = ServiceDefinition(
        name: IngestContracts.service,
        summary: "tenants, users and API keys (authentication for the gateway), video assets and clips, on its own database",
        schema: IngestSchema.schema,
        methods: IngestContracts.methods,
        events: IngestContracts.events,
        subscriptions: [AnalysisContracts.clipAnalyzed.name],
        routes: IngestContracts.routes
    ) { runtime in
        let store = runtime.requiredStore
        let media = MediaService(store: store)
        media.consumeClipAnalyses(on: runtime.node, logger: runtime.logger)
        return IngestService(store: store).bindings + media.bindings
    }
}
