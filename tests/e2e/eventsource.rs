//! Chromium's own EventSource through a node: it streams, and when the node restarts it
//! reconnects by itself with `Last-Event-ID`, so the stream resumes where it stopped.

use std::time::Duration;

use tokio::net::TcpListener;

use crate::support::TestNode;
use crate::support::browser::Browser;

const PAGE: &str = r#"<!doctype html>
<meta charset="utf-8"><title>es</title>
<ol id="ids"></ol>
<script type="module">
  const source = new EventSource("/t/demo/ticks");
  source.addEventListener("tick", (event) => {
    const item = document.createElement("li");
    item.textContent = event.lastEventId;
    document.getElementById("ids").append(item);
  });
</script>
"#;

fn config(address: &str, upstream: std::net::SocketAddr) -> String {
    format!(
        "version: 1\nlisteners:\n  - address: {address}\nshutdown_grace: 2s\ntenants:\n  demo:\n    \
         path_prefix: /t/demo\n    routes:\n      page:\n        path: /page/{{file}}\n        public: true\n        \
         files: www\n      ticks:\n        path: /ticks\n        public: true\n        retry: 200ms\n        \
         upstream:\n          url: http://{upstream}/stream/ticks\n"
    )
}

async fn node_in(dir: &std::path::Path, yaml: &str) -> TestNode {
    let node_dir = tempfile::tempdir_in(dir).unwrap();
    std::fs::create_dir(node_dir.path().join("www")).unwrap();
    std::fs::write(node_dir.path().join("www/es.html"), PAGE).unwrap();
    TestNode::start_in(node_dir, yaml).await
}

fn ids(value: &serde_json::Value) -> Vec<u64> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().parse().unwrap())
        .collect()
}

#[tokio::test]
async fn chromiums_eventsource_resumes_with_last_event_id_after_the_node_restarts() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = listener.local_addr().unwrap();
    let demo = sluice_demo_upstream::demo::DemoConfig {
        interval: Duration::from_millis(100),
    };
    tokio::spawn(sluice_demo_upstream::demo::run(
        listener,
        demo,
        std::future::pending(),
    ));
    let dir = tempfile::tempdir().unwrap();
    let mut first = node_in(dir.path(), &config("127.0.0.1:0", upstream)).await;
    let address = first.addr().to_string();

    let browser = Browser::launch().await;
    let tab = browser
        .open(&format!("http://{address}/t/demo/page/es.html"))
        .await;
    let list = "[...document.querySelectorAll('#ids li')].map(li => li.textContent)";
    tab.wait_for("three events", &format!("{list}.length >= 3"))
        .await;

    // The node restarts on the same address; the page does nothing but wait.
    first.begin_shutdown().wait().await;
    let seen = ids(&tab.eval(list).await);
    let _second = node_in(dir.path(), &config(&address, upstream)).await;
    let target = seen.len() + 3;
    let after = tab
        .wait_for(
            "events after the restart",
            &format!("{list}.length >= {target} && {list}"),
        )
        .await;
    let after = ids(&after);
    // Continuous ids: the reconnect carried Last-Event-ID, so the upstream resumed after it.
    let expected: Vec<u64> = (1..=after.len() as u64).collect();
    assert_eq!(after, expected, "ids before the restart: {seen:?}");
    browser.close().await;
}
