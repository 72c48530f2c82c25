//! The OpenAPI 3.1 document, built from the route table so it lists exactly what is served.
//! Entity schemas describe the declarative shapes loosely: the node's validation, which every
//! write runs, is the precise reference, and its errors name the failing field.

use std::sync::OnceLock;

use axum::Json;
use serde_json::{Map, Value, json};

use super::Endpoint;

/// `GET /api/v1/openapi.json`.
pub async fn serve() -> Json<Value> {
    static DOCUMENT: OnceLock<Value> = OnceLock::new();
    Json(DOCUMENT.get_or_init(super::openapi_document).clone())
}

/// The document for `endpoints`.
pub fn document(endpoints: &[Endpoint]) -> Value {
    let mut paths = Map::new();
    for endpoint in endpoints {
        let item = paths
            .entry(endpoint.path)
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(item) = item {
            let method = endpoint.method.as_str().to_ascii_lowercase();
            item.insert(method, operation(endpoint));
        }
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Sluice control plane",
            "version": "1",
            "description": "Tenants, hosts, keys, schemas, routes, tokens, the fleet and the \
                            revision log. Errors are problem details (RFC 9457).",
        },
        "paths": paths,
        "components": {
            "securitySchemes": { "admin": { "type": "http", "scheme": "bearer" } },
            "responses": problem_responses(),
            "schemas": super::openapi_schemas::schemas(),
        },
    })
}

fn operation(endpoint: &Endpoint) -> Value {
    let mut op = Map::new();
    op.insert("operationId".into(), json!(endpoint.id));
    op.insert("summary".into(), json!(endpoint.summary));
    op.insert("parameters".into(), Value::Array(parameters(endpoint)));
    if let Some(schema) = endpoint.body {
        let body = json!({
            "required": true,
            "content": { "application/json": { "schema": schema_ref(schema) } },
        });
        op.insert("requestBody".into(), body);
    }
    let security = if endpoint.admin {
        json!([{ "admin": [] }])
    } else {
        json!([])
    };
    op.insert("security".into(), security);
    op.insert("responses".into(), responses(endpoint));
    Value::Object(op)
}

fn parameters(endpoint: &Endpoint) -> Vec<Value> {
    let mut parameters: Vec<Value> = path_parameters(endpoint.path)
        .map(|name| {
            let schema = json!({ "type": "string" });
            json!({ "name": name, "in": "path", "required": true, "schema": schema })
        })
        .collect();
    if endpoint.paged {
        parameters.push(json!({
            "name": "limit", "in": "query",
            "schema": { "type": "integer", "minimum": 1, "maximum": 1000, "default": 100 },
        }));
        parameters.push(json!({
            "name": "cursor", "in": "query", "description": "`next_cursor` of the previous page",
            "schema": { "type": "string" },
        }));
    }
    for query in endpoint.query {
        parameters.push(json!({
            "name": query.name, "in": "query", "description": query.description,
            "schema": { "type": query.kind },
        }));
    }
    if endpoint.conditional {
        parameters.push(json!({
            "name": "If-Match", "in": "header",
            "description": "The `ETag` read; a stale one gets 412",
            "schema": { "type": "string" },
        }));
    }
    parameters
}

/// The `{name}` parameters of a path template.
pub fn path_parameters(path: &str) -> impl Iterator<Item = &str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
}

fn responses(endpoint: &Endpoint) -> Value {
    let mut responses = Map::new();
    let success = match endpoint.response {
        Some(schema) => json!({
            "description": "Success",
            "content": { "application/json": { "schema": schema_ref(schema) } },
        }),
        None => json!({ "description": "Success" }),
    };
    responses.insert(endpoint.status.to_string(), success);
    if endpoint.admin {
        let mut errors = vec!["400", "401", "403"];
        if endpoint.path.contains('{') {
            errors.push("404");
        }
        if endpoint.method != axum::http::Method::GET {
            errors.extend(["409", "422"]);
        }
        if endpoint.conditional {
            errors.push("412");
        }
        for status in errors {
            let reference = json!({ "$ref": "#/components/responses/Problem" });
            responses.insert(status.to_owned(), reference);
        }
    }
    Value::Object(responses)
}

fn problem_responses() -> Value {
    json!({
        "Problem": {
            "description": "Problem details (RFC 9457); `errors` names each failing field",
            "content": {
                "application/problem+json": { "schema": schema_ref("Problem") },
            },
        },
    })
}

pub(super) fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("#/components/schemas/{name}") })
}
