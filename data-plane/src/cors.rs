//! One tenant's cross-origin policy (WHATWG Fetch, "CORS protocol"): answering preflight
//! `OPTIONS` requests, and adding the CORS response headers to streams and refusals.
//!
//! Everything that does not depend on the request (allowed names, `Max-Age`,
//! `Expose-Headers`) is worked out once in [`CorsPolicy::compile`].

use http::header::{
    ACCESS_CONTROL_ALLOW_CREDENTIALS, ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS,
    ACCESS_CONTROL_ALLOW_ORIGIN, ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE,
    ACCESS_CONTROL_REQUEST_HEADERS, ACCESS_CONTROL_REQUEST_METHOD, ORIGIN, VARY,
};
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};

use crate::config;

/// Methods a preflight may ask for: `GET` for streams, `POST` for the challenge response,
/// `OPTIONS` for preflight itself.
const ALLOWED_METHODS: [&str; 3] = ["GET", "POST", "OPTIONS"];

/// Request headers always allowed, besides the tenant's `allow_headers`: what an SSE client
/// sends (`Last-Event-ID` on reconnect, a bearer token, `Cache-Control: no-cache`) and the
/// challenge response's content type.
const ALWAYS_ALLOWED_HEADERS: [&str; 4] = [
    "last-event-id",
    "authorization",
    "content-type",
    "cache-control",
];

/// What a preflight answer depends on besides the policy. `Origin` is listed even on a `*`
/// refusal: a missing `Origin` is one reason to refuse.
const PREFLIGHT_VARY: &str = "Origin, Access-Control-Request-Headers";

/// A tenant's CORS settings, ready to answer requests.
#[derive(Clone, Debug)]
pub struct CorsPolicy {
    /// `*` is among the origins.
    any_origin: bool,
    /// Listed origins, lower-cased, default ports removed (as browsers serialize them).
    origins: Vec<String>,
    /// Credentialed requests are allowed.
    credentials: bool,
    /// `Access-Control-Max-Age`, whole seconds.
    max_age: Option<HeaderValue>,
    /// `Access-Control-Expose-Headers`, names joined with `, `.
    expose_headers: Option<HeaderValue>,
    /// Request header names a preflight may ask for, lower-cased.
    allow_headers: Vec<String>,
}

/// Which `Access-Control-Allow-Origin` an allowed request gets.
enum AllowOrigin {
    /// `*`: the answer is the same for every origin.
    Any,
    /// The request's own `Origin`, echoed.
    Echo(HeaderValue),
}

impl CorsPolicy {
    /// Prepares `cors` for use. Names that are not valid header names (the config check
    /// refuses them first) are left out rather than failing here.
    pub fn compile(cors: &config::Cors) -> CorsPolicy {
        let listed = cors.origins.iter().filter(|o| *o != "*");
        let expose: Vec<&str> = cors
            .expose_headers
            .iter()
            .map(String::as_str)
            .filter(|name| is_header_name(name))
            .collect();
        let configured = cors.allow_headers.iter().filter(|n| is_header_name(n));
        let mut allow_headers: Vec<String> = ALWAYS_ALLOWED_HEADERS.map(str::to_owned).into();
        for name in configured.map(|n| n.to_ascii_lowercase()) {
            if !allow_headers.contains(&name) {
                allow_headers.push(name);
            }
        }
        CorsPolicy {
            any_origin: cors.origins.iter().any(|o| o == "*"),
            origins: listed.map(|o| normalize_origin(o)).collect(),
            credentials: cors.credentials,
            max_age: cors
                .max_age
                .map(|age| HeaderValue::from(whole_seconds(age.get()))),
            expose_headers: HeaderValue::from_str(&expose.join(", "))
                .ok()
                .filter(|_| !expose.is_empty()),
            allow_headers,
        }
    }

