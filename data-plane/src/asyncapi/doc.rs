//! Walking a parsed AsyncAPI document: nodes that know where they are, `$ref` resolution
//! inside the document, and typed reads that record an error at the node's path instead of
//! failing, so one pass reports every problem.

use serde_json::{Map, Value};

use crate::config::{ConfigErrors, index_path, key_path};

/// How many `$ref` hops one lookup may take before it counts as a cycle.
const MAX_REF_HOPS: usize = 32;

/// One step from the document root.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Seg<'a> {
    /// A mapping key.
    Key(&'a str),
    /// A list index.
    Index(usize),
}

/// A value of the document and the steps that lead to it from the root.
#[derive(Clone, Debug)]
pub(super) struct Node<'a> {
    pub value: &'a Value,
    pub at: Vec<Seg<'a>>,
}

impl<'a> Node<'a> {
    /// The path as errors write it: `channels.orders.messages.created`.
    pub fn path(&self) -> String {
        render(&self.at)
    }

    /// The path of `key` under this node, whether or not it is present.
    pub fn path_of(&self, key: &str) -> String {
        key_path(&self.path(), key)
    }

    /// The last mapping key on the way here, e.g. a message's id.
    pub fn last_key(&self) -> Option<&'a str> {
        match self.at.last() {
            Some(Seg::Key(key)) => Some(key),
            _ => None,
        }
    }

    /// True when this node sits directly in the mapping at `parent` (e.g.
    /// `["components", "messages"]`).
    pub fn is_entry_of(&self, parent: &[&str]) -> bool {
        self.at.len() == parent.len() + 1
            && self
                .at
                .iter()
                .zip(parent)
                .all(|(seg, key)| *seg == Seg::Key(key))
    }

    /// The child under `key`, as written (a `$ref` is not followed).
    pub fn child(&self, key: &str) -> Option<Node<'a>> {
        let (key, value) = self.value.as_object()?.get_key_value(key)?;
        Some(self.step(Seg::Key(key), value))
    }

    fn step(&self, seg: Seg<'a>, value: &'a Value) -> Node<'a> {
        let mut at = self.at.clone();
        at.push(seg);
        Node { value, at }
    }
}

/// Writes steps in the config's path syntax.
pub(super) fn render(at: &[Seg<'_>]) -> String {
    at.iter().fold(String::new(), |path, seg| match seg {
        Seg::Key(key) => key_path(&path, key),
        Seg::Index(i) => index_path(&path, *i),
    })
}

/// What an import found wrong (errors) or chose to leave out (warnings).
#[derive(Debug, Default)]
pub(super) struct Notes {
    pub errors: ConfigErrors,
    pub warnings: Vec<String>,
}

impl Notes {
    /// Records an error at `path`.
    pub fn error(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.errors.push(path, message);
    }

    /// Records a warning: `path: message`.
    pub fn warn(&mut self, path: &str, message: &str) {
        self.warnings.push(format!("{path}: {message}"));
    }
}

/// The document being read, with the notes taken so far.
#[derive(Debug)]
pub(super) struct Doc<'a> {
    pub root: &'a Value,
    pub notes: Notes,
}

impl<'a> Doc<'a> {
    /// Starts reading `root`.
    pub fn new(root: &'a Value) -> Self {
        Self {
            root,
            notes: Notes::default(),
        }
    }

