//! The gRPC config API from a node's side: hello, snapshots pushed, acks, nacks and status
//! recorded in `/api/v1/nodes` and `/metrics`; node tokens; health; TLS; and two control
//! planes on one Postgres.

use std::time::Duration;

use serde_json::{Value, json};
use sluice_proto::config::v1::config_discovery_client::ConfigDiscoveryClient;
use sluice_proto::config::v1::node_message::Message;
use sluice_proto::config::v1::{
    Ack, ControlMessage, Hello, Nack, NodeMessage, Snapshot, Status, control_message,
};
use tokio::sync::mpsc;
use tonic::transport::Channel;
use tonic::{Code, Streaming};

use crate::support::{Db, Plane, route};

crate::on_both!(
    a_watching_node_gets_snapshots_and_its_answers_are_recorded,
    a_node_holding_the_current_revision_waits_for_the_next,
    node_tokens_are_required
);

/// A node's side of one Watch stream.
struct Node {
    outbound: mpsc::Sender<NodeMessage>,
    inbound: Streaming<ControlMessage>,
}

impl Node {
    async fn connect(
        channel: Channel,
        token: &str,
        id: &str,
        revision: u64,
    ) -> Result<Node, tonic::Status> {
        let (outbound, rx) = mpsc::channel(8);
        let hello = Hello {
            node_id: id.into(),
            labels: [("zone".to_owned(), "a".to_owned())].into(),
            version: "0.1.0".into(),
            revision,
        };
        outbound
            .send(message(Message::Hello(hello)))
            .await
            .expect("queue hello");
        let stream =
            futures_util::stream::unfold(
                rx,
                |mut rx| async move { rx.recv().await.map(|m| (m, rx)) },
            );
        let mut request = tonic::Request::new(stream);
        let bearer = format!("Bearer {token}").parse().expect("metadata");
        request.metadata_mut().insert("authorization", bearer);
        let response = ConfigDiscoveryClient::new(channel).watch(request).await?;
        Ok(Node {
            outbound,
            inbound: response.into_inner(),
        })
    }

    async fn snapshot(&mut self) -> Snapshot {
        let next = tokio::time::timeout(Duration::from_secs(10), self.inbound.message()).await;
        match next.expect("a snapshot in time").expect("stream open") {
            Some(ControlMessage {
                message: Some(control_message::Message::Snapshot(snapshot)),
            }) => snapshot,
            other => panic!("expected a snapshot, got {other:?}"),
        }
    }

    async fn send(&self, message: Message) {
        self.outbound
            .send(self::message(message))
            .await
            .expect("stream open");
    }
}

fn message(message: Message) -> NodeMessage {
    NodeMessage {
        message: Some(message),
    }
}

async fn channel(plane: &Plane) -> Channel {
    let endpoint = format!("http://{}", plane.grpc);
    Channel::from_shared(endpoint)
        .expect("uri")
        .connect()
        .await
        .expect("connect")
}

