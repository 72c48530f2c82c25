// Signing keys and tokens in the browser with WebCrypto: generate an RS256 (RSASSA-PKCS1-v1_5,
// 2048 bits, SHA-256) or ES256 (ECDSA P-256) key pair, export the public half as a JWK
// (RFC 7517) named by its RFC 7638 thumbprint, the private half as a PKCS#8 PEM, and sign
// JWTs (RFC 7519) with it. Private keys stay in this page's memory (the session keyring).

const ALGORITHMS = {
  RS256: {
    generate: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
    import: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
    sign: { name: 'RSASSA-PKCS1-v1_5' },
    // RFC 7638 §3.2: the required members, in lexicographic order.
    members: ['e', 'kty', 'n'],
  },
  ES256: {
    generate: { name: 'ECDSA', namedCurve: 'P-256' },
    import: { name: 'ECDSA', namedCurve: 'P-256' },
    // WebCrypto's ECDSA signature is r || s, which is what JWS wants (RFC 7518 §3.4).
    sign: { name: 'ECDSA', hash: 'SHA-256' },
    members: ['crv', 'kty', 'x', 'y'],
  },
};

/** The algorithms the console can generate and sign with. */
export const SUPPORTED = Object.keys(ALGORITHMS);

/**
 * Why keys cannot be made or used here, or null when they can: browsers offer WebCrypto's
 * `crypto.subtle` only in secure contexts (HTTPS, or http://localhost and 127.0.0.1).
 */
export function unavailable() {
  if (window.isSecureContext && globalThis.crypto?.subtle) return null;
  return 'Keys are made and used with WebCrypto, which browsers offer only over HTTPS or on localhost. Open the console that way to generate keys or mint tokens.';
}

/** A random id: 16 bytes, base64url. */
export function randomId() {
  return base64url(crypto.getRandomValues(new Uint8Array(16)));
}

/** base64url without padding (RFC 4648 §5) of bytes or a string. */
export function base64url(input) {
  const bytes = typeof input === 'string' ? new TextEncoder().encode(input) : new Uint8Array(input);
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replaceAll('+', '-').replaceAll('/', '_').replace(/=+$/, '');
}

/** The RFC 7638 thumbprint (SHA-256, base64url) of a public JWK. */
export async function thumbprint(jwk) {
  const spec = jwk.kty === 'RSA' ? ALGORITHMS.RS256 : ALGORITHMS.ES256;
  const canonical = `{${spec.members.map((m) => `${JSON.stringify(m)}:${JSON.stringify(jwk[m])}`).join(',')}}`;
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(canonical));
  return base64url(digest);
}

/**
 * A fresh key pair for `alg`: `{alg, kid, publicJwk, privateKey, privatePem}`. The public JWK
 * carries `alg`, `use: sig` and `kid` = its thumbprint.
 */
export async function generate(alg) {
  const spec = ALGORITHMS[alg];
  if (!spec) throw new Error(`unsupported algorithm ${alg}`);
  const pair = await crypto.subtle.generateKey(spec.generate, true, ['sign', 'verify']);
  const exported = await crypto.subtle.exportKey('jwk', pair.publicKey);
  const publicJwk = { kty: exported.kty };
  for (const member of spec.members) publicJwk[member] = exported[member];
  const kid = await thumbprint(publicJwk);
  Object.assign(publicJwk, { alg, use: 'sig', kid });
  const pkcs8 = await crypto.subtle.exportKey('pkcs8', pair.privateKey);
  return { alg, kid, publicJwk, privateKey: pair.privateKey, privatePem: pem('PRIVATE KEY', pkcs8) };
}

/** DER bytes as PEM (RFC 7468): base64 in 64-column lines between labels. */
export function pem(label, der) {
  const body = btoa(String.fromCharCode(...new Uint8Array(der))).match(/.{1,64}/g).join('\n');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

/**
 * Imports a PKCS#8 PEM private key for signing; tries RS256 then ES256 and reports which one
 * it is: `{alg, privateKey}`.
 */
export async function importPem(text) {
  const match = /-----BEGIN PRIVATE KEY-----([\s\S]+?)-----END PRIVATE KEY-----/.exec(text);
  if (!match) throw new Error('expected a PKCS#8 PEM ("BEGIN PRIVATE KEY")');
  const der = Uint8Array.from(atob(match[1].replace(/\s+/g, '')), (c) => c.charCodeAt(0));
  for (const alg of SUPPORTED) {
    try {
      const privateKey = await crypto.subtle.importKey('pkcs8', der, ALGORITHMS[alg].import, false, ['sign']);
      return { alg, privateKey };
    } catch {
      // Not this algorithm; try the next.
    }
  }
  throw new Error('the key is neither an RSA nor a P-256 EC private key');
}

/** A signed JWT (compact JWS) with `header` ({alg, kid, typ?}) and `claims`. */
export async function signJwt(header, claims, privateKey) {
  const spec = ALGORITHMS[header.alg];
  if (!spec) throw new Error(`unsupported algorithm ${header.alg}`);
  const input = `${base64url(JSON.stringify({ typ: 'JWT', ...header }))}.${base64url(JSON.stringify(claims))}`;
  const signature = await crypto.subtle.sign(spec.sign, privateKey, new TextEncoder().encode(input));
  return `${input}.${base64url(signature)}`;
}

/** The keys generated or imported in this page: `{tenant, kid, alg, privateKey}`. */
const keyring = [];

export function remember(entry) {
  const at = keyring.findIndex((k) => k.tenant === entry.tenant && k.kid === entry.kid);
  if (at >= 0) keyring.splice(at, 1);
  keyring.push(entry);
}

export function sessionKeys(tenant) {
  return keyring.filter((k) => k.tenant === tenant);
}
