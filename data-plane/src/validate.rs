//! Event validation: each tenant's JSON Schemas compiled once per snapshot
//! ([`SchemaCatalog`]), each route's event type → schema mapping ([`EventRules`]), and the
//! check of one event's whole `data` against it.
//!
//! Event data is parsed by `serde_json` into a JSON tree that borrows its text ([`instance`])
//! rather than into a `serde_json::Value`, with the same results, so a check copies no text.
//!
//! Schemas are compiled offline: a `$ref` to anything outside the schema itself does not
//! compile, so a snapshot never waits on the network and never changes under a stream.

mod instance;

use std::collections::HashMap;
use std::sync::Arc;

use jsonschema::Draft;
use serde_json::Value;

use crate::config::{ConfigErrors, OrderedMap, SchemaRef, SchemaVersion, index_path, key_path};
use instance::Borrowed;

/// A compiled schema, for events parsed as [`instance::Instance`]s.
type Validator = jsonschema::Validator<Borrowed>;

/// The event type of an event sent without an `event:` field (WHATWG HTML, "dispatch the
/// event": an empty type buffer dispatches `message`).
const DEFAULT_EVENT_TYPE: &str = "message";

/// The route key that covers every event type not named on its own.
const FALLBACK_KEY: &str = "*";

/// Longest instance path kept in [`Invalid::detail`]; object keys come from the upstream and
/// could be any length.
const MAX_DETAIL_PATH: usize = 200;

/// One tenant's schemas, every version compiled. Built once per snapshot and shared by the
/// tenant's routes.
#[derive(Debug, Default)]
pub struct SchemaCatalog {
    /// Name → versions in ascending order.
    schemas: HashMap<String, Versions>,
}

/// One schema's versions by number. `None` marks a version that did not compile: its error
/// is already reported, so references to it add no second one.
type Versions = Vec<(u32, Option<Arc<Validator>>)>;

impl SchemaCatalog {
    /// Compiles every version of every schema in `schemas` (the tenant's `schemas` setting,
    /// found at `path`, e.g. `tenants.acme.schemas`). A schema that does not compile adds an
    /// error at `PATH.NAME[i].schema` with jsonschema's message.
    pub fn compile(
        tenant: &str,
        schemas: &OrderedMap<Vec<SchemaVersion>>,
        path: &str,
        errors: &mut ConfigErrors,
    ) -> SchemaCatalog {
        let mut catalog = SchemaCatalog::default();
        for (name, versions) in schemas.iter() {
            let compiled = compile_versions(versions, &key_path(path, name), errors);
            catalog.schemas.insert(name.to_owned(), compiled);
        }
        tracing::debug!(tenant, schemas = catalog.schemas.len(), "schemas compiled");
        catalog
    }

    /// The version `reference` names, `Ok(None)` when it exists but did not compile.
    fn resolve(&self, reference: &SchemaRef<'_>) -> Result<Option<Arc<Validator>>, String> {
        let Some(versions) = self.schemas.get(reference.name) else {
            let name = reference.name;
            return Err(format!("no schema `{name}` in this tenant's `schemas`"));
        };
        let found = match reference.version {
            None => versions.last(),
            Some(n) => versions.iter().find(|(version, _)| *version == n),
        };
        match (found, reference.version) {
            (Some((_, validator)), _) => Ok(validator.clone()),
            (None, None) => Err(format!("schema `{}` has no versions", reference.name)),
            (None, Some(n)) => Err(format!("schema `{}` has no version {n}", reference.name)),
        }
    }
}

/// Compiles each version listed at `path`, sorted by number.
fn compile_versions(versions: &[SchemaVersion], path: &str, errors: &mut ConfigErrors) -> Versions {
    let mut compiled = Versions::with_capacity(versions.len());
    for (i, version) in versions.iter().enumerate() {
        // Duplicate versions are the config check's to report; the first one stands.
        if compiled.iter().any(|(n, _)| *n == version.version) {
            continue;
        }
        let validator = compile_schema(&version.schema)
            .map_err(|message| errors.push(key_path(&index_path(path, i), "schema"), message))
            .ok();
        compiled.push((version.version, validator.map(Arc::new)));
    }
    compiled.sort_by_key(|(n, _)| *n);
    compiled
}

