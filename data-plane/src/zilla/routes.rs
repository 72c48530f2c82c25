//! The tenant's routes, one per way through an http server: the path from the http route's
//! `:path` and the next route's `path`, the hosts from `:authority`, `:scheme`, `:method` and
//! other headers as conditions, scopes from `guarded` roles, and the upstream (sse) or folder
//! (http-filesystem) at the end of the chain.

use std::collections::BTreeSet;

use crate::config::{Duration, HttpVersion, OrderedMap, Route, Tenant, Upstream, When, key_path};

use super::chain::{Back, Files, Front, Stream, Target};
use super::map::{Builder, with_defaults};
use super::model::{Authorization, Guard, Kind, Named};
use super::paths::{self, Template};

/// The routes and the hosts they were written for.
#[derive(Debug, Default)]
pub(super) struct Built {
    pub routes: OrderedMap<Route>,
    pub hosts: Vec<String>,
}

/// The one guard the tenant authenticates with: the http server's authorization guard, else
/// the first guard a route names. Guards other than that one are reported.
pub(super) fn tenant_guard<'a>(
    builder: &mut Builder<'a>,
    backs: &[Back<'a>],
    authorization: Option<&Authorization>,
) -> Option<(&'a Named<Guard>, Option<Authorization>)> {
    let mut refs: Vec<_> = authorization.map(|a| &a.guard).into_iter().collect();
    refs.extend(
        backs
            .iter()
            .flat_map(|b| b.guarded.iter().map(|g| &g.guard)),
    );
    let chosen = (*refs.first()?).clone();
    for other in refs.iter().filter(|r| r.name != chosen.name) {
        let what = format!(
            "guard `{}`: Sluice authenticates a tenant with one guard, here `{}`",
            other.name, chosen.name
        );
        builder.notes.unsupported(&other.path, what);
    }
    let namespace = builder.namespace;
    let Some(guard) = namespace.guard(&chosen.name) else {
        let what = format!("guard `{}` is not declared", chosen.name);
        builder.notes.unsupported(&chosen.path, what);
        return None;
    };
    guard.whole.then(|| (guard, authorization.cloned()))
}

/// One route in the making, with what duplicate detection needs.
struct Made {
    name: String,
    shape: String,
    /// The hosts it was written for; `None` stands for any host.
    hosts: Vec<Option<String>>,
}

