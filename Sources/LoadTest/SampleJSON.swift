/// Deterministic JSON resembling the system's payloads (analysis records).
public enum SampleJSON {
    private static let words = [
        "sunset", "over", "the", "harbour", "a", "dog", "runs", "along", "beach", "camera", "pans",
        "left", "crowd", "cheering", "stadium", "night", "lights", "close-up", "product", "logo",
    ]

    /// One object of about `bytes` bytes: `{"video_id":"…","description":"…"}`.
    public static func object(bytes: Int) -> String {
        var text = "{\"video_id\":\"test_001\",\"description\":\""
        var generator = SplitMix64(seed: 1)
        while text.utf8.count < bytes - 2 {
            text += words[Int(generator.next() % UInt64(words.count))]
            text += " "
        }
        text = String(text.utf8.prefix(bytes - 2))!
        return text + "\"}"
    }

    /// An array of records of about `bytes` bytes.
    public static func array(bytes: Int) -> String {
        var generator = SplitMix64(seed: 2)
        var records: [String] = []
        var size = 2
        var index = 0
        while size < bytes {
            var description = ""
            for _ in 0..<(8 + Int(generator.next() % 16)) {
                description += words[Int(generator.next() % UInt64(words.count))] + " "
            }
            let record = "{\"id\":\"an_\(index)\",\"video_id\":\"video_\(generator.next() % 100_000)\",\"score\":\(generator.next() % 10_000),\"description\":\"\(description)\"}"
            records.append(record)
            size += record.utf8.count + 1
            index += 1
        }
        return "[" + records.joined(separator: ",") + "]"
    }
}
