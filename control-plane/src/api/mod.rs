//! The admin REST API (`/api/v1`, JSON, axum) and the operations routes beside it.
//!
//! Every route is declared once, in [`endpoints`], with its handler and its description; the
//! router and the OpenAPI document are both built from that table.

mod asyncapi;
mod extract;
mod fleet;
mod hosts;
mod imports;
mod keys;
mod openapi;
mod openapi_schemas;
mod ops;
mod problem;
mod routes;
mod schemas;
mod table;
mod tenants;
mod tokens;

use axum::Router;
use axum::http::Method;

use crate::body::Fields;
use crate::store::{FieldError, Store};
pub use problem::ApiError;
pub use table::endpoints;

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    pub(crate) store: Store,
}

impl AppState {
    /// State over `store`.
    pub fn new(store: Store) -> Self {
        Self { store }
    }
}

/// The REST API and operations routes, ready to serve or to merge with the console.
pub fn router(state: AppState) -> Router {
    let mut router = Router::new();
    for (endpoint, method_router) in endpoints() {
        // Routes on one path with different methods merge into one method router.
        router = router.route(endpoint.path, method_router);
    }
    router
        .layer(axum::middleware::from_fn(require_json))
        .with_state(state)
}

/// Refuses a request body that does not say it is JSON with 415, before any handler reads it:
/// a form or text body must not be parsed as if it were the JSON it merely resembles.
async fn require_json(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::http::{StatusCode, header};
    use axum::response::IntoResponse;
    let headers = request.headers();
    let has_body = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|length| length != "0")
        || headers.contains_key(header::TRANSFER_ENCODING);
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    let json = essence.is_some_and(|e| e == "application/json" || e.ends_with("+json"));
    if !has_body || json {
        return next.run(request).await;
    }
    let status = StatusCode::UNSUPPORTED_MEDIA_TYPE;
    let body = serde_json::json!({
        "type": "about:blank",
        "title": "Unsupported Media Type",
        "status": status.as_u16(),
        "detail": "request bodies are JSON: send content-type: application/json",
    });
    let mut response = (status, body.to_string()).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        axum::http::HeaderValue::from_static("application/problem+json"),
    );
    response
}

/// One operation: its method and path, and what the OpenAPI document says of it.
#[derive(Debug, Clone)]
pub struct Endpoint {
    /// The HTTP method.
    pub method: Method,
    /// The path template, `{name}` for a parameter (the same syntax in axum and OpenAPI).
    pub path: &'static str,
    /// The OpenAPI `operationId`.
    pub id: &'static str,
    /// One line on what it does.
    pub summary: &'static str,
    /// The request body's schema (a component name), if it takes one.
    pub body: Option<&'static str>,
    /// The success status.
    pub status: u16,
    /// The success body's schema (a component name), if any.
    pub response: Option<&'static str>,
    /// Takes `?limit=&cursor=`.
    pub paged: bool,
    /// Honours `If-Match`.
    pub conditional: bool,
    /// The query parameters it reads besides paging.
    pub query: &'static [QueryParam],
    /// Needs an admin token.
    pub admin: bool,
}

/// A query parameter an operation reads, as the OpenAPI document describes it.
#[derive(Debug, Clone, Copy)]
pub struct QueryParam {
    /// The parameter's name.
    pub name: &'static str,
    /// Its JSON Schema type: `boolean` or `string`.
    pub kind: &'static str,
    /// What it does.
    pub description: &'static str,
}

/// The OpenAPI 3.1 document for [`endpoints`].
pub fn openapi_document() -> serde_json::Value {
    let described: Vec<Endpoint> = endpoints().into_iter().map(|(e, _)| e).collect();
    openapi::document(&described)
}

/// Refuses fields other than `allowed` in a small body.
fn only_fields(fields: &Fields, allowed: &[&str]) -> Result<(), ApiError> {
    let unknown: Vec<FieldError> = fields
        .keys()
        .filter(|key| !allowed.contains(&key.as_str()))
        .map(|key| FieldError::at(format!("/{key}"), format!("unknown field `{key}`")))
        .collect();
    if unknown.is_empty() {
        Ok(())
    } else {
        Err(ApiError::Invalid(unknown))
    }
}

/// A required string field.
fn string_field(fields: &Fields, key: &str) -> Result<String, ApiError> {
    let pointer = format!("/{key}");
    let raw = fields
        .get(key)
        .ok_or_else(|| ApiError::invalid(&pointer, format!("`{key}` is required")))?;
    serde_json::from_str(raw.get())
        .map_err(|_| ApiError::invalid(&pointer, format!("`{key}` must be a string")))
}
