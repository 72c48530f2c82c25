//! AsyncAPI security schemes as Sluice token settings: which schemes carry a JWT and where
//! (a bearer header, another header, a query parameter, a cookie), and which scopes a
//! route requires. AsyncAPI does not carry the issuer, audiences or keys; see the warning
//! the import adds.

use super::doc::{Doc, Node};
use super::names;
use crate::config::Credentials;

/// The header template of a bearer token (RFC 6750 §2.1).
pub(super) const BEARER: &str = "authorization: Bearer {credentials}";

/// Where a token is read from, as one scheme says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Source {
    /// A header template, `name: prefix{credentials}`.
    Header(String),
    /// A query parameter.
    Query(String),
    /// A cookie.
    Cookie(String),
}

/// One acceptable way to authenticate: a scheme and the scopes it asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Alternative {
    pub source: Source,
    pub scopes: Vec<String>,
    /// Where the scheme was named, for errors.
    pub path: String,
}

/// Who may open a route.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Access {
    /// No token needed.
    pub public: bool,
    /// Scopes the token must all carry.
    pub scopes: Vec<String>,
    /// Where the token may be read, with the path that said so.
    pub sources: Vec<(Source, String)>,
}

/// Where the scheme object at `node` reads a token; unsupported schemes are recorded.
pub(super) fn scheme_source<'a>(doc: &mut Doc<'a>, node: &Node<'a>) -> Option<Source> {
    doc.object(node)?;
    let kind = doc.text(node, "type");
    match kind? {
        "http" => http_source(doc, node),
        "httpApiKey" => api_key_source(doc, node),
        // Both issue OAuth 2.0 access tokens, presented as bearer tokens (RFC 6750).
        "oauth2" | "openIdConnect" => Some(Source::Header(BEARER.to_owned())),
        other => {
            let message = format!(
                "security scheme type `{other}` is not supported: Sluice checks JWTs given as \
                 a bearer token (http, oauth2, openIdConnect) or by httpApiKey"
            );
            doc.notes.error(node.path_of("type"), message);
            None
        }
    }
}

fn http_source<'a>(doc: &mut Doc<'a>, node: &Node<'a>) -> Option<Source> {
    let scheme = doc.text(node, "scheme");
    if !scheme?.eq_ignore_ascii_case("bearer") {
        let message = format!(
            "HTTP `{}` authentication is not supported: Sluice checks JWT bearer tokens",
            scheme.unwrap_or_default()
        );
        doc.notes.error(node.path_of("scheme"), message);
        return None;
    }
    let format = doc.text(node, "bearerFormat");
    if format.is_some_and(|f| !f.eq_ignore_ascii_case("JWT")) {
        let message = format!(
            "bearer format `{}` is not supported: Sluice checks JWTs",
            format.unwrap_or_default()
        );
        doc.notes.error(node.path_of("bearerFormat"), message);
        return None;
    }
    Some(Source::Header(BEARER.to_owned()))
}

fn api_key_source<'a>(doc: &mut Doc<'a>, node: &Node<'a>) -> Option<Source> {
    let location = doc.text(node, "in");
    let name = doc.text(node, "name");
    if location.is_some() && name.is_none() && node.child("name").is_none() {
        doc.notes
            .error(node.path(), "an httpApiKey scheme needs a `name`");
    }
    let (location, name) = (location?, name?);
    let name_ok = !name.is_empty() && !name.contains(|c: char| c.is_whitespace() || c == ';');
    let source = match location {
        "header" if http::HeaderName::from_bytes(name.as_bytes()).is_ok() => {
            Source::Header(format!("{}: {{credentials}}", name.to_ascii_lowercase()))
        }
        "query" if name_ok => Source::Query(name.to_owned()),
        "cookie" if name_ok => Source::Cookie(name.to_owned()),
        "header" | "query" | "cookie" => {
            let message = format!("`{name}` is not a valid {location} name");
            doc.notes.error(node.path_of("name"), message);
            return None;
        }
        other => {
            let message = format!("`{other}` is not `header`, `query` or `cookie`");
            doc.notes.error(node.path_of("in"), message);
            return None;
        }
    };
    Some(source)
}

