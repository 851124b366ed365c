import Foundation
import TestSupport
import Testing

/// The bus token at the command line: an empty one is an error at start, and
/// a wrong one fails a call at once.
@Suite(.serialized) struct TokenProcessTests {
    @Test(arguments: [
        ["registry", "--port", "0"],
        ["serve", "echo", "--port", "0", "--standalone"],
        ["call", "echo.ping", "--registry", "127.0.0.1:9"],
        ["status", "--registry", "127.0.0.1:9"],
        ["gateway", "--port", "0", "--registry", "127.0.0.1:9"],
        ["loadtest", "call", "echo.echo", "--target", "127.0.0.1:9"],
    ])
    func anEmptyTokenIsAnErrorAtStart(command: [String]) async throws {
        let (flagStatus, flagOutput) = try await VideobusProcess.run(command + ["--token", ""], environment: ["VIDEOBUS_TOKEN": nil])
        #expect(flagStatus != 0)
        #expect(flagOutput.contains("--token is empty"), "\(flagOutput)")
        let (envStatus, envOutput) = try await VideobusProcess.run(command, environment: ["VIDEOBUS_TOKEN": ""])
        #expect(envStatus != 0)
        #expect(envOutput.contains("VIDEOBUS_TOKEN is set but empty"), "\(envOutput)")
    }

    @Test func aWrongTokenFailsACallAtOnceWithUnauthenticated() async throws {
        let registry = try VideobusProcess(["registry", "--port", "0"], environment: ["VIDEOBUS_TOKEN": "s3cret"])
        defer { registry.stop() }
        let port = try await registry.listeningPort()
        let echo = try VideobusProcess(["serve", "echo", "--registry", "127.0.0.1:\(port)"], environment: ["VIDEOBUS_TOKEN": "s3cret"])
        defer { echo.stop() }
        _ = try await echo.listeningPort()
        let started = ContinuousClock.now
        let (status, output) = try await VideobusProcess.run(
            ["call", "echo.ping", "--timeout", "30", "--registry", "127.0.0.1:\(port)"], environment: ["VIDEOBUS_TOKEN": "guess"]
        )
        #expect(status != 0)
        #expect(output.contains("unauthenticated"), "\(output)")
        #expect(ContinuousClock.now - started < .seconds(15))
        // With the right token the same call is answered (once the server has registered).
        #expect(await eventually {
            try await VideobusProcess.run(["call", "echo.ping", "--registry", "127.0.0.1:\(port)"], environment: ["VIDEOBUS_TOKEN": "s3cret"]).0 == 0
        })
    }
}

/// Protected mode: without a token a node listens on loopback only.
@Suite struct ProtectedModeProcessTests {
    @Test(arguments: [
        ["registry", "--host", "0.0.0.0", "--port", "0"],
        ["serve", "echo", "--host", "0.0.0.0", "--port", "0", "--standalone"],
    ])
    func aNonLoopbackListenWithoutATokenIsRefused(command: [String]) async throws {
        let (status, output) = try await VideobusProcess.run(command, environment: ["VIDEOBUS_TOKEN": nil])
        #expect(status != 0)
        #expect(output.contains("refusing to listen on 0.0.0.0 without a bus token: set VIDEOBUS_TOKEN or --token (or listen on 127.0.0.1)"), "\(output)")
        // With a token it listens.
        let node = try VideobusProcess(command, environment: ["VIDEOBUS_TOKEN": "a-token-for-protected-mode"])
        defer { node.stop() }
        _ = try await node.listeningPort()
    }
}

/// `videobus registry --credentials FILE`: per-service secrets, re-read on SIGHUP.
@Suite struct RegistryCredentialsProcessTests {
    @Test func theRegistryReReadsItsCredentialsOnSIGHUP() async throws {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("videobus-credentials-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: file) }
        let old = "echo-old-secret-0123456789abcdef", new = "echo-new-secret-0123456789abcdef"
        try "echo \(old)\n".write(to: file, atomically: true, encoding: .utf8)
        let clean: [String: String?] = ["VIDEOBUS_TOKEN": nil, "VIDEOBUS_REGISTRY": nil]
        let registry = try VideobusProcess(["registry", "--port", "0", "--credentials", file.path], environment: clean)
        defer { registry.stop() }
        let port = try await registry.listeningPort()
        var environment = clean
        environment["VIDEOBUS_SERVICE_CREDENTIAL"] = new
        let echo = try VideobusProcess(["serve", "echo", "--registry", "127.0.0.1:\(port)"], environment: environment)
        defer { echo.stop() }
        _ = try await echo.listeningPort()
        // Not yet one of echo's secrets: refused, and the node says so.
        #expect(await eventually { echo.log.contains("refused this node") }, "\(echo.log)")
        #expect(!echo.log.contains(new) && !registry.log.contains(new), "a secret was logged")

        // Rotation step 1: the new secret beside the old, then SIGHUP.
        try "echo \(old)\necho \(new)\n".write(to: file, atomically: true, encoding: .utf8)
        registry.signal(SIGHUP)
        #expect(await eventually { registry.log.contains("credentials reloaded") }, "\(registry.log)")
        #expect(await eventually {
            let (status, output) = try await VideobusProcess.run(["status", "--registry", "127.0.0.1:\(port)"], environment: clean)
            return status == 0 && output.contains("echo-")
        })
        #expect(registry.process.isRunning)
    }
}
