import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// Runs child processes of this executable, prefixes their output lines,
/// restarts those that crash (with backoff), and stops them in order.
final class Supervisor: Sendable {
    struct Child: Sendable {
        var name: String
        var arguments: [String]
        /// ANSI colour of the prefix.
        var colour: Int
        /// Added to this process's environment for the child: where secrets
        /// go (the bus token, its credential), since `ps` shows every argument.
        var environment: [String: String] = [:]
    }

    private struct Running {
        var child: Child
        var process: Process
        var restarts: Int
        var startedAt: Date
    }

    private let executable: URL
    private let coloured: Bool
    private let width: Int
    private let state = NIOLockedValueBox<(running: [String: Running], stopping: Bool)>(([:], false))
    private let output = NSLock()
    /// Called with each line a child prints (after printing it).
    private let onLine: @Sendable (String, String) -> Void

    init(onLine: @escaping @Sendable (String, String) -> Void = { _, _ in }) {
        executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        coloured = isatty(STDOUT_FILENO) == 1
        width = 14
        self.onLine = onLine
    }

    /// Starts `child`; its later crashes restart it.
    func start(_ child: Child, restarts: Int = 0) throws {
        let process = Process()
        process.executableURL = executable
        // Children go when we go, even if we are killed outright.
        process.arguments = child.arguments + ["--exit-with-parent"]
        if !child.environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(child.environment) { _, child in child }
        }
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        let prefix = self.prefix(child)
        let pending = NIOLockedValueBox(Data())
        pipe.fileHandleForReading.readabilityHandler = { [weak self] handle in
            let data = handle.availableData
            guard let self, !data.isEmpty else {
                handle.readabilityHandler = nil
                return
            }
            let lines = pending.withLockedValue { pending -> [String] in
                pending.append(data)
                var lines: [String] = []
                while let newline = pending.firstIndex(of: UInt8(ascii: "\n")) {
                    lines.append(String(decoding: pending[pending.startIndex..<newline], as: UTF8.self))
                    pending.removeSubrange(pending.startIndex...newline)
                }
                return lines
            }
            for line in lines {
                self.write(prefix + line + "\n")
                self.onLine(child.name, line)
            }
        }
        process.terminationHandler = { [weak self] process in
            self?.exited(child.name, process)
        }
        try process.run()
        state.withLockedValue { $0.running[child.name] = Running(child: child, process: process, restarts: restarts, startedAt: Date()) }
        say("started \(child.name) (pid \(process.processIdentifier))")
    }

    /// A child exited: unless we are stopping, start it again after a backoff
    /// that grows with quick successive crashes.
    private func exited(_ name: String, _ process: Process) {
        let (running, stopping) = state.withLockedValue { ($0.running[name], $0.stopping) }
        // While stopping, stop(order:) reports each exit itself, in order.
        guard let running, running.process === process, !stopping else { return }
        say(Self.describeExit(name, process))
        // Ran a while: count it as a fresh failure, not a crash loop.
        let restarts = Date().timeIntervalSince(running.startedAt) > 30 ? 0 : running.restarts + 1
        let delay = min(10, 0.25 * pow(2, Double(restarts)))
        say("restarting \(name) in \(String(format: "%.2g", delay)) s")
        Task {
            try? await Task.sleep(for: .milliseconds(Int(delay * 1000)))
            guard !self.state.withLockedValue({ $0.stopping }) else { return }
            do {
                try self.start(running.child, restarts: restarts)
            } catch {
                self.say("cannot restart \(name): \(error)")
            }
        }
    }

    /// SIGTERM to each child in `order` (waiting for each to exit, SIGKILL after `grace`).
    func stop(order: [String], grace: Duration = .seconds(15)) async {
        let running = state.withLockedValue { state in
            state.stopping = true
            return state.running
        }
        for name in order {
            guard let process = running[name]?.process, process.isRunning else { continue }
            say("stopping \(name)")
            kill(process.processIdentifier, SIGTERM)
            let deadline = ContinuousClock.now + grace
            while process.isRunning, ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(20))
            }
            if process.isRunning {
                say("\(name) did not stop in time; killing it")
                kill(process.processIdentifier, SIGKILL)
                process.waitUntilExit()
            }
            say(Self.describeExit(name, process))
        }
    }

    private static func describeExit(_ name: String, _ process: Process) -> String {
        "\(name) exited with status \(process.terminationStatus)\(process.terminationReason == .uncaughtSignal ? " (signal)" : "")"
    }

    func say(_ message: String) {
        write(prefix(Child(name: "up", arguments: [], colour: 1)) + message + "\n")
    }

    private func prefix(_ child: Child) -> String {
        let padded = child.name.padding(toLength: width, withPad: " ", startingAt: 0)
        return coloured ? "\u{1B}[1;3\(child.colour)m\(padded) |\u{1B}[0m " : "\(padded) | "
    }

    private func write(_ text: String) {
        output.withLock { FileHandle.standardOutput.write(Data(text.utf8)) }
    }
}
