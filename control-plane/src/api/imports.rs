//! `POST /api/v1/import`: an AsyncAPI document becomes a tenant's routes and schemas, in one
//! change (one revision) or not at all. `?dry_run=true` answers what would change, and why
//! the change would be refused, and writes nothing.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::value::RawValue;
use sluice_data_plane::asyncapi::{self, ImportOptions, Imported};
use sluice_data_plane::config::ConfigErrors;

use super::extract::{QueryMap, check_name};
use super::{ApiError, AppState, only_fields, string_field};
use crate::auth::Caller;
use crate::body::{self, Fields};
use crate::import::{Action, Plan};
use crate::store::{Actor, Change, FieldError, StoreError, Target};

/// The formats `POST /import` reads.
const FORMATS: &[&str] = &["asyncapi"];

/// `POST /import?dry_run=true|false` with `{"format", "tenant", "upstream", "document"}`.
pub async fn import(
    State(state): State<AppState>,
    caller: Caller,
    QueryMap(query): QueryMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let dry_run = dry_run(query.get("dry_run"))?;
    let request = Request::read(&body)?;
    caller.check_tenant(&request.tenant)?;
    let imported = request.convert()?;

    let may_create = caller.is_global();
    let mut change = state.store.change(Actor::from(caller)).await?;
    let stored = change.tenant_rows(&request.tenant).await?;
    if stored.is_none() && !may_create {
        let message = format!(
            "creating tenant `{}` needs a global admin token",
            request.tenant
        );
        return Err(ApiError::Forbidden(message));
    }
    let plan = Plan::new(&request.tenant, stored.as_ref(), &imported).map_err(|error| {
        tracing::error!(%error, tenant = %request.tenant, "import not stored");
        ApiError::Internal
    })?;
    plan.apply(change.tx()).await?;

    let (revision, errors) = finish(change, &plan, dry_run).await?;
    Ok(Json(Outcome::new(&plan, revision, errors)).into_response())
}

/// Commits the applied plan as one revision, or for a dry run only checks it: dropping the
/// change rolls every write back. Gives the revision in force afterwards (none for a dry
/// run) and the errors a real import would be refused with.
async fn finish(
    mut change: Change,
    plan: &Plan,
    dry_run: bool,
) -> Result<(Option<u64>, Vec<FieldError>), ApiError> {
    if dry_run {
        return match change.check(&Target::Nothing).await {
            Ok(_) => Ok((None, Vec::new())),
            Err(StoreError::Invalid(errors)) => Ok((None, errors)),
            Err(other) => Err(other.into()),
        };
    }
    if plan.changes_nothing() {
        return Ok((Some(change.revision_before()), Vec::new()));
    }
    let summary = summary(plan);
    let revision = change
        .commit(Some(&plan.tenant), &summary, &Target::Nothing)
        .await?;
    Ok((Some(revision), Vec::new()))
}

/// The body of an import.
#[derive(Debug)]
struct Request {
    tenant: String,
    upstream: String,
    document: String,
}

impl Request {
    fn read(bytes: &[u8]) -> Result<Request, ApiError> {
        let fields = body::parse_object(bytes)?;
        only_fields(&fields, &["format", "tenant", "upstream", "document"])?;
        let format = string_field(&fields, "format")?;
        if !FORMATS.contains(&format.as_str()) {
            let message = format!("format `{format}` is not imported; `asyncapi` is");
            return Err(ApiError::invalid("/format", message));
        }
        let tenant = string_field(&fields, "tenant")?;
        check_name(&tenant, "/tenant")?;
        Ok(Request {
            tenant,
            upstream: string_field(&fields, "upstream")?,
            document: string_field(&fields, "document")?,
        })
    }
}

impl Request {
    /// The document converted, or its errors by document path.
    fn convert(&self) -> Result<Imported, ApiError> {
        let options = ImportOptions {
            tenant: &self.tenant,
            upstream: &self.upstream,
        };
        asyncapi::import(&self.document, &options)
            .map_err(|errors| ApiError::Unimportable(document_errors(errors)))
    }
}

/// `?dry_run=`: `true` or `false` (the default).
fn dry_run(value: Option<&String>) -> Result<bool, ApiError> {
    match value.map(String::as_str) {
        None | Some("false") => Ok(false),
        Some("true") => Ok(true),
        Some(_) => Err(ApiError::bad_parameter(
            "dry_run",
            "dry_run must be `true` or `false`",
        )),
    }
}

/// The converter's errors: each at its path in the document (`channels.orders.bindings`),
/// except those about the body's own `tenant` and `upstream`, which point at them.
fn document_errors(errors: ConfigErrors) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|error| {
            let path = match error.path.as_str() {
                "tenant" | "upstream" => format!("/{}", error.path),
                _ => error.path,
            };
            FieldError {
                line: error.line,
                ..FieldError::at(path, error.message)
            }
        })
        .collect()
}

