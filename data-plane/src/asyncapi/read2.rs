//! The AsyncAPI 2.6 reader. Channels are keyed by their address; a channel's `subscribe`
//! operation (clients receive) becomes an SSE route when marked as in 3.0 (an `x-zilla-sse`
//! or HTTP GET binding, `x-sluice-sse: true`, or `text/event-stream` content). The route is
//! named after the operation's `operationId`, else the address. Security requirements are
//! `{scheme: [scopes]}` objects, on the operation or else on its servers.

use super::doc::{Doc, Node};
use super::payload;
use super::read::{self, Found, Layered, Message, SseChannel};
use super::security::{self, Access, Alternative};

const NOT_SSE: &str = "not an SSE operation: mark it with `bindings.x-zilla-sse`, an HTTP \
                       binding with `method: GET`, or `text/event-stream` content";

/// What every channel of the document shares.
struct Context<'a> {
    /// The resolved server objects, by name.
    servers: Vec<(&'a str, Node<'a>)>,
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
    let Some(channels) = doc.field(&top, "channels") else {
        return found;
    };
    for (address, item) in doc.entries(&channels) {
        let Some(item) = doc.deref(item) else {
            continue;
        };
        if let Some(sse) = sse_channel(doc, &context, address, &item) {
            found.channels.push(sse);
        }
    }
    found
}

fn servers<'a>(doc: &mut Doc<'a>, top: &Node<'a>, found: &mut Found) -> Vec<(&'a str, Node<'a>)> {
    let Some(servers) = doc.field(top, "servers") else {
        return Vec::new();
    };
    let mut named = Vec::new();
    for (name, server) in doc.entries(&servers) {
        let Some(server) = doc.deref(server) else {
            continue;
        };
        match doc.text(&server, "url") {
            // `https://host:port/path`, or the same without a scheme.
            Some(url) => {
                let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
                read::server(doc, &mut found.reach, &server, rest);
            }
            None if server.child("url").is_none() => {
                doc.notes.error(server.path(), "a server needs a `url`");
            }
            None => {}
        }
        named.push((name, server));
    }
    named
}

fn sse_channel<'a>(
    doc: &mut Doc<'a>,
    context: &Context<'a>,
    address: &'a str,
    item: &Node<'a>,
) -> Option<SseChannel> {
    let mut sse = read::bindings(doc, item.child("bindings"));
    let address_ok = read::address(doc, address, item.path());
    let subscribe = subscribe(doc, item)?;
    let operation = doc.deref(subscribe)?;
    let operation = Layered::new(doc, operation);
    let bound = operation.field(doc, "bindings");
    sse |= read::bindings(doc, bound);
    sse |= read::flag(doc, &operation, "x-sluice-sse");
    let messages = messages(doc, context, &operation, &mut sse);
    if !sse {
        doc.notes.error(operation.own.path(), NOT_SSE);
    }
    let access = access(doc, context, item, &operation);
    read::parameters(doc, item.child("parameters"), address);
    let id = operation.text(doc, "operationId").unwrap_or(address);
    address_ok.then(|| SseChannel {
        id: id.to_owned(),
        path: item.path(),
        address: address.to_owned(),
        access,
        messages,
    })
}

/// The channel's `subscribe` operation; a `publish` one, or none at all, is recorded.
fn subscribe<'a>(doc: &mut Doc<'a>, item: &Node<'a>) -> Option<Node<'a>> {
    let publish = item.child("publish");
    if let Some(publish) = &publish {
        let message = "publish operations (clients sending) are not supported: only `subscribe` \
                       operations, streamed to clients over SSE, are imported";
        doc.notes.error(publish.path(), message);
    }
    let subscribe = item.child("subscribe");
    if subscribe.is_none() && publish.is_none() {
        let message = "no `subscribe` operation: only channels streamed to clients over SSE are \
                       imported";
        doc.notes.error(item.path(), message);
    }
    subscribe
}

/// The operation's message, or each of its `oneOf` messages, read.
fn messages<'a>(
    doc: &mut Doc<'a>,
    context: &Context<'a>,
    operation: &Layered<'a>,
    sse: &mut bool,
) -> Vec<Message> {
    let Some(written) = operation.own.child("message") else {
        return Vec::new();
    };
    let Some(resolved) = doc.deref(written.clone()) else {
        return Vec::new();
    };
    let nodes = match resolved.child("oneOf") {
        Some(list) => doc.items(&list),
        None => vec![written],
    };
    let mut messages = Vec::new();
    for node in nodes {
        if let Some(message) = message(doc, context, node, sse) {
            messages.push(message);
        }
    }
    messages
}

