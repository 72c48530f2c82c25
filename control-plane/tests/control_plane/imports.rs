//! AsyncAPI imports and exports on both backends: a dry run writes nothing, an import is one
//! revision, an export imports back to the same routes and schemas, a document that does not
//! convert is refused by document path, and tenant admins stay in their tenant.

use serde_json::{Value, json};

use crate::support::{Db, Plane, Reply};

crate::on_both!(
    an_import_is_one_revision_and_a_dry_run_none,
    an_export_imports_back_to_the_same_routes_and_schemas,
    a_kafka_channel_is_refused_by_its_document_path,
    guarded_routes_need_the_tenant_to_have_auth,
    a_missing_tenant_is_created_with_its_routes,
    tenant_admins_import_and_export_only_their_tenant,
);

/// Two SSE channels: `orders` (a token with `orders:read`, a component schema) and `prices`
/// (public, an inline payload).
const STREAMS: &str = r##"
asyncapi: 3.0.0
info: { title: Acme streams, version: 1.0.0 }
channels:
  orders:
    address: /orders/{region}
    parameters:
      region: { description: Sales region. }
    messages:
      orderCreated: { $ref: "#/components/messages/orderCreated" }
  prices:
    address: /prices
    messages:
      tick: { $ref: "#/components/messages/tick" }
operations:
  streamOrders:
    action: receive
    channel: { $ref: "#/channels/orders" }
    x-sluice-sse: true
    security: [ { $ref: "#/components/securitySchemes/ordersReader" } ]
  streamPrices:
    action: receive
    channel: { $ref: "#/channels/prices" }
    x-sluice-sse: true
components:
  messages:
    orderCreated:
      name: order.created
      payload: { $ref: "#/components/schemas/order" }
    tick:
      payload: { type: object, properties: { price: { type: number } } }
  schemas:
    order:
      type: object
      required: [id]
      properties: { id: { type: integer } }
  securitySchemes:
    ordersReader: { type: oauth2, flows: {}, scopes: ["orders:read"] }
"##;

const UPSTREAM: &str = "http://127.0.0.1:9";

fn body(tenant: &str, document: &str) -> Value {
    json!({ "format": "asyncapi", "tenant": tenant, "upstream": UPSTREAM, "document": document })
}

/// The `name` of each item of `list` in `reply`.
fn names(reply: &Reply, list: &str) -> Vec<String> {
    let items = reply.json[list].as_array().cloned().unwrap_or_default();
    items
        .iter()
        .map(|item| item["name"].as_str().unwrap_or("?").to_owned())
        .collect()
}

/// Tenant `name` reached by `/t/{name}`, with an Ed25519 key and `auth`.
async fn tenant_with_auth(plane: &Plane, name: &str) {
    plane.tenant(name).await;
    let jwk = json!({
        "kid": "k1", "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA",
        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    });
    let keys = format!("/api/v1/tenants/{name}/keys");
    assert_eq!(plane.call("POST", &keys, Some(jwk)).await.status, 201);
    let auth = json!({ "issuer": "https://issuer.example", "audiences": ["https://api.example"] });
    let settings = json!({ "path_prefix": format!("/t/{name}"), "auth": auth });
    let path = format!("/api/v1/tenants/{name}");
    let reply = plane.call("PUT", &path, Some(settings)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.json);
}

