import Foundation

/// Why an amount or a currency was refused. `message` names the offending
/// text and what would be accepted, so a service can answer 422 with it after
/// the field's name; `kind` is for callers that branch.
public struct MoneyError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Hashable, Sendable {
        /// Not an ISO 4217 code this build knows.
        case unknownCurrency
        /// Not decimal text (`-?digits[.digits][e[+-]digits]`).
        case notADecimal
        /// Nonzero digits below the currency's smallest unit (`"1.235"` USD).
        case tooManyFractionDigits
        /// More minor units than an Int64 holds, or an overflowing sum/product.
        case outOfRange
        /// Two amounts in different currencies were combined.
        case currencyMismatch
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { message }
}

/// An ISO 4217 currency and how many fraction digits its amounts have.
///
/// Only codes in `Currency.fractionDigitsByCode` are accepted: the digit count
/// decides what "exact" means for every amount, so guessing it for an unknown
/// code would silently change values.
public struct Currency: Hashable, Sendable, CustomStringConvertible {
    public let code: String
    public let fractionDigits: Int

    /// The currency of an amount sent without one (API.md: default `"USD"`).
    public static let `default` = Currency(known: "USD", 2)
    public static let usd = Currency(known: "USD", 2)
    public static let eur = Currency(known: "EUR", 2)
    public static let jpy = Currency(known: "JPY", 0)
    public static let bhd = Currency(known: "BHD", 3)

    /// The known codes. Codes are case-sensitive capitals, as ISO writes them,
    /// so the code a client sent is the code it reads back.
    public static let fractionDigitsByCode: [String: Int] = {
        var table: [String: Int] = [:]
        for code in [
            "USD", "EUR", "GBP", "CHF", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK", "PLN", "CZK",
            "HUF", "INR", "CNY", "HKD", "SGD", "BRL", "MXN", "ZAR", "TRY", "ILS", "AED", "SAR",
        ] { table[code] = 2 }
        for code in ["JPY", "KRW", "CLP", "ISK", "VND", "UGX", "XAF", "XOF"] { table[code] = 0 }
        for code in ["BHD", "KWD", "JOD", "OMR", "TND", "LYD", "IQD"] { table[code] = 3 }
        return table
    }()

    /// Looks the code up; an unknown one is an error naming it.
    public init(code: String) throws(MoneyError) {
        guard let digits = Currency.fractionDigitsByCode[code] else {
            throw MoneyError(
                .unknownCurrency,
                "unknown currency \"\(code)\": use an ISO 4217 code in capitals, such as \"USD\", \"EUR\" or \"JPY\"")
        }
        self.init(known: code, digits)
    }

    private init(known code: String, _ digits: Int) {
        self.code = code
        self.fractionDigits = digits
    }

    /// Minor units in one major unit (100 for USD, 1 for JPY, 1000 for BHD).
    public var minorUnitsPerUnit: Int64 {
        var result: Int64 = 1
        for _ in 0..<fractionDigits { result *= 10 }
        return result
    }

    public var description: String { code }
}

extension Currency: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let code = try container.decode(String.self)
        do {
            try self.init(code: code)
        } catch {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: error.message)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(code)
    }
}

/// An exact amount: an integer count of the currency's minor units.
///
/// Amounts are parsed from and printed as decimal text and never pass through
/// a binary float, so `0.10` added 30 times is exactly `3.00`. Arithmetic
/// throws instead of wrapping or trapping, because an overflowing roll-up is
/// bad input to answer, not a reason to crash the service.
public struct Money: Hashable, Sendable, CustomStringConvertible {
    public let minorUnits: Int64
    public let currency: Currency

    public init(minorUnits: Int64, currency: Currency = .default) {
        self.minorUnits = minorUnits
        self.currency = currency
    }

    public static func zero(_ currency: Currency = .default) -> Money {
        Money(minorUnits: 0, currency: currency)
    }

