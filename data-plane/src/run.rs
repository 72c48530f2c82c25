//! A node's lifecycle: load the first snapshot, bind, serve, reload, drain, stop.
//!
//! `start_from_file` returns as soon as every socket is bound, with the addresses it got (tests
//! bind port 0), so callers and tests differ only in the shutdown signal they pass.

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::config::ConfigErrors;
use crate::node::NodeState;
use crate::snapshot::Snapshot;
use crate::upstream::Resolver;
use crate::{admin, listen, reload};

/// Why a node did not start.
#[derive(Debug)]
pub enum StartError {
    /// The config file is invalid; every error is listed.
    Config(ConfigErrors),
    /// A socket could not be bound.
    Bind {
        address: String,
        error: std::io::Error,
    },
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::Config(errors) => write!(f, "invalid config:\n{errors}"),
            StartError::Bind { address, error } => write!(f, "cannot listen on {address}: {error}"),
        }
    }
}

impl std::error::Error for StartError {}

/// A started node.
#[derive(Debug)]
pub struct RunningNode {
    /// The bound address of each configured listener, in config order.
    pub listen_addrs: Vec<SocketAddr>,
    /// The bound admin address, when the config has one.
    pub admin_addr: Option<SocketAddr>,
    /// The node's shared state (metrics, snapshot).
    pub state: Arc<NodeState>,
    task: JoinHandle<()>,
}

impl RunningNode {
    /// Waits until the node has drained and stopped.
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Starts a standalone node from the declarative file at `path`, watching it for changes, and
/// drains when `shutdown` resolves.
pub async fn start_from_file(
    path: &Path,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<RunningNode, StartError> {
    start_from_file_with(path, Resolver::default(), shutdown).await
}

/// [`start_from_file`] with fixed addresses for some upstream host names.
pub async fn start_from_file_with(
    path: &Path,
    resolver: Resolver,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<RunningNode, StartError> {
    let state = Arc::new(NodeState::with_resolver(resolver));
    let snapshot = Arc::new(reload::load_file(path, &state, 1).map_err(StartError::Config)?);
    let addresses = snapshot
        .listeners
        .iter()
        .map(|l| l.address.clone())
        .collect();
    let admin = snapshot.admin.clone();
    state.apply(snapshot.clone());
    log_applied(&snapshot);
    let watch = reload::watch_file(PathBuf::from(path), state.clone());
    launch(state, addresses, admin, shutdown, watch).await
}

/// Binds `addresses` (listener `i` serves the snapshot's listener `i`) and the admin address,
/// then serves until `shutdown`; `source` (the config follower) is stopped on drain.
pub async fn launch(
    state: Arc<NodeState>,
    addresses: Vec<String>,
    admin: Option<String>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    source: JoinHandle<()>,
) -> Result<RunningNode, StartError> {
    let bound = bind_listeners(&addresses).await;
    let (listeners, listen_addrs) = match bound {
        Ok(bound) => bound,
        Err(error) => {
            source.abort();
            return Err(error);
        }
    };
    let admin = match &admin {
        Some(address) => Some(bind(address).await?),
        None => None,
    };
    let admin_addr = admin.as_ref().and_then(|l| l.local_addr().ok());
    let task = tokio::spawn(serve(state.clone(), listeners, admin, shutdown, source));
    Ok(RunningNode {
        listen_addrs,
        admin_addr,
        state,
        task,
    })
}

/// Logs a snapshot put in force, with counts.
pub fn log_applied(snapshot: &Snapshot) {
    let routes: usize = snapshot.tenants.iter().map(|t| t.routes.len()).sum();
    tracing::info!(
        revision = snapshot.revision,
        source = %snapshot.source,
        tenants = snapshot.tenants.len(),
        routes,
        "config applied"
    );
}

async fn bind(address: &str) -> Result<TcpListener, StartError> {
    TcpListener::bind(address)
        .await
        .map_err(|error| StartError::Bind {
            address: address.to_owned(),
            error,
        })
}

async fn bind_listeners(
    addresses: &[String],
) -> Result<(Vec<TcpListener>, Vec<SocketAddr>), StartError> {
    let mut listeners = Vec::new();
    let mut addrs = Vec::new();
    for address in addresses {
        let listener = bind(address).await?;
        let addr = listener.local_addr().map_err(|error| StartError::Bind {
            address: address.clone(),
            error,
        })?;
        tracing::info!(%addr, "listening");
        listeners.push(listener);
        addrs.push(addr);
    }
    Ok((listeners, addrs))
}

async fn serve(
    state: Arc<NodeState>,
    listeners: Vec<TcpListener>,
    admin: Option<TcpListener>,
    shutdown: impl Future<Output = ()>,
    watch: JoinHandle<()>,
) {
    let graceful = Arc::new(GracefulShutdown::new());
    let accepting: Vec<_> = listeners
        .into_iter()
        .enumerate()
        .map(|(index, listener)| {
            tokio::spawn(listen::run(
                listener,
                index,
                state.clone(),
                graceful.clone(),
            ))
        })
        .collect();
    let admin_stop = CancellationToken::new();
    if let Some(admin) = admin {
        tokio::spawn(admin::run(admin, state.clone(), admin_stop.clone()));
    }

    shutdown.await;
    let grace = state
        .snapshot()
        .map_or(Duration::from_secs(10), |s| s.shutdown_grace);
    tracing::info!(grace_ms = grace.as_millis() as u64, "draining");
    state.drain();
    watch.abort();
    for task in accepting {
        let _ = task.await;
    }
    // Every listener task has ended, so this is the last handle.
    let Ok(graceful) = Arc::try_unwrap(graceful) else {
        return tracing::error!("connections still registered by a listener");
    };
    if tokio::time::timeout(grace, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("grace period over; closing the remaining connections");
    }
    admin_stop.cancel();
    tracing::info!("stopped");
}
