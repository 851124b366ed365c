import Contracts
import Conversion
import Foundation
import Storage
import TestSupport
import Testing

/// `videobus seed --service conversion`: the seed's two campaigns with
/// their experiments and ten conversions, recorded through the service's own
/// code (two more are duplicates), once.
@Suite(.serialized) struct ConversionSamplesTests {
    @Test(arguments: Engine.allCases)
    func theSamplesAreTwoCampaignsTwoExperimentsAndTenConversionsOnce(_ engine: Engine) async throws {
        try await ConversionFixture.with(engine) { f in
            #expect(try await ConversionSchema.schema.seed(f.owner) == 14)
            #expect(try await ConversionSchema.schema.seed(f.owner) == 0, "seeding again adds nothing")
            let totals = try await f.owner.read { session in
                try session.query("""
                    SELECT c.name, c.conversions, c.conversion_value,
                        (SELECT COUNT(*) FROM conversion v WHERE v.campaign_id = c.id) AS recorded,
                        (SELECT COALESCE(SUM(v.value), 0) FROM conversion v WHERE v.campaign_id = c.id) AS recorded_value,
                        (SELECT COUNT(*) FROM experiment e WHERE e.campaign_id = c.id) AS experiments
                    FROM campaign c WHERE c.tenant_id = 'default' ORDER BY c.name
                    """).map { row in
                    (try row.decode(String.self, "name"), try row.decode(Int64.self, "conversions"), try row.decode(Int64.self, "conversion_value"),
                     try row.decode(Int64.self, "recorded"), try row.decode(Int64.self, "recorded_value"), try row.decode(Int64.self, "experiments"))
                }
            }
            #expect(totals.map(\.0) == ["Spring launch", "Summer reel"])
            #expect(totals.reduce(0) { $0 + $1.3 } == 10, "ten conversions: \(totals)")
            for (name, conversions, value, recorded, recordedValue, experiments) in totals {
                #expect(conversions == recorded && value == recordedValue, "\(name)'s roll-up follows its conversions")
                #expect(experiments == 1, "\(name) has its experiment")
            }
        }
    }
}
