import BusRuntime
import BusWire
import Contracts
import Foundation
import Prediction
import ServiceKit
import Storage
import TestSupport
import Testing

/// The model registry on both engines (API.md "prediction"): version
/// numbers under concurrency, immutable versions whose numbers are never
/// given again, aliases, tenant isolation of models, and the models' and
/// versions' pages. One test at a time: each makes a fresh database.
@Suite(.serialized) struct ModelRegistryTests {
    typealias F = PredictionFixture
    typealias C = PredictionContracts

    static let acme = F.context("acme")
    static let globex = F.context("globex")

    static func linear(_ intercept: Double, _ coefficients: [String: Double] = [:]) -> C.MetricModel {
        C.MetricModel(kind: .linear, intercept: intercept, coefficients: coefficients)
    }

    static func logistic(_ intercept: Double, _ coefficients: [String: Double] = [:]) -> C.MetricModel {
        C.MetricModel(kind: .logistic, intercept: intercept, coefficients: coefficients)
    }

    /// A version of `name` whose one metric `watch_time_s` has intercept `intercept` (to tell versions apart).
    @discardableResult
    static func create(_ f: F, _ name: String, intercept: Double = 1, context: RequestContext = acme) async throws -> C.ModelVersion {
        try await f.registry.createVersion(C.CreateVersionRequest(name: name, metrics: ["watch_time_s": linear(intercept, ["motion": 2])]), context: context)
    }

    static func versionNumbers(_ f: F, _ name: String, context: RequestContext = acme) async throws -> [Int] {
        try await f.registry.versions(C.ListVersionsRequest(name: name, limit: 500), context: context).versions.map(\.version)
    }

    // MARK: - Version numbers

    /// 24 concurrent creates of one model get exactly the versions 1...24
    /// (no gap, no duplicate), each stored with the metrics of the request
    /// that got its number; another model then starts at 1.
    @Test(arguments: Engine.allCases)
    func concurrentCreatesGetConsecutiveNumbers(engine: Engine) async throws {
        try await F.with(engine) { f in
            let created = try await withThrowingTaskGroup(of: (intercept: Double, version: C.ModelVersion).self) { group in
                for i in 0..<24 {
                    group.addTask {
                        let intercept = Double(i) + 0.5
                        return (intercept, try await Self.create(f, "engagement", intercept: intercept))
                    }
                }
                var all: [(intercept: Double, version: C.ModelVersion)] = []
                for try await one in group { all.append(one) }
                return all
            }
            #expect(created.map(\.version.version).sorted() == Array(1...24))
            #expect(Set(created.map(\.version.version)).count == 24)
            #expect(try await Self.versionNumbers(f, "engagement") == Array((1...24).reversed()))
            for (intercept, version) in created {
                let stored = try await f.registry.version(C.VersionRequest(name: "engagement", version: version.version), context: Self.acme)
                #expect(stored.metrics["watch_time_s"]?.intercept == intercept)
            }
            let model = try await f.registry.model("engagement", context: Self.acme)
            #expect(model.latestVersion == 24)

            let other = try await Self.create(f, "retention")
            #expect(other.version == 1)
            #expect(try await Self.create(f, "retention").version == 2)
        }
    }

    /// A create repeated with its idempotency key answers the same version
    /// and uses up no number (the next create gets 2); the same key with
    /// another body is invalid-argument and creates nothing.
    @Test(arguments: Engine.allCases)
    func createVersionIdempotencyKey(engine: Engine) async throws {
        try await F.with(engine) { f in
            let keyed = F.context("acme", key: "create-key-1")
            let first = try await Self.create(f, "m", intercept: 1, context: keyed)
            let again = try await Self.create(f, "m", intercept: 1, context: keyed)
            #expect(first.version == 1)
            #expect(again == first)
            #expect(await F.code { try await Self.create(f, "m", intercept: 2, context: keyed) } == .invalidArgument)
            #expect(try await Self.versionNumbers(f, "m") == [1])
            #expect(try await Self.create(f, "m", intercept: 2).version == 2)
        }
    }

