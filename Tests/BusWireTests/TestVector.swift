import BusWire
import Foundation
import NIOCore

/// One file of `proto/vectors/`: bytes on the wire and what they must mean.
struct TestVector: CustomStringConvertible, Sendable {
    struct ExpectedFrame: Sendable {
        var header: FrameHeader
        var isCompressed: Bool
        var bodySize: Int
        /// The plain body; nil when opening the body must fail.
        var bodyText: String?
    }

    struct ExpectedError: Sendable {
        var stage: String
        var reason: String
        var code: String
        var frameIndex: Int
    }

    var name: String
    var limits: WireLimits
    var bytes: ByteBuffer
    var isCanonical: Bool
    var frames: [ExpectedFrame]
    var error: ExpectedError?

    var description: String { name }

    static func loadAll() throws -> [TestVector] {
        let directory = ProtoDirectory.url.appendingPathComponent("vectors")
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".json") }
            .sorted()
        return try files.map { try TestVector(file: "vectors/\($0)") }
    }

    init(file: String) throws {
        let object = try ProtoDirectory.jsonObject(file) as! [String: Any]
        name = object["name"] as! String
        limits = WireLimits(overrides: object["limits"] as? [String: Any])
        bytes = ByteBuffer(hex: object["hex"] as! String)
        isCanonical = object["canonical"] as! Bool
        frames = try (object["frames"] as! [[String: Any]]).map { frame in
            ExpectedFrame(
                header: try FrameHeader(jsonObject: frame["header"] as! [String: Any]),
                isCompressed: frame["compressed"] as! Bool,
                bodySize: frame["body_size"] as! Int,
                bodyText: frame["body_text"] as? String
            )
        }
        if let error = object["error"] as? [String: Any] {
            self.error = ExpectedError(
                stage: error["stage"] as! String, reason: error["reason"] as! String,
                code: error["code"] as! String, frameIndex: error["frame_index"] as! Int
            )
        }
    }
}
