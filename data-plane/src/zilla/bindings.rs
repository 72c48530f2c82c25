//! Reading `bindings`: which type and kind each binding is, its options, its routes and its
//! default exit. A binding of a type or kind Sluice does not import is reported at `type` or
//! `kind` and read no further.

use crate::config::{HttpVersion, index_path, key_path};

use super::model::{
    AccessControl, Authorization, Binding, Condition, CrossOrigin, Guarded, HttpClient, HttpServer,
    Kind, Model, Ref, Route, SseRequest, SseServer, TlsServer,
};
use super::read::{Fields, boolean, entries, list, number, string, strings, text};
use super::report::Notes;
use super::tree::{Node, Value};

/// The binding types and kinds that are imported.
const IMPORTED: [(&str, &[&str]); 6] = [
    ("tcp", &["server", "client"]),
    ("tls", &["server"]),
    ("http", &["server", "client"]),
    ("sse", &["server", "client"]),
    ("http-filesystem", &["proxy"]),
    ("filesystem", &["server"]),
];

/// Most ports one tcp server may list (a range is expanded into listeners).
const MAX_PORTS: usize = 64;

/// The importable type-and-kind pairs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Shape {
    TcpServer,
    TcpClient,
    TlsServer,
    HttpServer,
    HttpClient,
    SseServer,
    SseClient,
    HttpFilesystem,
    Filesystem,
}

/// Reads the binding at `path`.
pub(super) fn binding(node: &Node, path: &str, notes: &mut Notes) -> Binding {
    let unsupported = |label: String| Binding {
        kind: Kind::Unsupported { label },
        routes: Vec::new(),
        exit: None,
    };
    let Some(mut fields) = Fields::of(node, path, notes) else {
        return unsupported("binding".into());
    };
    let (type_, kind) = (
        text(&mut fields, "type", notes),
        text(&mut fields, "kind", notes),
    );
    let (Some(type_), Some(kind)) = (type_, kind) else {
        notes.unsupported(path, "a binding needs `type` and `kind`");
        return unsupported("binding".into());
    };
    let label = format!("{type_} {kind}");
    let Some(shape) = shape(&type_, &kind, path, notes) else {
        return unsupported(label);
    };
    let binding = Binding {
        kind: options(shape, &mut fields, path, notes),
        routes: fields
            .take("routes")
            .map(|(node, path)| routes(node, &path, shape, notes))
            .unwrap_or_default(),
        exit: fields
            .take("exit")
            .and_then(|(node, path)| reference(node, path, notes)),
    };
    if fields.take("telemetry").is_some() {
        notes.difference(format!(
            "{path}.telemetry is not used: Sluice's metrics are always on, by tenant and route"
        ));
    }
    fields.finish(notes, &format!("{label} bindings"));
    binding
}

/// A name written at `path`, as a reference.
fn reference(node: &Node, path: String, notes: &mut Notes) -> Option<Ref> {
    let name = string(node, &path, notes)?;
    Some(Ref { name, path })
}

fn shape(type_: &str, kind: &str, path: &str, notes: &mut Notes) -> Option<Shape> {
    let shape = match (type_, kind) {
        ("tcp", "server") => Shape::TcpServer,
        ("tcp", "client") => Shape::TcpClient,
        ("tls", "server") => Shape::TlsServer,
        ("http", "server") => Shape::HttpServer,
        ("http", "client") => Shape::HttpClient,
        ("sse", "server") => Shape::SseServer,
        ("sse", "client") => Shape::SseClient,
        ("http-filesystem", "proxy") => Shape::HttpFilesystem,
        ("filesystem", "server") => Shape::Filesystem,
        ("tls", "client") => {
            let what = "tls client: TLS to an upstream is not imported; write the route's \
                        upstream as an https:// URL in Sluice's file";
            notes.unsupported(key_path(path, "kind"), what);
            return None;
        }
        _ => return refuse_shape(type_, kind, path, notes),
    };
    Some(shape)
}