/// Compiles one schema. Without `$schema` it is read as draft 2020-12; with one, the draft
/// it names (7 and 2020-12 are the documented ones).
fn compile_schema(schema: &Value) -> Result<Validator, String> {
    let mut options = jsonschema::options_for::<Borrowed>().offline();
    if schema.get("$schema").is_none() {
        options = options.with_draft(Draft::Draft202012);
    }
    options.build(schema).map_err(|error| {
        let at = error.instance_path();
        match at.is_empty() {
            true => format!("not a valid JSON Schema: {error}"),
            false => format!("not a valid JSON Schema: {error} (at {at})"),
        }
    })
}

/// One route's mapping from event type to schema.
#[derive(Debug, Default)]
pub struct EventRules {
    /// Validators for the event types named on their own.
    exact: HashMap<String, Arc<Validator>>,
    /// The `*` validator, for every other type.
    fallback: Option<Arc<Validator>>,
}

impl EventRules {
    /// Resolves the route's `events` setting (found at `path`, e.g.
    /// `tenants.acme.routes.orders.events`) against `catalog`. A reference that names no
    /// schema or version adds an error at `PATH.TYPE`.
    pub fn compile(
        catalog: &SchemaCatalog,
        events: &OrderedMap<String>,
        path: &str,
        errors: &mut ConfigErrors,
    ) -> EventRules {
        let mut rules = EventRules::default();
        for (event_type, reference) in events.iter() {
            let resolved = match SchemaRef::parse(reference) {
                Some(parsed) => catalog.resolve(&parsed),
                None => Err(format!(
                    "`{reference}` is not a schema reference: write `name@N` or `name@latest`"
                )),
            };
            let validator = match resolved {
                Ok(Some(validator)) => validator,
                // Did not compile: that error is reported at the schema itself.
                Ok(None) => continue,
                Err(message) => {
                    errors.push(key_path(path, event_type), message);
                    continue;
                }
            };
            if event_type == FALLBACK_KEY {
                rules.fallback = Some(validator);
            } else {
                rules.exact.insert(event_type.to_owned(), validator);
            }
        }
        rules
    }

    /// True when no event of this route is validated.
    pub fn is_empty(&self) -> bool {
        self.exact.is_empty() && self.fallback.is_none()
    }

    /// Checks one event's whole `data` (every `data:` line, joined). `event_type` is the
    /// event's `event:` field; `None` or empty means `message`. An event type with no entry
    /// and no `*` passes unchecked.
    pub fn check(&self, event_type: Option<&str>, data: &str) -> Result<(), Invalid> {
        let event_type = event_type
            .filter(|t| !t.is_empty())
            .unwrap_or(DEFAULT_EVENT_TYPE);
        let Some(validator) = self.exact.get(event_type).or(self.fallback.as_ref()) else {
            return Ok(());
        };

        let mut value =
            serde_json::from_str::<instance::Instance<'_>>(data).map_err(|error| Invalid {
                reason: "not_json",
                detail: not_json_detail(&error),
            })?;

        // `is_valid` stops at the first failure and builds no error; only a failing event
        // pays for the second pass that names what failed.
        if validator.is_valid(&value) {
            return Ok(());
        }
        // Whether it is valid does not depend on member order, but which error comes first
        // does: name the one a `serde_json::Value` would give.
        value.sort_members();
        let detail = match validator.validate(&value) {
            Err(error) => schema_detail(error.kind().keyword(), error.instance_path().as_str()),
            Ok(()) => "schema".to_owned(),
        };
        Err(Invalid {
            reason: "schema",
            detail,
        })
    }
}

/// Why an event failed validation. Neither field ever holds the event's data, so both may be
/// logged and used as metric labels (`reason` only: `detail` is unbounded in variety).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Invalid {
    /// `not_json` (the data does not parse as JSON) or `schema` (it parses but does not match).
    pub reason: &'static str,
    /// Where it failed: for `not_json` the kind of error and its line and column; for
    /// `schema` the failing keyword and the instance path of the first error.
    pub detail: String,
}

/// `syntax error at line 1 column 2`: built from serde_json's classification and position
/// rather than its message, so no part of the input can appear in it.
fn not_json_detail(error: &serde_json::Error) -> String {
    use serde_json::error::Category;
    let kind = match error.classify() {
        Category::Syntax => "syntax error",
        Category::Eof => "unexpected end of data",
        Category::Data => "unsupported value",
        Category::Io => "read error",
    };
    format!("{kind} at line {} column {}", error.line(), error.column())
}

