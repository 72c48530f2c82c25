//! The table of every route: method, path, handler and what the OpenAPI document says of it.

use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodFilter, MethodRouter, on};

use super::{
    AppState, Endpoint, QueryParam, asyncapi, fleet, hosts, imports, keys, openapi, ops, routes,
    schemas, tenants, tokens,
};

/// An endpoint and the method router that serves it.
type Op = (Endpoint, MethodRouter<AppState>);

/// Every route the router serves.
pub fn endpoints() -> Vec<Op> {
    vec![
        get("/healthz", ops::healthz)
            .doc("healthz", "The process is up.")
            .public(),
        get("/readyz", ops::readyz)
            .doc("readyz", "The database answers.")
            .public(),
        get("/metrics", ops::metrics)
            .doc(
                "metrics",
                "Prometheus metrics: the revision, per node applied revision and drift.",
            )
            .public(),
        get("/api/v1/openapi.json", openapi::serve)
            .doc("openapi", "This document.")
            .public(),
        // Tenants.
        get("/api/v1/tenants", tenants::list)
            .doc("listTenants", "The tenants the caller may see.")
            .returns("TenantPage")
            .paged(),
        post("/api/v1/tenants", tenants::create)
            .doc("createTenant", "Create a tenant (global admins).")
            .takes("NewTenant")
            .returns("Tenant"),
        get("/api/v1/tenants/{tenant}", tenants::read)
            .doc("readTenant", "A tenant's settings and hosts.")
            .returns("Tenant"),
        put("/api/v1/tenants/{tenant}", tenants::update)
            .doc("updateTenant", "Replace a tenant's settings and hosts.")
            .takes("Tenant")
            .returns("Tenant")
            .conditional(),
        delete("/api/v1/tenants/{tenant}", tenants::delete)
            .doc(
                "deleteTenant",
                "Delete a tenant and all it holds (global admins).",
            )
            .conditional(),
        // Hosts.
        get("/api/v1/tenants/{tenant}/hosts", hosts::list)
            .doc("listHosts", "A tenant's hosts.")
            .returns("HostPage")
            .paged(),
        post("/api/v1/tenants/{tenant}/hosts", hosts::create)
            .doc("addHost", "Add a host to a tenant.")
            .takes("Host")
            .returns("Host"),
        get("/api/v1/tenants/{tenant}/hosts/{host}", hosts::read)
            .doc("readHost", "One host of a tenant.")
            .returns("Host"),
        delete("/api/v1/tenants/{tenant}/hosts/{host}", hosts::delete)
            .doc("removeHost", "Remove a host from a tenant."),
        // Keys.
        get("/api/v1/tenants/{tenant}/keys", keys::list)
            .doc("listKeys", "A tenant's signing keys.")
            .returns("JwkPage")
            .paged(),
        post("/api/v1/tenants/{tenant}/keys", keys::create)
            .doc("addKey", "Add a signing key: a public JWK with a `kid`.")
            .takes("Jwk")
            .returns("Jwk"),
        get("/api/v1/tenants/{tenant}/keys/{kid}", keys::read)
            .doc("readKey", "One signing key.")
            .returns("Jwk"),
        put("/api/v1/tenants/{tenant}/keys/{kid}", keys::update)
            .doc("updateKey", "Replace a signing key.")
            .takes("Jwk")
            .returns("Jwk")
            .conditional(),
        delete("/api/v1/tenants/{tenant}/keys/{kid}", keys::delete)
            .doc("removeKey", "Remove a signing key.")
            .conditional(),
        // Schemas.
        get("/api/v1/tenants/{tenant}/schemas", schemas::list)
            .doc(
                "listSchemas",
                "A tenant's schema names and latest versions.",
            )
            .returns("SchemaPage")
            .paged(),
        delete("/api/v1/tenants/{tenant}/schemas/{name}", schemas::delete)
            .doc("deleteSchema", "Delete a schema with all its versions."),
        get(
            "/api/v1/tenants/{tenant}/schemas/{name}/versions",
            schemas::list_versions,
        )
        .doc("listSchemaVersions", "The versions of a schema.")
        .returns("SchemaVersionPage")
        .paged(),
        post(
            "/api/v1/tenants/{tenant}/schemas/{name}/versions",
            schemas::create_version,
        )
        .doc("addSchemaVersion", "Add the next version of a schema.")
        .takes("NewSchemaVersion")
        .returns("SchemaVersion"),
        get(
            "/api/v1/tenants/{tenant}/schemas/{name}/versions/{version}",
            schemas::read_version,
        )
        .doc("readSchemaVersion", "One version of a schema.")
        .returns("SchemaVersion"),
        // Routes.
        get("/api/v1/tenants/{tenant}/routes", routes::list)
            .doc("listRoutes", "A tenant's routes.")
            .returns("RoutePage")
            .paged(),
        post("/api/v1/tenants/{tenant}/routes", routes::create)
            .doc("createRoute", "Create a route.")
            .takes("NewRoute")
            .returns("Route"),
        get("/api/v1/tenants/{tenant}/routes/{route}", routes::read)
            .doc("readRoute", "One route.")
            .returns("Route"),
        put("/api/v1/tenants/{tenant}/routes/{route}", routes::update)
            .doc("updateRoute", "Replace a route.")
            .takes("Route")
            .returns("Route")
            .conditional(),
        delete("/api/v1/tenants/{tenant}/routes/{route}", routes::delete)
            .doc("deleteRoute", "Delete a route.")
            .conditional(),
        // Tokens.
        get("/api/v1/tokens", tokens::list)
            .doc("listTokens", "Tokens, without their secrets.")
            .returns("TokenPage")
            .paged(),
        post("/api/v1/tokens", tokens::create)
            .doc("createToken", "Create a token; the answer shows it, once.")
            .takes("NewToken")
            .returns("Token"),
        get("/api/v1/tokens/{name}", tokens::read)
            .doc("readToken", "One token, without its secret.")
            .returns("Token"),
        delete("/api/v1/tokens/{name}", tokens::delete).doc("deleteToken", "Revoke a token."),
        // The fleet, the log and the snapshot.
        get("/api/v1/nodes", fleet::list_nodes)
            .doc(
                "listNodes",
                "The fleet: applied revision, last nack and drift per node.",
            )
            .returns("NodePage")
            .paged(),
        get("/api/v1/nodes/{id}", fleet::read_node)
            .doc("readNode", "One node.")
            .returns("Node"),
        get("/api/v1/revisions", fleet::list_revisions)
            .doc("listRevisions", "The revision log, newest first.")
            .returns("RevisionPage")
            .paged(),
        get("/api/v1/snapshot", fleet::snapshot)
            .doc("readSnapshot", "The snapshot in force and its revision.")
            .returns("Snapshot"),
        // Imports and exports.
        post("/api/v1/import", imports::import)
            .doc(
                "importDocument",
                "Import an AsyncAPI document as a tenant's routes and schemas, in one revision \
                 or not at all; the tenant is created when missing (global admins), its auth \
                 and keys are kept. Conversion errors name document paths.",
            )
            .takes("Import")
            .returns("ImportOutcome")
            .answers(200)
            .query(&[DRY_RUN]),
        get("/api/v1/tenants/{tenant}/asyncapi", asyncapi::export)
            .doc(
                "exportAsyncApi",
                "A tenant's streaming routes and their schemas as an AsyncAPI 3.0 document, \
                 from the snapshot in force.",
            )
            .returns("AsyncApiDocument")
            .query(&[SERVERS_BASE]),
    ]
}

