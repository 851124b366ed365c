/// The prediction service's bus methods, events and REST routes (API.md
/// "prediction"): a model registry with immutable numbered versions and
/// movable aliases, predictions per clip, actuals, and the error of each
/// model version per metric.
public enum PredictionContracts {
    public static let service = "prediction"

    // MARK: - Methods (tenant-scoped)

    public static let createVersion = BusMethod<CreateVersionRequest, ModelVersion>(service, "models.create-version", summary: "Register a model's next version (1 for a new model); versions never change and are never reused.")
    public static let listModels = BusMethod<ListModelsRequest, ModelPage>(service, "models.list", summary: "Models, newest first.")
    public static let getModel = BusMethod<ModelRequest, Model>(service, "models.get", summary: "A model: its latest version and its aliases.")
    public static let listVersions = BusMethod<ListVersionsRequest, ModelVersionPage>(service, "models.versions", summary: "A model's live versions, newest first.")
    public static let getVersion = BusMethod<VersionRequest, ModelVersion>(service, "models.get-version", summary: "One version of a model.")
    public static let deleteVersion = BusMethod<VersionRequest, Empty>(service, "models.delete-version", summary: "Delete a version (its number is never reused; its aliases go with it; its predictions stay).")
    public static let setAlias = BusMethod<SetAliasRequest, ModelAlias>(service, "models.set-alias", summary: "Point an alias (e.g. champion) at a version; stored predictions do not change.")
    public static let deleteAlias = BusMethod<AliasRequest, Empty>(service, "models.delete-alias", summary: "Remove an alias.")
    public static let versionMetrics = BusMethod<VersionRequest, VersionMetrics>(service, "models.metrics", summary: "A version's error per metric over its predictions that have actuals, and its quality gate against the champion.")
    public static let predict = BusMethod<PredictRequest, Prediction>(service, "predict", summary: "Predict a clip's metrics with a model version named by name, name@alias or name@N; announces prediction.created.")
    public static let getPrediction = BusMethod<PredictionRequest, Prediction>(service, "predictions.get", summary: "A prediction.")
    public static let listPredictions = BusMethod<ListPredictionsRequest, PredictionPage>(service, "predictions.list", summary: "Predictions, newest first, optionally of one clip and one model.")
    public static let setActual = BusMethod<SetActualRequest, Prediction>(service, "predictions.set-actual", summary: "Record what a clip's metrics turned out to be (merged per metric).")

    public static let methods: [MethodDescription] = [
        createVersion.description, listModels.description, getModel.description, listVersions.description, getVersion.description,
        deleteVersion.description, setAlias.description, deleteAlias.description, versionMetrics.description, predict.description,
        getPrediction.description, listPredictions.description, setActual.description,
    ]

    // MARK: - Events

    public static let predictionCreated = EventTopic<PredictionEvent>("prediction.created", publishedBy: service)

    public static let events: [EventDescription] = [predictionCreated.description]

    // MARK: - Routes

    static let models = "/api/models"
    static let predictions = "/api/predictions"
    static let nameParameter = HTTPRoute.Parameter.path("name", PredictionSchemas.modelName)
    static let versionParameter = HTTPRoute.Parameter.path("version", PredictionSchemas.version)
    static let aliasParameter = HTTPRoute.Parameter.path("alias", PredictionSchemas.alias)
    static let idParameter = HTTPRoute.Parameter.path("id", IngestContracts.Schemas.resourceID)
    static let listQuery: [HTTPRoute.Parameter] = [.query("limit", IngestContracts.Schemas.limit), .query("cursor", IngestContracts.Schemas.cursor)]
    static let noModel = HTTPRoute.Failure(404, "No such model in the caller's tenant")
    static let noVersion = HTTPRoute.Failure(404, "No such model or version")
    static let noPrediction = HTTPRoute.Failure(404, "No such prediction in the caller's tenant")

