import BusRuntime
import BusWire
import Contracts
import Foundation
import ServiceKit
import Storage

/// Whether ingest has a clip, asked as the request's own identity.
public struct ClipCheck: Sendable {
    /// Throws `unavailable` when ingest cannot say.
    public var exists: @Sendable (_ clipID: String, _ caller: Identity) async throws(BusError) -> Bool

    public init(exists: @escaping @Sendable (_ clipID: String, _ caller: Identity) async throws(BusError) -> Bool) {
        self.exists = exists
    }

    /// Ingest's `clips.get` through `node`.
    public static func ingest(through node: BusNode) -> ClipCheck {
        ClipCheck { clipID, caller throws(BusError) in
            do throws(BusError) {
                _ = try await node.call(IngestContracts.getClip, IngestContracts.ClipRequest(id: clipID), identity: caller)
                return true
            } catch {
                if error.code == .notFound { return false }
                throw BusError(.unavailable, "ingest could not confirm clip \(clipID): \(error.message)", retryable: error.retryable)
            }
        }
    }

    /// Every clip of `ids` confirmed (distinct, at most 100); invalid-argument naming the first unknown one.
    func confirm(_ ids: [String], caller: Identity, field: String = "clip_ids") async throws(BusError) -> [String] {
        guard ids.count <= ConversionLimits.maxClips else { throw BusError(.invalidArgument, "\(field) has more than \(ConversionLimits.maxClips) clips") }
        guard Set(ids).count == ids.count else { throw BusError(.invalidArgument, "\(field) names a clip twice") }
        for id in ids {
            guard !id.isEmpty, id.utf8.count <= 64, try await exists(id, caller) else { throw BusError(.invalidArgument, "\(field): no clip \(id)") }
        }
        return ids
    }
}

/// Campaigns: exact budget and spend, 64-bit counters, the status machine,
/// and roll-ups of the conversions recorded for them.
public struct CampaignService: Sendable {
    public typealias C = ConversionContracts
    public let store: ServiceStore
    public let clips: ClipCheck

    public init(store: ServiceStore, clips: ClipCheck) {
        self.store = store
        self.clips = clips
    }

    public var bindings: [MethodBinding] {
        [
            MethodBinding(C.createCampaign) { request, context in try await create(request, context: context) },
            MethodBinding(C.getCampaign) { request, context in try await get(request.id, context: context) },
            MethodBinding(C.updateCampaign) { request, context in try await update(request, context: context) },
            MethodBinding(C.deleteCampaign) { request, context in
                try await delete(request.id, context: context)
                return Empty()
            },
            MethodBinding(C.listCampaigns) { request, context in try await list(request, context: context) },
            MethodBinding(C.addMetrics) { request, context in try await addMetrics(request, context: context) },
        ]
    }

    // MARK: - Changes

    public func create(_ request: C.CreateCampaignRequest, context: RequestContext) async throws(BusError) -> C.Campaign {
        let caller = try context.requireTenant()
        let tenant = caller.tenant
        let name = try ConversionValidation.text(request.name, field: "name", maxLength: 200)
        let objective = try Self.objective(request.objective)
        let currency = try ConversionValidation.currency(request.currency)
        let budget = try ConversionValidation.money(request.budget, in: currency, field: "budget")
        let status = request.status ?? C.CampaignStatus.draft.rawValue
        guard [C.CampaignStatus.draft, .scheduled, .active].map(\.rawValue).contains(status) else {
            throw BusError(.invalidArgument, "status: a campaign starts as DRAFT, SCHEDULED or ACTIVE, got \(status)")
        }
        let metaID = try ConversionValidation.optionalText(request.metaCampaignId, field: "meta_campaign_id", maxLength: 200)
        let startsAt = try ConversionValidation.optionalInstant(request.startsAt, field: "starts_at")
        let endsAt = try ConversionValidation.optionalInstant(request.endsAt, field: "ends_at")
        try Self.checkSchedule(startsAt, endsAt)
        let clipIDs = try await clips.confirm(request.clipIds ?? [], caller: caller)
        let conflict = BusError(.conflict, "another campaign has meta_campaign_id \(metaID ?? "")")
        return try await store.write(answering: C.createCampaign, request, context: context, conflict: conflict) { session in
            let id = ResourceID.make(), now = Timestamp.now()
            try session.execute("""
                INSERT INTO campaign (tenant_id, id, name, objective, status, currency, budget, spend, impressions, clicks, conversions, conversion_value,
                    clip_ids, meta_campaign_id, starts_at, ends_at, created_at, updated_at)
                VALUES (\(tenant), \(id), \(name), \(objective), \(status), \(currency.code), \(budget.minorUnits), 0, 0, 0, 0, 0,
                    \(try ConversionValidation.json(clipIDs)), \(metaID), \(startsAt), \(endsAt), \(now), \(now))
                """)
            return try Self.campaign(try Self.liveRow(session, tenant: tenant, id: id))
        }
    }

