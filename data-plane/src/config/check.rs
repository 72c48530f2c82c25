//! Checks on a deserialized config as a whole: settings that are well-typed but wrong, and
//! settings that disagree with each other. Every problem is collected, none stops the rest.

use std::collections::HashMap;
use std::net::SocketAddr;

use super::error::{ConfigErrors, index_path, key_path};
use super::model::{
    Auth, Config, Cors, Credentials, HeaderTemplate, Jwk, Limits, Route, SchemaRef, SchemaVersion,
    Tenant, Upstream,
};
use super::units::{Duration, Size};

/// Checks `config` as a whole. On failure, every problem, each with its path and (when the
/// config came from a file) its line.
pub fn check_config(config: &Config) -> Result<(), ConfigErrors> {
    let mut check = Checker {
        config,
        errors: ConfigErrors::new(),
    };
    check.top_level();
    check.listeners();
    check.tenants();
    check.errors.into_result(())
}

struct Checker<'a> {
    config: &'a Config,
    errors: ConfigErrors,
}

impl Checker<'_> {
    fn error(&mut self, path: &str, message: impl Into<String>) {
        let line = self.config.line_of(path);
        self.errors.push_at(path, line, message);
    }

    fn top_level(&mut self) {
        let version = self.config.version;
        if version != super::VERSION {
            let expected = super::VERSION;
            self.error(
                "version",
                format!("unsupported version {version}: this build reads version {expected}"),
            );
        }
        if let Some(admin) = &self.config.admin {
            self.socket_address("admin.address", &admin.address);
        }
    }

    fn socket_address(&mut self, path: &str, address: &str) {
        if address.parse::<SocketAddr>().is_err() {
            self.error(
                path,
                format!("`{address}` is not an IP:port address, e.g. `0.0.0.0:7143`"),
            );
        }
    }

    /// `duration` must be above zero; `hint` says what to write instead of `0s`.
    fn positive(&mut self, path: &str, duration: Duration, hint: &str) {
        if duration.is_zero() {
            self.error(path, format!("must be more than 0s{hint}"));
        }
    }

    fn not_empty(&mut self, path: &str, value: &str) {
        if value.trim().is_empty() {
            self.error(path, "must not be empty");
        }
    }

    fn header_names<'n>(&mut self, path: &str, names: impl Iterator<Item = &'n str>) {
        for (i, name) in names.enumerate() {
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                self.error(
                    &index_path(path, i),
                    format!("`{name}` is not a valid header name"),
                );
            }
        }
    }
}

// Listeners.
impl Checker<'_> {
    fn listeners(&mut self) {
        // Compared as parsed, so `[::0]:80` and `[::]:80` are the same socket. Port 0 asks
        // the system for a free port, so it never clashes (tests bind everything to it).
        let socket = |address: &str| {
            let address = address.parse::<SocketAddr>().ok()?;
            (address.port() != 0).then_some(address)
        };
        let mut seen: HashMap<SocketAddr, String> = HashMap::new();
        if let Some(address) = self.config.admin.as_ref().and_then(|a| socket(&a.address)) {
            seen.insert(address, "admin.address".to_owned());
        }
        for (i, listener) in self.config.listeners.iter().enumerate() {
            let path = index_path("listeners", i);
            let address_path = key_path(&path, "address");
            self.socket_address(&address_path, &listener.address);
            if let Some(address) = socket(&listener.address) {
                if let Some(other) = seen.get(&address) {
                    let message = format!("address `{address}` is also used by {other}");
                    self.error(&address_path, message);
                }
                seen.entry(address).or_insert(address_path);
            }
            self.listener_versions(&key_path(&path, "versions"), &listener.versions);
        }
    }

    fn listener_versions(&mut self, path: &str, versions: &[super::HttpVersion]) {
        if versions.is_empty() {
            self.error(path, "list at least one HTTP version (`http/1.1`, `h2`)");
        }
        for (i, version) in versions.iter().enumerate() {
            if versions[..i].contains(version) {
                self.error(&index_path(path, i), format!("{version} is listed twice"));
            }
        }
    }
}

/// Tenant and route names: 1 to 63 of `a-z0-9_-`, starting with a letter or digit, so they
/// are safe in metric labels, URLs and file names.
fn valid_name(name: &str) -> bool {
    let mut bytes = name.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    let rest_ok =
        bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-');
    first_ok && rest_ok && name.len() <= 63
}

const NAME_RULE: &str = "must be 1 to 63 characters of a-z, 0-9, `_` and `-`, starting with a \
                         letter or digit";

