//! Config paths as the node writes them (`tenants.acme.hosts[1]`, `events."order.created"`)
//! read into segments, and segments written as JSON Pointers (RFC 6901).

/// One step of a config path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    /// A mapping key.
    Key(String),
    /// A list index.
    Index(usize),
}

/// Splits a config path into segments. Keys are joined by `.`, list items written `[i]`, and
/// a key holding `.`, `[`, `]`, `"`, `\` or spaces is double-quoted with `\` escapes.
pub fn parse(path: &str) -> Vec<Segment> {
    let mut segments = Vec::new();
    let mut chars = path.chars().peekable();
    while let Some(&c) = chars.peek() {
        match c {
            '.' => _ = chars.next(),
            '"' => {
                chars.next();
                segments.push(Segment::Key(quoted(&mut chars)));
            }
            '[' => {
                chars.next();
                let digits: String = chars.by_ref().take_while(|c| *c != ']').collect();
                match digits.parse() {
                    Ok(index) => segments.push(Segment::Index(index)),
                    Err(_) => segments.push(Segment::Key(format!("[{digits}]"))),
                }
            }
            _ => {
                let mut key = String::new();
                while let Some(&c) = chars.peek() {
                    if c == '.' || c == '[' {
                        break;
                    }
                    key.push(c);
                    chars.next();
                }
                segments.push(Segment::Key(key));
            }
        }
    }
    segments
}

/// Reads a quoted key up to its closing quote (already past the opening one).
fn quoted(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) -> String {
    let mut key = String::new();
    while let Some(c) = chars.next() {
        match c {
            '"' => break,
            '\\' => key.extend(chars.next()),
            c => key.push(c),
        }
    }
    key
}

/// The segments as a JSON Pointer: `/upstream/url`, `/hosts/1`; `""` for none.
pub fn pointer(segments: &[Segment]) -> String {
    let mut pointer = String::new();
    for segment in segments {
        pointer.push('/');
        match segment {
            Segment::Key(key) => pointer.push_str(&key.replace('~', "~0").replace('/', "~1")),
            Segment::Index(index) => pointer.push_str(&index.to_string()),
        }
    }
    pointer
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Segment {
        Segment::Key(k.to_owned())
    }

    #[test]
    fn plain_keys_and_indexes_split() {
        let segments = parse("tenants.acme.hosts[1]");
        assert_eq!(
            segments,
            vec![key("tenants"), key("acme"), key("hosts"), Segment::Index(1)]
        );
    }

    #[test]
    fn quoted_keys_keep_dots_and_escaped_quotes() {
        let segments = parse(r#"events."order.created".x"#);
        assert_eq!(
            segments,
            vec![key("events"), key("order.created"), key("x")]
        );
        assert_eq!(
            parse(r#"t."say \"hi\"""#),
            vec![key("t"), key(r#"say "hi""#)]
        );
    }

    #[test]
    fn nested_list_items_follow_each_other() {
        let segments = parse("listeners[0][2].tls");
        let expected = vec![
            key("listeners"),
            Segment::Index(0),
            Segment::Index(2),
            key("tls"),
        ];
        assert_eq!(segments, expected);
    }

    #[test]
    fn pointers_escape_tilde_and_slash() {
        let segments = vec![key("headers"), key("a/b~c"), Segment::Index(0)];
        assert_eq!(pointer(&segments), "/headers/a~1b~0c/0");
        assert_eq!(pointer(&[]), "");
        assert_eq!(parse(""), vec![]);
    }
}
