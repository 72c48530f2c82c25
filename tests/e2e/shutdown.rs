//! Graceful shutdown: not ready, stop accepting, end streams with a jittered `retry:`, wait for
//! connections, stop.

use sluice_demo_upstream::scripted::Reply;

use crate::support::{Client, GUARD, TestNode, one_route, upstream};

#[tokio::test]
async fn shutdown_ends_streams_with_a_retry_and_stops_accepting() {
    let upstream = upstream().await;
    let (reply, _feed) = Reply::sse().chunk("data: 1\n\n").live();
    upstream.enqueue(reply);
    let config = one_route(&upstream.url("/stream"), "        retry: 1s");
    let mut node = TestNode::start(&config).await;
    let addr = node.addr();
    let state = node.running().state.clone();
    let mut h1 = Client::h1(addr).await.get("/t/acme/events", &[]).await;
    h1.read_until("data: 1\n\n").await;
    assert!(state.is_ready());

    let running = node.begin_shutdown();
    let body = h1.read_to_end().await;
    let retry = body
        .strip_prefix("retry: 1000\n\ndata: 1\n\nretry: ")
        .expect("retry at the end");
    let ms: u64 = retry.trim_end().parse().unwrap();
    assert!((1000..=2000).contains(&ms), "jittered retry {ms}");
    assert!(!state.is_ready());
    tokio::time::timeout(GUARD, running.wait())
        .await
        .expect("node stopped in its grace period");
    tokio::time::timeout(GUARD, upstream.wait_open_responses(0))
        .await
        .unwrap();
    assert!(
        tokio::net::TcpStream::connect(addr).await.is_err(),
        "listener closed"
    );
}
