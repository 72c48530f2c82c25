//! `/api/v1/tenants/{t}/routes`: a tenant's SSE routes, each in the declarative shape.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::extract::{PageQuery, entity, if_match, page_body};
use super::tenants::take_name;
use super::{ApiError, AppState};
use crate::auth::Caller;
use crate::body::{self, Fields};
use crate::store::{Actor, Target, routes};

/// A route in a list.
#[derive(Debug, Serialize)]
struct Item {
    name: String,
    version: i64,
    route: Fields,
}

/// `GET /tenants/{t}/routes`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
    PageQuery(page): PageQuery,
) -> Result<Response, ApiError> {
    caller.check_tenant(&tenant)?;
    let mut tx = state.store.read().await?;
    let page = routes::list(&mut tx, &tenant, page).await?;
    let body = page_body(page, |record| Item {
        name: record.name,
        version: record.version,
        route: record.fields,
    });
    Ok(body.into_response())
}

/// `POST /tenants/{t}/routes`: the route's fields plus its `name`.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.check_tenant(&tenant)?;
    let mut fields = body::parse_object(&body)?;
    let name = take_name(&mut fields, None)?;
    let mut change = state.store.change(Actor::from(caller)).await?;
    let version = routes::create(change.tx(), &tenant, &name, &fields).await?;
    let summary = format!("create route {tenant}/{name}");
    let target = Target::Route(tenant.clone(), name.clone());
    change.commit(Some(&tenant), &summary, &target).await?;
    let location = format!("/api/v1/tenants/{tenant}/routes/{name}");
    Ok(entity(
        StatusCode::CREATED,
        Some(version),
        Some(location),
        &fields,
    ))
}

/// `GET /tenants/{t}/routes/{r}`.
pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path((tenant, name)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    caller.check_tenant(&tenant)?;
    let mut tx = state.store.read().await?;
    let record = routes::get(&mut tx, &tenant, &name).await?;
    Ok(entity(
        StatusCode::OK,
        Some(record.version),
        None,
        &record.fields,
    ))
}

/// `PUT /tenants/{t}/routes/{r}` (honouring `If-Match`).
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path((tenant, name)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.check_tenant(&tenant)?;
    let mut fields = body::parse_object(&body)?;
    take_name(&mut fields, Some(&name))?;
    let mut change = state.store.change(Actor::from(caller)).await?;
    let expected = if_match(&headers);
    let version = routes::update(change.tx(), &tenant, &name, &fields, expected.as_ref()).await?;
    let summary = format!("update route {tenant}/{name}");
    let target = Target::Route(tenant.clone(), name.clone());
    change.commit(Some(&tenant), &summary, &target).await?;
    Ok(entity(StatusCode::OK, Some(version), None, &fields))
}

/// `DELETE /tenants/{t}/routes/{r}` (honouring `If-Match`).
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path((tenant, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    caller.check_tenant(&tenant)?;
    let mut change = state.store.change(Actor::from(caller)).await?;
    routes::delete(change.tx(), &tenant, &name, if_match(&headers).as_ref()).await?;
    let summary = format!("delete route {tenant}/{name}");
    change
        .commit(Some(&tenant), &summary, &Target::Nothing)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
