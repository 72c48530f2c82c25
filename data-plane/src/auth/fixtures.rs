//! Test keys (made once per test run), hand-built tokens of any shape, and a local JWKS
//! server on port 0 that counts its fetches and can be made to fail.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::keys::{self, Alg, KeyId, Origin};
use super::mint;
use crate::config::Jwk;

/// A key pair made for tests.
#[derive(Debug)]
pub(crate) struct TestKey {
    pub(crate) pem: String,
    public: Value,
}

impl TestKey {
    fn generate(alg: Alg) -> Self {
        let (pem, public) = mint::generate_key_pair(alg).expect("test key pair");
        Self { pem, public }
    }

    /// The public key as a configured JWK with `kid` and `alg`.
    pub(crate) fn jwk(&self, kid: &str, alg: &str) -> Jwk {
        let mut jwk: Jwk = serde_json::from_value(self.public.clone()).expect("a JWK");
        jwk.kid = Some(kid.to_owned());
        jwk.alg = Some(alg.to_owned());
        jwk
    }

    /// The public key as SPKI PEM text, the "secret" of an HS256 confusion attack (C27).
    pub(crate) fn public_pem(&self) -> String {
        use aws_lc_rs::encoding::AsDer;
        let n = URL_SAFE_NO_PAD
            .decode(self.public["n"].as_str().expect("an RSA key"))
            .expect("n");
        let e = URL_SAFE_NO_PAD
            .decode(self.public["e"].as_str().expect("an RSA key"))
            .expect("e");
        let components = aws_lc_rs::signature::RsaPublicKeyComponents { n: &n, e: &e };
        let der = components.as_der().expect("a valid key");
        let body = STANDARD.encode(der.as_ref());
        let lines: Vec<&str> = body
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).expect("ASCII"))
            .collect();
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            lines.join("\n")
        )
    }

    /// The public JWK as JSON text.
    pub(crate) fn public_json(&self) -> String {
        self.public.to_string()
    }

    /// A token with exactly `header` and `claims`, signed by this key under `alg`.
    pub(crate) fn sign(&self, alg: Alg, header: &Value, claims: &Value) -> String {
        let key = match alg.kty() {
            "RSA" => EncodingKey::from_rsa_pem(self.pem.as_bytes()),
            "EC" => EncodingKey::from_ec_pem(self.pem.as_bytes()),
            _ => EncodingKey::from_ed_pem(self.pem.as_bytes()),
        };
        sign_raw(header, claims, &key.expect("test key"), alg.jwt())
    }
}

/// Every key the tests use.
#[derive(Debug)]
pub(crate) struct Keys {
    pub(crate) rsa: TestKey,
    pub(crate) rsa2: TestKey,
    pub(crate) p256: TestKey,
    pub(crate) p256b: TestKey,
    pub(crate) p384: TestKey,
    pub(crate) ed25519: TestKey,
}

/// The test keys, generated on first use (RSA generation is slow in debug builds).
pub(crate) fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| Keys {
        rsa: TestKey::generate(Alg::Rs256),
        rsa2: TestKey::generate(Alg::Rs256),
        p256: TestKey::generate(Alg::Es256),
        p256b: TestKey::generate(Alg::Es256),
        p384: TestKey::generate(Alg::Es384),
        ed25519: TestKey::generate(Alg::EdDsa),
    })
}

/// `header.claims.signature` with any header at all, including `alg: none` and HMAC.
pub(crate) fn sign_raw(
    header: &Value,
    claims: &Value,
    key: &EncodingKey,
    alg: Algorithm,
) -> String {
    let signing_input = format!("{}.{}", part(header), part(claims));
    let signature = jsonwebtoken::crypto::sign(signing_input.as_bytes(), key, alg).expect("signed");
    format!("{signing_input}.{signature}")
}

/// `header.claims.` followed by `signature` as given, for unsigned and forged tokens.
pub(crate) fn unsigned(header: &Value, claims: &Value, signature: &str) -> String {
    format!("{}.{}.{signature}", part(header), part(claims))
}

fn part(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(value.to_string())
}

