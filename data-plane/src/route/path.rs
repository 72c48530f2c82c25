//! Request path normalization: the one canonical form of a request path that tenant resolution
//! and route matching read, and that is forwarded, so what is matched is what is sent (C39, C40).
//!
//! The rules run once, before any matching, over the path of the request target (no query):
//! - the path starts with `/`; raw `\`, NUL and other control bytes are refused;
//! - every `%` starts a two-hex-digit escape; an escape of an unreserved character (RFC 3986
//!   §2.3: ALPHA, DIGIT, `-`, `.`, `_`, `~`) is decoded (§6.2.2.2); other escapes are kept with
//!   upper-case hex (§6.2.2.1); escapes of `/`, `\`, NUL, `;`, `?` and `#` are refused, since
//!   proxies and upstreams disagree on whether they separate anything (traefik CVE-2025-66490,
//!   envoy CVE-2021-29492);
//! - bytes that RFC 3986 does not allow raw in a segment (space, `"`, `{`, non-ASCII, ...) are
//!   percent-encoded, so the result is always a valid URI path;
//! - a `.` or `..` segment, after decoding, is refused: Sluice answers 400 rather than resolving
//!   dot segments (RFC 3986 §5.2.4), so there is no second interpretation to disagree with;
//! - empty segments (`//`) are merged; a trailing `/` is kept.
//!
//! Decoding happens exactly once: `%252e` stays `%252e`. Normalizing a normalized path gives it
//! back unchanged.

use std::fmt;

/// A request path in Sluice's canonical form (see the module docs); only [`normalize`] makes one.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NormalizedPath {
    text: String,
}

impl NormalizedPath {
    /// The normalized path, starting with `/`.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The segments between slashes, still percent-encoded as in [`as_str`](Self::as_str).
    ///
    /// `/` has no segments; `/a/b` has `a`, `b`; a trailing slash gives a last empty segment
    /// (`/a/` has `a`, ``), so `/a/` and `/a` are different paths to a route template.
    pub fn segments(&self) -> Segments<'_> {
        let rest = self.text.strip_prefix('/').filter(|rest| !rest.is_empty());
        Segments { rest }
    }

    /// The part of this path from byte `start` on, which must be a segment boundary (a `/` or
    /// the end); the empty remainder is `/`. Used by path-prefix tenants: what follows the
    /// prefix is itself a normalized path, matched against the tenant's routes.
    pub(crate) fn rest_from(&self, start: usize) -> NormalizedPath {
        let text = match self.text.get(start..) {
            Some(rest) if rest.starts_with('/') => rest.to_owned(),
            _ => "/".to_owned(),
        };
        NormalizedPath { text }
    }
}

impl fmt::Display for NormalizedPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Iterator over the segments of a [`NormalizedPath`].
#[derive(Debug, Clone)]
pub struct Segments<'a> {
    rest: Option<&'a str>,
}

impl<'a> Iterator for Segments<'a> {
    type Item = &'a str;

    fn next(&mut self) -> Option<&'a str> {
        let rest = self.rest?;
        match rest.split_once('/') {
            Some((segment, tail)) => {
                self.rest = Some(tail);
                Some(segment)
            }
            None => {
                self.rest = None;
                Some(rest)
            }
        }
    }
}

/// Why a request path was refused; the message is meant for the client's 400 body. Offsets are
/// byte offsets into the path as received.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PathError {
    /// The path does not start with `/`.
    NotAbsolute,
    /// A `%` not followed by two hex digits.
    BadPercentEncoding { at: usize },
    /// An escape of `/`, `\`, NUL, `;`, `?` or `#`, as received (`%2f`).
    EncodedSeparator { at: usize, encoded: String },
    /// A raw control byte (0x00-0x1F, 0x7F).
    ControlByte { at: usize, byte: u8 },
    /// A raw `\`, which some servers read as `/`.
    Backslash { at: usize },
    /// A raw `?` or `#`: the caller passed a query or fragment along with the path.
    QueryOrFragment { at: usize, byte: char },
    /// A segment that is `.` or `..` once decoded, as received (`%2e%2e`).
    DotSegment { at: usize, segment: String },
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAbsolute => f.write_str("the request path must start with '/'"),
            Self::BadPercentEncoding { at } => write!(
                f,
                "bad percent-encoding at byte {at} of the path: '%' must be followed by two hex digits"
            ),
            Self::EncodedSeparator { at, encoded } => write!(
                f,
                "encoded character {encoded} at byte {at} of the path is refused \
                 (encoded '/', '\\', NUL, ';', '?' and '#' are not allowed)"
            ),
            Self::ControlByte { at, byte } => write!(
                f,
                "control byte 0x{byte:02X} at byte {at} of the path is not allowed"
            ),
            Self::Backslash { at } => write!(f, "'\\' at byte {at} of the path is not allowed"),
            Self::QueryOrFragment { at, byte } => write!(
                f,
                "'{byte}' at byte {at}: the path must not carry a query or fragment"
            ),
            Self::DotSegment { at, segment } => write!(
                f,
                "dot segment '{segment}' at byte {at} of the path is refused \
                 ('.' and '..' segments are not allowed)"
            ),
        }
    }
}

