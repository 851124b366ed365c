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
            for database in ["videobus_analysis_store", "videobus_ingest"] {
                try await admin.withoutTransaction { try $0.execute("DROP DATABASE IF EXISTS \(raw: database) WITH (FORCE)") }
            }
            arguments += ["--postgres", url]
            cleanup = {
                for database in ["videobus_analysis_store", "videobus_ingest"] {
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
        for name in ["gateway", "analysis-store", "ingest", "registry"] {
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
        #expect(children.count == 4)  // registry, analysis-store, ingest, gateway
        up.signal(SIGKILL)
        _ = try await up.exitStatus()
        // Orphans notice their parent is gone, drain, and exit.
        #expect(await eventually(timeout: .seconds(20)) { children.allSatisfy { kill($0, 0) != 0 } }, "children still alive: \(children.filter { kill($0, 0) == 0 })")
    }
}
