//! Verifying keys: JWKs (RFC 7517) turned into `jsonwebtoken` decoding keys, each bound to the
//! one algorithm it verifies and, for EC and OKP keys, to one curve; and the sets they are
//! picked from by a token's `kid` and `alg`.
//!
//! The algorithm always comes from the key record, never from a token (RFC 8725 §3.1), so a
//! public key can never be used as an HMAC secret or under another key type's algorithm.

use std::fmt;
use std::sync::Arc;

use aws_lc_rs::signature::{self as lc, ParsedPublicKey, RsaPublicKeyComponents};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};

use crate::config::Jwk;

/// The asymmetric JWS algorithms Sluice verifies (RFC 7518 §3, RFC 8037). HMAC and `none`
/// are not among them and cannot be configured.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Alg {
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    Rs256,
    /// RSASSA-PKCS1-v1_5 with SHA-384.
    Rs384,
    /// RSASSA-PKCS1-v1_5 with SHA-512.
    Rs512,
    /// RSASSA-PSS with SHA-256.
    Ps256,
    /// RSASSA-PSS with SHA-384.
    Ps384,
    /// RSASSA-PSS with SHA-512.
    Ps512,
    /// ECDSA on P-256 with SHA-256.
    Es256,
    /// ECDSA on P-384 with SHA-384.
    Es384,
    /// EdDSA on Ed25519.
    EdDsa,
}

impl Alg {
    /// Every algorithm, in the order they are usually listed.
    pub const ALL: [Alg; 9] = [
        Alg::Rs256,
        Alg::Rs384,
        Alg::Rs512,
        Alg::Ps256,
        Alg::Ps384,
        Alg::Ps512,
        Alg::Es256,
        Alg::Es384,
        Alg::EdDsa,
    ];

    /// The algorithm named `name`. Names are case-sensitive (RFC 7515 §4.1.1), so `none`,
    /// `None`, `HS256` and `rs256` are all `None`.
    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|alg| alg.name() == name)
    }

    /// The name as written in a JWS header or JWK.
    pub fn name(self) -> &'static str {
        match self {
            Alg::Rs256 => "RS256",
            Alg::Rs384 => "RS384",
            Alg::Rs512 => "RS512",
            Alg::Ps256 => "PS256",
            Alg::Ps384 => "PS384",
            Alg::Ps512 => "PS512",
            Alg::Es256 => "ES256",
            Alg::Es384 => "ES384",
            Alg::EdDsa => "EdDSA",
        }
    }

    /// The JWK `kty` of keys for this algorithm.
    pub fn kty(self) -> &'static str {
        match self {
            Alg::Es256 | Alg::Es384 => "EC",
            Alg::EdDsa => "OKP",
            _ => "RSA",
        }
    }

    /// The JWK `crv` keys for this algorithm must have; `None` for RSA.
    pub fn curve(self) -> Option<&'static str> {
        match self {
            Alg::Es256 => Some("P-256"),
            Alg::Es384 => Some("P-384"),
            Alg::EdDsa => Some("Ed25519"),
            _ => None,
        }
    }

    /// The same algorithm in `jsonwebtoken`'s terms.
    pub(crate) fn jwt(self) -> Algorithm {
        match self {
            Alg::Rs256 => Algorithm::RS256,
            Alg::Rs384 => Algorithm::RS384,
            Alg::Rs512 => Algorithm::RS512,
            Alg::Ps256 => Algorithm::PS256,
            Alg::Ps384 => Algorithm::PS384,
            Alg::Ps512 => Algorithm::PS512,
            Alg::Es256 => Algorithm::ES256,
            Alg::Es384 => Algorithm::ES384,
            Alg::EdDsa => Algorithm::EdDSA,
        }
    }

    /// The algorithm a published key without `alg` verifies, inferred from its type and
    /// curve. RSA keys get RS256, the one RSA algorithm every identity provider signs with
    /// (Entra ID, for one, publishes its keys without `alg`).
    fn infer(kty: &str, crv: Option<&str>) -> Option<Self> {
        match (kty, crv) {
            ("RSA", _) => Some(Alg::Rs256),
            ("EC", Some("P-256")) => Some(Alg::Es256),
            ("EC", Some("P-384")) => Some(Alg::Es384),
            ("OKP", Some("Ed25519")) => Some(Alg::EdDsa),
            _ => None,
        }
    }
}

