//! A control plane, managed nodes and the demo upstream, all in-process on port 0.

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use serde_json::{Value, json};
use sluice_control_plane::{ControlPlaneOptions, RunningControlPlane};
use sluice_data_plane::RunningNode;
use sluice_data_plane::config::{HttpVersion, Listener};
use sluice_data_plane::managed::{ExtraCheck, ManagedOptions};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use super::{Client, GUARD, init};

/// The admin token every test control plane starts with.
pub const ADMIN: &str = "e2e-admin-token";

/// A running control plane.
pub struct Plane {
    /// Its handle.
    pub running: Option<RunningControlPlane>,
    stop: Option<oneshot::Sender<()>>,
}

impl Plane {
    /// Starts a control plane on a SQLite file in `dir`.
    pub async fn start(dir: &Path) -> Plane {
        init();
        let options = ControlPlaneOptions {
            database_url: None,
            data_dir: dir.to_owned(),
            admin_token: Some(ADMIN.to_owned()),
            grpc_tls: None,
        };
        let http = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let grpc = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let running = sluice_control_plane::start(options, http, grpc, shutdown)
            .await
            .unwrap();
        Plane {
            running: Some(running),
            stop: Some(stop),
        }
    }

    /// The REST API's address.
    pub fn http(&self) -> SocketAddr {
        self.running.as_ref().unwrap().http_addr
    }

    /// The gRPC URL.
    pub fn grpc_url(&self) -> String {
        format!("http://{}", self.running.as_ref().unwrap().grpc_addr)
    }

    /// Calls the admin API as the global admin; returns status and JSON.
    pub async fn api(&self, method: &str, path: &str, body: Value) -> (u16, Value) {
        let bearer = format!("Bearer {ADMIN}");
        let mut client = Client::h1(self.http()).await;
        client
            .json(method, path, &[("authorization", &bearer)], &body)
            .await
    }

    /// Like `api`, asserting the status.
    pub async fn expect(&self, status: u16, method: &str, path: &str, body: Value) -> Value {
        let (got, answer) = self.api(method, path, body).await;
        assert_eq!(got, status, "{method} {path}: {answer}");
        answer
    }

    /// A fresh node token.
    pub async fn node_token(&self, name: &str) -> String {
        let body = json!({ "kind": "node", "name": name });
        let answer = self.expect(201, "POST", "/api/v1/tokens", body).await;
        answer["token"].as_str().unwrap().to_owned()
    }

    /// The revision in force.
    pub async fn revision(&self) -> u64 {
        let answer = self
            .expect(200, "GET", "/api/v1/snapshot", Value::Null)
            .await;
        answer["revision"].as_u64().unwrap()
    }

    /// Waits until `check` holds for the `/api/v1/nodes` answer (acks arrive asynchronously).
    pub async fn nodes_until(&self, check: impl Fn(&Value) -> bool) -> Value {
        let poll = async {
            loop {
                let nodes = self.expect(200, "GET", "/api/v1/nodes", Value::Null).await;
                if check(&nodes) {
                    return nodes;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        tokio::time::timeout(GUARD, poll)
            .await
            .expect("the fleet reached the expected state")
    }

    /// Stops the control plane and waits for it.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(running) = self.running.take() {
            let _ = running.wait().await;
        }
    }
}

/// A managed node.
pub struct Node {
    /// The running node.
    pub node: RunningNode,
    _stop: oneshot::Sender<()>,
}

impl Node {
    /// Starts a managed node following `grpc_url`, caching in `cache`.
    pub async fn start(
        id: &str,
        grpc_url: &str,
        token: &str,
        cache: &Path,
        extra_check: Option<ExtraCheck>,
    ) -> Node {
        init();
        let options = ManagedOptions {
            control_plane: grpc_url.to_owned(),
            control_plane_ca: None,
            node_token: token.to_owned(),
            node_id: id.to_owned(),
            labels: Default::default(),
            cache_dir: Some(cache.to_owned()),
            listeners: vec![Listener {
                address: "127.0.0.1:0".to_owned(),
                versions: vec![HttpVersion::Http1, HttpVersion::H2],
                tls: None,
            }],
            admin: Some("127.0.0.1:0".to_owned()),
            extra_check,
        };
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let node = sluice_data_plane::managed::start_managed(options, shutdown)
            .await
            .unwrap();
        Node { node, _stop: stop }
    }

    /// The client listener's address.
    pub fn addr(&self) -> SocketAddr {
        self.node.listen_addrs[0]
    }

    /// Waits until the node serves revision `revision` or later.
    pub async fn applied(&self, revision: u64) {
        let mut swaps = self.node.state.swaps();
        let wait = async {
            while self
                .node
                .state
                .snapshot()
                .is_none_or(|s| s.revision < revision)
            {
                swaps.changed().await.unwrap();
            }
        };
        tokio::time::timeout(GUARD, wait)
            .await
            .expect("the node applied the revision");
    }
}