impl std::error::Error for PathError {}

/// Normalizes `raw`, the path of a request target without its query, by the rules in the module
/// docs.
pub fn normalize(raw: &str) -> Result<NormalizedPath, PathError> {
    let body = raw.strip_prefix('/').ok_or(PathError::NotAbsolute)?;
    let mut text = String::with_capacity(raw.len());

    let mut offset = 1;
    for raw_segment in body.split('/') {
        let before = text.len();
        text.push('/');
        push_segment(raw_segment, offset, &mut text)?;
        // An empty segment comes from `//` (or the trailing slash, restored below): merge it.
        if text.len() == before + 1 {
            text.truncate(before);
        }
        offset += raw_segment.len() + 1;
    }

    if text.is_empty() || raw.ends_with('/') {
        text.push('/');
    }
    Ok(NormalizedPath { text })
}

/// Appends the normalized form of one raw segment (no `/` in it) to `out`. `offset` is where
/// the segment starts in the received path, for error messages.
pub(crate) fn push_segment(raw: &str, offset: usize, out: &mut String) -> Result<(), PathError> {
    let start = out.len();
    let bytes = raw.as_bytes();

    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte == b'%' {
            push_escape(raw, i, offset, out)?;
            i += 3;
        } else {
            push_raw(byte, offset + i, out)?;
            i += 1;
        }
    }

    let segment = out.get(start..).unwrap_or_default();
    if segment == "." || segment == ".." {
        let segment = raw.to_owned();
        return Err(PathError::DotSegment {
            at: offset,
            segment,
        });
    }
    Ok(())
}

/// Handles the escape starting at `raw[i]` (a `%`).
fn push_escape(raw: &str, i: usize, offset: usize, out: &mut String) -> Result<(), PathError> {
    let at = offset + i;
    let value = raw
        .as_bytes()
        .get(i + 1..i + 3)
        .and_then(decode_hex_pair)
        .ok_or(PathError::BadPercentEncoding { at })?;

    if is_forbidden_escape(value) {
        // The escape is three ASCII bytes (checked just above), so the slice is in bounds.
        let encoded = raw.get(i..i + 3).unwrap_or_default().to_owned();
        return Err(PathError::EncodedSeparator { at, encoded });
    }
    if is_unreserved(value) {
        out.push(char::from(value));
    } else {
        push_encoded(value, out);
    }
    Ok(())
}

/// Handles one byte that is not part of an escape.
fn push_raw(byte: u8, at: usize, out: &mut String) -> Result<(), PathError> {
    match byte {
        0x00..=0x1F | 0x7F => Err(PathError::ControlByte { at, byte }),
        b'\\' => Err(PathError::Backslash { at }),
        b'?' | b'#' => Err(PathError::QueryOrFragment {
            at,
            byte: char::from(byte),
        }),
        _ if is_pchar(byte) => {
            out.push(char::from(byte));
            Ok(())
        }
        _ => {
            push_encoded(byte, out);
            Ok(())
        }
    }
}

/// Decodes two ASCII hex digits into a byte.
pub(crate) fn decode_hex_pair(pair: &[u8]) -> Option<u8> {
    match pair {
        [high, low] => Some((hex_value(*high)? << 4) | hex_value(*low)?),
        _ => None,
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit)
        .to_digit(16)
        .and_then(|value| u8::try_from(value).ok())
}

/// Appends `%XX` with upper-case hex (RFC 3986 §2.1 recommends upper case).
pub(crate) fn push_encoded(byte: u8, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    out.push('%');
    out.push(char::from(HEX[usize::from(byte >> 4)]));
    out.push(char::from(HEX[usize::from(byte & 0x0F)]));
}

/// RFC 3986 §2.3 unreserved characters.
pub(crate) fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// Bytes whose escapes are refused in a path: separators and delimiters some component on the
/// way would act on once decoded.
pub(crate) fn is_forbidden_escape(byte: u8) -> bool {
    matches!(byte, b'/' | b'\\' | 0x00 | b';' | b'?' | b'#')
}