impl fmt::Display for Alg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// What identifies a key across config snapshots: its `kid`, its algorithm and its RFC 7638
/// thumbprint. A stream whose token was signed by a key that a new snapshot no longer has is
/// ended; renaming a key or changing its algorithm counts as removing it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct KeyId {
    kid: Option<Arc<str>>,
    alg: Alg,
    thumbprint: Arc<str>,
}

impl KeyId {
    /// The key's `kid`, when it has one.
    pub fn kid(&self) -> Option<&str> {
        self.kid.as_deref()
    }

    /// The one algorithm the key verifies.
    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The RFC 7638 SHA-256 thumbprint of the public key, base64url.
    pub fn thumbprint(&self) -> &str {
        &self.thumbprint
    }
}

/// `kid k1 (RS256)`, or the thumbprint for a key without `kid`; safe to log.
impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kid {
            Some(kid) => write!(f, "kid {kid} ({})", self.alg),
            None => write!(f, "thumbprint {} ({})", self.thumbprint, self.alg),
        }
    }
}

/// A public key ready to verify signatures of its one algorithm.
#[derive(Clone)]
pub(crate) struct VerifyingKey {
    pub(crate) id: KeyId,
    pub(crate) decoding: DecodingKey,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VerifyingKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl VerifyingKey {
    pub(crate) fn alg(&self) -> Alg {
        self.id.alg
    }
}

/// Where a JWK came from; published keys may leave `alg` out, configured ones may not.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Origin {
    Configured,
    Published,
}

/// Why a JWK cannot be used, and which member is at fault (`None`: the key as a whole).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct KeyProblem {
    pub(crate) member: Option<&'static str>,
    pub(crate) message: String,
}

impl KeyProblem {
    fn at(member: &'static str, message: impl Into<String>) -> Self {
        Self {
            member: Some(member),
            message: message.into(),
        }
    }

    fn whole(message: impl Into<String>) -> Self {
        Self {
            member: None,
            message: message.into(),
        }
    }
}

/// Turns `jwk` into a verifying key, checking that its material is a valid public key of the
/// size or curve its algorithm needs.
pub(crate) fn from_jwk(jwk: &Jwk, origin: Origin) -> Result<VerifyingKey, KeyProblem> {
    let alg = key_alg(jwk, origin)?;
    if let Some(key_use) = jwk.key_use.as_deref().filter(|u| *u != "sig") {
        return Err(KeyProblem::at(
            "use",
            format!("use `{key_use}` is not `sig`"),
        ));
    }
    let (decoding, canonical) = match alg.kty() {
        "RSA" => rsa_key(jwk)?,
        "EC" => ec_key(jwk, alg)?,
        _ => ed_key(jwk)?,
    };
    let id = KeyId {
        kid: jwk.kid.as_deref().map(Arc::from),
        alg,
        thumbprint: thumbprint(&canonical).into(),
    };
    Ok(VerifyingKey { id, decoding })
}

/// The key's algorithm, which must fit its `kty`.
fn key_alg(jwk: &Jwk, origin: Origin) -> Result<Alg, KeyProblem> {
    let kty = jwk
        .kty
        .as_deref()
        .ok_or_else(|| KeyProblem::at("kty", "`kty` is required"))?;
    let alg = match (jwk.alg.as_deref(), origin) {
        (Some(name), _) => Alg::parse(name).ok_or_else(|| {
            let message = format!(
                "alg `{name}` is not accepted: use RS256/384/512, PS256/384/512, ES256, ES384 \
                 or EdDSA"
            );
            KeyProblem::at("alg", message)
        })?,
        (None, Origin::Published) => Alg::infer(kty, jwk.crv.as_deref())
            .ok_or_else(|| KeyProblem::at("alg", "`alg` is missing and cannot be inferred"))?,
        (None, Origin::Configured) => return Err(KeyProblem::at("alg", "`alg` is required")),
    };
    if alg.kty() != kty {
        return Err(KeyProblem::at(
            "kty",
            format!("kty `{kty}` does not fit alg `{alg}`"),
        ));
    }
    Ok(alg)
}

