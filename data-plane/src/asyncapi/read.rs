//! Reading rules shared by the 2.6 and 3.0 readers: what marks an SSE channel, channel
//! addresses and parameters, servers as tenant hosts, traits, and message payloads.

use serde_json::Value;

use super::doc::{Doc, Node};
use super::names;
use super::payload::{self, Payload};
use super::security::Access;
use crate::route::PathTemplate;

/// What a reader found: the SSE channels and how the tenant is reached.
#[derive(Debug, Default)]
pub(super) struct Found {
    pub channels: Vec<SseChannel>,
    pub reach: Reach,
}

/// One channel served as an SSE stream.
#[derive(Debug)]
pub(super) struct SseChannel {
    /// The id the route is named after.
    pub id: String,
    /// The channel's path in the document, for errors.
    pub path: String,
    /// The HTTP path, `{param}` segments kept.
    pub address: String,
    pub access: Access,
    pub messages: Vec<Message>,
}

/// One message of a channel, as an event type and its schema.
#[derive(Debug)]
pub(super) struct Message {
    pub id: String,
    pub event: String,
    pub payload: Payload,
    /// The message's path in the document, for errors.
    pub path: String,
}

/// How requests reach the tenant, from the document's servers.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Reach {
    pub hosts: Vec<String>,
    pub path_prefix: Option<String>,
    /// Where the path prefix came from, for errors.
    pub prefix_from: Option<String>,
}

/// An object with traits applied: a key of its own wins, then the last trait that has it
/// (traits apply in order). Traits merge key by key at the top level.
#[derive(Debug)]
pub(super) struct Layered<'a> {
    pub own: Node<'a>,
    traits: Vec<Node<'a>>,
}

impl<'a> Layered<'a> {
    /// `own` with its `traits` list read.
    pub fn new(doc: &mut Doc<'a>, own: Node<'a>) -> Self {
        let listed = own
            .child("traits")
            .map(|t| doc.items(&t))
            .unwrap_or_default();
        let traits = listed.into_iter().filter_map(|t| doc.deref(t)).collect();
        Self { own, traits }
    }

    /// The field under `key`, `$ref` followed.
    pub fn field(&self, doc: &mut Doc<'a>, key: &str) -> Option<Node<'a>> {
        let layers = std::iter::once(&self.own).chain(self.traits.iter().rev());
        let found = layers.filter_map(|layer| layer.child(key)).next()?;
        doc.deref(found)
    }

    /// The string under `key`; another type is recorded.
    pub fn text(&self, doc: &mut Doc<'a>, key: &str) -> Option<&'a str> {
        let node = self.field(doc, key)?;
        let text = node.value.as_str();
        if text.is_none() {
            doc.notes.error(node.path(), "must be a string");
        }
        text
    }
}

/// Reads a bindings object: `true` when it marks SSE (`x-zilla-sse`, or an HTTP binding
/// with method GET). Bindings of other protocols are recorded as errors; other extensions
/// are ignored with a warning.
pub(super) fn bindings<'a>(doc: &mut Doc<'a>, node: Option<Node<'a>>) -> bool {
    let Some(node) = node.and_then(|n| doc.deref(n)) else {
        return false;
    };
    let mut sse = false;
    for (key, binding) in doc.entries(&node) {
        let path = binding.path();
        match key {
            "x-zilla-sse" => sse = true,
            "http" => sse |= http_binding(doc, binding),
            _ if key.starts_with("x-") => doc.notes.warn(&path, "ignored: not read by Sluice"),
            _ => doc.notes.error(path, "only SSE channels are imported"),
        }
    }
    sse
}

/// An HTTP binding: `true` for method GET; another method is an error, since a stream is
/// opened with GET.
fn http_binding<'a>(doc: &mut Doc<'a>, binding: Node<'a>) -> bool {
    let Some(binding) = doc.deref(binding) else {
        return false;
    };
    let Some(method) = doc.text(&binding, "method") else {
        return false;
    };
    if method.eq_ignore_ascii_case("GET") {
        return true;
    }
    let message = format!("an SSE stream is opened with GET, not `{method}`");
    doc.notes.error(binding.path_of("method"), message);
    false
}

/// Whether `true` is written at `key` (Sluice's own `x-sluice-sse` marker).
pub(super) fn flag<'a>(doc: &mut Doc<'a>, layered: &Layered<'a>, key: &str) -> bool {
    let node = layered.field(doc, key);
    node.is_some_and(|n| n.value == &Value::Bool(true))
}

