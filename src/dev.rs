//! `sluice dev`: a control plane on an embedded SQLite file, one managed node and the demo
//! upstream in one process, with a demo tenant made once through the admin API, and what a
//! newcomer needs printed: console URL, admin token, a client token and a `curl` line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use sluice_data_plane::auth::{Alg, mint};
use sluice_data_plane::config::{HttpVersion, Listener};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// Where each part listens.
#[derive(Debug, Clone)]
pub struct Ports {
    pub console: String,
    pub grpc: String,
    pub node: String,
    pub node_admin: String,
    pub upstream: String,
}

/// What a first start creates and later starts reuse (a dev convenience: the admin token is
/// kept in clear in the data folder).
#[derive(Debug)]
struct DevState {
    admin_token: String,
    node_token: Option<String>,
    key_pem: String,
    kid: String,
}

const ISSUER: &str = "https://sluice.dev/demo";
const AUDIENCE: &str = "sluice-demo";

type DevError = Box<dyn std::error::Error + Send + Sync>;

/// Runs everything until `shutdown` resolves.
pub async fn run(
    data_dir: PathBuf,
    ports: Ports,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), DevError> {
    let stop = CancellationToken::new();
    let trigger = stop.clone();
    tokio::spawn(async move {
        shutdown.await;
        trigger.cancel();
    });
    std::fs::create_dir_all(&data_dir)?;
    let (mut state, jwk) = load_or_create_state(&data_dir)?;

    let upstream = bind(&ports.upstream).await?;
    let upstream_addr = upstream.local_addr()?;
    let demo = sluice_demo_upstream::demo::DemoConfig {
        interval: Duration::from_secs(1),
    };
    let upstream_task = tokio::spawn(sluice_demo_upstream::demo::run(
        upstream,
        demo,
        stop.clone().cancelled_owned(),
    ));

    let options = sluice_control_plane::ControlPlaneOptions {
        database_url: None,
        data_dir: data_dir.clone(),
        admin_token: Some(state.admin_token.clone()),
        grpc_tls: None,
    };
    let (http, grpc) = (bind(&ports.console).await?, bind(&ports.grpc).await?);
    let plane =
        sluice_control_plane::start(options, http, grpc, stop.clone().cancelled_owned()).await?;
    let api = Api {
        addr: plane.http_addr.to_string(),
        token: state.admin_token.clone(),
    };
    let console = format!("http://{}", plane.http_addr);
    ensure_demo_tenant(&api, &jwk, &console, &format!("http://{upstream_addr}")).await?;
    if state.node_token.is_none() {
        let answer = api
            .call(
                "POST",
                "/api/v1/tokens",
                json!({"kind": "node", "name": "dev-node"}),
            )
            .await?;
        state.node_token = answer.1["token"].as_str().map(str::to_owned);
        save_state(&data_dir, &state)?;
    }

    let node = start_node(&data_dir, &ports, &plane, &state, &stop).await?;
    let node_addr = node.listen_addrs[0];
    // The printed curl line must work at once: wait for the node's first snapshot.
    let mut swaps = node.state.swaps();
    let applied = async {
        while node.state.snapshot().is_none() {
            if swaps.changed().await.is_err() {
                break;
            }
        }
    };
    if tokio::time::timeout(Duration::from_secs(30), applied)
        .await
        .is_err()
    {
        return Err("the node got no config from the control plane within 30 s".into());
    }
    print_welcome(&console, &state, node_addr, &data_dir.join("demo-key.pem"))?;
    let (_, _, _) = (node.wait().await, plane.wait().await, upstream_task.await);
    Ok(())
}

async fn start_node(
    data_dir: &Path,
    ports: &Ports,
    plane: &sluice_control_plane::RunningControlPlane,
    state: &DevState,
    stop: &CancellationToken,
) -> Result<sluice_data_plane::RunningNode, DevError> {
    let options = sluice_data_plane::managed::ManagedOptions {
        control_plane: format!("http://{}", plane.grpc_addr),
        control_plane_ca: None,
        node_token: state.node_token.clone().unwrap_or_default(),
        node_id: "dev-node".to_owned(),
        labels: [("role".to_owned(), "dev".to_owned())].into(),
        cache_dir: Some(data_dir.join("node-cache")),
        listeners: vec![Listener {
            address: ports.node.clone(),
            versions: vec![HttpVersion::Http1, HttpVersion::H2],
            tls: None,
        }],
        admin: Some(ports.node_admin.clone()),
        extra_check: None,
    };
    let node = sluice_data_plane::managed::start_managed(options, stop.clone().cancelled_owned());
    Ok(node.await?)
}

fn print_welcome(
    console: &str,
    state: &DevState,
    node: std::net::SocketAddr,
    key_path: &Path,
) -> Result<(), DevError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let claims = json!({
        "iss": ISSUER, "aud": AUDIENCE, "sub": "demo-user", "scope": "ticks:read",
        "iat": now, "exp": now + 3600,
    });
    let client_token = mint::mint(&state.key_pem, "RS256", Some(&state.kid), &claims)?;
    println!();
    println!("Sluice is running.");
    println!("  console:      {console}/");
    println!("  admin token:  {}", state.admin_token);
    println!("  client token (1 hour, subject demo-user, scope ticks:read):");
    println!("    {client_token}");
    println!(
        "  mint more:    sluice token --key {} --kid={} --iss {ISSUER} --aud {AUDIENCE} \\",
        key_path.display(),
        state.kid
    );
    println!("                  --sub ada --scope ticks:read --exp 1h");
    println!("  stream through the node:");
    println!("    curl -N -H 'authorization: Bearer {client_token}' http://{node}/t/demo/ticks");
    println!("  Ctrl-C stops everything.");
    Ok(())
}