    public static let routes: [HTTPRoute] = [
        HTTPRoute(.post, models + "/{name}/versions", calls: createVersion, summary: "Register a model's next version", operationID: "createModelVersion",
                  parameters: [nameParameter], body: VersionBody.self, status: 201),
        HTTPRoute(.get, models, calls: listModels, summary: "List models, newest first", operationID: "listModels",
                  parameters: listQuery, response: .contract(ModelList.self), nextPageField: ModelPage.CodingKeys.nextCursor.stringValue),
        HTTPRoute(.get, models + "/{name}", calls: getModel, summary: "Get a model", operationID: "getModel", parameters: [nameParameter], failures: [noModel]),
        HTTPRoute(.get, models + "/{name}/versions", calls: listVersions, summary: "A model's versions, newest first", operationID: "listModelVersions",
                  parameters: [nameParameter] + listQuery, response: .contract(ModelVersionList.self), failures: [noModel],
                  nextPageField: ModelVersionPage.CodingKeys.nextCursor.stringValue),
        HTTPRoute(.get, models + "/{name}/versions/{version}", calls: getVersion, summary: "Get a model version", operationID: "getModelVersion",
                  parameters: [nameParameter, versionParameter], failures: [noVersion]),
        HTTPRoute(.delete, models + "/{name}/versions/{version}", calls: deleteVersion, summary: "Delete a model version", operationID: "deleteModelVersion",
                  parameters: [nameParameter, versionParameter], status: 204, failures: [noVersion]),
        HTTPRoute(.get, models + "/{name}/versions/{version}/metrics", calls: versionMetrics, summary: "A version's error per metric and its quality gate",
                  operationID: "getModelVersionMetrics", parameters: [nameParameter, versionParameter], failures: [noVersion]),
        HTTPRoute(.put, models + "/{name}/aliases/{alias}", calls: setAlias, summary: "Point an alias at a version", operationID: "setModelAlias",
                  parameters: [nameParameter, aliasParameter], body: AliasBody.self, failures: [noModel]),
        HTTPRoute(.delete, models + "/{name}/aliases/{alias}", calls: deleteAlias, summary: "Remove an alias", operationID: "deleteModelAlias",
                  parameters: [nameParameter, aliasParameter], status: 204, failures: [.init(404, "No such model or alias")]),
        HTTPRoute(.post, predictions, calls: predict, summary: "Predict a clip's metrics", operationID: "createPrediction", body: PredictRequest.self, status: 201,
                  failures: [.init(503, "ingest or the analysis-store is unavailable")]),
        HTTPRoute(.get, predictions, calls: listPredictions, summary: "List predictions, newest first", operationID: "listPredictions",
                  parameters: [.query("clip_id", PredictionSchemas.clipFilter), .query("model", PredictionSchemas.modelFilter)] + listQuery,
                  response: .contract(PredictionList.self), nextPageField: PredictionPage.CodingKeys.nextCursor.stringValue),
        HTTPRoute(.get, predictions + "/{id}", calls: getPrediction, summary: "Get a prediction", operationID: "getPrediction",
                  parameters: [idParameter], failures: [noPrediction]),
        HTTPRoute(.put, predictions + "/{id}/actual", calls: setActual, summary: "Record actual values (merged per metric)", operationID: "setPredictionActual",
                  parameters: [idParameter], body: ActualBody.self, failures: [noPrediction]),
    ]

    // MARK: - Models

    public enum MetricKind: String, Codable, Sendable, CaseIterable {
        case linear, logistic
    }

    /// How a version predicts one metric: `intercept + Σ coefficient·feature`
    /// (linear), or the logistic function of that sum (a rate in [0, 1]).
    public struct MetricModel: Contract, Hashable {
        public var kind: String
        public var intercept: Double
        public var coefficients: [String: Double]

        public init(kind: MetricKind, intercept: Double, coefficients: [String: Double]) {
            self.kind = kind.rawValue
            self.intercept = intercept
            self.coefficients = coefficients
        }

