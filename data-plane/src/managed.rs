//! Managed mode: a node that follows a control plane over the gRPC `Watch` stream, applies
//! each snapshot with the same compile and swap as a file reload, answers with an ack or a
//! nack, and caches the last good snapshot on disk so a restart without the control plane
//! still serves.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use sluice_proto::config::v1::config_discovery_client::ConfigDiscoveryClient;
use sluice_proto::config::v1::{
    Ack, Hello, Nack, NodeMessage, Snapshot as Push, Status, control_message, node_message,
};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Certificate, Channel, ClientTlsConfig};

use crate::config::{self, ConfigErrors};
use crate::node::NodeState;
use crate::run::{self, RunningNode, StartError};
use crate::snapshot::{self, Snapshot};

/// How often a node reports its open streams.
const STATUS_INTERVAL: Duration = Duration::from_secs(10);
/// Reconnect backoff bounds.
const BACKOFF_MIN: Duration = Duration::from_millis(250);
const BACKOFF_MAX: Duration = Duration::from_secs(30);

/// An extra check a snapshot must pass on this node, for tests that need a node to refuse
/// what the control plane accepted. Returns the error to report.
pub type ExtraCheck = Arc<dyn Fn(&config::Config) -> Option<String> + Send + Sync>;

/// How a managed node runs.
#[derive(Clone)]
pub struct ManagedOptions {
    /// The control plane's gRPC URL (`http://host:port` or `https://host:port`).
    pub control_plane: String,
    /// An extra CA (PEM) for an https control plane.
    pub control_plane_ca: Option<PathBuf>,
    /// The node token (sent as `authorization: Bearer`).
    pub node_token: String,
    /// This node's stable id.
    pub node_id: String,
    /// Labels reported in the hello.
    pub labels: BTreeMap<String, String>,
    /// Where the last applied snapshot is kept; `None` keeps nothing.
    pub cache_dir: Option<PathBuf>,
    /// Client-facing listeners (a managed node takes them from flags, not snapshots).
    pub listeners: Vec<config::Listener>,
    /// The admin listener's address.
    pub admin: Option<String>,
    /// See [`ExtraCheck`].
    pub extra_check: Option<ExtraCheck>,
}

impl std::fmt::Debug for ManagedOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ManagedOptions")
            .field("control_plane", &self.control_plane)
            .field("node_id", &self.node_id)
            .field("cache_dir", &self.cache_dir)
            .finish_non_exhaustive()
    }
}

