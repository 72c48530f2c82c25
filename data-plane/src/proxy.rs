//! The request path: from a parsed HTTP request to a refusal or an open event stream.
//!
//! Order matters and follows DESIGN.md section 2: strip `x-sluice-*`, check the path, resolve
//! the tenant, check the method, match the route, then open the upstream. Nothing here reads a
//! header the client could use to impersonate the node.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use http::header::{self, HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Response};
use hyper::body::Incoming;

use crate::auth::Identity;
use crate::body::StreamBody;
use crate::error::Refusal;
use crate::files;
use crate::guard;
use crate::lease::Lease;
use crate::limits::Permit;
use crate::metrics::Metrics;
use crate::node::NodeState;
use crate::route::Params;
use crate::route::path;
use crate::snapshot::{Route, Snapshot, Target, Tenant, Upstream};
use crate::stream;

/// What the listener knows about a connection.
#[derive(Debug, Clone)]
pub struct ConnInfo {
    /// The client's address.
    pub peer: SocketAddr,
    /// `https` on TLS listeners, `http` otherwise.
    pub scheme: &'static str,
    /// The tenant whose own certificate the TLS server name chose, if any.
    pub sni_tenant: Option<String>,
}

/// The longest `Last-Event-ID` accepted, in bytes.
pub const MAX_LAST_EVENT_ID: usize = 255;

/// The `Allow` value of stream routes.
pub const STREAM_METHODS: &str = "GET, POST, OPTIONS";

/// Serves one request; never fails (every fault is an HTTP answer).
pub async fn serve(
    mut request: Request<Incoming>,
    conn: Arc<ConnInfo>,
    node: Arc<NodeState>,
) -> Result<Response<StreamBody>, Infallible> {
    strip_internal_headers(request.headers_mut());
    let Some(snapshot) = node.snapshot() else {
        return Ok(refuse(&node, "", Refusal::Unavailable));
    };
    let mut tenant = None;
    let mut response = match open(&request, &conn, &node, &snapshot, &mut tenant).await {
        Ok(response) => response,
        Err(refusal) => {
            let name = tenant
                .as_ref()
                .map_or("", |t: &Arc<Tenant>| t.name.as_str());
            refuse(&node, name, refusal)
        }
    };
    // Browsers read a stream or a refusal only when it carries the CORS headers.
    let cors = tenant.as_ref().and_then(|t| t.cors.as_ref());
    if let Some(cors) = cors.filter(|_| request.method() != Method::OPTIONS) {
        cors.decorate(request.headers(), response.headers_mut());
    }
    Ok(response)
}

fn refuse(node: &NodeState, tenant: &str, refusal: Refusal) -> Response<StreamBody> {
    tracing::debug!(tenant, reason = refusal.reason(), "request refused");
    node.metrics.refused(tenant, refusal.reason());
    refusal.into_response()
}

/// Removes every client-sent `x-sluice-*` header (all copies, any case): only the node sets
/// them, from the resolved tenant and the verified token (C44).
fn strip_internal_headers(headers: &mut HeaderMap) {
    let internal: Vec<HeaderName> = headers
        .keys()
        .filter(|name| name.as_str().starts_with("x-sluice-"))
        .cloned()
        .collect();
    for name in internal {
        headers.remove(&name);
    }
}

