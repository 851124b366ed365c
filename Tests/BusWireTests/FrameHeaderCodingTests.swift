@testable import BusWire
import Foundation
import NIOCore
import Testing

/// The hand-written header codec agrees with Foundation's JSON on random
/// headers in both directions, and refuses what the spec refuses.
@Suite struct FrameHeaderCodingTests {
    static func randomString(_ random: inout SeededRandom) -> String {
        let alphabet: [Character] = ["a", "Z", "0", "-", ".", " ", "\"", "\\", "/", "\n", "\t", "\u{01}", "\u{1F}", "é", "字", "😀", "\u{7F}"]
        return String((0..<random.int(in: 0...12)).map { _ in alphabet[random.int(in: 0...(alphabet.count - 1))] })
    }

    static func randomHeader(_ random: inout SeededRandom) -> FrameHeader {
        let kind = FrameKind.allCases[random.int(in: 0...(FrameKind.allCases.count - 1))]
        func maybe(_ random: inout SeededRandom) -> String? { random.int(in: 0...1) == 0 ? nil : randomString(&random) }
        var header = FrameHeader(kind: kind, id: random.next() % (FrameHeader.maxID + 1))
        header.service = maybe(&random)
        header.method = maybe(&random)
        header.timeoutMilliseconds = random.int(in: 0...1) == 0 ? nil : random.next() >> 11
        header.idempotencyKey = maybe(&random)
        header.trace = maybe(&random)
        header.topic = maybe(&random)
        header.eventID = maybe(&random)
        header.source = maybe(&random)
        if random.int(in: 0...1) == 1 {
            header.error = BusError(ErrorCode(rawValue: randomString(&random)), randomString(&random), retryable: random.int(in: 0...1) == 1)
        }
        // Satisfy the fields each kind requires.
        if kind == .request { header.service = header.service ?? "s"; header.method = header.method ?? "m" }
        if kind == .event { header.topic = header.topic ?? "t"; header.eventID = header.eventID ?? "e" }
        if kind == .error, header.error == nil { header.error = BusError(.internal, "x") }
        if !kind.requiresID, header.id == 0 { header.id = 1 }
        return header
    }

    @Test func encodedHeadersReadTheSameInFoundation() throws {
        var random = SeededRandom(seed: 7)
        for _ in 0..<2000 {
            let header = Self.randomHeader(&random)
            var buffer = ByteBuffer()
            header.writeJSON(to: &buffer)
            let object = try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as! [String: Any]
            #expect(try FrameHeader(jsonObject: object) == header)
            #expect(try FrameHeader(json: buffer) == header)
        }
    }

    @Test func foundationWrittenHeadersParse() throws {
        var random = SeededRandom(seed: 8)
        for _ in 0..<2000 {
            let header = Self.randomHeader(&random)
            var object: [String: Any] = ["kind": header.kind.rawValue, "id": header.id, "unknown_future_field": ["nested": [1, 2.5, "x", NSNull(), true]]]
            if let value = header.service { object["service"] = value }
            if let value = header.method { object["method"] = value }
            if let value = header.timeoutMilliseconds { object["timeout_ms"] = value }
            if let value = header.idempotencyKey { object["idempotency_key"] = value }
            if let value = header.trace { object["trace"] = value }
            if let value = header.topic { object["topic"] = value }
            if let value = header.eventID { object["event_id"] = value }
            if let value = header.source { object["source"] = value }
            if let error = header.error { object["error"] = ["retryable": error.retryable, "message": error.message, "code": error.code.rawValue] }
            // Pretty-printed, other key order, escaped slashes: all must be accepted.
            let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted])
            #expect(try FrameHeader(json: ByteBuffer(bytes: data)) == header)
        }
    }

    @Test func escapesFollowTheCanonicalForm() {
        var buffer = ByteBuffer()
        FrameHeader(kind: .ping, id: 3, trace: "a\"b\\c/d\n\u{01}é").writeJSON(to: &buffer)
        #expect(String(buffer: buffer) == #"{"kind":"ping","id":3,"trace":"a\"b\\c/d\n\u0001é"}"#)
    }

    @Test(arguments: [
        (#"{"kind":"ping","id":1,"id":2}"#, #"header: duplicate key "id""#),
        (#"{"kind":"ping","id":"1"}"#, #"header: "id" must be a non-negative integer"#),
        (#"{"kind":"ping","id":1.0}"#, #"header: "id" must be a non-negative integer"#),
        (#"{"kind":"ping","id":-1}"#, #"header: "id" must be a non-negative integer"#),
        (#"{"kind":"ping","id":01}"#, #"header: "id" has a leading zero"#),
        (#"{"kind":"ping","id":9007199254740992}"#, #"header: "id" exceeds 2^53-1"#),
        (#"{"kind":"ping"}"#, #"header: a ping frame needs "id""#),
        (#"{"kind":"request","id":1,"service":"s"}"#, #"header: a request needs "method""#),
        (#"{"kind":"teleport","id":1}"#, #"header: unknown kind "teleport""#),
        (#"{"id":1}"#, #"header: "kind" is missing"#),
        (#"{"kind":"error","error":{"code":"x","message":"y"}}"#, #"header: "error" needs "code", "message" and "retryable""#),
        (#"{"kind":"ping","id":1} x"#, "header: unexpected bytes after the header object"),
        (#"["kind"]"#, "header: a header must be a JSON object"),
        (#"{"kind":"ping","id":1,"x":"\ud800"}"#, "header: unpaired surrogate in a string"),
        (#"{"kind":"ping","id":1,"x":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}"#, "header: nesting deeper than 32"),
        (#"{"kind":"ping","id":1,"x":NaN}"#, "header: invalid value at byte 26"),
        ("", "header: a header must be a JSON object"),
    ])
    func malformedHeadersAreRefusedWithAReason(json: String, message: String) {
        #expect(throws: WireError(.headerMalformed, message)) { try FrameHeader(json: ByteBuffer(string: json)) }
    }

    @Test func invalidUTF8IsRefused() {
        var buffer = ByteBuffer(string: #"{"kind":"ping","id":1,"x":""#)
        buffer.writeBytes([0xC3, 0x28])
        buffer.writeString("\"}")
        #expect(throws: WireError(.headerMalformed, "header: not valid UTF-8")) { try FrameHeader(json: buffer) }
    }
}
