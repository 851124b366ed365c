import Contracts
import ServiceKit

/// The analysis-store: the video analyses of the Memory Mirror seed, their
/// search and their events, on a database of its own.
public enum AnalysisStore {
    public static let definition = ServiceDefinition(
        name: AnalysisContracts.service,
        summary: "video analyses (create, get, update, delete, list, search) on its own database",
        schema: AnalysisStoreSchema.schema,
        methods: AnalysisContracts.methods,
        events: AnalysisContracts.events,
        routes: AnalysisContracts.routes
    ) { runtime in
        AnalysisStoreService(store: runtime.requiredStore).bindings
    }
}