/// Reads what a message says about its transport: `true` when its content type (else the
/// document's default) is `text/event-stream` or its bindings mark SSE. Headers are
/// ignored with a warning, since SSE events have none.
pub(super) fn message_marks<'a>(
    doc: &mut Doc<'a>,
    message: &Layered<'a>,
    default_sse: bool,
) -> bool {
    let mut sse = match message.field(doc, "contentType") {
        Some(node) => match node.value.as_str() {
            Some(text) => content_type(doc, text, node.path()),
            None => {
                doc.notes.error(node.path(), "must be a string");
                false
            }
        },
        None => default_sse,
    };
    let bound = message.field(doc, "bindings");
    sse |= bindings(doc, bound);
    if let Some(headers) = message.field(doc, "headers") {
        doc.notes
            .warn(&headers.path(), "ignored: SSE events carry no headers");
    }
    sse
}

/// Checks a content type: `true` for `text/event-stream`; JSON types are accepted; others
/// are recorded, since Sluice validates event data as JSON.
pub(super) fn content_type(doc: &mut Doc<'_>, content_type: &str, path: String) -> bool {
    let media_type = content_type.split(';').next().unwrap_or_default().trim();
    let media_type = media_type.to_ascii_lowercase();
    if media_type == "text/event-stream" {
        return true;
    }
    if media_type != "application/json" && !media_type.ends_with("+json") {
        let message = format!(
            "content type `{content_type}` is not supported: Sluice validates event data as JSON"
        );
        doc.notes.error(path, message);
    }
    false
}

/// Checks a channel address as a route path; `false` (recorded) when it cannot be one.
pub(super) fn address(doc: &mut Doc<'_>, address: &str, path: String) -> bool {
    if !address.starts_with('/') {
        let message = format!("`{address}` must start with `/`: an SSE channel is an HTTP path");
        doc.notes.error(path, message);
        return false;
    }
    if let Err(error) = PathTemplate::parse(address) {
        doc.notes
            .error(path, format!("`{address}` is not a route path: {error}"));
        return false;
    }
    true
}

/// Reads channel parameters: a parameter's values cannot be restricted by a route, so
/// `enum` and `default` are reported as not enforced. `schema` is where 2.6 keeps them.
pub(super) fn parameters<'a>(doc: &mut Doc<'a>, node: Option<Node<'a>>, address: &str) {
    let Some(node) = node.and_then(|n| doc.deref(n)) else {
        return;
    };
    for (name, parameter) in doc.entries(&node) {
        let Some(parameter) = doc.deref(parameter) else {
            continue;
        };
        if !address.contains(&format!("{{{name}}}")) {
            doc.notes
                .warn(&parameter.path(), "not in the channel address; ignored");
        }
        let schema = parameter.child("schema").and_then(|s| doc.deref(s));
        for holder in std::iter::once(&parameter).chain(schema.as_ref()) {
            for key in ["enum", "default"] {
                if holder.child(key).is_some() {
                    let path = holder.path_of(key);
                    doc.notes
                        .warn(&path, "not enforced: a route accepts any one segment");
                }
            }
        }
    }
}

/// Adds one server's host and path to the tenant's reach. Only HTTP servers are imported.
/// A server with a path gives the tenant a path prefix (on any host); one without gives it
/// a host.
pub(super) fn server<'a>(doc: &mut Doc<'a>, reach: &mut Reach, node: &Node<'a>, host: &str) {
    let protocol = doc.text(node, "protocol");
    if let Some(protocol) = protocol.filter(|p| !matches!(*p, "http" | "https")) {
        let message = format!("only http and https servers are imported; `{protocol}` is not");
        doc.notes.error(node.path_of("protocol"), message);
        return;
    }
    let (host, pathname) = match host.split_once('/') {
        Some((host, path)) => (host, format!("/{path}")),
        None => (host, String::new()),
    };
    let pathname = doc.text(node, "pathname").map_or(pathname, str::to_owned);
    let prefix = pathname.trim_end_matches('/');
    if !prefix.is_empty() {
        return path_prefix(doc, reach, node, prefix);
    }
    if let Some(host) = host_name(doc, node, host)
        && !reach.hosts.contains(&host)
    {
        reach.hosts.push(host);
    }
}

