//! `GET /api/v1/tenants/{t}/asyncapi`: a tenant's streaming routes and the schemas their
//! events map to, as an AsyncAPI 3.0 document, read from the snapshot in force.

use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use sluice_data_plane::asyncapi;

use super::extract::QueryMap;
use super::{ApiError, AppState};
use crate::auth::Caller;
use crate::snapshot;

/// `GET /tenants/{t}/asyncapi[?servers_base=https://sse.example.com:8443]`: the base URL
/// clients reach nodes at gives the servers their scheme and port, and a tenant reached by
/// path prefix its server.
pub async fn export(
    State(state): State<AppState>,
    caller: Caller,
    Path(tenant): Path<String>,
    QueryMap(query): QueryMap,
) -> Result<Response, ApiError> {
    caller.check_tenant(&tenant)?;
    let base = servers_base(query.get("servers_base"))?;
    let current = state.store.current();
    let config = snapshot::tenant(&current.config_json, &tenant)
        .map_err(|error| {
            tracing::error!(%error, "the current snapshot does not read back");
            ApiError::Internal
        })?
        .ok_or_else(|| ApiError::NotFound(format!("tenant `{tenant}`")))?;
    let document = asyncapi::export(&tenant, &config, base);
    Ok(Json(document).into_response())
}

/// `?servers_base=`: an `http://` or `https://` URL without spaces, if given.
fn servers_base(value: Option<&String>) -> Result<Option<&str>, ApiError> {
    let Some(base) = value else {
        return Ok(None);
    };
    let scheme = base.starts_with("http://") || base.starts_with("https://");
    if !scheme || base.contains(char::is_whitespace) {
        let message = "servers_base must be an http:// or https:// URL";
        return Err(ApiError::bad_parameter("servers_base", message));
    }
    Ok(Some(base))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn servers_base_must_be_an_http_url() {
        let given = |s: &str| servers_base(Some(&s.to_owned())).map(|b| b.map(str::to_owned));
        assert_eq!(servers_base(None).unwrap(), None);
        assert_eq!(
            given("https://sse.example.com:8443").unwrap().as_deref(),
            Some("https://sse.example.com:8443")
        );
        assert!(given("ftp://x").is_err());
        assert!(given("https://a b").is_err());
    }
}
