import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension FrameHeader {
    /// Parses a header from its JSON bytes.
    ///
    /// Strict where ambiguity could be exploited (duplicate keys, wrong types,
    /// invalid UTF-8, ids beyond 2^53 − 1, fields a kind requires) and lenient
    /// where newer peers need room: unknown fields are skipped whatever they hold.
    public init(json bytes: ByteBuffer) throws(WireError) {
        var header: FrameHeader? = nil
        var failure: WireError? = nil
        bytes.withUnsafeReadableBytes { raw in
            do throws(WireError) {
                var parser = HeaderParser(raw)
                header = try parser.parseHeader()
            } catch {
                failure = error
            }
        }
        if let failure { throw failure }
        self = header!
    }
}

/// A recursive-descent reader for exactly the JSON a header may hold.
struct HeaderParser {
    private let bytes: UnsafeRawBufferPointer
    private var index = 0
    private var isASCII: Bool

    /// Deep nesting in unknown fields is refused rather than recursed into without end.
    static let maxDepth = 32

    init(_ bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
        self.isASCII = !bytes.contains { $0 >= 0x80 }
    }

    mutating func parseHeader() throws(WireError) -> FrameHeader {
        if !isASCII, String(validating: bytes, as: UTF8.self) == nil {
            throw .malformedHeader("not valid UTF-8")
        }
        var kind: FrameKind?
        var header = FrameHeader(kind: .ping)
        var seen: UInt16 = 0  // bit per Field
        var unknownKeys: [String] = []

        try openObject("a header must be a JSON object")
        var isFirst = true
        while let key = try nextKey(isFirst: &isFirst) {
            guard let field = Field.all.first(where: { key.equals($0.name, in: bytes) }) else {
                try checkUnique(key.string(in: bytes), among: &unknownKeys)
                try skipValue(depth: 1)
                continue
            }
            guard seen & field.bit == 0 else { throw .malformedHeader("duplicate key \"\(field.name)\"") }
            seen |= field.bit
            switch field {
            case .kind:
                let value = try parseString(field)
                guard let known = FrameKind(rawValue: value) else { throw .malformedHeader("unknown kind \"\(value)\"") }
                kind = known
            case .id: header.id = try parseInteger(field)
            case .service: header.service = try parseString(field)
            case .method: header.method = try parseString(field)
            case .timeoutMilliseconds: header.timeoutMilliseconds = try parseInteger(field)
            case .idempotencyKey: header.idempotencyKey = try parseString(field)
            case .trace: header.trace = try parseString(field)
            case .topic: header.topic = try parseString(field)
            case .eventID: header.eventID = try parseString(field)
            case .source: header.source = try parseString(field)
            case .tenant: header.tenant = try parseString(field)
            case .user: header.user = try parseString(field)
            case .role: header.role = try parseString(field)
            case .error: header.error = try parseError()
            }
        }
        skipWhitespace()
        guard index == bytes.count else { throw .malformedHeader("unexpected bytes after the header object") }
        guard let kind else { throw .malformedHeader("\"kind\" is missing") }
        header.kind = kind
        if kind.requiresID, seen & Field.id.bit == 0 { throw .malformedHeader("a \(kind.rawValue) frame needs \"id\"") }
        try header.validate()
        return header
    }

    /// The known header fields, in canonical order.
    enum Field: Int, CaseIterable {
        case kind, id, service, method, timeoutMilliseconds, idempotencyKey, trace, topic, eventID, source, tenant, user, role, error

        static let all = allCases

        var bit: UInt16 { 1 << rawValue }

        var name: StaticString {
            switch self {
            case .kind: "kind"
            case .id: "id"
            case .service: "service"
            case .method: "method"
            case .timeoutMilliseconds: "timeout_ms"
            case .idempotencyKey: "idempotency_key"
            case .trace: "trace"
            case .topic: "topic"
            case .eventID: "event_id"
            case .source: "source"
            case .tenant: "tenant"
            case .user: "user"
            case .role: "role"
            case .error: "error"
            }
        }
    }

    // MARK: - Objects and keys

    private mutating func parseError() throws(WireError) -> BusError {
        var code: String?
        var message: String?
        var retryable: Bool?
        var unknownKeys: [String] = []
        try openObject("\"error\" must be an object")
        var isFirst = true
        while let key = try nextKey(isFirst: &isFirst) {
            if key.equals("code", in: bytes) {
                guard code == nil else { throw .malformedHeader("duplicate key \"error.code\"") }
                code = try parseString(field: "error.code")
            } else if key.equals("message", in: bytes) {
                guard message == nil else { throw .malformedHeader("duplicate key \"error.message\"") }
                message = try parseString(field: "error.message")
            } else if key.equals("retryable", in: bytes) {
                guard retryable == nil else { throw .malformedHeader("duplicate key \"error.retryable\"") }
                retryable = try parseBool(field: "error.retryable")
            } else {
                try checkUnique(key.string(in: bytes), among: &unknownKeys)
                try skipValue(depth: 2)
            }
        }
        guard let code, let message, let retryable else {
            throw .malformedHeader("\"error\" needs \"code\", \"message\" and \"retryable\"")
        }
        return BusError(ErrorCode(rawValue: code), message, retryable: retryable)
    }