/// The RFC 7638 members of a key in canonical form, in the order that RFC requires.
type Canonical = Vec<(&'static str, String)>;

fn rsa_key(jwk: &Jwk) -> Result<(DecodingKey, Canonical), KeyProblem> {
    let n = strip_leading_zeros(member(jwk.n.as_deref(), "n")?);
    let e = strip_leading_zeros(member(jwk.e.as_deref(), "e")?);
    // RFC 7518 §3.3: keys of 2048 bits or more; aws-lc verifies up to 8192.
    let bits = n.len() * 8 - n.first().map_or(8, |b| b.leading_zeros() as usize);
    if !(2048..=8192).contains(&bits) {
        let message = format!("the RSA modulus has {bits} bits; use 2048 to 8192");
        return Err(KeyProblem::at("n", message));
    }
    let components = RsaPublicKeyComponents { n: &n, e: &e };
    if components
        .to_parsed_public_key(&lc::RSA_PKCS1_2048_8192_SHA256)
        .is_err()
    {
        return Err(KeyProblem::whole(
            "`n` and `e` do not form an RSA public key",
        ));
    }
    let (n, e) = (URL_SAFE_NO_PAD.encode(&n), URL_SAFE_NO_PAD.encode(&e));
    let decoding = DecodingKey::from_rsa_components(&n, &e)
        .map_err(|_| KeyProblem::whole("`n` and `e` do not form an RSA public key"))?;
    let canonical = vec![("e", e), ("kty", "RSA".into()), ("n", n)];
    Ok((decoding, canonical))
}

fn ec_key(jwk: &Jwk, alg: Alg) -> Result<(DecodingKey, Canonical), KeyProblem> {
    let (curve, size, verification) = match alg {
        Alg::Es384 => ("P-384", 48, &lc::ECDSA_P384_SHA384_FIXED),
        _ => ("P-256", 32, &lc::ECDSA_P256_SHA256_FIXED),
    };
    check_curve(jwk, curve)?;
    let x = coordinate(jwk.x.as_deref(), "x", curve, size)?;
    let y = coordinate(jwk.y.as_deref(), "y", curve, size)?;
    let point = [&[0x04][..], &x, &y].concat();
    if ParsedPublicKey::new(verification, &point).is_err() {
        let message = format!("`x` and `y` are not a point on {curve}");
        return Err(KeyProblem::whole(message));
    }
    let (x, y) = (URL_SAFE_NO_PAD.encode(&x), URL_SAFE_NO_PAD.encode(&y));
    let decoding = DecodingKey::from_ec_components(&x, &y)
        .map_err(|_| KeyProblem::whole(format!("`x` and `y` are not a point on {curve}")))?;
    let canonical = vec![
        ("crv", curve.into()),
        ("kty", "EC".into()),
        ("x", x),
        ("y", y),
    ];
    Ok((decoding, canonical))
}

fn ed_key(jwk: &Jwk) -> Result<(DecodingKey, Canonical), KeyProblem> {
    check_curve(jwk, "Ed25519")?;
    let x = coordinate(jwk.x.as_deref(), "x", "Ed25519", 32)?;
    if ParsedPublicKey::new(&lc::ED25519, &x).is_err() {
        return Err(KeyProblem::at("x", "`x` is not an Ed25519 public key"));
    }
    let x = URL_SAFE_NO_PAD.encode(&x);
    let decoding = DecodingKey::from_ed_components(&x)
        .map_err(|_| KeyProblem::at("x", "`x` is not an Ed25519 public key"))?;
    let canonical = vec![("crv", "Ed25519".into()), ("kty", "OKP".into()), ("x", x)];
    Ok((decoding, canonical))
}

/// A key is bound to its curve: an ES256 key on P-384 is refused, not tried.
fn check_curve(jwk: &Jwk, curve: &str) -> Result<(), KeyProblem> {
    match jwk.crv.as_deref() {
        Some(crv) if crv == curve => Ok(()),
        Some(crv) => Err(KeyProblem::at(
            "crv",
            format!("crv `{crv}` does not fit; use {curve}"),
        )),
        None => Err(KeyProblem::at("crv", "`crv` is required")),
    }
}

fn coordinate(
    text: Option<&str>,
    name: &'static str,
    curve: &str,
    size: usize,
) -> Result<Vec<u8>, KeyProblem> {
    let bytes = member(text, name)?;
    if bytes.len() != size {
        let message = format!("`{name}` is {} bytes; {curve} needs {size}", bytes.len());
        return Err(KeyProblem::at(name, message));
    }
    Ok(bytes)
}

fn member(text: Option<&str>, name: &'static str) -> Result<Vec<u8>, KeyProblem> {
    let text = text.ok_or_else(|| KeyProblem::at(name, format!("`{name}` is required")))?;
    decode_base64(text).ok_or_else(|| {
        KeyProblem::at(
            name,
            format!("`{name}` is not base64url (or standard base64)"),
        )
    })
}

/// Decodes base64url (RFC 7515 §2, no padding) and, since Zilla's sample configs write key
/// members that way, standard base64 with or without padding. Nothing else: no whitespace,
/// no stray bits, no excess padding.
pub(crate) fn decode_base64(text: &str) -> Option<Vec<u8>> {
    let unpadded = text.trim_end_matches('=');
    let padding = text.len() - unpadded.len();
    let expected_padding = (4 - unpadded.len() % 4) % 4;
    if unpadded.is_empty() || (padding != 0 && padding != expected_padding) {
        return None;
    }
    let url_alphabet: String = unpadded
        .chars()
        .map(|c| match c {
            '+' => '-',
            '/' => '_',
            c => c,
        })
        .collect();
    URL_SAFE_NO_PAD.decode(url_alphabet).ok()
}

fn strip_leading_zeros(bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    bytes[zeros..].to_vec()
}

/// RFC 7638 §3: SHA-256 over the required members in lexicographic order, no whitespace.
/// Every value here is a fixed name or base64url, so none needs JSON escaping.
fn thumbprint(canonical: &Canonical) -> String {
    let members: Vec<String> = canonical
        .iter()
        .map(|(name, value)| format!("\"{name}\":\"{value}\""))
        .collect();
    let json = format!("{{{}}}", members.join(","));
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, json.as_bytes());
    URL_SAFE_NO_PAD.encode(digest.as_ref())
}

