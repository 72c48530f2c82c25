//! The declarative config file (version 1): reading it, `${{env.NAME}}` substitution,
//! deserializing, resolving relative paths, and checking it as a whole, so that every bad
//! setting is reported with its path and line before anything is applied.
//!
//! [`load`] reads a file; [`parse`] does the rest without touching the filesystem. A file
//! that does not deserialize (bad YAML, an unknown key, a wrong type) stops at that first
//! error, since serde cannot continue past it; a file that deserializes is then checked by
//! [`check_config`], which reports every problem it finds.

mod check;
pub(crate) mod env;
mod error;
mod lines;
mod model;
mod ordered;
mod units;

use std::cell::RefCell;
use std::path::Path;

pub use check::check_config;
pub use error::{ConfigError, ConfigErrors, index_path, key_path};
pub use lines::SourceLines;
pub use model::{
    Admin, Auth, Config, Cors, Credentials, HeaderTemplate, HttpVersion, Jwk, Limits, Listener,
    OnInvalid, Route, SchemaRef, SchemaVersion, Secret, Tenant, TlsSource, Upstream, When,
};
pub use ordered::OrderedMap;
pub use units::{Duration, Size, UnitError, parse_duration};

/// The deepest nesting a config file may have (schemas included).
const MAX_DEPTH: usize = 40;

/// The format version this build reads.
pub const VERSION: u32 = 1;

/// Reads and checks the file at `path`, taking `${{env.NAME}}` values from the process
/// environment. Relative paths inside it are resolved against the file's directory.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let cannot_read = |error: std::io::Error| {
        ConfigError::new("", format!("cannot read {}: {error}", path.display()))
    };
    let path = std::path::absolute(path).map_err(cannot_read)?;
    let text = std::fs::read_to_string(&path).map_err(cannot_read)?;
    let base_dir = path.parent().unwrap_or(Path::new("/"));
    let env = |name: &str| std::env::var(name).ok();
    // A Zilla file runs as is: read it into the same model, refusing what it cannot map.
    if crate::zilla::is_zilla(&text) {
        return crate::zilla::import(&text, base_dir, &env, false).map(|import| import.config);
    }
    parse(&text, base_dir, &env)
}

/// Parses and checks `text`. `${{env.NAME}}` takes its value from `env`; relative paths are
/// joined to `base_dir`. Touches no files.
pub fn parse(
    text: &str,
    base_dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<Config, ConfigErrors> {
    let substituted = env::substitute(text, env);
    let index = lines::index(&substituted.text);
    unresolved_references(
        &substituted,
        index.as_ref().map(|(_, spans)| spans.as_slice()),
    )
    .into_result(())?;
    check_version(&substituted.text)?;

    let lines = index.map(|(lines, _)| lines).unwrap_or_default();
    let mut config = deserialize(&substituted.text, &lines)?;
    config.source = lines;
    resolve_paths(&mut config, base_dir);
    check_config(&config)?;
    Ok(config)
}

/// YAML reading rules shared by every pass over the text.
fn yaml_options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    // YAML 1.1 spellings such as `yes`, `on` and `off` are strings, not booleans: `public:
    // yes` is refused instead of guessed, and `heartbeat: off` reads as the word.
    options.strict_booleans = true;
    options.with_snippet = false;
    // Deep nesting recurses in the deserializer; a config never needs more than this, and a
    // hostile file must get an error, not a stack overflow.
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    options.budget = Some(budget);
    options
}

