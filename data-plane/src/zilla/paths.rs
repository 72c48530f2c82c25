//! Zilla's path and header patterns against Sluice's route templates.
//!
//! Zilla compiles a pattern to a regular expression: `*` is any run of characters and a
//! `{name}` param is one or more characters, `/` included. Sluice's templates are made of
//! whole segments: a literal or a `{name}` param that matches exactly one segment. Only the
//! patterns with a Sluice equivalent (or a close one, reported as a difference) convert.

/// A Zilla path pattern converted to a Sluice route template.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Template {
    /// E.g. `/events/{id}`.
    pub path: String,
    /// Param names in order; a trailing `*` became the last one.
    pub params: Vec<String>,
}

impl Template {
    /// The param the template ends with, if it ends with one.
    pub fn last_param(&self) -> Option<&str> {
        let last = self.path.rsplit('/').next()?;
        let name = last.strip_prefix('{')?.strip_suffix('}')?;
        Some(name)
    }

    /// The literal segments before the last, joined by `/` (no leading `/`).
    pub fn folder(&self) -> String {
        let mut segments: Vec<&str> = self.path.split('/').skip(1).collect();
        segments.pop();
        segments.join("/")
    }

    /// Literal segments kept, params blanked: two templates with one shape match the same
    /// requests, so only one of them can be a route.
    pub fn shape(&self) -> String {
        let blank = |segment: &str| {
            if segment.starts_with('{') {
                "{}".to_owned()
            } else {
                segment.to_owned()
            }
        };
        self.path
            .split('/')
            .map(blank)
            .collect::<Vec<_>>()
            .join("/")
    }
}

/// Converts `pattern` (which must start with `/`); the error says why it has no Sluice form.
pub(super) fn template(pattern: &str) -> Result<Template, String> {
    let Some(body) = pattern.strip_prefix('/') else {
        return Err(format!("`{pattern}` does not start with `/`"));
    };
    let segments: Vec<&str> = if body.is_empty() {
        Vec::new()
    } else {
        body.split('/').collect()
    };
    let mut template = Template {
        path: String::new(),
        params: Vec::new(),
    };
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        let part = segment_part(segment, last, &template.params, pattern)?;
        if let Some(name) = part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            template.params.push(name.to_owned());
        }
        template.path.push('/');
        template.path.push_str(&part);
    }
    if template.path.is_empty() {
        template.path.push('/');
    }
    Ok(template)
}

fn segment_part(
    segment: &str,
    last: bool,
    taken: &[String],
    pattern: &str,
) -> Result<String, String> {
    if segment == "*" && last {
        return Ok(format!("{{{}}}", free_name("path", taken)));
    }
    if let Some(name) = segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        if is_identifier(name) && !taken.iter().any(|t| t == name) {
            return Ok(segment.to_owned());
        }
        return Err(format!(
            "`{pattern}`: `{segment}` is not a param Sluice can use"
        ));
    }
    if segment.is_empty() || segment == "." || segment == ".." {
        return Err(format!("`{pattern}` has an empty, `.` or `..` segment"));
    }
    if segment.bytes().all(is_literal_byte) {
        return Ok(segment.to_owned());
    }
    Err(format!(
        "`{pattern}`: Sluice matches whole path segments, a literal or a `{{name}}` param (one \
         segment), or a `*` at the end; `{segment}` is neither"
    ))
}

/// Bytes a literal segment may hold as written (RFC 3986 `pchar` without `%` escapes, and
/// without `*`, which Zilla reads as a wildcard).
fn is_literal_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"-._~!$&'()+,;=:@".contains(&byte)
}

/// `[A-Za-z_][A-Za-z0-9_]*`, the param names both sides accept.
fn is_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    let first = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    first && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// `base`, or `base2`, `base3`... whichever is not taken.
fn free_name(base: &str, taken: &[String]) -> String {
    let mut name = base.to_owned();
    let mut n = 1;
    while taken.contains(&name) {
        n += 1;
        name = format!("{base}{n}");
    }
    name
}

