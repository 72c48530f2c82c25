//! A throwaway CA for tests: leaf certificates for given names, PEM files and PKCS#12
//! keystores, and clients that trust only this CA.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::{ClientConfig, RootCertStore};
use rustls_pki_types::CertificateDer;

/// A CA that signs server certificates.
pub struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

/// A signed leaf.
pub struct Leaf {
    /// DER of the leaf, to compare with what a client received.
    pub der: CertificateDer<'static>,
    /// Leaf then CA, PEM.
    pub chain_pem: String,
    /// PKCS#8 key, PEM.
    pub key_pem: String,
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}

impl TestCa {
    /// A new CA.
    pub fn new() -> TestCa {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params
            .distinguished_name
            .push(DnType::CommonName, "Sluice e2e CA");
        let key = KeyPair::generate().expect("ca key");
        TestCa {
            issuer: CertifiedIssuer::self_signed(params, key).expect("ca"),
        }
    }

    /// The CA certificate, PEM.
    pub fn pem(&self) -> String {
        self.issuer.pem()
    }

    /// A leaf for `names` (CA:FALSE, serverAuth).
    pub fn leaf(&self, names: &[&str]) -> Leaf {
        let sans: Vec<String> = names.iter().map(|n| n.to_string()).collect();
        let mut params = CertificateParams::new(sans).expect("leaf params");
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.distinguished_name.push(DnType::CommonName, names[0]);
        let key = KeyPair::generate().expect("leaf key");
        let cert = params.signed_by(&key, &self.issuer).expect("leaf");
        Leaf {
            der: cert.der().clone(),
            chain_pem: format!("{}{}", cert.pem(), self.pem()),
            key_pem: key.serialize_pem(),
        }
    }

    /// Writes `leaf` as `stem.pem` and `stem.key` in `dir`.
    pub fn write_pem(&self, dir: &Path, stem: &str, leaf: &Leaf) -> (PathBuf, PathBuf) {
        let cert = dir.join(format!("{stem}.pem"));
        let key = dir.join(format!("{stem}.key"));
        std::fs::write(&cert, &leaf.chain_pem).expect("write cert");
        std::fs::write(&key, &leaf.key_pem).expect("write key");
        (cert, key)
    }

    /// Writes `leaf` as a PKCS#12 keystore `stem.p12` with `password`, using the openssl CLI.
    pub fn write_p12(&self, dir: &Path, stem: &str, leaf: &Leaf, password: &str) -> PathBuf {
        let (cert, key) = self.write_pem(dir, stem, leaf);
        let out = dir.join(format!("{stem}.p12"));
        let status = std::process::Command::new("openssl")
            .args(["pkcs12", "-export", "-in"])
            .arg(&cert)
            .arg("-inkey")
            .arg(&key)
            .arg("-out")
            .arg(&out)
            .args(["-passout", &format!("pass:{password}"), "-name", stem])
            .status()
            .expect("run openssl (tests need the openssl CLI)");
        assert!(status.success(), "openssl pkcs12 failed");
        out
    }

    /// A client trusting only this CA, offering `alpn`.
    pub fn client(&self, alpn: &[&[u8]]) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(self.issuer.der().clone()).expect("trust CA");
        let mut config = ClientConfig::builder()
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|id| id.to_vec()).collect();
        Arc::new(config)
    }
}
