//! Tokens and who may do what: 401 without an admin token, 403 for a tenant admin outside its
//! tenant, filtered lists, tokens shown once and stored hashed.

use serde_json::json;

use crate::support::{ADMIN, Db, Plane, route};

crate::on_both!(
    token_lifecycle,
    tenant_admins_stay_in_their_tenant,
    requests_without_an_admin_token_get_401
);

async fn token_lifecycle(db: Db) {
    let plane = Plane::start(db.options()).await;
    let start = plane.revision().await;
    let body = json!({ "name": "ops", "kind": "admin" });
    let created = plane
        .call("POST", "/api/v1/tokens", Some(body.clone()))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.json);
    let secret = created.json["token"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("sluice_admin_"));
    assert_eq!(created.json["kind"], "admin");
    assert_eq!(created.json["tenant"], json!(null));
    let works = plane
        .send("GET", "/api/v1/tenants", Some(&secret), None, &[])
        .await;
    assert_eq!(works.status, 200);

    let read = plane.call("GET", "/api/v1/tokens/ops", None).await;
    assert_eq!(read.status, 200);
    assert_eq!(
        read.json.get("token"),
        None,
        "a read never shows the secret"
    );
    let list = plane.call("GET", "/api/v1/tokens", None).await;
    let names: Vec<&str> = list.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["bootstrap", "ops"]);
    assert!(!list.json.to_string().contains(&secret));

    assert_eq!(
        plane
            .call("POST", "/api/v1/tokens", Some(body))
            .await
            .status,
        409
    );
    let cases = [
        (json!({ "name": "x", "kind": "root" }), "/kind"),
        (json!({ "kind": "admin" }), "/name"),
        (json!({ "name": "Bad Name", "kind": "admin" }), "/name"),
        (
            json!({ "name": "x", "kind": "admin", "tenant": "nope" }),
            "/tenant",
        ),
        (
            json!({ "name": "x", "kind": "node", "tenant": "nope" }),
            "/tenant",
        ),
        (
            json!({ "name": "x", "kind": "admin", "scope": "all" }),
            "/scope",
        ),
    ];
    for (body, path) in cases {
        let reply = plane
            .call("POST", "/api/v1/tokens", Some(body.clone()))
            .await;
        assert_eq!(reply.status, 422, "{body}: {:?}", reply.json);
        assert_eq!(reply.error_paths(), vec![path.to_owned()], "{body}");
    }
    assert_eq!(
        plane.call("GET", "/api/v1/tokens/x", None).await.status,
        404
    );

    let node = plane.token("edge-1", "node", None).await;
    assert!(node.starts_with("sluice_node_"));
    let refused = plane
        .send("GET", "/api/v1/tenants", Some(&node), None, &[])
        .await;
    assert_eq!(refused.status, 401, "a node token is not an admin token");

    assert_eq!(
        plane
            .call("DELETE", "/api/v1/tokens/ops", None)
            .await
            .status,
        204
    );
    assert_eq!(
        plane
            .call("DELETE", "/api/v1/tokens/ops", None)
            .await
            .status,
        404
    );
    let revoked = plane
        .send("GET", "/api/v1/tenants", Some(&secret), None, &[])
        .await;
    assert_eq!(revoked.status, 401);
    assert_eq!(plane.revision().await, start, "tokens are not config");
    plane.stop().await;
}

