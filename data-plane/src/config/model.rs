//! The declarative file, version 1, as Rust types. The doc comment on each field is the
//! operator reference: what it means, its unit, its default, and what it changes.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

use super::lines::SourceLines;
use super::ordered::OrderedMap;
use super::units::{self, Duration, Size};

/// The whole file.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// Format version. Required; must be `1`.
    pub version: u32,
    /// Sockets a standalone node accepts clients on. Default: none. A managed node takes its
    /// listeners from command-line flags and ignores this list.
    #[serde(default)]
    pub listeners: Vec<Listener>,
    /// The operations listener (`/healthz`, `/readyz`, `/metrics`, `/config`). Default: none.
    #[serde(default)]
    pub admin: Option<Admin>,
    /// On SIGTERM, how long open streams get to end before the process exits. Default `10s`.
    #[serde(default = "defaults::shutdown_grace")]
    pub shutdown_grace: Duration,
    /// Tenants by name, in declared order. A name is 1 to 63 characters of `a-z`, `0-9`, `_`
    /// and `-`, starting with a letter or digit. Default: none.
    #[serde(default)]
    pub tenants: OrderedMap<Tenant>,
    /// Where each setting was written in the file; empty for a config built in code.
    #[serde(skip)]
    pub source: SourceLines,
}

impl Config {
    /// The line of the setting at `path` (or of its nearest written ancestor), if known.
    pub fn line_of(&self, path: &str) -> Option<usize> {
        self.source.line_of(path)
    }
}

/// A socket clients connect to.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Listener {
    /// `IP:port` to bind, e.g. `0.0.0.0:7143` or `[::]:443`. Required.
    pub address: String,
    /// HTTP versions offered. Default `[http/1.1, h2]`. With TLS they are offered by ALPN;
    /// in cleartext `h2` means prior-knowledge h2c.
    #[serde(default = "defaults::listener_versions")]
    pub versions: Vec<HttpVersion>,
    /// TLS for this socket. Default: cleartext. A tenant with its own `tls` is chosen by SNI
    /// on any TLS listener; this certificate serves the names no tenant claims.
    #[serde(default)]
    pub tls: Option<TlsSource>,
}

/// An HTTP version: `http/1.1` or `h2`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Deserialize)]
pub enum HttpVersion {
    /// HTTP/1.1.
    #[serde(rename = "http/1.1")]
    Http1,
    /// HTTP/2.
    #[serde(rename = "h2")]
    H2,
}

impl fmt::Display for HttpVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            HttpVersion::Http1 => "http/1.1",
            HttpVersion::H2 => "h2",
        })
    }
}

/// A certificate and its key, given one of two ways: `{ certificate, private_key }` (PEM
/// files) or `{ keystore: { path, password } }` (a PKCS#12 file). Exactly one form. Relative
/// paths are relative to the config file.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(try_from = "TlsFields")]
pub enum TlsSource {
    /// PEM files.
    Pem {
        /// The certificate chain, leaf first.
        certificate: PathBuf,
        /// The private key (PKCS#8, PKCS#1 or SEC1).
        private_key: PathBuf,
    },
    /// A PKCS#12 keystore.
    Keystore {
        /// The `.p12` / `.pfx` file.
        path: PathBuf,
        /// Its password; usually `${{env.NAME}}`.
        password: Secret,
    },
}

/// The TLS mapping as written, before the one-form rule is applied.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TlsFields {
    certificate: Option<PathBuf>,
    private_key: Option<PathBuf>,
    keystore: Option<KeystoreFields>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct KeystoreFields {
    path: PathBuf,
    password: Secret,
}

impl TryFrom<TlsFields> for TlsSource {
    type Error = String;

    fn try_from(fields: TlsFields) -> Result<Self, String> {
        match (fields.certificate, fields.private_key, fields.keystore) {
            (Some(certificate), Some(private_key), None) => Ok(TlsSource::Pem {
                certificate,
                private_key,
            }),
            (None, None, Some(KeystoreFields { path, password })) => {
                Ok(TlsSource::Keystore { path, password })
            }
            (None, None, None) => Err("give `certificate` and `private_key`, or `keystore`".into()),
            (Some(_), None, None) => Err("`certificate` needs `private_key` too".into()),
            (None, Some(_), None) => Err("`private_key` needs `certificate` too".into()),
            (_, _, Some(_)) => {
                Err("give either `certificate` and `private_key`, or `keystore`, not both".into())
            }
        }
    }
}

