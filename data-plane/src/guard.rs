//! The token checks on the request path: who the caller is (RFC 6750 answers when they
//! cannot say), and the challenge response that extends a subject's open streams.

use http::{HeaderMap, Method, Request, Response, StatusCode, header};
use hyper::body::Incoming;

use crate::auth::{AuthError, Identity, InvalidReason, TenantAuth, require_scopes};
use crate::body::StreamBody;
use crate::error::Refusal;
use crate::metrics::Metrics;
use crate::node::NodeState;
use crate::snapshot::{Route, Tenant};

/// The content type of a challenge response (Zilla's, so its clients keep working).
pub const CHALLENGE_RESPONSE: &str = "application/x-challenge-response";

/// The identity for a request on `route`: `None` on a public route, else a verified token
/// carrying the route's scopes.
pub async fn authenticate(
    node: &NodeState,
    tenant: &Tenant,
    route: &Route,
    request: &Request<Incoming>,
) -> Result<Option<Identity>, Refusal> {
    if route.public {
        return Ok(None);
    }
    // A guarded route always has auth: the config check refuses one without.
    let Some(auth) = &tenant.auth else {
        return Err(refusal(node, tenant, None, route, AuthError::Missing));
    };
    let identity = verify(
        node,
        tenant,
        auth,
        route,
        request.headers(),
        request.uri().query(),
    )
    .await?;
    // A token inside its leeway but past `exp` would open a stream that ends at once; the
    // client is better told now, so it fetches a fresh token.
    if identity.expires_at <= crate::reload::unix_now() {
        let error = AuthError::Invalid(InvalidReason::Expired);
        return Err(refusal(node, tenant, Some(auth), route, error));
    }
    Ok(Some(identity))
}

async fn verify(
    node: &NodeState,
    tenant: &Tenant,
    auth: &TenantAuth,
    route: &Route,
    headers: &HeaderMap,
    query: Option<&str>,
) -> Result<Identity, Refusal> {
    // `Authorization` is a singleton (RFC 9110 section 11.6.2): two of them are ambiguous.
    if headers.get_all(http::header::AUTHORIZATION).iter().count() > 1 {
        let error = AuthError::Invalid(InvalidReason::Malformed);
        return Err(refusal(node, tenant, Some(auth), route, error));
    }
    let token = auth.credential(headers, query.unwrap_or(""));
    let Some(token) = token else {
        return Err(refusal(node, tenant, Some(auth), route, AuthError::Missing));
    };
    let identity = auth
        .verify(&token)
        .await
        .map_err(|error| refusal(node, tenant, Some(auth), route, error))?;
    require_scopes(&identity, &route.scopes)
        .map_err(|error| refusal(node, tenant, Some(auth), route, error))?;
    Ok(identity)
}

/// The RFC 6750 answer for `error`, counted by reason (never logging the token).
fn refusal(
    node: &NodeState,
    tenant: &Tenant,
    auth: Option<&TenantAuth>,
    route: &Route,
    error: AuthError,
) -> Refusal {
    Metrics::tenant_reason(&node.metrics.auth_failures, &tenant.name, error.reason());
    let realm = auth.map_or(tenant.name.as_str(), TenantAuth::realm);
    Refusal::Auth {
        status: error.status(),
        challenge: error.www_authenticate(realm, &route.scopes),
        reason: error.reason(),
    }
}

/// A `POST` answering a `challenge` event: a fresh token for the same tenant and subject,
/// covering the route's scopes, extends every open stream of that subject on this node whose
/// scopes it covers. 204 when the token is good; 401/403 and nothing extended otherwise.
pub async fn challenge_response(
    node: &NodeState,
    tenant: &Tenant,
    route: &Route,
    request: &Request<Incoming>,
) -> Result<Response<StreamBody>, Refusal> {
    debug_assert_eq!(request.method(), Method::POST);
    let media = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok());
    let essence = media.and_then(|m| m.split(';').next()).map(str::trim);
    if !essence.is_some_and(|e| e.eq_ignore_ascii_case(CHALLENGE_RESPONSE)) {
        return Err(Refusal::UnsupportedMediaType);
    }
    let Some(auth) = &tenant.auth else {
        return Err(Refusal::MethodNotAllowed(crate::proxy::STREAM_METHODS));
    };
    let identity = verify(
        node,
        tenant,
        auth,
        route,
        request.headers(),
        request.uri().query(),
    )
    .await?;
    if identity.subject.is_none() {
        // Streams of tokens without a subject are never challenged, so never refreshed.
        let error = AuthError::Invalid(InvalidReason::BadClaimType);
        return Err(refusal(node, tenant, Some(auth), route, error));
    }
    let extended = node.leases.refresh(&tenant.name, &identity).map_err(|_| {
        refusal(
            node,
            tenant,
            Some(auth),
            route,
            AuthError::InsufficientScope,
        )
    })?;
    for _ in 0..extended {
        Metrics::tenant(&node.metrics.refreshes, &tenant.name);
    }
    tracing::debug!(tenant = %tenant.name, extended, "challenge answered");
    let mut response = Response::new(StreamBody::empty());
    *response.status_mut() = StatusCode::NO_CONTENT;
    Ok(response)
}
