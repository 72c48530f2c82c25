//! What the scripted upstream saw of one request.

use http::uri::Authority;
use http::{HeaderMap, Method, Request, Uri, Version};

/// One request as it arrived, for tests to assert on.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The method.
    pub method: Method,
    /// The path and query only, whatever form the request target had.
    pub uri: Uri,
    /// `HTTP/1.1`, `HTTP/2.0` (h2c or h2 over TLS) or `HTTP/1.0`.
    pub version: Version,
    /// The header fields in arrival order, repeated names kept.
    pub headers: HeaderMap,
    /// The target's authority: `:authority` on h2, absent on HTTP/1.1 (see `host`).
    pub authority: Option<Authority>,
}

impl RecordedRequest {
    pub(crate) fn of<B>(req: &Request<B>) -> RecordedRequest {
        let target = req.uri().path_and_query().cloned();
        RecordedRequest {
            method: req.method().clone(),
            uri: target.map_or_else(|| Uri::from_static("/"), Uri::from),
            version: req.version(),
            headers: req.headers().clone(),
            authority: req.uri().authority().cloned(),
        }
    }

    /// The path.
    pub fn path(&self) -> &str {
        self.uri.path()
    }

    /// The query, without `?`.
    pub fn query(&self) -> Option<&str> {
        self.uri.query()
    }

    /// The first value of header `name`, if it is text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The host the request named: `:authority` on h2, the `Host` header on HTTP/1.1.
    pub fn host(&self) -> Option<&str> {
        match &self.authority {
            Some(authority) => Some(authority.as_str()),
            None => self.header("host"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn absolute_target_is_recorded_as_path_and_query() {
        let req = Request::get("http://up.test:8001/stream/a?x=1")
            .version(Version::HTTP_2)
            .header("last-event-id", "41")
            .body(())
            .expect("request");
        let recorded = RecordedRequest::of(&req);
        assert_eq!(recorded.uri, "/stream/a?x=1");
        assert_eq!(recorded.path(), "/stream/a");
        assert_eq!(recorded.query(), Some("x=1"));
        assert_eq!(recorded.host(), Some("up.test:8001"));
        assert_eq!(recorded.header("last-event-id"), Some("41"));
        assert_eq!(recorded.version, Version::HTTP_2);
    }

    #[test]
    fn origin_target_takes_host_from_the_header() {
        let req = Request::get("/events")
            .header("host", "up.test")
            .body(())
            .expect("request");
        let recorded = RecordedRequest::of(&req);
        assert_eq!(recorded.uri, "/events");
        assert_eq!(recorded.authority, None);
        assert_eq!(recorded.host(), Some("up.test"));
    }
}
