//! Tenants and hosts: create, read, update, delete, conflicts, stale `If-Match`, invalid
//! input (nothing written) on both backends.

use serde_json::json;

use crate::support::{Db, Plane};

crate::on_both!(
    tenant_lifecycle,
    invalid_tenants_write_nothing,
    hosts_lifecycle
);

async fn tenant_lifecycle(db: Db) {
    let plane = Plane::start(db.options()).await;
    let start = plane.revision().await;

    let body =
        json!({ "name": "acme", "hosts": ["acme.localhost"], "limits": { "max_streams": 10 } });
    let created = plane.call("POST", "/api/v1/tenants", Some(body)).await;
    assert_eq!(created.status, 201, "{:?}", created.json);
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(created.header("location"), Some("/api/v1/tenants/acme"));
    let expected = json!({ "hosts": ["acme.localhost"], "limits": { "max_streams": 10 } });
    assert_eq!(created.json, expected);
    assert_eq!(plane.revision().await, start + 1);

    let read = plane.call("GET", "/api/v1/tenants/acme", None).await;
    assert_eq!((read.status, read.header("etag")), (200, Some("\"1\"")));
    assert_eq!(read.json, expected);

    let again = json!({ "name": "acme", "path_prefix": "/t/acme" });
    let conflict = plane.call("POST", "/api/v1/tenants", Some(again)).await;
    assert_eq!(conflict.status, 409);
    assert_eq!(
        conflict.header("content-type"),
        Some("application/problem+json")
    );
    assert_eq!(plane.revision().await, start + 1);

    let update = json!({
        "hosts": ["acme.localhost", "*.acme.example"],
        "cors": { "origins": ["https://app.acme.example"] },
    });
    let stale = [("if-match", "\"7\"")];
    let refused = plane
        .send(
            "PUT",
            "/api/v1/tenants/acme",
            Some(crate::support::ADMIN),
            Some(update.clone()),
            &stale,
        )
        .await;
    assert_eq!(refused.status, 412);
    assert_eq!(plane.revision().await, start + 1);
    let fresh = [("if-match", "\"1\"")];
    let updated = plane
        .send(
            "PUT",
            "/api/v1/tenants/acme",
            Some(crate::support::ADMIN),
            Some(update.clone()),
            &fresh,
        )
        .await;
    assert_eq!(
        (updated.status, updated.header("etag")),
        (200, Some("\"2\""))
    );
    assert_eq!(updated.json, update);
    assert_eq!(plane.revision().await, start + 2);

    let list = plane.call("GET", "/api/v1/tenants", None).await;
    assert_eq!(list.json["items"][0]["name"], "acme");
    assert_eq!(list.json["items"][0]["version"], 2);
    assert_eq!(list.json["items"][0]["tenant"], update);

    let gone_stale = plane
        .send(
            "DELETE",
            "/api/v1/tenants/acme",
            Some(crate::support::ADMIN),
            None,
            &fresh,
        )
        .await;
    assert_eq!(gone_stale.status, 412);
    let deleted = plane.call("DELETE", "/api/v1/tenants/acme", None).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(
        plane.call("GET", "/api/v1/tenants/acme", None).await.status,
        404
    );
    assert_eq!(
        plane
            .call("DELETE", "/api/v1/tenants/acme", None)
            .await
            .status,
        404
    );
    assert_eq!(plane.revision().await, start + 3);
    plane.stop().await;
}