/// RFC 3986 §3.3 `pchar` minus `%` (escapes are handled apart): allowed raw in a segment.
fn is_pchar(byte: u8) -> bool {
    is_unreserved(byte)
        || matches!(
            byte,
            b'!' | b'$'
                | b'&'
                | b'\''
                | b'('
                | b')'
                | b'*'
                | b'+'
                | b','
                | b';'
                | b'='
                | b':'
                | b'@'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(raw: &str) -> String {
        match normalize(raw) {
            Ok(path) => path.as_str().to_owned(),
            Err(error) => panic!("{raw:?} was refused: {error}"),
        }
    }

    fn err(raw: &str) -> PathError {
        match normalize(raw) {
            Ok(path) => panic!("{raw:?} was accepted as {path}"),
            Err(error) => error,
        }
    }

    fn dot(at: usize, segment: &str) -> PathError {
        PathError::DotSegment {
            at,
            segment: segment.to_owned(),
        }
    }

    fn encoded(at: usize, encoded: &str) -> PathError {
        PathError::EncodedSeparator {
            at,
            encoded: encoded.to_owned(),
        }
    }

    #[test]
    fn c39_dot_segments_are_refused_where_they_stand() {
        assert_eq!(err("/t/acme/../globex/events"), dot(8, ".."));
        assert_eq!(err("/t/acme/x/../../globex/events"), dot(10, ".."));
        assert_eq!(err("/t/acme;v=1/../globex/events"), dot(12, ".."));
        assert_eq!(err("/t/acme/events/.."), dot(15, ".."));
    }

    #[test]
    fn c39_double_slash_is_merged_before_matching() {
        assert_eq!(ok("/t/globex//events"), "/t/globex/events");
    }

    #[test]
    fn c39_semicolon_parameters_stay_path_bytes() {
        assert_eq!(ok("/t/acme;v=1/events"), "/t/acme;v=1/events");
    }

    #[test]
    fn c40_encoded_dots_are_decoded_then_refused() {
        assert_eq!(err("/t/acme/%2e%2e/globex/events"), dot(8, "%2e%2e"));
    }

    #[test]
    fn c40_encoded_slash_is_refused_even_after_encoded_dots() {
        assert_eq!(err("/t/acme/%2E%2E%2Fglobex/events"), encoded(14, "%2F"));
        assert_eq!(err("/t/acme%2F..%2Fglobex/events"), encoded(7, "%2F"));
    }

    #[test]
    fn c40_encoded_backslash_nul_and_semicolon_are_refused() {
        assert_eq!(err("/t/acme/..%5Cglobex/events"), encoded(10, "%5C"));
        assert_eq!(err("/t/acme/events%00.json"), encoded(14, "%00"));
        assert_eq!(err("/t/acme/events%3Bx"), encoded(14, "%3B"));
    }

    #[test]
    fn c40_double_encoding_is_decoded_once_only() {
        let path = ok("/t/acme/%252e%252e/globex/events");
        assert_eq!(path, "/t/acme/%252e%252e/globex/events");
    }

    #[test]
    fn encoded_question_mark_and_hash_are_refused_in_any_case() {
        assert_eq!(err("/a%3fb"), encoded(2, "%3f"));
        assert_eq!(err("/a%23"), encoded(2, "%23"));
        assert_eq!(err("/a%2f"), encoded(2, "%2f"));
        assert_eq!(err("/a%5c"), encoded(2, "%5c"));
        assert_eq!(err("/a%3b"), encoded(2, "%3b"));
    }

    #[test]
    fn unreserved_escapes_are_decoded() {
        assert_eq!(ok("/%41%7a%30%2D%2e%5F%7E"), "/Az0-._~");
    }

    #[test]
    fn other_escapes_are_kept_with_upper_case_hex() {
        assert_eq!(ok("/caf%c3%a9/%20%25"), "/caf%C3%A9/%20%25");
    }

    #[test]
    fn mixed_dot_and_encoded_dot_is_a_dot_segment() {
        assert_eq!(err("/a/.%2E/b"), dot(3, ".%2E"));
        assert_eq!(err("/a/%2e"), dot(3, "%2e"));
        assert_eq!(err("/."), dot(1, "."));
    }

    #[test]
    fn three_dots_are_an_ordinary_segment() {
        assert_eq!(ok("/a/.../b"), "/a/.../b");
        assert_eq!(ok("/.well-known/x"), "/.well-known/x");
    }

    #[test]
    fn bad_percent_encodings_are_refused_with_their_offset() {
        assert_eq!(err("/a%"), PathError::BadPercentEncoding { at: 2 });
        assert_eq!(err("/a%4"), PathError::BadPercentEncoding { at: 2 });
        assert_eq!(err("/a%zz"), PathError::BadPercentEncoding { at: 2 });
        assert_eq!(err("/a/b%g1"), PathError::BadPercentEncoding { at: 4 });
    }

    #[test]
    fn raw_control_bytes_and_backslash_are_refused() {
        assert_eq!(err("/a\0b"), PathError::ControlByte { at: 2, byte: 0x00 });
        assert_eq!(err("/a/\tb"), PathError::ControlByte { at: 3, byte: 0x09 });
        assert_eq!(err("/a\x7f"), PathError::ControlByte { at: 2, byte: 0x7F });
        assert_eq!(err("/a\\b"), PathError::Backslash { at: 2 });
    }

    #[test]
    fn a_raw_query_or_fragment_is_refused() {
        let question = PathError::QueryOrFragment { at: 2, byte: '?' };
        assert_eq!(err("/a?b=1"), question);
        let hash = PathError::QueryOrFragment { at: 2, byte: '#' };
        assert_eq!(err("/a#top"), hash);
    }

    #[test]
    fn relative_and_empty_paths_are_refused() {
        assert_eq!(err(""), PathError::NotAbsolute);
        assert_eq!(err("a/b"), PathError::NotAbsolute);
        assert_eq!(err("*"), PathError::NotAbsolute);
    }

    #[test]
    fn slashes_merge_and_a_trailing_slash_is_kept() {
        assert_eq!(ok("/"), "/");
        assert_eq!(ok("//"), "/");
        assert_eq!(ok("///a"), "/a");
        assert_eq!(ok("/a//"), "/a/");
        assert_eq!(ok("/a/"), "/a/");
    }

    #[test]
    fn bytes_not_allowed_raw_are_percent_encoded() {
        assert_eq!(ok("/a b/{\"x\"}"), "/a%20b/%7B%22x%22%7D");
        assert_eq!(ok("/café"), "/caf%C3%A9");
        assert_eq!(ok("/[x]|^`<>"), "/%5Bx%5D%7C%5E%60%3C%3E");
    }

    #[test]
    fn sub_delims_colon_and_at_stay_raw() {
        assert_eq!(ok("/!$&'()*+,;=:@"), "/!$&'()*+,;=:@");
    }

    #[test]
    fn segments_are_split_on_slashes() {
        let segments = |raw: &str| -> Vec<String> {
            let path = normalize(raw).unwrap_or_else(|error| panic!("{error}"));
            path.segments().map(str::to_owned).collect()
        };
        assert_eq!(segments("/"), Vec::<String>::new());
        assert_eq!(segments("/a"), ["a"]);
        assert_eq!(segments("//a//b"), ["a", "b"]);
        assert_eq!(segments("/a/"), ["a", ""]);
        assert_eq!(segments("/%252e/x%41"), ["%252e", "xA"]);
    }

    #[test]
    fn rest_from_a_boundary_is_a_normalized_path() {
        let path = normalize("/t/acme/events").unwrap_or_else(|error| panic!("{error}"));
        assert_eq!(path.rest_from(7).as_str(), "/events");
        assert_eq!(path.rest_from(14).as_str(), "/");
        assert_eq!(path.rest_from(99).as_str(), "/");
    }

    #[test]
    fn error_messages_name_the_fault_and_where() {
        assert_eq!(
            err("/t/acme%2F..").to_string(),
            "encoded character %2F at byte 7 of the path is refused \
             (encoded '/', '\\', NUL, ';', '?' and '#' are not allowed)"
        );
        assert_eq!(
            err("/t/%2e%2e").to_string(),
            "dot segment '%2e%2e' at byte 3 of the path is refused \
             ('.' and '..' segments are not allowed)"
        );
        assert_eq!(
            err("/a\x01").to_string(),
            "control byte 0x01 at byte 2 of the path is not allowed"
        );
    }

    mod prop {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn normalize_never_panics_and_is_idempotent(raw in any::<String>()) {
                if let Ok(path) = normalize(&raw) {
                    let again = normalize(path.as_str());
                    prop_assert_eq!(again.as_ref().map(NormalizedPath::as_str), Ok(path.as_str()));
                }
            }

            #[test]
            fn absolute_inputs_are_idempotent(raw in "/.{0,40}") {
                if let Ok(path) = normalize(&raw) {
                    let again = normalize(path.as_str());
                    prop_assert_eq!(again.as_ref().map(NormalizedPath::as_str), Ok(path.as_str()));
                }
            }

            #[test]
            fn path_like_inputs_are_idempotent(
                raw in "/([a-zA-Z./;%~_-]|%[0-9a-fA-F]{2}|//){0,24}"
            ) {
                if let Ok(path) = normalize(&raw) {
                    prop_assert!(path.as_str().is_ascii());
                    let again = normalize(path.as_str());
                    prop_assert_eq!(again.as_ref().map(NormalizedPath::as_str), Ok(path.as_str()));
                }
            }
        }
    }
}