    /// The root node.
    pub fn top(&self) -> Node<'a> {
        Node {
            value: self.root,
            at: Vec::new(),
        }
    }

    /// `node`, or what its `$ref` chain leads to. A broken reference is recorded.
    pub fn deref(&mut self, node: Node<'a>) -> Option<Node<'a>> {
        let mut node = node;
        let mut seen: Vec<Vec<Seg<'a>>> = Vec::new();
        while let Some(reference) = node.value.as_object().and_then(|o| o.get("$ref")) {
            let ref_path = node.path_of("$ref");
            if seen.len() == MAX_REF_HOPS || seen.contains(&node.at) {
                self.notes
                    .error(ref_path, "the reference leads back to itself");
                return None;
            }
            seen.push(node.at.clone());
            node = match self.pointer_target(reference) {
                Ok(target) => target,
                Err(message) => {
                    self.notes.error(ref_path, message);
                    return None;
                }
            };
        }
        Some(node)
    }

    /// The node a `$ref` value points at, or why it cannot be followed.
    pub fn pointer_target(&self, reference: &Value) -> Result<Node<'a>, String> {
        let Some(text) = reference.as_str() else {
            return Err("a reference must be a string such as `#/components/messages/x`".into());
        };
        let segments = parse_pointer(text)?;
        let mut node = self.top();
        for segment in &segments {
            node = walk(&node, segment)
                .ok_or_else(|| format!("`{text}` points at nothing in this document"))?;
        }
        Ok(node)
    }

    /// The child under `key` with its `$ref` followed; `None` when absent or broken.
    pub fn field(&mut self, node: &Node<'a>, key: &str) -> Option<Node<'a>> {
        let child = node.child(key)?;
        self.deref(child)
    }

    /// The string under `key`; a value of another type is recorded.
    pub fn text(&mut self, node: &Node<'a>, key: &str) -> Option<&'a str> {
        let child = self.field(node, key)?;
        let text = child.value.as_str();
        if text.is_none() {
            self.notes.error(child.path(), "must be a string");
        }
        text
    }

    /// The mapping at `node`; another type is recorded.
    pub fn object(&mut self, node: &Node<'a>) -> Option<&'a Map<String, Value>> {
        let object = node.value.as_object();
        if object.is_none() {
            self.notes.error(node.path(), "must be a mapping");
        }
        object
    }

    /// The entries of the mapping at `node`, values as written (a `$ref` not followed).
    pub fn entries(&mut self, node: &Node<'a>) -> Vec<(&'a str, Node<'a>)> {
        let Some(object) = self.object(node) else {
            return Vec::new();
        };
        let entry =
            |(key, value): (&'a String, &'a Value)| (key.as_str(), node.step(Seg::Key(key), value));
        object.iter().map(entry).collect()
    }

    /// The items of the list at `node`, as written; another type is recorded.
    pub fn items(&mut self, node: &Node<'a>) -> Vec<Node<'a>> {
        let Some(list) = node.value.as_array() else {
            self.notes.error(node.path(), "must be a list");
            return Vec::new();
        };
        let item = |(i, value): (usize, &'a Value)| node.step(Seg::Index(i), value);
        list.iter().enumerate().map(item).collect()
    }

    /// The strings of the list at `node`; other items are recorded.
    pub fn strings(&mut self, node: &Node<'a>) -> Vec<&'a str> {
        let mut strings = Vec::new();
        for item in self.items(node) {
            match item.value.as_str() {
                Some(text) => strings.push(text),
                None => self.notes.error(item.path(), "must be a string"),
            }
        }
        strings
    }
}

/// One step of a JSON Pointer: a key, or an index for a list.
fn walk<'a>(node: &Node<'a>, segment: &str) -> Option<Node<'a>> {
    match node.value {
        Value::Object(_) => node.child(segment),
        Value::Array(list) => {
            // RFC 6901 §4: an index has no leading zeros (except `0` itself).
            let canonical = segment == "0" || !segment.starts_with('0');
            let index: usize = segment.parse().ok().filter(|_| canonical)?;
            let value = list.get(index)?;
            Some(node.step(Seg::Index(index), value))
        }
        _ => None,
    }
}

/// The unescaped segments of a same-document reference `#/a/b~1c` (RFC 6901 §6: the
/// fragment is percent-decoded first, then `~1` and `~0` are unescaped).
pub(super) fn parse_pointer(text: &str) -> Result<Vec<String>, String> {
    let Some(fragment) = text.strip_prefix('#') else {
        return Err(format!(
            "`{text}` is outside this document: only references inside it (`#/…`) are followed"
        ));
    };
    let decoded = percent_decode(fragment)
        .ok_or_else(|| format!("`{text}` is not a valid JSON Pointer fragment"))?;
    if decoded.is_empty() {
        return Ok(Vec::new());
    }
    let Some(rest) = decoded.strip_prefix('/') else {
        return Err(format!(
            "`{text}` is not a JSON Pointer: write `#/components/…`"
        ));
    };
    let unescape = |segment: &str| segment.replace("~1", "/").replace("~0", "~");
    Ok(rest.split('/').map(unescape).collect())
}

/// Decodes `%XX` escapes; `None` for a bad escape or bytes that are not UTF-8.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte == b'%' {
            let hex = bytes.get(i + 1..i + 3)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(byte);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn pointers_unescape_tilde_and_percent() {
        assert_eq!(
            parse_pointer("#/channels/~1orders~1%7Bregion%7D/a~0b"),
            Ok(vec![
                "channels".to_owned(),
                "/orders/{region}".to_owned(),
                "a~b".to_owned()
            ])
        );
        assert_eq!(parse_pointer("#"), Ok(Vec::new()));
        assert!(parse_pointer("other.yaml#/x").is_err());
        assert!(parse_pointer("#/a%zz").is_err());
        assert!(parse_pointer("#a").is_err());
    }

    #[test]
    fn refs_are_followed_and_paths_name_the_target() {
        let root = json!({
            "a": { "$ref": "#/b" },
            "b": { "$ref": "#/list/1" },
            "list": [0, { "x": 1 }]
        });
        let mut doc = Doc::new(&root);
        let top = doc.top();
        let target = doc.field(&top, "a").expect("should resolve");
        assert_eq!(target.value, &json!({ "x": 1 }));
        assert_eq!(target.path(), "list[1]");
        assert!(doc.notes.errors.is_empty());
    }

    #[test]
    fn broken_and_cyclic_refs_are_errors_at_the_ref() {
        let root = json!({
            "a": { "$ref": "#/missing" },
            "b": { "$ref": "#/c" },
            "c": { "$ref": "#/b" },
            "d": { "$ref": "https://example.com/x.json" },
            "e": { "$ref": 5 }
        });
        let mut doc = Doc::new(&root);
        let top = doc.top();
        for key in ["a", "b", "d", "e"] {
            assert!(doc.field(&top, key).is_none(), "{key}");
        }
        let errors: Vec<String> = doc.notes.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            errors,
            [
                "a.$ref: `#/missing` points at nothing in this document",
                "b.$ref: the reference leads back to itself",
                "d.$ref: `https://example.com/x.json` is outside this document: only \
                 references inside it (`#/…`) are followed",
                "e.$ref: a reference must be a string such as `#/components/messages/x`",
            ]
        );
    }

    #[test]
    fn typed_reads_record_wrong_types() {
        let root = json!({ "s": 1, "l": "x", "m": [], "strings": ["a", 2] });
        let mut doc = Doc::new(&root);
        let top = doc.top();
        assert_eq!(doc.text(&top, "s"), None);
        assert!(doc.items(&top.child("l").expect("present")).is_empty());
        assert!(doc.entries(&top.child("m").expect("present")).is_empty());
        assert_eq!(doc.strings(&top.child("strings").expect("present")), ["a"]);
        let errors: Vec<String> = doc.notes.errors.iter().map(|e| e.to_string()).collect();
        assert_eq!(
            errors,
            [
                "s: must be a string",
                "l: must be a list",
                "m: must be a mapping",
                "strings[1]: must be a string"
            ]
        );
    }
}
