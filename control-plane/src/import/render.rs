//! An imported tenant's parts in the shapes the store keeps: a route or a new tenant's
//! settings as a declarative-file object. The config model only reads, so each shape is
//! written here and read back with the node's own types; what does not come back the same
//! is refused instead of stored differently.

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::json;
use sluice_data_plane::config::{OrderedMap, Route, Tenant};

use crate::body::{self, Fields};

/// A part of an import that the store's shapes cannot hold as it is: a setting the
/// converter began to produce after this was written. Our fault, not the caller's.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the import produced {0} with settings the control plane cannot store")]
pub struct Unstorable(pub String);

/// `route` with `events` as its event mapping, as the route's stored object.
pub(crate) fn route(
    name: &str,
    route: &Route,
    events: &OrderedMap<String>,
) -> Result<Fields, Unstorable> {
    let mut fields = Fields::new();
    fields.insert("path".into(), body::raw(&route.path));
    if route.public {
        fields.insert("public".into(), body::raw(&true));
    }
    if !route.scopes.is_empty() {
        fields.insert("scopes".into(), body::raw(&route.scopes));
    }
    if let Some(upstream) = &route.upstream {
        fields.insert(
            "upstream".into(),
            body::raw(&json!({ "url": upstream.url })),
        );
    }
    if !events.is_empty() {
        fields.insert("events".into(), body::raw(&Ordered(events)));
    }

    let expected = Route {
        events: events.clone(),
        ..route.clone()
    };
    let unstorable = || Unstorable(format!("route `{name}`"));
    let read_back: Route =
        serde_json::from_str(&body::to_text(&fields)).map_err(|_| unstorable())?;
    (read_back == expected)
        .then_some(fields)
        .ok_or_else(unstorable)
}

/// A new tenant's own settings (its reach) and hosts; its routes, schemas and token
/// settings are stored apart or, for `auth`, never taken from an import.
pub(crate) fn settings(name: &str, tenant: &Tenant) -> Result<(Fields, Vec<String>), Unstorable> {
    let mut fields = Fields::new();
    if let Some(prefix) = &tenant.path_prefix {
        fields.insert("path_prefix".into(), body::raw(prefix));
    }

    let expected = Tenant {
        auth: None,
        schemas: OrderedMap::new(),
        routes: OrderedMap::new(),
        ..tenant.clone()
    };
    let mut written = fields.clone();
    if !tenant.hosts.is_empty() {
        written.insert("hosts".into(), body::raw(&tenant.hosts));
    }
    let unstorable = || Unstorable(format!("tenant `{name}`"));
    let read_back: Tenant =
        serde_json::from_str(&body::to_text(&written)).map_err(|_| unstorable())?;
    (read_back == expected)
        .then(|| (fields, tenant.hosts.clone()))
        .ok_or_else(unstorable)
}

/// An ordered map as a JSON object in its declared order.
pub(crate) struct Ordered<'a>(pub &'a OrderedMap<String>);

impl Serialize for Ordered<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.0.iter() {
            map.serialize_entry(key, value)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
        serde_json::from_value(value).unwrap()
    }

    #[test]
    fn a_route_is_written_with_its_events_in_order() {
        let route: Route = parsed(json!({
            "path": "/orders/{region}",
            "scopes": ["orders:read"],
            "upstream": { "url": "http://127.0.0.1:8001/orders/{region}" },
        }));
        let events: OrderedMap<String> = [("z.made", "order@2"), ("*", "any@1")]
            .into_iter()
            .map(|(k, v)| (k, v.to_owned()))
            .collect();
        let fields = super::route("orders", &route, &events).unwrap();
        let expected = r#"{"events":{"z.made":"order@2","*":"any@1"},"path":"/orders/{region}","scopes":["orders:read"],"upstream":{"url":"http://127.0.0.1:8001/orders/{region}"}}"#;
        assert_eq!(body::to_text(&fields), expected);
    }

    #[test]
    fn a_route_setting_not_written_here_is_refused() {
        let route: Route = parsed(json!({
            "path": "/p",
            "public": true,
            "retry": "3s",
            "upstream": { "url": "http://127.0.0.1:8001/p" },
        }));
        let refused = super::route("p", &route, &OrderedMap::new());
        assert_eq!(refused.err(), Some(Unstorable("route `p`".into())));
    }

    #[test]
    fn a_new_tenant_keeps_its_reach_and_leaves_auth_out() {
        let tenant: Tenant = parsed(json!({
            "hosts": ["acme.example.com"],
            "path_prefix": "/t/acme",
            "auth": { "issuer": "" },
            "routes": {
                "r": { "path": "/r", "public": true, "upstream": { "url": "http://u/r" } },
            },
        }));
        let (fields, hosts) = settings("acme", &tenant).unwrap();
        assert_eq!(body::to_text(&fields), r#"{"path_prefix":"/t/acme"}"#);
        assert_eq!(hosts, ["acme.example.com"]);
        let with_cors: Tenant =
            parsed(json!({ "path_prefix": "/t", "cors": { "origins": ["*"] } }));
        assert!(settings("acme", &with_cors).is_err());
    }
}
