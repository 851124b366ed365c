import ArgumentParser
import BusRuntime
import Foundation

#if canImport(Glibc)
import Glibc
#endif

/// What a running `videobus up` leaves in its data directory for the user's
/// own commands (`call`, `status`): the bus token and the registry's address,
/// so that those commands need no flag next to it. The token file is readable
/// by its owner only; the token never goes on a command line, where `ps` shows it.
struct LocalBus {
    let directory: URL

    init(dataDir: String) {
        directory = URL(fileURLWithPath: dataDir)
    }

    var tokenFile: URL { directory.appendingPathComponent("bus-token") }
    var registryFile: URL { directory.appendingPathComponent("registry-address") }
    /// The registry's `--credentials` file: a secret per service `up` starts.
    var credentialsFile: URL { directory.appendingPathComponent("registry-credentials") }

    /// The token of the `up` running here, if any.
    func token() -> String? {
        guard let text = try? String(contentsOf: tokenFile, encoding: .utf8) else { return nil }
        let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
        return token.isEmpty ? nil : token
    }

    /// The registry of the `up` running here, if any.
    func registry() -> ServiceAddress? {
        (try? String(contentsOf: registryFile, encoding: .utf8)).flatMap { ServiceAddress($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
    }

    /// Writes `text` to `url` readable and writable by its owner only (0600),
    /// from the moment it exists: created with that mode, and reset to it if
    /// the file was already there.
    static func writePrivate(_ text: String, to url: URL) throws {
        let descriptor = open(url.path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw ValidationError("cannot write \(url.path): \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        guard fchmod(descriptor, 0o600) == 0 else { throw ValidationError("cannot restrict \(url.path) to its owner: \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
            guard result > 0 else { throw ValidationError("cannot write \(url.path): \(String(cString: strerror(errno)))") }
            written += result
        }
    }
}

/// Options of the commands a user runs against a bus (`call`, `status`):
/// the token and registries from the flags, else the environment, else the
/// files of a `videobus up` running with the same data directory.
struct CallerOptions: ParsableArguments {
    @OptionGroup var registry: RegistryOptions

    @Option(name: .customLong("token"), help: "Shared secret of the bus (default: $VIDEOBUS_TOKEN, else the one `videobus up` wrote in --data-dir).")
    var tokenOption: String?

    @Option(help: "Data directory of a running `videobus up`, whose token and registry are used when neither flags nor environment give them.")
    var dataDir = "./data"

    func validate() throws {
        _ = try busToken(tokenOption)
    }

    var token: String? {
        (try? busToken(tokenOption)) ?? LocalBus(dataDir: dataDir).token()
    }

    var registries: [ServiceAddress] {
        if registry.isDefault, let local = LocalBus(dataDir: dataDir).registry() { return [local] }
        return registry.addresses
    }
}
