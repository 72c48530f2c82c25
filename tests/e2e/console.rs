//! The web console in a real headless Chromium, against a real control plane (which serves
//! it), a managed node and the demo upstream: sign in, create a tenant, a key and a route, see
//! the node in sync, mint a token and watch a published event arrive in the stream tester; see
//! an invalid schema refused with the API's message at the field; make a tenant admin token
//! that sees only its tenant. Screenshots are checked for basic sanity.

use std::net::SocketAddr;

use serde_json::json;
use sluice_demo_upstream::DemoConfig;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use crate::support::browser::{Browser, Tab, check_png};
use crate::support::fleet::{ADMIN, Node, Plane};
use crate::support::{Client, GUARD};

const NODE_ID: &str = "console-node";

/// A control plane (which serves the console), one managed node and the demo upstream.
struct Stack {
    _dir: tempfile::TempDir,
    plane: Plane,
    node: Node,
    demo: SocketAddr,
    _stop_demo: oneshot::Sender<()>,
    /// Where the console is served: the control plane's HTTP origin.
    console: String,
}

impl Stack {
    async fn start() -> Stack {
        let dir = tempfile::tempdir().expect("temp dir");
        let plane = Plane::start(&dir.path().join("control-plane")).await;
        let console = format!("http://{}", plane.http());
        let token = plane.node_token(NODE_ID).await;
        let cache = dir.path().join("node-cache");
        let node = Node::start(NODE_ID, &plane.grpc_url(), &token, &cache, None).await;
        let (demo, stop_demo) = start_demo().await;
        Stack {
            _dir: dir,
            plane,
            node,
            demo,
            _stop_demo: stop_demo,
            console,
        }
    }

    fn node_url(&self) -> String {
        format!("http://{}", self.node.addr())
    }

    /// Stops the node, then the control plane; the demo and the temp dir go with `self`.
    async fn stop(self) {
        drop(self.node);
        self.plane.stop().await;
    }
}

