//! AsyncAPI 2.6 and 3.0 documents in: the version is checked, the reader for it finds the
//! SSE channels, and they are assembled into one tenant. Either every channel imports or
//! nothing does; every problem is reported with its document path.

use serde_json::{Value, json};

use super::doc::{Doc, Notes};
use super::names;
use super::read::{Found, SseChannel};
use super::security;
use super::{read2, read3};
use crate::config::{
    Auth, ConfigError, ConfigErrors, OrderedMap, Route, SchemaVersion, Tenant, key_path,
};

/// The deepest nesting a document may have, as for the declarative file.
const MAX_DEPTH: usize = 40;

/// What an import needs besides the document.
#[derive(Clone, Copy, Debug)]
pub struct ImportOptions<'a> {
    /// The tenant's name, used in messages.
    pub tenant: &'a str,
    /// The upstream base URL (`http://host:port[/path]`); a route's upstream URL is this
    /// followed by its channel's address.
    pub upstream: &'a str,
}

/// An imported tenant and what the operator should know about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Imported {
    /// The tenant: its hosts or path prefix, routes, schemas, and token settings.
    pub tenant: Tenant,
    /// Things left out or still to be done, each `path: what`; for example the token
    /// issuer and keys, which AsyncAPI does not carry.
    pub warnings: Vec<String>,
}

/// Imports an AsyncAPI 2.6 or 3.0 document (YAML or JSON) as a tenant. Each channel with an
/// SSE receive operation becomes a route named after the channel; each message's payload
/// becomes a schema (version 1) mapped to the message's event type.
pub fn import(text: &str, options: &ImportOptions<'_>) -> Result<Imported, ConfigErrors> {
    let root = parse(text)?;
    let base = check_options(options)?;
    let mut doc = Doc::new(&root);
    let found = match version(&root)? {
        Version::V2 => read2::read(&mut doc),
        Version::V3 => read3::read(&mut doc),
    };
    if found.channels.is_empty() && doc.notes.errors.is_empty() {
        doc.notes
            .error("channels", "the document has no SSE channels to import");
    }
    let tenant = assemble(&mut doc, found, &base, options.tenant);
    let Notes { errors, warnings } = doc.notes;
    errors.into_result(Imported { tenant, warnings })
}

/// The AsyncAPI versions read.
enum Version {
    V2,
    V3,
}

/// The document as a JSON value; YAML and JSON read alike.
fn parse(text: &str) -> Result<Value, ConfigError> {
    let mut options = serde_saphyr::Options::default();
    // YAML 1.1 spellings such as `yes` and `on` stay strings, as in the declarative file.
    options.strict_booleans = true;
    options.with_snippet = false;
    // Aliases are expanded into the value; real documents replay a few hundred events, so
    // an alias bomb is refused long before it costs much.
    options.alias_limits.max_total_replayed_events = 100_000;
    // Nesting recurses in the parser and in the bundling of payloads; a hostile document
    // must get an error, not a stack overflow. The declarative file allows as much.
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    options.budget = Some(budget);
    let value: Value =
        serde_saphyr::from_str_with_options(text, options).map_err(|e| yaml_error(&e))?;
    match value {
        Value::Object(_) => Ok(value),
        Value::Null => Err(ConfigError::new("", "the document is empty")),
        _ => Err(ConfigError::new("", "an AsyncAPI document is a mapping")),
    }
}

/// A reading error as the operator should see it: the parser's message without its
/// location suffix, placed at its line.
fn yaml_error(error: &serde_saphyr::Error) -> ConfigError {
    use serde_saphyr::{DefaultMessageFormatter, Error, MessageFormatter};
    let error = error.without_snippet();
    let message = match error {
        Error::MultipleDocuments { .. } => "the text holds more than one YAML document".into(),
        _ => DefaultMessageFormatter.format_message(error).into_owned(),
    };
    let line = error
        .location()
        .and_then(|l| usize::try_from(l.line()).ok());
    let message = format!("cannot read the document: {message}");
    ConfigError::new("", message).at_line(line.filter(|l| *l > 0))
}