async fn an_import_is_one_revision_and_a_dry_run_none(db: Db) {
    let plane = Plane::start(db.options()).await;
    tenant_with_auth(&plane, "acme").await;
    let start = plane.revision().await;

    let dry = plane
        .call(
            "POST",
            "/api/v1/import?dry_run=true",
            Some(body("acme", STREAMS)),
        )
        .await;
    assert_eq!(dry.status, 200, "{:?}", dry.json);
    assert_eq!(dry.json["dry_run"], true);
    assert_eq!(dry.json.get("revision"), None);
    assert_eq!(names(&dry, "routes"), ["orders", "prices"]);
    assert_eq!(names(&dry, "schemas"), ["order", "tick"]);
    let creates = json!([
        { "kind": "schema_version", "name": "order", "version": 1 },
        { "kind": "schema_version", "name": "tick", "version": 1 },
        { "kind": "route", "name": "orders" },
        { "kind": "route", "name": "prices" },
    ]);
    assert_eq!(dry.json["creates"], creates);
    assert_eq!(dry.json["updates"], json!([]));
    assert_eq!(dry.json["errors"], json!([]));
    assert_eq!(plane.revision().await, start, "a dry run writes nothing");
    let routes = plane.call("GET", "/api/v1/tenants/acme/routes", None).await;
    assert_eq!(routes.json["items"], json!([]));

    let done = plane
        .call(
            "POST",
            "/api/v1/import?dry_run=false",
            Some(body("acme", STREAMS)),
        )
        .await;
    assert_eq!(done.status, 200, "{:?}", done.json);
    assert_eq!(done.json["creates"], creates);
    assert_eq!(done.json["revision"], start + 1);
    assert_eq!(
        plane.revision().await,
        start + 1,
        "one revision for the whole import"
    );

    let snapshot = plane.call("GET", "/api/v1/snapshot", None).await;
    let acme = &snapshot.json["config"]["tenants"]["acme"];
    let orders = &acme["routes"]["orders"];
    assert_eq!(orders["path"], "/orders/{region}");
    assert_eq!(orders["scopes"], json!(["orders:read"]));
    assert_eq!(
        orders["upstream"]["url"],
        "http://127.0.0.1:9/orders/{region}"
    );
    assert_eq!(orders["events"], json!({ "order.created": "order@1" }));
    assert_eq!(acme["routes"]["prices"]["public"], true);
    assert_eq!(
        acme["routes"]["prices"]["events"],
        json!({ "tick": "tick@1" })
    );
    let order = json!({
        "type": "object", "required": ["id"], "properties": { "id": { "type": "integer" } },
    });
    assert_eq!(
        acme["schemas"]["order"],
        json!([{ "version": 1, "schema": order }])
    );
    assert_eq!(acme["schemas"]["tick"][0]["version"], 1);
    assert_eq!(
        acme["auth"]["issuer"], "https://issuer.example",
        "auth is kept"
    );
    assert_eq!(acme["auth"]["keys"][0]["kid"], "k1", "keys are kept");

    let again = plane
        .call("POST", "/api/v1/import", Some(body("acme", STREAMS)))
        .await;
    assert_eq!(again.status, 200, "{:?}", again.json);
    assert_eq!(
        (&again.json["creates"], &again.json["updates"]),
        (&json!([]), &json!([]))
    );
    assert_eq!(again.json["revision"], start + 1);
    assert_eq!(
        plane.revision().await,
        start + 1,
        "an import that changes nothing is no revision"
    );

    let changed = STREAMS.replace(
        "payload: { type: object, properties: { price: { type: number } } }",
        "payload: { type: object, required: [price], properties: { price: { type: number } } }",
    );
    let bumped = plane
        .call("POST", "/api/v1/import", Some(body("acme", &changed)))
        .await;
    assert_eq!(bumped.status, 200, "{:?}", bumped.json);
    let new_version = json!([{ "kind": "schema_version", "name": "tick", "version": 2 }]);
    assert_eq!(bumped.json["creates"], new_version);
    assert_eq!(
        bumped.json["updates"],
        json!([{ "kind": "route", "name": "prices" }])
    );
    let snapshot = plane.call("GET", "/api/v1/snapshot", None).await;
    let acme = &snapshot.json["config"]["tenants"]["acme"];
    assert_eq!(
        acme["routes"]["prices"]["events"],
        json!({ "tick": "tick@2" })
    );
    assert_eq!(
        acme["schemas"]["tick"].as_array().unwrap().len(),
        2,
        "versions are kept"
    );
    assert_eq!(plane.revision().await, start + 2);
    plane.stop().await;
}

