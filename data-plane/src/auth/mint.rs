//! Making tokens and key pairs, for `sluice token`, `sluice dev` and tests: a PKCS#8 PEM
//! private key signs, and the matching public key comes out as a JWK ready for a tenant's
//! `keys` or a JWKS document. Only the asymmetric algorithms Sluice verifies can sign.

use aws_lc_rs::signature::{self as lc, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::{EncodingKey, Header};
use serde_json::{Value, json};

use super::keys::{self, Alg, Origin};
use crate::config::Jwk;

/// Why a token or key pair could not be made.
#[derive(Debug, thiserror::Error)]
pub enum MintError {
    /// The algorithm is not one Sluice verifies.
    #[error("alg `{0}` cannot sign: use RS256/384/512, PS256/384/512, ES256, ES384 or EdDSA")]
    UnsupportedAlg(String),
    /// The PEM text is not a private key of the algorithm's type.
    #[error("the private key is not a PEM {kty} key for {alg}")]
    Key {
        /// The key type the algorithm needs.
        kty: &'static str,
        /// The algorithm asked for.
        alg: Alg,
    },
    /// The claims are not a JSON object.
    #[error("the claims must be a JSON object")]
    ClaimsNotObject,
    /// The crypto library refused to sign.
    #[error("signing failed: {0}")]
    Sign(String),
    /// The crypto library could not make a key pair.
    #[error("key generation failed")]
    Generate,
}

/// A compact JWS of `claims`, signed by `private_key_pem` (PKCS#8, or PKCS#1 for RSA) with
/// `alg`, with header `typ: JWT` and `kid` when given.
pub fn mint(
    private_key_pem: &str,
    alg: &str,
    kid: Option<&str>,
    claims: &Value,
) -> Result<String, MintError> {
    mint_with_typ(private_key_pem, alg, kid, "JWT", claims)
}

/// As [`mint`], with header `typ` set to `typ` (e.g. `at+jwt` for RFC 9068 access tokens).
pub fn mint_with_typ(
    private_key_pem: &str,
    alg: &str,
    kid: Option<&str>,
    typ: &str,
    claims: &Value,
) -> Result<String, MintError> {
    let alg = Alg::parse(alg).ok_or_else(|| MintError::UnsupportedAlg(alg.to_owned()))?;
    if !claims.is_object() {
        return Err(MintError::ClaimsNotObject);
    }
    let key = encoding_key(private_key_pem, alg)?;
    let mut header = Header::new(alg.jwt());
    header.kid = kid.map(str::to_owned);
    header.typ = Some(typ.to_owned());
    jsonwebtoken::encode(&header, claims, &key).map_err(|error| MintError::Sign(error.to_string()))
}

fn encoding_key(pem: &str, alg: Alg) -> Result<EncodingKey, MintError> {
    let key = match alg.kty() {
        "RSA" => EncodingKey::from_rsa_pem(pem.as_bytes()),
        "EC" => EncodingKey::from_ec_pem(pem.as_bytes()),
        _ => EncodingKey::from_ed_pem(pem.as_bytes()),
    };
    key.map_err(|_| MintError::Key {
        kty: alg.kty(),
        alg,
    })
}

/// A fresh key pair for `alg`: the private key as PKCS#8 PEM, and the public key as a JWK
/// object with `kty`, `use: sig`, `alg`, its members and, as `kid`, its RFC 7638 thumbprint.
/// RSA keys are 2048 bits.
pub fn generate_key_pair(alg: Alg) -> Result<(String, Value), MintError> {
    let (pkcs8, mut jwk) = match alg.kty() {
        "RSA" => rsa_pair(),
        "EC" => ec_pair(alg),
        _ => ed25519_pair(),
    }
    .map_err(|_| MintError::Generate)?;
    jwk["use"] = "sig".into();
    jwk["alg"] = alg.name().into();
    jwk["kid"] = thumbprint(&jwk)?.into();
    Ok((pem("PRIVATE KEY", &pkcs8), jwk))
}

/// A private key as PKCS#8 DER, and its public members as a JWK.
type Generated = Result<(Vec<u8>, Value), aws_lc_rs::error::Unspecified>;

fn rsa_pair() -> Generated {
    use aws_lc_rs::encoding::AsDer;
    let pair = lc::RsaKeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048)?;
    let public = lc::RsaPublicKeyComponents::<Vec<u8>>::from(pair.public_key());
    let jwk = json!({"kty": "RSA", "n": b64(&public.n), "e": b64(&public.e)});
    Ok((pair.as_der()?.as_ref().to_vec(), jwk))
}

