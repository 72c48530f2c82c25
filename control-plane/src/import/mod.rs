//! What importing a converted tenant changes, worked out against the stored rows: the tenant
//! created when missing, each schema reused or given its next version, each route created or
//! replaced by name. Its writes go into one [`crate::store::Change`], so an import is one
//! revision or nothing. Token settings and keys are never written: an import carries none.

mod render;

use std::collections::HashMap;

use serde_json::Value;
use serde_json::value::RawValue;
use sluice_data_plane::asyncapi::Imported;
use sluice_data_plane::config::{Auth, OrderedMap, Route, SchemaRef, Tenant, key_path};

use crate::body::{self, Fields};
use crate::snapshot::TenantRows;
use crate::store::{StoreError, Tx, routes, schemas, tenants};
pub use render::Unstorable;

/// What an import does to one stored entity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// It is new.
    Create,
    /// It replaces the stored one of the same name.
    Update,
    /// The stored one already says the same; nothing is written.
    Keep,
}

/// One schema version the imported routes refer to.
#[derive(Debug, Clone)]
pub(crate) struct PlannedSchema {
    pub name: String,
    /// The stored version the routes' events name: the latest when it holds this schema,
    /// else the next number.
    pub version: i64,
    pub schema: Box<RawValue>,
    /// [`Action::Create`] for a new version, [`Action::Keep`] for the latest reused.
    pub action: Action,
}

/// One imported route in its stored shape.
#[derive(Debug, Clone)]
pub(crate) struct PlannedRoute {
    pub name: String,
    pub fields: Fields,
    pub action: Action,
}

/// Every write an import makes, and what the operator should know of it.
#[derive(Debug, Clone)]
pub(crate) struct Plan {
    pub tenant: String,
    /// The settings and hosts of the tenant to create; `None` when it exists.
    pub new_tenant: Option<(Fields, Vec<String>)>,
    pub schemas: Vec<PlannedSchema>,
    pub routes: Vec<PlannedRoute>,
    pub warnings: Vec<String>,
}

/// Imported `(schema name, version)` to the stored version number that holds it.
type Renumbering = HashMap<(String, u32), i64>;

impl Plan {
    /// The writes that make `stored` (or a new tenant `name`) hold `imported`.
    pub(crate) fn new(
        name: &str,
        stored: Option<&TenantRows>,
        imported: &Imported,
    ) -> Result<Plan, Unstorable> {
        let (schemas, renumbering) = plan_schemas(stored, &imported.tenant);
        let routes = plan_routes(stored, &imported.tenant, &renumbering)?;
        let new_tenant = match stored {
            None => Some(render::settings(name, &imported.tenant)?),
            Some(_) => None,
        };
        Ok(Plan {
            tenant: name.to_owned(),
            new_tenant,
            schemas,
            routes,
            warnings: warnings(name, stored, imported),
        })
    }

    /// True when every entity is kept as stored.
    pub(crate) fn changes_nothing(&self) -> bool {
        self.new_tenant.is_none()
            && self.schemas.iter().all(|s| s.action == Action::Keep)
            && self.routes.iter().all(|r| r.action == Action::Keep)
    }

    /// Makes the writes in `tx`: the tenant, then new schema versions, then routes.
    pub(crate) async fn apply(&self, tx: &mut Tx) -> Result<(), StoreError> {
        let tenant = self.tenant.as_str();
        if let Some((fields, hosts)) = &self.new_tenant {
            tenants::create(tx, tenant, fields, hosts).await?;
        }
        for schema in self.schemas.iter().filter(|s| s.action == Action::Create) {
            let version = Some(schema.version);
            schemas::add_version(tx, tenant, &schema.name, &schema.schema, version).await?;
        }
        for route in &self.routes {
            match route.action {
                Action::Create => routes::create(tx, tenant, &route.name, &route.fields).await?,
                Action::Update => {
                    routes::update(tx, tenant, &route.name, &route.fields, None).await?
                }
                Action::Keep => continue,
            };
        }
        Ok(())
    }
}

