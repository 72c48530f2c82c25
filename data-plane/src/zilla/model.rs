//! The part of Zilla's config model that maps onto Sluice (an SSE proxy: tcp, tls, http, sse,
//! http-filesystem and filesystem bindings, a jwt guard, filesystem vaults, inline and
//! filesystem catalogs, stdout and prometheus exporters), as read from a `zilla.yaml`.
//!
//! Each named part carries its path in the file and whether it was read whole: a part with
//! anything unsupported inside is kept (so exits to it still resolve) but never imported.

use std::collections::HashMap;

use crate::config::HttpVersion;

/// One Zilla namespace: a whole `zilla.yaml`.
#[derive(Debug, Default)]
pub(super) struct Namespace {
    /// `name`; it becomes the tenant's name.
    pub name: Option<String>,
    pub vaults: Vec<Named<Vault>>,
    pub guards: Vec<Named<Guard>>,
    pub catalogs: Vec<Named<Catalog>>,
    pub bindings: Vec<Named<Binding>>,
    pub exporters: Vec<Named<Exporter>>,
    /// Position of each binding in `bindings`, by name.
    pub binding_index: HashMap<String, usize>,
}

/// A part declared under a name, e.g. `bindings.north_tcp_server`.
#[derive(Debug)]
pub(super) struct Named<T> {
    pub name: String,
    /// Its path in the file.
    pub path: String,
    /// False when something inside it is unsupported; it is then never imported.
    pub whole: bool,
    pub value: T,
}

impl Namespace {
    /// The binding called `name`, if declared.
    pub fn binding(&self, name: &str) -> Option<&Named<Binding>> {
        self.bindings.get(*self.binding_index.get(name)?)
    }

    /// The guard called `name`, if declared.
    pub fn guard(&self, name: &str) -> Option<&Named<Guard>> {
        self.guards.iter().find(|g| g.name == name)
    }

    /// The vault called `name`, if declared.
    pub fn vault(&self, name: &str) -> Option<&Named<Vault>> {
        self.vaults.iter().find(|v| v.name == name)
    }

    /// The catalog called `name`, if declared.
    pub fn catalog(&self, name: &str) -> Option<&Named<Catalog>> {
        self.catalogs.iter().find(|c| c.name == name)
    }
}

/// A reference by name to another part, and where it was written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Ref {
    pub name: String,
    pub path: String,
}

/// A `filesystem` vault; only its `keys` store is importable.
#[derive(Debug, Default)]
pub(super) struct Vault {
    pub keys: Option<KeyStore>,
}

/// A PKCS#12 key store in a vault.
#[derive(Debug)]
pub(super) struct KeyStore {
    /// The file, as written (relative to the `zilla.yaml` folder unless absolute).
    pub store: String,
    pub password: Option<String>,
}

/// A `jwt` guard.
#[derive(Debug, Default)]
pub(super) struct Guard {
    pub issuer: Option<String>,
    pub audience: Option<String>,
    pub keys: GuardKeys,
    /// Seconds before `exp` a challenge is sent.
    pub challenge: Option<u64>,
    /// The claim holding roles (Sluice: scopes). Zilla's default is `scope`.
    pub roles: Option<String>,
    /// The claim naming the subject. Zilla's default is `sub`.
    pub identity: Option<String>,
}

/// Where a guard's keys come from.
#[derive(Debug, Default)]
pub(super) enum GuardKeys {
    #[default]
    Missing,
    Inline(Vec<crate::config::Jwk>),
    Url(String),
}

/// An `inline` or `filesystem` catalog: JSON schemas by subject.
#[derive(Debug, Default)]
pub(super) struct Catalog {
    pub subjects: Vec<Subject>,
}

/// One schema of a catalog.
#[derive(Debug)]
pub(super) struct Subject {
    pub name: String,
    pub path: String,
    /// The version number it becomes in Sluice (`latest` and absent give 1).
    pub version: u32,
    pub schema: serde_json::Value,
}

/// A telemetry exporter.
#[derive(Debug)]
pub(super) enum Exporter {
    Stdout,
    Prometheus { port: u16, path: Option<String> },
    Unsupported,
}

/// A binding: its type and kind, options, routes and default exit.
#[derive(Debug)]
pub(super) struct Binding {
    pub kind: Kind,
    pub routes: Vec<Route>,
    pub exit: Option<Ref>,
}

impl Binding {
    /// Every exit this binding can lead to: its routes' then its default.
    pub fn exits(&self) -> impl Iterator<Item = &Ref> {
        let routes = self.routes.iter().filter_map(|r| r.exit.as_ref());
        routes.chain(self.exit.as_ref())
    }
}

