import Contracts
import Foundation
import ServiceKit
import Storage

/// The Gateway API seed's sample data: two campaigns, each with an
/// experiment, and ten conversions from several sources (sent as twelve: two
/// are duplicates, answered with the stored record). Recorded through the
/// service's own code, so roll-ups, variant totals and events are as a user's
/// requests would leave them. Campaigns whose name exists are left alone.
enum ConversionSamples {
    typealias C = ConversionContracts

    static func seed(_ database: any Database, tenant: String) async throws -> Int {
        try await database.write(tenant: tenant) { session in
            let taken = try session.queryFirst("SELECT 1 AS x FROM campaign WHERE tenant_id = \(tenant) AND name = 'Spring launch' AND deleted_at IS NULL")
            guard taken == nil else { return 0 }
            let now = Timestamp.now()
            func campaign(_ name: String, _ objective: C.Objective, budget: Int64, spend: Int64, impressions: Int64, clicks: Int64, meta: String) throws -> String {
                let id = ResourceID.make()
                try session.execute("""
                    INSERT INTO campaign (tenant_id, id, name, objective, status, currency, budget, spend, impressions, clicks, conversions, conversion_value,
                        clip_ids, meta_campaign_id, created_at, updated_at)
                    VALUES (\(tenant), \(id), \(name), \(objective.rawValue), 'ACTIVE', 'USD', \(budget), \(spend), \(impressions), \(clicks), 0, 0, '[]', \(meta), \(now), \(now))
                    """)
                return id
            }
            func experiment(_ campaign: String, _ name: String, _ metric: ExperimentMetric, users: [Int64], conversions: [Int64]) throws -> String {
                let id = ResourceID.make()
                try session.execute("""
                    INSERT INTO experiment (tenant_id, id, campaign_id, name, metric, status, created_at, updated_at)
                    VALUES (\(tenant), \(id), \(campaign), \(name), \(metric.rawValue), 'RUNNING', \(now), \(now))
                    """)
                for (position, variant) in ["control", "challenger"].enumerated() {
                    try session.execute("""
                        INSERT INTO experiment_variant (tenant_id, experiment_id, id, position, weight, users, conversions, revenue, revenue_sum_squares)
                        VALUES (\(tenant), \(id), \(variant), \(position), 0.5, \(users[position]), \(conversions[position]), 0, 0)
                        """)
                }
                return id
            }
            let spring = try campaign("Spring launch", .conversions, budget: 500_000, spend: 182_050, impressions: 120_000, clicks: 3_400, meta: "act_120210001")
            let summer = try campaign("Summer reel", .engagement, budget: 250_000, spend: 64_000, impressions: 80_000, clicks: 1_900, meta: "act_120210002")
            let springTest = try experiment(spring, "Hook in the first second", .conversionRate, users: [1_200, 1_180], conversions: [48, 71])
            _ = try experiment(summer, "Caption styles", .conversionRate, users: [400, 410], conversions: [12, 13])
            let day: Int64 = 24 * 60 * 60 * 1000
            let base = now.millisecondsSince1970 - 10 * day
            let samples: [(C.Source, String, String?, String, Int64, [String], Bool)] = [
                (.meta, "fb-1001", "Purchase", "49.90", 0, [spring], true),
                (.meta, "fb-1002", "Purchase", "19.99", 1, [summer, spring], true),
                (.meta, "fb-1001", "Purchase", "49.90", 1, [spring], true),  // a duplicate within 48 h
                (.google, "order-2001", nil, "120.00", 2, [spring], false),
                (.google, "order-2002", nil, "35.50", 3, [summer], false),
                (.google, "order-2001", nil, "120.00", 4, [spring], false),  // a duplicate (same order id)
                (.tiktok, "tt-3001", "CompletePayment", "15.00", 5, [summer], false),
                (.manual, "invoice-4001", nil, "300.00", 6, [], false),
                (.webhook, "wh-5001", nil, "9.99", 7, [spring, summer], false),
                (.meta, "fb-1001", "Purchase", "49.90", 8, [spring], true),  // the same ids a week later: a new conversion
                (.tiktok, "tt-3002", "CompletePayment", "22.00", 8, [summer], false),
                (.manual, "invoice-4002", nil, "75.00", 9, [spring], false),
            ]
            var recorded = 0
            for (index, sample) in samples.enumerated() {
                let (source, external, event, value, days, touched, inExperiment) = sample
                let occurred = base + days * day + Int64(index) * 60_000
                let request = C.RecordConversionRequest(
                    source: source.rawValue, externalId: external, campaignId: inExperiment ? spring : (touched.first ?? spring), experimentId: inExperiment ? springTest : nil,
                    variantId: inExperiment ? (index % 2 == 0 ? "challenger" : "control") : nil, value: MoneyText(value),
                    occurredAt: Timestamp(millisecondsSince1970: occurred).iso8601, eventName: event,
                    touchpoints: touched.enumerated().map { position, campaign in
                        C.Touch(campaignId: campaign, at: Timestamp(millisecondsSince1970: occurred - Int64(touched.count - position) * day / 2).iso8601)
                    }
                )
                let incoming = try ConversionService.check(request)
                if try ConversionService.duplicate(of: incoming, session, tenant: tenant) == nil {
                    _ = try ConversionService.insert(incoming, session, tenant: tenant)
                    recorded += 1
                }
            }
            return 2 + 2 + recorded
        }
    }
}
