//! TLS listeners: ALPN picks h2 or HTTP/1.1, SNI picks a tenant's certificate, PKCS#12
//! keystores load; upstreams over https and h2.

use std::sync::Arc;

use sluice_demo_upstream::scripted::{Reply, ScriptedUpstream};
use tokio::net::TcpListener;

use crate::support::certs::TestCa;
use crate::support::{Client, TestNode, upstream};

struct TlsSetup {
    ca: TestCa,
    node: TestNode,
    acme_cert: Vec<u8>,
    globex_cert: Vec<u8>,
}

/// A TLS listener whose default certificate covers `acme.localhost`, and tenant `globex` with its
/// own certificate for `globex.localhost`.
async fn tls_node(upstream_url: &str, listener_tls: Option<&str>) -> TlsSetup {
    let ca = TestCa::new();
    let dir = tempfile::tempdir().unwrap();
    let acme = ca.leaf(&["acme.localhost"]);
    let globex = ca.leaf(&["globex.localhost"]);
    ca.write_pem(dir.path(), "acme", &acme);
    ca.write_pem(dir.path(), "globex", &globex);
    ca.write_p12(dir.path(), "keystore", &acme, "s3cret");
    let listener_tls = listener_tls.unwrap_or("{ certificate: acme.pem, private_key: acme.key }");
    let route = |name: &str| {
        format!(
            "    routes:\n      events:\n        path: /events\n        public: true\n        \
             upstream:\n          url: {upstream_url}/{name}\n"
        )
    };
    let config = format!(
        "version: 1\nlisteners:\n  - address: 127.0.0.1:0\n    tls: {listener_tls}\ntenants:\n  \
         acme:\n    hosts: [acme.localhost]\n{}  globex:\n    hosts: [globex.localhost]\n    \
         tls: {{ certificate: globex.pem, private_key: globex.key }}\n{}",
        route("acme"),
        route("globex")
    );
    let node = TestNode::start_in(dir, &config).await;
    TlsSetup {
        ca,
        node,
        acme_cert: acme.der.to_vec(),
        globex_cert: globex.der.to_vec(),
    }
}

fn sse_upstream(upstream: &ScriptedUpstream) {
    upstream.respond(|request| Reply::sse().chunk(format!("data: {}\n\n", request.path())));
}

#[tokio::test]
async fn h2_over_tls_is_chosen_by_alpn() {
    let upstream = upstream().await;
    sse_upstream(&upstream);
    let setup = tls_node(&upstream.url(""), None).await;
    let config = setup.ca.client(&[b"h2", b"http/1.1"]);
    let mut client = Client::tls(setup.node.addr(), "acme.localhost", config).await;
    assert_eq!(client.alpn.as_deref(), Some(&b"h2"[..]));
    let mut stream = client.get("/events", &[]).await;
    assert_eq!(stream.status, 200);
    assert_eq!(stream.read_to_end().await, "data: /acme\n\n");
}

#[tokio::test]
async fn http1_over_tls_when_the_client_offers_only_http1() {
    let upstream = upstream().await;
    sse_upstream(&upstream);
    let setup = tls_node(&upstream.url(""), None).await;
    let config = setup.ca.client(&[b"http/1.1"]);
    let mut client = Client::tls(setup.node.addr(), "acme.localhost", config).await;
    assert_eq!(client.alpn.as_deref(), Some(&b"http/1.1"[..]));
    let mut stream = client.get("/events", &[]).await;
    assert_eq!(stream.read_to_end().await, "data: /acme\n\n");
}

#[tokio::test]
async fn sni_chooses_the_tenants_own_certificate() {
    let upstream = upstream().await;
    sse_upstream(&upstream);
    let setup = tls_node(&upstream.url(""), None).await;
    let config = setup.ca.client(&[b"h2"]);
    let mut globex = Client::tls(setup.node.addr(), "globex.localhost", config.clone()).await;
    assert_eq!(
        globex.peer_cert.as_deref(),
        Some(setup.globex_cert.as_slice())
    );
    let mut stream = globex.get("/events", &[]).await;
    assert_eq!(stream.read_to_end().await, "data: /globex\n\n");
    let acme = Client::tls(setup.node.addr(), "acme.localhost", config).await;
    assert_eq!(acme.peer_cert.as_deref(), Some(setup.acme_cert.as_slice()));
}

