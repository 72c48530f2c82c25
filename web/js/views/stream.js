// The live stream tester: pick a node, a tenant and a route, paste a token or mint one with a
// key from this tab, then open `EventSource(node + path + ?access_token=…)` and watch each
// event (type, id, data) arrive. The node must allow this console's origin (tenant CORS).

import { all, get, seg } from '../api.js';
import { busy, control, field, h, heading, notify, replace } from '../dom.js';
import { InputError, splitList } from '../forms.js';
import { importPem, randomId, remember, sessionKeys, signJwt, unavailable } from '../crypto.js';

const NODE_KEY = 'sluice.nodeUrl';
const MAX_EVENTS = 500;

/** `#/stream?tenant=&route=`. Returns a cleanup that closes the stream. */
export async function render(main, { query }) {
  const [tenants, suggestions, fallback] = await Promise.all([
    all('/tenants'), nodeSuggestions(), consoleNodeUrl(),
  ]);
  const state = { source: null, tenants, routes: [] };
  const ui = buildUi(tenants, suggestions, sessionStorage.getItem(NODE_KEY) ?? fallback ?? '');
  replace(main, heading('Stream tester'),
    h('p', { class: 'hint' }, 'Opens an EventSource from this page through a node. The tenant must list this console\'s origin (',
      h('code', {}, window.location.origin), ') among its CORS origins.'),
    ui.connectForm, ui.mintForm, ui.output);
  wire(state, ui);
  const wanted = query.get('tenant');
  if (wanted && tenants.some((t) => t.name === wanted)) control(ui.tenant).value = wanted;
  await selectTenant(state, ui, query.get('route'));
  return () => disconnect(state, ui, 'closed');
}

/** Node URLs the fleet advertises in a `url` label (global admins only). */
async function nodeSuggestions() {
  try {
    const nodes = await all('/nodes');
    return nodes.map((n) => n.labels?.url).filter(Boolean);
  } catch {
    return [];
  }
}

/** The node URL the control plane suggests (`GET /api/v1/console-config`), if it has one. */
async function consoleNodeUrl() {
  try {
    const { data } = await get('/console-config');
    return typeof data?.node_url === 'string' ? data.node_url : null;
  } catch {
    return null;
  }
}

function buildUi(tenants, suggestions, nodeUrl) {
  const list = h('datalist', { id: 'node-urls' }, [...new Set(suggestions)].map((url) => h('option', { value: url })));
  const ui = {
    node: field({ label: 'Node URL', name: 'node-url', kind: 'url', value: nodeUrl, required: true, list: 'node-urls', placeholder: 'http://127.0.0.1:7143', hint: 'The base URL of a data-plane node.' }),
    tenant: field({ label: 'Tenant', name: 'tenant', kind: 'select', options: tenants.map((t) => t.name) }),
    route: field({ label: 'Route', name: 'route', kind: 'select', options: [] }),
    path: field({ label: 'Path', name: 'path', required: true, hint: 'Replace any {param} with a value.' }),
    token: field({ label: 'Token', name: 'token', kind: 'textarea', rows: 3, hint: 'Paste a JWT, or mint one below. Empty for a public route.' }),
    param: field({ label: 'Token query parameter', name: 'token-param', value: 'access_token' }),
    types: field({ label: 'Event types to listen for', name: 'event-types', value: 'message', hint: 'EventSource reports only the types it listens for: space separated.' }),
    connect: h('button', { type: 'submit', class: 'primary', id: 'stream-connect' }, 'Connect'),
    disconnect: h('button', { type: 'button', id: 'stream-disconnect', disabled: true }, 'Disconnect'),
    status: h('p', { id: 'stream-status', role: 'status', dataset: { state: 'idle' } }, 'Not connected.'),
    events: h('ol', { id: 'events', class: 'events', role: 'log', 'aria-label': 'Events received' }),
    clear: h('button', { type: 'button' }, 'Clear events'),
    mint: buildMint(),
  };
  ui.connectForm = h('form', { class: 'card', id: 'stream-form', 'aria-labelledby': 'stream-form-title' },
    h('h2', { id: 'stream-form-title' }, 'Connection'), list, ui.node, ui.tenant, ui.route, ui.path, ui.token, ui.param, ui.types,
    h('div', { class: 'actions' }, ui.connect, ui.disconnect));
  ui.mintForm = ui.mint.form;
  ui.output = h('section', { class: 'card', 'aria-labelledby': 'events-title' },
    h('h2', { id: 'events-title' }, 'Events'), ui.status, h('div', { class: 'actions' }, ui.clear), ui.events);
  return ui;
}