fn refuse_shape(type_: &str, kind: &str, path: &str, notes: &mut Notes) -> Option<Shape> {
    match IMPORTED.iter().find(|(t, _)| *t == type_) {
        Some((_, kinds)) => {
            let what = format!(
                "{type_} {kind}: a {type_} binding is imported only as {}",
                kinds.join(" or ")
            );
            notes.unsupported(key_path(path, "kind"), what);
        }
        None => {
            let what = format!(
                "{type_}: Sluice imports tcp, tls, http, sse, http-filesystem and filesystem \
                 bindings"
            );
            notes.unsupported(key_path(path, "type"), what);
        }
    }
    None
}

/// The options of a binding of `shape` (and a tls server's `vault`).
fn options(shape: Shape, fields: &mut Fields<'_>, path: &str, notes: &mut Notes) -> Kind {
    let vault = match shape {
        Shape::TlsServer => fields
            .take("vault")
            .and_then(|(node, p)| reference(node, p, notes)),
        _ => None,
    };
    let (node, options_path) = match fields.take("options") {
        Some((node, options_path)) => (Some(node), options_path),
        None => (None, key_path(path, "options")),
    };
    let empty = Node {
        line: None,
        span: None,
        value: Value::Null,
    };
    let Some(mut options) = Fields::of(node.unwrap_or(&empty), &options_path, notes) else {
        return Kind::Unsupported {
            label: "binding".into(),
        };
    };
    let kind = match shape {
        Shape::TcpServer => tcp_server(&mut options, &options_path, notes),
        Shape::TcpClient => tcp_client(&mut options, &options_path, notes),
        Shape::TlsServer => Kind::TlsServer(tls_server(&mut options, vault, path, notes)),
        Shape::HttpServer => Kind::HttpServer(http_server(&mut options, &options_path, notes)),
        Shape::HttpClient => Kind::HttpClient(http_client(&mut options, notes)),
        Shape::SseServer => Kind::SseServer(sse_server(&mut options, notes)),
        Shape::SseClient => Kind::SseClient,
        Shape::HttpFilesystem => Kind::HttpFilesystem,
        Shape::Filesystem => filesystem(&mut options, &options_path, notes),
    };
    let owner = format!("{} options", kind.label());
    options.finish(notes, &owner);
    kind
}

fn tcp_server(options: &mut Fields<'_>, path: &str, notes: &mut Notes) -> Kind {
    let host = text(options, "host", notes).unwrap_or_else(|| "0.0.0.0".to_owned());
    let ports = match options.take("port") {
        Some((node, port_path)) => ports(node, &port_path, notes),
        None => {
            notes.unsupported(key_path(path, "port"), "a tcp server needs a `port`");
            Vec::new()
        }
    };
    Kind::TcpServer { host, ports }
}

fn tcp_client(options: &mut Fields<'_>, path: &str, notes: &mut Notes) -> Kind {
    let host = text(options, "host", notes).unwrap_or_default();
    if host.is_empty() {
        notes.unsupported(key_path(path, "host"), "a tcp client needs a `host`");
    }
    let port = match options.take("port") {
        Some((node, port_path)) => {
            let ports = ports(node, &port_path, notes);
            if ports.len() > 1 {
                notes.unsupported(port_path, "a tcp client connects to one port");
            }
            ports.first().copied()
        }
        None => {
            notes.unsupported(key_path(path, "port"), "a tcp client needs a `port`");
            None
        }
    };
    Kind::TcpClient { host, port }
}

/// A port, a numeric string, a range `7143-7145`, or a list of those.
fn ports(node: &Node, path: &str, notes: &mut Notes) -> Vec<u16> {
    let mut found = Vec::new();
    match &node.value {
        Value::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                found.extend(ports(item, &index_path(path, i), notes));
            }
        }
        Value::Str(text) if text.contains('-') => found.extend(port_range(text, path, notes)),
        _ => {
            let port = number(node, path, notes).map(u16::try_from);
            match port {
                Some(Ok(port)) => found.push(port),
                Some(Err(_)) => notes.unsupported(path, "a port is a number from 0 to 65535"),
                None => {}
            }
        }
    }
    if found.len() > MAX_PORTS {
        notes.unsupported(path, format!("more than {MAX_PORTS} ports"));
        found.truncate(MAX_PORTS);
    }
    found
}

