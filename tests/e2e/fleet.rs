//! Issue 4 end to end: a control plane and two managed nodes on port 0. Config made through
//! the REST API reaches both nodes, each acks; a snapshot one node refuses is nacked and that
//! node keeps serving; a node restarted without the control plane serves its cached snapshot.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use sluice_data_plane::auth::Alg;
use sluice_data_plane::auth::mint::{generate_key_pair, mint};
use sluice_data_plane::managed::ExtraCheck;
use tokio::net::TcpListener;

use crate::support::Client;
use crate::support::fleet::{Node, Plane};

async fn demo_upstream() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = sluice_demo_upstream::demo::DemoConfig {
        interval: Duration::from_millis(50),
    };
    tokio::spawn(sluice_demo_upstream::demo::run(
        listener,
        config,
        std::future::pending(),
    ));
    addr
}

/// A node check that refuses any snapshot holding a schema named `forbidden`.
fn refuse_forbidden() -> ExtraCheck {
    Arc::new(|config: &sluice_data_plane::config::Config| {
        let forbidden = config
            .tenants
            .iter()
            .any(|(_, t)| t.schemas.get("forbidden").is_some());
        forbidden.then(|| "schemas.forbidden: refused by this node's test build".to_owned())
    })
}

async fn stream_one_tick(addr: std::net::SocketAddr, token: &str, path: &str) -> String {
    let bearer = format!("Bearer {token}");
    let mut stream = Client::h1(addr)
        .await
        .get(path, &[("authorization", &bearer)])
        .await;
    assert_eq!(stream.status, 200, "{path} through {addr}");
    stream.read_until("event: tick\n").await
}

