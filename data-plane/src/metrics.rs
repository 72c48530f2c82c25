//! The node's Prometheus metrics, one registry per node (tests run several nodes in a process).
//!
//! Label values are tenant and route names from the config, so cardinality is bounded by the
//! config, never by request data. Streams look their counters up once when they open; the hot
//! path only increments atomics.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// Labels of per-route series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    /// Tenant name.
    pub tenant: String,
    /// Route name.
    pub route: String,
}

/// Labels of upstream failures.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FailureLabels {
    /// Tenant name.
    pub tenant: String,
    /// Route name.
    pub route: String,
    /// `connect`, `timeout`, `status_5xx`, `bad_response`, `body`, `event_too_large`.
    pub kind: String,
}

/// Labels of refused requests.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusalLabels {
    /// Tenant name, empty when none was resolved.
    pub tenant: String,
    /// Why (see `Refusal::reason`).
    pub reason: String,
}

/// Labels of invalid events.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct InvalidLabels {
    /// Tenant name.
    pub tenant: String,
    /// Route name.
    pub route: String,
    /// `not_json` or `schema`.
    pub reason: String,
    /// `drop` or `close`.
    pub action: String,
}

/// Labels of per-tenant series with a reason.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TenantReasonLabels {
    /// Tenant name.
    pub tenant: String,
    /// Why (a limit name, an auth failure reason).
    pub reason: String,
}

/// Labels of per-tenant series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TenantLabels {
    /// Tenant name.
    pub tenant: String,
}

/// Labels of config loads.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReloadLabels {
    /// `applied` or `refused`.
    pub result: String,
}

/// Every series the node exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// Streams open now.
    pub streams_active: Family<RouteLabels, Gauge>,
    /// Streams opened since start.
    pub streams_opened: Family<RouteLabels, Counter>,
    /// Events written to clients.
    pub events_forwarded: Family<RouteLabels, Counter>,
    /// Bytes written to clients (encoded SSE).
    pub bytes_forwarded: Family<RouteLabels, Counter>,
    /// Clients cut off because they fell behind their buffer.
    pub slow_clients: Family<RouteLabels, Counter>,
    /// Upstream failures by kind.
    pub upstream_failures: Family<FailureLabels, Counter>,
    /// Requests answered without a stream.
    pub requests_refused: Family<RefusalLabels, Counter>,
    /// Config loads, applied or refused.
    pub config_reloads: Family<ReloadLabels, Counter>,
    /// Events that failed their schema, by reason and action.
    pub events_invalid: Family<InvalidLabels, Counter>,
    /// Streams refused by a tenant limit, by limit.
    pub limit_rejections: Family<TenantReasonLabels, Counter>,
    /// Requests refused by authentication, by reason.
    pub auth_failures: Family<TenantReasonLabels, Counter>,
    /// `challenge` events sent.
    pub challenges_sent: Family<TenantLabels, Counter>,
    /// Streams extended by a challenge response.
    pub refreshes: Family<TenantLabels, Counter>,
    /// Streams ended because their token expired.
    pub expiries: Family<TenantLabels, Counter>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh registry with every family registered.
    pub fn new() -> Self {
        let mut m = Metrics {
            registry: Registry::with_prefix("sluice"),
            streams_active: Family::default(),
            streams_opened: Family::default(),
            events_forwarded: Family::default(),
            bytes_forwarded: Family::default(),
            slow_clients: Family::default(),
            upstream_failures: Family::default(),
            requests_refused: Family::default(),
            config_reloads: Family::default(),
            events_invalid: Family::default(),
            limit_rejections: Family::default(),
            auth_failures: Family::default(),
            challenges_sent: Family::default(),
            refreshes: Family::default(),
            expiries: Family::default(),
        };
        let r = &mut m.registry;
        r.register(
            "streams_active",
            "Streams open now",
            m.streams_active.clone(),
        );
        r.register("streams_opened", "Streams opened", m.streams_opened.clone());
        r.register(
            "events_forwarded",
            "Events sent",
            m.events_forwarded.clone(),
        );
        r.register(
            "bytes_forwarded",
            "SSE bytes sent",
            m.bytes_forwarded.clone(),
        );
        r.register(
            "slow_clients",
            "Clients cut off for falling behind",
            m.slow_clients.clone(),
        );
        r.register(
            "upstream_failures",
            "Upstream failures",
            m.upstream_failures.clone(),
        );
        r.register(
            "requests_refused",
            "Requests refused",
            m.requests_refused.clone(),
        );
        r.register("config_reloads", "Config loads", m.config_reloads.clone());
        r.register(
            "events_invalid",
            "Events failing their schema",
            m.events_invalid.clone(),
        );
        r.register(
            "limit_rejections",
            "Streams refused by a limit",
            m.limit_rejections.clone(),
        );
        r.register(
            "auth_failures",
            "Requests refused by auth",
            m.auth_failures.clone(),
        );
        r.register(
            "challenges_sent",
            "Challenge events sent",
            m.challenges_sent.clone(),
        );
        r.register(
            "refreshes",
            "Streams extended by a fresh token",
            m.refreshes.clone(),
        );
        r.register(
            "expiries",
            "Streams ended at token expiry",
            m.expiries.clone(),
        );
        m
    }

    /// The Prometheus text exposition of every series.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }

    /// Counts a refused request.
    pub fn refused(&self, tenant: &str, reason: &str) {
        let labels = RefusalLabels {
            tenant: tenant.to_owned(),
            reason: reason.to_owned(),
        };
        self.requests_refused.get_or_create(&labels).inc();
    }

    /// Counts an upstream failure.
    pub fn upstream_failed(&self, route: &RouteLabels, kind: &str) {
        let labels = FailureLabels {
            tenant: route.tenant.clone(),
            route: route.route.clone(),
            kind: kind.to_owned(),
        };
        self.upstream_failures.get_or_create(&labels).inc();
    }

    /// Counts a request for `tenant` refused for `reason` in `family`.
    pub fn tenant_reason(family: &Family<TenantReasonLabels, Counter>, tenant: &str, reason: &str) {
        let labels = TenantReasonLabels {
            tenant: tenant.to_owned(),
            reason: reason.to_owned(),
        };
        family.get_or_create(&labels).inc();
    }

    /// Counts an event of `tenant` in `family`.
    pub fn tenant(family: &Family<TenantLabels, Counter>, tenant: &str) {
        family
            .get_or_create(&TenantLabels {
                tenant: tenant.to_owned(),
            })
            .inc();
    }

    /// Counts a config load.
    pub fn config_loaded(&self, applied: bool) {
        let result = if applied { "applied" } else { "refused" };
        self.config_reloads
            .get_or_create(&ReloadLabels {
                result: result.to_owned(),
            })
            .inc();
    }
}
