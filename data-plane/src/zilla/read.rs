//! Reading the tree into the model: typed accessors that report by path, and the
//! namespace-level parts (name, vaults, guards, catalogs, telemetry). Bindings are read in
//! `bindings`.
//!
//! Every key that is not read is reported as unsupported, so nothing in the file is silently
//! dropped.

use std::path::Path;

use crate::config::{Jwk, index_path, key_path};

use super::bindings;
use super::model::{
    Catalog, Exporter, Guard, GuardKeys, KeyStore, Named, Namespace, Subject, Vault,
};
use super::report::Notes;
use super::tree::{self, Entry, Node, Value};

/// Largest catalog schema file read, in bytes: schemas are small; anything bigger is a
/// wrong path.
const MAX_SCHEMA_FILE: u64 = 4 << 20;

/// The keys of one mapping, handed out one by one; whatever is left is reported.
#[derive(Debug)]
pub(super) struct Fields<'a> {
    path: String,
    entries: &'a [Entry],
    used: Vec<bool>,
}

impl<'a> Fields<'a> {
    /// The mapping at `path`; an empty node reads as an empty mapping.
    pub fn of(node: &'a Node, path: &str, notes: &mut Notes) -> Option<Self> {
        let entries: &[Entry] = match &node.value {
            Value::Map(entries) => entries,
            Value::Null => &[],
            _ => {
                notes.unsupported(
                    path,
                    format!("expected a mapping, found {}", node.describe()),
                );
                return None;
            }
        };
        Some(Self {
            path: path.to_owned(),
            entries,
            used: vec![false; entries.len()],
        })
    }

    /// The value under `key` and its path, marking it read.
    pub fn take(&mut self, key: &str) -> Option<(&'a Node, String)> {
        let index = self.entries.iter().position(|e| e.key == key)?;
        self.used[index] = true;
        Some((&self.entries[index].value, key_path(&self.path, key)))
    }

    /// Reports every key not taken as unsupported in `owner` (e.g. `a tcp server's
    /// options`).
    pub fn finish(self, notes: &mut Notes, owner: &str) {
        for (entry, used) in self.entries.iter().zip(self.used) {
            if !used {
                let what = format!("`{}` is not imported for {owner}", entry.key);
                notes.unsupported(key_path(&self.path, &entry.key), what);
            }
        }
    }
}

/// A string value.
pub(super) fn string(node: &Node, path: &str, notes: &mut Notes) -> Option<String> {
    match &node.value {
        Value::Str(text) => Some(text.clone()),
        _ => wrong(node, path, "a string", notes),
    }
}

/// A non-negative whole number, written as a number or as digits in a string.
pub(super) fn number(node: &Node, path: &str, notes: &mut Notes) -> Option<u64> {
    let parsed = match &node.value {
        Value::Int(n) => u64::try_from(*n).ok(),
        Value::Str(text) if text.bytes().all(|b| b.is_ascii_digit()) => text.parse().ok(),
        _ => None,
    };
    parsed.or_else(|| wrong(node, path, "a whole number of 0 or more", notes))
}

/// A boolean.
pub(super) fn boolean(node: &Node, path: &str, notes: &mut Notes) -> Option<bool> {
    match node.value {
        Value::Bool(value) => Some(value),
        _ => wrong(node, path, "true or false", notes),
    }
}

/// The items of a list; an empty node reads as an empty list.
pub(super) fn list<'a>(node: &'a Node, path: &str, notes: &mut Notes) -> Option<&'a [Node]> {
    match &node.value {
        Value::Seq(items) => Some(items),
        Value::Null => Some(&[]),
        _ => wrong(node, path, "a list", notes),
    }
}

/// A list of strings.
pub(super) fn strings(node: &Node, path: &str, notes: &mut Notes) -> Option<Vec<String>> {
    let items = list(node, path, notes)?;
    let mark = notes.mark();
    let strings: Vec<String> = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| string(item, &index_path(path, i), notes))
        .collect();
    notes.clean_since(mark).then_some(strings)
}

/// The entries of a mapping; an empty node reads as an empty mapping.
pub(super) fn entries<'a>(node: &'a Node, path: &str, notes: &mut Notes) -> Option<&'a [Entry]> {
    match &node.value {
        Value::Map(entries) => Some(entries),
        Value::Null => Some(&[]),
        _ => wrong(node, path, "a mapping", notes),
    }
}

