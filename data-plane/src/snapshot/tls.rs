//! TLS in a snapshot: each TLS listener's acceptor, with the tenants' own certificates chosen
//! by SNI and the listener's certificate as the default.

use std::sync::Arc;

use rustls::ServerConfig;
use rustls::sign::CertifiedKey;

use crate::config::{self, Config, ConfigErrors, HttpVersion, TlsSource};
use crate::tls::{self, CertSource, SniCertificates};

/// A TLS listener's acceptor config and the certificate table behind it.
#[derive(Debug, Clone)]
pub struct ListenerTls {
    /// The rustls config (ALPN from the listener's versions).
    pub config: Arc<ServerConfig>,
    /// The certificates, to learn which tenant an SNI name picked.
    pub certs: Arc<SniCertificates>,
}

/// One entry per listener: its TLS, or `None` for cleartext (or when loading failed, with the
/// error recorded).
pub fn compile_tls(config: &Config, errors: &mut ConfigErrors) -> Vec<Option<ListenerTls>> {
    let tenant_certs = tenant_certificates(config, errors);
    config
        .listeners
        .iter()
        .enumerate()
        .map(|(index, listener)| {
            let source = listener.tls.as_ref()?;
            let at = format!("{}.tls", config::index_path("listeners", index));
            let default = load(source, &at, errors)?;
            let mut certs = SniCertificates::new(Some(default));
            for (host, owner, key) in &tenant_certs {
                if let Err(error) = certs.add(host, owner, key.clone()) {
                    errors.push(format!("tenants.{owner}.tls"), error.to_string());
                }
            }
            let certs = Arc::new(certs);
            let alpn = alpn(&listener.versions);
            match tls::server_config(certs.clone(), &alpn) {
                Ok(config) => Some(ListenerTls { config, certs }),
                Err(error) => {
                    errors.push(at, error.to_string());
                    None
                }
            }
        })
        .collect()
}

/// `(host pattern, tenant, key)` for every host of every tenant with its own certificate.
fn tenant_certificates(
    config: &Config,
    errors: &mut ConfigErrors,
) -> Vec<(String, String, Arc<CertifiedKey>)> {
    let mut out = Vec::new();
    for (name, tenant) in config.tenants.iter() {
        let Some(source) = &tenant.tls else { continue };
        let at = format!("tenants.{name}.tls");
        if tenant.hosts.is_empty() {
            errors.push(
                at,
                "a tenant certificate is chosen by host name: add `hosts`",
            );
            continue;
        }
        if let Some(key) = load(source, &at, errors) {
            out.extend(
                tenant
                    .hosts
                    .iter()
                    .map(|h| (h.clone(), name.to_owned(), key.clone())),
            );
        }
    }
    out
}

fn load(source: &TlsSource, at: &str, errors: &mut ConfigErrors) -> Option<Arc<CertifiedKey>> {
    let source = match source {
        TlsSource::Pem {
            certificate,
            private_key,
        } => CertSource::Pem {
            certificate: certificate.clone(),
            private_key: private_key.clone(),
        },
        TlsSource::Keystore { path, password } => CertSource::Keystore {
            path: path.clone(),
            password: password.expose().to_owned(),
        },
    };
    tls::load_certified_key(&source)
        .map_err(|error| errors.push(at, error.to_string()))
        .ok()
}

/// ALPN ids in preference order: h2 first when the listener speaks it.
fn alpn(versions: &[HttpVersion]) -> Vec<Vec<u8>> {
    let mut ids = Vec::new();
    if versions.contains(&HttpVersion::H2) {
        ids.push(b"h2".to_vec());
    }
    if versions.contains(&HttpVersion::Http1) {
        ids.push(b"http/1.1".to_vec());
    }
    ids
}
