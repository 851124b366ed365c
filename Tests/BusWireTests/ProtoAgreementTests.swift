import BusWire
import Foundation
import Testing

/// The Swift types and `proto/` describe the same protocol: when one changes,
/// these fail until the other does too.
@Suite struct ProtoAgreementTests {
    @Test func errorCodesMatchErrorCodesJSON() throws {
        let entries = try ProtoDirectory.jsonObject("schemas/error-codes.json") as! [[String: Any]]
        #expect(entries.map { $0["code"] as! String } == ErrorCode.known.map(\.rawValue))
        for entry in entries {
            let code = ErrorCode(rawValue: entry["code"] as! String)
            #expect(code.isRetryableByDefault == entry["retryable"] as! Bool, "retryable default of \(code)")
        }
    }

    @Test func headerFieldsAndKindsMatchTheHeaderSchema() throws {
        let schema = try ProtoDirectory.jsonObject("schemas/header.schema.json") as! [String: Any]
        let properties = schema["properties"] as! [String: Any]
        #expect(Set(properties.keys) == Set(FrameHeader.fieldNames))
        let kinds = (properties["kind"] as! [String: Any])["enum"] as! [String]
        #expect(kinds == FrameKind.allCases.map(\.rawValue))
    }

    @Test func canonicalFieldOrderIsTheSpecsOrder() throws {
        let spec = try ProtoDirectory.text("PROTOCOL.md")
        let sentence = try #require(spec.range(of: "Fields in this order:").map { spec[$0.upperBound...].prefix { $0 != ";" } })
        let names = sentence.split(separator: "`").enumerated().filter { $0.offset % 2 == 1 }.map { String($0.element) }
        #expect(names == FrameHeader.fieldNames)
    }

    @Test func everyDecodingReasonIsSpecified() throws {
        let spec = try ProtoDirectory.text("PROTOCOL.md")
        for reason in WireError.Reason.allCases {
            #expect(spec.contains("`\(reason.rawValue)`"), "PROTOCOL.md does not specify \(reason.rawValue)")
        }
    }

    @Test func limitNamesAndDefaultsMatchTheLimitsSchema() throws {
        let schema = try ProtoDirectory.jsonObject("schemas/limits.schema.json") as! [String: Any]
        let properties = schema["properties"] as! [String: [String: Any]]
        #expect(Set(properties.keys) == Set(WireLimits.Name.allCases.map(\.rawValue)))
        let defaults = WireLimits.default
        let expected: [WireLimits.Name: Int] = [
            .maxFrameBytes: defaults.maxFrameBytes, .maxHeaderBytes: defaults.maxHeaderBytes,
            .maxBodyBytes: defaults.maxBodyBytes, .maxInFlight: defaults.maxInFlight,
        ]
        for (name, value) in expected {
            #expect(properties[name.rawValue]?["default"] as? Int == value, "default of \(name.rawValue)")
        }
    }

    /// The handshake vectors' bodies decode into the Swift handshake types.
    @Test func handshakeBodiesDecodeIntoTheSwiftTypes() throws {
        let hello = try TestVector(file: "vectors/hello.json")
        let helloBody = try #require(hello.frames.first?.bodyText)
        let decodedHello = try JSONDecoder().decode(Hello.self, from: Data(helloBody.utf8))
        #expect(decodedHello.versions == [1])
        #expect(decodedHello.codecs == [Codec.deflate])

        let welcome = try TestVector(file: "vectors/welcome.json")
        let welcomeBody = try #require(welcome.frames.first?.bodyText)
        let decodedWelcome = try JSONDecoder().decode(Welcome.self, from: Data(welcomeBody.utf8))
        #expect(decodedWelcome.version == 1)
    }
}