async fn an_export_imports_back_to_the_same_routes_and_schemas(db: Db) {
    let plane = Plane::start(db.options()).await;
    tenant_with_auth(&plane, "acme").await;
    let imported = plane
        .call("POST", "/api/v1/import", Some(body("acme", STREAMS)))
        .await;
    assert_eq!(imported.status, 200, "{:?}", imported.json);
    let revision = plane.revision().await;

    let exported = plane
        .call("GET", "/api/v1/tenants/acme/asyncapi", None)
        .await;
    assert_eq!(exported.status, 200, "{:?}", exported.json);
    assert_eq!(exported.json["asyncapi"], "3.0.0");
    let channels = exported.json["channels"].as_object().unwrap();
    assert_eq!(channels.len(), 2);

    let document = exported.json.to_string();
    let again = plane
        .call(
            "POST",
            "/api/v1/import?dry_run=true",
            Some(body("fresh", &document)),
        )
        .await;
    assert_eq!(again.status, 200, "{:?}", again.json);
    assert_eq!(again.json["routes"], imported.json["routes"]);
    assert_eq!(again.json["schemas"], imported.json["schemas"]);
    assert_eq!(
        again.json["creates"][0],
        json!({ "kind": "tenant", "name": "fresh" })
    );
    // A fresh tenant has no `auth` for the guarded route: a real import would be refused.
    let refused: Vec<&str> = again.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["config_path"].as_str())
        .collect();
    assert!(
        refused.contains(&"tenants.fresh.routes.orders"),
        "{refused:?}"
    );
    assert_eq!(plane.revision().await, revision);
    assert_eq!(
        plane
            .call("GET", "/api/v1/tenants/fresh", None)
            .await
            .status,
        404
    );

    let based = plane
        .call(
            "GET",
            "/api/v1/tenants/acme/asyncapi?servers_base=https://sse.example.com:8443",
            None,
        )
        .await;
    let server = &based.json["servers"]["path_prefix"];
    assert_eq!(
        (server["host"].as_str(), server["pathname"].as_str()),
        (Some("sse.example.com:8443"), Some("/t/acme"))
    );
    let bad_base = plane
        .call(
            "GET",
            "/api/v1/tenants/acme/asyncapi?servers_base=ftp://x",
            None,
        )
        .await;
    assert_eq!(bad_base.status, 400);
    let missing = plane
        .call("GET", "/api/v1/tenants/nope/asyncapi", None)
        .await;
    assert_eq!(missing.status, 404);
    plane.stop().await;
}

async fn a_kafka_channel_is_refused_by_its_document_path(db: Db) {
    let plane = Plane::start(db.options()).await;
    tenant_with_auth(&plane, "acme").await;
    let start = plane.revision().await;
    let kafka = STREAMS.replace(
        "    address: /prices\n",
        "    address: /prices\n    bindings: { kafka: { topic: prices } }\n",
    );
    for query in ["?dry_run=true", ""] {
        let reply = plane
            .call(
                "POST",
                &format!("/api/v1/import{query}"),
                Some(body("acme", &kafka)),
            )
            .await;
        assert_eq!(reply.status, 422, "{:?}", reply.json);
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json")
        );
        assert_eq!(reply.error_paths(), ["channels.prices.bindings.kafka"]);
        assert_eq!(
            reply.json["detail"],
            "the document cannot be imported; nothing was written"
        );
    }
    let unreadable = plane
        .call(
            "POST",
            "/api/v1/import",
            Some(body("acme", "asyncapi: 3.0.0\nchannels: [\n")),
        )
        .await;
    assert_eq!(unreadable.status, 422);
    assert!(
        unreadable.json["errors"][0]["line"].is_u64(),
        "{:?}",
        unreadable.json
    );
    let bad_upstream = plane
        .call(
            "POST",
            "/api/v1/import",
            Some(json!({
                "format": "asyncapi", "tenant": "acme", "upstream": "ftp://x", "document": STREAMS,
            })),
        )
        .await;
    assert_eq!(
        (bad_upstream.status, bad_upstream.error_paths()),
        (422, vec!["/upstream".to_owned()])
    );
    let zilla =
        json!({ "format": "zilla", "tenant": "acme", "upstream": UPSTREAM, "document": "" });
    let reply = plane.call("POST", "/api/v1/import", Some(zilla)).await;
    assert_eq!(
        (reply.status, reply.error_paths()),
        (422, vec!["/format".to_owned()])
    );
    let reply = plane
        .call(
            "POST",
            "/api/v1/import?dry_run=maybe",
            Some(body("acme", STREAMS)),
        )
        .await;
    assert_eq!(reply.status, 400);
    assert_eq!(plane.revision().await, start);
    plane.stop().await;
}