/// A JWK as JSON, for JWKS documents.
pub(crate) fn jwk_json(jwk: &Jwk) -> Value {
    let mut value = json!({});
    let members = [
        ("kty", &jwk.kty),
        ("kid", &jwk.kid),
        ("alg", &jwk.alg),
        ("use", &jwk.key_use),
        ("crv", &jwk.crv),
        ("n", &jwk.n),
        ("e", &jwk.e),
        ("x", &jwk.x),
        ("y", &jwk.y),
    ];
    for (name, member) in members {
        if let Some(member) = member {
            value[name] = member.clone().into();
        }
    }
    value
}

/// A JWKS document of the RSA test keys: `rsa-1` is `keys().rsa`, `rsa-2` is `keys().rsa2`.
pub(crate) fn jwks(entries: &[(&str, &str)]) -> String {
    let keys: Vec<Value> = entries
        .iter()
        .map(|(kid, alg)| {
            let key = if *kid == "rsa-2" {
                &keys().rsa2
            } else {
                &keys().rsa
            };
            jwk_json(&key.jwk(kid, alg))
        })
        .collect();
    json!({ "keys": keys }).to_string()
}

/// The same key with `n`, `e`, `x` and `y` in standard base64 with padding, as Zilla's
/// sample configs write them.
pub(crate) fn zilla_style(jwk: &Jwk) -> Jwk {
    let restyle = |member: &Option<String>| {
        member
            .as_ref()
            .map(|text| STANDARD.encode(URL_SAFE_NO_PAD.decode(text).expect("base64url member")))
    };
    Jwk {
        n: restyle(&jwk.n),
        e: restyle(&jwk.e),
        x: restyle(&jwk.x),
        y: restyle(&jwk.y),
        ..jwk.clone()
    }
}

/// Some key's id, for tests that need one.
pub(crate) fn key_id() -> KeyId {
    let jwk = keys().p256.jwk("k", "ES256");
    keys::from_jwk(&jwk, Origin::Configured)
        .expect("test key")
        .id
}

/// Seconds since the epoch.
pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs()
}

/// A URL on loopback where nothing listens.
pub(crate) async fn closed_port_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("address");
    drop(listener);
    format!("http://{addr}/jwks")
}

/// A JWKS endpoint on loopback port 0.
#[derive(Debug)]
pub(crate) struct JwksServer {
    addr: SocketAddr,
    state: Arc<ServerState>,
    task: JoinHandle<()>,
}

#[derive(Debug)]
struct ServerState {
    body: Mutex<String>,
    down: AtomicBool,
    fetches: AtomicUsize,
}

impl JwksServer {
    /// Serves `body` at `/jwks`.
    pub(crate) async fn start(body: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("address");
        let state = Arc::new(ServerState {
            body: Mutex::new(body),
            down: AtomicBool::new(false),
            fetches: AtomicUsize::new(0),
        });
        let task = tokio::spawn(serve(listener, state.clone()));
        Self { addr, state, task }
    }

    pub(crate) fn url(&self) -> String {
        format!("http://{}/jwks", self.addr)
    }

    /// Requests answered so far, failed ones included.
    pub(crate) fn fetches(&self) -> usize {
        self.state.fetches.load(Ordering::SeqCst)
    }

    /// Answer 503 from now on (or stop doing so).
    pub(crate) fn set_down(&self, down: bool) {
        self.state.down.store(down, Ordering::SeqCst);
    }

    /// Publish another document.
    pub(crate) fn publish(&self, body: String) {
        *self.state.body.lock().expect("not poisoned") = body;
    }
}

impl Drop for JwksServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(listener: TcpListener, state: Arc<ServerState>) {
    while let Ok((stream, _)) = listener.accept().await {
        let state = state.clone();
        let service = service_fn(move |_request| {
            let state = state.clone();
            async move { Ok::<_, Infallible>(answer(&state)) }
        });
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}

fn answer(state: &ServerState) -> Response<Full<Bytes>> {
    state.fetches.fetch_add(1, Ordering::SeqCst);
    let (status, body) = if state.down.load(Ordering::SeqCst) {
        (StatusCode::SERVICE_UNAVAILABLE, String::new())
    } else {
        (
            StatusCode::OK,
            state.body.lock().expect("not poisoned").clone(),
        )
    };
    let mut response = Response::new(Full::new(Bytes::from(body)));
    *response.status_mut() = status;
    response
}
