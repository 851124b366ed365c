import BusRuntime
import BusWire
import Contracts
import Foundation
import ServiceKit
import Storage

/// Conversions from the ad platforms and from users, recorded once as the
/// platforms deduplicate them, each in one transaction with its campaign's
/// roll-up, its experiment variant's totals and its `conversion.recorded`
/// event; and attribution of their value to the campaigns that touched them.
public struct ConversionService: Sendable {
    public typealias C = ConversionContracts
    public let store: ServiceStore

    /// META and TIKTOK treat the same (event_name, external_id) within this of occurred_at as one conversion.
    public static let deduplicationWindow: Int64 = 48 * 60 * 60 * 1000

    public init(store: ServiceStore) {
        self.store = store
    }

    public var bindings: [MethodBinding] {
        [
            MethodBinding(C.record) { request, context in try await record(request, context: context) },
            MethodBinding(C.getConversion) { request, context in try await get(request.id, context: context) },
            MethodBinding(C.listConversions) { request, context in try await list(request, context: context) },
            MethodBinding(C.conversionAttribution) { request, context in try await attribution(request, context: context) },
            MethodBinding(C.campaignAttribution) { request, context in try await campaignAttribution(request, context: context) },
        ]
    }

    // MARK: - Recording

    /// A conversion checked and normalised, before it meets the database.
    struct Incoming {
        var source: C.Source
        var externalID: String
        var eventName: String?
        var dedupEvent: String
        var campaignID: String?
        var experimentID: String?
        var variantID: String?
        var value: Money
        var occurredAt: Timestamp
        var clickID: String?
        /// In time order, equal times in request order.
        var touches: [(campaignID: String, at: Timestamp)]
    }

    /// Records the conversion, or answers the stored one it duplicates (`created` false).
    public func record(_ request: C.RecordConversionRequest, context: RequestContext) async throws(BusError) -> C.Conversion {
        let tenant = try context.requireTenant().tenant
        let incoming = try Self.check(request)
        return try await store.write(answering: C.record, request, context: context) { session in
            if let stored = try Self.duplicate(of: incoming, session, tenant: tenant) {
                var answer = try Self.conversion(stored)
                answer.created = false
                return answer
            }
            var answer = try Self.insert(incoming, session, tenant: tenant)
            answer.created = true
            return answer
        }
    }

    static func check(_ request: C.RecordConversionRequest) throws(BusError) -> Incoming {
        guard let source = C.Source(rawValue: request.source) else {
            throw BusError(.invalidArgument, "source must be one of \(C.Source.allCases.map(\.rawValue).joined(separator: ", ")), got \(request.source)")
        }
        let externalID = try ConversionValidation.text(request.externalId, field: "external_id", maxLength: 200)
        let eventName = try ConversionValidation.optionalText(request.eventName, field: "event_name", maxLength: 100)
        let clickID = try ConversionValidation.optionalText(request.clickId, field: "click_id", maxLength: 200)
        let currency = try ConversionValidation.currency(request.currency)
        let value = try ConversionValidation.money(request.value, in: currency, field: "value")
        let occurredAt = try ConversionValidation.instant(request.occurredAt, field: "occurred_at")
        if request.variantId != nil, request.experimentId == nil { throw BusError(.invalidArgument, "variant_id needs experiment_id") }
        let touchpoints = request.touchpoints ?? []
        guard touchpoints.count <= ConversionLimits.maxTouchpoints else {
            throw BusError(.invalidArgument, "touchpoints has more than \(ConversionLimits.maxTouchpoints) entries")
        }
        var touches: [(campaignID: String, at: Timestamp)] = []
        for (index, touch) in touchpoints.enumerated() {
            let at = try ConversionValidation.instant(touch.at, field: "touchpoints[\(index)].at")
            guard at <= occurredAt else { throw BusError(.invalidArgument, "touchpoints[\(index)].at is later than occurred_at") }
            touches.append((touch.campaignId, at))
        }
        // Stable: equal times keep the order given.
        let ordered = touches.enumerated().sorted { ($0.element.at, $0.offset) < ($1.element.at, $1.offset) }.map(\.element)
        return Incoming(
            source: source, externalID: externalID, eventName: eventName, dedupEvent: source.deduplicatesWithinWindow ? (eventName ?? "") : "",
            campaignID: request.campaignId, experimentID: request.experimentId, variantID: request.variantId, value: value, occurredAt: occurredAt,
            clickID: clickID, touches: ordered
        )
    }

