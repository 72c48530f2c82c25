//! Writes the stored rows as one declarative config (version 1) in JSON. Tenants, schemas and
//! routes keep the order they were created in, which the node uses to break ties between
//! routes of equal specificity.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::value::RawValue;

use crate::body::{self, Fields};

/// `(version, JSON Schema)` of one schema, versions ascending.
pub(crate) type Versions = Vec<(i64, Box<RawValue>)>;

/// One tenant as stored: its settings and the rows of its sub-resources, in creation order.
#[derive(Debug, Clone)]
pub(crate) struct TenantRows {
    pub name: String,
    /// The tenant's own settings, without hosts, keys, schemas and routes.
    pub fields: Fields,
    pub hosts: Vec<String>,
    /// `(kid, JWK)`.
    pub keys: Vec<(String, Box<RawValue>)>,
    /// `(name, versions)`.
    pub schemas: Vec<(String, Versions)>,
    /// `(name, route)`.
    pub routes: Vec<(String, Box<RawValue>)>,
}

impl TenantRows {
    /// A tenant with no settings and no sub-resources.
    pub(crate) fn new(name: &str) -> Self {
        Self {
            name: name.to_owned(),
            fields: Fields::new(),
            hosts: Vec::new(),
            keys: Vec::new(),
            schemas: Vec::new(),
            routes: Vec::new(),
        }
    }
}

/// The snapshot text for `tenants`.
pub(crate) fn render(tenants: &[TenantRows]) -> String {
    // Invariant: every value below is raw JSON read back from the store or a string-keyed
    // map of such values, which always serializes.
    serde_json::to_string(&Doc(tenants)).expect("string-keyed raw JSON serializes")
}

struct Doc<'a>(&'a [TenantRows]);
struct Tenants<'a>(&'a [TenantRows]);
struct Tenant<'a>(&'a TenantRows);
struct Schemas<'a>(&'a [(String, Versions)]);
struct Routes<'a>(&'a [(String, Box<RawValue>)]);
struct Version<'a>(i64, &'a RawValue);

impl Serialize for Doc<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("version", &1)?;
        map.serialize_entry("tenants", &Tenants(self.0))?;
        map.end()
    }
}

impl Serialize for Tenants<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for tenant in self.0 {
            map.serialize_entry(&tenant.name, &Tenant(tenant))?;
        }
        map.end()
    }
}

impl Serialize for Tenant<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let rows = self.0;
        let mut map = serializer.serialize_map(None)?;
        if !rows.hosts.is_empty() {
            map.serialize_entry("hosts", &rows.hosts)?;
        }
        for (key, value) in &rows.fields {
            if key == "auth" {
                map.serialize_entry(key, &with_keys(value, &rows.keys))?;
            } else {
                map.serialize_entry(key, value)?;
            }
        }
        if !rows.schemas.is_empty() {
            map.serialize_entry("schemas", &Schemas(&rows.schemas))?;
        }
        if !rows.routes.is_empty() {
            map.serialize_entry("routes", &Routes(&rows.routes))?;
        }
        map.end()
    }
}

/// The tenant's `auth` block with its stored keys as `keys`. A block that is not an object
/// is left as written, for the node's check to report. A tenant without `auth` keeps its keys
/// out of the snapshot until it gets one.
fn with_keys(auth: &RawValue, keys: &[(String, Box<RawValue>)]) -> Box<RawValue> {
    let Ok(mut fields) = body::from_text(auth.get()) else {
        return body::raw(auth);
    };
    if !keys.is_empty() {
        let jwks: Vec<&RawValue> = keys.iter().map(|(_, jwk)| &**jwk).collect();
        fields.insert("keys".to_owned(), body::raw(&jwks));
    }
    body::raw(&fields)
}

impl Serialize for Schemas<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, versions) in self.0 {
            let list: Vec<Version<'_>> = versions.iter().map(|(n, s)| Version(*n, s)).collect();
            map.serialize_entry(name, &list)?;
        }
        map.end()
    }
}

impl Serialize for Version<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(2))?;
        map.serialize_entry("version", &self.0)?;
        map.serialize_entry("schema", self.1)?;
        map.end()
    }
}

impl Serialize for Routes<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, route) in self.0 {
            map.serialize_entry(name, route)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(text: &str) -> Box<RawValue> {
        RawValue::from_string(text.to_owned()).unwrap()
    }

    #[test]
    fn an_empty_store_renders_an_empty_config() {
        assert_eq!(render(&[]), r#"{"version":1,"tenants":{}}"#);
    }

    #[test]
    fn tenants_and_routes_keep_creation_order() {
        let mut zeta = TenantRows::new("zeta");
        zeta.hosts.push("z.example".into());
        zeta.routes.push(("b".into(), raw(r#"{"path":"/b"}"#)));
        zeta.routes.push(("a".into(), raw(r#"{"path":"/a"}"#)));
        let alpha = TenantRows::new("alpha");
        let text = render(&[zeta, alpha]);
        let expected = r#"{"version":1,"tenants":{"zeta":{"hosts":["z.example"],"routes":{"b":{"path":"/b"},"a":{"path":"/a"}}},"alpha":{}}}"#;
        assert_eq!(text, expected);
    }

    #[test]
    fn keys_join_the_auth_block_and_schemas_list_versions() {
        let mut acme = TenantRows::new("acme");
        acme.fields.insert("auth".into(), raw(r#"{"issuer":"i"}"#));
        acme.keys.push(("k1".into(), raw(r#"{"kid":"k1"}"#)));
        acme.schemas
            .push(("order".into(), vec![(1, raw("true")), (2, raw("{}"))]));
        let text = render(&[acme]);
        let expected = r#"{"version":1,"tenants":{"acme":{"auth":{"issuer":"i","keys":[{"kid":"k1"}]},"schemas":{"order":[{"version":1,"schema":true},{"version":2,"schema":{}}]}}}}"#;
        assert_eq!(text, expected);
    }
}