/// Reports a value of the wrong type.
fn wrong<T>(node: &Node, path: &str, expected: &str, notes: &mut Notes) -> Option<T> {
    let found = match &node.value {
        Value::Str(text) => format!("`{text}`"),
        _ => node.describe().to_owned(),
    };
    notes.unsupported(path, format!("expected {expected}, found {found}"));
    None
}

/// Reads each entry of the mapping at `path` with `read`, noting whether it was whole.
pub(super) fn named<T>(
    node: &Node,
    path: &str,
    notes: &mut Notes,
    mut read: impl FnMut(&Node, &str, &mut Notes) -> T,
) -> Vec<Named<T>> {
    let Some(entries) = entries(node, path, notes) else {
        return Vec::new();
    };
    entries
        .iter()
        .map(|entry| {
            let path = key_path(path, &entry.key);
            let mark = notes.mark();
            let value = read(&entry.value, &path, notes);
            Named {
                name: entry.key.clone(),
                whole: notes.clean_since(mark),
                path,
                value,
            }
        })
        .collect()
}

/// Reads a whole `zilla.yaml` tree. Catalog files are read from `base_dir`.
pub(super) fn namespace(root: &Node, base_dir: &Path, notes: &mut Notes) -> Namespace {
    let mut namespace = Namespace::default();
    let Some(mut top) = Fields::of(root, "", notes) else {
        return namespace;
    };
    if let Some((node, path)) = top.take("name") {
        namespace.name = string(node, &path, notes);
    }
    if let Some((node, path)) = top.take("vaults") {
        namespace.vaults = named(node, &path, notes, vault);
    }
    if let Some((node, path)) = top.take("guards") {
        namespace.guards = named(node, &path, notes, guard);
    }
    if let Some((node, path)) = top.take("catalogs") {
        namespace.catalogs = named(node, &path, notes, |n, p, notes| {
            catalog(n, p, base_dir, notes)
        });
    }
    if let Some((node, path)) = top.take("telemetry") {
        namespace.exporters = telemetry(node, &path, notes);
    }
    if let Some((node, path)) = top.take("bindings") {
        namespace.bindings = named(node, &path, notes, bindings::binding);
        namespace.binding_index = (namespace.bindings.iter().enumerate())
            .map(|(i, b)| (b.name.clone(), i))
            .collect();
    }
    top.finish(
        notes,
        "a namespace (Sluice imports name, vaults, guards, catalogs, telemetry and bindings)",
    );
    namespace
}

/// The `type` of a vault, guard, catalog or exporter, checked against `supported`.
fn part_type(
    fields: &mut Fields<'_>,
    path: &str,
    supported: &[&str],
    notes: &mut Notes,
) -> Option<String> {
    let Some((node, type_path)) = fields.take("type") else {
        notes.unsupported(path, "`type` is required");
        return None;
    };
    let kind = string(node, &type_path, notes)?;
    if supported.contains(&kind.as_str()) {
        return Some(kind);
    }
    let list = supported.join(", ");
    notes.unsupported(
        type_path,
        format!("{kind}: Sluice imports only {list} here"),
    );
    None
}

fn vault(node: &Node, path: &str, notes: &mut Notes) -> Vault {
    let mut vault = Vault::default();
    let Some(mut fields) = Fields::of(node, path, notes) else {
        return vault;
    };
    if part_type(&mut fields, path, &["filesystem"], notes).is_none() {
        return vault;
    }
    if let Some((node, path)) = fields.take("options") {
        vault.keys = vault_options(node, &path, notes);
    }
    fields.finish(notes, "a filesystem vault");
    vault
}

fn vault_options(node: &Node, path: &str, notes: &mut Notes) -> Option<KeyStore> {
    let mut options = Fields::of(node, path, notes)?;
    let keys = options
        .take("keys")
        .and_then(|(node, path)| key_store(node, &path, notes));
    options.finish(
        notes,
        "a vault (only `keys`, the server's PKCS#12 key store, is imported; trust and signer \
         stores serve client and upstream certificates, which Sluice does not take from a vault)",
    );
    keys
}