    /// A key as it appears in the input: its byte range when it has no escapes
    /// (the common case, compared without building a String), decoded otherwise.
    struct Key {
        var raw: Range<Int>?
        var decoded: String?

        func equals(_ name: StaticString, in bytes: UnsafeRawBufferPointer) -> Bool {
            guard let raw else { return decoded == "\(name)" }
            guard raw.count == name.utf8CodeUnitCount else { return false }
            return memcmp(bytes.baseAddress! + raw.lowerBound, name.utf8Start, raw.count) == 0
        }

        func string(in bytes: UnsafeRawBufferPointer) -> String {
            decoded ?? String(decoding: UnsafeRawBufferPointer(rebasing: bytes[raw!]), as: UTF8.self)
        }
    }

    private func checkUnique(_ key: String, among keys: inout [String]) throws(WireError) {
        guard !keys.contains(key) else { throw .malformedHeader("duplicate key \"\(key)\"") }
        keys.append(key)
    }

    private mutating func openObject(_ message: @autoclosure () -> String) throws(WireError) {
        skipWhitespace()
        try expect(UInt8(ascii: "{"), message())
    }

    /// Reads the next key of the object being read, and the ':' after it,
    /// leaving the parser at the value; nil once the closing '}' is consumed.
    private mutating func nextKey(isFirst: inout Bool) throws(WireError) -> Key? {
        skipWhitespace()
        if isFirst {
            isFirst = false
            if peek() == UInt8(ascii: "}") {
                index += 1
                return nil
            }
        } else {
            switch next() {
            case UInt8(ascii: ","): skipWhitespace()
            case UInt8(ascii: "}"): return nil
            default: throw .malformedHeader("expected ',' or '}' at byte \(index - 1)")
            }
        }
        guard peek() == UInt8(ascii: "\"") else { throw .malformedHeader("expected a key at byte \(index)") }
        let key = try parseKey()
        skipWhitespace()
        guard next() == UInt8(ascii: ":") else { throw .malformedHeader("expected ':' after \"\(key.string(in: bytes))\"") }
        skipWhitespace()
        return key
    }

