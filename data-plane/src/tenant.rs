//! Tenant resolution: which tenant a request is for, by its host (`:authority` or `Host`; never
//! `X-Forwarded-Host`, which a client can set, C44) or by a path prefix such as `/t/acme`.
//!
//! Both tables are built once per config snapshot and refuse duplicates, so the answer never
//! depends on the order tenants were added (C41).

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::fmt;
use std::net::Ipv6Addr;

use crate::route::path::{self, NormalizedPath};

/// Longest host name DNS allows (RFC 1035 §2.3.4), without the trailing dot.
const MAX_HOST_LEN: usize = 253;
/// Longest DNS label.
const MAX_LABEL_LEN: usize = 63;

/// The host of an authority (`Acme.Example.:8443`) in the form tenant tables are keyed by
/// (`acme.example`): lower-cased, port and one trailing dot removed; a bracketed IPv6 literal is
/// written canonically (`[0:0::1]:443` gives `[::1]`). `None` for an empty host, userinfo, a bad
/// port, or bytes a host name cannot hold.
pub fn normalize_host(authority: &str) -> Option<String> {
    normalize_name(strip_port(authority)?)
}

/// The authority without its `:port` (RFC 3986 §3.2.3: the port may be empty).
fn strip_port(authority: &str) -> Option<&str> {
    let (host, port) = match authority.strip_prefix('[') {
        Some(bracketed) => {
            let close = bracketed.find(']')?;
            authority.split_at_checked(close + 2)?
        }
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, port),
            None => (authority, ""),
        },
    };
    let port = port.strip_prefix(':').unwrap_or(port);
    let port_ok = port.len() <= 5 && port.bytes().all(|b| b.is_ascii_digit());
    port_ok.then_some(host)
}

/// Normalizes a host without a port: a DNS-style name or a bracketed IPv6 literal.
fn normalize_name(host: &str) -> Option<String> {
    if let Some(inner) = host.strip_prefix('[') {
        let address: Ipv6Addr = inner.strip_suffix(']')?.parse().ok()?;
        return Some(format!("[{address}]"));
    }

    let host = host.strip_suffix('.').unwrap_or(host);
    let labels_ok = host
        .split('.')
        .all(|label| (1..=MAX_LABEL_LEN).contains(&label.len()) && label.bytes().all(is_host_byte));
    (labels_ok && host.len() <= MAX_HOST_LEN).then(|| host.to_ascii_lowercase())
}

/// Letters, digits, `-`, and `_` (not valid in DNS host names, but common in internal names).
fn is_host_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_'
}

/// Maps hosts to tenants: exact names (`acme.example`) and wildcards (`*.acme.example`).
#[derive(Debug, Clone)]
pub struct HostTable<T> {
    values: Vec<T>,
    exact: HashMap<String, Slot>,
    /// Keyed by the suffix after `*.`.
    wildcard: HashMap<String, Slot>,
}

/// Where an entry's value is, and who declared it (for duplicate errors).
#[derive(Debug, Clone)]
struct Slot {
    index: usize,
    owner: String,
}

impl<T> HostTable<T> {
    /// Builds the table from `(pattern, owner, value)` entries, where the owner labels the entry
    /// in errors (a tenant id). Returns every malformed pattern and every duplicate (two entries
    /// with the same pattern once normalized).
    pub fn build<P, O>(
        entries: impl IntoIterator<Item = (P, O, T)>,
    ) -> Result<Self, Vec<TableError>>
    where
        P: AsRef<str>,
        O: Into<String>,
    {
        let mut table = Self {
            values: Vec::new(),
            exact: HashMap::new(),
            wildcard: HashMap::new(),
        };
        let mut errors = Vec::new();

        for (pattern, owner, value) in entries {
            if let Err(error) = table.insert(pattern.as_ref(), owner.into(), value) {
                errors.push(error);
            }
        }
        if errors.is_empty() {
            Ok(table)
        } else {
            Err(errors)
        }
    }

