//! A tenant out, as an AsyncAPI 3.0 document: its hosts as servers, each streaming route as
//! a channel read by one `receive` operation, the schemas its events map to as messages,
//! and its token settings as security schemes. Importing the result gives the same routes
//! and schemas back.

use serde_json::{Map, Value, json};

use super::names;
use crate::config::{Credentials, HeaderTemplate, Route, SchemaRef, Tenant};
use crate::route::PathTemplate;

/// Writes `tenant` as an AsyncAPI 3.0.0 document. `servers_base` is the node's public base
/// URL (`https://sse.example.com:8443`): its scheme and port go on every host's server, and
/// a tenant reached by path prefix gets a server at that base. Routes serving files are
/// left out: they are not streams.
pub fn export(tenant_name: &str, tenant: &Tenant, servers_base: Option<&str>) -> Value {
    let streams: Vec<(&str, &Route)> = tenant
        .routes
        .iter()
        .filter(|(_, route)| route.upstream.is_some())
        .collect();
    let catalog = Catalog::of(tenant, &streams);
    let schemes = schemes(tenant);
    let mut document = json!({
        "asyncapi": "3.0.0",
        "info": info(tenant_name),
        "defaultContentType": "application/json",
        "channels": channels(&streams, &catalog),
        "operations": operations(&streams, &catalog, &schemes),
        "components": components(&catalog, &schemes, &streams),
    });
    let servers = servers(tenant, servers_base);
    if let (false, Value::Object(object)) = (servers.is_empty(), &mut document) {
        object.insert("servers".into(), Value::Object(servers));
    }
    document
}

fn info(tenant_name: &str) -> Value {
    json!({
        "title": format!("{tenant_name} event streams"),
        "version": "1.0.0",
        "description": format!(
            "Server-Sent Events streams of tenant `{tenant_name}`, exported by Sluice. Each \
             operation is an HTTP GET answered with `text/event-stream`; each message is one \
             event type, its payload describing the event's `data` parsed as JSON."
        ),
    })
}

/// The node's public base URL, taken apart: scheme (`https` unless `http`), host with port,
/// port alone, and path.
struct Base<'a> {
    protocol: &'a str,
    authority: &'a str,
    port: Option<&'a str>,
    path: &'a str,
}

impl<'a> Base<'a> {
    fn parse(base: Option<&'a str>) -> Option<Self> {
        let base = base?;
        let (scheme, rest) = base.split_once("://").unwrap_or(("https", base));
        let protocol = if scheme.eq_ignore_ascii_case("http") {
            "http"
        } else {
            "https"
        };
        let (authority, path) = rest.find('/').map_or((rest, ""), |i| rest.split_at(i));
        let port = authority
            .rsplit_once(':')
            .map(|(_, port)| port)
            .filter(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()));
        let path = path.trim_end_matches('/');
        Some(Self {
            protocol,
            authority,
            port,
            path,
        })
    }
}

/// A server per host (a `*.` wildcard becoming a `{subdomain}` variable), and one at the
/// base for a path prefix.
fn servers(tenant: &Tenant, servers_base: Option<&str>) -> Map<String, Value> {
    let base = Base::parse(servers_base);
    let protocol = base.as_ref().map_or("https", |b| b.protocol);
    let port = base.as_ref().and_then(|b| b.port);
    let mut servers = Map::new();
    for host in &tenant.hosts {
        let key = names::component_key(&host.replace('*', "any"));
        let key = names::unique(&key, |k| servers.contains_key(k));
        servers.insert(key, host_server(host, port, protocol));
    }
    if let (Some(prefix), Some(base)) = (&tenant.path_prefix, &base) {
        let key = names::unique("path_prefix", |k| servers.contains_key(k));
        let server = json!({
            "host": base.authority,
            "protocol": base.protocol,
            "pathname": format!("{}{prefix}", base.path),
        });
        servers.insert(key, server);
    }
    servers
}

fn host_server(host: &str, port: Option<&str>, protocol: &str) -> Value {
    let port = port.map(|p| format!(":{p}")).unwrap_or_default();
    match host.strip_prefix("*.") {
        Some(rest) => json!({
            "host": format!("{{subdomain}}.{rest}{port}"),
            "protocol": protocol,
            "variables": { "subdomain": { "description": "Any one DNS label." } },
        }),
        None => json!({ "host": format!("{host}{port}"), "protocol": protocol }),
    }
}

