//! `/api/v1/tenants/{t}/hosts`: the host names that select a tenant, one at a time. The same
//! list is the `hosts` field of the tenant's document.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::extract::{PageQuery, entity, page_body};
use super::{ApiError, AppState, only_fields, string_field};
use crate::auth::Caller;
use crate::body;
use crate::store::{Actor, Target, hosts};

#[derive(Debug, Serialize)]
struct Host {
    host: String,
}

/// `GET /tenants/{t}/hosts`.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
    PageQuery(page): PageQuery,
) -> Result<Response, ApiError> {
    caller.check_tenant(&tenant)?;
    let mut tx = state.store.read().await?;
    let page = hosts::list(&mut tx, &tenant, page).await?;
    Ok(page_body(page, |host| Host { host }).into_response())
}

/// `POST /tenants/{t}/hosts` with `{"host": …}`.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    caller.check_tenant(&tenant)?;
    let fields = body::parse_object(&body)?;
    only_fields(&fields, &["host"])?;
    let host = string_field(&fields, "host")?;
    let mut change = state.store.change(Actor::from(caller)).await?;
    hosts::add(change.tx(), &tenant, &host).await?;
    let summary = format!("add host {host} to tenant {tenant}");
    change
        .commit(Some(&tenant), &summary, &Target::Host(tenant.clone()))
        .await?;
    let location = format!("/api/v1/tenants/{tenant}/hosts/{host}");
    Ok(entity(
        StatusCode::CREATED,
        None,
        Some(location),
        &Host { host },
    ))
}

/// `GET /tenants/{t}/hosts/{host}`.
pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path((tenant, host)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    caller.check_tenant(&tenant)?;
    let mut tx = state.store.read().await?;
    if !hosts::contains(&mut tx, &tenant, &host).await? {
        return Err(ApiError::NotFound(format!(
            "host `{host}` of tenant `{tenant}`"
        )));
    }
    Ok(entity(StatusCode::OK, None, None, &Host { host }))
}

/// `DELETE /tenants/{t}/hosts/{host}`.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path((tenant, host)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    caller.check_tenant(&tenant)?;
    let mut change = state.store.change(Actor::from(caller)).await?;
    hosts::remove(change.tx(), &tenant, &host).await?;
    let summary = format!("remove host {host} from tenant {tenant}");
    change
        .commit(Some(&tenant), &summary, &Target::Nothing)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
