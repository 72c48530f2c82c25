//! What handlers take from a request (the calling admin, `If-Match`, the page asked for) and
//! the shapes they answer with (an entity with its `ETag`, a page with its next cursor).

use std::collections::BTreeMap;

use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde::Serialize;

use super::{ApiError, AppState};
use crate::auth::{self, Caller};
use crate::store::{IfMatch, Page, PageRequest};

/// The largest page a client may ask for.
pub const MAX_LIMIT: u32 = 1000;

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|value| value.to_str().ok())
            .and_then(auth::bearer)
            .ok_or(ApiError::Unauthorized)?;
        auth::admin(&state.store, token)
            .await?
            .ok_or(ApiError::Unauthorized)
    }
}

impl Caller {
    /// Refuses a tenant admin reaching for `tenant` (or anything else outside its own).
    pub fn check_tenant(&self, tenant: &str) -> Result<(), ApiError> {
        if self.may_touch(tenant) {
            return Ok(());
        }
        Err(ApiError::Forbidden(format!(
            "this token may not access tenant `{tenant}`"
        )))
    }

    /// Refuses a tenant admin.
    pub fn check_global(&self) -> Result<(), ApiError> {
        if self.is_global() {
            return Ok(());
        }
        Err(ApiError::Forbidden(
            "this needs a global admin token".into(),
        ))
    }
}

/// The query parameters, each by name; a malformed query string is a problem 400.
#[derive(Debug, Clone, Default)]
pub struct QueryMap(pub BTreeMap<String, String>);

impl FromRequestParts<AppState> for QueryMap {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let Query(query) = Query::<BTreeMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::BadRequest(e.body_text(), Vec::new()))?;
        Ok(QueryMap(query))
    }
}

/// The page a request asks for: `?limit=` (1 to 1000, default 100) and `?cursor=` (from the
/// previous page's `next_cursor`).
#[derive(Debug, Clone, Copy)]
pub struct PageQuery(pub PageRequest);

impl FromRequestParts<AppState> for PageQuery {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let QueryMap(query) = QueryMap::from_request_parts(parts, state).await?;
        let mut page = PageRequest::default();
        if let Some(limit) = query.get("limit") {
            page.limit = limit
                .parse()
                .ok()
                .filter(|l| (1..=MAX_LIMIT).contains(l))
                .ok_or_else(|| {
                    ApiError::bad_parameter("limit", format!("limit must be 1 to {MAX_LIMIT}"))
                })?;
        }
        if let Some(cursor) = query.get("cursor") {
            let bad = || ApiError::bad_parameter("cursor", "not a cursor from a previous page");
            page.after = Some(decode_cursor(cursor).ok_or_else(bad)?);
        }
        Ok(PageQuery(page))
    }
}

fn encode_cursor(key: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(key.to_string())
}

fn decode_cursor(cursor: &str) -> Option<i64> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    String::from_utf8(bytes).ok()?.parse().ok()
}

/// A page as JSON: `{"items": [...], "next_cursor": "…" | null}`.
#[derive(Debug, Serialize)]
pub struct PageBody<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `?cursor=` for the next page; `null` on the last.
    pub next_cursor: Option<String>,
}

/// Turns a store page into its JSON form, mapping each item.
pub fn page_body<T, U>(page: Page<T>, map: impl FnMut(T) -> U) -> axum::Json<PageBody<U>> {
    axum::Json(PageBody {
        items: page.items.into_iter().map(map).collect(),
        next_cursor: page.next.map(encode_cursor),
    })
}

/// `If-Match`, if sent: `*`, or strong entity tags `"N"`. A weak or foreign tag matches no
/// version (RFC 9110 §13.1.1 uses the strong comparison).
pub fn if_match(headers: &HeaderMap) -> Option<IfMatch> {
    let values: Vec<&str> = headers
        .get_all(header::IF_MATCH)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(str::trim)
        .collect();
    if values.is_empty() {
        return None;
    }
    if values.contains(&"*") {
        return Some(IfMatch::Any);
    }
    let versions = values
        .iter()
        .filter_map(|tag| tag.strip_prefix('"')?.strip_suffix('"')?.parse().ok())
        .collect();
    Some(IfMatch::Versions(versions))
}

/// An entity answer: `status`, the JSON body, its `ETag` when versioned, and `Location` for
/// a creation.
pub fn entity(
    status: StatusCode,
    version: Option<i64>,
    location: Option<String>,
    body: &impl Serialize,
) -> Response {
    let mut response = (status, axum::Json(body)).into_response();
    let headers = response.headers_mut();
    if let Some(tag) = version.and_then(|v| HeaderValue::from_str(&format!("\"{v}\"")).ok()) {
        headers.insert(header::ETAG, tag);
    }
    if let Some(location) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        headers.insert(header::LOCATION, location);
    }
    response
}

/// Names of tenants, routes and tokens: 1 to 63 of `a-z0-9_-`, starting with a letter or
/// digit. They are URL path segments and metric labels; the node applies the same rule.
pub fn check_name(name: &str, pointer: &str) -> Result<(), ApiError> {
    let mut bytes = name.bytes();
    let first = bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let rest =
        bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    if first && rest && name.len() <= 63 {
        return Ok(());
    }
    let message = format!(
        "`{name}` must be 1 to 63 characters of a-z, 0-9, `_` and `-`, starting with a letter \
         or digit"
    );
    Err(ApiError::invalid(pointer, message))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(values: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(header::IF_MATCH, HeaderValue::from_str(value).unwrap());
        }
        headers
    }

    #[test]
    fn if_match_reads_strong_tags_star_and_lists() {
        assert_eq!(if_match(&headers(&[])), None);
        assert_eq!(if_match(&headers(&["*"])), Some(IfMatch::Any));
        let expected = Some(IfMatch::Versions(vec![2, 3, 4]));
        assert_eq!(if_match(&headers(&["\"2\", \"3\"", "\"4\""])), expected);
        let weak = Some(IfMatch::Versions(vec![]));
        assert_eq!(if_match(&headers(&["W/\"2\""])), weak);
    }

    #[test]
    fn cursors_round_trip_and_junk_is_refused() {
        assert_eq!(decode_cursor(&encode_cursor(42)), Some(42));
        assert_eq!(decode_cursor(&encode_cursor(-7)), Some(-7));
        assert_eq!(decode_cursor("!!"), None);
        assert_eq!(decode_cursor(&encode_cursor(1).replace('M', "x")), None);
    }

    #[test]
    fn names_follow_the_node_rule() {
        assert!(check_name("acme-1_a", "/name").is_ok());
        for bad in ["", "Acme", "-a", "a b", "a/b", &"a".repeat(64)] {
            assert!(check_name(bad, "/name").is_err(), "{bad}");
        }
    }
}
