//! Where each setting sits in the file: a second, untyped pass over the YAML records the line
//! of every key and list item by path, so errors found after deserializing can still say
//! where they are.

use std::collections::HashMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{Location, Spanned};

use super::error::{index_path, key_path};

/// The line of each setting, by path (`tenants.acme.routes.orders`). A mapping entry's line is
/// its key's; a list item's is where the item starts.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct SourceLines {
    lines: HashMap<String, usize>,
}

impl SourceLines {
    /// The line of `path`, or of its nearest ancestor that was written (a defaulted setting
    /// points at the block it would belong to). `None` when nothing on the way is known.
    pub fn line_of(&self, path: &str) -> Option<usize> {
        let mut current = path;
        loop {
            if let Some(line) = self.lines.get(current) {
                return Some(*line);
            }
            current = parent(current)?;
        }
    }

    /// The line of `path` itself, only if it was written.
    pub fn exact_line(&self, path: &str) -> Option<usize> {
        self.lines.get(path).copied()
    }

    /// True when no positions are known (a config built in code).
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }
}

/// A summary: the table itself is long and of no use in a log.
impl fmt::Debug for SourceLines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SourceLines({} settings)", self.lines.len())
    }
}

/// The path one level up, or `None` at the top. Dots and brackets inside quotes do not count.
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

/// The byte range of one scalar (key or value) in the text, and the setting it belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct ScalarSpan {
    pub start: usize,
    pub end: usize,
    pub path: String,
}

/// Reads `text` as untyped YAML and records positions; `None` when it is not valid YAML
/// (the typed pass then reports why).
pub(crate) fn index(text: &str) -> Option<(SourceLines, Vec<ScalarSpan>)> {
    let root: Spanned<Node> =
        serde_saphyr::from_str_with_options(text, super::yaml_options()).ok()?;
    let mut found = (SourceLines::default(), Vec::new());
    walk(&root, "", &mut found);
    Some(found)
}

fn walk(node: &Spanned<Node>, path: &str, found: &mut (SourceLines, Vec<ScalarSpan>)) {
    match &node.value {
        Node::Map(entries) => {
            for (key, value) in entries {
                let child = key_path(path, &key.value.0);
                record(&key.referenced, &child, found);
                if let Node::Leaf = value.value {
                    found.1.extend(scalar_span(&value.referenced, &child));
                }
                walk(value, &child, found);
            }
        }
        Node::Seq(items) => {
            for (i, item) in items.iter().enumerate() {
                let child = index_path(path, i);
                record(&item.referenced, &child, found);
                walk(item, &child, found);
            }
        }
        Node::Leaf => {}
    }
}

fn record(location: &Location, path: &str, found: &mut (SourceLines, Vec<ScalarSpan>)) {
    if let Ok(line @ 1..) = usize::try_from(location.line()) {
        found.0.lines.entry(path.to_owned()).or_insert(line);
    }
    found.1.extend(scalar_span(location, path));
}

fn scalar_span(location: &Location, path: &str) -> Option<ScalarSpan> {
    let span = location.span();
    let start = usize::try_from(span.byte_offset()?).ok()?;
    let len = usize::try_from(span.byte_len()?).ok()?;
    (len > 0).then(|| ScalarSpan {
        start,
        end: start.saturating_add(len),
        path: path.to_owned(),
    })
}

/// Any YAML node, keeping only its shape.
enum Node {
    Map(Vec<(Spanned<Key>, Spanned<Node>)>),
    Seq(Vec<Spanned<Node>>),
    Leaf,
}

/// A mapping key as text, whatever scalar type YAML gave it.
struct Key(String);

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any YAML node")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_i128<E: de::Error>(self, _: i128) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_u128<E: de::Error>(self, _: u128) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_str<E: de::Error>(self, _: &str) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_bytes<E: de::Error>(self, _: &[u8]) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Leaf)
    }
    fn visit_none<E: de::Error>(self) -> Result<Node, E> {
        Ok(Node::Leaf)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Node, A::Error> {
        let mut entries = Vec::new();
        while let Some(key) = access.next_key()? {
            entries.push((key, access.next_value()?));
        }
        Ok(Node::Map(entries))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut access: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = access.next_element()? {
            items.push(item);
        }
        Ok(Node::Seq(items))
    }
}

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
version: 1
tenants:
  acme:
    hosts: [a.example, \"b.example\"]
    routes:
      orders:
        events: { order.created: order@1 }
listeners:
  - address: 0.0.0.0:1
  -
    address: 0.0.0.0:2
";

    #[test]
    fn keys_and_items_are_found_by_path() {
        let (lines, _) = index(TEXT).expect("should succeed");
        assert_eq!(lines.line_of("version"), Some(1));
        assert_eq!(lines.line_of("tenants.acme"), Some(3));
        assert_eq!(lines.line_of("tenants.acme.hosts[1]"), Some(4));
        assert_eq!(
            lines.line_of("tenants.acme.routes.orders.events.\"order.created\""),
            Some(7)
        );
        assert_eq!(lines.line_of("listeners[0].address"), Some(9));
        assert_eq!(lines.line_of("listeners[1]"), Some(11));
        assert_eq!(lines.line_of("listeners[1].address"), Some(11));
    }

    #[test]
    fn an_unwritten_setting_takes_its_nearest_ancestors_line() {
        let (lines, _) = index(TEXT).expect("should succeed");
        assert_eq!(lines.line_of("tenants.acme.routes.orders.public"), Some(6));
        assert_eq!(lines.line_of("tenants.acme.auth.issuer"), Some(3));
        assert_eq!(lines.line_of("admin"), None);
    }

    #[test]
    fn scalar_spans_cover_values_and_keys() {
        let (_, spans) = index(TEXT).expect("should succeed");
        let start = TEXT.find("\"b.example\"").expect("should succeed");
        let span = spans
            .iter()
            .find(|s| s.start == start)
            .expect("should succeed");
        assert_eq!(span.end, start + "\"b.example\"".len());
        assert_eq!(span.path, "tenants.acme.hosts[1]");
    }

    #[test]
    fn parents_skip_quoted_dots() {
        assert_eq!(parent("a.\"b.c\""), Some("a"));
        assert_eq!(parent("a[0].b"), Some("a[0]"));
        assert_eq!(parent("a[0]"), Some("a"));
        assert_eq!(parent("a"), None);
    }

    #[test]
    fn invalid_yaml_gives_no_index() {
        assert!(index("a: [").is_none());
    }
}
