//! The checks on one compact JWS (RFC 7515 §7.1) that need no key lookup: splitting and
//! decoding it, reading its header, verifying its signature with a chosen key, and the
//! registered claims (RFC 7519 §4.1) against the tenant's rules.
//!
//! Claims are read from the JSON as sent rather than through a typed struct, so that a date
//! written as a string, or an audience list holding a number, is refused instead of coerced
//! or silently dropped (conformance cases C30, C31).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};

use super::error::InvalidReason;
use super::keys::{Alg, VerifyingKey};

/// A token split into its parts, with its header read.
#[derive(Debug)]
pub(crate) struct Jws<'a> {
    pub(crate) header: Header,
    signing_input: &'a str,
    payload: &'a str,
    signature: &'a str,
}

/// The header members Sluice acts on.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Header {
    pub(crate) alg: Alg,
    pub(crate) kid: Option<String>,
    pub(crate) typ: Option<String>,
}

/// Splits `token` and reads its header. The algorithm must be one Sluice verifies; which key
/// checks the signature is decided later, from the key records.
pub(crate) fn parse(token: &str) -> Result<Jws<'_>, InvalidReason> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(InvalidReason::Malformed);
    };
    let header_json = json_object(header)?;
    let header_fields = read_header(&header_json)?;
    if signature.is_empty() || URL_SAFE_NO_PAD.decode(signature).is_err() {
        return Err(InvalidReason::Malformed);
    }
    let signing_input = &token[..header.len() + 1 + payload.len()];
    Ok(Jws {
        header: header_fields,
        signing_input,
        payload,
        signature,
    })
}

fn read_header(header: &Map<String, Value>) -> Result<Header, InvalidReason> {
    let alg = match header.get("alg") {
        Some(Value::String(name)) => Alg::parse(name).ok_or(InvalidReason::UnsupportedAlg)?,
        _ => return Err(InvalidReason::Malformed),
    };
    if header.contains_key("crit") {
        return Err(InvalidReason::UnsupportedCrit);
    }
    Ok(Header {
        alg,
        kid: optional_string(header, "kid")?,
        typ: optional_string(header, "typ")?,
    })
}

fn optional_string(
    object: &Map<String, Value>,
    name: &str,
) -> Result<Option<String>, InvalidReason> {
    match object.get(name) {
        None => Ok(None),
        Some(Value::String(value)) => Ok(Some(value.clone())),
        Some(_) => Err(InvalidReason::Malformed),
    }
}

/// A base64url part holding a JSON object.
fn json_object(part: &str) -> Result<Map<String, Value>, InvalidReason> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| InvalidReason::Malformed)?;
    match serde_json::from_slice(&bytes) {
        Ok(Value::Object(object)) => Ok(object),
        _ => Err(InvalidReason::Malformed),
    }
}

impl Jws<'_> {
    /// Checks the signature with `key`, under the key's own algorithm, which must be the
    /// header's (RFC 8725 §3.1).
    pub(crate) fn check_signature(&self, key: &VerifyingKey) -> Result<(), InvalidReason> {
        if key.alg() != self.header.alg {
            return Err(InvalidReason::AlgMismatch);
        }
        let verified = jsonwebtoken::crypto::verify(
            self.signature,
            self.signing_input.as_bytes(),
            &key.decoding,
            key.alg().jwt(),
        );
        match verified {
            Ok(true) => Ok(()),
            _ => Err(InvalidReason::BadSignature),
        }
    }

    /// The claims set. Read only after the signature verified.
    pub(crate) fn claims(&self) -> Result<Map<String, Value>, InvalidReason> {
        json_object(self.payload)
    }
}

/// Whether the header's `typ` is `required`: case-insensitive, and the `application/` prefix
/// may be left out on either side (RFC 7515 §4.1.9), so `at+jwt` also takes
/// `application/at+jwt`.
pub(crate) fn typ_matches(typ: Option<&str>, required: &str) -> bool {
    fn media_type(text: &str) -> &str {
        let prefix = "application/";
        match text.get(..prefix.len()) {
            Some(head) if head.eq_ignore_ascii_case(prefix) => &text[prefix.len()..],
            _ => text,
        }
    }
    typ.is_some_and(|typ| media_type(typ).eq_ignore_ascii_case(media_type(required)))
}

