//! A `zilla.yaml` as an untyped tree that keeps mapping order and where each setting was
//! written, so that every part of the file, known or not, can be named by its path and line.
//!
//! The typed reading in `model` walks this tree instead of deserializing straight into
//! structs: serde stops at the first unknown key, and an import must list every part it
//! cannot carry over.

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};

use crate::config::{index_path, key_path};

/// One YAML node and the line it starts on.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Node {
    /// 1-based line, when the parser knew it.
    pub line: Option<usize>,
    /// Byte range of a scalar in the text, used to place `${{env.NAME}}` problems.
    pub span: Option<(usize, usize)>,
    pub value: Value,
}

/// The shape and content of a node.
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Value {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// A mapping entry: its key as text, the key's line, and the value.
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Entry {
    pub key: String,
    pub key_line: Option<usize>,
    pub key_span: Option<(usize, usize)>,
    pub value: Node,
}

impl Node {
    /// The entries when this is a mapping.
    pub fn as_map(&self) -> Option<&[Entry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    /// The value under `key` when this is a mapping holding it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.as_map()?
            .iter()
            .find(|e| e.key == key)
            .map(|e| &e.value)
    }

    /// What kind of node this is, for messages (`a list`, `a number`).
    pub fn describe(&self) -> &'static str {
        match self.value {
            Value::Null => "empty",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

/// How deep a `zilla.yaml` may nest. Zilla's own settings go about ten levels deep; the cap
/// keeps the recursive reading well inside a 2 MiB thread stack, even in debug builds.
pub(super) const MAX_DEPTH: usize = 24;

/// YAML reading rules: the same as for Sluice's own file, with a tighter nesting cap.
pub(super) fn yaml_options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.strict_booleans = true;
    options.with_snippet = false;
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = MAX_DEPTH;
    options.budget = Some(budget);
    options
}

/// Parses `text` into a tree; on failure, the parser's message and line.
pub(super) fn parse(text: &str) -> Result<Node, (String, Option<usize>)> {
    serde_saphyr::from_str_with_options::<Node>(text, yaml_options()).map_err(|error| {
        use serde_saphyr::{DefaultMessageFormatter, Error, MessageFormatter};
        let error = error.without_snippet();
        let message = match error {
            Error::MultipleDocuments { .. } => "the file holds more than one YAML document".into(),
            Error::Eof { .. } => "the file is empty".into(),
            _ => DefaultMessageFormatter.format_message(error).into_owned(),
        };
        let line = error
            .location()
            .and_then(|l| usize::try_from(l.line()).ok())
            .filter(|l| *l > 0);
        (message, line)
    })
}

/// Where each setting of a tree was written, by path, and the scalars' byte ranges.
#[derive(Debug, Default)]
pub(super) struct Lines {
    lines: HashMap<String, usize>,
    spans: Vec<(usize, usize, String)>,
}

impl Lines {
    /// Records every path of `root`.
    pub fn index(root: &Node) -> Self {
        let mut lines = Self::default();
        lines.walk(root, "");
        lines
    }

    fn walk(&mut self, node: &Node, path: &str) {
        match &node.value {
            Value::Map(entries) => {
                for entry in entries {
                    let child = key_path(path, &entry.key);
                    self.record(&child, entry.key_line, entry.key_span);
                    self.record(&child, entry.value.line, entry.value.span);
                    self.walk(&entry.value, &child);
                }
            }
            Value::Seq(items) => {
                for (i, item) in items.iter().enumerate() {
                    let child = index_path(path, i);
                    self.record(&child, item.line, item.span);
                    self.walk(item, &child);
                }
            }
            _ => {}
        }
    }

    fn record(&mut self, path: &str, line: Option<usize>, span: Option<(usize, usize)>) {
        if let Some(line) = line {
            self.lines.entry(path.to_owned()).or_insert(line);
        }
        if let Some((start, end)) = span {
            self.spans.push((start, end, path.to_owned()));
        }
    }

    /// The line of `path`, or of its nearest written ancestor.
    pub fn line_of(&self, path: &str) -> Option<usize> {
        let mut current = path;
        loop {
            if let Some(line) = self.lines.get(current) {
                return Some(*line);
            }
            current = parent(current)?;
        }
    }

    /// The path of the smallest scalar covering byte `offset`; `None` when no scalar does
    /// (the offset is in a comment or between tokens).
    pub fn scalar_at(&self, offset: usize) -> Option<&str> {
        self.spans
            .iter()
            .filter(|(start, end, _)| (*start..*end).contains(&offset))
            .min_by_key(|(start, end, _)| end - start)
            .map(|(_, _, path)| path.as_str())
    }
}

/// The path one level up; `.` and `[` inside a quoted key do not count.
fn parent(path: &str) -> Option<&str> {
    let mut quoted = false;
    let mut escaped = false;
    let mut boundary = None;
    for (i, c) in path.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' if quoted => escaped = true,
            '"' => quoted = !quoted,
            '.' | '[' if !quoted => boundary = Some(i),
            _ => {}
        }
    }
    boundary.map(|i| &path[..i])
}

fn line_of(location: &Location) -> Option<usize> {
    usize::try_from(location.line()).ok().filter(|l| *l > 0)
}

