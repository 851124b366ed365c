import BusRuntime
import BusWire
import Contracts
import Foundation
import Ingest
import Logging
import ServiceKit
import Storage
import Synchronization
import TestSupport
import Testing

/// Assets and clips on both engines, called as the bus would call them
/// (with the caller's identity), the service on its own role (on
/// PostgreSQL row-level security binds it); rows, events and query plans
/// are inspected through the owner's connection, which sees every row.
/// One test at a time: each makes fresh databases on both engines, and all
/// of them at once starve the rest of the run on a 2-core machine.
@Suite(.serialized) struct MediaServiceTests {
    typealias C = IngestContracts
    typealias AssetStatus = C.AssetStatus
    typealias ClipStatus = C.ClipStatus

    // MARK: - Fixture

    struct Fixture: Sendable {
        let engine: Engine
        let media: MediaService
        let ingest: IngestService
        /// The owner's connection: sees every row of every tenant.
        let owner: any Database
        /// The service role's connection (the same database as `owner` on SQLite).
        let database: any Database
    }

    /// A caller of one tenant.
    struct Tenant: Sendable {
        let id: String
        let user: String

        func context(key: String? = nil, method: String = "x") -> RequestContext {
            RequestContext(service: "ingest", method: method, idempotencyKey: key, identity: Identity(tenant: id, user: user, role: "USER"), logger: Logger(label: "test"))
        }
    }

    /// An event as the outbox holds it.
    struct Event: Sendable {
        let topic: String
        let tenant: String
        let payload: String

        func decode<T: Decodable>(_ type: T.Type) throws -> T { try JSONDecoder().decode(T.self, from: Data(payload.utf8)) }
    }

    func withService(_ engine: Engine, _ body: (Fixture) async throws -> Void) async throws {
        try await TestDatabases.withRoles(engine, prepare: { owner in
            try await IngestSchema.schema.migrator().deploy(to: owner)
        }) { owner, service in
            let store = ServiceStore(database: service)
            try await body(Fixture(engine: engine, media: MediaService(store: store), ingest: IngestService(store: store), owner: owner, database: service))
        }
    }

    /// The bus code `work` failed with (nil when it succeeded, `internal` for a non-bus error).
    static func code(_ work: () async throws -> some Any) async -> ErrorCode? {
        await failure(work)?.code
    }

    /// The bus error `work` failed with (nil when it succeeded).
    static func failure(_ work: () async throws -> some Any) async -> BusError? {
        do {
            _ = try await work()
            return nil
        } catch let error as BusError {
            return error
        } catch {
            return BusError(.internal, "not a bus error: \(error)")
        }
    }

    static func uniqueURL(_ name: String = "video") -> String { "https://videos.example.com/\(name)-\(UUID().uuidString).mp4" }

    /// Legal moves as API.md lists them, independent of `mayMove(to:)`.
    static let legalAssetMoves: Set<String> = ["PENDING>PROCESSING", "PROCESSING>READY", "PROCESSING>FAILED", "FAILED>PENDING", "READY>ARCHIVED", "FAILED>ARCHIVED"]
    static let legalClipMoves: Set<String> = [
        "PENDING>ANALYZED", "ANALYZED>SCORED", "SCORED>PUBLISHED",
        "PENDING>REJECTED", "ANALYZED>REJECTED", "SCORED>REJECTED", "PUBLISHED>REJECTED",
    ]

    /// The legal moves that lead from a new asset (PENDING) to `status`.
    static func assetPath(to status: AssetStatus) -> [AssetStatus] {
        switch status {
        case .pending: []
        case .processing: [.processing]
        case .ready: [.processing, .ready]
        case .failed: [.processing, .failed]
        case .archived: [.processing, .ready, .archived]
        }
    }

    /// The legal moves that lead from a new clip (PENDING) to `status`.
    static func clipPath(to status: ClipStatus) -> [ClipStatus] {
        switch status {
        case .pending: []
        case .analyzed: [.analyzed]
        case .scored: [.analyzed, .scored]
        case .published: [.analyzed, .scored, .published]
        case .rejected: [.rejected]
        }
    }

    /// The change asking for `to` from `from`: with an error when it would make the asset FAILED.
    static func asking(_ to: AssetStatus, from: AssetStatus) -> C.AssetChanges {
        C.AssetChanges(status: to.rawValue, error: to == .failed && from != .failed ? "decoder: unsupported profile" : nil)
    }

    static let moveCases: [(AssetStatus, AssetStatus)] = AssetStatus.allCases.flatMap { from in AssetStatus.allCases.map { (from, $0) } }

    // MARK: - 1. Asset life cycle

    @Test(arguments: Engine.allCases)
    func theAssetLifeCycleAllowsExactlyTheDocumentedMoves(_ engine: Engine) async throws {
        // The enum agrees with API.md.
        let allowed = Set(Self.moveCases.filter { $0.0.mayMove(to: $0.1) }.map { "\($0.0.rawValue)>\($0.1.rawValue)" })
        #expect(allowed == Self.legalAssetMoves)

        try await withService(engine) { f in
            let t = try await f.tenant("acme")
            for (from, to) in Self.moveCases {
                let asset = try await f.asset(of: t, at: from)
                #expect(asset.status == from.rawValue)
                let eventsBefore = try await f.statusChanges(of: asset.id)
                let stampBefore = try await f.updatedAt("asset", asset.id)
                let request = C.UpdateAssetRequest(id: asset.id, changes: Self.asking(to, from: from))
                if from == to {
                    let same = try await f.media.updateAsset(request, context: t.context())
                    #expect(same == asset, "\(from) → \(to) changes nothing")
                    #expect(try await f.updatedAt("asset", asset.id) == stampBefore, "\(from) → \(to) leaves updated_at")
                    #expect(try await f.statusChanges(of: asset.id).count == eventsBefore.count, "\(from) → \(to) announces nothing")
                } else if Self.legalAssetMoves.contains("\(from.rawValue)>\(to.rawValue)") {
                    let moved = try await f.media.updateAsset(request, context: t.context())
                    #expect(moved.status == to.rawValue, "\(from) → \(to)")
                    #expect(moved.createdAt == asset.createdAt, "\(from) → \(to)")
                    #expect(try await f.updatedAt("asset", asset.id) > stampBefore, "\(from) → \(to) moves updated_at")
                    #expect(try await f.media.getAsset(asset.id, context: t.context()) == moved, "\(from) → \(to) is stored")
                    let events = try await f.statusChanges(of: asset.id)
                    #expect(events.count == eventsBefore.count + 1, "\(from) → \(to) is announced once")
                    #expect(events.last?.change == C.AssetStatusChange(id: asset.id, from: from.rawValue, to: to.rawValue))
                    #expect(events.last?.tenant == t.id)
                } else {
                    let refusal = await Self.failure { try await f.media.updateAsset(request, context: t.context()) }
                    #expect(refusal?.code == .conflict, "\(from) → \(to): \(String(describing: refusal))")
                    let message = refusal?.message ?? ""
                    #expect(message.contains(from.rawValue) && message.contains(to.rawValue), "\(from) → \(to) names both: \(message)")
                    #expect(try await f.media.getAsset(asset.id, context: t.context()) == asset, "\(from) → \(to) changed the asset")
                    #expect(try await f.statusChanges(of: asset.id).count == eventsBefore.count)
                    #expect(try await f.updatedAt("asset", asset.id) == stampBefore)
                }
            }
        }
    }

