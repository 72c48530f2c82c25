//! Following exits: every exit must name a binding and exits must not loop; then each chain
//! is walked from a tcp server to an http server (a listener) and from an http server to an
//! upstream or a folder (a route), in the shapes Sluice can run:
//!
//! - tcp server → [tls server] → http server
//! - http server → sse server → sse client → http client → tcp client
//! - http server → http-filesystem proxy → filesystem server
//!
//! A part that is not whole (something inside it is unsupported, already reported) ends its
//! chains quietly; a step to a binding of the wrong kind is reported at the exit.

use std::collections::{HashMap, HashSet};

use super::model::{Binding, Condition, Guarded, HttpClient, Kind, Named, Namespace, Ref, Route};
use super::report::Notes;

/// Reports exits to missing bindings and cycles of exits; bindings on a cycle stop being
/// whole, so no chain runs through them.
pub(super) fn check_exits(namespace: &mut Namespace, notes: &mut Notes) {
    for binding in &namespace.bindings {
        for exit in binding.value.exits() {
            if namespace.binding(&exit.name).is_none() {
                let what = format!("exit `{}` names no binding", exit.name);
                notes.unsupported(&exit.path, what);
            }
        }
    }
    for name in cycles(namespace, notes) {
        if let Some(binding) = namespace.bindings.iter_mut().find(|b| b.name == name) {
            binding.whole = false;
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Mark {
    Open,
    Done,
}

/// Reports each cycle at the exit that closes it and returns the bindings on cycles. The
/// search keeps its own stack, so a long chain cannot overflow the thread's.
fn cycles(namespace: &Namespace, notes: &mut Notes) -> Vec<String> {
    let mut marks: HashMap<&str, Mark> = HashMap::new();
    let mut on_cycles = Vec::new();
    for start in &namespace.bindings {
        if marks.contains_key(start.name.as_str()) {
            continue;
        }
        // Each frame: a binding and the index of its next exit to try.
        let mut stack: Vec<(&Named<Binding>, usize)> = vec![(start, 0)];
        marks.insert(&start.name, Mark::Open);
        while let Some((binding, next)) = stack.pop() {
            let Some(exit) = binding.value.exits().nth(next) else {
                marks.insert(&binding.name, Mark::Done);
                continue;
            };
            stack.push((binding, next + 1));
            let Some(target) = namespace.binding(&exit.name) else {
                continue;
            };
            match marks.get(target.name.as_str()) {
                None => {
                    marks.insert(&target.name, Mark::Open);
                    stack.push((target, 0));
                }
                Some(Mark::Open) => {
                    let names: Vec<&str> = stack.iter().map(|(b, _)| b.name.as_str()).collect();
                    let from = names.iter().position(|n| *n == target.name).unwrap_or(0);
                    let cycle = &names[from..];
                    let what = format!(
                        "exits form a cycle: {} -> {}",
                        cycle.join(" -> "),
                        target.name
                    );
                    notes.unsupported(&exit.path, what);
                    on_cycles.extend(cycle.iter().map(|n| (*n).to_owned()));
                }
                Some(Mark::Done) => {}
            }
        }
    }
    on_cycles
}

/// A socket: a tcp server's port, through an optional tls server, to an http server.
#[derive(Debug)]
pub(super) struct Front<'a> {
    pub tcp: &'a Named<Binding>,
    pub host: &'a str,
    pub port: u16,
    pub tls: Option<&'a Named<Binding>>,
    pub http: &'a Named<Binding>,
}

/// One way through an http server to a stream or a folder.
#[derive(Debug)]
pub(super) struct Back<'a> {
    pub http: &'a Named<Binding>,
    /// The http route's `when` alternative, if it has one.
    pub condition: Option<&'a Condition>,
    /// Where the http route (or the server's default exit) is written.
    pub at: String,
    /// Guards of the http route and of the next route in the chain.
    pub guarded: Vec<&'a Guarded>,
    pub target: Target<'a>,
}

/// Where a [`Back`] ends.
#[derive(Debug)]
pub(super) enum Target<'a> {
    Stream(Stream<'a>),
    Files(Files<'a>),
}

/// http server → sse server → sse client → http client → tcp client.
#[derive(Debug)]
pub(super) struct Stream<'a> {
    pub sse: &'a Named<Binding>,
    /// The sse route's path pattern, if it has one.
    pub sse_path: Option<&'a str>,
    pub client: &'a Named<Binding>,
    pub http_client: &'a Named<Binding>,
    pub http_options: &'a HttpClient,
    pub tcp: &'a Named<Binding>,
    pub host: &'a str,
    pub port: u16,
}

/// http server → http-filesystem proxy → filesystem server.
#[derive(Debug)]
pub(super) struct Files<'a> {
    pub proxy: &'a Named<Binding>,
    /// The proxy route's path pattern and `with.path`.
    pub proxy_path: Option<&'a str>,
    pub with_path: Option<&'a str>,
    pub server: &'a Named<Binding>,
    pub location: &'a str,
}

