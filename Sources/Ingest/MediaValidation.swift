import BusWire
import Contracts
import Foundation
import Storage

extension MediaService {
    /// The checks of asset and clip fields: each refuses with
    /// invalid-argument naming the field, before any database work.
    enum Validate {
        static let schemes: Set<String> = ["http", "https", "gs", "s3"]

        /// A number as JSON writes it (`100`, not `100.0`), for messages.
        static func number(_ value: Double) -> String {
            value == value.rounded() && abs(value) < 1e15 ? String(Int64(value)) : "\(value)"
        }

        /// `MediaLimits.sourceURLPattern`, byte by byte: a scheme of
        /// ``schemes`` and `://`; an authority of optional `userinfo@`, a
        /// host of URL characters and an optional `:port`; then anything
        /// printable in ASCII from a `/`, `?` or `#` on.
        static func sourceURL(_ text: String) throws(BusError) -> String {
            guard (1...MediaLimits.maxSourceURLLength).contains(text.unicodeScalars.count) else {
                throw BusError(.invalidArgument, "source_url must be 1 to \(MediaLimits.maxSourceURLLength) characters")
            }
            let refused = BusError(.invalidArgument, "source_url must be an http, https, gs or s3 URL with a host, in ASCII (e.g. https://example.com/video.mp4)")
            guard let scheme = schemes.first(where: { text.hasPrefix($0 + "://") }) else { throw refused }
            let bytes = Array(text.utf8)
            let start = scheme.utf8.count + 3
            let end = bytes[start...].firstIndex { "/?#".utf8.contains($0) } ?? bytes.count
            var hostStart = start
            if let at = bytes[start..<end].firstIndex(of: UInt8(ascii: "@")) {
                guard bytes[start..<at].allSatisfy({ hostBytes.contains($0) || $0 == UInt8(ascii: ":") }) else { throw refused }
                hostStart = at + 1
            }
            let hostEnd = bytes[hostStart..<end].firstIndex(of: UInt8(ascii: ":")) ?? end
            guard hostEnd > hostStart, bytes[hostStart..<hostEnd].allSatisfy({ hostBytes.contains($0) }),
                bytes[min(hostEnd + 1, end)..<end].allSatisfy({ (0x30...0x39).contains($0) }),
                bytes[end...].allSatisfy({ (0x21...0x7E).contains($0) })
            else { throw refused }
            return text
        }

        /// What a host (and, with `:`, userinfo) is made of: unreserved, sub-delims and `%`.
        static let hostBytes = Set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._~!$&'()*+,;=%-".utf8)

        /// Optional text of at most `maxLength` characters without control characters.
        static func text(_ value: String?, field: String, maxLength: Int) throws(BusError) -> String? {
            guard let value else { return nil }
            guard value.unicodeScalars.count <= maxLength else { throw BusError(.invalidArgument, "\(field) is longer than \(maxLength) characters") }
            guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
                throw BusError(.invalidArgument, "\(field) must not contain control characters")
            }
            return value
        }

        /// Why processing failed: not empty, at most 10,000 characters, no NUL (line breaks are fine).
        static func error(_ value: String?) throws(BusError) -> String? {
            guard let value else { return nil }
            guard !value.isEmpty else { throw BusError(.invalidArgument, "error must not be empty") }
            guard value.unicodeScalars.count <= 10_000 else { throw BusError(.invalidArgument, "error is longer than 10000 characters") }
            guard !value.unicodeScalars.contains("\u{0}") else { throw BusError(.invalidArgument, "error must not contain the NUL character (U+0000)") }
            return value
        }

        static func sizeBytes(_ value: Int64?) throws(BusError) -> Int64? {
            guard let value else { return nil }
            guard value >= 0 else { throw BusError(.invalidArgument, "size_bytes must be at least 0, got \(value)") }
            return value
        }

        static func duration(_ value: Double?) throws(BusError) -> Double? {
            guard let value else { return nil }
            guard value.isFinite, value >= 0, value <= Double(MediaLimits.maxDurationS) else {
                throw BusError(.invalidArgument, "duration_s must be a number from 0 to \(MediaLimits.maxDurationS), got \(number(value))")
            }
            return value + 0  // -0 is stored, shown and compared as 0

        }

