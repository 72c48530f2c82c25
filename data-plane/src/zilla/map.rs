//! Producing Sluice's model from the read namespace: listeners from tcp servers (with tls and
//! http), one tenant named after the namespace (auth from the jwt guard, CORS from the http
//! server, schemas from catalogs, routes from the chains behind the http servers), and the
//! admin listener from a prometheus exporter.

use std::collections::HashMap;
use std::path::Path;

use serde::de::DeserializeOwned;

use crate::config::{
    Admin, Auth, Config, Cors, Credentials, Duration, HttpVersion, Listener, OrderedMap,
    SchemaVersion, Secret, Tenant, TlsSource, index_path, key_path,
};

use super::chain::{self, Back, Front};
use super::model::{
    AccessControl, Authorization, Binding, Exporter, GuardKeys, HttpServer, Kind, Named, Namespace,
    TlsServer,
};
use super::report::Notes;
use super::routes;

/// Which Sluice settings each Zilla part became, in the order they were first recorded.
#[derive(Debug, Default)]
pub(super) struct Mapping {
    entries: Vec<(String, String, Vec<String>)>,
    /// Position of each part in `entries`, by path.
    index: HashMap<String, usize>,
}

impl Mapping {
    /// Records that the part at `path` (described by `label`) became `target`.
    pub fn add(&mut self, path: &str, label: &str, target: impl Into<String>) {
        let target = target.into();
        let entry = self.index.get(path).and_then(|i| self.entries.get_mut(*i));
        match entry {
            Some((_, _, targets)) if targets.contains(&target) => {}
            Some((_, _, targets)) => targets.push(target),
            None => {
                self.index.insert(path.to_owned(), self.entries.len());
                self.entries
                    .push((path.to_owned(), label.to_owned(), vec![target]));
            }
        }
    }

    fn contains(&self, path: &str) -> bool {
        self.index.contains_key(path)
    }

    /// `bindings.north_tcp_server (tcp server) -> listeners[0]`, one line per part, ordered
    /// by `position` (the part's line in the file).
    pub fn lines(mut self, position: impl Fn(&str) -> Option<usize>) -> Vec<String> {
        self.entries
            .sort_by_key(|(path, _, _)| position(path).unwrap_or(usize::MAX));
        let line = |(path, label, targets): &(String, String, Vec<String>)| {
            format!("{path} ({label}) -> {}", targets.join(", "))
        };
        self.entries.iter().map(line).collect()
    }
}

/// A Sluice type with its defaults, built the way the file reader builds it, so defaults
/// are never restated here.
pub(super) fn with_defaults<T: DeserializeOwned>(required: serde_json::Value) -> T {
    // Invariant: the callers pass exactly the required fields with valid values (covered
    // by `defaults_come_from_the_config_types`), so deserializing cannot fail.
    serde_json::from_value(required).expect("required fields alone deserialize")
}

/// Everything mapping needs, and what it has found so far.
pub(super) struct Builder<'a> {
    pub namespace: &'a Namespace,
    pub base_dir: &'a Path,
    pub notes: &'a mut Notes,
    pub mapping: Mapping,
}

/// Builds the config; findings go to `notes`, and what each part became is returned.
pub(super) fn build(
    namespace: &Namespace,
    base_dir: &Path,
    notes: &mut Notes,
) -> (Config, Mapping) {
    let mut builder = Builder {
        namespace,
        base_dir,
        notes,
        mapping: Mapping::default(),
    };
    let mut config: Config = with_defaults(serde_json::json!({ "version": 1 }));
    let fronts = chain::fronts(namespace, builder.notes);
    config.listeners = builder.listeners(&fronts);
    config.admin = builder.admin();
    if let Some((name, tenant)) = builder.tenant(&fronts) {
        config.tenants.insert(name, tenant);
    }
    builder.unused_parts();
    (config, builder.mapping)
}