fn version(root: &Value) -> Result<Version, ConfigError> {
    let error = |message: String| ConfigError::new("asyncapi", message);
    let Some(version) = root.get("asyncapi") else {
        let message = "missing: not an AsyncAPI document (2.6 and 3.0 are imported)";
        return Err(error(message.to_owned()));
    };
    let Some(version) = version.as_str() else {
        return Err(error("must be a string such as `3.0.0`".to_owned()));
    };
    let patch_of = |prefix: &str| {
        let patch = version.strip_prefix(prefix)?;
        (!patch.is_empty() && patch.bytes().all(|b| b.is_ascii_digit())).then_some(())
    };
    if patch_of("3.0.").is_some() {
        Ok(Version::V3)
    } else if patch_of("2.6.").is_some() {
        Ok(Version::V2)
    } else {
        let message = format!("version {version} is not supported (2.6 and 3.0 are)");
        Err(error(message))
    }
}

/// The upstream base without a trailing `/`, once the options are known to be usable.
fn check_options(options: &ImportOptions<'_>) -> Result<String, ConfigErrors> {
    let mut errors = ConfigErrors::new();
    if !names::valid_name(options.tenant) {
        let message = "must be 1 to 63 characters of a-z, 0-9, `_` and `-`, starting with a \
                       letter or digit";
        errors.push("tenant", message);
    }
    let base = options.upstream.trim_end_matches('/');
    let host = base
        .strip_prefix("http://")
        .or_else(|| base.strip_prefix("https://"))
        .map(|rest| rest.split('/').next().unwrap_or_default());
    let bad_char = |c: char| matches!(c, '?' | '#' | '{' | '}') || c.is_whitespace();
    if host.is_none_or(str::is_empty) || base.contains(bad_char) {
        let message = format!(
            "`{}` is not an upstream base URL: give http:// or https://, a host, and \
             optionally a path, with no query, fragment or `{{}}`",
            options.upstream
        );
        errors.push("upstream", message);
    }
    errors.into_result(base.to_owned())
}

/// The tenant made of what the reader found.
fn assemble(doc: &mut Doc<'_>, found: Found, base: &str, tenant_name: &str) -> Tenant {
    let mut routes = OrderedMap::new();
    let mut owners: Vec<(String, String, &str)> = Vec::new();
    let mut catalog = Catalog::default();
    for channel in &found.channels {
        let Some(name) = route_name(doc, channel, &owners) else {
            continue;
        };
        let events = events(doc, channel, &mut catalog);
        if let Some(route) = route(doc, channel, base, events) {
            routes.insert(name.clone(), route);
        }
        owners.push((name, channel.path.clone(), &channel.address));
    }
    let auth = auth(doc, &found.channels, tenant_name);
    if found.reach.hosts.is_empty() && found.reach.path_prefix.is_none() {
        let text = "add `hosts` or a `path_prefix`: the document names no HTTP server to take \
                    them from";
        doc.notes.warn(&key_path("tenants", tenant_name), text);
    }
    let schemas = catalog.schemas;
    Tenant {
        hosts: found.reach.hosts,
        path_prefix: found.reach.path_prefix,
        tls: None,
        auth,
        cors: None,
        limits: None,
        schemas,
        routes,
    }
}

/// The route name for `channel`, unless it is unusable or taken (recorded). Also refuses
/// a second channel at an address already routed.
fn route_name(
    doc: &mut Doc<'_>,
    channel: &SseChannel,
    owners: &[(String, String, &str)],
) -> Option<String> {
    let Some(name) = names::route_name(&channel.id) else {
        let message = format!(
            "cannot name a route after `{}`: use letters or digits in the id",
            channel.id
        );
        doc.notes.error(channel.path.clone(), message);
        return None;
    };
    for (owner, owner_path, address) in owners {
        if *owner == name {
            let message = format!("its route name `{name}` is already taken by {owner_path}");
            doc.notes.error(channel.path.clone(), message);
            return None;
        }
        if *address == channel.address {
            let message = format!("address `{address}` is also the address of {owner_path}");
            doc.notes.error(channel.path.clone(), message);
            return None;
        }
    }
    Some(name)
}