    // MARK: - Immutability and no reuse

    /// A version reads back exactly as it was created (metrics and created_at)
    /// however many versions follow it.
    @Test(arguments: Engine.allCases)
    func versionsNeverChange(engine: Engine) async throws {
        try await F.with(engine) { f in
            let metrics = [
                "ctr": Self.logistic(-3.2, ["motion": 1.1, "faces": 0.7]),
                "watch_time_s": Self.linear(4.5, ["motion": 6, "speech": -2.5]),
            ]
            let first = try await f.registry.createVersion(C.CreateVersionRequest(name: "m", metrics: metrics), context: Self.acme)
            #expect(first.version == 1)
            #expect(first.metrics == metrics)
            for i in 2...4 {
                let next = try await f.registry.createVersion(
                    C.CreateVersionRequest(name: "m", metrics: ["ctr": Self.logistic(Double(i), ["motion": Double(i)])]), context: Self.acme
                )
                #expect(next.version == i)
            }
            let stored = try await f.registry.version(C.VersionRequest(name: "m", version: 1), context: Self.acme)
            #expect(stored.metrics == metrics)
            #expect(stored.createdAt == first.createdAt)
            #expect(stored.name == "m")
        }
    }

    /// Deleting version 3 of 3: a get is not-found, the list leaves it out,
    /// `latest_version` drops to 2, the aliases that pointed at it go (others
    /// stay), a second delete is not-found, its predictions stay readable as
    /// they were, and the next create gets 4, never 3 again.
    @Test(arguments: Engine.allCases)
    func deletedVersionIsGoneAndItsNumberNeverReused(engine: Engine) async throws {
        try await F.with(engine) { f in
            f.clips.add("clip-1", tenant: "acme")
            for i in 1...3 { try await Self.create(f, "m", intercept: Double(i)) }
            _ = try await f.registry.setAlias(C.SetAliasRequest(name: "m", alias: "champion", version: 3), context: Self.acme)
            _ = try await f.registry.setAlias(C.SetAliasRequest(name: "m", alias: "staging", version: 3), context: Self.acme)
            _ = try await f.registry.setAlias(C.SetAliasRequest(name: "m", alias: "old", version: 1), context: Self.acme)
            let made = try await f.predictions.predict(C.PredictRequest(clipId: "clip-1", model: "m@3", features: ["motion": 2]), context: Self.acme)
            #expect(made.version == 3)

            try await f.registry.deleteVersion(C.VersionRequest(name: "m", version: 3), context: Self.acme)

            #expect(await F.code { try await f.registry.version(C.VersionRequest(name: "m", version: 3), context: Self.acme) } == .notFound)
            #expect(try await Self.versionNumbers(f, "m") == [2, 1])
            let model = try await f.registry.model("m", context: Self.acme)
            #expect(model.latestVersion == 2)
            #expect(model.aliases == ["old": 1])
            #expect(await F.code { try await f.registry.deleteVersion(C.VersionRequest(name: "m", version: 3), context: Self.acme) } == .notFound)
            #expect(await F.code { try await f.predictions.predict(C.PredictRequest(clipId: "clip-1", model: "m@staging", features: [:]), context: Self.acme) } == .invalidArgument)

            let kept = try await f.predictions.prediction(made.id, context: Self.acme)
            #expect(kept.version == 3)
            #expect(kept.predicted == made.predicted)
            #expect(kept.model == "m")

            let next = try await Self.create(f, "m", intercept: 4)
            #expect(next.version == 4)
            #expect(try await f.registry.model("m", context: Self.acme).latestVersion == 4)
            #expect(try await Self.versionNumbers(f, "m") == [4, 2, 1])
            #expect(try await f.registry.version(C.VersionRequest(name: "m", version: 4), context: Self.acme).metrics["watch_time_s"]?.intercept == 4)
        }
    }