    /// Reads decimal text exactly: `-?digits[.digits][(e|E)[+-]digits]`, the
    /// JSON number grammar (leading zeros allowed). Fraction digits beyond the
    /// currency's are accepted only when they are zeros (`"1.230"` USD is
    /// 1.23; `"1.235"` is refused), so no amount is ever rounded.
    public init(parsing text: some StringProtocol, currency: Currency = .default) throws(MoneyError) {
        self.init(minorUnits: try MoneyParser.minorUnits(String(text), currency: currency), currency: currency)
    }

    /// The amount with exactly the currency's fraction digits: `"3.00"`,
    /// `"-0.50"`, `"1250"` (JPY), `"1.250"` (BHD). This is the form answers carry.
    public var decimalText: String {
        let digits = currency.fractionDigits
        let magnitude = minorUnits.magnitude  // UInt64, so Int64.min prints too
        let sign = minorUnits < 0 ? "-" : ""
        guard digits > 0 else { return sign + String(magnitude) }
        let perUnit = UInt64(currency.minorUnitsPerUnit)
        let fraction = String(magnitude % perUnit)
        return sign + String(magnitude / perUnit) + "."
            + String(repeating: "0", count: digits - fraction.count) + fraction
    }

    public var description: String { decimalText + " " + currency.code }

    /// The nearest Double, for statistics only (correctly rounded from the
    /// decimal text, not minorUnits / 10^digits, which rounds twice).
    public var doubleValue: Double { Double(decimalText)! }

    public func adding(_ other: Money) throws(MoneyError) -> Money {
        try sameCurrency(other, "add")
        let (sum, overflow) = minorUnits.addingReportingOverflow(other.minorUnits)
        if overflow { throw Money.overflow("\(decimalText) + \(other.decimalText)", currency) }
        return Money(minorUnits: sum, currency: currency)
    }

    public func subtracting(_ other: Money) throws(MoneyError) -> Money {
        try sameCurrency(other, "subtract")
        let (difference, overflow) = minorUnits.subtractingReportingOverflow(other.minorUnits)
        if overflow { throw Money.overflow("\(decimalText) - \(other.decimalText)", currency) }
        return Money(minorUnits: difference, currency: currency)
    }

    public func multiplied(by factor: Int64) throws(MoneyError) -> Money {
        let (product, overflow) = minorUnits.multipliedReportingOverflow(by: factor)
        if overflow { throw Money.overflow("\(decimalText) × \(factor)", currency) }
        return Money(minorUnits: product, currency: currency)
    }

    /// The exact sum of `amounts`, all in `currency` (an empty sum is zero).
    public static func sum(_ amounts: some Sequence<Money>, currency: Currency = .default) throws(MoneyError) -> Money {
        var total = Money.zero(currency)
        for amount in amounts { total = try total.adding(amount) }
        return total
    }

    private func sameCurrency(_ other: Money, _ verb: String) throws(MoneyError) {
        guard currency == other.currency else {
            throw MoneyError(
                .currencyMismatch,
                "cannot \(verb) \(other.currency.code) \(other.decimalText) and \(currency.code) \(decimalText): amounts must be in one currency")
        }
    }

    static func overflow(_ what: String, _ currency: Currency) -> MoneyError {
        MoneyError(
            .outOfRange,
            "\(what) is out of range for \(currency.code) (amounts must lie within ±\(Money(minorUnits: .max, currency: currency).decimalText))")
    }
}

/// Orders by currency code, then by amount: within one currency (the only
/// comparison the services make) this is the amount's order; across
/// currencies it merely groups, since no exchange rate is implied.
extension Money: Comparable {
    public static func < (lhs: Money, rhs: Money) -> Bool {
        if lhs.currency.code != rhs.currency.code { return lhs.currency.code < rhs.currency.code }
        return lhs.minorUnits < rhs.minorUnits
    }
}