/// The route's event mapping: each message's event type to its schema, version 1.
fn events(doc: &mut Doc<'_>, channel: &SseChannel, catalog: &mut Catalog) -> OrderedMap<String> {
    let mut events: OrderedMap<String> = OrderedMap::new();
    for message in &channel.messages {
        let base = message.payload.component.as_deref().unwrap_or(&message.id);
        let schema = catalog.name_for(&names::component_key(base), &message.payload.schema);
        let reference = format!("{schema}@1");
        match events.get(&message.event) {
            Some(held) if *held != reference => {
                let text = format!(
                    "event `{}` is already mapped to `{held}` in this channel",
                    message.event
                );
                doc.notes.error(message.path.clone(), text);
            }
            _ => events.insert(message.event.clone(), reference),
        }
    }
    events
}

/// The route as the declarative file would give it with these settings written.
fn route(
    doc: &mut Doc<'_>,
    channel: &SseChannel,
    base: &str,
    events: OrderedMap<String>,
) -> Option<Route> {
    let written = json!({
        "path": channel.address,
        "public": channel.access.public,
        "scopes": channel.access.scopes,
        "upstream": { "url": format!("{base}{}", channel.address) },
    });
    match serde_json::from_value::<Route>(written) {
        Ok(route) => Some(Route { events, ..route }),
        Err(error) => {
            let message = format!("cannot make a route of it: {error}");
            doc.notes.error(channel.path.clone(), message);
            None
        }
    }
}

/// The tenant's token settings when any route needs a token: where tokens are read, with
/// the issuer, audiences and keys left for the operator (a warning says so).
fn auth(doc: &mut Doc<'_>, channels: &[SseChannel], tenant: &str) -> Option<Auth> {
    let guarded: Vec<_> = channels.iter().filter(|c| !c.access.public).collect();
    if guarded.is_empty() {
        return None;
    }
    let accesses: Vec<_> = guarded.iter().map(|c| &c.access).collect();
    let credentials = security::credentials(doc, &accesses);
    let path = key_path(&key_path("tenants", tenant), "auth");
    let text = "add `issuer`, `audiences`, and `keys` or a `jwks_url`: AsyncAPI does not carry \
                them, and the tenant cannot check tokens without them";
    doc.notes.warn(&path, text);
    let defaults = serde_json::from_value::<Auth>(json!({ "issuer": "" }));
    // Every other field has a default, so this only fails if the model changes.
    let auth = defaults
        .map_err(|e| doc.notes.error(path, e.to_string()))
        .ok()?;
    Some(Auth {
        credentials,
        ..auth
    })
}

/// The schemas found so far, by name.
#[derive(Default)]
struct Catalog {
    schemas: OrderedMap<Vec<SchemaVersion>>,
}