/// The schema versions the routes' events map to, as component schemas and messages.
#[derive(Debug, Default)]
struct Catalog {
    /// Component key → schema.
    schemas: Map<String, Value>,
    /// (event type, schema key, message key), in the order first met.
    messages: Vec<(String, String, String)>,
    /// Per route: indexes into `messages`.
    by_route: Vec<Vec<usize>>,
}

impl Catalog {
    fn of(tenant: &Tenant, streams: &[(&str, &Route)]) -> Self {
        let used: Vec<Vec<(&str, &str, u32, &Value)>> = streams
            .iter()
            .map(|(_, route)| used_schemas(tenant, route))
            .collect();
        let keys = schema_keys(used.iter().flatten().map(|(_, n, v, _)| (*n, *v)));
        let mut catalog = Catalog::default();
        for pairs in &used {
            let mut route_messages = Vec::new();
            for (event, name, version, schema) in pairs {
                let key = keys
                    .iter()
                    .find(|(n, v, _)| n == name && v == version)
                    .map_or_else(|| names::component_key(name), |(_, _, k)| k.clone());
                catalog.schemas.insert(key.clone(), object_schema(schema));
                route_messages.push(catalog.message_index(event, &key));
            }
            catalog.by_route.push(route_messages);
        }
        catalog.name_messages();
        catalog
    }

    /// The index of the (event, schema) pair, added when new; `name_messages` keys it.
    fn message_index(&mut self, event: &str, schema_key: &str) -> usize {
        let found = self
            .messages
            .iter()
            .position(|(e, s, _)| e == event && s == schema_key);
        found.unwrap_or_else(|| {
            let entry = (event.to_owned(), schema_key.to_owned(), String::new());
            self.messages.push(entry);
            self.messages.len() - 1
        })
    }

    /// Names each message after its schema, adding the event type when one schema serves
    /// several events.
    fn name_messages(&mut self) {
        let schemas: Vec<String> = self.messages.iter().map(|(_, s, _)| s.clone()).collect();
        let mut taken: Vec<String> = Vec::new();
        for (event, schema, key) in &mut self.messages {
            let shared = schemas.iter().filter(|s| *s == schema).count() > 1;
            let base = if shared {
                format!("{schema}_{}", names::component_key(event))
            } else {
                schema.clone()
            };
            *key = names::unique(&base, |k| taken.iter().any(|t| t == k));
            taken.push(key.clone());
        }
    }

    /// The message keys of the route at `index` of the streams.
    fn route_keys(&self, index: usize) -> Vec<&str> {
        let indexes = self
            .by_route
            .get(index)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let key = |i: &usize| self.messages.get(*i).map(|(_, _, key)| key.as_str());
        indexes.iter().filter_map(key).collect()
    }
}

/// `schema` as an object: the AsyncAPI 3.0 JSON Schema refuses boolean schemas in
/// `components.schemas` (its `anySchema` wants an object), so `true` is written `{}` and
/// `false` `{"not": {}}`, which mean the same.
fn object_schema(schema: &Value) -> Value {
    match schema {
        Value::Bool(true) => json!({}),
        Value::Bool(false) => json!({ "not": {} }),
        other => other.clone(),
    }
}

/// The route's events with the schema version each maps to; references that name no
/// version of this tenant are left out.
fn used_schemas<'t>(
    tenant: &'t Tenant,
    route: &'t Route,
) -> Vec<(&'t str, &'t str, u32, &'t Value)> {
    let mut used = Vec::new();
    for (event, reference) in route.events.iter() {
        let Some(parsed) = SchemaRef::parse(reference) else {
            continue;
        };
        let Some(versions) = tenant.schemas.get(parsed.name) else {
            continue;
        };
        let version = match parsed.version {
            Some(n) => versions.iter().find(|v| v.version == n),
            None => versions.iter().max_by_key(|v| v.version),
        };
        if let Some(version) = version {
            used.push((event, parsed.name, version.version, &version.schema));
        }
    }
    used
}

/// A component key for each (schema name, version) used: the name alone when one version
/// of it is used, else `name_vN`; unique across names.
fn schema_keys<'t>(used: impl Iterator<Item = (&'t str, u32)>) -> Vec<(&'t str, u32, String)> {
    let mut distinct: Vec<(&str, u32)> = Vec::new();
    for pair in used {
        if !distinct.contains(&pair) {
            distinct.push(pair);
        }
    }
    let mut keys: Vec<(&str, u32, String)> = Vec::new();
    for &(name, version) in &distinct {
        let versions = distinct.iter().filter(|(n, _)| *n == name).count();
        let base = names::component_key(name);
        let base = if versions > 1 {
            format!("{base}_v{version}")
        } else {
            base
        };
        let key = names::unique(&base, |k| keys.iter().any(|(_, _, held)| held == k));
        keys.push((name, version, key));
    }
    keys
}

