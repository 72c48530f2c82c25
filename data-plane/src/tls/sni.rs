//! Choosing the server certificate by SNI: per-tenant exact names and `*.suffix` wildcards,
//! then the listener's default.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use super::error::{TlsError, TlsErrorKind};

/// The certificates one listener can present, keyed by server name.
///
/// Lookup order for an SNI name (lower-cased, trailing dot removed): the exact name, then the
/// longest matching `*.suffix` (a wildcard covers any number of labels before the suffix, as
/// tenant host patterns do), then the default. With no match and no default the handshake fails.
pub struct SniCertificates {
    default: Option<Arc<CertifiedKey>>,
    exact: HashMap<Box<str>, Entry>,
    /// Keyed by the suffix with its leading dot (`.acme.example`), so lookups slice the SNI
    /// name instead of allocating.
    wildcards: HashMap<Box<str>, Entry>,
}

struct Entry {
    owner: Box<str>,
    key: Arc<CertifiedKey>,
}

impl SniCertificates {
    /// An empty set with an optional certificate for names nothing else matches (and for
    /// clients that send no SNI).
    pub fn new(default: Option<Arc<CertifiedKey>>) -> Self {
        Self {
            default,
            exact: HashMap::new(),
            wildcards: HashMap::new(),
        }
    }

    /// Registers `key` for `name_pattern` (`api.acme.example` or `*.acme.example`) on behalf
    /// of `owner` (a tenant name). A pattern already registered, by anyone, is an error.
    pub fn add(
        &mut self,
        name_pattern: &str,
        owner: &str,
        key: Arc<CertifiedKey>,
    ) -> Result<(), TlsError> {
        let pattern = normalize(name_pattern);
        // `host` is `name` without the wildcard's leading dot.
        let (map, name, host) = match pattern.strip_prefix('*') {
            Some(suffix) => (&mut self.wildcards, suffix, suffix.strip_prefix('.')),
            None => (&mut self.exact, pattern.as_ref(), Some(pattern.as_ref())),
        };
        if !host.is_some_and(is_host_name) {
            let invalid = TlsErrorKind::InvalidName(name_pattern.to_owned());
            return Err(TlsError::new(invalid));
        }

        if let Some(existing) = map.get(name) {
            return Err(TlsError::new(TlsErrorKind::DuplicateName {
                name: pattern.into_owned(),
                owner: existing.owner.to_string(),
            }));
        }
        let entry = Entry {
            owner: owner.into(),
            key,
        };
        map.insert(name.into(), entry);
        Ok(())
    }

    /// The owner whose certificate `sni` selects, or `None` when it selects the default or
    /// nothing. The proxy compares this with the tenant the `Host` resolves to.
    pub fn owner_for(&self, sni: &str) -> Option<&str> {
        self.lookup(sni).map(|entry| entry.owner.as_ref())
    }

    fn lookup(&self, sni: &str) -> Option<&Entry> {
        let name = normalize(sni);
        if let Some(entry) = self.exact.get(name.as_ref()) {
            return Some(entry);
        }
        // Suffixes from the left are the longest first; index 0 would leave no label for `*`.
        name.match_indices('.')
            .filter(|(at, _)| *at > 0)
            .find_map(|(at, _)| self.wildcards.get(&name[at..]))
    }
}

impl ResolvesServerCert for SniCertificates {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let chosen = match client_hello.server_name() {
            Some(sni) => self.lookup(sni).map(|entry| &entry.key),
            None => None,
        };
        let key = chosen.or(self.default.as_ref()).cloned();
        if key.is_none() {
            tracing::debug!(sni = ?client_hello.server_name(), "no certificate for server name");
        }
        key
    }
}

impl fmt::Debug for SniCertificates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let owners = |map: &HashMap<Box<str>, Entry>| {
            map.iter()
                .map(|(name, entry)| (name.to_string(), entry.owner.to_string()))
                .collect::<Vec<_>>()
        };
        f.debug_struct("SniCertificates")
            .field("default", &self.default.is_some())
            .field("exact", &owners(&self.exact))
            .field("wildcards", &owners(&self.wildcards))
            .finish()
    }
}

/// Lower-cases and drops one trailing dot, allocating only when something changes.
fn normalize(name: &str) -> Cow<'_, str> {
    let name = name.strip_suffix('.').unwrap_or(name);
    if name.bytes().any(|byte| byte.is_ascii_uppercase()) {
        Cow::Owned(name.to_ascii_lowercase())
    } else {
        Cow::Borrowed(name)
    }
}

