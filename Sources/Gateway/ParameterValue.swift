import Foundation
import NIOCore

/// A path or query parameter's value, typed as its route declares it.
enum ParameterValue: Equatable {
    case string(String)
    case integer(Int64)
    /// Finite: a query string cannot smuggle NaN or infinity into a JSON body.
    case number(Double)

    /// As `JSONSerialization` takes it.
    var json: Any {
        switch self {
        case .string(let text): text
        case .integer(let number): number
        case .number(let number): number
        }
    }

    /// `{"name":value,...}` with the names in sorted order (the canonical
    /// form the rest of the bus writes), without a pass through Foundation:
    /// this is the whole request of every GET.
    static func object(_ fields: [(name: String, value: ParameterValue)]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.writeStaticString("{")
        for (index, field) in fields.sorted(by: { $0.name < $1.name }).enumerated() {
            if index > 0 { buffer.writeStaticString(",") }
            writeJSONString(field.name, to: &buffer)
            buffer.writeStaticString(":")
            switch field.value {
            case .string(let text): writeJSONString(text, to: &buffer)
            case .integer(let number): buffer.writeString(String(number))
            // Swift's shortest round-trip form is valid JSON for finite numbers (1e-05, 0.7).
            case .number(let number): buffer.writeString(number.description)
            }
        }
        buffer.writeStaticString("}")
        return buffer
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped, the rest as UTF-8.
    static func writeJSONString(_ text: String, to buffer: inout ByteBuffer) {
        buffer.writeStaticString("\"")
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""): buffer.writeStaticString("\\\"")
            case UInt8(ascii: "\\"): buffer.writeStaticString("\\\\")
            case 0x0A: buffer.writeStaticString("\\n")
            case 0x0D: buffer.writeStaticString("\\r")
            case 0x09: buffer.writeStaticString("\\t")
            case 0..<0x20:
                let hex = String(byte, radix: 16)
                buffer.writeString("\\u00" + (hex.count == 1 ? "0" + hex : hex))
            default: buffer.writeInteger(byte)
            }
        }
        buffer.writeStaticString("\"")
    }
}