    /// The stored conversion `incoming` duplicates, its key's row taken first:
    /// concurrent duplicates wait here for each other, so one records and the others find it.
    static func duplicate(of incoming: Incoming, _ session: any DatabaseSession, tenant: String) throws -> Row? {
        try session.execute("""
            INSERT INTO conversion_key (tenant_id, source, dedup_event, external_id)
            VALUES (\(tenant), \(incoming.source.rawValue), \(incoming.dedupEvent), \(incoming.externalID))
            ON CONFLICT (tenant_id, source, dedup_event, external_id) DO UPDATE SET external_id = conversion_key.external_id
            """)
        let key: SQL = "tenant_id = \(tenant) AND source = \(incoming.source.rawValue) AND dedup_event = \(incoming.dedupEvent) AND external_id = \(incoming.externalID)"
        guard incoming.source.deduplicatesWithinWindow else {
            return try session.queryFirst("\(columns) WHERE \(key) ORDER BY occurred_at LIMIT 1")
        }
        let at = incoming.occurredAt.millisecondsSince1970
        return try session.queryFirst("""
            \(columns) WHERE \(key) AND occurred_at >= \(at - deduplicationWindow) AND occurred_at <= \(at + deduplicationWindow)
            ORDER BY occurred_at LIMIT 1
            """)
    }

    /// Checks the references, stores the conversion, its credit rows, the
    /// campaign's roll-up and the variant's totals, and announces it.
    static func insert(_ incoming: Incoming, _ session: any DatabaseSession, tenant: String) throws -> C.Conversion {
        let currency = incoming.value.currency
        // Every campaign the conversion may credit must exist and share its currency.
        let credited = incoming.touches.isEmpty ? incoming.campaignID.map { [$0] } ?? [] : uniqued(incoming.touches.map(\.campaignID))
        for campaignID in uniqued(credited + (incoming.campaignID.map { [$0] } ?? [])) {
            let field = campaignID == incoming.campaignID ? "campaign_id" : "touchpoints"
            guard let row = try session.queryFirst("SELECT currency FROM campaign WHERE tenant_id = \(tenant) AND id = \(campaignID) AND deleted_at IS NULL") else {
                throw BusError(.invalidArgument, "\(field): no campaign \(campaignID)")
            }
            let campaignCurrency: String = try row["currency"]
            guard campaignCurrency == currency.code else {
                throw BusError(.invalidArgument, "\(field): campaign \(campaignID) counts in \(campaignCurrency), the conversion is in \(currency.code)")
            }
        }
        var variant: (experiment: C.Experiment, variant: C.Variant)?
        if let experimentID = incoming.experimentID {
            let experiment: C.Experiment
            do {
                experiment = try ExperimentService.lockedExperiment(session, tenant: tenant, id: experimentID)
            } catch let error as BusError where error.code == .notFound {
                throw BusError(.invalidArgument, "experiment_id: no experiment \(experimentID)")
            }
            if let campaignID = incoming.campaignID, experiment.campaignId != campaignID {
                throw BusError(.invalidArgument, "experiment_id: experiment \(experimentID) belongs to campaign \(experiment.campaignId), not \(campaignID)")
            }
            guard experiment.currency == currency.code else {
                throw BusError(.invalidArgument, "experiment_id: experiment \(experimentID) counts in \(experiment.currency), the conversion is in \(currency.code)")
            }
            if let variantID = incoming.variantID {
                guard let found = experiment.variants.first(where: { $0.id == variantID }) else {
                    throw BusError(.invalidArgument, "variant_id: experiment \(experimentID) has no variant \(variantID)")
                }
                variant = (experiment, found)
            }
        }

        let id = ResourceID.make(), now = Timestamp.now()
        let touches = incoming.touches.map { C.Touch(campaignId: $0.campaignID, at: $0.at.iso8601) }
        try session.execute("""
            INSERT INTO conversion (tenant_id, id, source, external_id, event_name, dedup_event, campaign_id, experiment_id, variant_id, value, currency,
                occurred_at, click_id, touchpoints, created_at)
            VALUES (\(tenant), \(id), \(incoming.source.rawValue), \(incoming.externalID), \(incoming.eventName), \(incoming.dedupEvent), \(incoming.campaignID),
                \(incoming.experimentID), \(incoming.variantID), \(incoming.value.minorUnits), \(currency.code), \(incoming.occurredAt), \(incoming.clickID),
                \(try ConversionValidation.json(touches)), \(now))
            """)
        for campaignID in credited {
            try session.execute("INSERT INTO conversion_credit (tenant_id, campaign_id, conversion_id) VALUES (\(tenant), \(campaignID), \(id))")
        }
        if let campaignID = incoming.campaignID {
            let campaign = try CampaignService.lockedCampaign(session, tenant: tenant, id: campaignID)
            let conversions = try ConversionValidation.sum(campaign.conversions, 1, field: "the campaign's conversions")
            let value = try ConversionValidation.sum(try Money(parsing: campaign.conversionValue, currency: currency).minorUnits, incoming.value.minorUnits,
                                                     field: "the campaign's conversion_value")
            try session.execute("""
                UPDATE campaign SET conversions = \(conversions), conversion_value = \(value), updated_at = \(CampaignService.later(campaign))
                WHERE tenant_id = \(tenant) AND id = \(campaignID)
                """)
        }
        // A variant's totals count conversions while its experiment runs (or is paused).
        if let (experiment, found) = variant, (C.ExperimentStatus(rawValue: experiment.status) ?? .draft).takesObservations {
            let (square, overflow) = incoming.value.minorUnits.multipliedReportingOverflow(by: incoming.value.minorUnits)
            guard !overflow else { throw BusError(.invalidArgument, "value is too large to add its square to the variant's revenue_sum_squares") }
            _ = try ExperimentService.add(
                to: found, experiment: experiment.id, users: 0, conversions: 1, revenue: incoming.value.minorUnits, squares: square, currency: currency,
                session, tenant: tenant
            )
        }
        try Outbox.enqueue(session, C.conversionRecorded, C.ConversionEvent(
            id: id, source: incoming.source.rawValue, campaignId: incoming.campaignID, value: incoming.value.decimalText, currency: currency.code
        ), tenant: tenant)
        return C.Conversion(
            id: id, source: incoming.source.rawValue, externalId: incoming.externalID, eventName: incoming.eventName, campaignId: incoming.campaignID,
            experimentId: incoming.experimentID, variantId: incoming.variantID, value: incoming.value.decimalText, currency: currency.code,
            occurredAt: incoming.occurredAt.iso8601, clickId: incoming.clickID, touchpoints: touches, createdAt: now.iso8601
        )
    }