fn channels(streams: &[(&str, &Route)], catalog: &Catalog) -> Value {
    let mut channels = Map::new();
    for (i, (name, route)) in streams.iter().enumerate() {
        let messages: Map<String, Value> = catalog
            .route_keys(i)
            .into_iter()
            .map(|key| {
                (
                    key.to_owned(),
                    json!({ "$ref": format!("#/components/messages/{key}") }),
                )
            })
            .collect();
        let mut channel = json!({ "address": route.path, "messages": messages });
        let parameters = parameters(&route.path);
        if let (false, Some(object)) = (parameters.is_empty(), channel.as_object_mut()) {
            object.insert("parameters".into(), Value::Object(parameters));
        }
        channels.insert((*name).to_owned(), channel);
    }
    Value::Object(channels)
}

fn parameters(path: &str) -> Map<String, Value> {
    let Ok(template) = PathTemplate::parse(path) else {
        return Map::new();
    };
    let describe = |name: &str| {
        (
            name.to_owned(),
            json!({ "description": "One path segment." }),
        )
    };
    template.params().map(describe).collect()
}

fn operations(streams: &[(&str, &Route)], catalog: &Catalog, schemes: &[(String, Value)]) -> Value {
    let mut operations = Map::new();
    for (i, (name, route)) in streams.iter().enumerate() {
        let messages: Vec<Value> = catalog
            .route_keys(i)
            .into_iter()
            .map(|key| json!({ "$ref": format!("#/channels/{name}/messages/{key}") }))
            .collect();
        let mut operation = json!({
            "action": "receive",
            "channel": { "$ref": format!("#/channels/{name}") },
            "messages": messages,
            "bindings": { "http": { "method": "GET" } },
            "x-sluice-sse": true,
        });
        if let (false, Some(object)) = (route.public, operation.as_object_mut()) {
            let security = schemes
                .iter()
                .map(|(key, _)| json!({ "$ref": format!("#/components/securitySchemes/{key}") }))
                .collect();
            object.insert("security".into(), Value::Array(security));
            if !route.scopes.is_empty() {
                object.insert("x-sluice-scopes".into(), json!(route.scopes));
            }
        }
        operations.insert((*name).to_owned(), operation);
    }
    Value::Object(operations)
}

/// Where the tenant reads tokens, one scheme per source: `jwt` first (the header, else the
/// first other source), then `jwt_query`, `jwt_cookie`.
fn schemes(tenant: &Tenant) -> Vec<(String, Value)> {
    let credentials = tenant
        .auth
        .as_ref()
        .map_or_else(Credentials::default, |a| a.credentials.clone());
    let mut schemes: Vec<(&str, Value)> = Vec::new();
    if let Some(template) = &credentials.header {
        schemes.push(("jwt", header_scheme(template)));
    }
    if let Some(name) = &credentials.query {
        schemes.push(("jwt_query", api_key("query", name)));
    }
    if let Some(name) = &credentials.cookie {
        schemes.push(("jwt_cookie", api_key("cookie", name)));
    }
    if schemes.is_empty() {
        schemes.push(("jwt", bearer()));
    }
    let keys = ["jwt"]
        .into_iter()
        .chain(schemes.iter().skip(1).map(|(k, _)| *k));
    keys.zip(schemes.iter())
        .map(|(key, (_, scheme))| (key.to_owned(), scheme.clone()))
        .collect()
}

fn header_scheme(template: &str) -> Value {
    let Some(parts) = HeaderTemplate::parse(template) else {
        return bearer();
    };
    let is_bearer = parts.name.eq_ignore_ascii_case("authorization")
        && parts.prefix.eq_ignore_ascii_case("bearer ")
        && parts.suffix.is_empty();
    if is_bearer {
        return bearer();
    }
    let mut scheme = api_key("header", parts.name);
    if let Some(object) = scheme.as_object_mut() {
        let text = format!("A JWT, sent as `{template}`.");
        object.insert("description".into(), Value::String(text));
    }
    scheme
}