fn path_prefix(doc: &mut Doc<'_>, reach: &mut Reach, node: &Node<'_>, prefix: &str) {
    match (&reach.path_prefix, &reach.prefix_from) {
        (Some(held), Some(from)) if held != prefix => {
            let message = format!(
                "servers with different paths cannot share one tenant path prefix: `{prefix}` \
                 here, `{held}` at {from}"
            );
            doc.notes.error(node.path(), message);
        }
        (Some(_), _) => {}
        (None, _) => {
            reach.path_prefix = Some(prefix.to_owned());
            reach.prefix_from = Some(node.path());
        }
    }
}

/// A tenant host from a server host: port and trailing dot removed, lower-cased. A variable
/// standing for the first label becomes a `*.` wildcard; other variables take their
/// `default`.
fn host_name<'a>(doc: &mut Doc<'a>, node: &Node<'a>, host: &str) -> Option<String> {
    let host = strip_port(host).trim_end_matches('.').to_ascii_lowercase();
    let host = match host.strip_prefix('{').and_then(|h| h.split_once("}.")) {
        Some((name, rest)) if !name.contains(['{', '}']) && !rest.contains('{') => {
            format!("*.{rest}")
        }
        _ => substitute(doc, node, &host)?,
    };
    if host.is_empty() || host.starts_with('.') || host.contains(['{', '}', ' ']) {
        let message = format!("`{host}` is not a host name");
        doc.notes.error(node.path(), message);
        return None;
    }
    Some(host)
}

/// `host` without a `:port` suffix; a bracketed IPv6 address keeps its brackets.
fn strip_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty() => {
            if name.starts_with('[') || !name.contains(':') {
                name
            } else {
                host
            }
        }
        _ => host,
    }
}

/// `host` with each `{name}` replaced by that server variable's `default`.
fn substitute<'a>(doc: &mut Doc<'a>, node: &Node<'a>, host: &str) -> Option<String> {
    let mut out = String::with_capacity(host.len());
    let mut rest = host;
    while let Some((before, after)) = rest.split_once('{') {
        out.push_str(before);
        let (name, after) = after.split_once('}')?;
        let variable = node.child("variables").and_then(|v| v.child(name));
        let default = variable
            .and_then(|v| doc.deref(v))
            .and_then(|v| doc.text(&v, "default"));
        let Some(default) = default else {
            let message = format!("host variable `{name}` needs a `default` to give a host");
            doc.notes.error(node.path(), message);
            return None;
        };
        out.push_str(&default.to_ascii_lowercase());
        rest = after;
    }
    out.push_str(rest);
    Some(out)
}

/// The event type of a message: its `name`, else its id; a name SSE cannot carry is recorded.
pub(super) fn event_name<'a>(doc: &mut Doc<'a>, message: &Layered<'a>, id: &str) -> Option<String> {
    let name = message.text(doc, "name").unwrap_or(id);
    if !names::valid_event_name(name) {
        let message_path = message.own.path_of("name");
        doc.notes.error(
            message_path,
            format!("`{name}` cannot be an SSE event type"),
        );
        return None;
    }
    Some(name.to_owned())
}

