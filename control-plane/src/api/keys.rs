//! `/api/v1/tenants/{t}/keys`: a tenant's public signing keys as JWKs (RFC 7517), named by
//! `kid`. The snapshot lists them as the tenant's `auth.keys`; a tenant without `auth` keeps
//! its keys (checked all the same) out of the snapshot until it gets one, so keys can be
//! added before the `auth` block that needs them.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use super::extract::{PageQuery, entity, if_match, page_body};
use super::{ApiError, AppState, string_field};
use crate::auth::Caller;
use crate::body::{self, Fields};
use crate::snapshot::check_jwk;
use crate::store::{Actor, Target, keys};

/// `GET /tenants/{t}/keys`: the JWKs.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
    PageQuery(page): PageQuery,
) -> Result<Response, ApiError> {
    caller.check_tenant(&tenant)?;
    let mut tx = state.store.read().await?;
    let page = keys::list(&mut tx, &tenant, page).await?;
    Ok(page_body(page, |record| record.fields).into_response())
}

/// `POST /tenants/{t}/keys` with a JWK that has a `kid`.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.check_tenant(&tenant)?;
    let fields = body::parse_object(&body)?;
    let kid = kid(&fields)?;
    check_jwk(&fields).map_err(ApiError::Invalid)?;
    let mut change = state.store.change(Actor::from(caller)).await?;
    let version = keys::create(change.tx(), &tenant, &kid, &fields).await?;
    let summary = format!("add key {kid} to tenant {tenant}");
    let target = Target::Key(tenant.clone(), kid.clone());
    change.commit(Some(&tenant), &summary, &target).await?;
    let location = format!("/api/v1/tenants/{tenant}/keys/{kid}");
    Ok(entity(
        StatusCode::CREATED,
        Some(version),
        Some(location),
        &fields,
    ))
}

/// `GET /tenants/{t}/keys/{kid}`.
pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path((tenant, kid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    caller.check_tenant(&tenant)?;
    let mut tx = state.store.read().await?;
    let record = keys::get(&mut tx, &tenant, &kid).await?;
    Ok(entity(
        StatusCode::OK,
        Some(record.version),
        None,
        &record.fields,
    ))
}

/// `PUT /tenants/{t}/keys/{kid}` (honouring `If-Match`); the body's `kid`, if any, must match.
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path((tenant, kid)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.check_tenant(&tenant)?;
    let mut fields = body::parse_object(&body)?;
    if !fields.contains_key("kid") {
        fields.insert("kid".to_owned(), body::raw(&kid));
    }
    if self::kid(&fields)? != kid {
        return Err(ApiError::invalid("/kid", "the `kid` must match the URL"));
    }
    check_jwk(&fields).map_err(ApiError::Invalid)?;
    let mut change = state.store.change(Actor::from(caller)).await?;
    let expected = if_match(&headers);
    let version = keys::update(change.tx(), &tenant, &kid, &fields, expected.as_ref()).await?;
    let summary = format!("update key {kid} of tenant {tenant}");
    let target = Target::Key(tenant.clone(), kid.clone());
    change.commit(Some(&tenant), &summary, &target).await?;
    Ok(entity(StatusCode::OK, Some(version), None, &fields))
}

/// `DELETE /tenants/{t}/keys/{kid}`: tokens it signed stop being accepted.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path((tenant, kid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<StatusCode, ApiError> {
    caller.check_tenant(&tenant)?;
    let mut change = state.store.change(Actor::from(caller)).await?;
    keys::delete(change.tx(), &tenant, &kid, if_match(&headers).as_ref()).await?;
    let summary = format!("remove key {kid} from tenant {tenant}");
    change
        .commit(Some(&tenant), &summary, &Target::Nothing)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The JWK's `kid`: required here, since it names the resource.
fn kid(fields: &Fields) -> Result<String, ApiError> {
    let kid = string_field(fields, "kid")?;
    if kid.is_empty() || kid.contains('/') || kid.chars().any(char::is_control) {
        return Err(ApiError::invalid(
            "/kid",
            "`kid` must be non-empty, without `/`",
        ));
    }
    Ok(kid)
}
