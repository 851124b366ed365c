import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// One child process of `videobus up`, as a `Service` of its `ServiceGroup`.
///
/// It starts the child once the children it depends on have been ready (they
/// come before it in the group), learns that the child is ready from its
/// readiness pipe (see ``Readiness``), copies its output with a prefix,
/// restarts it with backoff when it exits unexpectedly (``RestartPolicy``;
/// the arguments, its port included, are the same every time), and throws
/// when the child keeps crashing, which stops the group. On graceful shutdown
/// (the group stops children in reverse order) it sends SIGTERM, then
/// SIGKILL once `stopGrace` has passed; on cancellation, both at once.
final class SupervisedChild: Service, Sendable, CustomStringConvertible {
    struct Specification: Sendable {
        var name: String
        /// The `videobus` arguments, ports included.
        var arguments: [String]
        /// ANSI colour of its prefix.
        var colour: Int
        /// Added to `up`'s environment: where secrets go, since `ps` shows every argument.
        var environment: [String: String] = [:]
    }

    let specification: Specification
    private let dependencies: [SupervisedChild]
    private let console: UpConsole
    private let policy: RestartPolicy
    private let readyTimeout: Duration
    private let stopGrace: Duration
    /// Called on each readiness line, with whether it is the child's first.
    private let onReady: @Sendable (Readiness.Line, Bool) -> Void
    private let firstReady = ReadyLatch()
    private static let executable = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().path

    var description: String { specification.name }

    init(
        _ specification: Specification, after dependencies: [SupervisedChild] = [], console: UpConsole, policy: RestartPolicy = RestartPolicy(),
        readyTimeout: Duration = .seconds(60), stopGrace: Duration = .seconds(15), onReady: @escaping @Sendable (Readiness.Line, Bool) -> Void = { _, _ in }
    ) {
        self.specification = specification
        self.dependencies = dependencies
        self.console = console
        self.policy = policy
        self.readyTimeout = readyTimeout
        self.stopGrace = stopGrace
        self.onReady = onReady
    }

    func run() async throws {
        do {
            for dependency in dependencies {
                try await cancelWhenGracefulShutdown { try await dependency.firstReady.wait() }
            }
        } catch {
            return  // Stopped before it could start.
        }
        var history = RestartPolicy.History(policy: policy)
        while !Task.isShuttingDownGracefully, !Task.isCancelled {
            let started = ContinuousClock.now
            let (status, stopped) = try await runOnce()
            // An exit while the group stops needs no restart, whoever asked for it.
            guard !stopped, !Task.isShuttingDownGracefully else { return }
            let name = specification.name
            switch history.recordExit(at: .now, ranFor: .now - started) {
            case .giveUp(let exits):
                let failure = CrashLoop(name: name, exits: exits, window: policy.window, last: status)
                console.say("\(failure): stopping everything")
                throw failure
            case .restart(let delay):
                console.say("restarting \(name) in \(delay.readable)")
                do {
                    try await cancelWhenGracefulShutdown { try await Task.sleep(for: delay) }
                } catch {
                    return
                }
            }
        }
    }

    private enum Event: Sendable {
        case exited(ExitStatus)
        case readiness(Readiness.Outcome)
        case outputClosed
        case shutdownRequested
        case graceOver
    }

    /// Runs the child once, until it exits: returns how, and whether it was stopped on purpose.
    private func runOnce() async throws -> (ExitStatus, stopped: Bool) {
        let name = specification.name
        let process = try ChildProcess.spawn(
            executable: Self.executable,
            // Children go when we go, even if we are killed outright.
            arguments: specification.arguments + ["--exit-with-parent"],
            environment: ProcessInfo.processInfo.environment.merging(specification.environment) { $1 }.merging([Readiness.variable: "\(Readiness.descriptor)"]) { $1 },
            readinessDescriptor: Readiness.descriptor
        )
        console.say("started \(name) (pid \(process.pid))")
        let readyDeadline = ContinuousClock.now + readyTimeout
        return await withTaskGroup(of: Event.self) { group in
            group.addTask { .exited(await process.exitStatus()) }
            group.addTask { .readiness(await Readiness.read(from: process.readiness, until: readyDeadline)) }
            group.addTask {
                await self.copyOutput(of: process)
                return .outputClosed
            }
            group.addTask {
                // Cancellation ends the wait too (it throws): then the child is stopped all the same.
                try? await gracefulShutdown()
                return .shutdownRequested
            }
            var status: ExitStatus?
            var outputClosed = false
            var stopping = false
            while let event = await group.next() {
                switch event {
                case .exited(let exitStatus):
                    status = exitStatus
                    if !outputClosed {
                        // Its last lines come before the news of its exit, unless something else holds the pipe.
                        group.addTask {
                            try? await Task.sleep(for: .seconds(2))
                            return .outputClosed
                        }
                    }
                case .outputClosed:
                    outputClosed = true
                case .readiness(let outcome):
                    handle(outcome, of: process, isRunning: status == nil && !stopping)
                case .shutdownRequested:
                    guard status == nil, !stopping else { break }
                    stopping = true
                    console.say("stopping \(name) (pid \(process.pid))")
                    process.signal(SIGTERM)
                    let grace = stopGrace
                    group.addTask {
                        try? await Task.sleep(for: grace)
                        return .graceOver
                    }
                case .graceOver:
                    guard status == nil else { break }
                    console.say("\(name) did not stop within \(stopGrace.readable); killing it")
                    process.signal(SIGKILL)
                }
                if let status, outputClosed {
                    group.cancelAll()
                    console.say("\(name) exited \(stopping ? "" : "unexpectedly ")with \(status)")
                    return (status, stopping)
                }
            }
            preconditionFailure("the exit of \(name) was never reported")
        }
    }

