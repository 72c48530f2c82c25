//! The token table: every algorithm and key shape, every header and claim fault of cases
//! C26, C27, C30, C31 and C45, each answered with an exact status and `WWW-Authenticate`,
//! through the same steps a request takes (credential, verify, scopes). Then the `jwks_url`
//! behaviour of C28 against a real local endpoint.

use std::sync::Arc;
use std::time::Duration;

use http::{HeaderMap, HeaderValue, StatusCode};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Value, json};

use super::fixtures::{self, JwksServer, keys, sign_raw, unsigned};
use super::{Alg, AuthError, Identity, InvalidReason, JwksCache, TenantAuth, require_scopes};
use crate::config::{self, ConfigErrors};

const ISSUER: &str = "https://idp.example.test/realms/acme";
const REALM: &str = "acme";
const MISSING: &str = "Bearer realm=\"acme\"";
const INVALID: &str = "Bearer realm=\"acme\", error=\"invalid_token\"";
const FORBIDDEN: &str =
    "Bearer realm=\"acme\", error=\"insufficient_scope\", scope=\"orders:read\"";

/// An `auth` block as the config file would give it, with `extra` members merged in.
fn auth_config(keys: Vec<Value>, extra: Value) -> config::Auth {
    let mut auth = json!({
        "issuer": ISSUER,
        "audiences": ["sse-gateway"],
        "keys": keys,
        "leeway": "60s",
        "credentials": {"header": "authorization: Bearer {credentials}", "query": "access_token"},
    });
    if let (Some(auth), Some(extra)) = (auth.as_object_mut(), extra.as_object()) {
        auth.extend(extra.clone());
    }
    serde_json::from_value(auth).expect("a valid auth block")
}

fn compile(realm: &str, auth: &config::Auth, cache: &JwksCache) -> Arc<TenantAuth> {
    let mut errors = ConfigErrors::new();
    let compiled = TenantAuth::compile(realm, auth, cache, "tenants.t.auth", &mut errors);
    assert_eq!(errors, ConfigErrors::new());
    compiled.expect("compiles")
}

/// Tenant `acme`: an RSA key under each RSA algorithm, two ES256 keys, one ES384, one
/// EdDSA, and a second RSA key written Zilla-style in standard base64.
fn acme_keys() -> Vec<Value> {
    let k = keys();
    let mut list: Vec<Value> = [
        (&k.rsa, "rsa-1", "RS256"),
        (&k.rsa, "rs384", "RS384"),
        (&k.rsa, "rs512", "RS512"),
        (&k.rsa, "ps256", "PS256"),
        (&k.rsa, "ps384", "PS384"),
        (&k.rsa, "ps512", "PS512"),
        (&k.p256, "ec-1", "ES256"),
        (&k.p256b, "ec-2", "ES256"),
        (&k.p384, "ec-384", "ES384"),
        (&k.ed25519, "ed-1", "EdDSA"),
    ]
    .iter()
    .map(|(key, kid, alg)| fixtures::jwk_json(&key.jwk(kid, alg)))
    .collect();
    list.push(fixtures::jwk_json(&fixtures::zilla_style(
        &k.rsa2.jwk("zilla", "RS256"),
    )));
    list
}

fn acme() -> Arc<TenantAuth> {
    compile(
        REALM,
        &auth_config(acme_keys(), json!({})),
        &JwksCache::default(),
    )
}

fn acme_at_jwt() -> Arc<TenantAuth> {
    let auth = auth_config(acme_keys(), json!({"require_typ": "at+jwt"}));
    compile(REALM, &auth, &JwksCache::default())
}

/// What a request with `token` in its `authorization` header gets: status, the
/// `WWW-Authenticate` value, and the metric label.
async fn answer(
    auth: &TenantAuth,
    token: Option<&str>,
    now: u64,
) -> (StatusCode, String, &'static str) {
    let required = vec!["orders:read".to_owned()];
    let mut headers = HeaderMap::new();
    if let Some(token) = token {
        let value = HeaderValue::from_str(&format!("Bearer {token}")).expect("header value");
        headers.insert(http::header::AUTHORIZATION, value);
    }
    let outcome = match auth.credential(&headers, "") {
        None => Err(AuthError::Missing),
        Some(token) => match auth.verify_at(&token, now).await {
            Ok(identity) => require_scopes(&identity, &required),
            Err(error) => Err(error),
        },
    };
    match outcome {
        Ok(()) => (StatusCode::OK, String::new(), "ok"),
        Err(error) => (
            error.status(),
            error.www_authenticate(auth.realm(), &required),
            error.reason(),
        ),
    }
}