/// `type at /items/0`, the path cut to [`MAX_DETAIL_PATH`] bytes (on a character boundary).
fn schema_detail(keyword: &str, instance_path: &str) -> String {
    if instance_path.is_empty() {
        return format!("{keyword} at the root");
    }
    let mut end = instance_path.len().min(MAX_DETAIL_PATH);
    while !instance_path.is_char_boundary(end) {
        end -= 1;
    }
    let cut = if end < instance_path.len() { "…" } else { "" };
    format!("{keyword} at {}{cut}", &instance_path[..end])
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    const SCHEMAS: &str = "tenants.acme.schemas";
    const EVENTS: &str = "tenants.acme.routes.orders.events";

    fn version(version: u32, schema: Value) -> SchemaVersion {
        SchemaVersion { version, schema }
    }

    /// `order` v1 needs an integer `id`; v2 also needs a string `region`.
    fn order_schemas() -> OrderedMap<Vec<SchemaVersion>> {
        let v1 = json!({"type": "object", "required": ["id"],
                        "properties": {"id": {"type": "integer"}}});
        let v2 = json!({"type": "object", "required": ["id", "region"],
                        "properties": {"id": {"type": "integer"}, "region": {"type": "string"}}});
        // Declared out of order: `latest` goes by number, not position.
        [("order", vec![version(2, v2), version(1, v1)])]
            .into_iter()
            .collect()
    }

    fn catalog(schemas: &OrderedMap<Vec<SchemaVersion>>) -> SchemaCatalog {
        let mut errors = ConfigErrors::new();
        let catalog = SchemaCatalog::compile("acme", schemas, SCHEMAS, &mut errors);
        assert_eq!(errors, ConfigErrors::new());
        catalog
    }

    fn rules(catalog: &SchemaCatalog, events: &[(&str, &str)]) -> EventRules {
        let mut errors = ConfigErrors::new();
        let rules = EventRules::compile(catalog, &event_map(events), EVENTS, &mut errors);
        assert_eq!(errors, ConfigErrors::new());
        rules
    }

    fn event_map(events: &[(&str, &str)]) -> OrderedMap<String> {
        events.iter().map(|(k, v)| (*k, (*v).to_owned())).collect()
    }

    fn order_rules(events: &[(&str, &str)]) -> EventRules {
        rules(&catalog(&order_schemas()), events)
    }

    fn invalid(reason: &'static str, detail: &str) -> Result<(), Invalid> {
        let detail = detail.to_owned();
        Err(Invalid { reason, detail })
    }

    fn error_lines(errors: &ConfigErrors) -> Vec<String> {
        errors.iter().map(ToString::to_string).collect()
    }

    #[test]
    fn valid_event_passes() {
        let rules = order_rules(&[("order.created", "order@1")]);
        assert_eq!(rules.check(Some("order.created"), r#"{"id": 7}"#), Ok(()));
    }

    #[test]
    fn invalid_event_names_keyword_and_path() {
        let rules = order_rules(&[("order.created", "order@1")]);
        let result = rules.check(Some("order.created"), r#"{"id": "seven"}"#);
        assert_eq!(result, invalid("schema", "type at /id"));
        let result = rules.check(Some("order.created"), r#"{"name": "x"}"#);
        assert_eq!(result, invalid("schema", "required at the root"));
    }

    #[test]
    fn non_json_data_fails_without_quoting_it() {
        let rules = order_rules(&[("order.created", "order@1")]);
        let result = rules.check(Some("order.created"), "secret-token-123");
        assert_eq!(
            result,
            invalid("not_json", "syntax error at line 1 column 1")
        );
        let result = rules.check(Some("order.created"), r#"{"id": 7"#);
        assert_eq!(
            result,
            invalid("not_json", "unexpected end of data at line 1 column 8")
        );
        let result = rules.check(Some("order.created"), "");
        assert_eq!(
            result,
            invalid("not_json", "unexpected end of data at line 1 column 0")
        );
    }

    #[test]
    fn non_json_data_fails_even_a_schema_that_accepts_everything() {
        let schemas = [("any", vec![version(1, json!(true))])]
            .into_iter()
            .collect();
        let rules = rules(&catalog(&schemas), &[("*", "any@1")]);
        assert_eq!(rules.check(None, r#"{"anything": [1, 2]}"#), Ok(()));
        let result = rules.check(None, "data\u{0}with NUL");
        assert_eq!(
            result,
            invalid("not_json", "syntax error at line 1 column 1")
        );
    }

    #[test]
    fn multi_line_data_is_validated_as_one_document() {
        let rules = order_rules(&[("order.created", "order@1")]);
        assert_eq!(rules.check(Some("order.created"), "{\"id\":\n7\n}"), Ok(()));
        let result = rules.check(Some("order.created"), "{\"id\":\n\"7\"\n}");
        assert_eq!(result, invalid("schema", "type at /id"));
        let result = rules.check(Some("order.created"), "{\"id\": 7}\n{\"id\": 8}");
        assert_eq!(
            result,
            invalid("not_json", "syntax error at line 2 column 1")
        );
    }

    /// A 1 MiB event: an object whose `pad` string fills it out.
    fn one_mib_event(id: &str) -> String {
        let head = format!(r#"{{"id": {id}, "pad": ""#);
        let pad = "x".repeat(1024 * 1024 - head.len() - 2);
        let event = format!("{head}{pad}\"}}");
        assert_eq!(event.len(), 1024 * 1024);
        event
    }

    #[test]
    fn one_mib_valid_event_passes() {
        let rules = order_rules(&[("order.created", "order@1")]);
        assert_eq!(
            rules.check(Some("order.created"), &one_mib_event("7")),
            Ok(())
        );
    }

    #[test]
    fn one_mib_invalid_event_fails_with_a_short_detail() {
        let rules = order_rules(&[("order.created", "order@1")]);
        let result = rules.check(Some("order.created"), &one_mib_event("\"7\""));
        assert_eq!(result, invalid("schema", "type at /id"));
    }

    #[test]
    fn star_covers_unnamed_and_unlisted_types_but_not_listed_ones() {
        let schemas = [
            ("number", vec![version(1, json!({"type": "number"}))]),
            ("text", vec![version(1, json!({"type": "string"}))]),
        ]
        .into_iter()
        .collect();
        let rules = rules(
            &catalog(&schemas),
            &[("count", "number@1"), ("*", "text@1")],
        );
        assert_eq!(rules.check(Some("count"), "3"), Ok(()));
        assert_eq!(
            rules.check(Some("count"), "\"3\""),
            invalid("schema", "type at the root")
        );
        assert_eq!(rules.check(Some("other"), "\"hi\""), Ok(()));
        assert_eq!(
            rules.check(Some("other"), "3"),
            invalid("schema", "type at the root")
        );
        assert_eq!(
            rules.check(None, "3"),
            invalid("schema", "type at the root")
        );
        assert_eq!(
            rules.check(Some(""), "3"),
            invalid("schema", "type at the root")
        );
    }

    #[test]
    fn without_star_unlisted_types_pass_unchecked() {
        let rules = order_rules(&[("order.created", "order@1")]);
        assert!(!rules.is_empty());
        assert_eq!(rules.check(Some("order.deleted"), "not json"), Ok(()));
        assert_eq!(rules.check(None, "not json"), Ok(()));
    }

    #[test]
    fn message_entry_covers_events_without_a_type() {
        let rules = order_rules(&[("message", "order@1")]);
        assert_eq!(rules.check(None, r#"{"id": 1}"#), Ok(()));
        assert_eq!(
            rules.check(None, "{}"),
            invalid("schema", "required at the root")
        );
    }

    #[test]
    fn no_events_means_no_rules() {
        let rules = order_rules(&[]);
        assert!(rules.is_empty());
        assert_eq!(rules.check(Some("x"), "not json"), Ok(()));
    }

    #[test]
    fn latest_chooses_the_highest_version() {
        let rules = order_rules(&[("a", "order@latest"), ("b", "order@1")]);
        let v1_only = r#"{"id": 1}"#;
        assert_eq!(rules.check(Some("b"), v1_only), Ok(()));
        assert_eq!(
            rules.check(Some("a"), v1_only),
            invalid("schema", "required at the root")
        );
        assert_eq!(
            rules.check(Some("a"), r#"{"id": 1, "region": "eu"}"#),
            Ok(())
        );
    }

    #[test]
    fn draft_2020_12_reads_prefix_items_as_tuple() {
        let schema = json!({"prefixItems": [{"type": "integer"}], "items": {"type": "string"}});
        for schema in [
            schema.clone(),
            json!({"$schema": "https://json-schema.org/draft/2020-12/schema",
                   "prefixItems": [{"type": "integer"}], "items": {"type": "string"}}),
        ] {
            let schemas = [("tuple", vec![version(1, schema)])].into_iter().collect();
            let rules = rules(&catalog(&schemas), &[("*", "tuple@1")]);
            assert_eq!(rules.check(None, r#"[1, "a", "b"]"#), Ok(()));
            assert_eq!(
                rules.check(None, r#"["a"]"#),
                invalid("schema", "type at /0")
            );
            assert_eq!(rules.check(None, "[1, 2]"), invalid("schema", "type at /1"));
        }
    }

    #[test]
    fn draft_07_reads_items_array_as_tuple_and_ignores_prefix_items() {
        let schema = json!({"$schema": "http://json-schema.org/draft-07/schema#",
                            "items": [{"type": "integer"}], "additionalItems": {"type": "string"},
                            "prefixItems": [{"type": "boolean"}]});
        let schemas = [("tuple", vec![version(1, schema)])].into_iter().collect();
        let rules = rules(&catalog(&schemas), &[("*", "tuple@1")]);
        assert_eq!(rules.check(None, r#"[1, "a"]"#), Ok(()));
        assert_eq!(
            rules.check(None, r#"["a"]"#),
            invalid("schema", "type at /0")
        );
        assert_eq!(rules.check(None, "[1, 2]"), invalid("schema", "type at /1"));
    }

    #[test]
    fn items_array_does_not_compile_under_2020_12() {
        let schema = json!({"items": [{"type": "integer"}]});
        let schemas = [("tuple", vec![version(1, schema)])].into_iter().collect();
        let mut errors = ConfigErrors::new();
        SchemaCatalog::compile("acme", &schemas, SCHEMAS, &mut errors);
        assert_eq!(errors.len(), 1);
        let error = errors.iter().next().expect("one error");
        assert_eq!(error.path, "tenants.acme.schemas.tuple[0].schema");
        assert!(
            error.message.starts_with("not a valid JSON Schema: "),
            "{error}"
        );
        assert!(error.message.ends_with(" (at /items)"), "{error}");
    }

    #[test]
    fn a_bad_schema_is_refused_at_its_path_with_jsonschemas_message() {
        let schemas = [
            ("good", vec![version(1, json!({"type": "object"}))]),
            (
                "order",
                vec![
                    version(1, json!({"type": "object"})),
                    version(2, json!({"type": "strng"})),
                ],
            ),
        ]
        .into_iter()
        .collect();
        let mut errors = ConfigErrors::new();
        SchemaCatalog::compile("acme", &schemas, SCHEMAS, &mut errors);
        let jsonschema_message = jsonschema::options()
            .build(&json!({"type": "strng"}))
            .expect_err("a bad type")
            .to_string();
        assert_eq!(
            error_lines(&errors),
            [format!(
                "tenants.acme.schemas.order[1].schema: not a valid JSON Schema: \
                 {jsonschema_message} (at /type)"
            )]
        );
    }

    #[test]
    fn remote_references_do_not_compile() {
        let schema = json!({"$ref": "https://schemas.example.com/order.json"});
        let schemas = [("order", vec![version(1, schema)])].into_iter().collect();
        let mut errors = ConfigErrors::new();
        SchemaCatalog::compile("acme", &schemas, SCHEMAS, &mut errors);
        let lines = error_lines(&errors);
        assert_eq!(lines.len(), 1, "{lines:?}");
        let prefix = "tenants.acme.schemas.order[0].schema: not a valid JSON Schema: ";
        assert!(lines[0].starts_with(prefix), "{lines:?}");
    }

    #[test]
    fn local_references_compile() {
        let schema = json!({"$defs": {"id": {"type": "integer"}},
                            "properties": {"id": {"$ref": "#/$defs/id"}}});
        let schemas = [("order", vec![version(1, schema)])].into_iter().collect();
        let rules = rules(&catalog(&schemas), &[("*", "order@1")]);
        assert_eq!(rules.check(None, r#"{"id": 1}"#), Ok(()));
        assert_eq!(
            rules.check(None, r#"{"id": 1.5}"#),
            invalid("schema", "type at /id")
        );
    }

    #[test]
    fn references_to_missing_schemas_or_versions_are_errors_at_the_event() {
        let catalog = catalog(&order_schemas());
        let events = event_map(&[
            ("a", "order@3"),
            ("b", "invoice@1"),
            ("c", "invoice@latest"),
            ("order.created", "order"),
            ("e", "order@1"),
        ]);
        let mut errors = ConfigErrors::new();
        let rules = EventRules::compile(&catalog, &events, EVENTS, &mut errors);
        assert_eq!(
            error_lines(&errors),
            [
                format!("{EVENTS}.a: schema `order` has no version 3"),
                format!("{EVENTS}.b: no schema `invoice` in this tenant's `schemas`"),
                format!("{EVENTS}.c: no schema `invoice` in this tenant's `schemas`"),
                format!(
                    "{EVENTS}.\"order.created\": `order` is not a schema reference: write \
                     `name@N` or `name@latest`"
                ),
            ]
        );
        assert_eq!(
            rules.check(Some("e"), "{}"),
            invalid("schema", "required at the root")
        );
    }

    #[test]
    fn a_reference_to_a_schema_that_did_not_compile_adds_no_second_error() {
        let schemas = [("order", vec![version(1, json!({"minimum": "zero"}))])]
            .into_iter()
            .collect();
        let mut errors = ConfigErrors::new();
        let catalog = SchemaCatalog::compile("acme", &schemas, SCHEMAS, &mut errors);
        let events = event_map(&[("*", "order@latest"), ("x", "order@1")]);
        let rules = EventRules::compile(&catalog, &events, EVENTS, &mut errors);
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors.iter().next().map(|e| e.path.as_str()),
            Some("tenants.acme.schemas.order[0].schema")
        );
        assert!(rules.is_empty());
    }

    #[test]
    fn a_long_instance_path_is_cut() {
        let key = "k".repeat(500);
        let schemas = [(
            "order",
            vec![version(
                1,
                json!({"additionalProperties": {"type": "integer"}}),
            )],
        )]
        .into_iter()
        .collect();
        let rules = rules(&catalog(&schemas), &[("*", "order@1")]);
        let result = rules.check(None, &format!(r#"{{"{key}": "v"}}"#));
        let expected = format!("type at /{}…", &key[..MAX_DETAIL_PATH - 1]);
        assert_eq!(result, invalid("schema", &expected));
    }

    /// Every member must be an integer.
    fn integers_only() -> EventRules {
        let schema = json!({"additionalProperties": {"type": "integer"}});
        let schemas = [("ints", vec![version(1, schema)])].into_iter().collect();
        rules(&catalog(&schemas), &[("*", "ints@1")])
    }

    #[test]
    fn the_first_error_is_named_in_member_name_order_as_for_a_value() {
        let rules = integers_only();
        let small = r#"{"b": {"y": "1", "x": "2"}, "a": "3"}"#;
        assert_eq!(rules.check(None, small), invalid("schema", "type at /a"));
        // Past the size kept in document order.
        let large: Vec<String> = ('a'..='l')
            .rev()
            .map(|c| format!(r#""{c}": "v""#))
            .collect();
        let large = format!("{{{}}}", large.join(", "));
        assert_eq!(rules.check(None, &large), invalid("schema", "type at /a"));
    }

    #[test]
    fn a_repeated_member_name_is_checked_by_its_last_value() {
        let rules = integers_only();
        assert_eq!(rules.check(None, r#"{"a": "x", "b": 1, "a": 2}"#), Ok(()));
        let result = rules.check(None, r#"{"a": 1, "b": 1, "a": "x"}"#);
        assert_eq!(result, invalid("schema", "type at /a"));
        let many: Vec<String> = (0..12).map(|i| format!(r#""k{i}": {i}"#)).collect();
        let many = format!(r#"{{{}, "k3": "x", "k3": 3}}"#, many.join(", "));
        assert_eq!(rules.check(None, &many), Ok(()));
    }

    #[test]
    fn deep_nesting_is_refused_as_not_json_without_overflowing() {
        let rules = order_rules(&[("*", "order@1")]);
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let result = rules.check(None, &deep);
        assert_eq!(
            result,
            invalid("not_json", "syntax error at line 1 column 128")
        );
    }
}
