import NIOCore

extension FrameHeader {
    /// Writes the canonical JSON form: fields in ``fieldNames`` order, absent
    /// optionals omitted, no whitespace, and strings escaped exactly like
    /// Python's `json.dumps(ensure_ascii=False)` so that any implementation
    /// following the spec produces the same bytes.
    ///
    /// - Returns: the number of bytes written.
    @discardableResult
    public func writeJSON(to buffer: inout ByteBuffer) -> Int {
        let start = buffer.writerIndex
        buffer.writeStaticString("{\"kind\":\"")
        buffer.writeString(kind.rawValue)
        buffer.writeInteger(UInt8(ascii: "\""))
        if id != 0 || kind.requiresID {
            buffer.writeStaticString(",\"id\":")
            buffer.writeDecimal(id)
        }
        if let service { buffer.writeField(",\"service\":", service) }
        if let method { buffer.writeField(",\"method\":", method) }
        if let timeoutMilliseconds {
            buffer.writeStaticString(",\"timeout_ms\":")
            buffer.writeDecimal(timeoutMilliseconds)
        }
        if let idempotencyKey { buffer.writeField(",\"idempotency_key\":", idempotencyKey) }
        if let trace { buffer.writeField(",\"trace\":", trace) }
        if let topic { buffer.writeField(",\"topic\":", topic) }
        if let eventID { buffer.writeField(",\"event_id\":", eventID) }
        if let source { buffer.writeField(",\"source\":", source) }
        if let tenant { buffer.writeField(",\"tenant\":", tenant) }
        if let user { buffer.writeField(",\"user\":", user) }
        if let role { buffer.writeField(",\"role\":", role) }
        if let error {
            buffer.writeField(",\"error\":{\"code\":", error.code.rawValue)
            buffer.writeField(",\"message\":", error.message)
            buffer.writeStaticString(error.retryable ? ",\"retryable\":true}" : ",\"retryable\":false}")
        }
        buffer.writeInteger(UInt8(ascii: "}"))
        return buffer.writerIndex - start
    }
}

extension ByteBuffer {
    @inline(__always)
    fileprivate mutating func writeField(_ name: StaticString, _ value: String) {
        writeStaticString(name)
        writeJSONString(value)
    }

    fileprivate mutating func writeDecimal(_ value: UInt64) {
        var digits: (UInt64, UInt64) = (0, 0)  // 16 bytes of scratch: enough for 2^53
        withUnsafeMutableBytes(of: &digits) { scratch in
            var n = value
            var i = scratch.count
            repeat {
                i -= 1
                scratch[i] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
            } while n > 0 && i > 0
            writeBytes(UnsafeRawBufferPointer(rebasing: scratch[i...]))
        }
    }

    /// Writes `value` as a JSON string literal (with quotes).
    mutating func writeJSONString(_ value: String) {
        writeInteger(UInt8(ascii: "\""))
        var value = value
        value.withUTF8 { utf8 in
            var runStart = 0
            for (i, byte) in utf8.enumerated() where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") {
                writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: utf8[runStart..<i])))
                writeEscape(byte)
                runStart = i + 1
            }
            writeBytes(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: utf8[runStart...])))
        }
        writeInteger(UInt8(ascii: "\""))
    }

    private mutating func writeEscape(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): writeStaticString("\\\"")
        case UInt8(ascii: "\\"): writeStaticString("\\\\")
        case 0x08: writeStaticString("\\b")
        case 0x0C: writeStaticString("\\f")
        case 0x0A: writeStaticString("\\n")
        case 0x0D: writeStaticString("\\r")
        case 0x09: writeStaticString("\\t")
        default:
            let hex: StaticString = "0123456789abcdef"
            writeStaticString("\\u00")
            writeInteger(hex.utf8Start[Int(byte >> 4)])
            writeInteger(hex.utf8Start[Int(byte & 0x0F)])
        }
    }
}
