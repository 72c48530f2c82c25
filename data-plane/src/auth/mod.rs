//! Per-tenant JWT authentication: finding the token in a request, picking the key from the
//! key record (never from the token), verifying signature and claims, and answering failures
//! per RFC 6750.
//!
//! A [`TenantAuth`] is compiled from a tenant's `auth` block once per snapshot; keys from a
//! `jwks_url` live in the node-wide [`JwksCache`] so they survive snapshots. Tokens are never
//! logged, whatever happens to them.

mod credentials;
mod error;
mod identity;
mod jwks;
mod keys;
pub mod mint;
mod verify;

#[cfg(test)]
mod conformance;
#[cfg(test)]
mod fixtures;

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use http::HeaderMap;

pub use error::{AuthError, InvalidReason};
pub use identity::{Identity, require_scopes};
pub use jwks::{DEFAULT_COOLDOWN, JwksCache};
pub use keys::{Alg, KeyId};

use crate::config::{self, ConfigErrors, index_path, key_path};
use jwks::JwksSource;
use keys::{KeySet, Origin, Pick, VerifyingKey};
use verify::{ClaimRules, Jws};

/// The longest token read; anything longer is refused before it is parsed. Real access
/// tokens are well under 4 KiB.
pub const MAX_TOKEN_LEN: usize = 16 * 1024;

/// One tenant's compiled `auth` block.
#[derive(Debug)]
pub struct TenantAuth {
    realm: String,
    issuer: String,
    audiences: Vec<String>,
    keys: KeySet,
    jwks: Option<Arc<JwksSource>>,
    jwks_lifetime: Duration,
    credentials: credentials::Sources,
    scopes_claim: String,
    subject_claim: String,
    leeway: Duration,
    challenge: Option<Duration>,
    require_typ: Option<String>,
}

impl TenantAuth {
    /// Compiles `auth` for tenant `tenant` (also its realm in challenges). Every key that
    /// cannot be used is reported at its member's path under `path` (the `auth` block's
    /// path, e.g. `tenants.acme.auth`), as `tenants.acme.auth.keys[0].n`; then `None`.
    pub fn compile(
        tenant: &str,
        auth: &config::Auth,
        jwks: &JwksCache,
        path: &str,
        errors: &mut ConfigErrors,
    ) -> Option<Arc<TenantAuth>> {
        let before = errors.len();
        let keys = compile_keys(&auth.keys, &key_path(path, "keys"), errors);
        let source = match auth.jwks_url.as_deref().map(|url| jwks.source(url)) {
            Some(Err(message)) => {
                errors.push(key_path(path, "jwks_url"), message);
                None
            }
            found => found.and_then(Result::ok),
        };
        let credentials = credentials::Sources::compile(&auth.credentials).map_err(|message| {
            errors.push(key_path(&key_path(path, "credentials"), "header"), message)
        });
        let (Ok(credentials), true) = (credentials, errors.len() == before) else {
            return None;
        };
        Some(Arc::new(TenantAuth {
            realm: tenant.to_owned(),
            issuer: auth.issuer.clone(),
            audiences: auth.audiences.clone(),
            keys,
            jwks: source,
            jwks_lifetime: auth.jwks_cache.get(),
            credentials,
            scopes_claim: auth.scopes_claim.clone(),
            subject_claim: auth.subject_claim.clone(),
            leeway: auth.leeway.get(),
            challenge: auth.challenge.map(config::Duration::get),
            require_typ: auth.require_typ.clone(),
        }))
    }

    /// The realm named in `WWW-Authenticate`: the tenant's name.
    pub fn realm(&self) -> &str {
        &self.realm
    }

    /// The request's token: from the header template, else the query parameter (`query` is
    /// the raw query string, form-decoded here), else the cookie, as configured.
    pub fn credential(&self, headers: &HeaderMap, query: &str) -> Option<String> {
        self.credentials.find(headers, query)
    }

    /// The query parameter that may carry tokens: strip it from logged paths and upstream
    /// requests.
    pub fn credential_query_param(&self) -> Option<&str> {
        self.credentials.query_param()
    }

    /// The clock skew allowed on `exp`, `nbf` and `iat`; a stream may run this long past
    /// `exp`, as a fresh request with the same token would still be accepted.
    pub fn leeway(&self) -> Duration {
        self.leeway
    }

    /// How long before `exp` a stream is sent `event: challenge`; `None`: never.
    pub fn challenge(&self) -> Option<Duration> {
        self.challenge
    }