/// Claims that pass every check at `t`, with `changes` applied (`null` removes a claim).
fn claims(t: u64, changes: Value) -> Value {
    let mut claims = json!({
        "iss": ISSUER, "aud": "sse-gateway", "sub": "user-1", "tid": "acme",
        "exp": t + 300, "iat": t, "scope": "orders:read profile",
    });
    for (name, value) in changes.as_object().cloned().unwrap_or_default() {
        match (value.is_null(), claims.as_object_mut()) {
            (true, Some(object)) => drop(object.remove(&name)),
            (false, Some(object)) => drop(object.insert(name, value)),
            _ => {}
        }
    }
    claims
}

fn header(alg: &str, kid: Option<&str>) -> Value {
    match kid {
        Some(kid) => json!({"alg": alg, "typ": "JWT", "kid": kid}),
        None => json!({"alg": alg, "typ": "JWT"}),
    }
}

/// A token signed properly by the `kid` key of tenant `acme`, with claim `changes`.
fn good(alg: Alg, kid: &str, t: u64, changes: Value) -> String {
    let k = keys();
    let key = match kid {
        "ec-1" => &k.p256,
        "ec-2" => &k.p256b,
        "ec-384" => &k.p384,
        "ed-1" => &k.ed25519,
        "zilla" => &k.rsa2,
        _ => &k.rsa,
    };
    key.sign(alg, &header(alg.name(), Some(kid)), &claims(t, changes))
}

fn hs256(secret: &[u8], kid: &str, t: u64) -> String {
    let key = EncodingKey::from_secret(secret).expect("HMAC key");
    sign_raw(
        &header("HS256", Some(kid)),
        &claims(t, json!({})),
        &key,
        Algorithm::HS256,
    )
}

#[derive(Clone, Copy, Debug)]
enum Tenant {
    Acme,
    AtJwt,
}

struct Case {
    name: &'static str,
    tenant: Tenant,
    token: Option<String>,
    expected: (StatusCode, &'static str, &'static str),
}

fn case(
    name: &'static str,
    token: String,
    expected: (StatusCode, &'static str, &'static str),
) -> Case {
    Case {
        name,
        tenant: Tenant::Acme,
        token: Some(token),
        expected,
    }
}

const OK: (StatusCode, &str, &str) = (StatusCode::OK, "", "ok");

const fn invalid(reason: &'static str) -> (StatusCode, &'static str, &'static str) {
    (StatusCode::UNAUTHORIZED, INVALID, reason)
}

fn algorithm_cases(t: u64) -> Vec<Case> {
    let zero = json!({});
    vec![
        case("RS256", good(Alg::Rs256, "rsa-1", t, zero.clone()), OK),
        case("RS384", good(Alg::Rs384, "rs384", t, zero.clone()), OK),
        case("RS512", good(Alg::Rs512, "rs512", t, zero.clone()), OK),
        case("PS256", good(Alg::Ps256, "ps256", t, zero.clone()), OK),
        case("PS384", good(Alg::Ps384, "ps384", t, zero.clone()), OK),
        case("PS512", good(Alg::Ps512, "ps512", t, zero.clone()), OK),
        case("ES256", good(Alg::Es256, "ec-1", t, zero.clone()), OK),
        case("ES384", good(Alg::Es384, "ec-384", t, zero.clone()), OK),
        case("EdDSA", good(Alg::EdDsa, "ed-1", t, zero.clone()), OK),
        case(
            "zilla-style standard base64 n/e",
            good(Alg::Rs256, "zilla", t, zero),
            OK,
        ),
    ]
}

