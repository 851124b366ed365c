import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#endif

/// `videobus up`'s standard output: its own lines and its children's, each
/// prefixed by whose it is (coloured on a terminal), whole lines at a time.
final class UpConsole: Sendable {
    private let coloured = isatty(STDOUT_FILENO) == 1
    private let lock = NIOLock()
    private static let width = 14

    /// A line of `up`'s own.
    func say(_ message: String) {
        write(message, prefix: prefix(name: "up", colour: 1))
    }

    func prefix(name: String, colour: Int) -> String {
        let padded = name.padding(toLength: Self.width, withPad: " ", startingAt: 0)
        return coloured ? "\u{1B}[1;3\(colour)m\(padded) |\u{1B}[0m " : "\(padded) | "
    }

    func write(_ line: some StringProtocol, prefix: String) {
        let bytes = Array((prefix + line + "\n").utf8)
        // To the descriptor, not FileHandle: a closed stdout must not crash `up` (FileHandle traps on errors).
        lock.withLock {
            var written = 0
            while written < bytes.count {
                let result = bytes[written...].withUnsafeBytes { Glibc.write(STDOUT_FILENO, $0.baseAddress, $0.count) }
                if result < 0, errno == EINTR { continue }
                guard result > 0 else { return }
                written += result
            }
        }
    }
}