// Tenants.
impl Checker<'_> {
    fn tenants(&mut self) {
        let mut hosts: HashMap<String, &str> = HashMap::new();
        let mut prefixes: HashMap<&str, &str> = HashMap::new();
        for (name, tenant) in self.config.tenants.iter() {
            let path = key_path("tenants", name);
            if !valid_name(name) {
                self.error(&path, format!("tenant name `{name}` {NAME_RULE}"));
            }
            self.tenant_reach(&path, name, tenant, &mut hosts, &mut prefixes);
            if let Some(auth) = &tenant.auth {
                self.auth(&key_path(&path, "auth"), auth);
            }
            if let Some(cors) = &tenant.cors {
                self.cors(&key_path(&path, "cors"), cors);
            }
            if let Some(limits) = &tenant.limits {
                self.limits(&key_path(&path, "limits"), limits);
            }
            self.schemas(&key_path(&path, "schemas"), tenant);
            self.routes(&path, name, tenant);
        }
    }

    /// How requests reach the tenant: hosts and path prefix, unique across tenants.
    fn tenant_reach<'c>(
        &mut self,
        path: &str,
        name: &'c str,
        tenant: &'c Tenant,
        hosts: &mut HashMap<String, &'c str>,
        prefixes: &mut HashMap<&'c str, &'c str>,
    ) {
        if tenant.hosts.is_empty() && tenant.path_prefix.is_none() {
            let message = "give `hosts`, a `path_prefix`, or both, so requests can reach it";
            self.error(path, message);
        }
        for (i, host) in tenant.hosts.iter().enumerate() {
            let host_path = index_path(&key_path(path, "hosts"), i);
            // Compared as requests are matched: case-insensitive, trailing dot ignored.
            let normal = host.trim_end_matches('.').to_ascii_lowercase();
            if normal.trim().is_empty() {
                self.error(&host_path, "must not be empty");
            } else if let Some(owner) = hosts.get(&normal) {
                let owner = if *owner == name {
                    "this tenant".to_owned()
                } else {
                    format!("tenant `{owner}`")
                };
                self.error(
                    &host_path,
                    format!("host `{host}` is already claimed by {owner}"),
                );
            } else {
                hosts.insert(normal, name);
            }
        }
        if let Some(prefix) = &tenant.path_prefix {
            let prefix_path = key_path(path, "path_prefix");
            self.path_prefix(&prefix_path, prefix);
            match prefixes.get(prefix.as_str()) {
                Some(owner) => self.error(
                    &prefix_path,
                    format!("path prefix `{prefix}` is already used by tenant `{owner}`"),
                ),
                None => _ = prefixes.insert(prefix, name),
            }
        }
        if tenant.tls.is_some() && tenant.hosts.is_empty() {
            let message = "a tenant certificate is chosen by SNI, so the tenant needs `hosts`";
            self.error(&key_path(path, "tls"), message);
        }
    }

    fn path_prefix(&mut self, path: &str, prefix: &str) {
        if !prefix.starts_with('/') {
            self.error(
                path,
                format!("`{prefix}` must start with `/`, e.g. `/t/acme`"),
            );
        } else if prefix.ends_with('/') {
            self.error(path, format!("`{prefix}` must not end with `/`"));
        }
    }

    fn limits(&mut self, path: &str, limits: &Limits) {
        let values = [
            ("max_streams", limits.max_streams),
            ("max_streams_per_subject", limits.max_streams_per_subject),
            ("new_streams_per_second", limits.new_streams_per_second),
        ];
        for (key, value) in values {
            if value == Some(0) {
                let message = "must be at least 1; leave it out for no limit";
                self.error(&key_path(path, key), message);
            }
        }
    }

    fn schemas(&mut self, path: &str, tenant: &Tenant) {
        for (name, versions) in tenant.schemas.iter() {
            let name_path = key_path(path, name);
            if name.is_empty() || name.contains(['@', ' ']) {
                self.error(
                    &name_path,
                    format!("schema name `{name}` must not be empty or hold `@` or spaces"),
                );
            }
            if versions.is_empty() {
                self.error(&name_path, "list at least one version");
            }
            for (i, version) in versions.iter().enumerate() {
                self.schema_version(&index_path(&name_path, i), version, &versions[..i]);
            }
        }
    }

    fn schema_version(&mut self, path: &str, version: &SchemaVersion, before: &[SchemaVersion]) {
        let number = version.version;
        if number == 0 {
            self.error(&key_path(path, "version"), "versions start at 1");
        } else if before.iter().any(|v| v.version == number) {
            self.error(
                &key_path(path, "version"),
                format!("version {number} is listed twice"),
            );
        }
        if !(version.schema.is_object() || version.schema.is_boolean()) {
            let message = "a JSON Schema is an object or a boolean";
            self.error(&key_path(path, "schema"), message);
        }
    }
}

// Authentication.
impl Checker<'_> {
    fn auth(&mut self, path: &str, auth: &Auth) {
        self.not_empty(&key_path(path, "issuer"), &auth.issuer);
        self.audiences(&key_path(path, "audiences"), &auth.audiences);
        if auth.keys.is_empty() && auth.jwks_url.is_none() {
            self.error(path, "give `keys`, a `jwks_url`, or both");
        }
        self.keys(&key_path(path, "keys"), &auth.keys);
        if let Some(url) = &auth.jwks_url {
            self.jwks_url(&key_path(path, "jwks_url"), url);
        }
        self.credentials(&key_path(path, "credentials"), &auth.credentials);
        self.not_empty(&key_path(path, "scopes_claim"), &auth.scopes_claim);
        self.not_empty(&key_path(path, "subject_claim"), &auth.subject_claim);
        if let Some(challenge) = auth.challenge {
            let hint = "; leave it out to send no challenge";
            self.positive(&key_path(path, "challenge"), challenge, hint);
        }
        if let Some(typ) = &auth.require_typ {
            self.not_empty(&key_path(path, "require_typ"), typ);
        }
        self.positive(&key_path(path, "jwks_cache"), auth.jwks_cache, "");
    }

    /// An audience is mandatory: without one, a token minted for any other service that
    /// trusts the same issuer would be accepted (conformance case C31, RFC 7519 §4.1.3).
    fn audiences(&mut self, path: &str, audiences: &[String]) {
        if audiences.is_empty() {
            let message = "list at least one audience: without one, tokens issued for other \
                           services would be accepted";
            self.error(path, message);
        }
        for (i, audience) in audiences.iter().enumerate() {
            self.not_empty(&index_path(path, i), audience);
        }
    }

    fn keys(&mut self, path: &str, keys: &[Jwk]) {
        for (i, key) in keys.iter().enumerate() {
            let key_at = index_path(path, i);
            for problem in jwk_problems(key) {
                self.error(&key_at, problem);
            }
            match &key.kid {
                None if keys.len() > 1 => {
                    self.error(&key_at, "`kid` is needed when there are several keys");
                }
                Some(kid) if keys[..i].iter().any(|k| k.kid.as_ref() == Some(kid)) => {
                    self.error(
                        &key_path(&key_at, "kid"),
                        format!("kid `{kid}` is used twice"),
                    );
                }
                _ => {}
            }
        }
    }

    fn jwks_url(&mut self, path: &str, url: &str) {
        let Ok(uri) = url.parse::<http::Uri>() else {
            return self.error(path, format!("`{url}` is not a valid URL"));
        };
        let host = uri.host().unwrap_or_default();
        let loopback = matches!(host, "localhost" | "127.0.0.1" | "[::1]");
        match uri.scheme_str() {
            Some("https") if !host.is_empty() => {}
            Some("http") if loopback => {}
            _ => self.error(
                path,
                format!("`{url}` must be an https:// URL (http:// only for localhost)"),
            ),
        }
    }

    fn credentials(&mut self, path: &str, credentials: &Credentials) {
        let Credentials {
            header,
            query,
            cookie,
        } = credentials;
        if header.is_none() && query.is_none() && cookie.is_none() {
            self.error(path, "give at least one of `header`, `query`, `cookie`");
        }
        if let Some(template) = header {
            let header_path = key_path(path, "header");
            let valid = HeaderTemplate::parse(template)
                .is_some_and(|t| http::HeaderName::from_bytes(t.name.as_bytes()).is_ok());
            if !valid {
                let message = format!(
                    "`{template}` is not a header template: write `name: prefix{{credentials}}`, \
                     e.g. `authorization: Bearer {{credentials}}`"
                );
                self.error(&header_path, message);
            }
        }
        if let Some(query) = query {
            self.not_empty(&key_path(path, "query"), query);
        }
        if let Some(cookie) = cookie {
            self.not_empty(&key_path(path, "cookie"), cookie);
        }
    }
}