/// Resolves, checks and opens; `tenant` is set as soon as it is known, for metrics and CORS.
async fn open(
    request: &Request<Incoming>,
    conn: &ConnInfo,
    node: &Arc<NodeState>,
    snapshot: &Arc<Snapshot>,
    resolved: &mut Option<Arc<Tenant>>,
) -> Result<Response<StreamBody>, Refusal> {
    let path = path::normalize(request.uri().path())
        .map_err(|error| Refusal::BadPath(error.to_string()))?;
    let host = request_host(request);
    let (tenant, rest) = snapshot
        .resolve(host.as_deref(), &path)
        .ok_or(Refusal::UnknownTenant)?;
    let tenant = resolved.insert(tenant.clone());
    if conn
        .sni_tenant
        .as_ref()
        .is_some_and(|owner| owner != &tenant.name)
    {
        return Err(Refusal::Misdirected);
    }
    if request.method() == Method::OPTIONS {
        return preflight(tenant, request.headers());
    }
    let method = request.method();
    if ![Method::GET, Method::HEAD, Method::POST].contains(method) {
        return Err(Refusal::MethodNotAllowed(STREAM_METHODS));
    }
    let (route, params) = tenant
        .match_route(&rest, conn.scheme, request.headers())
        .ok_or(Refusal::UnknownRoute)?;
    let upstream = match &route.target {
        Target::Files { root, param } if method != Method::POST => {
            let name = params.get(param).unwrap_or_default();
            return files::serve(root, name, method == Method::HEAD, request.headers()).await;
        }
        Target::Stream(_) if method == Method::POST => {
            return guard::challenge_response(node, tenant, &route, request).await;
        }
        Target::Stream(upstream) if method == Method::GET => upstream,
        _ => return Err(Refusal::MethodNotAllowed(STREAM_METHODS)),
    };
    let identity = guard::authenticate(node, tenant, &route, request).await?;
    let caller = Caller {
        tenant,
        identity: identity.as_ref(),
        params: &params,
    };
    let plan = plan_upstream(request, conn, host.as_deref(), upstream, &route, &caller)?;
    let subject = identity.as_ref().and_then(|i| i.subject.as_deref());
    let permit = admit(node, tenant, subject)?;
    let lease = identity.map(|identity| Arc::new(Lease::new(&identity)));
    if let Some(lease) = &lease {
        node.leases.register(&tenant.name, lease);
    }
    let challenge = tenant.auth.as_ref().and_then(|auth| auth.challenge());
    let grant = stream::Grant {
        permit,
        lease,
        challenge,
    };
    Ok(stream::open(node, route.clone(), plan, grant).await)
}

/// A CORS preflight, answered from the tenant's rules; 405 when it has none.
fn preflight(tenant: &Tenant, headers: &HeaderMap) -> Result<Response<StreamBody>, Refusal> {
    let cors = tenant
        .cors
        .as_ref()
        .ok_or(Refusal::MethodNotAllowed(STREAM_METHODS))?;
    let answer = cors.preflight(headers);
    if answer.status() == http::StatusCode::FORBIDDEN {
        return Err(Refusal::CorsRefused);
    }
    let (parts, ()) = answer.into_parts();
    Ok(Response::from_parts(parts, StreamBody::empty()))
}

/// Takes a stream slot under the tenant's limits.
fn admit(node: &NodeState, tenant: &Tenant, subject: Option<&str>) -> Result<Permit, Refusal> {
    node.limiter
        .admit(&tenant.name, subject, &tenant.limits)
        .map_err(|exceeded| {
            Metrics::tenant_reason(&node.metrics.limit_rejections, &tenant.name, exceeded.limit);
            Refusal::TooManyStreams(exceeded.limit, exceeded.retry_after_secs())
        })
}

/// The request's host: the URI authority (h2 `:authority`, absolute-form) or the `Host` header.
fn request_host(request: &Request<Incoming>) -> Option<String> {
    let raw = match request.uri().authority() {
        Some(authority) => authority.as_str(),
        None => request.headers().get(header::HOST)?.to_str().ok()?,
    };
    crate::tenant::normalize_host(raw)
}

/// Everything the stream needs to call the upstream.
#[derive(Debug)]
pub struct UpstreamPlan {
    /// The full upstream URL with params filled in and the client's query appended.
    pub uri: http::Uri,
    /// The headers to send upstream.
    pub headers: HeaderMap,
}

