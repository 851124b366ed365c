import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// A TCP port on 127.0.0.1 that `videobus up` holds for one child for the
/// whole run, so the child gets the same port after every restart and its
/// dependents' addresses stay valid.
///
/// The port is held by a socket bound with `SO_REUSEADDR` but not listening:
/// the child, which binds with `SO_REUSEADDR` too (bus nodes and the gateway
/// do), can listen on it, while the kernel gives it to nobody else (no
/// ephemeral port, no bind without `SO_REUSEADDR`) even while the child is
/// down. A port already listened on is refused here, before anything starts.
final class PortReservation: Sendable {
    let port: Int
    private let descriptor: CInt

    /// Reserves `port`, or a free one when it is 0.
    init(port: Int) throws {
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue | SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw PortReservation.error("cannot make a socket") }
        var one: CInt = 1
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<CInt>.size)) == 0
            && withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 } }
            && withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) == 0 } }
        guard bound else {
            let error = PortReservation.error(port == 0 ? "cannot reserve a free port on 127.0.0.1" : "cannot use port \(port) on 127.0.0.1 (is another process listening there?)")
            close(descriptor)
            throw error
        }
        self.descriptor = descriptor
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    /// Gives the port back (the run is over).
    func release() {
        close(descriptor)
    }

    private static func error(_ what: String) -> SpawnError {
        SpawnError(description: "\(what): \(String(cString: strerror(errno)))")
    }
}