/// Every route of the tenant, in Zilla's order.
pub(super) fn build(
    builder: &mut Builder<'_>,
    backs: &[Back<'_>],
    fronts: &[Front<'_>],
    tenant: &Tenant,
    tenant_path: &str,
) -> Built {
    let mut routes = Routes::default();
    for back in backs {
        let Some((template, route, host)) = route(builder, back, fronts, tenant) else {
            continue;
        };
        let name = match routes.earlier(&template) {
            Some(earlier) => routes.merge(builder, back, earlier, &template, &route, host),
            None => Some(routes.add(template, route, host, &back.target)),
        };
        if let Some(name) = name {
            let at = key_path(&key_path(tenant_path, "routes"), &name);
            record(builder, back, &at);
        }
    }
    differences(builder, &routes.built, &routes.made);
    routes.built
}

/// The routes made so far, with what duplicate detection needs.
#[derive(Default)]
struct Routes {
    built: Built,
    made: Vec<Made>,
}

impl Routes {
    /// Adds `route` under a name taken from its path; returns the name.
    fn add(
        &mut self,
        template: Template,
        route: Route,
        host: Option<String>,
        target: &Target<'_>,
    ) -> String {
        let fallback = match target {
            Target::Stream(_) => "stream",
            Target::Files(_) => "files",
        };
        let name = free_name(&paths::route_name(&template, fallback), &self.built.routes);
        self.add_host(host.as_ref());
        self.made.push(Made {
            name: name.clone(),
            shape: template.shape(),
            hosts: vec![host],
        });
        self.built.routes.insert(name.clone(), route);
        name
    }

    fn add_host(&mut self, host: Option<&String>) {
        if let Some(host) = host.filter(|h| !self.built.hosts.contains(h)) {
            self.built.hosts.push(host.clone());
        }
    }

    /// The index of the route made earlier that takes the same paths, if any.
    fn earlier(&self, template: &Template) -> Option<usize> {
        let shape = template.shape();
        self.made.iter().position(|m| m.shape == shape)
    }

    /// Folds `route` into the earlier route with its paths when both do the same (on other
    /// hosts, say); otherwise reports why it is left out. Returns the route it joined.
    fn merge(
        &mut self,
        builder: &mut Builder<'_>,
        back: &Back<'_>,
        earlier: usize,
        template: &Template,
        route: &Route,
        host: Option<String>,
    ) -> Option<String> {
        let made = self.made.get(earlier)?;
        let name = made.name.clone();
        let earlier_route = self.built.routes.get(&name)?;
        if earlier_route == route {
            self.add_host(host.as_ref());
            if let Some(made) = self.made.get_mut(earlier) {
                made.hosts.push(host);
            }
            return Some(name);
        }
        if earlier_route.when == route.when && made.hosts.contains(&host) {
            builder.notes.difference(format!(
                "{}: never reached in Zilla (route `{name}` takes the same requests first); not \
                 imported",
                back.at
            ));
        } else {
            let what = format!(
                "path `{}` is already route `{name}`, which goes elsewhere; Sluice keeps one \
                 route per path in a tenant",
                template.path
            );
            builder.notes.unsupported(&back.at, what);
        }
        None
    }
}

/// `base`, or `base-2`, `base-3`... whichever is not a route yet.
fn free_name(base: &str, routes: &OrderedMap<Route>) -> String {
    let mut name = base.to_owned();
    let mut n = 1;
    while routes.contains_key(&name) {
        n += 1;
        name = format!("{base}-{n}");
    }
    name
}

/// The route for `back`, its template and its host (`None`: any host).
fn route(
    builder: &mut Builder<'_>,
    back: &Back<'_>,
    fronts: &[Front<'_>],
    tenant: &Tenant,
) -> Option<(Template, Route, Option<String>)> {
    let template = route_template(builder, back)?;
    let when = conditions(builder, back, fronts)?;
    let (public, scopes) = access(builder, back, tenant)?;
    let mut route: Route = with_defaults(serde_json::json!({ "path": template.path }));
    route.when = when;
    route.public = public;
    route.scopes = scopes;
    match &back.target {
        Target::Stream(stream) => {
            stream_route(builder, back, stream, &template, &mut route, tenant)?
        }
        Target::Files(files) => files_route(builder, back, files, &template, &mut route)?,
    }
    let host = host(builder, back);
    Some((template, route, host))
}

/// The http route's `:path` and the next route's `path`, as one Sluice template.
fn route_template(builder: &mut Builder<'_>, back: &Back<'_>) -> Option<Template> {
    let outer = back.condition.and_then(|c| c.header(":path"));
    let (inner, inner_at) = match &back.target {
        Target::Stream(stream) => (stream.sse_path, stream.sse.path.as_str()),
        Target::Files(files) => (files.proxy_path, files.proxy.path.as_str()),
    };
    let Ok(combined) = paths::combine(outer, inner) else {
        builder.notes.difference(format!(
            "{}: `:path` {} and {inner_at}'s route path {} never match the same request; not \
             imported",
            back.at,
            outer.unwrap_or_default(),
            inner.unwrap_or_default()
        ));
        return None;
    };
    let Some(pattern) = combined else {
        let what = "this route takes every path; a Sluice route needs one: add `:path` here, or \
                    a `path` condition to the next binding's route";
        builder.notes.unsupported(&back.at, what);
        return None;
    };
    match paths::template(pattern) {
        Ok(template) => {
            note_params(builder, back, pattern, &template);
            Some(template)
        }
        Err(what) => {
            builder.notes.unsupported(&back.at, what);
            None
        }
    }
}

fn note_params(builder: &mut Builder<'_>, back: &Back<'_>, pattern: &str, template: &Template) {
    if template.params.is_empty() {
        return;
    }
    let consequence = match back.target {
        Target::Stream(_) => "longer paths do not reach this stream",
        Target::Files(_) => "files in subfolders are not served",
    };
    builder.notes.difference(format!(
        "{}: in `{}` each param matches one path segment, so {consequence}; Zilla's \
         `{pattern}` also matches paths with more segments",
        back.at, template.path
    ));
}

/// `:scheme`, `:method` and the other header conditions of the http route as Sluice's `when`;
/// `None` when the route can never match or has a condition Sluice cannot express.
fn conditions(
    builder: &mut Builder<'_>,
    back: &Back<'_>,
    fronts: &[Front<'_>],
) -> Option<Option<When>> {
    let Some(condition) = back.condition else {
        return scheme_only(builder, back, fronts, None);
    };
    let headers_path = key_path(&condition.path, "headers");
    let mut when = When::default();
    for (name, value) in &condition.headers {
        let at = key_path(&headers_path, name);
        match name.as_str() {
            ":path" | ":authority" | ":scheme" => {}
            ":method" => method(builder, back, value, &at)?,
            _ if name.starts_with(':') => {
                let what =
                    format!("{name}: Sluice routes on :path, :authority, :scheme and :method");
                builder.notes.unsupported(at, what);
                return None;
            }
            _ if value.contains(['{', '}']) => {
                let what = "a param in a header condition is not imported; use `*`";
                builder.notes.unsupported(at, what);
                return None;
            }
            _ => {
                _ = when
                    .headers
                    .insert(name.to_ascii_lowercase(), value.clone())
            }
        }
    }
    let scheme = condition.header(":scheme");
    let with_scheme = scheme_only(builder, back, fronts, scheme)?;
    when.scheme = with_scheme.and_then(|w| w.scheme);
    Some((when != When::default()).then_some(when))
}

/// `:method` must let GET through: Sluice answers streams on GET and files on GET and HEAD.
fn method(builder: &mut Builder<'_>, back: &Back<'_>, pattern: &str, at: &str) -> Option<()> {
    if paths::glob_match(pattern, "GET") {
        return Some(());
    }
    let noun = match back.target {
        Target::Stream(_) => "streams on GET",
        Target::Files(_) => "files on GET and HEAD",
    };
    builder
        .notes
        .unsupported(at, format!("{pattern}: Sluice answers {noun}"));
    None
}

/// The scheme condition a route needs: none when every listener it is reached from (and
/// only those) has a scheme the pattern accepts; `None` when it can never match.
fn scheme_only(
    builder: &mut Builder<'_>,
    back: &Back<'_>,
    fronts: &[Front<'_>],
    pattern: Option<&str>,
) -> Option<Option<When>> {
    let scheme_of = |front: &Front<'_>| if front.tls.is_some() { "https" } else { "http" };
    let mut all: Vec<&str> = fronts.iter().map(scheme_of).collect();
    all.sort_unstable();
    all.dedup();
    let mut reached: Vec<&str> = fronts
        .iter()
        .filter(|f| f.http.name == back.http.name)
        .map(scheme_of)
        .collect();
    if reached.is_empty() {
        // No listener was imported for this server: keep the route as Zilla wrote it.
        reached = vec!["http", "https"];
    }
    let mut schemes: Vec<&str> = reached
        .into_iter()
        .filter(|s| pattern.is_none_or(|p| paths::glob_match(p, s)))
        .collect();
    schemes.sort_unstable();
    schemes.dedup();
    match schemes.as_slice() {
        [] => {
            builder.notes.difference(format!(
                "{}: `:scheme: {}` never matches on the listeners that reach it; not imported",
                back.at,
                pattern.unwrap_or_default()
            ));
            None
        }
        found if found == all.as_slice() => Some(None),
        [one] => Some(Some(When {
            scheme: Some((*one).to_owned()),
            ..When::default()
        })),
        _ => Some(None),
    }
}

/// Whether the route is public, and the scopes it needs: the roles of its guards.
fn access(
    builder: &mut Builder<'_>,
    back: &Back<'_>,
    tenant: &Tenant,
) -> Option<(bool, Vec<String>)> {
    if back.guarded.is_empty() {
        return Some((true, Vec::new()));
    }
    let Kind::HttpServer(http) = &back.http.value.kind else {
        return None;
    };
    let mut scopes: Vec<String> = Vec::new();
    for guarded in &back.guarded {
        let Some(authorization) = &http.authorization else {
            let what = format!(
                "guarded by `{}`, but {} has no `authorization`, so Zilla never authorizes these \
                 requests",
                guarded.guard.name, http.options_path
            );
            builder.notes.unsupported(&guarded.guard.path, what);
            return None;
        };
        if authorization.guard.name != guarded.guard.name {
            // Reported with the tenant's guard: Sluice authenticates with one.
            return None;
        }
        for role in &guarded.roles {
            if !scopes.contains(role) {
                scopes.push(role.clone());
            }
        }
    }
    // A guard that is not the tenant's (or is broken) was reported already.
    tenant.auth.as_ref()?;
    Some((false, scopes))
}

/// The host of the route's `:authority`, if it names one.
fn host(builder: &mut Builder<'_>, back: &Back<'_>) -> Option<String> {
    let authority = back.condition.and_then(|c| c.header(":authority"))?;
    let (host, with_port) = paths::authority_host(authority);
    if let Some(host) = host.as_deref().filter(|_| with_port) {
        builder.notes.difference(format!(
            "`:authority: {authority}` becomes tenant host `{host}`, which matches on any port"
        ));
    }
    host
}

fn stream_route(
    builder: &mut Builder<'_>,
    back: &Back<'_>,
    stream: &Stream<'_>,
    template: &Template,
    route: &mut Route,
    tenant: &Tenant,
) -> Option<()> {
    let host = match stream.host.parse::<std::net::Ipv6Addr>() {
        Ok(_) => format!("[{}]", stream.host),
        Err(_) => stream.host.to_owned(),
    };
    let url = format!("http://{host}:{}{}", stream.port, template.path);
    if url.replace(['{', '}'], "").parse::<http::Uri>().is_err() {
        let what = format!("`{}` cannot be an upstream host", stream.host);
        builder
            .notes
            .unsupported(format!("{}.options.host", &stream.tcp.path), what);
        return None;
    }
    let mut upstream: Upstream = with_defaults(serde_json::json!({ "url": url }));
    upstream.version = upstream_version(builder, stream);
    for (name, value) in &stream.http_options.overrides {
        upstream.headers.insert(name.clone(), value.clone());
    }
    route.upstream = Some(upstream);
    let Kind::SseServer(sse) = &stream.sse.value.kind else {
        return None;
    };
    route.retry = sse.retry.filter(|ms| *ms > 0).map(Duration::from_millis);
    let pattern = back
        .condition
        .and_then(|c| c.header(":path"))
        .or(stream.sse_path);
    events(builder, stream, pattern.unwrap_or_default(), route, tenant)
}

/// One version towards the upstream: Zilla's http client may offer both.
fn upstream_version(builder: &mut Builder<'_>, stream: &Stream<'_>) -> HttpVersion {
    match stream.http_options.versions.as_slice() {
        [HttpVersion::H2] => HttpVersion::H2,
        [HttpVersion::Http1] => HttpVersion::Http1,
        _ => {
            builder.notes.difference(format!(
                "{}: the upstream is spoken to in HTTP/1.1; Zilla may also use h2",
                stream.http_client.path
            ));
            HttpVersion::Http1
        }
    }
}

/// The sse server's validation for this route's path, as `events: { "*": schema@version }`.
fn events(
    builder: &mut Builder<'_>,
    stream: &Stream<'_>,
    pattern: &str,
    route: &mut Route,
    tenant: &Tenant,
) -> Option<()> {
    let Kind::SseServer(sse) = &stream.sse.value.kind else {
        return None;
    };
    let Some(request) = sse
        .requests
        .iter()
        .find(|r| r.path == pattern || paths::glob_match(&r.path, pattern))
    else {
        return Some(());
    };
    let model = &request.model;
    let namespace = builder.namespace;
    let subject = namespace
        .catalog(&model.catalog.name)
        .filter(|c| c.whole)
        .and_then(|c| c.value.subjects.iter().find(|s| s.name == model.subject));
    let known = subject.is_some_and(|s| model.version.is_none_or(|v| v == s.version))
        && tenant.schemas.contains_key(&model.subject);
    if !known {
        let what = format!(
            "schema `{}` (version {}) is not in catalog `{}`",
            model.subject,
            model
                .version
                .map_or_else(|| "latest".to_owned(), |v| v.to_string()),
            model.catalog.name
        );
        builder.notes.unsupported(&model.catalog.path, what);
        return None;
    }
    let version = model
        .version
        .map_or_else(|| "latest".to_owned(), |v| v.to_string());
    route
        .events
        .insert("*", format!("{}@{version}", model.subject));
    Some(())
}

fn files_route(
    builder: &mut Builder<'_>,
    back: &Back<'_>,
    files: &Files<'_>,
    template: &Template,
    route: &mut Route,
) -> Option<()> {
    let Some(param) = template.last_param() else {
        let what = format!(
            "`{}`: a static-file route ends in a `{{name}}` param naming the file",
            template.path
        );
        builder.notes.unsupported(&back.at, what);
        return None;
    };
    let folder = match files.with_path {
        None => template.folder(),
        Some(with) => match with.strip_suffix(&format!("${{params.{param}}}")) {
            Some(prefix)
                if !prefix.contains(['$', '{', '}']) && !prefix.split('/').any(|s| s == "..") =>
            {
                prefix.trim_matches('/').to_owned()
            }
            _ => {
                let what = format!(
                    "`{with}`: Sluice serves the file the last param names, so `with.path` must \
                     end in `${{params.{param}}}`"
                );
                builder.notes.unsupported(&files.proxy.path, what);
                return None;
            }
        },
    };
    let location = builder.base_dir.join(files.location);
    route.files = Some(if folder.is_empty() {
        location
    } else {
        location.join(folder)
    });
    Some(())
}

/// Records which Sluice route each binding on the way became part of.
fn record(builder: &mut Builder<'_>, back: &Back<'_>, at: &str) {
    let mapping = &mut builder.mapping;
    mapping.add(&back.http.path, "http server", at);
    match &back.target {
        Target::Stream(stream) => {
            mapping.add(&stream.sse.path, "sse server", at);
            mapping.add(&stream.client.path, "sse client", key_path(at, "upstream"));
            mapping.add(
                &stream.http_client.path,
                "http client",
                format!("{}.upstream.version", at),
            );
            mapping.add(
                &stream.tcp.path,
                "tcp client",
                format!("{}.upstream.url", at),
            );
        }
        Target::Files(files) => {
            mapping.add(&files.proxy.path, "http-filesystem proxy", at);
            mapping.add(
                &files.server.path,
                "filesystem server",
                key_path(at, "files"),
            );
        }
    }
}

/// Differences that hold for the tenant as a whole.
fn differences(builder: &mut Builder<'_>, built: &Built, made: &[Made]) {
    let notes = &mut *builder.notes;
    let routes: Vec<&Route> = built.routes.values().collect();
    if routes.iter().any(|r| !r.public) {
        notes.difference(
            "a request to a guarded route without a valid token gets 401, and one whose token \
             lacks a role gets 403, each with WWW-Authenticate (RFC 6750), where Zilla answers \
             404",
        );
    }
    if !routes.is_empty() {
        notes.difference(
            "a path with `.` or `..` segments, or an encoded `/`, `\\`, `.` or NUL, is refused \
             with 400 before routing",
        );
    }
    if routes.iter().any(|r| r.upstream.is_some()) {
        notes.difference(
            "the upstream request carries the upstream URL's host and port as its authority; \
             Zilla passes on the client's `:authority`",
        );
        notes.difference(
            "when the upstream is down, times out or answers 5xx, Sluice answers the client 200 \
             with only a `retry:` and ends the stream, so EventSource reconnects",
        );
    }
    let per_route: Vec<BTreeSet<Option<&str>>> = made
        .iter()
        .map(|m| m.hosts.iter().map(Option::as_deref).collect())
        .collect();
    if per_route.windows(2).any(|pair| pair[0] != pair[1]) {
        notes.difference(
            "every route answers on every host of the tenant; in Zilla each route answered only \
             on its own `:authority`",
        );
    }
}