async fn guarded_routes_need_the_tenant_to_have_auth(db: Db) {
    let plane = Plane::start(db.options()).await;
    plane.tenant("acme").await;
    let start = plane.revision().await;
    let reply = plane
        .call("POST", "/api/v1/import", Some(body("acme", STREAMS)))
        .await;
    assert_eq!(reply.status, 422, "{:?}", reply.json);
    let named: Vec<&str> = reply.json["errors"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["config_path"].as_str())
        .collect();
    assert_eq!(named, ["tenants.acme.routes.orders"]);
    assert_eq!(plane.revision().await, start);
    let routes = plane.call("GET", "/api/v1/tenants/acme/routes", None).await;
    assert_eq!(routes.json["items"], json!([]), "nothing is half-imported");
    let schemas = plane
        .call("GET", "/api/v1/tenants/acme/schemas", None)
        .await;
    assert_eq!(schemas.json["items"], json!([]));
    plane.stop().await;
}

async fn a_missing_tenant_is_created_with_its_routes(db: Db) {
    let plane = Plane::start(db.options()).await;
    let start = plane.revision().await;
    let public = STREAMS
        .replace(
            "    security: [ { $ref: \"#/components/securitySchemes/ordersReader\" } ]\n",
            "",
        )
        .replace(
            "info:",
            "servers:\n  production: { host: news.example.com, protocol: https }\ninfo:",
        );
    let reply = plane
        .call("POST", "/api/v1/import", Some(body("news", &public)))
        .await;
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    assert_eq!(
        reply.json["creates"][0],
        json!({ "kind": "tenant", "name": "news" })
    );
    assert_eq!(plane.revision().await, start + 1);
    let tenant = plane.call("GET", "/api/v1/tenants/news", None).await;
    assert_eq!(tenant.json["hosts"], json!(["news.example.com"]));
    assert_eq!(tenant.json.get("auth"), None);
    let routes = plane.call("GET", "/api/v1/tenants/news/routes", None).await;
    assert_eq!(routes.json["items"].as_array().unwrap().len(), 2);
    plane.stop().await;
}

async fn tenant_admins_import_and_export_only_their_tenant(db: Db) {
    let plane = Plane::start(db.options()).await;
    tenant_with_auth(&plane, "acme").await;
    plane.tenant("beta").await;
    let beta = plane.token("beta-admin", "admin", Some("beta")).await;
    let acme = plane.token("acme-admin", "admin", Some("acme")).await;
    let start = plane.revision().await;

    let send = |token: &str, method: &str, path: &str, body: Option<Value>| {
        let token = token.to_owned();
        let (method, path) = (method.to_owned(), path.to_owned());
        let plane = &plane;
        async move { plane.send(&method, &path, Some(&token), body, &[]).await }
    };
    let into_acme = send(&beta, "POST", "/api/v1/import", Some(body("acme", STREAMS))).await;
    assert_eq!(into_acme.status, 403, "{:?}", into_acme.json);
    let new_tenant = send(
        &beta,
        "POST",
        "/api/v1/import?dry_run=true",
        Some(body("gamma", STREAMS)),
    )
    .await;
    assert_eq!(new_tenant.status, 403);
    let export = send(&beta, "GET", "/api/v1/tenants/acme/asyncapi", None).await;
    assert_eq!(export.status, 403);
    let own = send(&beta, "GET", "/api/v1/tenants/beta/asyncapi", None).await;
    assert_eq!(
        (own.status, own.json["asyncapi"].as_str()),
        (200, Some("3.0.0"))
    );
    assert_eq!(plane.revision().await, start);

    let by_owner = send(&acme, "POST", "/api/v1/import", Some(body("acme", STREAMS))).await;
    assert_eq!(by_owner.status, 200, "{:?}", by_owner.json);
    assert_eq!(plane.revision().await, start + 1);
    let no_token = plane
        .send(
            "POST",
            "/api/v1/import",
            None,
            Some(body("acme", STREAMS)),
            &[],
        )
        .await;
    assert_eq!(no_token.status, 401);
    plane.stop().await;
}
