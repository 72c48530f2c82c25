//! Writing a [`Config`] as Sluice's declarative file (version 1), so that an import can be
//! reviewed, kept and edited. Settings equal to their defaults are left out; everything else
//! is written so that reading the file back gives an equal config.
//!
//! Strings are written plain when that cannot be misread, otherwise double-quoted with YAML
//! escapes. A value holding `${{env.NAME}}` is written as it is, so it is substituted again
//! when the file is read: that is how a secret imported as a reference stays one.

use std::fmt::Write as _;
use std::path::Path;

use crate::config::{
    Auth, Config, Cors, Credentials, HttpVersion, Jwk, Limits, Listener, OnInvalid, Route,
    SchemaVersion, Tenant, TlsSource, Upstream,
};

use super::map::with_defaults;

/// Sluice's declarative YAML for `config`; [`crate::config::parse`] reads it back to an equal
/// config (apart from `source`, which records where settings were written).
pub fn render_yaml(config: &Config) -> String {
    let mut out = Out::default();
    out.line(0, &format!("version: {}", config.version));
    listeners(&mut out, &config.listeners);
    if let Some(admin) = &config.admin {
        out.line(0, "admin:");
        out.field(1, "address", &admin.address);
    }
    let defaults: Config = with_defaults(serde_json::json!({ "version": 1 }));
    if config.shutdown_grace != defaults.shutdown_grace {
        out.raw(0, "shutdown_grace", &config.shutdown_grace.to_string());
    }
    if !config.tenants.is_empty() {
        out.line(0, "tenants:");
        for (name, tenant) in config.tenants.iter() {
            out.line(1, &format!("{}:", scalar(name)));
            self::tenant(&mut out, 2, tenant);
        }
    }
    out.text
}

/// The text being written, a line at a time, two spaces per indent level.
#[derive(Default)]
struct Out {
    text: String,
}

impl Out {
    fn line(&mut self, indent: usize, text: &str) {
        for _ in 0..indent {
            self.text.push_str("  ");
        }
        self.text.push_str(text);
        self.text.push('\n');
    }

    /// `key: "value"` with the value quoted as needed.
    fn field(&mut self, indent: usize, key: &str, value: &str) {
        self.line(indent, &format!("{key}: {}", scalar(value)));
    }

    /// `key: value` for a value that is already YAML (a number, a duration, a flow list).
    fn raw(&mut self, indent: usize, key: &str, value: &str) {
        self.line(indent, &format!("{key}: {value}"));
    }

    fn path(&mut self, indent: usize, key: &str, path: &Path) {
        self.field(indent, key, &path.to_string_lossy());
    }

    fn list(&mut self, indent: usize, key: &str, items: &[String]) {
        let items: Vec<String> = items.iter().map(|s| scalar(s)).collect();
        self.raw(indent, key, &format!("[{}]", items.join(", ")));
    }
}

fn versions(versions: &[HttpVersion]) -> String {
    let names: Vec<String> = versions.iter().map(ToString::to_string).collect();
    format!("[{}]", names.join(", "))
}

fn listeners(out: &mut Out, listeners: &[Listener]) {
    if listeners.is_empty() {
        return;
    }
    out.line(0, "listeners:");
    for listener in listeners {
        out.line(1, &format!("- address: {}", scalar(&listener.address)));
        let defaults: Listener = with_defaults(serde_json::json!({ "address": "" }));
        if listener.versions != defaults.versions {
            out.raw(2, "versions", &versions(&listener.versions));
        }
        if let Some(source) = &listener.tls {
            tls(out, 2, source);
        }
    }
}

fn tls(out: &mut Out, indent: usize, source: &TlsSource) {
    out.line(indent, "tls:");
    match source {
        TlsSource::Pem {
            certificate,
            private_key,
        } => {
            out.path(indent + 1, "certificate", certificate);
            out.path(indent + 1, "private_key", private_key);
        }
        TlsSource::Keystore { path, password } => {
            out.line(indent + 1, "keystore:");
            out.path(indent + 2, "path", path);
            out.field(indent + 2, "password", password.expose());
        }
    }
}