    @Test(arguments: Engine.allCases)
    func failingNeedsAnErrorAndTheRetryClearsIt(_ engine: Engine) async throws {
        try await withService(engine) { f in
            let t = try await f.tenant("acme")
            let ctx = t.context()
            let asset = try await f.asset(of: t, at: .processing)
            // FAILED without an error (none given, none before), or with an empty one.
            for error in [nil, ""] as [String?] {
                let refusal = await Self.failure { try await f.media.updateAsset(.init(id: asset.id, changes: .init(status: "FAILED", error: error)), context: ctx) }
                #expect(refusal?.code == .invalidArgument, "\(String(describing: error)): \(String(describing: refusal))")
            }
            #expect(await Self.code { try await f.media.updateAsset(.init(id: asset.id, changes: .init(error: "")), context: ctx) } == .invalidArgument)
            #expect(await Self.code { try await f.media.updateAsset(.init(id: asset.id, changes: .init(status: "FAILED", error: "nul\u{0}")), context: ctx) } == .invalidArgument)
            #expect(await Self.code { try await f.media.updateAsset(.init(id: asset.id, changes: .init(status: "FAILED", error: String(repeating: "e", count: 10_001))), context: ctx) } == .invalidArgument)
            #expect(try await f.media.getAsset(asset.id, context: ctx) == asset, "a refused change changes nothing")
            #expect(try await f.statusChanges(of: asset.id).count == 1)

            let failed = try await f.media.updateAsset(.init(id: asset.id, changes: .init(status: "FAILED", error: "decoder: unsupported profile")), context: ctx)
            #expect(failed.status == "FAILED" && failed.error == "decoder: unsupported profile")
            // A FAILED asset's error may be corrected without a move (and without an event).
            let stamp = try await f.updatedAt("asset", asset.id)
            let corrected = try await f.media.updateAsset(.init(id: asset.id, changes: .init(error: "decoder: profile 7 unsupported")), context: ctx)
            #expect(corrected.status == "FAILED" && corrected.error == "decoder: profile 7 unsupported")
            #expect(try await f.updatedAt("asset", asset.id) > stamp)
            #expect(try await f.statusChanges(of: asset.id).count == 2)
            // The retry clears the failure's error.
            let retried = try await f.media.updateAsset(.init(id: asset.id, changes: .init(status: "PENDING")), context: ctx)
            #expect(retried.status == "PENDING" && retried.error == nil)
            let stored = try await f.owner.read { session in try session.queryFirst("SELECT error FROM asset WHERE id = \(asset.id)")!.decode(String?.self, "error") }
            #expect(stored == nil)
            // The next failure needs an error again.
            _ = try await f.media.updateAsset(.init(id: asset.id, changes: .init(status: "PROCESSING")), context: ctx)
            #expect(await Self.code { try await f.media.updateAsset(.init(id: asset.id, changes: .init(status: "FAILED")), context: ctx) } == .invalidArgument)
            #expect(try await f.media.getAsset(asset.id, context: ctx).status == "PROCESSING")
            let again = try await f.media.updateAsset(.init(id: asset.id, changes: .init(status: "FAILED", error: "timeout")), context: ctx)
            #expect(again.status == "FAILED" && again.error == "timeout")
            // FAILED → ARCHIVED keeps why it failed (the table requires an error only while FAILED).
            let archived = try await f.media.updateAsset(.init(id: asset.id, changes: .init(status: "ARCHIVED")), context: ctx)
            #expect(archived.status == "ARCHIVED" && archived.error == "timeout")
        }
    }

    // MARK: - 2. Clip life cycle

    @Test(arguments: Engine.allCases)
    func theClipLifeCycleAllowsExactlyTheDocumentedMoves(_ engine: Engine) async throws {
        let cases = ClipStatus.allCases.flatMap { from in ClipStatus.allCases.map { (from, $0) } }
        let allowed = Set(cases.filter { $0.0.mayMove(to: $0.1) }.map { "\($0.0.rawValue)>\($0.1.rawValue)" })
        #expect(allowed == Self.legalClipMoves)

        try await withService(engine) { f in
            let t = try await f.tenant("acme")
            let asset = try await f.asset(of: t, at: .ready)
            for (index, (from, to)) in cases.enumerated() {
                let clip = try await f.clip(of: t, asset: asset.id, start: Double(index), end: Double(index) + 1, at: from)
                #expect(clip.status == from.rawValue)
                let request = C.UpdateClipRequest(id: clip.id, status: to.rawValue)
                let stampBefore = try await f.updatedAt("clip", clip.id)
                if from == to {
                    let same = try await f.media.updateClip(request, context: t.context())
                    #expect(same == clip, "\(from) → \(to) changes nothing")
                    #expect(try await f.updatedAt("clip", clip.id) == stampBefore, "\(from) → \(to) leaves updated_at")
                } else if Self.legalClipMoves.contains("\(from.rawValue)>\(to.rawValue)") {
                    let moved = try await f.media.updateClip(request, context: t.context())
                    #expect(moved.status == to.rawValue, "\(from) → \(to)")
                    #expect(moved.createdAt == clip.createdAt, "\(from) → \(to)")
                    #expect(try await f.updatedAt("clip", clip.id) > stampBefore, "\(from) → \(to) moves updated_at")
                    #expect(try await f.media.getClip(clip.id, context: t.context()) == moved)
                } else {
                    let refusal = await Self.failure { try await f.media.updateClip(request, context: t.context()) }
                    #expect(refusal?.code == .conflict, "\(from) → \(to): \(String(describing: refusal))")
                    let message = refusal?.message ?? ""
                    #expect(message.contains(from.rawValue) && message.contains(to.rawValue), "\(from) → \(to) names both: \(message)")
                    #expect(try await f.media.getClip(clip.id, context: t.context()) == clip)
                    #expect(try await f.updatedAt("clip", clip.id) == stampBefore)
                }
            }
            // A label alone changes the label, not the status.
            let clip = try await f.clip(of: t, asset: asset.id, start: 100, end: 101, at: .rejected)
            let stamp = try await f.updatedAt("clip", clip.id)
            let relabelled = try await f.media.updateClip(.init(id: clip.id, label: "outtake"), context: t.context())
            #expect(relabelled.label == "outtake" && relabelled.status == "REJECTED")
            #expect(try await f.updatedAt("clip", clip.id) > stamp)
            await #expect(throws: BusError(.notFound, "no clip nope")) { try await f.media.updateClip(.init(id: "nope", status: "REJECTED"), context: t.context()) }
        }
    }

    // MARK: - 3. Validation

