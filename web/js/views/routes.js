// A tenant's SSE routes: the list with a creation form, and one route's editor. Fields cover
// the common settings; the advanced JSON holds the rest of the declarative route.

import { all, del, get, post, put, seg } from '../api.js';
import { busy, deleteButton, h, heading, notify, replace, table } from '../dom.js';
import { entityForm } from '../forms.js';
import { tenantTabs } from './tabs.js';

const FIELDS = [
  { pointer: '/name', label: 'Name', createOnly: true, required: true, hint: '1 to 63 of a-z, 0-9, _ and -.' },
  { pointer: '/path', label: 'Path', required: true, placeholder: '/orders/{region}', hint: 'After the tenant\'s path prefix; {name} matches one segment.' },
  { pointer: '/public', label: 'Public (no token needed)', kind: 'checkbox' },
  { pointer: '/scopes', label: 'Required scopes', kind: 'list', placeholder: 'orders:read', hint: 'All are required; not allowed on a public route.' },
  { pointer: '/upstream/url', label: 'Upstream URL', kind: 'url', required: true, group: 'Upstream', placeholder: 'http://127.0.0.1:8001/stream/{region}' },
  { pointer: '/upstream/version', label: 'Upstream HTTP version', kind: 'select', group: 'Upstream', options: [['', 'default (http/1.1)'], 'http/1.1', 'h2'] },
  { pointer: '/events', label: 'Event schemas', kind: 'map', group: 'Validation', placeholder: 'order.created = order@1\n* = order@latest', hint: 'One per line: event type = schema@version. * covers the rest.' },
  { pointer: '/on_invalid', label: 'Invalid events', kind: 'select', group: 'Validation', options: [['', 'default (drop)'], 'drop', 'close'] },
  { pointer: '/retry', label: 'retry sent to clients', group: 'Stream', placeholder: '3s' },
  { pointer: '/heartbeat', label: 'Heartbeat', group: 'Stream', placeholder: '15s', hint: 'A comment after this much silence; off for none.' },
];

/** `#/tenants/{t}/routes`. */
export async function list(main, { tenant }) {
  const [routes, tenantDoc] = await Promise.all([
    all(`/tenants/${seg(tenant)}/routes`),
    get(`/tenants/${seg(tenant)}`).then((r) => r.data),
  ]);
  const prefix = tenantDoc.path_prefix ?? '';
  const reload = () => list(main, { tenant });
  const rows = routes.map(({ name, route }) => [
    h('a', { href: `#/tenants/${seg(tenant)}/routes/${seg(name)}` }, name),
    h('code', {}, prefix + route.path),
    route.public ? 'public' : (route.scopes ?? []).join(' ') || 'token',
    route.upstream?.url ?? (route.files ? `files: ${route.files}` : ''),
    h('span', { class: 'row-actions' },
      h('a', { href: `#/stream?tenant=${seg(tenant)}&route=${seg(name)}` }, 'Test'), ' ',
      removeButton(tenant, name, reload)),
  ]);
  replace(main, heading(`Routes of ${tenant}`), tenantTabs(tenant, 'routes'),
    table('Routes', ['Name', 'Path', 'Access', 'Upstream', ''], rows),
    createForm(tenant));
}

function removeButton(tenant, name, after, etag) {
  return deleteButton('Delete', async () => {
    try {
      await del(`/tenants/${seg(tenant)}/routes/${seg(name)}`, { ifMatch: etag });
      notify(`Route ${name} deleted.`);
      await after();
    } catch (error) {
      notify(error.message, 'error');
    }
  });
}

function createForm(tenant) {
  const form = entityForm(FIELDS, null, { create: true });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create route');
  const el = h('form', { class: 'card', id: 'route-create', 'aria-labelledby': 'route-create-title' },
    h('h2', { id: 'route-create-title' }, 'New route'), form.element, h('div', { class: 'actions' }, submit));
  el.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(submit, el, async () => {
      const body = form.read();
      await post(`/tenants/${seg(tenant)}/routes`, body);
      notify(`Route ${body.name} created.`);
      window.location.hash = `#/tenants/${seg(tenant)}/routes/${seg(body.name)}`;
    });
  });
  return el;
}

/** `#/tenants/{t}/routes/{r}`. */
export async function edit(main, { tenant, route }) {
  const { data, etag } = await get(`/tenants/${seg(tenant)}/routes/${seg(route)}`);
  const form = entityForm(FIELDS, data);
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Save route');
  const el = h('form', { class: 'card', id: 'route-edit', 'aria-label': `Route ${route}` }, form.element, h('div', { class: 'actions' }, submit));
  el.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(submit, el, async () => {
      await put(`/tenants/${seg(tenant)}/routes/${seg(route)}`, form.read(), { ifMatch: etag });
      notify(`Route ${route} saved.`);
      await edit(main, { tenant, route });
    });
  });
  const back = () => { window.location.hash = `#/tenants/${seg(tenant)}/routes`; };
  replace(main, heading(`Route ${route} of ${tenant}`), tenantTabs(tenant, 'routes'),
    h('p', {}, h('a', { href: `#/tenants/${seg(tenant)}/routes` }, 'All routes'), ' · ',
      h('a', { href: `#/stream?tenant=${seg(tenant)}&route=${seg(route)}` }, 'Open in the stream tester')),
    el,
    h('section', { class: 'card danger-zone' }, h('h2', {}, 'Delete route'),
      h('p', {}, 'Streams open on this route end.'), removeButton(tenant, route, back, etag)));
}
