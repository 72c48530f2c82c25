//! Delivery on long-lived streams: flushing (C14), headers before the first event (C16),
//! heartbeats (C17), disconnects (C18), slow clients (C19), Last-Event-ID (C22) and what the
//! upstream is told about the caller (C44).

use std::time::Duration;

use sluice_demo_upstream::scripted::Reply;

use crate::support::{Client, GUARD, TestNode, metric, one_route, upstream};

#[tokio::test]
async fn c14_each_event_is_flushed_on_its_own() {
    let upstream = upstream().await;
    let (reply, handle) = Reply::sse().live();
    upstream.enqueue(reply);
    let node = TestNode::start(&one_route(&upstream.url("/stream"), "")).await;
    let mut stream = Client::h1(node.addr())
        .await
        .get("/t/acme/events", &[])
        .await;
    for n in 1..=3 {
        handle
            .send(format!("data: {{\"t\":{n}}}\n\n"))
            .await
            .unwrap();
        // The event arrives while the upstream stays open: nothing waits for a buffer to fill.
        let chunk = stream.next_chunk().await.expect("event");
        assert_eq!(chunk, format!("data: {{\"t\":{n}}}\n\n"));
    }
}

#[tokio::test]
async fn c15_event_streams_are_never_compressed() {
    let upstream = upstream().await;
    let (reply, handle) = Reply::sse()
        .header(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static("text/event-stream; charset=utf-8"),
        )
        .live();
    upstream.enqueue(reply);
    let node = TestNode::start(&one_route(&upstream.url("/stream"), "")).await;
    let headers = [
        ("accept-encoding", "gzip, deflate, br"),
        ("accept", "text/event-stream"),
    ];
    let mut stream = Client::h1(node.addr())
        .await
        .get("/t/acme/events", &headers)
        .await;
    assert_eq!(stream.header("content-encoding"), None);
    handle.send("data: 1\n\n").await.unwrap();
    assert_eq!(stream.next_chunk().await.unwrap(), "data: 1\n\n");
}

#[tokio::test]
async fn c16_headers_arrive_before_any_event() {
    let upstream = upstream().await;
    upstream.enqueue(Reply::sse().then_hang());
    let node = TestNode::start(&one_route(&upstream.url("/stream"), "")).await;
    for mut client in [
        Client::h1(node.addr()).await,
        Client::h2c(node.addr()).await,
    ] {
        upstream.enqueue(Reply::sse().then_hang());
        // `get` returns on the response head; the upstream has sent no body byte.
        let stream = client.get("/t/acme/events", &[]).await;
        assert_eq!(stream.status, 200);
        assert_eq!(stream.header("content-type"), Some("text/event-stream"));
        assert_eq!(stream.header("cache-control"), Some("no-cache"));
        assert_eq!(stream.header("x-accel-buffering"), Some("no"));
        assert!(stream.received.is_empty());
    }
}

#[tokio::test]
async fn c17_heartbeats_keep_a_quiet_stream_alive_and_events_follow_on_it() {
    let upstream = upstream().await;
    let (reply, handle) = Reply::sse().chunk("data: 1\n\n").live();
    upstream.enqueue(reply);
    let node = TestNode::start(&one_route(
        &upstream.url("/stream"),
        "        heartbeat: 100ms",
    ))
    .await;
    let mut stream = Client::h1(node.addr())
        .await
        .get("/t/acme/events", &[])
        .await;
    stream.read_until("data: 1\n\n").await;
    stream.read_until("data: 1\n\n:\n\n:\n\n").await;
    handle.send("data: 2\n\n").await.unwrap();
    let text = stream.read_until("data: 2\n\n").await;
    assert!(text.starts_with("data: 1\n\n:\n\n:\n\n"), "{text:?}");
}