    static func uniqued(_ ids: [String]) -> [String] {
        var seen = Set<String>()
        return ids.filter { seen.insert($0).inserted }
    }

    // MARK: - Reads

    public func get(_ id: String, context: RequestContext) async throws(BusError) -> C.Conversion {
        let tenant = try context.requireTenant().tenant
        let row = try await store.read(tenant: tenant) { session in try session.queryFirst("\(Self.columns) WHERE tenant_id = \(tenant) AND id = \(id)") }
        guard let row else { throw Self.noConversion(id) }
        return try Self.conversion(row)
    }

    /// Newest first; filters by campaign, source, and `since` (occurred_at at or after it).
    public func list(_ request: C.ListConversionsRequest, context: RequestContext) async throws(BusError) -> C.ConversionPage {
        let tenant = try context.requireTenant().tenant
        let limit = try ConversionValidation.pageSize(request.limit)
        let cursor = try ConversionValidation.cursor(request.cursor)
        let since = try ConversionValidation.optionalInstant(request.since, field: "since")
        let campaignID = request.campaignId, source = request.source
        let (rows, next) = try await store.read(tenant: tenant) { session in
            try KeysetPage.read(limit: limit, after: cursor) { condition, fetch throws(StorageError) in
                let ofCampaign: SQL = campaignID.map { "AND campaign_id = \($0)" } ?? ""
                let ofSource: SQL = source.map { "AND source = \($0)" } ?? ""
                let after: SQL = since.map { "AND occurred_at >= \($0)" } ?? ""
                return try session.query("""
                    \(Self.columns) WHERE tenant_id = \(tenant) \(ofCampaign) \(ofSource) \(after) AND \(condition)
                    ORDER BY created_at DESC, id DESC LIMIT \(fetch)
                    """)
            }
        }
        return C.ConversionPage(conversions: try rows.map { row throws(BusError) in try Self.conversion(row) }, nextCursor: next?.encoded)
    }

    // MARK: - Attribution