/// Who is calling, for the upstream URL and header placeholders.
struct Caller<'a> {
    tenant: &'a Tenant,
    identity: Option<&'a Identity>,
    params: &'a Params,
}

impl Caller<'_> {
    /// Owned values of the identity placeholders a template may use.
    fn identity_values(&self, claims: &[String]) -> Vec<(String, String)> {
        let Some(identity) = self.identity else {
            return Vec::new();
        };
        let mut values = Vec::new();
        if let Some(subject) = &identity.subject {
            values.push(("subject".to_owned(), subject.clone()));
        }
        for name in claims {
            let Some(claim) = name.strip_prefix("claims.") else {
                continue;
            };
            if let Some(value) = identity.claim_str(claim) {
                values.push((name.to_owned(), value));
            }
        }
        values
    }
}

fn plan_upstream(
    request: &Request<Incoming>,
    conn: &ConnInfo,
    host: Option<&str>,
    upstream: &Upstream,
    route: &Route,
    caller: &Caller<'_>,
) -> Result<UpstreamPlan, Refusal> {
    let tenant = caller.tenant;
    let query = request.uri().query().unwrap_or("");
    let last_event_id = last_event_id(request.headers(), query, &route.last_event_id_query)?;
    let forwarded_query = forward_query(query, &route.dropped_query_params);
    let values = caller.identity_values(&upstream.claims);
    let lookup = |name: &str| match name {
        "tenant" => Some(tenant.name.as_str()),
        other => caller.params.get(other).or_else(|| {
            values
                .iter()
                .find(|(n, _)| n == other)
                .map(|(_, v)| v.as_str())
        }),
    };
    let uri = upstream.uri(&lookup, &forwarded_query)?;
    let mut headers = upstream.headers(&lookup)?;
    headers.insert(
        header::ACCEPT,
        HeaderValue::from_static("text/event-stream"),
    );
    if let Some(id) = last_event_id {
        headers.insert("last-event-id", id);
    }
    add_forwarded(&mut headers, conn, host, &tenant.name);
    let subject = caller
        .identity
        .and_then(|identity| identity.subject.as_deref());
    if let Some(Ok(subject)) = subject.map(HeaderValue::from_str) {
        headers.insert("x-sluice-subject", subject);
    }
    Ok(UpstreamPlan { uri, headers })
}

/// `Last-Event-ID` from the header or the route's query parameter (header wins; the last query
/// value wins when repeated; at most 255 bytes). One header value goes upstream, never two.
fn last_event_id(
    headers: &HeaderMap,
    query: &str,
    param: &str,
) -> Result<Option<HeaderValue>, Refusal> {
    let mut values = headers.get_all("last-event-id").iter();
    if let Some(value) = values.next() {
        if values.next().is_some() {
            return Err(Refusal::BadRequest(
                "more than one Last-Event-ID header".into(),
            ));
        }
        return check_id_length(value.clone()).map(Some);
    }
    let Some(raw) = query_values(query, param).last() else {
        return Ok(None);
    };
    let value = HeaderValue::from_bytes(raw.as_bytes()).map_err(|_| {
        Refusal::BadRequest(format!("query parameter {param} holds a control character"))
    })?;
    check_id_length(value).map(Some)
}

fn check_id_length(value: HeaderValue) -> Result<HeaderValue, Refusal> {
    if value.len() > MAX_LAST_EVENT_ID {
        return Err(Refusal::BadRequest(format!(
            "Last-Event-ID is {} bytes; at most {MAX_LAST_EVENT_ID} are allowed",
            value.len()
        )));
    }
    Ok(value)
}

/// The decoded values of query parameter `name`, in order.
fn query_values<'q>(query: &'q str, name: &'q str) -> impl Iterator<Item = String> + 'q {
    query.split('&').filter_map(move |pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (form_decode(key) == name).then(|| form_decode(value))
    })
}

