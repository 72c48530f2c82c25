//! Tests of the whole import: the seed `zilla.yaml` maps to an exact config, the rendered
//! file reads back equal, every unsupported or broken construct of a corpus is an error at
//! its path (or a report entry with `allow_partial`), and no input panics.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use super::*;
use crate::config::{Credentials, Duration, HttpVersion, Jwk, Secret, TlsSource, parse};

/// The seed scenario, byte for byte.
const SEED: &str = include_str!("../../../examples/zilla/zilla.yaml");

const BASE: &str = "/etc/zilla";

fn env(name: &str) -> Option<String> {
    (name == "KEYSTORE_PASSWORD").then(|| "changeit".to_owned())
}

fn import_ok(text: &str) -> Import {
    match import(text, Path::new(BASE), &env, false) {
        Ok(import) => import,
        Err(errors) => panic!("unexpected errors:\n{errors}"),
    }
}

/// The seed with `from` replaced by `to`, which must be there.
fn seed_with(from: &str, to: &str) -> String {
    assert!(SEED.contains(from), "the seed holds {from:?}");
    SEED.replacen(from, to, 1)
}

/// Reads a rendered file back, without the source lines it records.
fn read_back(text: &str) -> Config {
    let mut config = match parse(text, Path::new("/elsewhere"), &env) {
        Ok(config) => config,
        Err(errors) => panic!("rendered file does not parse:\n{errors}\n{text}"),
    };
    config.source = Default::default();
    config
}

#[test]
fn the_seed_is_detected_as_zilla() {
    assert!(is_zilla(SEED));
    assert!(!is_zilla("version: 1\ntenants: {}\n"));
    assert!(!is_zilla("version: 1\nbindings: {}\n"));
    assert!(is_zilla("name: x\nbindings: {}\n"));
    assert!(!is_zilla("name: x\nbindings: [a]\n"));
    assert!(!is_zilla("bindings: {"));
    assert!(!is_zilla(""));
}

#[test]
fn the_seed_gives_one_tls_listener_with_its_keystore() {
    let config = import_ok(SEED).config;
    assert_eq!(config.listeners.len(), 1);
    let listener = &config.listeners[0];
    assert_eq!(listener.address, "0.0.0.0:7143");
    assert_eq!(listener.versions, [HttpVersion::H2]);
    let keystore = TlsSource::Keystore {
        path: PathBuf::from("/etc/zilla/tls/localhost.p12"),
        password: Secret::new("changeit"),
    };
    assert_eq!(listener.tls, Some(keystore));
    assert_eq!(config.admin, None);
}

#[test]
fn the_seed_gives_tenant_example_with_its_guard_as_auth() {
    let config = import_ok(SEED).config;
    assert_eq!(config.tenants.keys().collect::<Vec<_>>(), ["example"]);
    let tenant = config.tenants.get("example").expect("tenant");
    assert_eq!(tenant.hosts, ["localhost"]);
    let auth = tenant.auth.as_ref().expect("auth");
    assert_eq!(auth.issuer, "https://auth.example.com");
    assert_eq!(auth.audiences, ["https://api.example.com"]);
    let rsa = Jwk {
        kty: Some("RSA".into()),
        kid: Some("example".into()),
        alg: Some("RS256".into()),
        n: Some(SEED_RSA_N.into()),
        e: Some("AQAB".into()),
        ..Jwk::default()
    };
    let ec = Jwk {
        kty: Some("EC".into()),
        kid: Some("example_ec".into()),
        alg: Some("ES256".into()),
        crv: Some("P-256".into()),
        x: Some("f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU".into()),
        y: Some("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0".into()),
        ..Jwk::default()
    };
    assert_eq!(auth.keys, [rsa, ec]);
    assert_eq!(auth.challenge, Some(Duration::from_secs(10)));
    let credentials = Credentials {
        header: Some("authorization: Bearer {credentials}".into()),
        query: Some("access_token".into()),
        cookie: None,
    };
    assert_eq!(auth.credentials, credentials);
    assert_eq!(auth.scopes_claim, "scope");
    assert_eq!(auth.subject_claim, "sub");
    let cors = tenant.cors.as_ref().expect("cors");
    assert_eq!(cors.origins, ["*"]);
    assert!(!cors.credentials);
}

