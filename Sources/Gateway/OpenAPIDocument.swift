import Contracts
import Foundation

/// The gateway's `/openapi.json` (OpenAPI 3.1), rendered from the routes the
/// gateway serves and the schemas of their contracts: what it says is what
/// the router does.
enum OpenAPIDocument {
    /// Answers every route can give besides its own, by status.
    static let shared: [(status: Int, name: String, description: String)] = [
        (400, "BadRequest", "The body is not JSON, or the request is not valid HTTP/1.1 (a malformed chunk, say)"),
        (413, "TooLarge", "The body exceeds the gateway's limit (10 MiB by default)"),
        (401, "Unauthorized", "No API key (and the gateway serves no anonymous tenant), or the key is unknown, revoked or malformed"),
        (422, "Invalid", "A parameter or field is missing, of the wrong type or out of range, or a key appears twice in one object; the detail names it"),
        (429, "Overloaded", "The key's rate limit is used up, or the service is overloaded; retry after Retry-After seconds"),
        (503, "Unavailable", "The service or the registry is unavailable, or the gateway is at its limit of open connections or of request bodies being read at once; retry after Retry-After seconds"),
        (504, "Timeout", "The service did not answer in time"),
    ]

    /// `anonymous`: requests without a key are served (as a tenant's anonymous user).
    static func json(routes: [HTTPRoute], version: String, anonymous: Bool = false) -> Data {
        var components: [String: JSONSchema] = [:]
        var paths: [String: [String: Any]] = [:]
        // Either header form; with anonymous access, none at all.
        let security: [[String: [String]]] = [["bearer": []], ["apiKey": []]] + (anonymous ? [[:]] : [])
        for route in routes {
            var operation = operation(route, components: &components)
            operation["security"] = security
            paths[route.path, default: [:]][route.verb.rawValue] = operation
        }
        for (path, item) in operationalPaths { paths[path] = item }
        var schemas: [String: Any] = [:]
        // Rendering a schema may name more: render until nothing new appears.
        var rendered: Set<String> = []
        while let name = components.keys.sorted().first(where: { !rendered.contains($0) }) {
            rendered.insert(name)
            schemas[name] = components[name]!.jsonObject(refPrefix: "#/components/schemas/", components: &components)
        }
        schemas["Error"] = errorSchema
        schemas["Status"] = ["type": "object", "required": ["status"], "properties": ["status": ["type": "string"]]]
        var responses: [String: Any] = [:]
        for answer in shared { responses[answer.name] = errorResponse(answer.description) }
        let document: [String: Any] = [
            "openapi": "3.1.0",
            "info": [
                "title": "videobus gateway",
                "version": version,
                "description": "REST over the videobus message bus: each route is one call to a service. Errors are JSON: {\"detail\": message, \"code\": bus error code}; an unexpected failure is 500 {\"detail\": \"internal error (request id …)\", \"code\": \"internal\"}. A connection whose request head or body stalls past the gateway's timeouts is closed. Lists answer {\"<plural>\": [...], \"count\": n} and, when more follow, a Link header (rel=\"next\") with the next page's URL.",
            ],
            "paths": paths,
            "components": ["schemas": schemas, "responses": responses, "securitySchemes": securitySchemes],
        ]
        return try! JSONSerialization.data(withJSONObject: document, options: [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted])
    }

