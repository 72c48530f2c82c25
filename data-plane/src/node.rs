//! The node's shared state: the current snapshot behind one `ArcSwap`, the metrics, the
//! upstream clients and the shutdown signal.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use arc_swap::ArcSwapOption;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::auth::JwksCache;
use crate::lease::{Lease, Leases};
use crate::limits::Limiter;
use crate::metrics::Metrics;
use crate::snapshot::{Route, Snapshot};
use crate::upstream::UpstreamClients;

/// State every connection and stream of a node shares.
#[derive(Debug)]
pub struct NodeState {
    config: ArcSwapOption<Snapshot>,
    swapped: watch::Sender<u64>,
    refused: watch::Sender<u64>,
    /// The node's metrics.
    pub metrics: Metrics,
    /// Upstream clients, kept across swaps.
    pub clients: UpstreamClients,
    /// Live stream counts per tenant and subject, kept across swaps.
    pub limiter: Limiter,
    /// Fetched JWKS documents, kept across swaps.
    pub jwks: JwksCache,
    /// Token leases of open streams, for challenge responses.
    pub leases: Leases,
    /// Cancelled when the node starts draining.
    pub shutdown: CancellationToken,
    draining: AtomicBool,
}

impl Default for NodeState {
    fn default() -> Self {
        NodeState {
            config: ArcSwapOption::empty(),
            swapped: watch::Sender::new(0),
            refused: watch::Sender::new(0),
            metrics: Metrics::new(),
            clients: UpstreamClients::default(),
            limiter: Limiter::default(),
            jwks: JwksCache::default(),
            leases: Leases::default(),
            shutdown: CancellationToken::new(),
            draining: AtomicBool::new(false),
        }
    }
}

impl NodeState {
    /// A node whose upstream clients resolve names with `resolver`.
    pub fn with_resolver(resolver: crate::upstream::Resolver) -> NodeState {
        NodeState {
            clients: UpstreamClients::with_resolver(resolver),
            ..NodeState::default()
        }
    }

    /// The snapshot in force, if one was ever applied.
    pub fn snapshot(&self) -> Option<Arc<Snapshot>> {
        self.config.load_full()
    }

    /// Puts `snapshot` in force in one atomic step and tells open streams to check theirs.
    pub fn apply(&self, snapshot: Arc<Snapshot>) {
        self.config.store(Some(snapshot));
        self.swapped.send_modify(|generation| *generation += 1);
    }

    /// A receiver that wakes on every swap.
    pub fn swaps(&self) -> watch::Receiver<u64> {
        self.swapped.subscribe()
    }

    /// Records a refused config (counted in metrics, and visible to [`NodeState::refusals`]).
    pub fn refuse(&self) {
        self.metrics.config_loaded(false);
        self.refused.send_modify(|count| *count += 1);
    }

    /// A receiver that wakes on every refused config (tests wait on it instead of sleeping).
    pub fn refusals(&self) -> watch::Receiver<u64> {
        self.refused.subscribe()
    }

    /// Whether a stream on `route` may go on after a swap: its tenant and route (by name) still
    /// exist, and so does the key that signed its token. A route that merely changed keeps
    /// serving its open streams with their old settings.
    pub fn stream_alive(&self, route: &Route, lease: Option<&Lease>) -> bool {
        self.snapshot().is_some_and(|snapshot| {
            snapshot.has_route(&route.labels)
                && lease.is_none_or(|lease| snapshot.has_key(&route.labels.tenant, &lease.key))
        })
    }

    /// Ready to serve: a snapshot is in force and the node is not draining.
    pub fn is_ready(&self) -> bool {
        !self.draining.load(Ordering::Acquire) && self.config.load().is_some()
    }

    /// Starts draining: not ready any more, streams end with a `retry:`.
    pub fn drain(&self) {
        self.draining.store(true, Ordering::Release);
        self.shutdown.cancel();
    }
}