/// C26, C27 and key selection.
fn header_cases(t: u64) -> Vec<Case> {
    let k = keys();
    let body = claims(t, json!({}));
    vec![
        case(
            "alg none",
            unsigned(&header("none", None), &body, ""),
            invalid("unsupported_alg"),
        ),
        case(
            "alg None",
            unsigned(&header("None", None), &body, ""),
            invalid("unsupported_alg"),
        ),
        case(
            "alg NONE",
            unsigned(&header("NONE", Some("rsa-1")), &body, ""),
            invalid("unsupported_alg"),
        ),
        case(
            "alg none, junk signature",
            unsigned(&header("none", None), &body, "c2ln"),
            invalid("unsupported_alg"),
        ),
        case(
            "HS256 keyed with the RSA public PEM",
            hs256(k.rsa.public_pem().as_bytes(), "rsa-1", t),
            invalid("unsupported_alg"),
        ),
        case(
            "HS256 keyed with the RSA JWK JSON",
            hs256(k.rsa.public_json().as_bytes(), "rsa-1", t),
            invalid("unsupported_alg"),
        ),
        case(
            "RS256 header on an EC kid",
            k.rsa
                .sign(Alg::Rs256, &header("RS256", Some("ec-1")), &body),
            invalid("alg_mismatch"),
        ),
        case(
            "ES256 header on an RSA kid",
            k.p256
                .sign(Alg::Es256, &header("ES256", Some("rsa-1")), &body),
            invalid("alg_mismatch"),
        ),
        case(
            "PS256 header on an RS256 kid",
            k.rsa
                .sign(Alg::Ps256, &header("PS256", Some("rsa-1")), &body),
            invalid("alg_mismatch"),
        ),
        case(
            "ES384 header on a P-256 kid",
            k.p384
                .sign(Alg::Es384, &header("ES384", Some("ec-1")), &body),
            invalid("alg_mismatch"),
        ),
        case(
            "unknown kid",
            k.rsa
                .sign(Alg::Rs256, &header("RS256", Some("rsa-9")), &body),
            invalid("unknown_key"),
        ),
        case(
            "no kid, one ES384 key",
            k.p384.sign(Alg::Es384, &header("ES384", None), &body),
            OK,
        ),
        case(
            "no kid, two ES256 keys",
            k.p256.sign(Alg::Es256, &header("ES256", None), &body),
            invalid("ambiguous_key"),
        ),
        case(
            "no kid, one EdDSA key",
            k.ed25519.sign(Alg::EdDsa, &header("EdDSA", None), &body),
            OK,
        ),
        case(
            "signed by another key",
            k.rsa2
                .sign(Alg::Rs256, &header("RS256", Some("rsa-1")), &body),
            invalid("bad_signature"),
        ),
        case(
            "tampered claims",
            tampered(&good(Alg::Es256, "ec-1", t, json!({}))),
            invalid("bad_signature"),
        ),
        case(
            "crit header",
            k.rsa.sign(
                Alg::Rs256,
                &json!({"alg": "RS256", "kid": "rsa-1", "crit": ["exp"], "exp": 1}),
                &body,
            ),
            invalid("unsupported_crit"),
        ),
        case("not a JWS", "abc.def".to_owned(), invalid("malformed")),
        case(
            "longer than 16 KiB",
            format!("{}.e30.c2ln", "A".repeat(16 * 1024)),
            invalid("too_long"),
        ),
    ]
}

/// Swaps the claims part for another, keeping header and signature.
fn tampered(token: &str) -> String {
    let parts: Vec<&str> = token.split('.').collect();
    let forged = unsigned(
        &json!({}),
        &json!({"sub": "admin", "scope": "orders:read"}),
        "",
    );
    let forged_claims = forged.split('.').nth(1).unwrap_or_default().to_owned();
    format!("{}.{}.{}", parts[0], forged_claims, parts[2])
}

/// C30 (leeway 60 s), issuer, scopes.
fn claim_cases(t: u64) -> Vec<Case> {
    let token = |changes: Value| good(Alg::Rs256, "rsa-1", t, changes);
    vec![
        case(
            "exp 30 s ago, within leeway",
            token(json!({"exp": t - 30})),
            OK,
        ),
        case(
            "exp 61 s ago, beyond leeway",
            token(json!({"exp": t - 61})),
            invalid("expired"),
        ),
        case(
            "nbf 4200 s ahead",
            token(json!({"nbf": t + 4200})),
            invalid("not_yet_valid"),
        ),
        case(
            "nbf 30 s ahead, within leeway",
            token(json!({"nbf": t + 30})),
            OK,
        ),
        case(
            "no exp",
            token(json!({"exp": null})),
            invalid("missing_exp"),
        ),
        case(
            "exp as a string",
            token(json!({"exp": "4102444800"})),
            invalid("bad_claim_type"),
        ),
        case(
            "iat an hour ahead",
            token(json!({"iat": t + 3600})),
            invalid("issued_in_future"),
        ),
        case(
            "iss of another realm",
            token(json!({"iss": "https://idp.example.test/realms/globex"})),
            invalid("bad_issuer"),
        ),
        case(
            "iss with a trailing slash",
            token(json!({"iss": format!("{ISSUER}/")})),
            invalid("bad_issuer"),
        ),
        case("no iss", token(json!({"iss": null})), invalid("bad_issuer")),
        case(
            "scope missing orders:read",
            token(json!({"scope": "profile"})),
            (StatusCode::FORBIDDEN, FORBIDDEN, "insufficient_scope"),
        ),
        case(
            "scope as an array",
            token(json!({"scope": ["orders:read"]})),
            OK,
        ),
        case(
            "scope array with a number",
            token(json!({"scope": ["orders:read", 1]})),
            invalid("bad_claim_type"),
        ),
    ]
}

