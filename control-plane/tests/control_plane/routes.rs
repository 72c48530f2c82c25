//! Routes and schemas: create, read, update, delete, conflicts, stale `If-Match`, invalid
//! input (nothing written) on both backends.

use serde_json::json;

use crate::support::{ADMIN, Db, Plane, route};

crate::on_both!(
    nested_maps_keep_their_written_order,
    route_lifecycle,
    invalid_routes_write_nothing,
    schema_versions_are_immutable
);

async fn route_lifecycle(db: Db) {
    let plane = Plane::start(db.options()).await;
    plane.tenant("acme").await;
    let start = plane.revision().await;
    let routes = "/api/v1/tenants/acme/routes";

    let mut body = route("/orders/{region}");
    body["name"] = json!("orders");
    let created = plane.call("POST", routes, Some(body.clone())).await;
    assert_eq!(created.status, 201, "{:?}", created.json);
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(
        created.header("location"),
        Some("/api/v1/tenants/acme/routes/orders")
    );
    assert_eq!(created.json, route("/orders/{region}"));
    let conflict = plane.call("POST", routes, Some(body)).await;
    assert_eq!(conflict.status, 409);

    let read = plane
        .call("GET", "/api/v1/tenants/acme/routes/orders", None)
        .await;
    assert_eq!((read.status, read.header("etag")), (200, Some("\"1\"")));
    assert_eq!(read.json, route("/orders/{region}"));

    let changed = route("/orders/{region}/live");
    let path = "/api/v1/tenants/acme/routes/orders";
    let stale = plane
        .send(
            "PUT",
            path,
            Some(ADMIN),
            Some(changed.clone()),
            &[("if-match", "\"0\"")],
        )
        .await;
    assert_eq!(stale.status, 412);
    let updated = plane
        .send(
            "PUT",
            path,
            Some(ADMIN),
            Some(changed.clone()),
            &[("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(
        (updated.status, updated.header("etag")),
        (200, Some("\"2\""))
    );
    let list = plane.call("GET", routes, None).await;
    assert_eq!(
        list.json["items"][0],
        json!({ "name": "orders", "version": 2, "route": changed })
    );

    let stale_delete = plane
        .send("DELETE", path, Some(ADMIN), None, &[("if-match", "\"1\"")])
        .await;
    assert_eq!(stale_delete.status, 412);
    assert_eq!(
        plane
            .send("DELETE", path, Some(ADMIN), None, &[("if-match", "*")])
            .await
            .status,
        204
    );
    assert_eq!(plane.call("GET", path, None).await.status, 404);
    assert_eq!(plane.call("PUT", path, Some(changed)).await.status, 404);
    assert_eq!(plane.revision().await, start + 3);
    plane.stop().await;
}

async fn invalid_routes_write_nothing(db: Db) {
    let plane = Plane::start(db.options()).await;
    plane.tenant("acme").await;
    let routes = "/api/v1/tenants/acme/routes";
    let mut good = route("/a");
    good["name"] = json!("a");
    assert_eq!(plane.call("POST", routes, Some(good)).await.status, 201);
    let start = plane.revision().await;

    let with = |patch: serde_json::Value| {
        let mut body = route("/b");
        body["name"] = json!("b");
        for (key, value) in patch.as_object().unwrap() {
            body[key] = value.clone();
        }
        body
    };
    let cases = [
        (
            with(json!({ "upstream": { "url": "ftp://x/y" } })),
            "/upstream/url",
        ),
        (with(json!({ "path": "no-slash" })), "/path"),
        (with(json!({ "public": false })), ""),
        (with(json!({ "events": { "*": "missing@1" } })), "/events/*"),
        (with(json!({ "buffer": 0 })), "/buffer"),
        (with(json!({ "name": "B!" })), "/name"),
    ];
    for (body, path) in cases {
        let reply = plane.call("POST", routes, Some(body.clone())).await;
        assert_eq!(reply.status, 422, "{body}: {:?}", reply.json);
        assert!(
            reply.error_paths().iter().any(|p| p == path),
            "{body}: {:?}",
            reply.json
        );
    }
    let bad_update = json!({ "path": "/a", "public": true, "upstream": { "url": "" } });
    let reply = plane
        .call("PUT", "/api/v1/tenants/acme/routes/a", Some(bad_update))
        .await;
    assert_eq!(reply.status, 422);
    assert!(
        reply.error_paths().iter().any(|p| p == "/upstream/url"),
        "{:?}",
        reply.json
    );
    let read = plane
        .call("GET", "/api/v1/tenants/acme/routes/a", None)
        .await;
    assert_eq!(
        (read.header("etag"), &read.json),
        (Some("\"1\""), &route("/a"))
    );
    assert_eq!(
        plane
            .call("GET", "/api/v1/tenants/acme/routes/b", None)
            .await
            .status,
        404
    );
    assert_eq!(plane.revision().await, start);
    plane.stop().await;
}

async fn schema_versions_are_immutable(db: Db) {
    let plane = Plane::start(db.options()).await;
    plane.tenant("acme").await;
    let start = plane.revision().await;
    let versions = "/api/v1/tenants/acme/schemas/order/versions";

    let first = json!({ "type": "object", "required": ["id"] });
    let one = plane
        .call("POST", versions, Some(json!({ "schema": first })))
        .await;
    assert_eq!(one.status, 201, "{:?}", one.json);
    assert_eq!(one.json, json!({ "version": 1, "schema": first }));
    assert_eq!(
        one.header("location"),
        Some("/api/v1/tenants/acme/schemas/order/versions/1")
    );
    let two = plane
        .call(
            "POST",
            versions,
            Some(json!({ "schema": true, "version": 2 })),
        )
        .await;
    assert_eq!((two.status, &two.json["version"]), (201, &json!(2)));
    let taken = plane
        .call(
            "POST",
            versions,
            Some(json!({ "schema": true, "version": 2 })),
        )
        .await;
    assert_eq!(taken.status, 409);
    let invalid = plane
        .call("POST", versions, Some(json!({ "schema": 5 })))
        .await;
    assert_eq!(
        (invalid.status, invalid.error_paths()),
        (422, vec!["/schema".to_owned()])
    );
    let missing = plane.call("POST", versions, Some(json!({}))).await;
    assert_eq!(
        (missing.status, missing.error_paths()),
        (422, vec!["/schema".to_owned()])
    );
    assert_eq!(plane.revision().await, start + 2);

    let read = plane.call("GET", &format!("{versions}/1"), None).await;
    assert_eq!(
        (read.status, &read.json),
        (200, &json!({ "version": 1, "schema": first }))
    );
    assert_eq!(
        plane
            .call(
                "PUT",
                &format!("{versions}/1"),
                Some(json!({ "schema": true }))
            )
            .await
            .status,
        405
    );
    assert_eq!(
        plane
            .call("GET", &format!("{versions}/3"), None)
            .await
            .status,
        404
    );
    let list = plane.call("GET", versions, None).await;
    assert_eq!(list.json["items"].as_array().map(Vec::len), Some(2));
    let names = plane
        .call("GET", "/api/v1/tenants/acme/schemas", None)
        .await;
    assert_eq!(
        names.json["items"],
        json!([{ "name": "order", "latest": 2 }])
    );

    let mut body = route("/orders");
    body["name"] = json!("orders");
    body["events"] = json!({ "order.created": "order@1", "*": "order@latest" });
    assert_eq!(
        plane
            .call("POST", "/api/v1/tenants/acme/routes", Some(body))
            .await
            .status,
        201
    );
    let in_use = plane
        .call("DELETE", "/api/v1/tenants/acme/schemas/order", None)
        .await;
    assert_eq!(in_use.status, 422, "{:?}", in_use.json);
    let config_path = in_use.json["errors"][0]["config_path"]
        .as_str()
        .unwrap_or_default();
    assert!(
        config_path.starts_with("tenants.acme.routes.orders.events"),
        "{config_path}"
    );
    assert_eq!(
        plane
            .call("GET", &format!("{versions}/1"), None)
            .await
            .status,
        200
    );
    assert_eq!(
        plane
            .call("DELETE", "/api/v1/tenants/acme/routes/orders", None)
            .await
            .status,
        204
    );
    assert_eq!(
        plane
            .call("DELETE", "/api/v1/tenants/acme/schemas/order", None)
            .await
            .status,
        204
    );
    assert_eq!(plane.call("GET", versions, None).await.status, 404);
    assert_eq!(plane.revision().await, start + 5);
    plane.stop().await;
}

async fn nested_maps_keep_their_written_order(db: Db) {
    let plane = Plane::start(db.options()).await;
    plane.tenant("acme").await;
    let body = r#"{"name": "r", "path": "/r", "public": true,
        "upstream": {"url": "http://127.0.0.1:9/s", "headers": {"x-b": "1", "x-a": "2"}}}"#;
    let created = plane
        .send_text("POST", "/api/v1/tenants/acme/routes", body)
        .await;
    assert_eq!(created.status, 201, "{:?}", created.json);
    for path in ["/api/v1/snapshot", "/api/v1/tenants/acme/routes/r"] {
        let reply = plane.call("GET", path, None).await;
        let (b, a) = (reply.text.find("\"x-b\""), reply.text.find("\"x-a\""));
        assert!(
            b.is_some() && b < a,
            "{path} keeps header order: {}",
            reply.text
        );
    }
    plane.stop().await;
}