/// A secret string: its `Debug` output is redacted so it never reaches a log.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    /// The secret itself; do not log it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The operations listener.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Admin {
    /// `IP:port` to bind, e.g. `127.0.0.1:9090`. Required.
    pub address: String,
}

/// One tenant: how its requests are recognised and what it may do.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tenant {
    /// Host names that select this tenant: exact names (`acme.localhost`) or one leading
    /// wildcard label (`*.acme.example`). Matched case-insensitively, port and trailing dot
    /// removed. Default: none. A tenant needs hosts, a `path_prefix`, or both.
    #[serde(default)]
    pub hosts: Vec<String>,
    /// A path prefix that selects this tenant on any host, e.g. `/t/acme`: starts with `/`,
    /// no trailing `/`, matched on whole segments and removed before route matching.
    /// Default: none.
    #[serde(default)]
    pub path_prefix: Option<String>,
    /// This tenant's own certificate, chosen by SNI for its `hosts`. Default: the listener's.
    #[serde(default)]
    pub tls: Option<TlsSource>,
    /// Token checks for the tenant's routes. Required when any route is not `public`.
    #[serde(default)]
    pub auth: Option<Auth>,
    /// Cross-origin access for browsers. Default: none (no CORS headers, preflight refused).
    #[serde(default)]
    pub cors: Option<Cors>,
    /// Stream limits. Default: no limits.
    #[serde(default)]
    pub limits: Option<Limits>,
    /// Event schemas by name; each name lists immutable versions. Default: none.
    #[serde(default)]
    pub schemas: OrderedMap<Vec<SchemaVersion>>,
    /// Routes by name, in declared order. Names follow the tenant-name rule. Default: none.
    #[serde(default)]
    pub routes: OrderedMap<Route>,
}

/// How a tenant's clients prove who they are: JWTs signed with asymmetric keys only (RS*,
/// PS*, ES*, EdDSA); `exp`, `nbf`, `iss` and `aud` are always checked.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Auth {
    /// The exact `iss` a token must carry. Required.
    pub issuer: String,
    /// Accepted `aud` values; a token must name at least one. At least one is required: a
    /// token minted for another service must never be accepted here.
    #[serde(default)]
    pub audiences: Vec<String>,
    /// Inline public keys as JWK objects. Each needs `kty` and `alg`; `kid` picks the key
    /// when there are several. Default: none. Give keys, a `jwks_url`, or both.
    #[serde(default)]
    pub keys: Vec<Jwk>,
    /// A JWKS document to fetch keys from (`https://…`), cached for `jwks_cache` and
    /// refetched (rate-limited) when a token names an unknown `kid`. Default: none.
    #[serde(default)]
    pub jwks_url: Option<String>,
    /// Where the token is read from. Default: the `authorization: Bearer` header only.
    #[serde(default)]
    pub credentials: Credentials,
    /// The claim holding the token's scopes: a space-separated string or an array of
    /// strings. Default `scope`.
    #[serde(default = "defaults::scopes_claim")]
    pub scopes_claim: String,
    /// The claim naming the subject, used for per-subject limits and challenges.
    /// Default `sub`.
    #[serde(default = "defaults::subject_claim")]
    pub subject_claim: String,
    /// Clock skew allowed when checking `exp` and `nbf`. Default `30s`; `0s` allows none.
    #[serde(default = "defaults::leeway")]
    pub leeway: Duration,
    /// How long before the token's `exp` the stream gets `event: challenge`, asking the
    /// client to send a fresh token. Default: no challenge; the stream ends at `exp`.
    #[serde(default)]
    pub challenge: Option<Duration>,
    /// Accept only tokens whose header `typ` is this, e.g. `at+jwt` (RFC 9068 access
    /// tokens). Compared case-insensitively. Default: any `typ`.
    #[serde(default)]
    pub require_typ: Option<String>,
    /// How long keys fetched from `jwks_url` are kept before a refetch. Default `5m`.
    #[serde(default = "defaults::jwks_cache")]
    pub jwks_cache: Duration,
}