fn ec_pair(alg: Alg) -> Generated {
    let signing = match alg {
        Alg::Es384 => &lc::ECDSA_P384_SHA384_FIXED_SIGNING,
        _ => &lc::ECDSA_P256_SHA256_FIXED_SIGNING,
    };
    let pair = lc::EcdsaKeyPair::generate(signing)?;
    // An uncompressed SEC1 point: 0x04, then x and y of equal length.
    let coordinates = pair.public_key().as_ref().get(1..).unwrap_or_default();
    let (x, y) = coordinates.split_at(coordinates.len() / 2);
    let crv = alg.curve().unwrap_or_default();
    let jwk = json!({"kty": "EC", "crv": crv, "x": b64(x), "y": b64(y)});
    Ok((pair.to_pkcs8v1()?.as_ref().to_vec(), jwk))
}

fn ed25519_pair() -> Generated {
    let pair = lc::Ed25519KeyPair::generate()?;
    let jwk = json!({"kty": "OKP", "crv": "Ed25519", "x": b64(pair.public_key().as_ref())});
    Ok((pair.to_pkcs8v1()?.as_ref().to_vec(), jwk))
}

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The thumbprint of a generated public JWK; also proves it reads back as a usable key.
fn thumbprint(jwk: &Value) -> Result<String, MintError> {
    let parsed: Jwk = serde_json::from_value(jwk.clone()).map_err(|_| MintError::Generate)?;
    let key = keys::from_jwk(&parsed, Origin::Configured).map_err(|_| MintError::Generate)?;
    Ok(key.id.thumbprint().to_owned())
}

/// RFC 7468 textual encoding: base64 in lines of 64 characters.
fn pem(label: &str, der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for line in body.as_bytes().chunks(64) {
        // Base64 output is ASCII, so any chunk of it is valid UTF-8.
        out.push_str(std::str::from_utf8(line).unwrap_or_default());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_algorithm_mints_a_token_its_public_jwk_verifies() {
        for alg in Alg::ALL {
            let (pem, jwk) = generate_key_pair(alg).expect("key pair");
            let token = mint(&pem, alg.name(), Some("k"), &json!({"sub": "u"})).expect("token");
            let parsed: Jwk = serde_json::from_value(jwk.clone()).expect("a JWK");
            let key = keys::from_jwk(&parsed, Origin::Configured).expect("usable public key");
            let jws = crate::auth::verify::parse(&token).expect("well formed");
            assert_eq!(jws.header.kid.as_deref(), Some("k"), "{alg}");
            assert_eq!(jws.header.typ.as_deref(), Some("JWT"), "{alg}");
            assert_eq!(jws.check_signature(&key), Ok(()), "{alg}");
            assert_eq!(jwk["kid"].as_str(), Some(key.id.thumbprint()), "{alg}");
            assert_eq!(jwk["alg"].as_str(), Some(alg.name()));
        }
    }

    #[test]
    fn generated_pem_is_pkcs8_in_64_column_lines() {
        let (pem, _) = generate_key_pair(Alg::Es256).expect("key pair");
        let lines: Vec<&str> = pem.lines().collect();
        assert_eq!(lines.first(), Some(&"-----BEGIN PRIVATE KEY-----"));
        assert_eq!(lines.last(), Some(&"-----END PRIVATE KEY-----"));
        assert!(
            lines[1..lines.len() - 1]
                .iter()
                .all(|line| line.len() <= 64)
        );
    }

    #[test]
    fn symmetric_and_unsigned_tokens_cannot_be_minted() {
        let (pem, _) = generate_key_pair(Alg::Es256).expect("key pair");
        for alg in ["HS256", "none"] {
            let error = mint(&pem, alg, None, &json!({})).expect_err("refused");
            assert!(matches!(error, MintError::UnsupportedAlg(_)), "{alg}");
        }
        let error = mint(&pem, "RS256", None, &json!({})).expect_err("EC key for RS256");
        assert_eq!(
            error.to_string(),
            "the private key is not a PEM RSA key for RS256"
        );
        let error = mint(&pem, "ES256", None, &json!([1])).expect_err("not an object");
        assert_eq!(error.to_string(), "the claims must be a JSON object");
    }

    #[test]
    fn the_typ_can_be_set_for_access_tokens() {
        let (pem, _) = generate_key_pair(Alg::EdDsa).expect("key pair");
        let token = mint_with_typ(&pem, "EdDSA", None, "at+jwt", &json!({})).expect("token");
        let jws = crate::auth::verify::parse(&token).expect("well formed");
        assert_eq!(jws.header.typ.as_deref(), Some("at+jwt"));
        assert_eq!(jws.header.kid, None);
    }
}
