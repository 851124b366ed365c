import BusRuntime
import BusWire
import Foundation
import Storage
import TestSupport
import Testing

/// `videobus up`: every part as its own process on ports chosen once, ready
/// through its readiness pipe, restarted on the same port when it dies, the
/// whole system stopped (with a non-zero exit) when one keeps crashing, and
/// every process stopped on SIGINT or SIGTERM.
@Suite(.serialized) struct UpCommandTests {
    @Test(arguments: Engine.allCases)
    func upRunsEverythingRestartsACrashedServiceAndDrainsOnSIGINT(_ engine: Engine) async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("videobus-up-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        var arguments = ["up", "--port", "0", "--registry-port", "0", "--data-dir", data.path]
        guard engine == .postgres else { return try await runsRestartsAndDrains(arguments, data: data, engine: engine) }
        // up creates one database per service on the server (videobus_<service>): start without it, drop it after.
        let (url, drop) = try await TestDatabases.freshURL(.postgres)
        let admin = try await openDatabase(DatabaseURL(url))
        let databases = ["videobus_analysis_store", "videobus_ingest", "videobus_prediction", "videobus_conversion"]
        func dropDatabases() async {
            for database in databases {
                _ = try? await admin.withoutTransaction { try $0.execute("DROP DATABASE IF EXISTS \(raw: database) WITH (FORCE)") }
            }
        }
        await dropDatabases()
        arguments += ["--postgres", url]
        do {
            try await runsRestartsAndDrains(arguments, data: data, engine: engine)
        } catch {
            await dropDatabases()
            await admin.close()
            await drop()
            throw error
        }
        await dropDatabases()
        await admin.close()
        await drop()
    }

    private func runsRestartsAndDrains(_ arguments: [String], data: URL, engine: Engine) async throws {
        let up = try VideobusProcess(arguments)
        defer { stopEverything(up) }
        let port = try await gatewayPort(up)
        // Every part said it was ready through its pipe (the gateway's readiness is what printed the URL).
        for name in Self.children {
            #expect(readyAddresses(of: name, in: up.log).count == 1, "\(name) never announced its readiness:\n\(up.log)")
        }
        #expect(try await httpRequest("POST", port: port, "/api/video-analysis/", body: #"{"video_id": "up_001", "description": "A sunset"}"#).status == 201)

        // A crashed service comes back by itself, its data intact.
        let pid = try #require(startedPIDs(of: "analysis-store", in: up.log).first)
        kill(pid, SIGKILL)
        #expect(await eventually(timeout: .seconds(60)) { readyAddresses(of: "analysis-store", in: up.log).count == 2 }, "\(up.log)")
        #expect(startedPIDs(of: "analysis-store", in: up.log).count == 2)
        #expect(await eventually(timeout: .seconds(30)) { try await httpRequest("GET", port: port, "/api/video-analysis/up_001").status == 200 })

        up.signal(SIGINT)
        #expect(try await up.exitStatus(timeout: .seconds(60)) == 0)
        for name in Self.children {
            #expect(up.log.contains("\(name) exited with status 0"), "\(name) did not drain cleanly:\n\(up.log)")
        }
        if engine == .postgres {
            #expect(!FileManager.default.fileExists(atPath: data.appendingPathComponent("analysis-store.db").path), "used SQLite despite --postgres")
        }
    }

