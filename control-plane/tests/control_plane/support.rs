//! The harness: a database per test (a temporary SQLite file, or a fresh Postgres database
//! from `DATABASE_URL`), a control plane on port 0, and small HTTP and gRPC clients.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use sluice_control_plane::{ControlPlaneOptions, RunningControlPlane};
use sqlx::Connection;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

pub const ADMIN: &str = "test-admin-token";

/// Which store a test runs against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database for one test; a Postgres database is dropped when this is.
pub struct Db {
    pub url: Option<String>,
    pub dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl Db {
    /// A fresh database, or `None` (with the reason printed) when Postgres is not configured.
    pub async fn new(backend: Backend) -> Option<Db> {
        let dir = tempfile::tempdir().expect("temp dir");
        if backend == Backend::Sqlite {
            return Some(Db {
                url: None,
                dir,
                postgres: None,
            });
        }
        let Ok(admin_url) = std::env::var("DATABASE_URL") else {
            eprintln!("skipped: DATABASE_URL is not set, so there is no Postgres to test against");
            return None;
        };
        let name = format!("sluice_test_{:016x}", rand::random::<u64>());
        let mut conn = sqlx::PgConnection::connect(&admin_url)
            .await
            .expect("connect to DATABASE_URL");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut conn)
            .await
            .expect("create test database");
        let url = with_database(&admin_url, &name);
        Some(Db {
            url: Some(url),
            dir,
            postgres: Some((admin_url, name)),
        })
    }

    pub fn options(&self) -> ControlPlaneOptions {
        ControlPlaneOptions {
            database_url: self.url.clone(),
            data_dir: self.dir.path().join("data"),
            admin_token: Some(ADMIN.to_owned()),
            grpc_tls: None,
        }
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside async code; a thread with its own runtime does the cleanup.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build();
            runtime.expect("runtime").block_on(async {
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                    let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql))
                        .execute(&mut conn)
                        .await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// `url` with its database name replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let host_part = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    format!("{host_part}/{name}{query}")
}

/// A running control plane and a client for it.
pub struct Plane {
    pub running: Option<RunningControlPlane>,
    pub http: SocketAddr,
    pub grpc: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub json: Value,
    pub text: String,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The `path` of each entry of a problem's `errors`.
    pub fn error_paths(&self) -> Vec<String> {
        let errors = self.json["errors"].as_array().cloned().unwrap_or_default();
        errors
            .iter()
            .map(|e| e["path"].as_str().unwrap_or("?").to_owned())
            .collect()
    }
}

impl Plane {
    pub async fn start(options: ControlPlaneOptions) -> Plane {
        let http = TcpListener::bind("127.0.0.1:0").await.expect("bind http");
        let grpc = TcpListener::bind("127.0.0.1:0").await.expect("bind grpc");
        let (stop, stopped) = oneshot::channel::<()>();
        let shutdown = async move {
            let _ = stopped.await;
        };
        let running = sluice_control_plane::start(options, http, grpc, shutdown)
            .await
            .expect("control plane starts");
        Plane {
            http: running.http_addr,
            grpc: running.grpc_addr,
            running: Some(running),
            stop: Some(stop),
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    /// Stops the servers and waits for them.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(running) = self.running.take() {
            let waited = tokio::time::timeout(Duration::from_secs(10), running.wait()).await;
            waited.expect("stops in time").expect("stops cleanly");
        }
    }

    /// `method path` as the test admin, with an optional JSON body.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        self.send(method, path, Some(ADMIN), body, &[]).await
    }

    /// `method path` as the test admin with `body` sent as written.
    pub async fn send_text(&self, method: &str, path: &str, body: &str) -> Reply {
        let headers = [("content-type", "application/json")];
        self.request(method, path, Some(ADMIN), body.to_owned(), &headers)
            .await
    }