/// Polls `/api/v1/nodes` until node `id` satisfies `done` (writes from the stream are
/// asynchronous); panics after a deadline.
async fn node_state(plane: &Plane, id: &str, done: impl Fn(&Value) -> bool) -> Value {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let nodes = plane.call("GET", "/api/v1/nodes", None).await;
        let found = nodes.json["items"]
            .as_array()
            .and_then(|items| items.iter().find(|n| n["id"] == id).cloned());
        if let Some(node) = found.filter(|node| done(node)) {
            return node;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "node {id} never got there: {:?}",
            nodes.json
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn add_route(plane: &Plane, name: &str) {
    let mut body = route(&format!("/{name}"));
    body["name"] = json!(name);
    let reply = plane
        .call("POST", "/api/v1/tenants/acme/routes", Some(body))
        .await;
    assert_eq!(reply.status, 201, "{:?}", reply.json);
}

async fn a_watching_node_gets_snapshots_and_its_answers_are_recorded(db: Db) {
    let plane = Plane::start(db.options()).await;
    let token = plane.token("edge", "node", None).await;
    plane.tenant("acme").await;
    let mut node = Node::connect(channel(&plane).await, &token, "edge-1", 0)
        .await
        .expect("watch");

    let first = node.snapshot().await;
    assert_eq!(first.revision, 1);
    let config: Value = serde_json::from_str(&first.config_json).unwrap();
    assert_eq!(
        config,
        json!({ "version": 1, "tenants": { "acme": { "path_prefix": "/t/acme" } } })
    );
    node.send(Message::Ack(Ack {
        revision: 1,
        nonce: first.nonce.clone(),
    }))
    .await;
    let recorded = node_state(&plane, "edge-1", |n| n["applied_revision"] == 1).await;
    assert_eq!(recorded["labels"], json!({ "zone": "a" }));
    assert_eq!(recorded["version"], "0.1.0");
    assert_eq!(
        (recorded["connected"].clone(), recorded["in_sync"].clone()),
        (json!(true), json!(true))
    );

    add_route(&plane, "orders").await;
    let second = node.snapshot().await;
    assert_eq!(second.revision, 2);
    assert!(second.config_json.contains("\"orders\""));
    assert_ne!(second.nonce, first.nonce);
    let error = "tenants.acme.routes.orders.upstream.url: refused by this node";
    node.send(Message::Nack(Nack {
        revision: 2,
        nonce: second.nonce.clone(),
        error: error.into(),
    }))
    .await;
    let refusing = node_state(&plane, "edge-1", |n| n["refusing"] == true).await;
    assert_eq!(refusing["last_nack"]["revision"], 2);
    assert_eq!(refusing["last_nack"]["error"], error);
    assert_eq!(
        (
            refusing["applied_revision"].clone(),
            refusing["behind"].clone()
        ),
        (json!(1), json!(1))
    );
    assert_eq!(refusing["in_sync"], false);

    let metrics = plane.send("GET", "/metrics", None, None, &[]).await;
    assert_eq!(metrics.status, 200);
    let text = metrics_text(&plane).await;
    for line in [
        "sluice_control_plane_revision 2",
        "sluice_node_applied_revision{node=\"edge-1\"} 1",
        "sluice_node_drift_revisions{node=\"edge-1\"} 1",
        "sluice_node_refusing{node=\"edge-1\"} 1",
        "sluice_node_last_nack_revision{node=\"edge-1\"} 2",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} missing:\n{text}");
    }

    let streams = [("acme".to_owned(), 3u64)].into();
    node.send(Message::Status(Status {
        applied_revision: 1,
        active_streams: streams,
    }))
    .await;
    let reported = node_state(&plane, "edge-1", |n| {
        n["active_streams"] == json!({ "acme": 3 })
    })
    .await;
    assert_eq!(reported["applied_revision"], 1);
    assert!(
        metrics_text(&plane)
            .await
            .contains("sluice_node_active_streams{node=\"edge-1\",tenant=\"acme\"} 3")
    );

    node.send(Message::Ack(Ack {
        revision: 2,
        nonce: "not-a-nonce-we-sent".into(),
    }))
    .await;
    add_route(&plane, "audit").await;
    let third = node.snapshot().await;
    node.send(Message::Ack(Ack {
        revision: 3,
        nonce: third.nonce,
    }))
    .await;
    let caught_up = node_state(&plane, "edge-1", |n| n["applied_revision"] == 3).await;
    assert_eq!(
        (caught_up["in_sync"].clone(), caught_up["refusing"].clone()),
        (json!(true), json!(false))
    );

    drop(node);
    node_state(&plane, "edge-1", |n| n["connected"] == false).await;
    plane.stop().await;
}

async fn metrics_text(plane: &Plane) -> String {
    let client = hyper_util::client::legacy::Client::builder(hyper_util::rt::TokioExecutor::new())
        .build_http::<http_body_util::Empty<bytes::Bytes>>();
    let uri = format!("http://{}/metrics", plane.http).parse().unwrap();
    let response = client.get(uri).await.unwrap();
    let body = http_body_util::BodyExt::collect(response.into_body())
        .await
        .unwrap()
        .to_bytes();
    String::from_utf8(body.to_vec()).unwrap()
}

async fn a_node_holding_the_current_revision_waits_for_the_next(db: Db) {
    let plane = Plane::start(db.options()).await;
    let token = plane.token("edge", "node", None).await;
    plane.tenant("acme").await;
    let current = plane.revision().await;
    let mut node = Node::connect(channel(&plane).await, &token, "edge-2", current)
        .await
        .expect("watch");
    node_state(&plane, "edge-2", |n| n["applied_revision"] == current).await;
    let quiet = tokio::time::timeout(Duration::from_millis(300), node.inbound.message()).await;
    assert!(
        quiet.is_err(),
        "nothing is sent to a node that holds the revision in force"
    );

    add_route(&plane, "orders").await;
    let next = node.snapshot().await;
    assert_eq!(next.revision, current + 1);
    plane.stop().await;
}

async fn node_tokens_are_required(db: Db) {
    let plane = Plane::start(db.options()).await;
    let channel = channel(&plane).await;
    for token in ["", "wrong", crate::support::ADMIN] {
        let refused = Node::connect(channel.clone(), token, "edge-3", 0)
            .await
            .err()
            .expect("refused");
        assert_eq!(refused.code(), Code::Unauthenticated, "{token}");
    }
    let token = plane.token("edge", "node", None).await;
    let (outbound, rx) = mpsc::channel(1);
    outbound
        .send(message(Message::Ack(Ack {
            revision: 1,
            nonce: "x".into(),
        })))
        .await
        .unwrap();
    let stream =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|m| (m, rx)) });
    let mut request = tonic::Request::new(stream);
    request
        .metadata_mut()
        .insert("authorization", format!("Bearer {token}").parse().unwrap());
    let response = ConfigDiscoveryClient::new(channel.clone())
        .watch(request)
        .await;
    let failed = match response {
        Ok(response) => response
            .into_inner()
            .message()
            .await
            .expect_err("stream fails"),
        Err(status) => status,
    };
    assert_eq!(failed.code(), Code::InvalidArgument);

    let mut health = tonic_health::pb::health_client::HealthClient::new(channel);
    for service in ["", "sluice.config.v1.ConfigDiscovery"] {
        let request = tonic_health::pb::HealthCheckRequest {
            service: service.into(),
        };
        let status = health
            .check(request)
            .await
            .expect("health")
            .into_inner()
            .status;
        assert_eq!(
            status,
            tonic_health::pb::health_check_response::ServingStatus::Serving as i32
        );
    }
    plane.stop().await;
}

