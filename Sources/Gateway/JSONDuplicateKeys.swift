/// What Foundation's parser lets through of a JSON text that RFC 8259 does
/// not: a key repeated in one object, at any depth (the parser keeps one of
/// them silently), and a comma before a closing bracket. The text must
/// already have parsed (the scanner trusts its structure); keys compare
/// after unescaping, so `"a"` and `"\u0061"` are the same key.
enum JSONDuplicateKeys {
    enum Finding: Equatable {
        case repeatedKey(String)
        /// `{"a": 1,}` or `[1,]`.
        case trailingComma
    }

    /// The first repeated key, or nil.
    static func first(in text: String) -> String? {
        Array(text.utf8).withUnsafeBytes { first(in: $0) }
    }

    /// The first repeated key, or nil.
    static func first(in bytes: UnsafeRawBufferPointer) -> String? {
        if case .repeatedKey(let key) = firstFinding(in: bytes) { return key }
        return nil
    }

    /// The first thing RFC 8259 refuses, in one pass.
    static func firstFinding(in bytes: UnsafeRawBufferPointer) -> Finding? {
        // One entry per open container: the keys of an object (nil for an array), and whether a key comes next.
        var stack: [(keys: Set<String>?, expectingKey: Bool)] = []
        var previous: UInt8 = 0  // the last byte outside strings that is not white space
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            switch byte {
            case UInt8(ascii: "{"): stack.append((keys: [], expectingKey: true))
            case UInt8(ascii: "["): stack.append((keys: nil, expectingKey: false))
            case UInt8(ascii: "}"), UInt8(ascii: "]"):
                if previous == UInt8(ascii: ",") { return .trailingComma }
                if !stack.isEmpty { stack.removeLast() }
            case UInt8(ascii: ","): if let last = stack.indices.last, stack[last].keys != nil { stack[last].expectingKey = true }
            case UInt8(ascii: "\""):
                let (text, end) = string(bytes, from: index + 1)
                index = end
                if let last = stack.indices.last, stack[last].keys != nil, stack[last].expectingKey {
                    stack[last].expectingKey = false
                    if stack[last].keys!.insert(text).inserted == false { return .repeatedKey(text) }
                }
            default: break
            }
            if byte != 0x20, byte != 0x0A, byte != 0x0D, byte != 0x09 { previous = byte }
            index += 1
        }
        return nil
    }

    /// The string starting after its opening quote, unescaped, and the index of its closing quote.
    private static func string(_ bytes: UnsafeRawBufferPointer, from start: Int) -> (String, Int) {
        var scalars: [UInt8] = []
        var index = start
        var pendingHigh: UInt32?
        func append(_ scalar: UInt32) {
            if let s = Unicode.Scalar(scalar) { scalars.append(contentsOf: Array(String(Character(s)).utf8)) }
        }
        while index < bytes.count, bytes[index] != UInt8(ascii: "\"") {
            if bytes[index] == UInt8(ascii: "\\"), index + 1 < bytes.count {
                let escape = bytes[index + 1]
                index += 2
                if escape == UInt8(ascii: "u"), index + 4 <= bytes.count,
                   let unit = UInt32(String(decoding: bytes[index..<index + 4], as: UTF8.self), radix: 16) {
                    index += 4
                    if (0xD800...0xDBFF).contains(unit) { pendingHigh = unit; continue }
                    if (0xDC00...0xDFFF).contains(unit), let high = pendingHigh {
                        append(0x10000 + ((high - 0xD800) << 10) + (unit - 0xDC00))
                    } else {
                        append(unit)
                    }
                    pendingHigh = nil
                    continue
                }
                pendingHigh = nil
                switch escape {
                case UInt8(ascii: "n"): scalars.append(0x0A)
                case UInt8(ascii: "t"): scalars.append(0x09)
                case UInt8(ascii: "r"): scalars.append(0x0D)
                case UInt8(ascii: "b"): scalars.append(0x08)
                case UInt8(ascii: "f"): scalars.append(0x0C)
                default: scalars.append(escape)  // \" \\ \/
                }
                continue
            }
            pendingHigh = nil
            scalars.append(bytes[index])
            index += 1
        }
        return (String(decoding: scalars, as: UTF8.self), index)
    }
}