    @Test func killedRegistryAndGatewayComeBackOnTheirPortsAndSIGTERMStopsEveryChild() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("videobus-up-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        let up = try VideobusProcess(["up", "--port", "0", "--registry-port", "0", "--data-dir", data.path])
        defer { stopEverything(up) }
        let port = try await gatewayPort(up)
        let registryFile = data.appendingPathComponent("registry-address")
        let registry = try String(contentsOf: registryFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let registryPort = try #require(Int(registry.split(separator: ":").last ?? ""))
        #expect(readyAddresses(of: "registry", in: up.log) == ["bus \(registry)"], "\(up.log)")
        let token = try String(contentsOf: data.appendingPathComponent("bus-token"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(try await httpRequest("POST", port: port, "/api/video-analysis/", body: #"{"video_id": "up_kill_1", "description": "before"}"#).status == 201)

        // The registry, killed outright, comes back on the same port: every service registers
        // with it again, and the gateway (started with that address) finds them there.
        kill(try #require(startedPIDs(of: "registry", in: up.log).first), SIGKILL)
        #expect(await eventually(timeout: .seconds(60)) { readyAddresses(of: "registry", in: up.log).count == 2 }, "\(up.log)")
        #expect(readyAddresses(of: "registry", in: up.log) == ["bus \(registry)", "bus \(registry)"], "\(up.log)")
        #expect(try String(contentsOf: registryFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines) == registry)
        let registered = await eventually(timeout: .seconds(60)) {
            Set(try await servicesServing(registryPort: registryPort, token: token)).isSuperset(of: ["analysis-store", "ingest", "prediction", "conversion"])
        }
        #expect(registered, "the services did not register with the restarted registry:\n\(up.log)")
        #expect(await eventually(timeout: .seconds(60)) { try await httpRequest("GET", port: port, "/readyz").status == 200 }, "\(up.log)")
        #expect(try await httpRequest("POST", port: port, "/api/video-analysis/", body: #"{"video_id": "up_kill_2", "description": "after"}"#).status == 201)

        // The gateway, killed outright, answers again at the URL printed at the start.
        kill(try #require(startedPIDs(of: "gateway", in: up.log).first), SIGKILL)
        #expect(await eventually(timeout: .seconds(60)) { readyAddresses(of: "gateway", in: up.log).count == 2 }, "\(up.log)")
        #expect(Set(readyAddresses(of: "gateway", in: up.log)) == ["http 127.0.0.1:\(port)"], "\(up.log)")
        #expect(await eventually(timeout: .seconds(30)) { try await httpRequest("GET", port: port, "/api/video-analysis/up_kill_1").status == 200 }, "\(up.log)")

        // SIGTERM stops every child, the gateway first and the registry last, and none remains.
        let children = startedPIDs(in: up.log)
        #expect(children.count == 8)  // six, then the registry and the gateway again
        up.signal(SIGTERM)
        #expect(try await up.exitStatus(timeout: .seconds(90)) == 0, "\(up.log)")
        #expect(children.filter { kill($0, 0) == 0 }.isEmpty, "still running: \(children.filter { kill($0, 0) == 0 })")
        let log = up.log
        let stopped = Self.children.map { log.range(of: "\($0) exited with status 0")?.lowerBound }
        #expect(stopped.allSatisfy { $0 != nil }, "\(log)")
        let order = stopped.compactMap(\.self)
        #expect(order.count == 6 && order.first! > order.last!, "not stopped in reverse order:\n\(log)")
        #expect(log.contains("up             | stopped"), "\(log)")
    }

    @Test func aChildThatKeepsCrashingStopsUpWithItsNameAndANonZeroExit() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("videobus-up-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        // A directory where its SQLite file should be: the analysis-store fails at every start.
        try FileManager.default.createDirectory(at: data.appendingPathComponent("analysis-store.db"), withIntermediateDirectories: true)
        let started = ContinuousClock.now
        let up = try VideobusProcess(["up", "--port", "0", "--registry-port", "0", "--data-dir", data.path])
        defer { stopEverything(up) }
        let status = try await up.exitStatus(timeout: .seconds(120))
        let log = up.log
        #expect(status != 0, "\(log)")
        #expect(ContinuousClock.now - started < .seconds(120))
        #expect(log.contains("analysis-store exited 5 times within 60 s (last: status "), "\(log)")
        #expect(log.contains("up             | stopped: analysis-store exited 5 times within 60 s"), "\(log)")
        #expect(startedPIDs(of: "analysis-store", in: log).count == 5, "\(log)")
        #expect(startedPIDs(of: "gateway", in: log).isEmpty, "the gateway started without every service ready:\n\(log)")
        #expect(!log.contains("ready: http://"))
        let children = startedPIDs(in: log)
        #expect(children.filter { kill($0, 0) == 0 }.isEmpty, "still running: \(children.filter { kill($0, 0) == 0 })")
    }

    @Test func childrenDoNotOutliveAKilledUp() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("videobus-up-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        let up = try VideobusProcess(["up", "--port", "0", "--registry-port", "0", "--data-dir", data.path])
        defer { stopEverything(up) }
        _ = try await gatewayPort(up)
        let children = startedPIDs(in: up.log)
        #expect(children.count == 6)  // registry, analysis-store, ingest, prediction, conversion, gateway
        up.signal(SIGKILL)
        _ = try await up.exitStatus()
        // Orphans notice their parent is gone, drain, and exit.
        #expect(await eventually(timeout: .seconds(20)) { children.allSatisfy { kill($0, 0) != 0 } }, "children still alive: \(children.filter { kill($0, 0) == 0 })")
    }

    @Test func upHandsItsTokenToChildrenByEnvironmentAndToTheUsersCommandsByAFile() async throws {
        // `up` and the user's commands run in the same directory, all with the default --data-dir.
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("videobus-up-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let clean: [String: String?] = ["VIDEOBUS_TOKEN": nil, "VIDEOBUS_REGISTRY": nil, "VIDEOBUS_SERVICE_CREDENTIAL": nil]
        let up = try VideobusProcess(["up", "--port", "0", "--registry-port", "0"], environment: clean, directory: directory)
        defer { stopEverything(up) }
        _ = try await gatewayPort(up)

        let data = directory.appendingPathComponent("data")
        let tokenFile = data.appendingPathComponent("bus-token")
        let token = try String(contentsOf: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.count >= 32 && token.allSatisfy(\.isHexDigit), "not ≥ 128 random bits in hex: \(token.count) characters")
        for file in ["bus-token", "registry-credentials"] {
            let mode = try FileManager.default.attributesOfItem(atPath: data.appendingPathComponent(file).path)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file) has mode \(String(mode ?? 0, radix: 8))")
        }
        // Each child has the token in its environment, none on its command line (where ps shows it).
        let children = startedPIDs(in: up.log)
        #expect(children.count == 6)
        for pid in children {
            let commandLine = try String(decoding: Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline")), as: UTF8.self)
            let environment = try String(decoding: Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ")), as: UTF8.self)
            #expect(!commandLine.contains(token), "pid \(pid) has the token on its command line")
            #expect(environment.split(separator: "\0").contains("VIDEOBUS_TOKEN=\(token)"[...]), "pid \(pid) lacks the token in its environment")
        }

        // The user's commands find the token and the registry without flags.
        let (statusCode, status) = try await VideobusProcess.run(["status", "--timeout", "30"], environment: clean, directory: directory)
        #expect(statusCode == 0, "\(status)")
        #expect(status.contains("analysis-store"), "\(status)")
        let (callCode, call) = try await VideobusProcess.run(["call", "analysis-store.ping", "{}", "--timeout", "30"], environment: clean, directory: directory)
        #expect(callCode == 0, "\(call)")
        // The bus does require it: a wrong one is refused.
        let (wrongCode, wrong) = try await VideobusProcess.run(["call", "analysis-store.ping", "{}", "--token", "guess"], environment: clean, directory: directory)
        #expect(wrongCode != 0)
        #expect(wrong.contains("unauthenticated"), "\(wrong)")

        // Holding the token is not enough to pose as a service: registering needs its own credential.
        let registryAddress = try String(contentsOf: data.appendingPathComponent("registry-address"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        let registryPort = try #require(Int(registryAddress.split(separator: ":").last ?? ""))
        let connection = try await BusNodeForTests.connect(port: registryPort, token: token)
        let fake = RegistryProtocol.InstanceRecord(service: "analysis-store", instance: "analysis-store-fake", host: "127.0.0.1", port: 9, version: "t", methods: ["get"])
        let refused = await #expect(throws: BusError.self) {
            _ = try await connection.call(service: "registry", method: "register", body: JSONBody.encode(RegistryProtocol.RegisterRequest(record: fake, leaseMs: 60_000)))
        }
        #expect(refused?.code == .permissionDenied, "\(String(describing: refused))")
        await connection.close()

        up.signal(SIGINT)
        #expect(try await up.exitStatus(timeout: .seconds(60)) == 0)
        #expect(!FileManager.default.fileExists(atPath: tokenFile.path), "the token file outlived the run")
    }

    /// Every process `up` starts, in its start (and stop-reverse) order.
    static let children = ["registry", "analysis-store", "ingest", "prediction", "conversion", "gateway"]
}

/// Waits for `up`'s "ready: http://127.0.0.1:PORT/…" line and returns the gateway's port.
private func gatewayPort(_ up: VideobusProcess) async throws -> Int {
    let ready = await eventually(timeout: .seconds(90)) { up.log.contains("ready: http://") || !up.process.isRunning }
    let line = try #require(up.log.split(separator: "\n").first { $0.contains("ready: http://") }, "not ready (\(ready)):\n\(up.log)")
    let afterHost = try #require(line.range(of: "http://127.0.0.1:")).upperBound
    return try #require(Int(line[afterHost...].prefix { $0.isNumber }))
}

/// The PIDs of `up`'s "started NAME (pid N)" lines, of one child or of all, in order.
private func startedPIDs(of name: String? = nil, in log: String) -> [Int32] {
    log.split(separator: "\n").compactMap { line in
        guard let range = line.range(of: "| started \(name.map { "\($0) " } ?? "")") else { return nil }
        guard let pid = line[range.upperBound...].range(of: "(pid ") else { return nil }
        return Int32(line[pid.upperBound...].prefix { $0.isNumber })
    }
}

/// The addresses of `up`'s "NAME ready (pid N; bus|http ADDRESS)" lines, one per readiness.
private func readyAddresses(of name: String, in log: String) -> [String] {
    log.split(separator: "\n").compactMap { line in
        guard line.contains("| \(name) ready (pid "), let semicolon = line.range(of: "; ") else { return nil }
        return String(line[semicolon.upperBound...].prefix { $0 != ")" })
    }
}

/// The services the registry on `registryPort` lists as serving.
private func servicesServing(registryPort: Int, token: String) async throws -> [String] {
    let connection = try await BusNodeForTests.connect(port: registryPort, token: token)
    do {
        let answer = try await connection.call(service: RegistryProtocol.service, method: "lookup", body: JSONBody.encode(RegistryProtocol.LookupRequest()), timeout: .seconds(5))
        await connection.close()
        return try JSONBody.decode(RegistryProtocol.Snapshot.self, from: answer).instances.filter { $0.state == .serving }.map(\.record.service)
    } catch {
        await connection.close()
        throw error
    }
}

/// Kills `up` and then every child it reported starting that still runs
/// (by PID, and only if it is still a videobus process): a test that fails
/// midway leaves nothing behind.
private func stopEverything(_ up: VideobusProcess) {
    if up.process.isRunning { up.signal(SIGKILL) }
    let children = startedPIDs(in: up.log)
    up.stop()
    for pid in children {
        let commandLine = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/cmdline"))).map { String(decoding: $0, as: UTF8.self) } ?? ""
        if commandLine.contains("videobus") { kill(pid, SIGKILL) }
    }
}
