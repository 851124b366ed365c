import Foundation
import NIOConcurrencyHelpers

/// Collision-resistant, roughly time-ordered ids in the style of cuid (as the
/// original system's records have: `cmln3abm30000a6gzn6gy8ieb`): `c`, the
/// time in base 36, a per-process counter, a process fingerprint, randomness.
/// 25 lowercase characters, safe in URLs.
public enum ResourceID {
    private static let counter = NIOLockedValueBox<UInt32>(UInt32.random(in: 0..<1_679_616))
    private static let fingerprint: String = {
        let seed = UInt64(ProcessInfo.processInfo.processIdentifier) &* 2_654_435_761 &+ UInt64.random(in: 0...UInt64.max)
        return pad(String(seed % 1_679_616, radix: 36), 4)
    }()

    public static func make() -> String {
        let time = pad(String(UInt64(Date().timeIntervalSince1970 * 1000), radix: 36), 8)
        let count = counter.withLockedValue { value -> UInt32 in
            value = (value + 1) % 1_679_616
            return value
        }
        let random = pad(String(UInt64.random(in: 0..<2_821_109_907_456), radix: 36), 8)
        return "c" + time + pad(String(count, radix: 36), 4) + fingerprint + random
    }

    private static func pad(_ text: String, _ width: Int) -> String {
        String((String(repeating: "0", count: max(0, width - text.count)) + text).suffix(width))
    }
}