// Listeners.
impl Builder<'_> {
    fn listeners(&mut self, fronts: &[Front<'_>]) -> Vec<Listener> {
        let mut listeners: Vec<Listener> = Vec::new();
        for front in fronts {
            let Some(listener) = self.listener(front) else {
                continue;
            };
            let clash = listeners
                .iter()
                .any(|l| l.address == listener.address && !listener.address.ends_with(":0"));
            if clash {
                let what = format!("{} is already a listener", listener.address);
                self.notes
                    .unsupported(format!("{}.options.port", &front.tcp.path), what);
                continue;
            }
            let at = index_path("listeners", listeners.len());
            self.mapping.add(&front.tcp.path, "tcp server", &at);
            if let Some(tls) = front.tls {
                self.mapping
                    .add(&tls.path, "tls server", key_path(&at, "tls"));
                if let Some(vault_path) = self.vault_of(tls).map(|v| v.path.clone()) {
                    let target = format!("{}.tls.keystore", &at);
                    self.mapping.add(&vault_path, "filesystem vault", target);
                }
            }
            self.mapping
                .add(&front.http.path, "http server", key_path(&at, "versions"));
            listeners.push(listener);
        }
        listeners
    }

    fn listener(&mut self, front: &Front<'_>) -> Option<Listener> {
        let address = self.address(front)?;
        let Kind::HttpServer(http) = &front.http.value.kind else {
            return None;
        };
        let (tls, versions) = match front.tls {
            Some(binding) => {
                let Kind::TlsServer(tls) = &binding.value.kind else {
                    return None;
                };
                let source = self.keystore(binding, tls)?;
                (Some(source), self.tls_versions(binding, tls, http)?)
            }
            None => (None, self.cleartext_versions(front.http, http)),
        };
        let mut listener: Listener = with_defaults(serde_json::json!({ "address": address }));
        listener.versions = versions;
        listener.tls = tls;
        Some(listener)
    }

    /// `IP:port` for a tcp server's host and one of its ports.
    fn address(&mut self, front: &Front<'_>) -> Option<String> {
        let host = match front.host {
            "localhost" => {
                self.notes.difference(format!(
                    "{}: host `localhost` is bound as 127.0.0.1 (IPv4 only)",
                    front.tcp.path
                ));
                "127.0.0.1"
            }
            host => host,
        };
        match host.parse::<std::net::IpAddr>() {
            Ok(ip) => Some(std::net::SocketAddr::new(ip, front.port).to_string()),
            Err(_) => {
                let what = format!("`{host}`: a listener binds an IP address, e.g. 0.0.0.0");
                self.notes
                    .unsupported(format!("{}.options.host", &front.tcp.path), what);
                None
            }
        }
    }

    /// The vault a tls server names, when declared.
    fn vault_of(&self, tls: &Named<Binding>) -> Option<&Named<super::model::Vault>> {
        let Kind::TlsServer(options) = &tls.value.kind else {
            return None;
        };
        let name = &options.vault.as_ref()?.name;
        self.namespace.vault(name)
    }

    /// The listener certificate: the PKCS#12 key store of the tls server's vault.
    fn keystore(&mut self, binding: &Named<Binding>, tls: &TlsServer) -> Option<TlsSource> {
        let vault_ref = tls.vault.as_ref()?;
        let Some(vault) = self.namespace.vault(&vault_ref.name) else {
            let what = format!("vault `{}` is not declared", vault_ref.name);
            self.notes.unsupported(&vault_ref.path, what);
            return None;
        };
        if !vault.whole {
            return None;
        }
        let Some(keys) = &vault.value.keys else {
            let what = format!("vault `{}` has no `keys` store", vault_ref.name);
            self.notes.unsupported(&vault_ref.path, what);
            return None;
        };
        self.key_aliases(binding, tls);
        Some(TlsSource::Keystore {
            path: self.base_dir.join(&keys.store),
            password: Secret::new(keys.password.clone().unwrap_or_default()),
        })
    }

    /// Sluice serves the key store's key entry; Zilla picks one by alias and by SNI.
    fn key_aliases(&mut self, binding: &Named<Binding>, tls: &TlsServer) {
        let keys_path = format!("{}.options.keys", &binding.path);
        for extra in 1..tls.keys.len() {
            let what = "Sluice serves one key entry per key store; list one key";
            self.notes.unsupported(index_path(&keys_path, extra), what);
        }
        if let Some(alias) = tls.keys.first() {
            self.notes.difference(format!(
                "{keys_path}: key alias `{alias}` is not looked up: Sluice serves the key \
                 store's first key entry"
            ));
        }
        if !tls.sni.is_empty() {
            self.notes.difference(format!(
                "{}.options.sni is not enforced: Sluice completes the TLS handshake for any \
                 server name and picks the tenant by the request's host",
                binding.path
            ));
        }
    }

    /// ALPN protocols the tls server offers, kept to the http server's versions.
    fn tls_versions(
        &mut self,
        binding: &Named<Binding>,
        tls: &TlsServer,
        http: &HttpServer,
    ) -> Option<Vec<HttpVersion>> {
        let Some(alpn) = &tls.alpn else {
            return Some(http.versions.clone());
        };
        let alpn_path = format!("{}.options.alpn", &binding.path);
        for (i, protocol) in alpn.iter().enumerate() {
            if !matches!(protocol.as_str(), "http/1.1" | "h2") {
                let what = format!("{protocol}: Sluice offers only http/1.1 and h2 by ALPN");
                self.notes.unsupported(index_path(&alpn_path, i), what);
            }
        }
        let offered = |v: &HttpVersion| alpn.iter().any(|p| *p == v.to_string());
        let versions: Vec<HttpVersion> = http.versions.iter().copied().filter(offered).collect();
        if versions.is_empty() {
            let what = "no protocol here is one the http server speaks";
            self.notes.unsupported(alpn_path, what);
            return None;
        }
        Some(versions)
    }

    fn cleartext_versions(
        &mut self,
        binding: &Named<Binding>,
        http: &HttpServer,
    ) -> Vec<HttpVersion> {
        if http.versions.contains(&HttpVersion::H2) {
            self.notes.difference(format!(
                "{}: cleartext h2 is prior-knowledge h2c only; an `Upgrade: h2c` request is \
                 answered over HTTP/1.1",
                binding.path
            ));
        }
        http.versions.clone()
    }
}