    /// `latest_version` is the newest live version: deleting a version below
    /// the newest leaves it, deleting every version makes it null (the model
    /// stays, `name` then resolves to nothing), and the next create continues the numbering.
    @Test(arguments: Engine.allCases)
    func latestVersionFollowsLiveVersions(engine: Engine) async throws {
        try await F.with(engine) { f in
            f.clips.add("clip-1", tenant: "acme")
            for _ in 1...3 { try await Self.create(f, "m") }
            try await f.registry.deleteVersion(C.VersionRequest(name: "m", version: 2), context: Self.acme)
            #expect(try await f.registry.model("m", context: Self.acme).latestVersion == 3)
            try await f.registry.deleteVersion(C.VersionRequest(name: "m", version: 3), context: Self.acme)
            #expect(try await f.registry.model("m", context: Self.acme).latestVersion == 1)
            try await f.registry.deleteVersion(C.VersionRequest(name: "m", version: 1), context: Self.acme)
            let empty = try await f.registry.model("m", context: Self.acme)
            #expect(empty.latestVersion == nil)
            #expect(try await Self.versionNumbers(f, "m") == [])
            #expect(await F.code { try await f.predictions.predict(C.PredictRequest(clipId: "clip-1", model: "m", features: [:]), context: Self.acme) } == .invalidArgument)
            #expect(try await f.count("prediction") == 0)

            #expect(try await Self.create(f, "m").version == 4)
            #expect(try await f.registry.model("m", context: Self.acme).latestVersion == 4)
        }
    }

    // MARK: - Aliases

    /// `champion` set to 1 then moved to 2 answers `previous_version` 1;
    /// predictions made through it before the move keep version 1 and alias
    /// `champion` (stored as made), later ones get version 2; each version
    /// lists the aliases pointing at it now.
    @Test(arguments: Engine.allCases)
    func movingAnAliasKeepsStoredPredictions(engine: Engine) async throws {
        try await F.with(engine) { f in
            f.clips.add("clip-1", tenant: "acme")
            try await Self.create(f, "m", intercept: 1)
            try await Self.create(f, "m", intercept: 2)
            let set = try await f.registry.setAlias(C.SetAliasRequest(name: "m", alias: "champion", version: 1), context: Self.acme)
            #expect(set.version == 1)
            #expect(set.previousVersion == nil)
            #expect(set.alias == "champion")
            let viaAlias = try await f.predictions.predict(C.PredictRequest(clipId: "clip-1", model: "m@champion", features: ["motion": 1]), context: Self.acme)
            let viaName = try await f.predictions.predict(C.PredictRequest(clipId: "clip-1", model: "m", features: ["motion": 1]), context: Self.acme)
            for made in [viaAlias, viaName] {
                #expect(made.version == 1)
                #expect(made.alias == "champion")
                #expect(made.predicted == ["watch_time_s": 3])
            }

            let moved = try await f.registry.setAlias(C.SetAliasRequest(name: "m", alias: "champion", version: 2), context: Self.acme)
            #expect(moved.version == 2)
            #expect(moved.previousVersion == 1)

            for made in [viaAlias, viaName] {
                let stored = try await f.predictions.prediction(made.id, context: Self.acme)
                #expect(stored.version == 1)
                #expect(stored.alias == "champion")
                #expect(stored.predicted == ["watch_time_s": 3])
            }
            let after = try await f.predictions.predict(C.PredictRequest(clipId: "clip-1", model: "m@champion", features: ["motion": 1]), context: Self.acme)
            #expect(after.version == 2)
            #expect(after.predicted == ["watch_time_s": 4])
            #expect(try await f.registry.model("m", context: Self.acme).aliases == ["champion": 2])
            #expect(try await f.registry.version(C.VersionRequest(name: "m", version: 2), context: Self.acme).aliases == ["champion"])
            #expect(try await f.registry.version(C.VersionRequest(name: "m", version: 1), context: Self.acme).aliases == [])
        }
    }

