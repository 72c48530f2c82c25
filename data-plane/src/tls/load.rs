//! Loading a certificate chain and its private key (from PEM files or a PKCS#12 keystore) and
//! checking that the two belong together.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::sign::CertifiedKey;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::error::{TlsError, TlsErrorKind};
use super::keystore::read_keystore;
use super::pem::{read_certificates, read_private_key};

/// Where a listener's or a tenant's certificate comes from.
#[derive(Clone, PartialEq, Eq)]
pub enum CertSource {
    /// A PEM certificate chain (leaf first) and a PEM private key. Both may be the same file.
    Pem {
        /// File with one or more `CERTIFICATE` sections, the server's own first.
        certificate: PathBuf,
        /// File with a PKCS#8 (`PRIVATE KEY`), PKCS#1 (`RSA PRIVATE KEY`) or SEC1
        /// (`EC PRIVATE KEY`) key; the first one found is used.
        private_key: PathBuf,
    },
    /// A PKCS#12 (`.p12`, `.pfx`) keystore; its first key entry (by alias) and that
    /// entry's chain are used.
    Keystore {
        /// The keystore file.
        path: PathBuf,
        /// The keystore password (also used for the key bag).
        password: String,
    },
}

impl std::fmt::Debug for CertSource {
    // Written by hand so a keystore password never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Pem {
                certificate,
                private_key,
            } => f
                .debug_struct("Pem")
                .field("certificate", certificate)
                .field("private_key", private_key)
                .finish(),
            Self::Keystore { path, .. } => f
                .debug_struct("Keystore")
                .field("path", path)
                .field("password", &"<redacted>")
                .finish(),
        }
    }
}

/// Loads a certificate chain with its key and checks the key belongs to the leaf certificate.
///
/// Errors name the offending file: missing, no certificate, no key, wrong keystore password,
/// no key entry, key and certificate not matching, or a key type the provider cannot use.
pub fn load_certified_key(src: &CertSource) -> Result<Arc<CertifiedKey>, TlsError> {
    let provider = super::provider();
    let certified = match src {
        CertSource::Pem {
            certificate,
            private_key,
        } => {
            let chain = read_certificates(certificate)?;
            let key = read_private_key(private_key)?;
            certified_key(chain, key, (certificate, private_key), &provider)?
        }
        CertSource::Keystore { path, password } => {
            let (chain, key) = read_keystore(path, password)?;
            certified_key(chain, key, (path, path), &provider)?
        }
    };
    Ok(Arc::new(certified))
}

/// Turns a chain and a key into a `CertifiedKey`, refusing a key that is not the leaf's.
///
/// `(cert_path, key_path)` are only for error messages.
fn certified_key(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
    (cert_path, key_path): (&Path, &Path),
    provider: &CryptoProvider,
) -> Result<CertifiedKey, TlsError> {
    let signing_key = provider
        .key_provider
        .load_private_key(key)
        .map_err(|error| {
            let reason = match error {
                rustls::Error::General(reason) => reason,
                other => other.to_string(),
            };
            TlsError::at(key_path, TlsErrorKind::UnsupportedKey(reason))
        })?;

    let certified = CertifiedKey::new(chain, signing_key);
    match certified.keys_match() {
        // Unknown: the key cannot report its public half, so there is nothing to compare.
        Ok(()) | Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::Unknown)) => {
            Ok(certified)
        }
        Err(rustls::Error::InconsistentKeys(_)) => {
            Err(TlsError::at(key_path, TlsErrorKind::KeyMismatch))
        }
        Err(other) => Err(TlsError::at(
            cert_path,
            TlsErrorKind::InvalidCertificate(other.to_string()),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::fixtures::{PASSWORD, TestCa, chain_of, error_of, keystore, openssl, pem};
    use super::*;

    #[test]
    fn a_pem_with_an_ed25519_key_loads() {
        let ca = TestCa::new();
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ED25519).expect("ed25519 key");
        let leaf = ca.leaf_with_key(&["localhost"], key);
        let (cert, key) = ca.write_pem_pair("ed", &leaf);
        assert_eq!(chain_of(&pem(&cert, &key)), vec![leaf.der, ca.der()]);
    }

    #[test]
    fn a_key_that_does_not_match_the_certificate_is_refused() {
        let ca = TestCa::new();
        let (cert, _) = ca.write_pem_pair("one", &ca.leaf(&["localhost"]));
        let (_, other_key) = ca.write_pem_pair("two", &ca.leaf(&["localhost"]));
        assert_eq!(
            error_of(&pem(&cert, &other_key)),
            format!(
                "{}: private key does not match the certificate",
                other_key.display()
            )
        );
    }

    #[test]
    fn a_missing_file_is_named() {
        let ca = TestCa::new();
        let (cert, key) = ca.write_pem_pair("server", &ca.leaf(&["localhost"]));
        let absent = ca.dir.path().join("absent.pem");
        let expected = format!("{}: file not found", absent.display());
        assert_eq!(error_of(&pem(&absent, &key)), expected);
        assert_eq!(error_of(&pem(&cert, &absent)), expected);
        assert_eq!(error_of(&keystore(&absent, PASSWORD)), expected);
    }

    #[test]
    fn an_unsupported_key_type_is_refused() {
        let ca = TestCa::new();
        let (cert, _) = ca.write_pem_pair("server", &ca.leaf(&["localhost"]));
        let key = ca.dir.path().join("x25519.key");
        let output = key.to_string_lossy();
        openssl(
            ca.dir.path(),
            &["genpkey", "-algorithm", "X25519", "-out", &output],
        );
        assert_eq!(
            error_of(&pem(&cert, &key)),
            format!(
                "{}: unsupported private key type: \
                 failed to parse private key as RSA, ECDSA, or EdDSA",
                key.display()
            )
        );
    }

    #[test]
    fn debug_output_hides_the_keystore_password() {
        let source = keystore(Path::new("tls/server.p12"), "s3cret");
        let shown = format!("{source:?}");
        assert_eq!(
            shown,
            r#"Keystore { path: "tls/server.p12", password: "<redacted>" }"#
        );
    }
}
