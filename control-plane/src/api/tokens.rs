//! `/api/v1/tokens`: admin tokens (global or for one tenant) and node tokens. A token is
//! shown once, in the answer that creates it; lists and reads never include it.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::extract::{PageQuery, check_name, entity, page_body};
use super::{ApiError, AppState, only_fields, string_field};
use crate::auth::{self, Caller};
use crate::body::{self, Fields};
use crate::store::tokens::{self, TokenKind, TokenRecord};
use crate::time::rfc3339;

#[derive(Debug, Serialize)]
struct Token {
    name: String,
    kind: TokenKind,
    tenant: Option<String>,
    created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<String>,
}

impl Token {
    fn new(record: TokenRecord, secret: Option<String>) -> Self {
        Self {
            name: record.name,
            kind: record.kind,
            tenant: record.tenant,
            created_at: rfc3339(record.created_ms),
            token: secret,
        }
    }
}

/// `GET /tokens`: without secrets; a tenant admin sees its tenant's tokens only.
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    PageQuery(page): PageQuery,
) -> Result<Response, ApiError> {
    let mut tx = state.store.read().await?;
    let page = tokens::list(&mut tx, page, caller.tenant.as_deref()).await?;
    Ok(page_body(page, |record| Token::new(record, None)).into_response())
}

/// `POST /tokens` with `{"kind": "admin" | "node", "name": …, "tenant": …}`.
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    body: Bytes,
) -> Result<Response, ApiError> {
    let fields = body::parse_object(&body)?;
    only_fields(&fields, &["kind", "name", "tenant"])?;
    let name = string_field(&fields, "name")?;
    check_name(&name, "/name")?;
    let kind = kind(&fields)?;
    let tenant = tenant(&fields, kind, &caller)?;
    let secret = auth::new_token(kind);
    let mut tx = state.store.write().await?;
    let hash = auth::hash(&secret);
    let record = tokens::create(&mut tx, &name, kind, tenant.as_deref(), &hash).await?;
    tx.commit().await.map_err(crate::store::StoreError::from)?;
    tracing::info!(token = %name, by = %caller.name, "token created");
    let location = format!("/api/v1/tokens/{name}");
    let body = Token::new(record, Some(secret));
    Ok(entity(StatusCode::CREATED, None, Some(location), &body))
}

/// `GET /tokens/{name}`: without its secret.
pub async fn read(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let mut tx = state.store.read().await?;
    let record = tokens::get(&mut tx, &name).await?;
    check_owner(&caller, &record)?;
    Ok(entity(
        StatusCode::OK,
        None,
        None,
        &Token::new(record, None),
    ))
}

/// `DELETE /tokens/{name}`: the token stops working at once.
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(name): Path<String>,
) -> Result<StatusCode, ApiError> {
    let mut tx = state.store.write().await?;
    let record = tokens::get(&mut tx, &name).await?;
    check_owner(&caller, &record)?;
    tokens::delete(&mut tx, &name).await?;
    tx.commit().await.map_err(crate::store::StoreError::from)?;
    tracing::info!(token = %name, by = %caller.name, "token deleted");
    Ok(StatusCode::NO_CONTENT)
}

fn kind(fields: &Fields) -> Result<TokenKind, ApiError> {
    let raw = fields
        .get("kind")
        .ok_or_else(|| ApiError::invalid("/kind", "`kind` is required"))?;
    serde_json::from_str(raw.get())
        .map_err(|_| ApiError::invalid("/kind", "`kind` must be `admin` or `node`"))
}

/// The tenant a new token is scoped to. A tenant admin makes admin tokens for its own tenant
/// only; node tokens serve the whole fleet and are never scoped.
fn tenant(fields: &Fields, kind: TokenKind, caller: &Caller) -> Result<Option<String>, ApiError> {
    let tenant = match fields.get("tenant").map(|raw| raw.get()) {
        None | Some("null") => None,
        Some(_) => Some(string_field(fields, "tenant")?),
    };
    if kind == TokenKind::Node {
        caller.check_global()?;
        if tenant.is_some() {
            return Err(ApiError::invalid(
                "/tenant",
                "node tokens serve every tenant",
            ));
        }
        return Ok(None);
    }
    match (&caller.tenant, tenant) {
        (Some(own), None) => Ok(Some(own.clone())),
        (_, Some(tenant)) => caller.check_tenant(&tenant).map(|()| Some(tenant)),
        (None, None) => Ok(None),
    }
}

fn check_owner(caller: &Caller, record: &TokenRecord) -> Result<(), ApiError> {
    match &record.tenant {
        Some(tenant) => caller.check_tenant(tenant),
        None => caller.check_global(),
    }
}
