//! The end-to-end harness: a real node started in-process from a real config file on port 0,
//! real upstreams on sockets, real HTTP/1.1, h2 and TLS clients.

pub mod browser;
pub mod certs;
pub mod client;
pub mod fleet;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Once;
use std::time::Duration;

use sluice_data_plane::RunningNode;
use sluice_demo_upstream::scripted::ScriptedUpstream;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub use client::Client;

/// How long any single wait in a test may take before the test fails (a guard, not a clock).
pub const GUARD: Duration = Duration::from_secs(10);

/// Process-wide setup: one crypto provider, logs on when `SLUICE_TEST_LOG` is set.
pub fn init() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        sluice_data_plane::tls::install_crypto_provider();
        if let Ok(filter) = std::env::var("SLUICE_TEST_LOG") {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(filter)
                .with_test_writer()
                .try_init();
        }
    });
}

/// A scripted upstream on a fresh port.
pub async fn upstream() -> ScriptedUpstream {
    init();
    let listener = TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind upstream");
    ScriptedUpstream::start(listener).expect("start upstream")
}

/// A node running from a config file in its own temp dir.
pub struct TestNode {
    /// The config file's folder; tests write certificates and new configs here.
    pub dir: tempfile::TempDir,
    /// The running node.
    pub node: Option<RunningNode>,
    stop: Option<oneshot::Sender<()>>,
}

impl TestNode {
    /// Starts a node from `yaml` (written to `sluice.yaml` in a fresh temp dir).
    pub async fn start(yaml: &str) -> TestNode {
        let dir = tempfile::tempdir().expect("temp dir");
        Self::start_in(dir, yaml).await
    }

    /// Starts a node from `yaml` in `dir` (which may already hold certificates).
    pub async fn start_in(dir: tempfile::TempDir, yaml: &str) -> TestNode {
        init();
        let path = dir.path().join("sluice.yaml");
        std::fs::write(&path, yaml).expect("write config");
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let node = sluice_data_plane::start_from_file(&path, shutdown)
            .await
            .unwrap_or_else(|error| panic!("node did not start: {error}"));
        TestNode {
            dir,
            node: Some(node),
            stop: Some(stop),
        }
    }

    /// The first listener's address.
    pub fn addr(&self) -> SocketAddr {
        self.running().listen_addrs[0]
    }

    /// The admin listener's address.
    pub fn admin(&self) -> SocketAddr {
        self.running()
            .admin_addr
            .expect("config has an admin listener")
    }

    /// The config file's path.
    pub fn config_path(&self) -> PathBuf {
        self.dir.path().join("sluice.yaml")
    }

    /// The running node.
    pub fn running(&self) -> &RunningNode {
        self.node.as_ref().expect("node is running")
    }

    /// Starts draining; returns the node so the test can wait for it to stop.
    pub fn begin_shutdown(&mut self) -> RunningNode {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.node.take().expect("node is running")
    }

    /// The Prometheus text of the node's metrics.
    pub fn metrics(&self) -> String {
        self.running().state.metrics.render()
    }
}

/// The value of the series `name{labels}` in a Prometheus text dump, or 0 when absent.
pub fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|line| {
            line.strip_prefix(series)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
        .unwrap_or(0.0)
}

/// A one-tenant config with path prefix `/t/acme` and route `/events` to `upstream_url`,
/// plus `extra` YAML appended to the route.
pub fn one_route(upstream_url: &str, extra_route_yaml: &str) -> String {
    format!(
        r#"version: 1
listeners:
  - address: 127.0.0.1:0
admin:
  address: 127.0.0.1:0
tenants:
  acme:
    hosts: [acme.sse.example.test]
    path_prefix: /t/acme
    routes:
      events:
        path: /events
        public: true
        upstream:
          url: {upstream_url}
{extra_route_yaml}
"#
    )
}
