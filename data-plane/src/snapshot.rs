//! The compiled config a node serves from: tenants with their host and prefix tables, routes
//! with compiled matchers, TLS acceptors and upstream clients.
//!
//! `compile` is the one place that decides whether a config can run; `sluice validate`, file
//! reloads and (later) the control plane all go through it. It reports every error it finds.

use std::sync::Arc;
use std::time::Duration;

use http::header::{HeaderMap, HeaderName, HeaderValue};

use crate::auth::{KeyId, TenantAuth};
use crate::config::{self, OnInvalid};
use crate::cors::CorsPolicy;
use crate::error::Refusal;
use crate::metrics::RouteLabels;
use crate::route::{NormalizedPath, Params, PathTemplate, Pattern, fill, fill_url};
use crate::tenant::{HostTable, PrefixTable};
use crate::upstream::UpstreamClient;
use crate::validate::EventRules;

mod compile;
mod tls;

pub use compile::compile;
pub use tls::{ListenerTls, compile_tls};

/// A whole config, ready to serve.
#[derive(Debug)]
pub struct Snapshot {
    /// Increases with every applied change.
    pub revision: u64,
    /// Where it came from, for `/config` and logs (`file:PATH`).
    pub source: String,
    /// When it was loaded, in seconds since the Unix epoch.
    pub loaded_at_unix: u64,
    /// Client-facing listeners, in config order.
    pub listeners: Vec<ListenerSpec>,
    /// The admin listener's address.
    pub admin: Option<String>,
    /// How long a draining node waits for connections to finish.
    pub shutdown_grace: Duration,
    /// Every tenant, in config order.
    pub tenants: Vec<Arc<Tenant>>,
    hosts: HostTable<usize>,
    prefixes: PrefixTable<usize>,
}

/// One client-facing listener.
#[derive(Debug, Clone)]
pub struct ListenerSpec {
    /// The address as configured (`0.0.0.0:7143`).
    pub address: String,
    /// The HTTP versions it speaks.
    pub versions: Versions,
    /// Its TLS acceptor, when it terminates TLS.
    pub tls: Option<ListenerTls>,
}

/// Which HTTP versions a listener or connection speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Versions {
    /// HTTP/1.1.
    pub http1: bool,
    /// h2 (ALPN over TLS, prior knowledge in cleartext).
    pub h2: bool,
}

/// A tenant and its routes, most specific first.
#[derive(Debug)]
pub struct Tenant {
    /// The tenant's name.
    pub name: String,
    /// Routes sorted by path specificity, then declared order.
    pub routes: Vec<Arc<Route>>,
    /// Token verification; `None` when every route is public.
    pub auth: Option<Arc<TenantAuth>>,
    /// Cross-origin rules, when the tenant allows browsers from other origins.
    pub cors: Option<CorsPolicy>,
    /// Stream limits, checked by the node's `Limiter`.
    pub limits: config::Limits,
}

/// One stream route.
#[derive(Debug)]
pub struct Route {
    /// Tenant and route names, also the metric labels.
    pub labels: RouteLabels,
    template: PathTemplate,
    scheme: Option<Pattern>,
    headers: Vec<(HeaderName, Pattern)>,
    /// No token needed.
    pub public: bool,
    /// Scopes a token must all carry.
    pub scopes: Vec<String>,
    /// Where the route's answers come from.
    pub target: Target,
    /// Sent as `retry:` when the stream opens, and the base of failure retries.
    pub retry: Option<Duration>,
    /// Silence after which a `:` comment is written; `None` disables heartbeats.
    pub heartbeat: Option<Duration>,
    /// The query parameter that may carry `Last-Event-ID`.
    pub last_event_id_query: String,
    /// Query parameters the node consumes and never forwards.
    pub dropped_query_params: Vec<String>,
    /// Largest line or event accepted from the upstream, in bytes.
    pub max_event_size: usize,
    /// Queued writes a client may fall behind by before it is cut off.
    pub buffer: usize,
    /// Event type to schema; empty when nothing is validated.
    pub events: EventRules,
    /// What an invalid event does to the stream.
    pub on_invalid: OnInvalid,
}

