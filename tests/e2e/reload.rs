//! Hot reload of the config file: a valid change is swapped in without disturbing open
//! streams; an invalid one is refused whole and the old config keeps serving.

use sluice_demo_upstream::scripted::Reply;

use crate::support::{Client, GUARD, TestNode, metric, one_route, upstream};

fn with_second_route(url: &str) -> String {
    let mut config = one_route(url, "");
    config.push_str(&format!(
        "      more:\n        path: /more\n        public: true\n        upstream:\n          url: {url}\n"
    ));
    config
}

#[tokio::test]
async fn a_valid_change_is_swapped_in_and_open_streams_keep_flowing() {
    let upstream = upstream().await;
    let (reply, feed) = Reply::sse().live();
    upstream.enqueue(reply);
    let node = TestNode::start(&one_route(&upstream.url("/stream"), "")).await;
    let mut open = Client::h2c(node.addr())
        .await
        .get("/t/acme/events", &[])
        .await;
    feed.send("data: before\n\n").await.unwrap();
    open.read_until("data: before\n\n").await;
    assert_eq!(
        Client::h1(node.addr())
            .await
            .get("/t/acme/more", &[])
            .await
            .status,
        404
    );

    let state = node.running().state.clone();
    let mut swaps = state.swaps();
    std::fs::write(
        node.config_path(),
        with_second_route(&upstream.url("/stream")),
    )
    .unwrap();
    tokio::time::timeout(GUARD, swaps.changed())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.snapshot().unwrap().revision, 2);

    upstream.enqueue(Reply::sse().chunk("data: new route\n\n"));
    let mut more = Client::h1(node.addr()).await.get("/t/acme/more", &[]).await;
    assert_eq!(more.read_to_end().await, "data: new route\n\n");
    feed.send("data: after\n\n").await.unwrap();
    assert_eq!(
        open.read_until("data: after\n\n").await,
        "data: before\n\ndata: after\n\n"
    );
    assert_eq!(
        metric(
            &node.metrics(),
            "sluice_config_reloads_total{result=\"applied\"}"
        ),
        1.0
    );
}

#[tokio::test]
async fn an_invalid_change_is_refused_whole_and_the_old_config_serves() {
    let upstream = upstream().await;
    upstream.respond(|_| Reply::sse().chunk("data: ok\n\n"));
    let node = TestNode::start(&one_route(&upstream.url("/stream"), "")).await;
    let state = node.running().state.clone();
    let mut refusals = state.refusals();

    // A new route that is fine and an old one broken: nothing of it may apply.
    let broken = with_second_route(&upstream.url("/stream"))
        .replace("        path: /events\n", "        path: /events/{id\n");
    std::fs::write(node.config_path(), broken).unwrap();
    tokio::time::timeout(GUARD, refusals.changed())
        .await
        .unwrap()
        .unwrap();

    assert_eq!(state.snapshot().unwrap().revision, 1);
    let mut client = Client::h1(node.addr()).await;
    assert_eq!(
        client.get("/t/acme/events", &[]).await.read_to_end().await,
        "data: ok\n\n"
    );
    assert_eq!(client.get("/t/acme/more", &[]).await.status, 404);
    assert_eq!(
        metric(
            &node.metrics(),
            "sluice_config_reloads_total{result=\"refused\"}"
        ),
        1.0
    );

    std::fs::write(node.config_path(), "version: 1\ntenants: [\n").unwrap();
    tokio::time::timeout(GUARD, refusals.changed())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(state.snapshot().unwrap().revision, 1);
}

#[tokio::test]
async fn removing_a_route_ends_its_open_streams_and_keeps_the_others() {
    let upstream = upstream().await;
    let (gone_reply, _gone_feed) = Reply::sse().chunk("data: a\n\n").live();
    let (kept_reply, kept_feed) = Reply::sse().chunk("data: b\n\n").live();
    upstream.enqueue(gone_reply);
    upstream.enqueue(kept_reply);
    let node = TestNode::start(&with_second_route(&upstream.url("/stream"))).await;
    let mut client = Client::h2c(node.addr()).await;
    let mut gone = client.get("/t/acme/events", &[]).await;
    gone.read_until("data: a\n\n").await;
    let mut kept = client.get("/t/acme/more", &[]).await;
    kept.read_until("data: b\n\n").await;

    let without_events = with_second_route(&upstream.url("/stream")).replace(
        "      events:\n        path: /events\n        public: true\n        upstream:\n",
        "      renamed:\n        path: /renamed\n        public: true\n        upstream:\n",
    );
    std::fs::write(node.config_path(), without_events).unwrap();
    assert_eq!(gone.read_to_end().await, "data: a\n\n");
    kept_feed.send("data: still\n\n").await.unwrap();
    kept.read_until("data: still\n\n").await;
}