#[tokio::test]
async fn the_config_api_serves_tls_when_given_a_certificate() {
    let db = Db::new(crate::support::Backend::Sqlite).await.unwrap();
    let (ca_pem, cert, key) = crate::support::tls_files(db.dir.path());
    let mut options = db.options();
    options.grpc_tls = Some((cert, key));
    let plane = Plane::start(options).await;
    let token = plane.token("edge", "node", None).await;
    plane.tenant("acme").await;

    let tls = tonic::transport::ClientTlsConfig::new()
        .ca_certificate(tonic::transport::Certificate::from_pem(ca_pem))
        .domain_name("localhost");
    let endpoint = format!("https://localhost:{}", plane.grpc.port());
    let channel = Channel::from_shared(endpoint)
        .unwrap()
        .tls_config(tls)
        .unwrap()
        .connect()
        .await
        .expect("TLS connect");
    let mut node = Node::connect(channel, &token, "edge-tls", 0)
        .await
        .expect("watch over TLS");
    assert_eq!(node.snapshot().await.revision, 1);

    let plain = Channel::from_shared(format!("http://{}", plane.grpc))
        .unwrap()
        .connect()
        .await;
    if let Ok(plain) = plain {
        let refused = Node::connect(plain, &token, "edge-plain", 0).await;
        assert!(refused.is_err(), "cleartext is refused on a TLS listener");
    }
    plane.stop().await;
}

#[tokio::test]
async fn a_change_through_one_control_plane_reaches_nodes_of_another() {
    let Some(db) = Db::new(crate::support::Backend::Postgres).await else {
        return;
    };
    let first = Plane::start(db.options()).await;
    let second = Plane::start(db.options()).await;
    let token = first.token("edge", "node", None).await;
    first.tenant("acme").await;
    let mut node = Node::connect(channel(&second).await, &token, "edge-4", 0)
        .await
        .expect("watch");
    let initial = node.snapshot().await;
    assert_eq!(initial.revision, 1);
    node.send(Message::Ack(Ack {
        revision: 1,
        nonce: initial.nonce,
    }))
    .await;

    add_route(&first, "orders").await;
    let pushed = node.snapshot().await;
    assert_eq!(pushed.revision, 2);
    assert!(pushed.config_json.contains("\"orders\""));
    assert_eq!(second.revision().await, 2);
    let seen_by_first = node_state(&first, "edge-4", |n| n["applied_revision"] == 1).await;
    assert_eq!(seen_by_first["behind"], 1);
    second.stop().await;
    first.stop().await;
}

#[tokio::test]
async fn an_unreadable_certificate_stops_the_start() {
    let db = Db::new(crate::support::Backend::Sqlite).await.unwrap();
    let junk = db.dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate").unwrap();
    for (cert, key) in [
        (junk.clone(), junk.clone()),
        (junk.clone(), db.dir.path().join("missing.key")),
    ] {
        let mut options = db.options();
        options.grpc_tls = Some((cert, key));
        let http = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let grpc = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let started =
            sluice_control_plane::start(options, http, grpc, std::future::pending()).await;
        assert!(started.is_err(), "a bad certificate is reported at start");
    }
}