    public func attribution(_ request: C.ConversionAttributionRequest, context: RequestContext) async throws(BusError) -> C.ConversionAttribution {
        _ = try context.requireTenant()
        let model = try ConversionValidation.attributionModel(request.model)
        let conversion = try await get(request.id, context: context)
        let currency = try ConversionValidation.currency(conversion.currency)
        let credits = try Self.credits(conversion, model: model)
        return C.ConversionAttribution(
            conversionId: conversion.id, model: model.rawValue, currency: currency.code,
            credits: credits.map { C.Credit(campaignId: $0.campaignID, value: Money(minorUnits: $0.minorUnits, currency: currency).decimalText) }
        )
    }

    /// The sum of the campaign's credits over every conversion that may credit it.
    public func campaignAttribution(_ request: C.CampaignAttributionRequest, context: RequestContext) async throws(BusError) -> C.CampaignAttribution {
        let tenant = try context.requireTenant().tenant
        let model = try ConversionValidation.attributionModel(request.model)
        let campaignID = request.id
        let (currencyCode, rows) = try await store.read(tenant: tenant) { session in
            guard let campaign = try session.queryFirst("SELECT currency FROM campaign WHERE tenant_id = \(tenant) AND id = \(campaignID) AND deleted_at IS NULL") else {
                throw CampaignService.noCampaign(campaignID)
            }
            let rows = try session.query("""
                SELECT c.id, c.source, c.external_id, c.event_name, c.campaign_id, c.experiment_id, c.variant_id, c.value, c.currency, c.occurred_at,
                    c.click_id, c.touchpoints, c.created_at
                FROM conversion_credit k JOIN conversion c ON c.tenant_id = k.tenant_id AND c.id = k.conversion_id
                WHERE k.tenant_id = \(tenant) AND k.campaign_id = \(campaignID)
                """)
            return (try campaign["currency"] as String, rows)
        }
        let currency = try ConversionValidation.currency(currencyCode)
        var total: Int64 = 0, crediting: Int64 = 0
        for row in rows {
            let credit = try Self.credits(try Self.conversion(row), model: model).first { $0.campaignID == campaignID }?.minorUnits ?? 0
            guard credit > 0 else { continue }
            total = try ConversionValidation.sum(total, credit, field: "credited_value")
            crediting += 1
        }
        return C.CampaignAttribution(
            campaignId: campaignID, model: model.rawValue, creditedValue: Money(minorUnits: total, currency: currency).decimalText,
            currency: currency.code, conversions: crediting
        )
    }

    static func credits(_ conversion: C.Conversion, model: AttributionModel) throws(BusError) -> [AttributionCredit] {
        let currency = try ConversionValidation.currency(conversion.currency)
        guard let value = try? Money(parsing: conversion.value, currency: currency), let occurredAt = Timestamp(iso8601: conversion.occurredAt) else {
            throw BusError(.internal, "unreadable conversion \(conversion.id)")
        }
        let touchpoints = try conversion.touchpoints.map { touch throws(BusError) in
            guard let at = Timestamp(iso8601: touch.at) else { throw BusError(.internal, "unreadable touchpoint of conversion \(conversion.id)") }
            return Touchpoint(campaignID: touch.campaignId, at: at.millisecondsSince1970)
        }
        return Attribution.credits(
            value: value.minorUnits, touchpoints: touchpoints, occurredAt: occurredAt.millisecondsSince1970, model: model, campaignID: conversion.campaignId
        )
    }

    // MARK: - Rows

    static let columns: SQL = """
        SELECT id, source, external_id, event_name, campaign_id, experiment_id, variant_id, value, currency, occurred_at, click_id, touchpoints, created_at
        FROM conversion
        """

    static func conversion(_ row: Row) throws(BusError) -> C.Conversion {
        do {
            let currency = try ConversionValidation.currency(try row["currency"])
            let occurred: Timestamp = try row["occurred_at"], created: Timestamp = try row["created_at"]
            return C.Conversion(
                id: try row["id"], source: try row["source"], externalId: try row["external_id"], eventName: try row["event_name"],
                campaignId: try row["campaign_id"], experimentId: try row["experiment_id"], variantId: try row["variant_id"],
                value: Money(minorUnits: try row["value"], currency: currency).decimalText, currency: currency.code, occurredAt: occurred.iso8601,
                clickId: try row["click_id"], touchpoints: try ConversionValidation.decode([C.Touch].self, try row["touchpoints"], what: "touchpoints"),
                createdAt: created.iso8601
            )
        } catch let error as BusError {
            throw error
        } catch {
            throw BusError(.internal, "unreadable conversion row: \(error)")
        }
    }

    static func noConversion(_ id: String) -> BusError { BusError(.notFound, "no conversion \(id)") }
}