    /// Answers a preflight request: 204 with the grant, or 403 when the `Origin` is missing
    /// or not allowed, or it asks for a method or header that is not allowed. The refusal
    /// carries no CORS headers, so the browser blocks the actual request.
    pub fn preflight(&self, request: &HeaderMap) -> Response<()> {
        let mut response = Response::new(());
        match self.preflight_grant(request) {
            Ok(headers) => {
                *response.status_mut() = StatusCode::NO_CONTENT;
                *response.headers_mut() = headers;
            }
            Err(reason) => {
                tracing::debug!(reason, origin = ?request.get(ORIGIN), "preflight refused");
                *response.status_mut() = StatusCode::FORBIDDEN;
                let vary = HeaderValue::from_static(PREFLIGHT_VARY);
                response.headers_mut().insert(VARY, vary);
            }
        }
        response
    }

    /// The headers of a granted preflight, or why it is refused.
    fn preflight_grant(&self, request: &HeaderMap) -> Result<HeaderMap, &'static str> {
        let origin = match request.get(ORIGIN) {
            None => return Err("no origin"),
            Some(_) => self.allowed_origin(request).ok_or("origin not allowed")?,
        };
        let method = request
            .get(ACCESS_CONTROL_REQUEST_METHOD)
            .ok_or("no access-control-request-method")?;
        if !ALLOWED_METHODS
            .iter()
            .any(|m| method.as_bytes() == m.as_bytes())
        {
            return Err("method not allowed");
        }
        let requested = self.requested_headers(request)?;

        let mut headers = HeaderMap::new();
        let vary = match &origin {
            AllowOrigin::Any => "Access-Control-Request-Headers",
            AllowOrigin::Echo(_) => PREFLIGHT_VARY,
        };
        self.grant(origin, &mut headers);
        let methods = HeaderValue::from_static("GET, POST, OPTIONS");
        headers.insert(ACCESS_CONTROL_ALLOW_METHODS, methods);
        if let Some(requested) = requested {
            headers.insert(ACCESS_CONTROL_ALLOW_HEADERS, requested);
        }
        if let Some(max_age) = &self.max_age {
            headers.insert(ACCESS_CONTROL_MAX_AGE, max_age.clone());
        }
        headers.insert(VARY, HeaderValue::from_static(vary));
        Ok(headers)
    }

    /// The names in `Access-Control-Request-Headers` (every line of it), lower-cased and
    /// joined, when all are allowed; `None` inside when none are asked for.
    fn requested_headers(&self, request: &HeaderMap) -> Result<Option<HeaderValue>, &'static str> {
        let mut granted: Vec<&str> = Vec::new();
        for line in request.get_all(ACCESS_CONTROL_REQUEST_HEADERS) {
            let line = line.to_str().map_err(|_| "header list not readable")?;
            for name in line.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                let allowed = self
                    .allow_headers
                    .iter()
                    .find(|a| a.eq_ignore_ascii_case(name))
                    .ok_or("header not allowed")?;
                if !granted.contains(&allowed.as_str()) {
                    granted.push(allowed);
                }
            }
        }
        if granted.is_empty() {
            return Ok(None);
        }
        // Every name is one of ours, already a valid header name.
        let value = HeaderValue::from_str(&granted.join(", ")).map_err(|_| "header list")?;
        Ok(Some(value))
    }

    /// Adds the CORS headers to an actual response (a stream or a refusal) for `request`:
    /// the allowed origin, credentials and exposed headers when its `Origin` is allowed;
    /// none of them otherwise. `Vary: Origin` is added whenever the answer depends on the
    /// origin, allowed or not, so no cache serves one origin's answer to another (Fetch,
    /// "CORS protocol and HTTP caches").
    pub fn decorate(&self, request: &HeaderMap, response: &mut HeaderMap) {
        if self.echoes_origin() {
            add_vary(response, "Origin");
        }
        let Some(origin) = self.allowed_origin(request) else {
            return;
        };
        self.grant(origin, response);
        if let Some(expose) = &self.expose_headers {
            response.insert(ACCESS_CONTROL_EXPOSE_HEADERS, expose.clone());
        }
    }

    /// Writes `Access-Control-Allow-Origin` and, when set, `-Allow-Credentials`.
    fn grant(&self, origin: AllowOrigin, headers: &mut HeaderMap) {
        let origin = match origin {
            AllowOrigin::Any => HeaderValue::from_static("*"),
            AllowOrigin::Echo(origin) => origin,
        };
        headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, origin);
        if self.credentials {
            let yes = HeaderValue::from_static("true");
            headers.insert(ACCESS_CONTROL_ALLOW_CREDENTIALS, yes);
        }
    }

    /// True unless the answer is `*` for everyone. Fetch forbids `*` on a credentialed
    /// response, so with credentials even an `*` policy echoes the origin.
    fn echoes_origin(&self) -> bool {
        !self.any_origin || self.credentials
    }

    /// How `request`'s `Origin` is granted, if it is. Exactly one `Origin` is needed.
    fn allowed_origin(&self, request: &HeaderMap) -> Option<AllowOrigin> {
        let mut values = request.get_all(ORIGIN).iter();
        let (origin, None) = (values.next()?, values.next()) else {
            return None;
        };
        if !self.echoes_origin() {
            return Some(AllowOrigin::Any);
        }
        let text = origin.to_str().ok()?;
        let listed = self.origins.iter().any(|o| o.eq_ignore_ascii_case(text));
        (self.any_origin || listed).then(|| AllowOrigin::Echo(origin.clone()))
    }
}

