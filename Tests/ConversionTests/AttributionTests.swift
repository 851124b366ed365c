@testable import Conversion
import Testing

@Suite("Attribution")
struct AttributionTests {
    let day: Int64 = 24 * 60 * 60 * 1000
    let occurred: Int64 = 1_770_000_000_000

    func credits(
        _ value: Int64, _ touches: [(String, Int64)], _ model: AttributionModel, campaign: String? = nil
    ) -> [String: Int64] {
        let list = Attribution.credits(
            value: value, touchpoints: touches.map { Touchpoint(campaignID: $0.0, at: $0.1) },
            occurredAt: occurred, model: model, campaignID: campaign)
        return Dictionary(uniqueKeysWithValues: list.map { ($0.campaignID, $0.minorUnits) })
    }

    func ordered(_ value: Int64, _ touches: [(String, Int64)], _ model: AttributionModel) -> [String] {
        Attribution.credits(
            value: value, touchpoints: touches.map { Touchpoint(campaignID: $0.0, at: $0.1) },
            occurredAt: occurred, model: model
        ).map(\.campaignID)
    }

    @Test(arguments: AttributionModel.allCases)
    func oneTouchTakesEverything(model: AttributionModel) {
        #expect(credits(1000, [("A", occurred - 3 * day)], model) == ["A": 1000])
    }

    @Test func twoTouches() {
        let touches = [("A", occurred - 14 * day), ("B", occurred - 7 * day)]
        #expect(credits(1000, touches, .last) == ["B": 1000])
        #expect(credits(1000, touches, .first) == ["A": 1000])
        // 500.5 each: the odd unit goes to the later touch.
        #expect(credits(1001, touches, .linear) == ["A": 500, "B": 501])
        #expect(credits(1001, touches, .position) == ["A": 500, "B": 501])
        // Weights ¼ and ½ → ⅓ and ⅔ of 1000: 333.33 and 666.67.
        #expect(credits(1000, touches, .timeDecay) == ["A": 333, "B": 667])
    }

    @Test func requestOrderIsIrrelevantButBreaksTimeTies() {
        let later = [("B", occurred - 7 * day), ("A", occurred - 14 * day)]
        #expect(credits(1000, later, .last) == ["B": 1000])
        #expect(ordered(1000, later, .linear) == ["A", "B"])
        // Equal times keep request order, and the later one is the last in it.
        let tied = [("X", occurred - day), ("Y", occurred - day)]
        #expect(credits(9, tied, .last) == ["Y": 9])
        #expect(credits(9, tied, .first) == ["X": 9])
        #expect(credits(1, tied, .linear) == ["Y": 1])
        #expect(credits(1, tied, .timeDecay) == ["Y": 1])
        let swapped = [("Y", occurred - day), ("X", occurred - day)]
        #expect(credits(9, swapped, .last) == ["X": 9])
        #expect(credits(3, [("X", 5), ("Y", 5), ("Z", 5)], .timeDecay) == ["X": 1, "Y": 1, "Z": 1])
    }

    @Test func positionSharesFortyTwentyForty() {
        let four = [("A", 1), ("B", 2), ("C", 3), ("D", 4)].map { ($0.0, Int64($0.1)) }
        #expect(credits(1000, four, .position) == ["A": 400, "B": 100, "C": 100, "D": 400])
        // 400.4, 100.1, 100.1, 400.4: the spare unit goes to the later of the tied ends.
        #expect(credits(1001, four, .position) == ["A": 400, "B": 100, "C": 100, "D": 401])
        // 7 over 6:1:1:1:6 → 2.8, 0.47 ×3, 2.8: last, first, then the latest middle.
        let five = ["A", "B", "C", "D", "E"].enumerated().map { ($0.element, Int64($0.offset)) }
        #expect(credits(7, five, .position) == ["A": 3, "D": 1, "E": 3])
        #expect(ordered(7, five, .position) == ["A", "D", "E"])
    }

    @Test func linearRemaindersGoToTheLatestTouches() {
        let touches = ["A", "B", "C", "D"].enumerated().map { ($0.element, Int64($0.offset)) }
        #expect(credits(10, touches, .linear) == ["A": 2, "B": 2, "C": 3, "D": 3])
        #expect(credits(3, touches, .linear) == ["B": 1, "C": 1, "D": 1])
    }