    /// The full request.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut all = headers.to_vec();
        if body.is_some() {
            all.push(("content-type", "application/json"));
        }
        let bytes = body.map(|b| b.to_string()).unwrap_or_default();
        self.request(method, path, token, bytes, &all).await
    }

    pub async fn request(
        &self,
        method: &str,
        path: &str,
        token: Option<&str>,
        bytes: String,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = http::Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.http));
        if let Some(token) = token {
            request = request.header("authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let request = request
            .body(Full::new(Bytes::from(bytes)))
            .expect("request");
        let response = self.client.request(request).await.expect("response");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
        let text = String::from_utf8_lossy(&body).into_owned();
        Reply {
            status,
            headers,
            json,
            text,
        }
    }

    /// The revision in force, as `/api/v1/snapshot` reports it.
    pub async fn revision(&self) -> u64 {
        let reply = self.call("GET", "/api/v1/snapshot", None).await;
        assert_eq!(reply.status, 200, "{:?}", reply.json);
        reply.json["revision"].as_u64().expect("revision")
    }

    /// Creates a tenant reached by path prefix `/t/{name}`; panics unless it is created.
    pub async fn tenant(&self, name: &str) {
        let body = serde_json::json!({ "name": name, "path_prefix": format!("/t/{name}") });
        let reply = self.call("POST", "/api/v1/tenants", Some(body)).await;
        assert_eq!(reply.status, 201, "{:?}", reply.json);
    }

    /// Creates a token of `kind` (and `tenant`) and returns its secret.
    pub async fn token(&self, name: &str, kind: &str, tenant: Option<&str>) -> String {
        let body = serde_json::json!({ "name": name, "kind": kind, "tenant": tenant });
        let reply = self.call("POST", "/api/v1/tokens", Some(body)).await;
        assert_eq!(reply.status, 201, "{:?}", reply.json);
        reply.json["token"].as_str().expect("token").to_owned()
    }
}

/// A public route to a local upstream, in the declarative shape.
pub fn route(path: &str) -> Value {
    serde_json::json!({
        "path": path,
        "public": true,
        "upstream": { "url": "http://127.0.0.1:9/stream", "headers": { "x-b": "1", "x-a": "2" } },
    })
}

/// Runs `case` against one backend, if it is available.
#[macro_export]
macro_rules! on_both {
    ($($case:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $case() {
                    let db = $crate::support::Db::new($crate::support::Backend::Sqlite).await;
                    if let Some(db) = db {
                        super::$case(db).await;
                    }
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $case() {
                    let db = $crate::support::Db::new($crate::support::Backend::Postgres).await;
                    if let Some(db) = db {
                        super::$case(db).await;
                    }
                }
            )*
        }
    };
}

#[test]
fn database_names_replace_the_last_path_segment() {
    let url = "postgres://postgres@127.0.0.1:5432/postgres";
    assert_eq!(
        with_database(url, "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    let url = "postgres://u:p@h/db?sslmode=disable";
    assert_eq!(
        with_database(url, "x"),
        "postgres://u:p@h/x?sslmode=disable"
    );
    assert_eq!(with_database("postgres://h", "x"), "postgres://h/x");
}

/// A throwaway CA and a `localhost` server certificate signed by it, written to `dir`:
/// `(CA PEM, chain file, key file)`.
pub fn tls_files(dir: &std::path::Path) -> (String, PathBuf, PathBuf) {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, ExtendedKeyUsagePurpose, IsCa,
        KeyPair, KeyUsagePurpose,
    };
    let mut ca = CertificateParams::new(Vec::<String>::new()).expect("ca params");
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.key_usages = vec![KeyUsagePurpose::KeyCertSign];
    let issuer = CertifiedIssuer::self_signed(ca, KeyPair::generate().expect("key")).expect("ca");
    let names = vec!["localhost".to_owned(), "127.0.0.1".to_owned()];
    let mut leaf = CertificateParams::new(names).expect("leaf params");
    leaf.is_ca = IsCa::ExplicitNoCa;
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let key = KeyPair::generate().expect("key");
    let cert = leaf.signed_by(&key, &issuer).expect("leaf");
    let chain = dir.join("grpc.pem");
    let key_file = dir.join("grpc.key");
    std::fs::write(&chain, format!("{}{}", cert.pem(), issuer.pem())).expect("write chain");
    std::fs::write(&key_file, key.serialize_pem()).expect("write key");
    (issuer.pem(), chain, key_file)
}
