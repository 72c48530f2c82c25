//! Tokens: how they are made, stored (as SHA-256) and checked, and what an admin may touch.
//!
//! Tokens carry 256 random bits, so a plain SHA-256 suffices to store them: there is nothing
//! to guess that a slow hash would protect.

use base64::Engine as _;
use sha2::{Digest, Sha256};

use crate::store::tokens::{self, TokenKind};
use crate::store::{Store, StoreError};

/// A fresh random token; its prefix names its kind so a leaked one is recognisable.
pub fn new_token(kind: TokenKind) -> String {
    let mut secret = [0u8; 32];
    rand::fill(&mut secret);
    let encoded = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    match kind {
        TokenKind::Admin => format!("sluice_admin_{encoded}"),
        TokenKind::Node => format!("sluice_node_{encoded}"),
    }
}

/// The stored form of a token: its SHA-256, in lower-case hex.
pub fn hash(token: &str) -> String {
    let digest = Sha256::digest(token.as_bytes());
    digest.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// The credentials of an `Authorization: Bearer …` value (RFC 6750 §2.1; the scheme is
/// case-insensitive).
pub fn bearer(value: &str) -> Option<&str> {
    let (scheme, token) = value.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// Who is calling the admin API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The token's name: the actor recorded in the revision log.
    pub name: String,
    /// `Some` for a tenant admin: the one tenant it may see and change.
    pub tenant: Option<String>,
}

impl Caller {
    /// Whether the caller may see and change `tenant`.
    pub fn may_touch(&self, tenant: &str) -> bool {
        self.tenant.as_deref().is_none_or(|own| own == tenant)
    }

    /// Whether the caller is a global admin.
    pub fn is_global(&self) -> bool {
        self.tenant.is_none()
    }
}

impl From<Caller> for crate::store::Actor {
    fn from(caller: Caller) -> Self {
        Self {
            name: caller.name,
            tenant: caller.tenant,
        }
    }
}

/// The admin behind `token`, if it is one.
pub async fn admin(store: &Store, token: &str) -> Result<Option<Caller>, StoreError> {
    let mut tx = store.read().await?;
    let found = tokens::find(&mut tx, &hash(token)).await?;
    Ok(found
        .filter(|record| record.kind == TokenKind::Admin)
        .map(|record| Caller {
            name: record.name,
            tenant: record.tenant,
        }))
}

/// The name of the node token `token`, if it is one.
pub async fn node(store: &Store, token: &str) -> Result<Option<String>, StoreError> {
    let mut tx = store.read().await?;
    let found = tokens::find(&mut tx, &hash(token)).await?;
    Ok(found
        .filter(|record| record.kind == TokenKind::Node)
        .map(|record| record.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_prefixed_by_kind() {
        let admin = new_token(TokenKind::Admin);
        let node = new_token(TokenKind::Node);
        assert!(admin.starts_with("sluice_admin_"));
        assert!(node.starts_with("sluice_node_"));
        assert_eq!(admin.len(), "sluice_admin_".len() + 43);
        assert_ne!(new_token(TokenKind::Admin), admin);
    }

    #[test]
    fn hashes_are_sha256_hex() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn bearer_scheme_is_case_insensitive_and_needs_a_token() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("Bearer "), None);
        assert_eq!(bearer("abc"), None);
    }

    #[test]
    fn tenant_admins_touch_only_their_tenant() {
        let scoped = Caller {
            name: "t".into(),
            tenant: Some("acme".into()),
        };
        assert!(scoped.may_touch("acme"));
        assert!(!scoped.may_touch("beta"));
        assert!(!scoped.is_global());
        let global = Caller {
            name: "g".into(),
            tenant: None,
        };
        assert!(global.may_touch("beta"));
    }
}
