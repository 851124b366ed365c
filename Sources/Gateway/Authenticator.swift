import BusRuntime
import BusWire
import Hummingbird
import NIOConcurrencyHelpers
import NIOCore

/// Decides who an HTTP request is made for: the API key it carries
/// (`Authorization: Bearer <key>` or `X-API-Key: <key>`), resolved through
/// the ingest service, or, when the gateway serves anonymous requests, the
/// anonymous user of that tenant. Then applies the per-key rate limit.
///
/// Verdicts on a key are cached for at most ``Settings/cacheLifetime`` (1 s
/// by default and at most): the bus delivers an event to one instance of a
/// service, not to every gateway, so a revocation reaches every gateway by
/// its cached verdict running out, within that lifetime.
final class Authenticator: Sendable {
    struct Settings: Sendable {
        /// The tenant of requests without a key; nil: they are answered 401.
        var anonymousTenant: String?
        /// Per role (`USER`, `ADMIN`, `ENTERPRISE`); a role not listed is not limited.
        var rateLimits: [String: RateLimit]
        var cacheLifetime: TimeAmount = .seconds(1)
    }

    /// Who the request is for, and the name of its rate-limit bucket.
    struct Verdict: Sendable {
        var identity: Identity
        var bucket: String
    }

    private let directory: any KeyDirectory
    private let settings: Settings
    private let limiter = RateLimiter()
    private let cache: VerdictCache
    /// The anonymous identity has no key to revoke: it is asked for once a minute.
    private let anonymous = VerdictCache(lifetime: .seconds(60), capacity: 16)

    var cacheLifetime: TimeAmount { cache.lifetime }

    init(directory: any KeyDirectory, settings: Settings) {
        self.directory = directory
        self.settings = settings
        self.cache = VerdictCache(lifetime: min(settings.cacheLifetime, .seconds(1)))
    }

    /// The request's identity; throws the 401, 429 or 503 to answer instead.
    func authenticate(_ request: Request, remoteAddress: String?) async throws -> Identity {
        let verdict = try await verdict(for: request, remoteAddress: remoteAddress)
        let limit = verdict.identity.role.flatMap { settings.rateLimits[$0] } ?? .unlimited
        if let wait = limiter.take(verdict.bucket, limit: limit) {
            let seconds = max(1, Int(wait.rounded(.up)))
            throw APIError(.tooManyRequests, "rate limit of \(Self.describe(limit)) exceeded; retry in \(seconds) s", code: "overloaded", headers: [.retryAfter: "\(seconds)"])
        }
        return verdict.identity
    }

    private func verdict(for request: Request, remoteAddress: String?) async throws -> Verdict {
        guard let key = try Self.key(of: request) else {
            guard let tenant = settings.anonymousTenant else {
                throw Self.unauthorized("no API key: send Authorization: Bearer <key> or X-API-Key: <key>")
            }
            // Anonymous callers share one identity: each client address gets its own bucket.
            let directory = self.directory
            let identity = try await anonymous.identity(for: tenant) { () async throws(BusError) in
                try await directory.anonymousIdentity(tenant: tenant)
            }
            return Verdict(identity: try Self.accepted(identity), bucket: "address \(remoteAddress ?? "?")")
        }
        // Keys stay in this process's memory (cache, buckets) and are never logged.
        let directory = self.directory
        let identity = try await cache.identity(for: key) { () async throws(BusError) in
            try await directory.identity(forKey: key)
        }
        return Verdict(identity: try Self.accepted(identity), bucket: "key " + key)
    }

    /// A directory's answer as the request's outcome: who, or the status to answer.
    private static func accepted(_ result: Result<Identity, BusError>) throws -> Identity {
        switch result {
        case .success(let identity): return identity
        case .failure(let error) where error.code == .unauthenticated || error.code == .invalidArgument:
            throw unauthorized("the API key is not valid (unknown, revoked or malformed)")
        case .failure(let error):
            throw APIError(error, service: "ingest")
        }
    }

    /// The key a request carries, nil for none; 401 for a malformed or ambiguous one.
    static func key(of request: Request) throws -> String? {
        let header = request.headers[.xAPIKey].map { $0.trimmingCharacters(in: .whitespaces) }
        var bearer: String?
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                throw unauthorized("Authorization must be \"Bearer <key>\"")
            }
            bearer = parts[1].trimmingCharacters(in: .whitespaces)
        }
        if let header, let bearer, header != bearer {
            throw unauthorized("Authorization and X-API-Key name different keys")
        }
        guard let key = bearer ?? header else { return nil }
        guard (1...256).contains(key.utf8.count), key.utf8.allSatisfy({ (0x21...0x7E).contains($0) }) else {
            throw unauthorized("the API key is not valid (unknown, revoked or malformed)")
        }
        return key
    }

    static func unauthorized(_ detail: String) -> APIError {
        APIError(.unauthorized, detail, code: "unauthenticated", headers: [.wwwAuthenticate: "Bearer realm=\"videobus\""])
    }

    static func describe(_ limit: RateLimit) -> String {
        "\(limit.rate.formatted()) requests/s (burst \(limit.burst.formatted()))"
    }
}

/// Directory answers by key hash, each kept for `lifetime`; concurrent
/// requests with the same uncached key share one question to the directory.
/// Failures other than a refusal (ingest unavailable) are not kept.
final class VerdictCache: Sendable {
    private struct Entry {
        var result: Result<Identity, BusError>
        var expires: NIODeadline
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var asking: [String: Task<Result<Identity, BusError>, Never>] = [:]
    }

    let lifetime: TimeAmount
    private let capacity: Int
    private let state = NIOLockedValueBox(State())

    init(lifetime: TimeAmount, capacity: Int = 100_000) {
        self.lifetime = lifetime
        self.capacity = capacity
    }

    func identity(for key: String, ask: @escaping @Sendable () async throws(BusError) -> Identity) async -> Result<Identity, BusError> {
        let now = NIODeadline.now()
        enum Lookup { case cached(Result<Identity, BusError>), pending(Task<Result<Identity, BusError>, Never>) }
        let lookup: Lookup = state.withLockedValue { state in
            if let entry = state.entries[key], entry.expires > now { return .cached(entry.result) }
            if let asking = state.asking[key] { return .pending(asking) }
            let task = Task { () -> Result<Identity, BusError> in
                let result: Result<Identity, BusError>
                do throws(BusError) { result = .success(try await ask()) } catch { result = .failure(error) }
                self.settle(key, result)
                return result
            }
            state.asking[key] = task
            return .pending(task)
        }
        switch lookup {
        case .cached(let result): return result
        case .pending(let task): return await task.value
        }
    }

    private func settle(_ key: String, _ result: Result<Identity, BusError>) {
        let now = NIODeadline.now()
        state.withLockedValue { state in
            state.asking[key] = nil
            if case .failure(let error) = result, error.code != .unauthenticated, error.code != .invalidArgument { return }
            if state.entries.count >= capacity { state.entries = state.entries.filter { $0.value.expires > now } }
            if state.entries.count >= capacity { state.entries.removeAll() }
            state.entries[key] = Entry(result: result, expires: now + lifetime)
        }
    }
}

extension HTTPFields.Element.Name {
    static let xAPIKey = Self("X-API-Key")!
    static let wwwAuthenticate = Self("WWW-Authenticate")!
}
