//! `/api/v1/tenants` and `/api/v1/tenants/{t}`: a tenant's own settings and hosts, in the
//! declarative shape. Keys, schemas and routes have their own resources.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::extract::{PageQuery, check_name, entity, if_match, page_body};
use super::{ApiError, AppState};
use crate::auth::Caller;
use crate::body::{self, Fields};
use crate::store::{Actor, Target, tenants};

/// `GET /tenants`: the tenants the caller may see.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    PageQuery(page): PageQuery,
) -> Result<Response, ApiError> {
    let mut tx = state.store.read().await?;
    let page = tenants::list(&mut tx, page, caller.tenant.as_deref()).await?;
    let body = page_body(page, |record| Item {
        tenant: record.document(),
        name: record.name,
        version: record.version,
    });
    Ok(body.into_response())
}

/// A tenant in a list.
#[derive(Debug, Serialize)]
struct Item {
    name: String,
    version: i64,
    tenant: Fields,
}

/// `POST /tenants`: the tenant's fields plus its `name`.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.check_global()?;
    let mut fields = body::parse_object(&body)?;
    let name = take_name(&mut fields, None)?;
    let hosts = take_hosts(&mut fields)?;
    reject_owned(&fields, &name)?;
    let mut change = state.store.change(Actor::from(caller)).await?;
    let version = tenants::create(change.tx(), &name, &fields, &hosts).await?;
    let summary = format!("create tenant {name}");
    change
        .commit(Some(&name), &summary, &Target::Tenant(name.clone()))
        .await?;
    let record = tenants::TenantRecord {
        name: name.clone(),
        fields,
        hosts,
        version,
    };
    let location = format!("/api/v1/tenants/{name}");
    Ok(entity(
        StatusCode::CREATED,
        Some(version),
        Some(location),
        &record.document(),
    ))
}

/// `GET /tenants/{t}`.
pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    caller.check_tenant(&name)?;
    let mut tx = state.store.read().await?;
    let record = tenants::get(&mut tx, &name).await?;
    Ok(entity(
        StatusCode::OK,
        Some(record.version),
        None,
        &record.document(),
    ))
}

/// `PUT /tenants/{t}`: replaces the settings and hosts (honouring `If-Match`).
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.check_tenant(&name)?;
    let mut fields = body::parse_object(&body)?;
    take_name(&mut fields, Some(&name))?;
    let hosts = take_hosts(&mut fields)?;
    reject_owned(&fields, &name)?;
    let mut change = state.store.change(Actor::from(caller)).await?;
    let expected = if_match(&headers);
    let version = tenants::update(change.tx(), &name, &fields, &hosts, expected.as_ref()).await?;
    let summary = format!("update tenant {name}");
    change
        .commit(Some(&name), &summary, &Target::Tenant(name.clone()))
        .await?;
    let record = tenants::TenantRecord {
        name,
        fields,
        hosts,
        version,
    };
    Ok(entity(
        StatusCode::OK,
        Some(version),
        None,
        &record.document(),
    ))
}

/// `DELETE /tenants/{t}`: the tenant with its hosts, keys, schemas, routes and tokens.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    caller.check_global()?;
    let mut change = state.store.change(Actor::from(caller)).await?;
    tenants::delete(change.tx(), &name, if_match(&headers).as_ref()).await?;
    let summary = format!("delete tenant {name}");
    change
        .commit(Some(&name), &summary, &Target::Nothing)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes `name` from a body: required in a creation, and when present must match the URL.
pub(super) fn take_name(fields: &mut Fields, url_name: Option<&str>) -> Result<String, ApiError> {
    let written = fields.remove("name");
    let name = written
        .as_ref()
        .map(|raw| serde_json::from_str::<String>(raw.get()));
    match (name, url_name) {
        (None, Some(url)) => Ok(url.to_owned()),
        (None, None) => Err(ApiError::invalid("/name", "`name` is required")),
        (Some(Err(_)), _) => Err(ApiError::invalid("/name", "`name` must be a string")),
        (Some(Ok(name)), Some(url)) if name != url => Err(ApiError::invalid(
            "/name",
            "renaming is not supported; the name must match the URL",
        )),
        (Some(Ok(name)), _) => check_name(&name, "/name").map(|()| name),
    }
}

/// Removes `hosts` from a tenant body: a list of strings, default none.
fn take_hosts(fields: &mut Fields) -> Result<Vec<String>, ApiError> {
    match fields.remove("hosts") {
        None => Ok(Vec::new()),
        Some(raw) => serde_json::from_str(raw.get())
            .map_err(|_| ApiError::invalid("/hosts", "`hosts` must be a list of host names")),
    }
}

/// Refuses fields that belong to other resources.
fn reject_owned(fields: &Fields, name: &str) -> Result<(), ApiError> {
    for owned in ["routes", "schemas"] {
        if fields.contains_key(owned) {
            let message =
                format!("{owned} have their own resource: /api/v1/tenants/{name}/{owned}");
            return Err(ApiError::invalid(&format!("/{owned}"), message));
        }
    }
    let auth_keys = fields
        .get("auth")
        .and_then(|raw| body::from_text(raw.get()).ok())
        .is_some_and(|auth| auth.contains_key("keys"));
    if auth_keys {
        let message = format!("keys have their own resource: /api/v1/tenants/{name}/keys");
        return Err(ApiError::invalid("/auth/keys", message));
    }
    Ok(())
}
