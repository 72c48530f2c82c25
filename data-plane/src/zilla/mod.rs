//! Importing a Zilla `zilla.yaml`: the subset that makes an SSE proxy (tcp and tls servers,
//! an http server, sse server and client, http and tcp clients, http-filesystem with a
//! filesystem server, a jwt guard, filesystem vaults, inline and filesystem catalogs with
//! json models, stdout and prometheus exporters, `${{env.NAME}}`) becomes Sluice's own
//! [`Config`], with a [`Report`] of what was mapped, what was not, and where behaviour
//! differs.
//!
//! The steps: `${{env.NAME}}` is replaced as in Sluice's own file; the YAML is read into an
//! untyped tree (`tree`), then into Zilla's model (`read`, `bindings`, `model`); exits are
//! checked and followed (`chain`); the chains become listeners, a tenant and its routes
//! (`map`, `routes`, `paths`). Nothing is half-applied: unless `allow_partial` is set, any
//! unsupported part fails the whole import, one error per path.

mod bindings;
mod chain;
mod map;
mod model;
mod paths;
mod read;
mod render;
mod report;
mod routes;
mod tree;

use std::path::Path;

use crate::config::{Config, ConfigError, ConfigErrors, check_config, env};

pub use render::render_yaml;
pub use report::{Report, Unsupported};

use tree::{Lines, Node, Value};

/// A Zilla file turned into Sluice's config.
#[derive(Debug)]
pub struct Import {
    /// The equivalent config; it passes [`check_config`].
    pub config: Config,
    /// What was mapped, left out (only with `allow_partial`) and behaves differently.
    pub report: Report,
}

/// Whether `text` is a `zilla.yaml` rather than Sluice's own file: it has a top-level
/// `bindings` mapping and no `version: 1`.
pub fn is_zilla(text: &str) -> bool {
    let Ok(root) = tree::parse(text) else {
        return false;
    };
    let bindings = root
        .get("bindings")
        .is_some_and(|b| matches!(b.value, Value::Map(_)));
    let version_one = root
        .get("version")
        .is_some_and(|v| v.value == Value::Int(1));
    bindings && !version_one
}

/// Imports the `zilla.yaml` in `text`. `${{env.NAME}}` takes its value from `env`; relative
/// paths (key stores, folders, catalog files) are joined to `base_dir`, and catalog files
/// are read from there.
///
/// Each part that cannot be imported is an error naming its path, unless `allow_partial`:
/// then it is listed in the report, and whatever depends on it (a listener behind a tls
/// server with client certificates, a route behind a kafka binding) is left out.
pub fn import(
    text: &str,
    base_dir: &Path,
    env: &dyn Fn(&str) -> Option<String>,
    allow_partial: bool,
) -> Result<Import, ConfigErrors> {
    let root = read_tree(text, env)?;
    let lines = Lines::index(&root);
    let mut notes = report::Notes::default();
    let mut namespace = read::namespace(&root, base_dir, &mut notes);
    chain::check_exits(&mut namespace, &mut notes);
    let (config, mapped) = map::build(&namespace, base_dir, &mut notes);
    if !allow_partial && !notes.unsupported.is_empty() {
        return Err(unsupported_errors(&notes.unsupported, &lines));
    }
    check_config(&config)?;
    let report = Report {
        mapped: mapped.lines(|path| lines.line_of(path)),
        unsupported: notes.unsupported,
        differences: notes.differences,
    };
    Ok(Import { config, report })
}

/// An `env` for [`import`] that keeps every `${{env.NAME}}` as written, so that
/// [`render_yaml`] prints references instead of the secrets they stand for. Only string
/// settings can hold a reference this way: a `port: ${{env.PORT}}` then fails to import, and
/// the caller should import with the real environment instead.
pub fn keep_env_references(name: &str) -> Option<String> {
    Some(format!("${{{{env.{name}}}}}"))
}

/// The tree of `text` after env substitution; unresolved references and YAML errors fail.
fn read_tree(text: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<Node, ConfigErrors> {
    let substituted = env::substitute(text, env);
    let parsed = tree::parse(&substituted.text);
    let lines = parsed.as_ref().ok().map(Lines::index);
    let mut errors = ConfigErrors::new();
    for unresolved in &substituted.unresolved {
        let path = match &lines {
            // A reference outside every scalar is in a comment: a commented-out line may
            // name a variable this host does not set.
            Some(lines) => match lines.scalar_at(unresolved.offset) {
                Some(path) => path,
                None => continue,
            },
            None => "",
        };
        let message = match &unresolved.problem {
            env::Problem::Unset(name) => format!("environment variable {name} is not set"),
            env::Problem::Malformed => {
                "malformed environment reference: write ${{env.NAME}}".to_owned()
            }
        };
        errors.push_at(path, Some(unresolved.line), message);
    }
    errors.into_result(())?;
    let root = parsed.map_err(|(message, line)| ConfigError::new("", message).at_line(line))?;
    if root.value == Value::Null {
        return Err(ConfigError::new("", "the file is empty").into());
    }
    if root.as_map().is_none() {
        let message = "a zilla.yaml is a mapping of name, vaults, guards, catalogs, telemetry \
                       and bindings";
        return Err(ConfigError::new("", message).at_line(root.line).into());
    }
    Ok(root)
}

/// One error per unsupported part, in file order.
fn unsupported_errors(unsupported: &[Unsupported], lines: &Lines) -> ConfigErrors {
    let mut errors: Vec<ConfigError> = unsupported
        .iter()
        .map(|item| ConfigError::new(&item.path, &item.what).at_line(lines.line_of(&item.path)))
        .collect();
    errors.sort_by_key(|e| e.line.unwrap_or(usize::MAX));
    ConfigErrors(errors)
}

#[cfg(test)]
mod tests;
