import Foundation

/// An instant in UTC with millisecond precision, stored as a 64-bit integer
/// of milliseconds since 1970 (`BIGINT` on PostgreSQL, `INTEGER` on SQLite):
/// exact, ordered and comparable in SQL on both engines.
public struct Timestamp: DatabaseValueConvertible, Hashable, Comparable, Codable, CustomStringConvertible {
    public var millisecondsSince1970: Int64

    public init(millisecondsSince1970: Int64) {
        self.millisecondsSince1970 = millisecondsSince1970
    }

    /// Sub-millisecond digits are dropped. Half a microsecond is added
    /// first: a `Date` holds binary seconds, so `…21.800` arrives as
    /// `…21.79999…` and would otherwise lose a millisecond.
    public init(_ date: Date) {
        millisecondsSince1970 = Int64((date.timeIntervalSince1970 * 1000 + 0.0005).rounded(.down))
    }

    public static func now() -> Timestamp { Timestamp(Date()) }

    public var date: Date { Date(timeIntervalSince1970: Double(millisecondsSince1970) / 1000) }

    /// Parses an ISO 8601 instant with its zone: `2026-02-15T01:51:21.676Z`,
    /// `…+02:00`, `…+0200`, `…+02`, with or without a fraction (digits past
    /// the millisecond are dropped); years 0001 to 9999 of the proleptic
    /// Gregorian calendar, as ``iso8601`` prints them. Anything else
    /// (no zone, trailing text, an impossible date) is nil.
    public init?(iso8601 text: String) {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ width: Int) -> Int64? {
            guard index + width <= bytes.count else { return nil }
            var value: Int64 = 0
            for byte in bytes[index..<index + width] {
                guard (0x30...0x39).contains(byte) else { return nil }
                value = value * 10 + Int64(byte - 0x30)
            }
            index += width
            return value
        }
        func literal(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), literal("-"), let month = number(2), literal("-"), let day = number(2), literal("Tt"),
            let hour = number(2), literal(":"), let minute = number(2), literal(":"), let second = number(2),
            year >= 1, (1...12).contains(month), (1...Self.days(inMonth: month, of: year)).contains(day), hour < 24, minute < 60, second < 60
        else { return nil }
        var milliseconds: Int64 = 0
        if literal(".") {
            var digits = 0
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) {
                if digits < 3 { milliseconds = milliseconds * 10 + Int64(bytes[index] - 0x30) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            for _ in digits..<max(digits, 3) { milliseconds *= 10 }
        }
        var offsetMinutes: Int64 = 0
        if !literal("Zz") {
            guard index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") else { return nil }
            let sign: Int64 = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let hours = number(2), hours < 24 else { return nil }
            var minutes: Int64 = 0
            if index < bytes.count {
                _ = literal(":")
                guard let value = number(2), value < 60 else { return nil }
                minutes = value
            }
            offsetMinutes = sign * (hours * 60 + minutes)
        }
        guard index == bytes.count else { return nil }
        let seconds = Self.daysFromCivil(year: year, month: month, day: day) * 86_400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60
        self.init(millisecondsSince1970: seconds * 1000 + milliseconds)
    }