function buildMint() {
  const mint = {
    key: field({ label: 'Signing key', name: 'mint-key', kind: 'select', options: [] }),
    pem: field({ label: 'Or load a private key (PKCS#8 PEM)', name: 'mint-pem', kind: 'file', accept: '.pem,.key,application/x-pem-file' }),
    kid: field({ label: 'kid of the loaded key', name: 'mint-kid', hint: 'As registered under the tenant\'s Keys.' }),
    sub: field({ label: 'Subject (sub)', name: 'mint-sub', value: 'console-tester' }),
    scopes: field({ label: 'Scopes', name: 'mint-scopes' }),
    minutes: field({ label: 'Lifetime (minutes)', name: 'mint-minutes', kind: 'number', value: '15', min: '1', max: '1440' }),
    note: h('p', { class: 'hint', id: 'mint-note' }),
    submit: h('button', { type: 'submit', id: 'mint-submit' }, 'Mint token'),
  };
  mint.form = h('form', { class: 'card', id: 'mint-form', 'aria-labelledby': 'mint-title' },
    h('h2', { id: 'mint-title' }, 'Mint a test token'), mint.note, mint.key, mint.pem, mint.kid, mint.sub,
    mint.scopes, mint.minutes, h('div', { class: 'actions' }, mint.submit));
  return mint;
}

function wire(state, ui) {
  control(ui.tenant).addEventListener('change', () => selectTenant(state, ui, null));
  control(ui.route).addEventListener('change', () => fillRoute(state, ui));
  ui.connectForm.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(ui.connect, ui.connectForm, async () => connect(state, ui));
  });
  ui.disconnect.addEventListener('click', () => disconnect(state, ui, 'closed'));
  ui.clear.addEventListener('click', () => replace(ui.events));
  ui.mint.form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(ui.mint.submit, ui.mint.form, async () => mintToken(state, ui));
  });
}

async function selectTenant(state, ui, routeName) {
  const name = control(ui.tenant).value;
  state.tenant = state.tenants.find((t) => t.name === name) ?? null;
  state.routes = name ? await all(`/tenants/${seg(name)}/routes`) : [];
  const routeSelect = control(ui.route);
  replace(routeSelect, h('option', { value: '' }, 'type a path'), state.routes.map((r) => h('option', { value: r.name }, r.name)));
  const first = state.routes.find((r) => r.name === routeName) ?? state.routes[0];
  routeSelect.value = first ? first.name : '';
  const auth = state.tenant?.tenant.auth;
  control(ui.param).value = auth?.credentials?.query ?? 'access_token';
  fillKeys(state, ui);
  fillRoute(state, ui);
}

function fillRoute(state, ui) {
  const route = state.routes.find((r) => r.name === control(ui.route).value);
  const prefix = state.tenant?.tenant.path_prefix ?? '';
  if (route) control(ui.path).value = prefix + route.route.path;
  const types = new Set(['message', ...Object.keys(route?.route.events ?? {}).filter((t) => t !== '*')]);
  control(ui.types).value = [...types].join(' ');
  control(ui.mint.scopes).value = (route?.route.scopes ?? []).join(' ');
}

function fillKeys(state, ui) {
  const keys = state.tenant ? sessionKeys(state.tenant.name) : [];
  const select = control(ui.mint.key);
  replace(select, keys.map((k) => h('option', { value: k.kid }, `${k.kid} (${k.alg})`)), h('option', { value: '' }, 'the loaded PEM file'));
  const auth = state.tenant?.tenant.auth;
  ui.mint.note.textContent = !auth
    ? 'This tenant has no token checks (no issuer): only public routes, no token needed.'
    : `Claims follow the tenant: iss ${auth.issuer}, aud ${(auth.audiences ?? []).join(' ')}. `
      + (keys.length ? 'Keys generated in this tab are listed.' : 'Generate a key under Keys, or load a private key file.');
}

/** Signs a token for the selected tenant with a key from this tab or a loaded PEM. */
async function mintToken(state, ui) {
  const auth = state.tenant?.tenant.auth;
  if (!auth) throw new InputError('', 'the tenant has no token checks (no issuer); public routes need no token');
  const missing = unavailable();
  if (missing) throw new InputError('', missing);
  const key = await signingKey(state, ui);
  const now = Math.floor(Date.now() / 1000);
  const minutes = Math.max(1, Number(control(ui.mint.minutes).value) || 15);
  const audiences = auth.audiences ?? [];
  const claims = {
    iss: auth.issuer,
    aud: audiences.length === 1 ? audiences[0] : audiences,
    iat: now,
    exp: now + minutes * 60,
    jti: randomId(),
    client_id: 'sluice-console',
  };
  claims[auth.subject_claim ?? 'sub'] = control(ui.mint.sub).value.trim() || 'console-tester';
  claims[auth.scopes_claim ?? 'scope'] = splitList(control(ui.mint.scopes).value).join(' ');
  const header = { alg: key.alg, kid: key.kid };
  if (auth.require_typ) header.typ = auth.require_typ;
  control(ui.token).value = await signJwt(header, claims, key.privateKey);
  notify(`Token minted with key ${key.kid}; it expires in ${minutes} minutes.`);
}

