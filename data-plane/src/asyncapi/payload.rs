//! Message payloads as stand-alone JSON Schemas: the schema format is checked, and every
//! `$ref` into the rest of the AsyncAPI document is copied under the schema's own `$defs`, so
//! the schema stored in the tenant's catalog means what it meant inside the document.

use serde_json::{Map, Value};

use super::doc::{Doc, Node, Seg, parse_pointer, render};
use super::names;
use crate::config::{index_path, key_path};

/// Most definitions one payload may pull in, so a hostile document cannot grow a schema
/// without bound.
const MAX_DEFS: usize = 256;

/// A payload schema ready for the tenant's catalog.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Payload {
    /// The JSON Schema, with no reference leaving it.
    pub schema: Value,
    /// The `components.schemas` key the payload refers to, when it is just such a reference.
    pub component: Option<String>,
}

/// Whether a schema format names JSON Schema or AsyncAPI's own schema (a JSON Schema
/// draft-07 superset). Media type parameters other than `version` are not expected.
pub(super) fn json_schema_format(format: &str) -> bool {
    let media_type = format.split(';').next().unwrap_or_default().trim();
    let media_type = media_type.to_ascii_lowercase();
    matches!(
        media_type.as_str(),
        "application/schema+json"
            | "application/schema+yaml"
            | "application/vnd.aai.asyncapi"
            | "application/vnd.aai.asyncapi+json"
            | "application/vnd.aai.asyncapi+yaml"
    )
}

/// Records that `format` (found at `path`) is not a JSON Schema format.
pub(super) fn refuse_format(doc: &mut Doc<'_>, path: String, format: &str) {
    let message = format!(
        "schema format `{format}` is not supported: Sluice validates events with JSON Schema \
         (application/schema+json or AsyncAPI's own schema format)"
    );
    doc.notes.error(path, message);
}

/// The payload schema at `node`, with outside references bundled; errors are recorded.
pub(super) fn bundle<'a>(doc: &mut Doc<'a>, node: Node<'a>) -> Option<Payload> {
    let root = doc.deref(node.clone())?;
    let component = root
        .is_entry_of(&["components", "schemas"])
        .then(|| root.last_key())
        .flatten()
        .filter(|_| node.value.get("$ref").is_some())
        .map(str::to_owned);
    if !(root.value.is_object() || root.value.is_boolean()) {
        doc.notes.error(
            root.path(),
            "a payload schema must be a mapping or a boolean",
        );
        return None;
    }
    let mut bundler = Bundler {
        root: root.value,
        moved: vec![(root.at.clone(), "#".to_owned())],
        pending: Vec::new(),
        defs: Map::new(),
        taken: existing_defs(root.value),
        failed: false,
    };
    let mut schema = root.value.clone();
    bundler.rewrite(doc, &mut schema, &root.path());
    while let Some((key, mut copy, path)) = bundler.pending.pop() {
        bundler.rewrite(doc, &mut copy, &path);
        bundler.defs.insert(key, copy);
    }
    let failed = bundler.failed;
    bundler.finish(&mut schema);
    (!failed).then_some(Payload { schema, component })
}

/// Keys already under the payload's own `$defs`, which bundled definitions must not reuse.
fn existing_defs(schema: &Value) -> Vec<String> {
    let defs = schema.get("$defs").and_then(Value::as_object);
    defs.map(|defs| defs.keys().cloned().collect())
        .unwrap_or_default()
}

/// The state of one bundling: which document locations now live where in the schema.
struct Bundler<'a> {
    /// The payload schema as written.
    root: &'a Value,
    /// Document location → the reference that reaches it inside the schema.
    moved: Vec<(Vec<Seg<'a>>, String)>,
    /// Definitions copied but not yet rewritten: key, copy, document path. A queue rather
    /// than recursion, so a long chain of references cannot exhaust the stack.
    pending: Vec<(String, Value, String)>,
    defs: Map<String, Value>,
    taken: Vec<String>,
    failed: bool,
}

