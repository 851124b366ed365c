import Contracts
import ServiceKit
import Storage

extension IngestSchema {
    /// What `videobus seed --service ingest` adds to the `default` tenant.
    enum Samples {
        static let tenant = IngestContracts.defaultTenant
        static let users: [(email: String, name: String, role: String)] = [
            ("admin@videobus.example", "Avery Admin", "ADMIN"),
            ("user@videobus.example", "Uma User", "USER"),
            ("enterprise@videobus.example", "Eli Enterprise", "ENTERPRISE"),
        ]

        struct SampleClip {
            var start: Double
            var end: Double
            var label: String
            /// Nil: not analysed yet (the clip stays PENDING).
            var score: Double?
        }

        struct SampleAsset {
            var asset: MediaService.NewAsset
            var clips: [SampleClip]
        }

        /// Owned by the first sample user.
        static func assets(owner: String) throws -> [SampleAsset] {
            [
                SampleAsset(
                    asset: MediaService.NewAsset(
                        owner: owner, sourceURL: "gs://videobus-samples/launch-keynote.mp4", title: "Launch keynote", sizeBytes: 1_288_490_188,
                        durationS: 1800, mimeType: "video/mp4", metadata: try JSONText(#"{"event":"launch","language":"en"}"#),
                        status: .ready, width: 1920, height: 1080, fps: 29.97, videoCodec: "h264", audioCodec: "aac"
                    ),
                    clips: [
                        SampleClip(start: 0, end: 15, label: "opening", score: 0.62),
                        SampleClip(start: 120, end: 150, label: "product reveal", score: 0.91),
                        SampleClip(start: 300, end: 330, label: "live demo", score: 0.84),
                        SampleClip(start: 610, end: 640, label: "customer story", score: 0.77),
                        SampleClip(start: 1200, end: 1230, label: "pricing", score: nil),
                        SampleClip(start: 1750, end: 1800, label: "closing", score: 0.55),
                    ]
                ),
                SampleAsset(
                    asset: MediaService.NewAsset(
                        owner: owner, sourceURL: "https://cdn.videobus.example/demo/product-tour.mp4", title: "Product tour", sizeBytes: 268_435_456,
                        durationS: 240, mimeType: "video/mp4", metadata: try JSONText(#"{"campaign":"spring"}"#),
                        status: .ready, width: 1280, height: 720, fps: 30, videoCodec: "h264", audioCodec: "aac"
                    ),
                    clips: [
                        SampleClip(start: 0, end: 10, label: "hook", score: 0.88),
                        SampleClip(start: 30, end: 45, label: "feature one", score: 0.73),
                        SampleClip(start: 60, end: 80, label: "feature two", score: nil),
                        SampleClip(start: 120, end: 150, label: "testimonial", score: 0.95),
                        SampleClip(start: 220, end: 240, label: "call to action", score: nil),
                    ]
                ),
            ]
        }

        /// Inserts what is missing; returns how many rows it added.
        static func insert(_ session: any DatabaseSession) throws -> Int {
            var added = 0
            var owner: String?
            for sample in users {
                let key = sample.email.lowercased()
                if let existing = try session.queryFirst("SELECT id FROM app_user WHERE tenant_id = \(tenant) AND email_key = \(key) AND deleted_at IS NULL") {
                    let id: String = try existing["id"]
                    if owner == nil { owner = id }
                    continue
                }
                let user = try IngestService.insertUser(session, tenant: tenant, email: sample.email, emailKey: key, name: sample.name, role: sample.role, settings: "{}")
                try Outbox.enqueue(session, IngestContracts.userCreated, IngestContracts.UserEvent(id: user.id), tenant: tenant)
                if owner == nil { owner = user.id }
                added += 1
            }
            guard let owner else { return added }
            for sample in try assets(owner: owner) {
                let taken = try session.queryFirst("SELECT id FROM asset WHERE tenant_id = \(tenant) AND source_url = \(sample.asset.sourceURL) AND deleted_at IS NULL")
                guard taken == nil else { continue }
                let asset = try MediaService.insertAsset(session, tenant: tenant, sample.asset)
                added += 1
                for (index, clip) in sample.clips.enumerated() {
                    let inserted = try MediaService.insertClip(session, tenant: tenant, assetID: asset.id, start: clip.start, end: clip.end, label: clip.label)
                    added += 1
                    guard let score = clip.score else { continue }
                    // As if the analysis-store had analysed it.
                    let features = ["motion": Double(index % 3) / 2, "faces": Double((index + 1) % 4) / 3, "speech": score]
                    let analysis = AnalysisContracts.ClipAnalyzed(
                        clipId: inserted.id, assetId: asset.id, score: score, features: features, analyzedAt: Timestamp.now().iso8601
                    )
                    try MediaService.applyAnalysis(analysis, tenant: tenant, session: session)
                }
            }
            return added
        }
    }
}
