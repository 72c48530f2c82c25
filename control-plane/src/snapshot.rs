//! The snapshot nodes receive: the stored config rendered as the declarative format
//! (version 1) in JSON, checked with exactly the validation a node runs before it swaps, and
//! its errors placed back into the request body that caused them.

mod path;
mod render;

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::value::RawValue;
use sluice_data_plane::config::{ConfigError, ConfigErrors, Tenant};
use sluice_data_plane::node::NodeState;

use crate::body::Fields;
use crate::store::FieldError;
pub use path::Segment;
pub(crate) use render::{TenantRows, render};

/// The entity a change writes, so errors inside it can name the request's field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A tenant's own settings (the body of `PUT /tenants/{t}`).
    Tenant(String),
    /// One host of a tenant (the body `{"host": …}`).
    Host(String),
    /// A key of a tenant, by `kid` (the body is the JWK).
    Key(String, String),
    /// A schema version: tenant, schema name, version number (the body `{"schema": …}`).
    SchemaVersion(String, String, i64),
    /// A route: tenant and route name (the body is the route).
    Route(String, String),
    /// Nothing that has a body (a delete).
    Nothing,
}

/// Checks `text` as a node would: parse, check, compile. Env references are refused (a
/// snapshot carries values, not references); relative file paths resolve against `base_dir`.
pub(crate) fn validate(
    text: &str,
    base_dir: &Path,
    node: &NodeState,
    revision: u64,
) -> Result<(), ConfigErrors> {
    let config = sluice_data_plane::config::parse(text, base_dir, &|_| None)?;
    let source = "control-plane".to_owned();
    sluice_data_plane::snapshot::compile(&config, node, revision, source).map(|_| ())
}

/// Tenant `name` of the snapshot `text`, read with the node's own types; `None` when the
/// snapshot has no such tenant (or there is no snapshot yet).
pub(crate) fn tenant(text: &str, name: &str) -> Result<Option<Tenant>, serde_json::Error> {
    #[derive(serde::Deserialize)]
    struct Doc {
        #[serde(default)]
        tenants: BTreeMap<String, Box<RawValue>>,
    }
    if text.is_empty() {
        return Ok(None);
    }
    let doc: Doc = serde_json::from_str(text)?;
    doc.tenants
        .get(name)
        .map(|raw| serde_json::from_str(raw.get()))
        .transpose()
}

/// Checks one JWK as the node checks a tenant's keys, even while its tenant has no `auth`
/// block (its keys are then kept but not in the snapshot): the key goes into a probe config
/// of its own. Errors are placed in the JWK body.
pub(crate) fn check_jwk(jwk: &Fields) -> Result<(), Vec<FieldError>> {
    let mut probe = TenantRows::new("probe");
    probe
        .fields
        .insert("path_prefix".into(), crate::body::raw("/probe"));
    let auth = serde_json::json!({ "issuer": "probe", "audiences": ["probe"] });
    probe.fields.insert("auth".into(), crate::body::raw(&auth));
    probe.keys.push((String::new(), crate::body::raw(jwk)));
    let text = render(std::slice::from_ref(&probe));
    match sluice_data_plane::config::parse(&text, Path::new("/"), &|_| None) {
        Ok(_) => Ok(()),
        Err(errors) => {
            let target = Target::Key("probe".into(), String::new());
            Err(field_errors(errors, &[probe], &target))
        }
    }
}

/// Hides from a tenant admin of `own` the errors placed in other tenants' settings (a host or
/// prefix that clashes with another tenant's): it learns of the clash, not of the tenant.
pub(crate) fn redact(errors: &mut [FieldError], own: &str) {
    for error in errors {
        let Some(config_path) = &error.config_path else {
            continue;
        };
        let segments = path::parse(config_path);
        let in_own = matches!(segments.as_slice(), [Segment::Key(t), Segment::Key(name), ..]
            if t == "tenants" && name == own);
        if !in_own {
            error.config_path = None;
            error.message = "the change conflicts with another tenant's settings".to_owned();
        }
    }
}

