//! Test fixtures: a throwaway CA with server leaves (rcgen), files in a temp dir, keystores
//! (p12-keystore and the `openssl` CLI) and a real TLS handshake over loopback TCP.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::{ClientConfig, RootCertStore, ServerConfig};
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

use super::{CertSource, load_certified_key};

/// A CA that signs server certificates, and the temp dir its files go to.
pub(crate) struct TestCa {
    issuer: CertifiedIssuer<'static, KeyPair>,
    pub(crate) dir: tempfile::TempDir,
}

/// A server certificate signed by the test CA, with its key.
pub(crate) struct Leaf {
    pub(crate) der: CertificateDer<'static>,
    pub(crate) cert_pem: String,
    /// The key as PKCS#8 PEM (what rcgen writes).
    pub(crate) key_pem: String,
    pub(crate) key_pkcs8_der: Vec<u8>,
}

impl TestCa {
    pub(crate) fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).expect("ca params");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        params
            .distinguished_name
            .push(DnType::CommonName, "Sluice Test CA");
        let key = KeyPair::generate().expect("ca key");
        let issuer = CertifiedIssuer::self_signed(params, key).expect("ca certificate");
        let dir = tempfile::tempdir().expect("temp dir");
        Self { issuer, dir }
    }

    pub(crate) fn pem(&self) -> String {
        self.issuer.pem()
    }

    pub(crate) fn der(&self) -> CertificateDer<'static> {
        self.issuer.der().clone()
    }

    /// A P-256 leaf (CA:FALSE, serverAuth) for `names`.
    pub(crate) fn leaf(&self, names: &[&str]) -> Leaf {
        self.leaf_with_key(names, KeyPair::generate().expect("leaf key"))
    }

    /// An RSA 2048 leaf for `names`.
    pub(crate) fn rsa_leaf(&self, names: &[&str]) -> Leaf {
        let key = KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256).expect("rsa key");
        self.leaf_with_key(names, key)
    }

    pub(crate) fn leaf_with_key(&self, names: &[&str], key: KeyPair) -> Leaf {
        let sans: Vec<String> = names.iter().map(|name| name.to_string()).collect();
        let mut params = CertificateParams::new(sans).expect("leaf params");
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params
            .distinguished_name
            .push(DnType::CommonName, names.first().copied().unwrap_or("leaf"));
        let cert = params
            .signed_by(&key, &self.issuer)
            .expect("leaf certificate");
        Leaf {
            der: cert.der().clone(),
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            key_pkcs8_der: key.serialize_der(),
        }
    }

    /// Writes `contents` to `name` in the temp dir.
    pub(crate) fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.dir.path().join(name);
        std::fs::write(&path, contents).expect("write fixture");
        path
    }

    /// Writes the leaf's chain (leaf then CA) and its PKCS#8 key; returns both paths.
    pub(crate) fn write_pem_pair(&self, stem: &str, leaf: &Leaf) -> (PathBuf, PathBuf) {
        let chain = format!("{}{}", leaf.cert_pem, self.pem());
        let cert = self.write(&format!("{stem}.pem"), chain);
        let key = self.write(&format!("{stem}.key"), &leaf.key_pem);
        (cert, key)
    }

    /// A client that trusts only this CA.
    pub(crate) fn client(&self, alpn: &[&[u8]]) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots.add(self.der()).expect("trust test CA");
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("protocol versions")
            .with_root_certificates(roots)
            .with_no_client_auth();
        config.alpn_protocols = alpn.iter().map(|id| id.to_vec()).collect();
        Arc::new(config)
    }
}

/// Runs `openssl` with `args` in `dir`, failing the test with its stderr on error.
pub(crate) fn openssl(dir: &Path, args: &[&str]) {
    let output = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run openssl (the tests need the openssl CLI)");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "openssl {args:?} failed: {stderr}");
}

/// What the client saw after a completed handshake.
#[derive(Debug)]
pub(crate) struct Handshake {
    pub(crate) alpn: Option<Vec<u8>>,
    pub(crate) leaf: CertificateDer<'static>,
}

/// Connects `client` to a loopback server using `server`, sending `sni`.
pub(crate) async fn handshake(
    server: Arc<ServerConfig>,
    client: Arc<ClientConfig>,
    sni: &str,
) -> std::io::Result<Handshake> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    let accept = tokio::spawn(async move {
        let (tcp, _) = listener.accept().await?;
        TlsAcceptor::from(server).accept(tcp).await.map(drop)
    });

    let name = ServerName::try_from(sni.to_owned()).expect("valid server name");
    let tcp = TcpStream::connect(address).await?;
    let tls = TlsConnector::from(client).connect(name, tcp).await;
    let server_result = accept.await.expect("accept task");
    let tls = tls?;
    server_result?;

    let (_, connection) = tls.get_ref();
    let leaf = connection
        .peer_certificates()
        .and_then(|chain| chain.first())
        .expect("server sent a certificate")
        .clone()
        .into_owned();
    let alpn = connection.alpn_protocol().map(<[u8]>::to_vec);
    Ok(Handshake { alpn, leaf })
}

/// The password of every test keystore.
pub(crate) const PASSWORD: &str = "correct horse";

/// A PEM source for the two files.
pub(crate) fn pem(certificate: &Path, private_key: &Path) -> CertSource {
    CertSource::Pem {
        certificate: certificate.to_path_buf(),
        private_key: private_key.to_path_buf(),
    }
}

/// A keystore source.
pub(crate) fn keystore(path: &Path, password: &str) -> CertSource {
    CertSource::Keystore {
        path: path.to_path_buf(),
        password: password.to_owned(),
    }
}

/// The chain `src` loads to, failing the test if it does not load.
pub(crate) fn chain_of(src: &CertSource) -> Vec<CertificateDer<'static>> {
    load_certified_key(src).expect("load").cert.clone()
}

/// The message `src` fails with, failing the test if it loads.
pub(crate) fn error_of(src: &CertSource) -> String {
    load_certified_key(src)
        .expect_err("should fail")
        .to_string()
}