/// A public key as a JWK (RFC 7517). Only the members listed are read; others are ignored.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Jwk {
    /// Key type: `RSA`, `EC` or `OKP`.
    pub kty: Option<String>,
    /// Key id, matched against the token header's `kid`.
    pub kid: Option<String>,
    /// The one algorithm this key verifies, e.g. `RS256`, `ES256`, `EdDSA`.
    pub alg: Option<String>,
    /// Intended use; when present it must be `sig`.
    #[serde(rename = "use")]
    pub key_use: Option<String>,
    /// Curve for `EC` (`P-256`, `P-384`) and `OKP` (`Ed25519`) keys.
    pub crv: Option<String>,
    /// RSA modulus, base64url.
    pub n: Option<String>,
    /// RSA public exponent, base64url.
    pub e: Option<String>,
    /// EC or OKP public coordinate `x`, base64url.
    pub x: Option<String>,
    /// EC public coordinate `y`, base64url.
    pub y: Option<String>,
}

/// Where a token may be found. Each source that is set is tried in the order header, query,
/// cookie; the first one present is used. When this block is written, only the sources it
/// names are read (write `header` too to keep the default header).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Credentials {
    /// A header template `name: prefix{credentials}suffix`, e.g.
    /// `authorization: Bearer {credentials}`. The header name is matched case-insensitively.
    /// Default (when the `credentials` block is absent): `authorization: Bearer {credentials}`.
    #[serde(default)]
    pub header: Option<String>,
    /// A query parameter carrying the token, e.g. `access_token` (for `EventSource`, which
    /// cannot set headers). Removed from logged paths and from the upstream request.
    /// Default: none.
    #[serde(default)]
    pub query: Option<String>,
    /// A cookie carrying the token. Default: none.
    #[serde(default)]
    pub cookie: Option<String>,
}

impl Default for Credentials {
    fn default() -> Self {
        Self {
            header: Some(defaults::CREDENTIALS_HEADER.to_owned()),
            query: None,
            cookie: None,
        }
    }
}

/// The parts of a header template `name: prefix{credentials}suffix`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HeaderTemplate<'a> {
    /// The header name, as written.
    pub name: &'a str,
    /// What precedes the token in the value, e.g. `Bearer `.
    pub prefix: &'a str,
    /// What follows the token in the value; usually empty.
    pub suffix: &'a str,
}

impl<'a> HeaderTemplate<'a> {
    /// Splits `template`; `None` unless it has a non-empty name, a `:`, and exactly one
    /// `{credentials}` in the value.
    pub fn parse(template: &'a str) -> Option<Self> {
        let (name, value) = template.split_once(':')?;
        let name = name.trim();
        let value = value.trim_start();
        let (prefix, suffix) = value.split_once("{credentials}")?;
        let valid = !name.is_empty() && !suffix.contains("{credentials}");
        valid.then_some(Self {
            name,
            prefix,
            suffix,
        })
    }
}

/// Cross-origin access (WHATWG Fetch, CORS protocol).
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cors {
    /// Allowed origins (`https://app.acme.example`, scheme, host and optional port), or `*`
    /// for any. At least one.
    #[serde(default)]
    pub origins: Vec<String>,
    /// Allow credentialed requests (cookies). Not allowed with origin `*`. Default `false`.
    #[serde(default)]
    pub credentials: bool,
    /// How long a browser may cache a preflight answer (`Access-Control-Max-Age`).
    /// Default: not sent (the browser's own default, a few seconds).
    #[serde(default)]
    pub max_age: Option<Duration>,
    /// Response headers scripts may read (`Access-Control-Expose-Headers`). Default: none.
    #[serde(default)]
    pub expose_headers: Vec<String>,
    /// Request headers a preflight may ask for (`Access-Control-Allow-Headers`), e.g.
    /// `authorization`, `last-event-id`. Default: none.
    #[serde(default)]
    pub allow_headers: Vec<String>,
}

/// Per-tenant stream limits; an unset limit is not enforced. A request over a limit gets 429
/// with `Retry-After`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Limits {
    /// Concurrent streams across the tenant, per node. At least 1 when set.
    #[serde(default)]
    pub max_streams: Option<u32>,
    /// Concurrent streams per token subject, per node. At least 1 when set.
    #[serde(default)]
    pub max_streams_per_subject: Option<u32>,
    /// New streams accepted per second, per node. At least 1 when set.
    #[serde(default)]
    pub new_streams_per_second: Option<u32>,
}

