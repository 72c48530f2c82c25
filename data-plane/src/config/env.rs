//! `${{env.NAME}}` substitution, done on the raw text before YAML parsing (as Zilla does), so
//! a reference works anywhere: values, keys, inside quoted strings.
//!
//! The rules:
//! - A reference is `${{env.NAME}}`, with optional spaces inside the braces
//!   (`${{ env.NAME }}`); `NAME` is a letter or `_`, then letters, digits or `_`.
//! - The value is inserted verbatim and not scanned again, so a value that itself holds
//!   `${{env.X}}` stays literal. Quote the YAML around it if the value may hold `:`, `#` or
//!   quotes.
//! - An unset variable is an error, never an empty string. So is a malformed reference
//!   (`${{env.}}`, `${{env.A-B}}`, a missing `}}`). Except inside a YAML comment: a
//!   commented-out line may name a variable this host does not set (see `parse`).
//! - Any other `${{...}}` (e.g. `${{vault.key}}`) and a lone `$` are left as they are.

/// Why a reference could not be replaced.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Problem {
    /// `${{env.NAME}}` where `NAME` is not set.
    Unset(String),
    /// Text starting like a reference (`${{env.`) that is not one.
    Malformed,
}

/// A reference that could not be replaced; it is left in the output as written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Unresolved {
    pub problem: Problem,
    /// 1-based line in the input text.
    pub line: usize,
    /// Byte offset of the reference in the output text.
    pub offset: usize,
}

/// The text with every resolvable reference replaced, and the ones that were not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Substituted {
    pub text: String,
    pub unresolved: Vec<Unresolved>,
}

const OPEN: &str = "${{";

/// Replaces each `${{env.NAME}}` in `text` with `lookup(NAME)`.
pub(crate) fn substitute(text: &str, lookup: &dyn Fn(&str) -> Option<String>) -> Substituted {
    let mut out = Substituted {
        text: String::with_capacity(text.len()),
        unresolved: Vec::new(),
    };
    let mut rest = text;
    while let Some(start) = rest.find(OPEN) {
        out.text.push_str(&rest[..start]);
        let reference = &rest[start..];
        let consumed = match parse_reference(reference) {
            Parsed::NotEnv => {
                out.text.push_str(OPEN);
                OPEN.len()
            }
            Parsed::Env { name, len } => match lookup(name) {
                Some(value) => {
                    out.text.push_str(&value);
                    len
                }
                None => keep(
                    &mut out,
                    text,
                    reference,
                    len,
                    Problem::Unset(name.to_owned()),
                ),
            },
            Parsed::Malformed { len } => keep(&mut out, text, reference, len, Problem::Malformed),
        };
        rest = &reference[consumed..];
    }
    out.text.push_str(rest);
    out
}

/// Copies the first `len` bytes of `reference` unchanged and records why.
fn keep(
    out: &mut Substituted,
    input: &str,
    reference: &str,
    len: usize,
    problem: Problem,
) -> usize {
    // `reference` is a suffix of `input`, so the difference in lengths is its offset.
    let input_offset = input.len() - reference.len();
    let line = 1 + input[..input_offset].matches('\n').count();
    out.unresolved.push(Unresolved {
        problem,
        line,
        offset: out.text.len(),
    });
    out.text.push_str(&reference[..len]);
    len
}

enum Parsed<'a> {
    /// Not an env reference: leave `${{` as it is and go on.
    NotEnv,
    /// `${{env.NAME}}`, `len` bytes long.
    Env { name: &'a str, len: usize },
    /// Starts like an env reference but is not one; `len` bytes are kept as they are.
    Malformed { len: usize },
}

/// Reads the reference at the start of `text`, which begins with `${{`.
fn parse_reference(text: &str) -> Parsed<'_> {
    let inner = text[OPEN.len()..].trim_start_matches(' ');
    let Some(after_prefix) = inner.strip_prefix("env.") else {
        return Parsed::NotEnv;
    };
    let name_len = after_prefix
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(after_prefix.len());
    let name = &after_prefix[..name_len];
    let tail = after_prefix[name_len..].trim_start_matches(' ');
    let valid_name = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
    match tail.strip_prefix("}}") {
        Some(after) if valid_name => Parsed::Env {
            name,
            len: text.len() - after.len(),
        },
        // Keep just the opening so the rest of the line is scanned as usual.
        _ => Parsed::Malformed { len: OPEN.len() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lookup(name: &str) -> Option<String> {
        match name {
            "PASSWORD" => Some("s3cret".to_owned()),
            "PORT" => Some("7143".to_owned()),
            "NESTED" => Some("${{env.PORT}}".to_owned()),
            "EMPTY" => Some(String::new()),
            _ => None,
        }
    }

    fn run(text: &str) -> Substituted {
        substitute(text, &lookup)
    }

    #[test]
    fn references_are_replaced_anywhere() {
        let out = run("a: \"${{env.PASSWORD}}\"\n${{env.PORT}}: x ${{ env.PORT }}\n");
        assert_eq!(out.text, "a: \"s3cret\"\n7143: x 7143\n");
        assert_eq!(out.unresolved, []);
    }

    #[test]
    fn a_set_but_empty_variable_gives_an_empty_string() {
        assert_eq!(run("a: '${{env.EMPTY}}'").text, "a: ''");
    }

    #[test]
    fn values_are_not_scanned_again() {
        assert_eq!(run("a: ${{env.NESTED}}").text, "a: ${{env.PORT}}");
    }

    #[test]
    fn other_dollar_forms_are_left_alone() {
        let text = "a: $HOME ${PORT} $$ ${{vault.key}} ${{ secrets.x }} ${{ ${";
        let out = run(text);
        assert_eq!(out.text, text);
        assert_eq!(out.unresolved, []);
    }

    #[test]
    fn unset_variables_are_reported_with_their_line() {
        let out = run("a: 1\nb: x${{env.MISSING}}\nc: ${{env.OTHER}}");
        assert_eq!(out.text, "a: 1\nb: x${{env.MISSING}}\nc: ${{env.OTHER}}");
        let expected = [
            Unresolved {
                problem: Problem::Unset("MISSING".into()),
                line: 2,
                offset: 9,
            },
            Unresolved {
                problem: Problem::Unset("OTHER".into()),
                line: 3,
                offset: 29,
            },
        ];
        assert_eq!(out.unresolved, expected);
    }

    #[test]
    fn offsets_are_in_the_output_text() {
        let out = run("${{env.PASSWORD}} ${{env.MISSING}}");
        assert_eq!(out.unresolved[0].offset, "s3cret ".len());
    }

    #[test]
    fn malformed_env_references_are_reported() {
        for text in [
            "${{env.}}",
            "${{env.1X}}",
            "${{env.A-B}}",
            "${{env.A}",
            "${{ env.A B }}",
        ] {
            let out = run(text);
            assert_eq!(out.text, text);
            let expected = [Unresolved {
                problem: Problem::Malformed,
                line: 1,
                offset: 0,
            }];
            assert_eq!(out.unresolved, expected, "{text}");
        }
    }

    #[test]
    fn multibyte_text_around_references_is_kept() {
        assert_eq!(run("é: ${{env.PORT}} ü").text, "é: 7143 ü");
    }
}
