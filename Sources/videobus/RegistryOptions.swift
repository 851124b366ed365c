import ArgumentParser
import BusRuntime
import Foundation

/// Where the registries are, for every command that uses them.
struct RegistryOptions: ParsableArguments {
    static let defaultAddress = "127.0.0.1:7700"

    @Option(name: .customLong("registry"), help: ArgumentHelp(
        "A registry's host:port; repeat for several (default: $VIDEOBUS_REGISTRY, comma-separated, or \(defaultAddress)).",
        valueName: "host:port"
    ))
    var registryOptions: [String] = []

    var addresses: [ServiceAddress] {
        registryTexts.compactMap(ServiceAddress.init)
    }

    /// Neither `--registry` nor `$VIDEOBUS_REGISTRY` was given.
    var isDefault: Bool {
        registryOptions.isEmpty && (ProcessInfo.processInfo.environment["VIDEOBUS_REGISTRY"] ?? "").isEmpty
    }

    private var registryTexts: [String] {
        if !registryOptions.isEmpty { return registryOptions }
        if let environment = ProcessInfo.processInfo.environment["VIDEOBUS_REGISTRY"], !environment.isEmpty {
            return environment.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return [Self.defaultAddress]
    }

    func validate() throws {
        for text in registryTexts where ServiceAddress(text) == nil {
            throw ValidationError("registry address \(text) is not host:port")
        }
    }
}
