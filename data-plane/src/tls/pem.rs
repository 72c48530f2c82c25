//! Reading PEM files: certificate chains and unencrypted private keys (PKCS#8, PKCS#1, SEC1).

use std::path::Path;

use rustls_pki_types::pem::{self, PemObject};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::error::{TlsError, TlsErrorKind, read_file};

/// Reads every `CERTIFICATE` section of a PEM file, in order.
pub(crate) fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read_file(path)?;
    let chain = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| TlsError::at(path, pem_error_kind(error)))?;
    if chain.is_empty() {
        return Err(TlsError::at(path, TlsErrorKind::NoCertificate));
    }
    Ok(chain)
}

/// Reads the first private key of a PEM file.
pub(crate) fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read_file(path)?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|error| {
        // An encrypted key is skipped (or rejected) by the PEM reader; say why it was unusable.
        let kind = if mentions_encrypted_key(&bytes) {
            TlsErrorKind::EncryptedPrivateKey
        } else {
            match error {
                pem::Error::NoItemsFound => TlsErrorKind::NoPrivateKey,
                other => pem_error_kind(other),
            }
        };
        TlsError::at(path, kind)
    })
}

fn pem_error_kind(error: pem::Error) -> TlsErrorKind {
    // The reader's own messages print markers as byte arrays; spell them out instead.
    let reason = match error {
        pem::Error::NoItemsFound => return TlsErrorKind::NoCertificate,
        pem::Error::MissingSectionEnd { end_marker } => {
            format!(
                "no `-----END {}-----` line",
                String::from_utf8_lossy(&end_marker)
            )
        }
        pem::Error::IllegalSectionStart { line } => {
            format!("bad BEGIN line `{}`", String::from_utf8_lossy(&line))
        }
        other => other.to_string(),
    };
    TlsErrorKind::MalformedPem(reason)
}

/// PKCS#8 `ENCRYPTED PRIVATE KEY` sections and OpenSSL's legacy `Proc-Type: 4,ENCRYPTED` header.
fn mentions_encrypted_key(bytes: &[u8]) -> bool {
    const MARKERS: [&[u8]; 2] = [b"BEGIN ENCRYPTED PRIVATE KEY", b"Proc-Type: 4,ENCRYPTED"];
    MARKERS
        .iter()
        .any(|marker| bytes.windows(marker.len()).any(|window| window == *marker))
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::super::fixtures::{Leaf, PASSWORD, TestCa, chain_of, error_of, openssl, pem};

    /// Rewrites a PKCS#8 key file in OpenSSL's "traditional" form (PKCS#1 or SEC1).
    fn traditional_key(ca: &TestCa, leaf: &Leaf, name: &str) -> PathBuf {
        let pkcs8 = ca.write(&format!("{name}.pkcs8"), &leaf.key_pem);
        let out = ca.dir.path().join(name);
        let (input, output) = (pkcs8.to_string_lossy(), out.to_string_lossy());
        openssl(
            ca.dir.path(),
            &["pkey", "-in", &input, "-traditional", "-out", &output],
        );
        out
    }

    #[test]
    fn a_pem_chain_with_a_pkcs8_ec_key_loads() {
        let ca = TestCa::new();
        let leaf = ca.leaf(&["localhost"]);
        let (cert, key) = ca.write_pem_pair("server", &leaf);
        assert_eq!(chain_of(&pem(&cert, &key)), vec![leaf.der, ca.der()]);
    }

    #[test]
    fn a_pem_with_a_pkcs1_rsa_key_loads() {
        let ca = TestCa::new();
        let leaf = ca.rsa_leaf(&["localhost"]);
        let key = traditional_key(&ca, &leaf, "rsa.key");
        let text = std::fs::read_to_string(&key).expect("read key");
        assert!(
            text.starts_with("-----BEGIN RSA PRIVATE KEY-----"),
            "{text}"
        );

        let cert = ca.write("rsa.pem", &leaf.cert_pem);
        assert_eq!(chain_of(&pem(&cert, &key)), vec![leaf.der]);
    }

    #[test]
    fn a_pem_with_a_sec1_ec_key_loads() {
        let ca = TestCa::new();
        let leaf = ca.leaf(&["localhost"]);
        let key = traditional_key(&ca, &leaf, "ec.key");
        let text = std::fs::read_to_string(&key).expect("read key");
        assert!(text.starts_with("-----BEGIN EC PRIVATE KEY-----"), "{text}");

        let cert = ca.write("ec.pem", &leaf.cert_pem);
        assert_eq!(chain_of(&pem(&cert, &key)), vec![leaf.der]);
    }

    #[test]
    fn one_file_holding_certificate_and_key_serves_as_both() {
        let ca = TestCa::new();
        let leaf = ca.leaf(&["localhost"]);
        let both = ca.write("both.pem", format!("{}{}", leaf.cert_pem, leaf.key_pem));
        assert_eq!(chain_of(&pem(&both, &both)), vec![leaf.der]);
    }

    #[test]
    fn a_certificate_file_without_a_certificate_is_refused() {
        let ca = TestCa::new();
        let (_, key) = ca.write_pem_pair("server", &ca.leaf(&["localhost"]));
        assert_eq!(
            error_of(&pem(&key, &key)),
            format!("{}: no certificate found in PEM", key.display())
        );
    }

    #[test]
    fn a_key_file_without_a_key_is_refused() {
        let ca = TestCa::new();
        let (cert, _) = ca.write_pem_pair("server", &ca.leaf(&["localhost"]));
        assert_eq!(
            error_of(&pem(&cert, &cert)),
            format!(
                "{}: no private key found (expected PKCS#8, PKCS#1 RSA or SEC1 EC in PEM)",
                cert.display()
            )
        );
    }

    #[test]
    fn an_encrypted_key_is_refused_with_a_hint() {
        let ca = TestCa::new();
        let (cert, key) = ca.write_pem_pair("server", &ca.leaf(&["localhost"]));
        let (input, out) = (key.to_string_lossy(), ca.dir.path().join("enc.key"));
        let output = out.to_string_lossy();
        let pass = format!("pass:{PASSWORD}");
        let args = [
            "pkcs8", "-topk8", "-in", &input, "-out", &output, "-passout", &pass,
        ];
        openssl(ca.dir.path(), &args);
        assert_eq!(
            error_of(&pem(&cert, &out)),
            format!(
                "{}: the private key is encrypted; store it unencrypted or use a PKCS#12 keystore",
                out.display()
            )
        );
    }

    #[test]
    fn malformed_pem_is_reported_with_the_file() {
        let ca = TestCa::new();
        let (_, key) = ca.write_pem_pair("server", &ca.leaf(&["localhost"]));
        let cert = ca.write("broken.pem", "-----BEGIN CERTIFICATE-----\nnot base64!\n");
        assert_eq!(
            error_of(&pem(&cert, &key)),
            format!(
                "{}: malformed PEM: no `-----END CERTIFICATE-----` line",
                cert.display()
            )
        );
    }
}