/// What is wrong with one JWK. Only asymmetric algorithms are accepted, and each key names
/// the one it verifies, so `none` and HMAC-with-a-public-key confusion cannot be configured
/// (RFC 8725 §2.1, §3.1).
fn jwk_problems(key: &Jwk) -> Vec<String> {
    let mut problems = Vec::new();
    let (kty, alg) = (key.kty.as_deref(), key.alg.as_deref());
    let expected_kty = match alg {
        Some("RS256" | "RS384" | "RS512" | "PS256" | "PS384" | "PS512") => Some("RSA"),
        Some("ES256" | "ES384") => Some("EC"),
        Some("EdDSA") => Some("OKP"),
        Some(other) => {
            problems.push(format!(
                "alg `{other}` is not accepted: use RS256/384/512, PS256/384/512, ES256, ES384 \
                 or EdDSA"
            ));
            None
        }
        None => {
            problems.push("`alg` is required".to_owned());
            None
        }
    };
    match (kty, expected_kty) {
        (None, _) => problems.push("`kty` is required".to_owned()),
        (Some(kty), Some(expected)) if kty != expected => {
            problems.push(format!(
                "kty `{kty}` does not fit alg `{}`",
                alg.unwrap_or_default()
            ));
        }
        _ => {}
    }
    problems.extend(missing_members(key));
    if let Some(key_use) = key.key_use.as_deref().filter(|u| *u != "sig") {
        problems.push(format!("use `{key_use}` is not `sig`"));
    }
    problems
}

/// The members a key of its type needs but lacks, and a curve that does not fit its `alg`.
fn missing_members(key: &Jwk) -> Vec<String> {
    let present = |member: &Option<String>| member.as_deref().is_some_and(|m| !m.is_empty());
    let (needed, curves): (&[(&str, bool)], &[&str]) = match key.kty.as_deref() {
        Some("RSA") => (&[("n", present(&key.n)), ("e", present(&key.e))], &[]),
        Some("EC") => (
            &[
                ("crv", present(&key.crv)),
                ("x", present(&key.x)),
                ("y", present(&key.y)),
            ],
            match key.alg.as_deref() {
                Some("ES384") => &["P-384"],
                _ => &["P-256"],
            },
        ),
        Some("OKP") => (
            &[("crv", present(&key.crv)), ("x", present(&key.x))],
            &["Ed25519"],
        ),
        Some(other) => return vec![format!("kty `{other}` is not RSA, EC or OKP")],
        None => return Vec::new(),
    };
    let mut problems: Vec<String> = needed
        .iter()
        .filter(|(_, present)| !present)
        .map(|(member, _)| {
            format!(
                "`{member}` is required for a {} key",
                key.kty.as_deref().unwrap_or_default()
            )
        })
        .collect();
    if let Some(crv) = key
        .crv
        .as_deref()
        .filter(|c| !curves.is_empty() && !curves.contains(c))
    {
        problems.push(format!(
            "crv `{crv}` does not fit; use {}",
            curves.join(" or ")
        ));
    }
    problems
}

// CORS.
impl Checker<'_> {
    fn cors(&mut self, path: &str, cors: &Cors) {
        let origins_path = key_path(path, "origins");
        if cors.origins.is_empty() {
            self.error(&origins_path, "list at least one origin, or `*`");
        }
        for (i, origin) in cors.origins.iter().enumerate() {
            if origin == "*" {
                // Fetch standard, CORS protocol: `*` never matches a credentialed request.
                if cors.credentials {
                    let message = "origin `*` cannot be used with `credentials: true`; list \
                                   the origins";
                    self.error(&index_path(&origins_path, i), message);
                }
            } else if !valid_origin(origin) {
                let message = format!(
                    "`{origin}` is not an origin: write scheme, host and optional port, e.g. \
                     `https://app.example.com`"
                );
                self.error(&index_path(&origins_path, i), message);
            }
        }
        let expose = cors.expose_headers.iter().map(String::as_str);
        self.header_names(&key_path(path, "expose_headers"), expose);
        let allow = cors.allow_headers.iter().map(String::as_str);
        self.header_names(&key_path(path, "allow_headers"), allow);
    }
}

/// `scheme://host[:port]` exactly, as browsers send it in `Origin` (no path, no slash).
fn valid_origin(origin: &str) -> bool {
    let Ok(uri) = origin.parse::<http::Uri>() else {
        return false;
    };
    let scheme_ok = matches!(uri.scheme_str(), Some("http" | "https"));
    let host_ok = uri.host().is_some_and(|h| !h.is_empty());
    let bare = uri.authority().is_some_and(|a| {
        let scheme_len = uri.scheme_str().map_or(0, str::len);
        origin.len() == scheme_len + "://".len() + a.as_str().len()
    });
    scheme_ok && host_ok && bare && !origin.contains('@')
}