/// An amount as a request sent it (a JSON string or a JSON number), kept as
/// decimal text until the currency, a sibling field, is known; then
/// `money(in:)` makes it exact or says why not. Encodes as a string.
///
/// How JSON numbers are read, measured on this platform (swift-foundation,
/// Swift 6.3, Linux): `JSONDecoder` refuses to decode a number as `String`,
/// but decodes `Decimal` from the number's digits, not through Double: `0.1`,
/// `1e2` (100), `12345678901234567.89`, `1.235`, `92233720368547758.07` all
/// arrive exact, and `Decimal.description` prints them as plain decimal text
/// (trailing fraction zeros dropped, which changes no value). Two limits:
/// - beyond 38 significant digits the decoder truncates silently
///   (`1.23000…0001` with 44 digits arrives as `1.23`); such a literal
///   cannot be a valid amount, and `MoneyText.firstOverlongNumber(inJSON:)`
///   finds it in a raw body so a service can refuse it;
/// - exponents outside roughly ±127 (`1e128`, `1e400`) fail the whole decode
///   as "not valid JSON".
/// Strings have neither limit: they are read digit by digit here.
public struct MoneyText: Hashable, Sendable, CustomStringConvertible {
    public let text: String

    public init(_ text: String) {
        self.text = text
    }

    /// The exact amount, or an error saying what is wrong with the text.
    public func money(in currency: Currency = .default) throws(MoneyError) -> Money {
        try Money(parsing: text, currency: currency)
    }

    public var description: String { text }

    /// Decimal holds 38 significant digits; Foundation truncates longer number
    /// literals without a word, so a body holding one must be refused before
    /// decoding. Returns the first number literal (outside strings) with more
    /// than 38 significant digits, or nil. Ignores malformed JSON: the decoder
    /// reports that.
    public static func firstOverlongNumber(inJSON bytes: some Sequence<UInt8>) -> String? {
        var inString = false
        var escaped = false
        var literal: [UInt8] = []
        var significant = 0
        var pendingZeros = 0  // zeros after the last nonzero digit: trailing ones don't count
        var seenNonzero = false
        var inExponent = false

        func finish() -> String? {
            defer {
                literal.removeAll(keepingCapacity: true)
                significant = 0; pendingZeros = 0; seenNonzero = false; inExponent = false
            }
            return significant > 38 ? String(decoding: literal, as: UTF8.self) : nil
        }

        for byte in bytes {
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"):
                literal.append(byte)
                if inExponent { continue }
                if byte == UInt8(ascii: "0") {
                    if seenNonzero { pendingZeros += 1 }
                } else {
                    significant += pendingZeros + 1
                    pendingZeros = 0
                    seenNonzero = true
                }
            case UInt8(ascii: "-"), UInt8(ascii: "+"), UInt8(ascii: "."):
                literal.append(byte)
            case UInt8(ascii: "e"), UInt8(ascii: "E"):
                if literal.isEmpty { continue }  // a bare letter is not part of a number
                literal.append(byte)
                inExponent = true
            default:
                if !literal.isEmpty, let overlong = finish() { return overlong }
                literal.removeAll(keepingCapacity: true)
                if byte == UInt8(ascii: "\"") { inString = true }
            }
        }
        return literal.isEmpty ? nil : finish()
    }
}

extension MoneyText: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let string = try? container.decode(String.self) {
            self.init(string)
            return
        }
        // A JSON number: Decimal is the one type decoded from the literal's
        // digits (see the type's comment); a Double would already be rounded.
        let number: Decimal
        do {
            number = try container.decode(Decimal.self)
        } catch {
            throw DecodingError.dataCorruptedError(
                in: container, debugDescription: "expected an amount as a decimal string (\"12.50\") or a JSON number")
        }
        self.init(number.description)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(text)
    }
}

/// An exact decimal as a count of 10^-fractionDigits units in an Int64: the
/// same reading and printing as money, for exact quantities that are not
/// amounts of a currency (a sum of squared revenues, in units²).
public enum ScaledDecimal {
    /// `text` (money's grammar) in units of 10^-`fractionDigits`; more
    /// nonzero fraction digits, or a value out of Int64's range, is an error
    /// that names `what`.
    public static func parse(_ text: String, fractionDigits: Int, what: String) throws(MoneyError) -> Int64 {
        try MoneyParser.scaled(text, fractionDigits: fractionDigits, unit: what, outOfRange: MoneyError(.outOfRange, "\"\(text)\" is out of range for \(what)"))
    }

