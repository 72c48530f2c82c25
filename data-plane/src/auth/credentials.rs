//! Where a token is read from: a header template (`authorization: Bearer {credentials}`), a
//! query parameter (for `EventSource`, which cannot set headers), or a cookie, tried in that
//! order; the first one present wins.

use http::HeaderMap;
use http::header::{COOKIE, HeaderName};

use crate::config::{Credentials, HeaderTemplate};

/// The compiled credential sources of one tenant.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Sources {
    header: Option<HeaderSource>,
    query: Option<String>,
    cookie: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct HeaderSource {
    name: HeaderName,
    prefix: String,
    suffix: String,
}

impl Sources {
    /// Compiles `credentials`; `Err` names the header template when it cannot be used (the
    /// config check reports it first, so this is only a second line of defence).
    pub(crate) fn compile(credentials: &Credentials) -> Result<Self, String> {
        let header = match &credentials.header {
            None => None,
            Some(template) => Some(header_source(template).ok_or_else(|| {
                format!(
                    "`{template}` is not a header template: write `name: prefix{{credentials}}`"
                )
            })?),
        };
        Ok(Self {
            header,
            query: credentials.query.clone(),
            cookie: credentials.cookie.clone(),
        })
    }

    /// The query parameter that carries tokens, if any; it must be kept out of logs and
    /// upstream requests.
    pub(crate) fn query_param(&self) -> Option<&str> {
        self.query.as_deref()
    }

    /// The token sent with a request, from the first source that has one. `query` is the
    /// raw query string, without `?`.
    pub(crate) fn find(&self, headers: &HeaderMap, query: &str) -> Option<String> {
        // An empty value counts as absent, so the next source is tried.
        let present = |token: String| (!token.is_empty()).then_some(token);
        let from_header = || self.header.as_ref()?.find(headers).and_then(present);
        let from_query = || query_value(query, self.query.as_deref()?).and_then(present);
        let from_cookie = || cookie_value(headers, self.cookie.as_deref()?).and_then(present);
        from_header().or_else(from_query).or_else(from_cookie)
    }
}

fn header_source(template: &str) -> Option<HeaderSource> {
    let parsed = HeaderTemplate::parse(template)?;
    let name = HeaderName::from_bytes(parsed.name.to_ascii_lowercase().as_bytes()).ok()?;
    Some(HeaderSource {
        name,
        prefix: parsed.prefix.to_owned(),
        suffix: parsed.suffix.to_owned(),
    })
}

impl HeaderSource {
    /// The first value of the header that fits the template. The prefix is compared without
    /// regard to case, since auth schemes are case-insensitive (RFC 9110 §11.1).
    fn find(&self, headers: &HeaderMap) -> Option<String> {
        headers.get_all(&self.name).iter().find_map(|value| {
            let value = value.to_str().ok()?.trim();
            let head = value.get(..self.prefix.len())?;
            if !head.eq_ignore_ascii_case(&self.prefix) {
                return None;
            }
            let token = value[self.prefix.len()..].strip_suffix(self.suffix.as_str())?;
            Some(token.trim().to_owned())
        })
    }
}

/// The first value of `name` in an `application/x-www-form-urlencoded` query (WHATWG URL
/// §5.1): `+` is a space and percent escapes are decoded, in names and values alike.
fn query_value(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (form_decode(key)? == name).then(|| form_decode(value))?
    })
}