    @Test(arguments: Engine.allCases)
    func badFieldsAreRefusedAsInvalidArgumentsAndLeaveNoTrace(_ engine: Engine) async throws {
        try await withService(engine) { f in
            let t = try await f.tenant("acme")
            let ctx = t.context()
            let url = Self.uniqueURL()
            let big: JSONObject = ["blob": .string(String(repeating: "x", count: 65_536))]
            let refusedAssets: [(String, C.CreateAssetRequest)] = [
                ("not a URL", .init(sourceUrl: "not a url")),
                ("empty URL", .init(sourceUrl: "")),
                ("ftp", .init(sourceUrl: "ftp://example.com/video.mp4")),
                ("file", .init(sourceUrl: "file:///etc/passwd")),
                ("javascript", .init(sourceUrl: "javascript:alert(1)")),
                ("no host", .init(sourceUrl: "https://")),
                ("no host, a path", .init(sourceUrl: "https:///video.mp4")),
                ("one slash", .init(sourceUrl: "https:/example.com/video.mp4")),
                ("space in the host", .init(sourceUrl: "https://exa mple.com/video.mp4")),
                ("space in the path", .init(sourceUrl: "https://example.com/my video.mp4")),
                ("leading space", .init(sourceUrl: " https://example.com/video.mp4")),
                ("control character", .init(sourceUrl: "https://example.com/vid\u{1}eo.mp4")),
                ("upper-case scheme", .init(sourceUrl: "HTTPS://example.com/video.mp4")),
                ("too long", .init(sourceUrl: "https://example.com/" + String(repeating: "a", count: 2048))),
                ("negative size", .init(sourceUrl: url, sizeBytes: -1)),
                ("most negative size", .init(sourceUrl: url, sizeBytes: .min)),
                ("NaN duration", .init(sourceUrl: url, durationS: .nan)),
                ("infinite duration", .init(sourceUrl: url, durationS: .infinity)),
                ("-infinite duration", .init(sourceUrl: url, durationS: -.infinity)),
                ("huge duration", .init(sourceUrl: url, durationS: 1e300)),
                ("negative duration", .init(sourceUrl: url, durationS: -1)),
                ("duration over ten days", .init(sourceUrl: url, durationS: 864_000.5)),
                ("mime without subtype", .init(sourceUrl: url, mimeType: "video")),
                ("mime with empty subtype", .init(sourceUrl: url, mimeType: "video/")),
                ("mime with empty type", .init(sourceUrl: url, mimeType: "/mp4")),
                ("mime with three parts", .init(sourceUrl: url, mimeType: "video/mp4/x")),
                ("mime with a space", .init(sourceUrl: url, mimeType: "video/mp 4")),
                ("mime with parameters", .init(sourceUrl: url, mimeType: "video/mp4; codecs=avc1")),
                ("empty mime", .init(sourceUrl: url, mimeType: "")),
                ("metadata over 64 KiB", .init(sourceUrl: url, metadata: big)),
                ("title with a bell", .init(sourceUrl: url, title: "ding\u{7}")),
                ("title with a line break", .init(sourceUrl: url, title: "two\nlines")),
                ("title with NUL", .init(sourceUrl: url, title: "nul\u{0}")),
                ("title with DEL", .init(sourceUrl: url, title: "del\u{7F}")),
                ("title too long", .init(sourceUrl: url, title: String(repeating: "t", count: 501))),
            ]
            for (what, request) in refusedAssets {
                let refusal = await Self.failure { try await f.media.createAsset(request, context: ctx) }
                #expect(refusal?.code == .invalidArgument, "\(what): \(String(describing: refusal))")
            }
            #expect(try await f.count("asset") == 0)
            #expect(try await f.count("outbox WHERE topic = 'asset.created'") == 0)

            // Accepted: 64-bit sizes read back exactly, every scheme, boundaries.
            let twoGiB: Int64 = 2_147_483_648, fiveTiB: Int64 = 5 * 1_099_511_627_776
            let large = try await f.media.createAsset(.init(sourceUrl: Self.uniqueURL(), sizeBytes: twoGiB, durationS: 60, mimeType: "video/mp4"), context: ctx)
            #expect(large.sizeBytes == twoGiB && large.durationS == 60 && large.mimeType == "video/mp4" && large.status == "PENDING" && large.metadata == [:])
            #expect(try await f.media.getAsset(large.id, context: ctx).sizeBytes == twoGiB)
            #expect(try await f.storedSize(large.id) == twoGiB)
            let huge = try await f.media.updateAsset(.init(id: large.id, changes: .init(sizeBytes: fiveTiB)), context: ctx)
            #expect(huge.sizeBytes == fiveTiB)
            #expect(try await f.storedSize(large.id) == fiveTiB)
            let largest = try await f.media.createAsset(.init(sourceUrl: Self.uniqueURL(), sizeBytes: .max, durationS: 0), context: ctx)
            #expect(largest.sizeBytes == .max && largest.durationS == 0)
            #expect(try await f.storedSize(largest.id) == .max)
            for accepted in ["gs://bucket/video.mp4", "s3://bucket/key/video.mp4", "http://Example.com/Video.mp4", "https://example.com:8443/v.mp4?sig=abc&x=1"] {
                #expect(await Self.code { try await f.media.createAsset(.init(sourceUrl: accepted, durationS: 864_000, metadata: ["k": .array([.integer(1), .null])]), context: ctx) } == nil, "\(accepted)")
            }

            // Changes of an asset.
            let asset = try await f.media.createAsset(.init(sourceUrl: Self.uniqueURL(), durationS: 60), context: ctx)
            let refusedChanges: [(String, C.AssetChanges)] = [
                ("unknown status", .init(status: "DONE")),
                ("lower-case status", .init(status: "processing")),
                ("width 0", .init(width: 0)),
                ("negative width", .init(width: -1)),
                ("width too large", .init(width: 65_537)),
                ("height 0", .init(height: 0)),
                ("fps 0", .init(fps: 0)),
                ("negative fps", .init(fps: -24)),
                ("NaN fps", .init(fps: .nan)),
                ("infinite fps", .init(fps: .infinity)),
                ("fps over 1000", .init(fps: 1000.5)),
                ("NaN duration", .init(durationS: .nan)),
                ("infinite duration", .init(durationS: .infinity)),
                ("-infinite duration", .init(durationS: -.infinity)),
                ("huge duration", .init(durationS: 1e300)),
                ("negative size", .init(sizeBytes: -1)),
                ("title with a control character", .init(title: "tab\there")),
                ("codec with a line break", .init(videoCodec: "h264\n")),
                ("codec too long", .init(audioCodec: String(repeating: "a", count: 65))),
                ("metadata over 64 KiB", .init(metadata: big)),
                ("empty error", .init(error: "")),
            ]
            let outboxBefore = try await f.count("outbox")
            for (what, changes) in refusedChanges {
                let refusal = await Self.failure { try await f.media.updateAsset(.init(id: asset.id, changes: changes), context: ctx) }
                #expect(refusal?.code == .invalidArgument, "\(what): \(String(describing: refusal))")
            }
            #expect(try await f.media.getAsset(asset.id, context: ctx) == asset, "refused changes changed the asset")
            #expect(try await f.count("outbox") == outboxBefore)
            let facts = try await f.media.updateAsset(
                .init(id: asset.id, changes: .init(width: 1920, height: 1080, fps: 29.97, videoCodec: "h264", audioCodec: "aac", metadata: ["camera": .string("A")])), context: ctx)
            #expect(facts.width == 1920 && facts.height == 1080 && facts.fps == 29.97 && facts.videoCodec == "h264" && facts.audioCodec == "aac")
            #expect(facts.metadata == ["camera": .string("A")] && facts.status == "PENDING" && facts.durationS == 60)

            // Clips of that 60 s asset.
            let refusedClips: [(String, Double, Double, String?)] = [
                ("negative start", -1, 5, nil),
                ("start == end", 5, 5, nil),
                ("reversed", 10, 5, nil),
                ("end beyond duration_s", 5, 60.001, nil),
                ("start and end beyond duration_s", 61, 62, nil),
                ("NaN start", .nan, 5, nil),
                ("NaN end", 1, .nan, nil),
                ("infinite end", 1, .infinity, nil),
                ("-infinite start", -.infinity, 5, nil),
                ("huge end", 1, 1e300, nil),
                ("huge start", 1e300, .infinity, nil),
                ("label with a control character", 1, 2, "a\u{1}b"),
                ("label with a line break", 1, 2, "a\nb"),
                ("label with NEL", 1, 2, "a\u{85}b"),
                ("label too long", 1, 2, String(repeating: "l", count: 201)),
            ]
            for (what, start, end, label) in refusedClips {
                let refusal = await Self.failure { try await f.media.createClip(.init(assetId: asset.id, startS: start, endS: end, label: label), context: ctx) }
                #expect(refusal?.code == .invalidArgument, "\(what): \(String(describing: refusal))")
            }
            // Without a known duration, only the ten-day bound applies.
            let open = try await f.media.createAsset(.init(sourceUrl: Self.uniqueURL()), context: ctx)
            #expect(await Self.code { try await f.media.createClip(.init(assetId: open.id, startS: 0, endS: 1e300), context: ctx) } == .invalidArgument)
            #expect(await Self.code { try await f.media.createClip(.init(assetId: open.id, startS: 0, endS: .infinity), context: ctx) } == .invalidArgument)
            #expect(try await f.count("clip") == 0)
            #expect(try await f.count("outbox WHERE topic = 'clip.created'") == 0)

            // The bounds themselves are fine: 0 and exactly duration_s.
            let whole = try await f.media.createClip(.init(assetId: asset.id, startS: 0, endS: 60, label: "whole ✓"), context: ctx)
            #expect(whole.startS == 0 && whole.endS == 60 && whole.label == "whole ✓" && whole.status == "PENDING" && whole.score == nil && whole.rank == nil && whole.features == nil)
            let long = try await f.media.createClip(.init(assetId: open.id, startS: 1000, endS: 864_000), context: ctx)
            #expect(long.endS == 864_000)
            #expect(try await f.count("clip") == 2)
            // Clip changes: an unknown status or a bad label.
            for changes in [C.UpdateClipRequest(id: whole.id, status: "DONE"), .init(id: whole.id, status: "scored"), .init(id: whole.id, label: "x\u{0}")] {
                #expect(await Self.code { try await f.media.updateClip(changes, context: ctx) } == .invalidArgument, "\(changes)")
            }
            #expect(try await f.media.getClip(whole.id, context: ctx) == whole)
            // A duration shorter than an existing clip is refused (the clip would end past it).
            let shorter = await Self.code { try await f.media.updateAsset(.init(id: asset.id, changes: .init(durationS: 59)), context: ctx) }
            #expect(shorter == .invalidArgument, "\(String(describing: shorter))")
            #expect(try await f.media.getAsset(asset.id, context: ctx).durationS == 60)
        }
    }

    // MARK: - 4. Soft delete

