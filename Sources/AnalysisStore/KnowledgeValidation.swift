import BusWire
import Contracts
import Foundation
import Storage

/// The checks of clip-analysis and knowledge fields: each refuses with
/// invalid-argument naming the field, before any database work.
enum KnowledgeValidation {
    static func score(_ value: Double) throws(BusError) -> Double {
        guard value.isFinite, (0...1).contains(value) else { throw BusError(.invalidArgument, "score must be a number from 0 to 1, got \(value)") }
        return value
    }

    /// Finite numbers under 1 to 100-character names; as stored (sorted keys) and as given.
    static func features(_ features: [String: Double]) throws(BusError) -> (text: String, numbers: [String: Double]) {
        guard features.count <= KnowledgeLimits.maxFeatures else { throw BusError(.invalidArgument, "features has more than \(KnowledgeLimits.maxFeatures) entries") }
        for (name, value) in features {
            guard name.unicodeScalars.count <= 200 else { throw BusError(.invalidArgument, "features: a name is longer than 200 characters") }
            guard value.isFinite else { throw BusError(.invalidArgument, "features.\(name) must be a finite number") }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard let data = try? encoder.encode(features) else { throw BusError(.invalidArgument, "features must be an object of numbers") }
        return (String(decoding: data, as: UTF8.self), features)
    }

    /// Optional text of at most `maxLength` characters without control characters.
    static func text(_ value: String?, field: String, maxLength: Int) throws(BusError) -> String? {
        guard let value else { return nil }
        return try requiredText(value, field: field, minLength: 0, maxLength: maxLength)
    }

    static func requiredText(_ value: String, field: String, minLength: Int, maxLength: Int) throws(BusError) -> String {
        let length = value.unicodeScalars.count
        guard length >= minLength else { throw BusError(.invalidArgument, "\(field) must not be empty") }
        guard length <= maxLength else { throw BusError(.invalidArgument, "\(field) is longer than \(maxLength) characters") }
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw BusError(.invalidArgument, "\(field) must not contain control characters")
        }
        return value
    }

    static func title(_ value: String) throws(BusError) -> String {
        try requiredText(value, field: "title", minLength: 1, maxLength: KnowledgeLimits.maxTitleLength)
    }

    static func category(_ value: String) throws(BusError) -> String {
        try requiredText(value, field: "category", minLength: 1, maxLength: 100)
    }

    /// At most 1 MiB of UTF-8, no NUL (line breaks and tabs are content).
    static func content(_ value: String) throws(BusError) -> String {
        guard value.utf8.count <= KnowledgeLimits.maxContentBytes else {
            throw BusError(.invalidArgument, "content is longer than \(KnowledgeLimits.maxContentBytes) bytes")
        }
        guard !value.utf8.contains(0) else { throw BusError(.invalidArgument, "content must not contain the NUL character (U+0000)") }
        return value
    }

    /// As stored: a JSON array of strings.
    static func tags(_ tags: [String]) throws(BusError) -> String {
        guard tags.count <= KnowledgeLimits.maxTags else { throw BusError(.invalidArgument, "tags has more than \(KnowledgeLimits.maxTags) entries") }
        for tag in tags { _ = try requiredText(tag, field: "tags", minLength: 1, maxLength: 100) }
        guard let data = try? JSONEncoder().encode(tags) else { throw BusError(.invalidArgument, "tags must be strings") }
        return String(decoding: data, as: UTF8.self)
    }

    /// The embedding as a unit float32 vector: any finite numbers, not all
    /// zero. Scaled by the largest magnitude first, so neither huge nor tiny
    /// components overflow or vanish in the norm (taken in double precision).
    static func unitVector(_ values: [Double], field: String = "embedding") throws(BusError) -> [Float] {
        guard (1...KnowledgeLimits.maxDimensions).contains(values.count) else {
            throw BusError(.invalidArgument, "\(field) must have 1 to \(KnowledgeLimits.maxDimensions) numbers, got \(values.count)")
        }
        guard values.allSatisfy(\.isFinite) else { throw BusError(.invalidArgument, "\(field) must hold finite numbers") }
        let largest = values.reduce(0) { max($0, abs($1)) }
        guard largest > 0 else { throw BusError(.invalidArgument, "\(field) must not be a zero vector") }
        let scaled = values.map { $0 / largest }
        let norm = scaled.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return scaled.map { Float($0 / norm) }
    }
}

/// A unit float32 vector as the database keeps it: little-endian bytes
/// (BLOB on SQLite, bytea on PostgreSQL).
struct EmbeddingBlob: DatabaseValueConvertible {
    var vector: [Float]

    init(_ vector: [Float]) { self.vector = vector }

    var databaseValue: DatabaseValue {
        var bytes = [UInt8](repeating: 0, count: vector.count * 4)
        for (index, value) in vector.enumerated() {
            let bits = value.bitPattern.littleEndian
            bytes[4 * index] = UInt8(truncatingIfNeeded: bits)
            bytes[4 * index + 1] = UInt8(truncatingIfNeeded: bits >> 8)
            bytes[4 * index + 2] = UInt8(truncatingIfNeeded: bits >> 16)
            bytes[4 * index + 3] = UInt8(truncatingIfNeeded: bits >> 24)
        }
        return .blob(bytes)
    }

    init(databaseValue: DatabaseValue) throws(StorageError) {
        guard case .blob(let bytes) = databaseValue, bytes.count % 4 == 0 else { throw StorageError(.decoding, "an embedding is not float32 bytes") }
        vector = (0..<bytes.count / 4).map { index in
            let bits = UInt32(bytes[4 * index]) | UInt32(bytes[4 * index + 1]) << 8 | UInt32(bytes[4 * index + 2]) << 16 | UInt32(bytes[4 * index + 3]) << 24
            return Float(bitPattern: bits)
        }
    }
}