fn tenant(out: &mut Out, indent: usize, tenant: &Tenant) {
    if !tenant.hosts.is_empty() {
        out.list(indent, "hosts", &tenant.hosts);
    }
    if let Some(prefix) = &tenant.path_prefix {
        out.field(indent, "path_prefix", prefix);
    }
    if let Some(source) = &tenant.tls {
        tls(out, indent, source);
    }
    if let Some(auth) = &tenant.auth {
        self::auth(out, indent, auth);
    }
    if let Some(cors) = &tenant.cors {
        self::cors(out, indent, cors);
    }
    if let Some(limits) = &tenant.limits {
        self::limits(out, indent, limits);
    }
    if !tenant.schemas.is_empty() {
        out.line(indent, "schemas:");
        for (name, versions) in tenant.schemas.iter() {
            out.line(indent + 1, &format!("{}:", scalar(name)));
            schema_versions(out, indent + 2, versions);
        }
    }
    if !tenant.routes.is_empty() {
        out.line(indent, "routes:");
        for (name, route) in tenant.routes.iter() {
            out.line(indent + 1, &format!("{}:", scalar(name)));
            self::route(out, indent + 2, route);
        }
    }
}

fn auth(out: &mut Out, indent: usize, auth: &Auth) {
    let defaults: Auth = with_defaults(serde_json::json!({ "issuer": "" }));
    let inner = indent + 1;
    out.line(indent, "auth:");
    out.field(inner, "issuer", &auth.issuer);
    if !auth.audiences.is_empty() {
        out.list(inner, "audiences", &auth.audiences);
    }
    if !auth.keys.is_empty() {
        out.line(inner, "keys:");
        for key in &auth.keys {
            jwk(out, inner + 1, key);
        }
    }
    if let Some(url) = &auth.jwks_url {
        out.field(inner, "jwks_url", url);
    }
    if auth.credentials != defaults.credentials {
        credentials(out, inner, &auth.credentials);
    }
    if auth.scopes_claim != defaults.scopes_claim {
        out.field(inner, "scopes_claim", &auth.scopes_claim);
    }
    if auth.subject_claim != defaults.subject_claim {
        out.field(inner, "subject_claim", &auth.subject_claim);
    }
    if auth.leeway != defaults.leeway {
        out.raw(inner, "leeway", &auth.leeway.to_string());
    }
    if let Some(challenge) = auth.challenge {
        out.raw(inner, "challenge", &challenge.to_string());
    }
    if let Some(typ) = &auth.require_typ {
        out.field(inner, "require_typ", typ);
    }
    if auth.jwks_cache != defaults.jwks_cache {
        out.raw(inner, "jwks_cache", &auth.jwks_cache.to_string());
    }
}

fn jwk(out: &mut Out, indent: usize, key: &Jwk) {
    let members = [
        ("kty", &key.kty),
        ("kid", &key.kid),
        ("alg", &key.alg),
        ("use", &key.key_use),
        ("crv", &key.crv),
        ("n", &key.n),
        ("e", &key.e),
        ("x", &key.x),
        ("y", &key.y),
    ];
    let mut first = true;
    for (name, value) in members {
        let Some(value) = value else {
            continue;
        };
        let dash = if first { "- " } else { "  " };
        out.line(indent, &format!("{dash}{name}: {}", scalar(value)));
        first = false;
    }
    if first {
        out.line(indent, "- {}");
    }
}

fn credentials(out: &mut Out, indent: usize, credentials: &Credentials) {
    out.line(indent, "credentials:");
    if let Some(header) = &credentials.header {
        out.field(indent + 1, "header", header);
    }
    if let Some(query) = &credentials.query {
        out.field(indent + 1, "query", query);
    }
    if let Some(cookie) = &credentials.cookie {
        out.field(indent + 1, "cookie", cookie);
    }
}