fn port_range(text: &str, path: &str, notes: &mut Notes) -> Vec<u16> {
    let bounds = text
        .split_once('-')
        .and_then(|(a, b)| Some((a.trim().parse::<u16>().ok()?, b.trim().parse::<u16>().ok()?)));
    match bounds {
        Some((first, last)) if first <= last && usize::from(last - first) < MAX_PORTS => {
            (first..=last).collect()
        }
        _ => {
            let what = format!("`{text}` is not a port range of at most {MAX_PORTS} ports");
            notes.unsupported(path, what);
            Vec::new()
        }
    }
}

fn tls_server(
    options: &mut Fields<'_>,
    vault: Option<Ref>,
    path: &str,
    notes: &mut Notes,
) -> TlsServer {
    if vault.is_none() {
        notes.unsupported(
            key_path(path, "vault"),
            "a tls server needs a `vault` with its keys",
        );
    }
    let mut list_of = |key: &str, notes: &mut Notes| {
        let (node, path) = options.take(key)?;
        strings(node, &path, notes)
    };
    let keys = list_of("keys", notes).unwrap_or_default();
    let sni = list_of("sni", notes).unwrap_or_default();
    let alpn = list_of("alpn", notes);
    if let Some((node, mutual_path)) = options.take("mutual") {
        let mutual = string(node, &mutual_path, notes);
        if let Some(mutual) = mutual.filter(|m| m != "none") {
            let what = format!("mutual: {mutual}: client certificates are not imported");
            notes.unsupported(mutual_path, what);
        }
    }
    TlsServer {
        vault,
        keys,
        sni,
        alpn,
    }
}

/// HTTP versions; Zilla's default is both.
fn versions(options: &mut Fields<'_>, notes: &mut Notes) -> Vec<HttpVersion> {
    let Some((node, path)) = options.take("versions") else {
        return vec![HttpVersion::Http1, HttpVersion::H2];
    };
    let names = strings(node, &path, notes).unwrap_or_default();
    let mut versions = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let version = match name.as_str() {
            "http/1.1" => HttpVersion::Http1,
            "h2" => HttpVersion::H2,
            _ => {
                let what = format!("{name}: the versions are `http/1.1` and `h2`");
                notes.unsupported(index_path(&path, i), what);
                continue;
            }
        };
        if !versions.contains(&version) {
            versions.push(version);
        }
    }
    versions
}

fn http_server(options: &mut Fields<'_>, path: &str, notes: &mut Notes) -> HttpServer {
    let versions = versions(options, notes);
    let authorization = options
        .take("authorization")
        .and_then(|(node, path)| authorization(node, &path, notes));
    let access_control = options
        .take("access-control")
        .and_then(|(node, path)| access_control(node, &path, notes));
    HttpServer {
        versions,
        authorization,
        access_control,
        options_path: path.to_owned(),
    }
}

fn authorization(node: &Node, path: &str, notes: &mut Notes) -> Option<Authorization> {
    let entries = entries(node, path, notes)?;
    for extra in entries.iter().skip(1) {
        let what = "Sluice authorizes a tenant with one guard; only the first is imported";
        notes.unsupported(key_path(path, &extra.key), what);
    }
    let first = entries.first()?;
    let guard_path = key_path(path, &first.key);
    let mut fields = Fields::of(&first.value, &guard_path, notes)?;
    let mut found = Authorization {
        guard: Ref {
            name: first.key.clone(),
            path: guard_path.clone(),
        },
        header: None,
        query: None,
        cookie: None,
    };
    match fields.take("credentials") {
        Some((node, path)) => credentials(node, &path, &mut found, notes),
        None => found.header = Some("authorization: Bearer {credentials}".to_owned()),
    }
    fields.finish(notes, "an authorization");
    Some(found)
}

