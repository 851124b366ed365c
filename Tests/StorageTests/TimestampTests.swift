import Foundation
import Storage
import Testing

/// Timestamps print the millisecond they hold and read back to it.
@Suite struct TimestampTests {
    @Test func answersShowTheStoredMillisecond() {
        // Through a binary Date these printed one lower (…25.799Z).
        #expect(Timestamp(millisecondsSince1970: 1_796_041_645_800).iso8601 == "2026-11-30T12:27:25.800Z")
        #expect(Timestamp(millisecondsSince1970: 1_796_041_645_852).iso8601 == "2026-11-30T12:27:25.852Z")
        #expect(Timestamp(millisecondsSince1970: 0).iso8601 == "1970-01-01T00:00:00.000Z")
        #expect(Timestamp(millisecondsSince1970: -1).iso8601 == "1969-12-31T23:59:59.999Z")
        #expect(Timestamp(millisecondsSince1970: 951_782_400_000).iso8601 == "2000-02-29T00:00:00.000Z")
        #expect(Timestamp(millisecondsSince1970: 253_402_300_799_999).iso8601 == "9999-12-31T23:59:59.999Z")
    }

    /// Against Foundation's calendar (whole seconds, which a Date holds exactly), and back through the parser.
    @Test func everyMillisecondPrintsAsFoundationsCalendarSaysAndReadsBack() {
        var generator = SystemRandomNumberGenerator()
        let format = Date.ISO8601FormatStyle()
        for _ in 0..<20_000 {
            // 1901 to 2400.
            let milliseconds = Int64.random(in: -2_177_452_800_000...13_569_465_600_000, using: &generator)
            let timestamp = Timestamp(millisecondsSince1970: milliseconds)
            let seconds = Int64((Double(milliseconds) / 1000).rounded(.down))
            let fraction = milliseconds - seconds * 1000
            let expected = format.format(Date(timeIntervalSince1970: Double(seconds))).dropLast() + "." + String(format: "%03d", fraction) + "Z"
            #expect(timestamp.iso8601 == expected)
            #expect(Timestamp(iso8601: timestamp.iso8601) == timestamp, "\(timestamp.iso8601) reads back as another instant")
        }
    }
}