    @Test(arguments: Engine.allCases)
    func aDeletedAssetTakesItsClipsWithItAndFreesItsSourceURL(_ engine: Engine) async throws {
        try await withService(engine) { f in
            let t = try await f.tenant("acme")
            let ctx = t.context()
            let url = Self.uniqueURL()
            let asset = try await f.media.createAsset(.init(sourceUrl: url, durationS: 100), context: ctx)
            let other = try await f.media.createAsset(.init(sourceUrl: Self.uniqueURL()), context: ctx)
            var clips: [C.Clip] = []
            for start in [0.0, 10, 20] {
                clips.append(try await f.media.createClip(.init(assetId: asset.id, startS: start, endS: start + 5), context: ctx))
            }
            #expect(try await f.analyze(t, clips[0], score: 0.9))
            #expect(try await f.analyze(t, clips[1], score: 0.4))
            let kept = try await f.media.createClip(.init(assetId: other.id, startS: 0, endS: 1), context: ctx)
            #expect(try await f.analyze(t, kept, score: 0.5))

            try await f.media.deleteAsset(.init(id: asset.id), context: ctx)

            let noAsset = BusError(.notFound, "no asset \(asset.id)")
            await #expect(throws: noAsset) { try await f.media.getAsset(asset.id, context: ctx) }
            await #expect(throws: noAsset) { try await f.media.deleteAsset(.init(id: asset.id), context: ctx) }
            await #expect(throws: noAsset) { try await f.media.updateAsset(.init(id: asset.id, changes: .init(title: "x")), context: ctx) }
            await #expect(throws: noAsset) { try await f.media.listClips(.init(assetId: asset.id), context: ctx) }
            await #expect(throws: noAsset) { try await f.media.createClip(.init(assetId: asset.id, startS: 0, endS: 1), context: ctx) }
            for clip in clips {
                await #expect(throws: BusError(.notFound, "no clip \(clip.id)")) { try await f.media.getClip(clip.id, context: ctx) }
                await #expect(throws: BusError(.notFound, "no clip \(clip.id)")) { try await f.media.updateClip(.init(id: clip.id, status: "REJECTED"), context: ctx) }
                await #expect(throws: BusError(.notFound, "no clip \(clip.id)")) { try await f.media.deleteClip(.init(id: clip.id), context: ctx) }
            }
            #expect(try await f.media.listAssets(.init(), context: ctx).assets.map(\.id) == [other.id])
            #expect(try await f.media.topClips(.init(assetId: asset.id), context: ctx).clips.isEmpty)
            #expect(try await f.media.topClips(.init(), context: ctx).clips.map(\.id) == [kept.id])
            #expect(try await f.media.getClip(kept.id, context: ctx).rank == 1)

            // Rows stay (soft), marked deleted, without ranks.
            let rows = try await f.owner.read { session in
                try session.query("SELECT deleted_at, rank FROM clip WHERE asset_id = \(asset.id)").map { row in
                    (try row.decode(Int64?.self, "deleted_at"), try row.decode(Int?.self, "rank"))
                }
            }
            #expect(rows.count == 3 && rows.allSatisfy { $0.0 != nil && $0.1 == nil })

            // Events: clip.deleted for each clip, then asset.deleted.
            let events = try await f.events()
            let deletedClips = try events.filter { $0.topic == "clip.deleted" }.map { try $0.decode(C.ClipEvent.self) }
            #expect(Set(deletedClips) == Set(clips.map { C.ClipEvent(id: $0.id, assetId: asset.id) }) && deletedClips.count == 3)
            let deletedAssets = try events.filter { $0.topic == "asset.deleted" }.map { try $0.decode(C.AssetEvent.self) }
            #expect(deletedAssets == [C.AssetEvent(id: asset.id, userId: t.user, status: "PENDING")])
            let tail = events.suffix(4).map(\.topic)
            #expect(tail == ["clip.deleted", "clip.deleted", "clip.deleted", "asset.deleted"])
            #expect(events.allSatisfy { $0.tenant == t.id })

            // Its source URL may be used again: a new asset.
            let again = try await f.media.createAsset(.init(sourceUrl: url), context: ctx)
            #expect(again.id != asset.id && again.status == "PENDING" && again.durationS == nil)
            #expect(try await f.media.listClips(.init(assetId: again.id), context: ctx).clips.isEmpty)
        }
    }

    @Test(arguments: Engine.allCases)
    func aDeletedClipLeavesListsAndTopAndTheOthersAreRankedAgain(_ engine: Engine) async throws {
        try await withService(engine) { f in
            let t = try await f.tenant("acme")
            let ctx = t.context()
            let asset = try await f.asset(of: t, at: .ready)
            var clips: [C.Clip] = []
            for (start, score) in [(0.0, 0.9), (10, 0.8), (20, 0.7)] {
                let clip = try await f.media.createClip(.init(assetId: asset.id, startS: start, endS: start + 1), context: ctx)
                #expect(try await f.analyze(t, clip, score: score))
                clips.append(clip)
            }
            let unscored = try await f.media.createClip(.init(assetId: asset.id, startS: 30, endS: 31), context: ctx)
            #expect(try await f.ranks(t, clips.map(\.id)) == [1, 2, 3])

            try await f.media.deleteClip(.init(id: clips[0].id), context: ctx)
            await #expect(throws: BusError(.notFound, "no clip \(clips[0].id)")) { try await f.media.getClip(clips[0].id, context: ctx) }
            await #expect(throws: BusError(.notFound, "no clip \(clips[0].id)")) { try await f.media.deleteClip(.init(id: clips[0].id), context: ctx) }
            #expect(try await f.media.listClips(.init(assetId: asset.id), context: ctx).clips.map(\.id) == [clips[1].id, clips[2].id, unscored.id])
            #expect(try await f.media.topClips(.init(assetId: asset.id), context: ctx).clips.map(\.id) == [clips[1].id, clips[2].id])
            #expect(try await f.media.topClips(.init(), context: ctx).clips.map(\.id) == [clips[1].id, clips[2].id])
            #expect(try await f.ranks(t, [clips[1].id, clips[2].id]) == [1, 2])

            // Deleting an unscored clip leaves the ranks.
            try await f.media.deleteClip(.init(id: unscored.id), context: ctx)
            #expect(try await f.ranks(t, [clips[1].id, clips[2].id]) == [1, 2])
            let deleted = try await f.events().filter { $0.topic == "clip.deleted" }.map { try $0.decode(C.ClipEvent.self) }
            #expect(deleted == [C.ClipEvent(id: clips[0].id, assetId: asset.id), C.ClipEvent(id: unscored.id, assetId: asset.id)])
            // The asset lives on.
            #expect(try await f.media.getAsset(asset.id, context: ctx) == asset)
            #expect(try await f.count("asset.deleted", topic: true) == 0)
        }
    }

    @Test(arguments: Engine.allCases)
    func anArchivedAssetTakesNoNewClips(_ engine: Engine) async throws {
        try await withService(engine) { f in
            let t = try await f.tenant("acme")
            let archived = try await f.asset(of: t, at: .archived)
            #expect(await Self.code { try await f.media.createClip(.init(assetId: archived.id, startS: 0, endS: 1), context: t.context()) } == .conflict)
            await #expect(throws: BusError(.notFound, "no asset nope")) { try await f.media.createClip(.init(assetId: "nope", startS: 0, endS: 1), context: t.context()) }
            #expect(try await f.count("clip") == 0)
            // Every other status does.
            for status in [AssetStatus.pending, .processing, .ready, .failed] {
                let asset = try await f.asset(of: t, at: status)
                _ = try await f.media.createClip(.init(assetId: asset.id, startS: 0, endS: 1), context: t.context())
            }
            #expect(try await f.count("clip") == 4)
        }
    }

    // MARK: - 5. Unique source URLs

    @Test(arguments: Engine.allCases)
    func aSourceURLIsUniqueWithinATenantButNotAcrossTenants(_ engine: Engine) async throws {
        try await withService(engine) { f in
            let a = try await f.tenant("tenant-a"), b = try await f.tenant("tenant-b")
            let url = Self.uniqueURL()
            let first = try await f.media.createAsset(.init(sourceUrl: url, title: "first"), context: a.context())
            let refusal = await Self.failure { try await f.media.createAsset(.init(sourceUrl: url, title: "second"), context: a.context()) }
            #expect(refusal?.code == .conflict && refusal?.message.contains(url) == true, "\(String(describing: refusal))")
            // Another tenant's asset with the same URL is its own.
            let theirs = try await f.media.createAsset(.init(sourceUrl: url), context: b.context())
            #expect(theirs.id != first.id && theirs.sourceUrl == url)
            // And the default tenant's.
            let anonymous = try await f.ingest.anonymous(tenantName: "default")
            let fromDefault = try await f.media.createAsset(.init(sourceUrl: url), context: Tenant(id: anonymous.tenantId, user: anonymous.userId).context())
            #expect(fromDefault.id != first.id)
            #expect(try await f.count("asset") == 3)
            #expect(try await f.media.getAsset(first.id, context: a.context()) == first)
            #expect(try await f.count("asset.created", topic: true) == 3)
        }
    }

