import Foundation
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// A process `videobus up` started with `posix_spawn` (Foundation's `Process`
/// closes every descriptor above 2 in the child, and the readiness pipe must
/// get through as descriptor 3).
///
/// The child gets `/dev/null` as input, one pipe for its output and errors,
/// and the readiness pipe; it runs in a process group of its own, so a
/// Ctrl-C in the terminal reaches `up` alone, which then stops the children
/// in order. Its exit is awaited on a thread of its own, never on one of
/// Swift concurrency's.
final class ChildProcess: Sendable {
    let pid: pid_t
    /// The read end of the child's output (stdout and stderr): the caller takes it over.
    let output: CInt
    /// The read end of the child's readiness pipe: the caller takes it over.
    let readiness: CInt
    private let exit: EventLoopFuture<ExitStatus>
    /// Set (under the lock) once the child is reaped: from then on its PID
    /// may be another process's, so it must not be signalled.
    private let reaped: NIOLockedValueBox<Bool>

    private init(pid: pid_t, output: CInt, readiness: CInt, exit: EventLoopFuture<ExitStatus>, reaped: NIOLockedValueBox<Bool>) {
        self.pid = pid
        self.output = output
        self.readiness = readiness
        self.exit = exit
        self.reaped = reaped
    }

    /// Descriptors are made close-on-exec in two steps (Glibc's `pipe2` is not
    /// imported): spawning one child at a time keeps another's from leaking in between.
    private static let spawning = NIOLock()

    /// Starts `executable arguments…` with exactly `environment`, the readiness pipe's write end as `readinessDescriptor`.
    static func spawn(executable: String, arguments: [String], environment: [String: String], readinessDescriptor: CInt) throws -> ChildProcess {
        let (pid, output, readiness) = try spawning.withLock { () throws -> (pid_t, CInt, CInt) in
            let output = try pipe()
            let readiness: (read: CInt, write: CInt)
            do {
                readiness = try pipe()
            } catch {
                close(output.read)
                close(output.write)
                throw error
            }
            // The child has its own copies of the write ends; ours would keep its pipes open after it exits.
            defer {
                close(output.write)
                close(readiness.write)
            }
            var actions = posix_spawn_file_actions_t()
            posix_spawn_file_actions_init(&actions)
            defer { posix_spawn_file_actions_destroy(&actions) }
            posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0)
            posix_spawn_file_actions_adddup2(&actions, output.write, STDOUT_FILENO)
            posix_spawn_file_actions_adddup2(&actions, output.write, STDERR_FILENO)
            posix_spawn_file_actions_adddup2(&actions, readiness.write, readinessDescriptor)

            var attributes = posix_spawnattr_t()
            posix_spawnattr_init(&attributes)
            defer { posix_spawnattr_destroy(&attributes) }
            // Ignored or blocked here (by signal handling in this process) must not mean ignored in the child.
            var defaults = sigset_t()
            sigemptyset(&defaults)
            for signal in [SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2] { sigaddset(&defaults, signal) }
            posix_spawnattr_setsigdefault(&attributes, &defaults)
            var mask = sigset_t()
            sigemptyset(&mask)
            posix_spawnattr_setsigmask(&attributes, &mask)
            posix_spawnattr_setpgroup(&attributes, 0)
            posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP))

            let argv = ([executable] + arguments).map { strdup($0) } + [nil]
            let envp = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
            defer {
                for pointer in argv { free(pointer) }
                for pointer in envp { free(pointer) }
            }
            var pid: pid_t = 0
            let result = posix_spawn(&pid, executable, &actions, &attributes, argv, envp)
            guard result == 0 else {
                close(output.read)
                close(readiness.read)
                throw SpawnError(description: "cannot start \(executable): \(String(cString: strerror(result)))")
            }
            return (pid, output.read, readiness.read)
        }

        let promise = MultiThreadedEventLoopGroup.singleton.next().makePromise(of: ExitStatus.self)
        let reaped = NIOLockedValueBox(false)
        let waiter = Thread {
            // Wait without reaping, then reap under the lock `signal` takes: a PID is never signalled once it may be reused.
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0, errno == EINTR {}
            let status = reaped.withLockedValue { reaped -> Int32? in
                var status: Int32 = 0
                var result: pid_t
                repeat { result = waitpid(pid, &status, 0) } while result < 0 && errno == EINTR
                reaped = true
                return result == pid ? status : nil
            }
            promise.succeed(status.map(ExitStatus.init(waitStatus:)) ?? .unknown)
        }
        waiter.name = "videobus up: waits for pid \(pid)"
        waiter.start()
        return ChildProcess(pid: pid, output: output, readiness: readiness, exit: promise.futureResult, reaped: reaped)
    }

    /// Sends `number` to the child unless it has already been reaped.
    func signal(_ number: CInt) {
        reaped.withLockedValue { reaped in
            if !reaped { _ = kill(pid, number) }
        }
    }

    /// How the child ended, once it has.
    func exitStatus() async -> ExitStatus {
        (try? await exit.get()) ?? .unknown
    }

    private static func pipe() throws -> (read: CInt, write: CInt) {
        var descriptors: [CInt] = [-1, -1]
        guard Glibc.pipe(&descriptors) == 0 else { throw SpawnError(description: "cannot make a pipe: \(String(cString: strerror(errno)))") }
        for descriptor in descriptors { _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC) }
        return (descriptors[0], descriptors[1])
    }
}

struct SpawnError: Error, CustomStringConvertible {
    var description: String
}

/// How a child process ended.
enum ExitStatus: Sendable, Equatable, CustomStringConvertible {
    case exited(Int32)
    case signalled(Int32)
    /// Its status could not be collected (it was reaped elsewhere).
    case unknown

    /// Decodes a `waitpid` status (the W* macros are not imported into Swift).
    init(waitStatus status: Int32) {
        let signal = status & 0x7f
        self = signal == 0 ? .exited((status >> 8) & 0xff) : .signalled(signal)
    }

    /// "status 1", "signal 9 (SIGKILL)": what follows "exited with".
    var description: String {
        switch self {
        case .exited(let code): "status \(code)"
        case .signalled(let signal): "signal \(signal)\(Self.names[signal].map { " (\($0))" } ?? "")"
        case .unknown: "an unknown status"
        }
    }

    private static let names: [Int32: String] = [
        SIGHUP: "SIGHUP", SIGINT: "SIGINT", SIGQUIT: "SIGQUIT", SIGILL: "SIGILL", SIGTRAP: "SIGTRAP", SIGABRT: "SIGABRT", SIGBUS: "SIGBUS",
        SIGFPE: "SIGFPE", SIGKILL: "SIGKILL", SIGSEGV: "SIGSEGV", SIGPIPE: "SIGPIPE", SIGTERM: "SIGTERM",
    ]
}
