import BusWire
import NIOConcurrencyHelpers
import NIOCore

/// One reused connection per peer instance, opened on first use, forgotten
/// when it closes. Instances whose connections keep failing are ejected for a
/// growing while, then probed again with a single attempt.
final class PeerPool: Sendable {
    private let configuration: BusNode.Configuration
    private let group: any EventLoopGroup
    private let entries = NIOLockedValueBox<[String: Entry]>([:])

    /// Consecutive connection failures that eject an instance.
    static let ejectAfterFailures = 3

    private struct Entry {
        var connection: PeerConnection?
        var connecting: Task<PeerConnection, any Error>?
        var failures = 0
        var ejections = 0
        var ejectedUntil: NIODeadline?
    }

    init(configuration: BusNode.Configuration, group: any EventLoopGroup) {
        self.configuration = configuration
        self.group = group
    }

    /// Calls awaiting answers from `instance` (0 without a connection): the balancer's load measure.
    func outstandingCalls(to instance: String) -> Int {
        entries.withLockedValue { $0[instance]?.connection?.outstandingCalls ?? 0 }
    }

    func isEjected(_ instance: String, now: NIODeadline = .now()) -> Bool {
        entries.withLockedValue { entry in
            guard let until = entry[instance]?.ejectedUntil else { return false }
            return until > now
        }
    }

    /// The connection to `record`'s instance, opening it if needed (one attempt
    /// shared by concurrent callers).
    func connection(to record: RegistryProtocol.InstanceRecord) async throws(BusError) -> PeerConnection {
        let (existing, task) = entries.withLockedValue { entries -> (PeerConnection?, Task<PeerConnection, any Error>?) in
            var entry = entries[record.instance] ?? Entry()
            if let connection = entry.connection { return (connection, nil) }
            if let connecting = entry.connecting { return (nil, connecting) }
            let configuration = self.configuration
            let group = self.group
            let connecting = Task {
                try await PeerConnection.connect(host: record.host, port: record.port, configuration: configuration, group: group)
            }
            entry.connecting = connecting
            entries[record.instance] = entry
            return (nil, connecting)
        }
        if let existing {
            // A draining peer takes no new calls; say so before anything is sent.
            guard !existing.isPeerDraining else { throw BusError(.unavailable, "\(record.instance) is draining") }
            return existing
        }
        do {
            let connection = try await task!.value
            entries.withLockedValue { entries in
                entries[record.instance] = Entry(connection: connection)
            }
            let instance = record.instance
            connection.closeFuture.whenComplete { [weak self] _ in self?.forget(instance, connection) }
            return connection
        } catch {
            eject(record.instance)
            throw error as? BusError ?? BusError(.unavailable, "cannot connect to \(record.instance): \(error)")
        }
    }

    private func forget(_ instance: String, _ connection: PeerConnection) {
        entries.withLockedValue { entries in
            if entries[instance]?.connection === connection { entries[instance]?.connection = nil }
        }
    }

    /// Counts a failed connection attempt; past the threshold the instance is ejected.
    private func eject(_ instance: String) {
        entries.withLockedValue { entries in
            var entry = entries[instance] ?? Entry()
            entry.connecting = nil
            entry.failures += 1
            if entry.failures >= Self.ejectAfterFailures {
                // 250 ms doubling to 30 s, with jitter so that many callers do not probe at once.
                let ceiling = Int64(min(30_000, 250 << min(entry.ejections, 7)))
                entry.ejectedUntil = .now() + .milliseconds(Int64.random(in: (ceiling / 2)...ceiling))
                entry.ejections += 1
            }
            entries[instance] = entry
        }
    }

    func closeAll() async {
        let connections = entries.withLockedValue { entries in
            defer { entries.removeAll() }
            return entries.values.compactMap(\.connection)
        }
        for connection in connections { await connection.close() }
    }
}