fn cors(out: &mut Out, indent: usize, cors: &Cors) {
    out.line(indent, "cors:");
    out.list(indent + 1, "origins", &cors.origins);
    if cors.credentials {
        out.raw(indent + 1, "credentials", "true");
    }
    if let Some(max_age) = cors.max_age {
        out.raw(indent + 1, "max_age", &max_age.to_string());
    }
    if !cors.expose_headers.is_empty() {
        out.list(indent + 1, "expose_headers", &cors.expose_headers);
    }
    if !cors.allow_headers.is_empty() {
        out.list(indent + 1, "allow_headers", &cors.allow_headers);
    }
}

fn limits(out: &mut Out, indent: usize, limits: &Limits) {
    let values = [
        ("max_streams", limits.max_streams),
        ("max_streams_per_subject", limits.max_streams_per_subject),
        ("new_streams_per_second", limits.new_streams_per_second),
    ];
    if values.iter().all(|(_, v)| v.is_none()) {
        out.line(indent, "limits: {}");
        return;
    }
    out.line(indent, "limits:");
    for (key, value) in values {
        if let Some(value) = value {
            out.raw(indent + 1, key, &value.to_string());
        }
    }
}

fn schema_versions(out: &mut Out, indent: usize, versions: &[SchemaVersion]) {
    for version in versions {
        out.line(indent, &format!("- version: {}", version.version));
        out.raw(indent + 1, "schema", &json(&version.schema));
    }
}

fn route(out: &mut Out, indent: usize, route: &Route) {
    let defaults: Route = with_defaults(serde_json::json!({ "path": "/" }));
    out.field(indent, "path", &route.path);
    if route.public {
        out.raw(indent, "public", "true");
    }
    if !route.scopes.is_empty() {
        out.list(indent, "scopes", &route.scopes);
    }
    if let Some(when) = &route.when {
        out.line(indent, "when:");
        if let Some(scheme) = &when.scheme {
            out.field(indent + 1, "scheme", scheme);
        }
        if !when.headers.is_empty() {
            out.line(indent + 1, "headers:");
            for (name, value) in &when.headers {
                out.line(indent + 2, &format!("{}: {}", scalar(name), scalar(value)));
            }
        }
    }
    if let Some(upstream) = &route.upstream {
        self::upstream(out, indent, upstream);
    }
    if let Some(files) = &route.files {
        out.path(indent, "files", files);
    }
    route_stream_settings(out, indent, route, &defaults);
}

fn route_stream_settings(out: &mut Out, indent: usize, route: &Route, defaults: &Route) {
    if !route.events.is_empty() {
        out.line(indent, "events:");
        for (event, reference) in route.events.iter() {
            out.line(
                indent + 1,
                &format!("{}: {}", scalar(event), scalar(reference)),
            );
        }
    }
    if route.on_invalid != defaults.on_invalid {
        let value = match route.on_invalid {
            OnInvalid::Drop => "drop",
            OnInvalid::Close => "close",
        };
        out.raw(indent, "on_invalid", value);
    }
    if let Some(retry) = route.retry {
        out.raw(indent, "retry", &retry.to_string());
    }
    if route.heartbeat != defaults.heartbeat {
        let value = route
            .heartbeat
            .map_or_else(|| "off".to_owned(), |d| d.to_string());
        out.raw(indent, "heartbeat", &value);
    }
    if route.last_event_id_query != defaults.last_event_id_query {
        out.field(indent, "last_event_id_query", &route.last_event_id_query);
    }
    if route.max_event_size != defaults.max_event_size {
        out.raw(indent, "max_event_size", &route.max_event_size.to_string());
    }
    if route.buffer != defaults.buffer {
        out.raw(indent, "buffer", &route.buffer.to_string());
    }
}

