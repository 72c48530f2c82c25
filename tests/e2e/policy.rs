//! Per-tenant policy on a running node: event validation (both modes), CORS, stream limits.

use http::StatusCode;
use sluice_demo_upstream::scripted::Reply;

use crate::support::{Client, TestNode, metric, upstream};

fn config(url: &str, route_extra: &str, tenant_extra: &str) -> String {
    format!(
        r#"version: 1
listeners:
  - address: 127.0.0.1:0
tenants:
  acme:
    path_prefix: /t/acme
{tenant_extra}
    schemas:
      order:
        - version: 1
          schema: {{ type: object, required: [id], properties: {{ id: {{ type: integer }} }} }}
        - version: 2
          schema: {{ type: object, required: [id, total], properties: {{ id: {{ type: integer }}, total: {{ type: number }} }} }}
    routes:
      events:
        path: /events
        public: true
        upstream:
          url: {url}
        events: {{ order.created: order@1, "*": order@latest }}
{route_extra}
"#
    )
}

fn invalid(reason: &str, action: &str) -> String {
    format!(
        "sluice_events_invalid_total{{tenant=\"acme\",route=\"events\",reason=\"{reason}\",action=\"{action}\"}}"
    )
}

#[tokio::test]
async fn invalid_events_are_dropped_and_counted_and_their_ids_still_go_out() {
    let big_valid = format!("{{\"id\":1,\"pad\":\"{}\"}}", "x".repeat(1024 * 1024 - 20));
    let big_invalid = format!(
        "{{\"id\":\"one\",\"pad\":\"{}\"}}",
        "x".repeat(1024 * 1024 - 30)
    );
    let body = format!(
        "event: order.created\ndata: {{\"id\":1}}\n\n\
         event: order.created\nid: 7\ndata: {{\"id\":\"x\"}}\n\n\
         event: order.created\ndata: not json\n\n\
         event: order.created\ndata: {{\ndata:   \"id\": 3\ndata: }}\n\n\
         data: {{\"id\":4}}\n\n\
         data: {{\"id\":5,\"total\":9.5}}\n\n\
         event: order.created\ndata: {big_valid}\n\n\
         event: order.created\ndata: {big_invalid}\n\n"
    );
    let upstream = upstream().await;
    upstream.enqueue(Reply::sse().chunk(body));
    let node = TestNode::start(&config(
        &upstream.url("/s"),
        "        max_event_size: 2MiB",
        "",
    ))
    .await;
    let mut stream = Client::h1(node.addr())
        .await
        .get("/t/acme/events", &[])
        .await;
    let got = stream.read_to_end().await;
    let expected = format!(
        "event: order.created\ndata: {{\"id\":1}}\n\nid: 7\n\n\
         event: order.created\ndata: {{\ndata:   \"id\": 3\ndata: }}\n\n\
         data: {{\"id\":5,\"total\":9.5}}\n\n\
         event: order.created\ndata: {big_valid}\n\n"
    );
    // Megabyte strings: compare without printing them.
    assert!(
        got == expected,
        "got {} bytes: {:?}...",
        got.len(),
        &got[..got.len().min(300)]
    );
    let text = node.metrics();
    assert_eq!(metric(&text, &invalid("schema", "drop")), 3.0);
    assert_eq!(metric(&text, &invalid("not_json", "drop")), 1.0);
}

#[tokio::test]
async fn on_invalid_close_ends_the_stream_after_the_valid_events() {
    let upstream = upstream().await;
    let (reply, feed) = Reply::sse().live();
    upstream.enqueue(reply);
    let extra = "        on_invalid: close";
    let node = TestNode::start(&config(&upstream.url("/s"), extra, "")).await;
    let mut stream = Client::h2c(node.addr())
        .await
        .get("/t/acme/events", &[])
        .await;
    feed.send(
        "data: {\"id\":1,\"total\":1}\n\ndata: {\"id\":2}\n\ndata: {\"id\":3,\"total\":3}\n\n",
    )
    .await
    .unwrap();
    assert_eq!(
        stream.read_to_end().await,
        "data: {\"id\":1,\"total\":1}\n\n"
    );
    tokio::time::timeout(crate::support::GUARD, feed.closed())
        .await
        .unwrap();
    assert_eq!(metric(&node.metrics(), &invalid("schema", "close")), 1.0);
}

