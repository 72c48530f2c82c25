//! Turns a checked [`Config`] into a [`Snapshot`]: compiled matchers, host and prefix tables,
//! TLS acceptors, upstream clients. Every fault found is reported with its config path.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use http::header::HeaderName;

use super::{ListenerSpec, Route, Snapshot, Target, Tenant, Upstream, Versions, compile_tls};
use crate::auth::TenantAuth;
use crate::config::{self, Config, ConfigErrors, HttpVersion};
use crate::cors::CorsPolicy;
use crate::metrics::RouteLabels;
use crate::node::NodeState;
use crate::route::{PathTemplate, Pattern, fill_url, placeholders};
use crate::tenant::{HostTable, PrefixTable};
use crate::upstream::{ClientKey, UpstreamClients};
use crate::validate::{EventRules, SchemaCatalog};

/// Placeholders every upstream URL and header may use besides the route's path params;
/// guarded routes may also use `{subject}` and `{claims.NAME}`.
const NODE_PLACEHOLDERS: &[&str] = &["tenant"];

/// Checks and compiles `config`; `revision` and `source` label the result.
pub fn compile(
    config: &Config,
    node: &NodeState,
    revision: u64,
    source: String,
) -> Result<Snapshot, ConfigErrors> {
    // Later steps assume the checked shape; their own faults would only repeat these.
    config::check_config(config)?;
    let mut errors = ConfigErrors::new();
    let tenants: Vec<Arc<Tenant>> = config
        .tenants
        .iter()
        .map(|(name, tenant)| Arc::new(compile_tenant(name, tenant, node, &mut errors)))
        .collect();
    let hosts = host_table(config, &mut errors);
    let prefixes = prefix_table(config, &mut errors);
    let listeners = compile_listeners(config, &mut errors);
    if !errors.is_empty() {
        return Err(with_lines(errors, config));
    }
    let (Some(hosts), Some(prefixes)) = (hosts, prefixes) else {
        return Err(with_lines(errors, config));
    };
    Ok(Snapshot {
        revision,
        source,
        loaded_at_unix: 0,
        listeners,
        admin: config.admin.as_ref().map(|admin| admin.address.clone()),
        shutdown_grace: config.shutdown_grace.get(),
        tenants,
        hosts,
        prefixes,
    })
}

/// Places each error at its line when the source knows it.
fn with_lines(errors: ConfigErrors, config: &Config) -> ConfigErrors {
    let placed = errors.0.into_iter().map(|error| {
        let line = error.line.or_else(|| config.line_of(&error.path));
        error.at_line(line)
    });
    ConfigErrors(placed.collect())
}

fn host_table(config: &Config, errors: &mut ConfigErrors) -> Option<HostTable<usize>> {
    let entries = config
        .tenants
        .iter()
        .enumerate()
        .flat_map(|(index, (name, tenant))| {
            tenant
                .hosts
                .iter()
                .map(move |host| (host.as_str(), name, index))
        });
    HostTable::build(entries)
        .map_err(|faults| {
            for fault in faults {
                errors.push(
                    format!("tenants.{}.hosts", fault_owner(&fault)),
                    fault.to_string(),
                );
            }
        })
        .ok()
}

fn prefix_table(config: &Config, errors: &mut ConfigErrors) -> Option<PrefixTable<usize>> {
    let entries = config
        .tenants
        .iter()
        .enumerate()
        .filter_map(|(index, (name, tenant))| {
            tenant
                .path_prefix
                .as_deref()
                .map(|prefix| (prefix, name, index))
        });
    PrefixTable::build(entries)
        .map_err(|faults| {
            for fault in faults {
                let path = format!("tenants.{}.path_prefix", fault_owner(&fault));
                errors.push(path, fault.to_string());
            }
        })
        .ok()
}

fn fault_owner(fault: &crate::tenant::TableError) -> &str {
    match fault {
        crate::tenant::TableError::Malformed { owner, .. } => owner,
        crate::tenant::TableError::Duplicate { second_owner, .. } => second_owner,
    }
}