    /// Changes the given fields (absent or null: kept); a status moves only as API.md allows (409 naming both).
    public func update(_ request: C.UpdateCampaignRequest, context: RequestContext) async throws(BusError) -> C.Campaign {
        let caller = try context.requireTenant()
        let tenant = caller.tenant, id = request.id, changes = request.changes
        let name = try changes.name.map { text throws(BusError) in try ConversionValidation.text(text, field: "name", maxLength: 200) }
        let status = try changes.status.map { text throws(BusError) in try Self.status(text) }
        let metaID = try ConversionValidation.optionalText(changes.metaCampaignId, field: "meta_campaign_id", maxLength: 200)
        let startsAt = try ConversionValidation.optionalInstant(changes.startsAt, field: "starts_at")
        let endsAt = try ConversionValidation.optionalInstant(changes.endsAt, field: "ends_at")
        let clipIDs = try await changes.clipIds.asyncMap { ids throws(BusError) in try await clips.confirm(ids, caller: caller) }
        let conflict = BusError(.conflict, "another campaign has meta_campaign_id \(metaID ?? "")")
        return try await store.write(answering: C.updateCampaign, request, context: context, conflict: conflict) { session in
            let current = try Self.lockedCampaign(session, tenant: tenant, id: id)
            let currency = try ConversionValidation.currency(current.currency)
            let budget = try changes.budget.map { amount throws(BusError) in try ConversionValidation.money(amount, in: currency, field: "budget") }
            // A change to what it already is changes nothing (updated_at included).
            let changed = [
                name.map { $0 != current.name }, status.map { $0.rawValue != current.status }, budget.map { $0.decimalText != current.budget },
                clipIDs.map { $0 != current.clipIds }, metaID.map { $0 != current.metaCampaignId }, startsAt.map { $0.iso8601 != current.startsAt },
                endsAt.map { $0.iso8601 != current.endsAt },
            ].contains(true)
            guard changed else { return current }
            try Self.checkSchedule(startsAt ?? current.startsAt.flatMap(Timestamp.init(iso8601:)), endsAt ?? current.endsAt.flatMap(Timestamp.init(iso8601:)))
            if let status, status.rawValue != current.status {
                let from = C.CampaignStatus(rawValue: current.status) ?? .draft
                guard from.next.contains(status) else {
                    throw BusError(.conflict, "campaign \(id) cannot move from \(from.rawValue) to \(status.rawValue)")
                }
            }
            try session.execute("""
                UPDATE campaign SET name = COALESCE(\(name), name), status = COALESCE(\(status?.rawValue), status),
                    budget = COALESCE(\(budget?.minorUnits), budget), clip_ids = COALESCE(\(try clipIDs.map { ids throws(BusError) in try ConversionValidation.json(ids) }), clip_ids),
                    meta_campaign_id = COALESCE(\(metaID), meta_campaign_id), starts_at = COALESCE(\(startsAt), starts_at), ends_at = COALESCE(\(endsAt), ends_at),
                    updated_at = \(Self.later(current))
                WHERE tenant_id = \(tenant) AND id = \(id)
                """)
            return try Self.campaign(try Self.liveRow(session, tenant: tenant, id: id))
        }
    }

    /// Soft delete: 404 from then on, gone from lists; its meta_campaign_id may be used again.
    public func delete(_ id: String, context: RequestContext) async throws(BusError) {
        let tenant = try context.requireTenant().tenant
        _ = try await store.write(tenant: tenant) { session in
            guard try session.execute("""
                UPDATE campaign SET deleted_at = \(Timestamp.now()) WHERE tenant_id = \(tenant) AND id = \(id) AND deleted_at IS NULL
                """) == 1 else { throw Self.noCampaign(id) }
            return Empty()
        }
    }

