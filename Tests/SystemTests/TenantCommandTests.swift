import Foundation
import TestSupport
import Testing

/// `videobus tenant create NAME` and `videobus tenant list` against a
/// running registry and `serve ingest`, as an operator would use them.
@Suite struct TenantCommandTests {
    @Test func tenantCreatePrintsTheFirstAdminKeyOnceAndTenantListShowsIt() async throws {
        let (url, cleanup) = try await TestDatabases.freshURL(.sqlite)
        defer { Task { await cleanup() } }
        let registry = try VideobusProcess(["registry", "--port", "0"])
        defer { registry.stop() }
        let registryFlag = ["--registry", "127.0.0.1:\(try await registry.listeningPort())"]
        let ingest = try VideobusProcess(["serve", "ingest", "--database-url", url] + registryFlag)
        defer { ingest.stop() }
        _ = try await ingest.listeningPort()

        var created: (Int32, String) = (-1, "")
        for _ in 0..<100 {
            created = try await VideobusProcess.run(["tenant", "create", "acme"] + registryFlag)
            if created.0 != 3 { break }  // 3: ingest not registered yet
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(created.0 == 0, "\(created.1)")
        let output = created.1
        let keyLine = try #require(output.split(separator: "\n").first { $0.hasPrefix("api key: ") }, "\(output)")
        let key = String(keyLine.dropFirst("api key: ".count))
        #expect(key.hasPrefix("vbk_") && key.count == 47, "\(output)")
        #expect(output.contains("tenant:  acme (id c") && output.contains("admin:   admin@acme"), "\(output)")
        #expect(output.contains("shown this once"), "\(output)")

        // The key authenticates as the tenant's ADMIN; the service logged no key.
        let (authenticated, principal) = try await VideobusProcess.run(["call", "ingest.authenticate", #"{"key":"\#(key)"}"#] + registryFlag)
        #expect(authenticated == 0 && principal.contains(#""role":"ADMIN""#) && principal.contains(#""tenant_name":"acme""#), "\(principal)")
        #expect(!ingest.log.contains(key))

        // Tenant-scoped methods need the header's identity; with it they act for that user.
        let (anonymous, refusal) = try await VideobusProcess.run(["call", "ingest.users.list"] + registryFlag)
        #expect(anonymous == 4 && refusal.contains("unauthenticated: ingest.users.list needs a tenant"), "\(refusal)")
        let answer = try #require(principal.split(separator: "\n").last { $0.hasPrefix("{") }, "\(principal)")
        let fields = try #require(try JSONSerialization.jsonObject(with: Data(answer.utf8)) as? [String: Any], "\(principal)")
        let tenantID = try #require(fields["tenant_id"] as? String), userID = try #require(fields["user_id"] as? String)
        let asAdmin = ["--tenant", tenantID, "--user", userID, "--role", "ADMIN"]
        let (createdUser, user) = try await VideobusProcess.run(["call", "ingest.users.create", #"{"email":"ada@example.com","name":"Ada"}"#] + asAdmin + registryFlag)
        #expect(createdUser == 0 && user.contains(#""email":"ada@example.com""#), "\(user)")
        let (listedUsers, users) = try await VideobusProcess.run(["call", "ingest.users.list"] + asAdmin + registryFlag)
        #expect(listedUsers == 0 && users.contains(#""count":2"#), "\(users)")
        let asUser = ["--tenant", tenantID, "--user", "somebody-else", "--role", "USER"]
        let (denied, deniedMessage) = try await VideobusProcess.run(["call", "ingest.users.list"] + asUser + registryFlag)
        #expect(denied == 4 && deniedMessage.contains("permission-denied: only an ADMIN can list users"), "\(deniedMessage)")

        let (duplicate, conflict) = try await VideobusProcess.run(["tenant", "create", "ACME"] + registryFlag)
        #expect(duplicate == 4 && conflict.contains("conflict: a tenant named ACME already exists"), "\(conflict)")

        let (listed, table) = try await VideobusProcess.run(["tenant", "list"] + registryFlag)
        #expect(listed == 0, "\(table)")
        let lines = table.split(separator: "\n")
        #expect(lines.first?.hasPrefix("NAME") == true && lines.contains { $0.hasPrefix("acme ") } && lines.contains { $0.hasPrefix("default ") }, "\(table)")

        let (json, body) = try await VideobusProcess.run(["tenant", "list", "--json"] + registryFlag)
        #expect(json == 0 && body.contains(#""count":2"#), "\(body)")
    }
}