/// Errors for env references left unreplaced. One inside a YAML comment is ignored (a
/// commented-out line may name a variable this host does not set); telling a comment apart
/// needs the text to parse, so when it does not, every one is reported.
fn unresolved_references(
    substituted: &env::Substituted,
    spans: Option<&[lines::ScalarSpan]>,
) -> ConfigErrors {
    let mut errors = ConfigErrors::new();
    for unresolved in &substituted.unresolved {
        let owner = spans.map(|spans| {
            spans
                .iter()
                .filter(|s| (s.start..s.end).contains(&unresolved.offset))
                .min_by_key(|s| s.end - s.start)
        });
        let path = match owner {
            Some(None) => continue,
            Some(Some(span)) => span.path.as_str(),
            None => "",
        };
        let message = match &unresolved.problem {
            env::Problem::Unset(name) => format!("environment variable {name} is not set"),
            env::Problem::Malformed => {
                "malformed environment reference: write ${{env.NAME}}".to_owned()
            }
        };
        errors.push_at(path, Some(unresolved.line), message);
    }
    errors
}

/// Refuses another format version before its keys are read as this one's.
fn check_version(text: &str) -> Result<(), ConfigError> {
    #[derive(serde::Deserialize)]
    struct Probe {
        version: Option<serde_json::Value>,
    }
    let Ok(Probe {
        version: Some(version),
    }) = serde_saphyr::from_str_with_options::<Probe>(text, yaml_options())
    else {
        // Not a mapping, or no version: the full pass says what is wrong.
        return Ok(());
    };
    let message = match version.as_u64() {
        Some(n) if n == u64::from(VERSION) => return Ok(()),
        Some(n) => format!("unsupported version {n}: this build reads version {VERSION}"),
        None => format!("version must be a number: this build reads version {VERSION}"),
    };
    let line = lines::index(text).and_then(|(lines, _)| lines.line_of("version"));
    Err(ConfigError::new("version", message).at_line(line))
}

/// The typed pass. Its first error, if any, comes back with the path serde was at.
fn deserialize(text: &str, lines: &SourceLines) -> Result<Config, ConfigError> {
    let failed_at = RefCell::new(None);
    let result = serde_saphyr::with_deserializer_from_str_with_options(
        text,
        yaml_options(),
        |deserializer| {
            serde_path_to_error::deserialize(deserializer).map_err(|error| {
                failed_at.replace(Some(render_path(error.path())));
                error.into_inner()
            })
        },
    );
    result.map_err(|error| {
        let mut error = yaml_error(&error, failed_at.into_inner().unwrap_or_default());
        // The line of the setting itself reads better than where the parser stopped inside
        // it (the first key of a mapping, say).
        if let Some(line) = lines.exact_line(&error.path) {
            error.line = Some(line);
        }
        error
    })
}

/// Writes a serde path in our path syntax; a segment serde could not name ends it.
fn render_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut rendered = String::new();
    for segment in path {
        rendered = match segment {
            Segment::Seq { index } => index_path(&rendered, *index),
            Segment::Map { key } => key_path(&rendered, key),
            Segment::Enum { .. } => continue,
            Segment::Unknown => break,
        };
    }
    rendered
}

/// Our form of a YAML or serde error: its message without the location suffix, its line.
fn yaml_error(error: &serde_saphyr::Error, path: String) -> ConfigError {
    use serde_saphyr::{DefaultMessageFormatter, Error, MessageFormatter};
    let error = error.without_snippet();
    let message = match error {
        Error::MultipleDocuments { .. } => "the file holds more than one YAML document".into(),
        Error::Eof { .. } if path.is_empty() => "the file is empty".into(),
        _ => DefaultMessageFormatter.format_message(error).into_owned(),
    };
    let line = error
        .location()
        .and_then(|l| usize::try_from(l.line()).ok());
    ConfigError::new(path, message).at_line(line.filter(|l| *l > 0))
}

