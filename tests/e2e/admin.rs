//! The admin listener: health, readiness, metrics and the applied config.

use sluice_demo_upstream::scripted::Reply;

use crate::support::{Client, TestNode, metric, one_route, upstream};

#[tokio::test]
async fn admin_endpoints_report_health_readiness_metrics_and_config() {
    let upstream = upstream().await;
    upstream.respond(|_| Reply::sse().chunk("data: {\"n\":1}\n\ndata: {\"n\":2}\n\n"));
    let node = TestNode::start(&one_route(&upstream.url("/stream"), "")).await;
    let mut stream = Client::h1(node.addr())
        .await
        .get("/t/acme/events", &[])
        .await;
    stream.read_to_end().await;

    let mut admin = Client::h1(node.admin()).await;
    let mut health = admin.get("/healthz", &[]).await;
    assert_eq!(
        (health.status.as_u16(), health.read_to_end().await.as_str()),
        (200, "ok\n")
    );
    let mut ready = admin.get("/readyz", &[]).await;
    assert_eq!(
        (ready.status.as_u16(), ready.read_to_end().await.as_str()),
        (200, "ready\n")
    );

    let text = admin.get("/metrics", &[]).await.read_to_end().await;
    let labels = "{tenant=\"acme\",route=\"events\"}";
    assert_eq!(
        metric(&text, &format!("sluice_streams_opened_total{labels}")),
        1.0
    );
    assert_eq!(
        metric(&text, &format!("sluice_events_forwarded_total{labels}")),
        2.0
    );
    let bytes = "data: {\"n\":1}\n\ndata: {\"n\":2}\n\n".len() as f64;
    assert_eq!(
        metric(&text, &format!("sluice_bytes_forwarded_total{labels}")),
        bytes
    );
    assert_eq!(
        metric(&text, &format!("sluice_streams_active{labels}")),
        0.0
    );

    let config = admin.get("/config", &[]).await.read_to_end().await;
    let config: serde_json::Value = serde_json::from_str(&config).unwrap();
    assert_eq!(config["revision"], 1);
    assert_eq!(config["ready"], true);
    assert_eq!(config["tenants"], 1);
    assert_eq!(config["routes"], 1);
    assert!(config["source"].as_str().unwrap().starts_with("file:"));
}