    private mutating func parseKey() throws(WireError) -> Key {
        let start = index + 1
        var end = start
        while end < bytes.count, bytes[end] != UInt8(ascii: "\""), bytes[end] != UInt8(ascii: "\\"), bytes[end] >= 0x20 { end += 1 }
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            index = end + 1
            return Key(raw: start..<end)
        }
        return Key(decoded: try parseRawString())
    }

    // MARK: - Values

    private mutating func parseString(_ field: Field) throws(WireError) -> String {
        try parseString(field: "\(field.name)")
    }

    private mutating func parseInteger(_ field: Field) throws(WireError) -> UInt64 {
        try parseInteger(field: "\(field.name)")
    }

    private mutating func parseString(field: @autoclosure () -> String) throws(WireError) -> String {
        guard peek() == UInt8(ascii: "\"") else { throw .malformedHeader("\"\(field())\" must be a string") }
        return try parseRawString()
    }

    private mutating func parseBool(field: @autoclosure () -> String) throws(WireError) -> Bool {
        if consume("true") { return true }
        if consume("false") { return false }
        throw .malformedHeader("\"\(field())\" must be true or false")
    }

    /// A non-negative integer in plain JSON syntax, at most 2^53 − 1.
    private mutating func parseInteger(field: @autoclosure () -> String) throws(WireError) -> UInt64 {
        let start = index
        var value: UInt64 = 0
        while let byte = peek(), byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") {
            value = value &* 10 &+ UInt64(byte - UInt8(ascii: "0"))
            index += 1
            if value > FrameHeader.maxID { throw .malformedHeader("\"\(field())\" exceeds 2^53-1") }
        }
        let digits = index - start
        let isNumberContinuation = peek().map { $0 == UInt8(ascii: ".") || $0 | 0x20 == UInt8(ascii: "e") } ?? false
        guard digits > 0, !isNumberContinuation else {
            throw .malformedHeader("\"\(field())\" must be a non-negative integer")
        }
        if digits > 1, bytes[start] == UInt8(ascii: "0") { throw .malformedHeader("\"\(field())\" has a leading zero") }
        return value
    }

    /// Reads a string literal starting at its opening quote.
    private mutating func parseRawString() throws(WireError) -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: no escapes, so the bytes are the string (already UTF-8 checked).
        while let byte = peek() {
            if byte == UInt8(ascii: "\"") {
                let string = String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
                index += 1
                return string
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 { throw .malformedHeader("control character in a string at byte \(index)") }
            index += 1
        }
        var scalars = String.UnicodeScalarView()
        scalars.append(contentsOf: String(decoding: UnsafeRawBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self).unicodeScalars)
        var literalStart = index
        while true {
            guard let byte = next() else { throw .malformedHeader("unterminated string") }
            if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                let literal = UnsafeRawBufferPointer(rebasing: bytes[literalStart..<(index - 1)])
                scalars.append(contentsOf: String(decoding: literal, as: UTF8.self).unicodeScalars)
                if byte == UInt8(ascii: "\"") { return String(scalars) }
                scalars.append(try parseEscape())
                literalStart = index
            } else if byte < 0x20 {
                throw .malformedHeader("control character in a string at byte \(index - 1)")
            }
        }
    }

    private mutating func parseEscape() throws(WireError) -> Unicode.Scalar {
        switch next() {
        case UInt8(ascii: "\""): return "\""
        case UInt8(ascii: "\\"): return "\\"
        case UInt8(ascii: "/"): return "/"
        case UInt8(ascii: "b"): return "\u{08}"
        case UInt8(ascii: "f"): return "\u{0C}"
        case UInt8(ascii: "n"): return "\n"
        case UInt8(ascii: "r"): return "\r"
        case UInt8(ascii: "t"): return "\t"
        case UInt8(ascii: "u"):
            let unit = try parseHex4()
            switch unit {
            case 0xD800..<0xDC00:
                guard consume("\\u") else { throw .malformedHeader("unpaired surrogate in a string") }
                let low = try parseHex4()
                guard (0xDC00..<0xE000).contains(low) else { throw .malformedHeader("unpaired surrogate in a string") }
                return Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))!
            case 0xDC00..<0xE000:
                throw .malformedHeader("unpaired surrogate in a string")
            default:
                return Unicode.Scalar(unit)!
            }
        default:
            throw .malformedHeader("invalid escape in a string at byte \(index - 1)")
        }
    }

    private mutating func parseHex4() throws(WireError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard let byte = next() else { throw .malformedHeader("truncated \\u escape") }
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw .malformedHeader("invalid \\u escape at byte \(index - 1)")
            }
            value = value << 4 | UInt32(digit)
        }
        return value
    }

    /// Skips any JSON value, checking its syntax, so unknown fields stay harmless.
    private mutating func skipValue(depth: Int) throws(WireError) {
        guard depth <= Self.maxDepth else { throw .malformedHeader("nesting deeper than \(Self.maxDepth)") }
        skipWhitespace()
        switch peek() {
        case UInt8(ascii: "{"):
            index += 1
            var keys: [String] = []
            var isFirst = true
            while let key = try nextKey(isFirst: &isFirst) {
                try checkUnique(key.string(in: bytes), among: &keys)
                try skipValue(depth: depth + 1)
            }
        case UInt8(ascii: "["):
            index += 1
            skipWhitespace()
            if peek() == UInt8(ascii: "]") {
                index += 1
                return
            }
            while true {
                try skipValue(depth: depth + 1)
                skipWhitespace()
                switch next() {
                case UInt8(ascii: ","): continue
                case UInt8(ascii: "]"): return
                default: throw .malformedHeader("expected ',' or ']' at byte \(index - 1)")
                }
            }
        case UInt8(ascii: "\""):
            _ = try parseRawString()
        case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
            guard consume("true") || consume("false") || consume("null") else {
                throw .malformedHeader("invalid literal at byte \(index)")
            }
        default:
            try skipNumber()
        }
    }

    /// JSON number grammar: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
    private mutating func skipNumber() throws(WireError) {
        let start = index
        _ = consume("-")
        guard let first = peek(), isDigit(first) else { throw .malformedHeader("invalid value at byte \(start)") }
        index += 1
        if first != UInt8(ascii: "0") { skipDigits() }
        if consume(".") {
            guard skipDigits() > 0 else { throw .malformedHeader("invalid number at byte \(start)") }
        }
        if let e = peek(), e | 0x20 == UInt8(ascii: "e") {
            index += 1
            if !consume("+") { _ = consume("-") }
            guard skipDigits() > 0 else { throw .malformedHeader("invalid number at byte \(start)") }
        }
    }

    // MARK: - Bytes

    @discardableResult
    private mutating func skipDigits() -> Int {
        let start = index
        while let byte = peek(), isDigit(byte) { index += 1 }
        return index - start
    }

    private func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private mutating func skipWhitespace() {
        while let byte = peek(), byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
    }

    private func peek() -> UInt8? { index < bytes.count ? bytes[index] : nil }

    private mutating func next() -> UInt8? {
        guard index < bytes.count else { return nil }
        defer { index += 1 }
        return bytes[index]
    }

    private mutating func expect(_ byte: UInt8, _ message: @autoclosure () -> String) throws(WireError) {
        guard next() == byte else { throw .malformedHeader(message()) }
    }

    /// Consumes `literal` if the input continues with it.
    private mutating func consume(_ literal: StaticString) -> Bool {
        let count = literal.utf8CodeUnitCount
        guard bytes.count - index >= count else { return false }
        for offset in 0..<count where bytes[index + offset] != literal.utf8Start[offset] { return false }
        index += count
        return true
    }
}