fn span_of(location: &Location) -> Option<(usize, usize)> {
    let span = location.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len()?).ok()?;
    (len > 0).then(|| (start, start.saturating_add(len)))
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        let scalar = !matches!(spanned.value, Value::Seq(_) | Value::Map(_));
        Ok(Node {
            line: line_of(&spanned.referenced),
            span: scalar.then(|| span_of(&spanned.referenced)).flatten(),
            value: spanned.value,
        })
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Value, E> {
        Ok(Value::Bool(value))
    }
    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Value, E> {
        Ok(Value::Int(value.into()))
    }
    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Value, E> {
        Ok(Value::Int(value.into()))
    }
    fn visit_i128<E: de::Error>(self, value: i128) -> Result<Value, E> {
        Ok(Value::Int(value))
    }
    fn visit_u128<E: de::Error>(self, value: u128) -> Result<Value, E> {
        // Beyond i128 no setting here makes sense; keep it as text so it is refused by type.
        Ok(i128::try_from(value).map_or_else(|_| Value::Str(value.to_string()), Value::Int))
    }
    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Value, E> {
        Ok(Value::Float(value))
    }
    fn visit_str<E: de::Error>(self, value: &str) -> Result<Value, E> {
        Ok(Value::Str(value.to_owned()))
    }
    fn visit_bytes<E: de::Error>(self, value: &[u8]) -> Result<Value, E> {
        Ok(Value::Str(String::from_utf8_lossy(value).into_owned()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        Value::deserialize(deserializer)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = access.next_key::<Spanned<Key>>()? {
            let value: Node = access.next_value()?;
            entries.push(Entry {
                key: key.value.0,
                key_line: line_of(&key.referenced),
                key_span: span_of(&key.referenced),
                value,
            });
        }
        Ok(Value::Map(entries))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = access.next_element()? {
            items.push(item);
        }
        Ok(Value::Seq(items))
    }
}

/// A mapping key as text, whatever scalar type YAML gave it.
struct Key(String);

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(KeyVisitor)
    }
}

struct KeyVisitor;

impl Visitor<'_> for KeyVisitor {
    type Value = Key;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a scalar mapping key")
    }

    fn visit_bool<E: de::Error>(self, value: bool) -> Result<Key, E> {
        Ok(Key(value.to_string()))
    }
    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Key, E> {
        Ok(Key(value.to_string()))
    }
    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Key, E> {
        Ok(Key(value.to_string()))
    }
    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Key, E> {
        Ok(Key(value.to_string()))
    }
    fn visit_str<E: de::Error>(self, value: &str) -> Result<Key, E> {
        Ok(Key(value.to_owned()))
    }
    fn visit_unit<E: de::Error>(self) -> Result<Key, E> {
        Ok(Key("null".to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "\
name: example
bindings:
  tcp:
    type: tcp
    options: { host: 0.0.0.0, port: 7143 }
list:
  - a
  -
    b: 2.5
";

    #[test]
    fn mappings_keep_their_order_and_values() {
        let root = parse(TEXT).expect("parses");
        let keys: Vec<&str> = root
            .as_map()
            .expect("a mapping")
            .iter()
            .map(|e| e.key.as_str())
            .collect();
        assert_eq!(keys, ["name", "bindings", "list"]);
        let port = root
            .get("bindings")
            .and_then(|b| b.get("tcp"))
            .and_then(|t| t.get("options"))
            .and_then(|o| o.get("port"))
            .expect("port");
        assert_eq!(port.value, Value::Int(7143));
        assert_eq!(port.line, Some(5));
    }

    #[test]
    fn lines_are_found_by_path_with_ancestor_fallback() {
        let root = parse(TEXT).expect("parses");
        let lines = Lines::index(&root);
        assert_eq!(lines.line_of("name"), Some(1));
        assert_eq!(lines.line_of("bindings.tcp.type"), Some(4));
        assert_eq!(lines.line_of("bindings.tcp.options.port"), Some(5));
        assert_eq!(lines.line_of("bindings.tcp.routes[0]"), Some(3));
        assert_eq!(lines.line_of("list[1].b"), Some(9));
        assert_eq!(lines.line_of("telemetry"), None);
    }

    #[test]
    fn scalars_are_found_by_byte_offset() {
        let root = parse(TEXT).expect("parses");
        let lines = Lines::index(&root);
        let offset = TEXT.find("example").expect("present");
        assert_eq!(lines.scalar_at(offset), Some("name"));
        assert_eq!(lines.scalar_at(TEXT.len() + 10), None);
    }

    #[test]
    fn bad_yaml_gives_a_message_and_line() {
        let (message, line) = parse("a: [\nb: 1").expect_err("fails");
        assert!(!message.is_empty());
        assert!(line.is_some());
        assert_eq!(parse("").map(|n| n.value), Ok(Value::Null));
    }

    #[test]
    fn parents_skip_quoted_dots() {
        assert_eq!(parent("a.\"b.c\""), Some("a"));
        assert_eq!(parent("a[0].b"), Some("a[0]"));
        assert_eq!(parent("a"), None);
    }
}