        public enum CodingKeys: String, CodingKey {
            case kind, intercept, coefficients
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(kind, forKey: .kind)
            try container.encode(intercept, forKey: .intercept)
            try container.encodeOrNull(coefficients, forKey: .coefficients)
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.kind, PredictionSchemas.kind),
            .init(CodingKeys.intercept, JSONSchema.number(description: "b0.")),
            .init(CodingKeys.coefficients, PredictionSchemas.coefficients),
        ], description: "linear: b0 + Σ wᵢxᵢ; logistic: 1/(1+e^-(b0 + Σ wᵢxᵢ)). A feature the clip lacks counts as 0.")
    }

    /// A registered model: its newest live version and its aliases.
    public struct Model: Contract, Hashable {
        public var name: String
        public var latestVersion: Int?
        public var aliases: [String: Int]
        public var createdAt: String
        public var updatedAt: String

        public init(name: String, latestVersion: Int?, aliases: [String: Int], createdAt: String, updatedAt: String) {
            self.name = name
            self.latestVersion = latestVersion
            self.aliases = aliases
            self.createdAt = createdAt
            self.updatedAt = updatedAt
        }

        public enum CodingKeys: String, CodingKey {
            case name, aliases
            case latestVersion = "latest_version"
            case createdAt = "created_at"
            case updatedAt = "updated_at"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encodeOrNull(latestVersion, forKey: .latestVersion)
            var aliasObject = container.nestedContainer(keyedBy: NameKey.self, forKey: .aliases)
            for (alias, version) in aliases.sorted(by: { $0.key < $1.key }) { try aliasObject.encode(version, forKey: NameKey(alias)) }
            try container.encode(createdAt, forKey: .createdAt)
            try container.encode(updatedAt, forKey: .updatedAt)
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.name, PredictionSchemas.modelName),
            .init(CodingKeys.latestVersion, PredictionSchemas.version.orNull),
            .init(CodingKeys.aliases, JSONSchema.dictionary(of: PredictionSchemas.version, description: "Each alias and the version it points at.")),
            .init(CodingKeys.createdAt, IngestContracts.Schemas.timestamp),
            .init(CodingKeys.updatedAt, IngestContracts.Schemas.timestamp),
        ], description: "A model: its newest live version (null when every version was deleted) and its aliases.")
    }

    /// One immutable version of a model.
    public struct ModelVersion: Contract, Hashable {
        public var name: String
        public var version: Int
        public var metrics: [String: MetricModel]
        /// The aliases that point at it now.
        public var aliases: [String]
        public var createdAt: String

        public init(name: String, version: Int, metrics: [String: MetricModel], aliases: [String], createdAt: String) {
            self.name = name
            self.version = version
            self.metrics = metrics
            self.aliases = aliases
            self.createdAt = createdAt
        }

        public enum CodingKeys: String, CodingKey {
            case name, version, metrics, aliases
            case createdAt = "created_at"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.name, PredictionSchemas.modelName),
            .init(CodingKeys.version, PredictionSchemas.version),
            .init(CodingKeys.metrics, PredictionSchemas.metrics),
            .init(CodingKeys.aliases, JSONSchema.array(of: PredictionSchemas.alias, description: "The aliases that point at this version now, sorted.")),
            .init(CodingKeys.createdAt, IngestContracts.Schemas.timestamp),
        ], description: "A model version; it never changes.")
    }

    /// The body of `POST /api/models/{name}/versions`.
    public struct VersionBody: Contract {
        public var metrics: [String: MetricModel]

        public enum CodingKeys: String, CodingKey {
            case metrics
        }

        public static let schemaName = "CreateModelVersion"
        public static let schema = JSONSchema.object([.init(CodingKeys.metrics, PredictionSchemas.metrics)])
    }

    public struct CreateVersionRequest: Contract {
        public var name: String
        public var metrics: [String: MetricModel]

        public init(name: String, metrics: [String: MetricModel]) {
            self.name = name
            self.metrics = metrics
        }

        public enum CodingKeys: String, CodingKey {
            case name, metrics
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.name, PredictionSchemas.modelName),
            .init(CodingKeys.metrics, PredictionSchemas.metrics),
        ])
    }

    public struct ModelRequest: Contract {
        public var name: String
        public init(name: String) { self.name = name }

        public enum CodingKeys: String, CodingKey {
            case name
        }

        public static let schema = JSONSchema.object([.init(CodingKeys.name, PredictionSchemas.modelName)])
    }

    public struct VersionRequest: Contract {
        public var name: String
        public var version: Int

        public init(name: String, version: Int) {
            self.name = name
            self.version = version
        }

        public enum CodingKeys: String, CodingKey {
            case name, version
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.name, PredictionSchemas.modelName),
            .init(CodingKeys.version, PredictionSchemas.version),
        ])
    }

    public struct ListModelsRequest: Contract {
        public var limit: Int?
        public var cursor: String?

        public init(limit: Int? = nil, cursor: String? = nil) {
            self.limit = limit
            self.cursor = cursor
        }

        public enum CodingKeys: String, CodingKey {
            case limit, cursor
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.limit, IngestContracts.Schemas.limit.orNull, required: false),
            .init(CodingKeys.cursor, IngestContracts.Schemas.cursor.orNull, required: false),
        ])
    }

    public struct ModelPage: Contract {
        public var models: [Model]
        public var count: Int
        public var nextCursor: String?

        public init(models: [Model], nextCursor: String? = nil) {
            self.models = models
            self.count = models.count
            self.nextCursor = nextCursor
        }

        public enum CodingKeys: String, CodingKey {
            case models, count
            case nextCursor = "next_cursor"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.models, .array(of: .contract(Model.self))),
            .init(CodingKeys.count, IngestContracts.Schemas.count),
            .init(CodingKeys.nextCursor, IngestContracts.Schemas.cursor, required: false),
        ])
    }

    /// `GET /api/models`: exactly `models` and `count`.
    public struct ModelList: Contract {
        public var models: [Model]
        public var count: Int

        public enum CodingKeys: String, CodingKey {
            case models, count
        }

        public static let schema = listSchema(CodingKeys.models, Model.self, "models")
    }

    public struct ListVersionsRequest: Contract {
        public var name: String
        public var limit: Int?
        public var cursor: String?

        public init(name: String, limit: Int? = nil, cursor: String? = nil) {
            self.name = name
            self.limit = limit
            self.cursor = cursor
        }

        public enum CodingKeys: String, CodingKey {
            case name, limit, cursor
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.name, PredictionSchemas.modelName),
            .init(CodingKeys.limit, IngestContracts.Schemas.limit.orNull, required: false),
            .init(CodingKeys.cursor, IngestContracts.Schemas.cursor.orNull, required: false),
        ])
    }

    public struct ModelVersionPage: Contract {
        public var versions: [ModelVersion]
        public var count: Int
        public var nextCursor: String?

        public init(versions: [ModelVersion], nextCursor: String? = nil) {
            self.versions = versions
            self.count = versions.count
            self.nextCursor = nextCursor
        }

        public enum CodingKeys: String, CodingKey {
            case versions, count
            case nextCursor = "next_cursor"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.versions, .array(of: .contract(ModelVersion.self))),
            .init(CodingKeys.count, IngestContracts.Schemas.count),
            .init(CodingKeys.nextCursor, IngestContracts.Schemas.cursor, required: false),
        ])
    }

    /// `GET /api/models/{name}/versions`: exactly `versions` and `count`.
    public struct ModelVersionList: Contract {
        public var versions: [ModelVersion]
        public var count: Int

        public enum CodingKeys: String, CodingKey {
            case versions, count
        }

        public static let schema = listSchema(CodingKeys.versions, ModelVersion.self, "versions")
    }

    // MARK: - Aliases

    public struct ModelAlias: Contract, Hashable {
        public var name: String
        public var alias: String
        public var version: Int
        /// The version it pointed at before this change; null for a new alias.
        public var previousVersion: Int?
        public var updatedAt: String

        public init(name: String, alias: String, version: Int, previousVersion: Int?, updatedAt: String) {
            self.name = name
            self.alias = alias
            self.version = version
            self.previousVersion = previousVersion
            self.updatedAt = updatedAt
        }

        public enum CodingKeys: String, CodingKey {
            case name, alias, version
            case previousVersion = "previous_version"
            case updatedAt = "updated_at"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(alias, forKey: .alias)
            try container.encode(version, forKey: .version)
            try container.encodeOrNull(previousVersion, forKey: .previousVersion)
            try container.encode(updatedAt, forKey: .updatedAt)
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.name, PredictionSchemas.modelName),
            .init(CodingKeys.alias, PredictionSchemas.alias),
            .init(CodingKeys.version, PredictionSchemas.version),
            .init(CodingKeys.previousVersion, PredictionSchemas.version.orNull),
            .init(CodingKeys.updatedAt, IngestContracts.Schemas.timestamp),
        ], description: "An alias and the version it points at.")
    }

    /// The body of `PUT /api/models/{name}/aliases/{alias}`.
    public struct AliasBody: Contract {
        public var version: Int

        public enum CodingKeys: String, CodingKey {
            case version
        }

        public static let schemaName = "SetModelAlias"
        public static let schema = JSONSchema.object([.init(CodingKeys.version, PredictionSchemas.version)])
    }

    public struct SetAliasRequest: Contract {
        public var name: String
        public var alias: String
        public var version: Int

        public init(name: String, alias: String, version: Int) {
            self.name = name
            self.alias = alias
            self.version = version
        }

        public enum CodingKeys: String, CodingKey {
            case name, alias, version
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.name, PredictionSchemas.modelName),
            .init(CodingKeys.alias, PredictionSchemas.alias),
            .init(CodingKeys.version, PredictionSchemas.version),
        ])
    }

    public struct AliasRequest: Contract {
        public var name: String
        public var alias: String

        public init(name: String, alias: String) {
            self.name = name
            self.alias = alias
        }

        public enum CodingKeys: String, CodingKey {
            case name, alias
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.name, PredictionSchemas.modelName),
            .init(CodingKeys.alias, PredictionSchemas.alias),
        ])
    }

    // MARK: - Predictions

    public struct Prediction: Contract, Hashable {
        public var id: String
        public var clipId: String
        /// The model's name.
        public var model: String
        public var version: Int
        /// The alias that resolved the version; null when none did.
        public var alias: String?
        /// The features the prediction was computed from.
        public var features: [String: Double]
        public var predicted: [String: Double]
        /// Actual values recorded so far, per metric; null before the first.
        public var actual: [String: Double]?
        public var createdAt: String

        public init(
            id: String, clipId: String, model: String, version: Int, alias: String?, features: [String: Double],
            predicted: [String: Double], actual: [String: Double]?, createdAt: String
        ) {
            self.id = id
            self.clipId = clipId
            self.model = model
            self.version = version
            self.alias = alias
            self.features = features
            self.predicted = predicted
            self.actual = actual
            self.createdAt = createdAt
        }

        public enum CodingKeys: String, CodingKey {
            case id, model, version, alias, features, predicted, actual
            case clipId = "clip_id"
            case createdAt = "created_at"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(clipId, forKey: .clipId)
            try container.encode(model, forKey: .model)
            try container.encode(version, forKey: .version)
            try container.encodeOrNull(alias, forKey: .alias)
            try container.encodeOrNull(features, forKey: .features)
            try container.encodeOrNull(predicted, forKey: .predicted)
            try container.encodeOrNull(actual, forKey: .actual)
            try container.encode(createdAt, forKey: .createdAt)
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, IngestContracts.Schemas.resourceID),
            .init(CodingKeys.clipId, IngestContracts.Schemas.resourceID),
            .init(CodingKeys.model, PredictionSchemas.modelName),
            .init(CodingKeys.version, PredictionSchemas.version),
            .init(CodingKeys.alias, PredictionSchemas.alias.orNull),
            .init(CodingKeys.features, PredictionSchemas.features),
            .init(CodingKeys.predicted, PredictionSchemas.values),
            .init(CodingKeys.actual, PredictionSchemas.values.orNull),
            .init(CodingKeys.createdAt, IngestContracts.Schemas.timestamp),
        ], description: "A prediction of a clip's metrics by one model version.")
    }

    public struct PredictRequest: Contract {
        public var clipId: String
        /// `name`, `name@alias` or `name@N`.
        public var model: String
        /// Absent (or null): the clip's stored analysis's features.
        public var features: [String: Double]?

        public init(clipId: String, model: String, features: [String: Double]? = nil) {
            self.clipId = clipId
            self.model = model
            self.features = features
        }

        public enum CodingKeys: String, CodingKey {
            case model, features
            case clipId = "clip_id"
        }

        public static let schemaName = "CreatePrediction"
        public static let schema = JSONSchema.object([
            .init(CodingKeys.clipId, IngestContracts.Schemas.resourceID),
            .init(CodingKeys.model, PredictionSchemas.modelReference),
            .init(CodingKeys.features, PredictionSchemas.features.orNull, required: false),
        ])
    }

    public struct PredictionRequest: Contract {
        public var id: String
        public init(id: String) { self.id = id }

        public enum CodingKeys: String, CodingKey {
            case id
        }

        public static let schema = JSONSchema.object([.init(CodingKeys.id, IngestContracts.Schemas.resourceID)])
    }

    public struct ListPredictionsRequest: Contract {
        public var clipId: String?
        /// A model's name.
        public var model: String?
        public var limit: Int?
        public var cursor: String?

        public init(clipId: String? = nil, model: String? = nil, limit: Int? = nil, cursor: String? = nil) {
            self.clipId = clipId
            self.model = model
            self.limit = limit
            self.cursor = cursor
        }

        public enum CodingKeys: String, CodingKey {
            case model, limit, cursor
            case clipId = "clip_id"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.clipId, PredictionSchemas.clipFilter.orNull, required: false),
            .init(CodingKeys.model, PredictionSchemas.modelFilter.orNull, required: false),
            .init(CodingKeys.limit, IngestContracts.Schemas.limit.orNull, required: false),
            .init(CodingKeys.cursor, IngestContracts.Schemas.cursor.orNull, required: false),
        ])
    }

    public struct PredictionPage: Contract {
        public var predictions: [Prediction]
        public var count: Int
        public var nextCursor: String?

        public init(predictions: [Prediction], nextCursor: String? = nil) {
            self.predictions = predictions
            self.count = predictions.count
            self.nextCursor = nextCursor
        }

        public enum CodingKeys: String, CodingKey {
            case predictions, count
            case nextCursor = "next_cursor"
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.predictions, .array(of: .contract(Prediction.self))),
            .init(CodingKeys.count, IngestContracts.Schemas.count),
            .init(CodingKeys.nextCursor, IngestContracts.Schemas.cursor, required: false),
        ])
    }

    /// `GET /api/predictions`: exactly `predictions` and `count`.
    public struct PredictionList: Contract {
        public var predictions: [Prediction]
        public var count: Int

        public enum CodingKeys: String, CodingKey {
            case predictions, count
        }

        public static let schema = listSchema(CodingKeys.predictions, Prediction.self, "predictions")
    }

    /// The body of `PUT /api/predictions/{id}/actual`: metric names to actual values.
    public struct ActualBody: Contract {
        public var values: [String: Double]

        public init(from decoder: any Decoder) throws {
            values = try [String: Double](from: decoder)
        }

        public func encode(to encoder: any Encoder) throws {
            try values.encode(to: encoder)
        }

        public static let schemaName = "PredictionActual"
        public static let schema = JSONSchema.dictionary(
            of: JSONSchema(.number),
            description: "Metric names (of the prediction's model version) to what they turned out to be; a rate metric's value is from 0 to 1. At least one. Metrics not named keep their actual values."
        )
    }

    /// `id` (the route's) beside the metrics of ``ActualBody``.
    public struct SetActualRequest: Contract {
        public var id: String
        public var values: [String: Double]

        public init(id: String, values: [String: Double]) {
            self.id = id
            self.values = values
        }

        public enum CodingKeys: String, CodingKey {
            case id
        }

        /// Flat: every key but `id` is a metric (so no metric may be named `id`).
        public init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: NameKey.self)
            var id: String?
            var values: [String: Double] = [:]
            for key in container.allKeys {
                if key.stringValue == CodingKeys.id.stringValue {
                    id = try container.decode(String.self, forKey: key)
                } else {
                    values[key.stringValue] = try container.decode(Double.self, forKey: key)
                }
            }
            guard let id else {
                throw DecodingError.keyNotFound(CodingKeys.id, .init(codingPath: [], debugDescription: "id is required"))
            }
            self.id = id
            self.values = values
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: NameKey.self)
            try container.encode(id, forKey: NameKey(CodingKeys.id.stringValue))
            for (name, value) in values.sorted(by: { $0.key < $1.key }) { try container.encode(value, forKey: NameKey(name)) }
        }

        public static let schema = JSONSchema.object(
            [.init(CodingKeys.id, IngestContracts.Schemas.resourceID)],
            description: "The prediction's `id` and, beside it, metric names to their actual values (numbers)."
        )
    }

    /// Payload of `prediction.created`.
    public struct PredictionEvent: Contract, Hashable {
        public var id: String
        public var clipId: String
        public var model: String
        public var version: Int
        public var alias: String?

        public init(id: String, clipId: String, model: String, version: Int, alias: String?) {
            self.id = id
            self.clipId = clipId
            self.model = model
            self.version = version
            self.alias = alias
        }

        public enum CodingKeys: String, CodingKey {
            case id, model, version, alias
            case clipId = "clip_id"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(clipId, forKey: .clipId)
            try container.encode(model, forKey: .model)
            try container.encode(version, forKey: .version)
            try container.encodeOrNull(alias, forKey: .alias)
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.id, IngestContracts.Schemas.resourceID),
            .init(CodingKeys.clipId, IngestContracts.Schemas.resourceID),
            .init(CodingKeys.model, PredictionSchemas.modelName),
            .init(CodingKeys.version, PredictionSchemas.version),
            .init(CodingKeys.alias, PredictionSchemas.alias.orNull),
        ])
    }

    // MARK: - Error per version

    /// A version's error on one metric, over its predictions that have that actual.
    public struct MetricErrors: Contract, Hashable {
        public var kind: String
        public var n: Int
        public var mae: Double?
        public var rmse: Double?
        public var mape: Double?
        public var mapeExcluded: Int
        public var meanError: Double?
        public var r2: Double?
        public var maxAbsError: Double?
        /// Rate (logistic) metrics only.
        public var brier: Double?
        public var ece: Double?

        public init(
            kind: MetricKind, n: Int, mae: Double?, rmse: Double?, mape: Double?, mapeExcluded: Int, meanError: Double?, r2: Double?,
            maxAbsError: Double?, brier: Double?, ece: Double?
        ) {
            self.kind = kind.rawValue
            self.n = n
            self.mae = mae
            self.rmse = rmse
            self.mape = mape
            self.mapeExcluded = mapeExcluded
            self.meanError = meanError
            self.r2 = r2
            self.maxAbsError = maxAbsError
            self.brier = brier
            self.ece = ece
        }

        public enum CodingKeys: String, CodingKey {
            case kind, n, mae, rmse, mape, r2, brier, ece
            case mapeExcluded = "mape_excluded"
            case meanError = "mean_error"
            case maxAbsError = "max_abs_error"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(kind, forKey: .kind)
            try container.encode(n, forKey: .n)
            try container.encodeOrNull(mae, forKey: .mae)
            try container.encodeOrNull(rmse, forKey: .rmse)
            try container.encodeOrNull(mape, forKey: .mape)
            try container.encode(mapeExcluded, forKey: .mapeExcluded)
            try container.encodeOrNull(meanError, forKey: .meanError)
            try container.encodeOrNull(r2, forKey: .r2)
            try container.encodeOrNull(maxAbsError, forKey: .maxAbsError)
            if kind == MetricKind.logistic.rawValue {
                try container.encodeOrNull(brier, forKey: .brier)
                try container.encodeOrNull(ece, forKey: .ece)
            }
        }

        static let nullableNumber = JSONSchema(.number).orNull

        public static let schema = JSONSchema.object([
            .init(CodingKeys.kind, PredictionSchemas.kind),
            .init(CodingKeys.n, JSONSchema.integer(minimum: 0, description: "Predictions with an actual value of this metric.")),
            .init(CodingKeys.mae, nullableNumber),
            .init(CodingKeys.rmse, nullableNumber),
            .init(CodingKeys.mape, JSONSchema.number(minimum: 0, description: "mean(|actual − predicted| / |actual|) over non-zero actuals, as a fraction; null when there are none.").orNull),
            .init(CodingKeys.mapeExcluded, JSONSchema.integer(minimum: 0, description: "Actuals of zero, left out of mape.")),
            .init(CodingKeys.meanError, JSONSchema.number(description: "mean(predicted − actual).").orNull),
            .init(CodingKeys.r2, JSONSchema.number(description: "1 − SSres/SStot; null when every actual is the same (SStot = 0).").orNull),
            .init(CodingKeys.maxAbsError, nullableNumber),
            .init(CodingKeys.brier, JSONSchema.number(minimum: 0, description: "Logistic metrics only: mean((predicted − actual)²).").orNull, required: false),
            .init(CodingKeys.ece, JSONSchema.number(minimum: 0, description: "Logistic metrics only: Σ (n_b/n)·|mean predicted_b − mean actual_b| over 10 equal-width bins of the predicted value.").orNull, required: false),
        ], description: "Errors over the predictions that have an actual value; null where undefined (n = 0).")
    }

    /// Evidently's default rule: a version passes when its MAE is within ±10% of the champion's.
    public struct GateMetric: Contract, Hashable {
        public var mae: Double?
        public var championMae: Double?
        public var passed: Bool?

        public init(mae: Double?, championMae: Double?, passed: Bool?) {
            self.mae = mae
            self.championMae = championMae
            self.passed = passed
        }

        public enum CodingKeys: String, CodingKey {
            case mae, passed
            case championMae = "champion_mae"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encodeOrNull(mae, forKey: .mae)
            try container.encodeOrNull(championMae, forKey: .championMae)
            if let passed { try container.encode(passed, forKey: .passed) } else { try container.encodeNil(forKey: .passed) }
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.mae, JSONSchema(.number).orNull),
            .init(CodingKeys.championMae, JSONSchema(.number).orNull),
            .init(CodingKeys.passed, JSONSchema(.boolean, description: "|mae − champion_mae| ≤ 0.1·champion_mae; null when either is undefined.").orNull),
        ])
    }

    public struct QualityGate: Contract, Hashable {
        public var rule: String
        /// The version `champion` points at; null when the model has none.
        public var championVersion: Int?
        /// Every compared metric passed; null when no metric could be compared.
        public var passed: Bool?
        /// The metrics both this version and the champion predict.
        public var metrics: [String: GateMetric]

        public init(rule: String, championVersion: Int?, passed: Bool?, metrics: [String: GateMetric]) {
            self.rule = rule
            self.championVersion = championVersion
            self.passed = passed
            self.metrics = metrics
        }

        public enum CodingKeys: String, CodingKey {
            case rule, passed, metrics
            case championVersion = "champion_version"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(rule, forKey: .rule)
            try container.encodeOrNull(championVersion, forKey: .championVersion)
            if let passed { try container.encode(passed, forKey: .passed) } else { try container.encodeNil(forKey: .passed) }
            var object = container.nestedContainer(keyedBy: NameKey.self, forKey: .metrics)
            for (name, gate) in metrics.sorted(by: { $0.key < $1.key }) { try object.encode(gate, forKey: NameKey(name)) }
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.rule, JSONSchema.string(example: "mae within ±10% of the champion's")),
            .init(CodingKeys.championVersion, PredictionSchemas.version.orNull),
            .init(CodingKeys.passed, JSONSchema(.boolean, description: "Every metric compared passed; null when none could be compared (no champion, or no actuals on either side).").orNull),
            .init(CodingKeys.metrics, JSONSchema.dictionary(of: .contract(GateMetric.self), description: "Per metric that this version and the champion both predict.")),
        ], description: "Whether this version is within ±10% of the champion's MAE (Evidently's default rule).")
    }

    public struct VersionMetrics: Contract, Hashable {
        public var name: String
        public var version: Int
        public var metrics: [String: MetricErrors]
        public var qualityGate: QualityGate

        public init(name: String, version: Int, metrics: [String: MetricErrors], qualityGate: QualityGate) {
            self.name = name
            self.version = version
            self.metrics = metrics
            self.qualityGate = qualityGate
        }

        public enum CodingKeys: String, CodingKey {
            case name, version, metrics
            case qualityGate = "quality_gate"
        }

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(name, forKey: .name)
            try container.encode(version, forKey: .version)
            var object = container.nestedContainer(keyedBy: NameKey.self, forKey: .metrics)
            for (name, errors) in metrics.sorted(by: { $0.key < $1.key }) { try object.encode(errors, forKey: NameKey(name)) }
            try container.encode(qualityGate, forKey: .qualityGate)
        }

        public static let schema = JSONSchema.object([
            .init(CodingKeys.name, PredictionSchemas.modelName),
            .init(CodingKeys.version, PredictionSchemas.version),
            .init(CodingKeys.metrics, JSONSchema.dictionary(of: .contract(MetricErrors.self), description: "Per metric of the version.")),
            .init(CodingKeys.qualityGate, .contract(QualityGate.self)),
        ])
    }

    /// A list answer's schema: exactly the items and `count`.
    static func listSchema<Item: Contract>(_ key: some CodingKey, _ item: Item.Type, _ what: String) -> JSONSchema {
        var schema = JSONSchema.object([
            .init(key, .array(of: .contract(Item.self))),
            .init(ModelList.CodingKeys.count, IngestContracts.Schemas.count),
        ], description: "A page of \(what), newest first; when more follow, the Link header (rel=\"next\") holds the next page's URL.")
        schema.additionalProperties = false
        return schema
    }

    // MARK: - Field schemas

    public enum PredictionSchemas {
        public static let modelName = JSONSchema.string(
            minLength: 1, maxLength: PredictionLimits.maxNameLength, patterns: ["^[A-Za-z0-9][A-Za-z0-9_-]*$"], example: "engagement",
            description: "1 to 100 ASCII letters, digits, '_' or '-', starting with a letter or digit; unique in the tenant."
        )
        public static let alias = JSONSchema.string(
            minLength: 1, maxLength: PredictionLimits.maxNameLength, patterns: ["^[A-Za-z][A-Za-z0-9_-]*$"], example: "champion",
            description: "1 to 100 ASCII letters, digits, '_' or '-', starting with a letter (so `name@3` is always a version)."
        )
        public static let version = JSONSchema.integer(minimum: 1, description: "1 for a model's first version, one more for each next.")
        public static let modelReference = JSONSchema.string(
            minLength: 1, maxLength: 2 * PredictionLimits.maxNameLength + 1, patterns: ["^[A-Za-z0-9][A-Za-z0-9_-]*(@([A-Za-z][A-Za-z0-9_-]*|[1-9][0-9]*))?$"],
            example: "engagement@champion",
            description: "`name` (its champion if it has one, else its latest version), `name@alias` or `name@N`."
        )
        public static let kind = JSONSchema.string(patterns: ["^(linear|logistic)$"], example: "logistic", description: "linear, or logistic (a rate metric: predictions in [0, 1]).")
        public static let metricName = "^[A-Za-z][A-Za-z0-9_]*$"
        public static let metrics = JSONSchema.dictionary(
            of: .contract(MetricModel.self),
            description: "1 to 64 metrics: names (1 to 64 ASCII letters, digits or '_', starting with a letter; not `id`) to their models."
        )
        public static let coefficients = JSONSchema.dictionary(
            of: JSONSchema(.number), description: "Feature names (at most 200 characters) to weights; at most 256."
        )
        public static let features = JSONSchema.dictionary(
            of: JSONSchema(.number), description: "Feature names (at most 200 characters) to numbers; at most 256."
        )
        public static let values = JSONSchema.dictionary(of: JSONSchema(.number), description: "Metric names to numbers.")
        public static let clipFilter = JSONSchema.string(example: "cmwqtdjauhoy2z9zj6dk2mdog", description: "Only this clip's predictions (an unknown clip matches nothing).")
        public static let modelFilter = JSONSchema.string(example: "engagement", description: "Only this model's predictions, by name (an unknown name matches nothing).")
    }
}

/// Bounds on models and predictions.
public enum PredictionLimits {
    public static let maxNameLength = 100
    public static let maxMetrics = 64
    public static let maxMetricNameLength = 64
    public static let maxFeatures = 256
    public static let maxFeatureNameLength = 200
}