/// A route's source of answers.
#[derive(Debug)]
pub enum Target {
    /// An upstream event stream.
    Stream(Box<Upstream>),
    /// Static files from a folder (canonical path); the route's last param names the file.
    Files {
        /// The folder, canonicalized when the snapshot was compiled.
        root: std::path::PathBuf,
        /// The path param holding the file name.
        param: String,
    },
}

/// How a route calls its upstream.
#[derive(Debug)]
pub struct Upstream {
    url: String,
    headers: Vec<(HeaderName, String)>,
    /// The `{claims.NAME}` placeholders the URL and headers use, found once at compile time.
    pub claims: Vec<String>,
    /// The longest wait for response headers (no limit applies to the stream after that).
    pub response_timeout: Duration,
    /// The pooled client for this route's version and TLS settings.
    pub client: UpstreamClient,
}

impl Snapshot {
    /// The tenant for a request, and the path its routes match against: by host first, then by
    /// path prefix (whose prefix is then cut off).
    pub fn resolve(
        &self,
        host: Option<&str>,
        path: &NormalizedPath,
    ) -> Option<(&Arc<Tenant>, NormalizedPath)> {
        if let Some(&index) = host.and_then(|host| self.hosts.resolve(host)) {
            return Some((&self.tenants[index], path.clone()));
        }
        let (&index, rest) = self.prefixes.resolve(path)?;
        Some((&self.tenants[index], rest))
    }

    /// Whether tenant `tenant` still trusts `key`.
    pub fn has_key(&self, tenant: &str, key: &KeyId) -> bool {
        self.tenants
            .iter()
            .any(|t| t.name == tenant && t.auth.as_ref().is_some_and(|auth| auth.has_key(key)))
    }

    /// Whether a route of this tenant and name exists.
    pub fn has_route(&self, labels: &RouteLabels) -> bool {
        self.tenants.iter().any(|tenant| {
            tenant.name == labels.tenant && tenant.routes.iter().any(|r| r.labels == *labels)
        })
    }
}

impl Tenant {
    /// The first route (most specific first) whose path, scheme and headers all match.
    pub fn match_route(
        &self,
        path: &NormalizedPath,
        scheme: &str,
        headers: &HeaderMap,
    ) -> Option<(Arc<Route>, Params)> {
        self.routes.iter().find_map(|route| {
            let params = route.template.matches(path)?;
            route
                .conditions_hold(scheme, headers)
                .then(|| (route.clone(), params))
        })
    }
}

impl Route {
    fn conditions_hold(&self, scheme: &str, headers: &HeaderMap) -> bool {
        if let Some(pattern) = &self.scheme
            && !pattern.matches(scheme)
        {
            return false;
        }
        self.headers.iter().all(|(name, pattern)| {
            headers
                .get_all(name)
                .iter()
                .any(|value| value.to_str().is_ok_and(|v| pattern.matches(v)))
        })
    }
}

impl Upstream {
    /// The upstream URI with placeholders filled and `query` (already encoded) appended.
    pub fn uri<'v>(
        &self,
        lookup: &impl Fn(&str) -> Option<&'v str>,
        query: &str,
    ) -> Result<http::Uri, Refusal> {
        let mut url =
            fill_url(&self.url, lookup).map_err(|e| Refusal::BadRequest(e.to_string()))?;
        if !query.is_empty() {
            url.push(if url.contains('?') { '&' } else { '?' });
            url.push_str(query);
        }
        url.parse()
            .map_err(|_| Refusal::BadRequest("the upstream URL could not be built".into()))
    }

    /// The route's upstream headers with placeholders filled.
    pub fn headers<'v>(
        &self,
        lookup: &impl Fn(&str) -> Option<&'v str>,
    ) -> Result<HeaderMap, Refusal> {
        let mut map = HeaderMap::with_capacity(self.headers.len() + 6);
        for (name, template) in &self.headers {
            let value = fill(template, lookup).map_err(|e| Refusal::BadRequest(e.to_string()))?;
            let value = HeaderValue::from_str(&value).map_err(|_| {
                Refusal::BadRequest(format!("the value for upstream header {name} is not valid"))
            })?;
            map.insert(name.clone(), value);
        }
        Ok(map)
    }
}
