import Contracts
import ServiceKit

/// The ingest service (first part): tenants, users and API keys, on a
/// database of its own. The gateway authenticates requests through it.
public enum Ingest {
    public static let definition = ServiceDefinition(
        name: IngestContracts.service,
        summary: "tenants, users and API keys (authentication for the gateway) on its own database",
        schema: IngestSchema.schema,
        methods: IngestContracts.methods,
        events: IngestContracts.events,
        routes: IngestContracts.routes
    ) { runtime in
        IngestService(store: runtime.requiredStore).bindings
    }
}
