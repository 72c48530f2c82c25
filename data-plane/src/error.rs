//! Answers the data plane gives instead of a stream, as RFC 9457 problem details.
//!
//! Every refusal on the request path is one `Refusal`, so the status, the body and the metric
//! label for a fault are decided in one place.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};

use crate::body::StreamBody;

/// Why a request got no stream. Each variant is a client fault; upstream faults never refuse a
/// request (they become a `retry:` stream, see `proxy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The path broke one of the checks of `route::path` (dot segment, encoded separator, ...).
    BadPath(String),
    /// A request header or query parameter was malformed (named in the message).
    BadRequest(String),
    /// No tenant claims the host or path prefix.
    UnknownTenant,
    /// The tenant has no route for this path, scheme and headers.
    UnknownRoute,
    /// The method is not served on a stream route; carries the `Allow` value.
    MethodNotAllowed(&'static str),
    /// The TLS name chose one tenant's certificate and the host names another.
    Misdirected,
    /// The node is draining or has no config yet.
    Unavailable,
    /// A tenant limit is reached; carries the limit's name and the seconds to wait.
    TooManyStreams(&'static str, u64),
    /// A cross-origin preflight the tenant's CORS rules do not allow.
    CorsRefused,
    /// No token, a bad token (401) or missing scopes (403); carries the `WWW-Authenticate`
    /// value and the failure's metric label.
    Auth {
        status: StatusCode,
        challenge: String,
        reason: &'static str,
    },
    /// A challenge response with the wrong content type.
    UnsupportedMediaType,
}

impl Refusal {
    /// The HTTP status for this refusal.
    pub fn status(&self) -> StatusCode {
        match self {
            Refusal::BadPath(_) | Refusal::BadRequest(_) => StatusCode::BAD_REQUEST,
            Refusal::UnknownTenant | Refusal::UnknownRoute => StatusCode::NOT_FOUND,
            Refusal::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Refusal::Misdirected => StatusCode::MISDIRECTED_REQUEST,
            Refusal::Unavailable => StatusCode::SERVICE_UNAVAILABLE,
            Refusal::TooManyStreams(..) => StatusCode::TOO_MANY_REQUESTS,
            Refusal::CorsRefused => StatusCode::FORBIDDEN,
            Refusal::Auth { status, .. } => *status,
            Refusal::UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        }
    }

    /// A short label for metrics (`sluice_requests_refused_total{reason}`).
    pub fn reason(&self) -> &'static str {
        match self {
            Refusal::BadPath(_) => "bad_path",
            Refusal::BadRequest(_) => "bad_request",
            Refusal::UnknownTenant => "unknown_tenant",
            Refusal::UnknownRoute => "unknown_route",
            Refusal::MethodNotAllowed(_) => "method_not_allowed",
            Refusal::Misdirected => "misdirected",
            Refusal::Unavailable => "unavailable",
            Refusal::TooManyStreams(..) => "limit",
            Refusal::CorsRefused => "cors",
            Refusal::Auth { .. } => "auth",
            Refusal::UnsupportedMediaType => "media_type",
        }
    }

    fn detail(&self) -> String {
        match self {
            Refusal::BadPath(msg) | Refusal::BadRequest(msg) => msg.clone(),
            Refusal::UnknownTenant => "no tenant serves this host or path".to_owned(),
            Refusal::UnknownRoute => "no route matches this request".to_owned(),
            Refusal::MethodNotAllowed(allow) => format!("allowed methods: {allow}"),
            Refusal::Misdirected => "the TLS server name belongs to another tenant".to_owned(),
            Refusal::Unavailable => "the node is not ready".to_owned(),
            Refusal::TooManyStreams(limit, _) => format!("the tenant's {limit} limit is reached"),
            Refusal::CorsRefused => "the origin, method or headers are not allowed".to_owned(),
            Refusal::Auth { status, .. } if *status == StatusCode::FORBIDDEN => {
                "the token lacks a scope this route needs".to_owned()
            }
            Refusal::Auth { .. } => "a valid bearer token is required".to_owned(),
            Refusal::UnsupportedMediaType => {
                "a challenge response is sent as application/x-challenge-response".to_owned()
            }
        }
    }

    /// The full response: problem details JSON, plus `Allow` on 405.
    pub fn into_response(self) -> Response<StreamBody> {
        let status = self.status();
        let body = problem_json(status, &self.detail());
        let mut response = Response::new(StreamBody::full(Bytes::from(body)));
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        match self {
            Refusal::MethodNotAllowed(allow) => {
                headers.insert(header::ALLOW, HeaderValue::from_static(allow));
            }
            Refusal::TooManyStreams(_, seconds) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
            }
            Refusal::Auth { challenge, .. } => {
                if let Ok(value) = HeaderValue::from_str(&challenge) {
                    headers.insert(header::WWW_AUTHENTICATE, value);
                }
            }
            _ => {}
        }
        response
    }
}

/// An RFC 9457 body. `detail` never carries request data that could hold a credential.
pub fn problem_json(status: StatusCode, detail: &str) -> String {
    serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    })
    .to_string()
}
