//! Upstream failure semantics (DESIGN.md section 2) and the statuses of item 6 of issue 2.

use http::StatusCode;
use sluice_demo_upstream::scripted::Reply;
use tokio::net::TcpListener;

use crate::support::{Client, TestNode, metric, one_route, upstream};

const FAILURE_SERIES: &str =
    "sluice_upstream_failures_total{tenant=\"acme\",route=\"events\",kind=";

/// Asserts a `retry:`-only 200 stream whose value lies in [base, 2 * base] ms.
fn assert_retry_only(body: &str, base_ms: u64) {
    let value = body
        .strip_prefix("retry: ")
        .and_then(|rest| rest.strip_suffix("\n\n"))
        .unwrap_or_else(|| panic!("not a retry-only stream: {body:?}"));
    let ms: u64 = value.parse().expect("retry is a number");
    assert!(
        (base_ms..=2 * base_ms).contains(&ms),
        "retry {ms} outside [{base_ms}, {}]",
        2 * base_ms
    );
}

#[tokio::test]
async fn upstream_down_gives_a_200_stream_with_only_a_jittered_retry() {
    // A port that was just free: nothing listens there.
    let closed = TcpListener::bind("127.0.0.1:0")
        .await
        .unwrap()
        .local_addr()
        .unwrap();
    let config = one_route(&format!("http://{closed}/stream"), "        retry: 2s");
    let node = TestNode::start(&config).await;
    let mut stream = Client::h1(node.addr())
        .await
        .get("/t/acme/events", &[])
        .await;
    assert_eq!(stream.status, StatusCode::OK);
    assert_eq!(stream.header("content-type"), Some("text/event-stream"));
    assert_retry_only(&stream.read_to_end().await, 2000);
    let series = format!("{FAILURE_SERIES}\"connect\"}}");
    assert_eq!(metric(&node.metrics(), &series), 1.0);
}

#[tokio::test]
async fn upstream_timeout_gives_a_retry_stream() {
    let upstream = upstream().await;
    upstream.enqueue(Reply::hang());
    let config = one_route(
        &upstream.url("/stream"),
        "          response_timeout: 200ms",
    );
    let node = TestNode::start(&config).await;
    let mut stream = Client::h1(node.addr())
        .await
        .get("/t/acme/events", &[])
        .await;
    assert_eq!(stream.status, StatusCode::OK);
    assert_retry_only(&stream.read_to_end().await, 3000);
    assert_eq!(
        metric(&node.metrics(), &format!("{FAILURE_SERIES}\"timeout\"}}")),
        1.0
    );
}

#[tokio::test]
async fn upstream_5xx_gives_a_retry_stream() {
    for status in [500, 502, 503] {
        let upstream = upstream().await;
        upstream.enqueue(Reply::status(StatusCode::from_u16(status).unwrap()));
        let node = TestNode::start(&one_route(&upstream.url("/stream"), "")).await;
        let mut stream = Client::h2c(node.addr())
            .await
            .get("/t/acme/events", &[])
            .await;
        assert_eq!(stream.status, StatusCode::OK, "upstream {status}");
        assert_retry_only(&stream.read_to_end().await, 3000);
    }
}

#[tokio::test]
async fn upstream_204_401_403_404_pass_through() {
    for status in [204, 401, 403, 404] {
        let upstream = upstream().await;
        upstream.enqueue(Reply::status(StatusCode::from_u16(status).unwrap()));
        let node = TestNode::start(&one_route(&upstream.url("/stream"), "")).await;
        let mut stream = Client::h1(node.addr())
            .await
            .get("/t/acme/events", &[])
            .await;
        assert_eq!(stream.status.as_u16(), status);
        assert_eq!(stream.read_to_end().await, "");
    }
}

#[tokio::test]
async fn upstream_200_that_is_not_an_event_stream_gives_a_retry_stream() {
    let upstream = upstream().await;
    let reply = Reply::status(StatusCode::OK)
        .header(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/html"),
        )
        .chunk("<html>");
    upstream.enqueue(reply);
    let node = TestNode::start(&one_route(&upstream.url("/stream"), "")).await;
    let mut stream = Client::h1(node.addr())
        .await
        .get("/t/acme/events", &[])
        .await;
    assert_eq!(stream.status, StatusCode::OK);
    assert_retry_only(&stream.read_to_end().await, 3000);
}

