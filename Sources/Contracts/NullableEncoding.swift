extension KeyedEncodingContainer {
    // `encode(_:forKey:)` of an Optional goes through the encoder's generic
    // path (a dynamic cast and generic metadata per value); answers that show
    // unknown facts as null call these concrete ones instead.

    /// The value, or `null` when there is none.
    public mutating func encodeOrNull(_ value: String?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }

    public mutating func encodeOrNull(_ value: Double?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }

    public mutating func encodeOrNull(_ value: Int?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }

    public mutating func encodeOrNull(_ value: Int64?, forKey key: Key) throws {
        if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
    }

    /// Names to numbers as a JSON object, keys sorted, or `null`.
    public mutating func encodeOrNull(_ numbers: [String: Double]?, forKey key: Key) throws {
        guard let numbers else { return try encodeNil(forKey: key) }
        var object = nestedContainer(keyedBy: NameKey.self, forKey: key)
        for (name, number) in numbers.sorted(by: { $0.key < $1.key }) { try object.encode(number, forKey: NameKey(name)) }
    }
}

/// A key that is any name (for objects whose keys are data).
struct NameKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}