/// Each imported schema version against the stored latest of its name: the same schema is
/// reused, a different one becomes the next version (versions are never replaced).
fn plan_schemas(
    stored: Option<&TenantRows>,
    imported: &Tenant,
) -> (Vec<PlannedSchema>, Renumbering) {
    let mut planned = Vec::new();
    let mut renumbering = Renumbering::new();
    for (name, versions) in imported.schemas.iter() {
        let mut latest = stored_latest(stored, name);
        for version in versions {
            let action = match &latest {
                Some((_, held)) if *held == version.schema => Action::Keep,
                _ => Action::Create,
            };
            let number = match (&latest, action) {
                (Some((n, _)), Action::Keep) => *n,
                (held, _) => held.as_ref().map_or(1, |(n, _)| n + 1),
            };
            latest = Some((number, version.schema.clone()));
            renumbering.insert((name.to_owned(), version.version), number);
            planned.push(PlannedSchema {
                name: name.to_owned(),
                version: number,
                schema: body::raw(&version.schema),
                action,
            });
        }
    }
    (planned, renumbering)
}

/// The newest stored version of schema `name` and its schema.
fn stored_latest(stored: Option<&TenantRows>, name: &str) -> Option<(i64, Value)> {
    let (_, versions) = stored?.schemas.iter().find(|(n, _)| n == name)?;
    let (number, schema) = versions.iter().max_by_key(|(n, _)| *n)?;
    let schema = serde_json::from_str(schema.get()).unwrap_or(Value::Null);
    Some((*number, schema))
}

/// Each imported route with its events renumbered, against the stored one of its name.
fn plan_routes(
    stored: Option<&TenantRows>,
    imported: &Tenant,
    renumbering: &Renumbering,
) -> Result<Vec<PlannedRoute>, Unstorable> {
    let mut planned = Vec::new();
    for (name, route) in imported.routes.iter() {
        let events = renumbered(&route.events, renumbering);
        let fields = render::route(name, route, &events)?;
        let held = stored.and_then(|t| t.routes.iter().find(|(n, _)| n == name));
        let action = match held {
            None => Action::Create,
            Some((_, raw)) if same_route(raw, route, &events) => Action::Keep,
            Some(_) => Action::Update,
        };
        planned.push(PlannedRoute {
            name: name.to_owned(),
            fields,
            action,
        });
    }
    Ok(planned)
}

/// `events` with each `name@N` of an imported schema pointing at its stored version.
fn renumbered(events: &OrderedMap<String>, renumbering: &Renumbering) -> OrderedMap<String> {
    let renumber = |reference: &String| {
        let parsed = SchemaRef::parse(reference)?;
        let key = (parsed.name.to_owned(), parsed.version?);
        let stored = renumbering.get(&key)?;
        Some(format!("{}@{stored}", parsed.name))
    };
    events
        .iter()
        .map(|(event, reference)| {
            let reference = renumber(reference).unwrap_or_else(|| reference.clone());
            (event, reference)
        })
        .collect()
}

/// Whether the stored route means the same as `route` with `events`, however written.
fn same_route(stored: &RawValue, route: &Route, events: &OrderedMap<String>) -> bool {
    let expected = Route {
        events: events.clone(),
        ..route.clone()
    };
    serde_json::from_str::<Route>(stored.get()).is_ok_and(|held| held == expected)
}