const SEED_RSA_N: &str = "qqEu50hX+43Bx4W1UYWnAVKwFm+vDbP0kuIOSLVNa+HKQdHTf+3Sei5UCnkskn796izA29D0DdCy3ET9oaKRHIJyKbqFl0rv6f516QzOoXKC6N01sXBHBE/ovs0wwDvlaW+gFGPgkzdcfUlyrWLDnLV7LcuQymhTND2uH0oR3wJnNENN/OFgM1KGPPDOe19YsIKdLqARgxrhZVsh06OurEviZTXOBFI5r+yac7haDwOQhLHXNv+Y9MNvxs5QLWPFIM3bNUWfYrJnLrs4hGJS+y/KDM9Si+HL30QAFXy4YNO33J8DHjZ7ddG5n8/FqplOKvRtUgjcKWlxoGY4VdVaDQ==";

#[test]
fn the_seed_gives_a_guarded_stream_route_and_a_public_files_route() {
    let config = import_ok(SEED).config;
    let tenant = config.tenants.get("example").expect("tenant");
    assert_eq!(
        tenant.routes.keys().collect::<Vec<_>>(),
        ["events", "files"]
    );
    let events = tenant.routes.get("events").expect("events");
    assert_eq!(events.path, "/events");
    assert!(!events.public);
    assert_eq!(events.scopes, ["proxy:stream"]);
    assert_eq!(events.when, None);
    assert_eq!(events.files, None);
    let upstream = events.upstream.as_ref().expect("upstream");
    assert_eq!(upstream.url, "http://sse-server:8001/events");
    assert_eq!(upstream.version, HttpVersion::Http1);
    let files = tenant.routes.get("files").expect("files");
    assert_eq!(files.path, "/{path}");
    assert!(files.public);
    assert_eq!(files.upstream, None);
    assert_eq!(files.files, Some(PathBuf::from("/var/www/")));
}

/// The whole seed import, as Sluice's own file would say it.
const SEED_AS_SLUICE: &str = r#"version: 1
listeners:
  - address: 0.0.0.0:7143
    versions: [h2]
    tls: { keystore: { path: tls/localhost.p12, password: "${{env.KEYSTORE_PASSWORD}}" } }
tenants:
  example:
    hosts: [localhost]
    auth:
      issuer: https://auth.example.com
      audiences: [https://api.example.com]
      keys:
        - { kty: RSA, kid: example, alg: RS256, e: AQAB, n: "RSA_N" }
        - kty: EC
          crv: P-256
          x: f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU
          y: x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0
          alg: ES256
          kid: example_ec
      credentials: { header: "authorization: Bearer {credentials}", query: access_token }
      challenge: 10s
    cors: { origins: ["*"] }
    routes:
      events:
        path: /events
        scopes: ["proxy:stream"]
        upstream: { url: "http://sse-server:8001/events" }
      files:
        path: /{path}
        public: true
        files: /var/www/
"#;

#[test]
fn the_seed_imports_to_exactly_the_equivalent_declarative_file() {
    let expected = SEED_AS_SLUICE.replace("RSA_N", SEED_RSA_N);
    let mut expected = parse(&expected, Path::new(BASE), &env).expect("the expectation parses");
    expected.source = Default::default();
    assert_eq!(import_ok(SEED).config, expected);
}

#[test]
fn the_seed_report_maps_every_part_and_lists_the_differences() {
    let report = import_ok(SEED).report;
    assert_eq!(report.unsupported, []);
    let mapped = [
        "name (namespace) -> tenants.example",
        "vaults.my_servers (filesystem vault) -> listeners[0].tls.keystore",
        "guards.authn_jwt (jwt guard) -> tenants.example.auth",
        "bindings.north_tcp_server (tcp server) -> listeners[0]",
        "bindings.north_tls_server (tls server) -> listeners[0].tls",
        "bindings.north_http_server (http server) -> listeners[0].versions, tenants.example.cors, \
         tenants.example.routes.events, tenants.example.routes.files",
        "bindings.east_http_filesystem_mapping (http-filesystem proxy) -> \
         tenants.example.routes.files",
        "bindings.east_filesystem_server (filesystem server) -> tenants.example.routes.files.files",
        "bindings.north_sse_server (sse server) -> tenants.example.routes.events",
        "bindings.south_sse_client (sse client) -> tenants.example.routes.events.upstream",
        "bindings.south_http_client (http client) -> tenants.example.routes.events.upstream.version",
        "bindings.south_tcp_client (tcp client) -> tenants.example.routes.events.upstream.url",
        "telemetry.exporters.stdout_logs_exporter (stdout exporter) -> logs on stdout",
    ];
    assert_eq!(report.mapped, mapped);
    let has = |needle: &str| report.differences.iter().any(|d| d.contains(needle));
    assert!(has("gets 401"), "{:#?}", report.differences);
    assert!(has("where Zilla answers 404"));
    assert!(has("refused with 400"));
    assert!(has("files in subfolders are not served"));
    assert!(has(
        "`:authority: localhost:7143` becomes tenant host `localhost`"
    ));
    assert!(has("key alias `localhost` is not looked up"));
    assert!(has("Zilla passes on the client's `:authority`"));
}

#[test]
fn the_rendered_seed_reads_back_to_the_same_config() {
    let config = import_ok(SEED).config;
    let text = render_yaml(&config);
    assert!(
        text.starts_with("version: 1\nlisteners:\n  - address: \"0.0.0.0:7143\"\n"),
        "{text}"
    );
    assert_eq!(read_back(&text), config);
}

#[test]
fn secrets_kept_as_references_render_as_references() {
    let kept = import(SEED, Path::new(BASE), &keep_env_references, false).expect("imports");
    let text = render_yaml(&kept.config);
    assert!(
        text.contains("password: \"${{env.KEYSTORE_PASSWORD}}\""),
        "{text}"
    );
    assert!(!text.contains("changeit"));
    assert_eq!(read_back(&text), import_ok(SEED).config);
}

#[test]
fn an_unset_variable_is_an_error_at_its_setting() {
    let errors = import(SEED, Path::new(BASE), &|_| None, true).expect_err("fails");
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "vaults.my_servers.options.keys.password (line 10): environment variable \
          KEYSTORE_PASSWORD is not set"
        ]
    );
    let commented = format!("# ${{{{env.NOT_SET}}}}\n{SEED}");
    assert!(import(&commented, Path::new(BASE), &env, false).is_ok());
}