/// What a tenant requires of the registered claims.
#[derive(Debug)]
pub(crate) struct ClaimRules<'a> {
    pub(crate) issuer: &'a str,
    pub(crate) audiences: &'a [String],
    /// Clock skew allowed on `exp`, `nbf` and `iat`, in seconds.
    pub(crate) leeway: f64,
}

impl ClaimRules<'_> {
    /// Checks times, issuer and audience at `now` (unix seconds); gives `exp`, floored.
    pub(crate) fn check(
        &self,
        claims: &Map<String, Value>,
        now: u64,
    ) -> Result<u64, InvalidReason> {
        let (now, leeway) = (now as f64, self.leeway);
        let exp = numeric_date(claims, "exp")?.ok_or(InvalidReason::MissingExp)?;
        if now > exp + leeway {
            return Err(InvalidReason::Expired);
        }
        if numeric_date(claims, "nbf")?.is_some_and(|nbf| nbf > now + leeway) {
            return Err(InvalidReason::NotYetValid);
        }
        if numeric_date(claims, "iat")?.is_some_and(|iat| iat > now + leeway) {
            return Err(InvalidReason::IssuedInFuture);
        }
        if claims.get("iss").and_then(Value::as_str) != Some(self.issuer) {
            return Err(InvalidReason::BadIssuer);
        }
        self.check_audience(claims.get("aud"))?;
        // A positive finite f64 floors into u64 exactly enough for a unix time; `as` saturates.
        Ok(exp.max(0.0).floor() as u64)
    }

    /// RFC 7519 §4.1.3: `aud` is a string or an array of strings, one of which must be ours.
    /// Any other shape, including an array with a non-string entry, is refused whole.
    fn check_audience(&self, aud: Option<&Value>) -> Result<(), InvalidReason> {
        let ours = |candidate: &str| self.audiences.iter().any(|a| a == candidate);
        let accepted = match aud {
            Some(Value::String(single)) => ours(single),
            Some(Value::Array(items)) => {
                let names: Option<Vec<&str>> = items.iter().map(Value::as_str).collect();
                names.is_some_and(|names| names.into_iter().any(ours))
            }
            _ => false,
        };
        accepted.then_some(()).ok_or(InvalidReason::BadAudience)
    }
}