        static func pixels(_ value: Int?, field: String) throws(BusError) -> Int? {
            guard let value else { return nil }
            guard (1...65536).contains(value) else { throw BusError(.invalidArgument, "\(field) must be 1 to 65536 pixels, got \(value)") }
            return value
        }

        static func fps(_ value: Double?) throws(BusError) -> Double? {
            guard let value else { return nil }
            guard value.isFinite, value > 0, value <= 1000 else { throw BusError(.invalidArgument, "fps must be more than 0 and at most 1000, got \(number(value))") }
            return value
        }

        static func mimeType(_ value: String?) throws(BusError) -> String? {
            guard let value else { return nil }
            func token(_ part: Substring) -> Bool {
                guard let first = part.utf8.first, isAlphanumeric(first) else { return false }
                return part.utf8.allSatisfy { isAlphanumeric($0) || "!#$&^_.+-".utf8.contains($0) }
            }
            let parts = value.split(separator: "/", omittingEmptySubsequences: false)
            guard value.utf8.count <= 127, parts.count == 2, token(parts[0]), token(parts[1]) else {
                throw BusError(.invalidArgument, "mime_type must be type/subtype, like video/mp4")
            }
            return value
        }

        static func isAlphanumeric(_ byte: UInt8) -> Bool {
            (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
        }

        /// The object as stored: sorted keys, at most 64 KiB (kept as text on
        /// both engines, so any JSON string is fine, NUL included: jsonb would refuse it).
        static func metadata(_ object: JSONObject) throws(BusError) -> JSONText {
            try jsonText(object, field: "metadata")
        }

        /// Numeric features, finite, as stored.
        static func features(_ features: [String: Double]) throws(BusError) -> JSONText {
            guard features.values.allSatisfy(\.isFinite) else { throw BusError(.invalidArgument, "features must be finite numbers") }
            return try jsonText(features, field: "features")
        }

        static func jsonText(_ value: some Encodable, field: String) throws(BusError) -> JSONText {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            guard let data = try? encoder.encode(value), let text = String(data: data, encoding: .utf8), let json = try? JSONText(text) else {
                throw BusError(.invalidArgument, "\(field) must be a JSON object")
            }
            guard data.count <= MediaLimits.maxMetadataBytes else { throw BusError(.invalidArgument, "\(field) is larger than \(MediaLimits.maxMetadataBytes) bytes of JSON") }
            return json
        }

        /// A known status; any other value names the known ones.
        static func status<Status: RawRepresentable & CaseIterable>(_ text: String, _ type: Status.Type) throws(BusError) -> Status where Status.RawValue == String {
            guard let status = Status(rawValue: text) else {
                throw BusError(.invalidArgument, "status must be one of \(Status.allCases.map(\.rawValue).joined(separator: ", ")), got \(text)")
            }
            return status
        }

        /// `0 ≤ start < end`, both finite (the asset's duration is checked against it in the transaction).
        static func segment(start: Double, end: Double) throws(BusError) -> (Double, Double) {
            guard start.isFinite, start >= 0 else { throw BusError(.invalidArgument, "start_s must be a number of at least 0, got \(number(start))") }
            guard end.isFinite, end <= Double(MediaLimits.maxDurationS) else {
                throw BusError(.invalidArgument, "end_s must be a number of at most \(MediaLimits.maxDurationS), got \(number(end))")
            }
            guard start < end else { throw BusError(.invalidArgument, "start_s (\(number(start))) must be less than end_s (\(number(end)))") }
            return (start + 0, end + 0)  // -0 is stored, shown and paged as 0
        }

        static func score(_ value: Double, field: String) throws(BusError) -> Double {
            guard value.isFinite, (0...1).contains(value) else { throw BusError(.invalidArgument, "\(field) must be a number from 0 to 1, got \(number(value))") }
            return value
        }
    }
}