/// The one path two stacked conditions (an http route's `:path`, then an sse or
/// http-filesystem route's `path`) both accept, when one is a special case of the other.
/// `Err` when neither contains the other.
pub(super) fn combine<'a>(
    outer: Option<&'a str>,
    inner: Option<&'a str>,
) -> Result<Option<&'a str>, ()> {
    match (outer, inner) {
        (None, path) | (path, None) => Ok(path),
        (Some(a), Some(b)) if a == b || covers(a, b) => Ok(Some(b)),
        (Some(a), Some(b)) if covers(b, a) => Ok(Some(a)),
        _ => Err(()),
    }
}

/// Whether `general` accepts every path `specific` accepts: its wildcards are at the end
/// and `specific` starts with what comes before them.
fn covers(general: &str, specific: &str) -> bool {
    let stem = match general.find(['*', '{']) {
        Some(at) => &general[..at],
        None => return false,
    };
    let tail = &general[stem.len()..];
    let open_tail = tail == "*"
        || (tail.starts_with('{') && tail.ends_with('}') && !tail[1..].contains(['{', '*', '/']));
    open_tail && specific.starts_with(stem) && specific.len() > stem.len()
}

/// Zilla's wildcard match of `pattern` against `text`: `*` is any run of characters, a
/// `{name}` param one or more.
pub(super) fn glob_match(pattern: &str, text: &str) -> bool {
    let pattern = to_pieces(pattern);
    matches_from(&pattern, text)
}

#[derive(Debug, PartialEq)]
enum Piece<'a> {
    Literal(&'a str),
    /// Any run; `true` when it must not be empty.
    Any(bool),
}

fn to_pieces(pattern: &str) -> Vec<Piece<'_>> {
    let mut pieces = Vec::new();
    let mut rest = pattern;
    while let Some(at) = rest.find(['*', '{']) {
        if at > 0 {
            pieces.push(Piece::Literal(&rest[..at]));
        }
        let after = &rest[at..];
        if let Some(close) = after.starts_with('{').then(|| after.find('}')).flatten() {
            pieces.push(Piece::Any(true));
            rest = &after[close + 1..];
        } else if let Some(after_star) = after.strip_prefix('*') {
            pieces.push(Piece::Any(false));
            rest = after_star;
        } else {
            pieces.push(Piece::Literal(&after[..1]));
            rest = &after[1..];
        }
    }
    if !rest.is_empty() {
        pieces.push(Piece::Literal(rest));
    }
    pieces
}

/// Backtracking match; patterns are short config strings, so the cost is bounded by their
/// few wildcards.
fn matches_from(pieces: &[Piece<'_>], text: &str) -> bool {
    match pieces.split_first() {
        None => text.is_empty(),
        Some((Piece::Literal(literal), rest)) => text
            .strip_prefix(literal)
            .is_some_and(|after| matches_from(rest, after)),
        Some((Piece::Any(non_empty), rest)) => {
            let start = usize::from(*non_empty);
            (start..=text.len())
                .filter(|i| text.is_char_boundary(*i))
                .any(|i| matches_from(rest, &text[i..]))
        }
    }
}

/// An `:authority` pattern split into a host (port removed) and whether a port was given.
/// `None` for a host when the pattern accepts any host (`*`).
pub(super) fn authority_host(authority: &str) -> (Option<String>, bool) {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        match rest.split_once(']') {
            Some((host, tail)) => (format!("[{host}]"), tail.strip_prefix(':')),
            None => (authority.to_owned(), None),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) if port == "*" || port.bytes().all(|b| b.is_ascii_digit()) => {
                (host.to_owned(), Some(port))
            }
            _ => (authority.to_owned(), None),
        }
    };
    let host = host.trim_end_matches('.').to_ascii_lowercase();
    let any = host.is_empty() || host == "*";
    (Some(host).filter(|_| !any), port.is_some())
}

