import BusRuntime
import BusWire
import Contracts
import Foundation
import ServiceKit
import Storage

/// A/B experiments of a campaign: 2 to 10 variants (the first the control),
/// observations added exactly, GrowthBook's statistics (``ExperimentStatistics``)
/// and a winner stored when the experiment completes.
public struct ExperimentService: Sendable {
    public typealias C = ConversionContracts
    public let store: ServiceStore

    public init(store: ServiceStore) {
        self.store = store
    }

    public var bindings: [MethodBinding] {
        [
            MethodBinding(C.createExperiment) { request, context in try await create(request, context: context) },
            MethodBinding(C.getExperiment) { request, context in try await get(request.id, context: context) },
            MethodBinding(C.updateExperiment) { request, context in try await update(request, context: context) },
            MethodBinding(C.observe) { request, context in try await observe(request, context: context) },
            MethodBinding(C.results) { request, context in try await results(request.id, context: context) },
        ]
    }

    public func create(_ request: C.CreateExperimentRequest, context: RequestContext) async throws(BusError) -> C.Experiment {
        let tenant = try context.requireTenant().tenant
        let name = try ConversionValidation.text(request.name, field: "name", maxLength: 200)
        let metric = try Self.metric(request.metric)
        let variants = request.variants
        guard (2...10).contains(variants.count) else { throw BusError(.invalidArgument, "variants: an experiment has 2 to 10 variants, got \(variants.count)") }
        guard Set(variants.map(\.id)).count == variants.count else { throw BusError(.invalidArgument, "variants: every variant needs its own id") }
        for variant in variants {
            guard ConversionValidation.isVariantID(variant.id) else {
                throw BusError(.invalidArgument, "variants: id \(variant.id.debugDescription) must be 1 to 64 ASCII letters, digits, '_' or '-'")
            }
            guard variant.weight.isFinite, variant.weight > 0 else { throw BusError(.invalidArgument, "variants.\(variant.id).weight must be a positive number") }
        }
        let total = variants.reduce(0) { $0 + $1.weight }
        guard total.isFinite else { throw BusError(.invalidArgument, "variants: the weights' sum is not a finite number") }
        let campaignID = request.campaignId
        return try await store.write(answering: C.createExperiment, request, context: context) { session in
            let campaign = try CampaignService.lockedCampaign(session, tenant: tenant, id: campaignID)
            for variant in variants {
                if let clip = variant.clipId, !campaign.clipIds.contains(clip) {
                    throw BusError(.invalidArgument, "variants.\(variant.id).clip_id: clip \(clip) is not one of the campaign's clip_ids")
                }
            }
            let id = ResourceID.make(), now = Timestamp.now()
            try session.execute("""
                INSERT INTO experiment (tenant_id, id, campaign_id, name, metric, status, created_at, updated_at)
                VALUES (\(tenant), \(id), \(campaignID), \(name), \(metric.rawValue), \(C.ExperimentStatus.draft.rawValue), \(now), \(now))
                """)
            for (position, variant) in variants.enumerated() {
                try session.execute("""
                    INSERT INTO experiment_variant (tenant_id, experiment_id, id, position, weight, clip_id, users, conversions, revenue, revenue_sum_squares)
                    VALUES (\(tenant), \(id), \(variant.id), \(position), \(variant.weight / total), \(variant.clipId), 0, 0, 0, 0)
                    """)
            }
            return try Self.experiment(session, tenant: tenant, id: id)
        }
    }

    /// Moves the status as API.md allows (409 naming both); completing stores the winner and its confidence as the results decide them then.
    public func update(_ request: C.UpdateExperimentRequest, context: RequestContext) async throws(BusError) -> C.Experiment {
        let tenant = try context.requireTenant().tenant
        let id = request.id
        let name = try request.changes.name.map { text throws(BusError) in try ConversionValidation.text(text, field: "name", maxLength: 200) }
        let status = try request.changes.status.map { text throws(BusError) in try Self.status(text) }
        return try await store.write(answering: C.updateExperiment, request, context: context) { session in
            let current = try Self.lockedExperiment(session, tenant: tenant, id: id)
            // A change to what it already is changes nothing (updated_at included).
            guard name.map({ $0 != current.name }) ?? false || status.map({ $0.rawValue != current.status }) ?? false else { return current }
            var winner: String?, confidence: Double?
            if let status, status.rawValue != current.status {
                let from = C.ExperimentStatus(rawValue: current.status) ?? .draft
                guard from.next.contains(status) else { throw BusError(.conflict, "experiment \(id) cannot move from \(from.rawValue) to \(status.rawValue)") }
                if status == .completed {
                    let decision = Self.statistics(current).decision
                    (winner, confidence) = (decision.winnerVariantID, decision.confidence)
                }
            }
            try session.execute("""
                UPDATE experiment SET name = COALESCE(\(name), name), status = COALESCE(\(status?.rawValue), status),
                    winner_variant_id = COALESCE(\(winner), winner_variant_id), confidence = COALESCE(\(confidence), confidence), updated_at = \(Timestamp.now())
                WHERE tenant_id = \(tenant) AND id = \(id)
                """)
            return try Self.experiment(session, tenant: tenant, id: id)
        }
    }