/// The demo upstream on port 0, not ticking: the only events are the ones a test publishes.
async fn start_demo() -> (SocketAddr, oneshot::Sender<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind demo");
    let addr = listener.local_addr().expect("demo addr");
    let config = DemoConfig {
        interval: std::time::Duration::from_secs(3600),
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let shutdown = async move {
        let _ = stopped.await;
    };
    tokio::spawn(sluice_demo_upstream::demo::run(listener, config, shutdown));
    (addr, stop)
}

/// Checks a screenshot: a well-formed PNG of the viewport, not tiny, not one flat colour.
async fn check_screenshot(tab: &Tab, name: &str) {
    let png = tab.screenshot(name).await;
    let info = check_png(&png);
    assert!(png.len() > 10_000, "{name}: only {} bytes", png.len());
    let (width, height, colours) = tab.decode_png(&png).await;
    assert_eq!(
        (width, height),
        (u64::from(info.width), u64::from(info.height))
    );
    assert!(width >= 1000 && height >= 700, "{name}: {width}x{height}");
    assert!(colours >= 16, "{name}: only {colours} colours");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_creates_a_tenant_and_route_and_shows_a_live_event() {
    let stack = Stack::start().await;
    let browser = Browser::launch().await;
    let tab = browser.open(&format!("{}/", stack.console)).await;

    sign_in(&tab).await;
    create_tenant(&tab, &stack.console).await;
    let kid = generate_key(&tab).await;
    configure_auth(&tab).await;
    create_route(&tab, stack.demo).await;
    wait_in_sync(&tab).await;
    check_screenshot(&tab, "fleet").await;
    stream_an_event(&tab, &stack, &kid).await;
    check_screenshot(&tab, "stream").await;

    browser.close().await;
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_shows_why_an_invalid_schema_is_refused() {
    let stack = Stack::start().await;
    let browser = Browser::launch().await;
    let tab = browser.open(&format!("{}/", stack.console)).await;
    sign_in(&tab).await;
    create_tenant(&tab, &stack.console).await;

    tab.click(".tabs a[href$='/schemas']").await;
    tab.wait_heading("Schemas of demo").await;
    tab.fill("#schema-add [name='schema-name']", "order").await;
    tab.fill("#schema-add [name='schema']", r#"{"type": "no-such-type"}"#)
        .await;
    tab.click("#schema-add button[type='submit']").await;
    tab.wait_visible("#schema-add [data-pointer='/schema'] .field-error")
        .await;

    // The same body sent straight to the API: the console shows its message at the field.
    let body = json!({ "schema": { "type": "no-such-type" } });
    let path = "/api/v1/tenants/demo/schemas/order/versions";
    let (status, problem) = stack.plane.api("POST", path, body).await;
    assert_eq!(status, 422, "{problem}");
    let error = &problem["errors"][0];
    let at = error["path"].as_str().expect("path");
    assert!(at.starts_with("/schema"), "{problem}");
    let message = error["message"].as_str().expect("message");
    let shown = tab
        .text("#schema-add [data-pointer='/schema'] .field-error")
        .await;
    assert!(
        shown.contains(message),
        "shown {shown:?}, API says {message:?}"
    );
    let invalid = tab
        .eval(
            "document.querySelector(\"#schema-add [name='schema']\").getAttribute('aria-invalid')",
        )
        .await;
    assert_eq!(invalid, "true");
    let summary = tab.text("#schema-add .problem[role='alert']").await;
    assert!(summary.contains("422"), "{summary}");
    let listed = tab
        .eval("document.querySelectorAll('table tbody tr th').length")
        .await;
    assert_eq!(listed, 0, "nothing was written");
    check_screenshot(&tab, "schema-refused").await;

    browser.close().await;
    stack.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn console_makes_a_tenant_admin_token_that_sees_only_its_tenant() {
    let stack = Stack::start().await;
    let browser = Browser::launch().await;
    let tab = browser.open(&format!("{}/", stack.console)).await;
    sign_in(&tab).await;
    create_tenant(&tab, &stack.console).await;

    tab.click("#nav a[data-section='tokens']").await;
    tab.wait_heading("Tokens").await;
    tab.fill("#token-create [name='name']", "demo-ops").await;
    tab.choose("#token-create [name='tenant']", "demo").await;
    tab.click("#token-create button[type='submit']").await;
    tab.wait_visible("#token-create .result input[name='secret']")
        .await;
    let secret = tab
        .value("#token-create .result input[name='secret']")
        .await;
    assert!(secret.len() >= 20, "{secret}");
    let listed = tab.text("table tbody").await;
    assert!(
        listed.contains("demo-ops") && listed.contains("demo"),
        "{listed}"
    );

    tab.click("#sign-out").await;
    tab.wait_heading("Sign in").await;
    tab.fill("#signin-form [name='token']", &secret).await;
    tab.click("#signin-form button[type='submit']").await;
    tab.wait_heading("Tenants").await;
    let rows = tab
        .eval("document.querySelectorAll('table tbody tr th a').length")
        .await;
    assert_eq!(rows, 1);
    tab.click("#nav a[data-section='fleet']").await;
    tab.wait_visible("#fleet-body .problem").await;
    let refused = tab.text("#fleet-body .problem").await;
    assert_eq!(refused, "The fleet is visible to global admins only.");
    tab.click("#nav a[data-section='revisions']").await;
    tab.wait_heading("Revisions").await;
    tab.wait_visible("tbody tr[data-revision]").await;
    let newest = tab.text("tbody tr[data-revision] td:last-child").await;
    assert_eq!(newest, "create tenant demo");

    browser.close().await;
    stack.stop().await;
}

/// Signs in with the keyboard: type the token, press Enter.
async fn sign_in(tab: &Tab) {
    tab.wait_heading("Sign in").await;
    tab.fill("#signin-form [name='token']", ADMIN).await;
    tab.press_enter("#signin-form [name='token']").await;
    tab.wait_heading("Tenants").await;
    let focused = tab.eval("document.activeElement?.tagName").await;
    assert_eq!(focused, "H1", "focus moves to the new page's heading");
    let stored = tab
        .eval("sessionStorage.getItem('sluice.adminToken')")
        .await;
    assert_eq!(stored, ADMIN);
}

async fn create_tenant(tab: &Tab, console: &str) {
    let origins = tab.value("#tenant-create [name='cors.origins']").await;
    assert_eq!(origins, console, "the console's origin is offered for CORS");
    tab.fill("#tenant-create [name='name']", "demo").await;
    tab.fill("#tenant-create [name='path_prefix']", "/t/demo")
        .await;
    tab.fill("#tenant-create [name='cors.origins']", console)
        .await;
    tab.click("#tenant-create button[type='submit']").await;
    tab.wait_heading("Tenant demo").await;
}

/// Generates an ES256 key pair in the browser; returns its kid.
async fn generate_key(tab: &Tab) -> String {
    tab.click(".tabs a[href$='/keys']").await;
    tab.wait_heading("Keys of demo").await;
    tab.choose("#key-generate [name='alg']", "ES256").await;
    tab.click("#key-generate button[type='submit']").await;
    tab.wait_visible("#key-generate .result a[download]").await;
    let href = tab
        .eval("document.querySelector('#key-generate .result a[download]').href")
        .await;
    assert!(
        href.as_str().is_some_and(|h| h.starts_with("blob:")),
        "{href}"
    );
    let pem = tab
        .eval("fetch(document.querySelector('#key-generate .result a[download]').href).then(r => r.text())")
        .await;
    let pem = pem.as_str().expect("pem");
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----\n"), "{pem}");
    let kid = tab.text("table tbody tr th code").await;
    assert_eq!(kid.len(), 43, "an RFC 7638 SHA-256 thumbprint: {kid}");
    kid
}

async fn configure_auth(tab: &Tab) {
    tab.click(".tabs a[href='#/tenants/demo']").await;
    tab.wait_heading("Tenant demo").await;
    tab.fill(
        "#tenant-settings [name='auth.issuer']",
        "https://issuer.console.test",
    )
    .await;
    tab.fill(
        "#tenant-settings [name='auth.audiences']",
        "sluice-console-test",
    )
    .await;
    tab.fill(
        "#tenant-settings [name='auth.credentials.query']",
        "access_token",
    )
    .await;
    tab.click("#tenant-settings button[type='submit']").await;
    tab.wait_for(
        "the tenant saved",
        "document.getElementById('notice').textContent === 'Tenant demo saved.'",
    )
    .await;
}

async fn create_route(tab: &Tab, demo: SocketAddr) {
    tab.click(".tabs a[href$='/routes']").await;
    tab.wait_heading("Routes of demo").await;
    tab.fill("#route-create [name='name']", "live").await;
    tab.fill("#route-create [name='path']", "/live").await;
    tab.fill("#route-create [name='scopes']", "events:read")
        .await;
    let upstream = format!("http://{demo}/stream/console");
    tab.fill("#route-create [name='upstream.url']", &upstream)
        .await;
    tab.click("#route-create button[type='submit']").await;
    tab.wait_heading("Route live of demo").await;
}

/// The fleet page shows the node with the revision in force.
async fn wait_in_sync(tab: &Tab) {
    tab.click("#nav a[data-section='fleet']").await;
    tab.wait_heading("Fleet").await;
    let row = format!("tr[data-node='{NODE_ID}'][data-in-sync='true']");
    tab.wait_visible(&row).await;
    let drift = tab.text(&format!("{row} .badge")).await;
    assert_eq!(drift, "in sync");
}

async fn stream_an_event(tab: &Tab, stack: &Stack, kid: &str) {
    tab.click("#nav a[data-section='stream']").await;
    tab.wait_heading("Stream tester").await;
    assert_eq!(tab.value("#stream-form [name='tenant']").await, "demo");
    assert_eq!(tab.value("#stream-form [name='route']").await, "live");
    assert_eq!(
        tab.value("#stream-form [name='path']").await,
        "/t/demo/live"
    );
    tab.fill("#stream-form [name='node-url']", &stack.node_url())
        .await;
    assert_eq!(tab.value("#mint-form [name='mint-key']").await, kid);
    assert_eq!(
        tab.value("#mint-form [name='mint-scopes']").await,
        "events:read"
    );
    tab.click("#mint-submit").await;
    tab.wait_for(
        "a minted token",
        "document.querySelector(\"#stream-form [name='token']\").value.split('.').length === 3",
    )
    .await;
    tab.click("#stream-connect").await;
    tab.wait_for(
        "the stream to open",
        "document.getElementById('stream-status').dataset.state === 'open'",
    )
    .await;

    publish(stack.demo).await;
    let event = "#events li.event";
    tab.wait_visible(event).await;
    let count = tab
        .eval("document.querySelectorAll('#events li.event').length")
        .await;
    assert_eq!(count, 1, "the event list holds the published event");
    assert_eq!(tab.text(&format!("{event} .event-type")).await, "message");
    assert_eq!(tab.text(&format!("{event} .event-id")).await, "id 1");
    assert_eq!(
        tab.text(&format!("{event} .event-data")).await,
        r#"{"hello":"console"}"#
    );
    tab.eval("(document.getElementById('events').scrollIntoView(), true)")
        .await;
}

/// Publishes one event to the demo stream the route reads, once the node's upstream request
/// has subscribed (the demo answers how many streams got it).
async fn publish(demo: SocketAddr) {
    let deadline = tokio::time::Instant::now() + GUARD;
    loop {
        let body = json!({ "hello": "console" });
        let mut client = Client::h1(demo).await;
        let (status, answer) = client.json("POST", "/publish/console", &[], &body).await;
        assert_eq!(status, 200, "{answer}");
        if answer["streams"].as_u64() == Some(1) {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the node never opened the upstream stream: {answer}"
        );
        // The poll interval of a bounded wait, not a synchronisation.
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