fn compile_listeners(config: &Config, errors: &mut ConfigErrors) -> Vec<ListenerSpec> {
    let tls = compile_tls(config, errors);
    config
        .listeners
        .iter()
        .zip(tls)
        .map(|(listener, tls)| ListenerSpec {
            address: listener.address.clone(),
            versions: Versions {
                http1: listener.versions.contains(&HttpVersion::Http1),
                h2: listener.versions.contains(&HttpVersion::H2),
            },
            tls,
        })
        .collect()
}

fn compile_tenant(
    name: &str,
    tenant: &config::Tenant,
    node: &NodeState,
    errors: &mut ConfigErrors,
) -> Tenant {
    let clients = &node.clients;
    let tenant_path = config::key_path("tenants", name);
    let auth = tenant.auth.as_ref().and_then(|auth| {
        let at = format!("{tenant_path}.auth");
        TenantAuth::compile(name, auth, &node.jwks, &at, errors)
    });
    let catalog = SchemaCatalog::compile(
        name,
        &tenant.schemas,
        &format!("{tenant_path}.schemas"),
        errors,
    );
    let mut routes: Vec<Arc<Route>> = tenant
        .routes
        .iter()
        .filter_map(|(route_name, route)| {
            let path = config::key_path(&format!("{tenant_path}.routes"), route_name);
            let events_path = format!("{path}.events");
            let events = EventRules::compile(&catalog, &route.events, &events_path, errors);
            let compiled = compile_route(name, route_name, route, tenant, clients, &path, errors)?;
            Some(Arc::new(Route { events, ..compiled }))
        })
        .collect();
    // Stable: equal specificity keeps declared order.
    routes.sort_by_key(|route| route.template.specificity());
    Tenant {
        name: name.to_owned(),
        routes,
        auth,
        cors: tenant.cors.as_ref().map(CorsPolicy::compile),
        limits: tenant.limits.unwrap_or_default(),
    }
}

fn compile_route(
    tenant_name: &str,
    route_name: &str,
    route: &config::Route,
    tenant: &config::Tenant,
    clients: &UpstreamClients,
    path: &str,
    errors: &mut ConfigErrors,
) -> Option<Route> {
    let template = PathTemplate::parse(&route.path)
        .map_err(|error| errors.push(format!("{path}.path"), error.to_string()))
        .ok();
    let (scheme, headers) = compile_when(route.when.as_ref(), path, errors);
    let target = template
        .as_ref()
        .and_then(|template| compile_target(route, template, clients, path, errors));
    let mut dropped_query_params = vec![route.last_event_id_query.clone()];
    if let Some(query) = tenant
        .auth
        .as_ref()
        .and_then(|auth| auth.credentials.query.clone())
    {
        dropped_query_params.push(query);
    }
    Some(Route {
        labels: RouteLabels {
            tenant: tenant_name.to_owned(),
            route: route_name.to_owned(),
        },
        template: template?,
        scheme,
        headers,
        public: route.public,
        scopes: route.scopes.clone(),
        target: target?,
        retry: route.retry.map(|d| d.get()),
        heartbeat: route.heartbeat.map(|d| d.get()).filter(|d| !d.is_zero()),
        last_event_id_query: route.last_event_id_query.clone(),
        dropped_query_params,
        max_event_size: usize::try_from(route.max_event_size.bytes()).unwrap_or(usize::MAX),
        buffer: route.buffer.max(1) as usize,
        events: EventRules::default(),
        on_invalid: route.on_invalid,
    })
}

type HeaderConditions = Vec<(HeaderName, Pattern)>;

fn compile_when(
    when: Option<&config::When>,
    path: &str,
    errors: &mut ConfigErrors,
) -> (Option<Pattern>, HeaderConditions) {
    let Some(when) = when else {
        return (None, Vec::new());
    };
    let scheme = when.scheme.as_deref().map(Pattern::new);
    let headers = when
        .headers
        .iter()
        .filter_map(
            |(name, value)| match HeaderName::from_str(&name.to_ascii_lowercase()) {
                Ok(header) => Some((header, Pattern::new(value))),
                Err(_) => {
                    errors.push(
                        config::key_path(&format!("{path}.when.headers"), name),
                        "not a valid header name",
                    );
                    None
                }
            },
        )
        .collect();
    (scheme, headers)
}