#[tokio::test]
async fn upstream_end_ends_the_client_stream() {
    let upstream = upstream().await;
    upstream.enqueue(Reply::sse().chunk("data: last\n\n"));
    let node = TestNode::start(&one_route(&upstream.url("/stream"), "")).await;
    let mut stream = Client::h2c(node.addr())
        .await
        .get("/t/acme/events", &[])
        .await;
    assert_eq!(stream.read_to_end().await, "data: last\n\n");
}

#[tokio::test]
async fn upstream_breaking_mid_stream_ends_with_a_retry() {
    let upstream = upstream().await;
    upstream.enqueue(Reply::sse().chunk("data: one\n\n").then_abort());
    let node = TestNode::start(&one_route(&upstream.url("/stream"), "")).await;
    let mut stream = Client::h1(node.addr())
        .await
        .get("/t/acme/events", &[])
        .await;
    let body = stream.read_to_end().await;
    let rest = body.strip_prefix("data: one\n\n").expect("event first");
    assert_retry_only(rest, 3000);
}

#[tokio::test]
async fn oversized_event_line_ends_the_upstream_response() {
    let upstream = upstream().await;
    let (reply, handle) = Reply::sse().chunk("data: ok\n\n").live();
    upstream.enqueue(reply);
    let node = TestNode::start(&one_route(
        &upstream.url("/stream"),
        "        max_event_size: 4KiB",
    ))
    .await;
    let mut stream = Client::h1(node.addr())
        .await
        .get("/t/acme/events", &[])
        .await;
    stream.read_until("data: ok\n\n").await;
    // 64 KiB of one line, far past the 4 KiB limit, with no line end.
    let big = vec![b'x'; 64 * 1024];
    let _ = handle
        .send(format!("data: {}", String::from_utf8(big).unwrap()))
        .await;
    tokio::time::timeout(crate::support::GUARD, handle.closed())
        .await
        .expect("upstream closed");
    let body = stream.read_to_end().await;
    assert_retry_only(body.strip_prefix("data: ok\n\n").unwrap(), 3000);
    let series = format!("{FAILURE_SERIES}\"event_too_large\"}}");
    assert_eq!(metric(&node.metrics(), &series), 1.0);
}

#[tokio::test]
async fn methods_other_than_get_get_405_with_allow() {
    let upstream = upstream().await;
    let node = TestNode::start(&one_route(&upstream.url("/stream"), "")).await;
    for method in ["PUT", "DELETE", "PATCH", "HEAD", "CONNECT"] {
        let stream = Client::h1(node.addr())
            .await
            .request(method, "/t/acme/events", &[])
            .await;
        assert_eq!(stream.status, StatusCode::METHOD_NOT_ALLOWED, "{method}");
        assert_eq!(stream.header("allow"), Some("GET, POST, OPTIONS"));
    }
    assert!(upstream.requests().is_empty());
}

#[tokio::test]
async fn unknown_tenant_and_unknown_route_get_404() {
    let upstream = upstream().await;
    let node = TestNode::start(&one_route(&upstream.url("/stream"), "")).await;
    let mut client = Client::h1(node.addr()).await;
    let stream = client.get("/t/globex/events", &[]).await;
    assert_eq!(stream.status, StatusCode::NOT_FOUND);
    assert_eq!(
        stream.header("content-type"),
        Some("application/problem+json")
    );
    let stream = client.get("/t/acme/nothing", &[]).await;
    assert_eq!(stream.status, StatusCode::NOT_FOUND);
    let stream = client
        .get("/events", &[("host", "other.example.test")])
        .await;
    assert_eq!(stream.status, StatusCode::NOT_FOUND);
    assert!(upstream.requests().is_empty());
}

/// A cleartext client that sends nothing is closed after the handshake timeout (10 s), not held
/// open for ever while the node waits to learn its protocol.
#[tokio::test]
async fn a_client_that_sends_nothing_is_closed() {
    use tokio::io::AsyncReadExt as _;

    let upstream = upstream().await;
    let node = TestNode::start(&one_route(&upstream.url("/stream"), "")).await;
    let mut silent = tokio::net::TcpStream::connect(node.addr())
        .await
        .expect("connect");
    let mut buf = [0u8; 16];
    let read = tokio::time::timeout(std::time::Duration::from_secs(60), silent.read(&mut buf))
        .await
        .expect("the node closes a silent connection");
    assert_eq!(read.map_or(0, |n| n), 0, "closed without a byte sent");
}
