import Logging

/// swift-log's `StreamLogHandler` output (same lines on standard error), but
/// metadata is only formatted when a message is written. `StreamLogHandler`
/// formats its metadata on every change: the gateway's router attaches a
/// request id to a logger for every request, and paid a sort and a string
/// join per request for lines that, at the default level, are never written.
struct ProcessLogHandler: LogHandler {
    let label: String
    var logLevel: Logger.Level
    var metadata = Logger.Metadata()
    var metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider

    init(label: String, level: Logger.Level) {
        self.label = label
        self.logLevel = level
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var stream = StreamLogHandler.standardError(label: label, metadataProvider: metadataProvider)
        stream.logLevel = logLevel
        stream.metadata = metadata
        stream.log(event: event)
    }

    /// Every logger of the process writes through one of these at `level`.
    static func bootstrap(level: Logger.Level) {
        LoggingSystem.bootstrap { label in ProcessLogHandler(label: label, level: level) }
    }
}