/// One immutable version of a named event schema.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchemaVersion {
    /// The version number, 1 or more, unique within the name. Required.
    pub version: u32,
    /// A JSON Schema (an object or a boolean) that each event's `data`, parsed as JSON, must
    /// satisfy. Required.
    pub schema: serde_json::Value,
}

/// One SSE route of a tenant.
#[derive(Clone, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// The path template, after any tenant `path_prefix`: starts with `/`; a `{name}` segment
    /// matches one path segment and can be used in the upstream URL and headers. Required.
    pub path: String,
    /// `true`: no token needed. Default `false`: a valid token from the tenant's `auth`.
    #[serde(default)]
    pub public: bool,
    /// Scopes the token must all carry. Default: none. Not allowed on a public route.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Extra conditions for this route to match. Default: none.
    #[serde(default)]
    pub when: Option<When>,
    /// The service the events come from. Exactly one of `upstream` and `files`.
    #[serde(default)]
    pub upstream: Option<Upstream>,
    /// A folder served as static files (GET and HEAD) instead of an upstream stream: the
    /// route's path must end in a `{name}` param, whose value (one segment) names the file.
    /// Relative to the config file.
    #[serde(default)]
    pub files: Option<PathBuf>,
    /// Event type → schema reference (`name@N` or `name@latest`, from this tenant's
    /// `schemas`). Key `*` covers every other type, including unnamed (`message`) events.
    /// Default: no validation.
    #[serde(default)]
    pub events: OrderedMap<String>,
    /// What an event that fails validation does: `drop` it (default) or `close` the stream.
    #[serde(default)]
    pub on_invalid: OnInvalid,
    /// Sent as `retry:` when the stream opens, telling the client how long to wait before
    /// reconnecting. Default: not sent (the browser's default, about 3 s).
    #[serde(default)]
    pub retry: Option<Duration>,
    /// After this much silence a `:` comment line is sent so proxies keep the connection.
    /// Default `15s`; `off` sends none.
    #[serde(
        default = "defaults::heartbeat",
        deserialize_with = "units::duration_or_off"
    )]
    pub heartbeat: Option<Duration>,
    /// The query parameter read as `Last-Event-ID` when the header is absent (for
    /// polyfills). Default `lastEventId`.
    #[serde(default = "defaults::last_event_id_query")]
    pub last_event_id_query: String,
    /// Largest event accepted from the upstream, in bytes of field data; a larger one ends
    /// the stream. Between `1KiB` and `64MiB`. Default `1MiB`.
    #[serde(default = "defaults::max_event_size")]
    pub max_event_size: Size,
    /// Events queued for a client before it counts as slow and is disconnected. At least 1.
    /// Default 64.
    #[serde(default = "defaults::buffer")]
    pub buffer: u32,
}

/// Conditions a request must also meet for a route to match; all must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct When {
    /// `http` or `https`: the scheme the client used. Default: either.
    #[serde(default)]
    pub scheme: Option<String>,
    /// Request headers and the exact values they must have. Names are case-insensitive.
    /// Default: none.
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
}

/// What to do with an event that fails schema validation.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnInvalid {
    /// Skip the event and keep the stream (counted, logged at debug).
    #[default]
    Drop,
    /// End the stream.
    Close,
}

/// The service a route streams from.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Upstream {
    /// `http://` or `https://` URL with a host; `{name}` placeholders take the route's path
    /// params, e.g. `http://127.0.0.1:8001/stream/{region}`. Required.
    pub url: String,
    /// HTTP version spoken to the upstream: `http/1.1` (default) or `h2`.
    #[serde(default = "defaults::upstream_version")]
    pub version: HttpVersion,
    /// Longest wait for the TCP (and TLS) connection. Default `5s`.
    #[serde(default = "defaults::connect_timeout")]
    pub connect_timeout: Duration,
    /// Longest wait for the response headers once the request is sent. Default `10s`.
    /// There is no limit on how long a stream lasts.
    #[serde(default = "defaults::response_timeout")]
    pub response_timeout: Duration,
    /// Headers added to the upstream request, in order; values may use `{name}` placeholders.
    /// Default: none.
    #[serde(default)]
    pub headers: OrderedMap<String>,
    /// A PEM file of extra CA certificates trusted for an `https` upstream, besides the
    /// system roots. Relative to the config file. Default: system roots only.
    #[serde(default)]
    pub ca: Option<PathBuf>,
}

