import Contracts
import ServiceKit

/// The conversion service: campaigns with exact money and roll-ups, A/B
/// experiments with GrowthBook's statistics, conversions deduplicated as the
/// ad platforms define it, and attribution, on a database of its own. It
/// announces `campaign.clip_metrics` (prediction fills `ctr` actuals from it)
/// and `conversion.recorded`.
public enum Conversion {
    public static let definition = ServiceDefinition(
        name: ConversionContracts.service,
        summary: "campaigns (exact money, roll-ups), A/B experiments, deduplicated conversions and attribution, on its own database",
        schema: ConversionSchema.schema,
        methods: ConversionContracts.methods,
        events: ConversionContracts.events,
        routes: ConversionContracts.routes
    ) { runtime in
        let store = runtime.requiredStore
        return CampaignService(store: store, clips: .ingest(through: runtime.node)).bindings + ExperimentService(store: store).bindings
            + ConversionService(store: store).bindings
    }
}
