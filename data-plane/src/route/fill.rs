//! Placeholder filling of upstream URL and header templates (`http://up/stream/{region}`,
//! `Bearer {credentials}`, `{claims.group}`), encoding each value for where it stands in a URL.

use std::fmt;

use super::path;

/// One piece of a placeholder template.
enum Piece<'a> {
    Text(&'a str),
    Placeholder { name: &'a str, at: usize },
}

/// Splits a template into text and `{name}` placeholders; names are dot-separated identifiers
/// (`{tenant}`, `{claims.group}`). There is no escape for a literal brace.
fn pieces(template: &str) -> Result<Vec<Piece<'_>>, FillError> {
    let mut pieces = Vec::new();
    let mut offset = 0;

    while let Some(rest) = template.get(offset..).filter(|rest| !rest.is_empty()) {
        let Some(open) = rest.find(['{', '}']) else {
            pieces.push(Piece::Text(rest));
            break;
        };
        let at = offset + open;
        let (name, end) = placeholder_at(template, at)?;
        if open > 0 {
            pieces.push(Piece::Text(rest.get(..open).unwrap_or_default()));
        }
        pieces.push(Piece::Placeholder { name, at });
        offset = end;
    }
    Ok(pieces)
}

/// Reads the placeholder whose brace is at `at`; returns its name and the offset past its `}`.
fn placeholder_at(template: &str, at: usize) -> Result<(&str, usize), FillError> {
    let unbalanced = FillError::Unbalanced { at };
    let after = template.get(at..).and_then(|s| s.strip_prefix('{'));
    let after = after.ok_or(unbalanced.clone())?;
    let close = after.find(['{', '}']).ok_or(unbalanced.clone())?;
    let name = after.get(..close).unwrap_or_default();
    if !after.get(close..).is_some_and(|s| s.starts_with('}')) {
        return Err(unbalanced);
    }
    if !name.split('.').all(is_name_part) {
        let name = name.to_owned();
        return Err(FillError::BadName { name });
    }
    Ok((name, at + 1 + close + 1))
}

/// One dot-separated part of a placeholder name: an identifier that may also contain `-`.
fn is_name_part(part: &str) -> bool {
    let mut bytes = part.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    first_ok && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
}

/// The placeholder names of `template`, in order (repeats included), so config validation can
/// check them before any request.
pub fn placeholders(template: &str) -> Result<Vec<&str>, FillError> {
    let names = pieces(template)?
        .into_iter()
        .filter_map(|piece| match piece {
            Piece::Placeholder { name, .. } => Some(name),
            Piece::Text(_) => None,
        })
        .collect();
    Ok(names)
}

/// Replaces each `{name}` in `template` with `lookup(name)`, unchanged; for header values (the
/// HTTP layer refuses values with CR, LF or NUL when it builds the header). Use [`fill_url`]
/// for URLs.
pub fn fill<'v>(
    template: &str,
    lookup: impl Fn(&str) -> Option<&'v str>,
) -> Result<String, FillError> {
    let mut out = String::with_capacity(template.len());
    for piece in pieces(template)? {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Placeholder { name, .. } => out.push_str(value_of(name, &lookup)?),
        }
    }
    Ok(out)
}

fn value_of<'v>(
    name: &str,
    lookup: impl Fn(&str) -> Option<&'v str>,
) -> Result<&'v str, FillError> {
    lookup(name).ok_or_else(|| FillError::UnknownName {
        name: name.to_owned(),
    })
}