    private func handle(_ outcome: Readiness.Outcome, of process: ChildProcess, isRunning: Bool) {
        let name = specification.name
        switch outcome {
        case .ready(let line) where line.pid == process.pid:
            let first = firstReady.open()
            let addresses = [line.bus.map { "bus \($0)" }, line.http.map { "http \($0)" }].compactMap(\.self).joined(separator: ", ")
            console.say("\(name) ready (pid \(process.pid)\(addresses.isEmpty ? "" : "; \(addresses)"))")
            onReady(line, first)
        case .ready(let line):
            guard isRunning else { return }
            console.say("\(name) announced pid \(line.pid), not its own \(process.pid); killing it")
            process.signal(SIGKILL)
        case .closed:
            break  // It exited before it was ready: its exit says how.
        case .timedOut:
            guard isRunning else { return }
            console.say("\(name) was not ready within \(readyTimeout.readable); killing it")
            process.signal(SIGKILL)
        case .unreadable(let problem):
            guard isRunning else { return }
            console.say("\(name): \(problem); killing it")
            process.signal(SIGKILL)
        }
    }

    /// Copies the child's output to `up`'s, a prefixed line at a time, until the pipe closes.
    private func copyOutput(of process: ChildProcess) async {
        let prefix = console.prefix(name: specification.name, colour: specification.colour)
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await NIOPipeBootstrap(group: MultiThreadedEventLoopGroup.singleton).takingOwnershipOfDescriptor(input: process.output) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        } catch {
            close(process.output)
            console.say("cannot read the output of \(specification.name): \(error)")
            return
        }
        // Closing the pipe ends the copy even if something else still holds its write end.
        try? await withTaskCancellationHandler {
            try await copyLines(from: channel, prefix: prefix)
        } onCancel: {
            channel.channel.close(promise: nil)
        }
    }

    private func copyLines(from channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>, prefix: String) async throws {
        try await channel.executeThenClose { inbound, _ in
            var pending = ByteBuffer()
            for try await chunk in inbound {
                pending.writeImmutableBuffer(chunk)
                while let newline = pending.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                    let line = pending.readString(length: newline - pending.readerIndex)!
                    pending.moveReaderIndex(forwardBy: 1)
                    console.write(line, prefix: prefix)
                }
                // A line that never ends is shown in pieces rather than held without bound.
                if pending.readableBytes > 64 * 1024 { console.write(pending.readString(length: pending.readableBytes)!, prefix: prefix) }
                pending.discardReadBytes()
            }
            if pending.readableBytes > 0 { console.write(pending.readString(length: pending.readableBytes)!, prefix: prefix) }
        }
    }
}

/// A child that exited too often too quickly: `up` stops and says which, and how it last ended.
struct CrashLoop: Error, CustomStringConvertible {
    var name: String
    var exits: Int
    var window: Duration
    var last: ExitStatus

    var description: String {
        "\(name) exited \(exits) times within \(window.readable) (last: \(last))"
    }
}

/// Opens once; waiters before that wait, later ones pass at once. Cancellable.
private final class ReadyLatch: Sendable {
    private struct State {
        var isOpen = false
        var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
        var nextID: UInt64 = 0
    }

    private let state = NIOLockedValueBox(State())

    /// Opens the latch; returns whether this call did (the first readiness).
    func open() -> Bool {
        let (first, waiters) = state.withLockedValue { state in
            defer {
                state.isOpen = true
                state.waiters = [:]
            }
            return (!state.isOpen, Array(state.waiters.values))
        }
        for waiter in waiters { waiter.resume() }
        return first
    }

    func wait() async throws {
        let id = state.withLockedValue { state in
            defer { state.nextID += 1 }
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: Result<Void, any Error>? = state.withLockedValue { state in
                    if state.isOpen { return .success(()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    state.waiters[id] = continuation
                    return nil
                }
                if let resumeNow { continuation.resume(with: resumeNow) }
            }
        } onCancel: {
            state.withLockedValue { $0.waiters.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }
}

extension Duration {
    /// "100 ms", "1.5 s", "60 s": for people reading `up`'s lines.
    fileprivate var readable: String {
        let milliseconds = Double(components.seconds) * 1000 + Double(components.attoseconds) / 1e15
        if milliseconds < 1000 { return "\(Int(milliseconds.rounded())) ms" }
        let seconds = milliseconds / 1000
        return seconds == seconds.rounded() ? "\(Int(seconds)) s" : String(format: "%.1f s", seconds)
    }
}
