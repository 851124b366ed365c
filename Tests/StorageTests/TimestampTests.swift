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

    /// Every instant of years 1 to 9999 prints and reads back (the proleptic Gregorian calendar both ways).
    @Test func everyInstantOfTheFourDigitYearsReadsBack() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let timestamp = Timestamp(millisecondsSince1970: Int64.random(in: -62_135_596_800_000...253_402_300_799_999, using: &generator))
            #expect(Timestamp(iso8601: timestamp.iso8601) == timestamp, "\(timestamp.iso8601) reads back as another instant")
        }
        #expect(Timestamp(millisecondsSince1970: -62_135_596_800_000).iso8601 == "0001-01-01T00:00:00.000Z")
    }

    @Test func instantsAreReadStrictlyWithTheirZone() {
        let utc = Timestamp(iso8601: "2026-02-15T01:51:21.676Z")
        #expect(utc?.millisecondsSince1970 == 1_771_120_281_676)
        for same in ["2026-02-15T03:51:21.676+02:00", "2026-02-15T03:51:21.676+0200", "2026-02-14T20:21:21.676-05:30", "2026-02-15t01:51:21.676z",
                     "2026-02-15T01:51:21.6769999Z", "2026-02-15T02:51:21.676+01"] {
            #expect(Timestamp(iso8601: same) == utc, "\(same)")
        }
        #expect(Timestamp(iso8601: "2026-02-15T01:51:21Z")?.millisecondsSince1970 == 1_771_120_281_000)
        #expect(Timestamp(iso8601: "2026-02-15T01:51:21.6Z")?.millisecondsSince1970 == 1_771_120_281_600)
        for refused in ["2026-02-15T01:51:21.676", "2026-02-15T01:51:21.676Z trailing", "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z",
                        "2026-02-15T24:00:00Z", "2026-02-15T01:51:60Z", "2026-02-15T01:51:21.1.2Z", "2026-02-15T01:51:21+05:30.5",
                        "0000-01-01T00:00:00Z", "2026-2-15T01:51:21Z", "2026-02-15 01:51:21Z", "2026-02-15T01:51:21.Z", ""] {
            #expect(Timestamp(iso8601: refused) == nil, "\(refused) was read")
        }
        #expect(Timestamp(iso8601: "2024-02-29T00:00:00Z") != nil)
    }
}
