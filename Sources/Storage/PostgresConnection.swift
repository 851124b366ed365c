import CLibPQ
import Foundation

/// One libpq connection. Used by one thread at a time: the pool hands it to
/// one borrower, whose work runs on one thread-pool thread (hence the
/// unchecked Sendable).
final class PostgresConnection: @unchecked Sendable {
    private let handle: OpaquePointer
    /// Prepared statement names by SQL text; bounded, past which statements run unprepared.
    private var prepared: [String: String] = [:]
    static let maxPrepared = 256

    init(conninfo: String, location: String) throws(StorageError) {
        guard let handle = PQconnectdb(conninfo) else {
            throw StorageError(.unavailable, "cannot connect to \(location): out of memory")
        }
        guard PQstatus(handle) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(handle)
            throw StorageError(.unavailable, "cannot connect to \(location): \(message)")
        }
        // Server notices ("table does not exist, skipping") are not errors; keep them off stderr.
        PQsetNoticeProcessor(handle, { _, _ in }, nil)
        self.handle = handle
    }

    deinit {
        PQfinish(handle)
    }

    /// Whether the connection is still usable (not broken by a server restart).
    var isHealthy: Bool { PQstatus(handle) == CONNECTION_OK }

    /// Runs one parameterised statement (prepared on first use).
    func execute(_ text: String, _ values: [DatabaseValue]) throws(StorageError) -> PostgresResult {
        try DatabaseValue.checkStorable(values, sql: text)
        let owned = values.map(\.postgresText)
        defer { for pointer in owned { free(pointer) } }
        let parameters: [UnsafePointer<CChar>?] = owned.map { $0.map { UnsafePointer($0) } }
        let result: OpaquePointer?
        if let name = prepared[text] {
            result = parameters.withUnsafeBufferPointer { PQexecPrepared(handle, name, Int32($0.count), $0.baseAddress, nil, nil, 0) }
        } else if prepared.count < Self.maxPrepared {
            let name = "s\(prepared.count)"
            try check(PQprepare(handle, name, text, Int32(values.count), nil), sql: text).clear()
            prepared[text] = name
            result = parameters.withUnsafeBufferPointer { PQexecPrepared(handle, name, Int32($0.count), $0.baseAddress, nil, nil, 0) }
        } else {
            result = parameters.withUnsafeBufferPointer { PQexecParams(handle, text, Int32($0.count), nil, $0.baseAddress, nil, nil, 0) }
        }
        return try check(result, sql: text)
    }

    /// Runs statements without values (transaction control, scripts).
    @discardableResult
    func simple(_ text: String) throws(StorageError) -> PostgresResult {
        try check(PQexec(handle, text), sql: text)
    }

    private func check(_ result: OpaquePointer?, sql: String) throws(StorageError) -> PostgresResult {
        guard let result else {
            throw StorageError(.unavailable, "PostgreSQL: \(String(cString: PQerrorMessage(handle)).trimmingCharacters(in: .whitespacesAndNewlines))", sql: sql)
        }
        switch PQresultStatus(result) {
        case PGRES_COMMAND_OK, PGRES_TUPLES_OK, PGRES_EMPTY_QUERY:
            return PostgresResult(result)
        default:
            let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) }
            let primary = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
            let message = primary ?? String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQclear(result)
            var code = isHealthy ? Self.code(forSQLState: state) : .unavailable
            // Insufficient privilege from a row-level security policy (a missing grant stays invalidQuery).
            if state == "42501", message.contains("row-level security") { code = .tenancy }
            throw StorageError(code, message, sql: sql, engineCode: state)
        }
    }

    /// SQLSTATE classes as storage codes.
    static func code(forSQLState state: String?) -> StorageError.Code {
        guard let state else { return .unavailable }
        switch state {
        case "23505": return .conflict
        case "40001", "40P01": return .retryable
        case "57P01", "57P02", "57P03", "53300": return .unavailable
        case "57014": return .timeout
        default:
            switch state.prefix(2) {
            case "08": return .unavailable
            case "23": return .constraint
            case "42", "22": return .invalidQuery
            default: return .internal
            }
        }
    }

    /// Whether a server answers at `conninfo` (PQping: no login needed).
    static func ping(_ conninfo: String) -> Bool {
        PQping(conninfo) == PQPING_OK
    }
}

/// A libpq result, converted to rows.
struct PostgresResult: ~Copyable {
    private let result: OpaquePointer

    init(_ result: OpaquePointer) {
        self.result = result
    }

    deinit {
        PQclear(result)
    }

    consuming func clear() {}

    var changedRows: Int { Int(String(cString: PQcmdTuples(result))) ?? 0 }

    var rows: [Row] {
        let columnCount = Int(PQnfields(result))
        let columns = (0..<columnCount).map { String(cString: PQfname(result, Int32($0))) }
        let types = (0..<columnCount).map { PQftype(result, Int32($0)) }
        return (0..<Int(PQntuples(result))).map { row in
            Row(columns: columns, values: (0..<columnCount).map { column in
                if PQgetisnull(result, Int32(row), Int32(column)) == 1 { return .null }
                let text = String(cString: PQgetvalue(result, Int32(row), Int32(column)))
                return DatabaseValue(postgresText: text, type: types[column])
            })
        }
    }
}

extension DatabaseValue {
    /// The text form libpq sends for a parameter (malloc'ed; nil for NULL).
    var postgresText: UnsafeMutablePointer<CChar>? {
        switch self {
        case .null: return nil
        case .integer(let value): return strdup(String(value))
        case .real(let value): return strdup("\(value)")
        case .text(let value): return strdup(value)
        case .blob(let bytes): return strdup(Self.hex(bytes))
        }
    }

    /// A value from its text form and column type OID.
    init(postgresText text: String, type: Oid) {
        switch type {
        case 20, 21, 23, 26: self = Int64(text).map(DatabaseValue.integer) ?? .text(text)
        case 700, 701: self = Double(text).map(DatabaseValue.real) ?? .text(text)
        case 16: self = .integer(text == "t" ? 1 : 0)
        case 17: self = .blob(Self.bytes(hex: text.dropFirst(2)))
        default: self = .text(text)
        }
    }

    /// `\x` and two lower-case hex digits a byte (bytea's input form), without a formatter per byte.
    private static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var text = [UInt8](repeating: 0, count: 2 + 2 * bytes.count)
        text[0] = UInt8(ascii: "\\")
        text[1] = UInt8(ascii: "x")
        for (index, byte) in bytes.enumerated() {
            text[2 + 2 * index] = digits[Int(byte >> 4)]
            text[3 + 2 * index] = digits[Int(byte & 0x0F)]
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// bytea's hex output form (after its `\x`): two hex digits a byte.
    private static func bytes(hex: Substring) -> [UInt8] {
        func value(_ digit: UInt8) -> UInt8 {
            switch digit {
            case 0x30...0x39: digit - 0x30
            case 0x61...0x66: digit - 0x61 + 10
            case 0x41...0x46: digit - 0x41 + 10
            default: 0
            }
        }
        let digits = Array(hex.utf8)
        var bytes = [UInt8](repeating: 0, count: digits.count / 2)
        for index in bytes.indices { bytes[index] = value(digits[2 * index]) << 4 | value(digits[2 * index + 1]) }
        return bytes
    }
}
