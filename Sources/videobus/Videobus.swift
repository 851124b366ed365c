import ArgumentParser

/// The one executable: a subcommand per role.
@main
struct Videobus: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "videobus",
        abstract: "A message-driven backend for video-AI products.",
        version: "0.1.0",
        subcommands: [UpCommand.self, RegistryCommand.self, Serve.self, GatewayCommand.self, CallCommand.self, StatusCommand.self, TenantCommand.self, MigrateCommand.self, SeedCommand.self, EventsCommand.self, LoadTestCommand.self, Bench.self]
    )
}

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Micro-benchmarks of the system's parts (run on a release build).",
        subcommands: [BenchWire.self, BenchStorage.self, BenchPages.self, BenchSearch.self, BenchVectors.self, BenchKnowledge.self, BenchPredictions.self]
    )
}
