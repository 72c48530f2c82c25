//! Reading PKCS#12 keystores: the first key entry and its certificate chain.

use std::path::Path;

use p12_keystore::{KeyStore, Pkcs12ImportPolicy};
use rustls_pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

use super::error::{TlsError, TlsErrorKind, read_file};

/// Opens a PKCS#12 keystore and takes its first key entry with that entry's chain.
///
/// p12-keystore decrypts both OpenSSL 3's default (PBES2: PBKDF2 + AES-256-CBC) and the
/// legacy PKCS#12 PBE schemes (RC2, 3DES) that `openssl pkcs12 -legacy` and older tools write.
pub(crate) fn read_keystore(
    path: &Path,
    password: &str,
) -> Result<(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>), TlsError> {
    let bytes = read_file(path)?;
    // Strict: only keys paired with their certificate (by localKeyId) become entries.
    let store = KeyStore::from_pkcs12(&bytes, password, Pkcs12ImportPolicy::Strict)
        .map_err(|error| TlsError::at(path, keystore_error_kind(error)))?;

    let Some((_alias, entry)) = store.private_key_chain() else {
        return Err(TlsError::at(path, TlsErrorKind::NoKeyEntry));
    };
    if entry.certs().is_empty() {
        return Err(TlsError::at(path, TlsErrorKind::NoKeyEntry));
    }

    let chain = entry
        .certs()
        .iter()
        .map(|cert| CertificateDer::from(cert.as_der().to_vec()))
        .collect();
    let key = PrivatePkcs8KeyDer::from(entry.key().as_der().to_vec());
    Ok((chain, PrivateKeyDer::Pkcs8(key)))
}

fn keystore_error_kind(error: p12_keystore::error::Error) -> TlsErrorKind {
    use p12_keystore::error::Error;
    match error {
        // The MAC is keyed by the password (RFC 7292 appendix B); without a MAC, a wrong
        // password shows up as bad padding after decryption.
        Error::MacError(_) | Error::UnpadError => TlsErrorKind::WrongPassword,
        other => TlsErrorKind::MalformedKeystore(other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use p12_keystore::{
        Certificate, EncryptionAlgorithm, KeyStoreEntry, MacAlgorithm, PrivateKey, PrivateKeyChain,
    };

    use super::super::fixtures::{Leaf, PASSWORD, TestCa, chain_of, error_of, keystore, openssl};
    use super::*;

    /// Writes a keystore with the `openssl pkcs12 -export` CLI (`extra` picks the flavour).
    fn openssl_keystore(ca: &TestCa, leaf: &Leaf, name: &str, extra: &[&str]) -> PathBuf {
        let cert = ca.write(&format!("{name}-leaf.pem"), &leaf.cert_pem);
        let key = ca.write(&format!("{name}.key"), &leaf.key_pem);
        let ca_file = ca.write("ca.pem", ca.pem());
        let out = ca.dir.path().join(format!("{name}.p12"));
        let pass = format!("pass:{PASSWORD}");
        let paths = [&cert, &key, &ca_file, &out].map(|path| path.to_string_lossy().into_owned());
        let mut args = vec!["pkcs12", "-export", "-in", &paths[0], "-inkey", &paths[1]];
        args.extend(["-certfile", &paths[2], "-out", &paths[3], "-passout", &pass]);
        args.extend(extra);
        openssl(ca.dir.path(), &args);
        out
    }

    /// Writes a keystore with p12-keystore's own writer.
    fn library_keystore(ca: &TestCa, leaf: &Leaf, name: &str, legacy: bool) -> PathBuf {
        let key = PrivateKey::from_der(&leaf.key_pkcs8_der).expect("pkcs8");
        let certs = [leaf.der.as_ref(), ca.der().as_ref()]
            .map(|der| Certificate::from_der(der).expect("certificate"));
        let entry = PrivateKeyChain::new("server-key", key, certs);
        let mut store = KeyStore::new();
        store.add_entry("server", KeyStoreEntry::PrivateKeyChain(entry));

        let mut writer = store.writer(PASSWORD);
        if legacy {
            writer = writer
                .encryption_algorithm(EncryptionAlgorithm::PbeWithShaAnd3KeyTripleDesCbc)
                .mac_algorithm(MacAlgorithm::HmacSha1);
        }
        ca.write(
            &format!("{name}.p12"),
            writer.write().expect("write keystore"),
        )
    }

    #[test]
    fn keystores_written_by_p12_keystore_load() {
        let ca = TestCa::new();
        let leaf = ca.leaf(&["localhost"]);
        for legacy in [false, true] {
            let path = library_keystore(&ca, &leaf, &format!("lib-{legacy}"), legacy);
            let chain = chain_of(&keystore(&path, PASSWORD));
            assert_eq!(chain, vec![leaf.der.clone(), ca.der()], "legacy: {legacy}");
        }
    }

    #[test]
    fn an_openssl_3_default_keystore_loads() {
        let ca = TestCa::new();
        let leaf = ca.leaf(&["localhost"]);
        let path = openssl_keystore(&ca, &leaf, "modern", &[]);
        assert_eq!(
            chain_of(&keystore(&path, PASSWORD)),
            vec![leaf.der, ca.der()]
        );
    }

    #[test]
    fn an_openssl_legacy_keystore_loads() {
        let ca = TestCa::new();
        let leaf = ca.rsa_leaf(&["localhost"]);
        let path = openssl_keystore(&ca, &leaf, "legacy", &["-legacy"]);
        assert_eq!(
            chain_of(&keystore(&path, PASSWORD)),
            vec![leaf.der, ca.der()]
        );
    }

    #[test]
    fn a_wrong_keystore_password_is_reported_with_the_file() {
        let ca = TestCa::new();
        let leaf = ca.leaf(&["localhost"]);
        for (name, extra) in [("modern", &[][..]), ("legacy", &["-legacy"][..])] {
            let path = openssl_keystore(&ca, &leaf, name, extra);
            assert_eq!(
                error_of(&keystore(&path, "wrong")),
                format!(
                    "{}: wrong keystore password (or a corrupt keystore)",
                    path.display()
                )
            );
        }
    }

    #[test]
    fn a_keystore_without_a_key_entry_is_refused() {
        let ca = TestCa::new();
        let leaf = ca.leaf(&["localhost"]);
        let path = openssl_keystore(&ca, &leaf, "certs-only", &["-nokeys"]);
        assert_eq!(
            error_of(&keystore(&path, PASSWORD)),
            format!(
                "{}: no private key entry (a key with its certificate) in keystore",
                path.display()
            )
        );
    }
}