/// Replaces each `{name}` in a URL template with `lookup(name)`, percent-encoded for where the
/// placeholder stands, so no value can add a `/`, `?`, `#` or `..` to the URL's structure:
/// - in the scheme or authority, everything but unreserved characters is encoded;
/// - in the path, the value must be one segment's worth: `/`, `?`, `#`, `;` and `%` are encoded,
///   an empty value is an error, and a filled path with a `.` or `..` segment is an error;
/// - in the query, `&`, `=`, `+`, `;` and `#` are encoded too.
///
/// A valid escape already in a value (`%C3%A9`, as path params carry them) is kept rather than
/// encoded twice, unless it stands for an unreserved character or a separator (`%2e`, `%2F`),
/// whose `%` is encoded, so an upstream that decodes cannot turn it into a dot or slash.
pub fn fill_url<'v>(
    template: &str,
    lookup: impl Fn(&str) -> Option<&'v str>,
) -> Result<String, FillError> {
    let layout = UrlLayout::of(template);
    let mut out = String::with_capacity(template.len() + 16);

    for piece in pieces(template)? {
        let (name, at) = match piece {
            Piece::Text(text) => {
                out.push_str(text);
                continue;
            }
            Piece::Placeholder { name, at } => (name, at),
        };
        let value = value_of(name, &lookup)?;
        let part = layout.part_at(at);
        if value.is_empty() && part != UrlPart::Query {
            let name = name.to_owned();
            return Err(FillError::EmptyValue { name });
        }
        part.encode(value, &mut out);
    }

    check_path_has_no_dot_segments(&out, template)?;
    Ok(out)
}

/// Where a byte offset of a URL template lies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum UrlPart {
    Authority,
    Path,
    Query,
}

/// Byte offsets where a URL's path and query start (RFC 3986 §3); the path starts at 0 when the
/// URL has no `scheme://`.
#[derive(Debug, Clone, Copy)]
struct UrlLayout {
    path_start: usize,
    query_start: usize,
}

impl UrlLayout {
    fn of(url: &str) -> Self {
        // `scheme://` counts only where its `/` is the URL's first delimiter, so a `://` in a
        // query value is never mistaken for one.
        let first_delimiter = url.find(['/', '?', '#']);
        let after_scheme = match url.find("://") {
            Some(at) if first_delimiter == Some(at + 1) => at + 3,
            _ => 0,
        };
        let path_start = find_from(url, after_scheme, &['/', '?', '#']);
        let query_start = find_from(url, path_start, &['?', '#']);
        Self {
            path_start,
            query_start,
        }
    }

    fn part_at(self, at: usize) -> UrlPart {
        if at < self.path_start {
            UrlPart::Authority
        } else if at < self.query_start {
            UrlPart::Path
        } else {
            UrlPart::Query
        }
    }
}

/// The offset of the first of `chars` at or after `from`, or the length of `text`.
fn find_from(text: &str, from: usize, chars: &[char]) -> usize {
    text.get(from..)
        .and_then(|rest| rest.find(chars))
        .map_or(text.len(), |at| from + at)
}

impl UrlPart {
    fn encode(self, value: &str, out: &mut String) {
        match self {
            Self::Authority => encode(value, path::is_unreserved, |_| false, out),
            Self::Path => encode(value, keep_in_segment, keep_escape_in_segment, out),
            Self::Query => encode(value, keep_in_query, keep_escape_in_query, out),
        }
    }
}

/// Appends `value`, keeping bytes `keep` accepts and escapes whose decoded byte `keep_escape`
/// accepts (with upper-case hex); everything else, a lone `%` included, is percent-encoded.
fn encode(value: &str, keep: fn(u8) -> bool, keep_escape: fn(u8) -> bool, out: &mut String) {
    let bytes = value.as_bytes();
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte == b'%'
            && let Some(decoded) = bytes.get(i + 1..i + 3).and_then(path::decode_hex_pair)
            && keep_escape(decoded)
        {
            path::push_encoded(decoded, out);
            i += 3;
            continue;
        }
        if keep(byte) {
            out.push(char::from(byte));
        } else {
            path::push_encoded(byte, out);
        }
        i += 1;
    }
}

/// RFC 3986 `pchar` without `;` (path params to some servers) and without `%`.
fn keep_in_segment(byte: u8) -> bool {
    path::is_unreserved(byte)
        || matches!(
            byte,
            b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b'=' | b':' | b'@'
        )
}

fn keep_escape_in_segment(decoded: u8) -> bool {
    !path::is_unreserved(decoded) && !path::is_forbidden_escape(decoded)
}

/// RFC 3986 query characters without the ones that delimit form pairs (`&`, `=`, `+`, `;`).
fn keep_in_query(byte: u8) -> bool {
    path::is_unreserved(byte)
        || matches!(
            byte,
            b'!' | b'$' | b'\'' | b'(' | b')' | b'*' | b',' | b':' | b'@' | b'/' | b'?'
        )
}

fn keep_escape_in_query(decoded: u8) -> bool {
    !path::is_unreserved(decoded)
}

