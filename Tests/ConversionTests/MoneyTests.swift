import Contracts
import Foundation
import Testing

@Suite("Money")
struct MoneyTests {
    let usd = Currency.usd

    @Test func tenCentsThirtyTimesIsExactlyThreeDollars() throws {
        let dime = try Money(parsing: "0.10", currency: usd)
        var total = Money.zero(usd)
        for _ in 0..<30 { total = try total.adding(dime) }
        #expect(total.minorUnits == 300)
        #expect(total.decimalText == "3.00")
        #expect(try Money.sum(Array(repeating: dime, count: 30), currency: usd) == total)
        #expect(try dime.multiplied(by: 30) == total)
    }

    @Test(arguments: [
        ("1250.50", "USD", Int64(125050), "1250.50"),
        ("1.230", "USD", 123, "1.23"),
        ("1.2300000000", "USD", 123, "1.23"),
        ("0", "USD", 0, "0.00"),
        ("-0", "USD", 0, "0.00"),
        ("-0.5", "USD", -50, "-0.50"),
        ("3", "USD", 300, "3.00"),
        ("007.5", "EUR", 750, "7.50"),
        ("1250", "JPY", 1250, "1250"),
        ("1250.000", "JPY", 1250, "1250"),
        ("-7", "KRW", -7, "-7"),
        ("1.25", "BHD", 1250, "1.250"),
        ("0.001", "KWD", 1, "0.001"),
        ("1e2", "USD", 10000, "100.00"),
        ("1E2", "USD", 10000, "100.00"),
        ("1e+2", "USD", 10000, "100.00"),
        ("12.5e-1", "USD", 125, "1.25"),
        ("125e-2", "USD", 125, "1.25"),
        ("1300e-5", "BHD", 13, "0.013"),
        ("0.0000e999999999999999", "USD", 0, "0.00"),
        ("1.5e3", "JPY", 1500, "1500"),
        ("92233720368547758.07", "USD", Int64.max, "92233720368547758.07"),
        ("-92233720368547758.08", "USD", Int64.min, "-92233720368547758.08"),
        ("9223372036854775807", "JPY", Int64.max, "9223372036854775807"),
        ("46116860184273879.03", "USD", Int64(1) << 62 - 1, "46116860184273879.03"),
        ("4611686018427387.904", "BHD", Int64(1) << 62, "4611686018427387.904"),
    ])
    func parsesExactlyAndFormatsWithTheCurrencysDigits(text: String, code: String, minor: Int64, formatted: String) throws {
        let money = try Money(parsing: text, currency: Currency(code: code))
        #expect(money.minorUnits == minor)
        #expect(money.decimalText == formatted)
        #expect(try Money(parsing: formatted, currency: money.currency) == money)
    }

    @Test func refusesMorePrecisionThanTheCurrencyHas() throws {
        let error = #expect(throws: MoneyError.self) { try Money(parsing: "1.235", currency: usd) }
        #expect(error?.kind == .tooManyFractionDigits)
        #expect(error?.message == "\"1.235\" needs more than 2 fraction digits for USD")
        #expect(throws: MoneyError.self) { try Money(parsing: "1.5", currency: .jpy) }
        #expect(throws: MoneyError.self) { try Money(parsing: "1.2345", currency: .bhd) }
        #expect(throws: MoneyError.self) { try Money(parsing: "1e-3", currency: usd) }
        #expect(throws: MoneyError.self) { try Money(parsing: "0.0000000000000000000000000000001", currency: usd) }
        #expect(throws: MoneyError.self) { try Money(parsing: "1e-999999999999999999999", currency: usd) }
        #expect(try Money(parsing: "1.2340", currency: .bhd).minorUnits == 1234)
    }

    @Test(arguments: [
        "92233720368547758.08", "-92233720368547758.09", "1e17", "1e999999999999", "100000000000000000000",
        "12345678901234567890123456789",
    ])
    func refusesAmountsBeyondInt64MinorUnits(text: String) {
        let error = #expect(throws: MoneyError.self) { try Money(parsing: text, currency: .usd) }
        #expect(error?.kind == .outOfRange)
    }

    @Test func int64BoundaryForJPY() throws {
        #expect(try Money(parsing: "-9223372036854775808", currency: .jpy).minorUnits == .min)
        #expect(throws: MoneyError.self) { try Money(parsing: "9223372036854775808", currency: .jpy) }
        #expect(throws: MoneyError.self) { try Money(parsing: "-9223372036854775809", currency: .jpy) }
        #expect(throws: MoneyError.self) { try Money(parsing: "9.223372036854775808e18", currency: .jpy) }
    }

    @Test(arguments: ["", "-", "+1", "1.", ".5", "1.2.3", "1e", "1e+", "1,50", " 1", "1 ", "0x10", "NaN", "Infinity", "١٢"])
    func refusesTextThatIsNotADecimal(text: String) {
        let error = #expect(throws: MoneyError.self) { try Money(parsing: text, currency: .usd) }
        #expect(error?.kind == .notADecimal)
    }

    @Test func arithmeticRefusesOverflowAndMixedCurrencies() throws {
        let nearMax = Money(minorUnits: Int64(1) << 62, currency: usd)
        #expect(try nearMax.adding(Money(minorUnits: (Int64(1) << 62) - 1, currency: usd)).minorUnits == .max)
        #expect(throws: MoneyError.self) { try nearMax.adding(nearMax) }
        #expect(try nearMax.multiplied(by: -2).minorUnits == .min)
        #expect(throws: MoneyError.self) { try nearMax.multiplied(by: 2) }
        #expect(throws: MoneyError.self) { try Money(minorUnits: .min, currency: usd).subtracting(Money(minorUnits: 1, currency: usd)) }
        #expect(try nearMax.subtracting(nearMax) == .zero(usd))
        let mismatch = #expect(throws: MoneyError.self) { try nearMax.adding(Money(minorUnits: 1, currency: .eur)) }
        #expect(mismatch?.kind == .currencyMismatch)
    }

