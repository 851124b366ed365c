import BusRuntime
import BusWire
import Contracts
import Foundation
import ServiceKit
import Storage

/// What the conversion service refuses, with messages that name the field.
enum ConversionValidation {
    static func text(_ value: String, field: String, maxLength: Int) throws(BusError) -> String {
        let length = value.unicodeScalars.count
        guard length >= 1 else { throw BusError(.invalidArgument, "\(field) must not be empty") }
        guard length <= maxLength else { throw BusError(.invalidArgument, "\(field) is longer than \(maxLength) characters") }
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw BusError(.invalidArgument, "\(field) must not contain control characters")
        }
        return value
    }

    static func optionalText(_ value: String?, field: String, maxLength: Int) throws(BusError) -> String? {
        guard let value else { return nil }
        return try text(value, field: field, maxLength: maxLength)
    }

    static func currency(_ code: String?) throws(BusError) -> Currency {
        guard let code else { return .default }
        do {
            return try Currency(code: code)
        } catch {
            throw BusError(.invalidArgument, "currency: \(error.message)")
        }
    }

    /// An amount of `currency`, at least 0.
    static func money(_ amount: MoneyText, in currency: Currency, field: String) throws(BusError) -> Money {
        let money: Money
        do {
            money = try amount.money(in: currency)
        } catch {
            throw BusError(.invalidArgument, "\(field): \(error.message)")
        }
        guard money.minorUnits >= 0 else { throw BusError(.invalidArgument, "\(field) must not be negative") }
        return money
    }

    static func counter(_ value: Int64, field: String) throws(BusError) -> Int64 {
        guard value >= 0 else { throw BusError(.invalidArgument, "\(field) must not be negative, got \(value)") }
        return value
    }

    /// `a + b` for counters and minor units; an overflow is the request's fault.
    static func sum(_ a: Int64, _ b: Int64, field: String) throws(BusError) -> Int64 {
        let (total, overflow) = a.addingReportingOverflow(b)
        guard !overflow else { throw BusError(.invalidArgument, "\(field) would exceed the largest 64-bit total") }
        return total
    }

    /// Any ISO 8601 instant with a zone (sub-millisecond digits dropped).
    static func instant(_ text: String, field: String) throws(BusError) -> Timestamp {
        guard let instant = Timestamp(iso8601: text) else {
            throw BusError(.invalidArgument, "\(field) must be an ISO 8601 instant with a zone, such as 2026-02-15T01:51:21.676Z, got \(text)")
        }
        return instant
    }

    static func optionalInstant(_ text: String?, field: String) throws(BusError) -> Timestamp? {
        guard let text else { return nil }
        return try instant(text, field: field)
    }

    /// `[A-Za-z0-9_-]`, 1 to 64 long.
    static func isVariantID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count)
            && id.utf8.allSatisfy { (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) || $0 == 0x5F || $0 == 0x2D }
    }

    static func json<T: Encodable>(_ value: T) throws(BusError) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(value) else { throw BusError(.internal, "could not encode \(T.self)") }
        return String(decoding: data, as: UTF8.self)
    }

    static func decode<T: Decodable>(_ type: T.Type, _ text: String, what: String) throws(BusError) -> T {
        guard let value = try? JSONDecoder().decode(T.self, from: Data(text.utf8)) else { throw BusError(.internal, "unreadable \(what)") }
        return value
    }

    static func pageSize(_ limit: Int?) throws(BusError) -> Int {
        let limit = limit ?? IngestLimits.defaultPageSize
        guard (0...IngestLimits.maxPageSize).contains(limit) else { throw BusError(.invalidArgument, "limit must be 0...\(IngestLimits.maxPageSize)") }
        return limit
    }

    static func cursor(_ text: String?) throws(BusError) -> PageCursor? {
        guard let text else { return nil }
        guard let cursor = PageCursor(decoding: text) else { throw BusError(.invalidArgument, "cursor is not one this service issued") }
        return cursor
    }

    static func attributionModel(_ text: String?) throws(BusError) -> AttributionModel {
        guard let text else { return .default }
        guard let model = AttributionModel(rawValue: text) else {
            throw BusError(.invalidArgument, "model must be one of last, first, linear, position, time_decay, got \(text)")
        }
        return model
    }
}