#[test]
fn bad_yaml_and_a_non_mapping_are_errors_even_when_partial() {
    for text in ["name: [", "- a\n- b\n", "42", ""] {
        let result = import(text, Path::new(BASE), &env, true);
        assert!(result.is_err(), "{text:?}");
    }
}

/// A broken or unsupported seed variant, the path its error names, and words of the message.
struct Case {
    text: String,
    path: &'static str,
    says: &'static str,
}

fn case(text: String, path: &'static str, says: &'static str) -> Case {
    Case { text, path, says }
}

const KAFKA: &str = "  south_kafka_client:
    type: kafka
    kind: client
    options:
      bootstrap: [localhost:9092]
";

fn corpus() -> Vec<Case> {
    vec![
        case(
            seed_with("bindings:\n", &format!("bindings:\n{KAFKA}")),
            "bindings.south_kafka_client.type",
            "kafka",
        ),
        case(
            seed_with(
                "type: http\n    kind: server",
                "type: http\n    kind: proxy",
            ),
            "bindings.north_http_server.kind",
            "http proxy",
        ),
        case(
            seed_with(
                "    exit: south_tcp_client\n",
                "    exit: south_tls_client\n  south_tls_client:\n    type: tls\n    kind: client\n    \
                 exit: south_tcp_client\n",
            ),
            "bindings.south_tls_client.kind",
            "tls client",
        ),
        case(
            seed_with(
                "      port: 7143\n",
                "      port: 7143\n      backlog: 100\n",
            ),
            "bindings.north_tcp_server.options.backlog",
            "`backlog` is not imported",
        ),
        case(
            seed_with(
                "    type: filesystem\n    options:\n      keys:",
                "    type: aws\n    options:\n      keys:",
            ),
            "vaults.my_servers.type",
            "aws",
        ),
        case(
            seed_with("    type: jwt\n", "    type: oauth\n"),
            "guards.authn_jwt.type",
            "oauth",
        ),
        case(
            seed_with("    exit: south_http_client\n", "    exit: south_nowhere\n"),
            "bindings.south_sse_client.exit",
            "exit `south_nowhere` names no binding",
        ),
        case(
            seed_with(
                "    exit: south_http_client\n",
                "    exit: north_sse_server\n",
            ),
            "bindings.south_sse_client.exit",
            "cycle: north_sse_server -> south_sse_client -> north_sse_server",
        ),
        case(
            seed_with("      alpn:\n", "      mutual: required\n      alpn:\n"),
            "bindings.north_tls_server.options.mutual",
            "client certificates",
        ),
        case(
            seed_with(":path: /events", ":path: /ev*nts"),
            "bindings.north_http_server.routes[0].when[0]",
            "whole path segments",
        ),
        case(
            seed_with(
                ":path: /events",
                ":path: /events\n              :method: POST",
            ),
            "bindings.north_http_server.routes[0].when[0].headers.:method",
            "streams on GET",
        ),
        case(
            seed_with("      audience: https://api.example.com\n", ""),
            "guards.authn_jwt.options.audience",
            "`audience` is required",
        ),
        case(
            seed_with("        type: pkcs12\n", "        type: jks\n"),
            "vaults.my_servers.options.keys.type",
            "PKCS#12",
        ),
        case(
            format!("{SEED}\n    otlp_exporter:\n      type: otlp\n"),
            "telemetry.exporters.otlp_exporter.type",
            "otlp",
        ),
        case(
            format!("{SEED}\nstores:\n  memory:\n    type: memory\n"),
            "stores",
            "`stores` is not imported",
        ),
        case(
            seed_with("      port: 7143\n", "      port: 70000\n"),
            "bindings.north_tcp_server.options.port",
            "0 to 65535",
        ),
        case(
            seed_with("      challenge: 10\n", "      challenge: soon\n"),
            "guards.authn_jwt.options.challenge",
            "expected a whole number",
        ),
        case(
            seed_with(
                "          authn_jwt:\n            - proxy:stream",
                "          other_jwt:\n            - proxy:stream",
            ),
            "bindings.north_sse_server.routes[0].guarded.other_jwt",
            "one guard",
        ),
        case(
            seed_with(
                "      versions:\n        - h2\n",
                "      versions:\n        - h2\n      overrides:\n        x-a: b\n",
            ),
            "bindings.north_http_server.options.overrides",
            "`overrides` is not imported",
        ),
        case(
            seed_with("        exit: south_sse_client\n", ""),
            "bindings.north_sse_server.routes[0]",
            "a route needs an `exit`",
        ),
        case(
            seed_with(
                "    kind: client\n    exit: south_http_client",
                "    kind: client\n    exit: south_tcp_client",
            ),
            "bindings.south_sse_client.exit",
            "`south_tcp_client` is a tcp client; Sluice imports an http client here",
        ),
        case(
            seed_with(
                "  north_sse_server:\n    type: sse\n    kind: server\n",
                "  north_sse_server:\n    type: sse\n    kind: server\n    options:\n      requests:\n        - path: /events\n          content:\n            model: avro\n            catalog:\n              c:\n                - subject: s\n",
            ),
            "bindings.north_sse_server.options.requests[0].content.model",
            "JSON schemas only",
        ),
        case(
            seed_with(
                "  north_sse_server:\n    type: sse\n    kind: server\n",
                "  north_sse_server:\n    type: sse\n    kind: server\n    options:\n      requests:\n        - path: /events\n          content:\n            model: json\n            catalog:\n              missing_catalog:\n                - subject: s\n",
            ),
            "bindings.north_sse_server.options.requests[0].content.catalog.missing_catalog",
            "not in catalog `missing_catalog`",
        ),
    ]
}