#[tokio::test]
async fn rest_changes_reach_every_node_acks_nacks_and_cache_restart() {
    let upstream = demo_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let plane = Plane::start(&dir.path().join("cp")).await;
    let (token_a, token_b) = (plane.node_token("a").await, plane.node_token("b").await);
    let node_a = Node::start(
        "node-a",
        &plane.grpc_url(),
        &token_a,
        &dir.path().join("a"),
        None,
    )
    .await;
    let node_b = Node::start(
        "node-b",
        &plane.grpc_url(),
        &token_b,
        &dir.path().join("b"),
        Some(refuse_forbidden()),
    )
    .await;

    // Tenant, key, schema and route through the REST API.
    let (pem, jwk) = generate_key_pair(Alg::Es256).unwrap();
    plane
        .expect(
            201,
            "POST",
            "/api/v1/tenants",
            json!({ "name": "acme", "path_prefix": "/t/acme" }),
        )
        .await;
    plane
        .expect(201, "POST", "/api/v1/tenants/acme/keys", jwk.clone())
        .await;
    let auth = json!({ "issuer": "https://idp", "audiences": ["sse"] });
    let tenant = json!({ "path_prefix": "/t/acme", "auth": auth });
    plane
        .expect(200, "PUT", "/api/v1/tenants/acme", tenant)
        .await;
    let schema = json!({ "schema": { "type": "object", "required": ["n"], "properties": { "n": { "type": "integer" } } } });
    plane
        .expect(
            201,
            "POST",
            "/api/v1/tenants/acme/schemas/tick/versions",
            schema,
        )
        .await;
    let route = json!({
        "name": "ticks",
        "path": "/ticks",
        "scopes": ["read"],
        "upstream": { "url": format!("http://{upstream}/stream/ticks") },
        "events": { "tick": "tick@1" },
    });
    plane
        .expect(201, "POST", "/api/v1/tenants/acme/routes", route.clone())
        .await;
    let revision = plane.revision().await;
    node_a.applied(revision).await;
    node_b.applied(revision).await;

    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let claims = json!({ "iss": "https://idp", "aud": "sse", "sub": "ada", "scope": "read", "exp": now + 600 });
    let token = mint(&pem, "ES256", jwk["kid"].as_str(), &claims).unwrap();
    for node in [&node_a, &node_b] {
        stream_one_tick(node.addr(), &token, "/t/acme/ticks").await;
    }
    let in_sync = |nodes: &Value, revision: u64| {
        let items = nodes["items"].as_array().cloned().unwrap_or_default();
        items.len() == 2
            && items
                .iter()
                .all(|n| n["applied_revision"] == json!(revision))
    };
    plane.nodes_until(|nodes| in_sync(nodes, revision)).await;

    // A route change: both nodes ack the new revision and serve the new path.
    let mut changed = route.clone();
    changed.as_object_mut().unwrap().remove("name");
    changed["path"] = json!("/ticks/v2");
    plane
        .expect(200, "PUT", "/api/v1/tenants/acme/routes/ticks", changed)
        .await;
    let revision = plane.revision().await;
    node_a.applied(revision).await;
    node_b.applied(revision).await;
    plane.nodes_until(|nodes| in_sync(nodes, revision)).await;
    for node in [&node_a, &node_b] {
        stream_one_tick(node.addr(), &token, "/t/acme/ticks/v2").await;
    }

    // A snapshot node b refuses: nacked with its error, and b keeps serving the old revision.
    let forbidden = json!({ "schema": { "type": "object" } });
    plane
        .expect(
            201,
            "POST",
            "/api/v1/tenants/acme/schemas/forbidden/versions",
            forbidden,
        )
        .await;
    let refused = plane.revision().await;
    node_a.applied(refused).await;
    let nodes = plane
        .nodes_until(|nodes| {
            let items = nodes["items"].as_array().cloned().unwrap_or_default();
            items
                .iter()
                .any(|n| n["last_nack"]["revision"] == json!(refused))
        })
        .await;
    let b = nodes["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == "node-b")
        .unwrap()
        .clone();
    assert_eq!(b["applied_revision"], json!(revision));
    assert_eq!(b["refusing"], json!(true));
    assert!(
        b["last_nack"]["error"]
            .as_str()
            .unwrap()
            .contains("refused by this node's test build")
    );
    assert_eq!(node_b.node.state.snapshot().unwrap().revision, revision);
    stream_one_tick(node_b.addr(), &token, "/t/acme/ticks/v2").await;

    // The control plane goes away; node a restarts from its cache and still streams.
    plane.stop().await;
    drop(node_a);
    let restarted = Node::start(
        "node-a",
        "http://127.0.0.1:1",
        &token_a,
        &dir.path().join("a"),
        None,
    )
    .await;
    assert_eq!(restarted.node.state.snapshot().unwrap().revision, refused);
    let mut admin = Client::h1(restarted.node.admin_addr.unwrap()).await;
    let mut ready = admin.get("/readyz", &[]).await;
    assert_eq!(ready.status, 200);
    assert_eq!(
        ready.read_to_end().await,
        format!("ready: serving cached revision {refused}\n")
    );
    let config = admin.get("/config", &[]).await.read_to_end().await;
    assert!(config.contains("\"source\":\"cache:"), "{config}");
    stream_one_tick(restarted.addr(), &token, "/t/acme/ticks/v2").await;
}

#[tokio::test]
async fn a_node_with_no_cache_and_no_control_plane_is_not_ready() {
    let dir = tempfile::tempdir().unwrap();
    let node = Node::start("lonely", "http://127.0.0.1:1", "t", dir.path(), None).await;
    let mut admin = Client::h1(node.node.admin_addr.unwrap()).await;
    let ready = admin.get("/readyz", &[]).await;
    assert_eq!(ready.status, 503);
    let health = admin.get("/healthz", &[]).await;
    assert_eq!(health.status, 200);
}

async fn publish(upstream: std::net::SocketAddr, name: &str, body: &str) {
    let mut client = Client::h1(upstream).await;
    let stream = client
        .send(
            "POST",
            &format!("/publish/{name}"),
            &[],
            body.to_owned().into(),
        )
        .await;
    assert_eq!(stream.status, 200);
}

#[tokio::test]
async fn an_asyncapi_document_imports_and_a_node_serves_both_channels_dropping_bad_events() {
    let upstream = demo_upstream().await;
    let dir = tempfile::tempdir().unwrap();
    let plane = Plane::start(&dir.path().join("cp")).await;
    let token = plane.node_token("n").await;
    let node = Node::start("n", &plane.grpc_url(), &token, &dir.path().join("n"), None).await;

    let document = include_str!("../../examples/asyncapi/shop.yaml");
    let body = json!({
        "format": "asyncapi",
        "tenant": "shop",
        "upstream": format!("http://{upstream}/stream"),
        "document": document,
    });
    let before = plane.revision().await;
    let dry = plane
        .expect(200, "POST", "/api/v1/import?dry_run=true", body.clone())
        .await;
    assert_eq!(
        plane.revision().await,
        before,
        "a dry run writes nothing: {dry}"
    );
    let done = plane
        .expect(200, "POST", "/api/v1/import?dry_run=false", body)
        .await;
    let revision = plane.revision().await;
    assert_eq!(revision, before + 1, "one import, one revision: {done}");
    node.applied(revision).await;

    let mut ticks = Client::h1(node.addr())
        .await
        .get("/t/shop/ticks", &[])
        .await;
    assert_eq!(ticks.status, 200);
    ticks.read_until("event: tick\n").await;

    let mut alerts = Client::h2c(node.addr())
        .await
        .get("/t/shop/alerts", &[])
        .await;
    assert_eq!(alerts.status, 200);
    publish(upstream, "alerts", r#"{"nope":1}"#).await;
    publish(upstream, "alerts", r#"{"headline":"sale"}"#).await;
    let text = alerts.read_until("sale").await;
    assert!(
        !text.contains("nope"),
        "the event breaking its schema was dropped: {text}"
    );
    assert!(text.contains("data: {\"headline\":\"sale\"}"), "{text}");
    let dropped = "sluice_events_invalid_total{tenant=\"shop\",route=\"alerts\",reason=\"schema\",action=\"drop\"}";
    assert_eq!(
        crate::support::metric(&node.node.state.metrics.render(), dropped),
        1.0
    );

    // The tenant's export is AsyncAPI 3.0 with both channels.
    let exported = plane
        .expect(200, "GET", "/api/v1/tenants/shop/asyncapi", Value::Null)
        .await;
    assert_eq!(exported["asyncapi"], "3.0.0");
    let channels = exported["channels"].as_object().unwrap();
    assert_eq!(channels.len(), 2, "{exported}");
}
