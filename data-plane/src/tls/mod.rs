//! TLS for the data plane: loading certificates (PEM, PKCS#12), choosing one by SNI per
//! tenant, and building the rustls server and client configurations, all on aws-lc-rs.

mod error;
mod keystore;
mod load;
mod pem;
mod sni;

#[cfg(test)]
mod fixtures;

use std::path::Path;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::{ClientConfig, RootCertStore, ServerConfig};

pub use error::{TlsError, TlsErrorKind};
pub use load::{CertSource, load_certified_key};
pub use sni::SniCertificates;

/// Installs aws-lc-rs as the process-wide rustls provider unless one is installed already.
///
/// Call it at the start of `main` and of test harnesses: rustls panics when a build links
/// two providers and no default was chosen. Calling it again is harmless.
pub fn install_crypto_provider() {
    if CryptoProvider::get_default().is_none() {
        // Losing a race with another installer is fine: a default exists either way.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    }
}

/// The provider every config here is built with: the process default if set, else aws-lc-rs.
fn provider() -> Arc<CryptoProvider> {
    match CryptoProvider::get_default() {
        Some(provider) => Arc::clone(provider),
        None => Arc::new(rustls::crypto::aws_lc_rs::default_provider()),
    }
}

/// A server configuration that picks its certificate from `certs` by SNI and offers the
/// `alpn` protocols in the caller's order of preference (e.g. `[b"h2", b"http/1.1"]`).
///
/// TLS 1.2 and 1.3 with rustls's safe defaults; no client certificates.
pub fn server_config(
    certs: Arc<SniCertificates>,
    alpn: &[Vec<u8>],
) -> Result<Arc<ServerConfig>, TlsError> {
    check_alpn(alpn)?;
    let mut config = ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|error| TlsError::new(TlsErrorKind::Config(error)))?
        .with_no_client_auth()
        .with_cert_resolver(certs);
    config.alpn_protocols = alpn.to_vec();
    Ok(Arc::new(config))
}

/// A client configuration (for upstream and JWKS connections) trusting the system's roots
/// plus, when given, every certificate in the PEM file `extra_ca_pem`.
///
/// System roots that cannot be read are logged and skipped; a bad extra CA file is an error.
pub fn client_config(
    extra_ca_pem: Option<&Path>,
    alpn: &[Vec<u8>],
) -> Result<Arc<ClientConfig>, TlsError> {
    check_alpn(alpn)?;
    let mut roots = native_roots();
    if let Some(path) = extra_ca_pem {
        add_roots_from_pem(&mut roots, path)?;
    }
    if roots.is_empty() {
        tracing::warn!("no trusted root certificates: TLS connections to upstreams will fail");
    }

    let mut config = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|error| TlsError::new(TlsErrorKind::Config(error)))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = alpn.to_vec();
    Ok(Arc::new(config))
}

/// The operating system's trusted roots; unreadable or unparsable ones are logged, not fatal.
fn native_roots() -> RootCertStore {
    let found = rustls_native_certs::load_native_certs();
    for error in &found.errors {
        tracing::warn!(%error, "skipped unreadable system root certificates");
    }
    let mut roots = RootCertStore::empty();
    let (added, ignored) = roots.add_parsable_certificates(found.certs);
    if ignored > 0 {
        tracing::warn!(ignored, "skipped unparsable system root certificates");
    }
    tracing::debug!(added, "loaded system root certificates");
    roots
}

fn add_roots_from_pem(roots: &mut RootCertStore, path: &Path) -> Result<(), TlsError> {
    for cert in pem::read_certificates(path)? {
        roots.add(cert).map_err(|error| {
            TlsError::at(path, TlsErrorKind::InvalidCertificate(error.to_string()))
        })?;
    }
    Ok(())
}

/// RFC 7301 section 3.1: a protocol id is 1 to 255 bytes; rustls would refuse it later and
/// less clearly.
fn check_alpn(alpn: &[Vec<u8>]) -> Result<(), TlsError> {
    match alpn.iter().find(|id| id.is_empty() || id.len() > 255) {
        Some(bad) => Err(TlsError::new(TlsErrorKind::InvalidAlpn(bad.clone()))),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{TestCa, handshake};
    use super::*;

    const H2: &[u8] = b"h2";
    const HTTP1: &[u8] = b"http/1.1";

    /// A server for `localhost` offering h2 then HTTP/1.1, and its CA.
    fn localhost_server() -> (TestCa, Arc<ServerConfig>) {
        let ca = TestCa::new();
        let (cert, key) = ca.write_pem_pair("server", &ca.leaf(&["localhost"]));
        let source = CertSource::Pem {
            certificate: cert,
            private_key: key,
        };
        let default = load_certified_key(&source).expect("load server key");
        let certs = Arc::new(SniCertificates::new(Some(default)));
        let server = server_config(certs, &[H2.to_vec(), HTTP1.to_vec()]).expect("server");
        (ca, server)
    }

    #[tokio::test]
    async fn alpn_picks_h2_when_the_client_offers_it() {
        let (ca, server) = localhost_server();
        let done = handshake(server, ca.client(&[H2, HTTP1]), "localhost").await;
        assert_eq!(done.expect("handshake").alpn.as_deref(), Some(H2));
    }

    #[tokio::test]
    async fn alpn_picks_http1_when_the_client_offers_only_http1() {
        let (ca, server) = localhost_server();
        let done = handshake(server, ca.client(&[HTTP1]), "localhost").await;
        assert_eq!(done.expect("handshake").alpn.as_deref(), Some(HTTP1));
    }

    #[tokio::test]
    async fn a_client_without_alpn_negotiates_no_protocol() {
        let (ca, server) = localhost_server();
        let done = handshake(server, ca.client(&[]), "localhost").await;
        assert_eq!(done.expect("handshake").alpn, None);
    }

    #[tokio::test]
    async fn client_config_with_the_extra_ca_verifies_the_server() {
        let (ca, server) = localhost_server();
        let ca_file = ca.write("ca.pem", ca.pem());
        let client = client_config(Some(&ca_file), &[HTTP1.to_vec()]).expect("client");
        let done = handshake(server, client, "localhost").await;
        assert_eq!(done.expect("handshake").alpn.as_deref(), Some(HTTP1));
    }

    #[tokio::test]
    async fn client_config_without_the_extra_ca_refuses_the_server() {
        let (_ca, server) = localhost_server();
        let client = client_config(None, &[]).expect("client");
        let error = handshake(server, client, "localhost")
            .await
            .expect_err("untrusted");
        assert_eq!(error.to_string(), "invalid peer certificate: UnknownIssuer");
    }

    #[test]
    fn client_config_names_a_missing_extra_ca_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("absent-ca.pem");
        let error = client_config(Some(&path), &[]).expect_err("missing file");
        assert_eq!(
            error.to_string(),
            format!("{}: file not found", path.display())
        );
    }

    #[test]
    fn an_empty_alpn_id_is_refused() {
        let certs = Arc::new(SniCertificates::new(None));
        let error = server_config(certs, &[Vec::new()]).expect_err("empty id");
        assert_eq!(
            error.to_string(),
            "invalid ALPN protocol id [] (must be 1 to 255 bytes)"
        );
    }

    #[test]
    fn installing_the_provider_twice_is_harmless() {
        install_crypto_provider();
        install_crypto_provider();
        assert!(CryptoProvider::get_default().is_some());
    }
}