/// The scope names in the list at `node`; invalid ones are recorded.
pub(super) fn scopes<'a>(doc: &mut Doc<'a>, node: &Node<'a>) -> Vec<String> {
    let mut scopes = Vec::new();
    for (i, scope) in doc.strings(node).into_iter().enumerate() {
        if !names::valid_scope(scope) {
            let path = crate::config::index_path(&node.path(), i);
            let message = format!("`{scope}` is not a scope (no spaces, quotes or `\\`)");
            doc.notes.error(path, message);
        } else if !scopes.iter().any(|s| s == scope) {
            scopes.push(scope.to_owned());
        }
    }
    scopes
}

/// One route's access from the alternatives its security lists (any one of which must be
/// met). No alternatives: a public route. The token is the same JWT whichever way it is
/// sent, so the scopes any alternative names apply to all; Sluice holds one scope set per
/// route, so alternatives naming different scopes are refused.
pub(super) fn combine(doc: &mut Doc<'_>, alternatives: Vec<Alternative>) -> Access {
    if alternatives.is_empty() {
        return Access {
            public: true,
            ..Access::default()
        };
    }
    let mut chosen: Option<(&Alternative, Vec<&String>)> = None;
    for alternative in alternatives.iter().filter(|a| !a.scopes.is_empty()) {
        let mut scopes: Vec<&String> = alternative.scopes.iter().collect();
        scopes.sort();
        match &chosen {
            None => chosen = Some((alternative, scopes)),
            Some((first, wanted)) if *wanted != scopes => {
                let message = format!(
                    "alternative security schemes ask for different scopes than {}: a Sluice \
                     route requires one set of scopes",
                    first.path
                );
                doc.notes.error(alternative.path.clone(), message);
            }
            Some(_) => {}
        }
    }
    let scopes = chosen.map(|(a, _)| a.scopes.clone()).unwrap_or_default();
    Access {
        public: false,
        scopes,
        sources: alternatives
            .into_iter()
            .map(|a| (a.source, a.path))
            .collect(),
    }
}

