import NIOCore

/// A request body with placeholders filled per request: `{n}` becomes a
/// random key in `0..<keys` (to read existing records), `{seq}` a number
/// unique to this run (to create new ones).
///
///     {"video_id":"bench_{n}"}
///     {"video_id":"lt_{seq}","description":"A sunset"}
public struct BodyTemplate: Sendable, Hashable {
    private enum Part: Sendable, Hashable { case text(String), key, sequence }
    private let parts: [Part]
    public let keys: Int

    public init(_ template: String, keys: Int = 1000) {
        var parts: [Part] = []
        var rest = Substring(template)
        while let open = rest.firstIndex(of: "{") {
            let tail = rest[open...]
            if tail.hasPrefix("{n}") {
                parts.append(.text(String(rest[..<open])))
                parts.append(.key)
                rest = tail.dropFirst(3)
            } else if tail.hasPrefix("{seq}") {
                parts.append(.text(String(rest[..<open])))
                parts.append(.sequence)
                rest = tail.dropFirst(5)
            } else {
                parts.append(.text(String(rest[...open])))
                rest = rest[rest.index(after: open)...]
            }
        }
        parts.append(.text(String(rest)))
        self.parts = parts.filter { $0 != .text("") }
        self.keys = max(1, keys)
    }

    /// Whether the body is the same for every request.
    public var isFixed: Bool { !parts.contains(.key) && !parts.contains(.sequence) }

    public func render(sequence: UInt64, generator: inout some RandomNumberGenerator) -> ByteBuffer {
        var buffer = ByteBuffer()
        for part in parts {
            switch part {
            case .text(let text): buffer.writeString(text)
            case .key: buffer.writeString(String(Int.random(in: 0..<keys, using: &generator)))
            case .sequence: buffer.writeString(String(sequence))
            }
        }
        return buffer
    }
}