/// The revision log's line for an import.
fn summary(plan: &Plan) -> String {
    let created = plan.routes.iter().filter(|r| r.action == Action::Create);
    let replaced = plan.routes.iter().filter(|r| r.action == Action::Update);
    let versions = plan.schemas.iter().filter(|s| s.action == Action::Create);
    format!(
        "import asyncapi into tenant {}: {} routes created, {} replaced, {} schema versions added",
        plan.tenant,
        created.count(),
        replaced.count(),
        versions.count()
    )
}

/// The answer: what the import changes (or would), every schema and route it names, the
/// converter's warnings, and for a dry run the errors a real import would be refused with.
#[derive(Debug, Serialize)]
struct Outcome<'a> {
    tenant: &'a str,
    dry_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    revision: Option<u64>,
    creates: Vec<Entity<'a>>,
    updates: Vec<Entity<'a>>,
    schemas: Vec<SchemaItem<'a>>,
    routes: Vec<RouteItem<'a>>,
    warnings: &'a [String],
    errors: Vec<FieldError>,
}

/// An entity created or replaced.
#[derive(Debug, Serialize)]
struct Entity<'a> {
    kind: &'static str,
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<i64>,
}

#[derive(Debug, Serialize)]
struct SchemaItem<'a> {
    name: &'a str,
    version: i64,
    schema: &'a RawValue,
}

#[derive(Debug, Serialize)]
struct RouteItem<'a> {
    name: &'a str,
    route: &'a Fields,
}

impl<'a> Outcome<'a> {
    /// `revision` is `None` for a dry run.
    fn new(plan: &'a Plan, revision: Option<u64>, errors: Vec<FieldError>) -> Self {
        let entity = |kind, name, version| Entity {
            kind,
            name,
            version,
        };
        let mut creates = Vec::new();
        if plan.new_tenant.is_some() {
            creates.push(entity("tenant", &plan.tenant, None));
        }
        let mut updates = Vec::new();
        for schema in plan.schemas.iter().filter(|s| s.action == Action::Create) {
            creates.push(entity("schema_version", &schema.name, Some(schema.version)));
        }
        for route in &plan.routes {
            match route.action {
                Action::Create => creates.push(entity("route", &route.name, None)),
                Action::Update => updates.push(entity("route", &route.name, None)),
                Action::Keep => {}
            }
        }
        Outcome {
            tenant: &plan.tenant,
            dry_run: revision.is_none(),
            revision,
            creates,
            updates,
            schemas: schema_items(plan),
            routes: route_items(plan),
            warnings: &plan.warnings,
            errors,
        }
    }
}

fn schema_items(plan: &Plan) -> Vec<SchemaItem<'_>> {
    plan.schemas
        .iter()
        .map(|s| SchemaItem {
            name: &s.name,
            version: s.version,
            schema: &s.schema,
        })
        .collect()
}

fn route_items(plan: &Plan) -> Vec<RouteItem<'_>> {
    plan.routes
        .iter()
        .map(|r| RouteItem {
            name: &r.name,
            route: &r.fields,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dry_run_reads_true_and_false_only() {
        assert!(!dry_run(None).unwrap());
        assert!(!dry_run(Some(&"false".to_owned())).unwrap());
        assert!(dry_run(Some(&"true".to_owned())).unwrap());
        assert!(dry_run(Some(&"yes".to_owned())).is_err());
    }

    #[test]
    fn document_errors_keep_document_paths_and_point_at_body_fields() {
        let mut errors = ConfigErrors::new();
        errors.push(
            "channels.c.bindings.kafka",
            "only SSE channels are imported",
        );
        errors.push("upstream", "not a base URL");
        errors.push_at("", Some(3), "cannot read the document");
        let placed = document_errors(errors);
        let paths: Vec<(&str, Option<usize>)> =
            placed.iter().map(|e| (e.path.as_str(), e.line)).collect();
        assert_eq!(
            paths,
            [
                ("channels.c.bindings.kafka", None),
                ("/upstream", None),
                ("", Some(3))
            ]
        );
    }

    #[test]
    fn a_body_needs_the_asyncapi_format_and_a_valid_tenant_name() {
        let body = |format: &str, tenant: &str| {
            serde_json::json!({
                "format": format, "tenant": tenant, "upstream": "http://u", "document": "x",
            })
            .to_string()
        };
        let read = Request::read(body("asyncapi", "acme").as_bytes()).unwrap();
        assert_eq!(
            (read.tenant.as_str(), read.upstream.as_str()),
            ("acme", "http://u")
        );
        for (format, tenant, pointer) in [
            ("zilla", "acme", "/format"),
            ("asyncapi", "Ac me", "/tenant"),
        ] {
            let Err(ApiError::Invalid(errors)) = Request::read(body(format, tenant).as_bytes())
            else {
                panic!("{format} {tenant} should be refused");
            };
            assert_eq!(errors[0].path, pointer);
        }
    }
}
