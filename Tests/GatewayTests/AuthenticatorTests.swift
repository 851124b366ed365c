import BusRuntime
import BusWire
@testable import Gateway
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore
import TestSupport
import Testing

/// Authentication, in process: a directory that knows two keys stands in for ingest.
@Suite struct AuthenticatorTests {
    /// Knows `key-admin` (ADMIN of acme) and `key-user` (USER of acme) until revoked; counts its questions.
    final class Directory: KeyDirectory {
        let revoked = NIOLockedValueBox<Set<String>>([])
        let questions = NIOLockedValueBox(0)
        let down = NIOLockedValueBox(false)

        func identity(forKey key: String) async throws(BusError) -> Identity {
            questions.withLockedValue { $0 += 1 }
            if down.withLockedValue({ $0 }) { throw BusError(.noResponders, "no live instance of ingest") }
            guard !revoked.withLockedValue({ $0.contains(key) }) else { throw BusError(.unauthenticated, "revoked") }
            switch key {
            case "key-admin": return Identity(tenant: "acme", user: "u1", role: "ADMIN")
            case "key-user": return Identity(tenant: "acme", user: "u2", role: "USER")
            default: throw BusError(.unauthenticated, "unknown key")
            }
        }

        func anonymousIdentity(tenant: String) async throws(BusError) -> Identity {
            Identity(tenant: tenant, user: "anon", role: "USER")
        }
    }

    static func request(_ headers: HTTPFields = [:]) -> Request {
        var head = HTTPRequest(method: .get, scheme: "http", authority: "127.0.0.1", path: "/api/video-analysis/")
        head.headerFields = headers
        return Request(head: head, body: .init(buffer: ByteBuffer()))
    }

    static func status(_ work: () async throws -> Identity) async -> (Int, HTTPFields) {
        do {
            _ = try await work()
            return (200, [:])
        } catch let error as APIError {
            return (Int(error.status.code), error.headers)
        } catch {
            return (-1, [:])
        }
    }

    @Test func bothHeaderFormsIdentifyTheKeysUser() async throws {
        let authenticator = Authenticator(directory: Directory(), settings: .init(anonymousTenant: nil, rateLimits: [:]))
        let bearer = try await authenticator.authenticate(Self.request([.authorization: "Bearer key-admin"]), remoteAddress: nil)
        #expect(bearer == Identity(tenant: "acme", user: "u1", role: "ADMIN"))
        let header = try await authenticator.authenticate(Self.request([.xAPIKey: "key-user"]), remoteAddress: nil)
        #expect(header == Identity(tenant: "acme", user: "u2", role: "USER"))
        let both = try await authenticator.authenticate(Self.request([.authorization: "bearer key-user", .xAPIKey: "key-user"]), remoteAddress: nil)
        #expect(both.user == "u2")
    }

    @Test func missingUnknownMalformedAndAmbiguousKeysAre401() async {
        let authenticator = Authenticator(directory: Directory(), settings: .init(anonymousTenant: nil, rateLimits: [:]))
        for headers: HTTPFields in [
            [:], [.authorization: "Bearer nope"], [.xAPIKey: "nope"], [.authorization: "Basic a2V5LWFkbWlu"],
            [.authorization: "Bearer"], [.authorization: "Bearer key-admin", .xAPIKey: "key-user"], [.xAPIKey: "key\u{7F}admin"],
        ] {
            let (status, answer) = await Self.status { try await authenticator.authenticate(Self.request(headers), remoteAddress: nil) }
            #expect(status == 401, "\(headers)")
            #expect(answer[.wwwAuthenticate] == "Bearer realm=\"videobus\"")
        }
    }

    @Test func anonymousRequestsAreTheAnonymousTenantsUserButAKeyStillCounts() async throws {
        let authenticator = Authenticator(directory: Directory(), settings: .init(anonymousTenant: "default", rateLimits: [:]))
        let anonymous = try await authenticator.authenticate(Self.request(), remoteAddress: "127.0.0.1")
        #expect(anonymous == Identity(tenant: "default", user: "anon", role: "USER"))
        let keyed = try await authenticator.authenticate(Self.request([.xAPIKey: "key-admin"]), remoteAddress: "127.0.0.1")
        #expect(keyed.tenant == "acme")
        // A wrong key is not quietly served as anonymous.
        let (status, _) = await Self.status { try await authenticator.authenticate(Self.request([.xAPIKey: "nope"]), remoteAddress: nil) }
        #expect(status == 401)
    }

    @Test func aRevokedKeyIsRefusedOnceItsCachedVerdictRunsOut() async throws {
        let directory = Directory()
        let authenticator = Authenticator(directory: directory, settings: .init(anonymousTenant: nil, rateLimits: [:], cacheLifetime: .milliseconds(200)))
        let request = Self.request([.xAPIKey: "key-user"])
        let started = ContinuousClock.now
        for _ in 0..<50 { _ = try await authenticator.authenticate(request, remoteAddress: nil) }
        // One question per cache lifetime at most, however slowly the loop ran.
        let lifetimes = Int(((ContinuousClock.now - started) / .milliseconds(200)).rounded(.up))
        #expect(directory.questions.withLockedValue { $0 } <= lifetimes + 1)
        directory.revoked.withLockedValue { _ = $0.insert("key-user") }
        #expect(await eventually { await Self.status { try await authenticator.authenticate(request, remoteAddress: nil) }.0 == 401 })
    }

