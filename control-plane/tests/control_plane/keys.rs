//! Signing keys: create, read, update, delete, conflicts, stale `If-Match` and invalid JWKs,
//! on both backends; and keys joining the tenant's `auth` block in the snapshot.

use serde_json::{Value, json};

use crate::support::{ADMIN, Db, Plane};

crate::on_both!(key_lifecycle, keys_join_the_auth_block_once_it_exists);

/// The Ed25519 public key of RFC 8037 appendix A.2, as `kid`.
fn jwk(kid: &str) -> Value {
    json!({
        "kid": kid, "kty": "OKP", "crv": "Ed25519", "alg": "EdDSA",
        "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
    })
}

async fn key_lifecycle(db: Db) {
    let plane = Plane::start(db.options()).await;
    plane.tenant("acme").await;
    let start = plane.revision().await;
    let keys = "/api/v1/tenants/acme/keys";

    let created = plane.call("POST", keys, Some(jwk("k1"))).await;
    assert_eq!(created.status, 201, "{:?}", created.json);
    assert_eq!(created.header("etag"), Some("\"1\""));
    assert_eq!(
        created.header("location"),
        Some("/api/v1/tenants/acme/keys/k1")
    );
    assert_eq!(created.json, jwk("k1"));
    assert_eq!(plane.call("POST", keys, Some(jwk("k1"))).await.status, 409);
    let read = plane
        .call("GET", "/api/v1/tenants/acme/keys/k1", None)
        .await;
    assert_eq!((read.status, &read.json), (200, &jwk("k1")));
    let list = plane.call("GET", keys, None).await;
    assert_eq!(list.json["items"], json!([jwk("k1")]));

    let mut changed = jwk("k1");
    changed["use"] = json!("sig");
    let path = "/api/v1/tenants/acme/keys/k1";
    let stale = plane
        .send(
            "PUT",
            path,
            Some(ADMIN),
            Some(changed.clone()),
            &[("if-match", "\"2\"")],
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
    assert_eq!(plane.call("GET", path, None).await.json, changed);
    assert_eq!(plane.revision().await, start + 2);

    let mut no_kid = jwk("x");
    no_kid.as_object_mut().unwrap().remove("kid");
    let mut symmetric = jwk("k2");
    symmetric["kty"] = json!("oct");
    symmetric["alg"] = json!("HS256");
    let mut wrong_use = jwk("k3");
    wrong_use["use"] = json!("enc");
    for (body, paths) in [
        (no_kid, vec!["/kid"]),
        (symmetric, vec![""]),
        (wrong_use, vec![""]),
    ] {
        let reply = plane.call("POST", keys, Some(body.clone())).await;
        assert_eq!(reply.status, 422, "{body}: {:?}", reply.json);
        assert!(
            paths
                .iter()
                .all(|p| reply.error_paths().contains(&p.to_string())),
            "{:?}",
            reply.json
        );
    }
    let renamed = plane.call("PUT", path, Some(jwk("k9"))).await;
    assert_eq!(
        (renamed.status, renamed.error_paths()),
        (422, vec!["/kid".to_owned()])
    );
    assert_eq!(plane.revision().await, start + 2);

    let stale_delete = plane
        .send("DELETE", path, Some(ADMIN), None, &[("if-match", "\"1\"")])
        .await;
    assert_eq!(stale_delete.status, 412);
    assert_eq!(plane.call("DELETE", path, None).await.status, 204);
    assert_eq!(plane.call("GET", path, None).await.status, 404);
    assert_eq!(plane.call("DELETE", path, None).await.status, 404);
    assert_eq!(plane.revision().await, start + 3);
    plane.stop().await;
}

async fn keys_join_the_auth_block_once_it_exists(db: Db) {
    let plane = Plane::start(db.options()).await;
    plane.tenant("acme").await;
    let keys = "/api/v1/tenants/acme/keys";
    assert_eq!(plane.call("POST", keys, Some(jwk("k1"))).await.status, 201);
    let snapshot = plane.call("GET", "/api/v1/snapshot", None).await;
    assert_eq!(snapshot.json["config"]["tenants"]["acme"].get("auth"), None);

    let auth = json!({ "issuer": "https://issuer.example", "audiences": ["https://api.example"] });
    let body = json!({ "path_prefix": "/t/acme", "auth": auth });
    let reply = plane.call("PUT", "/api/v1/tenants/acme", Some(body)).await;
    assert_eq!(reply.status, 200, "{:?}", reply.json);
    let snapshot = plane.call("GET", "/api/v1/snapshot", None).await;
    let expected = json!({
        "issuer": "https://issuer.example",
        "audiences": ["https://api.example"],
        "keys": [jwk("k1")],
    });
    assert_eq!(snapshot.json["config"]["tenants"]["acme"]["auth"], expected);

    let mut guarded = crate::support::route("/private");
    guarded["name"] = json!("private");
    guarded["public"] = json!(false);
    guarded["scopes"] = json!(["orders:read"]);
    let created = plane
        .call("POST", "/api/v1/tenants/acme/routes", Some(guarded))
        .await;
    assert_eq!(
        created.status, 201,
        "a tenant with auth may have guarded routes"
    );

    let start = plane.revision().await;
    let keys_in_body = json!({ "path_prefix": "/t/acme", "auth": expected });
    let reply = plane
        .call("PUT", "/api/v1/tenants/acme", Some(keys_in_body))
        .await;
    assert_eq!(
        (reply.status, reply.error_paths()),
        (422, vec!["/auth/keys".to_owned()])
    );
    let last_key = plane
        .call("DELETE", "/api/v1/tenants/acme/keys/k1", None)
        .await;
    assert_eq!(
        last_key.status, 422,
        "auth needs a key or a JWKS URL: {:?}",
        last_key.json
    );
    assert_eq!(
        last_key.json["errors"][0]["config_path"],
        "tenants.acme.auth"
    );
    let mut bad_second = jwk("k2");
    bad_second["alg"] = json!("RS256");
    let mismatch = plane.call("POST", keys, Some(bad_second)).await;
    assert_eq!(mismatch.status, 422, "{:?}", mismatch.json);
    assert_eq!(plane.revision().await, start);
    assert_eq!(
        plane.call("GET", keys, None).await.json["items"],
        json!([jwk("k1")])
    );
    plane.stop().await;
}
