/// The gateway's description of itself: an OpenAPI 3.1 document (rendered
/// and made interactive at /docs by `DocsPage`).
enum GatewayDocuments {
    static let openAPI = #"""
    {
      "openapi": "3.1.0",
      "info": {
        "title": "videobus gateway",
        "version": "0.1.0",
        "description": "REST over the videobus message bus. Video analyses as the Memory Mirror API served them; every route is one call to the analysis-store service. Errors are JSON: {\"detail\": message, \"code\": bus error code}."
      },
      "paths": {
        "/api/video-analysis/": {
          "post": {
            "summary": "Create an analysis",
            "operationId": "createAnalysis",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/CreateAnalysis"}}}},
            "responses": {
              "201": {"description": "Created", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Analysis"}}}},
              "400": {"$ref": "#/components/responses/BadRequest"},
              "409": {"$ref": "#/components/responses/Conflict"},
              "413": {"$ref": "#/components/responses/TooLarge"},
              "422": {"$ref": "#/components/responses/Invalid"},
              "429": {"$ref": "#/components/responses/Overloaded"},
              "503": {"$ref": "#/components/responses/Unavailable"},
              "504": {"$ref": "#/components/responses/Timeout"}
            }
          },
          "get": {
            "summary": "List analyses, newest first",
            "operationId": "listAnalyses",
            "parameters": [
              {"name": "limit", "in": "query", "required": false, "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
              {"name": "cursor", "in": "query", "required": false, "description": "next_cursor of the previous page", "schema": {"type": "string"}}
            ],
            "responses": {
              "200": {"description": "A page of analyses", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AnalysisList"}}}},
              "422": {"$ref": "#/components/responses/Invalid"},
              "503": {"$ref": "#/components/responses/Unavailable"},
              "504": {"$ref": "#/components/responses/Timeout"}
            }
          }
        },
        "/api/video-analysis/{video_id}": {
          "parameters": [{"name": "video_id", "in": "path", "required": true, "schema": {"type": "string", "minLength": 1, "maxLength": 255}}],
          "get": {
            "summary": "Get the analysis of a video",
            "operationId": "getAnalysis",
            "responses": {
              "200": {"description": "The analysis", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Analysis"}}}},
              "404": {"$ref": "#/components/responses/NotFound"},
              "422": {"$ref": "#/components/responses/Invalid"},
              "503": {"$ref": "#/components/responses/Unavailable"},
              "504": {"$ref": "#/components/responses/Timeout"}
            }
          },
          "put": {
            "summary": "Replace the description of a video's analysis",
            "operationId": "updateAnalysis",
            "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/UpdateAnalysis"}}}},
            "responses": {
              "200": {"description": "The updated analysis", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Analysis"}}}},
              "400": {"$ref": "#/components/responses/BadRequest"},
              "404": {"$ref": "#/components/responses/NotFound"},
              "413": {"$ref": "#/components/responses/TooLarge"},
              "422": {"$ref": "#/components/responses/Invalid"},
              "503": {"$ref": "#/components/responses/Unavailable"},
              "504": {"$ref": "#/components/responses/Timeout"}
            }
          },
          "delete": {
            "summary": "Delete the analysis of a video",
            "operationId": "deleteAnalysis",
            "responses": {
              "204": {"description": "Deleted"},
              "404": {"$ref": "#/components/responses/NotFound"},
              "503": {"$ref": "#/components/responses/Unavailable"},
              "504": {"$ref": "#/components/responses/Timeout"}
            }
          }
        },
        "/healthz": {"get": {"summary": "The process is up", "operationId": "health", "responses": {"200": {"description": "Up", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}}}}},
        "/readyz": {"get": {"summary": "A registry answers and every service the gateway needs has a serving instance", "operationId": "ready", "responses": {"200": {"description": "Ready", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Status"}}}}, "503": {"$ref": "#/components/responses/Unavailable"}}}},
        "/metrics": {"get": {"summary": "Prometheus metrics: requests per route, status and latency", "operationId": "metrics", "responses": {"200": {"description": "Prometheus text format", "content": {"text/plain": {"schema": {"type": "string"}}}}}}},
        "/openapi.json": {"get": {"summary": "This document", "operationId": "openapi", "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {"schema": {"type": "object"}}}}}}},
        "/docs": {"get": {"summary": "This document, rendered", "operationId": "docs", "responses": {"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}}}}
      },
      "components": {
        "schemas": {
          "Analysis": {
            "type": "object",
            "required": ["id", "video_id", "description", "created_at", "updated_at"],
            "properties": {
              "id": {"type": "string", "description": "cuid-style id", "examples": ["cmln3abm30000a6gzn6gy8ieb"]},
              "video_id": {"type": "string"},
              "description": {"type": "string"},
              "created_at": {"type": "string", "format": "date-time", "description": "ISO 8601, UTC, milliseconds"},
              "updated_at": {"type": "string", "format": "date-time"}
            }
          },
          "CreateAnalysis": {
            "type": "object",
            "required": ["video_id", "description"],
            "properties": {"video_id": {"type": "string", "minLength": 1, "maxLength": 255}, "description": {"type": "string", "description": "at most 1 MiB"}}
          },
          "UpdateAnalysis": {
            "type": "object",
            "required": ["description"],
            "properties": {"description": {"type": "string"}}
          },
          "AnalysisList": {
            "type": "object",
            "required": ["analyses", "count"],
            "properties": {
              "analyses": {"type": "array", "items": {"$ref": "#/components/schemas/Analysis"}},
              "count": {"type": "integer"},
              "next_cursor": {"type": "string", "description": "present when more analyses follow"}
            }
          },
          "Status": {"type": "object", "required": ["status"], "properties": {"status": {"type": "string"}}},
          "Error": {
            "type": "object",
            "required": ["detail", "code"],
            "properties": {
              "detail": {"type": "string", "description": "what went wrong, for a person"},
              "code": {"type": "string", "description": "the bus error code: invalid-argument, not-found, conflict, limit-exceeded, overloaded, unavailable, deadline-exceeded, …"}
            }
          }
        },
        "responses": {
          "BadRequest": {"description": "The body is not JSON", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "Invalid": {"description": "A field is missing, of the wrong type or out of range", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "NotFound": {"description": "No analysis for this video", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "Conflict": {"description": "An analysis for this video already exists", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "TooLarge": {"description": "The body exceeds 10 MiB", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "Overloaded": {"description": "The service is overloaded; retry later", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "Unavailable": {"description": "The service or the registry is unavailable; retry later", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
          "Timeout": {"description": "The service did not answer in time", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
        }
      }
    }
    """#
}