#[test]
fn every_corpus_file_is_an_error_naming_its_path() {
    for case in corpus() {
        let errors = match import(&case.text, Path::new(BASE), &env, false) {
            Ok(_) => panic!("{} should fail", case.path),
            Err(errors) => errors,
        };
        let found = errors
            .iter()
            .find(|e| e.path == case.path)
            .unwrap_or_else(|| panic!("no error at {}:\n{errors}", case.path));
        assert!(
            found.message.contains(case.says),
            "{}: {}",
            case.path,
            found.message
        );
        assert!(found.line.is_some(), "{} has a line", case.path);
    }
}

#[test]
fn allow_partial_turns_corpus_errors_into_report_entries() {
    for case in corpus() {
        let import = match import(&case.text, Path::new(BASE), &env, true) {
            Ok(import) => import,
            Err(errors) => panic!("{} should import partially:\n{errors}", case.path),
        };
        let listed = import
            .report
            .unsupported
            .iter()
            .any(|u| u.path == case.path);
        assert!(listed, "{} in {:#?}", case.path, import.report.unsupported);
        assert_eq!(
            read_back(&render_yaml(&import.config)),
            import.config,
            "{}",
            case.path
        );
    }
}

#[test]
fn a_partial_import_leaves_out_only_what_depends_on_the_unsupported_part() {
    let text = seed_with("bindings:\n", &format!("bindings:\n{KAFKA}"));
    let config = import(&text, Path::new(BASE), &env, true)
        .expect("imports")
        .config;
    assert_eq!(config, import_ok(SEED).config);

    let text = seed_with("      alpn:\n", "      mutual: required\n      alpn:\n");
    let config = import(&text, Path::new(BASE), &env, true)
        .expect("imports")
        .config;
    assert_eq!(config.listeners, []);
    let tenant = config.tenants.get("example").expect("the tenant stays");
    assert_eq!(
        tenant.routes.keys().collect::<Vec<_>>(),
        ["events", "files"]
    );

    let text = seed_with("    exit: south_http_client\n", "    exit: south_nowhere\n");
    let config = import(&text, Path::new(BASE), &env, true)
        .expect("imports")
        .config;
    let tenant = config.tenants.get("example").expect("tenant");
    assert_eq!(tenant.routes.keys().collect::<Vec<_>>(), ["files"]);
}

