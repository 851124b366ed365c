import Contracts
import ServiceKit

/// The analysis-store: the video analyses of the Memory Mirror seed with
/// their search, clip analyses (which ingest ranks clips by), and the
/// knowledge base of RAG documents searched by words and by embedding, on a
/// database of its own.
public enum AnalysisStore {
    public static let definition = ServiceDefinition(
        name: AnalysisContracts.service,
        summary: "video analyses, clip analyses and the knowledge base (full-text and exact vector search) on its own database",
        schema: AnalysisStoreSchema.schema,
        methods: AnalysisContracts.methods,
        events: AnalysisContracts.events,
        subscriptions: [IngestContracts.clipDeleted.name],
        routes: AnalysisContracts.routes
    ) { runtime in
        let store = runtime.requiredStore
        let knowledge = KnowledgeService(store: store)
        try await knowledge.loadVectors()
        let clips = ClipAnalysisService(store: store, clips: .ingest(through: runtime.node))
        clips.consumeClipDeletions(on: runtime.node, logger: runtime.logger)
        return AnalysisStoreService(store: store).bindings + clips.bindings + knowledge.bindings
    }
}
