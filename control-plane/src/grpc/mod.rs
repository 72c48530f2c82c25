//! The gRPC config API (`sluice.config.v1.ConfigDiscovery`, tonic): nodes open a `Watch`
//! stream with a node token, and receive the snapshot in force and every later one. The
//! standard health service (`grpc.health.v1`) is served beside it.

mod session;

use std::pin::Pin;
use std::time::Duration;

use futures_util::Stream;
use sluice_proto::config::v1::config_discovery_server::{ConfigDiscovery, ConfigDiscoveryServer};
use sluice_proto::config::v1::{ControlMessage, NodeMessage};
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Identity, Server, ServerTlsConfig};
use tonic::{Request, Response, Status, Streaming};

use crate::auth;
use crate::store::Store;

/// Messages queued for one node before the session waits for it to read.
const OUTBOUND: usize = 4;

/// The `ConfigDiscovery` service.
#[derive(Debug, Clone)]
pub struct ConfigService {
    store: Store,
    shutdown: CancellationToken,
}

impl ConfigService {
    /// A service over `store`; open streams end when `shutdown` is cancelled.
    pub fn new(store: Store, shutdown: CancellationToken) -> Self {
        Self { store, shutdown }
    }
}

type WatchStream = Pin<Box<dyn Stream<Item = Result<ControlMessage, Status>> + Send>>;

#[tonic::async_trait]
impl ConfigDiscovery for ConfigService {
    type WatchStream = WatchStream;

    async fn watch(
        &self,
        request: Request<Streaming<NodeMessage>>,
    ) -> Result<Response<WatchStream>, Status> {
        let token = request
            .metadata()
            .get("authorization")
            .and_then(|value| value.to_str().ok())
            .and_then(auth::bearer)
            .ok_or_else(|| {
                Status::unauthenticated("send a node token as `authorization: Bearer`")
            })?;
        let found = auth::node(&self.store, token).await.map_err(|error| {
            tracing::error!(%error, "cannot check a node token");
            Status::unavailable("the store is unavailable")
        })?;
        let token_name = found.ok_or_else(|| Status::unauthenticated("unknown node token"))?;
        let (out, rx) = mpsc::channel(OUTBOUND);
        let inbound = request.into_inner();
        let session = session::run(
            self.store.clone(),
            token_name,
            inbound,
            out,
            self.shutdown.clone(),
        );
        tokio::spawn(session);
        let stream = futures_util::stream::unfold(rx, |mut rx| async move {
            rx.recv().await.map(|message| (message, rx))
        });
        Ok(Response::new(Box::pin(stream)))
    }
}

/// The gRPC server, with TLS when a PEM certificate chain and key are given. Built before
/// serving so a bad certificate stops the start instead of a background task.
pub fn server(tls: Option<Identity>) -> Result<Server, tonic::transport::Error> {
    let builder = Server::builder()
        // Finds nodes that vanished without closing their stream.
        .http2_keepalive_interval(Some(Duration::from_secs(30)))
        .http2_keepalive_timeout(Some(Duration::from_secs(10)));
    match tls {
        Some(identity) => builder.tls_config(ServerTlsConfig::new().identity(identity)),
        None => Ok(builder),
    }
}

/// Serves the config and health services on `listener` until `shutdown`.
pub async fn serve(
    mut server: Server,
    listener: TcpListener,
    store: Store,
    shutdown: CancellationToken,
) -> Result<(), tonic::transport::Error> {
    let (health, health_service) = tonic_health::server::health_reporter();
    health
        .set_serving::<ConfigDiscoveryServer<ConfigService>>()
        .await;
    let service = ConfigService::new(store, shutdown.clone());
    server
        .add_service(health_service)
        .add_service(ConfigDiscoveryServer::new(service))
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), shutdown.cancelled_owned())
        .await
}