const CATALOG: &str = r#"catalogs:
  host_catalog:
    type: inline
    options:
      subjects:
        event:
          schema: |
            { "type": "object", "required": ["id"] }
"#;

#[test]
fn a_json_model_on_the_sse_server_becomes_route_validation() {
    let text = seed_with(
        "  north_sse_server:\n    type: sse\n    kind: server\n",
        "  north_sse_server:\n    type: sse\n    kind: server\n    options:\n      retry: 3000\n      \
         requests:\n        - path: /events\n          content:\n            model: json\n            \
         catalog:\n              host_catalog:\n                - subject: event\n",
    );
    let text = text.replacen("bindings:\n", &format!("{CATALOG}bindings:\n"), 1);
    let config = import_ok(&text).config;
    let tenant = config.tenants.get("example").expect("tenant");
    let schema = serde_json::json!({ "type": "object", "required": ["id"] });
    let versions = tenant.schemas.get("event").expect("schema");
    assert_eq!(versions.len(), 1);
    assert_eq!(versions[0].version, 1);
    assert_eq!(versions[0].schema, schema);
    let events = tenant.routes.get("events").expect("route");
    assert_eq!(
        events.events.get("*").map(String::as_str),
        Some("event@latest")
    );
    assert_eq!(events.retry, Some(Duration::from_millis(3000)));
    assert_eq!(read_back(&render_yaml(&config)), config);
}