    /// An alias to an unknown or deleted version is invalid-argument (a body
    /// reference), to an unknown model not-found, a malformed alias name
    /// invalid-argument, and none of them changes the aliases; deleting an
    /// alias works once, then (and on an unknown model) is not-found.
    @Test(arguments: Engine.allCases)
    func aliasRefusals(engine: Engine) async throws {
        try await F.with(engine) { f in
            try await Self.create(f, "m")
            try await Self.create(f, "m")
            try await f.registry.deleteVersion(C.VersionRequest(name: "m", version: 2), context: Self.acme)
            _ = try await f.registry.setAlias(C.SetAliasRequest(name: "m", alias: "champion", version: 1), context: Self.acme)

            #expect(await F.code { try await f.registry.setAlias(C.SetAliasRequest(name: "m", alias: "champion", version: 9), context: Self.acme) } == .invalidArgument)
            #expect(await F.code { try await f.registry.setAlias(C.SetAliasRequest(name: "m", alias: "champion", version: 2), context: Self.acme) } == .invalidArgument)
            #expect(await F.code { try await f.registry.setAlias(C.SetAliasRequest(name: "m", alias: "staging", version: 9), context: Self.acme) } == .invalidArgument)
            #expect(await F.code { try await f.registry.setAlias(C.SetAliasRequest(name: "nope", alias: "champion", version: 1), context: Self.acme) } == .notFound)
            #expect(await F.code { try await f.registry.setAlias(C.SetAliasRequest(name: "m", alias: "1st", version: 1), context: Self.acme) } == .invalidArgument)
            #expect(try await f.registry.model("m", context: Self.acme).aliases == ["champion": 1])
            #expect(try await f.count("model_alias WHERE tenant_id = 'acme'") == 1)

            try await f.registry.deleteAlias(C.AliasRequest(name: "m", alias: "champion"), context: Self.acme)
            #expect(try await f.registry.model("m", context: Self.acme).aliases == [:])
            #expect(await F.code { try await f.registry.deleteAlias(C.AliasRequest(name: "m", alias: "champion"), context: Self.acme) } == .notFound)
            #expect(await F.code { try await f.registry.deleteAlias(C.AliasRequest(name: "nope", alias: "champion"), context: Self.acme) } == .notFound)
        }
    }

    // MARK: - Tenants

    /// Another tenant's model is not there: get, versions, alias, deletes are
    /// not-found, a prediction naming it is invalid-argument like a missing
    /// one; lists are per tenant; the same name numbers its versions per tenant.
    @Test(arguments: Engine.allCases)
    func modelsArePerTenant(engine: Engine) async throws {
        try await F.with(engine) { f in
            f.clips.add("clip-1", tenant: "globex")
            try await Self.create(f, "acme-only")
            try await Self.create(f, "shared")
            try await Self.create(f, "shared")
            _ = try await f.registry.setAlias(C.SetAliasRequest(name: "acme-only", alias: "champion", version: 1), context: Self.acme)

            let g = Self.globex
            #expect(await F.code { try await f.registry.model("acme-only", context: g) } == .notFound)
            #expect(await F.code { try await f.registry.version(C.VersionRequest(name: "acme-only", version: 1), context: g) } == .notFound)
            #expect(await F.code { try await f.registry.versions(C.ListVersionsRequest(name: "acme-only"), context: g) } == .notFound)
            #expect(await F.code { try await f.registry.setAlias(C.SetAliasRequest(name: "acme-only", alias: "x", version: 1), context: g) } == .notFound)
            #expect(await F.code { try await f.registry.deleteAlias(C.AliasRequest(name: "acme-only", alias: "champion"), context: g) } == .notFound)
            #expect(await F.code { try await f.registry.deleteVersion(C.VersionRequest(name: "acme-only", version: 1), context: g) } == .notFound)
            for reference in ["acme-only", "acme-only@1", "acme-only@champion"] {
                #expect(await F.code { try await f.predictions.predict(C.PredictRequest(clipId: "clip-1", model: reference, features: [:]), context: g) } == .invalidArgument)
            }
            #expect(try await f.count("prediction") == 0)
            // acme's model is untouched by globex's attempts.
            #expect(try await f.registry.model("acme-only", context: Self.acme).aliases == ["champion": 1])
            #expect(try await Self.versionNumbers(f, "acme-only") == [1])

            let theirs = try await Self.create(f, "shared", context: g)
            #expect(theirs.version == 1)
            #expect(try await Self.create(f, "shared", context: g).version == 2)
            #expect(try await Self.create(f, "shared").version == 3)

            let acmeModels = try await f.registry.listModels(C.ListModelsRequest(), context: Self.acme).models.map(\.name)
            let globexModels = try await f.registry.listModels(C.ListModelsRequest(), context: g).models.map(\.name)
            #expect(Set(acmeModels) == ["acme-only", "shared"])
            #expect(acmeModels.count == 2)
            #expect(globexModels == ["shared"])
            #expect(try await f.registry.model("shared", context: g).latestVersion == 2)
            #expect(try await f.registry.model("shared", context: Self.acme).latestVersion == 3)
        }
    }