    /// `value` with exactly `fractionDigits` fraction digits.
    public static func text(_ value: Int64, fractionDigits: Int) -> String {
        let magnitude = value.magnitude
        let sign = value < 0 ? "-" : ""
        guard fractionDigits > 0 else { return sign + String(magnitude) }
        var perUnit: UInt64 = 1
        for _ in 0..<fractionDigits { perUnit *= 10 }
        let fraction = String(magnitude % perUnit)
        return sign + String(magnitude / perUnit) + "." + String(repeating: "0", count: fractionDigits - fraction.count) + fraction
    }
}

/// The exact text-to-minor-units conversion behind `Money(parsing:)`.
enum MoneyParser {
    static func minorUnits(_ text: String, currency: Currency) throws(MoneyError) -> Int64 {
        try scaled(text, fractionDigits: currency.fractionDigits, unit: currency.code, outOfRange: Money.overflow("\"\(text)\"", currency))
    }

    static func scaled(_ text: String, fractionDigits: Int, unit: String, outOfRange: MoneyError) throws(MoneyError) -> Int64 {
        let bytes = Array(text.utf8)
        var index = 0
        func notADecimal() -> MoneyError {
            MoneyError(.notADecimal, "\"\(text)\" is not a decimal amount: write digits with an optional sign, point and exponent, such as \"1250.50\"")
        }

        let negative = index < bytes.count && bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }

        // Integer and fraction digits form one digit string; `scale` is the
        // power of ten that turns it into minor units.
        var digits: [UInt8] = []
        let integerStart = index
        while index < bytes.count, isDigit(bytes[index]) { digits.append(bytes[index] &- 48); index += 1 }
        if index == integerStart { throw notADecimal() }
        var fractionCount = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            let fractionStart = index
            while index < bytes.count, isDigit(bytes[index]) { digits.append(bytes[index] &- 48); index += 1 }
            fractionCount = index - fractionStart
            if fractionCount == 0 { throw notADecimal() }
        }
        var exponent = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
            index += 1
            var exponentNegative = false
            if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                exponentNegative = bytes[index] == UInt8(ascii: "-")
                index += 1
            }
            let exponentStart = index
            while index < bytes.count, isDigit(bytes[index]) {
                // Saturate: past a billion, every nonzero amount is already
                // out of range or too precise, and zero is zero at any scale.
                exponent = min(exponent * 10 + Int(bytes[index] &- 48), 1_000_000_000)
                index += 1
            }
            if index == exponentStart { throw notADecimal() }
            if exponentNegative { exponent = -exponent }
        }
        if index != bytes.count { throw notADecimal() }

        guard let firstNonzero = digits.firstIndex(where: { $0 != 0 }) else { return 0 }
        var last = digits.count - 1
        var scale = exponent - fractionCount + fractionDigits
        while digits[last] == 0 { last -= 1; scale += 1 }
        let significant = digits[firstNonzero...last]

        if scale < 0 {
            throw MoneyError(
                .tooManyFractionDigits,
                fractionDigits == 0
                    ? "\"\(text)\" has a fraction, but \(unit) amounts are whole numbers"
                    : "\"\(text)\" needs more than \(fractionDigits) fraction digits for \(unit)")
        }
        // The magnitude may reach 2^63 for a negative amount (Int64.min).
        let limit: UInt64 = negative ? UInt64(Int64.max) + 1 : UInt64(Int64.max)
        if significant.count > 19 { throw outOfRange }
        var magnitude: UInt64 = 0
        for digit in significant {
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (next, o2) = times10.addingReportingOverflow(UInt64(digit))
            if o1 || o2 { throw outOfRange }
            magnitude = next
        }
        for _ in 0..<scale {
            let (next, overflow) = magnitude.multipliedReportingOverflow(by: 10)
            if overflow || next > limit { throw outOfRange }
            magnitude = next
        }
        if magnitude > limit { throw outOfRange }
        return negative ? Int64(truncatingIfNeeded: 0 &- magnitude) : Int64(magnitude)
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}