    fn insert(&mut self, pattern: &str, owner: String, value: T) -> Result<(), TableError> {
        let malformed = |reason| TableError::Malformed {
            pattern: pattern.to_owned(),
            owner: owner.clone(),
            reason,
        };
        let suffix = pattern.strip_prefix("*.");
        let name = suffix.unwrap_or(pattern);
        if name.contains('*') {
            return Err(malformed(HOST_STAR));
        }
        // A wildcard stands for DNS labels, so its suffix cannot be an IP literal.
        if suffix.is_some() && name.starts_with('[') {
            return Err(malformed(HOST_NAME));
        }
        let key = normalize_name(name).ok_or_else(|| malformed(HOST_NAME))?;
        let map = match suffix {
            Some(_) => &mut self.wildcard,
            None => &mut self.exact,
        };

        let index = self.values.len();
        claim(map, key, pattern, Slot { index, owner })?;
        self.values.push(value);
        Ok(())
    }

    /// The value for `host`, as [`normalize_host`] gives it: an exact entry first, then the
    /// wildcard with the longest suffix. `*.acme.example` matches `a.acme.example` and
    /// `a.b.acme.example`, not `acme.example`.
    pub fn resolve(&self, host: &str) -> Option<&T> {
        let slot = self.exact.get(host).or_else(|| {
            // Leftmost dot first: the longest suffix that still leaves a label for the `*`.
            host.match_indices('.')
                .filter_map(|(dot, _)| host.get(dot + 1..))
                .find_map(|suffix| self.wildcard.get(suffix))
        })?;
        self.values.get(slot.index)
    }

    /// [`normalize_host`] then [`resolve`](Self::resolve).
    pub fn resolve_authority(&self, authority: &str) -> Option<&T> {
        self.resolve(&normalize_host(authority)?)
    }
}

const HOST_STAR: &str = "a '*' may only stand first, as in '*.acme.example'";
const HOST_NAME: &str = "not a host name (letters, digits, '-', '_' and dots; no port)";

/// Records `key` for `slot`, or names both owners if it is taken.
fn claim(
    map: &mut HashMap<String, Slot>,
    key: String,
    pattern: &str,
    slot: Slot,
) -> Result<(), TableError> {
    match map.entry(key) {
        Entry::Vacant(vacant) => {
            vacant.insert(slot);
            Ok(())
        }
        Entry::Occupied(taken) => Err(TableError::Duplicate {
            pattern: pattern.to_owned(),
            first_owner: taken.get().owner.clone(),
            second_owner: slot.owner,
        }),
    }
}

/// Maps path prefixes (`/t/acme`) to tenants, matching whole segments only.
#[derive(Debug, Clone)]
pub struct PrefixTable<T> {
    values: Vec<T>,
    prefixes: HashMap<String, Slot>,
}

impl<T> PrefixTable<T> {
    /// Builds the table from `(prefix, owner, value)` entries. A prefix starts with `/`, has no
    /// trailing `/`, and is a normalized path (no empty, `.` or `..` segments, no escapes that
    /// normalization would change). Nested prefixes (`/t/a`, `/t/a/b`) are allowed: the longest
    /// wins. Returns every malformed prefix and every duplicate.
    pub fn build<P, O>(
        entries: impl IntoIterator<Item = (P, O, T)>,
    ) -> Result<Self, Vec<TableError>>
    where
        P: AsRef<str>,
        O: Into<String>,
    {
        let mut table = Self {
            values: Vec::new(),
            prefixes: HashMap::new(),
        };
        let mut errors = Vec::new();

        for (prefix, owner, value) in entries {
            if let Err(error) = table.insert(prefix.as_ref(), owner.into(), value) {
                errors.push(error);
            }
        }
        if errors.is_empty() {
            Ok(table)
        } else {
            Err(errors)
        }
    }

