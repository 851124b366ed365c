import BusRuntime
import BusWire
import Contracts
import Foundation
import Logging
import Prediction
import ServiceKit
import Storage
import TestSupport
import Testing

/// The prediction service on a fresh database of either engine, called as
/// the bus would call it (with the caller's identity), on the service role
/// (on PostgreSQL row-level security binds it); rows and events are
/// inspected through the owner's connection. Ingest and the analysis-store
/// are a stub (``StubClips``).
struct PredictionFixture: Sendable {
    typealias C = PredictionContracts

    let engine: Engine
    /// The owner's connection: sees every row of every tenant.
    let owner: any Database
    /// The service role's connection (the same database as `owner` on SQLite).
    let database: any Database
    let clips: StubClips
    let registry: ModelRegistry
    let predictions: PredictionService
    let errors: VersionErrors

    static func with(_ engine: Engine, clips: StubClips = StubClips(), _ body: (PredictionFixture) async throws -> Void) async throws {
        try await TestDatabases.withRoles(engine, prepare: { try await PredictionSchema.schema.migrator().deploy(to: $0) }) { owner, database in
            let store = ServiceStore(database: database)
            try await body(PredictionFixture(
                engine: engine, owner: owner, database: database, clips: clips, registry: ModelRegistry(store: store),
                predictions: PredictionService(store: store, clips: clips.source), errors: VersionErrors(store: store)
            ))
        }
    }

    /// A request of `tenant`'s user, optionally with an idempotency key.
    static func context(_ tenant: String, key: String? = nil) -> RequestContext {
        RequestContext(service: C.service, method: "x", idempotencyKey: key, identity: Identity(tenant: tenant, user: "u", role: "USER"), logger: Logger(label: "test"))
    }

    func count(_ from: String) async throws -> Int64 {
        try await owner.read { try $0.queryFirst("SELECT COUNT(*) AS n FROM \(raw: from)")!.decode(Int64.self, "n") }
    }

    /// Every outbox event's topic and payload, in order.
    func events() async throws -> [(topic: String, tenant: String, payload: String)] {
        try await owner.read { session in
            try session.query("SELECT topic, tenant, payload FROM outbox ORDER BY seq").map { row in
                (try row.decode(String.self, "topic"), try row.decode(String.self, "tenant"), try row.decode(String.self, "payload"))
            }
        }
    }

    /// Delivers `clip.analyzed` as event `id` the way the service consumes it; false when it was already applied.
    func deliver(_ analyzed: AnalysisContracts.ClipAnalyzed, id: String, tenant: String) async throws -> Bool {
        try await Inbox.consume(database, eventID: id, consumer: C.service, tenant: tenant) { session in
            try PredictionService.predictWithChampions(analyzed, tenant: tenant, session: session)
        }
    }

    /// Delivers `campaign.clip_metrics` as event `id`; false when it was already applied.
    func deliver(_ metrics: ConversionContracts.ClipMetrics, id: String, tenant: String) async throws -> Bool {
        try await Inbox.consume(database, eventID: id, consumer: C.service, tenant: tenant) { session in
            try PredictionService.recordEngagement(metrics, tenant: tenant, session: session)
        }
    }

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

/// Ingest and the analysis-store as the service sees them: which clips each
/// tenant has, their stored analyses' features, and whether they answer.
final class StubClips: @unchecked Sendable {
    private let lock = NSLock()
    private var clips: [String: Set<String>] = [:]
    private var analyses: [String: [String: [String: Double]]] = [:]
    private var isDown = false

    init() {}

    /// Adds a clip of `tenant`, with the features of its stored analysis when given.
    func add(_ clip: String, tenant: String, features: [String: Double]? = nil) {
        lock.lock()
        defer { lock.unlock() }
        clips[tenant, default: []].insert(clip)
        if let features { analyses[tenant, default: [:]][clip] = features }
    }

    var down: Bool {
        get { lock.lock(); defer { lock.unlock() }; return isDown }
        set { lock.lock(); defer { lock.unlock() }; isDown = newValue }
    }

    var source: ClipSource {
        ClipSource(
            clipExists: { clip, caller throws(BusError) in
                let (down, known) = self.locked { ($0.isDown, $0.clips[caller.tenant]?.contains(clip) ?? false) }
                if down { throw BusError(.unavailable, "ingest could not confirm clip \(clip): no responders") }
                return known
            },
            analysisFeatures: { clip, caller throws(BusError) in
                let (down, features) = self.locked { ($0.isDown, $0.analyses[caller.tenant]?[clip]) }
                if down { throw BusError(.unavailable, "the analysis-store could not give clip \(clip)'s analysis: no responders") }
                return features
            }
        )
    }

    private func locked<T>(_ body: (StubClips) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(self)
    }
}
