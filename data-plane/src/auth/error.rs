//! Why a request was not let through, and how that is answered: RFC 6750 §3 statuses and
//! `WWW-Authenticate` challenges, plus a short label per reason for metrics and debug logs.
//! Neither the answer nor the label ever carries the token.

use std::fmt;

use http::StatusCode;

/// Why authentication failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthError {
    /// No token in any configured place: 401 with a bare challenge (RFC 6750 §3.1).
    Missing,
    /// A token that is not acceptable: 401 `invalid_token`.
    Invalid(InvalidReason),
    /// A valid token without every scope the route needs: 403 `insufficient_scope`.
    InsufficientScope,
}

/// What is wrong with a token. Told to metrics and debug logs, never to the client, which only
/// learns `invalid_token`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InvalidReason {
    /// Longer than [`super::MAX_TOKEN_LEN`]; refused without being parsed.
    TooLong,
    /// Not three base64url parts, or a header or claims set that is not a JSON object.
    Malformed,
    /// `alg` is `none`, HMAC or anything else but RS*, PS*, ES256, ES384, EdDSA.
    UnsupportedAlg,
    /// The header lists `crit` extensions; Sluice understands none (RFC 7515 §4.1.11).
    UnsupportedCrit,
    /// `typ` is not the one the tenant requires.
    BadTyp,
    /// No key has the token's `kid` (after a permitted JWKS refetch), or without `kid` no
    /// key has its `alg`.
    UnknownKey,
    /// No `kid`, and more than one key has the token's `alg`.
    AmbiguousKey,
    /// The key named by `kid` verifies another algorithm than the header's `alg`.
    AlgMismatch,
    /// The signature does not verify.
    BadSignature,
    /// No `exp`.
    MissingExp,
    /// `exp`, `nbf` or `iat` is not a JSON number, or the scopes claim is not a string or an
    /// array of strings.
    BadClaimType,
    /// `exp` (plus leeway) has passed.
    Expired,
    /// `nbf` (less leeway) is still ahead.
    NotYetValid,
    /// `iat` is further ahead than the leeway.
    IssuedInFuture,
    /// `iss` is missing or not exactly the tenant's issuer.
    BadIssuer,
    /// `aud` is missing, malformed, or names none of the tenant's audiences.
    BadAudience,
}

impl InvalidReason {
    /// A short snake_case label, for metrics and logs.
    pub fn label(self) -> &'static str {
        match self {
            InvalidReason::TooLong => "too_long",
            InvalidReason::Malformed => "malformed",
            InvalidReason::UnsupportedAlg => "unsupported_alg",
            InvalidReason::UnsupportedCrit => "unsupported_crit",
            InvalidReason::BadTyp => "bad_typ",
            InvalidReason::UnknownKey => "unknown_key",
            InvalidReason::AmbiguousKey => "ambiguous_key",
            InvalidReason::AlgMismatch => "alg_mismatch",
            InvalidReason::BadSignature => "bad_signature",
            InvalidReason::MissingExp => "missing_exp",
            InvalidReason::BadClaimType => "bad_claim_type",
            InvalidReason::Expired => "expired",
            InvalidReason::NotYetValid => "not_yet_valid",
            InvalidReason::IssuedInFuture => "issued_in_future",
            InvalidReason::BadIssuer => "bad_issuer",
            InvalidReason::BadAudience => "bad_audience",
        }
    }
}

impl From<InvalidReason> for AuthError {
    fn from(reason: InvalidReason) -> Self {
        AuthError::Invalid(reason)
    }
}

impl AuthError {
    /// 401 for a missing or invalid token, 403 for missing scopes (RFC 6750 §3.1).
    pub fn status(&self) -> StatusCode {
        match self {
            AuthError::Missing | AuthError::Invalid(_) => StatusCode::UNAUTHORIZED,
            AuthError::InsufficientScope => StatusCode::FORBIDDEN,
        }
    }

    /// The `WWW-Authenticate` value (RFC 6750 §3): `Bearer realm="acme"` when no token was
    /// sent, with `error="invalid_token"` for a bad one, and with `error="insufficient_scope",
    /// scope="a b"` naming `required_scopes` for missing scopes.
    pub fn www_authenticate(&self, realm: &str, required_scopes: &[String]) -> String {
        let mut value = format!("Bearer realm={}", quoted(realm));
        match self {
            AuthError::Missing => {}
            AuthError::Invalid(_) => value.push_str(", error=\"invalid_token\""),
            AuthError::InsufficientScope => {
                value.push_str(", error=\"insufficient_scope\"");
                if !required_scopes.is_empty() {
                    value.push_str(", scope=");
                    value.push_str(&quoted(&required_scopes.join(" ")));
                }
            }
        }
        value
    }

    /// A short label for metrics: `missing`, `insufficient_scope`, or the invalid reason's.
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::Missing => "missing",
            AuthError::Invalid(reason) => reason.label(),
            AuthError::InsufficientScope => "insufficient_scope",
        }
    }
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AuthError::Missing => f.write_str("no token"),
            AuthError::Invalid(reason) => write!(f, "invalid token ({})", reason.label()),
            AuthError::InsufficientScope => f.write_str("insufficient scope"),
        }
    }
}

impl std::error::Error for AuthError {}

/// An RFC 9110 §5.6.4 quoted-string. Control characters cannot be sent in a header value at
/// all, so they become `?` rather than producing an invalid one.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                out.push('\\');
                out.push(c);
            }
            c if c.is_control() => out.push('?'),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_token_gets_a_bare_challenge() {
        let error = AuthError::Missing;
        assert_eq!(error.status(), StatusCode::UNAUTHORIZED);
        assert_eq!(error.www_authenticate("acme", &[]), "Bearer realm=\"acme\"");
        assert_eq!(error.reason(), "missing");
    }

    #[test]
    fn an_invalid_token_gets_invalid_token_without_the_reason() {
        let error = AuthError::Invalid(InvalidReason::Expired);
        assert_eq!(error.status(), StatusCode::UNAUTHORIZED);
        let scopes = ["orders:read".to_owned()];
        assert_eq!(
            error.www_authenticate("acme", &scopes),
            "Bearer realm=\"acme\", error=\"invalid_token\""
        );
        assert_eq!(error.reason(), "expired");
    }

    #[test]
    fn missing_scopes_get_403_naming_the_scopes() {
        let error = AuthError::InsufficientScope;
        assert_eq!(error.status(), StatusCode::FORBIDDEN);
        let scopes = ["a".to_owned(), "b".to_owned()];
        assert_eq!(
            error.www_authenticate("acme", &scopes),
            "Bearer realm=\"acme\", error=\"insufficient_scope\", scope=\"a b\""
        );
        assert_eq!(error.reason(), "insufficient_scope");
    }

    #[test]
    fn realms_are_quoted_strings() {
        assert_eq!(
            AuthError::Missing.www_authenticate("a\"b\\c\nd", &[]),
            "Bearer realm=\"a\\\"b\\\\c?d\""
        );
    }
}
