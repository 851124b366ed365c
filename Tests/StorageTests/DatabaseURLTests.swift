import Storage
import Testing

@Suite struct DatabaseURLTests {
    @Test func urlsAsUsersWriteThem() throws {
        #expect(try DatabaseURL("file:./data/ingest.db") == .sqlite(.file("./data/ingest.db"), synchronous: .normal))
        #expect(try DatabaseURL("sqlite:///var/lib/videobus/ingest.db") == .sqlite(.file("/var/lib/videobus/ingest.db"), synchronous: .normal))
        #expect(try DatabaseURL("sqlite:data/x.db?synchronous=full") == .sqlite(.file("data/x.db"), synchronous: .full))
        #expect(try DatabaseURL("sqlite::memory:") == .sqlite(.memory, synchronous: .normal))

        guard case .postgres(let settings) = try DatabaseURL("postgresql://video%20bus:p%40ss@db.internal:6543/ingest?sslmode=require&pool_size=16") else {
            Issue.record("not postgres")
            return
        }
        #expect(settings.host == "db.internal")
        #expect(settings.port == 6543)
        #expect(settings.user == "video bus")
        #expect(settings.password == "p@ss")
        #expect(settings.database == "ingest")
        #expect(settings.poolSize == 16)
        #expect(settings.parameters == ["sslmode": "require"])
        #expect(settings.conninfo.contains("password='p@ss'"))
        #expect(try DatabaseURL("postgres://u:secret@h/db").description == "postgresql://u:***@h:5432/db")
    }

    @Test func statementsHaveATimeLimit() throws {
        func settings(_ text: String) throws -> DatabaseURL.PostgresSettings? {
            guard case .postgres(let settings) = try DatabaseURL(text) else { return nil }
            return settings
        }
        #expect(try settings("postgresql://h/db")?.statementTimeoutMilliseconds == 30_000)
        #expect(try settings("postgresql://h/db")?.conninfo.contains("options='-c statement_timeout=30000'") == true)
        #expect(try settings("postgresql://h/db?statement_timeout=250ms")?.statementTimeoutMilliseconds == 250)
        #expect(try settings("postgresql://h/db?statement_timeout=2min")?.statementTimeoutMilliseconds == 120_000)
        #expect(try settings("postgresql://h/db?statement_timeout=0&synchronous_commit=off")?.conninfo.contains("options='-c statement_timeout=0 -c synchronous_commit=off'") == true)
        #expect(throws: StorageError.self) { try DatabaseURL("postgresql://h/db?statement_timeout=soon") }
        #expect(throws: StorageError.self) { try DatabaseURL("postgresql://h/db?statement_timeout=-1s") }
    }

    @Test(arguments: [
        ("mysql://localhost/db", "database URL mysql://localhost/db has an unknown scheme: use file:, sqlite:, sqlite::memory: or postgresql://"),
        ("postgresql://u:secret@/db", "database URL postgresql://u:***@/db has no host"),
        ("postgresql://h/db?pool_size=0", "database URL postgresql://h/db?pool_size=0 has pool_size 0; it must be 1...256"),
        ("sqlite:", "database URL sqlite: has no file path"),
        ("sqlite://host/x.db", "database URL sqlite://host/x.db names a host; write sqlite:///absolute/path.db or sqlite:relative/path.db"),
        ("file:x.db?journal=off", "database URL file:x.db?journal=off has an unknown parameter journal=off (SQLite takes synchronous=normal|full)"),
    ])
    func malformedURLsSayWhy(text: String, message: String) {
        #expect(throws: StorageError(.invalidURL, message)) { try DatabaseURL(text) }
    }

    @Test func anUnreachableServerIsUnavailableAndNamed() async throws {
        let error = await #expect(throws: StorageError.self) {
            _ = try await openDatabase(DatabaseURL("postgresql://videobus:secret@127.0.0.1:1/nothing?connect_timeout=2"))
        }
        #expect(error?.code == .unavailable)
        #expect(error?.message.hasPrefix("cannot connect to postgresql://videobus:***@127.0.0.1:1/nothing") == true)
        #expect(error?.message.contains("secret") == false)
    }
}
