//! Config errors: each names the setting by its path (`tenants.acme.routes.orders.upstream.url`)
//! and, where known, its line, so an operator can fix every problem in one pass.

use std::fmt;

/// One problem with the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    /// Where the problem is: keys joined by `.`, list items as `[i]`, a key holding `.`, spaces
    /// or brackets in double quotes (`events."order.created"`). Empty for the file as a whole.
    pub path: String,
    /// The 1-based line in the file, when the problem can be placed.
    pub line: Option<usize>,
    /// What is wrong and, where it helps, how to fix it.
    pub message: String,
}

impl ConfigError {
    /// An error at `path` with no known line. Control characters in `message` are escaped,
    /// since it may quote the file and ends up in terminals and logs.
    pub fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            line: None,
            message: escape_controls(message.into()),
        }
    }

    /// The same error, placed at `line` when one is given.
    #[must_use]
    pub fn at_line(mut self, line: Option<usize>) -> Self {
        self.line = line;
        self
    }
}

/// `path (line N): message`; the parts that are unknown are left out.
impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.path.is_empty(), self.line) {
            (false, Some(line)) => write!(f, "{} (line {line}): ", self.path)?,
            (false, None) => write!(f, "{}: ", self.path)?,
            (true, Some(line)) => write!(f, "line {line}: ")?,
            (true, None) => {}
        }
        f.write_str(&self.message)
    }
}

impl std::error::Error for ConfigError {}

/// Every problem found in one configuration, in the order they were found.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConfigErrors(pub Vec<ConfigError>);

impl ConfigErrors {
    /// No errors yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an error at `path` with no known line.
    pub fn push(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(ConfigError::new(path, message));
    }

    /// Adds an error at `path`, placed at `line` when one is given.
    pub fn push_at(
        &mut self,
        path: impl Into<String>,
        line: Option<usize>,
        message: impl Into<String>,
    ) {
        self.0.push(ConfigError::new(path, message).at_line(line));
    }

    /// Adds all of `other`'s errors after these.
    pub fn append(&mut self, other: ConfigErrors) {
        self.0.extend(other.0);
    }

    /// True when nothing is wrong.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many errors there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The errors in the order they were found.
    pub fn iter(&self) -> std::slice::Iter<'_, ConfigError> {
        self.0.iter()
    }

    /// `Ok(value)` when there are no errors, otherwise `Err(self)`.
    pub fn into_result<T>(self, value: T) -> Result<T, ConfigErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl From<ConfigError> for ConfigErrors {
    fn from(error: ConfigError) -> Self {
        Self(vec![error])
    }
}

impl Extend<ConfigError> for ConfigErrors {
    fn extend<I: IntoIterator<Item = ConfigError>>(&mut self, errors: I) {
        self.0.extend(errors);
    }
}

impl IntoIterator for ConfigErrors {
    type Item = ConfigError;
    type IntoIter = std::vec::IntoIter<ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a ConfigErrors {
    type Item = &'a ConfigError;
    type IntoIter = std::slice::Iter<'a, ConfigError>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

/// One error per line.
impl fmt::Display for ConfigErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("\n")?;
            }
            write!(f, "{error}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ConfigErrors {}

fn escape_controls(text: String) -> String {
    if !text.contains(char::is_control) {
        return text;
    }
    let mut escaped = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            escaped.extend(c.escape_default());
        } else {
            escaped.push(c);
        }
    }
    escaped
}

/// The path of `key` inside the mapping at `parent`.
pub fn key_path(parent: &str, key: &str) -> String {
    let mut path = String::with_capacity(parent.len() + key.len() + 1);
    path.push_str(parent);
    if !parent.is_empty() {
        path.push('.');
    }
    push_key(&mut path, key);
    path
}

/// The path of item `index` of the list at `parent`.
pub fn index_path(parent: &str, index: usize) -> String {
    format!("{parent}[{index}]")
}

/// Appends `key`, quoted when it would otherwise read as more than one path segment.
fn push_key(path: &mut String, key: &str) {
    let plain = !key.is_empty()
        && !key.chars().any(|c| {
            matches!(c, '.' | '[' | ']' | '"' | '\\') || c.is_whitespace() || c.is_control()
        });
    if plain {
        path.push_str(key);
        return;
    }
    path.push('"');
    for c in key.chars() {
        match c {
            '"' | '\\' => {
                path.push('\\');
                path.push(c);
            }
            c if c.is_control() => path.extend(c.escape_default()),
            c => path.push(c),
        }
    }
    path.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_display_shows_path_line_and_message() {
        let error = ConfigError::new("tenants.acme.hosts", "no hosts").at_line(Some(7));
        assert_eq!(error.to_string(), "tenants.acme.hosts (line 7): no hosts");
        let error = ConfigError::new("tenants.acme.hosts", "no hosts");
        assert_eq!(error.to_string(), "tenants.acme.hosts: no hosts");
        let error = ConfigError::new("", "cannot read").at_line(Some(2));
        assert_eq!(error.to_string(), "line 2: cannot read");
        assert_eq!(
            ConfigError::new("", "cannot read").to_string(),
            "cannot read"
        );
    }

    #[test]
    fn control_characters_in_messages_are_escaped() {
        let error = ConfigError::new("hosts[0]", "host `a\nb\u{1b}[31m` is bad");
        assert_eq!(error.message, "host `a\\nb\\u{1b}[31m` is bad");
    }

    #[test]
    fn errors_display_one_per_line() {
        let mut errors = ConfigErrors::new();
        assert!(errors.is_empty());
        errors.push("version", "must be 1");
        errors.push_at("listeners[0].address", Some(3), "bad address");
        assert_eq!(errors.len(), 2);
        assert_eq!(
            errors.to_string(),
            "version: must be 1\nlisteners[0].address (line 3): bad address"
        );
    }

    #[test]
    fn into_result_is_ok_only_without_errors() {
        assert_eq!(ConfigErrors::new().into_result(5), Ok(5));
        let errors = ConfigErrors::from(ConfigError::new("a", "b"));
        assert_eq!(errors.clone().into_result(5), Err(errors));
    }

    #[test]
    fn keys_with_dots_spaces_or_quotes_are_quoted_in_paths() {
        assert_eq!(key_path("", "tenants"), "tenants");
        assert_eq!(key_path("tenants", "acme"), "tenants.acme");
        assert_eq!(
            key_path("events", "order.created"),
            "events.\"order.created\""
        );
        assert_eq!(key_path("t", "a b"), "t.\"a b\"");
        assert_eq!(key_path("t", "say \"hi\""), "t.\"say \\\"hi\\\"\"");
        assert_eq!(key_path("t", ""), "t.\"\"");
        assert_eq!(key_path("events", "*"), "events.*");
        assert_eq!(index_path("listeners", 2), "listeners[2]");
    }
}
