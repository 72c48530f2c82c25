//! The OpenAPI document's component schemas: the entity shapes of the declarative file
//! (version 1) and the API's own envelopes (pages, tokens, nodes, problems).

use serde_json::{Value, json};

use super::openapi::schema_ref;

/// Every component schema by name.
pub fn schemas() -> Value {
    let object = json!({ "type": "object" });
    let string = json!({ "type": "string" });
    let strings = json!({ "type": "array", "items": { "type": "string" } });
    json!({
        "Problem": {
            "type": "object",
            "properties": {
                "type": string, "title": string, "status": { "type": "integer" },
                "detail": string,
                "errors": { "type": "array", "items": schema_ref("FieldError") },
            },
        },
        "FieldError": {
            "type": "object",
            "required": ["path", "message"],
            "properties": {
                "path": {
                    "type": "string",
                    "description": "JSON Pointer into the request body; for a document that \
                                    does not import, the path in the document \
                                    (`channels.orders.bindings.kafka`)",
                },
                "message": string,
                "config_path": { "type": "string", "description": "Where in the whole config" },
                "line": {
                    "type": "integer",
                    "description": "The line in an imported document, where known",
                },
            },
        },
        "Import": {
            "type": "object",
            "required": ["format", "tenant", "upstream", "document"],
            "properties": {
                "format": { "enum": ["asyncapi"] },
                "tenant": { "type": "string", "description": "Created when missing" },
                "upstream": {
                    "type": "string",
                    "description": "Base URL of the upstream; each route's upstream is this \
                                    followed by its channel's address",
                },
                "document": {
                    "type": "string",
                    "description": "The document's text: AsyncAPI 2.6 or 3.0, YAML or JSON",
                },
            },
        },
        "ImportOutcome": import_outcome(),
        "AsyncApiDocument": {
            "type": "object",
            "description": "An AsyncAPI 3.0.0 document (https://www.asyncapi.com/docs/reference/specification/v3.0.0)",
            "required": ["asyncapi"],
        },
        "Tenant": {
            "type": "object",
            "description": "A tenant of the declarative file without routes, schemas and keys",
            "properties": {
                "hosts": strings, "path_prefix": string, "tls": object, "auth": object,
                "cors": object, "limits": object,
            },
        },
        "NewTenant": with_name("Tenant"),
        "Host": { "type": "object", "required": ["host"], "properties": { "host": string } },
        "Jwk": {
            "type": "object",
            "required": ["kid", "kty", "alg"],
            "properties": { "kid": string, "kty": string, "alg": string },
        },
        "SchemaSummary": {
            "type": "object",
            "properties": { "name": string, "latest": { "type": "integer" } },
        },
        "SchemaVersion": {
            "type": "object",
            "properties": { "version": { "type": "integer" }, "schema": {} },
        },
        "NewSchemaVersion": {
            "type": "object",
            "required": ["schema"],
            "properties": {
                "schema": { "description": "A JSON Schema" },
                "version": {
                    "type": "integer",
                    "description": "The number expected; 409 if another took it",
                },
            },
        },
        "Route": {
            "type": "object",
            "description": "A route of the declarative file",
            "required": ["path", "upstream"],
            "properties": {
                "path": string, "public": { "type": "boolean" }, "scopes": strings,
                "upstream": object, "events": object, "on_invalid": string,
            },
        },
        "NewRoute": with_name("Route"),
        "NewToken": {
            "type": "object",
            "required": ["kind", "name"],
            "properties": {
                "kind": { "enum": ["admin", "node"] }, "name": string,
                "tenant": { "type": ["string", "null"] },
            },
        },
        "Token": {
            "type": "object",
            "properties": {
                "name": string, "kind": { "enum": ["admin", "node"] },
                "tenant": { "type": ["string", "null"] }, "created_at": string,
                "token": { "type": "string", "description": "Only in the creating answer" },
            },
        },
        "Node": {
            "type": "object",
            "properties": {
                "id": string, "labels": object, "version": string,
                "connected": { "type": "boolean" }, "first_seen": string, "last_seen": string,
                "applied_revision": { "type": "integer" }, "behind": { "type": "integer" },
                "refusing": { "type": "boolean" }, "in_sync": { "type": "boolean" },
                "last_nack": { "type": ["object", "null"] }, "active_streams": object,
            },
        },
        "Revision": {
            "type": "object",
            "properties": {
                "number": { "type": "integer" }, "at": string, "actor": string,
                "tenant": { "type": ["string", "null"] }, "summary": string,
            },
        },
        "Snapshot": {
            "type": "object",
            "properties": { "revision": { "type": "integer" }, "config": object },
        },
        "TenantPage": page(json!({
            "type": "object",
            "properties": {
                "name": string, "version": { "type": "integer" }, "tenant": schema_ref("Tenant"),
            },
        })),
        "RoutePage": page(json!({
            "type": "object",
            "properties": {
                "name": string, "version": { "type": "integer" }, "route": schema_ref("Route"),
            },
        })),
        "HostPage": page(schema_ref("Host")),
        "JwkPage": page(schema_ref("Jwk")),
        "SchemaPage": page(schema_ref("SchemaSummary")),
        "SchemaVersionPage": page(schema_ref("SchemaVersion")),
        "TokenPage": page(schema_ref("Token")),
        "NodePage": {
            "allOf": [
                page(schema_ref("Node")),
                { "type": "object", "properties": { "current_revision": { "type": "integer" } } },
            ],
        },
        "RevisionPage": page(schema_ref("Revision")),
    })
}

/// What an import changes (or, in a dry run, would change).
fn import_outcome() -> Value {
    let string = json!({ "type": "string" });
    let entity = json!({
        "type": "object",
        "properties": {
            "kind": { "enum": ["tenant", "schema_version", "route"] }, "name": string,
            "version": { "type": "integer" },
        },
    });
    let entities = json!({ "type": "array", "items": entity });
    let schema = json!({
        "type": "object",
        "properties": { "name": string, "version": { "type": "integer" }, "schema": {} },
    });
    let route = json!({
        "type": "object",
        "properties": { "name": string, "route": schema_ref("Route") },
    });
    json!({
        "type": "object",
        "properties": {
            "tenant": string,
            "dry_run": { "type": "boolean" },
            "revision": { "type": "integer", "description": "The revision in force after it" },
            "creates": entities, "updates": entities,
            "schemas": {
                "type": "array", "items": schema,
                "description": "Every schema version the routes' events name",
            },
            "routes": { "type": "array", "items": route },
            "warnings": { "type": "array", "items": string },
            "errors": {
                "type": "array", "items": schema_ref("FieldError"),
                "description": "In a dry run, why the import would be refused; else empty",
            },
        },
    })
}

fn page(item: Value) -> Value {
    json!({
        "type": "object",
        "properties": {
            "items": { "type": "array", "items": item },
            "next_cursor": { "type": ["string", "null"] },
        },
    })
}

fn with_name(base: &str) -> Value {
    json!({
        "allOf": [
            schema_ref(base),
            {
                "type": "object",
                "required": ["name"],
                "properties": { "name": { "type": "string" } },
            },
        ],
    })
}