const DRY_RUN: QueryParam = QueryParam {
    name: "dry_run",
    kind: "boolean",
    description: "`true`: answer what would change and why it would be refused; write nothing",
};

const SERVERS_BASE: QueryParam = QueryParam {
    name: "servers_base",
    kind: "string",
    description: "The URL clients reach nodes at (`https://sse.example.com:8443`): the \
                  servers' scheme and port, and the server of a tenant reached by path prefix",
};

fn get<H: Handler<X, AppState>, X: 'static>(path: &'static str, handler: H) -> Op {
    op(Method::GET, MethodFilter::GET, 200, path, handler)
}

fn post<H: Handler<X, AppState>, X: 'static>(path: &'static str, handler: H) -> Op {
    op(Method::POST, MethodFilter::POST, 201, path, handler)
}

fn put<H: Handler<X, AppState>, X: 'static>(path: &'static str, handler: H) -> Op {
    op(Method::PUT, MethodFilter::PUT, 200, path, handler)
}

fn delete<H: Handler<X, AppState>, X: 'static>(path: &'static str, handler: H) -> Op {
    op(Method::DELETE, MethodFilter::DELETE, 204, path, handler)
}

fn op<H, X>(method: Method, filter: MethodFilter, status: u16, path: &'static str, handler: H) -> Op
where
    H: Handler<X, AppState>,
    X: 'static,
{
    let endpoint = Endpoint {
        method,
        path,
        id: "",
        summary: "",
        body: None,
        status,
        response: None,
        paged: false,
        conditional: false,
        query: &[],
        admin: true,
    };
    (endpoint, on(filter, handler))
}

/// Fills in an endpoint's description.
trait Describe {
    fn doc(self, id: &'static str, summary: &'static str) -> Self;
    fn takes(self, schema: &'static str) -> Self;
    fn returns(self, schema: &'static str) -> Self;
    fn paged(self) -> Self;
    fn conditional(self) -> Self;
    fn public(self) -> Self;
    fn answers(self, status: u16) -> Self;
    fn query(self, parameters: &'static [QueryParam]) -> Self;
}

impl Describe for Op {
    fn doc(mut self, id: &'static str, summary: &'static str) -> Self {
        (self.0.id, self.0.summary) = (id, summary);
        self
    }
    fn takes(mut self, schema: &'static str) -> Self {
        self.0.body = Some(schema);
        self
    }
    fn returns(mut self, schema: &'static str) -> Self {
        self.0.response = Some(schema);
        self
    }
    fn paged(mut self) -> Self {
        self.0.paged = true;
        self
    }
    fn conditional(mut self) -> Self {
        self.0.conditional = true;
        self
    }
    fn public(mut self) -> Self {
        self.0.admin = false;
        self
    }
    fn answers(mut self, status: u16) -> Self {
        self.0.status = status;
        self
    }
    fn query(mut self, parameters: &'static [QueryParam]) -> Self {
        self.0.query = parameters;
        self
    }
}