/// Refuses a filled URL whose path has a `.` or `..` segment.
fn check_path_has_no_dot_segments(url: &str, template: &str) -> Result<(), FillError> {
    let layout = UrlLayout::of(url);
    let path = url
        .get(layout.path_start..layout.query_start)
        .unwrap_or_default();
    if path
        .split('/')
        .any(|segment| segment == "." || segment == "..")
    {
        let template = template.to_owned();
        return Err(FillError::DotSegment { template });
    }
    Ok(())
}

/// Why a placeholder template could not be parsed or filled.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FillError {
    /// A `{` without its `}` or the reverse, at this byte offset.
    Unbalanced { at: usize },
    /// A placeholder name that is not dot-separated identifiers.
    BadName { name: String },
    /// A placeholder the lookup does not know.
    UnknownName { name: String },
    /// An empty value for a placeholder in a URL's authority or path.
    EmptyValue { name: String },
    /// The filled URL's path has a `.` or `..` segment.
    DotSegment { template: String },
}

impl fmt::Display for FillError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unbalanced { at } => write!(f, "unbalanced brace at byte {at} of the template"),
            Self::BadName { name } => write!(
                f,
                "bad placeholder name '{name}': use dot-separated names such as 'claims.group'"
            ),
            Self::UnknownName { name } => write!(f, "unknown placeholder '{{{name}}}'"),
            Self::EmptyValue { name } => write!(
                f,
                "placeholder '{{{name}}}' is empty where the URL needs a value"
            ),
            Self::DotSegment { template } => {
                write!(f, "filling '{template}' gives a '.' or '..' path segment")
            }
        }
    }
}