    /// Adds spend, impressions and clicks exactly (the seed's
    /// updateCampaignMetrics) while the campaign runs or after (late data);
    /// with a clip of the campaign, announces what was added for it.
    public func addMetrics(_ request: C.CampaignMetricsRequest, context: RequestContext) async throws(BusError) -> C.Campaign {
        let tenant = try context.requireTenant().tenant
        let id = request.id
        let impressions = try ConversionValidation.counter(request.impressions, field: "impressions")
        let clicks = try ConversionValidation.counter(request.clicks, field: "clicks")
        return try await store.write(answering: C.addMetrics, request, context: context) { session in
            let current = try Self.lockedCampaign(session, tenant: tenant, id: id)
            let currency = try ConversionValidation.currency(current.currency)
            let spend = try ConversionValidation.money(request.spend, in: currency, field: "spend")
            let status = C.CampaignStatus(rawValue: current.status) ?? .draft
            guard status.takesMetrics else {
                throw BusError(.conflict, "campaign \(id) is \(status.rawValue): metrics are added while it is ACTIVE, PAUSED or COMPLETED")
            }
            if let clip = request.clipId, !current.clipIds.contains(clip) {
                throw BusError(.invalidArgument, "clip_id: clip \(clip) is not one of the campaign's clip_ids")
            }
            let row = try Self.liveRow(session, tenant: tenant, id: id)
            let totalSpend = try ConversionValidation.sum(try row["spend"], spend.minorUnits, field: "spend")
            let totalImpressions = try ConversionValidation.sum(try row["impressions"], impressions, field: "impressions")
            let totalClicks = try ConversionValidation.sum(try row["clicks"], clicks, field: "clicks")
            try session.execute("""
                UPDATE campaign SET spend = \(totalSpend), impressions = \(totalImpressions), clicks = \(totalClicks), updated_at = \(Self.later(current))
                WHERE tenant_id = \(tenant) AND id = \(id)
                """)
            if let clip = request.clipId {
                try Outbox.enqueue(session, C.clipMetrics, C.ClipMetrics(campaignId: id, clipId: clip, impressions: impressions, clicks: clicks), tenant: tenant)
            }
            return try Self.campaign(try Self.liveRow(session, tenant: tenant, id: id))
        }
    }

    // MARK: - Reads

    public func get(_ id: String, context: RequestContext) async throws(BusError) -> C.Campaign {
        let tenant = try context.requireTenant().tenant
        let row = try await store.read(tenant: tenant) { session in try Self.row(session, tenant: tenant, id: id) }
        guard let row else { throw Self.noCampaign(id) }
        return try Self.campaign(row)
    }

    /// Newest first; with `status`, only that status's (an unknown one matches nothing).
    public func list(_ request: C.ListCampaignsRequest, context: RequestContext) async throws(BusError) -> C.CampaignPage {
        let tenant = try context.requireTenant().tenant
        let limit = try ConversionValidation.pageSize(request.limit)
        let cursor = try ConversionValidation.cursor(request.cursor)
        let status = request.status
        let (rows, next) = try await store.read(tenant: tenant) { session in
            try KeysetPage.read(limit: limit, after: cursor) { condition, fetch throws(StorageError) in
                let ofStatus: SQL = status.map { "AND status = \($0)" } ?? ""
                return try session.query("""
                    \(Self.columns) WHERE tenant_id = \(tenant) AND deleted_at IS NULL \(ofStatus) AND \(condition)
                    ORDER BY created_at DESC, id DESC LIMIT \(fetch)
                    """)
            }
        }
        return C.CampaignPage(campaigns: try rows.map { row throws(BusError) in try Self.campaign(row) }, nextCursor: next?.encoded)
    }

    // MARK: - Rows

    static let columns: SQL = """
        SELECT id, name, objective, status, currency, budget, spend, impressions, clicks, conversions, conversion_value, clip_ids, meta_campaign_id,
            starts_at, ends_at, created_at, updated_at FROM campaign
        """

    static func row(_ session: any DatabaseSession, tenant: String, id: String) throws -> Row? {
        try session.queryFirst("\(columns) WHERE tenant_id = \(tenant) AND id = \(id) AND deleted_at IS NULL")
    }

    static func liveRow(_ session: any DatabaseSession, tenant: String, id: String) throws -> Row {
        guard let row = try row(session, tenant: tenant, id: id) else { throw noCampaign(id) }
        return row
    }