fn credentials(node: &Node, path: &str, found: &mut Authorization, notes: &mut Notes) {
    let Some(mut fields) = Fields::of(node, path, notes) else {
        return;
    };
    if let Some((name, value)) = single(&mut fields, "headers", "header", notes) {
        found.header = Some(format!("{name}: {value}"));
        if !value.contains("{credentials}") {
            let what = "a header template needs `{credentials}`";
            notes.unsupported(key_path(&key_path(path, "headers"), &name), what);
        }
    }
    for (key, slot) in [("query", &mut found.query), ("cookies", &mut found.cookie)] {
        if let Some((name, value)) = single(&mut fields, key, key, notes) {
            if value != "{credentials}" {
                let what = format!(
                    "`{value}`: Sluice reads the whole {key} value as the token; write \
                     \"{{credentials}}\""
                );
                notes.unsupported(key_path(&key_path(path, key), &name), what);
            }
            *slot = Some(name);
        }
    }
    fields.finish(notes, "credentials");
}

/// The one `name: value` entry under `key`; extra entries are reported.
fn single(
    fields: &mut Fields<'_>,
    key: &str,
    noun: &str,
    notes: &mut Notes,
) -> Option<(String, String)> {
    let (node, path) = fields.take(key)?;
    let entries = entries(node, &path, notes)?;
    for extra in entries.iter().skip(1) {
        let what = format!("Sluice reads a token from one {noun}; only the first is imported");
        notes.unsupported(key_path(&path, &extra.key), what);
    }
    let first = entries.first()?;
    let value = string(&first.value, &key_path(&path, &first.key), notes)?;
    Some((first.key.clone(), value))
}

fn access_control(node: &Node, path: &str, notes: &mut Notes) -> Option<AccessControl> {
    let mut fields = Fields::of(node, path, notes)?;
    let policy = text(&mut fields, "policy", notes);
    let control = match policy.as_deref() {
        Some("same-origin") => Some(AccessControl::SameOrigin),
        Some("cross-origin") => Some(AccessControl::CrossOrigin(cross_origin(&mut fields, notes))),
        Some(other) => {
            let what = format!("{other}: the policies are `same-origin` and `cross-origin`");
            notes.unsupported(key_path(path, "policy"), what);
            None
        }
        None => {
            notes.unsupported(path, "`policy` is required");
            None
        }
    };
    fields.finish(notes, "an access-control policy");
    control
}

fn cross_origin(fields: &mut Fields<'_>, notes: &mut Notes) -> CrossOrigin {
    let mut cors = CrossOrigin::default();
    if let Some((node, path)) = fields.take("allow")
        && let Some(mut allow) = Fields::of(node, &path, notes)
    {
        let mut list_of = |key: &str, notes: &mut Notes| {
            let (node, path) = allow.take(key)?;
            strings(node, &path, notes)
        };
        cors.origins = list_of("origins", notes);
        cors.methods = list_of("methods", notes);
        cors.headers = list_of("headers", notes);
        if let Some((node, path)) = allow.take("credentials") {
            cors.credentials = boolean(node, &path, notes).unwrap_or_default();
        }
        allow.finish(notes, "an access-control `allow`");
    }
    if let Some((node, path)) = fields.take("max-age") {
        cors.max_age = number(node, &path, notes);
    }
    if let Some((node, path)) = fields.take("expose")
        && let Some(mut expose) = Fields::of(node, &path, notes)
    {
        cors.expose = expose
            .take("headers")
            .and_then(|(node, path)| strings(node, &path, notes));
        expose.finish(notes, "an access-control `expose`");
    }
    cors
}

fn http_client(options: &mut Fields<'_>, notes: &mut Notes) -> HttpClient {
    let versions = versions(options, notes);
    let mut overrides = Vec::new();
    if let Some((node, path)) = options.take("overrides") {
        for entry in entries(node, &path, notes).unwrap_or_default() {
            let header_path = key_path(&path, &entry.key);
            if entry.key.starts_with(':') {
                let what = "overriding a pseudo-header is not imported; Sluice takes the \
                            upstream's scheme, authority and path from its URL";
                notes.unsupported(header_path, what);
            } else if let Some(value) = string(&entry.value, &header_path, notes) {
                overrides.push((entry.key.clone(), value));
            }
        }
    }
    HttpClient {
        versions,
        overrides,
    }
}

