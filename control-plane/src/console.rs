//! The web console: the files of `web/`, embedded in the binary (read from disk in debug
//! builds, so editing them needs no rebuild), served at `/`.

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "../web/"]
struct Assets;

/// Routes serving the console: `/` is `index.html`, `/{file}` any other asset. They sit after
/// the API routes, so `/api/...` never reaches them.
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    Router::new().route("/", get(|| serve("index.html"))).route(
        "/{*file}",
        get(|Path(file): Path<String>| serve_owned(file)),
    )
}

async fn serve_owned(file: String) -> Response {
    serve(&file).await
}

async fn serve(file: &str) -> Response {
    if file.starts_with("api/") {
        return StatusCode::NOT_FOUND.into_response();
    }
    let Some(asset) = Assets::get(file) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let mime = content_type(file);
    let mut response = asset.data.into_owned().into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    response
}

fn content_type(file: &str) -> &'static str {
    match file.rsplit('.').next().unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "ico" => "image/x-icon",
        "json" => "application/json",
        _ => "application/octet-stream",
    }
}