/// Joins every relative file path in `config` to `base_dir`.
fn resolve_paths(config: &mut Config, base_dir: &Path) {
    let resolve_tls = |tls: &mut TlsSource| match tls {
        TlsSource::Pem {
            certificate,
            private_key,
        } => {
            *certificate = base_dir.join(&*certificate);
            *private_key = base_dir.join(&*private_key);
        }
        TlsSource::Keystore { path, .. } => *path = base_dir.join(&*path),
    };
    for listener in &mut config.listeners {
        if let Some(tls) = &mut listener.tls {
            resolve_tls(tls);
        }
    }
    for (_, tenant) in config.tenants.iter_mut() {
        if let Some(tls) = &mut tenant.tls {
            resolve_tls(tls);
        }
        for (_, route) in tenant.routes.iter_mut() {
            if let Some(files) = &mut route.files {
                *files = base_dir.join(&*files);
            }
            if let Some(ca) = route.upstream.as_mut().and_then(|u| u.ca.as_mut()) {
                *ca = base_dir.join(&*ca);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    /// The example from DESIGN.md section 5, as written there.
    const DESIGN_EXAMPLE: &str = r#"version: 1
listeners:                      # standalone only; a managed node takes these from flags
  - address: 0.0.0.0:7143
    versions: [http/1.1, h2]    # default both; cleartext h2 is prior-knowledge h2c
    tls:                        # optional; PEM pair or a PKCS#12 keystore
      certificate: tls/server.pem
      private_key: tls/server.key
      # keystore: { path: tls/localhost.p12, password: "${{env.KEYSTORE_PASSWORD}}" }
admin:
  address: 127.0.0.1:9090       # /healthz /readyz /metrics
tenants:
  acme:
    hosts: [acme.localhost, "*.acme.example"]   # or path_prefix: /t/acme
    tls: { certificate: tls/acme.pem, private_key: tls/acme.key }   # optional, chosen by SNI
    auth:
      issuer: https://auth.example.com
      audiences: [https://api.example.com]
      keys: [ { kty: RSA, kid: k1, alg: RS256, n: "...", e: AQAB } ]   # and/or jwks_url
      credentials: { header: "authorization: Bearer {credentials}", query: access_token }
      scopes_claim: scope       # space-separated string or array
      subject_claim: sub
      leeway: 30s
      challenge: 10s            # send `event: challenge` this long before exp
      require_typ: at+jwt       # optional: accept only RFC 9068 access tokens
    cors: { origins: ["https://app.acme.example"], credentials: true, max_age: 10m }
    limits: { max_streams: 10000, max_streams_per_subject: 20, new_streams_per_second: 500 }
    schemas:
      order:
        - version: 1
          schema: { type: object, required: [id], properties: { id: { type: integer } } }
    routes:
      orders:
        path: /orders/{region}
        public: false           # true: no token needed
        scopes: [orders:read]   # all required
        upstream:
          url: http://127.0.0.1:8001/stream/{region}
          version: http/1.1     # or h2
          connect_timeout: 5s
          headers: { x-sluice-tenant: "{tenant}", x-sluice-subject: "{subject}" }
        events: { order.created: order@1, "*": order@latest }
        on_invalid: drop        # or close
        retry: 3s               # sent as `retry:` when the stream opens
        heartbeat: 15s          # `:` comment after this much silence
"#;

    fn env(name: &str) -> Option<String> {
        (name == "KEYSTORE_PASSWORD").then(|| "changeit".to_owned())
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    fn parse_ok(text: &str) -> Config {
        match parse(text, Path::new("/etc/sluice"), &env) {
            Ok(config) => config,
            Err(errors) => panic!("unexpected errors:\n{errors}"),
        }
    }

    /// The errors of `text`, each as its display line.
    fn errors_of(text: &str) -> Vec<String> {
        let errors = parse(text, Path::new("/etc/sluice"), &env).expect_err("should fail");
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn design_example_parses_with_exact_values() {
        let config = parse_ok(DESIGN_EXAMPLE);
        assert_eq!(config.version, 1);
        assert_eq!(config.shutdown_grace, Duration::from_secs(10));
        let listener = &config.listeners[0];
        assert_eq!(listener.address, "0.0.0.0:7143");
        assert_eq!(listener.versions, [HttpVersion::Http1, HttpVersion::H2]);
        let pem = TlsSource::Pem {
            certificate: PathBuf::from("/etc/sluice/tls/server.pem"),
            private_key: PathBuf::from("/etc/sluice/tls/server.key"),
        };
        assert_eq!(listener.tls, Some(pem));
        assert_eq!(
            config.admin,
            Some(Admin {
                address: "127.0.0.1:9090".into()
            })
        );
        assert_eq!(config.tenants.keys().collect::<Vec<_>>(), ["acme"]);
    }

    #[test]
    fn design_example_tenant_has_exact_values() {
        let config = parse_ok(DESIGN_EXAMPLE);
        let acme = config.tenants.get("acme").expect("acme is declared");
        assert_eq!(acme.hosts, ["acme.localhost", "*.acme.example"]);
        assert_eq!(acme.path_prefix, None);
        let pem = TlsSource::Pem {
            certificate: PathBuf::from("/etc/sluice/tls/acme.pem"),
            private_key: PathBuf::from("/etc/sluice/tls/acme.key"),
        };
        assert_eq!(acme.tls, Some(pem));
        let cors = Cors {
            origins: vec!["https://app.acme.example".into()],
            credentials: true,
            max_age: Some(Duration::from_secs(600)),
            expose_headers: vec![],
            allow_headers: vec![],
        };
        assert_eq!(acme.cors, Some(cors));
        let limits = Limits {
            max_streams: Some(10_000),
            max_streams_per_subject: Some(20),
            new_streams_per_second: Some(500),
        };
        assert_eq!(acme.limits, Some(limits));
        let order = acme.schemas.get("order").expect("order is declared");
        let schema = serde_json::json!({
            "type": "object", "required": ["id"], "properties": { "id": { "type": "integer" } }
        });
        assert_eq!(order, &[SchemaVersion { version: 1, schema }]);
    }

    #[test]
    fn design_example_auth_has_exact_values() {
        let config = parse_ok(DESIGN_EXAMPLE);
        let auth = config
            .tenants
            .get("acme")
            .and_then(|t| t.auth.as_ref())
            .expect("auth");
        assert_eq!(auth.issuer, "https://auth.example.com");
        assert_eq!(auth.audiences, ["https://api.example.com"]);
        let key = Jwk {
            kty: Some("RSA".into()),
            kid: Some("k1".into()),
            alg: Some("RS256".into()),
            n: Some("...".into()),
            e: Some("AQAB".into()),
            ..Jwk::default()
        };
        assert_eq!(auth.keys, [key]);
        assert_eq!(auth.jwks_url, None);
        let credentials = Credentials {
            header: Some("authorization: Bearer {credentials}".into()),
            query: Some("access_token".into()),
            cookie: None,
        };
        assert_eq!(auth.credentials, credentials);
        assert_eq!(auth.scopes_claim, "scope");
        assert_eq!(auth.subject_claim, "sub");
        assert_eq!(auth.leeway, Duration::from_secs(30));
        assert_eq!(auth.challenge, Some(Duration::from_secs(10)));
        assert_eq!(auth.require_typ.as_deref(), Some("at+jwt"));
        assert_eq!(auth.jwks_cache, Duration::from_secs(300));
    }

    #[test]
    fn design_example_route_has_exact_values() {
        let config = parse_ok(DESIGN_EXAMPLE);
        let acme = config.tenants.get("acme").expect("acme is declared");
        let route = acme.routes.get("orders").expect("orders is declared");
        assert_eq!(route.path, "/orders/{region}");
        assert!(!route.public);
        assert_eq!(route.scopes, ["orders:read"]);
        assert_eq!(route.when, None);
        let events: Vec<_> = route.events.iter().collect();
        assert_eq!(
            events,
            [
                ("order.created", &"order@1".into()),
                ("*", &"order@latest".into())
            ]
        );
        assert_eq!(route.on_invalid, OnInvalid::Drop);
        assert_eq!(route.retry, Some(Duration::from_secs(3)));
        assert_eq!(route.heartbeat, Some(Duration::from_secs(15)));
        assert_eq!(route.last_event_id_query, "lastEventId");
        assert_eq!(route.max_event_size, Size::from_bytes(1_048_576));
        assert_eq!(route.buffer, 64);
        let upstream = route.upstream.as_ref().expect("a stream route");
        assert_eq!(upstream.url, "http://127.0.0.1:8001/stream/{region}");
        assert_eq!(upstream.version, HttpVersion::Http1);
        assert_eq!(upstream.connect_timeout, Duration::from_secs(5));
        assert_eq!(upstream.response_timeout, Duration::from_secs(10));
        let headers: Vec<_> = upstream.headers.iter().collect();
        let expected = [
            ("x-sluice-tenant", &"{tenant}".into()),
            ("x-sluice-subject", &"{subject}".into()),
        ];
        assert_eq!(headers, expected);
        assert_eq!(upstream.ca, None);
    }

    #[test]
    fn design_example_knows_its_lines() {
        let config = parse_ok(DESIGN_EXAMPLE);
        assert_eq!(
            config.line_of("tenants.acme.routes.orders.upstream.url"),
            Some(37)
        );
        assert_eq!(
            config.line_of("tenants.acme.routes.orders.buffer"),
            Some(32)
        );
    }

    #[test]
    fn keystore_password_comes_from_the_environment() {
        let text = DESIGN_EXAMPLE
            .replace(
                "      certificate: tls/server.pem\n      private_key: tls/server.key\n",
                "",
            )
            .replace("      # keystore:", "      keystore:");
        let config = parse_ok(&text);
        let keystore = config.listeners[0].tls.as_ref().expect("tls is set");
        let TlsSource::Keystore { path, password } = keystore else {
            panic!("expected a keystore, got {keystore:?}");
        };
        assert_eq!(path, Path::new("/etc/sluice/tls/localhost.p12"));
        assert_eq!(password.expose(), "changeit");
    }

    #[test]
    fn an_unset_variable_is_an_error_with_path_and_line() {
        let text = DESIGN_EXAMPLE
            .replace(
                "      certificate: tls/server.pem\n      private_key: tls/server.key\n",
                "",
            )
            .replace("      # keystore:", "      keystore:");
        let errors = parse(&text, Path::new("/etc"), &no_env).expect_err("should fail");
        let expected = "listeners[0].tls.keystore.password (line 6): \
                        environment variable KEYSTORE_PASSWORD is not set";
        assert_eq!(errors.to_string(), expected);
    }

    #[test]
    fn an_unset_variable_in_a_comment_is_ignored() {
        let config = parse(DESIGN_EXAMPLE, Path::new("/etc"), &no_env).expect("should succeed");
        assert_eq!(config.listeners.len(), 1);
    }

    #[test]
    fn unset_variables_are_all_reported_even_when_the_yaml_breaks() {
        let text = "version: 1\nadmin: { address: ${{env.ADMIN}} }\nx: ${{env.OTHER}}\n";
        let errors = parse(text, Path::new("/etc"), &no_env).expect_err("should fail");
        let expected = "line 2: environment variable ADMIN is not set\n\
                        line 3: environment variable OTHER is not set";
        assert_eq!(errors.to_string(), expected);
    }

    #[test]
    fn a_malformed_reference_is_an_error() {
        let errors = errors_of("version: 1\nadmin:\n  address: ${{env.ADMIN}\n");
        assert_eq!(
            errors,
            ["admin.address (line 3): malformed environment reference: write ${{env.NAME}}"]
        );
    }

    #[test]
    fn an_unknown_key_is_reported_with_path_and_line() {
        let text = "version: 1\ntenants:\n  acme:\n    hosts: [a.example]\n    rotues: {}\n";
        let errors = errors_of(text);
        let expected = "tenants.acme.rotues (line 5): unknown field `rotues`, expected one of \
                        hosts, path_prefix, tls, auth, cors, limits, schemas, routes";
        assert_eq!(errors, [expected]);
    }

    #[test]
    fn a_wrong_type_is_reported_with_path_and_line() {
        let text = "version: 1\nlisteners:\n  - address: 0.0.0.0:1\n    versions: [h3]\n";
        let errors = errors_of(text);
        let expected = "listeners[0].versions[0] (line 4): unknown variant `h3`, expected one \
                        of http/1.1, h2";
        assert_eq!(errors, [expected]);
    }

    #[test]
    fn a_yaml_1_1_boolean_is_refused() {
        let text = "version: 1\ntenants:\n  acme:\n    hosts: [a]\n    routes:\n      r:\n        \
                    path: /\n        public: yes\n        upstream: { url: http://u }\n";
        let errors = errors_of(text);
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with("tenants.acme.routes.r.public (line 8): "),
            "{errors:?}"
        );
    }

    #[test]
    fn a_bad_duration_is_reported_with_path_and_line() {
        let text = "version: 1\nshutdown_grace: 10\n";
        let expected =
            "shutdown_grace (line 2): duration `10` has no unit: write e.g. `10s` or `10ms`";
        assert_eq!(errors_of(text), [expected]);
    }

    #[test]
    fn both_tls_forms_are_refused() {
        let text = "version: 1\nlisteners:\n  - address: 0.0.0.0:1\n    tls:\n      \
                    certificate: a.pem\n      private_key: a.key\n      \
                    keystore: { path: a.p12, password: x }\n";
        let errors = errors_of(text);
        let expected = "listeners[0].tls (line 4): give either `certificate` and `private_key`, \
                        or `keystore`, not both";
        assert_eq!(errors, [expected]);
    }

    #[test]
    fn half_a_pem_pair_is_refused() {
        let text =
            "version: 1\nlisteners:\n  - address: 0.0.0.0:1\n    tls: { certificate: a.pem }\n";
        let errors = errors_of(text);
        assert_eq!(
            errors,
            ["listeners[0].tls (line 4): `certificate` needs `private_key` too"]
        );
    }

    #[test]
    fn another_version_is_refused_before_its_keys_are_read() {
        let errors = errors_of("# v2\nversion: 2\nfuture_key: {}\n");
        assert_eq!(
            errors,
            ["version (line 2): unsupported version 2: this build reads version 1"]
        );
    }

    #[test]
    fn a_version_that_is_not_a_number_is_refused() {
        let errors = errors_of("version: \"1\"\n");
        assert_eq!(
            errors,
            ["version (line 1): version must be a number: this build reads version 1"]
        );
    }

    #[test]
    fn a_missing_version_is_reported() {
        assert_eq!(
            errors_of("tenants: {}\n"),
            ["line 1: missing field `version`"]
        );
    }

    #[test]
    fn empty_and_multi_document_files_are_refused() {
        assert_eq!(errors_of(""), ["line 1: the file is empty"]);
        let errors = errors_of("version: 1\n---\nversion: 1\n");
        assert_eq!(
            errors,
            ["line 3: the file holds more than one YAML document"]
        );
    }

    #[test]
    fn duplicate_keys_are_refused() {
        let errors =
            errors_of("version: 1\ntenants:\n  a:\n    hosts: [x]\n  a:\n    hosts: [y]\n");
        assert_eq!(errors.len(), 1);
        assert!(
            errors[0].starts_with("tenants (line 5): duplicate mapping key"),
            "{errors:?}"
        );
    }

    #[test]
    fn relative_paths_resolve_against_the_base_directory() {
        let text = "version: 1\nlisteners:\n  - address: 0.0.0.0:1\n    tls: { keystore: { path: ks.p12, password: x } }\n\
                    tenants:\n  t:\n    hosts: [t]\n    tls: { certificate: /abs/t.pem, private_key: ../k/t.key }\n    \
                    routes:\n      r:\n        path: /\n        public: true\n        \
                    upstream: { url: https://u, ca: certs/ca.pem }\n";
        let config = parse(text, Path::new("/srv/conf"), &no_env).expect("should succeed");
        let Some(TlsSource::Keystore { path, .. }) = &config.listeners[0].tls else {
            panic!("expected a keystore");
        };
        assert_eq!(path, Path::new("/srv/conf/ks.p12"));
        let tenant = config.tenants.get("t").expect("t is declared");
        let pem = TlsSource::Pem {
            certificate: PathBuf::from("/abs/t.pem"),
            private_key: PathBuf::from("/srv/conf/../k/t.key"),
        };
        assert_eq!(tenant.tls, Some(pem));
        let route = tenant.routes.get("r").expect("r is declared");
        assert_eq!(
            route.upstream.as_ref().and_then(|u| u.ca.clone()),
            Some(PathBuf::from("/srv/conf/certs/ca.pem"))
        );
    }

    #[test]
    fn a_minimal_file_takes_every_default() {
        let text = "version: 1\ntenants:\n  t:\n    path_prefix: /t/t\n    routes:\n      r:\n        \
                    path: /events\n        public: true\n        upstream: { url: http://u }\n";
        let config = parse_ok(text);
        assert_eq!(config.listeners, []);
        assert_eq!(config.admin, None);
        let tenant = config.tenants.get("t").expect("t is declared");
        assert!(tenant.auth.is_none() && tenant.cors.is_none() && tenant.limits.is_none());
        let route = tenant.routes.get("r").expect("r is declared");
        assert_eq!(route.on_invalid, OnInvalid::Drop);
        assert_eq!(route.heartbeat, Some(Duration::from_secs(15)));
        assert_eq!(route.max_event_size, Size::MIB);
        let upstream = route.upstream.as_ref().expect("a stream route");
        assert_eq!(upstream.version, HttpVersion::Http1);
        assert!(route.events.is_empty() && upstream.headers.is_empty());
    }

    #[test]
    fn heartbeat_off_disables_it() {
        let text = "version: 1\ntenants:\n  t:\n    path_prefix: /t/t\n    routes:\n      r:\n        \
                    path: /\n        public: true\n        heartbeat: off\n        upstream: { url: http://u }\n";
        let config = parse_ok(text);
        let route = config
            .tenants
            .get("t")
            .and_then(|t| t.routes.get("r"))
            .expect("route");
        assert_eq!(route.heartbeat, None);
    }

    #[test]
    fn tenants_and_routes_keep_declared_order() {
        let text = "version: 1\ntenants:\n  zeta: { path_prefix: /z }\n  alpha: { path_prefix: /a }\n  \
                    mid: { path_prefix: /m }\n";
        let config = parse_ok(text);
        assert_eq!(
            config.tenants.keys().collect::<Vec<_>>(),
            ["zeta", "alpha", "mid"]
        );
    }

    #[test]
    fn load_reads_the_file_and_resolves_against_its_directory() {
        let dir = std::env::temp_dir().join(format!("sluice-config-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("sluice.yaml");
        let text = "version: 1\nlisteners:\n  - address: 0.0.0.0:1\n    tls: { certificate: c.pem, private_key: k.pem }\n";
        std::fs::write(&file, text).expect("write config");
        let config = load(&file);
        std::fs::remove_dir_all(&dir).expect("clean up");
        let pem = TlsSource::Pem {
            certificate: dir.join("c.pem"),
            private_key: dir.join("k.pem"),
        };
        assert_eq!(config.expect("should succeed").listeners[0].tls, Some(pem));
    }

    #[test]
    fn load_reports_a_missing_file() {
        let errors = load(Path::new("/nonexistent/sluice.yaml")).expect_err("should fail");
        assert_eq!(errors.len(), 1);
        let message = errors.to_string();
        assert!(
            message.starts_with("cannot read /nonexistent/sluice.yaml: "),
            "{message}"
        );
    }
}