    /// Adds users, conversions and revenue to a variant exactly, while the experiment runs or is paused.
    public func observe(_ request: C.ObservationRequest, context: RequestContext) async throws(BusError) -> C.VariantTotals {
        let tenant = try context.requireTenant().tenant
        let id = request.id
        let users = try ConversionValidation.counter(request.users, field: "users")
        let conversions = try ConversionValidation.counter(request.conversions, field: "conversions")
        return try await store.write(answering: C.observe, request, context: context) { session in
            let experiment = try Self.lockedExperiment(session, tenant: tenant, id: id)
            let status = C.ExperimentStatus(rawValue: experiment.status) ?? .draft
            guard status.takesObservations else {
                throw BusError(.conflict, "experiment \(id) is \(status.rawValue): observations are added while it is RUNNING or PAUSED")
            }
            guard let variant = experiment.variants.first(where: { $0.id == request.variantId }) else {
                throw BusError(.invalidArgument, "variant_id: experiment \(id) has no variant \(request.variantId)")
            }
            let currency = try ConversionValidation.currency(experiment.currency)
            let revenue = try request.revenue.map { amount throws(BusError) in try ConversionValidation.money(amount, in: currency, field: "revenue") }
            let squares = try request.revenueSumSquares.map { amount throws(BusError) in try Self.sumOfSquares(amount.text, currency: currency) }
            if experiment.metric == ExperimentMetric.revenue.rawValue, squares == nil {
                throw BusError(.invalidArgument, "revenue_sum_squares is required for a revenue experiment")
            }
            let totals = try Self.add(
                to: variant, experiment: id, users: users, conversions: conversions, revenue: revenue?.minorUnits ?? 0, squares: squares ?? 0,
                currency: currency, session, tenant: tenant
            )
            return totals
        }
    }

    /// Adds to a variant's totals. Conversions may run ahead of users (a
    /// recorded conversion counts before the exposures that led to it are
    /// observed); the statistics call such a variant undefined until they catch up.
    static func add(
        to variant: C.Variant, experiment: String, users: Int64, conversions: Int64, revenue: Int64, squares: Int64, currency: Currency,
        _ session: any DatabaseSession, tenant: String
    ) throws -> C.VariantTotals {
        let row = try session.queryFirst("""
            SELECT users, conversions, revenue, revenue_sum_squares FROM experiment_variant
            WHERE tenant_id = \(tenant) AND experiment_id = \(experiment) AND id = \(variant.id)
            """)
        guard let row else { throw BusError(.internal, "variant \(variant.id) is missing") }
        let totalUsers = try ConversionValidation.sum(try row["users"], users, field: "users")
        let totalConversions = try ConversionValidation.sum(try row["conversions"], conversions, field: "conversions")
        let totalRevenue = try ConversionValidation.sum(try row["revenue"], revenue, field: "revenue")
        let totalSquares = try ConversionValidation.sum(try row["revenue_sum_squares"], squares, field: "revenue_sum_squares")
        try session.execute("""
            UPDATE experiment_variant SET users = \(totalUsers), conversions = \(totalConversions), revenue = \(totalRevenue), revenue_sum_squares = \(totalSquares)
            WHERE tenant_id = \(tenant) AND experiment_id = \(experiment) AND id = \(variant.id)
            """)
        return C.VariantTotals(
            variantId: variant.id, users: totalUsers, conversions: totalConversions, revenue: Money(minorUnits: totalRevenue, currency: currency).decimalText,
            revenueSumSquares: ScaledDecimal.text(totalSquares, fractionDigits: 2 * currency.fractionDigits)
        )
    }

    /// Σ revenue² in currency units², exact to twice the currency's digits.
    static func sumOfSquares(_ text: String, currency: Currency) throws(BusError) -> Int64 {
        let value: Int64
        do {
            value = try ScaledDecimal.parse(text, fractionDigits: 2 * currency.fractionDigits, what: "revenue_sum_squares in \(currency.code)²")
        } catch {
            throw BusError(.invalidArgument, "revenue_sum_squares: \(error.message)")
        }
        guard value >= 0 else { throw BusError(.invalidArgument, "revenue_sum_squares must not be negative") }
        return value
    }

    // MARK: - Reads

