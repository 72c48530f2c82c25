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
    router.with_state(state)
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
