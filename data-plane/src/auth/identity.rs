//! Who a verified token speaks for: subject, scopes, expiry, the key that signed it, and its
//! claims for `{claims.NAME}` placeholders; and the scope check routes apply to it.

use serde_json::{Map, Value};

use super::error::{AuthError, InvalidReason};
use super::keys::KeyId;

/// The verified content of a token.
#[derive(Clone, Debug, PartialEq)]
pub struct Identity {
    /// The subject claim (the tenant's `subject_claim`, default `sub`), when it is a string
    /// or a number.
    pub subject: Option<String>,
    /// The scopes from the tenant's `scopes_claim`, in the token's order.
    pub scopes: Vec<String>,
    /// `exp`, in unix seconds.
    pub expires_at: u64,
    /// The key that verified the signature.
    pub key: KeyId,
    /// Every claim, as sent.
    pub claims: Map<String, Value>,
}

impl Identity {
    /// Builds the identity from verified `claims`. The scopes claim must be a space-separated
    /// string or an array of strings; anything else makes the token invalid rather than
    /// scope-less, so a malformed token cannot pass a route that needs no scopes unnoticed.
    pub(crate) fn from_claims(
        claims: Map<String, Value>,
        key: KeyId,
        expires_at: u64,
        scopes_claim: &str,
        subject_claim: &str,
    ) -> Result<Self, InvalidReason> {
        let scopes = scopes(claim(&claims, scopes_claim))?;
        let subject = claim(&claims, subject_claim).and_then(printable);
        Ok(Self {
            subject,
            scopes,
            expires_at,
            key,
            claims,
        })
    }

    /// The claim at `path` (`tid`, `realm_access.roles`), as text for a placeholder: strings
    /// as they are, numbers and booleans printed, anything else `None`.
    pub fn claim_str(&self, path: &str) -> Option<String> {
        claim(&self.claims, path).and_then(printable)
    }

    /// The claim at `path`, whatever its type.
    pub fn claim(&self, path: &str) -> Option<&Value> {
        claim(&self.claims, path)
    }

    /// Whether this identity carries every scope in `scopes`; a refreshed token must cover
    /// the scopes of the one it replaces.
    pub fn covers(&self, scopes: &[String]) -> bool {
        scopes.iter().all(|scope| self.scopes.contains(scope))
    }
}

/// Refuses `identity` with 403 unless it carries every scope in `required`.
pub fn require_scopes(identity: &Identity, required: &[String]) -> Result<(), AuthError> {
    if identity.covers(required) {
        Ok(())
    } else {
        Err(AuthError::InsufficientScope)
    }
}

/// The claim at `path`: a top-level claim of exactly that name if there is one (claim names
/// such as `https://example.com/roles` hold dots), otherwise each dot steps into an object.
pub(crate) fn claim<'a>(claims: &'a Map<String, Value>, path: &str) -> Option<&'a Value> {
    if let Some(value) = claims.get(path) {
        return Some(value);
    }
    let mut segments = path.split('.');
    let first = claims.get(segments.next()?)?;
    segments.try_fold(first, |value, segment| value.as_object()?.get(segment))
}

fn printable(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// RFC 8693 §4.2 / RFC 9068 §2.2.3: `scope` is space-separated; Keycloak-style role claims
/// are arrays. Absent means none.
fn scopes(value: Option<&Value>) -> Result<Vec<String>, InvalidReason> {
    match value {
        None => Ok(Vec::new()),
        Some(Value::String(text)) => Ok(text
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|item| item.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or(InvalidReason::BadClaimType),
        Some(_) => Err(InvalidReason::BadClaimType),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::fixtures;
    use serde_json::json;

    fn identity(claims: Value, scopes_claim: &str) -> Result<Identity, InvalidReason> {
        let claims = claims.as_object().cloned().unwrap_or_default();
        Identity::from_claims(claims, fixtures::key_id(), 99, scopes_claim, "sub")
    }

    fn scopes_of(claims: Value, scopes_claim: &str) -> Result<Vec<String>, InvalidReason> {
        identity(claims, scopes_claim).map(|identity| identity.scopes)
    }

    #[test]
    fn scopes_come_from_a_string_or_an_array() {
        assert_eq!(
            scopes_of(json!({"scope": "a  b c"}), "scope"),
            Ok(vec!["a".into(), "b".into(), "c".into()])
        );
        assert_eq!(
            scopes_of(json!({"scp": ["a", "b"]}), "scp"),
            Ok(vec!["a".into(), "b".into()])
        );
        assert_eq!(scopes_of(json!({}), "scope"), Ok(vec![]));
        assert_eq!(scopes_of(json!({"scope": ""}), "scope"), Ok(vec![]));
        assert_eq!(
            scopes_of(json!({"scp": ["a", 1]}), "scp"),
            Err(InvalidReason::BadClaimType)
        );
        assert_eq!(
            scopes_of(json!({"scope": 7}), "scope"),
            Err(InvalidReason::BadClaimType)
        );
    }

    #[test]
    fn a_dotted_scopes_claim_walks_nested_objects() {
        let claims = json!({"realm_access": {"roles": ["orders:read", "admin"]}});
        assert_eq!(
            scopes_of(claims, "realm_access.roles"),
            Ok(vec!["orders:read".into(), "admin".into()])
        );
        let claims = json!({"realm_access.roles": "flat", "realm_access": {"roles": "nested"}});
        assert_eq!(
            scopes_of(claims, "realm_access.roles"),
            Ok(vec!["flat".into()])
        );
        assert_eq!(
            scopes_of(json!({"realm_access": ["roles"]}), "realm_access.roles"),
            Ok(vec![])
        );
    }

    #[test]
    fn claims_print_strings_numbers_and_booleans_only() {
        let claims = json!({
            "sub": 42, "tid": "acme", "ok": true, "org": {"id": 7, "tags": ["x"]}, "n": null
        });
        let identity = identity(claims, "scope").expect("valid");
        assert_eq!(identity.subject.as_deref(), Some("42"));
        assert_eq!(identity.claim_str("tid").as_deref(), Some("acme"));
        assert_eq!(identity.claim_str("ok").as_deref(), Some("true"));
        assert_eq!(identity.claim_str("org.id").as_deref(), Some("7"));
        assert_eq!(identity.claim_str("org.tags"), None);
        assert_eq!(identity.claim_str("org"), None);
        assert_eq!(identity.claim_str("n"), None);
        assert_eq!(identity.claim_str("missing.deeper"), None);
        assert_eq!(identity.claim("org.tags"), Some(&json!(["x"])));
    }

    #[test]
    fn scopes_are_required_all_together() {
        let identity = identity(json!({"scope": "a b"}), "scope").expect("valid");
        let owned = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(require_scopes(&identity, &owned(&[])), Ok(()));
        assert_eq!(require_scopes(&identity, &owned(&["b", "a"])), Ok(()));
        assert_eq!(
            require_scopes(&identity, &owned(&["a", "c"])),
            Err(AuthError::InsufficientScope)
        );
        assert!(identity.covers(&owned(&["a"])));
        assert!(!identity.covers(&owned(&["a", "b", "c"])));
    }
}