async fn invalid_tenants_write_nothing(db: Db) {
    let plane = Plane::start(db.options()).await;
    plane.tenant("beta").await;
    let start = plane.revision().await;
    let cases = [
        (
            json!({ "name": "acme", "path_prefix": "/t/acme", "limits": { "max_streams": 0 } }),
            "/limits/max_streams",
        ),
        (
            json!({ "name": "acme", "path_prefix": "t/acme" }),
            "/path_prefix",
        ),
        (
            json!({ "name": "acme", "hosts": ["a.example", "A.example."] }),
            "/hosts/1",
        ),
        (
            json!({ "name": "acme", "path_prefix": "/t/beta" }),
            "/path_prefix",
        ),
        (json!({ "name": "acme" }), ""),
        (json!({ "name": "Acme", "path_prefix": "/t/acme" }), "/name"),
        (json!({ "path_prefix": "/t/acme" }), "/name"),
        (
            json!({ "name": "acme", "path_prefix": "/t/acme", "routes": {} }),
            "/routes",
        ),
        (json!({ "name": "acme", "hosts": "a.example" }), "/hosts"),
        (
            json!({ "name": "acme", "path_prefix": "/t/acme", "colour": "red" }),
            "/colour",
        ),
    ];
    for (body, path) in cases {
        let reply = plane
            .call("POST", "/api/v1/tenants", Some(body.clone()))
            .await;
        assert_eq!(reply.status, 422, "{body}: {:?}", reply.json);
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json")
        );
        assert!(
            reply.error_paths().iter().any(|p| p == path),
            "{body}: {:?}",
            reply.json
        );
    }
    let malformed = plane
        .send(
            "POST",
            "/api/v1/tenants",
            Some(crate::support::ADMIN),
            None,
            &[],
        )
        .await;
    assert_eq!(malformed.status, 400);
    assert_eq!(
        plane.call("GET", "/api/v1/tenants/acme", None).await.status,
        404
    );
    assert_eq!(plane.revision().await, start);
    let list = plane.call("GET", "/api/v1/tenants", None).await;
    assert_eq!(list.json["items"].as_array().map(Vec::len), Some(1));

    let bad_update = json!({ "path_prefix": "/t/beta", "limits": { "max_streams": 0 } });
    let reply = plane
        .call("PUT", "/api/v1/tenants/beta", Some(bad_update))
        .await;
    assert_eq!(reply.status, 422);
    assert_eq!(reply.error_paths(), vec!["/limits/max_streams"]);
    let read = plane.call("GET", "/api/v1/tenants/beta", None).await;
    assert_eq!(read.header("etag"), Some("\"1\""));
    assert_eq!(read.json, json!({ "hosts": [], "path_prefix": "/t/beta" }));
    assert_eq!(plane.revision().await, start);
    plane.stop().await;
}

async fn hosts_lifecycle(db: Db) {
    let plane = Plane::start(db.options()).await;
    plane.tenant("acme").await;
    plane.tenant("beta").await;
    let start = plane.revision().await;
    let hosts = "/api/v1/tenants/acme/hosts";

    let added = plane
        .call("POST", hosts, Some(json!({ "host": "acme.localhost" })))
        .await;
    assert_eq!(added.status, 201, "{:?}", added.json);
    assert_eq!(
        added.header("location"),
        Some("/api/v1/tenants/acme/hosts/acme.localhost")
    );
    let read = plane
        .call("GET", "/api/v1/tenants/acme/hosts/acme.localhost", None)
        .await;
    assert_eq!(
        (read.status, &read.json),
        (200, &json!({ "host": "acme.localhost" }))
    );
    let tenant = plane.call("GET", "/api/v1/tenants/acme", None).await;
    assert_eq!(tenant.json["hosts"], json!(["acme.localhost"]));
    assert_eq!(tenant.header("etag"), Some("\"2\""));
    let list = plane.call("GET", hosts, None).await;
    assert_eq!(
        list.json,
        json!({ "items": [{ "host": "acme.localhost" }], "next_cursor": null })
    );

    let twice = plane
        .call("POST", hosts, Some(json!({ "host": "acme.localhost" })))
        .await;
    assert_eq!(twice.status, 409);
    let taken = plane
        .call(
            "POST",
            "/api/v1/tenants/beta/hosts",
            Some(json!({ "host": "ACME.localhost" })),
        )
        .await;
    assert_eq!(taken.status, 422, "{:?}", taken.json);
    assert_eq!(taken.error_paths(), vec!["/host"]);
    let empty = plane
        .call("POST", hosts, Some(json!({ "host": " " })))
        .await;
    assert_eq!(
        (empty.status, empty.error_paths()),
        (422, vec!["/host".to_owned()])
    );
    let extra = plane
        .call("POST", hosts, Some(json!({ "host": "a", "port": 1 })))
        .await;
    assert_eq!(
        (extra.status, extra.error_paths()),
        (422, vec!["/port".to_owned()])
    );
    assert_eq!(plane.revision().await, start + 1);

    let removed = plane
        .call("DELETE", "/api/v1/tenants/acme/hosts/acme.localhost", None)
        .await;
    assert_eq!(removed.status, 204);
    let missing = plane
        .call("GET", "/api/v1/tenants/acme/hosts/acme.localhost", None)
        .await;
    assert_eq!(missing.status, 404);
    let again = plane
        .call("DELETE", "/api/v1/tenants/acme/hosts/acme.localhost", None)
        .await;
    assert_eq!(again.status, 404);
    let unknown = plane
        .call(
            "POST",
            "/api/v1/tenants/nope/hosts",
            Some(json!({ "host": "x" })),
        )
        .await;
    assert_eq!(unknown.status, 404);
    assert_eq!(plane.revision().await, start + 2);
    plane.stop().await;
}
