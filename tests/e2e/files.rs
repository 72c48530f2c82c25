//! Static-file routes: GET and HEAD, content types, ETag and 304, no way out of the folder.

use crate::support::{Client, TestNode};

fn config(extra_tenant: &str) -> String {
    format!(
        "version: 1\nlisteners:\n  - address: 127.0.0.1:0\ntenants:\n  site:\n    path_prefix: /t/site\n{extra_tenant}    \
         routes:\n      pages:\n        path: /{{page}}\n        public: true\n        files: www\n"
    )
}

async fn site() -> TestNode {
    let dir = tempfile::tempdir().unwrap();
    let www = dir.path().join("www");
    std::fs::create_dir(&www).unwrap();
    std::fs::write(www.join("index.html"), "<h1>hi</h1>").unwrap();
    std::fs::write(www.join("app.js"), "export {}").unwrap();
    std::fs::write(dir.path().join("secret.txt"), "secret").unwrap();
    std::os::unix::fs::symlink(dir.path().join("secret.txt"), www.join("leak.txt")).unwrap();
    TestNode::start_in(dir, &config("")).await
}

#[tokio::test]
async fn files_are_served_with_type_etag_and_304() {
    let node = site().await;
    let mut client = Client::h1(node.addr()).await;
    let mut page = client.get("/t/site/index.html", &[]).await;
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let etag = page.header("etag").unwrap().to_owned();
    assert_eq!(page.read_to_end().await, "<h1>hi</h1>");
    let script = client.get("/t/site/app.js", &[]).await;
    assert_eq!(
        script.header("content-type"),
        Some("text/javascript; charset=utf-8")
    );

    let mut again = client
        .get("/t/site/index.html", &[("if-none-match", &etag)])
        .await;
    assert_eq!(again.status, 304);
    assert_eq!(again.read_to_end().await, "");
    let mut head = client.request("HEAD", "/t/site/index.html", &[]).await;
    assert_eq!(head.status, 200);
    assert_eq!(head.header("content-length"), Some("11"));
    assert_eq!(head.read_to_end().await, "");
}

#[tokio::test]
async fn missing_files_escapes_and_symlinks_out_get_404_or_400() {
    let node = site().await;
    let mut client = Client::h1(node.addr()).await;
    assert_eq!(client.get("/t/site/missing.html", &[]).await.status, 404);
    assert_eq!(client.get("/t/site/leak.txt", &[]).await.status, 404);
    assert_eq!(client.get("/t/site/..", &[]).await.status, 400);
    assert_eq!(client.get("/t/site/%2e%2e", &[]).await.status, 400);
    assert_eq!(
        client.get("/t/site/www%2Fsecret.txt", &[]).await.status,
        400
    );
    assert_eq!(
        client
            .request("POST", "/t/site/index.html", &[])
            .await
            .status,
        405
    );
}
