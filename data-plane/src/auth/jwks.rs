//! Keys published at a `jwks_url`: fetched over HTTPS, cached for the tenant's `jwks_cache`
//! lifetime, refetched when a token names an unknown `kid`, and shared by every tenant and
//! snapshot that names the same URL.
//!
//! Refetches are single-flight and at most one per cooldown (30 s) per URL, so tokens with
//! random `kid`s cannot turn the gateway into a load generator against the identity provider
//! (conformance case C28). A failed fetch keeps the last good keys, for at most a day past
//! their lifetime; no failure ever lets a token through unverified.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, RwLock, Weak};
use std::time::Duration;

use bytes::Bytes;
use http::header::{ACCEPT, USER_AGENT};
use http::{Request, StatusCode, Uri};
use http_body_util::{BodyExt, Empty, Limited};
use hyper_rustls::{HttpsConnector, HttpsConnectorBuilder};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::ClientConfig;
use tokio::time::Instant;

use super::keys::{self, KeySet, Origin};
use crate::config::Jwk;

/// The shortest time between two fetches of one URL, whatever asks for them.
pub const DEFAULT_COOLDOWN: Duration = Duration::from_secs(30);
/// The longest a fetch (connect, response and body) may take.
const FETCH_TIMEOUT: Duration = Duration::from_secs(10);
/// The largest JWKS document read; real ones are a few kilobytes.
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;
/// How long past their lifetime the last good keys serve while the URL cannot be fetched.
const MAX_STALE: Duration = Duration::from_secs(24 * 60 * 60);

type HttpsClient = Client<HttpsConnector<HttpConnector>, Empty<Bytes>>;

/// The node's JWKS documents, keyed by URL and shared across config snapshots, so a reload
/// neither refetches nor forgets them. A URL no snapshot names any more is dropped.
#[derive(Debug)]
pub struct JwksCache {
    sources: Mutex<HashMap<String, Weak<JwksSource>>>,
    client: Arc<LazyClient>,
    cooldown: Duration,
}

impl Default for JwksCache {
    /// Verifies identity providers against the system's root certificates.
    fn default() -> Self {
        Self::new(None)
    }
}

impl JwksCache {
    /// A cache whose fetches use `tls` (its ALPN list is replaced), or the system roots when
    /// `None`.
    pub fn new(tls: Option<Arc<ClientConfig>>) -> Self {
        Self {
            sources: Mutex::default(),
            client: Arc::new(LazyClient {
                tls,
                client: OnceLock::new(),
            }),
            cooldown: DEFAULT_COOLDOWN,
        }
    }

    /// The same cache with another refetch cooldown (tests use a short one).
    #[must_use]
    pub fn with_cooldown(mut self, cooldown: Duration) -> Self {
        self.cooldown = cooldown;
        self
    }

    /// The shared source for `url`, made on first use. Fetches nothing.
    pub(crate) fn source(&self, url: &str) -> Result<Arc<JwksSource>, String> {
        let mut sources = self.sources.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(source) = sources.get(url).and_then(Weak::upgrade) {
            return Ok(source);
        }
        let uri: Uri = url
            .parse()
            .map_err(|_| format!("`{url}` is not a valid URL"))?;
        let source = Arc::new(JwksSource {
            uri,
            client: self.client.clone(),
            cooldown: self.cooldown,
            current: RwLock::default(),
            last_attempt: tokio::sync::Mutex::default(),
        });
        sources.retain(|_, weak| weak.strong_count() > 0);
        sources.insert(url.to_owned(), Arc::downgrade(&source));
        Ok(source)
    }
}

/// The HTTP client, built on the first fetch so that compiling a snapshot never reads the
/// system's certificate store.
#[derive(Debug)]
struct LazyClient {
    tls: Option<Arc<ClientConfig>>,
    client: OnceLock<Result<HttpsClient, String>>,
}

impl LazyClient {
    fn get(&self) -> Result<&HttpsClient, String> {
        let built = self.client.get_or_init(|| {
            let config = match &self.tls {
                Some(config) => (**config).clone(),
                None => system_roots_config()?,
            };
            Ok(build_client(config))
        });
        built.as_ref().map_err(Clone::clone)
    }
}

fn build_client(mut config: ClientConfig) -> HttpsClient {
    // hyper-rustls sets ALPN itself from the protocols enabled below, and refuses a config
    // that already has some.
    config.alpn_protocols.clear();
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_connect_timeout(Some(FETCH_TIMEOUT));
    let connector = HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_http1()
        .enable_http2()
        .wrap_connector(http);
    Client::builder(TokioExecutor::new()).build(connector)
}

/// TLS with the system's roots. With none found, `https` fetches fail (and say so in the
/// log) while loopback `http` ones still work.
fn system_roots_config() -> Result<ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    let (added, _) =
        roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    if added == 0 {
        tracing::warn!("no system root certificates: JWKS fetches over https will fail");
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let builder = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| format!("TLS setup failed: {error}"))?;
    Ok(builder.with_root_certificates(roots).with_no_client_auth())
}

