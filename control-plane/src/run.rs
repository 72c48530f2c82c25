//! Starting and stopping a control plane: open and migrate the store, make sure an admin
//! token exists, then serve the REST API and the gRPC config API until shutdown.

use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;

use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tonic::transport::Identity;

use crate::api::{AppState, router};
use crate::store::{Store, StoreError, follow, tokens};

/// How a control plane is set up.
#[derive(Debug, Clone)]
pub struct ControlPlaneOptions {
    /// `postgres://…` to use Postgres; `None` for an embedded SQLite file in `data_dir`.
    pub database_url: Option<String>,
    /// Where the SQLite file (`sluice.db`) lives; relative config paths resolve here too.
    /// Default `./sluice-data`.
    pub data_dir: PathBuf,
    /// The first global admin token (`--admin-token`, `SLUICE_ADMIN_TOKEN`). Without it, one
    /// is generated at the first start and returned once.
    pub admin_token: Option<String>,
    /// A PEM certificate chain and private key: serve gRPC over TLS.
    pub grpc_tls: Option<(PathBuf, PathBuf)>,
}

impl Default for ControlPlaneOptions {
    fn default() -> Self {
        Self {
            database_url: None,
            data_dir: PathBuf::from("./sluice-data"),
            admin_token: None,
            grpc_tls: None,
        }
    }
}

/// Why the control plane could not start or stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The store could not be opened, migrated or used.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A listener or certificate file failed.
    #[error("{context}: {error}")]
    Io {
        /// What was being done.
        context: String,
        /// The failure.
        error: std::io::Error,
    },
    /// The gRPC server failed.
    #[error("gRPC server: {0}")]
    Grpc(#[from] tonic::transport::Error),
    /// A server task panicked or was cancelled.
    #[error("a server task ended abnormally: {0}")]
    Task(#[from] tokio::task::JoinError),
}

/// A running control plane.
#[derive(Debug)]
pub struct RunningControlPlane {
    /// Where the REST API listens.
    pub http_addr: SocketAddr,
    /// Where the gRPC config API listens.
    pub grpc_addr: SocketAddr,
    /// The first admin token, when this start generated it; shown once, never stored.
    pub generated_admin_token: Option<String>,
    store: Store,
    task: JoinHandle<Result<(), Error>>,
}

impl RunningControlPlane {
    /// The store it serves.
    pub fn store(&self) -> &Store {
        &self.store
    }

    /// Waits until both servers have stopped (after the shutdown future completed).
    pub async fn wait(self) -> Result<(), Error> {
        self.task.await?
    }
}

/// Opens the store and serves the REST API on `http_listener` and the config API on
/// `grpc_listener` until `shutdown` completes; open node streams are then ended.
pub async fn start(
    options: ControlPlaneOptions,
    http_listener: TcpListener,
    grpc_listener: TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<RunningControlPlane, Error> {
    let identity = match &options.grpc_tls {
        Some((cert, key)) => Some(Identity::from_pem(read(cert).await?, read(key).await?)),
        None => None,
    };
    let grpc_server = crate::grpc::server(identity)?;
    let store = Store::open(options.database_url.as_deref(), &options.data_dir).await?;
    let generated_admin_token = tokens::bootstrap(&store, options.admin_token.as_deref()).await?;
    let http_addr = local_addr(&http_listener)?;
    let grpc_addr = local_addr(&grpc_listener)?;

    let stop = CancellationToken::new();
    let trigger = stop.clone();
    tokio::spawn(async move {
        shutdown.await;
        trigger.cancel();
    });
    let follower = tokio::spawn(follow(store.clone(), stop.clone()));
    let app = router(AppState::new(store.clone())).merge(crate::console::routes());
    let http =
        axum::serve(http_listener, app).with_graceful_shutdown(stop.clone().cancelled_owned());
    let http = tokio::spawn(async move { http.await });
    let grpc = crate::grpc::serve(grpc_server, grpc_listener, store.clone(), stop);
    let grpc = tokio::spawn(grpc);
    let revision = store.current().revision;
    tracing::info!(%http_addr, %grpc_addr, revision, "control plane listening");

    let closing = store.clone();
    let task = tokio::spawn(async move {
        let http = http.await?;
        let grpc = grpc.await?;
        follower.await?;
        closing.close().await;
        tracing::info!("control plane stopped");
        http.map_err(|error| Error::Io {
            context: "HTTP server".into(),
            error,
        })?;
        grpc.map_err(Error::from)
    });
    Ok(RunningControlPlane {
        http_addr,
        grpc_addr,
        generated_admin_token,
        store,
        task,
    })
}

async fn read(path: &PathBuf) -> Result<Vec<u8>, Error> {
    tokio::fs::read(path).await.map_err(|error| Error::Io {
        context: format!("cannot read {}", path.display()),
        error,
    })
}

fn local_addr(listener: &TcpListener) -> Result<SocketAddr, Error> {
    listener.local_addr().map_err(|error| Error::Io {
        context: "listener address".into(),
        error,
    })
}
