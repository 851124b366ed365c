@testable import Gateway
import Testing

@Suite struct JSONDuplicateKeysTests {
    @Test(arguments: [
        (#"{"a": 1, "b": 2}"#, nil),
        (#"{"a": 1, "a": 2}"#, "a"),
        (#"{"a": {"b": 1}, "b": {"a": 1}}"#, nil),
        (#"{"a": {"b": 1, "c": [1, {"d": 1, "d": 2}]}}"#, "d"),
        (#"[{"a": 1}, {"a": 1}]"#, nil),
        (#"{"a": "a", "b": "a"}"#, nil),
        (#"{"k\"ey": 1, "k\u0022ey": 2}"#, "k\"ey"),
        (#"{"vide\u006f": 1, "video": 2}"#, "video"),
        (#"{"\ud83d\ude00": 1, "😀": 2}"#, "😀"),
        (#"{"x": "}{,\"", "x": 2}"#, "x"),
        (#"{"a": [], "b": {}, "c": 1, "a": 2}"#, "a"),
        ("null", nil),
    ] as [(String, String?)])
    func findsTheFirstRepeatedKey(_ json: String, _ key: String?) {
        #expect(JSONDuplicateKeys.first(in: json) == key)
    }

    @Test(arguments: [
        (#"{"a": 1,}"#, JSONDuplicateKeys.Finding.trailingComma),
        ("[1, 2 ,\n\t]", .trailingComma),
        (#"{"a": [{"b": 1},]}"#, .trailingComma),
        (#"{"a": ",]", "b": ",}"}"#, nil),
        (#"{"a": [], "b": {}}"#, nil),
        (#"{"a": 1, "a": 2,}"#, .repeatedKey("a")),
    ] as [(String, JSONDuplicateKeys.Finding?)])
    func findsATrailingCommaOutsideStrings(_ json: String, _ finding: JSONDuplicateKeys.Finding?) {
        #expect(Array(json.utf8).withUnsafeBytes { JSONDuplicateKeys.firstFinding(in: $0) } == finding)
    }
}