#[tokio::test]
async fn route_retry_is_sent_when_the_stream_opens() {
    let upstream = upstream().await;
    upstream.enqueue(Reply::sse().chunk("data: x\n\n"));
    let node = TestNode::start(&one_route(
        &upstream.url("/stream"),
        "        retry: 2500ms",
    ))
    .await;
    let mut stream = Client::h1(node.addr())
        .await
        .get("/t/acme/events", &[])
        .await;
    assert_eq!(stream.read_to_end().await, "retry: 2500\n\ndata: x\n\n");
}

/// Opens a stream, reads one event, lets the client go, and waits for the upstream to notice.
async fn disconnect_closes_upstream(h2: bool, rounds: usize) {
    let upstream = upstream().await;
    let node = TestNode::start(&one_route(&upstream.url("/stream"), "")).await;
    let mut shared_h2 = if h2 {
        Some(Client::h2c(node.addr()).await)
    } else {
        None
    };
    for _ in 0..rounds {
        let (reply, handle) = Reply::sse().chunk("data: 1\n\n").live();
        upstream.enqueue(reply);
        let mut own = if h2 {
            None
        } else {
            Some(Client::h1(node.addr()).await)
        };
        let client = match (shared_h2.as_mut(), own.as_mut()) {
            (Some(client), _) | (None, Some(client)) => client,
            (None, None) => unreachable!("one client exists"),
        };
        let mut stream = client.get("/t/acme/events", &[]).await;
        stream.read_until("data: 1\n\n").await;
        drop(stream);
        drop(own);
        // The upstream keeps quiet: the node must notice from the client side, not a write.
        tokio::time::timeout(Duration::from_secs(1), handle.closed())
            .await
            .expect("upstream request closed within a second");
    }
    tokio::time::timeout(GUARD, upstream.wait_open_responses(0))
        .await
        .unwrap();
    let active = "sluice_streams_active{tenant=\"acme\",route=\"events\"}";
    assert_eq!(metric(&node.metrics(), active), 0.0);
}

#[tokio::test]
async fn c18_client_close_on_http1_closes_the_upstream_within_a_second() {
    disconnect_closes_upstream(false, 100).await;
}

#[tokio::test]
async fn c18_h2_stream_reset_closes_the_upstream_within_a_second() {
    disconnect_closes_upstream(true, 100).await;
}

#[tokio::test]
async fn c19_a_client_that_stops_reading_is_cut_off_and_others_keep_flowing() {
    let upstream = upstream().await;
    let node = TestNode::start(&one_route(&upstream.url("/stream"), "        buffer: 8")).await;
    let (slow_reply, slow_feed) = Reply::sse().live();
    upstream.enqueue(slow_reply);
    let mut slow = Client::h1(node.addr()).await;
    let slow_stream = slow.get("/t/acme/events", &[]).await;
    let (fast_reply, fast_feed) = Reply::sse().live();
    upstream.enqueue(fast_reply);
    let mut fast_stream = Client::h2c(node.addr())
        .await
        .get("/t/acme/events", &[])
        .await;

    // 64 KiB events to the slow client, which never reads: socket buffers fill, then its queue.
    let event = format!("data: {}\n\n", "x".repeat(64 * 1024));
    let mut sent = 0;
    while slow_feed.send(event.clone()).await.is_ok() {
        sent += 1;
        fast_feed.send(format!("data: {sent}\n\n")).await.unwrap();
        fast_stream.read_until(&format!("data: {sent}\n\n")).await;
        assert!(sent < 10_000, "the slow client was never cut off");
    }
    drop(slow_stream);
    let slow_series = "sluice_slow_clients_total{tenant=\"acme\",route=\"events\"}";
    assert_eq!(metric(&node.metrics(), slow_series), 1.0);
    fast_feed.send("data: after\n\n").await.unwrap();
    fast_stream.read_until("data: after\n\n").await;
}