// Routes.
impl Checker<'_> {
    fn routes(&mut self, tenant_path: &str, tenant_name: &str, tenant: &Tenant) {
        let routes_path = key_path(tenant_path, "routes");
        let mut paths: HashMap<&str, &str> = HashMap::new();
        for (name, route) in tenant.routes.iter() {
            let path = key_path(&routes_path, name);
            if !valid_name(name) {
                self.error(&path, format!("route name `{name}` {NAME_RULE}"));
            }
            self.route_path(&key_path(&path, "path"), route, name, &mut paths);
            self.route_access(&path, tenant_name, tenant, route);
            match (&route.upstream, &route.files) {
                (Some(upstream), None) => self.upstream(&key_path(&path, "upstream"), upstream),
                (None, Some(_)) => {}
                (Some(_), Some(_)) => {
                    self.error(&path, "give either `upstream` or `files`, not both");
                }
                (None, None) => {
                    self.error(&path, "give `upstream` (a stream) or `files` (a folder)")
                }
            }
            self.events(&key_path(&path, "events"), tenant, route);
            self.stream_settings(&path, route);
        }
    }

    fn route_path<'r>(
        &mut self,
        path: &str,
        route: &'r Route,
        name: &'r str,
        seen: &mut HashMap<&'r str, &'r str>,
    ) {
        if !route.path.starts_with('/') {
            let message = format!("`{}` must start with `/`", route.path);
            return self.error(path, message);
        }
        match seen.get(route.path.as_str()) {
            Some(other) => {
                let message = format!("path `{}` is also used by route `{other}`", route.path);
                self.error(path, message);
            }
            None => _ = seen.insert(&route.path, name),
        }
    }

    fn route_access(&mut self, path: &str, tenant_name: &str, tenant: &Tenant, route: &Route) {
        if !route.public && tenant.auth.is_none() {
            let message = format!(
                "the route needs a token but tenant `{tenant_name}` has no `auth`: add `auth` \
                 to the tenant or set `public: true`"
            );
            self.error(path, message);
        }
        let scopes_path = key_path(path, "scopes");
        if route.public && !route.scopes.is_empty() {
            self.error(&scopes_path, "a public route cannot require scopes");
        }
        for (i, scope) in route.scopes.iter().enumerate() {
            // RFC 6749 §3.3: scope-token = 1*( %x21 / %x23-5B / %x5D-7E ).
            let valid = !scope.is_empty()
                && scope
                    .bytes()
                    .all(|b| matches!(b, 0x21 | 0x23..=0x5B | 0x5D..=0x7E));
            if !valid {
                let message = format!("`{scope}` is not a scope (no spaces, quotes or `\\`)");
                self.error(&index_path(&scopes_path, i), message);
            }
        }
        if let Some(when) = &route.when {
            let when_path = key_path(path, "when");
            if let Some(scheme) = when
                .scheme
                .as_deref()
                .filter(|s| !matches!(*s, "http" | "https"))
            {
                let message = format!("scheme `{scheme}` is not `http` or `https`");
                self.error(&key_path(&when_path, "scheme"), message);
            }
            let headers_path = key_path(&when_path, "headers");
            for name in when.headers.keys() {
                if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                    let message = format!("`{name}` is not a valid header name");
                    self.error(&key_path(&headers_path, name), message);
                }
            }
        }
    }

    fn upstream(&mut self, path: &str, upstream: &Upstream) {
        if let Err(problem) = upstream_url_problem(&upstream.url) {
            self.error(&key_path(path, "url"), problem);
        }
        self.positive(
            &key_path(path, "connect_timeout"),
            upstream.connect_timeout,
            "",
        );
        self.positive(
            &key_path(path, "response_timeout"),
            upstream.response_timeout,
            "",
        );
        let headers_path = key_path(path, "headers");
        for (name, value) in upstream.headers.iter() {
            let header_path = key_path(&headers_path, name);
            if http::HeaderName::from_bytes(name.as_bytes()).is_err() {
                self.error(&header_path, format!("`{name}` is not a valid header name"));
            }
            let filled = fill_placeholders(value).unwrap_or_else(|_| value.clone());
            if http::HeaderValue::from_str(&filled).is_err() {
                self.error(
                    &header_path,
                    "a header value cannot hold control characters",
                );
            }
        }
    }

    fn events(&mut self, path: &str, tenant: &Tenant, route: &Route) {
        for (event_type, reference) in route.events.iter() {
            let event_path = key_path(path, event_type);
            // An event type travels in an `event:` line, so it cannot hold a line break.
            if event_type.is_empty() || event_type.contains(['\r', '\n']) {
                self.error(
                    &event_path,
                    "an event type must not be empty or hold line breaks",
                );
            }
            if let Err(problem) = schema_ref_problem(tenant, reference) {
                self.error(&event_path, problem);
            }
        }
    }

    fn stream_settings(&mut self, path: &str, route: &Route) {
        if let Some(retry) = route.retry {
            let hint = "; leave it out to send no `retry:`";
            self.positive(&key_path(path, "retry"), retry, hint);
        }
        if let Some(heartbeat) = route.heartbeat {
            let hint = "; write `off` to send no heartbeats";
            self.positive(&key_path(path, "heartbeat"), heartbeat, hint);
        }
        self.not_empty(
            &key_path(path, "last_event_id_query"),
            &route.last_event_id_query,
        );
        let size = route.max_event_size;
        let (min, max) = (Size::KIB, Size::from_bytes(64 * Size::MIB.bytes()));
        if size < min || size > max {
            let message = format!("{size} is outside {min} to {max}");
            self.error(&key_path(path, "max_event_size"), message);
        }
        if route.buffer == 0 {
            self.error(&key_path(path, "buffer"), "must be at least 1");
        }
    }
}

/// Why `url` cannot be an upstream URL, if it cannot.
fn upstream_url_problem(url: &str) -> Result<(), String> {
    let filled = fill_placeholders(url)?;
    let uri = filled
        .parse::<http::Uri>()
        .map_err(|error| format!("`{url}` is not a valid URL: {error}"))?;
    if !matches!(uri.scheme_str(), Some("http" | "https")) {
        return Err(format!("`{url}` must start with http:// or https://"));
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(format!("`{url}` has no host"));
    }
    Ok(())
}

