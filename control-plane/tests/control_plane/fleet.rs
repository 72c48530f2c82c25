//! The revision log, pagination, the snapshot, the first admin token, and the OpenAPI
//! document checked against the routes actually served.

use std::collections::BTreeSet;

use serde_json::json;

use crate::support::{Db, Plane, route};

crate::on_both!(
    concurrent_changes_each_get_their_own_revision,
    each_change_is_one_revision_in_the_log,
    lists_page_with_cursors,
    a_first_admin_token_is_generated_once
);

async fn each_change_is_one_revision_in_the_log(db: Db) {
    let plane = Plane::start(db.options()).await;
    assert_eq!(plane.revision().await, 0);
    let empty = plane.call("GET", "/api/v1/snapshot", None).await;
    assert_eq!(
        empty.json,
        json!({ "revision": 0, "config": { "version": 1, "tenants": {} } })
    );

    plane.tenant("zeta").await;
    plane.tenant("alpha").await;
    let mut body = route("/a");
    body["name"] = json!("a");
    assert_eq!(
        plane
            .call("POST", "/api/v1/tenants/alpha/routes", Some(body))
            .await
            .status,
        201
    );
    assert_eq!(plane.revision().await, 3);

    let snapshot = plane.call("GET", "/api/v1/snapshot", None).await;
    let (zeta, alpha) = (
        snapshot.text.find("\"zeta\""),
        snapshot.text.find("\"alpha\""),
    );
    assert!(
        zeta.is_some() && zeta < alpha,
        "tenants keep creation order: {}",
        snapshot.text
    );
    assert_eq!(
        snapshot.json["config"]["tenants"]["alpha"]["routes"]["a"],
        route("/a")
    );

    let log = plane.call("GET", "/api/v1/revisions", None).await;
    let items = log.json["items"].as_array().unwrap();
    let numbers: Vec<i64> = items
        .iter()
        .map(|r| r["number"].as_i64().unwrap())
        .collect();
    assert_eq!(numbers, [3, 2, 1]);
    assert_eq!(items[0]["summary"], "create route alpha/a");
    assert_eq!(items[0]["actor"], "bootstrap");
    assert_eq!(items[0]["tenant"], "alpha");
    assert!(items[0]["at"].as_str().unwrap().ends_with('Z'));
    plane.stop().await;
}

