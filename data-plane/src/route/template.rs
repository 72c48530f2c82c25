//! Route path templates (`/orders/{region}`): parsing, matching, and the order routes are
//! tried in.
//!
//! A path template is matched against a [`NormalizedPath`] segment by segment: a literal segment
//! matches itself (literals are normalized by the same rules as request paths, so `%7e` and `~`
//! are one literal), a `{name}` param matches exactly one non-empty segment. Param values are the
//! segment as it stands in the normalized path, still percent-encoded where the path is.

use std::cmp::Ordering;
use std::fmt;

use super::path::{self, NormalizedPath, PathError};

// Filling lives in its own file; re-exported here since upstream templates belong with routes.
pub use super::fill::{FillError, fill, fill_url, placeholders};

/// A parsed route path template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathTemplate {
    source: String,
    parts: Vec<Part>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    /// A literal segment in normalized form.
    Literal(String),
    /// A `{name}` param.
    Param(String),
}

impl PathTemplate {
    /// Parses a template such as `/orders/{region}/x`; `/` is the root, with no segments.
    pub fn parse(template: &str) -> Result<Self, TemplateError> {
        let body = template
            .strip_prefix('/')
            .ok_or(TemplateError::NotAbsolute)?;

        let mut parts: Vec<Part> = Vec::new();
        let mut offset = 1;
        // `/` alone is the root, with no segments at all (not one empty segment).
        for segment in body.split('/').filter(|_| !body.is_empty()) {
            let part = parse_part(segment, offset)?;
            if let Part::Param(name) = &part
                && parts.contains(&part)
            {
                return Err(TemplateError::DuplicateParam { name: name.clone() });
            }
            parts.push(part);
            offset += segment.len() + 1;
        }

        let source = template.to_owned();
        Ok(Self { source, parts })
    }

    /// The template as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// The param names, in template order.
    pub fn params(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|part| match part {
            Part::Param(name) => Some(name.as_str()),
            Part::Literal(_) => None,
        })
    }

    /// The params of `path` if this template matches it, else `None`.
    pub fn matches(&self, path: &NormalizedPath) -> Option<Params> {
        // Check first, so a miss allocates nothing.
        if !self.accepts(path) {
            return None;
        }

        let pairs = self
            .parts
            .iter()
            .zip(path.segments())
            .filter_map(|(part, segment)| match part {
                Part::Param(name) => Some((name.clone(), segment.to_owned())),
                Part::Literal(_) => None,
            })
            .collect();
        Some(Params { pairs })
    }

    fn accepts(&self, path: &NormalizedPath) -> bool {
        let mut segments = path.segments();
        let all_match = self.parts.iter().all(|part| match (part, segments.next()) {
            (Part::Literal(literal), Some(segment)) => literal == segment,
            (Part::Param(_), Some(segment)) => !segment.is_empty(),
            (_, None) => false,
        });
        all_match && segments.next().is_none()
    }

    /// The sort key that puts the most specific template first (see [`Specificity`]).
    pub fn specificity(&self) -> Specificity {
        let params = self
            .parts
            .iter()
            .map(|part| matches!(part, Part::Param(_)))
            .collect();
        Specificity { params }
    }

    /// Whether both templates match exactly the same paths (param names aside), so that the
    /// one declared second could never be chosen; config validation refuses such pairs.
    pub fn matches_same_paths_as(&self, other: &PathTemplate) -> bool {
        self.parts.len() == other.parts.len()
            && self.parts.iter().zip(&other.parts).all(|pair| match pair {
                (Part::Literal(a), Part::Literal(b)) => a == b,
                (Part::Param(_), Part::Param(_)) => true,
                _ => false,
            })
    }
}

impl fmt::Display for PathTemplate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