fn bearer() -> Value {
    json!({
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A JWT signed with one of the tenant's keys. Each operation lists the \
                        scopes it requires in `x-sluice-scopes`.",
    })
}

fn api_key(location: &str, name: &str) -> Value {
    json!({ "type": "httpApiKey", "in": location, "name": name, "description": "A JWT." })
}

fn components(catalog: &Catalog, schemes: &[(String, Value)], streams: &[(&str, &Route)]) -> Value {
    let messages: Map<String, Value> = catalog
        .messages
        .iter()
        .map(|(event, schema, key)| (key.clone(), message(event, schema)))
        .collect();
    let mut components = json!({ "schemas": catalog.schemas, "messages": messages });
    let guarded: Vec<&Route> = streams
        .iter()
        .map(|(_, r)| *r)
        .filter(|r| !r.public)
        .collect();
    if let (false, Some(object)) = (guarded.is_empty(), components.as_object_mut()) {
        let mut all_scopes: Vec<&String> = guarded.iter().flat_map(|r| &r.scopes).collect();
        all_scopes.sort();
        all_scopes.dedup();
        let mut schemes: Map<String, Value> = schemes.iter().cloned().collect();
        if let Some(Value::Object(jwt)) = schemes.get_mut("jwt") {
            jwt.insert("x-sluice-scopes".into(), json!(all_scopes));
        }
        object.insert("securitySchemes".into(), Value::Object(schemes));
    }
    components
}

fn message(event: &str, schema_key: &str) -> Value {
    let payload = json!({ "$ref": format!("#/components/schemas/{schema_key}") });
    if event == "*" {
        return json!({
            "name": "*",
            "summary": "Any event type the channel's other messages do not name.",
            "payload": payload,
        });
    }
    json!({ "name": event, "payload": payload })
}

#[cfg(test)]
pub(super) mod tests {
    use std::path::{Path, PathBuf};
    use std::process::Command;
    use std::sync::OnceLock;

    use super::super::fixtures;
    use super::*;

    /// The `@asyncapi/specs` release whose 3.0.0 schema the export is checked against.
    const SPECS_PACKAGE: &str = "@asyncapi/specs@6.11.1";