/// The binding an exit leads to, when it exists and is whole.
fn follow<'a>(namespace: &'a Namespace, exit: &Ref) -> Option<&'a Named<Binding>> {
    namespace.binding(&exit.name).filter(|b| b.whole)
}

/// The one exit of a pass-through binding: its first route's, else its default.
fn only_exit(binding: &Binding) -> Option<&Ref> {
    binding
        .routes
        .iter()
        .find_map(|r| r.exit.as_ref())
        .or(binding.exit.as_ref())
}

/// Reports a step to a binding that cannot come next.
fn wrong_step(exit: &Ref, target: &Named<Binding>, expected: &str, notes: &mut Notes) {
    let label = target.value.kind.label();
    let what = format!(
        "`{}` is a {label}; Sluice imports {expected} here",
        target.name
    );
    notes.unsupported(&exit.path, what);
}

/// Every listener socket, in binding order then port order.
pub(super) fn fronts<'a>(namespace: &'a Namespace, notes: &mut Notes) -> Vec<Front<'a>> {
    let mut fronts = Vec::new();
    for tcp in namespace.bindings.iter().filter(|b| b.whole) {
        let Kind::TcpServer { host, ports } = &tcp.value.kind else {
            continue;
        };
        for port in ports {
            let Some(exit) = port_exit(&tcp.value, *port) else {
                let what = format!("no route or exit for port {port}");
                notes.unsupported(&tcp.path, what);
                continue;
            };
            if let Some((tls, http)) = front_chain(namespace, exit, notes) {
                fronts.push(Front {
                    tcp,
                    host,
                    port: *port,
                    tls,
                    http,
                });
            }
        }
    }
    fronts
}

/// The exit a tcp server takes for `port`: the first route covering it, else the default.
fn port_exit(tcp: &Binding, port: u16) -> Option<&Ref> {
    let covers = |route: &Route| {
        route.when.is_empty()
            || route
                .when
                .iter()
                .any(|c| c.ports.is_empty() || c.ports.contains(&port))
    };
    let routed = tcp
        .routes
        .iter()
        .filter(|r| covers(r))
        .find_map(|r| r.exit.as_ref());
    routed.or(tcp.exit.as_ref())
}

type FrontChain<'a> = (Option<&'a Named<Binding>>, &'a Named<Binding>);

fn front_chain<'a>(
    namespace: &'a Namespace,
    exit: &Ref,
    notes: &mut Notes,
) -> Option<FrontChain<'a>> {
    let next = follow(namespace, exit)?;
    match &next.value.kind {
        Kind::HttpServer(_) => Some((None, next)),
        Kind::TlsServer(_) => {
            let tls_exit = only_exit(&next.value)?;
            let http = follow(namespace, tls_exit)?;
            if matches!(http.value.kind, Kind::HttpServer(_)) {
                Some((Some(next), http))
            } else {
                wrong_step(tls_exit, http, "an http server", notes);
                None
            }
        }
        _ => {
            wrong_step(exit, next, "a tls server or an http server", notes);
            None
        }
    }
}

/// The whole http servers some tcp server leads to (through any tls server, whole or not, so
/// that a listener left out does not take the tenant's routes with it), in binding order.
pub(super) fn http_servers(namespace: &Namespace) -> Vec<&Named<Binding>> {
    let mut reached: HashSet<&str> = HashSet::new();
    let mut queue: Vec<&Named<Binding>> = namespace
        .bindings
        .iter()
        .filter(|b| matches!(b.value.kind, Kind::TcpServer { .. }))
        .collect();
    let mut seen: HashSet<&str> = queue.iter().map(|b| b.name.as_str()).collect();
    while let Some(binding) = queue.pop() {
        for exit in binding.value.exits() {
            let Some(next) = namespace.binding(&exit.name) else {
                continue;
            };
            if !seen.insert(&next.name) {
                continue;
            }
            match next.value.kind {
                Kind::HttpServer(_) => _ = reached.insert(&next.name),
                Kind::TlsServer(_) => queue.push(next),
                _ => {}
            }
        }
    }
    let whole = namespace.bindings.iter().filter(|b| b.whole);
    whole
        .filter(|b| reached.contains(&b.name.as_str()))
        .collect()
}

/// The `when` alternatives of a route: each one, or a single unconditional one.
fn alternatives(route: &Route) -> Vec<Option<&Condition>> {
    if route.when.is_empty() {
        vec![None]
    } else {
        route.when.iter().map(Some).collect()
    }
}

/// Where a way through an http server starts: the http route's alternative.
struct Start<'a> {
    http: &'a Named<Binding>,
    condition: Option<&'a Condition>,
    at: String,
    guarded: &'a [Guarded],
}