fn message<'a>(
    doc: &mut Doc<'a>,
    context: &Context<'a>,
    node: Node<'a>,
    sse: &mut bool,
) -> Option<Message> {
    let node = doc.deref(node)?;
    doc.object(&node)?;
    let message = Layered::new(doc, node);
    *sse |= read::message_marks(doc, &message, context.default_sse);
    let id = message_id(doc, &message);
    let event = match &id {
        Some(id) => read::event_name(doc, &message, id),
        None => None,
    };
    let format = message.field(doc, "schemaFormat");
    let text = format
        .as_ref()
        .and_then(|f| f.value.as_str())
        .unwrap_or_default();
    if let Some(format) = format.filter(|_| !payload::json_schema_format(text)) {
        payload::refuse_format(doc, format.path(), text);
        return None;
    }
    let payload = read::payload(doc, &message, message.own.child("payload"))?;
    let path = message.own.path();
    Some(Message {
        id: id?,
        event: event?,
        payload,
        path,
    })
}

/// `messageId`, else the key under `components.messages`, else `name`.
fn message_id<'a>(doc: &mut Doc<'a>, message: &Layered<'a>) -> Option<String> {
    let own = &message.own;
    let component = own
        .is_entry_of(&["components", "messages"])
        .then(|| own.last_key());
    let id = message
        .text(doc, "messageId")
        .or(component.flatten())
        .or_else(|| message.text(doc, "name"));
    if id.is_none() {
        let text = "a message needs a `messageId` or a `name`, or to live in components.messages";
        doc.notes.error(own.path(), text);
    }
    id.map(str::to_owned)
}

/// Who may open the route: the operation's security requirements, else its servers'.
fn access<'a>(
    doc: &mut Doc<'a>,
    context: &Context<'a>,
    item: &Node<'a>,
    operation: &Layered<'a>,
) -> Access {
    let list = match operation.field(doc, "security") {
        Some(list) => Some(list),
        None => server_security(doc, context, item),
    };
    let mut alternatives = Vec::new();
    for requirement in list.map(|l| doc.items(&l)).unwrap_or_default() {
        let Some(requirement) = doc.deref(requirement) else {
            continue;
        };
        let entries = doc.entries(&requirement);
        match entries.as_slice() {
            [] => {
                let text = "an empty requirement lets anyone in: the route is public";
                doc.notes.warn(&requirement.path(), text);
                return security::combine(doc, Vec::new());
            }
            [(name, scopes)] => alternatives.extend(alternative(doc, name, scopes)),
            _ => {
                let text = "a requirement naming several schemes at once is not supported: \
                            Sluice checks one token";
                doc.notes.error(requirement.path(), text);
            }
        }
    }
    security::combine(doc, alternatives)
}

fn alternative<'a>(doc: &mut Doc<'a>, name: &str, scopes: &Node<'a>) -> Option<Alternative> {
    let top = doc.top();
    let scheme = doc
        .field(&top, "components")
        .and_then(|c| doc.field(&c, "securitySchemes"))
        .and_then(|s| doc.field(&s, name));
    let Some(scheme) = scheme else {
        let text = format!("no security scheme `{name}` in components.securitySchemes");
        doc.notes.error(scopes.path(), text);
        return None;
    };
    let source = security::scheme_source(doc, &scheme)?;
    Some(Alternative {
        source,
        scopes: security::scopes(doc, scopes),
        path: scopes.path(),
    })
}

/// The `security` shared by the servers the channel is on (its `servers`, else all); when
/// they differ the operation must say, which is recorded.
fn server_security<'a>(
    doc: &mut Doc<'a>,
    context: &Context<'a>,
    item: &Node<'a>,
) -> Option<Node<'a>> {
    let names = item.child("servers").map(|list| doc.strings(&list));
    let on_channel = |name: &str| names.as_ref().is_none_or(|names| names.contains(&name));
    let lists: Vec<Option<Node<'a>>> = context
        .servers
        .iter()
        .filter(|(name, _)| on_channel(name))
        .map(|(_, server)| server.child("security"))
        .collect();
    let first = lists.first().cloned().flatten();
    let first_value = first.as_ref().map(|n| n.value);
    if lists
        .iter()
        .any(|list| list.as_ref().map(|n| n.value) != first_value)
    {
        let text = "the channel's servers differ in security: give the operation its own \
                    `security`";
        doc.notes.error(item.path(), text);
    }
    first
}