    static func operation(_ route: HTTPRoute, components: inout [String: JSONSchema]) -> [String: Any] {
        var operation: [String: Any] = ["summary": route.summary, "operationId": route.operationID, "tags": [route.service]]
        var parameters: [[String: Any]] = route.parameters.map { parameter in
            ["name": parameter.name, "in": parameter.location.rawValue, "required": parameter.required,
             "schema": parameter.schema.jsonObject(refPrefix: "#/components/schemas/", components: &components)]
        }
        if route.acceptsIdempotencyKey {
            parameters.append([
                "name": "Idempotency-Key", "in": "header", "required": false,
                "description": "Repeating the request with the same key and body within 24 h answers as the first time and changes nothing; the same key with another body is 422.",
                "schema": ["type": "string", "minLength": 1, "maxLength": 255, "pattern": "^[!-~]+$"],
            ])
        }
        if !parameters.isEmpty { operation["parameters"] = parameters }
        if let body = route.body {
            operation["requestBody"] = ["required": !route.bodyMayBeEmpty, "content": ["application/json": ["schema": body.jsonObject(refPrefix: "#/components/schemas/", components: &components)]]]
        }
        var responses: [String: Any] = [:]
        var success: [String: Any] = ["description": route.status == 201 ? "Created" : route.status == 204 ? "Done" : "OK"]
        if let response = route.response {
            success["content"] = ["application/json": ["schema": response.jsonObject(refPrefix: "#/components/schemas/", components: &components)]]
        }
        if route.nextPageField != nil {
            success["headers"] = ["Link": ["description": "When more follow: <the same path and filters with the next cursor>; rel=\"next\" (RFC 8288)", "schema": ["type": "string"]]]
        }
        responses[String(route.status)] = success
        if route.createdField != nil {
            success["description"] = "Created"
            responses["201"] = success
        }
        for failure in route.failures { responses[String(failure.status)] = errorResponse(failure.description) }
        for answer in shared where route.body != nil || (answer.status != 400 && answer.status != 413) {
            responses[String(answer.status)] = ["$ref": "#/components/responses/\(answer.name)"]
        }
        operation["responses"] = responses
        return operation
    }

    static var securitySchemes: [String: Any] { [
        "bearer": ["type": "http", "scheme": "bearer", "description": "An API key: Authorization: Bearer <key>"],
        "apiKey": ["type": "apiKey", "in": "header", "name": "X-API-Key", "description": "The same API key in its own header"],
    ] }

    static func errorResponse(_ description: String) -> [String: Any] {
        ["description": description, "content": ["application/json": ["schema": ["$ref": "#/components/schemas/Error"]]]]
    }

    static var errorSchema: [String: Any] { [
        "type": "object",
        "required": ["detail", "code"],
        "properties": [
            "detail": ["type": "string", "description": "What went wrong, for a person"],
            "code": ["type": "string", "description": "The bus error code: invalid-argument, not-found, conflict, limit-exceeded, overloaded, unavailable, deadline-exceeded, …"],
        ],
    ] }

    static func json(_ status: String, _ description: String, schema: Any, type: String = "application/json") -> [String: Any] {
        [status: ["description": description, "content": [type: ["schema": schema]]]]
    }

    /// The gateway's own routes.
    static var operationalPaths: [String: [String: Any]] { [
        "/healthz": ["get": ["summary": "The process is up", "operationId": "health", "tags": ["operations"],
                             "responses": json("200", "Up", schema: ["$ref": "#/components/schemas/Status"])]],
        "/readyz": ["get": ["summary": "A registry answers and every service the gateway needs has a serving instance", "operationId": "ready", "tags": ["operations"],
                            "responses": json("200", "Ready", schema: ["$ref": "#/components/schemas/Status"]).merging(["503": ["$ref": "#/components/responses/Unavailable"]]) { a, _ in a }]],
        "/metrics": ["get": ["summary": "Prometheus metrics: requests per route, status and latency", "operationId": "metrics", "tags": ["operations"],
                             "responses": json("200", "Prometheus text format", schema: ["type": "string"], type: "text/plain")]],
        "/openapi.json": ["get": ["summary": "This document", "operationId": "openapi", "tags": ["operations"],
                                  "responses": json("200", "OpenAPI 3.1", schema: ["type": "object"])]],
        "/docs": ["get": ["summary": "This document, rendered, with a form to try each route", "operationId": "docs", "tags": ["operations"],
                          "responses": json("200", "HTML", schema: ["type": "string"], type: "text/html")]],
    ] }
}
