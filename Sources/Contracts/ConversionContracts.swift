/// The conversion service's bus methods, events and REST routes (API.md
/// "conversion"): campaigns with exact money and roll-ups, A/B experiments
/// with GrowthBook's statistics, deduplicated conversions, and attribution.
/// Money is a decimal string in answers, and a string or a JSON number
/// (read from its text) in requests.
public enum ConversionContracts {
    public static let service = "conversion"

    // MARK: - Methods (tenant-scoped)

    public static let createCampaign = BusMethod<CreateCampaignRequest, Campaign>(service, "campaigns.create", summary: "Create a campaign (DRAFT unless told).")
    public static let getCampaign = BusMethod<CampaignRequest, Campaign>(service, "campaigns.get", summary: "A campaign with its roll-ups.")
    public static let updateCampaign = BusMethod<UpdateCampaignRequest, Campaign>(service, "campaigns.update", summary: "Change a campaign's fields or move its status.")
    public static let deleteCampaign = BusMethod<CampaignRequest, Empty>(service, "campaigns.delete", summary: "Soft-delete a campaign.")
    public static let listCampaigns = BusMethod<ListCampaignsRequest, CampaignPage>(service, "campaigns.list", summary: "Campaigns, newest first, optionally of one status.")
    public static let addMetrics = BusMethod<CampaignMetricsRequest, Campaign>(service, "campaigns.add-metrics", summary: "Add spend, impressions and clicks exactly; announces campaign.clip_metrics when a clip is named.")
    public static let campaignAttribution = BusMethod<CampaignAttributionRequest, CampaignAttribution>(service, "campaigns.attribution", summary: "The sum of a campaign's credits over every conversion that credits it, by one model.")
    public static let createExperiment = BusMethod<CreateExperimentRequest, Experiment>(service, "experiments.create", summary: "Create an A/B experiment of a campaign (DRAFT); the first variant is the control.")
    public static let getExperiment = BusMethod<ExperimentRequest, Experiment>(service, "experiments.get", summary: "An experiment with its variants' totals.")
    public static let updateExperiment = BusMethod<UpdateExperimentRequest, Experiment>(service, "experiments.update", summary: "Move an experiment's status; completing it stores the winner and its confidence.")
    public static let observe = BusMethod<ObservationRequest, VariantTotals>(service, "experiments.observe", summary: "Add users, conversions and revenue to a variant exactly.")
    public static let results = BusMethod<ExperimentRequest, ExperimentResults>(service, "experiments.results", summary: "Each challenger against the control, the sample-ratio check and the decision.")
    public static let record = BusMethod<RecordConversionRequest, Conversion>(service, "record", summary: "Record a conversion, once: a duplicate answers the stored record; announces conversion.recorded.")
    public static let getConversion = BusMethod<ConversionRequest, Conversion>(service, "conversions.get", summary: "A conversion.")
    public static let listConversions = BusMethod<ListConversionsRequest, ConversionPage>(service, "conversions.list", summary: "Conversions, newest first, optionally of one campaign, one source, since an instant.")
    public static let conversionAttribution = BusMethod<ConversionAttributionRequest, ConversionAttribution>(service, "conversions.attribution", summary: "A conversion's value shared among the campaigns that touched it, by one model.")

    public static let methods: [MethodDescription] = [
        createCampaign.description, getCampaign.description, updateCampaign.description, deleteCampaign.description, listCampaigns.description,
        addMetrics.description, campaignAttribution.description, createExperiment.description, getExperiment.description, updateExperiment.description,
        observe.description, results.description, record.description, getConversion.description, listConversions.description, conversionAttribution.description,
    ]

    // MARK: - Events

    /// A campaign's metrics call that named a clip: what it added for that clip.
    public static let clipMetrics = EventTopic<ClipMetrics>("campaign.clip_metrics", publishedBy: service)
    public static let conversionRecorded = EventTopic<ConversionEvent>("conversion.recorded", publishedBy: service)

    public static let events: [EventDescription] = [clipMetrics.description, conversionRecorded.description]

    // MARK: - Routes

    static let campaigns = "/api/campaigns"
    static let experiments = "/api/experiments"
    static let conversions = "/api/conversions"
    static let idParameter = HTTPRoute.Parameter.path("id", IngestContracts.Schemas.resourceID)
    static let listQuery: [HTTPRoute.Parameter] = [.query("limit", IngestContracts.Schemas.limit), .query("cursor", IngestContracts.Schemas.cursor)]
    static let modelQuery = HTTPRoute.Parameter.query("model", ConversionSchemas.attributionModel)
    static let noCampaign = HTTPRoute.Failure(404, "No such campaign in the caller's tenant")
    static let noExperiment = HTTPRoute.Failure(404, "No such experiment in the caller's tenant")
    static let noConversion = HTTPRoute.Failure(404, "No such conversion in the caller's tenant")
    static let illegalState = HTTPRoute.Failure(409, "The status does not allow it (the message names both)")

    public static let routes: [HTTPRoute] = [
        HTTPRoute(.post, campaigns, calls: createCampaign, summary: "Create a campaign", operationID: "createCampaign", body: CreateCampaignRequest.self, status: 201,
                  failures: [.init(409, "Another campaign has this meta_campaign_id"), .init(503, "ingest is unavailable (to confirm clip_ids)")]),
        HTTPRoute(.get, campaigns, calls: listCampaigns, summary: "List campaigns, newest first", operationID: "listCampaigns",
                  parameters: [.query("status", ConversionSchemas.statusFilter)] + listQuery,
                  response: .contract(CampaignList.self), nextPageField: CampaignPage.CodingKeys.nextCursor.stringValue),
        HTTPRoute(.get, campaigns + "/{id}", calls: getCampaign, summary: "Get a campaign", operationID: "getCampaign", parameters: [idParameter], failures: [noCampaign]),
        HTTPRoute(.patch, campaigns + "/{id}", calls: updateCampaign, summary: "Change a campaign", operationID: "updateCampaign",
                  parameters: [idParameter], body: CampaignChanges.self, failures: [noCampaign, .init(409, "An illegal status move (the message names both), or another campaign has this meta_campaign_id")]),
        HTTPRoute(.delete, campaigns + "/{id}", calls: deleteCampaign, summary: "Delete a campaign", operationID: "deleteCampaign",
                  parameters: [idParameter], status: 204, failures: [noCampaign]),
        HTTPRoute(.post, campaigns + "/{id}/metrics", calls: addMetrics, summary: "Add spend, impressions and clicks", operationID: "addCampaignMetrics",
                  parameters: [idParameter], body: MetricsBody.self, failures: [noCampaign, illegalState]),
        HTTPRoute(.get, campaigns + "/{id}/attribution", calls: campaignAttribution, summary: "A campaign's attributed value", operationID: "getCampaignAttribution",
                  parameters: [idParameter, modelQuery], failures: [noCampaign]),
        HTTPRoute(.post, campaigns + "/{id}/experiments", calls: createExperiment, summary: "Create an A/B experiment", operationID: "createExperiment",
                  parameters: [idParameter], body: ExperimentBody.self, status: 201, failures: [noCampaign]),
        HTTPRoute(.get, experiments + "/{id}", calls: getExperiment, summary: "Get an experiment", operationID: "getExperiment", parameters: [idParameter], failures: [noExperiment]),
        HTTPRoute(.patch, experiments + "/{id}", calls: updateExperiment, summary: "Move an experiment's status", operationID: "updateExperiment",
                  parameters: [idParameter], body: ExperimentChanges.self, failures: [noExperiment, illegalState]),
        HTTPRoute(.post, experiments + "/{id}/observations", calls: observe, summary: "Add observations to a variant", operationID: "addObservations",
                  parameters: [idParameter], body: ObservationBody.self, failures: [noExperiment, illegalState]),
        HTTPRoute(.get, experiments + "/{id}/results", calls: results, summary: "An experiment's results and decision", operationID: "getExperimentResults",
                  parameters: [idParameter], failures: [noExperiment]),
        HTTPRoute(.post, conversions, calls: record, summary: "Record a conversion (201 new, 200 a duplicate with the stored record)", operationID: "recordConversion",
                  body: RecordConversionRequest.self, status: 200, createdField: Conversion.createdField),
        HTTPRoute(.get, conversions, calls: listConversions, summary: "List conversions, newest first", operationID: "listConversions",
                  parameters: [.query("campaign_id", ConversionSchemas.idFilter), .query("source", ConversionSchemas.sourceFilter), .query("since", ConversionSchemas.instant)] + listQuery,
                  response: .contract(ConversionList.self), nextPageField: ConversionPage.CodingKeys.nextCursor.stringValue),
        HTTPRoute(.get, conversions + "/{id}", calls: getConversion, summary: "Get a conversion", operationID: "getConversion", parameters: [idParameter], failures: [noConversion]),
        HTTPRoute(.get, conversions + "/{id}/attribution", calls: conversionAttribution, summary: "A conversion's attribution", operationID: "getConversionAttribution",
                  parameters: [idParameter, modelQuery], failures: [noConversion]),
    ]

