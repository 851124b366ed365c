import BusWire
import Logging
import NIOCore

/// One event as a subscriber receives it.
public struct EventDelivery: Sendable {
    public let topic: String
    /// Globally unique: a redelivered event has the same id (deduplicate on it).
    public let eventID: String
    /// The publishing service, when it said.
    public let source: String?
    public let trace: String?
    /// The tenant the event belongs to, when it has one.
    public let tenant: String?

    /// Carries `event-id` and `topic` metadata (built on first use).
    public var logger: Logger {
        get { customLogger ?? Self.annotate(baseLogger, eventID: eventID, topic: topic) }
        set { customLogger = newValue }
    }

    private let baseLogger: Logger
    private var customLogger: Logger?

    init(topic: String, eventID: String, source: String?, trace: String?, tenant: String?, logger: Logger) {
        self.topic = topic
        self.tenant = tenant.flatMap { $0.isEmpty ? nil : $0 }
        self.eventID = eventID
        self.source = source
        self.trace = trace
        self.baseLogger = logger
    }

    private static func annotate(_ logger: Logger, eventID: String, topic: String) -> Logger {
        var logger = logger
        logger[metadataKey: "event-id"] = "\(eventID)"
        logger[metadataKey: "topic"] = "\(topic)"
        return logger
    }
}

/// Handles the events of one topic. Returning acknowledges the event; throwing
/// refuses it (a nack), and a ``BusError`` marked retryable asks for redelivery.
public typealias EventHandler = @Sendable (ByteBuffer, EventDelivery) async throws -> Void

/// What became of one published event: which subscribing groups acknowledged
/// it and which did not, with why.
public struct EventDeliveryReport: Sendable {
    public var topic: String
    public var eventID: String
    public var acknowledged: [String] = []
    public var failed: [String: BusError] = [:]

    /// Whether every subscribing group acknowledged the event.
    public var isComplete: Bool { failed.isEmpty }
}