#[test]
fn a_filesystem_catalog_reads_its_schema_next_to_the_file() {
    let dir = std::env::temp_dir().join(format!("zilla-import-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(dir.join("event.json"), r#"{"type": "string"}"#).expect("schema file");
    let catalog = "catalogs:\n  files:\n    type: filesystem\n    options:\n      subjects:\n        \
                   event:\n          path: event.json\n";
    let text = seed_with("bindings:\n", &format!("{catalog}bindings:\n"));
    let config = import(&text, &dir, &env, false).expect("imports").config;
    let tenant = config.tenants.get("example").expect("tenant");
    let schema = tenant.schemas.get("event").map(|v| v[0].schema.clone());
    assert_eq!(schema, Some(serde_json::json!({ "type": "string" })));

    let missing = format!("{catalog}        missing:\n          path: missing.json\n");
    let text = seed_with("bindings:\n", &format!("{missing}bindings:\n"));
    let errors = import(&text, &dir, &env, false).expect_err("missing file");
    assert_eq!(errors.len(), 1);
    assert_eq!(
        errors.0[0].path,
        "catalogs.files.options.subjects.missing.path"
    );
    assert!(
        errors.0[0].message.starts_with("cannot read"),
        "{}",
        errors.0[0].message
    );
    std::fs::remove_dir_all(&dir).expect("cleanup");
}

/// The seed with its `guards` section replaced by `guards`.
fn seed_with_guards(guards: &str) -> String {
    let start = SEED.find("guards:\n").expect("guards");
    let end = SEED.find("bindings:\n").expect("bindings");
    format!("{}{guards}{}", &SEED[..start], &SEED[end..])
}

#[test]
fn a_jwks_url_and_claim_names_carry_over() {
    let text = seed_with_guards(
        "guards:\n  authn_jwt:\n    type: jwt\n    options:\n      issuer: https://auth.example.com\n      \
         audience: https://api.example.com\n      keys: https://auth.example.com/jwks\n      \
         roles: roles\n      identity: uid\n",
    );
    let config = import_ok(&text).config;
    let auth = config
        .tenants
        .get("example")
        .and_then(|t| t.auth.clone())
        .expect("auth");
    assert_eq!(
        auth.jwks_url.as_deref(),
        Some("https://auth.example.com/jwks")
    );
    assert_eq!(auth.keys, []);
    assert_eq!(auth.scopes_claim, "roles");
    assert_eq!(auth.subject_claim, "uid");
    assert_eq!(auth.challenge, None);
    assert_eq!(read_back(&render_yaml(&config)), config);
}

#[test]
fn one_route_on_two_authorities_keeps_both_hosts() {
    let text = seed_with(
        "              :authority: localhost:7143\n              :path: /events\n",
        "              :authority: localhost:7143\n              :path: /events\n          \
         - headers:\n              :scheme: https\n              :authority: sse.example.com:7143\n              \
         :path: /events\n",
    );
    let import = import_ok(&text);
    let tenant = import.config.tenants.get("example").expect("tenant");
    assert_eq!(tenant.hosts, ["localhost", "sse.example.com"]);
    assert_eq!(
        tenant.routes.keys().collect::<Vec<_>>(),
        ["events", "files"]
    );
    let said = import
        .report
        .differences
        .iter()
        .any(|d| d.contains("every route answers on every host"));
    assert!(said, "{:#?}", import.report.differences);
}

#[test]
fn one_path_to_two_places_is_unsupported() {
    let second = "      - when:\n          - headers:\n              :scheme: https\n              \
                  :authority: other.example.com:7143\n              :path: /events\n        \
                  exit: east_http_filesystem_mapping\n";
    let text = seed_with(
        "      - when:\n          - headers:\n              :scheme: https\n              :authority: localhost:7143\n        exit",
        &format!(
            "{second}      - when:\n          - headers:\n              :scheme: https\n              :authority: localhost:7143\n        exit"
        ),
    );
    let errors = import(&text, Path::new(BASE), &env, false).expect_err("fails");
    let shown = errors.to_string();
    assert!(
        shown.contains("bindings.north_http_server.routes[1].when[0]"),
        "{shown}"
    );
}

#[test]
fn a_guarded_route_without_authorization_is_unsupported() {
    let text = seed_with(
        "      authorization:\n        authn_jwt:\n          credentials:\n            headers:\n              \
         authorization: Bearer {credentials}\n            query:\n              access_token: \"{credentials}\"\n",
        "",
    );
    let errors = import(&text, Path::new(BASE), &env, false).expect_err("fails");
    let error = errors
        .iter()
        .find(|e| e.path == "bindings.north_sse_server.routes[0].guarded.authn_jwt")
        .unwrap_or_else(|| panic!("{errors}"));
    assert!(
        error.message.contains("never authorizes"),
        "{}",
        error.message
    );
}

#[test]
fn a_localhost_cleartext_server_without_alpn_binds_ipv4_loopback() {
    let text = seed_with("      host: 0.0.0.0\n", "      host: localhost\n")
        .replacen("      alpn:\n        - h2\n", "", 1)
        .replacen("      versions:\n        - h2\n", "", 1);
    let import = import_ok(&text);
    let listener = &import.config.listeners[0];
    assert_eq!(listener.address, "127.0.0.1:7143");
    assert_eq!(listener.versions, [HttpVersion::Http1, HttpVersion::H2]);
    assert!(
        import
            .report
            .differences
            .iter()
            .any(|d| d.contains("bound as 127.0.0.1"))
    );
}

#[test]
fn a_cleartext_listener_and_prometheus_exporter_are_mapped() {
    let text = seed_with(
        "    exit: north_tls_server\n",
        "    exit: north_http_server\n",
    )
    .replace(":scheme: https\n", ":scheme: http\n")
        + "    prometheus_exporter:\n      type: prometheus\n      options:\n        endpoints:\n          \
           - scheme: http\n            path: /metrics\n            port: 7190\n";
    let import = import_ok(&text);
    let listener = &import.config.listeners[0];
    assert_eq!(listener.tls, None);
    assert_eq!(listener.versions, [HttpVersion::H2]);
    let admin = import.config.admin.as_ref().expect("admin");
    assert_eq!(admin.address, "0.0.0.0:7190");
    let tenant = import.config.tenants.get("example").expect("tenant");
    assert_eq!(
        tenant.routes.keys().collect::<Vec<_>>(),
        ["events", "files"]
    );
    let mapped = "telemetry.exporters.prometheus_exporter (prometheus exporter) -> admin.address";
    assert!(import.report.mapped.iter().any(|m| m == mapped));
    let unused = "bindings.north_tls_server (tls server) -> nothing: no listener leads to it";
    assert!(
        import.report.mapped.iter().any(|m| m == unused),
        "{:#?}",
        import.report.mapped
    );
    assert!(
        import
            .report
            .differences
            .iter()
            .any(|d| d.contains("prior-knowledge h2c"))
    );
}

#[test]
fn a_scheme_no_listener_has_drops_the_route_and_says_so() {
    let text = seed_with(
        ":scheme: https\n              :authority: localhost:7143\n              :path: /events",
        ":scheme: http\n              :authority: localhost:7143\n              :path: /events",
    );
    let import = import_ok(&text);
    let tenant = import.config.tenants.get("example").expect("tenant");
    assert_eq!(tenant.routes.keys().collect::<Vec<_>>(), ["files"]);
    let said = import
        .report
        .differences
        .iter()
        .any(|d| d.contains("`:scheme: http` never matches"));
    assert!(said, "{:#?}", import.report.differences);
}

#[test]
fn tcp_port_routes_pick_the_chain_per_port() {
    let text = seed_with(
        "      port: 7143\n    exit: north_tls_server\n",
        "      port: [7114, 7143]\n    routes:\n      - when:\n          - port: 7143\n        \
         exit: north_tls_server\n    exit: north_http_server\n",
    )
    .replace(":scheme: https\n", ":scheme: \"*\"\n");
    let config = import_ok(&text).config;
    let addresses: Vec<&str> = config
        .listeners
        .iter()
        .map(|l| l.address.as_str())
        .collect();
    assert_eq!(addresses, ["0.0.0.0:7114", "0.0.0.0:7143"]);
    assert_eq!(config.listeners[0].tls, None);
    assert!(config.listeners[1].tls.is_some());
    let events = config
        .tenants
        .get("example")
        .and_then(|t| t.routes.get("events"));
    assert_eq!(events.and_then(|r| r.when.clone()), None);
}

#[test]
fn a_scheme_condition_stays_when_listeners_differ() {
    let text = seed_with(
        "      port: 7143\n    exit: north_tls_server\n",
        "      port: [7114, 7143]\n    routes:\n      - when:\n          - port: 7143\n        \
         exit: north_tls_server\n    exit: north_http_server\n",
    );
    let config = import_ok(&text).config;
    let events = config
        .tenants
        .get("example")
        .and_then(|t| t.routes.get("events"));
    let scheme = events
        .and_then(|r| r.when.as_ref())
        .and_then(|w| w.scheme.clone());
    assert_eq!(scheme.as_deref(), Some("https"));
    assert_eq!(read_back(&render_yaml(&config)), config);
}

/// Lines of the corpus, for splicing into the seed.
fn corpus_lines() -> Vec<String> {
    let mut lines: Vec<String> = corpus()
        .iter()
        .flat_map(|c| c.text.lines().map(str::to_owned).collect::<Vec<_>>())
        .collect();
    lines.extend(CATALOG.lines().map(str::to_owned));
    lines.sort();
    lines.dedup();
    lines
}

/// Imports `text` both ways; whatever imports must render and read back equal.
fn import_never_panics(text: &str) {
    let _ = is_zilla(text);
    for partial in [false, true] {
        if let Ok(import) = import(text, Path::new(BASE), &env, partial) {
            assert_eq!(
                read_back(&render_yaml(&import.config)),
                import.config,
                "{text}"
            );
            let _ = import.report.to_string();
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn mutated_seeds_never_panic(
        edits in proptest::collection::vec((0usize..4, any::<prop::sample::Index>(), any::<prop::sample::Index>()), 1..6)
    ) {
        let splice = corpus_lines();
        let mut lines: Vec<String> = SEED.lines().map(str::to_owned).collect();
        for (kind, at, pick) in edits {
            if lines.is_empty() {
                break;
            }
            let i = at.index(lines.len());
            match kind {
                0 => { lines.remove(i); }
                1 => { let line = lines[i].clone(); lines.insert(i, line); }
                2 => lines.insert(i, splice[pick.index(splice.len())].clone()),
                _ => {
                    let line = &mut lines[i];
                    let cut = pick.index(line.len() + 1);
                    let cut = (0..=cut).rev().find(|c| line.is_char_boundary(*c)).unwrap_or(0);
                    line.truncate(cut);
                }
            }
        }
        import_never_panics(&(lines.join("\n") + "\n"));
    }

    #[test]
    fn arbitrary_zilla_shaped_yaml_never_panics(value in zilla_shaped()) {
        import_never_panics(&value.to_string());
    }
}

/// Mappings built from Zilla's own keys and values, so the reader goes deep.
fn zilla_shaped() -> impl Strategy<Value = serde_json::Value> {
    let words = prop::sample::select(vec![
        "name",
        "bindings",
        "vaults",
        "guards",
        "catalogs",
        "telemetry",
        "type",
        "kind",
        "options",
        "routes",
        "exit",
        "when",
        "headers",
        ":path",
        ":authority",
        ":scheme",
        ":method",
        "path",
        "guarded",
        "with",
        "host",
        "port",
        "tcp",
        "tls",
        "http",
        "sse",
        "server",
        "client",
        "proxy",
        "filesystem",
        "http-filesystem",
        "jwt",
        "keys",
        "vault",
        "a",
        "b",
        "versions",
        "h2",
        "http/1.1",
        "alpn",
        "location",
        "/{path}",
        "/events",
        "${params.path}",
        "issuer",
        "audience",
        "challenge",
        "requests",
        "content",
        "model",
        "json",
        "catalog",
        "subject",
        "inline",
        "subjects",
        "schema",
        "exporters",
        "prometheus",
        "stdout",
        "endpoints",
        "authorization",
        "credentials",
        "access-control",
        "policy",
        "cross-origin",
        "kty",
        "alg",
        "RSA",
        "EC",
        "crv",
        "P-256",
        "x",
        "y",
        "n",
        "e",
    ]);
    let leaf = prop_oneof![
        words
            .clone()
            .prop_map(|w| serde_json::Value::String(w.to_owned())),
        (0u64..70_000).prop_map(serde_json::Value::from),
        any::<bool>().prop_map(serde_json::Value::Bool),
        Just(serde_json::Value::Null),
    ];
    leaf.prop_recursive(5, 64, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(serde_json::Value::Array),
            prop::collection::vec((words.clone(), inner), 0..6).prop_map(|entries| {
                serde_json::Value::Object(
                    entries
                        .into_iter()
                        .map(|(k, v)| (k.to_owned(), v))
                        .collect(),
                )
            }),
        ]
    })
}

#[test]
fn deeply_nested_yaml_is_refused_without_overflowing_the_stack() {
    let deep = format!(
        "name: x\nbindings:\n  a: {}{}\n",
        "[".repeat(5000),
        "]".repeat(5000)
    );
    assert!(import(&deep, Path::new(BASE), &env, true).is_err());
    let deep_block: String = (0..200)
        .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
        .collect();
    assert!(import(&deep_block, Path::new(BASE), &env, true).is_err());
    assert!(!is_zilla(&deep));
}

#[test]
fn a_large_file_imports_in_reasonable_time() {
    let mut text = String::from("name: big\nbindings:\n");
    for i in 0..3000 {
        text.push_str(&format!(
            "  b{i}:\n    type: kafka\n    kind: client\n    exit: b{}\n    x{i}: 1\n",
            i + 1
        ));
    }
    // Parsing alone takes about a second in a debug build; the generous bound only catches
    // work that grows with the square of the file.
    let started = std::time::Instant::now();
    let errors = import(&text, Path::new(BASE), &env, false).expect_err("unsupported");
    assert_eq!(errors.len(), 3000);
    let elapsed = started.elapsed();
    assert!(elapsed < std::time::Duration::from_secs(60), "{elapsed:?}");
}