fn key_store(node: &Node, path: &str, notes: &mut Notes) -> Option<KeyStore> {
    let mut fields = Fields::of(node, path, notes)?;
    let store = match fields.take("store") {
        Some((node, path)) => string(node, &path, notes),
        None => {
            notes.unsupported(path, "`store` (the PKCS#12 file) is required");
            None
        }
    };
    if let Some((node, type_path)) = fields.take("type") {
        let kind = string(node, &type_path, notes);
        if let Some(kind) = kind.filter(|k| !k.eq_ignore_ascii_case("pkcs12")) {
            notes.unsupported(
                type_path,
                format!("{kind}: Sluice reads PKCS#12 key stores only"),
            );
        }
    }
    let password = fields
        .take("password")
        .and_then(|(node, path)| string(node, &path, notes));
    fields.finish(notes, "a key store");
    Some(KeyStore {
        store: store?,
        password,
    })
}

fn guard(node: &Node, path: &str, notes: &mut Notes) -> Guard {
    let mut guard = Guard::default();
    let Some(mut fields) = Fields::of(node, path, notes) else {
        return guard;
    };
    if part_type(&mut fields, path, &["jwt"], notes).is_none() {
        return guard;
    }
    match fields.take("options") {
        Some((node, path)) => guard_options(node, &path, &mut guard, notes),
        None => notes.unsupported(path, "`options` (issuer, audience, keys) is required"),
    }
    fields.finish(notes, "a jwt guard");
    guard
}

fn guard_options(node: &Node, path: &str, guard: &mut Guard, notes: &mut Notes) {
    let Some(mut options) = Fields::of(node, path, notes) else {
        return;
    };
    let issuer_why = "`issuer` is required: Sluice checks every token's `iss`";
    guard.issuer = required_text(&mut options, "issuer", issuer_why, notes);
    let audience_why = "`audience` is required: without one, Sluice would accept tokens issued \
                        for other services";
    guard.audience = required_text(&mut options, "audience", audience_why, notes);
    guard.roles = text(&mut options, "roles", notes);
    guard.identity = text(&mut options, "identity", notes);
    if let Some((node, path)) = options.take("challenge") {
        guard.challenge = number(node, &path, notes);
    }
    if let Some((node, path)) = options.take("keys") {
        guard.keys = guard_keys(node, &path, notes);
    }
    options.finish(notes, "a jwt guard's options");
}

/// The string under `key`, if written.
pub(super) fn text(fields: &mut Fields<'_>, key: &str, notes: &mut Notes) -> Option<String> {
    let (node, path) = fields.take(key)?;
    string(node, &path, notes)
}

/// The string under `key`, reported with `why` when missing.
fn required_text(
    fields: &mut Fields<'_>,
    key: &str,
    why: &str,
    notes: &mut Notes,
) -> Option<String> {
    if fields.entries.iter().all(|e| e.key != key) {
        notes.unsupported(key_path(&fields.path, key), why);
        return None;
    }
    text(fields, key, notes)
}

fn guard_keys(node: &Node, path: &str, notes: &mut Notes) -> GuardKeys {
    if let Value::Str(url) = &node.value {
        return GuardKeys::Url(url.clone());
    }
    let Some(items) = list(node, path, notes) else {
        return GuardKeys::Missing;
    };
    let keys = items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| jwk(item, &index_path(path, i), notes))
        .collect();
    GuardKeys::Inline(keys)
}

/// One JWK. Members Sluice does not read are ignored, as RFC 7517 §4 allows.
fn jwk(node: &Node, path: &str, notes: &mut Notes) -> Option<Jwk> {
    let entries = entries(node, path, notes)?;
    let mut key = Jwk::default();
    for entry in entries {
        let slot = match entry.key.as_str() {
            "kty" => &mut key.kty,
            "kid" => &mut key.kid,
            "alg" => &mut key.alg,
            "use" => &mut key.key_use,
            "crv" => &mut key.crv,
            "n" => &mut key.n,
            "e" => &mut key.e,
            "x" => &mut key.x,
            "y" => &mut key.y,
            _ => continue,
        };
        *slot = string(&entry.value, &key_path(path, &entry.key), notes);
    }
    if key.alg.is_none() {
        key.alg = implied_alg(&key, path, notes);
    }
    Some(key)
}

/// The algorithm a key without `alg` must be used with: only a curve names exactly one.
fn implied_alg(key: &Jwk, path: &str, notes: &mut Notes) -> Option<String> {
    let alg = match (key.kty.as_deref(), key.crv.as_deref()) {
        (Some("EC"), Some("P-256")) => "ES256",
        (Some("EC"), Some("P-384")) => "ES384",
        (Some("OKP"), Some("Ed25519")) => "EdDSA",
        _ => {
            let what = "`alg` is needed: Sluice pins each key to one algorithm (RFC 8725 §3.1), \
                        and this key's type does not name one";
            notes.unsupported(key_path(path, "alg"), what);
            return None;
        }
    };
    notes.difference(format!(
        "{path} has no `alg`: Sluice accepts it for {alg} tokens only, as its curve implies"
    ));
    Some(alg.to_owned())
}