    // MARK: - Campaigns

    public enum Objective: String, Codable, Sendable, CaseIterable {
        case awareness = "AWARENESS", traffic = "TRAFFIC", engagement = "ENGAGEMENT", leads = "LEADS", conversions = "CONVERSIONS", sales = "SALES"
    }

    public enum CampaignStatus: String, Codable, Sendable, CaseIterable {
        case draft = "DRAFT", scheduled = "SCHEDULED", active = "ACTIVE", paused = "PAUSED", completed = "COMPLETED", archived = "ARCHIVED"

        /// API.md's moves; nothing else.
        public var next: Set<CampaignStatus> {
            switch self {
            case .draft: [.scheduled, .active, .archived]
            case .scheduled: [.active, .draft]
            case .active: [.paused, .completed]
            case .paused: [.active, .completed]
            case .completed: [.archived]
            case .archived: []
            }
        }

        /// Metrics may arrive while it runs or afterwards (late data).
        public var takesMetrics: Bool { self == .active || self == .paused || self == .completed }
    }

    public struct Campaign: Contract, Hashable {
        public var id: String
        public var name: String
        public var objective: String
        public var status: String
        public var currency: String
        public var budget: String
        public var spend: String
        public var impressions: Int64
        public var clicks: Int64
        public var conversions: Int64
        public var conversionValue: String
        /// clicks / impressions.
        public var ctr: Double?
        /// spend / conversions, in the currency (rounded half up to its digits).
        public var cpa: String?
        /// conversion_value / spend.
        public var roas: Double?
        public var overBudget: Bool
        public var clipIds: [String]
        public var metaCampaignId: String?
        public var startsAt: String?
        public var endsAt: String?
        public var createdAt: String
        public var updatedAt: String

        public init(
            id: String, name: String, objective: String, status: String, currency: String, budget: String, spend: String, impressions: Int64, clicks: Int64,
            conversions: Int64, conversionValue: String, ctr: Double?, cpa: String?, roas: Double?, overBudget: Bool, clipIds: [String],
            metaCampaignId: String?, startsAt: String?, endsAt: String?, createdAt: String, updatedAt: String
        ) {
            self.id = id
            self.name = name
            self.objective = objective
            self.status = status
            self.currency = currency
            self.budget = budget
            self.spend = spend
            self.impressions = impressions
            self.clicks = clicks
            self.conversions = conversions
            self.conversionValue = conversionValue
            self.ctr = ctr
            self.cpa = cpa
            self.roas = roas
            self.overBudget = overBudget
            self.clipIds = clipIds
            self.metaCampaignId = metaCampaignId
            self.startsAt = startsAt
            self.endsAt = endsAt
            self.createdAt = createdAt
            self.updatedAt = updatedAt
        }