/// `text` with each `{name}` replaced by a sample value, to check the shape around it.
fn fill_placeholders(text: &str) -> Result<String, String> {
    crate::route::fill(text, |_| Some("x")).map_err(|error| format!("`{text}`: {error}"))
}

/// Why `reference` does not name a schema version of `tenant`, if it does not.
fn schema_ref_problem(tenant: &Tenant, reference: &str) -> Result<(), String> {
    let Some(parsed) = SchemaRef::parse(reference) else {
        return Err(format!(
            "`{reference}` is not a schema reference: write `name@N` or `name@latest`"
        ));
    };
    let Some(versions) = tenant.schemas.get(parsed.name) else {
        return Err(format!(
            "no schema `{}` in this tenant's `schemas`",
            parsed.name
        ));
    };
    match parsed.version {
        None if versions.is_empty() => Err(format!("schema `{}` has no versions", parsed.name)),
        Some(n) if !versions.iter().any(|v| v.version == n) => {
            Err(format!("schema `{}` has no version {n}", parsed.name))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::parse;
    use super::*;

    const AUTH: &str = "    auth:
      issuer: https://idp.example
      audiences: [sse]
      keys: [ { kty: RSA, kid: k1, alg: RS256, n: abc, e: AQAB } ]
";

    const ROUTE: &str = "    routes:
      orders:
        path: /orders
        upstream: { url: http://up.internal/stream }
";

    /// A file with tenant `acme` whose body is `body`; `acme:` is line 3, `body` starts at 4.
    fn tenant(body: &str) -> String {
        format!("version: 1\ntenants:\n  acme:\n{body}")
    }

    /// The errors of `text`, each as its display line; none when it is valid.
    fn errors(text: &str) -> Vec<String> {
        match parse(text, Path::new("/etc"), &|_| None) {
            Ok(_) => Vec::new(),
            Err(errors) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn the_base_tenant_is_valid() {
        let text = tenant(&format!("    hosts: [acme.example]\n{AUTH}{ROUTE}"));
        assert_eq!(errors(&text), Vec::<String>::new());
    }

    #[test]
    fn version_must_be_1() {
        let mut config = parse("version: 1\n", Path::new("/"), &|_| None).expect("valid");
        config.version = 2;
        let errors = check_config(&config).expect_err("should fail");
        let found: Vec<_> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            ["version (line 1): unsupported version 2: this build reads version 1"]
        );
    }

    #[test]
    fn listener_addresses_must_be_socket_addresses() {
        let text = "version: 1\nadmin: { address: localhost }\nlisteners:\n  - address: 0.0.0.0\n";
        assert_eq!(
            errors(text),
            [
                "admin.address (line 2): `localhost` is not an IP:port address, e.g. `0.0.0.0:7143`",
                "listeners[0].address (line 4): `0.0.0.0` is not an IP:port address, e.g. \
                 `0.0.0.0:7143`",
            ]
        );
    }

    #[test]
    fn listener_addresses_must_be_unique() {
        let text = "version: 1\nadmin: { address: \"127.0.0.1:9\" }\nlisteners:\n  \
                    - address: 127.0.0.1:9\n  - address: \"[::]:1\"\n  - address: \"[::0]:1\"\n";
        assert_eq!(
            errors(text),
            [
                "listeners[0].address (line 4): address `127.0.0.1:9` is also used by \
                 admin.address",
                "listeners[2].address (line 6): address `[::]:1` is also used by \
                 listeners[1].address",
            ]
        );
    }

    #[test]
    fn port_zero_never_clashes() {
        let text = "version: 1\nadmin: { address: \"127.0.0.1:0\" }\nlisteners:\n  \
                    - address: 127.0.0.1:0\n  - address: 127.0.0.1:0\n";
        assert_eq!(errors(text), Vec::<String>::new());
    }

    #[test]
    fn listener_versions_must_be_non_empty_and_unique() {
        let text = "version: 1\nlisteners:\n  - address: 0.0.0.0:1\n    versions: []\n  \
                    - address: 0.0.0.0:2\n    versions: [h2, http/1.1, h2]\n";
        assert_eq!(
            errors(text),
            [
                "listeners[0].versions (line 4): list at least one HTTP version (`http/1.1`, `h2`)",
                "listeners[1].versions[2] (line 6): h2 is listed twice",
            ]
        );
    }

    #[test]
    fn tenant_names_follow_the_name_rule() {
        let long = "a".repeat(64);
        let text = format!(
            "version: 1\ntenants:\n  Acme: {{ path_prefix: /a }}\n  \"a b\": {{ path_prefix: /b }}\n  \
             _x: {{ path_prefix: /c }}\n  {long}: {{ path_prefix: /d }}\n  a-1_b: {{ path_prefix: /e }}\n"
        );
        let rule =
            "must be 1 to 63 characters of a-z, 0-9, `_` and `-`, starting with a letter or digit";
        assert_eq!(
            errors(&text),
            [
                format!("tenants.Acme (line 3): tenant name `Acme` {rule}"),
                format!("tenants.\"a b\" (line 4): tenant name `a b` {rule}"),
                format!("tenants._x (line 5): tenant name `_x` {rule}"),
                format!("tenants.{long} (line 6): tenant name `{long}` {rule}"),
            ]
        );
    }

    #[test]
    fn a_tenant_needs_hosts_or_a_path_prefix() {
        let text = tenant("    hosts: []\n");
        assert_eq!(
            errors(&text),
            [
                "tenants.acme (line 3): give `hosts`, a `path_prefix`, or both, so requests can reach it"
            ]
        );
    }

    #[test]
    fn path_prefixes_start_with_a_slash_and_do_not_end_with_one() {
        let text = "version: 1\ntenants:\n  a: { path_prefix: t/a }\n  b: { path_prefix: /t/b/ }\n  \
                    c: { path_prefix: / }\n";
        assert_eq!(
            errors(text),
            [
                "tenants.a.path_prefix (line 3): `t/a` must start with `/`, e.g. `/t/acme`",
                "tenants.b.path_prefix (line 4): `/t/b/` must not end with `/`",
                "tenants.c.path_prefix (line 5): `/` must not end with `/`",
            ]
        );
    }

    #[test]
    fn hosts_and_prefixes_belong_to_one_tenant() {
        let text = "version: 1\ntenants:\n  a:\n    hosts: [x.example, \"\", X.Example.]\n    \
                    path_prefix: /t/a\n  b:\n    hosts: [x.EXAMPLE]\n    path_prefix: /t/a\n";
        assert_eq!(
            errors(text),
            [
                "tenants.a.hosts[1] (line 4): must not be empty",
                "tenants.a.hosts[2] (line 4): host `X.Example.` is already claimed by this tenant",
                "tenants.b.hosts[0] (line 7): host `x.EXAMPLE` is already claimed by tenant `a`",
                "tenants.b.path_prefix (line 8): path prefix `/t/a` is already used by tenant `a`",
            ]
        );
    }

    #[test]
    fn a_tenant_certificate_needs_hosts() {
        let text = tenant(
            "    path_prefix: /t/acme\n    tls: { certificate: c.pem, private_key: k.pem }\n",
        );
        assert_eq!(
            errors(&text),
            [
                "tenants.acme.tls (line 5): a tenant certificate is chosen by SNI, so the tenant needs `hosts`"
            ]
        );
    }

    #[test]
    fn limits_must_be_at_least_one() {
        let text = tenant(
            "    path_prefix: /t\n    limits:\n      max_streams: 0\n      \
                           max_streams_per_subject: 0\n      new_streams_per_second: 1\n",
        );
        let message = "must be at least 1; leave it out for no limit";
        assert_eq!(
            errors(&text),
            [
                format!("tenants.acme.limits.max_streams (line 6): {message}"),
                format!("tenants.acme.limits.max_streams_per_subject (line 7): {message}"),
            ]
        );
    }

    #[test]
    fn schema_versions_are_positive_unique_and_json_schemas() {
        let text = tenant(
            "    path_prefix: /t
    schemas:
      order:
        - { version: 0, schema: {} }
        - { version: 2, schema: true }
        - { version: 2, schema: {} }
        - { version: 3, schema: 5 }
      empty: []
      \"bad@name\": [ { version: 1, schema: {} } ]
",
        );
        assert_eq!(
            errors(&text),
            [
                "tenants.acme.schemas.order[0].version (line 7): versions start at 1",
                "tenants.acme.schemas.order[2].version (line 9): version 2 is listed twice",
                "tenants.acme.schemas.order[3].schema (line 10): a JSON Schema is an object or a boolean",
                "tenants.acme.schemas.empty (line 11): list at least one version",
                "tenants.acme.schemas.bad@name (line 12): schema name `bad@name` must not be empty \
                 or hold `@` or spaces",
            ]
        );
    }

    #[test]
    fn route_names_and_paths_are_checked() {
        let text = tenant(
            "    path_prefix: /t
    routes:
      Orders: { path: /a, public: true, upstream: { url: http://u } }
      b: { path: b, public: true, upstream: { url: http://u } }
      c: { path: /a, public: true, upstream: { url: http://u } }
",
        );
        assert_eq!(
            errors(&text),
            [
                "tenants.acme.routes.Orders (line 6): route name `Orders` must be 1 to 63 \
                 characters of a-z, 0-9, `_` and `-`, starting with a letter or digit",
                "tenants.acme.routes.b.path (line 7): `b` must start with `/`",
                "tenants.acme.routes.c.path (line 8): path `/a` is also used by route `Orders`",
            ]
        );
    }

    #[test]
    fn a_route_needing_a_token_needs_tenant_auth() {
        let text = tenant(&format!("    path_prefix: /t\n{ROUTE}"));
        assert_eq!(
            errors(&text),
            [
                "tenants.acme.routes.orders (line 6): the route needs a token but tenant `acme` \
                 has no `auth`: add `auth` to the tenant or set `public: true`"
            ]
        );
    }

    #[test]
    fn scopes_are_tokens_and_not_on_public_routes() {
        let text = tenant(
            "    path_prefix: /t
    routes:
      r:
        path: /
        public: true
        scopes: [ok, \"two words\", \"\"]
        upstream: { url: http://u }
",
        );
        assert_eq!(
            errors(&text),
            [
                "tenants.acme.routes.r.scopes (line 9): a public route cannot require scopes",
                "tenants.acme.routes.r.scopes[1] (line 9): `two words` is not a scope (no \
                 spaces, quotes or `\\`)",
                "tenants.acme.routes.r.scopes[2] (line 9): `` is not a scope (no spaces, quotes \
                 or `\\`)",
            ]
        );
    }

    #[test]
    fn when_conditions_are_checked() {
        let text = tenant(
            "    path_prefix: /t
    routes:
      r:
        path: /
        public: true
        when: { scheme: ftp, headers: { \"bad header\": x, x-ok: y } }
        upstream: { url: http://u }
",
        );
        assert_eq!(
            errors(&text),
            [
                "tenants.acme.routes.r.when.scheme (line 9): scheme `ftp` is not `http` or `https`",
                "tenants.acme.routes.r.when.headers.\"bad header\" (line 9): `bad header` is not a \
                 valid header name",
            ]
        );
    }

    /// A tenant with one public route `r` whose upstream is `upstream` (line 8 on).
    fn upstream(upstream: &str) -> String {
        tenant(&format!(
            "    path_prefix: /t\n    routes:\n      r:\n        path: /{{id}}\n        \
             public: true\n        upstream:\n{upstream}"
        ))
    }

    #[test]
    fn upstream_urls_are_http_or_https_with_a_host() {
        let cases = [
            (
                "ftp://u/x",
                "`ftp://u/x` must start with http:// or https://",
            ),
            (
                "/relative/{id}",
                "`/relative/{id}` must start with http:// or https://",
            ),
            (
                "http://u/{id",
                "`http://u/{id`: unbalanced brace at byte 9 of the template",
            ),
            (
                "http://u/{}",
                "`http://u/{}`: bad placeholder name '': use dot-separated names such as \
                 'claims.group'",
            ),
            (
                "http://u/a b",
                "`http://u/a b` is not a valid URL: invalid uri character",
            ),
        ];
        for (url, message) in cases {
            let text = upstream(&format!("          url: \"{url}\"\n"));
            let expected = format!("tenants.acme.routes.r.upstream.url (line 10): {message}");
            assert_eq!(errors(&text), [expected], "{url}");
        }
        let text = upstream("          url: \"https://{id}.svc:8443/s/{id}?q=1\"\n");
        assert_eq!(errors(&text), Vec::<String>::new());
    }

    #[test]
    fn upstream_timeouts_and_headers_are_checked() {
        let text = upstream(
            "          url: http://u
          connect_timeout: 0s
          response_timeout: 0ms
          headers: { \"x bad\": a, x-tenant: \"{tenant}\", x-split: \"a\\nb\" }
",
        );
        let path = "tenants.acme.routes.r.upstream";
        assert_eq!(
            errors(&text),
            [
                format!("{path}.connect_timeout (line 11): must be more than 0s"),
                format!("{path}.response_timeout (line 12): must be more than 0s"),
                format!("{path}.headers.\"x bad\" (line 13): `x bad` is not a valid header name"),
                format!(
                    "{path}.headers.x-split (line 13): a header value cannot hold control characters"
                ),
            ]
        );
    }

    #[test]
    fn event_references_point_to_existing_schema_versions() {
        let text = tenant(
            "    path_prefix: /t
    schemas:
      order: [ { version: 1, schema: {} } ]
    routes:
      r:
        path: /
        public: true
        upstream: { url: http://u }
        events:
          a: order@1
          b: order@2
          c: invoice@latest
          d: order
          e: order@0
          f: order@latest
          \"\": order@1
",
        );
        let path = "tenants.acme.routes.r.events";
        assert_eq!(
            errors(&text),
            [
                format!("{path}.b (line 14): schema `order` has no version 2"),
                format!("{path}.c (line 15): no schema `invoice` in this tenant's `schemas`"),
                format!(
                    "{path}.d (line 16): `order` is not a schema reference: write `name@N` or `name@latest`"
                ),
                format!(
                    "{path}.e (line 17): `order@0` is not a schema reference: write `name@N` or `name@latest`"
                ),
                format!(
                    "{path}.\"\" (line 19): an event type must not be empty or hold line breaks"
                ),
            ]
        );
    }

    #[test]
    fn stream_settings_are_checked() {
        let text = tenant(
            "    path_prefix: /t
    routes:
      r:
        path: /
        public: true
        upstream: { url: http://u }
        retry: 0s
        heartbeat: 0s
        last_event_id_query: \"\"
        max_event_size: 512
        buffer: 0
      big: { path: /big, public: true, upstream: { url: http://u }, max_event_size: 65MiB }
      edges: { path: /e, public: true, upstream: { url: http://u }, max_event_size: 1KiB }
",
        );
        let path = "tenants.acme.routes.r";
        assert_eq!(
            errors(&text),
            [
                format!(
                    "{path}.retry (line 10): must be more than 0s; leave it out to send no `retry:`"
                ),
                format!(
                    "{path}.heartbeat (line 11): must be more than 0s; write `off` to send no heartbeats"
                ),
                format!("{path}.last_event_id_query (line 12): must not be empty"),
                format!("{path}.max_event_size (line 13): 512B is outside 1KiB to 64MiB"),
                format!("{path}.buffer (line 14): must be at least 1"),
                "tenants.acme.routes.big.max_event_size (line 15): 65MiB is outside 1KiB to 64MiB"
                    .to_owned(),
            ]
        );
    }

    /// A tenant with a path prefix and `auth` written as `auth` (line 5 on).
    fn auth(auth: &str) -> String {
        tenant(&format!("    path_prefix: /t\n    auth:\n{auth}"))
    }

    #[test]
    fn auth_needs_issuer_audience_and_keys() {
        let text = auth("      issuer: \"\"\n      audiences: []\n");
        assert_eq!(
            errors(&text),
            [
                "tenants.acme.auth.issuer (line 6): must not be empty",
                "tenants.acme.auth.audiences (line 7): list at least one audience: without one, \
                 tokens issued for other services would be accepted",
                "tenants.acme.auth (line 5): give `keys`, a `jwks_url`, or both",
            ]
        );
    }

    #[test]
    fn a_missing_audience_list_is_reported_too() {
        let text = auth(
            "      issuer: https://idp\n      jwks_url: https://idp/jwks\n      audiences: [a, \"\"]\n",
        );
        assert_eq!(
            errors(&text),
            ["tenants.acme.auth.audiences[1] (line 8): must not be empty"]
        );
        let text = auth("      issuer: https://idp\n      jwks_url: https://idp/jwks\n");
        assert_eq!(
            errors(&text),
            [
                "tenants.acme.auth.audiences (line 5): list at least one audience: without one, \
                 tokens issued for other services would be accepted"
            ]
        );
    }

    #[test]
    fn jwks_urls_are_https_except_on_loopback() {
        let cases = [
            ("https://idp.example/jwks", None),
            ("http://127.0.0.1:8080/jwks", None),
            ("http://localhost/jwks", None),
            (
                "http://idp.example/jwks",
                Some(
                    "`http://idp.example/jwks` must be an https:// URL (http:// only for localhost)",
                ),
            ),
            (
                "jwks.json",
                Some("`jwks.json` must be an https:// URL (http:// only for localhost)"),
            ),
            ("https://a b", Some("`https://a b` is not a valid URL")),
        ];
        for (url, problem) in cases {
            let text = auth(&format!(
                "      issuer: i\n      audiences: [a]\n      jwks_url: \"{url}\"\n"
            ));
            let expected: Vec<String> = problem
                .map(|p| format!("tenants.acme.auth.jwks_url (line 8): {p}"))
                .into_iter()
                .collect();
            assert_eq!(errors(&text), expected, "{url}");
        }
    }

    #[test]
    fn keys_are_asymmetric_with_a_fitting_type_and_members() {
        let text = auth(
            "      issuer: i
      audiences: [a]
      keys:
        - { kty: oct, kid: a, alg: HS256, k: c2VjcmV0 }
        - { kty: RSA, kid: b, alg: none, n: x, e: AQAB }
        - { kty: EC, kid: c, alg: RS256, crv: P-256, x: x, y: y }
        - { kty: EC, kid: d, alg: ES384, crv: P-256, x: x }
        - { kty: OKP, kid: e, alg: EdDSA, crv: Ed25519, x: x, use: enc }
        - { kid: f, n: x, e: AQAB }
        - { kty: RSA, alg: RS256, n: x, e: AQAB }
        - { kty: RSA, kid: a, alg: PS256, n: x, e: AQAB }
",
        );
        let keys = "tenants.acme.auth.keys";
        assert_eq!(
            errors(&text),
            [
                format!(
                    "{keys}[0] (line 9): alg `HS256` is not accepted: use RS256/384/512, PS256/384/512, ES256, ES384 or EdDSA"
                ),
                format!("{keys}[0] (line 9): kty `oct` is not RSA, EC or OKP"),
                format!(
                    "{keys}[1] (line 10): alg `none` is not accepted: use RS256/384/512, PS256/384/512, ES256, ES384 or EdDSA"
                ),
                format!("{keys}[2] (line 11): kty `EC` does not fit alg `RS256`"),
                format!("{keys}[3] (line 12): `y` is required for a EC key"),
                format!("{keys}[3] (line 12): crv `P-256` does not fit; use P-384"),
                format!("{keys}[4] (line 13): use `enc` is not `sig`"),
                format!("{keys}[5] (line 14): `alg` is required"),
                format!("{keys}[5] (line 14): `kty` is required"),
                format!("{keys}[6] (line 15): `kid` is needed when there are several keys"),
                format!("{keys}[7].kid (line 16): kid `a` is used twice"),
            ]
        );
    }

    #[test]
    fn credentials_need_a_source_and_a_valid_header_template() {
        let text = auth(
            "      issuer: i\n      audiences: [a]\n      jwks_url: https://i/k\n      credentials: {}\n",
        );
        assert_eq!(
            errors(&text),
            [
                "tenants.acme.auth.credentials (line 9): give at least one of `header`, `query`, `cookie`"
            ]
        );
        let text = auth(
            "      issuer: i\n      audiences: [a]\n      jwks_url: https://i/k\n      \
             credentials: { header: \"authorization: Bearer\", query: \"\", cookie: sid }\n",
        );
        assert_eq!(
            errors(&text),
            [
                "tenants.acme.auth.credentials.header (line 9): `authorization: Bearer` is not a \
                 header template: write `name: prefix{credentials}`, e.g. `authorization: Bearer \
                 {credentials}`",
                "tenants.acme.auth.credentials.query (line 9): must not be empty",
            ]
        );
    }

    #[test]
    fn auth_durations_and_claims_are_checked() {
        let text = auth(
            "      issuer: i
      audiences: [a]
      jwks_url: https://i/k
      challenge: 0s
      jwks_cache: 0s
      leeway: 0s
      scopes_claim: \"\"
      require_typ: \"\"
",
        );
        let path = "tenants.acme.auth";
        assert_eq!(
            errors(&text),
            [
                format!("{path}.scopes_claim (line 12): must not be empty"),
                format!(
                    "{path}.challenge (line 9): must be more than 0s; leave it out to send no challenge"
                ),
                format!("{path}.require_typ (line 13): must not be empty"),
                format!("{path}.jwks_cache (line 10): must be more than 0s"),
            ]
        );
    }

    #[test]
    fn cors_origins_and_headers_are_checked() {
        let text = tenant(
            "    path_prefix: /t
    cors:
      origins: [\"*\", https://app.example, https://app.example/, \"app.example\", \"http://a:8080\"]
      credentials: true
      allow_headers: [authorization, \"bad header\"]
      expose_headers: [\"x(\"]
",
        );
        let path = "tenants.acme.cors";
        let not_origin = |o: &str| {
            format!(
                "`{o}` is not an origin: write scheme, host and optional port, e.g. `https://app.example.com`"
            )
        };
        assert_eq!(
            errors(&text),
            [
                format!(
                    "{path}.origins[0] (line 6): origin `*` cannot be used with `credentials: true`; list the origins"
                ),
                format!(
                    "{path}.origins[2] (line 6): {}",
                    not_origin("https://app.example/")
                ),
                format!("{path}.origins[3] (line 6): {}", not_origin("app.example")),
                format!("{path}.expose_headers[0] (line 9): `x(` is not a valid header name"),
                format!(
                    "{path}.allow_headers[1] (line 8): `bad header` is not a valid header name"
                ),
            ]
        );
        let text = tenant("    path_prefix: /t\n    cors: { credentials: false }\n");
        assert_eq!(
            errors(&text),
            [format!(
                "{path}.origins (line 5): list at least one origin, or `*`"
            )]
        );
    }

    #[test]
    fn every_fault_in_one_file_is_reported() {
        let text = "version: 1
listeners:
  - address: nowhere
tenants:
  Bad:
    hosts: []
    routes:
      r:
        path: r
        upstream: { url: ftp://u }
        buffer: 0
  good:
    hosts: [g.example]
    auth: { issuer: i, jwks_url: https://i/k }
";
        assert_eq!(
            errors(text),
            [
                "listeners[0].address (line 3): `nowhere` is not an IP:port address, e.g. `0.0.0.0:7143`",
                "tenants.Bad (line 5): tenant name `Bad` must be 1 to 63 characters of a-z, 0-9, \
                 `_` and `-`, starting with a letter or digit",
                "tenants.Bad (line 5): give `hosts`, a `path_prefix`, or both, so requests can reach it",
                "tenants.Bad.routes.r.path (line 9): `r` must start with `/`",
                "tenants.Bad.routes.r (line 8): the route needs a token but tenant `Bad` has no \
                 `auth`: add `auth` to the tenant or set `public: true`",
                "tenants.Bad.routes.r.upstream.url (line 10): `ftp://u` must start with http:// or https://",
                "tenants.Bad.routes.r.buffer (line 11): must be at least 1",
                "tenants.good.auth.audiences (line 14): list at least one audience: without one, \
                 tokens issued for other services would be accepted",
            ]
        );
    }
}
