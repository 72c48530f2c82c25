//! AsyncAPI documents in and out. [`import`] turns the SSE channels of an AsyncAPI 2.6 or
//! 3.0 document into a tenant: each channel read over SSE becomes a route named after it,
//! each message payload a schema its event type maps to, each token-carrying security
//! scheme a credentials setting. [`export`] writes a tenant as an AsyncAPI 3.0 document
//! that imports back to the same routes and schemas. Pure conversion: no I/O.
//!
//! Sluice's own markers in exported documents: `x-sluice-sse: true` on an operation (a
//! stream), `x-sluice-scopes` on an operation (the scopes its route requires; the 3.0
//! schema allows `scopes` only on oauth2 and openIdConnect schemes) and on the `jwt` scheme
//! (every scope any route requires).

mod doc;
mod export;
#[cfg(test)]
mod fixtures;
mod import;
mod names;
mod payload;
mod read;
mod read2;
mod read3;
mod security;

pub use export::export;
pub use import::{ImportOptions, Imported, import};

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::{Value, json};

    use super::*;
    use crate::config::{SchemaVersion, Tenant};

    /// Each streaming route's path, scopes and publicness, by name.
    type RouteShapes<'t> = BTreeMap<&'t str, (&'t str, &'t [String], bool)>;

    /// What a round trip must keep: each route's path, scopes and publicness, and the
    /// schemas.
    fn shape(tenant: &Tenant) -> (RouteShapes<'_>, BTreeMap<&str, &[SchemaVersion]>) {
        let routes = tenant
            .routes
            .iter()
            .filter(|(_, r)| r.upstream.is_some())
            .map(|(name, r)| (name, (r.path.as_str(), r.scopes.as_slice(), r.public)))
            .collect();
        let schemas = tenant
            .schemas
            .iter()
            .map(|(n, v)| (n, v.as_slice()))
            .collect();
        (routes, schemas)
    }

    fn round_trip(tenant_name: &str, tenant: &Tenant, base: Option<&str>) -> Imported {
        let document = export(tenant_name, tenant, base);
        let text = serde_json::to_string(&document).expect("serializable");
        let options = ImportOptions {
            tenant: "fresh",
            upstream: "http://127.0.0.1:8001",
        };
        import(&text, &options).expect("an export imports")
    }

    #[test]
    fn export_then_import_into_a_fresh_tenant_gives_the_same_tenant() {
        let acme = fixtures::acme().tenant;
        let imported = round_trip("acme", &acme, None);
        assert_eq!(imported.tenant, acme);
    }

    #[test]
    fn a_round_trip_keeps_routes_schemas_hosts_and_prefix() {
        let news = export::tests::news();
        let imported = round_trip("news", &news, Some("https://sse.example.com:8443"));
        let (routes, _) = shape(&news);
        let (imported_routes, imported_schemas) = shape(&imported.tenant);
        assert_eq!(imported_routes, routes);
        // The schemas routes refer to come back as version 1 under their component keys;
        // `true` comes back as the equivalent `{}`.
        let v1 = |schema: Value| vec![SchemaVersion { version: 1, schema }];
        let expected: BTreeMap<&str, Vec<SchemaVersion>> = [
            ("any", v1(json!({}))),
            ("article_v1", v1(json!({ "type": "object" }))),
            (
                "article_v2",
                v1(json!({ "type": "object", "required": ["title"] })),
            ),
            ("note_v1", v1(json!({ "type": "string" }))),
        ]
        .into_iter()
        .collect();
        let imported_schemas: BTreeMap<&str, Vec<SchemaVersion>> = imported_schemas
            .into_iter()
            .map(|(n, v)| (n, v.to_vec()))
            .collect();
        assert_eq!(imported_schemas, expected);
        let latest = imported.tenant.routes.get("latest").expect("route");
        let events: Vec<(&str, &String)> = latest.events.iter().collect();
        assert_eq!(
            events,
            [
                ("article.published", &"article_v2@1".to_owned()),
                ("article.updated", &"article_v2@1".to_owned()),
                ("note", &"note_v1@1".to_owned()),
                ("*", &"any@1".to_owned()),
            ]
        );
        let mut hosts = imported.tenant.hosts.clone();
        hosts.sort();
        assert_eq!(hosts, ["*.news.example", "news.example"]);
        assert_eq!(imported.tenant.path_prefix.as_deref(), Some("/t/news"));
        let credentials = &imported.tenant.auth.as_ref().expect("auth").credentials;
        assert_eq!(
            credentials.header.as_deref(),
            Some("x-token: {credentials}")
        );
        assert_eq!(credentials.cookie.as_deref(), Some("session"));
    }

    #[test]
    fn a_round_trip_of_single_version_schemas_keeps_them_exactly() {
        let mut news = export::tests::news();
        news.routes = news
            .routes
            .into_iter()
            .filter(|(n, _)| n == "archive")
            .collect();
        let imported = round_trip("news", &news, None);
        let (routes, _) = shape(&news);
        let (imported_routes, schemas) = shape(&imported.tenant);
        assert_eq!(imported_routes, routes);
        let article_v1 = [SchemaVersion {
            version: 1,
            schema: json!({ "type": "object" }),
        }];
        assert_eq!(schemas, BTreeMap::from([("article", &article_v1[..])]));
    }

    /// A small deterministic generator (xorshift64*), so failures reproduce.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
        }

        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % n.max(1) as u64).unwrap_or(0)
        }
    }

    /// Values a mutation may drop in anywhere.
    fn replacement(rng: &mut Rng) -> Value {
        let choices = [
            Value::Null,
            json!(true),
            json!(-1),
            json!(1e300),
            json!(""),
            json!("/x/{a}"),
            json!("#/components"),
            json!("text/event-stream"),
            json!([]),
            json!({}),
            json!([{ "$ref": "#" }]),
            json!({ "$ref": "#/channels" }),
            json!({ "$ref": "#/components/messages/orderCreated" }),
            json!({ "$ref": "#/operations/streamOrders/channel" }),
            json!({ "$ref": "#/components/schemas/order/properties" }),
            json!({ "schemaFormat": 5, "schema": [] }),
            json!({ "type": "oauth2", "scopes": [1, "a b"] }),
            json!({ "http": { "method": null } }),
        ];
        choices[rng.below(choices.len())].clone()
    }

    /// Replaces, removes or renames one node under `node`, chosen at random.
    fn mutate(node: &mut Value, rng: &mut Rng) {
        let len = match node {
            Value::Object(object) => object.len(),
            Value::Array(items) => items.len(),
            _ => 0,
        };
        if len > 0 && rng.below(4) != 0 {
            let i = rng.below(len);
            let child = match node {
                Value::Object(object) => object.values_mut().nth(i),
                Value::Array(items) => items.get_mut(i),
                _ => None,
            };
            if let Some(child) = child {
                mutate(child, rng);
            }
            return;
        }
        match (rng.below(3), node) {
            (0, Value::Object(object)) if !object.is_empty() => {
                let key = object
                    .keys()
                    .nth(rng.below(object.len()))
                    .cloned()
                    .unwrap_or_default();
                let taken = object.remove(&key).unwrap_or_default();
                object.insert(format!("{key}~x"), taken);
            }
            (1, Value::Object(object)) if !object.is_empty() => {
                let key = object
                    .keys()
                    .nth(rng.below(object.len()))
                    .cloned()
                    .unwrap_or_default();
                object.remove(&key);
            }
            (_, node) => *node = replacement(rng),
        }
    }

    #[test]
    fn mutated_documents_never_panic() {
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for source in [fixtures::ACME_3_0, fixtures::ACME_2_6] {
            let original: Value = serde_saphyr::from_str(source).expect("valid YAML");
            for _ in 0..300 {
                let mut document = original.clone();
                for _ in 0..=rng.below(3) {
                    mutate(&mut document, &mut rng);
                }
                let text = serde_json::to_string(&document).expect("serializable");
                if let Ok(imported) = import(&text, &fixtures::OPTIONS) {
                    let exported = export("acme", &imported.tenant, Some("https://n:1"));
                    let again = serde_json::to_string(&exported).expect("serializable");
                    assert!(import(&again, &fixtures::OPTIONS).is_ok(), "{text}");
                }
            }
        }
    }

    #[test]
    fn garbled_text_never_panics() {
        let mut rng = Rng(0xD1B5_4A32_D192_ED03);
        let pieces = [
            "{", "}", "[", "]", ":", "-", "\n", " ", "&a", "*a", "<<", "\"", "'", "#", "\u{0}",
            "é", "!!binary",
        ];
        for source in [fixtures::ACME_3_0, fixtures::ACME_2_6] {
            let chars: Vec<char> = source.chars().collect();
            for _ in 0..150 {
                let mut text: Vec<char> = chars.clone();
                for _ in 0..=rng.below(4) {
                    let at = rng.below(text.len());
                    match rng.below(3) {
                        0 => _ = text.remove(at),
                        1 => text
                            .splice(at..at, pieces[rng.below(pieces.len())].chars())
                            .for_each(drop),
                        _ => text.truncate(at),
                    }
                }
                let text: String = text.into_iter().collect();
                let _ = import(&text, &fixtures::OPTIONS);
            }
        }
    }
}