        public enum CodingKeys: String, CodingKey {
            case id, name, objective, status, currency, budget, spend, impressions, clicks, conversions, ctr, cpa, roas
            case conversionValue = "conversion_value"
            case overBudget = "over_budget"
            case clipIds = "clip_ids"
            case metaCampaignId = "meta_campaign_id"
            case startsAt = "starts_at"
            case endsAt = "ends_at"
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(name, forKey: .name)
            try container.encode(objective, forKey: .objective)
            try container.encode(status, forKey: .status)
            try container.encode(currency, forKey: .currency)
            try container.encode(budget, forKey: .budget)
            try container.encode(spend, forKey: .spend)
            try container.encode(impressions, forKey: .impressions)
            try container.encode(clicks, forKey: .clicks)
            try container.encode(conversions, forKey: .conversions)
            try container.encode(conversionValue, forKey: .conversionValue)
            try container.encodeOrNull(ctr, forKey: .ctr)
            try container.encodeOrNull(cpa, forKey: .cpa)
            try container.encodeOrNull(roas, forKey: .roas)
            try container.encode(overBudget, forKey: .overBudget)
            try container.encode(clipIds, forKey: .clipIds)
            try container.encodeOrNull(metaCampaignId, forKey: .metaCampaignId)
            try container.encodeOrNull(startsAt, forKey: .startsAt)
            try container.encodeOrNull(endsAt, forKey: .endsAt)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(updatedAt, forKey: .updatedAt)
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, IngestContracts.Schemas.resourceID),
            .init(CodingKeys.name, ConversionSchemas.name),
            .init(CodingKeys.objective, ConversionSchemas.objective),
            .init(CodingKeys.status, ConversionSchemas.campaignStatus),
            .init(CodingKeys.currency, ConversionSchemas.currency),
            .init(CodingKeys.budget, ConversionSchemas.moneyAnswer),
            .init(CodingKeys.spend, ConversionSchemas.moneyAnswer),
            .init(CodingKeys.impressions, ConversionSchemas.counter),
            .init(CodingKeys.clicks, ConversionSchemas.counter),
            .init(CodingKeys.conversions, ConversionSchemas.counter),
            .init(CodingKeys.conversionValue, ConversionSchemas.moneyAnswer),
            .init(CodingKeys.ctr, JSONSchema.number(minimum: 0, description: "clicks / impressions; null before the first impression.").orNull),
            .init(CodingKeys.cpa, JSONSchema.string(patterns: [ConversionSchemas.decimalPattern], example: "12.50", description: "spend / conversions in the currency, rounded half up to its digits; null before the first conversion.").orNull),
            .init(CodingKeys.roas, JSONSchema.number(minimum: 0, description: "conversion_value / spend; null while nothing is spent.").orNull),
            .init(CodingKeys.overBudget, JSONSchema(.boolean, description: "Whether spend exceeds the budget (reported, not refused).")),
            .init(CodingKeys.clipIds, ConversionSchemas.clipIDs),
            .init(CodingKeys.metaCampaignId, ConversionSchemas.externalID.orNull),
            .init(CodingKeys.startsAt, IngestContracts.Schemas.timestamp.orNull),
            .init(CodingKeys.endsAt, IngestContracts.Schemas.timestamp.orNull),
            .init(CodingKeys.createdAt, IngestContracts.Schemas.timestamp),
            .init(CodingKeys.updatedAt, IngestContracts.Schemas.timestamp),
        ], description: "A campaign with its exact money and roll-ups (derived values null when undefined).")
    }

    public struct CreateCampaignRequest: Contract {
        public var name: String
        public var objective: String
        public var budget: MoneyText
        public var currency: String?
        public var status: String?
        public var clipIds: [String]?
        public var metaCampaignId: String?
        public var startsAt: String?
        public var endsAt: String?

        public init(
            name: String, objective: String, budget: MoneyText, currency: String? = nil, status: String? = nil, clipIds: [String]? = nil,
            metaCampaignId: String? = nil, startsAt: String? = nil, endsAt: String? = nil
        ) {
            self.name = name
            self.objective = objective
            self.budget = budget
            self.currency = currency
            self.status = status
            self.clipIds = clipIds
            self.metaCampaignId = metaCampaignId
            self.startsAt = startsAt
            self.endsAt = endsAt
        }

        public enum CodingKeys: String, CodingKey {
            case name, objective, budget, currency, status
            case clipIds = "clip_ids"
            case metaCampaignId = "meta_campaign_id"
            case startsAt = "starts_at"
            case endsAt = "ends_at"
        }

        public static let schemaName = "CreateCampaign"
        public static let schema = JSONSchema.object([
            .init(CodingKeys.name, ConversionSchemas.name),
            .init(CodingKeys.objective, ConversionSchemas.objective),
            .init(CodingKeys.budget, ConversionSchemas.money),
            .init(CodingKeys.currency, ConversionSchemas.currency.orNull, required: false),
            .init(CodingKeys.status, ConversionSchemas.initialStatus.orNull, required: false),
            .init(CodingKeys.clipIds, ConversionSchemas.clipIDs.orNull, required: false),
            .init(CodingKeys.metaCampaignId, ConversionSchemas.externalID.orNull, required: false),
            .init(CodingKeys.startsAt, ConversionSchemas.instant.orNull, required: false),
            .init(CodingKeys.endsAt, ConversionSchemas.instant.orNull, required: false),
        ])
    }

    public struct CampaignRequest: Contract {
        public var id: String
        public init(id: String) { self.id = id }

        public enum CodingKeys: String, CodingKey {
            case id
        }

        public static let schema = JSONSchema.object([.init(CodingKeys.id, IngestContracts.Schemas.resourceID)])
    }

    /// The body of `PATCH /api/campaigns/{id}`: any of the fields (absent or null: unchanged).
    public struct CampaignChanges: Contract {
        public var name: String?
        public var status: String?
        public var budget: MoneyText?
        public var clipIds: [String]?
        public var metaCampaignId: String?
        public var startsAt: String?
        public var endsAt: String?

        public init(
            name: String? = nil, status: String? = nil, budget: MoneyText? = nil, clipIds: [String]? = nil, metaCampaignId: String? = nil,
            startsAt: String? = nil, endsAt: String? = nil
        ) {
            self.name = name
            self.status = status
            self.budget = budget
            self.clipIds = clipIds
            self.metaCampaignId = metaCampaignId
            self.startsAt = startsAt
            self.endsAt = endsAt
        }

        public enum CodingKeys: String, CodingKey {
            case name, status, budget
            case clipIds = "clip_ids"
            case metaCampaignId = "meta_campaign_id"
            case startsAt = "starts_at"
            case endsAt = "ends_at"
        }

        public static let schemaName = "UpdateCampaign"
        public static let schema = JSONSchema.object(changeProperties())

        static func changeProperties() -> [JSONSchema.Property] {
            [
                .init(CodingKeys.name, ConversionSchemas.name.orNull, required: false),
                .init(CodingKeys.status, ConversionSchemas.campaignStatus.orNull, required: false),
                .init(CodingKeys.budget, ConversionSchemas.money.orNull, required: false),
                .init(CodingKeys.clipIds, ConversionSchemas.clipIDs.orNull, required: false),
                .init(CodingKeys.metaCampaignId, ConversionSchemas.externalID.orNull, required: false),
                .init(CodingKeys.startsAt, ConversionSchemas.instant.orNull, required: false),
                .init(CodingKeys.endsAt, ConversionSchemas.instant.orNull, required: false),
            ]
        }
    }

    public struct UpdateCampaignRequest: Contract {
        public var id: String
        public var changes: CampaignChanges

        public init(id: String, changes: CampaignChanges) {
            self.id = id
            self.changes = changes
        }

        public enum CodingKeys: String, CodingKey {
            case id
        }

        /// Flat: `id` beside the changed fields.
        public init(from decoder: any Decoder) throws {
            id = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .id)
            changes = try CampaignChanges(from: decoder)
        }

        public func encode(to encoder: any Encoder) throws {
            try changes.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
        }

        public static let schema = JSONSchema.object([.init(CodingKeys.id, IngestContracts.Schemas.resourceID)] + CampaignChanges.changeProperties())
    }

    public struct ListCampaignsRequest: Contract {
        public var status: String?
        public var limit: Int?
        public var cursor: String?

        public init(status: String? = nil, limit: Int? = nil, cursor: String? = nil) {
            self.status = status
            self.limit = limit
            self.cursor = cursor
        }

        public enum CodingKeys: String, CodingKey {
            case status, limit, cursor
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.status, ConversionSchemas.statusFilter.orNull, required: false),
            .init(CodingKeys.limit, IngestContracts.Schemas.limit.orNull, required: false),
            .init(CodingKeys.cursor, IngestContracts.Schemas.cursor.orNull, required: false),
        ])
    }

    public struct CampaignPage: Contract {
        public var campaigns: [Campaign]
        public var count: Int
        public var nextCursor: String?

        public init(campaigns: [Campaign], nextCursor: String? = nil) {
            self.campaigns = campaigns
            self.count = campaigns.count
            self.nextCursor = nextCursor
        }

        public enum CodingKeys: String, CodingKey {
            case campaigns, count
            case nextCursor = "next_cursor"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.campaigns, .array(of: .contract(Campaign.self))),
            .init(CodingKeys.count, IngestContracts.Schemas.count),
            .init(CodingKeys.nextCursor, IngestContracts.Schemas.cursor, required: false),
        ])
    }

    /// `GET /api/campaigns`: exactly `campaigns` and `count`.
    public struct CampaignList: Contract {
        public var campaigns: [Campaign]
        public var count: Int

        public enum CodingKeys: String, CodingKey {
            case campaigns, count
        }

        public static let schema = PredictionContracts.listSchema(CodingKeys.campaigns, Campaign.self, "campaigns")
    }

    /// The body of `POST /api/campaigns/{id}/metrics`.
    public struct MetricsBody: Contract {
        public var spend: MoneyText
        public var impressions: Int64
        public var clicks: Int64
        public var clipId: String?

        public enum CodingKeys: String, CodingKey {
            case spend, impressions, clicks
            case clipId = "clip_id"
        }

        public static let schemaName = "CampaignMetrics"
        public static let schema = JSONSchema.object(bodyProperties())

        static func bodyProperties() -> [JSONSchema.Property] {
            [
                .init(CodingKeys.spend, ConversionSchemas.money),
                .init(CodingKeys.impressions, ConversionSchemas.counter),
                .init(CodingKeys.clicks, ConversionSchemas.counter),
                .init(CodingKeys.clipId, JSONSchema.string(description: "One of the campaign's clip_ids: the numbers are this clip's, announced as campaign.clip_metrics.").orNull, required: false),
            ]
        }
    }

    public struct CampaignMetricsRequest: Contract {
        public var id: String
        public var spend: MoneyText
        public var impressions: Int64
        public var clicks: Int64
        public var clipId: String?

        public init(id: String, spend: MoneyText, impressions: Int64, clicks: Int64, clipId: String? = nil) {
            self.id = id
            self.spend = spend
            self.impressions = impressions
            self.clicks = clicks
            self.clipId = clipId
        }

        public enum CodingKeys: String, CodingKey {
            case id, spend, impressions, clicks
            case clipId = "clip_id"
        }

        public static let schema = JSONSchema.object([.init(CodingKeys.id, IngestContracts.Schemas.resourceID)] + MetricsBody.bodyProperties())
    }

    public struct CampaignAttributionRequest: Contract {
        public var id: String
        public var model: String?

        public init(id: String, model: String? = nil) {
            self.id = id
            self.model = model
        }

        public enum CodingKeys: String, CodingKey {
            case id, model
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, IngestContracts.Schemas.resourceID),
            .init(CodingKeys.model, ConversionSchemas.attributionModel.orNull, required: false),
        ])
    }

    public struct CampaignAttribution: Contract, Hashable {
        public var campaignId: String
        public var model: String
        public var creditedValue: String
        public var currency: String
        /// Conversions that give it a non-zero credit.
        public var conversions: Int64

        public init(campaignId: String, model: String, creditedValue: String, currency: String, conversions: Int64) {
            self.campaignId = campaignId
            self.model = model
            self.creditedValue = creditedValue
            self.currency = currency
            self.conversions = conversions
        }

        public enum CodingKeys: String, CodingKey {
            case model, currency, conversions
            case campaignId = "campaign_id"
            case creditedValue = "credited_value"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.campaignId, IngestContracts.Schemas.resourceID),
            .init(CodingKeys.model, ConversionSchemas.attributionModel),
            .init(CodingKeys.creditedValue, ConversionSchemas.moneyAnswer),
            .init(CodingKeys.currency, ConversionSchemas.currency),
            .init(CodingKeys.conversions, ConversionSchemas.counter),
        ], description: "The sum of the campaign's credits over every conversion that credits it.")
    }

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

    // MARK: - Experiments

    public enum ExperimentStatus: String, Codable, Sendable, CaseIterable {
        case draft = "DRAFT", running = "RUNNING", paused = "PAUSED", completed = "COMPLETED", cancelled = "CANCELLED"

        public var next: Set<ExperimentStatus> {
            switch self {
            case .draft: [.running, .cancelled]
            case .running: [.paused, .completed, .cancelled]
            case .paused: [.running, .completed, .cancelled]
            case .completed, .cancelled: []
            }
        }

        public var takesObservations: Bool { self == .running || self == .paused }
    }

    public struct Variant: Contract, Hashable {
        public var id: String
        /// Normalised: the weights of an experiment sum to 1.
        public var weight: Double
        public var clipId: String?
        public var users: Int64
        public var conversions: Int64
        public var revenue: String
        public var revenueSumSquares: String

        public init(id: String, weight: Double, clipId: String?, users: Int64, conversions: Int64, revenue: String, revenueSumSquares: String) {
            self.id = id
            self.weight = weight
            self.clipId = clipId
            self.users = users
            self.conversions = conversions
            self.revenue = revenue
            self.revenueSumSquares = revenueSumSquares
        }

        public enum CodingKeys: String, CodingKey {
            case id, weight, users, conversions, revenue
            case clipId = "clip_id"
            case revenueSumSquares = "revenue_sum_squares"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(weight, forKey: .weight)
            try container.encodeOrNull(clipId, forKey: .clipId)
            try container.encode(users, forKey: .users)
            try container.encode(conversions, forKey: .conversions)
            try container.encode(revenue, forKey: .revenue)
            try container.encode(revenueSumSquares, forKey: .revenueSumSquares)
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, ConversionSchemas.variantID),
            .init(CodingKeys.weight, JSONSchema.number(exclusiveMinimum: 0, maximum: 1, description: "Its share of users; an experiment's weights sum to 1.")),
            .init(CodingKeys.clipId, IngestContracts.Schemas.resourceID.orNull),
            .init(CodingKeys.users, ConversionSchemas.counter),
            .init(CodingKeys.conversions, ConversionSchemas.counter),
            .init(CodingKeys.revenue, ConversionSchemas.moneyAnswer),
            .init(CodingKeys.revenueSumSquares, ConversionSchemas.decimalAnswer),
        ], description: "A variant and its totals so far.")
    }

    public struct Experiment: Contract, Hashable {
        public var id: String
        public var campaignId: String
        public var name: String
        public var metric: String
        public var status: String
        public var currency: String
        public var variants: [Variant]
        public var winnerVariantId: String?
        public var confidence: Double?
        public var createdAt: String
        public var updatedAt: String

        public init(
            id: String, campaignId: String, name: String, metric: String, status: String, currency: String, variants: [Variant], winnerVariantId: String?,
            confidence: Double?, createdAt: String, updatedAt: String
        ) {
            self.id = id
            self.campaignId = campaignId
            self.name = name
            self.metric = metric
            self.status = status
            self.currency = currency
            self.variants = variants
            self.winnerVariantId = winnerVariantId
            self.confidence = confidence
            self.createdAt = createdAt
            self.updatedAt = updatedAt
        }

        public enum CodingKeys: String, CodingKey {
            case id, name, metric, status, currency, variants, confidence
            case campaignId = "campaign_id"
            case winnerVariantId = "winner_variant_id"
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(campaignId, forKey: .campaignId)
            try container.encode(name, forKey: .name)
            try container.encode(metric, forKey: .metric)
            try container.encode(status, forKey: .status)
            try container.encode(currency, forKey: .currency)
            try container.encode(variants, forKey: .variants)
            try container.encodeOrNull(winnerVariantId, forKey: .winnerVariantId)
            try container.encodeOrNull(confidence, forKey: .confidence)
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(updatedAt, forKey: .updatedAt)
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, IngestContracts.Schemas.resourceID),
            .init(CodingKeys.campaignId, IngestContracts.Schemas.resourceID),
            .init(CodingKeys.name, ConversionSchemas.name),
            .init(CodingKeys.metric, ConversionSchemas.experimentMetric),
            .init(CodingKeys.status, ConversionSchemas.experimentStatus),
            .init(CodingKeys.currency, ConversionSchemas.currency),
            .init(CodingKeys.variants, JSONSchema.array(of: .contract(Variant.self), minItems: 2, maxItems: 10, description: "The control first.")),
            .init(CodingKeys.winnerVariantId, ConversionSchemas.variantID.orNull),
            .init(CodingKeys.confidence, JSONSchema.number(minimum: 0, maximum: 1, description: "Stored on completion: the winner's chance to win; null without a winner.").orNull),
            .init(CodingKeys.createdAt, IngestContracts.Schemas.timestamp),
            .init(CodingKeys.updatedAt, IngestContracts.Schemas.timestamp),
        ], description: "An A/B experiment of a campaign.")
    }

    public struct VariantSpec: Contract, Hashable {
        public var id: String
        public var weight: Double
        public var clipId: String?

        public init(id: String, weight: Double, clipId: String? = nil) {
            self.id = id
            self.weight = weight
            self.clipId = clipId
        }

        public enum CodingKeys: String, CodingKey {
            case id, weight
            case clipId = "clip_id"
        }

        public static let schemaName = "VariantSpec"
        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, ConversionSchemas.variantID),
            .init(CodingKeys.weight, JSONSchema.number(exclusiveMinimum: 0, description: "Any positive number; stored normalised so that the weights sum to 1.")),
            .init(CodingKeys.clipId, IngestContracts.Schemas.resourceID.orNull, required: false),
        ])
    }

    /// The body of `POST /api/campaigns/{id}/experiments`.
    public struct ExperimentBody: Contract {
        public var name: String
        public var metric: String
        public var variants: [VariantSpec]

        public enum CodingKeys: String, CodingKey {
            case name, metric, variants
        }

        public static let schemaName = "CreateExperiment"
        public static let schema = JSONSchema.object(bodyProperties())

        static func bodyProperties() -> [JSONSchema.Property] {
            [
                .init(CodingKeys.name, ConversionSchemas.name),
                .init(CodingKeys.metric, ConversionSchemas.experimentMetric),
                .init(CodingKeys.variants, JSONSchema.array(of: .contract(VariantSpec.self), minItems: 2, maxItems: 10, description: "2 to 10 variants with distinct ids; the first is the control.")),
            ]
        }
    }

    public struct CreateExperimentRequest: Contract {
        /// The campaign (the route's `{id}`).
        public var campaignId: String
        public var name: String
        public var metric: String
        public var variants: [VariantSpec]

        public init(campaignId: String, name: String, metric: String, variants: [VariantSpec]) {
            self.campaignId = campaignId
            self.name = name
            self.metric = metric
            self.variants = variants
        }

        public enum CodingKeys: String, CodingKey {
            case name, metric, variants
            case campaignId = "id"
        }

        public static let schema = JSONSchema.object([.init(CodingKeys.campaignId, IngestContracts.Schemas.resourceID)] + ExperimentBody.bodyProperties())
    }

    public struct ExperimentRequest: Contract {
        public var id: String
        public init(id: String) { self.id = id }

        public enum CodingKeys: String, CodingKey {
            case id
        }

        public static let schema = JSONSchema.object([.init(CodingKeys.id, IngestContracts.Schemas.resourceID)])
    }

    /// The body of `PATCH /api/experiments/{id}`.
    public struct ExperimentChanges: Contract {
        public var name: String?
        public var status: String?

        public init(name: String? = nil, status: String? = nil) {
            self.name = name
            self.status = status
        }

        public enum CodingKeys: String, CodingKey {
            case name, status
        }

        public static let schemaName = "UpdateExperiment"
        public static let schema = JSONSchema.object(changeProperties())

        static func changeProperties() -> [JSONSchema.Property] {
            [
                .init(CodingKeys.name, ConversionSchemas.name.orNull, required: false),
                .init(CodingKeys.status, ConversionSchemas.experimentStatus.orNull, required: false),
            ]
        }
    }

    public struct UpdateExperimentRequest: Contract {
        public var id: String
        public var changes: ExperimentChanges

        public init(id: String, changes: ExperimentChanges) {
            self.id = id
            self.changes = changes
        }

        public enum CodingKeys: String, CodingKey {
            case id
        }

        public init(from decoder: any Decoder) throws {
            id = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .id)
            changes = try ExperimentChanges(from: decoder)
        }

        public func encode(to encoder: any Encoder) throws {
            try changes.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
        }

        public static let schema = JSONSchema.object([.init(CodingKeys.id, IngestContracts.Schemas.resourceID)] + ExperimentChanges.changeProperties())
    }

    /// The body of `POST /api/experiments/{id}/observations`.
    public struct ObservationBody: Contract {
        public var variantId: String
        public var users: Int64
        public var conversions: Int64
        public var revenue: MoneyText?
        public var revenueSumSquares: MoneyText?

        public enum CodingKeys: String, CodingKey {
            case users, conversions, revenue
            case variantId = "variant_id"
            case revenueSumSquares = "revenue_sum_squares"
        }

        public static let schemaName = "Observations"
        public static let schema = JSONSchema.object(bodyProperties())

        static func bodyProperties() -> [JSONSchema.Property] {
            [
                .init(CodingKeys.variantId, ConversionSchemas.variantID),
                .init(CodingKeys.users, ConversionSchemas.counter),
                .init(CodingKeys.conversions, ConversionSchemas.counter),
                .init(CodingKeys.revenue, ConversionSchemas.money.orNull, required: false),
                .init(CodingKeys.revenueSumSquares, ConversionSchemas.decimal.orNull, required: false),
            ]
        }
    }

    public struct ObservationRequest: Contract {
        public var id: String
        public var variantId: String
        public var users: Int64
        public var conversions: Int64
        public var revenue: MoneyText?
        public var revenueSumSquares: MoneyText?

        public init(id: String, variantId: String, users: Int64, conversions: Int64, revenue: MoneyText? = nil, revenueSumSquares: MoneyText? = nil) {
            self.id = id
            self.variantId = variantId
            self.users = users
            self.conversions = conversions
            self.revenue = revenue
            self.revenueSumSquares = revenueSumSquares
        }

        public enum CodingKeys: String, CodingKey {
            case id, users, conversions, revenue
            case variantId = "variant_id"
            case revenueSumSquares = "revenue_sum_squares"
        }

        public static let schema = JSONSchema.object([.init(CodingKeys.id, IngestContracts.Schemas.resourceID)] + ObservationBody.bodyProperties())
    }

    public struct VariantTotals: Contract, Hashable {
        public var variantId: String
        public var users: Int64
        public var conversions: Int64
        public var revenue: String
        public var revenueSumSquares: String

        public init(variantId: String, users: Int64, conversions: Int64, revenue: String, revenueSumSquares: String) {
            self.variantId = variantId
            self.users = users
            self.conversions = conversions
            self.revenue = revenue
            self.revenueSumSquares = revenueSumSquares
        }

        public enum CodingKeys: String, CodingKey {
            case users, conversions, revenue
            case variantId = "variant_id"
            case revenueSumSquares = "revenue_sum_squares"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.variantId, ConversionSchemas.variantID),
            .init(CodingKeys.users, ConversionSchemas.counter),
            .init(CodingKeys.conversions, ConversionSchemas.counter),
            .init(CodingKeys.revenue, ConversionSchemas.moneyAnswer),
            .init(CodingKeys.revenueSumSquares, ConversionSchemas.decimalAnswer),
        ], description: "A variant's totals after the addition.")
    }

    public struct VariantResult: Contract, Hashable {
        public var variantId: String
        public var users: Int64
        public var conversions: Int64
        public var rate: Double?
        public var revenue: String
        public var mean: Double?

        public init(variantId: String, users: Int64, conversions: Int64, rate: Double?, revenue: String, mean: Double?) {
            self.variantId = variantId
            self.users = users
            self.conversions = conversions
            self.rate = rate
            self.revenue = revenue
            self.mean = mean
        }

        public enum CodingKeys: String, CodingKey {
            case users, conversions, rate, revenue, mean
            case variantId = "variant_id"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(variantId, forKey: .variantId)
            try container.encode(users, forKey: .users)
            try container.encode(conversions, forKey: .conversions)
            try container.encodeOrNull(rate, forKey: .rate)
            try container.encode(revenue, forKey: .revenue)
            try container.encodeOrNull(mean, forKey: .mean)
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.variantId, ConversionSchemas.variantID),
            .init(CodingKeys.users, ConversionSchemas.counter),
            .init(CodingKeys.conversions, ConversionSchemas.counter),
            .init(CodingKeys.rate, JSONSchema.number(minimum: 0, description: "conversions / users; null without users.").orNull),
            .init(CodingKeys.revenue, ConversionSchemas.moneyAnswer),
            .init(CodingKeys.mean, JSONSchema.number(description: "Revenue per user (revenue / users, in currency units); null without users.").orNull),
        ])
    }

    public struct ComparisonResult: Contract, Hashable {
        public var variantId: String
        public var lift: Double?
        public var ciLow: Double?
        public var ciHigh: Double?
        public var pValue: Double?
        public var chanceToWin: Double?
        public var undefinedReason: String?

        public init(variantId: String, lift: Double?, ciLow: Double?, ciHigh: Double?, pValue: Double?, chanceToWin: Double?, undefinedReason: String?) {
            self.variantId = variantId
            self.lift = lift
            self.ciLow = ciLow
            self.ciHigh = ciHigh
            self.pValue = pValue
            self.chanceToWin = chanceToWin
            self.undefinedReason = undefinedReason
        }

        public enum CodingKeys: String, CodingKey {
            case lift
            case variantId = "variant_id"
            case ciLow = "ci_low"
            case ciHigh = "ci_high"
            case pValue = "p_value"
            case chanceToWin = "chance_to_win"
            case undefinedReason = "undefined_reason"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(variantId, forKey: .variantId)
            try container.encodeOrNull(lift, forKey: .lift)
            try container.encodeOrNull(ciLow, forKey: .ciLow)
            try container.encodeOrNull(ciHigh, forKey: .ciHigh)
            try container.encodeOrNull(pValue, forKey: .pValue)
            try container.encodeOrNull(chanceToWin, forKey: .chanceToWin)
            try container.encodeOrNull(undefinedReason, forKey: .undefinedReason)
        }

        static let nullableNumber = JSONSchema(.number).orNull

        public static let schema = JSONSchema.object([
            .init(CodingKeys.variantId, ConversionSchemas.variantID),
            .init(CodingKeys.lift, JSONSchema.number(description: "m_t / m_c − 1.").orNull),
            .init(CodingKeys.ciLow, nullableNumber),
            .init(CodingKeys.ciHigh, nullableNumber),
            .init(CodingKeys.pValue, JSONSchema.number(minimum: 0, maximum: 1, description: "Two-sided, Student's t with Welch–Satterthwaite df.").orNull),
            .init(CodingKeys.chanceToWin, JSONSchema.number(minimum: 0, maximum: 1, description: "Φ(lift / √V).").orNull),
            .init(CodingKeys.undefinedReason, JSONSchema.string(description: "Why the statistics are null (m_c = 0, V = 0, fewer than 2 users); null when they are defined.").orNull),
        ], description: "One challenger against the control.")
    }

    public struct DecisionResult: Contract, Hashable {
        public var winnerVariantId: String?
        public var reason: String

        public init(winnerVariantId: String?, reason: String) {
            self.winnerVariantId = winnerVariantId
            self.reason = reason
        }

        public enum CodingKeys: String, CodingKey {
            case reason
            case winnerVariantId = "winner_variant_id"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encodeOrNull(winnerVariantId, forKey: .winnerVariantId)
            try container.encode(reason, forKey: .reason)
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.winnerVariantId, ConversionSchemas.variantID.orNull),
            .init(CodingKeys.reason, JSONSchema.string(description: "The rule that decided.")),
        ])
    }

    public struct ExperimentResults: Contract, Hashable {
        public var variants: [VariantResult]
        public var comparisons: [ComparisonResult]
        public var srmPValue: Double?
        public var decision: DecisionResult

        public init(variants: [VariantResult], comparisons: [ComparisonResult], srmPValue: Double?, decision: DecisionResult) {
            self.variants = variants
            self.comparisons = comparisons
            self.srmPValue = srmPValue
            self.decision = decision
        }

        public enum CodingKeys: String, CodingKey {
            case variants, comparisons, decision
            case srmPValue = "srm_p_value"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(variants, forKey: .variants)
            try container.encode(comparisons, forKey: .comparisons)
            try container.encodeOrNull(srmPValue, forKey: .srmPValue)
            try container.encode(decision, forKey: .decision)
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.variants, .array(of: .contract(VariantResult.self))),
            .init(CodingKeys.comparisons, .array(of: .contract(ComparisonResult.self))),
            .init(CodingKeys.srmPValue, JSONSchema.number(minimum: 0, maximum: 1, description: "χ² goodness of fit of users per variant against the weights; null without users.").orNull),
            .init(CodingKeys.decision, .contract(DecisionResult.self)),
        ], description: "GrowthBook's statistics for each challenger against the control, and the decision.")
    }

    // MARK: - Conversions

    public enum Source: String, Codable, Sendable, CaseIterable {
        case meta = "META", google = "GOOGLE", tiktok = "TIKTOK", manual = "MANUAL", webhook = "WEBHOOK"

        /// META and TIKTOK deduplicate on (source, event_name, external_id)
        /// within 48 hours; the others on (source, external_id) for ever.
        public var deduplicatesWithinWindow: Bool { self == .meta || self == .tiktok }
    }

    public struct Touch: Contract, Hashable {
        public var campaignId: String
        public var at: String

        public init(campaignId: String, at: String) {
            self.campaignId = campaignId
            self.at = at
        }

        public enum CodingKeys: String, CodingKey {
            case at
            case campaignId = "campaign_id"
        }

        public static let schemaName = "Touchpoint"
        public static let schema = JSONSchema.object([
            .init(CodingKeys.campaignId, IngestContracts.Schemas.resourceID),
            .init(CodingKeys.at, ConversionSchemas.instant),
        ])
    }

    public struct Conversion: Contract, Hashable {
        public var id: String
        public var source: String
        public var externalId: String
        public var eventName: String?
        public var campaignId: String?
        public var experimentId: String?
        public var variantId: String?
        public var value: String
        public var currency: String
        public var occurredAt: String
        public var clickId: String?
        public var touchpoints: [Touch]
        public var createdAt: String
        /// Whether this request recorded it (not on the wire to HTTP clients: the gateway answers 201 or 200 by it).
        public var created: Bool?

        public static let createdField = CodingKeys.created.stringValue

        public init(
            id: String, source: String, externalId: String, eventName: String?, campaignId: String?, experimentId: String?, variantId: String?,
            value: String, currency: String, occurredAt: String, clickId: String?, touchpoints: [Touch], createdAt: String, created: Bool? = nil
        ) {
            self.id = id
            self.source = source
            self.externalId = externalId
            self.eventName = eventName
            self.campaignId = campaignId
            self.experimentId = experimentId
            self.variantId = variantId
            self.value = value
            self.currency = currency
            self.occurredAt = occurredAt
            self.clickId = clickId
            self.touchpoints = touchpoints
            self.createdAt = createdAt
            self.created = created
        }

        public enum CodingKeys: String, CodingKey {
            case id, source, value, currency, touchpoints, created
            case externalId = "external_id"
            case eventName = "event_name"
            case campaignId = "campaign_id"
            case experimentId = "experiment_id"
            case variantId = "variant_id"
            case occurredAt = "occurred_at"
            case clickId = "click_id"
            case createdAt = "created_at"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(source, forKey: .source)
            try container.encode(externalId, forKey: .externalId)
            try container.encodeOrNull(eventName, forKey: .eventName)
            try container.encodeOrNull(campaignId, forKey: .campaignId)
            try container.encodeOrNull(experimentId, forKey: .experimentId)
            try container.encodeOrNull(variantId, forKey: .variantId)
            try container.encode(value, forKey: .value)
            try container.encode(currency, forKey: .currency)
            try container.encode(occurredAt, forKey: .occurredAt)
            try container.encodeOrNull(clickId, forKey: .clickId)
            try container.encode(touchpoints, forKey: .touchpoints)
            try container.encode(createdAt, forKey: .createdAt)
            if let created { try container.encode(created, forKey: .created) }
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, IngestContracts.Schemas.resourceID),
            .init(CodingKeys.source, ConversionSchemas.source),
            .init(CodingKeys.externalId, ConversionSchemas.externalID),
            .init(CodingKeys.eventName, ConversionSchemas.eventName.orNull),
            .init(CodingKeys.campaignId, IngestContracts.Schemas.resourceID.orNull),
            .init(CodingKeys.experimentId, IngestContracts.Schemas.resourceID.orNull),
            .init(CodingKeys.variantId, ConversionSchemas.variantID.orNull),
            .init(CodingKeys.value, ConversionSchemas.moneyAnswer),
            .init(CodingKeys.currency, ConversionSchemas.currency),
            .init(CodingKeys.occurredAt, IngestContracts.Schemas.timestamp),
            .init(CodingKeys.clickId, ConversionSchemas.externalID.orNull),
            .init(CodingKeys.touchpoints, .array(of: JSONSchema.object([
                .init(Touch.CodingKeys.campaignId, IngestContracts.Schemas.resourceID),
                .init(Touch.CodingKeys.at, IngestContracts.Schemas.timestamp),
            ]), description: "In time order (equal times in the order given).")),
            .init(CodingKeys.createdAt, IngestContracts.Schemas.timestamp),
            .init(CodingKeys.created, JSONSchema(.boolean, description: "On the bus only: whether this request recorded it (HTTP answers 201 for true, 200 for a duplicate, without the field)."), required: false),
        ], description: "A recorded conversion.")
    }

    public struct RecordConversionRequest: Contract {
        public var source: String
        public var externalId: String
        public var campaignId: String?
        public var experimentId: String?
        public var variantId: String?
        public var value: MoneyText
        public var currency: String?
        public var occurredAt: String
        public var eventName: String?
        public var clickId: String?
        public var touchpoints: [Touch]?

        public init(
            source: String, externalId: String, campaignId: String? = nil, experimentId: String? = nil, variantId: String? = nil, value: MoneyText,
            currency: String? = nil, occurredAt: String, eventName: String? = nil, clickId: String? = nil, touchpoints: [Touch]? = nil
        ) {
            self.source = source
            self.externalId = externalId
            self.campaignId = campaignId
            self.experimentId = experimentId
            self.variantId = variantId
            self.value = value
            self.currency = currency
            self.occurredAt = occurredAt
            self.eventName = eventName
            self.clickId = clickId
            self.touchpoints = touchpoints
        }

        public enum CodingKeys: String, CodingKey {
            case source, value, currency, touchpoints
            case externalId = "external_id"
            case campaignId = "campaign_id"
            case experimentId = "experiment_id"
            case variantId = "variant_id"
            case occurredAt = "occurred_at"
            case eventName = "event_name"
            case clickId = "click_id"
        }

        public static let schemaName = "RecordConversion"
        public static let schema = JSONSchema.object([
            .init(CodingKeys.source, ConversionSchemas.source),
            .init(CodingKeys.externalId, ConversionSchemas.externalID),
            .init(CodingKeys.campaignId, IngestContracts.Schemas.resourceID.orNull, required: false),
            .init(CodingKeys.experimentId, IngestContracts.Schemas.resourceID.orNull, required: false),
            .init(CodingKeys.variantId, ConversionSchemas.variantID.orNull, required: false),
            .init(CodingKeys.value, ConversionSchemas.money),
            .init(CodingKeys.currency, ConversionSchemas.currency.orNull, required: false),
            .init(CodingKeys.occurredAt, ConversionSchemas.instant),
            .init(CodingKeys.eventName, ConversionSchemas.eventName.orNull, required: false),
            .init(CodingKeys.clickId, ConversionSchemas.externalID.orNull, required: false),
            .init(CodingKeys.touchpoints, JSONSchema.array(of: .contract(Touch.self), maxItems: ConversionLimits.maxTouchpoints,
                                                            description: "Up to 100 campaigns that touched the user, none later than occurred_at.").orNull, required: false),
        ])
    }

    public struct ConversionRequest: Contract {
        public var id: String
        public init(id: String) { self.id = id }

        public enum CodingKeys: String, CodingKey {
            case id
        }

        public static let schema = JSONSchema.object([.init(CodingKeys.id, IngestContracts.Schemas.resourceID)])
    }

    public struct ListConversionsRequest: Contract {
        public var campaignId: String?
        public var source: String?
        public var since: String?
        public var limit: Int?
        public var cursor: String?

        public init(campaignId: String? = nil, source: String? = nil, since: String? = nil, limit: Int? = nil, cursor: String? = nil) {
            self.campaignId = campaignId
            self.source = source
            self.since = since
            self.limit = limit
            self.cursor = cursor
        }

        public enum CodingKeys: String, CodingKey {
            case source, since, limit, cursor
            case campaignId = "campaign_id"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.campaignId, ConversionSchemas.idFilter.orNull, required: false),
            .init(CodingKeys.source, ConversionSchemas.sourceFilter.orNull, required: false),
            .init(CodingKeys.since, ConversionSchemas.instant.orNull, required: false),
            .init(CodingKeys.limit, IngestContracts.Schemas.limit.orNull, required: false),
            .init(CodingKeys.cursor, IngestContracts.Schemas.cursor.orNull, required: false),
        ])
    }

    public struct ConversionPage: Contract {
        public var conversions: [Conversion]
        public var count: Int
        public var nextCursor: String?

        public init(conversions: [Conversion], nextCursor: String? = nil) {
            self.conversions = conversions
            self.count = conversions.count
            self.nextCursor = nextCursor
        }

        public enum CodingKeys: String, CodingKey {
            case conversions, count
            case nextCursor = "next_cursor"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.conversions, .array(of: .contract(Conversion.self))),
            .init(CodingKeys.count, IngestContracts.Schemas.count),
            .init(CodingKeys.nextCursor, IngestContracts.Schemas.cursor, required: false),
        ])
    }

    /// `GET /api/conversions`: exactly `conversions` and `count`.
    public struct ConversionList: Contract {
        public var conversions: [Conversion]
        public var count: Int

        public enum CodingKeys: String, CodingKey {
            case conversions, count
        }

        public static let schema = PredictionContracts.listSchema(CodingKeys.conversions, Conversion.self, "conversions")
    }

    public struct ConversionAttributionRequest: Contract {
        public var id: String
        public var model: String?

        public init(id: String, model: String? = nil) {
            self.id = id
            self.model = model
        }

        public enum CodingKeys: String, CodingKey {
            case id, model
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, IngestContracts.Schemas.resourceID),
            .init(CodingKeys.model, ConversionSchemas.attributionModel.orNull, required: false),
        ])
    }

    public struct Credit: Contract, Hashable {
        public var campaignId: String
        public var value: String

        public init(campaignId: String, value: String) {
            self.campaignId = campaignId
            self.value = value
        }

        public enum CodingKeys: String, CodingKey {
            case value
            case campaignId = "campaign_id"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.campaignId, IngestContracts.Schemas.resourceID),
            .init(CodingKeys.value, ConversionSchemas.moneyAnswer),
        ])
    }

    public struct ConversionAttribution: Contract, Hashable {
        public var conversionId: String
        public var model: String
        public var currency: String
        public var credits: [Credit]

        public init(conversionId: String, model: String, currency: String, credits: [Credit]) {
            self.conversionId = conversionId
            self.model = model
            self.currency = currency
            self.credits = credits
        }

        public enum CodingKeys: String, CodingKey {
            case model, currency, credits
            case conversionId = "conversion_id"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.conversionId, IngestContracts.Schemas.resourceID),
            .init(CodingKeys.model, ConversionSchemas.attributionModel),
            .init(CodingKeys.currency, ConversionSchemas.currency),
            .init(CodingKeys.credits, .array(of: .contract(Credit.self), description: "One per campaign, in order of its first touch, without zero credits; they sum to the conversion's value exactly.")),
        ], description: "A conversion's value shared among the campaigns that touched it.")
    }

    /// Payload of `conversion.recorded`.
    public struct ConversionEvent: Contract, Hashable {
        public var id: String
        public var source: String
        public var campaignId: String?
        public var value: String
        public var currency: String

        public init(id: String, source: String, campaignId: String?, value: String, currency: String) {
            self.id = id
            self.source = source
            self.campaignId = campaignId
            self.value = value
            self.currency = currency
        }

        public enum CodingKeys: String, CodingKey {
            case id, source, value, currency
            case campaignId = "campaign_id"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(source, forKey: .source)
            try container.encodeOrNull(campaignId, forKey: .campaignId)
            try container.encode(value, forKey: .value)
            try container.encode(currency, forKey: .currency)
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, IngestContracts.Schemas.resourceID),
            .init(CodingKeys.source, ConversionSchemas.source),
            .init(CodingKeys.campaignId, IngestContracts.Schemas.resourceID.orNull),
            .init(CodingKeys.value, ConversionSchemas.moneyAnswer),
            .init(CodingKeys.currency, ConversionSchemas.currency),
        ])
    }

    // MARK: - Field schemas

    public enum ConversionSchemas {
        static let decimalPattern = "^-?[0-9]+(\\.[0-9]+)?$"
        public static let money: JSONSchema = {
            var schema = JSONSchema.string(
                patterns: ["^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$"], example: "1250.50",
                description: "Exact money: a decimal string (\"1250.50\") or a JSON number, either read from its text, at least 0; no more fraction digits than the currency has (trailing zeros aside)."
            )
            schema.alsoNumber = true
            schema.minimum = 0
            return schema
        }()
        public static let moneyAnswer = JSONSchema.string(patterns: [decimalPattern], example: "1250.50", description: "Exact money with exactly the currency's fraction digits.")
        public static let decimal: JSONSchema = {
            var schema = JSONSchema.string(
                patterns: ["^-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?$"], example: "3125000.0000",
                description: "An exact decimal: a string or a JSON number, either read from its text, at least 0."
            )
            schema.alsoNumber = true
            schema.minimum = 0
            return schema
        }()
        public static let decimalAnswer = JSONSchema.string(patterns: [decimalPattern], example: "3125000.0000", description: "An exact decimal.")
        public static let currency = JSONSchema.string(patterns: ["^[A-Z]{3}$"], example: "USD", description: "ISO 4217; USD when not given.")
        public static let name = JSONSchema.string(minLength: 1, maxLength: 200, patterns: [AnalysisContracts.Schemas.noControlCharacters], example: "Spring launch", description: "1 to 200 characters without control characters.")
        public static let objective = JSONSchema.string(patterns: ["^(AWARENESS|TRAFFIC|ENGAGEMENT|LEADS|CONVERSIONS|SALES)$"], example: "CONVERSIONS")
        public static let campaignStatus = JSONSchema.string(patterns: ["^(DRAFT|SCHEDULED|ACTIVE|PAUSED|COMPLETED|ARCHIVED)$"], example: "ACTIVE")
        public static let initialStatus = JSONSchema.string(patterns: ["^(DRAFT|SCHEDULED|ACTIVE)$"], example: "DRAFT", description: "DRAFT (the default), SCHEDULED or ACTIVE.")
        public static let statusFilter = JSONSchema.string(example: "ACTIVE", description: "Only campaigns of this status (an unknown one matches nothing).")
        public static let experimentStatus = JSONSchema.string(patterns: ["^(DRAFT|RUNNING|PAUSED|COMPLETED|CANCELLED)$"], example: "RUNNING")
        public static let experimentMetric = JSONSchema.string(patterns: ["^(conversion_rate|revenue)$"], example: "conversion_rate")
        public static let counter = JSONSchema.integer(minimum: 0, description: "A 64-bit counter.")
        public static let clipIDs = JSONSchema.array(of: IngestContracts.Schemas.resourceID, maxItems: ConversionLimits.maxClips, description: "Up to 100 of ingest's clips, each confirmed by ingest.")
        public static let externalID = JSONSchema.string(minLength: 1, maxLength: 200, patterns: [AnalysisContracts.Schemas.noControlCharacters], example: "order-1042")
        public static let eventName = JSONSchema.string(minLength: 1, maxLength: 100, patterns: [AnalysisContracts.Schemas.noControlCharacters], example: "Purchase")
        public static let variantID = JSONSchema.string(minLength: 1, maxLength: 64, patterns: ["^[A-Za-z0-9_-]+$"], example: "control")
        public static let source = JSONSchema.string(patterns: ["^(META|GOOGLE|TIKTOK|MANUAL|WEBHOOK)$"], example: "META")
        public static let sourceFilter = JSONSchema.string(example: "META", description: "Only this source's conversions (an unknown one matches nothing).")
        public static let idFilter = JSONSchema.string(example: "cmwqtdjauhoy2z9zj6dk2mdog", description: "Only this campaign's conversions (an unknown id matches nothing).")
        public static let instant = JSONSchema.string(
            minLength: 1, maxLength: 64, format: "date-time", example: "2026-02-15T01:51:21.676Z", description: "Any ISO 8601 instant with a zone; digits past the millisecond are dropped."
        )
        public static let attributionModel: JSONSchema = {
            var schema = JSONSchema.string(
                patterns: ["^(last|first|linear|position|time_decay)$"], example: "last",
                description: "last (the default), first, linear, position (40/20/40) or time_decay (7-day half-life)."
            )
            schema.defaultValue = "last"
            return schema
        }()
    }
}

/// Bounds on campaigns and conversions.
public enum ConversionLimits {
    public static let maxClips = 100
    public static let maxTouchpoints = 100
}
