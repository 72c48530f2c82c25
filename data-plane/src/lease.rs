//! Token leases: how long an authenticated stream may run, and how a fresh token presented
//! with a challenge response extends every stream of its subject on this node.
//!
//! A lease is shared by the stream's pump (which waits on it) and the node's registry (which
//! extends it). The registry holds weak references, so an ended stream leaves nothing behind
//! but an entry swept on the next registration or refresh.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::auth::{Identity, KeyId};

/// The token a stream was opened with, as far as its lifetime goes.
#[derive(Debug)]
pub struct Lease {
    /// The subject, when the token has one (only then can it be refreshed).
    pub subject: Option<String>,
    /// The scopes the stream was opened with; a refresh must cover them.
    pub scopes: Vec<String>,
    /// The key that signed the token; a swap that removes it ends the stream.
    pub key: KeyId,
    expires_at: AtomicU64,
    /// Woken when the lease is extended.
    pub extended: Notify,
}

impl Lease {
    /// A lease for a verified token.
    pub fn new(identity: &Identity) -> Lease {
        Lease {
            subject: identity.subject.clone(),
            scopes: identity.scopes.clone(),
            key: identity.key.clone(),
            expires_at: AtomicU64::new(identity.expires_at),
            extended: Notify::new(),
        }
    }

    /// When the stream must end, in Unix seconds.
    pub fn expires_at(&self) -> u64 {
        self.expires_at.load(Ordering::Acquire)
    }

    /// The tokio instant of `expires_at`.
    pub fn deadline(&self) -> Instant {
        instant_of(self.expires_at())
    }

    fn extend_to(&self, expires_at: u64) -> bool {
        let previous = self.expires_at.fetch_max(expires_at, Ordering::AcqRel);
        let extended = expires_at > previous;
        if extended {
            // One waiter (the pump); a stored permit covers a pump busy elsewhere right now.
            self.extended.notify_one();
        }
        extended
    }
}

/// The tokio instant at Unix second `unix` (now, when it has passed).
pub fn instant_of(unix: u64) -> Instant {
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    Instant::now() + Duration::from_secs(unix).saturating_sub(now)
}

/// Tenant and subject.
type SubjectKey = (String, String);

/// The node's registry of refreshable leases, by tenant and subject.
#[derive(Debug, Default)]
pub struct Leases {
    by_subject: Mutex<HashMap<SubjectKey, Vec<Weak<Lease>>>>,
}

impl Leases {
    /// Registers `lease` of `tenant` if it has a subject (leases without one never refresh).
    pub fn register(&self, tenant: &str, lease: &Arc<Lease>) {
        let Some(subject) = &lease.subject else {
            return;
        };
        let mut map = self
            .by_subject
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let entry = map.entry((tenant.to_owned(), subject.clone())).or_default();
        entry.retain(|weak| weak.strong_count() > 0);
        entry.push(Arc::downgrade(lease));
    }

    /// Extends every open stream of `tenant` and the identity's subject to the identity's
    /// expiry, all or none: when the identity lacks a scope some stream was opened with,
    /// nothing is extended and `Err` says so. Returns how many streams were extended.
    pub fn refresh(&self, tenant: &str, identity: &Identity) -> Result<usize, NarrowerScopes> {
        let Some(subject) = &identity.subject else {
            return Ok(0);
        };
        let mut map = self
            .by_subject
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let Some(entry) = map.get_mut(&(tenant.to_owned(), subject.clone())) else {
            return Ok(0);
        };
        entry.retain(|weak| weak.strong_count() > 0);
        let live: Vec<Arc<Lease>> = entry.iter().filter_map(Weak::upgrade).collect();
        if live.iter().any(|lease| !identity.covers(&lease.scopes)) {
            return Err(NarrowerScopes);
        }
        Ok(live
            .iter()
            .filter(|lease| lease.extend_to(identity.expires_at))
            .count())
    }
}

/// A refresh token lacks a scope an open stream of its subject was opened with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NarrowerScopes;