/// The payload schema of a message, `schema_node` being where the JSON Schema is; its
/// absence is recorded.
pub(super) fn payload<'a>(
    doc: &mut Doc<'a>,
    message: &Layered<'a>,
    schema_node: Option<Node<'a>>,
) -> Option<Payload> {
    let Some(schema_node) = schema_node else {
        let text =
            "the message has no payload schema: Sluice maps each event type to a JSON Schema";
        doc.notes.error(message.own.path(), text);
        return None;
    };
    payload::bundle(doc, schema_node)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn errors(doc: &Doc<'_>) -> Vec<String> {
        doc.notes.errors.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn servers_give_hosts_or_one_path_prefix() {
        let root = json!({ "servers": {
            "a": { "host": "Acme.Example:8443", "protocol": "https" },
            "b": { "host": "{tenant}.acme.example", "protocol": "https" },
            "c": { "host": "{env}-api.example", "protocol": "http", "variables": { "env": { "default": "Prod" } } },
            "d": { "host": "sse.example", "protocol": "https", "pathname": "/t/acme/" },
            "e": { "host": "sse.example", "protocol": "https", "pathname": "/t/other" },
            "f": { "host": "broker:9092", "protocol": "kafka" },
            "g": { "host": "{x}{y}.example", "protocol": "https" }
        } });
        let mut doc = Doc::new(&root);
        let mut reach = Reach::default();
        let servers = doc.top().child("servers").expect("present");
        for (_, node) in doc.entries(&servers) {
            let host = node.value["host"].as_str().unwrap_or_default();
            server(&mut doc, &mut reach, &node, host);
        }
        assert_eq!(
            reach.hosts,
            ["acme.example", "*.acme.example", "prod-api.example"]
        );
        assert_eq!(reach.path_prefix.as_deref(), Some("/t/acme"));
        assert_eq!(
            errors(&doc),
            [
                "servers.e: servers with different paths cannot share one tenant path prefix: \
                 `/t/other` here, `/t/acme` at servers.d",
                "servers.f.protocol: only http and https servers are imported; `kafka` is not",
                "servers.g: host variable `x` needs a `default` to give a host",
            ]
        );
    }

    #[test]
    fn ports_are_stripped_but_ipv6_brackets_stay() {
        assert_eq!(strip_port("a.example:80"), "a.example");
        assert_eq!(strip_port("a.example"), "a.example");
        assert_eq!(strip_port("[::1]:8080"), "[::1]");
        assert_eq!(strip_port("::1"), "::1");
        assert_eq!(strip_port(":80"), ":80");
    }

    #[test]
    fn bindings_mark_sse_or_name_the_foreign_protocol() {
        let root = json!({
            "zilla": { "x-zilla-sse": {} },
            "get": { "http": { "method": "get" } },
            "post": { "http": { "method": "POST" } },
            "kafka": { "kafka": { "topic": "t" }, "x-other": {} }
        });
        let mut doc = Doc::new(&root);
        let top = doc.top();
        let marks: Vec<bool> = ["zilla", "get", "post", "kafka"]
            .iter()
            .map(|key| bindings(&mut doc, top.child(key)))
            .collect();
        assert_eq!(marks, [true, true, false, false]);
        assert_eq!(
            errors(&doc),
            [
                "post.http.method: an SSE stream is opened with GET, not `POST`",
                "kafka.kafka: only SSE channels are imported",
            ]
        );
        assert_eq!(
            doc.notes.warnings,
            ["kafka.x-other: ignored: not read by Sluice"]
        );
    }

    #[test]
    fn addresses_must_be_route_paths() {
        let root = json!({});
        let mut doc = Doc::new(&root);
        assert!(address(&mut doc, "/orders/{region}", "a".into()));
        assert!(!address(&mut doc, "orders", "b".into()));
        assert!(!address(&mut doc, "/orders/{region}.json", "c".into()));
        let found = errors(&doc);
        assert_eq!(
            found[0],
            "b: `orders` must start with `/`: an SSE channel is an HTTP path"
        );
        assert!(found[1].starts_with("c: `/orders/{region}.json` is not a route path: "));
        assert_eq!(found.len(), 2);
    }

    #[test]
    fn content_types_accept_json_and_event_streams() {
        let root = json!({});
        let mut doc = Doc::new(&root);
        assert!(content_type(&mut doc, "text/event-stream", "a".into()));
        assert!(!content_type(
            &mut doc,
            "application/json; charset=utf-8",
            "b".into()
        ));
        assert!(!content_type(
            &mut doc,
            "application/cloudevents+json",
            "c".into()
        ));
        assert!(!content_type(&mut doc, "application/avro", "d".into()));
        assert_eq!(
            errors(&doc),
            [
                "d: content type `application/avro` is not supported: Sluice validates event data as JSON"
            ]
        );
    }

    #[test]
    fn traits_fill_what_the_object_leaves_out() {
        let root = json!({
            "m": { "name": "own", "traits": [ { "$ref": "#/t1" }, { "contentType": "b", "name": "t2" } ] },
            "t1": { "contentType": "a", "summary": "s" }
        });
        let mut doc = Doc::new(&root);
        let own = doc.top().child("m").expect("present");
        let layered = Layered::new(&mut doc, own);
        assert_eq!(layered.text(&mut doc, "name"), Some("own"));
        assert_eq!(layered.text(&mut doc, "contentType"), Some("b"));
        assert_eq!(layered.text(&mut doc, "summary"), Some("s"));
        assert_eq!(layered.text(&mut doc, "payload"), None);
    }
}