    // MARK: - 6. Tenant isolation

    @Test(arguments: Engine.allCases)
    func aTenantNeitherSeesNorChangesAnotherTenantsAssetsOrClips(_ engine: Engine) async throws {
        try await withService(engine) { f in
            let a = try await f.tenant("tenant-a"), b = try await f.tenant("tenant-b")
            let asset = try await f.media.createAsset(.init(sourceUrl: Self.uniqueURL(), durationS: 60), context: a.context())
            let clip = try await f.media.createClip(.init(assetId: asset.id, startS: 0, endS: 10), context: a.context())
            let other = try await f.media.createClip(.init(assetId: asset.id, startS: 20, endS: 30), context: a.context())
            #expect(try await f.analyze(a, clip, score: 0.8))
            let assetBefore = try await f.media.getAsset(asset.id, context: a.context())
            let clipBefore = try await f.media.getClip(clip.id, context: a.context())
            let otherBefore = try await f.media.getClip(other.id, context: a.context())
            let outboxBefore = try await f.count("outbox")
            let asB = b.context()

            let noAsset = BusError(.notFound, "no asset \(asset.id)"), noClip = BusError(.notFound, "no clip \(clip.id)")
            await #expect(throws: noAsset) { try await f.media.getAsset(asset.id, context: asB) }
            await #expect(throws: noAsset) { try await f.media.updateAsset(.init(id: asset.id, changes: .init(status: "PROCESSING")), context: asB) }
            await #expect(throws: noAsset) { try await f.media.updateAsset(.init(id: asset.id, changes: .init(title: "mine")), context: asB) }
            await #expect(throws: noAsset) { try await f.media.deleteAsset(.init(id: asset.id), context: asB) }
            await #expect(throws: noAsset) { try await f.media.listClips(.init(assetId: asset.id), context: asB) }
            await #expect(throws: noAsset) { try await f.media.createClip(.init(assetId: asset.id, startS: 0, endS: 1), context: asB) }
            await #expect(throws: noClip) { try await f.media.getClip(clip.id, context: asB) }
            await #expect(throws: noClip) { try await f.media.updateClip(.init(id: clip.id, status: "REJECTED"), context: asB) }
            await #expect(throws: noClip) { try await f.media.updateClip(.init(id: clip.id, label: "mine"), context: asB) }
            await #expect(throws: noClip) { try await f.media.deleteClip(.init(id: clip.id), context: asB) }
            #expect(try await f.media.listAssets(.init(), context: asB).assets.isEmpty)
            #expect(try await f.media.listAssets(.init(status: "PENDING"), context: asB).assets.isEmpty)
            #expect(try await f.media.topClips(.init(), context: asB).clips.isEmpty)
            #expect(try await f.media.topClips(.init(assetId: asset.id), context: asB).clips.isEmpty)
            // b's analysis of a's clip is consumed and changes nothing.
            #expect(try await f.analyze(b, clip, score: 0.1))
            #expect(try await f.analyze(b, other, score: 0.99))
            // b's own asset (with a's source URL) has none of a's clips.
            let mine = try await f.media.createAsset(.init(sourceUrl: assetBefore.sourceUrl), context: asB)
            #expect(try await f.media.listClips(.init(assetId: mine.id), context: asB).clips.isEmpty)

            // a's data is intact, and nothing was announced for it.
            #expect(try await f.media.getAsset(asset.id, context: a.context()) == assetBefore)
            #expect(try await f.media.getClip(clip.id, context: a.context()) == clipBefore)
            #expect(try await f.media.getClip(other.id, context: a.context()) == otherBefore)
            #expect(try await f.media.listAssets(.init(), context: a.context()).assets.map(\.id) == [asset.id])
            #expect(try await f.media.topClips(.init(), context: a.context()).clips.map(\.id) == [clip.id])
            let newEvents = try await f.events().dropFirst(Int(outboxBefore))
            #expect(newEvents.map(\.topic) == ["asset.created"] && newEvents.allSatisfy { $0.tenant == b.id })
        }
    }

    // MARK: - 7. Top clips

