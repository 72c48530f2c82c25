// A tenant's signing keys: public JWKs by `kid`. Paste a JWK, or generate a key pair here
// (the public half is added, the private half is offered as a PEM download and kept in this
// tab for minting test tokens); edit or remove a key.

import { all, del, get, post, put, seg } from '../api.js';
import { busy, control, deleteButton, field, h, heading, notify, replace, table } from '../dom.js';
import { InputError } from '../forms.js';
import { SUPPORTED, generate, remember, sessionKeys, unavailable } from '../crypto.js';
import { tenantTabs } from './tabs.js';

/** `#/tenants/{t}/keys`. */
export async function render(main, { tenant }) {
  const keys = await all(`/tenants/${seg(tenant)}/keys`);
  const editor = h('div', { id: 'key-editor' });
  const reload = () => render(main, { tenant });
  const inSession = new Set(sessionKeys(tenant).map((k) => k.kid));
  const rows = keys.map((jwk) => [
    h('code', {}, jwk.kid),
    jwk.kty ?? '', jwk.alg ?? '', jwk.use ?? '',
    inSession.has(jwk.kid) ? 'yes' : '',
    h('span', { class: 'row-actions' },
      h('button', { type: 'button', onclick: () => editKey(editor, tenant, jwk.kid, reload) }, 'Edit'),
      deleteButton('Remove', async () => {
        try {
          await del(`/tenants/${seg(tenant)}/keys/${seg(jwk.kid)}`);
          notify(`Key ${jwk.kid} removed; tokens it signed are no longer accepted.`);
          await reload();
        } catch (error) {
          notify(error.message, 'error');
        }
      })),
  ]);
  replace(main, heading(`Keys of ${tenant}`), tenantTabs(tenant, 'keys'),
    table('Signing keys', ['kid', 'Type', 'Algorithm', 'Use', 'Private key in this tab', ''], rows),
    editor, generateForm(tenant, reload), pasteForm(tenant, reload));
}

function generateForm(tenant, reload) {
  const algField = field({
    label: 'Algorithm', name: 'alg', kind: 'select', value: 'ES256',
    options: SUPPORTED.map((alg) => [alg, alg === 'ES256' ? 'ES256 (ECDSA P-256)' : 'RS256 (RSA 2048)']),
  });
  const missing = unavailable();
  const submit = h('button', { type: 'submit', class: 'primary', disabled: Boolean(missing) }, 'Generate and add');
  const result = h('div', { class: 'result', role: 'status' }, missing ? h('p', { class: 'problem' }, missing) : null);
  const form = h('form', { class: 'card', id: 'key-generate', 'aria-labelledby': 'key-generate-title' },
    h('h2', { id: 'key-generate-title' }, 'Generate a key pair'),
    h('p', { class: 'hint' }, 'Made in this browser with WebCrypto. The public key is added to the tenant; the private key never leaves this page unless you download it.'),
    algField, h('div', { class: 'actions' }, submit), result);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(submit, form, async () => {
      const key = await generate(control(algField).value);
      await post(`/tenants/${seg(tenant)}/keys`, key.publicJwk);
      remember({ tenant, kid: key.kid, alg: key.alg, privateKey: key.privateKey });
      await reload();
      notify(`Key ${key.kid} added. Download its private key now: it is shown once.`);
      const saved = document.getElementById('key-generate');
      replace(saved.querySelector('.result'), downloadLink(tenant, key));
      saved.querySelector('.result a').focus();
    });
  });
  return form;
}

function downloadLink(tenant, key) {
  const url = URL.createObjectURL(new Blob([key.privatePem], { type: 'application/x-pem-file' }));
  return h('p', {},
    h('a', { href: url, download: `${tenant}-${key.kid}.pem`, class: 'button' }, 'Download private key (PEM)'),
    ' ', h('span', { class: 'muted' }, `kid ${key.kid}, ${key.alg}; also kept in this tab for the stream tester.`));
}

function pasteForm(tenant, reload) {
  const jwkField = field({
    label: 'Public key (JWK)', name: 'jwk', kind: 'textarea', pointer: '', rows: 6,
    placeholder: '{"kty": "EC", "crv": "P-256", "x": "…", "y": "…", "alg": "ES256", "kid": "k1"}',
    hint: 'A public JWK (RFC 7517) with kid and alg; private members are refused.',
  });
  const submit = h('button', { type: 'submit' }, 'Add key');
  const form = h('form', { class: 'card', id: 'key-paste', 'aria-labelledby': 'key-paste-title' },
    h('h2', { id: 'key-paste-title' }, 'Add a public key'), jwkField, h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(submit, form, async () => {
      const jwk = parseJwk(control(jwkField).value);
      await post(`/tenants/${seg(tenant)}/keys`, jwk);
      notify(`Key ${jwk.kid} added.`);
      await reload();
    });
  });
  return form;
}

function parseJwk(text) {
  let jwk;
  try {
    jwk = JSON.parse(text);
  } catch (error) {
    throw new InputError('', `not JSON: ${error.message}`);
  }
  if (jwk === null || typeof jwk !== 'object' || Array.isArray(jwk)) throw new InputError('', 'a JWK is a JSON object');
  return jwk;
}

async function editKey(editor, tenant, kid, reload) {
  const { data, etag } = await get(`/tenants/${seg(tenant)}/keys/${seg(kid)}`);
  const jwkField = field({ label: 'Public key (JWK)', name: 'jwk', kind: 'textarea', pointer: '', rows: 8, value: JSON.stringify(data, null, 2) });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Save key');
  const cancel = h('button', { type: 'button', onclick: () => replace(editor) }, 'Cancel');
  const form = h('form', { class: 'card', 'aria-labelledby': 'key-edit-title' },
    h('h2', { id: 'key-edit-title' }, `Edit key ${kid}`), jwkField, h('div', { class: 'actions' }, submit, cancel));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(submit, form, async () => {
      await put(`/tenants/${seg(tenant)}/keys/${seg(kid)}`, parseJwk(control(jwkField).value), { ifMatch: etag });
      notify(`Key ${kid} saved.`);
      await reload();
    });
  });
  replace(editor, form);
  control(jwkField).focus();
}