/// Dot-separated labels of letters, digits, `-` and `_` (RFC 1123, loosened as browsers do).
fn is_host_name(name: &str) -> bool {
    name.len() <= 253
        && name.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_')
        })
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{Leaf, TestCa, handshake};
    use super::super::{CertSource, load_certified_key, server_config};
    use super::*;

    fn key(ca: &TestCa, stem: &str, leaf: &Leaf) -> Arc<CertifiedKey> {
        let (certificate, private_key) = ca.write_pem_pair(stem, leaf);
        let source = CertSource::Pem {
            certificate,
            private_key,
        };
        load_certified_key(&source).expect("load key")
    }

    /// Default for `localhost`, `other.example` and 127.0.0.1; globex on its exact name, acme on a wildcard.
    struct Tenants {
        ca: TestCa,
        default: Leaf,
        globex: Leaf,
        acme: Leaf,
        certs: Arc<SniCertificates>,
    }

    fn tenants() -> Tenants {
        let ca = TestCa::new();
        let default = ca.leaf(&["localhost", "other.example", "127.0.0.1"]);
        let globex = ca.leaf(&["api.globex.example"]);
        let acme = ca.leaf(&["*.acme.example"]);
        let mut certs = SniCertificates::new(Some(key(&ca, "default", &default)));
        let globex_key = key(&ca, "globex", &globex);
        certs
            .add("api.globex.example", "globex", globex_key)
            .expect("add globex");
        let acme_key = key(&ca, "acme", &acme);
        certs
            .add("*.acme.example", "acme", acme_key)
            .expect("add acme");
        let certs = Arc::new(certs);
        Tenants {
            ca,
            default,
            globex,
            acme,
            certs,
        }
    }

    async fn leaf_sent_for(tenants: &Tenants, sni: &str) -> std::io::Result<Vec<u8>> {
        let server =
            server_config(Arc::clone(&tenants.certs), &[b"h2".to_vec()]).expect("server config");
        let done = handshake(server, tenants.ca.client(&[b"h2"]), sni).await?;
        Ok(done.leaf.to_vec())
    }

    #[tokio::test]
    async fn an_exact_name_gets_its_tenant_certificate() {
        let tenants = tenants();
        let leaf = leaf_sent_for(&tenants, "api.globex.example").await;
        assert_eq!(leaf.expect("handshake"), tenants.globex.der.to_vec());
    }

    #[tokio::test]
    async fn a_name_under_a_wildcard_gets_its_tenant_certificate() {
        let tenants = tenants();
        let leaf = leaf_sent_for(&tenants, "eu.acme.example").await;
        assert_eq!(leaf.expect("handshake"), tenants.acme.der.to_vec());
    }

    #[tokio::test]
    async fn other_names_get_the_default_certificate() {
        let tenants = tenants();
        let leaf = leaf_sent_for(&tenants, "other.example").await;
        assert_eq!(leaf.expect("handshake"), tenants.default.der.to_vec());
    }

    #[tokio::test]
    async fn a_client_sending_no_sni_gets_the_default_certificate() {
        let tenants = tenants();
        // rustls sends no SNI for an IP address (RFC 6066 section 3 allows only host names).
        let leaf = leaf_sent_for(&tenants, "127.0.0.1").await;
        assert_eq!(leaf.expect("handshake"), tenants.default.der.to_vec());
    }

    #[tokio::test]
    async fn with_no_default_an_unknown_name_fails_the_handshake() {
        let ca = TestCa::new();
        let globex = ca.leaf(&["api.globex.example"]);
        let mut certs = SniCertificates::new(None);
        certs
            .add("api.globex.example", "globex", key(&ca, "g", &globex))
            .expect("add");
        let server = server_config(Arc::new(certs), &[]).expect("server config");

        let error = handshake(server, ca.client(&[]), "unknown.example").await;
        // rustls answers a resolver that found nothing with an access_denied alert.
        let message = error.expect_err("no certificate").to_string();
        assert_eq!(message, "received fatal alert: AccessDenied");
    }

    #[test]
    fn owner_for_names_the_tenant_whose_certificate_the_sni_picks() {
        let tenants = tenants();
        assert_eq!(
            tenants.certs.owner_for("api.globex.example"),
            Some("globex")
        );
        assert_eq!(tenants.certs.owner_for("eu.acme.example"), Some("acme"));
        assert_eq!(tenants.certs.owner_for("a.b.acme.example"), Some("acme"));
        assert_eq!(tenants.certs.owner_for("acme.example"), None);
        assert_eq!(tenants.certs.owner_for("other.example"), None);
    }

    #[test]
    fn owner_for_ignores_case_and_a_trailing_dot() {
        let tenants = tenants();
        assert_eq!(
            tenants.certs.owner_for("API.Globex.Example."),
            Some("globex")
        );
        assert_eq!(tenants.certs.owner_for("EU.ACME.example"), Some("acme"));
    }

    #[test]
    fn the_longest_wildcard_wins_and_an_exact_name_beats_both() {
        let ca = TestCa::new();
        let leaf = ca.leaf(&["x.example"]);
        let shared = key(&ca, "shared", &leaf);
        let mut certs = SniCertificates::new(None);
        certs
            .add("*.example", "catchall", Arc::clone(&shared))
            .expect("add");
        certs
            .add("*.acme.example", "acme", Arc::clone(&shared))
            .expect("add");
        certs.add("www.acme.example", "www", shared).expect("add");

        assert_eq!(certs.owner_for("eu.acme.example"), Some("acme"));
        assert_eq!(certs.owner_for("acme.example"), Some("catchall"));
        assert_eq!(certs.owner_for("www.acme.example"), Some("www"));
    }

    #[test]
    fn a_name_registered_twice_is_refused_naming_the_first_owner() {
        let tenants = tenants();
        let mut certs = SniCertificates::new(None);
        let acme_key = key(&tenants.ca, "acme2", &tenants.acme);
        certs
            .add("*.acme.example", "acme", Arc::clone(&acme_key))
            .expect("first");
        let error = certs
            .add("*.ACME.example", "evil", acme_key)
            .expect_err("duplicate");
        assert_eq!(
            error.to_string(),
            "certificate name `*.acme.example` is already used by `acme`"
        );
    }

    #[test]
    fn malformed_name_patterns_are_refused() {
        let tenants = tenants();
        let acme_key = key(&tenants.ca, "acme3", &tenants.acme);
        let mut certs = SniCertificates::new(None);
        for bad in [
            "",
            "*",
            "*.",
            "a.*.example",
            "*..example",
            "bad name.example",
            ".x",
        ] {
            let error = certs
                .add(bad, "acme", Arc::clone(&acme_key))
                .expect_err(bad);
            assert_eq!(
                error.to_string(),
                format!("invalid certificate name `{bad}` (expected a host name or `*.suffix`)")
            );
        }
    }
}
