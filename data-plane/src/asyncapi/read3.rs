//! The AsyncAPI 3.0 reader. A channel becomes an SSE route when one `receive` operation
//! reads it and something marks SSE: `bindings.x-zilla-sse`, an HTTP binding with method
//! GET, `x-sluice-sse: true`, or `text/event-stream` content. Security comes from the
//! operation's `security` list (scheme objects; `scopes` on them, plus Sluice's own
//! `x-sluice-scopes` on the operation), else from the channel's servers.

use super::doc::{Doc, Node};
use super::payload;
use super::read::{self, Found, Layered, Message, SseChannel};
use super::security::{self, Access, Alternative};

const NOT_SSE: &str = "not an SSE operation: mark it with `bindings.x-zilla-sse`, an HTTP \
                       binding with `method: GET`, or `text/event-stream` content";

/// What every channel of the document shares.
struct Context<'a> {
    /// The resolved server objects.
    servers: Vec<Node<'a>>,
    /// Whether `defaultContentType` is `text/event-stream`.
    default_sse: bool,
}

/// Finds the document's SSE channels and servers; problems are recorded in `doc`.
pub(super) fn read(doc: &mut Doc<'_>) -> Found {
    let top = doc.top();
    let mut found = Found::default();
    let servers = servers(doc, &top, &mut found);
    let default_type = doc.text(&top, "defaultContentType");
    let default_sse =
        default_type.is_some_and(|t| read::content_type(doc, t, "defaultContentType".to_owned()));
    let context = Context {
        servers,
        default_sse,
    };
    let operations = operations(doc, &top);
    let Some(channels) = doc.field(&top, "channels") else {
        return found;
    };
    for (id, channel) in doc.entries(&channels) {
        let Some(channel) = doc.deref(channel) else {
            continue;
        };
        let reading: Vec<&Node<'_>> = operations
            .iter()
            .filter(|(channel_id, _)| channel_id == id)
            .map(|(_, operation)| operation)
            .collect();
        if let Some(sse) = sse_channel(doc, &context, id, &channel, &reading) {
            found.channels.push(sse);
        }
    }
    found
}

fn servers<'a>(doc: &mut Doc<'a>, top: &Node<'a>, found: &mut Found) -> Vec<Node<'a>> {
    let Some(servers) = doc.field(top, "servers") else {
        return Vec::new();
    };
    let mut nodes = Vec::new();
    for (_, server) in doc.entries(&servers) {
        let Some(server) = doc.deref(server) else {
            continue;
        };
        match doc.text(&server, "host") {
            Some(host) => read::server(doc, &mut found.reach, &server, host),
            None if server.child("host").is_none() => {
                doc.notes.error(server.path(), "a server needs a `host`");
            }
            None => {}
        }
        nodes.push(server);
    }
    nodes
}

/// Each operation with the id of the channel it names.
fn operations<'a>(doc: &mut Doc<'a>, top: &Node<'a>) -> Vec<(String, Node<'a>)> {
    let Some(operations) = doc.field(top, "operations") else {
        return Vec::new();
    };
    let mut found = Vec::new();
    for (_, operation) in doc.entries(&operations) {
        let Some(operation) = doc.deref(operation) else {
            continue;
        };
        let Some(channel) = operation.child("channel") else {
            doc.notes
                .error(operation.path(), "an operation needs a `channel`");
            continue;
        };
        match channel_id(doc, &channel) {
            Some(id) => found.push((id, operation)),
            None => doc.notes.error(
                channel.path(),
                "must be a reference to a channel in `channels` (`#/channels/…`)",
            ),
        }
    }
    found
}

fn channel_id(doc: &Doc<'_>, channel: &Node<'_>) -> Option<String> {
    let target = doc.pointer_target(channel.value.get("$ref")?).ok()?;
    let id = target.is_entry_of(&["channels"]).then(|| target.last_key());
    id.flatten().map(str::to_owned)
}