/// Keys from one source (the config, or one JWKS document).
#[derive(Clone, Debug, Default)]
pub(crate) struct KeySet {
    keys: Vec<Arc<VerifyingKey>>,
}

/// The outcome of looking a token's key up.
#[derive(Debug)]
pub(crate) enum Pick {
    /// The one key to verify with.
    Key(Arc<VerifyingKey>),
    /// The `kid` names a key, but of another algorithm.
    AlgMismatch,
    /// No key has that `kid`, or (without `kid`) none has that algorithm.
    NotFound,
    /// No `kid`, and several keys have that algorithm.
    Ambiguous,
}

impl KeySet {
    pub(crate) const fn empty() -> Self {
        Self { keys: Vec::new() }
    }

    pub(crate) fn new(keys: Vec<VerifyingKey>) -> Self {
        Self {
            keys: keys.into_iter().map(Arc::new).collect(),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.keys.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    pub(crate) fn contains(&self, id: &KeyId) -> bool {
        self.keys.iter().any(|key| key.id == *id)
    }

    fn iter(&self) -> impl Iterator<Item = &Arc<VerifyingKey>> {
        self.keys.iter()
    }
}

/// Picks the key for a token from `sets` (configured keys first). With a `kid`, the key of
/// that id whose algorithm is the header's; without one, the only key of that algorithm.
pub(crate) fn pick(sets: &[&KeySet], kid: Option<&str>, alg: Alg) -> Pick {
    let all = || sets.iter().flat_map(|set| set.iter());
    let Some(kid) = kid else {
        let mut of_alg = all().filter(|key| key.alg() == alg);
        return match (of_alg.next(), of_alg.next()) {
            (Some(key), None) => Pick::Key(key.clone()),
            (Some(_), Some(_)) => Pick::Ambiguous,
            (None, _) => Pick::NotFound,
        };
    };
    let mut named = all().filter(|key| key.id.kid() == Some(kid)).peekable();
    if named.peek().is_none() {
        return Pick::NotFound;
    }
    named
        .find(|key| key.alg() == alg)
        .map_or(Pick::AlgMismatch, |key| Pick::Key(key.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::fixtures;

    fn rsa_jwk(n: &str, e: &str) -> Jwk {
        Jwk {
            kty: Some("RSA".into()),
            kid: Some("k".into()),
            alg: Some("RS256".into()),
            n: Some(n.into()),
            e: Some(e.into()),
            ..Jwk::default()
        }
    }

    #[test]
    fn algorithm_names_are_case_sensitive_and_asymmetric_only() {
        assert_eq!(Alg::parse("RS256"), Some(Alg::Rs256));
        assert_eq!(Alg::parse("EdDSA"), Some(Alg::EdDsa));
        for refused in [
            "none", "None", "NONE", "HS256", "HS512", "rs256", "ES512", "",
        ] {
            assert_eq!(Alg::parse(refused), None, "{refused}");
        }
        for alg in Alg::ALL {
            assert_eq!(Alg::parse(alg.name()), Some(alg));
        }
    }

    #[test]
    fn base64_is_read_in_both_alphabets_with_or_without_padding() {
        assert_eq!(decode_base64("AQAB"), Some(vec![1, 0, 1]));
        assert_eq!(decode_base64("-_8"), Some(vec![0xfb, 0xff]));
        assert_eq!(decode_base64("+/8="), Some(vec![0xfb, 0xff]));
        assert_eq!(decode_base64("+/8"), Some(vec![0xfb, 0xff]));
        assert_eq!(decode_base64("AQ=="), Some(vec![1]));
        for bad in ["", "==", "AQ===", "AQ=", "A Q", "AQ\n", "AR", "****"] {
            assert_eq!(decode_base64(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn an_rsa_key_in_zilla_style_standard_base64_gives_the_same_key() {
        let keys = fixtures::keys();
        let url = keys.rsa.jwk("k", "RS256");
        let zilla = fixtures::zilla_style(&url);
        assert!(
            zilla
                .n
                .as_deref()
                .is_some_and(|n| n.ends_with('=') || n.contains(['+', '/']))
        );
        let from_url = from_jwk(&url, Origin::Configured).expect("base64url key");
        let from_zilla = from_jwk(&zilla, Origin::Configured).expect("standard base64 key");
        assert_eq!(from_url.id, from_zilla.id);
    }

    #[test]
    fn a_short_rsa_modulus_is_refused_at_n() {
        let n = URL_SAFE_NO_PAD.encode([0xc5; 128]);
        let problem = from_jwk(&rsa_jwk(&n, "AQAB"), Origin::Configured).expect_err("1024 bits");
        let expected = KeyProblem::at("n", "the RSA modulus has 1024 bits; use 2048 to 8192");
        assert_eq!(problem, expected);
    }

    #[test]
    fn a_malformed_member_is_reported_at_that_member() {
        let problem = from_jwk(&rsa_jwk("!!", "AQAB"), Origin::Configured).expect_err("bad n");
        assert_eq!(problem.member, Some("n"));
        assert_eq!(problem.message, "`n` is not base64url (or standard base64)");
    }

    #[test]
    fn an_ec_key_is_bound_to_its_curve() {
        let keys = fixtures::keys();
        let mut p384_as_es256 = keys.p384.jwk("k", "ES256");
        let problem = from_jwk(&p384_as_es256, Origin::Configured).expect_err("wrong curve");
        assert_eq!(
            problem,
            KeyProblem::at("crv", "crv `P-384` does not fit; use P-256")
        );
        p384_as_es256.crv = Some("P-256".into());
        let problem = from_jwk(&p384_as_es256, Origin::Configured).expect_err("wrong size");
        assert_eq!(
            problem,
            KeyProblem::at("x", "`x` is 48 bytes; P-256 needs 32")
        );
    }

    #[test]
    fn a_point_off_the_curve_is_refused() {
        let keys = fixtures::keys();
        let mut jwk = keys.p256.jwk("k", "ES256");
        jwk.y = Some(URL_SAFE_NO_PAD.encode([7u8; 32]));
        let problem = from_jwk(&jwk, Origin::Configured).expect_err("off the curve");
        assert_eq!(
            problem,
            KeyProblem::whole("`x` and `y` are not a point on P-256")
        );
    }

    #[test]
    fn configured_keys_need_alg_but_published_ones_are_inferred() {
        let keys = fixtures::keys();
        let mut jwk = keys.p256.jwk("k", "ES256");
        jwk.alg = None;
        let problem = from_jwk(&jwk, Origin::Configured).expect_err("no alg");
        assert_eq!(problem, KeyProblem::at("alg", "`alg` is required"));
        let key = from_jwk(&jwk, Origin::Published).expect("inferred");
        assert_eq!(key.alg(), Alg::Es256);
        let mut rsa = keys.rsa.jwk("r", "RS256");
        rsa.alg = None;
        assert_eq!(
            from_jwk(&rsa, Origin::Published).map(|k| k.alg()).ok(),
            Some(Alg::Rs256)
        );
    }

    #[test]
    fn a_key_type_that_does_not_fit_its_alg_is_refused() {
        let keys = fixtures::keys();
        let mut jwk = keys.rsa.jwk("k", "RS256");
        jwk.alg = Some("ES256".into());
        let problem = from_jwk(&jwk, Origin::Published).expect_err("kty mismatch");
        assert_eq!(
            problem,
            KeyProblem::at("kty", "kty `RSA` does not fit alg `ES256`")
        );
        jwk.alg = Some("HS256".into());
        let problem = from_jwk(&jwk, Origin::Published).expect_err("hmac");
        assert_eq!(problem.member, Some("alg"));
    }

    #[test]
    fn an_encryption_key_is_refused() {
        let keys = fixtures::keys();
        let mut jwk = keys.ed25519.jwk("k", "EdDSA");
        jwk.key_use = Some("enc".into());
        let problem = from_jwk(&jwk, Origin::Published).expect_err("enc");
        assert_eq!(problem, KeyProblem::at("use", "use `enc` is not `sig`"));
    }

    #[test]
    fn thumbprints_follow_rfc_7638() {
        // RFC 7638 §3.1's example key and thumbprint.
        let n = "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw";
        let mut jwk = rsa_jwk(n, "AQAB");
        jwk.kid = None;
        let key = from_jwk(&jwk, Origin::Configured).expect("RFC 7638 example key");
        assert_eq!(
            key.id.thumbprint(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
        assert_eq!(
            key.id.to_string(),
            "thumbprint NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs (RS256)"
        );
    }

    #[test]
    fn keys_are_picked_by_kid_and_alg_from_the_key_record() {
        let keys = fixtures::keys();
        let set = KeySet::new(vec![
            from_jwk(&keys.rsa.jwk("rsa-1", "RS256"), Origin::Configured).expect("rsa"),
            from_jwk(&keys.p256.jwk("ec-1", "ES256"), Origin::Configured).expect("ec"),
            from_jwk(&keys.rsa2.jwk("rsa-2", "RS256"), Origin::Configured).expect("rsa2"),
        ]);
        let picked = |kid, alg| match pick(&[&set], kid, alg) {
            Pick::Key(key) => key.id.kid().unwrap_or_default().to_owned(),
            other => format!("{other:?}"),
        };
        assert_eq!(picked(Some("ec-1"), Alg::Es256), "ec-1");
        assert_eq!(picked(Some("ec-1"), Alg::Rs256), "AlgMismatch");
        assert_eq!(picked(Some("rsa-1"), Alg::Es256), "AlgMismatch");
        assert_eq!(picked(Some("nope"), Alg::Rs256), "NotFound");
        assert_eq!(picked(None, Alg::Es256), "ec-1");
        assert_eq!(picked(None, Alg::Rs256), "Ambiguous");
        assert_eq!(picked(None, Alg::EdDsa), "NotFound");
    }
}