/// `origin` as a browser would send it: lower-cased, without the scheme's default port
/// (HTML, "ASCII serialization of an origin").
fn normalize_origin(origin: &str) -> String {
    let origin = origin.to_ascii_lowercase();
    let default_port = match origin.split_once("://") {
        Some(("https", _)) => ":443",
        Some(("http", _)) => ":80",
        _ => return origin,
    };
    match origin.strip_suffix(default_port) {
        Some(bare) => bare.to_owned(),
        None => origin,
    }
}

/// `duration` in whole seconds, rounded up so a short cache time does not become "no cache".
fn whole_seconds(duration: std::time::Duration) -> u64 {
    duration.as_secs() + u64::from(duration.subsec_nanos() > 0)
}

fn is_header_name(name: &str) -> bool {
    HeaderName::from_bytes(name.as_bytes()).is_ok()
}

/// Adds `token` to the response's `Vary` unless it is already there (or `Vary: *`).
fn add_vary(headers: &mut HeaderMap, token: &'static str) {
    let present = headers
        .get_all(VARY)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|t| t.trim() == "*" || t.trim().eq_ignore_ascii_case(token));
    if !present {
        headers.append(VARY, HeaderValue::from_static(token));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Duration;

    const APP: &str = "https://app.acme.example";

    fn cors(origins: &[&str], credentials: bool) -> config::Cors {
        config::Cors {
            origins: origins.iter().map(|o| (*o).to_owned()).collect(),
            credentials,
            max_age: None,
            expose_headers: vec![],
            allow_headers: vec![],
        }
    }

    fn policy(origins: &[&str], credentials: bool) -> CorsPolicy {
        CorsPolicy::compile(&cors(origins, credentials))
    }

    fn request(headers: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            let value = HeaderValue::from_str(value).expect("test header value");
            map.append(*name, value);
        }
        map
    }

    fn preflight_request(origin: &str, asked: Option<&str>) -> HeaderMap {
        let mut headers = vec![("origin", origin), ("access-control-request-method", "GET")];
        headers.extend(asked.map(|asked| ("access-control-request-headers", asked)));
        request(&headers)
    }

    /// Every header as `name: value`, sorted, for exact comparison.
    fn lines(headers: &HeaderMap) -> Vec<String> {
        let mut lines: Vec<String> = headers
            .iter()
            .map(|(name, value)| format!("{name}: {}", value.to_str().expect("ascii")))
            .collect();
        lines.sort();
        lines
    }

    fn refused(response: &Response<()>) {
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let vary = "vary: Origin, Access-Control-Request-Headers";
        assert_eq!(lines(response.headers()), [vary]);
    }

    #[test]
    fn preflight_from_an_allowed_origin_gets_204_with_the_grant() {
        let mut settings = cors(&[APP], true);
        settings.max_age = Some(Duration::from_secs(600));
        let policy = CorsPolicy::compile(&settings);
        let asked = "last-event-id, authorization";
        let response = policy.preflight(&preflight_request(APP, Some(asked)));
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            lines(response.headers()),
            [
                "access-control-allow-credentials: true",
                "access-control-allow-headers: last-event-id, authorization",
                "access-control-allow-methods: GET, POST, OPTIONS",
                "access-control-allow-origin: https://app.acme.example",
                "access-control-max-age: 600",
                "vary: Origin, Access-Control-Request-Headers",
            ]
        );
    }

    #[test]
    fn preflight_from_a_disallowed_origin_gets_403() {
        let policy = policy(&[APP], false);
        refused(&policy.preflight(&preflight_request("https://evil.example", None)));
        refused(&policy.preflight(&preflight_request("null", None)));
        let subdomain = "https://x.app.acme.example";
        refused(&policy.preflight(&preflight_request(subdomain, None)));
    }

    #[test]
    fn preflight_without_origin_gets_403_even_for_star() {
        let no_origin = request(&[("access-control-request-method", "GET")]);
        refused(&policy(&[APP], false).preflight(&no_origin));
        refused(&policy(&["*"], false).preflight(&no_origin));
    }

    #[test]
    fn preflight_with_two_origins_gets_403() {
        let two = request(&[
            ("origin", APP),
            ("origin", APP),
            ("access-control-request-method", "GET"),
        ]);
        refused(&policy(&[APP], false).preflight(&two));
    }

    #[test]
    fn star_without_credentials_answers_star_without_vary_origin() {
        let policy = policy(&["*"], false);
        let response = policy.preflight(&preflight_request("https://any.example", None));
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            lines(response.headers()),
            [
                "access-control-allow-methods: GET, POST, OPTIONS",
                "access-control-allow-origin: *",
                "vary: Access-Control-Request-Headers",
            ]
        );
    }

    #[test]
    fn star_with_credentials_echoes_the_origin() {
        // The config check refuses this pairing; a policy built in code still never sends
        // `*` with credentials.
        let policy = policy(&["*"], true);
        let response = policy.preflight(&preflight_request("https://any.example", None));
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        assert_eq!(
            lines(response.headers()),
            [
                "access-control-allow-credentials: true",
                "access-control-allow-methods: GET, POST, OPTIONS",
                "access-control-allow-origin: https://any.example",
                "vary: Origin, Access-Control-Request-Headers",
            ]
        );
    }

    #[test]
    fn requested_headers_are_matched_case_insensitively_across_lines() {
        let mut settings = cors(&[APP], false);
        settings.allow_headers = vec!["X-Trace-Id".into()];
        let policy = CorsPolicy::compile(&settings);
        let asked = request(&[
            ("origin", APP),
            ("access-control-request-method", "GET"),
            (
                "access-control-request-headers",
                "Last-Event-ID,CACHE-CONTROL",
            ),
            (
                "access-control-request-headers",
                " x-trace-id , ,content-type",
            ),
        ]);
        let response = policy.preflight(&asked);
        assert_eq!(response.status(), StatusCode::NO_CONTENT);
        let allowed = response.headers().get(ACCESS_CONTROL_ALLOW_HEADERS);
        let expected = "last-event-id, cache-control, x-trace-id, content-type";
        assert_eq!(allowed, Some(&HeaderValue::from_static(expected)));
    }

    #[test]
    fn a_header_not_allowed_refuses_the_preflight() {
        let policy = policy(&[APP], false);
        let asked = "last-event-id, x-trace-id";
        refused(&policy.preflight(&preflight_request(APP, Some(asked))));
        refused(&policy.preflight(&preflight_request(APP, Some("cookie"))));
    }

    #[test]
    fn a_method_not_allowed_or_missing_refuses_the_preflight() {
        let policy = policy(&[APP], false);
        for method in ["PUT", "DELETE", "get"] {
            let asked = request(&[("origin", APP), ("access-control-request-method", method)]);
            refused(&policy.preflight(&asked));
        }
        refused(&policy.preflight(&request(&[("origin", APP)])));
        for method in ["GET", "POST", "OPTIONS"] {
            let asked = request(&[("origin", APP), ("access-control-request-method", method)]);
            assert_eq!(policy.preflight(&asked).status(), StatusCode::NO_CONTENT);
        }
    }

    #[test]
    fn max_age_is_whole_seconds_rounded_up_and_absent_when_unset() {
        let max_age = |age: Option<Duration>| {
            let mut settings = cors(&[APP], false);
            settings.max_age = age;
            let response = CorsPolicy::compile(&settings).preflight(&preflight_request(APP, None));
            response.headers().get(ACCESS_CONTROL_MAX_AGE).cloned()
        };
        let seconds = |s: &'static str| Some(HeaderValue::from_static(s));
        assert_eq!(max_age(Some(Duration::from_secs(600))), seconds("600"));
        assert_eq!(max_age(Some(Duration::from_millis(1500))), seconds("2"));
        assert_eq!(max_age(Some(Duration::from_secs(0))), seconds("0"));
        assert_eq!(max_age(None), None);
    }

    #[test]
    fn origins_match_case_insensitively_and_without_default_ports() {
        let policy = policy(
            &["HTTPS://App.Acme.Example:443", "http://localhost:8080"],
            false,
        );
        for origin in [APP, "https://APP.acme.example", "http://localhost:8080"] {
            let response = policy.preflight(&preflight_request(origin, None));
            assert_eq!(response.status(), StatusCode::NO_CONTENT, "{origin}");
        }
        for origin in [
            "http://app.acme.example",
            "http://localhost",
            "https://localhost:8080",
        ] {
            refused(&policy.preflight(&preflight_request(origin, None)));
        }
    }

    #[test]
    fn decorate_grants_an_allowed_origin() {
        let mut settings = cors(&[APP], true);
        settings.expose_headers = vec!["X-Request-Id".into(), "retry-after".into()];
        let policy = CorsPolicy::compile(&settings);
        let mut response = HeaderMap::new();
        policy.decorate(&request(&[("origin", APP)]), &mut response);
        assert_eq!(
            lines(&response),
            [
                "access-control-allow-credentials: true",
                "access-control-allow-origin: https://app.acme.example",
                "access-control-expose-headers: X-Request-Id, retry-after",
                "vary: Origin",
            ]
        );
    }

    #[test]
    fn decorate_adds_only_vary_for_a_disallowed_or_missing_origin() {
        let policy = policy(&[APP], true);
        for headers in [
            request(&[("origin", "https://evil.example")]),
            HeaderMap::new(),
        ] {
            let mut response = HeaderMap::new();
            policy.decorate(&headers, &mut response);
            assert_eq!(lines(&response), ["vary: Origin"]);
        }
    }

    #[test]
    fn decorate_with_star_sends_star_and_no_vary() {
        let policy = policy(&["*"], false);
        let mut response = HeaderMap::new();
        policy.decorate(
            &request(&[("origin", "https://any.example")]),
            &mut response,
        );
        assert_eq!(lines(&response), ["access-control-allow-origin: *"]);
        let mut response = HeaderMap::new();
        policy.decorate(&HeaderMap::new(), &mut response);
        assert_eq!(lines(&response), Vec::<String>::new());
    }

    #[test]
    fn decorate_keeps_an_existing_vary_and_adds_origin_once() {
        let policy = policy(&[APP], false);
        let mut response = request(&[("vary", "Accept-Encoding")]);
        policy.decorate(&request(&[("origin", APP)]), &mut response);
        policy.decorate(&request(&[("origin", APP)]), &mut response);
        let vary: Vec<_> = response.get_all(VARY).iter().collect();
        assert_eq!(vary, ["Accept-Encoding", "Origin"]);
    }
}
