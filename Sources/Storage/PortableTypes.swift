import Foundation

/// An instant in UTC with millisecond precision, stored as a 64-bit integer
/// of milliseconds since 1970 (`BIGINT` on PostgreSQL, `INTEGER` on SQLite):
/// exact, ordered and comparable in SQL on both engines.
public struct Timestamp: DatabaseValueConvertible, Hashable, Comparable, Codable, CustomStringConvertible {
    public var millisecondsSince1970: Int64

    public init(millisecondsSince1970: Int64) {
        self.millisecondsSince1970 = millisecondsSince1970
    }

    public init(_ date: Date) {
        millisecondsSince1970 = Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }

    public static func now() -> Timestamp { Timestamp(Date()) }

    public var date: Date { Date(timeIntervalSince1970: Double(millisecondsSince1970) / 1000) }

    /// Parses ISO 8601 with any offset (`2026-02-15T01:51:21.676+02:00`, `…Z`).
    public init?(iso8601 text: String) {
        let withFraction = Date.ISO8601FormatStyle(includingFractionalSeconds: true)
        guard let date = (try? withFraction.parse(text)) ?? (try? Date.ISO8601FormatStyle().parse(text)) else { return nil }
        self.init(date)
    }

    /// ISO 8601 in UTC with milliseconds: `2026-02-15T01:51:21.676Z`.
    public var iso8601: String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
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