    /// The campaign, its row locked first: changes to one campaign happen one at a time, each seeing the last one's result.
    static func lockedCampaign(_ session: any DatabaseSession, tenant: String, id: String) throws -> C.Campaign {
        guard try session.execute("UPDATE campaign SET updated_at = updated_at WHERE tenant_id = \(tenant) AND id = \(id) AND deleted_at IS NULL") == 1 else {
            throw noCampaign(id)
        }
        return try campaign(try liveRow(session, tenant: tenant, id: id))
    }

    /// A new `updated_at`: now, or one past the last one (so it always moves forward).
    static func later(_ campaign: C.Campaign) -> Timestamp {
        let now = Timestamp.now()
        guard let last = Timestamp(iso8601: campaign.updatedAt), last >= now else { return now }
        return Timestamp(millisecondsSince1970: last.millisecondsSince1970 + 1)
    }

    static func campaign(_ row: Row) throws(BusError) -> C.Campaign {
        do {
            let currency = try ConversionValidation.currency(try row["currency"])
            func money(_ column: String) throws -> Money { Money(minorUnits: try row[column], currency: currency) }
            let spend = try money("spend"), budget = try money("budget"), value = try money("conversion_value")
            let impressions: Int64 = try row["impressions"], clicks: Int64 = try row["clicks"], conversions: Int64 = try row["conversions"]
            let created: Timestamp = try row["created_at"], updated: Timestamp = try row["updated_at"]
            let startsAt: Timestamp? = try row["starts_at"], endsAt: Timestamp? = try row["ends_at"]
            return C.Campaign(
                id: try row["id"], name: try row["name"], objective: try row["objective"], status: try row["status"], currency: currency.code,
                budget: budget.decimalText, spend: spend.decimalText, impressions: impressions, clicks: clicks, conversions: conversions,
                conversionValue: value.decimalText,
                ctr: impressions > 0 ? Double(clicks) / Double(impressions) : nil,
                cpa: conversions > 0 ? costPerConversion(spend, conversions).decimalText : nil,
                roas: spend.minorUnits > 0 ? Double(value.minorUnits) / Double(spend.minorUnits) : nil,
                overBudget: spend.minorUnits > budget.minorUnits,
                clipIds: try ConversionValidation.decode([String].self, try row["clip_ids"], what: "campaign clip_ids"),
                metaCampaignId: try row["meta_campaign_id"], startsAt: startsAt?.iso8601, endsAt: endsAt?.iso8601,
                createdAt: created.iso8601, updatedAt: updated.iso8601
            )
        } catch let error as BusError {
            throw error
        } catch {
            throw BusError(.internal, "unreadable campaign row: \(error)")
        }
    }

    /// spend / conversions in minor units, rounded half up (no overflow: no sum is formed).
    static func costPerConversion(_ spend: Money, _ conversions: Int64) -> Money {
        let (quotient, remainder) = spend.minorUnits.quotientAndRemainder(dividingBy: conversions)
        return Money(minorUnits: quotient + (remainder >= conversions - remainder ? 1 : 0), currency: spend.currency)
    }

    static func objective(_ text: String) throws(BusError) -> String {
        guard C.Objective(rawValue: text) != nil else {
            throw BusError(.invalidArgument, "objective must be one of \(C.Objective.allCases.map(\.rawValue).joined(separator: ", ")), got \(text)")
        }
        return text
    }

    static func status(_ text: String) throws(BusError) -> C.CampaignStatus {
        guard let status = C.CampaignStatus(rawValue: text) else {
            throw BusError(.invalidArgument, "status must be one of \(C.CampaignStatus.allCases.map(\.rawValue).joined(separator: ", ")), got \(text)")
        }
        return status
    }

    static func checkSchedule(_ startsAt: Timestamp?, _ endsAt: Timestamp?) throws(BusError) {
        if let startsAt, let endsAt, endsAt < startsAt { throw BusError(.invalidArgument, "ends_at must not be before starts_at") }
    }

    static func noCampaign(_ id: String) -> BusError { BusError(.notFound, "no campaign \(id)") }
}

extension Optional {
    /// `map` with an async, typed-throwing transform.
    func asyncMap<T>(_ transform: (Wrapped) async throws(BusError) -> T) async throws(BusError) -> T? {
        guard let self else { return nil }
        return try await transform(self)
    }
}
