//! Test documents shared by the import, export and round-trip tests: one API written as
//! AsyncAPI 3.0 and as 2.6, and the tenant both import to.

use serde_json::json;

use super::{ImportOptions, Imported};
use crate::config::{Auth, Credentials, OrderedMap, Route, SchemaVersion, Tenant};

/// Two SSE channels: orders (guarded, a path param, two messages, one payload referring to
/// a component schema that refers to another) and prices (public, a multi-format payload).
pub(super) const ACME_3_0: &str = r##"
asyncapi: 3.0.0
info: { title: Acme streams, version: 1.0.0 }
servers:
  production: { host: "acme.example.com:443", protocol: https }
defaultContentType: application/json
channels:
  orders:
    address: /orders/{region}
    parameters:
      region: { description: Sales region. }
    messages:
      orderCreated: { $ref: "#/components/messages/orderCreated" }
      orderShipped: { $ref: "#/components/messages/orderShipped" }
  prices:
    address: /prices
    messages:
      tick: { $ref: "#/components/messages/tick" }
operations:
  streamOrders:
    action: receive
    channel: { $ref: "#/channels/orders" }
    bindings: { x-zilla-sse: {} }
    security:
      - $ref: "#/components/securitySchemes/ordersReader"
      - $ref: "#/components/securitySchemes/queryToken"
  streamPrices:
    action: receive
    channel: { $ref: "#/channels/prices" }
    messages: [ { $ref: "#/channels/prices/messages/tick" } ]
    bindings: { http: { method: GET } }
components:
  messages:
    orderCreated:
      name: order.created
      payload: { $ref: "#/components/schemas/order" }
    orderShipped:
      name: order.shipped
      payload:
        type: object
        required: [id, carrier]
        properties: { id: { type: integer }, carrier: { type: string } }
    tick:
      contentType: application/json
      payload:
        schemaFormat: application/schema+json;version=draft-07
        schema:
          type: object
          properties: { symbol: { type: string }, price: { type: number } }
  schemas:
    order:
      type: object
      required: [id]
      properties:
        id: { type: integer }
        address: { $ref: "#/components/schemas/address" }
    address:
      type: object
      properties: { city: { type: string } }
  securitySchemes:
    ordersReader: { type: oauth2, flows: {}, scopes: ["orders:read"] }
    queryToken: { type: httpApiKey, in: query, name: access_token }
"##;

/// The same API as AsyncAPI 2.6.
pub(super) const ACME_2_6: &str = r##"
asyncapi: 2.6.0
info: { title: Acme streams, version: 1.0.0 }
servers:
  production: { url: "https://acme.example.com", protocol: https }
defaultContentType: application/json
channels:
  /orders/{region}:
    parameters:
      region: { description: Sales region., schema: { type: string } }
    subscribe:
      operationId: orders
      bindings: { x-zilla-sse: {} }
      security:
        - ordersReader: ["orders:read"]
        - queryToken: []
      message:
        oneOf:
          - $ref: "#/components/messages/orderCreated"
          - $ref: "#/components/messages/orderShipped"
  /prices:
    subscribe:
      operationId: prices
      bindings: { http: { type: request, method: GET } }
      message: { $ref: "#/components/messages/tick" }
components:
  messages:
    orderCreated:
      name: order.created
      payload: { $ref: "#/components/schemas/order" }
    orderShipped:
      name: order.shipped
      payload:
        type: object
        required: [id, carrier]
        properties: { id: { type: integer }, carrier: { type: string } }
    tick:
      contentType: application/json
      schemaFormat: application/schema+json;version=draft-07
      payload:
        type: object
        properties: { symbol: { type: string }, price: { type: number } }
  schemas:
    order:
      type: object
      required: [id]
      properties:
        id: { type: integer }
        address: { $ref: "#/components/schemas/address" }
    address:
      type: object
      properties: { city: { type: string } }
  securitySchemes:
    ordersReader:
      type: oauth2
      flows:
        implicit:
          authorizationUrl: https://auth.example.com/authorize
          scopes: { "orders:read": Read orders. }
    queryToken: { type: httpApiKey, in: query, name: access_token }
"##;

/// The options every fixture is imported with.
pub(super) const OPTIONS: ImportOptions<'static> = ImportOptions {
    tenant: "acme",
    upstream: "http://127.0.0.1:8001/",
};

/// What both documents import to.
pub(super) fn acme() -> Imported {
    let warning = "tenants.acme.auth: add `issuer`, `audiences`, and `keys` or a `jwks_url`: \
                   AsyncAPI does not carry them, and the tenant cannot check tokens without them";
    Imported {
        tenant: acme_tenant(),
        warnings: vec![warning.to_owned()],
    }
}

fn acme_tenant() -> Tenant {
    let auth: Auth = serde_json::from_value(json!({
        "issuer": "",
        "credentials": { "header": "authorization: Bearer {credentials}", "query": "access_token" }
    }))
    .expect("valid auth");
    let credentials = Credentials {
        header: Some("authorization: Bearer {credentials}".to_owned()),
        query: Some("access_token".to_owned()),
        cookie: None,
    };
    assert_eq!(auth.credentials, credentials);
    Tenant {
        hosts: vec!["acme.example.com".to_owned()],
        path_prefix: None,
        tls: None,
        auth: Some(auth),
        cors: None,
        limits: None,
        schemas: acme_schemas(),
        routes: acme_routes(),
    }
}

fn acme_schemas() -> OrderedMap<Vec<SchemaVersion>> {
    let order = json!({
        "type": "object",
        "required": ["id"],
        "properties": { "id": { "type": "integer" }, "address": { "$ref": "#/$defs/address" } },
        "$defs": { "address": { "type": "object", "properties": { "city": { "type": "string" } } } }
    });
    let shipped = json!({
        "type": "object",
        "required": ["id", "carrier"],
        "properties": { "id": { "type": "integer" }, "carrier": { "type": "string" } }
    });
    let tick = json!({
        "type": "object",
        "properties": { "symbol": { "type": "string" }, "price": { "type": "number" } }
    });
    let v1 = |schema| vec![SchemaVersion { version: 1, schema }];
    [
        ("order", v1(order)),
        ("orderShipped", v1(shipped)),
        ("tick", v1(tick)),
    ]
    .into_iter()
    .collect()
}

fn acme_routes() -> OrderedMap<Route> {
    let orders: Route = serde_json::from_value(json!({
        "path": "/orders/{region}",
        "scopes": ["orders:read"],
        "upstream": { "url": "http://127.0.0.1:8001/orders/{region}" },
        "events": { "order.created": "order@1", "order.shipped": "orderShipped@1" }
    }))
    .expect("valid route");
    let prices: Route = serde_json::from_value(json!({
        "path": "/prices",
        "public": true,
        "upstream": { "url": "http://127.0.0.1:8001/prices" },
        "events": { "tick": "tick@1" }
    }))
    .expect("valid route");
    [("orders", orders), ("prices", prices)]
        .into_iter()
        .collect()
}