    fn insert(&mut self, prefix: &str, owner: String, value: T) -> Result<(), TableError> {
        if let Err(reason) = check_prefix(prefix) {
            let pattern = prefix.to_owned();
            return Err(TableError::Malformed {
                pattern,
                owner,
                reason,
            });
        }

        let index = self.values.len();
        claim(
            &mut self.prefixes,
            prefix.to_owned(),
            prefix,
            Slot { index, owner },
        )?;
        self.values.push(value);
        Ok(())
    }

    /// The value for the longest prefix that ends at a segment boundary of `path`, and the
    /// rest of the path after it (`/` when nothing follows). With `/t/acme` configured,
    /// `/t/acme` and `/t/acme/events` match (rest `/` and `/events`); `/t/acmex` does not.
    pub fn resolve(&self, path: &NormalizedPath) -> Option<(&T, NormalizedPath)> {
        let text = path.as_str();
        let mut end = text.len();
        loop {
            let candidate = text.get(..end)?;
            if let Some(slot) = self.prefixes.get(candidate) {
                let value = self.values.get(slot.index)?;
                return Some((value, path.rest_from(end)));
            }
            // Try the next shorter prefix that ends at a segment boundary; none is left once the
            // only `/` is the leading one.
            end = candidate.rfind('/').filter(|&slash| slash > 0)?;
        }
    }
}

/// Why `prefix` cannot be a tenant's path prefix.
fn check_prefix(prefix: &str) -> Result<(), &'static str> {
    if !prefix.starts_with('/') {
        return Err("a path prefix must start with '/'");
    }
    if prefix.ends_with('/') {
        return Err("a path prefix must not end with '/' (and cannot be '/' alone)");
    }
    match path::normalize(prefix) {
        Ok(normalized) if normalized.as_str() == prefix => Ok(()),
        _ => Err(
            "a path prefix must be a normalized path: no empty, '.' or '..' segments, \
                  no encoded unreserved characters, upper-case hex in escapes",
        ),
    }
}

/// Why a host or prefix table could not be built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TableError {
    /// A pattern or prefix that cannot be used, with the reason.
    Malformed {
        pattern: String,
        owner: String,
        reason: &'static str,
    },
    /// Two entries with the same pattern or prefix.
    Duplicate {
        pattern: String,
        first_owner: String,
        second_owner: String,
    },
}

impl fmt::Display for TableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed {
                pattern,
                owner,
                reason,
            } => write!(f, "'{pattern}' of '{owner}': {reason}"),
            Self::Duplicate {
                pattern,
                first_owner,
                second_owner,
            } => write!(
                f,
                "'{pattern}' of '{second_owner}' is already claimed by '{first_owner}'"
            ),
        }
    }
}