#[tokio::test]
async fn a_schema_that_does_not_compile_refuses_the_config() {
    let bad = config("http://127.0.0.1:1/s", "", "").replace("type: integer", "type: 12");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sluice.yaml");
    std::fs::write(&path, bad).unwrap();
    crate::support::init();
    let error = sluice_data_plane::start_from_file(&path, std::future::pending())
        .await
        .unwrap_err();
    assert!(
        error.to_string().contains("tenants.acme.schemas.order"),
        "{error}"
    );
}

#[tokio::test]
async fn cors_preflight_and_stream_headers_follow_the_tenant_rules() {
    let upstream = upstream().await;
    upstream.respond(|_| Reply::sse().chunk("data: {\"id\":1,\"total\":2}\n\n"));
    let cors =
        "    cors: { origins: [\"https://app.acme.example\"], credentials: true, max_age: 10m }";
    let node = TestNode::start(&config(&upstream.url("/s"), "", cors)).await;
    let mut client = Client::h1(node.addr()).await;
    let allowed = [
        ("origin", "https://app.acme.example"),
        ("access-control-request-method", "GET"),
        ("access-control-request-headers", "last-event-id"),
    ];
    let preflight = client.request("OPTIONS", "/t/acme/events", &allowed).await;
    assert_eq!(preflight.status, StatusCode::NO_CONTENT);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("https://app.acme.example")
    );
    assert_eq!(
        preflight.header("access-control-allow-credentials"),
        Some("true")
    );
    assert_eq!(preflight.header("access-control-max-age"), Some("600"));
    assert_eq!(
        preflight.header("access-control-allow-headers"),
        Some("last-event-id")
    );
    assert!(preflight.header("vary").unwrap().contains("Origin"));

    let refused = [
        ("origin", "https://evil.example"),
        ("access-control-request-method", "GET"),
    ];
    let preflight = client.request("OPTIONS", "/t/acme/events", &refused).await;
    assert_eq!(preflight.status, StatusCode::FORBIDDEN);
    assert_eq!(preflight.header("access-control-allow-origin"), None);

    let mut stream = client
        .get("/t/acme/events", &[("origin", "https://app.acme.example")])
        .await;
    assert_eq!(
        stream.header("access-control-allow-origin"),
        Some("https://app.acme.example")
    );
    assert_eq!(stream.header("vary"), Some("Origin"));
    stream.read_to_end().await;
    let stream = client
        .get("/t/acme/events", &[("origin", "https://evil.example")])
        .await;
    assert_eq!(stream.header("access-control-allow-origin"), None);
}

#[tokio::test]
async fn past_the_tenant_stream_limit_the_answer_is_429_with_retry_after() {
    let upstream = upstream().await;
    upstream.respond(|_| Reply::sse().then_hang());
    let limits = "    limits: { max_streams: 2 }";
    let node = TestNode::start(&config(&upstream.url("/s"), "", limits)).await;
    let mut client = Client::h2c(node.addr()).await;
    let first = client.get("/t/acme/events", &[]).await;
    let _second = client.get("/t/acme/events", &[]).await;
    let third = client.get("/t/acme/events", &[]).await;
    assert_eq!(third.status, StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(third.header("retry-after"), Some("1"));
    let series = "sluice_limit_rejections_total{tenant=\"acme\",reason=\"max_streams\"}";
    assert_eq!(metric(&node.metrics(), series), 1.0);
    drop(first);
    tokio::time::timeout(crate::support::GUARD, upstream.wait_open_responses(1))
        .await
        .unwrap();
    // The pump releases its slot before it lets go of the upstream, which was awaited above.
    assert_eq!(
        client.get("/t/acme/events", &[]).await.status,
        StatusCode::OK
    );
}
