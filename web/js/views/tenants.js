// Tenants: the list with a creation form, and one tenant's settings (hosts, CORS, token
// checks and anything else in the advanced JSON), its hosts one by one, and deletion.

import { all, del, get, post, put, seg } from '../api.js';
import { busy, control, deleteButton, field, h, heading, notify, replace, table } from '../dom.js';
import { entityForm } from '../forms.js';
import { tenantTabs } from './tabs.js';

const DEFAULT_HEADER = 'authorization: Bearer {credentials}';

const FIELDS = [
  { pointer: '/name', label: 'Name', createOnly: true, required: true, hint: '1 to 63 of a-z, 0-9, _ and -; used in URLs and metric labels.' },
  { pointer: '/path_prefix', label: 'Path prefix', placeholder: '/t/acme', hint: 'Selects the tenant on any host by path, e.g. /t/acme. A tenant needs a path prefix, hosts, or both.' },
  { pointer: '/hosts', label: 'Hosts', kind: 'list', placeholder: 'acme.example.com, *.acme.example', hint: 'Host names that select the tenant, comma separated.' },
  { pointer: '/cors/origins', label: 'Allowed browser origins (CORS)', kind: 'list', group: 'Browsers', hint: 'Origins whose pages may open streams, e.g. https://app.acme.example. Add this console\'s origin to use the stream tester.' },
  { pointer: '/auth/issuer', label: 'Issuer (iss)', group: 'Token checks', hint: 'Leave empty for a tenant with public routes only. Add a signing key (Keys) or a JWKS URL before setting this.' },
  { pointer: '/auth/audiences', label: 'Audiences (aud)', kind: 'list', group: 'Token checks' },
  { pointer: '/auth/jwks_url', label: 'JWKS URL', kind: 'url', group: 'Token checks', hint: 'Optional: fetch keys from here as well as the Keys tab.' },
  { pointer: '/auth/credentials/query', label: 'Token query parameter', group: 'Token checks', placeholder: 'access_token', hint: 'Lets EventSource, which cannot send headers, pass the token in the URL. The authorization header keeps working.' },
];

/** The default header source is implied while a query parameter is set (see the hint). */
const HOOKS = {
  split(rest, values) {
    const credentials = rest.auth?.credentials;
    if (values['/auth/credentials/query'] !== undefined && credentials?.header === DEFAULT_HEADER) {
      delete credentials.header;
      if (Object.keys(credentials).length === 0) delete rest.auth.credentials;
      if (Object.keys(rest.auth).length === 0) delete rest.auth;
    }
  },
  join(doc) {
    const credentials = doc.auth?.credentials;
    if (credentials?.query && !('header' in credentials)) credentials.header = DEFAULT_HEADER;
  },
};

/** `#/tenants`. */
export async function list(main) {
  const tenants = await all('/tenants');
  const rows = tenants.map(({ name, tenant }) => [
    h('a', { href: `#/tenants/${seg(name)}` }, name),
    selectedBy(tenant),
    tenant.auth?.issuer ?? h('span', { class: 'muted' }, 'public only'),
    (tenant.cors?.origins ?? []).join(', '),
    h('span', { class: 'links' },
      h('a', { href: `#/tenants/${seg(name)}/keys` }, 'Keys'), ' ',
      h('a', { href: `#/tenants/${seg(name)}/schemas` }, 'Schemas'), ' ',
      h('a', { href: `#/tenants/${seg(name)}/routes` }, 'Routes')),
  ]);
  replace(main, heading('Tenants'),
    table('Tenants', ['Name', 'Selected by', 'Issuer', 'CORS origins', 'Sections'], rows),
    createForm());
}

function selectedBy(tenant) {
  const parts = [];
  if (tenant.path_prefix) parts.push(tenant.path_prefix);
  parts.push(...(tenant.hosts ?? []));
  return parts.join(', ');
}

function createForm() {
  const form = entityForm(FIELDS, null, { create: true, hooks: HOOKS });
  control(form.fields['/cors/origins']).value = window.location.origin;
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create tenant');
  const el = h('form', { class: 'card', id: 'tenant-create', 'aria-labelledby': 'tenant-create-title' },
    h('h2', { id: 'tenant-create-title' }, 'New tenant'), form.element, h('div', { class: 'actions' }, submit));
  el.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(submit, el, async () => {
      const body = form.read();
      await post('/tenants', body);
      notify(`Tenant ${body.name} created.`);
      window.location.hash = `#/tenants/${seg(body.name)}`;
    });
  });
  return el;
}

/** `#/tenants/{t}`: settings, hosts, deletion. */
export async function detail(main, { tenant }) {
  const { data, etag } = await get(`/tenants/${seg(tenant)}`);
  const reload = () => detail(main, { tenant });
  replace(main, heading(`Tenant ${tenant}`), tenantTabs(tenant, 'settings'),
    settingsForm(tenant, data, etag, reload),
    hostsSection(tenant, data.hosts ?? [], reload),
    h('section', { class: 'card danger-zone', 'aria-labelledby': 'tenant-delete-title' },
      h('h2', { id: 'tenant-delete-title' }, 'Delete tenant'),
      h('p', {}, 'Deletes the tenant with its hosts, keys, schemas, routes and tokens. Open streams end.'),
      deleteButton('Delete tenant', async () => {
        try {
          await del(`/tenants/${seg(tenant)}`, { ifMatch: etag });
          notify(`Tenant ${tenant} deleted.`);
          window.location.hash = '#/tenants';
        } catch (error) {
          notify(error.message, 'error');
        }
      })));
}

function settingsForm(tenant, doc, etag, reload) {
  const form = entityForm(FIELDS, doc, { hooks: HOOKS });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Save settings');
  const el = h('form', { class: 'card', id: 'tenant-settings', 'aria-labelledby': 'tenant-settings-title' },
    h('h2', { id: 'tenant-settings-title' }, 'Settings'), form.element, h('div', { class: 'actions' }, submit));
  el.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(submit, el, async () => {
      await put(`/tenants/${seg(tenant)}`, form.read(), { ifMatch: etag });
      notify(`Tenant ${tenant} saved.`);
      await reload();
    });
  });
  return el;
}

function hostsSection(tenant, hosts, reload) {
  const rows = hosts.map((host) => [host, deleteButton('Remove', async () => {
    try {
      await del(`/tenants/${seg(tenant)}/hosts/${seg(host)}`);
      notify(`Host ${host} removed.`);
      await reload();
    } catch (error) {
      notify(error.message, 'error');
    }
  })]);
  const hostField = field({ label: 'Host name', name: 'host', pointer: '/host', required: true, placeholder: 'acme.example.com' });
  const submit = h('button', { type: 'submit' }, 'Add host');
  const form = h('form', { class: 'inline', id: 'host-add' }, hostField, submit);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(submit, form, async () => {
      const host = control(hostField).value.trim();
      await post(`/tenants/${seg(tenant)}/hosts`, { host });
      notify(`Host ${host} added.`);
      await reload();
    });
  });
  return h('section', { class: 'card', 'aria-labelledby': 'hosts-title' },
    h('h2', { id: 'hosts-title' }, 'Hosts'), table('Hosts', ['Host', ''], rows), form);
}
