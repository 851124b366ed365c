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

    /// Parses ISO 8601 with any offset (`2026-02-15T01:51:21.676+02:00`,
    /// `…Z`); digits past the millisecond are dropped. The fraction is read
    /// as digits and Foundation parses only whole seconds, which a `Date`
    /// holds exactly: through its binary seconds a millisecond could come
    /// out one lower.
    public init?(iso8601 text: String) {
        var whole = text
        var milliseconds: Int64 = 0
        if let dot = text.firstIndex(of: ".") {
            let fraction = text[text.index(after: dot)...]
            let digits = fraction.prefix { $0.isASCII && $0.isNumber }
            guard !digits.isEmpty else { return nil }
            milliseconds = Int64(String((digits + "00").prefix(3)))!
            whole = String(text[..<dot] + fraction.dropFirst(digits.count))
        }
        guard let date = try? Date.ISO8601FormatStyle().parse(whole) else { return nil }
        self.init(millisecondsSince1970: Int64(date.timeIntervalSince1970.rounded()) * 1000 + milliseconds)
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

/// An exact amount of money in integer minor units at a fixed scale
/// (`scale` 2: cents; 4: hundredths of a cent). Stored as the 64-bit integer
/// of minor units, so sums in SQL stay exact on both engines; the scale is a
/// property of the column, given when reading.
public struct Money: Hashable, Sendable, CustomStringConvertible {
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