fn sse_server(options: &mut Fields<'_>, notes: &mut Notes) -> SseServer {
    let mut sse = SseServer::default();
    if let Some((node, path)) = options.take("retry") {
        sse.retry = number(node, &path, notes);
    }
    if let Some((node, path)) = options.take("requests") {
        for (i, item) in list(node, &path, notes)
            .unwrap_or_default()
            .iter()
            .enumerate()
        {
            sse.requests
                .extend(sse_request(item, &index_path(&path, i), notes));
        }
    }
    sse
}

fn sse_request(node: &Node, path: &str, notes: &mut Notes) -> Option<SseRequest> {
    let mut fields = Fields::of(node, path, notes)?;
    let request_path = text(&mut fields, "path", notes);
    let model = fields
        .take("content")
        .and_then(|(node, path)| model(node, &path, notes));
    fields.finish(notes, "an sse request");
    if request_path.is_none() || model.is_none() {
        notes.unsupported(path, "an sse request needs `path` and `content`");
    }
    Some(SseRequest {
        path: request_path?,
        model: model?,
    })
}

/// A `json` model with its catalog reference.
fn model(node: &Node, path: &str, notes: &mut Notes) -> Option<Model> {
    if let Value::Str(name) = &node.value {
        let what = format!("a bare `{name}` model (no schema) is not imported; name a catalog");
        notes.unsupported(path, what);
        return None;
    }
    let mut fields = Fields::of(node, path, notes)?;
    let name = text(&mut fields, "model", notes);
    if let Some(name) = name.as_deref().filter(|n| *n != "json") {
        let what = format!("{name}: Sluice validates events against JSON schemas only");
        notes.unsupported(key_path(path, "model"), what);
    }
    if let Some((node, validate_path)) = fields.take("validate") {
        let validate = string(node, &validate_path, notes);
        if let Some(mode) = validate.filter(|v| v != "strict") {
            let what = format!("validate: {mode} is not imported; Sluice always checks events");
            notes.unsupported(validate_path, what);
        }
    }
    let model = fields
        .take("catalog")
        .and_then(|(node, path)| catalog_ref(node, &path, notes));
    fields.finish(notes, "a model");
    if model.is_none() && name.is_some() {
        notes.unsupported(key_path(path, "catalog"), "a json model needs a `catalog`");
    }
    model.filter(|_| name.as_deref() == Some("json"))
}

fn catalog_ref(node: &Node, path: &str, notes: &mut Notes) -> Option<Model> {
    let entries = entries(node, path, notes)?;
    let first = entries.first()?;
    for extra in entries.iter().skip(1) {
        notes.unsupported(key_path(path, &extra.key), "a model names one catalog");
    }
    let catalog_path = key_path(path, &first.key);
    let items = list(&first.value, &catalog_path, notes)?;
    for extra in 1..items.len() {
        let what = "a route validates against one schema; only the first is imported";
        notes.unsupported(index_path(&catalog_path, extra), what);
    }
    let item_path = index_path(&catalog_path, 0);
    let mut fields = Fields::of(items.first()?, &item_path, notes)?;
    let subject = text(&mut fields, "subject", notes);
    let version = match fields.take("version") {
        Some((node, path)) => model_version(node, &path, notes)?,
        None => None,
    };
    fields.finish(
        notes,
        "a schema reference (by `subject` only; `id` and `strategy` are not imported)",
    );
    Some(Model {
        catalog: Ref {
            name: first.key.clone(),
            path: catalog_path,
        },
        subject: subject?,
        version,
    })
}

/// `latest` (`Some(None)`) or a version number (`Some(Some(n))`); `None` when invalid.
fn model_version(node: &Node, path: &str, notes: &mut Notes) -> Option<Option<u32>> {
    if matches!(&node.value, Value::Str(text) if text == "latest") {
        return Some(None);
    }
    let number = number(node, path, notes)?;
    let version = u32::try_from(number).ok().filter(|v| *v > 0);
    if version.is_none() {
        notes.unsupported(path, "a version is `latest` or a number from 1");
    }
    version.map(Some)
}