async fn tenant_admins_stay_in_their_tenant(db: Db) {
    let plane = Plane::start(db.options()).await;
    plane.tenant("acme").await;
    plane.tenant("beta").await;
    let mut body = route("/b");
    body["name"] = json!("b");
    assert_eq!(
        plane
            .call("POST", "/api/v1/tenants/beta/routes", Some(body))
            .await
            .status,
        201
    );
    let acme = plane.token("acme-admin", "admin", Some("acme")).await;
    let start = plane.revision().await;
    let call = |method: &'static str, path: &'static str, body: Option<serde_json::Value>| {
        let acme = acme.clone();
        let plane = &plane;
        async move { plane.send(method, path, Some(&acme), body, &[]).await }
    };

    let list = call("GET", "/api/v1/tenants", None).await;
    let names: Vec<&str> = list.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["acme"]);
    assert_eq!(call("GET", "/api/v1/tenants/acme", None).await.status, 200);
    let mut own = route("/a");
    own["name"] = json!("a");
    assert_eq!(
        call("POST", "/api/v1/tenants/acme/routes", Some(own))
            .await
            .status,
        201
    );

    let forbidden = [
        ("GET", "/api/v1/tenants/beta", None),
        (
            "PUT",
            "/api/v1/tenants/beta",
            Some(json!({ "path_prefix": "/t/b2" })),
        ),
        ("DELETE", "/api/v1/tenants/beta", None),
        ("DELETE", "/api/v1/tenants/acme", None),
        (
            "POST",
            "/api/v1/tenants",
            Some(json!({ "name": "gamma", "path_prefix": "/t/g" })),
        ),
        ("GET", "/api/v1/tenants/beta/routes", None),
        ("GET", "/api/v1/tenants/beta/routes/b", None),
        ("PUT", "/api/v1/tenants/beta/routes/b", Some(route("/x"))),
        ("DELETE", "/api/v1/tenants/beta/routes/b", None),
        ("GET", "/api/v1/tenants/beta/hosts", None),
        (
            "POST",
            "/api/v1/tenants/beta/hosts",
            Some(json!({ "host": "x.example" })),
        ),
        ("GET", "/api/v1/tenants/beta/keys", None),
        (
            "POST",
            "/api/v1/tenants/beta/keys",
            Some(json!({ "kid": "k", "kty": "OKP" })),
        ),
        ("GET", "/api/v1/tenants/beta/schemas", None),
        (
            "POST",
            "/api/v1/tenants/beta/schemas/s/versions",
            Some(json!({ "schema": true })),
        ),
        ("GET", "/api/v1/nodes", None),
        ("GET", "/api/v1/snapshot", None),
        ("GET", "/api/v1/tokens/bootstrap", None),
        ("DELETE", "/api/v1/tokens/bootstrap", None),
        (
            "POST",
            "/api/v1/tokens",
            Some(json!({ "name": "n", "kind": "node" })),
        ),
        (
            "POST",
            "/api/v1/tokens",
            Some(json!({ "name": "b", "kind": "admin", "tenant": "beta" })),
        ),
    ];
    for (method, path, body) in forbidden {
        let reply = call(method, path, body).await;
        assert_eq!(reply.status, 403, "{method} {path}: {:?}", reply.json);
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json")
        );
    }
    assert_eq!(plane.revision().await, start + 1);
    assert_eq!(
        plane
            .call("GET", "/api/v1/tenants/beta/routes/b", None)
            .await
            .json,
        route("/b")
    );

    let beta_host = json!({ "host": "beta.example" });
    let added = plane
        .call("POST", "/api/v1/tenants/beta/hosts", Some(beta_host))
        .await;
    assert_eq!(added.status, 201);
    let clash = json!({ "path_prefix": "/t/acme", "hosts": ["beta.example"] });
    let refused = call("PUT", "/api/v1/tenants/acme", Some(clash)).await;
    assert_eq!(refused.status, 422, "{:?}", refused.json);
    let expected =
        json!([{ "path": "", "message": "the change conflicts with another tenant's settings" }]);
    assert_eq!(refused.json["errors"], expected, "no other tenant is named");
    assert!(!refused.text.contains("beta"));

    let minted = call(
        "POST",
        "/api/v1/tokens",
        Some(json!({ "name": "acme-2", "kind": "admin" })),
    )
    .await;
    assert_eq!(
        (minted.status, &minted.json["tenant"]),
        (201, &json!("acme"))
    );
    let tokens = call("GET", "/api/v1/tokens", None).await;
    let names: Vec<&str> = tokens.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["acme-admin", "acme-2"]);
    let revisions = call("GET", "/api/v1/revisions", None).await;
    let summaries: Vec<&str> = revisions.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["summary"].as_str().unwrap())
        .collect();
    assert_eq!(summaries, ["create route acme/a", "create tenant acme"]);

    let deleted = plane.call("DELETE", "/api/v1/tenants/acme", None).await;
    assert_eq!(deleted.status, 204);
    let orphan = plane
        .send("GET", "/api/v1/tenants", Some(&acme), None, &[])
        .await;
    assert_eq!(
        orphan.status, 401,
        "a deleted tenant's admin tokens go with it"
    );
    plane.stop().await;
}

async fn requests_without_an_admin_token_get_401(db: Db) {
    let plane = Plane::start(db.options()).await;
    for token in [None, Some("wrong"), Some("")] {
        let reply = plane.send("GET", "/api/v1/tenants", token, None, &[]).await;
        assert_eq!(reply.status, 401, "{token:?}");
        assert_eq!(
            reply.header("www-authenticate"),
            Some("Bearer realm=\"sluice\"")
        );
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json")
        );
        assert_eq!(reply.json["status"], 401);
    }
    let basic = plane
        .send(
            "GET",
            "/api/v1/snapshot",
            None,
            None,
            &[("authorization", "Basic YTpi")],
        )
        .await;
    assert_eq!(basic.status, 401);
    let post = plane
        .send(
            "POST",
            "/api/v1/tenants",
            None,
            Some(json!({ "name": "x" })),
            &[],
        )
        .await;
    assert_eq!(post.status, 401);
    assert_eq!(
        plane.send("GET", "/healthz", None, None, &[]).await.status,
        200
    );
    assert_eq!(
        plane.send("GET", "/readyz", None, None, &[]).await.status,
        200
    );
    assert_eq!(
        plane.call("GET", "/api/v1/tenants", None).await.status,
        200,
        "{ADMIN} works"
    );
    plane.stop().await;
}