    @Test(arguments: Engine.allCases)
    func topClipsAreTheBestScoredLiveClipsInScoreStartAndIdOrder(_ engine: Engine) async throws {
        try await withService(engine) { f in
            let t = try await f.tenant("acme")
            let ctx = t.context()
            let a = try await f.asset(of: t, at: .ready), b = try await f.asset(of: t, at: .ready), c = try await f.asset(of: t, at: .ready)
            func scored(_ asset: C.Asset, _ start: Double, _ score: Double?) async throws -> C.Clip {
                let clip = try await f.media.createClip(.init(assetId: asset.id, startS: start, endS: start + 1), context: ctx)
                if let score { #expect(try await f.analyze(t, clip, score: score)) }
                return try await f.media.getClip(clip.id, context: ctx)
            }
            let a1 = try await scored(a, 10, 0.9)
            let a2 = try await scored(a, 0, 0.5)
            let a3 = try await scored(a, 5, 0.5)
            let a4 = try await scored(a, 5, 0.5)  // ties a3 on score and start: by id
            let rejected = try await scored(a, 20, 0.95)
            let unscored = try await scored(a, 30, nil)
            let deleted = try await scored(a, 40, 0.99)
            let published = try await scored(a, 50, 0.7)
            _ = try await f.media.updateClip(.init(id: rejected.id, status: "REJECTED"), context: ctx)
            try await f.media.deleteClip(.init(id: deleted.id), context: ctx)
            _ = try await f.media.updateClip(.init(id: published.id, status: "PUBLISHED"), context: ctx)
            let b1 = try await scored(b, 1, 0.8), b2 = try await scored(b, 2, 0.3), b3 = try await scored(b, 3, 0)
            var cs: [C.Clip] = []
            for (n, score) in [0.6, 0.61, 0.62, 0.63, 0.64].enumerated() { cs.append(try await scored(c, Double(n), score)) }
            // Another tenant's better clips stay out.
            let other = try await f.tenant("globex")
            let theirs = try await f.asset(of: other, at: .ready)
            let theirClip = try await f.media.createClip(.init(assetId: theirs.id, startS: 0, endS: 1), context: other.context())
            #expect(try await f.analyze(other, theirClip, score: 1))

            func ordered(_ clips: [C.Clip]) async throws -> [String] {
                var fresh: [C.Clip] = []
                for clip in clips { fresh.append(try await f.media.getClip(clip.id, context: ctx)) }
                return fresh.sorted { x, y in
                    if x.score! != y.score! { return x.score! > y.score! }
                    if x.startS != y.startS { return x.startS < y.startS }
                    return x.id < y.id
                }.map(\.id)
            }
            let ofA = try await ordered([a1, a2, a3, a4, published])
            #expect(ofA == [a1.id, published.id, a2.id] + [a3.id, a4.id].sorted())
            let all = try await ordered([a1, a2, a3, a4, published, b1, b2, b3] + cs)
            #expect(all.count == 13)

            func top(_ request: C.TopClipsRequest) async throws -> [String] {
                let answer = try await f.media.topClips(request, context: ctx)
                #expect(answer.count == answer.clips.count)
                #expect(answer.clips.allSatisfy { $0.score != nil && $0.status != "REJECTED" })
                return answer.clips.map(\.id)
            }
            #expect(try await top(.init(assetId: a.id)) == ofA)
            #expect(try await top(.init(assetId: a.id, limit: 2)) == Array(ofA.prefix(2)))
            #expect(try await top(.init(assetId: a.id, limit: 0)).isEmpty)
            #expect(try await top(.init(assetId: a.id, minScore: 0.7)) == [a1.id, published.id])
            #expect(try await top(.init(assetId: a.id, minScore: 0.95)).isEmpty, "the rejected and the deleted clip are out")
            #expect(try await top(.init()) == Array(all.prefix(10)), "ten by default")
            #expect(try await top(.init(limit: 500)) == all)
            #expect(try await top(.init(limit: 3, minScore: 0.6)) == Array(all.prefix(3)))
            #expect(try await top(.init(minScore: 0)).count == 10)
            #expect(try await top(.init(limit: 500, minScore: 0.61)) == all.filter { id in [a1.id, published.id, b1.id, cs[1].id, cs[2].id, cs[3].id, cs[4].id].contains(id) })
            #expect(try await top(.init(limit: 500, minScore: 1)).isEmpty)
            #expect(try await top(.init(assetId: b.id)) == [b1.id, b2.id, b3.id], "a score of 0 counts")
            #expect(try await top(.init(assetId: "cnonexistent00000000000000")).isEmpty)
            #expect(try await top(.init(assetId: theirs.id)).isEmpty)
            #expect(!(try await top(.init(limit: 500))).contains(unscored.id))
            // Ranks within each asset follow the same order.
            #expect(try await f.ranks(t, ofA) == [1, 2, 3, 4, 5])
            #expect(try await f.media.getClip(rejected.id, context: ctx).rank == nil)
            #expect(try await f.media.getClip(unscored.id, context: ctx).rank == nil)

            for bad in [C.TopClipsRequest(limit: -1), .init(limit: 501), .init(minScore: 1.5), .init(minScore: -0.1), .init(minScore: .nan), .init(minScore: .infinity)] {
                #expect(await Self.code { try await f.media.topClips(bad, context: ctx) } == .invalidArgument, "\(bad)")
            }

            // On SQLite the plan reads the partial indexes in order: no sort.
            if engine == .sqlite {
                for asset in [a.id, nil] as [String?] {
                    let plan = try await f.owner.read { session in
                        let ofAsset: SQL = asset.map { "asset_id = \($0) AND " } ?? ""
                        return try session.query("""
                            EXPLAIN QUERY PLAN SELECT id, asset_id, start_s, end_s, label, status, score, rank, features, created_at, updated_at FROM clip
                            WHERE tenant_id = \(t.id) AND \(ofAsset)deleted_at IS NULL AND score IS NOT NULL AND status <> 'REJECTED'
                            AND score >= \(0.5) ORDER BY score DESC, start_s, id LIMIT \(10)
                            """).map { try $0.decode(String.self, "detail") }.joined(separator: " | ")
                    }
                    let index = asset == nil ? "clip_top" : "clip_top_of_asset"
                    #expect(plan.contains("INDEX \(index) "), "\(plan)")
                    #expect(!plan.contains("TEMP B-TREE"), "\(plan)")
                }
            }
        }
    }

    // MARK: - 8. clip.analyzed

    @Test(arguments: Engine.allCases)
    func aClipAnalysisIsAppliedOnceUnderRedeliveryAndRanksTheAssetsClips(_ engine: Engine) async throws {
        try await withService(engine) { f in
            let t = try await f.tenant("acme")
            let ctx = t.context()
            let asset = try await f.asset(of: t, at: .ready)
            var clips: [C.Clip] = []
            for start in [0.0, 10, 20] { clips.append(try await f.media.createClip(.init(assetId: asset.id, startS: start, endS: start + 5), context: ctx)) }

            let stamp = try await f.updatedAt("clip", clips[1].id)
            let event = AnalysisContracts.ClipAnalyzed(clipId: clips[1].id, assetId: asset.id, score: 0.75, features: ["motion": 0.5, "faces": 2])
            #expect(try await f.deliver(event, id: "evt-1", tenant: t.id))
            let scored = try await f.media.getClip(clips[1].id, context: ctx)
            #expect(scored.status == "SCORED" && scored.score == 0.75 && scored.features == ["motion": 0.5, "faces": 2] && scored.rank == 1)
            #expect(try await f.updatedAt("clip", clips[1].id) > stamp)
            let scoredStamp = try await f.updatedAt("clip", clips[1].id)

            // The same event again: nothing changes, not even updated_at.
            let other = AnalysisContracts.ClipAnalyzed(clipId: clips[1].id, assetId: asset.id, score: 0.1, features: [:])
            #expect(try await f.deliver(event, id: "evt-1", tenant: t.id) == false)
            #expect(try await f.deliver(other, id: "evt-1", tenant: t.id) == false, "the event id decides, not the payload")
            #expect(try await f.media.getClip(clips[1].id, context: ctx) == scored)
            #expect(try await f.updatedAt("clip", clips[1].id) == scoredStamp)
            #expect(try await f.count("inbox WHERE event_id = 'evt-1'") == 1)

            // Ranks 1..n by score.
            #expect(try await f.deliver(.init(clipId: clips[0].id, assetId: asset.id, score: 0.5, features: ["motion": 0.1]), id: "evt-2", tenant: t.id))
            #expect(try await f.deliver(.init(clipId: clips[2].id, assetId: asset.id, score: 0.9, features: [:]), id: "evt-3", tenant: t.id))
            #expect(try await f.ranks(t, [clips[2].id, clips[1].id, clips[0].id]) == [1, 2, 3])
            // A later analysis (another event) re-ranks.
            #expect(try await f.deliver(.init(clipId: clips[0].id, assetId: asset.id, score: 1, features: ["motion": 0.9]), id: "evt-4", tenant: t.id))
            #expect(try await f.ranks(t, [clips[0].id, clips[2].id, clips[1].id]) == [1, 2, 3])
            let rescored = try await f.media.getClip(clips[0].id, context: ctx)
            #expect(rescored.score == 1 && rescored.features == ["motion": 0.9] && rescored.status == "SCORED")
            // Redelivering an older event does not undo the newer one.
            #expect(try await f.deliver(.init(clipId: clips[0].id, assetId: asset.id, score: 0.5, features: ["motion": 0.1]), id: "evt-2", tenant: t.id) == false)
            #expect(try await f.media.getClip(clips[0].id, context: ctx) == rescored)

            // A clip that is not there: consumed, nothing changes.
            let before = try await f.clipRows()
            #expect(try await f.deliver(.init(clipId: "cunknown000000000000000000", assetId: asset.id, score: 0.3, features: [:]), id: "evt-5", tenant: t.id))
            #expect(try await f.clipRows() == before)
            #expect(try await f.count("inbox WHERE event_id = 'evt-5'") == 1)

            // A score outside [0, 1]: refused, nothing recorded (a redelivery refuses again).
            for (n, bad) in [1.5, -0.1, .nan].enumerated() {
                let id = "evt-bad-\(n)"
                let refusal = try await f.refusedDelivery(.init(clipId: clips[1].id, assetId: asset.id, score: bad, features: [:]), id: id, tenant: t.id)
                #expect(refusal?.code == .invalidArgument, "\(bad): \(String(describing: refusal))")
                #expect(try await f.count("inbox WHERE event_id = '\(id)'") == 0)
            }
            // Non-finite features too.
            let badFeatures = try await f.refusedDelivery(.init(clipId: clips[1].id, assetId: asset.id, score: 0.5, features: ["x": .infinity]), id: "evt-bad-f", tenant: t.id)
            #expect(badFeatures?.code == .invalidArgument)
            #expect(try await f.clipRows() == before)

            // Later statuses keep theirs; a rejected clip stays out of the ranking.
            _ = try await f.media.updateClip(.init(id: clips[2].id, status: "PUBLISHED"), context: ctx)
            let fourth = try await f.media.createClip(.init(assetId: asset.id, startS: 30, endS: 31), context: ctx)
            _ = try await f.media.updateClip(.init(id: fourth.id, status: "REJECTED"), context: ctx)
            #expect(try await f.deliver(.init(clipId: clips[2].id, assetId: asset.id, score: 0.2, features: [:]), id: "evt-6", tenant: t.id))
            #expect(try await f.deliver(.init(clipId: fourth.id, assetId: asset.id, score: 0.99, features: [:]), id: "evt-7", tenant: t.id))
            #expect(try await f.media.getClip(clips[2].id, context: ctx).status == "PUBLISHED")
            let rejected = try await f.media.getClip(fourth.id, context: ctx)
            #expect(rejected.status == "REJECTED" && rejected.rank == nil)
            #expect(try await f.ranks(t, [clips[0].id, clips[1].id, clips[2].id]) == [1, 2, 3])
            // An ANALYZED clip becomes SCORED too.
            let fifth = try await f.media.createClip(.init(assetId: asset.id, startS: 40, endS: 41), context: ctx)
            _ = try await f.media.updateClip(.init(id: fifth.id, status: "ANALYZED"), context: ctx)
            #expect(try await f.deliver(.init(clipId: fifth.id, assetId: asset.id, score: 0.6, features: [:]), id: "evt-8", tenant: t.id))
            #expect(try await f.media.getClip(fifth.id, context: ctx).status == "SCORED")
            #expect(try await f.ranks(t, [clips[0].id, clips[1].id, fifth.id, clips[2].id]) == [1, 2, 3, 4])
            // Analyses announce nothing themselves.
            #expect(try await f.count("outbox WHERE (topic LIKE 'asset.%' OR topic LIKE 'clip.%') AND topic NOT IN ('asset.created', 'asset.status_changed', 'clip.created')") == 0)
        }
    }

    // MARK: - 9. Concurrent status changes

    @Test(arguments: Engine.allCases)
    func ofConcurrentStatusChangesExactlyOneTargetWins(_ engine: Engine) async throws {
        try await withService(engine) { f in
            let t = try await f.tenant("acme")
            for _ in 0..<3 {
                let asset = try await f.asset(of: t, at: .processing)
                let media = f.media, ctx = t.context(), id = asset.id
                let outcomes = await withTaskGroup(of: (AssetStatus, ErrorCode?).self) { group in
                    for n in 0..<16 {
                        let target: AssetStatus = n % 2 == 0 ? .ready : .failed
                        group.addTask {
                            let code = await Self.code { try await media.updateAsset(.init(id: id, changes: Self.asking(target, from: .processing)), context: ctx) }
                            return (target, code)
                        }
                    }
                    var all: [(AssetStatus, ErrorCode?)] = []
                    for await outcome in group { all.append(outcome) }
                    return all
                }
                let final = try await f.media.getAsset(id, context: ctx)
                let winner = try #require(AssetStatus(rawValue: final.status))
                #expect(winner == .ready || winner == .failed, "\(final.status)")
                let loser: AssetStatus = winner == .ready ? .failed : .ready
                let won: [ErrorCode?] = outcomes.filter { $0.0 == winner }.map { $0.1 }
                let lost: [ErrorCode?] = outcomes.filter { $0.0 == loser }.map { $0.1 }
                #expect(won == [ErrorCode?](repeating: nil, count: 8), "\(outcomes)")
                #expect(lost == [ErrorCode?](repeating: .conflict, count: 8), "\(outcomes)")
                if winner == .failed { #expect(final.error == "decoder: unsupported profile") } else { #expect(final.error == nil) }
                let changes = try await f.statusChanges(of: id).map(\.change)
                #expect(changes == [
                    C.AssetStatusChange(id: id, from: "PENDING", to: "PROCESSING"),
                    C.AssetStatusChange(id: id, from: "PROCESSING", to: winner.rawValue),
                ])
            }
        }
    }