fn filesystem(options: &mut Fields<'_>, path: &str, notes: &mut Notes) -> Kind {
    let location = text(options, "location", notes);
    if location.is_none() {
        notes.unsupported(
            key_path(path, "location"),
            "a filesystem server needs `location`",
        );
    }
    if let Some((node, symlinks_path)) = options.take("symlinks") {
        match string(node, &symlinks_path, notes).as_deref() {
            Some("ignore") | None => {}
            Some("follow") => notes.difference(format!(
                "{symlinks_path}: Sluice follows symbolic links only while they stay inside \
                 the folder"
            )),
            Some(other) => {
                let what = format!("{other}: the choices are `follow` and `ignore`");
                notes.unsupported(symlinks_path, what);
            }
        }
    }
    Kind::Filesystem { location }
}

/// A binding's routes; which conditions, guards and `with` apply depends on `shape`.
fn routes(node: &Node, path: &str, shape: Shape, notes: &mut Notes) -> Vec<Route> {
    let items = list(node, path, notes).unwrap_or_default();
    let routes = items.iter().enumerate();
    routes
        .filter_map(|(i, item)| route(item, &index_path(path, i), shape, notes))
        .collect()
}

fn route(node: &Node, path: &str, shape: Shape, notes: &mut Notes) -> Option<Route> {
    let mut fields = Fields::of(node, path, notes)?;
    let mut route = Route {
        path: path.to_owned(),
        ..Route::default()
    };
    if let Some((node, when_path)) = fields.take("when") {
        route.when = conditions(node, &when_path, shape, notes);
    }
    let guardable = matches!(
        shape,
        Shape::HttpServer | Shape::SseServer | Shape::HttpFilesystem
    );
    if let Some((node, guarded_path)) = fields.take("guarded") {
        if guardable {
            route.guarded = guarded(node, &guarded_path, notes);
        } else {
            notes.unsupported(guarded_path, "guards on this binding are not imported");
        }
    }
    if shape == Shape::HttpFilesystem {
        route.with_path = fields.take("with").and_then(|(node, with_path)| {
            let mut with = Fields::of(node, &with_path, notes)?;
            let target = text(&mut with, "path", notes);
            with.finish(notes, "an http-filesystem `with`");
            target
        });
    }
    route.exit = fields
        .take("exit")
        .and_then(|(node, path)| reference(node, path, notes));
    if route.exit.is_none() {
        notes.unsupported(path, "a route needs an `exit`");
    }
    fields.finish(notes, "a route");
    Some(route)
}

fn guarded(node: &Node, path: &str, notes: &mut Notes) -> Vec<Guarded> {
    let mut found = Vec::new();
    for entry in entries(node, path, notes).unwrap_or_default() {
        let guard_path = key_path(path, &entry.key);
        let roles = strings(&entry.value, &guard_path, notes).unwrap_or_default();
        found.push(Guarded {
            guard: Ref {
                name: entry.key.clone(),
                path: guard_path,
            },
            roles,
        });
    }
    found
}

fn conditions(node: &Node, path: &str, shape: Shape, notes: &mut Notes) -> Vec<Condition> {
    let items = list(node, path, notes).unwrap_or_default();
    let mut found = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let item_path = index_path(path, i);
        let Some(mut fields) = Fields::of(item, &item_path, notes) else {
            continue;
        };
        let mut condition = Condition {
            path: item_path,
            ..Condition::default()
        };
        match shape {
            Shape::TcpServer => {
                if let Some((node, path)) = fields.take("port") {
                    condition.ports = ports(node, &path, notes);
                }
            }
            Shape::HttpServer => {
                if let Some((node, path)) = fields.take("headers") {
                    condition.headers = header_conditions(node, &path, notes);
                }
            }
            Shape::SseServer | Shape::HttpFilesystem => {
                condition.route_path = text(&mut fields, "path", notes);
            }
            _ => {}
        }
        fields.finish(notes, "a route condition on this binding");
        found.push(condition);
    }
    found
}

fn header_conditions(node: &Node, path: &str, notes: &mut Notes) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for entry in entries(node, path, notes).unwrap_or_default() {
        let header_path = key_path(path, &entry.key);
        if let Some(value) = string(&entry.value, &header_path, notes) {
            found.push((entry.key.clone(), value));
        }
    }
    found
}