/// C31: the seven audience shapes against expected audience `sse-gateway`.
fn audience_cases(t: u64) -> Vec<Case> {
    let token = |aud: Value| good(Alg::Es256, "ec-1", t, json!({"aud": aud}));
    vec![
        case("aud the string", token(json!("sse-gateway")), OK),
        case(
            "aud an array holding it",
            token(json!(["other", "sse-gateway"])),
            OK,
        ),
        case(
            "aud an array without it",
            token(json!(["other"])),
            invalid("bad_audience"),
        ),
        case("no aud", token(Value::Null), invalid("bad_audience")),
        case(
            "aud array with a number",
            token(json!(["sse-gateway", 123])),
            invalid("bad_audience"),
        ),
        case(
            "aud a space-joined string",
            token(json!("sse-gateway other")),
            invalid("bad_audience"),
        ),
        case(
            "aud an empty array",
            token(json!([])),
            invalid("bad_audience"),
        ),
    ]
}

/// `require_typ: at+jwt`.
fn typ_cases(t: u64) -> Vec<Case> {
    let k = keys();
    let body = claims(t, json!({}));
    let typed = |typ: Option<&str>| {
        let mut h = header("ES256", Some("ec-1"));
        match typ {
            Some(typ) => h["typ"] = typ.into(),
            None => drop(h.as_object_mut().and_then(|h| h.remove("typ"))),
        }
        k.p256.sign(Alg::Es256, &h, &body)
    };
    let at = |name, token, expected| Case {
        tenant: Tenant::AtJwt,
        ..case(name, token, expected)
    };
    vec![
        at("typ at+jwt", typed(Some("at+jwt")), OK),
        at(
            "typ application/at+jwt",
            typed(Some("application/at+jwt")),
            OK,
        ),
        at("typ AT+JWT", typed(Some("AT+JWT")), OK),
        at(
            "typ JWT where at+jwt is required",
            typed(Some("JWT")),
            invalid("bad_typ"),
        ),
        at(
            "no typ where at+jwt is required",
            typed(None),
            invalid("bad_typ"),
        ),
    ]
}

#[tokio::test]
async fn every_token_variant_gets_its_exact_answer() {
    let t = fixtures::now();
    let (acme, at_jwt) = (acme(), acme_at_jwt());
    let mut cases = vec![Case {
        name: "no token",
        tenant: Tenant::Acme,
        token: None,
        expected: (StatusCode::UNAUTHORIZED, MISSING, "missing"),
    }];
    for group in [
        algorithm_cases(t),
        header_cases(t),
        claim_cases(t),
        audience_cases(t),
        typ_cases(t),
    ] {
        cases.extend(group);
    }
    assert_eq!(cases.len(), 55);
    let mut failures = Vec::new();
    for case in &cases {
        let auth = match case.tenant {
            Tenant::Acme => &acme,
            Tenant::AtJwt => &at_jwt,
        };
        let (status, challenge, reason) = answer(auth, case.token.as_deref(), t).await;
        let (want_status, want_challenge, want_reason) = case.expected;
        if (status, challenge.as_str(), reason) != (want_status, want_challenge, want_reason) {
            failures.push(format!(
                "{}: got {status} {challenge:?} {reason}",
                case.name
            ));
        }
    }
    assert_eq!(failures, Vec::<String>::new());
}