impl<'a> Bundler<'a> {
    /// Rewrites every `$ref` in `value` (found at document path `path`).
    fn rewrite(&mut self, doc: &mut Doc<'a>, value: &mut Value, path: &str) {
        match value {
            Value::Object(object) => {
                if let Some(reference) = object.get_mut("$ref") {
                    self.rewrite_ref(doc, reference, &key_path(path, "$ref"));
                }
                for (key, child) in object.iter_mut().filter(|(k, _)| *k != "$ref") {
                    self.rewrite(doc, child, &key_path(path, key));
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter_mut().enumerate() {
                    self.rewrite(doc, item, &index_path(path, i));
                }
            }
            _ => {}
        }
    }

    /// Points `reference` at the copy of its target inside the schema, queueing a copy when
    /// the target is not inside yet.
    fn rewrite_ref(&mut self, doc: &mut Doc<'a>, reference: &mut Value, path: &str) {
        let text = reference.as_str().unwrap_or_default();
        if text == "#" {
            return; // the schema itself, as JSON Schema reads it
        }
        let target = match doc.pointer_target(reference) {
            Ok(target) => target,
            // Written relative to the payload, as a stand-alone JSON Schema would be.
            Err(_) if relative_target(self.root, text) => return,
            Err(message) => return self.fail(doc, path, message),
        };
        if let Some(inside) = self.inside_moved(&target.at) {
            *reference = Value::String(inside);
            return;
        }
        if self.moved.len() > MAX_DEFS {
            let message = format!("the payload references more than {MAX_DEFS} definitions");
            return self.fail(doc, path, message);
        }
        let key = self.def_key(&target);
        let pointer = format!("#/$defs/{}", escape(&key));
        *reference = Value::String(pointer.clone());
        self.moved.push((target.at.clone(), pointer));
        self.pending
            .push((key, target.value.clone(), target.path()));
    }

    /// The reference reaching `at` when it lies in something already copied.
    fn inside_moved(&self, at: &[Seg<'a>]) -> Option<String> {
        let (prefix, base) = self
            .moved
            .iter()
            .filter(|(prefix, _)| at.starts_with(prefix))
            .max_by_key(|(prefix, _)| prefix.len())?;
        let rest = at.get(prefix.len()..).unwrap_or_default();
        let mut pointer = base.clone();
        for seg in rest {
            pointer.push('/');
            match seg {
                Seg::Key(key) => pointer.push_str(&escape(key)),
                Seg::Index(i) => pointer.push_str(&i.to_string()),
            }
        }
        Some(pointer)
    }

    /// A fresh `$defs` key named after the target's last step.
    fn def_key(&mut self, target: &Node<'a>) -> String {
        let base = match target.at.last() {
            Some(Seg::Key(key)) => names::component_key(key),
            _ => names::component_key(&render(&target.at)),
        };
        let key = names::unique(&base, |k| self.taken.iter().any(|t| t == k));
        self.taken.push(key.clone());
        key
    }

    fn fail(&mut self, doc: &mut Doc<'a>, path: &str, message: String) {
        doc.notes.error(path, message);
        self.failed = true;
    }

    /// Adds the copied definitions to the schema's `$defs`.
    fn finish(self, schema: &mut Value) {
        if self.defs.is_empty() {
            return;
        }
        let Value::Object(object) = schema else {
            // A boolean schema has no `$ref` to bundle, so no definitions either.
            return;
        };
        let defs = object
            .entry("$defs")
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(defs) = defs {
            defs.extend(self.defs);
        }
    }
}

/// Whether `text` is a JSON Pointer fragment that resolves inside `schema` itself.
fn relative_target(schema: &Value, text: &str) -> bool {
    let Ok(segments) = parse_pointer(text) else {
        return false;
    };
    let escape = |s: &String| format!("/{}", s.replace('~', "~0").replace('/', "~1"));
    let pointer: String = segments.iter().map(escape).collect();
    schema.pointer(&pointer).is_some()
}

/// A JSON Pointer segment (RFC 6901 §3), then percent-encoded where a URI fragment needs it.
fn escape(segment: &str) -> String {
    let mut out = String::with_capacity(segment.len());
    for c in segment.chars() {
        match c {
            '~' => out.push_str("~0"),
            '/' => out.push_str("~1"),
            'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '_' | '-' => out.push(c),
            _ => {
                let mut buffer = [0; 4];
                for byte in c.encode_utf8(&mut buffer).bytes() {
                    out.push_str(&format!("%{byte:02X}"));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn bundled(root: &Value, at: &[&str]) -> (Option<Payload>, Vec<String>) {
        let mut doc = Doc::new(root);
        let mut node = doc.top();
        for key in at {
            node = node.child(key).expect("test path exists");
        }
        let payload = bundle(&mut doc, node);
        let errors = doc.notes.errors.iter().map(|e| e.to_string()).collect();
        (payload, errors)
    }

    #[test]
    fn a_payload_that_is_a_component_reference_takes_its_name() {
        let root = json!({
            "m": { "payload": { "$ref": "#/components/schemas/order" } },
            "components": { "schemas": { "order": { "type": "object" } } }
        });
        let (payload, errors) = bundled(&root, &["m", "payload"]);
        assert_eq!(errors, Vec::<String>::new());
        let expected = Payload {
            schema: json!({ "type": "object" }),
            component: Some("order".to_owned()),
        };
        assert_eq!(payload, Some(expected));
    }

    #[test]
    fn outside_references_are_copied_under_defs() {
        let root = json!({
            "m": { "payload": {
                "type": "object",
                "properties": {
                    "to": { "$ref": "#/components/schemas/address" },
                    "from": { "$ref": "#/components/schemas/address" },
                    "self": { "$ref": "#/m/payload" },
                    "zip": { "$ref": "#/components/schemas/address/properties/zip" }
                }
            } },
            "components": { "schemas": {
                "address": {
                    "properties": { "zip": { "type": "string" }, "next": { "$ref": "#/components/schemas/address" } }
                }
            } }
        });
        let (payload, errors) = bundled(&root, &["m", "payload"]);
        assert_eq!(errors, Vec::<String>::new());
        let expected = json!({
            "type": "object",
            "properties": {
                "to": { "$ref": "#/$defs/address" },
                "from": { "$ref": "#/$defs/address" },
                "self": { "$ref": "#" },
                "zip": { "$ref": "#/$defs/address/properties/zip" }
            },
            "$defs": { "address": {
                "properties": { "zip": { "type": "string" }, "next": { "$ref": "#/$defs/address" } }
            } }
        });
        assert_eq!(payload.map(|p| p.schema), Some(expected));
    }

    #[test]
    fn bundled_definitions_do_not_overwrite_the_payloads_own() {
        let root = json!({
            "p": { "$defs": { "a": {} }, "items": { "$ref": "#/x/a" } },
            "x": { "a": { "type": "integer" } }
        });
        let (payload, _) = bundled(&root, &["p"]);
        let expected = json!({
            "$defs": { "a": {}, "a_2": { "type": "integer" } },
            "items": { "$ref": "#/$defs/a_2" }
        });
        assert_eq!(payload.map(|p| p.schema), Some(expected));
    }

    #[test]
    fn references_relative_to_the_payload_are_kept() {
        let root = json!({
            "p": { "definitions": { "id": { "type": "integer" } },
                   "properties": { "id": { "$ref": "#/definitions/id" }, "me": { "$ref": "#" } } }
        });
        let (payload, errors) = bundled(&root, &["p"]);
        assert_eq!(errors, Vec::<String>::new());
        assert_eq!(payload.map(|p| p.schema), Some(root["p"].clone()));
    }

    #[test]
    fn unresolvable_references_inside_payloads_are_errors_at_their_path() {
        let root = json!({
            "p": { "properties": {
                "a": { "$ref": "#/nowhere" },
                "b": { "$ref": "common.json#/x" }
            } }
        });
        let (payload, errors) = bundled(&root, &["p"]);
        assert_eq!(payload, None);
        assert_eq!(
            errors,
            [
                "p.properties.a.$ref: `#/nowhere` points at nothing in this document",
                "p.properties.b.$ref: `common.json#/x` is outside this document: only \
                 references inside it (`#/…`) are followed",
            ]
        );
    }

    #[test]
    fn schema_formats_of_json_schema_are_recognised() {
        for format in [
            "application/schema+json;version=draft-07",
            "application/vnd.aai.asyncapi+json;version=3.0.0",
            "Application/Schema+YAML; version=draft-07",
        ] {
            assert!(json_schema_format(format), "{format}");
        }
        for format in [
            "application/vnd.apache.avro;version=1.9.0",
            "application/vnd.oai.openapi;version=3.0.0",
            "application/raml+yaml;version=1.0",
        ] {
            assert!(!json_schema_format(format), "{format}");
        }
    }
}