async function signingKey(state, ui) {
  const kid = control(ui.mint.key).value;
  if (kid) return sessionKeys(state.tenant.name).find((k) => k.kid === kid);
  const file = control(ui.mint.pem).files[0];
  if (!file) throw new InputError('', 'generate a key under Keys, or choose a private key file');
  const loadedKid = control(ui.mint.kid).value.trim();
  if (!loadedKid) throw new InputError('', 'enter the kid the loaded key is registered under');
  let loaded;
  try {
    loaded = await importPem(await file.text());
  } catch (error) {
    throw new InputError('', error.message);
  }
  const entry = { tenant: state.tenant.name, kid: loadedKid, ...loaded };
  remember(entry);
  fillKeys(state, ui);
  control(ui.mint.key).value = loadedKid;
  return entry;
}

function streamUrl(ui) {
  const base = control(ui.node).value.trim().replace(/\/+$/, '');
  if (!/^https?:\/\/[^/]+/.test(base)) throw new InputError('', 'the node URL must start with http:// or https://');
  const path = control(ui.path).value.trim();
  if (!path.startsWith('/')) throw new InputError('', 'the path must start with /');
  const token = control(ui.token).value.trim();
  const param = control(ui.param).value.trim() || 'access_token';
  const join = path.includes('?') ? '&' : '?';
  return { base, url: token ? `${base}${path}${join}${encodeURIComponent(param)}=${encodeURIComponent(token)}` : base + path };
}

async function connect(state, ui) {
  disconnect(state, ui, 'closed');
  const { base, url } = streamUrl(ui);
  sessionStorage.setItem(NODE_KEY, base);
  const source = new EventSource(url);
  state.source = source;
  setStatus(ui, 'connecting', `Connecting to ${base}…`);
  ui.disconnect.disabled = false;
  source.addEventListener('open', () => setStatus(ui, 'open', `Open: ${base}${control(ui.path).value.trim()}`));
  source.addEventListener('error', () => {
    if (state.source !== source) return;
    if (source.readyState === EventSource.CLOSED) {
      setStatus(ui, 'error', 'The node ended the stream for good; checking why…');
      diagnose(url).then((reason) => { if (state.source === source) setStatus(ui, 'error', reason); });
    } else {
      setStatus(ui, 'connecting', 'Connection lost; the browser is reconnecting…');
    }
  });
  for (const type of splitList(control(ui.types).value)) {
    source.addEventListener(type, (event) => showEvent(ui, event));
  }
}

function disconnect(state, ui, label) {
  if (!state.source) return;
  state.source.close();
  state.source = null;
  ui.disconnect.disabled = true;
  setStatus(ui, label, 'Disconnected.');
}

function setStatus(ui, name, text) {
  ui.status.dataset.state = name;
  ui.status.textContent = text;
}

function showEvent(ui, event) {
  const item = h('li', { class: 'event', dataset: { type: event.type } },
    h('span', { class: 'event-time' }, new Date().toLocaleTimeString()),
    h('span', { class: 'event-type' }, event.type),
    h('span', { class: 'event-id' }, event.lastEventId ? `id ${event.lastEventId}` : 'no id'),
    h('pre', { class: 'event-data' }, event.data));
  ui.events.prepend(item);
  while (ui.events.children.length > MAX_EVENTS) ui.events.lastElementChild.remove();
}

/** EventSource hides the answer's status; a fetch of the same URL tells what it was. */
async function diagnose(url) {
  const abort = new AbortController();
  try {
    const response = await fetch(url, { signal: abort.signal, cache: 'no-store' });
    abort.abort();
    const hints = { 401: 'no token, or the token was refused', 403: 'the token lacks a required scope', 404: 'no such tenant or route on this node', 429: 'a stream limit was reached' };
    return `Stream refused: HTTP ${response.status}${hints[response.status] ? ` (${hints[response.status]})` : ''}.`;
  } catch {
    return 'Stream refused: the node could not be reached, or it does not allow this origin (tenant CORS).';
  }
}