#[tokio::test]
async fn a_verified_identity_carries_subject_scopes_expiry_key_and_claims() {
    let t = fixtures::now();
    let acme = acme();
    let token = good(Alg::Rs256, "rsa-1", t, json!({"org": {"region": "eu"}}));
    let identity: Identity = acme.verify_at(&token, t).await.expect("valid");
    assert_eq!(identity.subject.as_deref(), Some("user-1"));
    assert_eq!(identity.scopes, ["orders:read", "profile"]);
    assert_eq!(identity.expires_at, t + 300);
    assert_eq!(identity.key.kid(), Some("rsa-1"));
    assert_eq!(identity.key.alg(), Alg::Rs256);
    assert_eq!(identity.claim_str("tid").as_deref(), Some("acme"));
    assert_eq!(identity.claim_str("org.region").as_deref(), Some("eu"));
    assert!(acme.verify(&token).await.is_ok(), "the real clock agrees");
}

#[tokio::test]
async fn a_token_of_tenant_a_is_refused_by_tenant_b_with_the_same_issuer_and_audience() {
    // C45: same IdP strings, same `kid` even; only the keys differ.
    let t = fixtures::now();
    let k = keys();
    let acme = compile(
        "acme",
        &auth_config(
            vec![fixtures::jwk_json(&k.rsa.jwk("rsa-1", "RS256"))],
            json!({}),
        ),
        &JwksCache::default(),
    );
    let globex_keys = vec![
        fixtures::jwk_json(&k.rsa2.jwk("rsa-1", "RS256")),
        fixtures::jwk_json(&k.p256b.jwk("g-ec", "ES256")),
    ];
    let globex = compile(
        "globex",
        &auth_config(globex_keys, json!({})),
        &JwksCache::default(),
    );
    let token = good(Alg::Rs256, "rsa-1", t, json!({}));
    assert!(acme.verify_at(&token, t).await.is_ok());
    let refused = globex
        .verify_at(&token, t)
        .await
        .expect_err("another tenant's key");
    assert_eq!(refused, AuthError::Invalid(InvalidReason::BadSignature));
    assert_eq!(
        refused.www_authenticate(globex.realm(), &[]),
        "Bearer realm=\"globex\", error=\"invalid_token\""
    );
    let es_token = good(Alg::Es256, "ec-1", t, json!({}));
    assert_eq!(
        globex.verify_at(&es_token, t).await.err(),
        Some(AuthError::Invalid(InvalidReason::UnknownKey))
    );
}

#[tokio::test]
async fn credentials_are_read_from_header_then_query_then_cookie() {
    let k = keys();
    let auth = auth_config(
        vec![fixtures::jwk_json(&k.rsa.jwk("rsa-1", "RS256"))],
        json!({
            "credentials": {
                "header": "authorization: Bearer {credentials}",
                "query": "access_token",
                "cookie": "sluice",
            }
        }),
    );
    let acme = compile("acme", &auth, &JwksCache::default());
    let mut headers = HeaderMap::new();
    headers.insert(
        "cookie",
        HeaderValue::from_static("a=b; sluice=from-cookie"),
    );
    assert_eq!(
        acme.credential(&headers, "x=1").as_deref(),
        Some("from-cookie")
    );
    assert_eq!(
        acme.credential(&headers, "access_token=from%2Bquery")
            .as_deref(),
        Some("from+query")
    );
    headers.insert(
        "authorization",
        HeaderValue::from_static("Bearer from-header"),
    );
    assert_eq!(
        acme.credential(&headers, "access_token=q").as_deref(),
        Some("from-header")
    );
    assert_eq!(acme.credential_query_param(), Some("access_token"));
}

#[tokio::test]
async fn a_swap_that_drops_or_renames_the_signing_key_revokes_it() {
    let t = fixtures::now();
    let k = keys();
    let with = |kid: &str, alg: &str| {
        let auth = auth_config(vec![fixtures::jwk_json(&k.rsa.jwk(kid, alg))], json!({}));
        compile("acme", &auth, &JwksCache::default())
    };
    let before = with("rsa-1", "RS256");
    let identity = before
        .verify_at(&good(Alg::Rs256, "rsa-1", t, json!({})), t)
        .await
        .expect("valid");
    assert!(with("rsa-1", "RS256").has_key(&identity.key));
    assert!(!with("rsa-2", "RS256").has_key(&identity.key));
    assert!(!with("rsa-1", "PS256").has_key(&identity.key));
    let other = compile(
        "acme",
        &auth_config(
            vec![fixtures::jwk_json(&k.rsa2.jwk("rsa-1", "RS256"))],
            json!({}),
        ),
        &JwksCache::default(),
    );
    assert!(!other.has_key(&identity.key));
}

