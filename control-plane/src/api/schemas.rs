//! `/api/v1/tenants/{t}/schemas`: a tenant's named event schemas and their immutable,
//! numbered versions. A new version takes the next number; none is ever replaced.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::value::RawValue;

use super::extract::{PageQuery, entity, page_body};
use super::{ApiError, AppState, only_fields};
use crate::auth::Caller;
use crate::body;
use crate::store::{Actor, Target, schemas};

#[derive(Debug, Serialize)]
struct Summary {
    name: String,
    latest: i64,
}

#[derive(Debug, Serialize)]
struct Version {
    version: i64,
    schema: Box<RawValue>,
}

/// `GET /tenants/{t}/schemas`: names with their latest version.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
    PageQuery(page): PageQuery,
) -> Result<Response, ApiError> {
    caller.check_tenant(&tenant)?;
    let mut tx = state.store.read().await?;
    let page = schemas::list_names(&mut tx, &tenant, page).await?;
    let body = page_body(page, |s| Summary {
        name: s.name,
        latest: s.latest,
    });
    Ok(body.into_response())
}

/// `DELETE /tenants/{t}/schemas/{name}`: every version; refused while a route uses it.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path((tenant, name)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    caller.check_tenant(&tenant)?;
    let mut change = state.store.change(Actor::from(caller)).await?;
    schemas::delete(change.tx(), &tenant, &name).await?;
    let summary = format!("delete schema {tenant}/{name}");
    change
        .commit(Some(&tenant), &summary, &Target::Nothing)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// `GET /tenants/{t}/schemas/{name}/versions`.
pub async fn list_versions(
    State(state): State<AppState>,
    caller: Caller,
    Path((tenant, name)): Path<(String, String)>,
    PageQuery(page): PageQuery,
) -> Result<Response, ApiError> {
    caller.check_tenant(&tenant)?;
    let mut tx = state.store.read().await?;
    let page = schemas::list_versions(&mut tx, &tenant, &name, page).await?;
    let body = page_body(page, |v| Version {
        version: v.version,
        schema: v.schema,
    });
    Ok(body.into_response())
}

/// `POST /tenants/{t}/schemas/{name}/versions` with `{"schema": …}` and optionally the
/// `version` the client expects to create (a conflict if another took it first).
pub async fn create_version(
    State(state): State<AppState>,
    caller: Caller,
    Path((tenant, name)): Path<(String, String)>,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.check_tenant(&tenant)?;
    let fields = body::parse_object(&body)?;
    only_fields(&fields, &["schema", "version"])?;
    let schema = fields
        .get("schema")
        .ok_or_else(|| ApiError::invalid("/schema", "`schema` is required"))?;
    let expected = match fields.get("version") {
        None => None,
        Some(raw) => Some(
            serde_json::from_str::<i64>(raw.get())
                .map_err(|_| ApiError::invalid("/version", "`version` must be a whole number"))?,
        ),
    };
    check_schema_name(&name)?;
    let mut change = state.store.change(Actor::from(caller)).await?;
    let version = schemas::add_version(change.tx(), &tenant, &name, schema, expected).await?;
    let summary = format!("add version {version} of schema {tenant}/{name}");
    let target = Target::SchemaVersion(tenant.clone(), name.clone(), version);
    change.commit(Some(&tenant), &summary, &target).await?;
    let location = format!("/api/v1/tenants/{tenant}/schemas/{name}/versions/{version}");
    let body = Version {
        version,
        schema: schema.clone(),
    };
    Ok(entity(StatusCode::CREATED, Some(1), Some(location), &body))
}

/// `GET /tenants/{t}/schemas/{name}/versions/{n}`.
pub async fn read_version(
    State(state): State<AppState>,
    caller: Caller,
    Path((tenant, name, version)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    caller.check_tenant(&tenant)?;
    let not_found = || ApiError::NotFound(format!("version {version} of schema `{name}`"));
    let number: i64 = version.parse().map_err(|_| not_found())?;
    let mut tx = state.store.read().await?;
    let record = schemas::get_version(&mut tx, &tenant, &name, number).await?;
    let body = Version {
        version: record.version,
        schema: record.schema,
    };
    Ok(entity(StatusCode::OK, Some(1), None, &body))
}

/// Schema names are referenced as `name@N`, so they hold no `@` or spaces (the node's rule).
fn check_schema_name(name: &str) -> Result<(), ApiError> {
    if name.is_empty() || name.contains('@') || name.chars().any(char::is_whitespace) {
        let message = format!("schema name `{name}` must not be empty or hold `@` or spaces");
        return Err(ApiError::invalid("", message));
    }
    Ok(())
}
