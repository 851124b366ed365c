import BusWire
import Foundation
import NIOCore

/// Files of the repository's `proto/` folder, read from the source tree so the
/// tests check the very files a client author reads.
enum ProtoDirectory {
    static let url = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()  // Support
        .deletingLastPathComponent()  // BusWireTests
        .deletingLastPathComponent()  // Tests
        .deletingLastPathComponent()  // package root
        .appendingPathComponent("proto")

    static func data(_ path: String) throws -> Data {
        try Data(contentsOf: url.appendingPathComponent(path))
    }

    static func jsonObject(_ path: String) throws -> Any {
        try JSONSerialization.jsonObject(with: data(path))
    }

    static func text(_ path: String) throws -> String {
        try String(decoding: data(path), as: UTF8.self)
    }
}

extension ByteBuffer {
    init(hex: String) {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(hex.utf8.count / 2)
        var high: UInt8?
        for char in hex.utf8 {
            let nibble: UInt8 = char <= UInt8(ascii: "9") ? char - UInt8(ascii: "0") : (char | 0x20) - UInt8(ascii: "a") + 10
            if let h = high {
                bytes.append(h << 4 | nibble)
                high = nil
            } else {
                high = nibble
            }
        }
        self.init(bytes: bytes)
    }

    var hex: String {
        readableBytesView.map { String($0, radix: 16).count == 1 ? "0" + String($0, radix: 16) : String($0, radix: 16) }.joined()
    }
}

extension FrameHeader {
    /// Builds a header from a JSON object decoded by Foundation: an implementation
    /// independent of the hand-written parser under test.
    init(jsonObject object: [String: Any]) throws {
        struct Bad: Error { var field: String }
        func string(_ key: String) throws -> String? {
            guard let value = object[key] else { return nil }
            guard let string = value as? String else { throw Bad(field: key) }
            return string
        }
        func integer(_ key: String) throws -> UInt64? {
            guard let value = object[key] else { return nil }
            guard let number = value as? NSNumber, let integer = UInt64(exactly: number.doubleValue) else { throw Bad(field: key) }
            return integer
        }
        guard let kindName = try string("kind"), let kind = FrameKind(rawValue: kindName) else { throw Bad(field: "kind") }
        var error: BusError?
        if let raw = object["error"] {
            guard let fields = raw as? [String: Any], let code = fields["code"] as? String,
                let message = fields["message"] as? String, let retryable = fields["retryable"] as? Bool
            else { throw Bad(field: "error") }
            error = BusError(ErrorCode(rawValue: code), message, retryable: retryable)
        }
        self.init(
            kind: kind, id: try integer("id") ?? 0, service: try string("service"), method: try string("method"),
            timeoutMilliseconds: try integer("timeout_ms"), idempotencyKey: try string("idempotency_key"),
            trace: try string("trace"), topic: try string("topic"), eventID: try string("event_id"),
            source: try string("source"), error: error
        )
        tenant = try string("tenant")
        user = try string("user")
        role = try string("role")
    }
}

extension WireLimits {
    /// The defaults with a vector's overrides applied.
    init(overrides: [String: Any]?) {
        self.init()
        for (key, value) in overrides ?? [:] {
            let value = (value as? Int) ?? 0
            switch WireLimits.Name(rawValue: key) {
            case .maxFrameBytes: maxFrameBytes = value
            case .maxHeaderBytes: maxHeaderBytes = value
            case .maxBodyBytes: maxBodyBytes = value
            case .maxInFlight: maxInFlight = value
            case nil: preconditionFailure("unknown limit \(key) in a vector")
            }
        }
    }
}
