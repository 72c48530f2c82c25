//! JWT per tenant on a running node: RFC 6750 answers, tenant isolation (C45), identity sent
//! upstream (C44, C35), the challenge flow on HTTP/1.1 and h2 (C37), key revocation on swap.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::json;
use sluice_data_plane::auth::Alg;
use sluice_data_plane::auth::mint::{generate_key_pair, mint};
use sluice_demo_upstream::scripted::{Reply, ScriptedUpstream};

use crate::support::{Client, GUARD, TestNode, metric, upstream};

const ISSUER: &str = "https://idp.example.test/realms/shared";
const AUDIENCE: &str = "sse-gateway";
const CHALLENGE: &str = "event: challenge\ndata: {\"method\":\"POST\",\"headers\":{\"content-type\":\"application/x-challenge-response\"}}\n\n";

struct Tenant {
    pem: String,
    jwk: serde_json::Value,
}

fn tenant_keys() -> Tenant {
    let (pem, jwk) = generate_key_pair(Alg::Rs256).unwrap();
    Tenant { pem, jwk }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn token(tenant: &Tenant, claims: serde_json::Value) -> String {
    let mut full = json!({ "iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "exp": now() + 600 });
    for (key, value) in claims.as_object().unwrap() {
        full[key] = value.clone();
    }
    mint(&tenant.pem, "RS256", tenant.jwk["kid"].as_str(), &full).unwrap()
}

/// Tenants `acme` and `globex` sharing issuer and audience strings, each with its own key.
fn config(url: &str, acme: &Tenant, globex: &Tenant, challenge: &str) -> String {
    let tenant = |name: &str, keys: &Tenant| {
        format!(
            "  {name}:\n    path_prefix: /t/{name}\n    auth:\n      issuer: {ISSUER}\n      audiences: [{AUDIENCE}]\n      \
             keys: [{}]\n      credentials: {{ header: \"authorization: Bearer {{credentials}}\", query: access_token }}\n      \
             leeway: 5s\n{challenge}    routes:\n      events:\n        path: /events\n        scopes: [read]\n        \
             upstream:\n          url: {url}/{name}/{{claims.group}}/{{subject}}\n          headers: {{ x-tenant-id: \"{{tenant}}\" }}\n",
            keys.jwk
        )
    };
    format!(
        "version: 1\nlisteners:\n  - address: 127.0.0.1:0\ntenants:\n{}{}",
        tenant("acme", acme),
        tenant("globex", globex)
    )
}

struct Setup {
    acme: Tenant,
    globex: Tenant,
    upstream: ScriptedUpstream,
    node: TestNode,
}

async fn setup(challenge: &str) -> Setup {
    let acme = tenant_keys();
    let globex = tenant_keys();
    let upstream = upstream().await;
    let node = TestNode::start(&config(&upstream.url(""), &acme, &globex, challenge)).await;
    Setup {
        acme,
        globex,
        upstream,
        node,
    }
}

#[tokio::test]
async fn missing_invalid_and_under_scoped_tokens_get_rfc_6750_answers() {
    let s = setup("").await;
    let mut client = Client::h1(s.node.addr()).await;
    let cases = [
        (None, 401, "Bearer realm=\"acme\""),
        (Some("not.a.token".to_owned()), 401, "Bearer realm=\"acme\", error=\"invalid_token\""),
        (
            Some(token(&s.acme, json!({ "exp": now() - 60, "scope": "read" }))),
            401,
            "Bearer realm=\"acme\", error=\"invalid_token\"",
        ),
        (
            // C26: alg none, unsigned.
            Some(
                "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJpc3MiOiJodHRwczovL2lkcC5leGFtcGxlLnRlc3QvcmVhbG1zL2FjbWUiLCJhdWQiOiJzc2UtZ2F0ZXdheSIsInN1YiI6InVzZXItMSIsImV4cCI6NDEwMjQ0NDgwMH0."
                    .to_owned(),
            ),
            401,
            "Bearer realm=\"acme\", error=\"invalid_token\"",
        ),
        (
            Some(token(&s.acme, json!({ "scope": "write" }))),
            403,
            "Bearer realm=\"acme\", error=\"insufficient_scope\", scope=\"read\"",
        ),
        // C45: globex's key, same issuer and audience, on acme.
        (
            Some(token(&s.globex, json!({ "scope": "read" }))),
            401,
            "Bearer realm=\"acme\", error=\"invalid_token\"",
        ),
    ];
    for (token, status, challenge) in cases {
        let header = token.map(|t| format!("Bearer {t}"));
        let headers: Vec<(&str, &str)> = header
            .iter()
            .map(|h| ("authorization", h.as_str()))
            .collect();
        let stream = client.get("/t/acme/events", &headers).await;
        assert_eq!(stream.status.as_u16(), status, "{challenge}");
        assert_eq!(stream.header("www-authenticate"), Some(challenge));
    }
    assert!(s.upstream.requests().is_empty());
    let text = s.node.metrics();
    assert_eq!(
        metric(
            &text,
            "sluice_auth_failures_total{tenant=\"acme\",reason=\"missing\"}"
        ),
        1.0
    );
}

#[tokio::test]
async fn the_upstream_learns_tenant_and_subject_from_the_token_and_never_sees_it() {
    let s = setup("").await;
    s.upstream.respond(|_| Reply::sse().chunk("data: {}\n\n"));
    let token = token(&s.acme, json!({ "scope": "read other", "group": "blue" }));
    let path = format!("/t/acme/events?topic=a&access_token={token}");
    let spoof = [("x-sluice-subject", "admin"), ("x-tenant-id", "globex")];
    let mut stream = Client::h2c(s.node.addr()).await.get(&path, &spoof).await;
    assert_eq!(stream.status, 200);
    stream.read_to_end().await;
    let seen = s.upstream.wait_requests(1).await.remove(0);
    assert_eq!(
        seen.uri.path_and_query().unwrap().as_str(),
        "/acme/blue/user-1?topic=a"
    );
    assert_eq!(seen.header("x-sluice-tenant"), Some("acme"));
    assert_eq!(seen.header("x-sluice-subject"), Some("user-1"));
    let tenant_ids: Vec<_> = seen.headers.get_all("x-tenant-id").iter().collect();
    assert_eq!(tenant_ids, ["acme"]);
    let everything = format!("{:?}", seen.headers);
    assert!(
        !everything.contains(&token),
        "the token never goes upstream"
    );
}

#[tokio::test]
async fn each_tenants_token_opens_only_its_own_streams() {
    let s = setup("").await;
    s.upstream
        .respond(|request| Reply::sse().chunk(format!("data: {}\n\n", request.path())));
    let mut client = Client::h1(s.node.addr()).await;
    for (tenant, keys) in [("acme", &s.acme), ("globex", &s.globex)] {
        let token = format!(
            "Bearer {}",
            token(keys, json!({ "scope": "read", "group": "g" }))
        );
        let mut own = client
            .get(&format!("/t/{tenant}/events"), &[("authorization", &token)])
            .await;
        assert_eq!(
            own.read_to_end().await,
            format!("data: /{tenant}/g/user-1\n\n")
        );
        let other = if tenant == "acme" { "globex" } else { "acme" };
        let refused = client
            .get(&format!("/t/{other}/events"), &[("authorization", &token)])
            .await;
        assert_eq!(refused.status, 401);
    }
}

async fn challenge_flow(h2: bool) {
    let s = setup("      challenge: 2s\n").await;
    s.upstream.respond(|_| Reply::sse().then_hang());
    let addr = s.node.addr();
    let mut client = if h2 {
        Client::h2c(addr).await
    } else {
        Client::h1(addr).await
    };
    let short = format!(
        "Bearer {}",
        token(
            &s.acme,
            json!({ "scope": "read", "group": "g", "exp": now() + 3 })
        )
    );
    let mut refreshed = client
        .get("/t/acme/events", &[("authorization", &short)])
        .await;
    assert_eq!(refreshed.status, 200);
    let mut control_client = Client::h1(addr).await;
    let other = format!(
        "Bearer {}",
        token(
            &s.acme,
            json!({ "scope": "read", "group": "g", "sub": "user-2", "exp": now() + 3 })
        )
    );
    let mut control = control_client
        .get("/t/acme/events", &[("authorization", &other)])
        .await;

    // One challenge per window, byte for byte as Zilla sends it.
    assert_eq!(refreshed.read_until(CHALLENGE).await, CHALLENGE);
    let post = |token: String| async move {
        let header = format!("Bearer {token}");
        let content = [
            ("authorization", header.as_str()),
            ("content-type", "application/x-challenge-response"),
        ];
        let mut poster = Client::h1(addr).await;
        poster
            .request("POST", "/t/acme/events", &content)
            .await
            .status
            .as_u16()
    };
    // Narrower scopes and a bad token extend nothing.
    assert_eq!(
        post(token(&s.acme, json!({ "scope": "other", "group": "g" }))).await,
        403
    );
    assert_eq!(post("garbage".to_owned()).await, 401);
    // A fresh token for the same subject with the same scopes extends its streams.
    assert_eq!(
        post(token(&s.acme, json!({ "scope": "read", "group": "g" }))).await,
        204
    );

    // The un-refreshed stream of user-2 ends at its expiry...
    let ended = control.read_to_end().await;
    assert_eq!(ended, CHALLENGE, "user-2 got one challenge, then the end");
    // ...while user-1's, past the same moment, is still open: its upstream request still is.
    tokio::time::timeout(GUARD, s.upstream.wait_open_responses(1))
        .await
        .unwrap();
    assert_eq!(s.upstream.open_responses(), 1);
    assert!(
        refreshed.received.len() == CHALLENGE.len(),
        "no second challenge yet"
    );
    let text = s.node.metrics();
    assert_eq!(metric(&text, "sluice_expiries_total{tenant=\"acme\"}"), 1.0);
    assert_eq!(
        metric(&text, "sluice_refreshes_total{tenant=\"acme\"}"),
        1.0
    );
    assert_eq!(
        metric(&text, "sluice_challenges_sent_total{tenant=\"acme\"}"),
        2.0
    );
    drop(refreshed);
}

#[tokio::test]
async fn challenge_refresh_and_expiry_on_http1() {
    challenge_flow(false).await;
}

#[tokio::test]
async fn challenge_refresh_and_expiry_on_h2() {
    challenge_flow(true).await;
}

#[tokio::test]
async fn a_swap_that_removes_the_signing_key_ends_the_stream_and_keeps_others() {
    let s = setup("").await;
    s.upstream.respond(|_| Reply::sse().then_hang());
    let mut client = Client::h2c(s.node.addr()).await;
    let acme_token = format!(
        "Bearer {}",
        token(&s.acme, json!({ "scope": "read", "group": "g" }))
    );
    let globex_token = format!(
        "Bearer {}",
        token(&s.globex, json!({ "scope": "read", "group": "g" }))
    );
    let mut acme = client
        .get("/t/acme/events", &[("authorization", &acme_token)])
        .await;
    let globex = client
        .get("/t/globex/events", &[("authorization", &globex_token)])
        .await;
    assert_eq!((acme.status.as_u16(), globex.status.as_u16()), (200, 200));

    let rotated = tenant_keys();
    std::fs::write(
        s.node.config_path(),
        config(&s.upstream.url(""), &rotated, &s.globex, ""),
    )
    .unwrap();
    assert_eq!(acme.read_to_end().await, "");
    tokio::time::timeout(GUARD, s.upstream.wait_open_responses(1))
        .await
        .unwrap();
    drop(globex);
}

#[tokio::test]
async fn a_token_past_exp_but_inside_leeway_and_a_doubled_authorization_get_401() {
    let s = setup("").await;
    let mut client = Client::h1(s.node.addr()).await;
    // Leeway is 5 s: this token still verifies, but its stream would end at once.
    let stale = format!(
        "Bearer {}",
        token(
            &s.acme,
            json!({ "scope": "read", "group": "g", "exp": now() - 2 })
        )
    );
    let stream = client
        .get("/t/acme/events", &[("authorization", &stale)])
        .await;
    assert_eq!(stream.status, 401);
    assert_eq!(
        stream.header("www-authenticate"),
        Some("Bearer realm=\"acme\", error=\"invalid_token\"")
    );

    let good = format!(
        "Bearer {}",
        token(&s.acme, json!({ "scope": "read", "group": "g" }))
    );
    let doubled = [
        ("authorization", good.as_str()),
        ("authorization", "Bearer x"),
    ];
    let stream = client.get("/t/acme/events", &doubled).await;
    assert_eq!(stream.status, 401);
    assert!(s.upstream.requests().is_empty());
}