/// The client's query minus the parameters the node consumed (credential, `lastEventId`),
/// kept byte for byte otherwise.
fn forward_query(query: &str, dropped: &[String]) -> String {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .filter(|pair| {
            let key = pair.split_once('=').map_or(*pair, |(key, _)| key);
            let key = form_decode(key);
            !dropped.contains(&key)
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// `application/x-www-form-urlencoded` decoding of one component; bad escapes stay literal.
fn form_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() && hex_pair(bytes[i + 1], bytes[i + 2]).is_some() => {
                out.extend(hex_pair(bytes[i + 1], bytes[i + 2]));
                i += 2;
            }
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn hex_pair(high: u8, low: u8) -> Option<u8> {
    let digit = |b: u8| (b as char).to_digit(16);
    Some((digit(high)? * 16 + digit(low)?) as u8)
}

/// `x-forwarded-*` from what the node saw itself; client-sent copies are replaced, never
/// trusted (C44).
fn add_forwarded(headers: &mut HeaderMap, conn: &ConnInfo, host: Option<&str>, tenant: &str) {
    let peer = HeaderValue::from_str(&conn.peer.ip().to_string());
    if let Ok(peer) = peer {
        headers.insert("x-forwarded-for", peer);
    }
    headers.insert("x-forwarded-proto", HeaderValue::from_static(conn.scheme));
    if let Some(Ok(host)) = host.map(HeaderValue::from_str) {
        headers.insert("x-forwarded-host", host);
    }
    if let Ok(tenant) = HeaderValue::from_str(tenant) {
        headers.insert("x-sluice-tenant", tenant);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forwarded_query_drops_consumed_parameters_only() {
        let dropped = vec!["access_token".to_owned(), "lastEventId".to_owned()];
        let query = "topic=orders&access_token=abc&lastEventId=4&x=%2F&access%5Ftoken=z";
        assert_eq!(forward_query(query, &dropped), "topic=orders&x=%2F");
    }

    #[test]
    fn last_query_value_wins_for_last_event_id() {
        let headers = HeaderMap::new();
        let id = last_event_id(&headers, "lastEventId=40&lastEventId=41", "lastEventId");
        assert_eq!(id, Ok(Some(HeaderValue::from_static("41"))));
    }

    #[test]
    fn header_beats_query_for_last_event_id() {
        let mut headers = HeaderMap::new();
        headers.insert("last-event-id", HeaderValue::from_static("41"));
        let id = last_event_id(&headers, "lastEventId=40", "lastEventId");
        assert_eq!(id, Ok(Some(HeaderValue::from_static("41"))));
    }

    #[test]
    fn long_last_event_id_is_refused() {
        let query = format!("lastEventId={}", "a".repeat(256));
        let refusal = last_event_id(&HeaderMap::new(), &query, "lastEventId");
        assert!(matches!(refusal, Err(Refusal::BadRequest(msg)) if msg.contains("256 bytes")));
        let query = format!("lastEventId={}", "a".repeat(255));
        assert!(last_event_id(&HeaderMap::new(), &query, "lastEventId").is_ok());
    }

    #[test]
    fn query_id_with_newline_is_refused() {
        let refusal = last_event_id(&HeaderMap::new(), "lastEventId=a%0Ab", "lastEventId");
        assert!(matches!(refusal, Err(Refusal::BadRequest(_))));
    }

    #[test]
    fn internal_headers_are_stripped_in_every_case() {
        let mut headers = HeaderMap::new();
        headers.append("X-Sluice-Tenant", HeaderValue::from_static("globex"));
        headers.append("x-sluice-tenant", HeaderValue::from_static("acme"));
        headers.append("x-sluice-subject", HeaderValue::from_static("admin"));
        headers.append("x-other", HeaderValue::from_static("kept"));
        strip_internal_headers(&mut headers);
        assert_eq!(headers.len(), 1);
        assert_eq!(headers["x-other"], "kept");
    }
}