// Admin and logs.
impl Builder<'_> {
    fn admin(&mut self) -> Option<Admin> {
        let mut admin = None;
        for exporter in self.namespace.exporters.iter().filter(|e| e.whole) {
            match &exporter.value {
                Exporter::Stdout => {
                    self.mapping
                        .add(&exporter.path, "stdout exporter", "logs on stdout");
                }
                Exporter::Prometheus { port, path } if admin.is_none() => {
                    if path.as_deref().is_some_and(|p| p != "/metrics") {
                        self.notes.difference(format!(
                            "{}: metrics are served at /metrics (with /healthz, /readyz and \
                             /config) on the admin listener",
                            exporter.path
                        ));
                    }
                    self.mapping
                        .add(&exporter.path, "prometheus exporter", "admin.address");
                    admin = Some(Admin {
                        address: format!("0.0.0.0:{port}"),
                    });
                }
                Exporter::Prometheus { .. } => {
                    let what = "Sluice has one admin listener; a second prometheus exporter is \
                                not imported";
                    self.notes.unsupported(&exporter.path, what);
                }
                Exporter::Unsupported => {}
            }
        }
        admin
    }

    /// Records the parts nothing leads to, so every part appears in the report.
    fn unused_parts(&mut self) {
        let namespace = self.namespace;
        for binding in namespace.bindings.iter().filter(|b| b.whole) {
            if !self.mapping.contains(&binding.path) {
                let label = binding.value.kind.label().to_owned();
                self.mapping
                    .add(&binding.path, &label, "nothing: no listener leads to it");
            }
        }
        for guard in namespace.guards.iter().filter(|g| g.whole) {
            if !self.mapping.contains(&guard.path) {
                self.mapping
                    .add(&guard.path, "jwt guard", "nothing: no http server uses it");
            }
        }
        for vault in namespace.vaults.iter().filter(|v| v.whole) {
            if !self.mapping.contains(&vault.path) {
                self.mapping.add(
                    &vault.path,
                    "filesystem vault",
                    "nothing: no tls server uses it",
                );
            }
        }
    }
}

