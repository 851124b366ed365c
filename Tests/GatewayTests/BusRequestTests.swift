import Foundation
import NIOCore
import Testing

@testable import Gateway

/// How a REST request becomes the bus request the service decodes.
@Suite struct BusRequestTests {
    func object(_ buffer: ByteBuffer) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer.readableBytesView)) as? [String: Any])
    }

    @Test func parametersAloneAreOneCanonicalObjectWhateverTheirCharacters() throws {
        let awkward = "quote \" backslash \\ slash / newline \n tab \t bell \u{07} nul-free é 😀"
        let buffer = try RouteHandler.busRequest(body: [:], bytes: nil, parameters: [("video_id", .string(awkward)), ("limit", .integer(-42))])
        #expect(String(buffer: buffer).hasPrefix(#"{"limit":-42,"video_id":"#), "keys in sorted order: \(String(buffer: buffer))")
        let decoded = try object(buffer)
        #expect(decoded["video_id"] as? String == awkward)
        #expect((decoded["limit"] as? NSNumber)?.int64Value == -42)
        #expect(String(buffer: try RouteHandler.busRequest(body: [:], bytes: nil, parameters: [])) == "{}")
    }

    @Test func aBodyWithNothingAddedIsForwardedAsItCame() throws {
        let bytes = ByteBuffer(string: #"{"video_id": "v1", "description": "caf\u00e9"}"#)
        let forwarded = try RouteHandler.busRequest(body: ["video_id": "v1", "description": "café"], bytes: bytes, parameters: [])
        #expect(forwarded == bytes)
    }

    @Test func aParameterWinsOverTheBodyFieldOfItsName() throws {
        let bytes = ByteBuffer(string: #"{"video_id":"from-body","description":"d"}"#)
        let merged = try object(RouteHandler.busRequest(body: ["video_id": "from-body", "description": "d"], bytes: bytes, parameters: [("video_id", .string("from-path"))]))
        #expect(merged["video_id"] as? String == "from-path")
        #expect(merged["description"] as? String == "d")
    }

    /// Money is read from a number's text: parameters are written in front
    /// of the client's own bytes, so a number never passes through a Double.
    @Test func parametersAreAddedInFrontOfTheClientsBytesSoNumbersKeepTheirText() throws {
        let bytes = ByteBuffer(string: "  {\"spend\": 12345678901234567.89, \"clicks\": 3}")
        let spliced = try RouteHandler.busRequest(body: ["spend": 1.0, "clicks": 3], bytes: bytes, parameters: [("id", .string("c1"))])
        #expect(String(buffer: spliced) == "{\"id\":\"c1\",\"spend\": 12345678901234567.89, \"clicks\": 3}")
        #expect(try object(spliced)["id"] as? String == "c1")
    }
}