/// The tenant's credential settings: every source any route accepts. Sluice reads one
/// header, one query parameter and one cookie per tenant; a second, different one of a
/// kind is recorded.
pub(super) fn credentials(doc: &mut Doc<'_>, accesses: &[&Access]) -> Credentials {
    let mut credentials = Credentials {
        header: None,
        query: None,
        cookie: None,
    };
    let mut first_paths: [Option<&str>; 3] = [None, None, None];
    for (source, path) in accesses.iter().flat_map(|a| &a.sources) {
        let (slot, first, kind, value) = match source {
            Source::Header(v) => (&mut credentials.header, &mut first_paths[0], "header", v),
            Source::Query(v) => (
                &mut credentials.query,
                &mut first_paths[1],
                "query parameter",
                v,
            ),
            Source::Cookie(v) => (&mut credentials.cookie, &mut first_paths[2], "cookie", v),
        };
        match (slot.as_deref(), *first) {
            (None, _) => {
                *slot = Some(value.clone());
                *first = Some(path);
            }
            (Some(held), Some(first)) if held != value => {
                let message = format!(
                    "a tenant reads its token from one {kind}: `{value}` conflicts with \
                     `{held}` (from {first})"
                );
                doc.notes.error(path.clone(), message);
            }
            _ => {}
        }
    }
    credentials
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    fn source_of(scheme: Value) -> (Option<Source>, Vec<String>) {
        let root = json!({ "s": scheme });
        let mut doc = Doc::new(&root);
        let node = doc.top().child("s").expect("present");
        let source = scheme_source(&mut doc, &node);
        (
            source,
            doc.notes.errors.iter().map(|e| e.to_string()).collect(),
        )
    }

    #[test]
    fn token_schemes_map_to_credential_sources() {
        let header = |t: &str| Some(Source::Header(t.to_owned()));
        let cases = [
            (
                json!({ "type": "http", "scheme": "bearer", "bearerFormat": "JWT" }),
                header(BEARER),
            ),
            (
                json!({ "type": "http", "scheme": "Bearer" }),
                header(BEARER),
            ),
            (json!({ "type": "oauth2", "flows": {} }), header(BEARER)),
            (
                json!({ "type": "openIdConnect", "openIdConnectUrl": "https://i" }),
                header(BEARER),
            ),
            (
                json!({ "type": "httpApiKey", "in": "header", "name": "X-Token" }),
                header("x-token: {credentials}"),
            ),
            (
                json!({ "type": "httpApiKey", "in": "query", "name": "access_token" }),
                Some(Source::Query("access_token".to_owned())),
            ),
            (
                json!({ "type": "httpApiKey", "in": "cookie", "name": "jwt" }),
                Some(Source::Cookie("jwt".to_owned())),
            ),
        ];
        for (scheme, expected) in cases {
            assert_eq!(
                source_of(scheme.clone()),
                (expected, Vec::new()),
                "{scheme}"
            );
        }
    }

    #[test]
    fn other_schemes_are_refused_at_their_field() {
        let cases = [
            (
                json!({ "type": "userPassword" }),
                "s.type: security scheme type `userPassword` is not supported: Sluice checks JWTs given as a bearer token (http, oauth2, openIdConnect) or by httpApiKey",
            ),
            (
                json!({ "type": "http", "scheme": "basic" }),
                "s.scheme: HTTP `basic` authentication is not supported: Sluice checks JWT bearer tokens",
            ),
            (
                json!({ "type": "http", "scheme": "bearer", "bearerFormat": "opaque" }),
                "s.bearerFormat: bearer format `opaque` is not supported: Sluice checks JWTs",
            ),
            (
                json!({ "type": "httpApiKey", "in": "body", "name": "t" }),
                "s.in: `body` is not `header`, `query` or `cookie`",
            ),
            (
                json!({ "type": "httpApiKey", "in": "header", "name": "bad header" }),
                "s.name: `bad header` is not a valid header name",
            ),
            (
                json!({ "type": "httpApiKey", "in": "query" }),
                "s: an httpApiKey scheme needs a `name`",
            ),
        ];
        for (scheme, expected) in cases {
            assert_eq!(source_of(scheme), (None, vec![expected.to_owned()]));
        }
    }

    #[test]
    fn alternatives_share_scopes_and_must_not_name_different_ones() {
        let root = json!({});
        let mut doc = Doc::new(&root);
        let alternative = |scopes: &[&str], path: &str| Alternative {
            source: Source::Header(BEARER.to_owned()),
            scopes: scopes.iter().map(|s| s.to_string()).collect(),
            path: path.to_owned(),
        };
        let access = combine(
            &mut doc,
            vec![
                alternative(&["a", "b"], "x[0]"),
                alternative(&["b", "a"], "x[1]"),
            ],
        );
        assert_eq!(access.scopes, ["a", "b"]);
        assert!(!access.public);
        assert!(doc.notes.errors.is_empty());
        let access = combine(
            &mut doc,
            vec![alternative(&[], "x[0]"), alternative(&["a"], "x[1]")],
        );
        assert_eq!(access.scopes, ["a"]);
        assert!(doc.notes.errors.is_empty());
        combine(
            &mut doc,
            vec![alternative(&["a"], "x[0]"), alternative(&["b"], "x[1]")],
        );
        assert_eq!(
            doc.notes.errors.to_string(),
            "x[1]: alternative security schemes ask for different scopes than x[0]: a Sluice \
             route requires one set of scopes"
        );
        assert!(combine(&mut doc, Vec::new()).public);
    }

    #[test]
    fn tenant_credentials_gather_every_source_and_refuse_a_second_header() {
        let root = json!({});
        let mut doc = Doc::new(&root);
        let access = |source: Source, path: &str| Access {
            public: false,
            scopes: Vec::new(),
            sources: vec![(source, path.to_owned())],
        };
        let a = access(Source::Header(BEARER.to_owned()), "a");
        let b = access(Source::Query("t".to_owned()), "b");
        let c = access(Source::Header(BEARER.to_owned()), "c");
        let d = access(Source::Header("x: {credentials}".to_owned()), "d");
        let credentials = credentials(&mut doc, &[&a, &b, &c, &d]);
        let expected = Credentials {
            header: Some(BEARER.to_owned()),
            query: Some("t".to_owned()),
            cookie: None,
        };
        assert_eq!(credentials, expected);
        assert_eq!(
            doc.notes.errors.to_string(),
            "d: a tenant reads its token from one header: `x: {credentials}` conflicts with \
             `authorization: Bearer {credentials}` (from a)"
        );
    }
}