fn form_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |at: usize| bytes.get(at).and_then(|b| (*b as char).to_digit(16));
        match (bytes[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(high), Some(low)) => {
                // Two hex digits make a byte, so the cast cannot truncate.
                out.push((high * 16 + low) as u8);
                i += 3;
            }
            (b'+', _, _) => {
                out.push(b' ');
                i += 1;
            }
            (byte, _, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

/// The value of cookie `name` (RFC 6265 §5.4), from the first `Cookie` header that has it;
/// h2 clients may split cookies across several headers. Surrounding quotes are removed.
fn cookie_value(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get_all(COOKIE).iter().find_map(|header| {
        header.to_str().ok()?.split(';').find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            if key.trim() != name {
                return None;
            }
            let value = value.trim();
            let unquoted = value
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(value);
            Some(unquoted.to_owned())
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn sources(header: Option<&str>, query: Option<&str>, cookie: Option<&str>) -> Sources {
        let credentials = Credentials {
            header: header.map(str::to_owned),
            query: query.map(str::to_owned),
            cookie: cookie.map(str::to_owned),
        };
        Sources::compile(&credentials).expect("valid sources")
    }

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, HeaderValue::from_str(value).expect("header value"));
        }
        map
    }

    #[test]
    fn the_header_wins_over_query_and_cookie() {
        let all = sources(
            Some("authorization: Bearer {credentials}"),
            Some("access_token"),
            Some("sid"),
        );
        let request = headers(&[("authorization", "Bearer H"), ("cookie", "sid=C")]);
        assert_eq!(all.find(&request, "access_token=Q").as_deref(), Some("H"));
        let request = headers(&[("cookie", "sid=C")]);
        assert_eq!(all.find(&request, "access_token=Q").as_deref(), Some("Q"));
        assert_eq!(all.find(&request, "other=Q").as_deref(), Some("C"));
        assert_eq!(all.find(&HeaderMap::new(), "").as_deref(), None);
        let request = headers(&[("authorization", "Bearer "), ("cookie", "sid=C")]);
        assert_eq!(all.find(&request, "access_token=").as_deref(), Some("C"));
    }

    #[test]
    fn only_configured_sources_are_read() {
        let query_only = sources(None, Some("access_token"), None);
        let request = headers(&[("authorization", "Bearer H"), ("cookie", "access_token=C")]);
        assert_eq!(query_only.find(&request, "").as_deref(), None);
        assert_eq!(
            query_only.find(&request, "access_token=Q").as_deref(),
            Some("Q")
        );
    }

    #[test]
    fn the_header_template_matches_prefix_case_insensitively_and_suffix_exactly() {
        let bearer = sources(Some("Authorization: Bearer {credentials}"), None, None);
        assert_eq!(
            bearer
                .find(&headers(&[("authorization", "bearer  t1")]), "")
                .as_deref(),
            Some("t1")
        );
        assert_eq!(
            bearer
                .find(&headers(&[("authorization", "Basic dTpw")]), "")
                .as_deref(),
            None
        );
        assert_eq!(
            bearer
                .find(&headers(&[("authorization", "Bearer ")]), "")
                .as_deref(),
            None
        );
        let two = headers(&[
            ("authorization", "Basic dTpw"),
            ("authorization", "Bearer t2"),
        ]);
        assert_eq!(bearer.find(&two, "").as_deref(), Some("t2"));
        let custom = sources(Some("x-token: <{credentials}>"), None, None);
        assert_eq!(
            custom.find(&headers(&[("x-token", "<t3>")]), "").as_deref(),
            Some("t3")
        );
        assert_eq!(
            custom.find(&headers(&[("x-token", "<t3")]), "").as_deref(),
            None
        );
    }

    #[test]
    fn query_parameters_are_form_decoded() {
        let query = sources(None, Some("access_token"), None);
        let none = HeaderMap::new();
        let found = |q: &str| query.find(&none, q);
        assert_eq!(
            found("a=1&access_token=x.y%2Dz&access_token=second").as_deref(),
            Some("x.y-z")
        );
        assert_eq!(found("access%5Ftoken=a+b").as_deref(), Some("a b"));
        assert_eq!(found("access_token").as_deref(), None);
        assert_eq!(found("access_token=&x=1").as_deref(), None);
        assert_eq!(found("access_token=%zz").as_deref(), Some("%zz"));
        assert_eq!(found("access_token=%ff").as_deref(), None);
        assert_eq!(found("xaccess_token=1").as_deref(), None);
    }

    #[test]
    fn cookies_are_found_across_headers_and_unquoted() {
        let cookie = sources(None, None, Some("sid"));
        let request = headers(&[("cookie", "a=1; b=2"), ("cookie", "x=9;  sid=\"tok\"")]);
        assert_eq!(cookie.find(&request, "").as_deref(), Some("tok"));
        let request = headers(&[("cookie", "sidx=1; xsid=2")]);
        assert_eq!(cookie.find(&request, "").as_deref(), None);
    }

    #[test]
    fn a_bad_template_is_refused() {
        let credentials = Credentials {
            header: Some("authorization: Bearer".into()),
            query: None,
            cookie: None,
        };
        assert!(Sources::compile(&credentials).is_err());
        let credentials = Credentials {
            header: Some("bad name: {credentials}".into()),
            query: None,
            cookie: None,
        };
        assert!(Sources::compile(&credentials).is_err());
    }
}