/// The importable binding kinds, with their options.
#[derive(Debug)]
pub(super) enum Kind {
    TcpServer {
        host: String,
        ports: Vec<u16>,
    },
    TcpClient {
        host: String,
        port: Option<u16>,
    },
    TlsServer(TlsServer),
    HttpServer(HttpServer),
    HttpClient(HttpClient),
    SseServer(SseServer),
    SseClient,
    HttpFilesystem,
    Filesystem {
        location: Option<String>,
    },
    /// A type or kind Sluice does not import; already reported.
    Unsupported {
        label: String,
    },
}

impl Kind {
    /// `tcp server`, `http-filesystem proxy`, ...
    pub fn label(&self) -> &str {
        match self {
            Kind::TcpServer { .. } => "tcp server",
            Kind::TcpClient { .. } => "tcp client",
            Kind::TlsServer(_) => "tls server",
            Kind::HttpServer(_) => "http server",
            Kind::HttpClient(_) => "http client",
            Kind::SseServer(_) => "sse server",
            Kind::SseClient => "sse client",
            Kind::HttpFilesystem => "http-filesystem proxy",
            Kind::Filesystem { .. } => "filesystem server",
            Kind::Unsupported { label } => label,
        }
    }
}

/// A `tls` server binding.
#[derive(Debug, Default)]
pub(super) struct TlsServer {
    pub vault: Option<Ref>,
    /// Key aliases in the vault's key store.
    pub keys: Vec<String>,
    pub sni: Vec<String>,
    pub alpn: Option<Vec<String>>,
}

/// An `http` server binding.
#[derive(Debug)]
pub(super) struct HttpServer {
    pub versions: Vec<HttpVersion>,
    pub authorization: Option<Authorization>,
    pub access_control: Option<AccessControl>,
    /// Path of `options`, for findings about the server as a whole.
    pub options_path: String,
}

/// Where an http server finds a guard's token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Authorization {
    pub guard: Ref,
    /// `name: prefix{credentials}suffix`.
    pub header: Option<String>,
    /// A query parameter name.
    pub query: Option<String>,
    /// A cookie name.
    pub cookie: Option<String>,
}

/// An http server's `access-control`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum AccessControl {
    SameOrigin,
    CrossOrigin(CrossOrigin),
}

/// `policy: cross-origin` and its settings; `None` means "any" as in Zilla.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct CrossOrigin {
    pub origins: Option<Vec<String>>,
    pub methods: Option<Vec<String>>,
    pub headers: Option<Vec<String>>,
    pub credentials: bool,
    /// Seconds.
    pub max_age: Option<u64>,
    pub expose: Option<Vec<String>>,
}

/// An `http` client binding.
#[derive(Debug)]
pub(super) struct HttpClient {
    pub versions: Vec<HttpVersion>,
    /// Request headers it sets, in order.
    pub overrides: Vec<(String, String)>,
}

/// An `sse` server binding.
#[derive(Debug, Default)]
pub(super) struct SseServer {
    /// Milliseconds.
    pub retry: Option<u64>,
    pub requests: Vec<SseRequest>,
}

/// A validated event stream of an sse server: `requests[i]`.
#[derive(Debug)]
pub(super) struct SseRequest {
    /// The request path pattern it applies to.
    pub path: String,
    pub model: Model,
}

/// A `json` model's schema reference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Model {
    pub catalog: Ref,
    pub subject: String,
    /// `None` for `latest`.
    pub version: Option<u32>,
}

/// One route of a binding.
#[derive(Debug, Default)]
pub(super) struct Route {
    pub path: String,
    /// Alternatives: the route matches when any one matches. Empty matches everything.
    pub when: Vec<Condition>,
    pub guarded: Vec<Guarded>,
    /// `with.path` of an http-filesystem route.
    pub with_path: Option<String>,
    pub exit: Option<Ref>,
}

/// One `when` alternative; which fields apply depends on the binding type.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Condition {
    pub path: String,
    /// http: header name (including `:path`, `:authority`, ...) and value pattern.
    pub headers: Vec<(String, String)>,
    /// sse and http-filesystem: the path pattern.
    pub route_path: Option<String>,
    /// tcp: the ports this alternative covers.
    pub ports: Vec<u16>,
}

impl Condition {
    /// The value pattern for header `name`, if the condition names it.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// `guarded: { guard: [roles] }` on a route.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Guarded {
    pub guard: Ref,
    pub roles: Vec<String>,
}