    /// Whether this tenant still trusts the key identified by `key_id`. After a swap, a
    /// stream whose token's key is gone is ended.
    pub fn has_key(&self, key_id: &KeyId) -> bool {
        self.keys.contains(key_id)
            || self
                .jwks
                .as_ref()
                .is_some_and(|jwks| jwks.current().keys(self.jwks_lifetime).contains(key_id))
    }

    /// Fetches the `jwks_url` document if it never was, so the first request does not wait.
    pub async fn prefetch(&self) {
        if let Some(jwks) = &self.jwks {
            jwks.keys(self.jwks_lifetime).await;
        }
    }

    /// Verifies `token` now. May fetch the JWKS (see [`JwksCache`]); never accepts a token it
    /// could not verify.
    pub async fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        self.verify_at(token, unix_now()).await
    }

    /// Verifies `token` as of `now` (unix seconds).
    pub async fn verify_at(&self, token: &str, now: u64) -> Result<Identity, AuthError> {
        let result = self.check(token, now).await;
        if let Err(reason) = result.as_ref() {
            tracing::debug!(tenant = %self.realm, reason = reason.label(), "token refused");
        }
        Ok(result?)
    }

    async fn check(&self, token: &str, now: u64) -> Result<Identity, InvalidReason> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(InvalidReason::TooLong);
        }
        let jws = verify::parse(token)?;
        if let Some(required) = &self.require_typ
            && !verify::typ_matches(jws.header.typ.as_deref(), required)
        {
            return Err(InvalidReason::BadTyp);
        }
        let key = self.key_for(&jws).await?;
        jws.check_signature(&key)?;
        let claims = jws.claims()?;
        let rules = ClaimRules {
            issuer: &self.issuer,
            audiences: &self.audiences,
            leeway: self.leeway.as_secs_f64(),
        };
        let expires_at = rules.check(&claims, now)?;
        let id = key.id.clone();
        Identity::from_claims(
            claims,
            id,
            expires_at,
            &self.scopes_claim,
            &self.subject_claim,
        )
    }

    /// The key the token's header points at. A `kid` of a configured key is settled without
    /// the JWKS (so a slow identity provider never delays it); otherwise configured and
    /// published keys are searched together, with one refetch (rate-limited) when none fits.
    async fn key_for(&self, jws: &Jws<'_>) -> Result<Arc<VerifyingKey>, InvalidReason> {
        let (kid, alg) = (jws.header.kid.as_deref(), jws.header.alg);
        let configured = keys::pick(&[&self.keys], kid, alg);
        let Some(jwks) = self
            .jwks
            .as_ref()
            .filter(|_| kid.is_none() || matches!(configured, Pick::NotFound))
        else {
            return picked(configured);
        };
        let lifetime = self.jwks_lifetime;
        let fetched = jwks.keys(lifetime).await;
        let pick = keys::pick(&[&self.keys, fetched.keys(lifetime)], kid, alg);
        if !matches!(pick, Pick::NotFound) {
            return picked(pick);
        }
        let fetched = jwks.refetch(fetched.generation).await;
        picked(keys::pick(&[&self.keys, fetched.keys(lifetime)], kid, alg))
    }
}

fn picked(pick: Pick) -> Result<Arc<VerifyingKey>, InvalidReason> {
    match pick {
        Pick::Key(key) => Ok(key),
        Pick::AlgMismatch => Err(InvalidReason::AlgMismatch),
        Pick::NotFound => Err(InvalidReason::UnknownKey),
        Pick::Ambiguous => Err(InvalidReason::AmbiguousKey),
    }
}

fn compile_keys(jwks: &[config::Jwk], path: &str, errors: &mut ConfigErrors) -> KeySet {
    let mut keys = Vec::with_capacity(jwks.len());
    for (i, jwk) in jwks.iter().enumerate() {
        match keys::from_jwk(jwk, Origin::Configured) {
            Ok(key) => keys.push(key),
            Err(problem) => {
                let at = index_path(path, i);
                let at = problem
                    .member
                    .map_or(at.clone(), |member| key_path(&at, member));
                errors.push(at, problem.message);
            }
        }
    }
    KeySet::new(keys)
}

fn unix_now() -> u64 {
    // A clock set before 1970 is broken; reading it as the far future fails closed, since
    // every token then looks expired.
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(u64::MAX, |elapsed| elapsed.as_secs())
}
