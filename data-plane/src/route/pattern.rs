//! Value patterns for header and scheme conditions: an exact value, or a glob where `*` stands
//! for any run of characters (possibly empty). Compiled once; matching is linear in the value.

use std::fmt;

/// A compiled exact-or-glob pattern. There is no escape: every `*` is a wildcard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    source: String,
    shape: Shape,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Shape {
    /// No `*`: the value must equal the source.
    Exact,
    /// `prefix*middle[0]*...*middle[n]*suffix`, empty middles dropped.
    Glob {
        prefix: String,
        middle: Vec<String>,
        suffix: String,
    },
}

impl Pattern {
    /// Compiles `source`; every string is a valid pattern.
    pub fn new(source: &str) -> Self {
        let mut pieces = source.split('*');
        let prefix = pieces.next().unwrap_or_default().to_owned();
        let mut rest: Vec<&str> = pieces.collect();

        // With no `*`, `rest` is empty and there is no suffix to pop.
        let shape = match rest.pop() {
            None => Shape::Exact,
            Some(suffix) => Shape::Glob {
                prefix,
                middle: rest
                    .into_iter()
                    .filter(|piece| !piece.is_empty())
                    .map(str::to_owned)
                    .collect(),
                suffix: suffix.to_owned(),
            },
        };
        let source = source.to_owned();
        Self { source, shape }
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether the pattern has no `*`.
    pub fn is_exact(&self) -> bool {
        self.shape == Shape::Exact
    }

    /// Whether `value` matches.
    ///
    /// The middle pieces are found leftmost-first, in order, after the prefix and before the
    /// suffix; with only `*` wildcards, the leftmost placement never loses a match, so there is
    /// no backtracking, and each search starts where the last ended.
    pub fn matches(&self, value: &str) -> bool {
        let (prefix, middle, suffix) = match &self.shape {
            Shape::Exact => return value == self.source,
            Shape::Glob {
                prefix,
                middle,
                suffix,
            } => (prefix, middle, suffix),
        };

        // Stripping in turn keeps the prefix and suffix from overlapping (`a*a` vs `a`).
        let Some(mut rest) = value
            .strip_prefix(prefix.as_str())
            .and_then(|rest| rest.strip_suffix(suffix.as_str()))
        else {
            return false;
        };
        for piece in middle {
            match rest.find(piece.as_str()) {
                Some(at) => rest = rest.get(at + piece.len()..).unwrap_or_default(),
                None => return false,
            }
        }
        true
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matches(pattern: &str, value: &str) -> bool {
        Pattern::new(pattern).matches(value)
    }

    #[test]
    fn exact_pattern_matches_only_the_same_value() {
        assert!(matches("https", "https"));
        assert!(!matches("https", "http"));
        assert!(!matches("https", "HTTPS"));
        assert!(!matches("https", "https "));
        assert!(matches("", ""));
        assert!(!matches("", "a"));
        assert!(Pattern::new("https").is_exact());
    }

    #[test]
    fn a_lone_star_matches_everything() {
        assert!(matches("*", ""));
        assert!(matches("*", "anything at all"));
        assert!(matches("**", "x"));
        assert!(!Pattern::new("*").is_exact());
    }

    #[test]
    fn star_matches_an_empty_run() {
        assert!(matches("a*b", "ab"));
        assert!(matches("*b", "b"));
        assert!(matches("a*", "a"));
        assert!(matches("a**b", "ab"));
    }

    #[test]
    fn prefix_and_suffix_do_not_overlap() {
        assert!(!matches("a*a", "a"));
        assert!(matches("a*a", "aa"));
        assert!(!matches("ab*ba", "aba"));
        assert!(matches("ab*ba", "abba"));
    }

    #[test]
    fn middle_pieces_are_found_in_order() {
        assert!(matches(
            "application/*json*",
            "application/merge-patch+json; q=1"
        ));
        assert!(matches("*a*b*c*", "xxaxxbxxcxx"));
        assert!(!matches("*a*b*c*", "xxcxxbxxaxx"));
        assert!(matches("v*.*.*", "v1.2.3"));
        assert!(!matches("v*.*.*", "v1.2"));
    }

    #[test]
    fn repeated_pieces_need_separate_occurrences() {
        assert!(!matches("*ab*ab*", "ab"));
        assert!(!matches("*ab*ab*", "aba"));
        assert!(matches("*ab*ab*", "abab"));
    }

    #[test]
    fn non_ascii_values_match_by_character_runs() {
        assert!(matches("caf*", "café"));
        assert!(matches("*é", "café"));
        assert!(!matches("*é*é", "café"));
    }

    #[test]
    fn adversarial_input_matches_in_reasonable_time() {
        // A backtracking matcher takes exponential time on this shape.
        let pattern = Pattern::new(&format!("{}b", "a*".repeat(30)));
        let value = "a".repeat(20_000);
        assert!(!pattern.matches(&value));
        assert!(pattern.matches(&format!("{value}b")));
    }

    #[test]
    fn display_gives_the_source() {
        assert_eq!(Pattern::new("x-*-y").to_string(), "x-*-y");
        assert_eq!(Pattern::new("x-*-y").as_str(), "x-*-y");
    }

    mod prop {
        use super::super::*;
        use proptest::prelude::*;

        /// A reference matcher by dynamic programming, to compare against.
        fn reference(pattern: &[char], value: &[char]) -> bool {
            let mut row = vec![false; value.len() + 1];
            row[0] = true;
            for &p in pattern {
                let mut next = vec![false; value.len() + 1];
                for j in 0..=value.len() {
                    next[j] = if p == '*' {
                        row[j] || (j > 0 && next[j - 1])
                    } else {
                        j > 0 && row[j - 1] && value[j - 1] == p
                    };
                }
                row = next;
            }
            row[value.len()]
        }

        proptest! {
            #[test]
            fn agrees_with_a_reference_matcher(pattern in "[ab*]{0,8}", value in "[ab]{0,10}") {
                let p: Vec<char> = pattern.chars().collect();
                let v: Vec<char> = value.chars().collect();
                prop_assert_eq!(Pattern::new(&pattern).matches(&value), reference(&p, &v));
            }
        }
    }
}