/// Parses one segment of a path template; `at` is its byte offset in the template.
fn parse_part(segment: &str, at: usize) -> Result<Part, TemplateError> {
    if segment.is_empty() {
        return Err(TemplateError::EmptySegment { at });
    }
    if !segment.contains(['{', '}']) {
        let mut literal = String::with_capacity(segment.len());
        path::push_segment(segment, at, &mut literal).map_err(TemplateError::Literal)?;
        return Ok(Part::Literal(literal));
    }

    let segment_owned = || segment.to_owned();
    match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
        Some(name) if !name.contains(['{', '}']) => {
            if !is_identifier(name) {
                let name = name.to_owned();
                return Err(TemplateError::BadParamName { name });
            }
            Ok(Part::Param(name.to_owned()))
        }
        _ if braces_balance(segment) => Err(TemplateError::MixedSegment {
            segment: segment_owned(),
        }),
        _ => Err(TemplateError::UnbalancedBrace {
            segment: segment_owned(),
        }),
    }
}

/// `[A-Za-z_][A-Za-z0-9_]*`
fn is_identifier(name: &str) -> bool {
    let mut bytes = name.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_');
    first_ok && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Whether every `{` is closed by a `}` before the next `{`.
fn braces_balance(text: &str) -> bool {
    let mut open = false;
    for c in text.chars() {
        match (c, open) {
            ('{', false) => open = true,
            ('}', true) => open = false,
            ('{', true) | ('}', false) => return false,
            _ => {}
        }
    }
    !open
}

/// Why a path template was refused; the message names the template's fault.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TemplateError {
    /// The template does not start with `/`.
    NotAbsolute,
    /// `//` or a trailing `/` (byte offset of the empty segment).
    EmptySegment { at: usize },
    /// A `{` without its `}` or the reverse.
    UnbalancedBrace { segment: String },
    /// A param and literal text (or two params) in one segment.
    MixedSegment { segment: String },
    /// A param name that is not `[A-Za-z_][A-Za-z0-9_]*`.
    BadParamName { name: String },
    /// The same param name twice.
    DuplicateParam { name: String },
    /// A literal segment that no normalized request path could contain.
    Literal(PathError),
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotAbsolute => f.write_str("a path template must start with '/'"),
            Self::EmptySegment { at } => write!(
                f,
                "empty segment at byte {at} of the path template ('//' or a trailing '/')"
            ),
            Self::UnbalancedBrace { segment } => {
                write!(f, "unbalanced brace in path template segment '{segment}'")
            }
            Self::MixedSegment { segment } => write!(
                f,
                "path template segment '{segment}' mixes a param with other text; \
                 a {{param}} must be a whole segment"
            ),
            Self::BadParamName { name } => write!(
                f,
                "bad param name '{name}' in path template: use letters, digits and '_', \
                 not starting with a digit"
            ),
            Self::DuplicateParam { name } => {
                write!(f, "param '{name}' appears twice in the path template")
            }
            Self::Literal(error) => write!(f, "path template literal: {error}"),
        }
    }
}

impl std::error::Error for TemplateError {}

/// The params a template matched, in template order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Params {
    pairs: Vec<(String, String)>,
}

impl Params {
    /// The value of param `name`: the matched segment, percent-encoded as in the path.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// All `(name, value)` pairs in template order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.pairs
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// The number of params.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// Whether the template had no params.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

/// Sort key of a path template: ascending order puts the most specific template first.
///
/// Templates are compared segment by segment; at the first position where one has a literal
/// and the other a param, the literal wins; if one template's shape is a prefix of the other's,
/// the longer one comes first. Templates of the same shape compare equal, so a stable sort keeps
/// their declared order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Specificity {
    /// One entry per segment: `true` for a param.
    params: Vec<bool>,
}

impl Ord for Specificity {
    fn cmp(&self, other: &Self) -> Ordering {
        for (mine, theirs) in self.params.iter().zip(&other.params) {
            // `false` (literal) sorts before `true` (param).
            let order = mine.cmp(theirs);
            if order != Ordering::Equal {
                return order;
            }
        }
        other.params.len().cmp(&self.params.len())
    }
}