    /// PostgreSQL only (SQLite runs one write at a time): a clip cut while
    /// its asset is being deleted must not stay live under a deleted asset.
    /// The interleaving is forced with the outbox's ordering lock, which
    /// both transactions take last: the clip's INSERT is made, then the
    /// deletion runs up to its events, then both commit.
    @Test(arguments: [Engine.postgres])
    func aClipCutWhileItsAssetIsDeletedDoesNotOutliveTheAsset(_ engine: Engine) async throws {
        try await withService(engine) { f in
            let t = try await f.tenant("acme")
            let ctx = t.context()
            let asset = try await f.asset(of: t, at: .ready)
            // One connection, so the session lock is released where it was taken.
            let gate = try await openDatabase(DatabaseURL(f.owner.location + "?pool_size=1"))
            let lock: SQL = "SELECT pg_advisory_lock(hashtext('videobus.outbox.order'))"
            let unlock: SQL = "SELECT pg_advisory_unlock(hashtext('videobus.outbox.order'))"
            _ = try await gate.withoutTransaction { try $0.query(lock) }
            let media = f.media
            let cut = Task { try await media.createClip(.init(assetId: asset.id, startS: 0, endS: 1), context: ctx) }
            let cutWaits = await eventually(timeout: .seconds(20)) { try await f.lockWaiters() >= 1 }
            let deletion = Task { try await media.deleteAsset(.init(id: asset.id), context: ctx) }
            let bothWait = await eventually(timeout: .seconds(20)) { try await f.lockWaiters() >= 2 }
            _ = try await gate.withoutTransaction { try $0.query(unlock) }
            await gate.close()
            #expect(cutWaits && bothWait)
            let clip = try await cut.value
            try await deletion.value

            await #expect(throws: BusError(.notFound, "no asset \(asset.id)")) { try await f.media.getAsset(asset.id, context: ctx) }
            let clipCode = await Self.code { try await f.media.getClip(clip.id, context: ctx) }
            let liveClips = try await f.count("clip WHERE deleted_at IS NULL")
            #expect(clipCode == .notFound)
            #expect(liveClips == 0)
        }
    }


    // MARK: - 10. Clip pages

    @Test(arguments: Engine.allCases)
    func anAssetsClipsPageByStartTimeThroughTheCursor(_ engine: Engine) async throws {
        try await withService(engine) { f in
            let t = try await f.tenant("acme")
            let ctx = t.context()
            let asset = try await f.asset(of: t, at: .ready)
            let starts: [Double] = [3, 1, 0.1 + 0.2, 1, 1e-7, 3, 2.5]
            var created: [C.Clip] = []
            for start in starts { created.append(try await f.media.createClip(.init(assetId: asset.id, startS: start, endS: start + 1), context: ctx)) }
            let expected = created.sorted { ($0.startS, $0.id) < ($1.startS, $1.id) }.map(\.id)

            var seen: [C.Clip] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await f.media.listClips(.init(assetId: asset.id, limit: 3, cursor: cursor), context: ctx)
                #expect(page.count == page.clips.count && page.clips.count <= 3)
                seen += page.clips
                cursor = page.nextCursor
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(seen.map(\.id) == expected, "no duplicates, no gaps")
            #expect(Set(seen.map(\.id)).count == 7)
            #expect(seen.map(\.startS) == starts.sorted())
            // The whole list in one page has no cursor.
            let whole = try await f.media.listClips(.init(assetId: asset.id), context: ctx)
            #expect(whole.clips.map(\.id) == expected && whole.nextCursor == nil)
            let exact = try await f.media.listClips(.init(assetId: asset.id, limit: 7), context: ctx)
            #expect(exact.clips.count == 7 && exact.nextCursor == nil)
            #expect(try await f.media.listClips(.init(assetId: asset.id, limit: 0), context: ctx).clips.isEmpty)

            for garbage in ["garbage", "", "~", "1~", "~abc", "nan~abc", "-1~abc", "1~a b", "1~a/b", "x1~abc", "1~" + String(repeating: "a", count: 65)] {
                #expect(await Self.code { try await f.media.listClips(.init(assetId: asset.id, cursor: garbage), context: ctx) } == .invalidArgument, "\(garbage)")
            }
            for limit in [-1, 501] {
                #expect(await Self.code { try await f.media.listClips(.init(assetId: asset.id, limit: limit), context: ctx) } == .invalidArgument)
            }
            await #expect(throws: BusError(.notFound, "no asset nope")) { try await f.media.listClips(.init(assetId: "nope"), context: ctx) }
        }
    }

    @Test(arguments: Engine.allCases)
    func assetsListNewestFirstOptionallyOfOneStatus(_ engine: Engine) async throws {
        try await withService(engine) { f in
            let t = try await f.tenant("acme")
            let ctx = t.context()
            var assets: [C.Asset] = []
            for status in [AssetStatus.ready, .pending, .ready, .failed, .ready] { assets.append(try await f.asset(of: t, at: status)) }
            let newestFirst = assets.reversed().map(\.id)
            #expect(try await f.media.listAssets(.init(), context: ctx).assets.map(\.id) == newestFirst)
            #expect(try await f.media.listAssets(.init(status: "READY"), context: ctx).assets.map(\.id) == [assets[4].id, assets[2].id, assets[0].id])
            #expect(try await f.media.listAssets(.init(status: "DONE"), context: ctx).assets.isEmpty, "an unknown status matches nothing")
            var seen: [String] = [], cursor: String?
            repeat {
                let page = try await f.media.listAssets(.init(limit: 2, cursor: cursor), context: ctx)
                seen += page.assets.map(\.id)
                cursor = page.nextCursor
            } while cursor != nil && seen.count < 10
            #expect(seen == newestFirst)
            #expect(await Self.code { try await f.media.listAssets(.init(cursor: "garbage"), context: ctx) } == .invalidArgument)
            #expect(await Self.code { try await f.media.listAssets(.init(limit: 501), context: ctx) } == .invalidArgument)
            #expect(try await f.media.listAssets(.init(limit: 0), context: ctx).assets.isEmpty)
        }
    }

    // MARK: - 11. Idempotency

