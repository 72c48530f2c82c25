//! Static-file routes: a folder served over GET and HEAD, with a content type by extension,
//! `ETag` and `If-None-Match`, and no way out of the folder (dot segments are refused before
//! routing; symlinks that lead outside are refused here).

use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Response, StatusCode, header};

use crate::body::StreamBody;
use crate::error::Refusal;

/// Largest file served, in bytes; static routes are for pages and assets, not downloads.
pub const MAX_FILE: u64 = 32 << 20;

/// Answers `GET` (or `HEAD` when `head`) for file `name` (one path segment, still
/// percent-encoded as the normalized path holds it) under `root` (canonical).
pub async fn serve(
    root: &Path,
    name: &str,
    head: bool,
    request: &HeaderMap,
) -> Result<Response<StreamBody>, Refusal> {
    let path = resolve(root, name).await.ok_or(Refusal::UnknownRoute)?;
    let meta = tokio::fs::metadata(&path)
        .await
        .map_err(|_| Refusal::UnknownRoute)?;
    if !meta.is_file() || meta.len() > MAX_FILE {
        return Err(Refusal::UnknownRoute);
    }
    let etag = etag(&meta);
    let mut response = if matches(request, &etag) {
        status(StatusCode::NOT_MODIFIED)
    } else if head {
        let mut response = status(StatusCode::OK);
        response
            .headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(meta.len()));
        response
    } else {
        let bytes = tokio::fs::read(&path)
            .await
            .map_err(|_| Refusal::UnknownRoute)?;
        Response::new(StreamBody::full(Bytes::from(bytes)))
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(&path)),
    );
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, etag);
    }
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Ok(response)
}

fn status(status: StatusCode) -> Response<StreamBody> {
    let mut response = Response::new(StreamBody::empty());
    *response.status_mut() = status;
    response
}

/// The file for `name`, when it is a plain name and, symlinks followed, stays under `root`.
async fn resolve(root: &Path, name: &str) -> Option<PathBuf> {
    let name = percent_decode(name)?;
    let plain =
        !name.is_empty() && name != "." && name != ".." && !name.contains(['/', '\\', '\0']);
    if !plain {
        return None;
    }
    let path = tokio::fs::canonicalize(root.join(name)).await.ok()?;
    path.starts_with(root).then_some(path)
}

fn percent_decode(raw: &str) -> Option<String> {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = raw.get(i + 1..i + 3)?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// A validator from size and modification time: it changes when the file does.
fn etag(meta: &std::fs::Metadata) -> String {
    let modified = meta
        .modified()
        .ok()
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok());
    let nanos = modified.map_or(0, |d| d.as_nanos());
    format!("\"{:x}-{:x}\"", meta.len(), nanos)
}

/// `If-None-Match` per RFC 9110 section 13.1.2: `*` or any listed tag (weak comparison).
fn matches(request: &HeaderMap, etag: &str) -> bool {
    request.get_all(header::IF_NONE_MATCH).iter().any(|value| {
        value.to_str().is_ok_and(|list| {
            list.split(',')
                .map(str::trim)
                .any(|tag| tag == "*" || tag.trim_start_matches("W/") == etag)
        })
    })
}

fn content_type(path: &Path) -> &'static str {
    let extension = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    match extension.to_ascii_lowercase().as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "json" | "map" => "application/json",
        "txt" => "text/plain; charset=utf-8",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "wasm" => "application/wasm",
        "xml" => "application/xml",
        "pdf" => "application/pdf",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_accepts_lists_weak_tags_and_star() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"a\", W/\"b\""),
        );
        assert!(matches(&headers, "\"b\""));
        assert!(!matches(&headers, "\"c\""));
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(matches(&headers, "\"c\""));
    }

    #[test]
    fn names_are_decoded_once_and_must_stay_plain() {
        assert_eq!(percent_decode("a%20b.html").as_deref(), Some("a b.html"));
        assert_eq!(percent_decode("%252e").as_deref(), Some("%2e"));
        assert_eq!(percent_decode("%zz"), None);
    }

    #[tokio::test]
    async fn symlinks_out_of_the_root_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.txt"), "s").unwrap();
        let root = tempfile::tempdir().unwrap();
        std::fs::write(root.path().join("page.html"), "<p>").unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("secret.txt"),
            root.path().join("link.txt"),
        )
        .unwrap();
        let root = std::fs::canonicalize(root.path()).unwrap();
        assert!(resolve(&root, "page.html").await.is_some());
        assert!(resolve(&root, "link.txt").await.is_none());
        assert!(resolve(&root, "%2e%2e").await.is_none());
        assert!(resolve(&root, "missing.html").await.is_none());
    }
}