async fn lists_page_with_cursors(db: Db) {
    let plane = Plane::start(db.options()).await;
    for name in ["a", "b", "c"] {
        plane.tenant(name).await;
    }
    let first = plane.call("GET", "/api/v1/tenants?limit=2", None).await;
    let names = |reply: &crate::support::Reply| -> Vec<String> {
        let items = reply.json["items"].as_array().unwrap();
        items
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&first), ["a", "b"]);
    let cursor = first.json["next_cursor"].as_str().unwrap().to_owned();
    let second = plane
        .call(
            "GET",
            &format!("/api/v1/tenants?limit=2&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(names(&second), ["c"]);
    assert_eq!(second.json["next_cursor"], json!(null));

    let revisions = plane.call("GET", "/api/v1/revisions?limit=2", None).await;
    let cursor = revisions.json["next_cursor"].as_str().unwrap().to_owned();
    let older = plane
        .call(
            "GET",
            &format!("/api/v1/revisions?limit=2&cursor={cursor}"),
            None,
        )
        .await;
    assert_eq!(older.json["items"][0]["number"], 1);

    for query in ["limit=0", "limit=1001", "limit=x", "cursor=%21%21"] {
        let reply = plane
            .call("GET", &format!("/api/v1/tenants?{query}"), None)
            .await;
        assert_eq!(reply.status, 400, "{query}");
        assert_eq!(
            reply.header("content-type"),
            Some("application/problem+json")
        );
    }
    plane.stop().await;
}

async fn a_first_admin_token_is_generated_once(db: Db) {
    let mut options = db.options();
    options.admin_token = None;
    let plane = Plane::start(options.clone()).await;
    let running = plane.running.as_ref().unwrap();
    let token = running
        .generated_admin_token
        .clone()
        .expect("a token is generated");
    let reply = plane
        .send("GET", "/api/v1/tenants", Some(&token), None, &[])
        .await;
    assert_eq!(reply.status, 200);
    plane.stop().await;

    let again = Plane::start(options.clone()).await;
    assert_eq!(again.running.as_ref().unwrap().generated_admin_token, None);
    assert_eq!(
        again
            .send("GET", "/api/v1/tenants", Some(&token), None, &[])
            .await
            .status,
        200
    );
    again.stop().await;

    options.admin_token = Some("replacement-token".into());
    let replaced = Plane::start(options).await;
    assert_eq!(
        replaced.running.as_ref().unwrap().generated_admin_token,
        None
    );
    assert_eq!(
        replaced
            .send("GET", "/api/v1/tenants", Some(&token), None, &[])
            .await
            .status,
        401
    );
    let works = replaced
        .send(
            "GET",
            "/api/v1/tenants",
            Some("replacement-token"),
            None,
            &[],
        )
        .await;
    assert_eq!(works.status, 200);
    replaced.stop().await;
}

#[tokio::test]
async fn the_openapi_document_lists_exactly_the_served_routes() {
    let db = Db::new(crate::support::Backend::Sqlite).await.unwrap();
    let plane = Plane::start(db.options()).await;
    let document = plane
        .send("GET", "/api/v1/openapi.json", None, None, &[])
        .await;
    assert_eq!(document.status, 200);
    assert_eq!(document.json["openapi"], "3.1.0");

    let mut documented = BTreeSet::new();
    for (path, item) in document.json["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let table: BTreeSet<(String, String)> = sluice_control_plane::api::endpoints()
        .into_iter()
        .map(|(e, _)| (e.method.to_string(), e.path.to_owned()))
        .collect();
    assert_eq!(documented, table);

    let methods = ["GET", "POST", "PUT", "DELETE", "PATCH"];
    let paths: BTreeSet<&String> = documented.iter().map(|(_, path)| path).collect();
    for path in paths {
        let concrete: String = path
            .split('/')
            .map(|s| if s.starts_with('{') { "x" } else { s })
            .collect::<Vec<_>>()
            .join("/");
        for method in methods {
            let reply = plane.send(method, &concrete, None, None, &[]).await;
            if documented.contains(&(method.to_owned(), path.clone())) {
                assert!(
                    ![404, 405].contains(&reply.status),
                    "{method} {path} is not served"
                );
            } else {
                assert_eq!(
                    reply.status, 405,
                    "{method} {path} is served but not documented"
                );
            }
        }
    }
    for path in [
        "/api/v1",
        "/api/v1/tenant",
        "/api/v1/tenants/x/widgets",
        "/api/v2/tenants",
    ] {
        assert_eq!(
            plane.send("GET", path, None, None, &[]).await.status,
            404,
            "{path}"
        );
    }
    plane.stop().await;
}

#[tokio::test]
async fn problem_details_name_status_and_detail() {
    let db = Db::new(crate::support::Backend::Sqlite).await.unwrap();
    let plane = Plane::start(db.options()).await;
    let reply = plane.call("GET", "/api/v1/tenants/nope", None).await;
    assert_eq!(reply.status, 404);
    let expected = json!({
        "type": "about:blank", "title": "Not Found", "status": 404,
        "detail": "tenant `nope` not found",
    });
    assert_eq!(reply.json, expected);
    plane.stop().await;
}

async fn concurrent_changes_each_get_their_own_revision(db: Db) {
    let plane = Plane::start(db.options()).await;
    plane.tenant("acme").await;
    let start = plane.revision().await;
    let writes = (0..8).map(|i| {
        let mut body = route(&format!("/r{i}"));
        body["name"] = json!(format!("r{i}"));
        plane.call("POST", "/api/v1/tenants/acme/routes", Some(body))
    });
    let replies = futures_util::future::join_all(writes).await;
    assert!(replies.iter().all(|r| r.status == 201), "{replies:?}");
    assert_eq!(plane.revision().await, start + 8);

    let log = plane.call("GET", "/api/v1/revisions?limit=8", None).await;
    let items = log.json["items"].as_array().unwrap();
    let numbers: BTreeSet<u64> = items
        .iter()
        .map(|r| r["number"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, (start + 1..=start + 8).collect());
    let summaries: BTreeSet<&str> = items
        .iter()
        .map(|r| r["summary"].as_str().unwrap())
        .collect();
    assert_eq!(summaries.len(), 8);
    let snapshot = plane.call("GET", "/api/v1/snapshot", None).await;
    let routes = snapshot.json["config"]["tenants"]["acme"]["routes"]
        .as_object()
        .unwrap();
    assert_eq!(routes.len(), 8);
    plane.stop().await;
}

#[tokio::test]
async fn a_body_that_is_not_json_gets_415_and_writes_nothing() {
    let db = Db::new(crate::support::Backend::Sqlite).await.unwrap();
    let plane = Plane::start(db.options()).await;
    let before = plane.revision().await;
    let body = r#"{"name":"acme","path_prefix":"/t/acme"}"#.to_owned();
    let headers = [("content-type", "application/x-www-form-urlencoded")];
    let reply = plane
        .request(
            "POST",
            "/api/v1/tenants",
            Some(crate::support::ADMIN),
            body,
            &headers,
        )
        .await;
    assert_eq!(reply.status, 415);
    assert_eq!(plane.revision().await, before);
    plane.stop().await;
}