/// Where a target's body sits in the config.
struct Placement {
    prefix: Vec<Segment>,
    /// Sub-trees of the prefix that other resources own.
    excluded: &'static [&'static [&'static str]],
    /// Every error under the prefix maps to this one field.
    collapse: Option<&'static str>,
}

fn placement(tenants: &[TenantRows], target: &Target) -> Option<Placement> {
    let key = |s: &str| Segment::Key(s.to_owned());
    let tenant_of = |name: &str| tenants.iter().find(|t| t.name == name);
    let (prefix, excluded, collapse): (Vec<Segment>, &'static [&'static [&'static str]], _) =
        match target {
            Target::Tenant(t) => (
                vec![key("tenants"), key(t)],
                &[&["routes"], &["schemas"], &["auth", "keys"]],
                None,
            ),
            Target::Host(t) => (
                vec![key("tenants"), key(t), key("hosts")],
                &[],
                Some("/host"),
            ),
            Target::Key(t, kid) => {
                let index = tenant_of(t)?.keys.iter().position(|(k, _)| k == kid)?;
                let prefix = vec![key("tenants"), key(t), key("auth"), key("keys")];
                ([prefix, vec![Segment::Index(index)]].concat(), &[], None)
            }
            Target::SchemaVersion(t, name, version) => {
                let versions = &tenant_of(t)?.schemas.iter().find(|(n, _)| n == name)?.1;
                let index = versions.iter().position(|(v, _)| v == version)?;
                let prefix = vec![key("tenants"), key(t), key("schemas"), key(name)];
                ([prefix, vec![Segment::Index(index)]].concat(), &[], None)
            }
            Target::Route(t, r) => (
                vec![key("tenants"), key(t), key("routes"), key(r)],
                &[],
                None,
            ),
            Target::Nothing => return None,
        };
    Some(Placement {
        prefix,
        excluded,
        collapse,
    })
}

/// Turns a node's errors into field errors relative to `target`'s body.
pub(crate) fn field_errors(
    errors: ConfigErrors,
    tenants: &[TenantRows],
    target: &Target,
) -> Vec<FieldError> {
    let placement = placement(tenants, target);
    errors
        .into_iter()
        .map(|error| place(error, placement.as_ref()))
        .collect()
}

fn place(error: ConfigError, placement: Option<&Placement>) -> FieldError {
    let segments = path::parse(&error.path);
    let pointer = placement.and_then(|p| {
        let rest = segments.strip_prefix(p.prefix.as_slice())?;
        let excluded = p.excluded.iter().any(|sub| {
            sub.len() <= rest.len()
                && sub
                    .iter()
                    .zip(rest)
                    .all(|(s, r)| matches!(r, Segment::Key(k) if k == s))
        });
        if excluded {
            return None;
        }
        Some(match p.collapse {
            Some(field) => field.to_owned(),
            None => path::pointer(rest),
        })
    });
    match pointer {
        Some(pointer) => FieldError::at(pointer, error.message),
        None => FieldError {
            path: String::new(),
            message: error.message,
            config_path: Some(error.path),
            line: None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant_with_key() -> TenantRows {
        let mut tenant = TenantRows::new("acme");
        tenant.keys.push(("k0".into(), crate::body::raw("{}")));
        tenant.keys.push(("k1".into(), crate::body::raw("{}")));
        tenant
    }

    fn errors(paths: &[&str]) -> ConfigErrors {
        let mut errors = ConfigErrors::new();
        for path in paths {
            errors.push(*path, "bad");
        }
        errors
    }

    #[test]
    fn route_errors_become_pointers_into_the_route_body() {
        let target = Target::Route("acme".into(), "orders".into());
        let placed = field_errors(
            errors(&[
                "tenants.acme.routes.orders.upstream.url",
                "tenants.acme.routes.orders",
            ]),
            &[],
            &target,
        );
        assert_eq!(placed[0], FieldError::at("/upstream/url", "bad"));
        assert_eq!(placed[1], FieldError::at("", "bad"));
    }

    #[test]
    fn errors_outside_the_body_keep_their_config_path() {
        let target = Target::Tenant("acme".into());
        let placed = field_errors(
            errors(&["tenants.acme.routes.orders.public", "tenants.beta.hosts[0]"]),
            &[],
            &target,
        );
        for (error, path) in placed
            .iter()
            .zip(["tenants.acme.routes.orders.public", "tenants.beta.hosts[0]"])
        {
            assert_eq!(error.path, "");
            assert_eq!(error.config_path.as_deref(), Some(path));
        }
    }

    #[test]
    fn tenant_fields_and_list_items_map_to_pointers() {
        let target = Target::Tenant("acme".into());
        let placed = field_errors(
            errors(&["tenants.acme.hosts[1]", "tenants.acme.cors.origins[0]"]),
            &[],
            &target,
        );
        assert_eq!(placed[0].path, "/hosts/1");
        assert_eq!(placed[1].path, "/cors/origins/0");
    }

    #[test]
    fn a_key_is_found_by_its_position_among_the_tenants_keys() {
        let target = Target::Key("acme".into(), "k1".into());
        let placed = field_errors(
            errors(&[
                "tenants.acme.auth.keys[1].alg",
                "tenants.acme.auth.keys[0].alg",
            ]),
            &[tenant_with_key()],
            &target,
        );
        assert_eq!(placed[0].path, "/alg");
        assert_eq!(
            placed[1].config_path.as_deref(),
            Some("tenants.acme.auth.keys[0].alg")
        );
    }

    #[test]
    fn every_host_error_names_the_host_field() {
        let target = Target::Host("acme".into());
        let placed = field_errors(errors(&["tenants.acme.hosts[3]"]), &[], &target);
        assert_eq!(placed[0].path, "/host");
    }

    #[test]
    fn tenant_admins_see_clashes_without_other_tenants_names() {
        let mut placed = field_errors(
            errors(&["tenants.beta.hosts[0]", "tenants.acme.routes.r.public"]),
            &[],
            &Target::Tenant("acme".into()),
        );
        redact(&mut placed, "acme");
        assert_eq!(placed[0].config_path, None);
        assert_eq!(
            placed[0].message,
            "the change conflicts with another tenant's settings"
        );
        assert_eq!(
            placed[1].config_path.as_deref(),
            Some("tenants.acme.routes.r.public")
        );
        assert_eq!(placed[1].message, "bad");
    }

    #[test]
    fn a_tenant_reads_back_from_the_snapshot_with_the_node_types() {
        let mut acme = TenantRows::new("acme");
        acme.fields
            .insert("path_prefix".into(), crate::body::raw("/t/acme"));
        let route = r#"{"path":"/o","public":true,"upstream":{"url":"http://u/o"}}"#;
        acme.routes.push((
            "orders".into(),
            crate::body::raw_text(route.into()).unwrap(),
        ));
        let text = render(&[acme]);
        let read = tenant(&text, "acme").unwrap().unwrap();
        assert_eq!(read.path_prefix.as_deref(), Some("/t/acme"));
        assert_eq!(read.routes.keys().collect::<Vec<_>>(), ["orders"]);
        assert!(tenant("", "acme").unwrap().is_none());
        assert!(tenant(&text, "beta").unwrap().is_none());
    }

    #[test]
    fn a_jwk_is_checked_without_its_tenant_having_auth() {
        let good = crate::body::parse_object(
            br#"{"kid":"k1","kty":"OKP","crv":"Ed25519","alg":"EdDSA","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
        )
        .unwrap();
        assert_eq!(check_jwk(&good), Ok(()));
        let bad = crate::body::parse_object(br#"{"kid":"k1","kty":"oct","alg":"HS256"}"#).unwrap();
        let errors = check_jwk(&bad).unwrap_err();
        assert!(!errors.is_empty());
        assert!(errors.iter().all(|e| e.config_path.is_none()), "{errors:?}");
    }
}
