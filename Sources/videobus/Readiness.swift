import BusRuntime
import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import ServiceLifecycle

#if canImport(Glibc)
import Glibc
#endif

/// How a process started by `videobus up` tells it that it is ready, without
/// `up` reading its log: `up` passes the write end of a pipe as file
/// descriptor 3 and names it in `VIDEOBUS_READY_FD`; once ready, the process
/// writes one JSON line there and closes it:
///
///     {"bus":"127.0.0.1:7700","http":null,"pid":4242,"ready":true,"role":"registry"}
///
/// `role` is `registry`, `gateway` or the service's name; `bus` the
/// host:port its node listens on (null for the gateway, whose node only
/// calls); `http` the gateway's host:port (null otherwise). Ready means
/// listening; for a service also migrated and registered with its (first)
/// registry. A process not started that way (no variable) writes nothing.
enum Readiness {
    static let variable = "VIDEOBUS_READY_FD"
    /// The descriptor `up` gives its children.
    static let descriptor: CInt = 3
    /// A line is one `write` below this size, so it arrives whole.
    private static let maximumLineBytes = 4096

    struct Line: Codable, Sendable, Equatable {
        var ready: Bool
        var role: String
        var bus: String?
        var http: String?
        var pid: Int32

        // Written out so absent addresses are `null`, not missing keys: the shape is fixed.
        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(ready, forKey: .ready)
            try container.encode(role, forKey: .role)
            try container.encode(bus, forKey: .bus)
            try container.encode(http, forKey: .http)
            try container.encode(pid, forKey: .pid)
        }
    }

    /// Whether this process was asked to announce its readiness.
    static var isRequested: Bool { ProcessInfo.processInfo.environment[variable] != nil }

    // Once only: after the close, the descriptor's number may name another file.
    private static let announced = NIOLockedValueBox(false)

    /// Writes the readiness line to the descriptor named by `VIDEOBUS_READY_FD`
    /// and closes it; does nothing without the variable, or on a second call.
    static func announce(role: String, bus: String? = nil, http: String? = nil) {
        let first = announced.withLockedValue { announced in
            defer { announced = true }
            return !announced
        }
        guard first, let value = ProcessInfo.processInfo.environment[variable], let descriptor = CInt(value), descriptor > 2 else { return }
        // Only ever a pipe: a stray variable must not make us write into some file we opened.
        var status = stat()
        guard fstat(descriptor, &status) == 0, status.st_mode & mode_t(S_IFMT) == mode_t(S_IFIFO) else { return }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        guard var bytes = try? encoder.encode(Line(ready: true, role: role, bus: bus, http: http, pid: getpid())) else { return }
        bytes.append(UInt8(ascii: "\n"))
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { Glibc.write(descriptor, $0.baseAddress, $0.count) }
            if result < 0, errno == EINTR { continue }
            guard result > 0 else { break }
            written += result
        }
        close(descriptor)
    }

    /// What `up` read from a child's readiness pipe.
    enum Outcome: Sendable, Equatable {
        case ready(Line)
        /// The pipe closed without a line: the child exited (or closed it) first.
        case closed
        case timedOut
        case unreadable(String)
    }

    /// Reads one readiness line from `descriptor` (the pipe's read end, which
    /// this takes over and closes), waiting at most until `deadline`.
    static func read(from descriptor: CInt, until deadline: ContinuousClock.Instant) async -> Outcome {
        let channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>
        do {
            channel = try await NIOPipeBootstrap(group: MultiThreadedEventLoopGroup.singleton).takingOwnershipOfDescriptor(input: descriptor) { channel in
                channel.eventLoop.makeCompletedFuture { try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel) }
            }
        } catch {
            close(descriptor)
            return .unreadable("cannot read the readiness pipe: \(error)")
        }
        // At the deadline the pipe is closed, which ends the read whether or not it heeds cancellation.
        let timedOut = NIOLockedValueBox(false)
        return await withTaskGroup(of: Void.self) { group in
            group.addTask {
                guard (try? await Task.sleep(until: deadline)) != nil else { return }
                timedOut.withLockedValue { $0 = true }
                channel.channel.close(promise: nil)
            }
            let outcome: Outcome
            do {
                outcome = try await withTaskCancellationHandler {
                    try await readLine(from: channel)
                } onCancel: {
                    channel.channel.close(promise: nil)
                }
            } catch {
                outcome = .unreadable("reading the readiness pipe failed: \(error)")
            }
            group.cancelAll()
            if case .ready = outcome { return outcome }
            return timedOut.withLockedValue { $0 } ? .timedOut : outcome
        }
    }

    private static func readLine(from channel: NIOAsyncChannel<ByteBuffer, ByteBuffer>) async throws -> Outcome {
        try await channel.executeThenClose { inbound, _ in
            var received = ByteBuffer()
            for try await chunk in inbound {
                received.writeImmutableBuffer(chunk)
                if let newline = received.readableBytesView.firstIndex(of: UInt8(ascii: "\n")) {
                    return decode(received.getString(at: received.readerIndex, length: newline - received.readerIndex) ?? "")
                }
                guard received.readableBytes <= maximumLineBytes else { return .unreadable("a readiness line longer than \(maximumLineBytes) bytes") }
            }
            return received.readableBytes == 0 ? .closed : .unreadable("a readiness line without its newline: \(String(buffer: received))")
        }
    }

    private static func decode(_ text: String) -> Outcome {
        guard let line = try? JSONDecoder().decode(Line.self, from: Data(text.utf8)), line.ready else {
            return .unreadable("not a readiness line: \(text)")
        }
        return .ready(line)
    }

    /// Returns once the registry at `registry` lists `instance` as serving:
    /// a long poll (`watch`) wakes on every change, so nothing is polled.
    /// Connection failures are retried (the registry may be restarting); the
    /// wait ends with the task's cancellation.
    static func waitUntilRegistered(instance: String, registry: ServiceAddress, configuration: BusNode.Configuration, group: any EventLoopGroup) async throws {
        var retryDelay = Duration.milliseconds(50)
        while true {
            try Task.checkCancellation()
            do {
                let connection = try await PeerConnection.connect(host: registry.host, port: registry.port, configuration: configuration, group: group)
                do {
                    var revision: UInt64 = 0
                    while true {
                        let request = try JSONBody.encode(RegistryProtocol.WatchRequest(revision: revision, waitMs: 10_000))
                        let answer = try await connection.call(service: RegistryProtocol.service, method: "watch", body: request, timeout: .seconds(12))
                        let snapshot = try JSONBody.decode(RegistryProtocol.Snapshot.self, from: answer)
                        if snapshot.instances.contains(where: { $0.record.instance == instance && $0.state == .serving }) { break }
                        revision = snapshot.revision
                    }
                    await connection.close()
                    return
                } catch {
                    await connection.close()
                    throw error
                }
            } catch {
                try Task.checkCancellation()
                try await Task.sleep(for: retryDelay)
                retryDelay = min(retryDelay * 2, .seconds(1))
            }
        }
    }
}

/// Announces a service's readiness once it is registered, inside the
/// process's `ServiceGroup` (so a shutdown ends the wait); then stays until
/// shutdown, since a service that returns early would end the group.
struct RegistrationAnnouncement: Service {
    let role: String
    let bus: String
    let wait: @Sendable () async throws -> Void

    func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await wait() }
            Readiness.announce(role: role, bus: bus)
        } catch {
            // Shutting down before registering: nothing to announce.
        }
        try? await gracefulShutdown()
    }
}
