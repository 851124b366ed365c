import BusRuntime
import BusWire
import Contracts
import Conversion
import Foundation
import Logging
import ServiceKit
import Storage
import TestSupport
import Testing

/// The conversion service (campaigns, experiments, conversions) on a fresh
/// database of either engine, called as the bus would call it (with the
/// caller's identity), on the service role (on PostgreSQL row-level security
/// binds it); rows and events are inspected through the owner's connection.
/// Ingest is a stub (``StubClipCheck``).
struct ConversionFixture: Sendable {
    typealias C = ConversionContracts

    let engine: Engine
    /// The owner's connection: sees every row of every tenant.
    let owner: any Database
    /// The service role's connection (the same database as `owner` on SQLite).
    let database: any Database
    let clips: StubClipCheck
    let campaigns: CampaignService
    let experiments: ExperimentService
    let conversions: ConversionService

    static func with(_ engine: Engine, clips: StubClipCheck = StubClipCheck(), _ body: (ConversionFixture) async throws -> Void) async throws {
        try await TestDatabases.withRoles(engine, prepare: { try await ConversionSchema.schema.migrator().deploy(to: $0) }) { owner, database in
            let store = ServiceStore(database: database)
            try await body(ConversionFixture(
                engine: engine, owner: owner, database: database, clips: clips,
                campaigns: CampaignService(store: store, clips: clips.check), experiments: ExperimentService(store: store),
                conversions: ConversionService(store: store)
            ))
        }
    }

    /// A request of `tenant`'s user, optionally with an idempotency key.
    static func context(_ tenant: String, key: String? = nil) -> RequestContext {
        RequestContext(service: C.service, method: "x", idempotencyKey: key, identity: Identity(tenant: tenant, user: "u", role: "USER"), logger: Logger(label: "test"))
    }

    /// Rows of `table` (all tenants).
    func count(_ table: String) async throws -> Int64 {
        try await owner.read { try $0.queryFirst("SELECT COUNT(*) AS n FROM \(raw: table)")!.decode(Int64.self, "n") }
    }

    /// Rows of `table` of `tenant` (`tenant_id`, or `tenant` for system tables such as the outbox).
    func count(_ table: String, tenant: String) async throws -> Int64 {
        let column = table == "outbox" ? "tenant" : "tenant_id"
        return try await owner.read { try $0.queryFirst("SELECT COUNT(*) AS n FROM \(raw: table) WHERE \(raw: column) = \(tenant)")!.decode(Int64.self, "n") }
    }

    /// The stored rows a refusal must not add to: campaigns, experiments, variants, conversions, keys, credits, outbox.
    func stored() async throws -> [Int64] {
        var counts: [Int64] = []
        for table in ["campaign", "experiment", "experiment_variant", "conversion", "conversion_key", "conversion_credit", "outbox"] {
            counts.append(try await count(table))
        }
        return counts
    }

    /// Every outbox event's topic, tenant and payload, in order.
    func events() async throws -> [(topic: String, tenant: String, payload: String)] {
        try await owner.read { session in
            try session.query("SELECT topic, tenant, payload FROM outbox ORDER BY seq").map { row in
                (try row.decode(String.self, "topic"), try row.decode(String.self, "tenant"), try row.decode(String.self, "payload"))
            }
        }
    }

    /// The `campaign.clip_metrics` events, decoded.
    func clipMetricsEvents() async throws -> [(tenant: String, event: C.ClipMetrics)] {
        try await events().filter { $0.topic == C.clipMetrics.name }.map { ($0.tenant, try JSONDecoder().decode(C.ClipMetrics.self, from: Data($0.payload.utf8))) }
    }

    /// The `conversion.recorded` events, decoded.
    func recordedEvents() async throws -> [(tenant: String, event: C.ConversionEvent)] {
        try await events().filter { $0.topic == C.conversionRecorded.name }.map { ($0.tenant, try JSONDecoder().decode(C.ConversionEvent.self, from: Data($0.payload.utf8))) }
    }

    // MARK: - Shortcuts

    @discardableResult
    func campaign(
        name: String = "c", budget: String = "100.00", currency: String? = nil, status: String? = "ACTIVE", clipIds: [String]? = nil,
        meta: String? = nil, context: RequestContext
    ) async throws -> C.Campaign {
        try await campaigns.create(C.CreateCampaignRequest(
            name: name, objective: "CONVERSIONS", budget: MoneyText(budget), currency: currency, status: status, clipIds: clipIds, metaCampaignId: meta
        ), context: context)
    }