fn catalog(node: &Node, path: &str, base_dir: &Path, notes: &mut Notes) -> Catalog {
    let mut catalog = Catalog::default();
    let Some(mut fields) = Fields::of(node, path, notes) else {
        return catalog;
    };
    let Some(kind) = part_type(&mut fields, path, &["inline", "filesystem"], notes) else {
        return catalog;
    };
    if let Some((node, path)) = fields.take("options") {
        catalog.subjects = subjects(node, &path, &kind, base_dir, notes);
    }
    fields.finish(notes, "a catalog");
    catalog
}

fn subjects(
    node: &Node,
    path: &str,
    kind: &str,
    base_dir: &Path,
    notes: &mut Notes,
) -> Vec<Subject> {
    let Some(mut options) = Fields::of(node, path, notes) else {
        return Vec::new();
    };
    let subjects = options
        .take("subjects")
        .map_or_else(Vec::new, |(node, path)| {
            let all = named(node, &path, notes, |n, p, notes| {
                subject(n, p, kind, base_dir, notes)
            });
            let whole = all.into_iter().filter(|s| s.whole);
            whole
                .filter_map(|s| {
                    s.value.map(|subject| Subject {
                        name: s.name,
                        ..subject
                    })
                })
                .collect()
        });
    options.finish(notes, "a catalog's options");
    subjects
}

fn subject(
    node: &Node,
    path: &str,
    kind: &str,
    base_dir: &Path,
    notes: &mut Notes,
) -> Option<Subject> {
    let mut fields = Fields::of(node, path, notes)?;
    let schema = if kind == "inline" {
        let (node, schema_path) = fields.take("schema").or_else(|| {
            notes.unsupported(path, "`schema` is required");
            None
        })?;
        let text = string(node, &schema_path, notes)?;
        json_schema(&text, &schema_path, notes)
    } else {
        let (node, file_path) = fields.take("path").or_else(|| {
            notes.unsupported(path, "`path` is required");
            None
        })?;
        let file = string(node, &file_path, notes)?;
        read_schema_file(&base_dir.join(file), &file_path, notes)
    };
    let version = match (kind, fields.take("version")) {
        ("inline", Some((node, version_path))) => schema_version(node, &version_path, notes),
        _ => Some(1),
    };
    fields.finish(notes, &format!("an {kind} catalog subject"));
    Some(Subject {
        name: String::new(),
        path: path.to_owned(),
        version: version?,
        schema: schema?,
    })
}

/// A subject's version: `latest` is the one version it has, number 1.
fn schema_version(node: &Node, path: &str, notes: &mut Notes) -> Option<u32> {
    if matches!(&node.value, Value::Str(text) if text == "latest") {
        return Some(1);
    }
    let number = number(node, path, notes)?;
    let version = u32::try_from(number).ok().filter(|v| *v > 0);
    if version.is_none() {
        notes.unsupported(path, "a schema version is `latest` or a number from 1");
    }
    version
}

fn read_schema_file(file: &Path, path: &str, notes: &mut Notes) -> Option<serde_json::Value> {
    let shown = file.display();
    let size = std::fs::metadata(file).map(|m| m.len());
    let text = match size {
        Ok(size) if size > MAX_SCHEMA_FILE => {
            Err(format!("{size} bytes is too large for a schema"))
        }
        Ok(_) => std::fs::read_to_string(file).map_err(|e| e.to_string()),
        Err(error) => Err(error.to_string()),
    };
    match text {
        Ok(text) => json_schema(&text, path, notes),
        Err(error) => {
            notes.unsupported(path, format!("cannot read {shown}: {error}"));
            None
        }
    }
}

/// A schema's text as JSON (or YAML, which Zilla also reads); it must be an object or a
/// boolean to be a JSON Schema, and nest no deeper than a YAML file may.
fn json_schema(text: &str, path: &str, notes: &mut Notes) -> Option<serde_json::Value> {
    let parsed = serde_json::from_str::<serde_json::Value>(text).or_else(|_| {
        serde_saphyr::from_str_with_options::<serde_json::Value>(text, tree::yaml_options())
            .map_err(|e| e.to_string())
    });
    match parsed {
        Ok(schema) if depth(&schema) > tree::MAX_DEPTH => {
            let what = format!("the schema nests deeper than {} levels", tree::MAX_DEPTH);
            notes.unsupported(path, what);
            None
        }
        Ok(schema) if schema.is_object() || schema.is_boolean() => Some(schema),
        Ok(_) => {
            notes.unsupported(path, "a JSON Schema is an object or a boolean");
            None
        }
        Err(error) => {
            let error = error.lines().next().unwrap_or_default().to_owned();
            notes.unsupported(path, format!("not a JSON schema: {error}"));
            None
        }
    }
}