/// The converter's warnings, less its advice on settings an existing tenant keeps, plus
/// notes where the document disagrees with what is kept.
fn warnings(name: &str, stored: Option<&TenantRows>, imported: &Imported) -> Vec<String> {
    let Some(stored) = stored else {
        return imported.warnings.clone();
    };
    let tenant_path = key_path("tenants", name);
    let auth_path = key_path(&tenant_path, "auth");
    let stored_auth = stored
        .fields
        .get("auth")
        .and_then(|raw| serde_json::from_str::<Auth>(raw.get()).ok());
    let kept = |path: &str| path == tenant_path || (stored_auth.is_some() && path == auth_path);
    let mut warnings: Vec<String> = imported
        .warnings
        .iter()
        .filter(|w| !kept(w.split_once(": ").map_or("", |(path, _)| path)))
        .cloned()
        .collect();

    let tenant = &imported.tenant;
    let named_reach = !tenant.hosts.is_empty() || tenant.path_prefix.is_some();
    let stored_prefix = body::string_field(&stored.fields, "path_prefix");
    if named_reach && (tenant.hosts != stored.hosts || tenant.path_prefix != stored_prefix) {
        let text = "hosts and path_prefix are kept as they are; the document's servers name others";
        warnings.push(format!("{tenant_path}: {text}"));
    }
    if let (Some(held), Some(read)) = (&stored_auth, &tenant.auth)
        && held.credentials != read.credentials
    {
        let text = "kept as they are; the document's security schemes read tokens from other \
                    places";
        warnings.push(format!("{}: {text}", key_path(&auth_path, "credentials")));
    }
    warnings
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// An import of two routes: `orders` (guarded, events to `order@1`) and `ticks` (public).
    /// Written as text, since a `json!` object would sort the event mapping.
    fn imported(order_schema: Value) -> Imported {
        let text = r#"{
            "hosts": ["acme.example.com"],
            "auth": { "issuer": "", "credentials": { "query": "access_token" } },
            "schemas": {
                "order": [{ "version": 1, "schema": ORDER }],
                "tick": [{ "version": 1, "schema": { "type": "number" } }]
            },
            "routes": {
                "orders": {
                    "path": "/orders", "scopes": ["orders:read"],
                    "upstream": { "url": "http://u/orders" },
                    "events": { "order.created": "order@1", "*": "tick@latest" }
                },
                "ticks": {
                    "path": "/ticks", "public": true, "upstream": { "url": "http://u/ticks" },
                    "events": { "tick": "tick@1" }
                }
            }
        }"#;
        let text = text.replace("ORDER", &order_schema.to_string());
        let tenant: Tenant = serde_json::from_str(&text).unwrap();
        let warnings = vec![
            "tenants.acme.auth: add `issuer`".to_owned(),
            "channels.x: ignored".to_owned(),
        ];
        Imported { tenant, warnings }
    }

    fn raw(value: Value) -> Box<RawValue> {
        body::raw(&value)
    }

    /// Tenant `acme` with auth, two versions of `order` and the `ticks` route as imported.
    fn stored() -> TenantRows {
        let mut tenant = TenantRows::new("acme");
        tenant.hosts.push("acme.example.com".into());
        let auth = json!({ "issuer": "https://i", "audiences": ["a"] });
        tenant.fields.insert("auth".into(), raw(auth));
        let versions = vec![
            (1, raw(json!({ "type": "string" }))),
            (2, raw(json!({ "type": "object" }))),
        ];
        tenant.schemas.push(("order".into(), versions));
        let ticks = json!({
            "upstream": { "url": "http://u/ticks" }, "public": true, "path": "/ticks",
            "events": { "tick": "tick@1" },
        });
        tenant.routes.push(("ticks".into(), raw(ticks)));
        tenant
    }

    fn actions(plan: &Plan) -> Vec<(String, Option<i64>, Action)> {
        let schemas = plan
            .schemas
            .iter()
            .map(|s| (s.name.clone(), Some(s.version), s.action));
        let routes = plan.routes.iter().map(|r| (r.name.clone(), None, r.action));
        schemas.chain(routes).collect()
    }

    fn events_of(plan: &Plan, route: &str) -> String {
        let planned = plan.routes.iter().find(|r| r.name == route).unwrap();
        planned.fields["events"].get().to_owned()
    }

    #[test]
    fn a_new_tenant_gets_everything_at_version_1_and_no_auth() {
        let plan = Plan::new("acme", None, &imported(json!({ "type": "object" }))).unwrap();
        let (fields, hosts) = plan.new_tenant.clone().unwrap();
        assert!(fields.is_empty());
        assert_eq!(hosts, ["acme.example.com"]);
        let expected = [
            ("order".to_owned(), Some(1), Action::Create),
            ("tick".to_owned(), Some(1), Action::Create),
            ("orders".to_owned(), None, Action::Create),
            ("ticks".to_owned(), None, Action::Create),
        ];
        assert_eq!(actions(&plan), expected);
        assert_eq!(
            events_of(&plan, "orders"),
            r#"{"order.created":"order@1","*":"tick@latest"}"#
        );
        assert_eq!(plan.warnings, imported(json!({})).warnings);
        assert!(!plan.changes_nothing());
    }

    #[test]
    fn the_stored_latest_version_is_reused_and_the_events_point_at_it() {
        let stored = stored();
        let plan = Plan::new(
            "acme",
            Some(&stored),
            &imported(json!({ "type": "object" })),
        )
        .unwrap();
        assert!(plan.new_tenant.is_none());
        let expected = [
            ("order".to_owned(), Some(2), Action::Keep),
            ("tick".to_owned(), Some(1), Action::Create),
            ("orders".to_owned(), None, Action::Create),
            ("ticks".to_owned(), None, Action::Keep),
        ];
        assert_eq!(actions(&plan), expected);
        assert_eq!(
            events_of(&plan, "orders"),
            r#"{"order.created":"order@2","*":"tick@latest"}"#
        );
    }

    #[test]
    fn a_changed_schema_becomes_the_next_version_and_a_changed_route_is_replaced() {
        let mut stored = stored();
        let ticks =
            json!({ "path": "/ticks", "public": true, "upstream": { "url": "http://old/ticks" } });
        stored.routes[0].1 = raw(ticks);
        let plan = Plan::new("acme", Some(&stored), &imported(json!({ "type": "array" }))).unwrap();
        let expected = [
            ("order".to_owned(), Some(3), Action::Create),
            ("tick".to_owned(), Some(1), Action::Create),
            ("orders".to_owned(), None, Action::Create),
            ("ticks".to_owned(), None, Action::Update),
        ];
        assert_eq!(actions(&plan), expected);
        assert!(events_of(&plan, "orders").contains("order@3"));
    }

    #[test]
    fn importing_what_is_stored_changes_nothing() {
        let mut stored = stored();
        stored
            .schemas
            .push(("tick".into(), vec![(1, raw(json!({ "type": "number" })))]));
        // Written differently (an explicit `public: false`), meaning the same.
        let orders = r#"{
            "path": "/orders", "public": false, "scopes": ["orders:read"],
            "upstream": { "url": "http://u/orders" },
            "events": { "order.created": "order@2", "*": "tick@latest" }
        }"#;
        let orders = RawValue::from_string(orders.to_owned()).unwrap();
        stored.routes.push(("orders".into(), orders));
        let plan = Plan::new(
            "acme",
            Some(&stored),
            &imported(json!({ "type": "object" })),
        )
        .unwrap();
        assert!(plan.changes_nothing(), "{:?}", actions(&plan));
    }

    #[test]
    fn an_existing_tenant_keeps_its_auth_and_reach_and_says_so() {
        let mut stored = stored();
        stored.hosts = vec!["other.example.com".into()];
        let plan = Plan::new("acme", Some(&stored), &imported(json!({}))).unwrap();
        assert_eq!(
            plan.warnings,
            [
                "channels.x: ignored",
                "tenants.acme: hosts and path_prefix are kept as they are; the document's \
                 servers name others",
                "tenants.acme.auth.credentials: kept as they are; the document's security \
                 schemes read tokens from other places",
            ]
        );
    }
}