    func move(_ campaign: String, to status: String, context: RequestContext) async throws -> C.Campaign {
        try await campaigns.update(C.UpdateCampaignRequest(id: campaign, changes: C.CampaignChanges(status: status)), context: context)
    }

    func metrics(_ campaign: String, spend: String = "0", impressions: Int64 = 0, clicks: Int64 = 0, clip: String? = nil, context: RequestContext) async throws -> C.Campaign {
        try await campaigns.addMetrics(C.CampaignMetricsRequest(id: campaign, spend: MoneyText(spend), impressions: impressions, clicks: clicks, clipId: clip), context: context)
    }

    func getCampaign(_ id: String, context: RequestContext) async throws -> C.Campaign {
        try await campaigns.get(id, context: context)
    }

    func experiment(
        _ campaign: String, metric: String = "conversion_rate", variants: [C.VariantSpec] = [.init(id: "control", weight: 1), .init(id: "treatment", weight: 1)],
        context: RequestContext
    ) async throws -> C.Experiment {
        try await experiments.create(C.CreateExperimentRequest(campaignId: campaign, name: "e", metric: metric, variants: variants), context: context)
    }

    func moveExperiment(_ id: String, to status: String, context: RequestContext) async throws -> C.Experiment {
        try await experiments.update(C.UpdateExperimentRequest(id: id, changes: C.ExperimentChanges(status: status)), context: context)
    }

    func observe(
        _ id: String, _ variant: String, users: Int64, conversions: Int64, revenue: String? = nil, squares: String? = nil, context: RequestContext
    ) async throws -> C.VariantTotals {
        try await experiments.observe(C.ObservationRequest(
            id: id, variantId: variant, users: users, conversions: conversions, revenue: revenue.map(MoneyText.init), revenueSumSquares: squares.map(MoneyText.init)
        ), context: context)
    }

    func record(_ request: C.RecordConversionRequest, context: RequestContext) async throws -> C.Conversion {
        try await conversions.record(request, context: context)
    }

    // MARK: - Failures

    /// The bus error `work` failed with (nil when it succeeded).
    static func failure(_ work: () async throws -> some Any) async -> BusError? {
        do {
            _ = try await work()
            return nil
        } catch let error as BusError {
            return error
        } catch {
            return BusError(.internal, "not a bus error: \(error)")
        }
    }

    static func code(_ work: () async throws -> some Any) async -> ErrorCode? { await failure(work)?.code }
}

/// Instants for requests: `base` plus milliseconds, as ISO 8601 text.
enum Instants {
    static let hour: Int64 = 60 * 60 * 1000
    static let day: Int64 = 24 * hour
    /// 2026-01-01T00:00:00.000Z.
    static let base: Int64 = 1_767_225_600_000

    static func at(_ offset: Int64) -> String { Timestamp(millisecondsSince1970: base + offset).iso8601 }
}

/// Ingest as the campaign service sees it: which clips each tenant has, and whether it answers.
final class StubClipCheck: @unchecked Sendable {
    private let lock = NSLock()
    private var clips: [String: Set<String>] = [:]
    private var isDown = false
    private var asked = 0

    init() {}

    func add(_ clip: String, tenant: String) {
        lock.lock()
        defer { lock.unlock() }
        clips[tenant, default: []].insert(clip)
    }

    var down: Bool {
        get { lock.lock(); defer { lock.unlock() }; return isDown }
        set { lock.lock(); defer { lock.unlock() }; isDown = newValue }
    }

    /// How many times the service asked.
    var calls: Int { lock.lock(); defer { lock.unlock() }; return asked }

    var check: ClipCheck {
        ClipCheck { clip, caller throws(BusError) in
            let (down, known) = self.locked { stub -> (Bool, Bool) in
                stub.asked += 1
                return (stub.isDown, stub.clips[caller.tenant]?.contains(clip) ?? false)
            }
            if down { throw BusError(.unavailable, "ingest could not confirm clip \(clip): no responders") }
            return known
        }
    }

    private func locked<T>(_ body: (StubClipCheck) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(self)
    }
}

/// A deterministic random source (SplitMix64), so a failing stream can be replayed.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