    /// The official AsyncAPI 3.0.0 JSON Schema, fetched with npm into the target folder once.
    /// The file is not ours, so it is not kept in the repository.
    fn asyncapi_3_validator() -> &'static jsonschema::Validator {
        static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
        VALIDATOR.get_or_init(|| {
            let dir = target_dir().join("asyncapi-specs");
            let file = dir.join("package/schemas/3.0.0.json");
            if !file.exists() {
                fetch_specs(&dir);
            }
            let text = std::fs::read_to_string(&file).expect("the fetched schema is readable");
            let schema: Value = serde_json::from_str(&text).expect("the schema is JSON");
            // Every definition is bundled in the file under its own `$id`, so the
            // validator resolves them without fetching anything.
            jsonschema::options()
                .build(&schema)
                .expect("the AsyncAPI schema compiles")
        })
    }

    /// Cargo's target folder: the ancestor of this test binary that holds `CACHEDIR.TAG`.
    fn target_dir() -> PathBuf {
        let exe = std::env::current_exe().expect("the test binary has a path");
        let found = exe
            .ancestors()
            .find(|dir| dir.join("CACHEDIR.TAG").is_file());
        found.map_or_else(
            || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target"),
            Path::to_owned,
        )
    }

    fn fetch_specs(dir: &Path) {
        let staging = dir.with_extension(format!("tmp{}", std::process::id()));
        std::fs::create_dir_all(&staging).expect("the target folder is writable");
        let packed = Command::new("npm")
            .args(["pack", SPECS_PACKAGE, "--silent"])
            .current_dir(&staging)
            .output();
        if !packed.as_ref().is_ok_and(|output| output.status.success()) {
            let _ = std::fs::remove_dir_all(&staging);
        }
        let packed = match packed {
            Ok(output) if output.status.success() => output,
            Ok(output) => panic!(
                "`npm pack {SPECS_PACKAGE}` failed; the AsyncAPI 3.0 schema check needs the npm \
                 registry: {}",
                String::from_utf8_lossy(&output.stderr)
            ),
            Err(error) => panic!(
                "the AsyncAPI 3.0 schema check needs npm to fetch {SPECS_PACKAGE}: install \
                 Node.js and npm (e.g. `apt-get install nodejs npm`), then run the tests again \
                 ({error})"
            ),
        };
        let tarball = String::from_utf8_lossy(&packed.stdout).trim().to_owned();
        let status = Command::new("tar")
            .args(["-xzf", &tarball])
            .current_dir(&staging)
            .status()
            .expect("tar runs");
        assert!(status.success(), "tar could not unpack {tarball}");
        // Another test process may have finished first; either copy will do.
        if std::fs::rename(&staging, dir).is_err() {
            let _ = std::fs::remove_dir_all(&staging);
        }
    }

    fn schema_errors(document: &Value) -> Vec<String> {
        let validator = asyncapi_3_validator();
        let describe = |e: jsonschema::ValidationError<'_>| format!("{}: {e}", e.instance_path());
        validator.iter_errors(document).map(describe).collect()
    }

    /// A tenant using what the export must handle: a wildcard host, a path prefix, a
    /// non-bearer header and a cookie, two versions of one schema, a schema serving several
    /// events, a catch-all, a name needing a clean key, and a route serving files.
    pub(in super::super) fn news() -> Tenant {
        let text = r#"
hosts: [news.example, "*.news.example"]
path_prefix: /t/news
auth:
  issuer: https://auth.example
  audiences: [news]
  jwks_url: https://auth.example/jwks
  credentials: { header: "x-token: {credentials}", cookie: session }
schemas:
  article:
    - { version: 1, schema: { type: object } }
    - { version: 2, schema: { type: object, required: [title] } }
  "note/v1": [ { version: 1, schema: { type: string } } ]
  any: [ { version: 1, schema: true } ]
routes:
  latest:
    path: /articles/{section}/{id}
    scopes: ["news:read", "articles:read"]
    upstream: { url: "http://127.0.0.1:8002/articles/{section}/{id}" }
    events: { article.published: article@latest, article.updated: article@2, note: note/v1@1, "*": any@1 }
  archive:
    path: /archive
    public: true
    upstream: { url: "http://127.0.0.1:8002/archive" }
    events: { article.published: article@1 }
  assets:
    path: /assets/{file}
    public: true
    files: static
"#;
        serde_saphyr::from_str(text).expect("valid tenant")
    }

    #[test]
    fn a_tenant_exports_as_asyncapi_3_0() {
        let document = export("acme", &fixtures::acme().tenant, None);
        let expected = json!({
            "asyncapi": "3.0.0",
            "info": info("acme"),
            "defaultContentType": "application/json",
            "servers": { "acme.example.com": { "host": "acme.example.com", "protocol": "https" } },
            "channels": {
                "orders": {
                    "address": "/orders/{region}",
                    "parameters": { "region": { "description": "One path segment." } },
                    "messages": {
                        "order": { "$ref": "#/components/messages/order" },
                        "orderShipped": { "$ref": "#/components/messages/orderShipped" }
                    }
                },
                "prices": {
                    "address": "/prices",
                    "messages": { "tick": { "$ref": "#/components/messages/tick" } }
                }
            },
            "operations": {
                "orders": {
                    "action": "receive",
                    "channel": { "$ref": "#/channels/orders" },
                    "messages": [
                        { "$ref": "#/channels/orders/messages/order" },
                        { "$ref": "#/channels/orders/messages/orderShipped" }
                    ],
                    "bindings": { "http": { "method": "GET" } },
                    "x-sluice-sse": true,
                    "security": [
                        { "$ref": "#/components/securitySchemes/jwt" },
                        { "$ref": "#/components/securitySchemes/jwt_query" }
                    ],
                    "x-sluice-scopes": ["orders:read"]
                },
                "prices": {
                    "action": "receive",
                    "channel": { "$ref": "#/channels/prices" },
                    "messages": [ { "$ref": "#/channels/prices/messages/tick" } ],
                    "bindings": { "http": { "method": "GET" } },
                    "x-sluice-sse": true
                }
            },
            "components": {
                "schemas": {
                    "order": fixtures::acme().tenant.schemas.get("order").expect("present")[0].schema,
                    "orderShipped": fixtures::acme().tenant.schemas.get("orderShipped").expect("present")[0].schema,
                    "tick": fixtures::acme().tenant.schemas.get("tick").expect("present")[0].schema
                },
                "messages": {
                    "order": { "name": "order.created", "payload": { "$ref": "#/components/schemas/order" } },
                    "orderShipped": { "name": "order.shipped", "payload": { "$ref": "#/components/schemas/orderShipped" } },
                    "tick": { "name": "tick", "payload": { "$ref": "#/components/schemas/tick" } }
                },
                "securitySchemes": {
                    "jwt": with_scopes(bearer(), &["orders:read"]),
                    "jwt_query": api_key("query", "access_token")
                }
            }
        });
        assert_eq!(document, expected);
    }

    fn with_scopes(mut scheme: Value, scopes: &[&str]) -> Value {
        if let Some(object) = scheme.as_object_mut() {
            object.insert("x-sluice-scopes".into(), json!(scopes));
        }
        scheme
    }

    #[test]
    fn hosts_prefix_versions_and_shared_schemas_get_their_own_keys() {
        let document = export("news", &news(), Some("https://sse.example.com:8443/"));
        let servers = json!({
            "news.example": { "host": "news.example:8443", "protocol": "https" },
            "any.news.example": {
                "host": "{subdomain}.news.example:8443",
                "protocol": "https",
                "variables": { "subdomain": { "description": "Any one DNS label." } }
            },
            "path_prefix": { "host": "sse.example.com:8443", "protocol": "https", "pathname": "/t/news" }
        });
        assert_eq!(document["servers"], servers);
        let message_names: Vec<(&str, &Value, &Value)> = document["components"]["messages"]
            .as_object()
            .expect("messages")
            .iter()
            .map(|(key, m)| (key.as_str(), &m["name"], &m["payload"]["$ref"]))
            .collect();
        assert_eq!(
            message_names,
            [
                ("any", &json!("*"), &json!("#/components/schemas/any")),
                (
                    "article_v1",
                    &json!("article.published"),
                    &json!("#/components/schemas/article_v1")
                ),
                (
                    "article_v2_article.published",
                    &json!("article.published"),
                    &json!("#/components/schemas/article_v2")
                ),
                (
                    "article_v2_article.updated",
                    &json!("article.updated"),
                    &json!("#/components/schemas/article_v2")
                ),
                (
                    "note_v1",
                    &json!("note"),
                    &json!("#/components/schemas/note_v1")
                ),
            ]
        );
        let channels: Vec<&String> = document["channels"]
            .as_object()
            .expect("channels")
            .keys()
            .collect();
        assert_eq!(channels, ["archive", "latest"]);
        let schemes = &document["components"]["securitySchemes"];
        let header = json!({ "type": "httpApiKey", "in": "header", "name": "x-token",
                             "description": "A JWT, sent as `x-token: {credentials}`.",
                             "x-sluice-scopes": ["articles:read", "news:read"] });
        assert_eq!(schemes["jwt"], header);
        assert_eq!(schemes["jwt_cookie"], api_key("cookie", "session"));
        assert_eq!(document["operations"]["archive"].get("security"), None);
        assert_eq!(
            document["operations"]["latest"]["x-sluice-scopes"],
            json!(["news:read", "articles:read"])
        );
    }

    #[test]
    fn boolean_schemas_are_written_as_objects() {
        assert_eq!(object_schema(&json!(true)), json!({}));
        assert_eq!(object_schema(&json!(false)), json!({ "not": {} }));
        assert_eq!(
            object_schema(&json!({ "type": "string" })),
            json!({ "type": "string" })
        );
    }

    #[test]
    fn exports_validate_against_the_asyncapi_3_0_schema() {
        let cases = [
            ("acme", export("acme", &fixtures::acme().tenant, None)),
            (
                "news",
                export("news", &news(), Some("https://sse.example.com:8443")),
            ),
            (
                "empty",
                export(
                    "empty",
                    &serde_saphyr::from_str("hosts: [e.example]").expect("valid"),
                    None,
                ),
            ),
        ];
        for (name, document) in cases {
            assert_eq!(schema_errors(&document), Vec::<String>::new(), "{name}");
        }
    }

    #[test]
    fn the_schema_check_catches_an_invalid_document() {
        let mut document = export("acme", &fixtures::acme().tenant, None);
        document["operations"]["orders"]["action"] = json!("listen");
        document["components"]["securitySchemes"]["jwt"]["scopes"] = json!(["a"]);
        let errors = schema_errors(&document);
        assert!(
            errors.iter().any(|e| e.starts_with("/operations/orders")),
            "{errors:?}"
        );
        assert!(
            errors
                .iter()
                .any(|e| e.starts_with("/components/securitySchemes/jwt")),
            "{errors:?}"
        );
    }
}