    @Test func campaignsTouchedTwiceAreSummedInOrderOfFirstTouch() {
        let touches: [(String, Int64)] = [("B", 2), ("A", 3), ("A", 1)]
        // In time order A, B, A: 33.33 each, the spare unit to the last A.
        #expect(credits(100, touches, .linear) == ["A": 67, "B": 33])
        #expect(ordered(100, touches, .linear) == ["A", "B"])
        #expect(ordered(100, touches, .last) == ["A"])
    }

    @Test func timeDecayHalvesEachWeek() {
        let touches = [("A", occurred - 21 * day), ("B", occurred - 7 * day), ("C", occurred)]
        // Weights ⅛, ½, 1 of 1⅝: 1300 → 100, 400, 800 exactly.
        #expect(credits(1300, touches, .timeDecay) == ["A": 100, "B": 400, "C": 800])
        // A touch ten years old weighs 2^-521: nothing, and it is left out.
        #expect(credits(1000, [("Old", occurred - 3650 * day), ("New", occurred - day)], .timeDecay) == ["New": 1000])
        // Touches long before the conversion keep their ratios (no underflow to 0/0).
        let ancient = [("A", occurred - 7007 * day), ("B", occurred - 7000 * day)]
        #expect(credits(300, ancient, .timeDecay) == ["A": 100, "B": 200])
    }

    @Test func withoutTouchpoints() {
        #expect(credits(500, [], .linear, campaign: "C") == ["C": 500])
        #expect(credits(500, [], .timeDecay) == [:])
        #expect(credits(0, [], .last, campaign: "C") == [:])
        #expect(credits(0, [("A", 1), ("B", 2)], .linear) == [:])
    }

    @Test(arguments: AttributionModel.allCases)
    func int64MaxSplitsExactly(model: AttributionModel) {
        let touches = (0..<7).map { ("C\($0)", occurred - Int64($0) * day) }
        let result = credits(.max, touches, model)
        #expect(result.values.reduce(0 as Int64) { $0 + $1 } == .max)
        #expect(result.values.allSatisfy { $0 > 0 })
    }

    @Test func splitIsLargestRemainderWithLaterTies() {
        #expect(Attribution.split(10, weights: [1, 1, 1]) == [3, 3, 4])
        #expect(Attribution.split(2, weights: [1, 1, 1]) == [0, 1, 1])
        #expect(Attribution.split(5, weights: [0, 3, 0]) == [0, 5, 0])
        #expect(Attribution.split(100, weights: [1, 2]) == [33, 67])
    }

    /// 10,000 random conversions under every model: credits always sum to the
    /// value exactly, none is zero or negative, each campaign appears once and
    /// in order of its first touch.
    @Test func randomPathsSumExactly() throws {
        var random = SplitMix64(seed: 20_260_215)
        let campaigns = ["A", "B", "C", "D", "E"]
        for _ in 0..<10_000 {
            let value = Int64(random.next(below: 1_000_000_000_001))
            let count = Int(random.next(below: 20)) + 1
            var touches: [Touchpoint] = []
            for _ in 0..<count {
                let campaign = campaigns[Int(random.next(below: UInt64(campaigns.count)))]
                // Some paths reuse a few coarse instants, so equal times are common.
                let at = random.next(below: 2) == 0
                    ? occurred - Int64(random.next(below: 60 * UInt64(day)))
                    : occurred - Int64(random.next(below: 4)) * day
                touches.append(Touchpoint(campaignID: campaign, at: at))
            }
            let firstTouchOrder = Attribution.inTimeOrder(touches).map(\.campaignID).reduce(into: [String]()) {
                if !$0.contains($1) { $0.append($1) }
            }
            for model in AttributionModel.allCases {
                let result = Attribution.credits(value: value, touchpoints: touches, occurredAt: occurred, model: model)
                let total = result.reduce(0 as Int64) { $0 + $1.minorUnits }
                try #require(total == value, "\(model) \(value) \(touches)")
                try #require(result.allSatisfy { $0.minorUnits > 0 }, "\(model) \(value) \(touches)")
                let ids = result.map(\.campaignID)
                try #require(ids == firstTouchOrder.filter(ids.contains), "\(model) \(touches)")
            }
        }
    }
}