#[tokio::test]
async fn c22_last_event_id_reaches_the_upstream_once_from_header_or_query() {
    let upstream = upstream().await;
    upstream.respond(|_| Reply::sse());
    let node = TestNode::start(&one_route(&upstream.url("/stream"), "")).await;
    let cases: [(&str, &[(&str, &str)]); 4] = [
        ("/t/acme/events", &[("last-event-id", "41")]),
        ("/t/acme/events?lastEventId=41", &[]),
        ("/t/acme/events?lastEventId=40&lastEventId=41", &[]),
        ("/t/acme/events?lastEventId=40", &[("last-event-id", "41")]),
    ];
    for (i, (path, headers)) in cases.iter().enumerate() {
        let mut stream = Client::h1(node.addr()).await.get(path, headers).await;
        assert_eq!(stream.status, 200);
        stream.read_to_end().await;
        let requests = upstream.wait_requests(i + 1).await;
        let seen = &requests[i];
        let ids: Vec<_> = seen.headers.get_all("last-event-id").iter().collect();
        assert_eq!(ids, ["41"], "case {}", i + 1);
        assert_eq!(
            seen.uri.path_and_query().unwrap().as_str(),
            "/stream",
            "case {}",
            i + 1
        );
    }
}

#[tokio::test]
async fn c22_a_last_event_id_over_255_bytes_gets_400() {
    let upstream = upstream().await;
    let node = TestNode::start(&one_route(&upstream.url("/stream"), "")).await;
    let long = "7".repeat(256);
    let stream = Client::h1(node.addr())
        .await
        .get("/t/acme/events", &[("last-event-id", &long)])
        .await;
    assert_eq!(stream.status, 400);
    assert!(upstream.requests().is_empty());
}

#[tokio::test]
async fn c44_client_identity_headers_are_replaced_by_the_nodes_own() {
    let upstream = upstream().await;
    upstream.respond(|_| Reply::sse());
    let extra = "          headers:\n            x-tenant-id: \"{tenant}\"";
    let node = TestNode::start(&one_route(&upstream.url("/stream"), extra)).await;
    let headers = [
        ("x-tenant-id", "globex"),
        ("X-Tenant-Id", "acme"),
        ("x-user-id", "admin"),
        ("x-forwarded-host", "globex.sse.example.test"),
        ("x-forwarded-for", "10.0.0.1"),
        ("x-sluice-tenant", "globex"),
        ("X-Sluice-Subject", "admin"),
    ];
    let mut stream = Client::h1(node.addr())
        .await
        .get("/t/acme/events?topic=orders", &headers)
        .await;
    assert_eq!(stream.status, 200);
    stream.read_to_end().await;
    let seen = upstream.wait_requests(1).await.remove(0);
    let all = |name: &str| -> Vec<String> {
        seen.headers
            .get_all(name)
            .iter()
            .map(|v| v.to_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(all("x-tenant-id"), ["acme"]);
    assert_eq!(all("x-sluice-tenant"), ["acme"]);
    assert!(all("x-sluice-subject").is_empty());
    assert!(all("x-user-id").is_empty());
    assert_eq!(all("x-forwarded-for"), ["127.0.0.1"]);
    assert_eq!(all("x-forwarded-host"), ["127.0.0.1"]);
    assert_eq!(all("accept"), ["text/event-stream"]);
    assert_eq!(
        seen.uri.path_and_query().unwrap().as_str(),
        "/stream?topic=orders"
    );
}

#[tokio::test]
async fn a_host_routed_request_resolves_the_tenant_by_host() {
    let upstream = upstream().await;
    upstream.respond(|_| Reply::sse().chunk("data: hi\n\n"));
    let node = TestNode::start(&one_route(&upstream.url("/stream"), "")).await;
    let host = [("host", "ACME.sse.example.test.:443")];
    let mut stream = Client::h1(node.addr()).await.get("/events", &host).await;
    assert_eq!(stream.status, 200);
    assert_eq!(stream.read_to_end().await, "data: hi\n\n");
    let mut stream = Client::h2c(node.addr()).await.get("/events", &host).await;
    assert_eq!(stream.read_to_end().await, "data: hi\n\n");
}
