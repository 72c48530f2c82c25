//! The one error type of the TLS module: which file (if any) and what is wrong with it.

use std::fmt;
use std::path::{Path, PathBuf};

/// A TLS setup failure, meant to be shown to an operator as is.
///
/// Its `Display` names the file first (when one is involved), then what is wrong:
/// `tls/acme.key: no private key found (expected PKCS#8, PKCS#1 RSA or SEC1 EC in PEM)`.
#[derive(Debug)]
pub struct TlsError {
    path: Option<PathBuf>,
    kind: TlsErrorKind,
}

/// What went wrong, without the file name. Lets callers and tests branch on the cause.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsErrorKind {
    /// The file does not exist.
    #[error("file not found")]
    FileNotFound,
    /// The file exists but could not be read.
    #[error("cannot read file: {0}")]
    Unreadable(std::io::Error),
    /// The PEM text is malformed (bad base64, a section without its end line).
    #[error("malformed PEM: {0}")]
    MalformedPem(String),
    /// The PEM file holds no `CERTIFICATE` section.
    #[error("no certificate found in PEM")]
    NoCertificate,
    /// The PEM file holds no key in a form we read.
    #[error("no private key found (expected PKCS#8, PKCS#1 RSA or SEC1 EC in PEM)")]
    NoPrivateKey,
    /// The PEM file holds only a password-protected key, which we do not decrypt.
    #[error("the private key is encrypted; store it unencrypted or use a PKCS#12 keystore")]
    EncryptedPrivateKey,
    /// The keystore's integrity check failed: almost always a wrong password.
    #[error("wrong keystore password (or a corrupt keystore)")]
    WrongPassword,
    /// The keystore could not be parsed.
    #[error("unreadable PKCS#12 keystore: {0}")]
    MalformedKeystore(String),
    /// The keystore has no private key that comes with its certificate.
    #[error("no private key entry (a key with its certificate) in keystore")]
    NoKeyEntry,
    /// The private key is not the one the (first) certificate was issued for.
    #[error("private key does not match the certificate")]
    KeyMismatch,
    /// The key parsed but is of a kind the crypto provider cannot sign with.
    #[error("unsupported private key type: {0}")]
    UnsupportedKey(String),
    /// A certificate could not be parsed or used.
    #[error("invalid certificate: {0}")]
    InvalidCertificate(String),
    /// Two certificates were registered for the same server name.
    #[error("certificate name `{name}` is already used by `{owner}`")]
    DuplicateName {
        /// The name pattern given twice.
        name: String,
        /// Who registered it first.
        owner: String,
    },
    /// A server name pattern that is neither a host name nor `*.suffix`.
    #[error("invalid certificate name `{0}` (expected a host name or `*.suffix`)")]
    InvalidName(String),
    /// An ALPN protocol id that cannot be sent (RFC 7301 section 3.1: 1 to 255 bytes).
    #[error("invalid ALPN protocol id {0:?} (must be 1 to 255 bytes)")]
    InvalidAlpn(Vec<u8>),
    /// rustls refused the configuration.
    #[error("TLS configuration refused: {0}")]
    Config(rustls::Error),
}

impl TlsError {
    /// An error about no particular file.
    pub(crate) fn new(kind: TlsErrorKind) -> Self {
        Self { path: None, kind }
    }

    /// An error about `path`.
    pub(crate) fn at(path: &Path, kind: TlsErrorKind) -> Self {
        Self {
            path: Some(path.to_path_buf()),
            kind,
        }
    }

    /// The file the error is about, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// What went wrong.
    pub fn kind(&self) -> &TlsErrorKind {
        &self.kind
    }
}

impl fmt::Display for TlsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{}: {}", path.display(), self.kind),
            None => self.kind.fmt(f),
        }
    }
}

impl std::error::Error for TlsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            TlsErrorKind::Unreadable(error) => Some(error),
            TlsErrorKind::Config(error) => Some(error),
            _ => None,
        }
    }
}

/// Reads a whole file, telling a missing file apart from other I/O failures.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|error| {
        let kind = match error.kind() {
            std::io::ErrorKind::NotFound => TlsErrorKind::FileNotFound,
            _ => TlsErrorKind::Unreadable(error),
        };
        TlsError::at(path, kind)
    })
}