fn sse_channel<'a>(
    doc: &mut Doc<'a>,
    context: &Context<'a>,
    id: &str,
    channel: &Node<'a>,
    reading: &[&Node<'a>],
) -> Option<SseChannel> {
    let mut sse = read::bindings(doc, channel.child("bindings"));
    let address = address(doc, channel);
    let first = only_reader(doc, channel, reading)?;
    let operation = Layered::new(doc, first.clone());
    let receives = action(doc, &operation);
    let bound = operation.field(doc, "bindings");
    sse |= read::bindings(doc, bound);
    sse |= read::flag(doc, &operation, "x-sluice-sse");
    let messages = messages(doc, context, id, channel, &operation, &mut sse);
    if receives && !sse {
        doc.notes.error(operation.own.path(), NOT_SSE);
    }
    let access = access(doc, context, channel, &operation);
    let address = address?;
    read::parameters(doc, channel.child("parameters"), &address);
    let path = channel.path();
    let id = id.to_owned();
    Some(SseChannel {
        id,
        path,
        address,
        access,
        messages,
    })
}

fn address<'a>(doc: &mut Doc<'a>, channel: &Node<'a>) -> Option<String> {
    let path = channel.path_of("address");
    // AsyncAPI 3.0 allows a null or absent address ("unknown"); a route cannot.
    let written = channel.child("address").filter(|a| !a.value.is_null());
    if written.is_none() {
        doc.notes
            .error(path, "missing: an SSE route needs the channel's HTTP path");
        return None;
    }
    let address = doc.text(channel, "address")?;
    read::address(doc, address, path).then(|| address.to_owned())
}

/// The one operation reading the channel; none, or more than one, is recorded.
fn only_reader<'a, 'n>(
    doc: &mut Doc<'a>,
    channel: &Node<'a>,
    reading: &[&'n Node<'a>],
) -> Option<&'n Node<'a>> {
    let Some((first, others)) = reading.split_first() else {
        let message = "no operation receives from this channel: only channels streamed to \
                       clients over SSE are imported";
        doc.notes.error(channel.path(), message);
        return None;
    };
    for other in others {
        let message = format!(
            "only one operation per channel is imported, and {} already reads this channel",
            first.path()
        );
        doc.notes.error(other.path(), message);
    }
    Some(first)
}

/// Whether the operation receives; `send` and anything else are recorded.
fn action<'a>(doc: &mut Doc<'a>, operation: &Layered<'a>) -> bool {
    if let Some(reply) = operation.field(doc, "reply") {
        let message = "replies are not supported: an SSE stream only flows to the client";
        doc.notes.error(reply.path(), message);
    }
    match operation.text(doc, "action") {
        Some("receive") => true,
        Some(other) => {
            let message = format!(
                "only `receive` operations (clients reading a stream) are imported; `{other}` is not"
            );
            doc.notes.error(operation.own.path_of("action"), message);
            false
        }
        None => {
            let message = "an operation needs an `action`";
            doc.notes.error(operation.own.path(), message);
            false
        }
    }
}

/// The operation's messages (those it lists, else all of its channel's), each read.
fn messages<'a>(
    doc: &mut Doc<'a>,
    context: &Context<'a>,
    id: &str,
    channel: &Node<'a>,
    operation: &Layered<'a>,
    sse: &mut bool,
) -> Vec<Message> {
    let nodes: Vec<Node<'a>> = match operation.field(doc, "messages") {
        Some(list) => doc
            .items(&list)
            .into_iter()
            .filter_map(|item| listed_message(doc, id, item))
            .collect(),
        None => match channel.child("messages").and_then(|m| doc.deref(m)) {
            Some(map) => doc.entries(&map).into_iter().map(|(_, m)| m).collect(),
            None => Vec::new(),
        },
    };
    let mut messages = Vec::new();
    for node in nodes {
        if let Some(message) = message(doc, context, node, sse) {
            messages.push(message);
        }
    }
    messages
}

/// An operation's message reference, which must name a message of its channel.
fn listed_message<'a>(doc: &mut Doc<'a>, channel_id: &str, item: Node<'a>) -> Option<Node<'a>> {
    let target = item.value.get("$ref").map(|r| doc.pointer_target(r));
    match target {
        Some(Ok(target)) if target.is_entry_of(&["channels", channel_id, "messages"]) => Some(item),
        _ => {
            let message = format!(
                "must be a reference to a message of this operation's channel \
                 (`#/channels/{channel_id}/messages/…`)"
            );
            doc.notes.error(item.path(), message);
            None
        }
    }
}