/// A route's reference to a schema version: `name@3` or `name@latest`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SchemaRef<'a> {
    /// The schema's name in the tenant's `schemas`.
    pub name: &'a str,
    /// `Some(n)` for version `n`, `None` for the highest version.
    pub version: Option<u32>,
}

impl<'a> SchemaRef<'a> {
    /// Parses `name@N` (N ≥ 1) or `name@latest`.
    pub fn parse(text: &'a str) -> Option<Self> {
        let (name, version) = text.rsplit_once('@')?;
        let version = match version {
            "latest" => None,
            digits if digits.bytes().all(|b| b.is_ascii_digit()) => {
                Some(digits.parse().ok().filter(|n| *n > 0)?)
            }
            _ => return None,
        };
        (!name.is_empty()).then_some(Self { name, version })
    }
}

/// Default values, named so the docs above and the code agree.
pub(crate) mod defaults {
    use super::{Duration, HttpVersion, Size};

    pub(crate) const CREDENTIALS_HEADER: &str = "authorization: Bearer {credentials}";

    pub(crate) fn shutdown_grace() -> Duration {
        Duration::from_secs(10)
    }
    pub(crate) fn listener_versions() -> Vec<HttpVersion> {
        vec![HttpVersion::Http1, HttpVersion::H2]
    }
    pub(crate) fn scopes_claim() -> String {
        "scope".to_owned()
    }
    pub(crate) fn subject_claim() -> String {
        "sub".to_owned()
    }
    pub(crate) fn leeway() -> Duration {
        Duration::from_secs(30)
    }
    pub(crate) fn jwks_cache() -> Duration {
        Duration::from_secs(300)
    }
    pub(crate) fn heartbeat() -> Option<Duration> {
        Some(Duration::from_secs(15))
    }
    pub(crate) fn last_event_id_query() -> String {
        "lastEventId".to_owned()
    }
    pub(crate) fn max_event_size() -> Size {
        Size::MIB
    }
    pub(crate) fn buffer() -> u32 {
        64
    }
    pub(crate) fn upstream_version() -> HttpVersion {
        HttpVersion::Http1
    }
    pub(crate) fn connect_timeout() -> Duration {
        Duration::from_secs(5)
    }
    pub(crate) fn response_timeout() -> Duration {
        Duration::from_secs(10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_refs_parse_name_and_version() {
        let exact = SchemaRef::parse("order@3");
        assert_eq!(
            exact,
            Some(SchemaRef {
                name: "order",
                version: Some(3)
            })
        );
        let latest = SchemaRef::parse("order.v2@latest");
        assert_eq!(
            latest,
            Some(SchemaRef {
                name: "order.v2",
                version: None
            })
        );
        for bad in [
            "order",
            "order@",
            "@1",
            "order@0",
            "order@-1",
            "order@x",
            "order@99999999999",
        ] {
            assert_eq!(SchemaRef::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn header_templates_split_around_the_token() {
        let parsed = HeaderTemplate::parse("authorization: Bearer {credentials}");
        let expected = HeaderTemplate {
            name: "authorization",
            prefix: "Bearer ",
            suffix: "",
        };
        assert_eq!(parsed, Some(expected));
        let parsed = HeaderTemplate::parse("x-token:{credentials};v=1");
        let expected = HeaderTemplate {
            name: "x-token",
            prefix: "",
            suffix: ";v=1",
        };
        assert_eq!(parsed, Some(expected));
        for bad in [
            "authorization",
            ": {credentials}",
            "a: b",
            "a: {credentials}{credentials}",
        ] {
            assert_eq!(HeaderTemplate::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn secrets_are_redacted_in_debug_output() {
        assert_eq!(format!("{:?}", Secret::new("hunter2")), "Secret(***)");
        assert_eq!(Secret::new("hunter2").expose(), "hunter2");
    }
}