/// One URL's keys and the state of its fetches.
#[derive(Debug)]
pub(crate) struct JwksSource {
    uri: Uri,
    client: Arc<LazyClient>,
    cooldown: Duration,
    current: RwLock<Arc<Fetched>>,
    /// When a fetch was last started. Holding it is what makes fetches single-flight.
    last_attempt: tokio::sync::Mutex<Option<Instant>>,
}

/// The last good document's keys.
#[derive(Debug, Default)]
pub(crate) struct Fetched {
    keys: KeySet,
    /// Bumped by each successful fetch.
    pub(crate) generation: u64,
    at: Option<Instant>,
}

static NO_KEYS: KeySet = KeySet::empty();

impl Fetched {
    fn fresh(&self, lifetime: Duration, now: Instant) -> bool {
        self.at.is_some_and(|at| now.duration_since(at) < lifetime)
    }

    /// The keys, or none once they are more than [`MAX_STALE`] past `lifetime`.
    pub(crate) fn keys(&self, lifetime: Duration) -> &KeySet {
        let usable = self
            .at
            .is_some_and(|at| at.elapsed() <= lifetime.saturating_add(MAX_STALE));
        if usable { &self.keys } else { &NO_KEYS }
    }
}

impl JwksSource {
    /// The keys as they are now, fetched or not.
    pub(crate) fn current(&self) -> Arc<Fetched> {
        self.current
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// The keys to verify with, refreshed first when `lifetime` has passed since the last
    /// good fetch. While one request refreshes, others keep using keys that are still usable
    /// rather than queue behind it.
    pub(crate) async fn keys(&self, lifetime: Duration) -> Arc<Fetched> {
        let current = self.current();
        if current.fresh(lifetime, Instant::now()) {
            return current;
        }
        let wait = current.keys(lifetime).is_empty();
        self.refresh(current.generation, wait).await;
        self.current()
    }

    /// The keys after a token named a `kid` that `seen` did not have: refetched unless
    /// another request already did, or the cooldown has not passed.
    pub(crate) async fn refetch(&self, seen: u64) -> Arc<Fetched> {
        self.refresh(seen, true).await;
        self.current()
    }

    async fn refresh(&self, seen: u64, wait: bool) {
        // A tokio mutex held across the fetch on purpose: requests that arrive meanwhile
        // wait for its result instead of fetching again.
        let mut last_attempt = if wait {
            self.last_attempt.lock().await
        } else {
            match self.last_attempt.try_lock() {
                Ok(guard) => guard,
                Err(_) => return,
            }
        };
        let now = Instant::now();
        let cooling = last_attempt.is_some_and(|at| now.duration_since(at) < self.cooldown);
        if self.current().generation != seen || cooling {
            return;
        }
        *last_attempt = Some(now);
        match self.fetch().await {
            Ok(keys) => self.store(keys),
            Err(error) => {
                tracing::warn!(
                    url = %self.uri,
                    %error,
                    "JWKS fetch failed; keeping the last good keys"
                );
            }
        }
    }

    fn store(&self, keys: KeySet) {
        let mut current = self.current.write().unwrap_or_else(PoisonError::into_inner);
        tracing::debug!(url = %self.uri, keys = keys.len(), "JWKS fetched");
        *current = Arc::new(Fetched {
            keys,
            generation: current.generation + 1,
            at: Some(Instant::now()),
        });
    }

    async fn fetch(&self) -> Result<KeySet, String> {
        let request = Request::get(self.uri.clone())
            .header(ACCEPT, "application/jwk-set+json, application/json")
            .header(USER_AGENT, concat!("sluice/", env!("CARGO_PKG_VERSION")))
            .body(Empty::new())
            .map_err(|error| error.to_string())?;
        let body = tokio::time::timeout(FETCH_TIMEOUT, self.download(request))
            .await
            .map_err(|_| format!("no answer within {FETCH_TIMEOUT:?}"))??;
        parse_document(&body)
    }

    async fn download(&self, request: Request<Empty<Bytes>>) -> Result<Bytes, String> {
        let response = self
            .client
            .get()?
            .request(request)
            .await
            .map_err(|error| format!("request failed: {error}"))?;
        if response.status() != StatusCode::OK {
            return Err(format!("answered {}", response.status()));
        }
        let body = Limited::new(response.into_body(), MAX_DOCUMENT_BYTES);
        let collected = body
            .collect()
            .await
            .map_err(|error| format!("reading the document failed: {error}"))?;
        Ok(collected.to_bytes())
    }
}

/// Reads a JWK Set (RFC 7517 §5). Keys Sluice cannot use (symmetric, encryption-only, of
/// an unknown type, malformed) are skipped, as §5 allows; the rest are kept.
fn parse_document(body: &[u8]) -> Result<KeySet, String> {
    #[derive(serde::Deserialize)]
    struct Document {
        keys: Vec<serde_json::Value>,
    }
    let document: Document =
        serde_json::from_slice(body).map_err(|error| format!("not a JWK Set: {error}"))?;
    let keys = document
        .keys
        .into_iter()
        .filter_map(|value| {
            let jwk: Jwk = serde_json::from_value(value).ok()?;
            keys::from_jwk(&jwk, Origin::Published)
                .inspect_err(|problem| {
                    tracing::debug!(kid = ?jwk.kid, problem = %problem.message, "JWKS key skipped");
                })
                .ok()
        })
        .collect();
    Ok(KeySet::new(keys))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::fixtures::{self, JwksServer};
    use crate::auth::keys::{Alg, Pick, pick};
    use serde_json::json;

    fn cache(cooldown: Duration) -> JwksCache {
        JwksCache::default().with_cooldown(cooldown)
    }

    #[test]
    fn unusable_keys_in_a_document_are_skipped() {
        let keys = fixtures::keys();
        let document = json!({"keys": [
            {"kty": "oct", "k": "c2VjcmV0", "alg": "HS256", "kid": "hmac"},
            {"kty": "RSA", "kid": 7},
            fixtures::jwk_json(&keys.rsa.jwk("rsa-1", "RS256")),
            {"kty": "EC", "kid": "enc", "use": "enc", "crv": "P-256"},
        ]});
        let set = parse_document(document.to_string().as_bytes()).expect("a JWK Set");
        assert_eq!(set.len(), 1);
        assert!(matches!(
            pick(&[&set], Some("rsa-1"), Alg::Rs256),
            Pick::Key(_)
        ));
        assert_eq!(
            parse_document(b"{\"keys\": {}}")
                .err()
                .map(|e| e.starts_with("not a JWK Set")),
            Some(true)
        );
    }

    #[test]
    fn sources_are_shared_by_url_while_in_use() {
        let cache = cache(DEFAULT_COOLDOWN);
        let a = cache.source("http://127.0.0.1:1/jwks").expect("valid URL");
        let b = cache.source("http://127.0.0.1:1/jwks").expect("valid URL");
        assert!(Arc::ptr_eq(&a, &b));
        drop((a, b));
        let c = cache.source("http://127.0.0.1:1/jwks").expect("valid URL");
        assert_eq!(Arc::strong_count(&c), 1);
        assert!(cache.source("not a url").is_err());
    }

    #[tokio::test]
    async fn the_first_use_fetches_and_fresh_keys_are_not_refetched() {
        let server = JwksServer::start(fixtures::jwks(&[("rsa-1", "RS256")])).await;
        let source = cache(Duration::ZERO)
            .source(&server.url())
            .expect("valid URL");
        let fetched = source.keys(Duration::from_secs(300)).await;
        assert_eq!(
            (
                fetched.generation,
                fetched.keys(Duration::from_secs(300)).len()
            ),
            (1, 1)
        );
        source.keys(Duration::from_secs(300)).await;
        assert_eq!(server.fetches(), 1);
    }

    #[tokio::test]
    async fn expired_keys_are_refetched() {
        let server = JwksServer::start(fixtures::jwks(&[("rsa-1", "RS256")])).await;
        let source = cache(Duration::ZERO)
            .source(&server.url())
            .expect("valid URL");
        source.keys(Duration::ZERO).await;
        let fetched = source.keys(Duration::ZERO).await;
        assert_eq!((fetched.generation, server.fetches()), (2, 2));
    }

    #[tokio::test]
    async fn a_refetch_within_the_cooldown_fetches_nothing() {
        let server = JwksServer::start(fixtures::jwks(&[("rsa-1", "RS256")])).await;
        let source = cache(DEFAULT_COOLDOWN)
            .source(&server.url())
            .expect("valid URL");
        let seen = source.keys(Duration::from_secs(300)).await.generation;
        for _ in 0..5 {
            source.refetch(seen).await;
        }
        assert_eq!(server.fetches(), 1);
    }

    #[tokio::test]
    async fn a_down_endpoint_keeps_the_last_good_keys() {
        let server = JwksServer::start(fixtures::jwks(&[("rsa-1", "RS256")])).await;
        let source = cache(Duration::ZERO)
            .source(&server.url())
            .expect("valid URL");
        source.keys(Duration::ZERO).await;
        server.set_down(true);
        let fetched = source.keys(Duration::ZERO).await;
        assert_eq!(server.fetches(), 2);
        assert_eq!(
            (fetched.generation, fetched.keys(Duration::ZERO).len()),
            (1, 1)
        );
    }

    #[tokio::test]
    async fn an_unreachable_endpoint_yields_no_keys() {
        let url = fixtures::closed_port_url().await;
        let source = cache(Duration::ZERO).source(&url).expect("valid URL");
        let fetched = source.keys(Duration::from_secs(300)).await;
        assert_eq!(
            (
                fetched.generation,
                fetched.keys(Duration::from_secs(300)).len()
            ),
            (0, 0)
        );
    }
}
