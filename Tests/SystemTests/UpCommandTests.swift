import BusRuntime
import BusWire
import Foundation
import Storage
import TestSupport
import Testing

/// `videobus up`: every part as its own process, crashed ones restarted,
/// Ctrl-C draining all.
@Suite struct UpCommandTests {
    @Test(arguments: Engine.allCases)
    func upRunsEverythingRestartsACrashedServiceAndDrainsOnSIGINT(_ engine: Engine) async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("videobus-up-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        var arguments = ["up", "--port", "0", "--registry-port", "0", "--data-dir", data.path]
        var cleanup: (@Sendable () async -> Void)?
        if engine == .postgres {
            // up creates one database per service on the server (videobus_<service>): start without it, drop it after.
            let (url, drop) = try await TestDatabases.freshURL(.postgres)
            let admin = try await openDatabase(DatabaseURL(url))
            for database in ["videobus_analysis_store", "videobus_ingest", "videobus_prediction", "videobus_conversion"] {
                try await admin.withoutTransaction { try $0.execute("DROP DATABASE IF EXISTS \(raw: database) WITH (FORCE)") }
            }
            arguments += ["--postgres", url]
            cleanup = {
                for database in ["videobus_analysis_store", "videobus_ingest", "videobus_prediction", "videobus_conversion"] {
                    _ = try? await admin.withoutTransaction { try $0.execute("DROP DATABASE IF EXISTS \(raw: database) WITH (FORCE)") }
                }
                await admin.close()
                await drop()
            }
        }
        defer { if let cleanup { Task { await cleanup() } } }
        let up = try VideobusProcess(arguments)
        defer { up.stop() }
        #expect(await eventually(timeout: .seconds(60)) { up.log.contains("ready: http://") }, "\(up.log)")
        let readyLine = try #require(up.log.split(separator: "\n").first { $0.contains("ready: http://") })
        let afterHost = try #require(readyLine.range(of: "http://127.0.0.1:")).upperBound
        let port = try #require(Int(readyLine[afterHost...].prefix { $0.isNumber }))
        #expect(try await httpRequest("POST", port: port, "/api/video-analysis/", body: #"{"video_id": "up_001", "description": "A sunset"}"#).status == 201)

        // A crashed service comes back by itself, its data intact.
        let started = try #require(up.log.split(separator: "\n").first { $0.contains("started analysis-store (pid") })
        let pid = try #require(Int32(started.split(separator: "pid ").last?.dropLast() ?? ""))
        kill(pid, SIGKILL)
        #expect(await eventually(timeout: .seconds(30)) { up.log.components(separatedBy: "started analysis-store (pid").count == 3 }, "\(up.log)")
        #expect(await eventually(timeout: .seconds(30)) { try await httpRequest("GET", port: port, "/api/video-analysis/up_001").status == 200 })

        up.signal(SIGINT)
        #expect(try await up.exitStatus(timeout: .seconds(60)) == 0)
        for name in ["gateway", "analysis-store", "ingest", "prediction", "conversion", "registry"] {
            #expect(up.log.contains("\(name) exited with status 0"), "\(name) did not drain cleanly:\n\(up.log)")
        }
        if engine == .postgres {
            #expect(!FileManager.default.fileExists(atPath: data.appendingPathComponent("analysis-store.db").path), "used SQLite despite --postgres")
        }
    }

    @Test func childrenDoNotOutliveAKilledUp() async throws {
        let data = FileManager.default.temporaryDirectory.appendingPathComponent("videobus-up-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: data) }
        let up = try VideobusProcess(["up", "--port", "0", "--registry-port", "0", "--data-dir", data.path])
        defer { up.stop() }
        #expect(await eventually(timeout: .seconds(60)) { up.log.contains("ready: http://") }, "\(up.log)")
        let children = up.log.split(separator: "\n").filter { $0.contains("| started ") }.compactMap { Int32($0.split(separator: "pid ").last?.dropLast() ?? "") }
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
        defer { up.stop() }
        #expect(await eventually(timeout: .seconds(60)) { up.log.contains("ready: http://") }, "\(up.log)")

        let data = directory.appendingPathComponent("data")
        let tokenFile = data.appendingPathComponent("bus-token")
        let token = try String(contentsOf: tokenFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
        #expect(token.count >= 32 && token.allSatisfy(\.isHexDigit), "not ≥ 128 random bits in hex: \(token.count) characters")
        for file in ["bus-token", "registry-credentials"] {
            let mode = try FileManager.default.attributesOfItem(atPath: data.appendingPathComponent(file).path)[.posixPermissions] as? Int
            #expect(mode == 0o600, "\(file) has mode \(String(mode ?? 0, radix: 8))")
        }
        // Each child has the token in its environment, none on its command line (where ps shows it).
        let children = up.log.split(separator: "\n").filter { $0.contains("| started ") }.compactMap { Int32($0.split(separator: "pid ").last?.dropLast() ?? "") }
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
}