    static func days(inMonth month: Int64, of year: Int64) -> Int64 {
        switch month {
        case 2: year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
    static func daysFromCivil(year: Int64, month: Int64, day: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// ISO 8601 in UTC with milliseconds: `2026-02-15T01:51:21.676Z`,
    /// from the integer itself (through `Date`'s binary seconds half the
    /// milliseconds would print one lower). The date is the proleptic
    /// Gregorian calendar's (H. Hinnant's `civil_from_days`).
    public var iso8601: String {
        let (seconds, millisecond) = millisecondsSince1970.floorDividedBy(1000)
        let (days, secondOfDay) = seconds.floorDividedBy(86_400)
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        let year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0)
        func digits(_ value: Int64, _ width: Int) -> String {
            let text = String(value)
            return text.count >= width ? text : String(repeating: "0", count: width - text.count) + text
        }
        return "\(digits(year, 4))-\(digits(month, 2))-\(digits(day, 2))T\(digits(secondOfDay / 3600, 2)):\(digits(secondOfDay / 60 % 60, 2)):\(digits(secondOfDay % 60, 2)).\(digits(millisecond, 3))Z"
    }

    public var description: String { iso8601 }

    public var databaseValue: DatabaseValue { .integer(millisecondsSince1970) }
    public init(databaseValue: DatabaseValue) throws(StorageError) {
        millisecondsSince1970 = try Int64(databaseValue: databaseValue)
    }

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.millisecondsSince1970 < b.millisecondsSince1970 }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        guard let value = Timestamp(iso8601: text) else {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 timestamp: \(text)"))
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(iso8601)
    }
}

/// An exact decimal in integer units at a fixed scale (`scale` 2: cents;
/// 4: hundredths of a cent). Stored as the 64-bit integer of units, so sums
/// in SQL stay exact on both engines; the scale is a property of the column,
/// given when reading. (Money with its currency is `Contracts.Money`.)
public struct FixedPoint: Hashable, Sendable, CustomStringConvertible {
    public var minorUnits: Int64
    public var scale: Int

    public init(minorUnits: Int64, scale: Int) {
        precondition((0...18).contains(scale), "scale must be 0...18")
        self.minorUnits = minorUnits
        self.scale = scale
    }

    /// Parses a decimal like `-12.34` exactly; nil when it has more decimals than `scale` or overflows.
    public init?(_ text: String, scale: Int) {
        var digits = Substring(text)
        let negative = digits.first == "-"
        if negative || digits.first == "+" { digits = digits.dropFirst() }
        let parts = digits.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...2).contains(parts.count), !parts[0].isEmpty, parts.allSatisfy({ $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }) else { return nil }
        let fraction = parts.count == 2 ? parts[1] : ""
        guard fraction.count <= scale, parts.count == 1 || !fraction.isEmpty else { return nil }
        let padded = String(parts[0]) + fraction + String(repeating: "0", count: scale - fraction.count)
        guard let magnitude = Int64(padded) else { return nil }
        self.init(minorUnits: negative ? -magnitude : magnitude, scale: scale)
    }

    /// The exact decimal text, with `scale` decimals.
    public var description: String {
        let magnitude = minorUnits.magnitude
        var digits = String(magnitude)
        if scale > 0 {
            if digits.count <= scale { digits = String(repeating: "0", count: scale - digits.count + 1) + digits }
            digits.insert(".", at: digits.index(digits.endIndex, offsetBy: -scale))
        }
        return (minorUnits < 0 ? "-" : "") + digits
    }

    public var databaseValue: DatabaseValue { .integer(minorUnits) }

    /// Reads a column of minor units at `scale`.
    public init(databaseValue: DatabaseValue, scale: Int) throws(StorageError) {
        self.init(minorUnits: try Int64(databaseValue: databaseValue), scale: scale)
    }
}

/// JSON text for a JSON column (`jsonb` on PostgreSQL; `TEXT` checked with
/// `json_valid` on SQLite). PostgreSQL normalises jsonb (key order,
/// whitespace): compare values, not text.
public struct JSONText: DatabaseValueConvertible, Hashable {
    public var text: String

    /// - Throws: ``StorageError/Code/decoding`` when `text` is not JSON.
    public init(_ text: String) throws(StorageError) {
        guard (try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])) != nil else {
            throw StorageError(.decoding, "not valid JSON")
        }
        self.text = text
    }

    public var databaseValue: DatabaseValue { .text(text) }
    public init(databaseValue: DatabaseValue) throws(StorageError) {
        text = try String(databaseValue: databaseValue)
    }

    /// The value, parsed.
    public var object: Any? { try? JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed]) }
}

extension Int64 {
    /// Quotient rounded toward minus infinity, and the remainder that goes with it (never negative for a positive divisor).
    func floorDividedBy(_ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
        let (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}