    @Test func theCacheLifetimeIsNeverMoreThanOneSecond() {
        let cache = VerdictCache(lifetime: .seconds(60))
        #expect(cache.lifetime == .seconds(60))
        let authenticator = Authenticator(directory: Directory(), settings: .init(anonymousTenant: nil, rateLimits: [:], cacheLifetime: .seconds(60)))
        #expect(authenticator.cacheLifetime == .seconds(1))
    }

    @Test func concurrentRequestsWithOneNewKeyAskOnce() async throws {
        let directory = Directory()
        let authenticator = Authenticator(directory: directory, settings: .init(anonymousTenant: nil, rateLimits: [:]))
        try await withThrowingTaskGroup(of: Identity.self) { group in
            for _ in 0..<100 { group.addTask { try await authenticator.authenticate(Self.request([.xAPIKey: "key-admin"]), remoteAddress: nil) } }
            for try await identity in group { #expect(identity.tenant == "acme") }
        }
        #expect(directory.questions.withLockedValue { $0 } == 1)
    }

    @Test func anUnreachableDirectoryIs503AndNotRemembered() async throws {
        let directory = Directory()
        directory.down.withLockedValue { $0 = true }
        let authenticator = Authenticator(directory: directory, settings: .init(anonymousTenant: nil, rateLimits: [:]))
        let (status, _) = await Self.status { try await authenticator.authenticate(Self.request([.xAPIKey: "key-admin"]), remoteAddress: nil) }
        #expect(status == 503)
        directory.down.withLockedValue { $0 = false }
        let identity = try await authenticator.authenticate(Self.request([.xAPIKey: "key-admin"]), remoteAddress: nil)
        #expect(identity.role == "ADMIN")
    }

    @Test func eachKeyHasItsRolesRateLimit() async throws {
        let authenticator = Authenticator(directory: Directory(), settings: .init(anonymousTenant: "default", rateLimits: ["USER": RateLimit(rate: 0.001, burst: 3)]))
        let user = Self.request([.xAPIKey: "key-user"])
        for _ in 0..<3 { _ = try await authenticator.authenticate(user, remoteAddress: nil) }
        let (status, headers) = await Self.status { try await authenticator.authenticate(user, remoteAddress: nil) }
        // A token every 1,000 s: no loaded machine refills one mid-test.
        #expect(status == 429 && Int(headers[.retryAfter] ?? "") ?? 0 > 900)
        // ADMIN has no limit here; another key's bucket is its own.
        for _ in 0..<20 { _ = try await authenticator.authenticate(Self.request([.xAPIKey: "key-admin"]), remoteAddress: nil) }
        // Anonymous callers are limited per address.
        for _ in 0..<3 { _ = try await authenticator.authenticate(Self.request(), remoteAddress: "10.0.0.1") }
        #expect(await Self.status { try await authenticator.authenticate(Self.request(), remoteAddress: "10.0.0.1") }.0 == 429)
        _ = try await authenticator.authenticate(Self.request(), remoteAddress: "10.0.0.2")
    }
}

@Suite struct RateLimiterTests {
    @Test func aBucketRefillsAtItsRate() {
        let limiter = RateLimiter()
        let limit = RateLimit(rate: 10, burst: 2)
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        #expect(limiter.take("k", limit: limit, now: start) == nil)
        #expect(limiter.take("k", limit: limit, now: start) == nil)
        let wait = limiter.take("k", limit: limit, now: start)
        #expect(wait != nil && abs(wait! - 0.1) < 1e-9)
        // 0.1 s later one token is back, and only one.
        let later = start + .milliseconds(100)
        #expect(limiter.take("k", limit: limit, now: later) == nil)
        #expect(limiter.take("k", limit: limit, now: later) != nil)
        #expect(limiter.take("k", limit: .unlimited, now: later) == nil)
    }

    @Test func fullBucketsAreDroppedWhenTheLimiterIsAtCapacity() {
        let limiter = RateLimiter(capacity: 4)
        let limit = RateLimit(rate: 1, burst: 1)
        let start = NIODeadline.uptimeNanoseconds(1_000_000_000)
        for key in ["a", "b", "c", "d"] { _ = limiter.take(key, limit: limit, now: start) }
        #expect(limiter.count == 4)
        // Ten seconds on, every bucket has refilled: a new key replaces them.
        _ = limiter.take("e", limit: limit, now: start + .seconds(10))
        #expect(limiter.count == 1)
    }

    @Test(arguments: [("100", RateLimit(rate: 100, burst: 200)), ("5:20", RateLimit(rate: 5, burst: 20)), ("0", RateLimit(rate: 0, burst: 1))] as [(String, RateLimit)])
    func limitsParse(_ text: String, _ limit: RateLimit) {
        #expect(RateLimit(Substring(text)) == limit)
    }

    @Test(arguments: ["", "x", "-1", "5:0", "5:", "1:2:3", "inf"])
    func badLimitsDoNot(_ text: String) {
        #expect(RateLimit(Substring(text)) == nil)
    }
}