#[test]
fn bad_keys_are_reported_at_their_member_paths() {
    let k = keys();
    let mut short = k.rsa.jwk("a", "RS256");
    short.n = Some("AQAB".into());
    let mut off_curve = k.p256.jwk("b", "ES256");
    off_curve.x = Some("not base64!".into());
    let mut wrong_curve = k.p384.jwk("c", "ES256");
    wrong_curve.crv = Some("P-256".into());
    let keys = vec![
        fixtures::jwk_json(&short),
        fixtures::jwk_json(&off_curve),
        fixtures::jwk_json(&k.ed25519.jwk("ok", "EdDSA")),
        fixtures::jwk_json(&wrong_curve),
    ];
    let mut errors = ConfigErrors::new();
    let compiled = TenantAuth::compile(
        "acme",
        &auth_config(keys, json!({})),
        &JwksCache::default(),
        "tenants.acme.auth",
        &mut errors,
    );
    assert!(compiled.is_none());
    let messages: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        messages,
        [
            "tenants.acme.auth.keys[0].n: the RSA modulus has 17 bits; use 2048 to 8192",
            "tenants.acme.auth.keys[1].x: `x` is not base64url (or standard base64)",
            "tenants.acme.auth.keys[3].x: `x` is 48 bytes; P-256 needs 32",
        ]
    );
}

#[test]
fn settings_carry_over_from_the_config() {
    let k = keys();
    let auth = auth_config(
        vec![fixtures::jwk_json(&k.rsa.jwk("rsa-1", "RS256"))],
        json!({"challenge": "10s"}),
    );
    let acme = compile("acme", &auth, &JwksCache::default());
    assert_eq!(acme.challenge(), Some(Duration::from_secs(10)));
    assert_eq!(acme.leeway(), Duration::from_secs(60));
    assert_eq!(acme.realm(), "acme");
    assert_eq!(acme.credential_query_param(), Some("access_token"));
}

// C28: keys from a `jwks_url`, against a real endpoint that counts its fetches.

fn jwks_tenant(server: &JwksServer, cache: &JwksCache) -> Arc<TenantAuth> {
    let auth = auth_config(
        vec![],
        json!({"jwks_url": server.url(), "jwks_cache": "5m"}),
    );
    compile("acme", &auth, cache)
}

fn random_kid(i: usize) -> String {
    format!(
        "{:08x}-{i:04}",
        fixtures::now()
            .wrapping_mul(2_654_435_761)
            .wrapping_add(i as u64 * 7919)
    )
}

async fn verify_all(
    auth: &Arc<TenantAuth>,
    tokens: Vec<String>,
) -> Vec<Result<Identity, AuthError>> {
    let mut tasks = tokio::task::JoinSet::new();
    for token in tokens {
        let auth = auth.clone();
        tasks.spawn(async move { auth.verify(&token).await });
    }
    tasks.join_all().await
}

#[tokio::test]
async fn random_kids_cause_at_most_one_refetch_per_cooldown() {
    let server = JwksServer::start(fixtures::jwks(&[("rsa-1", "RS256")])).await;
    let cache = JwksCache::default().with_cooldown(Duration::from_secs(1));
    let acme = jwks_tenant(&server, &cache);
    acme.prefetch().await;
    assert_eq!(server.fetches(), 1);

    let t = fixtures::now();
    let body = claims(t, json!({}));
    let forged = |i: usize| unsigned(&header("RS256", Some(&random_kid(i))), &body, "c2ln");
    let results = verify_all(&acme, (0..100).map(forged).collect()).await;
    assert_eq!(
        server.fetches(),
        1,
        "still within the cooldown of the prefetch"
    );
    assert!(
        results
            .iter()
            .all(|r| r.as_ref().err() == Some(&AuthError::Invalid(InvalidReason::UnknownKey)))
    );

    tokio::time::sleep(Duration::from_millis(1100)).await;
    let results = verify_all(&acme, (100..200).map(forged).collect()).await;
    assert_eq!(
        server.fetches(),
        2,
        "one single-flight refetch for 100 unknown kids"
    );
    assert!(results.iter().all(|r| r.is_err()));
}