fn compile_upstream(
    upstream: &config::Upstream,
    template: &PathTemplate,
    public: bool,
    clients: &UpstreamClients,
    path: &str,
    errors: &mut ConfigErrors,
) -> Option<Upstream> {
    let known = |name: &str| {
        NODE_PLACEHOLDERS.contains(&name)
            || template.params().any(|p| p == name)
            || (!public && (name == "subject" || name.starts_with("claims.")))
    };
    let before = errors.len();
    check_placeholders(
        &upstream.url,
        &known,
        &format!("{path}.upstream.url"),
        errors,
    );
    // A trial fill proves the template makes a URL whatever the values.
    if let Err(error) = fill_url(&upstream.url, |_| Some("x"))
        .map_err(|e| e.to_string())
        .and_then(|url| http::Uri::from_str(&url).map_err(|e| e.to_string()))
    {
        errors.push(format!("{path}.upstream.url"), error);
    }
    let headers: Vec<(HeaderName, String)> = upstream
        .headers
        .iter()
        .filter_map(|(name, value)| {
            let at = config::key_path(&format!("{path}.upstream.headers"), name);
            check_placeholders(value, &known, &at, errors);
            let header = HeaderName::from_str(&name.to_ascii_lowercase());
            header
                .map_err(|_| errors.push(at, "not a valid header name"))
                .ok()
                .map(|h| (h, value.clone()))
        })
        .collect();
    let key = ClientKey {
        h2: upstream.version == HttpVersion::H2,
        ca: upstream.ca.clone(),
        connect_timeout: upstream.connect_timeout.get(),
    };
    let client = clients
        .client(&key)
        .map_err(|error| errors.push(format!("{path}.upstream.ca"), error.to_string()))
        .ok()?;
    let templates = std::iter::once(&upstream.url).chain(headers.iter().map(|(_, t)| t));
    let claims = templates
        .flat_map(|template| placeholders(template).unwrap_or_default())
        .filter(|name| name.starts_with("claims."))
        .map(str::to_owned)
        .collect();
    (errors.len() == before).then(|| Upstream {
        url: upstream.url.clone(),
        headers,
        claims,
        response_timeout: nonzero(upstream.response_timeout.get()),
        client,
    })
}

fn compile_target(
    route: &config::Route,
    template: &PathTemplate,
    clients: &UpstreamClients,
    path: &str,
    errors: &mut ConfigErrors,
) -> Option<Target> {
    if let Some(upstream) = &route.upstream {
        return compile_upstream(upstream, template, route.public, clients, path, errors)
            .map(|upstream| Target::Stream(Box::new(upstream)));
    }
    let folder = route.files.as_ref()?;
    let at = format!("{path}.files");
    let Some(param) = template
        .params()
        .last()
        .filter(|p| route.path.ends_with(&format!("{{{p}}}")))
    else {
        errors.push(
            format!("{path}.path"),
            "a files route's path must end in a {name} param",
        );
        return None;
    };
    match std::fs::canonicalize(folder) {
        Ok(root) if root.is_dir() => Some(Target::Files {
            root,
            param: param.to_owned(),
        }),
        Ok(_) => {
            errors.push(at, format!("{} is not a folder", folder.display()));
            None
        }
        Err(error) => {
            errors.push(at, format!("{}: {error}", folder.display()));
            None
        }
    }
}

fn nonzero(duration: Duration) -> Duration {
    duration.max(Duration::from_millis(1))
}

fn check_placeholders(
    template: &str,
    known: &impl Fn(&str) -> bool,
    at: &str,
    errors: &mut ConfigErrors,
) {
    match placeholders(template) {
        Err(error) => errors.push(at, error.to_string()),
        Ok(names) => {
            for name in names.into_iter().filter(|name| !known(name)) {
                errors.push(
                    at,
                    format!("unknown placeholder {{{name}}}: use {{tenant}} or a path parameter"),
                );
            }
        }
    }
}
