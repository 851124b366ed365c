import Foundation

/// A child process of a built executable (`videobus` unless told), its
/// output captured to a file, stopped by PID.
final class VideobusProcess: @unchecked Sendable {
    static let binaries = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent(".build/debug")

    let process = Process()
    let output: URL

    /// Starts `executable arguments…`; stdout and stderr go to a temporary file.
    /// `environment` entries are added to (or, when nil, removed from) this process's environment.
    /// `directory`: the working directory (default: this process's).
    init(_ arguments: [String], executable name: String = "videobus", environment: [String: String?] = [:], directory: URL? = nil) throws {
        let executable = Self.binaries.appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw SystemTestError("\(executable.path) is missing: run `swift build` first")
        }
        output = FileManager.default.temporaryDirectory.appendingPathComponent("videobus-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let handle = try FileHandle(forWritingTo: output)
        process.executableURL = executable
        process.arguments = arguments
        if !environment.isEmpty {
            var merged = ProcessInfo.processInfo.environment
            for (key, value) in environment { merged[key] = value }
            process.environment = merged
        }
        process.standardOutput = handle
        process.standardError = handle
        if let directory { process.currentDirectoryURL = directory }
        try process.run()
    }

    var pid: Int32 { process.processIdentifier }
    var log: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }

    /// Waits for the "listening on host:port" line and returns the port.
    func listeningPort(timeout: Duration = .seconds(20)) async throws -> Int {
        try await port(after: " listening on ", timeout: timeout)
    }

    /// Waits for the first output line containing `marker` and returns the port it names.
    func port(after marker: String, timeout: Duration = .seconds(20)) async throws -> Int {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let line = log.split(separator: "\n").first(where: { $0.contains(marker) }),
                let port = Int(line.split(separator: ":").last?.split(separator: "/").first ?? "") {
                return port
            }
            guard process.isRunning else { throw SystemTestError("exited before listening:\n\(log)") }
            // Checked after reading the log, so a waiter starved past its deadline still sees the line.
            guard ContinuousClock.now < deadline else { break }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw SystemTestError("not listening after \(timeout):\n\(log)")
    }

    func signal(_ signal: Int32) { kill(pid, signal) }

    /// Waits for the process to exit and returns its status.
    func exitStatus(timeout: Duration = .seconds(20)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        while process.isRunning {
            guard ContinuousClock.now < deadline else { throw SystemTestError("still running after \(timeout)") }
            try await Task.sleep(for: .milliseconds(10))
        }
        return process.terminationStatus
    }

    /// Kills the process if it still runs and removes its log.
    func stop() {
        if process.isRunning {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: output)
    }

    /// Runs `videobus arguments…` to completion: (status, output).
    static func run(_ arguments: [String], environment: [String: String?] = [:], directory: URL? = nil) async throws -> (Int32, String) {
        let child = try VideobusProcess(arguments, environment: environment, directory: directory)
        defer { child.stop() }
        // Generous: a full run of the suites keeps both cores busy, and a command's start can wait its turn.
        let status = try await child.exitStatus(timeout: .seconds(90))
        return (status, child.log)
    }
}

struct SystemTestError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