/// A route name from a template's literal segments (`/events/{id}` → `events`), following
/// Sluice's name rule; `fallback` when nothing is left.
pub(super) fn route_name(template: &Template, fallback: &str) -> String {
    let literals: Vec<&str> = template
        .path
        .split('/')
        .filter(|s| !s.is_empty() && !s.starts_with('{'))
        .collect();
    let mut name: String = literals
        .join("-")
        .chars()
        .map(|c| match c.to_ascii_lowercase() {
            c @ ('a'..='z' | '0'..='9' | '_' | '-') => c,
            _ => '-',
        })
        .collect();
    name = name.trim_matches(|c| c == '-' || c == '_').to_owned();
    name.truncate(56);
    if name.is_empty() {
        fallback.to_owned()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path_of(pattern: &str) -> Result<String, String> {
        template(pattern).map(|t| t.path)
    }

    #[test]
    fn whole_segment_patterns_convert() {
        assert_eq!(path_of("/events"), Ok("/events".to_owned()));
        assert_eq!(path_of("/{path}"), Ok("/{path}".to_owned()));
        assert_eq!(path_of("/a/{id}/b"), Ok("/a/{id}/b".to_owned()));
        assert_eq!(path_of("/events/*"), Ok("/events/{path}".to_owned()));
        assert_eq!(path_of("/{path}/*"), Ok("/{path}/{path2}".to_owned()));
        assert_eq!(path_of("/"), Ok("/".to_owned()));
    }

    #[test]
    fn patterns_inside_segments_do_not_convert() {
        for bad in [
            "events",
            "/ev*",
            "/*/x",
            "/{a}.json",
            "/a//b",
            "/a/..",
            "/%2e",
            "/{1x}",
            "/{a}/{a}",
        ] {
            assert!(template(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn templates_know_their_last_param_folder_and_shape() {
        let t = template("/static/css/{file}").expect("converts");
        assert_eq!(t.last_param(), Some("file"));
        assert_eq!(t.folder(), "static/css");
        assert_eq!(t.shape(), "/static/css/{}");
        assert_eq!(template("/events").expect("converts").last_param(), None);
    }

    #[test]
    fn stacked_conditions_combine_when_one_contains_the_other() {
        assert_eq!(combine(None, Some("/events")), Ok(Some("/events")));
        assert_eq!(combine(Some("/events"), None), Ok(Some("/events")));
        assert_eq!(
            combine(Some("/events"), Some("/events")),
            Ok(Some("/events"))
        );
        assert_eq!(combine(Some("/*"), Some("/events")), Ok(Some("/events")));
        assert_eq!(
            combine(Some("/static/{file}"), Some("/static/x")),
            Ok(Some("/static/x"))
        );
        assert_eq!(combine(Some("/events"), Some("/*")), Ok(Some("/events")));
        assert_eq!(combine(Some("/a"), Some("/b")), Err(()));
        assert_eq!(combine(None, None), Ok(None));
    }

    #[test]
    fn globs_match_like_zilla() {
        assert!(glob_match("/events", "/events"));
        assert!(glob_match("/ev*", "/events"));
        assert!(glob_match("*", ""));
        assert!(glob_match("/{path}", "/a/b"));
        assert!(!glob_match("/{path}", "/"));
        assert!(!glob_match("/events", "/events/x"));
        assert!(glob_match("G*T", "GET"));
        assert!(glob_match("/é*", "/éa"));
    }

    #[test]
    fn authorities_lose_their_port() {
        assert_eq!(
            authority_host("localhost:7143"),
            (Some("localhost".into()), true)
        );
        assert_eq!(
            authority_host("Example.COM"),
            (Some("example.com".into()), false)
        );
        assert_eq!(authority_host("[::1]:443"), (Some("[::1]".into()), true));
        assert_eq!(
            authority_host("*.example.com:*"),
            (Some("*.example.com".into()), true)
        );
        assert_eq!(authority_host("*"), (None, false));
    }

    #[test]
    fn route_names_follow_the_name_rule() {
        let name = |p: &str| route_name(&template(p).expect("converts"), "stream");
        assert_eq!(name("/events"), "events");
        assert_eq!(name("/Orders/{id}/Live.v2"), "orders-live-v2");
        assert_eq!(name("/{path}"), "stream");
    }
}