impl std::error::Error for FillError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<&'static str> {
        match name {
            "tenant" => Some("acme"),
            "region" => Some("eu-west"),
            "claims.group" => Some("ops team"),
            "slashy" => Some("a/b?c#d"),
            "encoded" => Some("caf%C3%A9"),
            "dots" => Some(".."),
            "dot" => Some("."),
            "hidden" => Some("%2e%2E"),
            "sep" => Some("%2f"),
            "pairs" => Some("a=1&b=2+3;c"),
            "empty" => Some(""),
            "lone" => Some("100%"),
            "url" => Some("http://x/y"),
            _ => None,
        }
    }

    #[test]
    fn fill_replaces_placeholders_unchanged() {
        assert_eq!(
            fill("{tenant}:{claims.group}", lookup),
            Ok("acme:ops team".to_owned())
        );
        assert_eq!(
            fill("Bearer {slashy}", lookup),
            Ok("Bearer a/b?c#d".to_owned())
        );
        assert_eq!(
            fill("no placeholders", lookup),
            Ok("no placeholders".to_owned())
        );
        assert_eq!(fill("", lookup), Ok(String::new()));
    }

    #[test]
    fn fill_refuses_unknown_names() {
        assert_eq!(
            fill("x-{nobody}", lookup),
            Err(FillError::UnknownName {
                name: "nobody".to_owned()
            })
        );
    }

    #[test]
    fn fill_works_with_a_borrowing_lookup() {
        let values = std::collections::HashMap::from([("subject".to_owned(), "u-1".to_owned())]);
        let filled = fill("{subject}", |name| values.get(name).map(String::as_str));
        assert_eq!(filled, Ok("u-1".to_owned()));
    }

    #[test]
    fn placeholders_are_listed_in_order() {
        assert_eq!(
            placeholders("http://up/{tenant}/{claims.group}?r={region}&t={tenant}"),
            Ok(vec!["tenant", "claims.group", "region", "tenant"])
        );
        assert_eq!(placeholders("plain"), Ok(vec![]));
    }

    #[test]
    fn malformed_placeholders_are_refused() {
        let unbalanced = |at| Err(FillError::Unbalanced { at });
        assert_eq!(placeholders("a{b"), unbalanced(1));
        assert_eq!(placeholders("a}b"), unbalanced(1));
        assert_eq!(placeholders("{a{b}}"), unbalanced(0));
        assert_eq!(placeholders("{a}}"), unbalanced(3));
        let bad = |name: &str| {
            Err(FillError::BadName {
                name: name.to_owned(),
            })
        };
        assert_eq!(placeholders("{}"), bad(""));
        assert_eq!(placeholders("{a..b}"), bad("a..b"));
        assert_eq!(placeholders("{claims.}"), bad("claims."));
        assert_eq!(placeholders("{9}"), bad("9"));
        assert_eq!(placeholders("{a b}"), bad("a b"));
        assert_eq!(
            placeholders("{claims.x-tenant}"),
            Ok(vec!["claims.x-tenant"])
        );
    }

    #[test]
    fn fill_url_keeps_a_value_inside_its_path_segment() {
        let filled = fill_url("http://127.0.0.1:8001/stream/{slashy}", lookup);
        assert_eq!(
            filled,
            Ok("http://127.0.0.1:8001/stream/a%2Fb%3Fc%23d".to_owned())
        );
        let filled = fill_url("http://up/{tenant}/{region}/{claims.group}", lookup);
        assert_eq!(filled, Ok("http://up/acme/eu-west/ops%20team".to_owned()));
    }

    #[test]
    fn fill_url_does_not_encode_a_path_param_twice() {
        let filled = fill_url("http://up/files/{encoded}", lookup);
        assert_eq!(filled, Ok("http://up/files/caf%C3%A9".to_owned()));
        let filled = fill_url("http://up/files/{lone}", lookup);
        assert_eq!(filled, Ok("http://up/files/100%25".to_owned()));
    }

    #[test]
    fn fill_url_encodes_escapes_of_dots_and_separators() {
        let filled = fill_url("http://up/x/{hidden}", lookup);
        assert_eq!(filled, Ok("http://up/x/%252e%252E".to_owned()));
        let filled = fill_url("http://up/x/{sep}", lookup);
        assert_eq!(filled, Ok("http://up/x/%252f".to_owned()));
    }

    #[test]
    fn fill_url_refuses_dot_segments_and_empty_path_values() {
        let dot = Err(FillError::DotSegment {
            template: "http://up/x/{dots}/y".to_owned(),
        });
        assert_eq!(fill_url("http://up/x/{dots}/y", lookup), dot);
        let joined = Err(FillError::DotSegment {
            template: "/x/.{dot}".to_owned(),
        });
        assert_eq!(fill_url("/x/.{dot}", lookup), joined);
        assert_eq!(
            fill_url("http://up/x/{empty}", lookup),
            Err(FillError::EmptyValue {
                name: "empty".to_owned()
            })
        );
    }

    #[test]
    fn fill_url_encodes_query_values_as_one_component() {
        let filled = fill_url("http://up/s?q={pairs}&e={empty}&u={url}", lookup);
        assert_eq!(
            filled,
            Ok("http://up/s?q=a%3D1%26b%3D2%2B3%3Bc&e=&u=http://x/y".to_owned())
        );
        let semicolon = fill_url("http://up/{pairs}", lookup);
        assert_eq!(semicolon, Ok("http://up/a=1&b=2+3%3Bc".to_owned()));
    }

    #[test]
    fn fill_url_encodes_authority_values_strictly() {
        let filled = fill_url("http://{tenant}.svc:8080/s", lookup);
        assert_eq!(filled, Ok("http://acme.svc:8080/s".to_owned()));
        let filled = fill_url("http://{url}.svc/s", lookup);
        assert_eq!(filled, Ok("http://http%3A%2F%2Fx%2Fy.svc/s".to_owned()));
    }

    #[test]
    fn fill_errors_read_clearly() {
        let error = fill("{who}", lookup).err().map(|error| error.to_string());
        assert_eq!(error.as_deref(), Some("unknown placeholder '{who}'"));
    }

    mod prop {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn filling_never_panics(template in ".{0,30}", value in ".{0,12}") {
                let _ = placeholders(&template);
                let _ = fill(&template, |_| Some(value.as_str()));
                let _ = fill_url(&template, |_| Some(value.as_str()));
            }

            #[test]
            fn a_path_value_stays_one_segment(value in ".{1,16}") {
                let filled = fill_url("http://up/a/{v}/b", |_| Some(value.as_str()));
                if let Ok(url) = filled {
                    let path = url.strip_prefix("http://up").unwrap_or_default();
                    prop_assert_eq!(path.split('/').count(), 4);
                    prop_assert!(!url.contains(['?', '#']));
                }
            }
        }
    }
}