/// A NumericDate (RFC 7519 §2): a JSON number, possibly fractional; `None` when absent.
fn numeric_date(claims: &Map<String, Value>, name: &str) -> Result<Option<f64>, InvalidReason> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(number)) => number.as_f64().map(Some).ok_or(InvalidReason::BadClaimType),
        Some(_) => Err(InvalidReason::BadClaimType),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn encode(value: &Value) -> String {
        URL_SAFE_NO_PAD.encode(value.to_string())
    }

    fn token(header: &Value) -> String {
        format!("{}.{}.c2ln", encode(header), encode(&json!({})))
    }

    #[test]
    fn a_token_is_three_base64url_parts() {
        let good = token(&json!({"alg": "RS256", "kid": "k", "typ": "JWT"}));
        let header = parse(&good).expect("well formed").header;
        let expected = Header {
            alg: Alg::Rs256,
            kid: Some("k".into()),
            typ: Some("JWT".into()),
        };
        assert_eq!(header, expected);
        for bad in [
            "",
            "a.b",
            "a.b.c.d",
            &format!("{good}."),
            &good.replace(".c2ln", "."),
            &good.replace(".c2ln", ".c2ln="),
            &good.replace(".c2ln", ".c2+n"),
        ] {
            assert_eq!(parse(bad).err(), Some(InvalidReason::Malformed), "{bad}");
        }
    }

    #[test]
    fn header_members_must_have_their_types() {
        let cases = [
            (json!({}), InvalidReason::Malformed),
            (json!({"alg": 256}), InvalidReason::Malformed),
            (json!({"alg": "RS256", "kid": 1}), InvalidReason::Malformed),
            (
                json!({"alg": "RS256", "typ": ["JWT"]}),
                InvalidReason::Malformed,
            ),
            (json!({"alg": "none"}), InvalidReason::UnsupportedAlg),
            (json!({"alg": "HS256"}), InvalidReason::UnsupportedAlg),
            (
                json!({"alg": "RS256", "crit": ["b64"], "b64": false}),
                InvalidReason::UnsupportedCrit,
            ),
            (json!(["alg", "RS256"]), InvalidReason::Malformed),
        ];
        for (header, reason) in cases {
            assert_eq!(parse(&token(&header)).err(), Some(reason), "{header}");
        }
    }

    #[test]
    fn typ_compares_case_insensitively_with_optional_application_prefix() {
        assert!(typ_matches(Some("at+jwt"), "at+jwt"));
        assert!(typ_matches(Some("AT+JWT"), "at+jwt"));
        assert!(typ_matches(Some("application/at+jwt"), "at+jwt"));
        assert!(typ_matches(
            Some("Application/AT+JWT"),
            "application/at+jwt"
        ));
        assert!(!typ_matches(Some("JWT"), "at+jwt"));
        assert!(!typ_matches(None, "at+jwt"));
        assert!(!typ_matches(Some("text/at+jwt"), "at+jwt"));
    }

    fn check(claims: Value) -> Result<u64, InvalidReason> {
        let audiences = ["sse-gateway".to_owned()];
        let rules = ClaimRules {
            issuer: "https://idp",
            audiences: &audiences,
            leeway: 60.0,
        };
        let mut merged = json!({"iss": "https://idp", "aud": "sse-gateway"})
            .as_object()
            .cloned()
            .unwrap_or_default();
        merged.extend(claims.as_object().cloned().unwrap_or_default());
        rules.check(&merged, 1_000_000)
    }

    #[test]
    fn times_follow_c30_with_60_seconds_leeway() {
        const T: u64 = 1_000_000;
        assert_eq!(check(json!({"exp": T - 30})), Ok(T - 30));
        assert_eq!(check(json!({"exp": T - 61})), Err(InvalidReason::Expired));
        assert_eq!(
            check(json!({"exp": T + 9, "nbf": T + 4200})),
            Err(InvalidReason::NotYetValid)
        );
        assert_eq!(check(json!({"exp": T + 9, "nbf": T + 30})), Ok(T + 9));
        assert_eq!(check(json!({})), Err(InvalidReason::MissingExp));
        assert_eq!(
            check(json!({"exp": "4102444800"})),
            Err(InvalidReason::BadClaimType)
        );
        assert_eq!(
            check(json!({"exp": T + 9, "iat": T + 3600})),
            Err(InvalidReason::IssuedInFuture)
        );
        assert_eq!(check(json!({"exp": T + 9, "iat": T + 60})), Ok(T + 9));
        assert_eq!(
            check(json!({"exp": T + 9, "nbf": "0"})),
            Err(InvalidReason::BadClaimType)
        );
        assert_eq!(check(json!({"exp": 1_000_009.75})), Ok(T + 9));
        assert_eq!(check(json!({"exp": -5})), Err(InvalidReason::Expired));
    }

    #[test]
    fn issuer_must_match_exactly() {
        let exp = json!(2_000_000);
        assert_eq!(
            check(json!({"exp": exp, "iss": "https://idp/"})),
            Err(InvalidReason::BadIssuer)
        );
        assert_eq!(
            check(json!({"exp": exp, "iss": null})),
            Err(InvalidReason::BadIssuer)
        );
        assert_eq!(
            check(json!({"exp": exp, "iss": "HTTPS://IDP"})),
            Err(InvalidReason::BadIssuer)
        );
    }

    #[test]
    fn audience_shapes_follow_c31() {
        let exp = 2_000_000;
        let cases = [
            (json!("sse-gateway"), true),
            (json!(["other", "sse-gateway"]), true),
            (json!(["other"]), false),
            (json!(null), false),
            (json!(["sse-gateway", 123]), false),
            (json!("sse-gateway other"), false),
            (json!([]), false),
            (json!({"sse-gateway": true}), false),
        ];
        for (aud, accepted) in cases {
            let expected = if accepted {
                Ok(exp)
            } else {
                Err(InvalidReason::BadAudience)
            };
            assert_eq!(check(json!({"exp": exp, "aud": aud})), expected, "{aud}");
        }
    }
}
