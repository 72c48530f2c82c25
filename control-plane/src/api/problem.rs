//! Errors as problem details (RFC 9457): `application/problem+json` with a title, the status,
//! a detail, and for invalid input `errors[]` naming each failing field by JSON Pointer.
//! Internal faults are logged and answered without their cause.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::body::BodyError;
use crate::store::{FieldError, StoreError};

/// Every way an admin request can fail.
#[derive(Debug)]
pub enum ApiError {
    /// No token, or not an admin token (401).
    Unauthorized,
    /// A tenant admin reaching outside its tenant, or for a global resource (403).
    Forbidden(String),
    /// Malformed request: bad JSON, a bad query parameter (400).
    BadRequest(String, Vec<FieldError>),
    /// No such entity (404).
    NotFound(String),
    /// The entity exists already, or clashes (409).
    Conflict(String),
    /// `If-Match` is stale (412).
    PreconditionFailed(String),
    /// Well-formed but invalid; nothing was written (422).
    Invalid(Vec<FieldError>),
    /// An imported document that does not convert; `errors` name document paths (422).
    Unimportable(Vec<FieldError>),
    /// Our fault; the cause is logged (500).
    Internal,
}

#[derive(Serialize)]
struct Problem<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'a str,
    status: u16,
    detail: &'a str,
    #[serde(skip_serializing_if = "<[FieldError]>::is_empty")]
    errors: &'a [FieldError],
}

impl ApiError {
    /// Invalid input at one field.
    pub fn invalid(path: &str, message: impl Into<String>) -> Self {
        ApiError::Invalid(vec![FieldError::at(path, message)])
    }

    /// A bad query parameter.
    pub fn bad_parameter(name: &str, message: impl Into<String>) -> Self {
        let message = message.into();
        ApiError::BadRequest(message.clone(), vec![FieldError::at(name, message)])
    }

    fn status(&self) -> StatusCode {
        match self {
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::BadRequest(..) => StatusCode::BAD_REQUEST,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::Invalid(_) | ApiError::Unimportable(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn detail(&self) -> String {
        match self {
            ApiError::Unauthorized => {
                "send an admin token as `Authorization: Bearer <token>`".into()
            }
            ApiError::Forbidden(what) => what.clone(),
            ApiError::BadRequest(what, _) => what.clone(),
            ApiError::NotFound(what) => format!("{what} not found"),
            ApiError::Conflict(what) => what.clone(),
            ApiError::PreconditionFailed(what) => {
                format!("{what} has changed since it was read (If-Match is stale)")
            }
            ApiError::Invalid(_) => {
                "the change would make the config invalid; nothing was written".into()
            }
            ApiError::Unimportable(_) => {
                "the document cannot be imported; nothing was written".into()
            }
            ApiError::Internal => "internal error".into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => ApiError::NotFound(what),
            StoreError::Conflict(what) => ApiError::Conflict(what),
            StoreError::Stale(what) => ApiError::PreconditionFailed(what),
            StoreError::Invalid(errors) => ApiError::Invalid(errors),
            other => {
                tracing::error!(error = %other, "admin request failed");
                ApiError::Internal
            }
        }
    }
}

impl From<BodyError> for ApiError {
    fn from(error: BodyError) -> Self {
        match error {
            BodyError::Malformed(message) => ApiError::BadRequest(message, Vec::new()),
            BodyError::NotAnObject => ApiError::invalid("", error.to_string()),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = self.status();
        let detail = self.detail();
        let errors = match &self {
            ApiError::Invalid(errors)
            | ApiError::Unimportable(errors)
            | ApiError::BadRequest(_, errors) => errors.as_slice(),
            _ => &[],
        };
        let problem = Problem {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status: status.as_u16(),
            detail: &detail,
            errors,
        };
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        let headers = response.headers_mut();
        let problem_json = HeaderValue::from_static("application/problem+json");
        headers.insert(header::CONTENT_TYPE, problem_json);
        if matches!(self, ApiError::Unauthorized) {
            let challenge = HeaderValue::from_static("Bearer realm=\"sluice\"");
            headers.insert(header::WWW_AUTHENTICATE, challenge);
        }
        response
    }
}