/// Starts a managed node: serves the cached snapshot if there is one, and follows the control
/// plane until `shutdown` resolves.
pub async fn start_managed(
    options: ManagedOptions,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<RunningNode, StartError> {
    let state = Arc::new(NodeState::default());
    let options = Arc::new(options);
    if let Some(snapshot) = load_cache(&options, &state) {
        tracing::info!(revision = snapshot.revision, "serving the cached snapshot");
        state.apply(Arc::new(snapshot));
    }
    let addresses = options
        .listeners
        .iter()
        .map(|l| l.address.clone())
        .collect();
    let follower = tokio::spawn(follow(options.clone(), state.clone()));
    run::launch(state, addresses, options.admin.clone(), shutdown, follower).await
}

/// Compiles a pushed config with this node's listeners.
fn compile(
    options: &ManagedOptions,
    state: &NodeState,
    revision: u64,
    json: &str,
    source: String,
) -> Result<Snapshot, ConfigErrors> {
    let mut config = config::parse(json, Path::new("/"), &|_| None)?;
    config.listeners = options.listeners.clone();
    config.admin = options
        .admin
        .clone()
        .map(|address| config::Admin { address });
    if let Some(error) = options
        .extra_check
        .as_ref()
        .and_then(|check| check(&config))
    {
        return Err(config::ConfigError::new("", error).into());
    }
    let mut snapshot = snapshot::compile(&config, state, revision, source)?;
    snapshot.loaded_at_unix = crate::reload::unix_now();
    Ok(snapshot)
}

/// Keeps one `Watch` session open, reconnecting with jittered backoff until the node drains.
async fn follow(options: Arc<ManagedOptions>, state: Arc<NodeState>) {
    let mut backoff = BACKOFF_MIN;
    loop {
        match session(&options, &state).await {
            Ok(()) => backoff = BACKOFF_MIN,
            Err(error) => {
                tracing::warn!(%error, url = %options.control_plane, "control plane unreachable")
            }
        }
        let wait = backoff.mul_f64(rand::rng().random_range(0.5..1.0));
        tokio::select! {
            () = state.shutdown.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        backoff = (backoff * 2).min(BACKOFF_MAX);
    }
}

type SessionError = Box<dyn std::error::Error + Send + Sync>;

async fn session(options: &ManagedOptions, state: &Arc<NodeState>) -> Result<(), SessionError> {
    let channel = connect(options).await?;
    let (tx, rx) = mpsc::channel(16);
    tx.send(hello(options, state)).await?;
    let mut request = tonic::Request::new(ReceiverStream::new(rx));
    let bearer = format!("Bearer {}", options.node_token).parse()?;
    request.metadata_mut().insert("authorization", bearer);
    let mut inbound = ConfigDiscoveryClient::new(channel)
        .watch(request)
        .await?
        .into_inner();
    tracing::info!(url = %options.control_plane, "watching the control plane");
    let mut status = tokio::time::interval(STATUS_INTERVAL);
    loop {
        tokio::select! {
            () = state.shutdown.cancelled() => return Ok(()),
            _ = status.tick() => tx.send(report(state)).await?,
            message = inbound.message() => {
                let Some(message) = message? else { return Ok(()) };
                if let Some(control_message::Message::Snapshot(push)) = message.message {
                    tx.send(apply(options, state, push).await).await?;
                }
            }
        }
    }
}

async fn connect(options: &ManagedOptions) -> Result<Channel, SessionError> {
    let mut endpoint = Channel::from_shared(options.control_plane.clone())?
        .connect_timeout(Duration::from_secs(5))
        .http2_keep_alive_interval(Duration::from_secs(30));
    if options.control_plane.starts_with("https://") {
        let mut tls = ClientTlsConfig::new().with_native_roots();
        if let Some(ca) = &options.control_plane_ca {
            tls = tls.ca_certificate(Certificate::from_pem(std::fs::read(ca)?));
        }
        endpoint = endpoint.tls_config(tls)?;
    }
    Ok(endpoint.connect().await?)
}

fn hello(options: &ManagedOptions, state: &NodeState) -> NodeMessage {
    let revision = state.snapshot().map_or(0, |s| s.revision);
    let hello = Hello {
        node_id: options.node_id.clone(),
        labels: options.labels.clone().into_iter().collect(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        revision,
    };
    NodeMessage {
        message: Some(node_message::Message::Hello(hello)),
    }
}

fn report(state: &NodeState) -> NodeMessage {
    let status = Status {
        applied_revision: state.snapshot().map_or(0, |s| s.revision),
        active_streams: state.limiter.active_by_tenant().into_iter().collect(),
    };
    NodeMessage {
        message: Some(node_message::Message::Status(status)),
    }
}

/// Compiles and applies a pushed snapshot off the async threads; acks or nacks it.
async fn apply(options: &ManagedOptions, state: &Arc<NodeState>, push: Push) -> NodeMessage {
    let Push {
        revision,
        nonce,
        config_json,
    } = push;
    let source = format!("control-plane:{}", options.control_plane);
    let (owned_options, owned_state, json) = (options.clone(), state.clone(), config_json.clone());
    let compiled = tokio::task::spawn_blocking(move || {
        compile(&owned_options, &owned_state, revision, &json, source)
    })
    .await
    .unwrap_or_else(|error| Err(config::ConfigError::new("", error.to_string()).into()));
    match compiled {
        Ok(snapshot) => {
            let snapshot = Arc::new(snapshot);
            state.apply(snapshot.clone());
            state.metrics.config_loaded(true);
            run::log_applied(&snapshot);
            store_cache(options, revision, &config_json);
            NodeMessage {
                message: Some(node_message::Message::Ack(Ack { revision, nonce })),
            }
        }
        Err(errors) => {
            state.refuse();
            tracing::warn!(revision, %errors, "snapshot refused");
            let nack = Nack {
                revision,
                nonce,
                error: errors.to_string(),
            };
            NodeMessage {
                message: Some(node_message::Message::Nack(nack)),
            }
        }
    }
}

fn cache_file(options: &ManagedOptions) -> Option<PathBuf> {
    options
        .cache_dir
        .as_ref()
        .map(|dir| dir.join("snapshot.json"))
}

/// Keeps the applied snapshot on disk: written beside and renamed, so a crash leaves the old
/// file or the new one, never half of one.
fn store_cache(options: &ManagedOptions, revision: u64, config_json: &str) {
    let Some(path) = cache_file(options) else {
        return;
    };
    let body = serde_json::json!({ "revision": revision, "config_json": config_json }).to_string();
    let staged = path.with_extension("json.tmp");
    let written = path
        .parent()
        .map_or(Ok(()), std::fs::create_dir_all)
        .and_then(|()| std::fs::write(&staged, body))
        .and_then(|()| std::fs::rename(&staged, &path));
    if let Err(error) = written {
        tracing::warn!(%error, path = %path.display(), "cannot cache the snapshot");
    }
}

fn load_cache(options: &ManagedOptions, state: &NodeState) -> Option<Snapshot> {
    let path = cache_file(options)?;
    let text = std::fs::read_to_string(&path).ok()?;
    let cached: serde_json::Value = serde_json::from_str(&text).ok()?;
    let revision = cached["revision"].as_u64()?;
    let json = cached["config_json"].as_str()?;
    let source = format!("cache:{}", path.display());
    compile(options, state, revision, json, source)
        .map_err(|errors| tracing::warn!(%errors, "the cached snapshot is not valid"))
        .ok()
}