    @Test func comparesWithinACurrency() throws {
        let a = try Money(parsing: "-0.01", currency: usd)
        let b = try Money(parsing: "0.00", currency: usd)
        let c = try Money(parsing: "0.1", currency: usd)
        #expect(a < b && b < c)
        #expect([c, a, b].sorted() == [a, b, c])
        #expect(try Money(parsing: "0.10", currency: usd) == c)
        #expect(c.description == "0.10 USD")
        #expect(c.doubleValue == 0.1)
    }

    @Test func currencyTable() throws {
        for code in ["USD", "EUR", "GBP", "CHF", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "INR", "CNY",
                     "HKD", "SGD", "BRL", "MXN", "ZAR", "TRY", "ILS", "AED", "SAR"] {
            #expect(try Currency(code: code).fractionDigits == 2)
        }
        for code in ["JPY", "KRW", "CLP", "ISK", "VND", "UGX", "XAF", "XOF"] {
            #expect(try Currency(code: code).fractionDigits == 0)
        }
        for code in ["BHD", "KWD", "JOD", "OMR", "TND", "LYD", "IQD"] {
            #expect(try Currency(code: code).fractionDigits == 3)
        }
        #expect(Currency.default.code == "USD")
        #expect(Currency.bhd.minorUnitsPerUnit == 1000)
        let error = #expect(throws: MoneyError.self) { try Currency(code: "XYZ") }
        #expect(error?.kind == .unknownCurrency)
        #expect(error?.message.contains("\"XYZ\"") == true)
        #expect(throws: MoneyError.self) { try Currency(code: "usd") }
    }

    struct Body: Codable {
        var value: MoneyText
        var currency: Currency?
    }

    /// JSON numbers and strings both arrive as their decimal text.
    @Test(arguments: [
        ("\"1250.50\"", "1250.50", "USD", Int64(125050)),
        ("0.1", "0.1", "USD", 10),
        ("1e2", "100", "USD", 10000),
        ("1.230", "1.23", "USD", 123),
        ("12345678901234567.89", "12345678901234567.89", "USD", 1_234_567_890_123_456_789),
        ("92233720368547758.07", "92233720368547758.07", "USD", Int64.max),
        ("-0.5", "-0.5", "USD", -50),
        ("1.25", "1.25", "BHD", 1250),
        ("1250", "1250", "JPY", 1250),
    ])
    func decodesStringsAndNumbersFromTheirText(json: String, text: String, code: String, minor: Int64) throws {
        let body = try JSONDecoder().decode(Body.self, from: Data("{\"value\": \(json), \"currency\": \"\(code)\"}".utf8))
        #expect(body.value.text == text)
        #expect(try body.value.money(in: body.currency ?? .default).minorUnits == minor)
    }

    @Test func decodedNumbersKeepTheirPrecisionSoOverPrecisionIsRefused() throws {
        let body = try JSONDecoder().decode(Body.self, from: Data(#"{"value": 1.235}"#.utf8))
        let error = #expect(throws: MoneyError.self) { try body.value.money(in: .usd) }
        #expect(error?.kind == .tooManyFractionDigits)
    }

    @Test func encodesAsAString() throws {
        let json = try JSONEncoder().encode(Body(value: MoneyText("1.50"), currency: .eur))
        let object = try JSONSerialization.jsonObject(with: json) as? [String: String]
        #expect(object == ["value": "1.50", "currency": "EUR"])
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Body.self, from: Data(#"{"value": true}"#.utf8)) }
        #expect(throws: DecodingError.self) { try JSONDecoder().decode(Body.self, from: Data(#"{"value": 1, "currency": "ABC"}"#.utf8)) }
    }

    /// Foundation truncates number literals past 38 significant digits; the
    /// scanner finds them so the service can refuse them instead.
    @Test func findsNumberLiteralsTooLongForDecimal() throws {
        let long = "1.23000000000000000000000000000000000000000001"
        let decoded = try JSONDecoder().decode(Body.self, from: Data("{\"value\": \(long)}".utf8))
        #expect(decoded.value.text == "1.23")  // the platform behaviour this guards against
        #expect(MoneyText.firstOverlongNumber(inJSON: Data("{\"value\": \(long)}".utf8)) == long)
        #expect(MoneyText.firstOverlongNumber(inJSON: Data("{\"v\": [1, -2.5e10, \"\(long)\"], \"w\": 1.5E+3}".utf8)) == nil)
        let trailingZeros = "1" + String(repeating: "0", count: 60)
        #expect(MoneyText.firstOverlongNumber(inJSON: Data("{\"v\": \(trailingZeros).000}".utf8)) == nil)
        let thirtyEight = String(repeating: "9", count: 38)
        #expect(MoneyText.firstOverlongNumber(inJSON: Data("[0.\(thirtyEight)]".utf8)) == nil)
        #expect(MoneyText.firstOverlongNumber(inJSON: Data("[0.\(thirtyEight)1]".utf8)) == "0.\(thirtyEight)1")
        #expect(MoneyText.firstOverlongNumber(inJSON: Data("{\"a\\\"\": \"x\", \"b\": 0.000000000000000000000000000000000000000000001}".utf8)) == nil)
    }
}
