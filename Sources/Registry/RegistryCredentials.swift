import BusRuntime
import BusWire
import Foundation
import Synchronization

/// Per-service registration secrets: with them, a shared bus token no longer
/// lets every holder register as any service, only the holders of a
/// service's secret register that service.
///
/// Read from a file of `SERVICE SECRET` lines (blank lines and lines starting
/// with `#` are ignored). A service may have several lines, all accepted, so
/// an operator rotates without downtime: add the new secret, reload, roll the
/// nodes onto it, remove the old one, reload. Secrets are never logged.
public final class RegistryCredentials: Sendable {
    /// Where the secrets are read from; nil when given in process.
    public let path: String?
    private let secrets: Mutex<[String: [String]]>

    /// Reads `path`; throws (naming the line, never a secret) when it cannot be read or parsed.
    public init(contentsOf path: String) throws {
        self.path = path
        self.secrets = Mutex(try Self.read(path))
    }

    /// Secrets given in process (tests, tools).
    public init(_ secrets: [String: [String]]) {
        self.path = nil
        self.secrets = Mutex(secrets)
    }

    /// Reads the file again (on SIGHUP). On any error the secrets in use are
    /// kept: a half-edited file must not lock every service out.
    /// - Returns: how many services have at least one secret now.
    @discardableResult
    public func reload() throws -> Int {
        guard let path else { return secrets.withLock { $0.count } }
        let fresh = try Self.read(path)
        secrets.withLock { $0 = fresh }
        return fresh.count
    }

    /// Whether `credential` is one of `service`'s secrets. Compared in
    /// constant time with every secret of the service, so neither which
    /// secret matched nor where a guess differs shows in the timing.
    public func accepts(_ credential: String?, for service: String) -> Bool {
        let candidates = secrets.withLock { $0[service] ?? [] }
        guard let credential, !credential.isEmpty else { return false }
        var accepted = false
        for secret in candidates where constantTimeEquals(credential, secret) { accepted = true }
        return accepted
    }

    /// The services that have a secret.
    public var services: [String] { secrets.withLock { $0.keys.sorted() } }

    static func read(_ path: String) throws -> [String: [String]] {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw CredentialsError("cannot read credentials file \(path): \(error.localizedDescription)")
        }
        return try parse(text, source: path)
    }

    static func parse(_ text: String, source: String = "credentials") throws -> [String: [String]] {
        var secrets: [String: [String]] = [:]
        for (index, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let fields = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" })
            // Say which line is wrong, never what it holds: it may hold a secret.
            guard fields.count == 2 else {
                throw CredentialsError("\(source) line \(index + 1): expected SERVICE SECRET (two fields)")
            }
            guard fields[1].utf8.count >= 16 else {
                throw CredentialsError("\(source) line \(index + 1): the secret of \(fields[0]) is shorter than 16 bytes")
            }
            secrets[String(fields[0]), default: []].append(String(fields[1]))
        }
        return secrets
    }
}

public struct CredentialsError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