/// How many levels of arrays and objects `value` nests.
fn depth(value: &serde_json::Value) -> usize {
    let children: Box<dyn Iterator<Item = &serde_json::Value>> = match value {
        serde_json::Value::Array(items) => Box::new(items.iter()),
        serde_json::Value::Object(members) => Box::new(members.values()),
        _ => return 0,
    };
    1 + children.map(depth).max().unwrap_or(0)
}

fn telemetry(node: &Node, path: &str, notes: &mut Notes) -> Vec<Named<Exporter>> {
    let Some(mut fields) = Fields::of(node, path, notes) else {
        return Vec::new();
    };
    if fields.take("metrics").is_some() {
        notes.difference(
            "telemetry.metrics is not used: Sluice exports its own metrics, by tenant and \
             route, on the admin listener's /metrics",
        );
    }
    if fields.take("attributes").is_some() {
        notes.difference("telemetry.attributes are not added to Sluice's metrics");
    }
    let exporters = fields
        .take("exporters")
        .map(|(node, path)| named(node, &path, notes, exporter))
        .unwrap_or_default();
    fields.finish(notes, "telemetry");
    exporters
}

fn exporter(node: &Node, path: &str, notes: &mut Notes) -> Exporter {
    let Some(mut fields) = Fields::of(node, path, notes) else {
        return Exporter::Unsupported;
    };
    let Some(kind) = part_type(&mut fields, path, &["stdout", "prometheus"], notes) else {
        return Exporter::Unsupported;
    };
    let exporter = match kind.as_str() {
        "prometheus" => match fields.take("options") {
            Some((node, path)) => prometheus(node, &path, notes).unwrap_or(Exporter::Unsupported),
            None => {
                notes.unsupported(path, "a prometheus exporter needs `options.endpoints`");
                Exporter::Unsupported
            }
        },
        _ => Exporter::Stdout,
    };
    fields.finish(notes, &format!("a {kind} exporter"));
    exporter
}

fn prometheus(node: &Node, path: &str, notes: &mut Notes) -> Option<Exporter> {
    let mut options = Fields::of(node, path, notes)?;
    let (node, endpoints_path) = options.take("endpoints").or_else(|| {
        notes.unsupported(path, "`endpoints` is required");
        None
    })?;
    options.finish(notes, "a prometheus exporter's options");
    let endpoints = list(node, &endpoints_path, notes)?;
    for extra in 1..endpoints.len() {
        let what = "Sluice serves metrics on one admin listener; only the first endpoint is used";
        notes.unsupported(index_path(&endpoints_path, extra), what);
    }
    let first_path = index_path(&endpoints_path, 0);
    let Some(first) = endpoints.first() else {
        notes.unsupported(endpoints_path, "list one endpoint");
        return None;
    };
    endpoint(first, &first_path, notes)
}

fn endpoint(node: &Node, path: &str, notes: &mut Notes) -> Option<Exporter> {
    let mut fields = Fields::of(node, path, notes)?;
    if let Some((node, scheme_path)) = fields.take("scheme") {
        let scheme = string(node, &scheme_path, notes);
        if let Some(scheme) = scheme.filter(|s| s != "http") {
            notes.unsupported(
                scheme_path,
                format!("{scheme}: the admin listener speaks http"),
            );
        }
    }
    let port = fields.take("port").and_then(|(node, port_path)| {
        let port = number(node, &port_path, notes)?;
        let port = u16::try_from(port).ok();
        if port.is_none() {
            notes.unsupported(port_path, "a port is a number from 0 to 65535");
        }
        port
    });
    let metrics_path = fields
        .take("path")
        .and_then(|(node, path)| string(node, &path, notes));
    fields.finish(notes, "a prometheus endpoint");
    let Some(port) = port else {
        notes.unsupported(path, "`port` is required");
        return None;
    };
    Some(Exporter::Prometheus {
        port,
        path: metrics_path,
    })
}