/// Every way through `http` (an http server), in the order Zilla tries them: its routes,
/// then its default exit.
pub(super) fn backs<'a>(
    namespace: &'a Namespace,
    http: &'a Named<Binding>,
    notes: &mut Notes,
) -> Vec<Back<'a>> {
    let mut backs = Vec::new();
    for route in &http.value.routes {
        let Some(exit) = &route.exit else {
            continue;
        };
        for condition in alternatives(route) {
            let start = Start {
                http,
                condition,
                at: condition.map_or_else(|| route.path.clone(), |c| c.path.clone()),
                guarded: &route.guarded,
            };
            backs.extend(targets(namespace, exit, &start, notes));
        }
    }
    if let Some(exit) = &http.value.exit {
        let start = Start {
            http,
            condition: None,
            at: exit.path.clone(),
            guarded: &[],
        };
        backs.extend(targets(namespace, exit, &start, notes));
    }
    backs
}

/// The ways on from an http route's `exit`.
fn targets<'a>(
    namespace: &'a Namespace,
    exit: &Ref,
    start: &Start<'a>,
    notes: &mut Notes,
) -> Vec<Back<'a>> {
    let Some(next) = follow(namespace, exit) else {
        return Vec::new();
    };
    let mut backs = Vec::new();
    let is_sse = match &next.value.kind {
        Kind::SseServer(_) => true,
        Kind::HttpFilesystem => false,
        _ => {
            wrong_step(
                exit,
                next,
                "an sse server or an http-filesystem proxy",
                notes,
            );
            return backs;
        }
    };
    for (route, path, guarded, exit) in routes_of(next) {
        let target = if is_sse {
            stream(namespace, next, path, exit, notes).map(Target::Stream)
        } else {
            files(namespace, next, path, route, exit, notes).map(Target::Files)
        };
        if let Some(target) = target {
            backs.push(Back {
                http: start.http,
                condition: start.condition,
                at: start.at.clone(),
                guarded: start.guarded.iter().chain(guarded).collect(),
                target,
            });
        }
    }
    backs
}

type Way<'a> = (Option<&'a Route>, Option<&'a str>, &'a [Guarded], &'a Ref);

/// A binding's routes as (route, path pattern, guards, exit), one per `when` alternative,
/// then its default exit.
fn routes_of(binding: &Named<Binding>) -> Vec<Way<'_>> {
    let mut ways = Vec::new();
    for route in &binding.value.routes {
        let Some(exit) = &route.exit else {
            continue;
        };
        for condition in alternatives(route) {
            let path = condition.and_then(|c| c.route_path.as_deref());
            ways.push((Some(route), path, route.guarded.as_slice(), exit));
        }
    }
    if let Some(exit) = &binding.value.exit {
        ways.push((None, None, &[][..], exit));
    }
    ways
}

fn stream<'a>(
    namespace: &'a Namespace,
    sse: &'a Named<Binding>,
    sse_path: Option<&'a str>,
    exit: &Ref,
    notes: &mut Notes,
) -> Option<Stream<'a>> {
    let client = step(namespace, exit, "an sse client", notes, |k| {
        matches!(k, Kind::SseClient)
    })?;
    let to_http = only_exit(&client.value)?;
    let http_client = step(namespace, to_http, "an http client", notes, |k| {
        matches!(k, Kind::HttpClient(_))
    })?;
    let Kind::HttpClient(http_options) = &http_client.value.kind else {
        return None;
    };
    let to_tcp = only_exit(&http_client.value)?;
    let tcp = step(namespace, to_tcp, "a tcp client", notes, |k| {
        matches!(k, Kind::TcpClient { .. })
    })?;
    let Kind::TcpClient {
        host,
        port: Some(port),
    } = &tcp.value.kind
    else {
        return None;
    };
    Some(Stream {
        sse,
        sse_path,
        client,
        http_client,
        http_options,
        tcp,
        host,
        port: *port,
    })
}

/// Follows `exit`, which must lead to a binding `fits` accepts (described by `expected`).
fn step<'a>(
    namespace: &'a Namespace,
    exit: &Ref,
    expected: &str,
    notes: &mut Notes,
    fits: impl Fn(&Kind) -> bool,
) -> Option<&'a Named<Binding>> {
    let next = follow(namespace, exit)?;
    if fits(&next.value.kind) {
        Some(next)
    } else {
        wrong_step(exit, next, expected, notes);
        None
    }
}

fn files<'a>(
    namespace: &'a Namespace,
    proxy: &'a Named<Binding>,
    proxy_path: Option<&'a str>,
    route: Option<&'a Route>,
    exit: &Ref,
    notes: &mut Notes,
) -> Option<Files<'a>> {
    let server = step(namespace, exit, "a filesystem server", notes, |k| {
        matches!(k, Kind::Filesystem { .. })
    })?;
    let Kind::Filesystem {
        location: Some(location),
    } = &server.value.kind
    else {
        return None;
    };
    Some(Files {
        proxy,
        proxy_path,
        with_path: route.and_then(|r| r.with_path.as_deref()),
        server,
        location,
    })
}