// The tenant.
impl<'a> Builder<'a> {
    fn tenant(&mut self, fronts: &[Front<'a>]) -> Option<(String, Tenant)> {
        let servers = chain::http_servers(self.namespace);
        if servers.is_empty() {
            return None;
        }
        let name = self.tenant_name()?;
        let tenant_path = key_path("tenants", &name);
        let mut tenant: Tenant = with_defaults(serde_json::json!({}));
        let (authorization, cors) = self.server_policies(&servers, &tenant_path);
        tenant.cors = cors;
        let backs: Vec<Back<'_>> = servers
            .iter()
            .flat_map(|http| chain::backs(self.namespace, http, self.notes))
            .collect();
        let guard = routes::tenant_guard(self, &backs, authorization.as_ref());
        tenant.auth = guard.and_then(|(guard, auth)| self.auth(guard, auth, &tenant_path));
        tenant.schemas = self.schemas(&tenant_path);
        let built = routes::build(self, &backs, fronts, &tenant, &tenant_path);
        tenant.routes = built.routes;
        tenant.hosts = built.hosts;
        if tenant.hosts.is_empty() {
            tenant.hosts = self.sni_hosts(fronts);
        }
        self.finish_tenant(name, tenant, &servers)
    }

    fn finish_tenant(
        &mut self,
        name: String,
        tenant: Tenant,
        servers: &[&Named<Binding>],
    ) -> Option<(String, Tenant)> {
        if tenant.hosts.is_empty() {
            let at = servers.first().map_or("bindings", |s| s.path.as_str());
            let what = "no http route names an `:authority` and no tls server lists `sni`: \
                        Sluice picks a tenant by host; add `:authority` to the http routes";
            self.notes.unsupported(key_path(at, "routes"), what);
            return None;
        }
        self.mapping
            .add("name", "namespace", key_path("tenants", &name));
        Some((name, tenant))
    }

    /// The namespace name as a tenant name: lower case, `.` as `-`.
    fn tenant_name(&mut self) -> Option<String> {
        let Some(name) = &self.namespace.name else {
            self.notes
                .unsupported("name", "`name` is required: it becomes the tenant's name");
            return None;
        };
        let converted: String = name
            .chars()
            .map(|c| match c.to_ascii_lowercase() {
                c @ ('a'..='z' | '0'..='9' | '_' | '-') => c,
                _ => '-',
            })
            .collect();
        let valid =
            converted.len() <= 63 && converted.starts_with(|c: char| c.is_ascii_alphanumeric());
        if !valid {
            let what = format!("`{name}` cannot be a tenant name (1 to 63 of a-z, 0-9, `_`, `-`)");
            self.notes.unsupported("name", what);
            return None;
        }
        if converted != *name {
            self.notes
                .difference(format!("name `{name}` becomes tenant `{converted}`"));
        }
        Some(converted)
    }

    /// The hosts a tls server accepts by SNI, for a tenant whose routes name none.
    fn sni_hosts(&mut self, fronts: &[Front<'_>]) -> Vec<String> {
        let mut hosts: Vec<String> = Vec::new();
        for front in fronts {
            let Some(Kind::TlsServer(tls)) = front.tls.map(|t| &t.value.kind) else {
                continue;
            };
            for name in &tls.sni {
                let name = name.to_ascii_lowercase();
                if !hosts.contains(&name) {
                    hosts.push(name);
                }
            }
        }
        if !hosts.is_empty() {
            self.notes.difference(format!(
                "no http route names an `:authority`: the tenant answers on the tls server's \
                 sni names ({})",
                hosts.join(", ")
            ));
        }
        hosts
    }

    /// The authorization and CORS of the http servers, which must agree: Sluice keeps one
    /// of each per tenant.
    fn server_policies(
        &mut self,
        servers: &[&Named<Binding>],
        tenant_path: &str,
    ) -> (Option<Authorization>, Option<Cors>) {
        let mut first: Option<(&Named<Binding>, &HttpServer)> = None;
        for server in servers {
            let Kind::HttpServer(http) = &server.value.kind else {
                continue;
            };
            match first {
                None => first = Some((server, http)),
                Some((seen, seen_http)) => self.same_policies(seen, seen_http, http),
            }
        }
        let Some((server, http)) = first else {
            return (None, None);
        };
        let cors = http.access_control.as_ref().and_then(|control| {
            let path = key_path(&http.options_path, "access-control");
            let cors = self.cors(control, &path)?;
            self.mapping
                .add(&server.path, "http server", key_path(tenant_path, "cors"));
            Some(cors)
        });
        (http.authorization.clone(), cors)
    }

    fn same_policies(&mut self, seen: &Named<Binding>, seen_http: &HttpServer, http: &HttpServer) {
        if http.authorization != seen_http.authorization {
            let what = format!(
                "differs from {}: Sluice applies one authorization per tenant",
                seen.path
            );
            self.notes
                .unsupported(key_path(&http.options_path, "authorization"), what);
        }
        if http.access_control != seen_http.access_control {
            let what = format!(
                "differs from {}: Sluice applies one CORS policy per tenant",
                seen.path
            );
            self.notes
                .unsupported(key_path(&http.options_path, "access-control"), what);
        }
    }

    fn cors(&mut self, control: &AccessControl, path: &str) -> Option<Cors> {
        let AccessControl::CrossOrigin(cross) = control else {
            return None;
        };
        if cross.credentials && cross.origins.is_none() {
            let what = "credentials with any origin: Zilla echoes each origin back; Sluice \
                        needs the allowed origins listed";
            self.notes
                .unsupported(format!("{}.allow.credentials", path), what);
            return None;
        }
        let mut cors: Cors = with_defaults(serde_json::json!({}));
        cors.origins = cross
            .origins
            .clone()
            .unwrap_or_else(|| vec!["*".to_owned()]);
        cors.credentials = cross.credentials;
        cors.max_age = cross.max_age.map(Duration::from_secs);
        cors.expose_headers = cross.expose.clone().unwrap_or_default();
        cors.allow_headers = cross.headers.clone().unwrap_or_default();
        self.cors_differences(cross, path);
        Some(cors)
    }

    fn cors_differences(&mut self, cross: &super::model::CrossOrigin, path: &str) {
        let any_header = cross.headers.is_none();
        let other_method = cross.methods.as_ref().is_none_or(|methods| {
            methods
                .iter()
                .any(|m| !matches!(m.as_str(), "GET" | "POST" | "OPTIONS" | "HEAD"))
        });
        if any_header || other_method {
            self.notes.difference(format!(
                "{path}: a preflight is accepted for GET and POST (the challenge response) with \
                 the headers last-event-id, authorization, content-type, cache-control and \
                 cors.allow_headers; Zilla's also allows {}",
                match (any_header, other_method) {
                    (true, true) => "any method and any request header",
                    (true, false) => "any request header",
                    _ => "the other methods it lists",
                }
            ));
        }
    }

    /// The tenant's auth from `guard` and the http server's credentials.
    fn auth(
        &mut self,
        guard: &Named<super::model::Guard>,
        authorization: Option<Authorization>,
        tenant_path: &str,
    ) -> Option<Auth> {
        let value = &guard.value;
        let issuer = value.issuer.clone()?;
        let mut auth: Auth = with_defaults(serde_json::json!({ "issuer": issuer }));
        auth.audiences = value.audience.iter().cloned().collect();
        match &value.keys {
            GuardKeys::Inline(keys) => auth.keys = keys.clone(),
            GuardKeys::Url(url) => auth.jwks_url = Some(url.clone()),
            GuardKeys::Missing => {
                let what = "`keys` is required: inline JWKs or a JWKS URL";
                self.notes
                    .unsupported(format!("{}.options.keys", &guard.path), what);
                return None;
            }
        }
        auth.challenge = value.challenge.filter(|s| *s > 0).map(Duration::from_secs);
        if let Some(roles) = &value.roles {
            auth.scopes_claim = roles.clone();
        }
        if let Some(identity) = &value.identity {
            auth.subject_claim = identity.clone();
        }
        if let Some(authorization) = authorization {
            auth.credentials = Credentials {
                header: authorization.header,
                query: authorization.query,
                cookie: authorization.cookie,
            };
        }
        self.auth_differences(&auth);
        self.mapping
            .add(&guard.path, "jwt guard", key_path(tenant_path, "auth"));
        Some(auth)
    }

    fn auth_differences(&mut self, auth: &Auth) {
        self.notes.difference(format!(
            "tokens are checked with {} of leeway on `exp` and `nbf` (Sluice's default \
             `leeway`)",
            auth.leeway
        ));
    }

    /// Every subject of every whole catalog, as a schema with one version.
    fn schemas(&mut self, tenant_path: &str) -> OrderedMap<Vec<SchemaVersion>> {
        let mut schemas: OrderedMap<Vec<SchemaVersion>> = OrderedMap::new();
        for catalog in self.namespace.catalogs.iter().filter(|c| c.whole) {
            for subject in &catalog.value.subjects {
                let name = &subject.name;
                if schemas.contains_key(name) || name.contains(['@', ' ']) || name.is_empty() {
                    let what = format!("`{name}` is already a schema, or not a Sluice schema name");
                    self.notes.unsupported(&subject.path, what);
                    continue;
                }
                let version = SchemaVersion {
                    version: subject.version,
                    schema: subject.schema.clone(),
                };
                schemas.insert(name.clone(), vec![version]);
                let target = key_path(&key_path(tenant_path, "schemas"), name);
                self.mapping.add(&catalog.path, "catalog", target);
            }
        }
        schemas
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_come_from_the_config_types() {
        let listener: Listener = with_defaults(serde_json::json!({ "address": "0.0.0.0:1" }));
        assert_eq!(listener.versions, [HttpVersion::Http1, HttpVersion::H2]);
        let auth: Auth = with_defaults(serde_json::json!({ "issuer": "i" }));
        assert_eq!(auth.scopes_claim, "scope");
        assert_eq!(auth.credentials, Credentials::default());
        let cors: Cors = with_defaults(serde_json::json!({}));
        assert!(cors.origins.is_empty());
        let tenant: Tenant = with_defaults(serde_json::json!({}));
        assert!(tenant.routes.is_empty());
        let config: Config = with_defaults(serde_json::json!({ "version": 1 }));
        assert_eq!(config.shutdown_grace, Duration::from_secs(10));
    }

    #[test]
    fn mapping_lines_group_targets_by_part() {
        let mut mapping = Mapping::default();
        mapping.add("bindings.tcp", "tcp server", "listeners[0]");
        mapping.add("bindings.tcp", "tcp server", "listeners[1]");
        mapping.add("bindings.tcp", "tcp server", "listeners[1]");
        mapping.add("name", "namespace", "tenants.a");
        let position = |path: &str| (path == "name").then_some(1);
        let expected = [
            "name (namespace) -> tenants.a",
            "bindings.tcp (tcp server) -> listeners[0], listeners[1]",
        ];
        assert_eq!(mapping.lines(position), expected);
    }
}