    public func get(_ id: String, context: RequestContext) async throws(BusError) -> C.Experiment {
        let tenant = try context.requireTenant().tenant
        return try await store.read(tenant: tenant) { session in try Self.experiment(session, tenant: tenant, id: id) }
    }

    public func results(_ id: String, context: RequestContext) async throws(BusError) -> C.ExperimentResults {
        let experiment = try await get(id, context: context)
        let currency = try ConversionValidation.currency(experiment.currency)
        let results = Self.statistics(experiment)
        let revenues = Dictionary(uniqueKeysWithValues: experiment.variants.map { ($0.id, $0.revenue) })
        return C.ExperimentResults(
            variants: results.variants.map { summary in
                C.VariantResult(
                    variantId: summary.variantID, users: summary.users, conversions: summary.conversions, rate: summary.rate,
                    revenue: revenues[summary.variantID] ?? Money.zero(currency).decimalText, mean: summary.mean
                )
            },
            comparisons: results.comparisons.map { comparison in
                C.ComparisonResult(
                    variantId: comparison.variantID, lift: comparison.lift, ciLow: comparison.ciLow, ciHigh: comparison.ciHigh, pValue: comparison.pValue,
                    chanceToWin: comparison.chanceToWin, undefinedReason: comparison.undefinedReason
                )
            },
            srmPValue: results.srmPValue,
            decision: C.DecisionResult(winnerVariantId: results.decision.winnerVariantID, reason: results.decision.reason)
        )
    }

    static func statistics(_ experiment: C.Experiment) -> ExperimentResults {
        let metric = ExperimentMetric(rawValue: experiment.metric) ?? .conversionRate
        return ExperimentStatistics.analyze(metric: metric, variants: experiment.variants.map { variant in
            VariantObservations(
                variantID: variant.id, weight: variant.weight, users: variant.users, conversions: variant.conversions,
                revenue: Double(variant.revenue) ?? 0, revenueSumSquares: Double(variant.revenueSumSquares) ?? 0
            )
        })
    }

    // MARK: - Rows

    static func lockedExperiment(_ session: any DatabaseSession, tenant: String, id: String) throws -> C.Experiment {
        guard try session.execute("UPDATE experiment SET updated_at = updated_at WHERE tenant_id = \(tenant) AND id = \(id)") == 1 else { throw noExperiment(id) }
        return try experiment(session, tenant: tenant, id: id)
    }

    static func experiment(_ session: any DatabaseSession, tenant: String, id: String) throws -> C.Experiment {
        guard let row = try session.queryFirst("""
            SELECT e.id, e.campaign_id, e.name, e.metric, e.status, e.winner_variant_id, e.confidence, e.created_at, e.updated_at, c.currency
            FROM experiment e JOIN campaign c ON c.tenant_id = e.tenant_id AND c.id = e.campaign_id
            WHERE e.tenant_id = \(tenant) AND e.id = \(id) AND c.deleted_at IS NULL
            """) else { throw noExperiment(id) }
        let currency = try ConversionValidation.currency(try row["currency"])
        let variants = try session.query("""
            SELECT id, weight, clip_id, users, conversions, revenue, revenue_sum_squares FROM experiment_variant
            WHERE tenant_id = \(tenant) AND experiment_id = \(id) ORDER BY position
            """).map { variant in
            C.Variant(
                id: try variant["id"], weight: try variant["weight"], clipId: try variant["clip_id"], users: try variant["users"],
                conversions: try variant["conversions"], revenue: Money(minorUnits: try variant["revenue"], currency: currency).decimalText,
                revenueSumSquares: ScaledDecimal.text(try variant["revenue_sum_squares"], fractionDigits: 2 * currency.fractionDigits)
            )
        }
        let created: Timestamp = try row["created_at"], updated: Timestamp = try row["updated_at"]
        return C.Experiment(
            id: try row["id"], campaignId: try row["campaign_id"], name: try row["name"], metric: try row["metric"], status: try row["status"],
            currency: currency.code, variants: variants, winnerVariantId: try row["winner_variant_id"], confidence: try row["confidence"],
            createdAt: created.iso8601, updatedAt: updated.iso8601
        )
    }

    static func metric(_ text: String) throws(BusError) -> ExperimentMetric {
        guard let metric = ExperimentMetric(rawValue: text) else { throw BusError(.invalidArgument, "metric must be conversion_rate or revenue, got \(text)") }
        return metric
    }

    static func status(_ text: String) throws(BusError) -> C.ExperimentStatus {
        guard let status = C.ExperimentStatus(rawValue: text) else {
            throw BusError(.invalidArgument, "status must be one of \(C.ExperimentStatus.allCases.map(\.rawValue).joined(separator: ", ")), got \(text)")
        }
        return status
    }

    static func noExperiment(_ id: String) -> BusError { BusError(.notFound, "no experiment \(id)") }
}
