//! What an import tells the operator: which Zilla parts became which Sluice settings, which
//! parts could not be carried over (by path), and where Sluice will behave differently.

use std::collections::HashSet;
use std::fmt;

/// The outcome of an import, besides the config itself.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Report {
    /// One line per Zilla part that was carried over, e.g.
    /// `bindings.north_tcp_server (tcp server) -> listeners[0]`.
    pub mapped: Vec<String>,
    /// Parts that could not be carried over. Without `allow_partial` each is an error; with
    /// it, they are listed here and everything that depends on them is left out.
    pub unsupported: Vec<Unsupported>,
    /// Where Sluice, running the imported config, answers differently from Zilla.
    pub differences: Vec<String>,
}

/// One part of a `zilla.yaml` that was not imported.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unsupported {
    /// Where it is, e.g. `bindings.south_kafka_client.type`.
    pub path: String,
    /// What it is and why it was not imported, e.g. `kafka: Sluice imports tcp, tls, http,
    /// sse, http-filesystem and filesystem bindings`.
    pub what: String,
}

/// Writes the report as YAML comment lines (`# ...`), so it can follow the imported file in
/// one output and the whole still reads as that file.
impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "# Imported from zilla.yaml:")?;
        for line in &self.mapped {
            writeln!(f, "#   {line}")?;
        }
        if !self.unsupported.is_empty() {
            writeln!(f, "# Not imported:")?;
            for item in &self.unsupported {
                writeln!(f, "#   {}: {}", item.path, one_line(&item.what))?;
            }
        }
        if !self.differences.is_empty() {
            writeln!(f, "# Differences from Zilla:")?;
            for line in &self.differences {
                writeln!(f, "#   {}", one_line(line))?;
            }
        }
        Ok(())
    }
}

/// Keeps a comment on one line whatever the text holds.
fn one_line(text: &str) -> String {
    text.replace(['\r', '\n'], " ")
}

/// Collects findings while the file is read and mapped.
#[derive(Debug, Default)]
pub(super) struct Notes {
    pub unsupported: Vec<Unsupported>,
    pub differences: Vec<String>,
    /// What is recorded already, so each finding is listed once however large the file.
    seen: HashSet<(String, String)>,
}

impl Notes {
    /// Records a part at `path` that cannot be imported.
    pub fn unsupported(&mut self, path: impl Into<String>, what: impl Into<String>) {
        let item = Unsupported {
            path: path.into(),
            what: what.into(),
        };
        if self.seen.insert((item.path.clone(), item.what.clone())) {
            self.unsupported.push(item);
        }
    }

    /// Records a behaviour difference, once.
    pub fn difference(&mut self, text: impl Into<String>) {
        let text = text.into();
        if self.seen.insert((String::new(), text.clone())) {
            self.differences.push(text);
        }
    }

    /// How many unsupported parts are recorded so far; compare before and after reading a
    /// part to learn whether it is whole.
    pub fn mark(&self) -> usize {
        self.unsupported.len()
    }

    /// True when nothing was recorded since `mark`.
    pub fn clean_since(&self, mark: usize) -> bool {
        self.unsupported.len() == mark
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_report_reads_as_yaml_comments() {
        let report = Report {
            mapped: vec!["bindings.tcp (tcp server) -> listeners[0]".into()],
            unsupported: vec![Unsupported {
                path: "bindings.k.type".into(),
                what: "kafka\nbinding".into(),
            }],
            differences: vec!["401 where Zilla answers 404".into()],
        };
        let expected = "\
# Imported from zilla.yaml:
#   bindings.tcp (tcp server) -> listeners[0]
# Not imported:
#   bindings.k.type: kafka binding
# Differences from Zilla:
#   401 where Zilla answers 404
";
        assert_eq!(report.to_string(), expected);
    }

    #[test]
    fn notes_keep_each_finding_once() {
        let mut notes = Notes::default();
        let mark = notes.mark();
        notes.unsupported("a", "b");
        notes.unsupported("a", "b");
        notes.difference("d");
        notes.difference("d");
        assert_eq!(notes.unsupported.len(), 1);
        assert_eq!(notes.differences, ["d"]);
        assert!(!notes.clean_since(mark));
        assert!(notes.clean_since(notes.mark()));
    }
}