async fn bind(address: &str) -> Result<TcpListener, DevError> {
    TcpListener::bind(address)
        .await
        .map_err(|error| format!("cannot listen on {address}: {error}").into())
}

fn state_file(data_dir: &Path) -> PathBuf {
    data_dir.join("dev.json")
}

fn load_or_create_state(data_dir: &Path) -> Result<(DevState, Value), DevError> {
    if let Ok(text) = std::fs::read_to_string(state_file(data_dir)) {
        let saved: Value = serde_json::from_str(&text)?;
        let field = |name: &str| saved[name].as_str().map(str::to_owned);
        let state = DevState {
            admin_token: field("admin_token").ok_or("dev.json: admin_token missing")?,
            node_token: field("node_token"),
            key_pem: field("key_pem").ok_or("dev.json: key_pem missing")?,
            kid: field("kid").ok_or("dev.json: kid missing")?,
        };
        return Ok((state, saved["jwk"].clone()));
    }
    let (key_pem, jwk) = mint::generate_key_pair(Alg::Rs256)?;
    let state = DevState {
        admin_token: format!("sluice-dev-{}", random_hex()),
        node_token: None,
        key_pem,
        kid: jwk["kid"].as_str().unwrap_or_default().to_owned(),
    };
    write_private(&state_file(data_dir), &state_json(&state, &jwk).to_string())?;
    write_private(&data_dir.join("demo-key.pem"), &state.key_pem)?;
    Ok((state, jwk))
}

fn save_state(data_dir: &Path, state: &DevState) -> Result<(), DevError> {
    let path = state_file(data_dir);
    let mut saved: Value = serde_json::from_str(&std::fs::read_to_string(&path)?)?;
    saved["node_token"] = json!(state.node_token);
    write_private(&path, &saved.to_string())?;
    Ok(())
}

/// Writes a file only its owner may read: it holds a private key and the admin token.
fn write_private(path: &Path, contents: &str) -> Result<(), DevError> {
    use std::io::Write;
    #[cfg(unix)]
    use std::os::unix::fs::OpenOptionsExt;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    options.mode(0o600);
    options.open(path)?.write_all(contents.as_bytes())?;
    Ok(())
}

fn state_json(state: &DevState, jwk: &Value) -> Value {
    json!({
        "admin_token": state.admin_token,
        "node_token": state.node_token,
        "key_pem": state.key_pem,
        "kid": state.kid,
        "jwk": jwk,
    })
}

fn random_hex() -> String {
    use rand::Rng;
    let bytes: [u8; 16] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The demo tenant, made once: a key, auth, CORS for the console, a schema and a route.
async fn ensure_demo_tenant(
    api: &Api,
    jwk: &Value,
    console: &str,
    upstream: &str,
) -> Result<(), DevError> {
    if api
        .call("GET", "/api/v1/tenants/demo", Value::Null)
        .await?
        .0
        == 200
    {
        return Ok(());
    }
    let cors = json!({ "origins": [console, console.replace("127.0.0.1", "localhost")] });
    let tenant = json!({ "name": "demo", "path_prefix": "/t/demo", "cors": cors });
    api.expect(201, "POST", "/api/v1/tenants", tenant).await?;
    api.expect(201, "POST", "/api/v1/tenants/demo/keys", jwk.clone())
        .await?;
    let auth = json!({
        "issuer": ISSUER,
        "audiences": [AUDIENCE],
        "credentials": { "header": "authorization: Bearer {credentials}", "query": "access_token" },
        "challenge": "30s",
    });
    let settings = json!({ "path_prefix": "/t/demo", "cors": cors, "auth": auth });
    api.expect(200, "PUT", "/api/v1/tenants/demo", settings)
        .await?;
    let schema = json!({ "schema": {
        "type": "object", "required": ["n"], "properties": { "n": { "type": "integer" } }
    } });
    api.expect(
        201,
        "POST",
        "/api/v1/tenants/demo/schemas/tick/versions",
        schema,
    )
    .await?;
    let route = json!({
        "name": "ticks",
        "path": "/ticks",
        "scopes": ["ticks:read"],
        "upstream": { "url": format!("{upstream}/stream/ticks") },
        "events": { "tick": "tick@1" },
        "retry": "2s",
    });
    api.expect(201, "POST", "/api/v1/tenants/demo/routes", route)
        .await?;
    Ok(())
}

/// A minimal admin API client over HTTP/1.1.
struct Api {
    addr: String,
    token: String,
}

impl Api {
    async fn call(&self, method: &str, path: &str, body: Value) -> Result<(u16, Value), DevError> {
        let tcp = tokio::net::TcpStream::connect(&self.addr).await?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(tcp)).await?;
        tokio::spawn(conn);
        let payload = if body.is_null() {
            Bytes::new()
        } else {
            Bytes::from(body.to_string())
        };
        let request = http::Request::builder()
            .method(method)
            .uri(path)
            .header("host", &self.addr)
            .header("authorization", format!("Bearer {}", self.token))
            .header("content-type", "application/json")
            .body(Full::new(payload))?;
        let response = sender.send_request(request).await?;
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await?.to_bytes();
        let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Ok((status, value))
    }

    async fn expect(
        &self,
        status: u16,
        method: &str,
        path: &str,
        body: Value,
    ) -> Result<Value, DevError> {
        let (got, answer) = self.call(method, path, body).await?;
        if got != status {
            return Err(format!("{method} {path} answered {got}: {answer}").into());
        }
        Ok(answer)
    }
}