#[tokio::test]
async fn a_host_that_disagrees_with_the_tenant_certificate_gets_421() {
    let upstream = upstream().await;
    sse_upstream(&upstream);
    let setup = tls_node(&upstream.url(""), None).await;
    let config = setup.ca.client(&[b"http/1.1"]);
    let mut client = Client::tls(setup.node.addr(), "globex.localhost", config).await;
    let stream = client.get("/events", &[("host", "acme.localhost")]).await;
    assert_eq!(stream.status, 421);
    assert!(upstream.requests().is_empty());
}

#[tokio::test]
async fn pkcs12_keystore_with_a_password_serves_tls() {
    let upstream = upstream().await;
    sse_upstream(&upstream);
    let keystore = "{ keystore: { path: keystore.p12, password: s3cret } }";
    let setup = tls_node(&upstream.url(""), Some(keystore)).await;
    let config = setup.ca.client(&[b"h2"]);
    let mut client = Client::tls(setup.node.addr(), "acme.localhost", config).await;
    assert_eq!(
        client.peer_cert.as_deref(),
        Some(setup.acme_cert.as_slice())
    );
    assert_eq!(
        client.get("/events", &[]).await.read_to_end().await,
        "data: /acme\n\n"
    );
}

#[tokio::test]
async fn a_wrong_keystore_password_refuses_the_config_naming_the_file() {
    let ca = TestCa::new();
    let dir = tempfile::tempdir().unwrap();
    ca.write_p12(dir.path(), "keystore", &ca.leaf(&["localhost"]), "right");
    let config = "version: 1\nlisteners:\n  - address: 127.0.0.1:0\n    tls: { keystore: { path: \
                  keystore.p12, password: wrong } }\ntenants: {}\n";
    let path = dir.path().join("sluice.yaml");
    std::fs::write(&path, config).unwrap();
    crate::support::init();
    let error = sluice_data_plane::start_from_file(&path, std::future::pending())
        .await
        .unwrap_err();
    let text = error.to_string();
    assert!(text.contains("listeners[0].tls"), "{text}");
    assert!(text.contains("keystore.p12"), "{text}");
    assert!(text.contains("password"), "{text}");
}

/// An upstream over TLS trusting the test CA through the route's `ca`, in `version`.
async fn https_upstream(version: &str) {
    let ca = TestCa::new();
    let leaf = ca.leaf(&["127.0.0.1", "localhost"]);
    let dir = tempfile::tempdir().unwrap();
    let (cert, key) = ca.write_pem(dir.path(), "upstream", &leaf);
    std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
    let certified =
        sluice_data_plane::tls::load_certified_key(&sluice_data_plane::tls::CertSource::Pem {
            certificate: cert,
            private_key: key,
        })
        .unwrap();
    let certs = sluice_data_plane::tls::SniCertificates::new(Some(certified));
    let server = sluice_data_plane::tls::server_config(
        Arc::new(certs),
        &[b"h2".to_vec(), b"http/1.1".to_vec()],
    )
    .unwrap();
    crate::support::init();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let upstream = ScriptedUpstream::start_tls(listener, server).unwrap();
    upstream.respond(|request| Reply::sse().chunk(format!("data: {:?}\n\n", request.version)));
    let config = format!(
        "version: 1\nlisteners:\n  - address: 127.0.0.1:0\ntenants:\n  acme:\n    path_prefix: /t/acme\n    \
         routes:\n      events:\n        path: /events\n        public: true\n        upstream:\n          \
         url: {}\n          version: {version}\n          ca: ca.pem\n",
        upstream.url("/s")
    );
    let node = TestNode::start_in(dir, &config).await;
    let mut stream = Client::h1(node.addr())
        .await
        .get("/t/acme/events", &[])
        .await;
    let expected = if version == "h2" {
        "data: HTTP/2.0\n\n"
    } else {
        "data: HTTP/1.1\n\n"
    };
    assert_eq!(stream.read_to_end().await, expected);
}

#[tokio::test]
async fn https_upstream_over_http1_with_a_configured_ca() {
    https_upstream("http/1.1").await;
}

#[tokio::test]
async fn https_upstream_over_h2_with_a_configured_ca() {
    https_upstream("h2").await;
}

#[tokio::test]
async fn cleartext_h2_upstream_uses_prior_knowledge() {
    let upstream = upstream().await;
    upstream.respond(|request| Reply::sse().chunk(format!("data: {:?}\n\n", request.version)));
    let config = crate::support::one_route(&upstream.url("/s"), "          version: h2");
    let node = TestNode::start(&config).await;
    let mut stream = Client::h1(node.addr())
        .await
        .get("/t/acme/events", &[])
        .await;
    assert_eq!(stream.read_to_end().await, "data: HTTP/2.0\n\n");
}