    // MARK: - Pages

    /// Models page newest first (created_at, then name, descending) two at a
    /// time with every model once; versions page 5, 4 | 3, 2 | 1 and skip a
    /// deleted one; a garbage cursor is invalid-argument; limit 0 is empty.
    @Test(arguments: Engine.allCases)
    func modelsAndVersionsPage(engine: Engine) async throws {
        try await F.with(engine) { f in
            let names = ["m1", "m2", "m3", "m4", "m5"]
            for name in names { try await Self.create(f, name) }

            var seen: [C.Model] = []
            var cursor: String?
            var pages = 0
            repeat {
                let page = try await f.registry.listModels(C.ListModelsRequest(limit: 2, cursor: cursor), context: Self.acme)
                #expect(page.models.count <= 2)
                #expect(page.count == page.models.count)
                seen += page.models
                cursor = page.nextCursor
                pages += 1
            } while cursor != nil && pages < 10
            #expect(pages == 3)
            #expect(seen.map(\.name).sorted() == names)
            #expect(Set(seen.map(\.name)).count == names.count)
            let order = seen.map { ($0.createdAt, $0.name) }
            #expect(zip(order, order.dropFirst()).allSatisfy { $0 > $1 }, "models are not newest first: \(order)")

            for _ in 2...5 { try await Self.create(f, "m1") }
            var versionPages: [[Int]] = []
            cursor = nil
            repeat {
                let page = try await f.registry.versions(C.ListVersionsRequest(name: "m1", limit: 2, cursor: cursor), context: Self.acme)
                versionPages.append(page.versions.map(\.version))
                cursor = page.nextCursor
            } while cursor != nil && versionPages.count < 10
            #expect(versionPages == [[5, 4], [3, 2], [1]])

            try await f.registry.deleteVersion(C.VersionRequest(name: "m1", version: 3), context: Self.acme)
            versionPages = []
            cursor = nil
            repeat {
                let page = try await f.registry.versions(C.ListVersionsRequest(name: "m1", limit: 2, cursor: cursor), context: Self.acme)
                versionPages.append(page.versions.map(\.version))
                cursor = page.nextCursor
            } while cursor != nil && versionPages.count < 10
            #expect(versionPages == [[5, 4], [2, 1]])

            #expect(await F.code { try await f.registry.listModels(C.ListModelsRequest(cursor: "garbage"), context: Self.acme) } == .invalidArgument)
            #expect(await F.code { try await f.registry.versions(C.ListVersionsRequest(name: "m1", cursor: "garbage"), context: Self.acme) } == .invalidArgument)
            #expect(await F.code { try await f.registry.listModels(C.ListModelsRequest(limit: -1), context: Self.acme) } == .invalidArgument)
            let noModels = try await f.registry.listModels(C.ListModelsRequest(limit: 0), context: Self.acme)
            #expect(noModels.models.isEmpty)
            #expect(noModels.nextCursor == nil)
            let noVersions = try await f.registry.versions(C.ListVersionsRequest(name: "m1", limit: 0), context: Self.acme)
            #expect(noVersions.versions.isEmpty)
            #expect(noVersions.nextCursor == nil)
        }
    }
}