fn upstream(out: &mut Out, indent: usize, upstream: &Upstream) {
    let defaults: Upstream = with_defaults(serde_json::json!({ "url": "" }));
    let inner = indent + 1;
    out.line(indent, "upstream:");
    out.field(inner, "url", &upstream.url);
    if upstream.version != defaults.version {
        out.raw(inner, "version", &upstream.version.to_string());
    }
    if upstream.connect_timeout != defaults.connect_timeout {
        out.raw(
            inner,
            "connect_timeout",
            &upstream.connect_timeout.to_string(),
        );
    }
    if upstream.response_timeout != defaults.response_timeout {
        out.raw(
            inner,
            "response_timeout",
            &upstream.response_timeout.to_string(),
        );
    }
    if !upstream.headers.is_empty() {
        out.line(inner, "headers:");
        for (name, value) in upstream.headers.iter() {
            out.line(inner + 1, &format!("{}: {}", scalar(name), scalar(value)));
        }
    }
    if let Some(ca) = &upstream.ca {
        out.path(inner, "ca", ca);
    }
}

/// A JSON value as a YAML flow node (JSON is YAML, but strings are escaped the YAML way).
fn json(value: &serde_json::Value) -> String {
    use serde_json::Value;
    match value {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quoted(s),
        Value::Array(items) => {
            let items: Vec<String> = items.iter().map(json).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(members) => {
            let members: Vec<String> = members
                .iter()
                .map(|(k, v)| format!("{}: {}", quoted(k), json(v)))
                .collect();
            format!("{{{}}}", members.join(", "))
        }
    }
}

/// `text` as a YAML scalar: plain when it is a simple word that YAML reads back as the same
/// string, double-quoted otherwise.
fn scalar(text: &str) -> String {
    let reserved = [
        "true", "false", "null", "yes", "no", "on", "off", "y", "n", "~",
    ];
    let simple = text
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'/')
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_./-".contains(&b))
        && !reserved.iter().any(|r| r.eq_ignore_ascii_case(text));
    if simple {
        text.to_owned()
    } else {
        quoted(text)
    }
}

/// A double-quoted YAML scalar (YAML 1.2 §7.3.1): `"`, `\` and every non-printable character
/// escaped.
fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if needs_escape(c) => {
                let code = u32::from(c);
                if code <= 0xFFFF {
                    let _ = write!(out, "\\u{code:04X}");
                } else {
                    let _ = write!(out, "\\U{code:08X}");
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Characters YAML does not allow as they are inside a quoted scalar, or that a reader would
/// normalize: C0 and C1 controls, DEL, line and paragraph separators, the BOM.
fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{2028}' | '\u{2029}' | '\u{FEFF}')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read_back(text: &str) -> String {
        serde_saphyr::from_str::<String>(text).expect("reads back")
    }

    #[test]
    fn scalars_read_back_as_the_same_string() {
        for text in [
            "localhost",
            "/var/www/",
            "0.0.0.0:7143",
            "yes",
            "No",
            "~",
            "",
            "a: b",
            "# not a comment",
            "Bearer {credentials}",
            "quote \" and \\ back",
            "line\nbreak\ttab\r",
            "\u{7f}\u{85}\u{2028}\u{feff}é😀",
            "123",
            "1.5",
            "-x",
            "*",
            "&anchor",
            "[list]",
        ] {
            assert_eq!(read_back(&scalar(text)), text, "{text:?}");
        }
    }

    #[test]
    fn simple_words_stay_plain() {
        assert_eq!(scalar("proxy-stream"), "proxy-stream");
        assert_eq!(scalar("/events"), "/events");
        assert_eq!(scalar("proxy:stream"), "\"proxy:stream\"");
        assert_eq!(scalar("true"), "\"true\"");
    }

    #[test]
    fn json_values_read_back_equal() {
        let value = serde_json::json!({
            "type": "object",
            "required": ["id"],
            "properties": { "id": { "type": "integer", "minimum": -1, "maximum": 1.5e300 } },
            "x\ny": [null, true, "\u{85}"]
        });
        let text = json(&value);
        let back: serde_json::Value = serde_saphyr::from_str(&text).expect("reads back");
        assert_eq!(back, value);
    }
}
