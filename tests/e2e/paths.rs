//! Path checks before any matching (C39, C40) and segment-aware tenant prefixes (C41).

use sluice_demo_upstream::scripted::{Reply, ScriptedUpstream};

use crate::support::{Client, TestNode, metric, upstream};

fn two_tenants(first: (&str, &str), second: (&str, &str)) -> String {
    let tenant = |(name, url): (&str, &str)| {
        format!(
            "  {name}:\n    path_prefix: /t/{name}\n    routes:\n      events:\n        path: /events\n        \
             public: true\n        upstream:\n          url: {url}\n"
        )
    };
    format!(
        "version: 1\nlisteners:\n  - address: 127.0.0.1:0\ntenants:\n{}{}",
        tenant(first),
        tenant(second)
    )
}

async fn acme_and_globex() -> (ScriptedUpstream, ScriptedUpstream, TestNode) {
    let acme = upstream().await;
    let globex = upstream().await;
    acme.respond(|_| Reply::sse().chunk("data: acme\n\n"));
    globex.respond(|_| Reply::sse().chunk("data: globex\n\n"));
    let config = two_tenants(("acme", &acme.url("/a")), ("globex", &globex.url("/g")));
    (acme, globex, TestNode::start(&config).await)
}

#[tokio::test]
async fn c39_dot_segments_are_refused_before_matching() {
    let (acme, globex, node) = acme_and_globex().await;
    let mut client = Client::h1(node.addr()).await;
    for path in [
        "/t/acme/../globex/events",
        "/t/acme/x/../../globex/events",
        "/t/acme;v=1/../globex/events",
        "/t/acme/events/..",
        "/t/acme/./events",
    ] {
        let stream = client.get(path, &[]).await;
        assert_eq!(stream.status, 400, "{path}");
        assert_eq!(
            stream.header("content-type"),
            Some("application/problem+json")
        );
    }
    assert!(acme.requests().is_empty());
    assert!(globex.requests().is_empty());
}

#[tokio::test]
async fn c39_double_slashes_are_merged_into_the_matched_path() {
    let (_acme, globex, node) = acme_and_globex().await;
    let mut stream = Client::h1(node.addr())
        .await
        .get("/t/globex//events", &[])
        .await;
    assert_eq!(stream.status, 200);
    assert_eq!(stream.read_to_end().await, "data: globex\n\n");
    assert_eq!(globex.requests()[0].path(), "/g");
}

#[tokio::test]
async fn c40_encoded_traversal_and_separators_get_400() {
    let (acme, globex, node) = acme_and_globex().await;
    let mut client = Client::h1(node.addr()).await;
    for path in [
        "/t/acme/%2e%2e/globex/events",
        "/t/acme/%2E%2E%2Fglobex/events",
        "/t/acme%2F..%2Fglobex/events",
        "/t/acme/..%5Cglobex/events",
        "/t/acme/events%00.json",
        "/t/acme/events%3Bx",
        "/t/acme/events%3fx",
        "/t/acme/events%23x",
        "/t/acme/events%zz",
    ] {
        assert_eq!(client.get(path, &[]).await.status, 400, "{path}");
    }
    assert!(acme.requests().is_empty());
    assert!(globex.requests().is_empty());
}

#[tokio::test]
async fn c40_double_encoding_is_decoded_once_only() {
    let (acme, globex, node) = acme_and_globex().await;
    let stream = Client::h1(node.addr())
        .await
        .get("/t/acme/%252e%252e/globex/events", &[])
        .await;
    // Stays `%252e%252e` inside acme: no acme route has that path.
    assert_eq!(stream.status, 404);
    assert!(acme.requests().is_empty() && globex.requests().is_empty());
    let refused = "sluice_requests_refused_total{tenant=\"acme\",reason=\"unknown_route\"}";
    assert_eq!(metric(&node.metrics(), refused), 1.0);
}

#[tokio::test]
async fn c41_prefixes_match_whole_segments_in_either_order() {
    for order in [["acme", "acme-labs"], ["acme-labs", "acme"]] {
        let first = upstream().await;
        let second = upstream().await;
        first.respond(|_| Reply::sse().chunk("data: first\n\n"));
        second.respond(|_| Reply::sse().chunk("data: second\n\n"));
        let config = two_tenants((order[0], &first.url("/1")), (order[1], &second.url("/2")));
        let node = TestNode::start(&config).await;
        let expect = |tenant: &str| {
            if tenant == order[0] {
                "data: first\n\n"
            } else {
                "data: second\n\n"
            }
        };
        let mut client = Client::h1(node.addr()).await;

        let mut stream = client.get("/t/acme-labs/events", &[]).await;
        assert_eq!(stream.read_to_end().await, expect("acme-labs"));
        let mut stream = client.get("/t/acme/events", &[]).await;
        assert_eq!(stream.read_to_end().await, expect("acme"));
        assert_eq!(client.get("/t/acmex/events", &[]).await.status, 404);
        let stream = client.get("/t/acme", &[]).await;
        assert_eq!(stream.status, 404);
        let acme_miss = "sluice_requests_refused_total{tenant=\"acme\",reason=\"unknown_route\"}";
        assert_eq!(
            metric(&node.metrics(), acme_miss),
            1.0,
            "/t/acme resolves to acme"
        );
    }
}

#[tokio::test]
async fn path_params_fill_the_upstream_url_one_segment_each() {
    let upstream = upstream().await;
    upstream.respond(|_| Reply::sse());
    let config = "version: 1\nlisteners:\n  - address: 127.0.0.1:0\ntenants:\n  acme:\n    \
                  path_prefix: /t/acme\n    routes:\n      orders:\n        path: /orders/{region}\n        \
                  public: true\n        upstream:\n          url: URL/stream/{tenant}/{region}\n"
        .replace("URL", &upstream.url(""));
    let node = TestNode::start(&config).await;
    let mut client = Client::h1(node.addr()).await;
    let mut stream = client.get("/t/acme/orders/eu%20west", &[]).await;
    assert_eq!(stream.status, 200);
    stream.read_to_end().await;
    assert_eq!(
        upstream.wait_requests(1).await[0].path(),
        "/stream/acme/eu%20west"
    );
    assert_eq!(client.get("/t/acme/orders/eu/west", &[]).await.status, 404);
}
