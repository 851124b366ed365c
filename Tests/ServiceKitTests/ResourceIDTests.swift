import ServiceKit
import Testing

@Suite struct ResourceIDTests {
    @Test func idsAreCuidShapedUniqueAndTimeOrdered() {
        let ids = (0..<20_000).map { _ in ResourceID.make() }
        #expect(Set(ids).count == ids.count)
        for id in ids.prefix(100) {
            #expect(id.count == 25)
            #expect(id.hasPrefix("c"))
            #expect(id.allSatisfy { $0.isASCII && ($0.isLowercase || $0.isNumber) })
        }
        // The time part (after "c", 8 characters) never goes backwards.
        let times = ids.map { $0.dropFirst().prefix(8) }
        #expect(times == times.sorted())
    }
}