    @Test(arguments: Engine.allCases)
    func aRepeatedCreationWithItsIdempotencyKeyGetsTheFirstAnswer(_ engine: Engine) async throws {
        try await withService(engine) { f in
            let t = try await f.tenant("acme")
            let request = C.CreateAssetRequest(sourceUrl: Self.uniqueURL(), title: "keynote", sizeBytes: 2_147_483_648)
            let first = try await f.media.createAsset(request, context: t.context(key: "k-1"))
            let again = try await f.media.createAsset(request, context: t.context(key: "k-1"))
            #expect(again == first)
            #expect(try await f.count("asset") == 1)
            #expect(try await f.count("asset.created", topic: true) == 1)
            // The same key with another body is refused, and creates nothing.
            let other = C.CreateAssetRequest(sourceUrl: Self.uniqueURL(), title: "keynote")
            #expect(await Self.code { try await f.media.createAsset(other, context: t.context(key: "k-1")) } == .invalidArgument)
            #expect(await Self.code { try await f.media.createAsset(.init(sourceUrl: request.sourceUrl, title: "keynote!"), context: t.context(key: "k-1")) } == .invalidArgument)
            #expect(try await f.count("asset") == 1)
            // Without the key the same request is a duplicate.
            #expect(await Self.code { try await f.media.createAsset(request, context: t.context()) } == .conflict)
            // Another tenant's key of the same name is its own.
            let b = try await f.tenant("globex")
            let theirs = try await f.media.createAsset(request, context: b.context(key: "k-1"))
            #expect(theirs.id != first.id)
            #expect(try await f.count("asset") == 2)

            // Clips too.
            let clipRequest = C.CreateClipRequest(assetId: first.id, startS: 1, endS: 2, label: "intro")
            let clip = try await f.media.createClip(clipRequest, context: t.context(key: "k-2"))
            #expect(try await f.media.createClip(clipRequest, context: t.context(key: "k-2")) == clip)
            #expect(try await f.count("clip") == 1)
            #expect(await Self.code { try await f.media.createClip(.init(assetId: first.id, startS: 1, endS: 3), context: t.context(key: "k-2")) } == .invalidArgument)
            #expect(try await f.count("clip") == 1)
        }
    }
}

// MARK: - Fixture helpers

extension MediaServiceTests.Fixture {
    typealias C = IngestContracts
    typealias Tenant = MediaServiceTests.Tenant

    /// A new tenant and its admin, as a caller.
    func tenant(_ name: String) async throws -> Tenant {
        let created = try await ingest.createTenant(name: name)
        return Tenant(id: created.tenantId, user: created.userId)
    }

    /// A new asset of `tenant` moved by legal steps to `status`.
    func asset(of tenant: Tenant, at status: C.AssetStatus) async throws -> C.Asset {
        var asset = try await media.createAsset(.init(sourceUrl: MediaServiceTests.uniqueURL()), context: tenant.context())
        var from = C.AssetStatus.pending
        for step in MediaServiceTests.assetPath(to: status) {
            asset = try await media.updateAsset(.init(id: asset.id, changes: MediaServiceTests.asking(step, from: from)), context: tenant.context())
            from = step
        }
        return asset
    }

    /// A new clip of `asset` moved by legal steps to `status`.
    func clip(of tenant: Tenant, asset: String, start: Double, end: Double, at status: C.ClipStatus) async throws -> C.Clip {
        var clip = try await media.createClip(.init(assetId: asset, startS: start, endS: end), context: tenant.context())
        for step in MediaServiceTests.clipPath(to: status) {
            clip = try await media.updateClip(.init(id: clip.id, status: step.rawValue), context: tenant.context())
        }
        return clip
    }

    /// Delivers `analysis` as event `id` of `tenant` the way the service consumes it; false when it was already applied.
    func deliver(_ analysis: AnalysisContracts.ClipAnalyzed, id: String, tenant: String) async throws -> Bool {
        try await Inbox.consume(database, eventID: id, consumer: "ingest", tenant: tenant) { session in
            try MediaService.applyAnalysis(analysis, tenant: tenant, session: session)
        }
    }

    /// Scores `clip` with a new event.
    func analyze(_ tenant: Tenant, _ clip: C.Clip, score: Double, features: [String: Double] = ["motion": 0.5]) async throws -> Bool {
        try await deliver(.init(clipId: clip.id, assetId: clip.assetId, score: score, features: features), id: "evt-\(UUID().uuidString)", tenant: tenant.id)
    }

    /// Delivers an analysis that must be refused: the bus error the service
    /// threw (nil when it was applied); the delivery itself must fail.
    func refusedDelivery(_ analysis: AnalysisContracts.ClipAnalyzed, id: String, tenant: String) async throws -> BusError? {
        let thrown = ThrownBox()
        do {
            try await Inbox.consume(database, eventID: id, consumer: "ingest", tenant: tenant) { session in
                do {
                    try MediaService.applyAnalysis(analysis, tenant: tenant, session: session)
                } catch let error as BusError {
                    thrown.set(error)
                    throw error
                }
            }
            Issue.record("event \(id) was consumed")
            return nil
        } catch {
            return thrown.value
        }
    }

    /// The ranks of `clips`, in that order.
    func ranks(_ tenant: Tenant, _ clips: [String]) async throws -> [Int?] {
        var ranks: [Int?] = []
        for id in clips { ranks.append(try await media.getClip(id, context: tenant.context()).rank) }
        return ranks
    }

    /// The stored `updated_at` (milliseconds) of a row of `table`.
    func updatedAt(_ table: String, _ id: String) async throws -> Int64 {
        try await owner.read { try $0.queryFirst("SELECT updated_at FROM \(raw: table) WHERE id = \(id)")!.decode(Int64.self, "updated_at") }
    }

    /// Sessions of this database waiting for a lock (PostgreSQL).
    func lockWaiters() async throws -> Int64 {
        try await owner.read { session in
            try session.queryFirst("SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'")!.decode(Int64.self, "n")
        }
    }

    /// Every clip row, as stored (to compare before and after).
    func clipRows() async throws -> [Row] {
        try await owner.read { try $0.query("SELECT * FROM clip ORDER BY tenant_id, id") }
    }

    func storedSize(_ asset: String) async throws -> Int64? {
        try await owner.read { try $0.queryFirst("SELECT size_bytes FROM asset WHERE id = \(asset)")!.decode(Int64?.self, "size_bytes") }
    }

    /// Rows of `table` (which may carry a WHERE clause), through the owner; with `topic`, outbox rows of that topic.
    func count(_ table: String, topic: Bool = false) async throws -> Int64 {
        try await owner.read { session in
            let sql: SQL = topic ? "SELECT COUNT(*) AS n FROM outbox WHERE topic = \(table)" : "SELECT COUNT(*) AS n FROM \(raw: table)"
            return try session.queryFirst(sql)!.decode(Int64.self, "n")
        }
    }

    /// Every outbox event, in order.
    func events() async throws -> [MediaServiceTests.Event] {
        try await owner.read { session in
            try session.query("SELECT topic, tenant, payload FROM outbox ORDER BY seq").map { row in
                MediaServiceTests.Event(topic: try row.decode(String.self, "topic"), tenant: try row.decode(String.self, "tenant"), payload: try row.decode(String.self, "payload"))
            }
        }
    }

    /// The `asset.status_changed` events of `asset`, in order.
    func statusChanges(of asset: String) async throws -> [(change: C.AssetStatusChange, tenant: String)] {
        try await events().filter { $0.topic == "asset.status_changed" }
            .map { event in (change: try event.decode(C.AssetStatusChange.self), tenant: event.tenant) }
            .filter { $0.change.id == asset }
    }
}

/// The error a closure run on the database's thread threw.
final class ThrownBox: @unchecked Sendable {
    private let lock = NSLock()
    private var error: BusError?

    func set(_ error: BusError) { lock.withLock { self.error = error } }
    var value: BusError? { lock.withLock { error } }
}

extension AnalysisContracts.ClipAnalyzed {
    /// An analysis stored just now: each one later than the last (the service ignores one not newer than the clip's).
    init(clipId: String, assetId: String, score: Double, features: [String: Double]) {
        let milliseconds = Self.clock.withLock { last in
            last = max(last + 1, Timestamp.now().millisecondsSince1970)
            return last
        }
        self.init(clipId: clipId, assetId: assetId, score: score, features: features, analyzedAt: Timestamp(millisecondsSince1970: milliseconds).iso8601)
    }

    static let clock = Mutex<Int64>(0)
}