impl std::error::Error for TableError {}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::route::path::normalize;

    fn host(authority: &str) -> Option<String> {
        normalize_host(authority)
    }

    #[test]
    fn hosts_are_lower_cased_without_port_or_trailing_dot() {
        assert_eq!(host("Acme.Example"), Some("acme.example".to_owned()));
        assert_eq!(host("acme.example:8443"), Some("acme.example".to_owned()));
        assert_eq!(host("ACME.example.:443"), Some("acme.example".to_owned()));
        assert_eq!(host("acme.example."), Some("acme.example".to_owned()));
        assert_eq!(host("acme.example:"), Some("acme.example".to_owned()));
        assert_eq!(host("localhost"), Some("localhost".to_owned()));
        assert_eq!(host("127.0.0.1:7143"), Some("127.0.0.1".to_owned()));
        assert_eq!(host("my_svc.internal"), Some("my_svc.internal".to_owned()));
    }

    #[test]
    fn bracketed_ipv6_hosts_are_written_canonically() {
        assert_eq!(host("[::1]:443"), Some("[::1]".to_owned()));
        assert_eq!(host("[::1]"), Some("[::1]".to_owned()));
        assert_eq!(host("[0:0::1]"), Some("[::1]".to_owned()));
        assert_eq!(host("[2001:DB8::A]:80"), Some("[2001:db8::a]".to_owned()));
    }

    #[test]
    fn malformed_hosts_give_none() {
        for authority in [
            "",
            ":443",
            ".",
            "acme.example..",
            "a..b",
            ".acme.example",
            "acme example",
            "user@acme.example",
            "user:pw@acme.example",
            "acme.example:http",
            "acme.example:123456",
            "acme.example:1:2",
            "*.acme.example",
            "acme%2eexample",
            "acme.example/x",
            "::1",
            "[::1",
            "[::1]x",
            "[::1]:x",
            "[not-ip]",
            "[fe80::1%25eth0]",
            "caf\u{e9}.example",
            "a\0b",
        ] {
            assert_eq!(host(authority), None, "{authority:?}");
        }
    }

    #[test]
    fn over_long_labels_and_names_give_none() {
        let label = "a".repeat(63);
        assert_eq!(host(&label), Some(label.clone()));
        assert_eq!(host(&"a".repeat(64)), None);
        let name = [label.as_str(); 4].join(".");
        assert_eq!(host(&name), None);
        let fits = format!("{}.{}", [label.as_str(); 3].join("."), "a".repeat(61));
        assert_eq!(host(&fits).map(|h| h.len()), Some(253));
    }

    fn hosts(entries: &[(&str, &str)]) -> HostTable<String> {
        let entries = entries
            .iter()
            .map(|(pattern, owner)| (*pattern, *owner, (*owner).to_owned()));
        HostTable::build(entries).unwrap_or_else(|errors| panic!("{errors:?}"))
    }

    fn resolve<'t>(table: &'t HostTable<String>, host: &str) -> Option<&'t str> {
        table.resolve(host).map(String::as_str)
    }

    #[test]
    fn exact_hosts_beat_wildcards() {
        let table = hosts(&[("*.acme.example", "acme"), ("vip.acme.example", "vip")]);
        assert_eq!(resolve(&table, "vip.acme.example"), Some("vip"));
        assert_eq!(resolve(&table, "a.acme.example"), Some("acme"));
    }

    #[test]
    fn a_wildcard_matches_one_or_more_labels_but_not_its_suffix() {
        let table = hosts(&[("*.acme.example", "acme")]);
        assert_eq!(resolve(&table, "a.acme.example"), Some("acme"));
        assert_eq!(resolve(&table, "a.b.acme.example"), Some("acme"));
        assert_eq!(resolve(&table, "acme.example"), None);
        assert_eq!(resolve(&table, "xacme.example"), None);
        assert_eq!(resolve(&table, "a.acme.example.evil"), None);
    }

    #[test]
    fn the_longest_wildcard_suffix_wins_in_either_order() {
        let wide = ("*.example", "wide");
        let narrow = ("*.acme.example", "narrow");
        for table in [hosts(&[wide, narrow]), hosts(&[narrow, wide])] {
            assert_eq!(resolve(&table, "a.b.acme.example"), Some("narrow"));
            assert_eq!(resolve(&table, "acme.example"), Some("wide"));
            assert_eq!(resolve(&table, "globex.example"), Some("wide"));
        }
    }

    #[test]
    fn patterns_are_normalized_like_hosts() {
        let table = hosts(&[("Acme.Localhost.", "acme"), ("*.GLOBEX.example", "globex")]);
        assert_eq!(resolve(&table, "acme.localhost"), Some("acme"));
        assert_eq!(resolve(&table, "x.globex.example"), Some("globex"));
        assert_eq!(
            table.resolve_authority("ACME.localhost:7143"),
            Some(&"acme".to_owned())
        );
        assert_eq!(table.resolve_authority("bad host"), None);
    }

    #[test]
    fn duplicate_hosts_name_both_owners() {
        let entries = [
            ("acme.example", "acme", 1),
            ("ACME.example.", "globex", 2),
            ("*.acme.example", "acme", 3),
            ("*.Acme.Example", "initech", 4),
            ("acme.example", "umbrella", 5),
        ];
        let errors = HostTable::build(entries).err();
        let duplicate = |pattern: &str, second: &str| TableError::Duplicate {
            pattern: pattern.to_owned(),
            first_owner: "acme".to_owned(),
            second_owner: second.to_owned(),
        };
        assert_eq!(
            errors,
            Some(vec![
                duplicate("ACME.example.", "globex"),
                duplicate("*.Acme.Example", "initech"),
                duplicate("acme.example", "umbrella"),
            ])
        );
        assert_eq!(
            duplicate("ACME.example.", "globex").to_string(),
            "'ACME.example.' of 'globex' is already claimed by 'acme'"
        );
    }

    #[test]
    fn malformed_host_patterns_are_refused_with_a_reason() {
        let malformed = |pattern: &str, reason| TableError::Malformed {
            pattern: pattern.to_owned(),
            owner: "acme".to_owned(),
            reason,
        };
        for (pattern, reason) in [
            ("a.*.example", HOST_STAR),
            ("*acme.example", HOST_STAR),
            ("*.*.example", HOST_STAR),
            ("*", HOST_STAR),
            ("*.", HOST_NAME),
            ("acme.example:443", HOST_NAME),
            ("", HOST_NAME),
            ("*.[::1]", HOST_NAME),
            ("acme example", HOST_NAME),
        ] {
            let errors = HostTable::build([(pattern, "acme", ())]).err();
            assert_eq!(
                errors,
                Some(vec![malformed(pattern, reason)]),
                "{pattern:?}"
            );
        }
    }

    #[test]
    fn an_ipv6_host_can_be_an_exact_entry() {
        let table = hosts(&[("[::1]", "local")]);
        assert_eq!(
            table.resolve_authority("[0::1]:7143"),
            Some(&"local".to_owned())
        );
    }

    fn prefixes(entries: &[(&str, &str)]) -> PrefixTable<String> {
        let entries = entries
            .iter()
            .map(|(prefix, owner)| (*prefix, *owner, (*owner).to_owned()));
        PrefixTable::build(entries).unwrap_or_else(|errors| panic!("{errors:?}"))
    }

    fn tenant_and_rest(table: &PrefixTable<String>, raw: &str) -> Option<(String, String)> {
        let path = normalize(raw).unwrap_or_else(|error| panic!("{raw}: {error}"));
        let (tenant, rest) = table.resolve(&path)?;
        Some((tenant.clone(), rest.as_str().to_owned()))
    }

    fn found(tenant: &str, rest: &str) -> Option<(String, String)> {
        Some((tenant.to_owned(), rest.to_owned()))
    }

    #[test]
    fn c41_prefixes_match_whole_segments_in_either_order() {
        let acme = ("/t/acme", "acme");
        let labs = ("/t/acme-labs", "acme-labs");
        for table in [prefixes(&[acme, labs]), prefixes(&[labs, acme])] {
            let resolve = |raw| tenant_and_rest(&table, raw);
            assert_eq!(
                resolve("/t/acme-labs/events"),
                found("acme-labs", "/events")
            );
            assert_eq!(resolve("/t/acmex/events"), None);
            assert_eq!(resolve("/t/acme"), found("acme", "/"));
            assert_eq!(resolve("/t/acme/"), found("acme", "/"));
            assert_eq!(resolve("/t/acme/events"), found("acme", "/events"));
            assert_eq!(resolve("/t/acme//events/"), found("acme", "/events/"));
            assert_eq!(resolve("/t"), None);
            assert_eq!(resolve("/"), None);
        }
    }

    #[test]
    fn only_acme_configured_never_matches_acme_labs() {
        let table = prefixes(&[("/t/acme", "acme")]);
        assert_eq!(tenant_and_rest(&table, "/t/acme-labs/events"), None);
        assert_eq!(tenant_and_rest(&table, "/t/acmex"), None);
        assert_eq!(tenant_and_rest(&table, "/T/acme"), None);
    }

    #[test]
    fn nested_prefixes_resolve_to_the_longest_in_either_order() {
        let outer = ("/t/a", "outer");
        let inner = ("/t/a/b", "inner");
        for table in [prefixes(&[outer, inner]), prefixes(&[inner, outer])] {
            let resolve = |raw| tenant_and_rest(&table, raw);
            assert_eq!(resolve("/t/a/b/c"), found("inner", "/c"));
            assert_eq!(resolve("/t/a/b"), found("inner", "/"));
            assert_eq!(resolve("/t/a/bc"), found("outer", "/bc"));
            assert_eq!(resolve("/t/a"), found("outer", "/"));
        }
    }

    #[test]
    fn prefixes_with_escapes_match_the_normalized_path() {
        let table = prefixes(&[("/t/caf%C3%A9", "cafe")]);
        assert_eq!(
            tenant_and_rest(&table, "/t/caf%c3%a9/x"),
            found("cafe", "/x")
        );
        assert_eq!(tenant_and_rest(&table, "/t/café/x"), found("cafe", "/x"));
    }

    #[test]
    fn malformed_prefixes_are_refused_with_a_reason() {
        for (prefix, reason) in [
            ("t/acme", "a path prefix must start with '/'"),
            ("", "a path prefix must start with '/'"),
            (
                "/",
                "a path prefix must not end with '/' (and cannot be '/' alone)",
            ),
            (
                "/t/acme/",
                "a path prefix must not end with '/' (and cannot be '/' alone)",
            ),
        ] {
            let errors = PrefixTable::build([(prefix, "acme", ())]).err();
            let expected = TableError::Malformed {
                pattern: prefix.to_owned(),
                owner: "acme".to_owned(),
                reason,
            };
            assert_eq!(errors, Some(vec![expected]), "{prefix:?}");
        }
        for prefix in [
            "/t//acme",
            "/t/./acme",
            "/t/../acme",
            "/t/%61cme",
            "/t/caf%c3",
            "/t/a%2Fb",
        ] {
            let errors = PrefixTable::build([(prefix, "acme", ())]).err();
            let is_not_normalized = matches!(
                errors.as_deref(),
                Some([TableError::Malformed { reason, .. }]) if reason.contains("normalized path")
            );
            assert!(is_not_normalized, "{prefix:?}: {errors:?}");
        }
    }

    #[test]
    fn duplicate_prefixes_name_both_owners_and_every_fault_is_reported() {
        let entries = [
            ("/t/acme", "acme", ()),
            ("t/bad", "bad", ()),
            ("/t/acme", "impostor", ()),
        ];
        let errors = PrefixTable::build(entries).err();
        assert_eq!(
            errors,
            Some(vec![
                TableError::Malformed {
                    pattern: "t/bad".to_owned(),
                    owner: "bad".to_owned(),
                    reason: "a path prefix must start with '/'",
                },
                TableError::Duplicate {
                    pattern: "/t/acme".to_owned(),
                    first_owner: "acme".to_owned(),
                    second_owner: "impostor".to_owned(),
                },
            ])
        );
    }

    mod prop {
        use super::super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn normalize_host_never_panics_and_is_idempotent(authority in any::<String>()) {
                if let Some(host) = normalize_host(&authority) {
                    prop_assert_eq!(normalize_host(&host), Some(host.clone()));
                }
            }

            #[test]
            fn host_like_inputs_are_idempotent(authority in "[a-zA-Z0-9.:\\[\\]_-]{0,30}") {
                if let Some(host) = normalize_host(&authority) {
                    prop_assert_eq!(normalize_host(&host), Some(host.clone()));
                }
            }
        }
    }
}