fn message<'a>(
    doc: &mut Doc<'a>,
    context: &Context<'a>,
    node: Node<'a>,
    sse: &mut bool,
) -> Option<Message> {
    let node = doc.deref(node)?;
    doc.object(&node)?;
    let id = node.last_key().unwrap_or("message").to_owned();
    let message = Layered::new(doc, node);
    *sse |= read::message_marks(doc, &message, context.default_sse);
    let event = read::event_name(doc, &message, &id);
    let schema_node = match message.own.child("payload") {
        // Message traits cannot carry a payload (AsyncAPI 3.0, Message Trait Object).
        Some(written) => Some(schema_node(doc, written)?),
        None => None,
    };
    let payload = read::payload(doc, &message, schema_node)?;
    let path = message.own.path();
    Some(Message {
        id,
        event: event?,
        payload,
        path,
    })
}

/// Where the payload's JSON Schema is: the payload as written, or the `schema` of a
/// multi-format schema object (whose `schemaFormat` must name JSON Schema). `None` when
/// that is refused, which is recorded.
fn schema_node<'a>(doc: &mut Doc<'a>, written: Node<'a>) -> Option<Node<'a>> {
    let payload = doc.deref(written.clone())?;
    let Some(format) = payload.child("schemaFormat") else {
        return Some(written);
    };
    let text = format.value.as_str().unwrap_or_default();
    if !payload::json_schema_format(text) {
        payload::refuse_format(doc, format.path(), text);
        return None;
    }
    let schema = payload.child("schema");
    if schema.is_none() {
        doc.notes
            .error(payload.path(), "a multi-format schema needs a `schema`");
    }
    schema
}

/// Who may open the route: the operation's security, else its servers'.
fn access<'a>(
    doc: &mut Doc<'a>,
    context: &Context<'a>,
    channel: &Node<'a>,
    operation: &Layered<'a>,
) -> Access {
    let extra = operation.field(doc, "x-sluice-scopes");
    let extra_path = extra.as_ref().map(Node::path);
    let extra = extra.map(|n| security::scopes(doc, &n)).unwrap_or_default();
    let list = match operation.field(doc, "security") {
        Some(list) => Some(list),
        None => server_security(doc, context, channel),
    };
    let items = list.map(|l| doc.items(&l)).unwrap_or_default();
    let alternatives: Vec<Alternative> = items
        .into_iter()
        .filter_map(|item| alternative(doc, item, &extra))
        .collect();
    if alternatives.is_empty() && !extra.is_empty() {
        let message = "scopes need a security scheme on the operation";
        doc.notes.error(extra_path.unwrap_or_default(), message);
    }
    security::combine(doc, alternatives)
}

fn alternative<'a>(doc: &mut Doc<'a>, item: Node<'a>, extra: &[String]) -> Option<Alternative> {
    let path = item.path();
    let scheme = doc.deref(item)?;
    let source = security::scheme_source(doc, &scheme)?;
    let own = scheme.child("scopes").and_then(|s| doc.deref(s));
    let mut scopes = own.map(|s| security::scopes(doc, &s)).unwrap_or_default();
    for scope in extra {
        if !scopes.contains(scope) {
            scopes.push(scope.clone());
        }
    }
    Some(Alternative {
        source,
        scopes,
        path,
    })
}

/// The `security` shared by the servers the channel is on (its `servers`, else all); when
/// they differ the operation must say, which is recorded.
fn server_security<'a>(
    doc: &mut Doc<'a>,
    context: &Context<'a>,
    channel: &Node<'a>,
) -> Option<Node<'a>> {
    let servers: Vec<Node<'a>> = match channel.child("servers") {
        Some(list) => doc
            .items(&list)
            .into_iter()
            .filter_map(|s| doc.deref(s))
            .collect(),
        None => context.servers.clone(),
    };
    let lists: Vec<Option<Node<'a>>> = servers.iter().map(|s| s.child("security")).collect();
    let first = lists.first().cloned().flatten();
    let first_value = first.as_ref().map(|n| n.value);
    if lists
        .iter()
        .any(|list| list.as_ref().map(|n| n.value) != first_value)
    {
        let message = "the channel's servers differ in security: give the operation its own \
                       `security`";
        doc.notes.error(channel.path(), message);
    }
    first
}