impl PartialOrd for Specificity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::path::normalize;

    fn template(text: &str) -> PathTemplate {
        PathTemplate::parse(text).unwrap_or_else(|error| panic!("{text}: {error}"))
    }

    fn parse_error(text: &str) -> TemplateError {
        match PathTemplate::parse(text) {
            Ok(parsed) => panic!("{text} parsed as {parsed:?}"),
            Err(error) => error,
        }
    }

    fn params_of(text: &str, raw_path: &str) -> Option<Vec<(String, String)>> {
        let path = normalize(raw_path).unwrap_or_else(|error| panic!("{raw_path}: {error}"));
        let params = template(text).matches(&path)?;
        Some(
            params
                .iter()
                .map(|(name, value)| (name.to_owned(), value.to_owned()))
                .collect(),
        )
    }

    fn pairs(list: &[(&str, &str)]) -> Option<Vec<(String, String)>> {
        Some(
            list.iter()
                .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
                .collect(),
        )
    }

    #[test]
    fn a_param_matches_exactly_one_segment() {
        let t = "/orders/{region}/x";
        assert_eq!(params_of(t, "/orders/eu/x"), pairs(&[("region", "eu")]));
        assert_eq!(params_of(t, "/orders/eu/west/x"), None);
        assert_eq!(params_of(t, "/orders/x"), None);
        assert_eq!(params_of(t, "/orders/eu/y"), None);
        assert_eq!(params_of(t, "/orders/eu/x/more"), None);
    }

    #[test]
    fn literals_must_match_the_whole_segment() {
        assert_eq!(params_of("/events", "/events"), pairs(&[]));
        assert_eq!(params_of("/events", "/eventsx"), None);
        assert_eq!(params_of("/events", "/Events"), None);
        assert_eq!(params_of("/events", "/events/"), None);
    }

    #[test]
    fn the_root_template_matches_only_the_root() {
        assert_eq!(params_of("/", "/"), pairs(&[]));
        assert_eq!(params_of("/", "/a"), None);
        assert_eq!(params_of("/{x}", "/"), None);
    }

    #[test]
    fn a_param_never_matches_the_empty_trailing_segment() {
        assert_eq!(params_of("/orders/{region}", "/orders/"), None);
    }

    #[test]
    fn param_values_stay_as_in_the_normalized_path() {
        let t = "/files/{name}";
        assert_eq!(
            params_of(t, "/files/caf%c3%a9"),
            pairs(&[("name", "caf%C3%A9")])
        );
        assert_eq!(
            params_of(t, "/files/%252e%252e"),
            pairs(&[("name", "%252e%252e")])
        );
        assert_eq!(params_of(t, "/files/a;b"), pairs(&[("name", "a;b")]));
    }

    #[test]
    fn c39_a_double_slash_path_matches_the_exact_rule() {
        assert_eq!(
            params_of("/t/globex/events", "/t/globex//events"),
            pairs(&[])
        );
    }

    #[test]
    fn literals_are_normalized_like_request_paths() {
        assert_eq!(params_of("/%7euser/x", "/~user/x"), pairs(&[]));
        assert_eq!(params_of("/caf%c3%a9", "/café"), pairs(&[]));
    }

    #[test]
    fn several_params_come_back_in_template_order() {
        let matched = params_of("/a/{first}/{second}", "/a/1/2");
        assert_eq!(matched, pairs(&[("first", "1"), ("second", "2")]));

        let path = normalize("/a/1/2").unwrap_or_else(|error| panic!("{error}"));
        let params = template("/a/{first}/{second}").matches(&path);
        let params = params.unwrap_or_else(|| panic!("no match"));
        assert_eq!(params.get("second"), Some("2"));
        assert_eq!(params.get("third"), None);
        assert_eq!(params.len(), 2);
        assert!(!params.is_empty());
    }

    #[test]
    fn params_lists_the_names() {
        let parsed = template("/a/{x}/b/{y_2}");
        let names: Vec<&str> = parsed.params().collect();
        assert_eq!(names, ["x", "y_2"]);
        assert_eq!(template("/a/{x}").as_str(), "/a/{x}");
    }

    #[test]
    fn malformed_templates_are_refused_with_the_fault() {
        assert_eq!(parse_error("orders"), TemplateError::NotAbsolute);
        assert_eq!(parse_error(""), TemplateError::NotAbsolute);
        assert_eq!(parse_error("/a//b"), TemplateError::EmptySegment { at: 3 });
        assert_eq!(parse_error("/a/"), TemplateError::EmptySegment { at: 3 });
        assert_eq!(parse_error("//"), TemplateError::EmptySegment { at: 1 });
    }

    #[test]
    fn brace_faults_are_named() {
        let unbalanced = |segment: &str| TemplateError::UnbalancedBrace {
            segment: segment.to_owned(),
        };
        let mixed = |segment: &str| TemplateError::MixedSegment {
            segment: segment.to_owned(),
        };
        assert_eq!(parse_error("/{region"), unbalanced("{region"));
        assert_eq!(parse_error("/region}"), unbalanced("region}"));
        assert_eq!(parse_error("/{{x}}"), unbalanced("{{x}}"));
        assert_eq!(parse_error("/v{n}"), mixed("v{n}"));
        assert_eq!(parse_error("/{a}{b}"), mixed("{a}{b}"));
        assert_eq!(parse_error("/{a}.json"), mixed("{a}.json"));
    }

    #[test]
    fn bad_and_duplicate_param_names_are_refused() {
        let bad = |name: &str| TemplateError::BadParamName {
            name: name.to_owned(),
        };
        assert_eq!(parse_error("/{}"), bad(""));
        assert_eq!(parse_error("/{1x}"), bad("1x"));
        assert_eq!(parse_error("/{a-b}"), bad("a-b"));
        assert_eq!(parse_error("/{a.b}"), bad("a.b"));
        assert_eq!(
            parse_error("/{id}/x/{id}"),
            TemplateError::DuplicateParam {
                name: "id".to_owned()
            }
        );
    }

    #[test]
    fn literals_that_no_request_path_could_hold_are_refused() {
        let literal = |error| TemplateError::Literal(error);
        assert_eq!(
            parse_error("/a/../b"),
            literal(PathError::DotSegment {
                at: 3,
                segment: "..".to_owned()
            })
        );
        assert_eq!(
            parse_error("/a%2Fb"),
            literal(PathError::EncodedSeparator {
                at: 2,
                encoded: "%2F".to_owned()
            })
        );
    }

    #[test]
    fn template_errors_read_clearly() {
        assert_eq!(
            parse_error("/v{n}").to_string(),
            "path template segment 'v{n}' mixes a param with other text; \
             a {param} must be a whole segment"
        );
        assert_eq!(
            parse_error("/{id}/{id}").to_string(),
            "param 'id' appears twice in the path template"
        );
    }

    #[test]
    fn sorting_by_specificity_puts_literals_first_then_longer() {
        let declared = [
            "/{a}/{b}",
            "/{a}",
            "/orders/{id}",
            "/orders/{id}/items",
            "/orders/latest",
            "/{a}/latest",
            "/orders",
            "/",
            "/orders/{other}",
        ];
        let mut templates: Vec<PathTemplate> = declared.iter().map(|t| template(t)).collect();
        templates.sort_by_key(PathTemplate::specificity);
        let sorted: Vec<&str> = templates.iter().map(PathTemplate::as_str).collect();
        assert_eq!(
            sorted,
            [
                "/orders/latest",
                "/orders/{id}/items",
                "/orders/{id}",
                "/orders/{other}",
                "/orders",
                "/{a}/latest",
                "/{a}/{b}",
                "/{a}",
                "/",
            ]
        );
    }

    #[test]
    fn same_shape_templates_are_detected() {
        let same = |a: &str, b: &str| template(a).matches_same_paths_as(&template(b));
        assert!(same("/a/{x}", "/a/{y}"));
        assert!(same("/", "/"));
        assert!(!same("/a/{x}", "/b/{x}"));
        assert!(!same("/a/{x}", "/a/x"));
        assert!(!same("/a/{x}", "/a/{x}/c"));
    }

    mod prop {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn parsing_never_panics(text in "/?[a-z{}/%.2eE]{0,24}") {
                if let Ok(parsed) = PathTemplate::parse(&text) {
                    prop_assert_eq!(parsed.as_str(), text.as_str());
                }
            }
        }
    }
}
