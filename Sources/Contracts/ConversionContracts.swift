/// The conversion service's contracts, as far as others depend on them.
/// `campaign.clip_metrics` is defined here ahead of the service (the
/// prediction service consumes it to learn clips' click-through rates).
public enum ConversionContracts {
    public static let service = "conversion"

    /// A campaign's metrics call that named a clip: what it added for that clip.
    public static let clipMetrics = EventTopic<ClipMetrics>("campaign.clip_metrics", publishedBy: service)

    /// Payload of `campaign.clip_metrics`: the impressions and clicks one
    /// metrics call added to a clip's run in a campaign (not totals: a
    /// consumer applies each event once and sums them, across campaigns).
    public struct ClipMetrics: Contract, Hashable {
        public var campaignId: String
        public var clipId: String
        public var impressions: Int64
        public var clicks: Int64

        public init(campaignId: String, clipId: String, impressions: Int64, clicks: Int64) {
            self.campaignId = campaignId
            self.clipId = clipId
            self.impressions = impressions
            self.clicks = clicks
        }

        public enum CodingKeys: String, CodingKey {
            case impressions, clicks
            case campaignId = "campaign_id"
            case clipId = "clip_id"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.campaignId, IngestContracts.Schemas.resourceID),
            .init(CodingKeys.clipId, IngestContracts.Schemas.resourceID),
            .init(CodingKeys.impressions, JSONSchema.integer(minimum: 0, description: "Impressions this call added for the clip (a 64-bit counter).")),
            .init(CodingKeys.clicks, JSONSchema.integer(minimum: 0, description: "Clicks this call added for the clip (a 64-bit counter).")),
        ], description: "What one campaign metrics call added for one clip.")
    }
}