impl Catalog {
    /// The name `schema` is kept under: `base` when free or holding this same schema, else
    /// `base_2`, `base_3`, …
    fn name_for(&mut self, base: &str, schema: &Value) -> String {
        let same =
            |versions: &Vec<SchemaVersion>| versions.first().is_some_and(|v| &v.schema == schema);
        let name = names::unique(base, |name| {
            self.schemas.get(name).is_some_and(|held| !same(held))
        });
        if !self.schemas.contains_key(&name) {
            let version = SchemaVersion {
                version: 1,
                schema: schema.clone(),
            };
            self.schemas.insert(name.clone(), vec![version]);
        }
        name
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{self, OPTIONS};
    use super::*;

    fn errors_of(text: &str) -> Vec<String> {
        match import(text, &OPTIONS) {
            Ok(imported) => panic!("should fail, imported {imported:?}"),
            Err(errors) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn two_sse_channels_with_message_schemas_import_to_the_exact_tenant() {
        let imported = import(fixtures::ACME_3_0, &OPTIONS).expect("should import");
        assert_eq!(imported, fixtures::acme());
    }

    #[test]
    fn the_same_api_written_as_asyncapi_2_6_imports_the_same() {
        let imported = import(fixtures::ACME_2_6, &OPTIONS).expect("should import");
        assert_eq!(imported, fixtures::acme());
    }

    #[test]
    fn json_documents_import_like_yaml() {
        let value: Value = serde_saphyr::from_str(fixtures::ACME_3_0).expect("valid YAML");
        let text = serde_json::to_string(&value).expect("serializable");
        assert_eq!(import(&text, &OPTIONS), Ok(fixtures::acme()));
    }

    #[test]
    fn other_asyncapi_versions_are_refused_by_name() {
        let cases = [
            (
                "asyncapi: 2.0.0",
                "asyncapi: version 2.0.0 is not supported (2.6 and 3.0 are)",
            ),
            (
                "asyncapi: 3.1.0",
                "asyncapi: version 3.1.0 is not supported (2.6 and 3.0 are)",
            ),
            (
                "asyncapi: 3.0.",
                "asyncapi: version 3.0. is not supported (2.6 and 3.0 are)",
            ),
            ("asyncapi: 3", "asyncapi: must be a string such as `3.0.0`"),
            (
                "openapi: 3.1.0",
                "asyncapi: missing: not an AsyncAPI document (2.6 and 3.0 are imported)",
            ),
            ("- a list", "an AsyncAPI document is a mapping"),
            ("", "the document is empty"),
        ];
        for (text, expected) in cases {
            assert_eq!(errors_of(text), [expected], "{text}");
        }
    }

    #[test]
    fn unreadable_text_is_an_error_with_its_line() {
        let errors = import("asyncapi: 3.0.0\nchannels: [\n", &OPTIONS).expect_err("should fail");
        let error = errors.iter().next().expect("one error");
        assert_eq!(error.path, "");
        assert!(
            error.message.starts_with("cannot read the document: "),
            "{error}"
        );
        assert!(error.line.is_some(), "{error}");
    }

    #[test]
    fn bad_options_are_reported_before_reading_channels() {
        let options = ImportOptions {
            tenant: "Acme",
            upstream: "ftp://x/{a}",
        };
        let errors = import(fixtures::ACME_3_0, &options).expect_err("should fail");
        assert_eq!(
            errors.to_string(),
            "tenant: must be 1 to 63 characters of a-z, 0-9, `_` and `-`, starting with a \
             letter or digit\nupstream: `ftp://x/{a}` is not an upstream base URL: give \
             http:// or https://, a host, and optionally a path, with no query, fragment or `{}`"
        );
    }

    #[test]
    fn an_upstream_path_is_kept_before_the_address() {
        let options = ImportOptions {
            tenant: "acme",
            upstream: "https://backend.internal:9443/stream",
        };
        let imported = import(fixtures::ACME_3_0, &options).expect("should import");
        let urls: Vec<&str> = imported
            .tenant
            .routes
            .values()
            .filter_map(|r| r.upstream.as_ref().map(|u| u.url.as_str()))
            .collect();
        assert_eq!(
            urls,
            [
                "https://backend.internal:9443/stream/orders/{region}",
                "https://backend.internal:9443/stream/prices"
            ]
        );
    }

    #[test]
    fn a_document_without_sse_channels_is_refused() {
        let text = "asyncapi: 3.0.0\ninfo: { title: t, version: '1' }\n";
        assert_eq!(
            errors_of(text),
            ["channels: the document has no SSE channels to import"]
        );
    }

    /// A 3.0 document with one channel `c` read by operation `o`, each written as given,
    /// and message `m` in the components.
    fn v3(channel: Value, operation: Value, message: Value, extra: Value) -> String {
        let mut doc = json!({
            "asyncapi": "3.0.0",
            "info": { "title": "t", "version": "1" },
            "channels": { "c": channel },
            "operations": { "o": operation },
            "components": { "messages": { "m": message } }
        });
        if let (Some(doc), Some(extra)) = (doc.as_object_mut(), extra.as_object()) {
            doc.extend(extra.clone());
        }
        doc.to_string()
    }

    fn channel() -> Value {
        json!({ "address": "/c", "messages": { "m": { "$ref": "#/components/messages/m" } } })
    }

    fn operation() -> Value {
        json!({ "action": "receive", "channel": { "$ref": "#/channels/c" }, "x-sluice-sse": true })
    }

    fn message() -> Value {
        json!({ "payload": { "type": "object" } })
    }

    fn with(mut value: Value, key: &str, field: Value) -> Value {
        if let Some(object) = value.as_object_mut() {
            object.insert(key.to_owned(), field);
        }
        value
    }

    #[test]
    fn the_corpus_document_imports_when_nothing_is_changed() {
        let text = v3(channel(), operation(), message(), json!({}));
        let imported = import(&text, &OPTIONS).expect("should import");
        assert_eq!(imported.tenant.routes.keys().collect::<Vec<_>>(), ["c"]);
        let warning = "tenants.acme: add `hosts` or a `path_prefix`: the document names no HTTP \
                       server to take them from";
        assert_eq!(imported.warnings, [warning]);
    }

    #[test]
    fn each_unsupported_construct_is_named_by_its_path() {
        const NOT_SSE: &str = "operations.o: not an SSE operation: mark it with \
            `bindings.x-zilla-sse`, an HTTP binding with `method: GET`, or `text/event-stream` content";
        let plain_operation = json!({ "action": "receive", "channel": { "$ref": "#/channels/c" } });
        let cases: Vec<(&str, String, Vec<String>)> = vec![
            (
                "kafka channel",
                v3(with(channel(), "bindings", json!({ "kafka": { "topic": "t" } })), operation(), message(), json!({})),
                vec!["channels.c.bindings.kafka: only SSE channels are imported".into()],
            ),
            (
                "kafka operation",
                v3(channel(), with(plain_operation.clone(), "bindings", json!({ "kafka": {} })), message(), json!({})),
                vec!["operations.o.bindings.kafka: only SSE channels are imported".into(), NOT_SSE.into()],
            ),
            (
                "no SSE marker",
                v3(channel(), plain_operation.clone(), message(), json!({})),
                vec![NOT_SSE.into()],
            ),
            (
                "POST binding",
                v3(channel(), with(plain_operation, "bindings", json!({ "http": { "method": "POST" } })), message(), json!({})),
                vec![
                    "operations.o.bindings.http.method: an SSE stream is opened with GET, not `POST`".into(),
                    NOT_SSE.into(),
                ],
            ),
            (
                "send operation",
                v3(channel(), with(operation(), "action", json!("send")), message(), json!({})),
                vec!["operations.o.action: only `receive` operations (clients reading a stream) are imported; `send` is not".into()],
            ),
            (
                "reply",
                v3(channel(), with(operation(), "reply", json!({ "channel": { "$ref": "#/channels/c" } })), message(), json!({})),
                vec!["operations.o.reply: replies are not supported: an SSE stream only flows to the client".into()],
            ),
            (
                "avro payload",
                v3(channel(), operation(), json!({ "payload": { "schemaFormat": "application/vnd.apache.avro;version=1.9.0", "schema": { "type": "record" } } }), json!({})),
                vec!["components.messages.m.payload.schemaFormat: schema format `application/vnd.apache.avro;version=1.9.0` is not supported: Sluice validates events with JSON Schema (application/schema+json or AsyncAPI's own schema format)".into()],
            ),
            (
                "missing payload",
                v3(channel(), operation(), json!({ "name": "x" }), json!({})),
                vec!["components.messages.m: the message has no payload schema: Sluice maps each event type to a JSON Schema".into()],
            ),
            (
                "non-JSON content",
                v3(channel(), operation(), with(message(), "contentType", json!("application/avro")), json!({})),
                vec!["components.messages.m.contentType: content type `application/avro` is not supported: Sluice validates event data as JSON".into()],
            ),
            (
                "address without a leading slash",
                v3(with(channel(), "address", json!("orders.{id}")), operation(), message(), json!({})),
                vec!["channels.c.address: `orders.{id}` must start with `/`: an SSE channel is an HTTP path".into()],
            ),
            (
                "no address",
                v3(with(channel(), "address", Value::Null), operation(), message(), json!({})),
                vec!["channels.c.address: missing: an SSE route needs the channel's HTTP path".into()],
            ),
            (
                "unresolvable message $ref",
                v3(with(channel(), "messages", json!({ "m": { "$ref": "#/components/messages/gone" } })), operation(), message(), json!({})),
                vec!["channels.c.messages.m.$ref: `#/components/messages/gone` points at nothing in this document".into()],
            ),
            (
                "external $ref in a payload",
                v3(channel(), operation(), json!({ "payload": { "properties": { "a": { "$ref": "common.yaml#/A" } } } }), json!({})),
                vec!["components.messages.m.payload.properties.a.$ref: `common.yaml#/A` is outside this document: only references inside it (`#/…`) are followed".into()],
            ),
            (
                "reference cycle",
                v3(channel(), operation(), json!({ "$ref": "#/components/messages/m" }), json!({})),
                vec!["components.messages.m.$ref: the reference leads back to itself".into()],
            ),
            (
                "basic authentication",
                v3(channel(), with(operation(), "security", json!([{ "type": "http", "scheme": "basic" }])), message(), json!({})),
                vec!["operations.o.security[0].scheme: HTTP `basic` authentication is not supported: Sluice checks JWT bearer tokens".into()],
            ),
            (
                "SASL security",
                v3(channel(), with(operation(), "security", json!([{ "type": "scramSha256" }])), message(), json!({})),
                vec!["operations.o.security[0].type: security scheme type `scramSha256` is not supported: Sluice checks JWTs given as a bearer token (http, oauth2, openIdConnect) or by httpApiKey".into()],
            ),
            (
                "kafka server",
                v3(channel(), operation(), message(), json!({ "servers": { "broker": { "host": "b:9092", "protocol": "kafka" } } })),
                vec!["servers.broker.protocol: only http and https servers are imported; `kafka` is not".into()],
            ),
            (
                "channel nobody reads",
                v3(channel(), with(operation(), "channel", json!({ "$ref": "#/channels/other" })), message(), json!({ "channels": { "c": channel(), "other": { "address": "/x" } } })),
                vec!["channels.c: no operation receives from this channel: only channels streamed to clients over SSE are imported".into()],
            ),
            (
                "operation on a component channel",
                v3(channel(), with(operation(), "channel", json!({ "$ref": "#/components/messages/m" })), message(), json!({})),
                vec![
                    "operations.o.channel: must be a reference to a channel in `channels` (`#/channels/…`)".into(),
                    "channels.c: no operation receives from this channel: only channels streamed to clients over SSE are imported".into(),
                ],
            ),
            (
                "bad scope",
                v3(channel(), with(with(operation(), "security", json!([{ "type": "http", "scheme": "bearer" }])), "x-sluice-scopes", json!(["a b"])), message(), json!({})),
                vec!["operations.o.x-sluice-scopes[0]: `a b` is not a scope (no spaces, quotes or `\\`)".into()],
            ),
        ];
        assert!(cases.len() >= 10);
        for (what, text, expected) in cases {
            assert_eq!(errors_of(&text), expected, "{what}");
        }
    }

    #[test]
    fn asyncapi_2_6_constructs_are_named_by_their_path() {
        let doc = |channels: Value, components: Value| {
            json!({ "asyncapi": "2.6.0", "info": { "title": "t", "version": "1" },
                    "channels": channels, "components": components })
            .to_string()
        };
        let subscribe = json!({ "bindings": { "http": { "method": "GET" } },
                                "message": { "messageId": "m", "payload": { "type": "object" } } });
        let cases: Vec<(&str, String, Vec<&str>)> = vec![
            (
                "publish",
                doc(json!({ "/c": { "publish": subscribe.clone() } }), json!({})),
                vec![
                    "channels./c.publish: publish operations (clients sending) are not supported: only `subscribe` operations, streamed to clients over SSE, are imported",
                ],
            ),
            (
                "websocket channel",
                doc(
                    json!({ "/c": { "bindings": { "ws": {} }, "subscribe": subscribe.clone() } }),
                    json!({}),
                ),
                vec!["channels./c.bindings.ws: only SSE channels are imported"],
            ),
            (
                "avro schema format",
                doc(
                    json!({ "/c": { "subscribe": with(subscribe.clone(), "message", json!({ "messageId": "m", "schemaFormat": "application/vnd.apache.avro;version=1.9.0", "payload": {} })) } }),
                    json!({}),
                ),
                vec![
                    "channels./c.subscribe.message.schemaFormat: schema format `application/vnd.apache.avro;version=1.9.0` is not supported: Sluice validates events with JSON Schema (application/schema+json or AsyncAPI's own schema format)",
                ],
            ),
            (
                "anonymous message",
                doc(
                    json!({ "/c": { "subscribe": with(subscribe.clone(), "message", json!({ "payload": {} })) } }),
                    json!({}),
                ),
                vec![
                    "channels./c.subscribe.message: a message needs a `messageId` or a `name`, or to live in components.messages",
                ],
            ),
            (
                "unknown scheme",
                doc(
                    json!({ "/c": { "subscribe": with(subscribe.clone(), "security", json!([{ "nope": [] }])) } }),
                    json!({}),
                ),
                vec![
                    "channels./c.subscribe.security[0].nope: no security scheme `nope` in components.securitySchemes",
                ],
            ),
            (
                "two schemes at once",
                doc(
                    json!({ "/c": { "subscribe": with(subscribe.clone(), "security", json!([{ "a": [], "b": [] }])) } }),
                    json!({ "securitySchemes": { "a": { "type": "http", "scheme": "bearer" }, "b": { "type": "http", "scheme": "bearer" } } }),
                ),
                vec![
                    "channels./c.subscribe.security[0]: a requirement naming several schemes at once is not supported: Sluice checks one token",
                ],
            ),
            (
                "relative address",
                doc(json!({ "c": { "subscribe": subscribe } }), json!({})),
                vec!["channels.c: `c` must start with `/`: an SSE channel is an HTTP path"],
            ),
        ];
        for (what, text, expected) in cases {
            assert_eq!(errors_of(&text), expected, "{what}");
        }
    }

    #[test]
    fn two_channels_with_one_route_name_or_address_are_refused() {
        let text = json!({
            "asyncapi": "2.6.0", "info": { "title": "t", "version": "1" },
            "channels": {
                "/a": { "subscribe": { "operationId": "Feed", "x-sluice-sse": true } },
                "/b": { "subscribe": { "operationId": "feed", "x-sluice-sse": true } }
            }
        })
        .to_string();
        assert_eq!(
            errors_of(&text),
            ["channels./b: its route name `feed` is already taken by channels./a"]
        );
    }

    #[test]
    fn descriptive_leftovers_are_warnings() {
        let parameters = json!({ "id": { "enum": ["a"] }, "extra": {} });
        let channel = with(
            with(channel(), "address", json!("/c/{id}")),
            "parameters",
            parameters,
        );
        let operation = with(operation(), "bindings", json!({ "x-zilla-sse-kafka": {} }));
        let message = with(message(), "headers", json!({ "type": "object" }));
        let text = v3(channel, operation, message, json!({}));
        let imported = import(&text, &OPTIONS).expect("should import");
        assert_eq!(
            imported.warnings,
            [
                "operations.o.bindings.x-zilla-sse-kafka: ignored: not read by Sluice",
                "components.messages.m.headers: ignored: SSE events carry no headers",
                "channels.c.parameters.extra: not in the channel address; ignored",
                "channels.c.parameters.id.enum: not enforced: a route accepts any one segment",
                "tenants.acme: add `hosts` or a `path_prefix`: the document names no HTTP server \
                 to take them from",
            ]
        );
    }

    #[test]
    fn deep_payloads_import_and_deeper_ones_are_refused_without_overflow() {
        let nested = |depth: usize| {
            let payload = format!("{}{{}}{}", "{\"items\":".repeat(depth), "}".repeat(depth));
            let message = format!("{{\"payload\":{payload}}}");
            let doc = v3(channel(), operation(), json!(null), json!({}));
            doc.replace("\"m\":null", &format!("\"m\":{message}"))
        };
        let imported = import(&nested(MAX_DEPTH - 5), &OPTIONS).expect("should import");
        let exported = crate::asyncapi::export("acme", &imported.tenant, None);
        assert!(exported["components"]["schemas"]["m"].is_object());
        let errors = import(&nested(MAX_DEPTH), &OPTIONS).expect_err("should fail");
        let error = errors.iter().next().expect("one error");
        assert!(
            error.message.starts_with("cannot read the document: "),
            "{error}"
        );
    }

    #[test]
    fn alias_bombs_are_refused() {
        let mut text = String::from("asyncapi: 3.0.0\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let previous = format!("*a{}", i - 1);
            let list = [previous.as_str(); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{list}]\n"));
        }
        let errors = import(&text, &OPTIONS).expect_err("should fail");
        let error = errors.iter().next().expect("one error");
        assert!(
            error.message.starts_with("cannot read the document: "),
            "{error}"
        );
    }
}