#[tokio::test]
async fn a_newly_published_key_is_picked_up_after_one_refetch() {
    let server = JwksServer::start(fixtures::jwks(&[("rsa-1", "RS256")])).await;
    let cache = JwksCache::default().with_cooldown(Duration::from_secs(1));
    let acme = jwks_tenant(&server, &cache);
    let t = fixtures::now();
    let old = good(Alg::Rs256, "rsa-1", t, json!({}));
    assert!(acme.verify(&old).await.is_ok());
    assert_eq!(server.fetches(), 1);

    server.publish(fixtures::jwks(&[("rsa-1", "RS256"), ("rsa-2", "RS256")]));
    let new = keys().rsa2.sign(
        Alg::Rs256,
        &header("RS256", Some("rsa-2")),
        &claims(t, json!({})),
    );
    let early = acme.verify(&new).await;
    assert_eq!(
        early.err(),
        Some(AuthError::Invalid(InvalidReason::UnknownKey)),
        "cooldown"
    );
    assert_eq!(server.fetches(), 1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(
        acme.verify(&new)
            .await
            .map(|i| i.key.kid().map(str::to_owned)),
        Ok(Some("rsa-2".into()))
    );
    assert_eq!(server.fetches(), 2);
    assert!(acme.verify(&new).await.is_ok());
    assert_eq!(server.fetches(), 2);
}

#[tokio::test]
async fn a_down_jwks_endpoint_keeps_the_last_good_keys_and_never_fails_open() {
    let server = JwksServer::start(fixtures::jwks(&[("rsa-1", "RS256")])).await;
    let cache = JwksCache::default().with_cooldown(Duration::ZERO);
    let auth = auth_config(
        vec![],
        json!({"jwks_url": server.url(), "jwks_cache": "1ms"}),
    );
    let acme = compile("acme", &auth, &cache);
    let t = fixtures::now();
    let token = good(Alg::Rs256, "rsa-1", t, json!({}));
    assert!(acme.verify(&token).await.is_ok());

    server.set_down(true);
    tokio::time::sleep(Duration::from_millis(5)).await;
    let identity = acme
        .verify(&token)
        .await
        .expect("the last good keys still verify");
    assert!(server.fetches() >= 2, "the expired cache was refetched");
    assert!(acme.has_key(&identity.key));
    let forged = unsigned(
        &header("RS256", Some("rsa-1")),
        &claims(t, json!({})),
        "c2ln",
    );
    assert_eq!(
        acme.verify(&forged).await.err(),
        Some(AuthError::Invalid(InvalidReason::BadSignature))
    );
    let unknown = good(Alg::Rs256, "rsa-7", t, json!({}));
    assert_eq!(
        acme.verify(&unknown).await.err(),
        Some(AuthError::Invalid(InvalidReason::UnknownKey))
    );
}

#[tokio::test]
async fn an_unreachable_jwks_endpoint_refuses_every_token() {
    let url = fixtures::closed_port_url().await;
    let auth = auth_config(vec![], json!({"jwks_url": url}));
    let acme = compile("acme", &auth, &JwksCache::default());
    let token = good(Alg::Rs256, "rsa-1", fixtures::now(), json!({}));
    assert_eq!(
        acme.verify(&token).await.err(),
        Some(AuthError::Invalid(InvalidReason::UnknownKey))
    );
}

#[tokio::test]
async fn configured_and_published_keys_work_side_by_side_and_share_a_fetch() {
    let server = JwksServer::start(fixtures::jwks(&[("rsa-2", "RS256")])).await;
    let cache = JwksCache::default();
    let k = keys();
    let auth = auth_config(
        vec![fixtures::jwk_json(&k.p256.jwk("ec-1", "ES256"))],
        json!({"jwks_url": server.url()}),
    );
    let acme = compile("acme", &auth, &cache);
    let globex = compile("globex", &auth, &cache);
    let t = fixtures::now();
    let published = k.rsa2.sign(
        Alg::Rs256,
        &header("RS256", Some("rsa-2")),
        &claims(t, json!({})),
    );
    assert!(
        acme.verify(&good(Alg::Es256, "ec-1", t, json!({})))
            .await
            .is_ok()
    );
    assert_eq!(server.fetches(), 0, "a configured kid needs no JWKS");
    assert!(acme.verify(&published).await.is_ok());
    assert!(globex.verify(&published).await.is_ok());
    assert_eq!(server.fetches(), 1);
}
