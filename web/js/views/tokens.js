// Admin and node tokens: the list (never with secrets), creating one (its secret shown once)
// and revoking one.

import { all, del, post, seg } from '../api.js';
import { busy, control, deleteButton, field, h, heading, notify, replace, table } from '../dom.js';

/** `#/tokens`. */
export async function render(main) {
  const [tokens, tenants] = await Promise.all([all('/tokens'), all('/tenants')]);
  const reload = () => render(main);
  const rows = tokens.map((t) => [
    t.name, t.kind, t.tenant ?? h('span', { class: 'muted' }, t.kind === 'node' ? 'fleet' : 'global'),
    t.created_at,
    deleteButton('Revoke', async () => {
      try {
        await del(`/tokens/${seg(t.name)}`);
        notify(`Token ${t.name} revoked.`);
        await reload();
      } catch (error) {
        notify(error.message, 'error');
      }
    }),
  ]);
  replace(main, heading('Tokens'),
    table('Tokens', ['Name', 'Kind', 'Scope', 'Created', ''], rows),
    createForm(tenants, reload));
}

function createForm(tenants, reload) {
  const nameField = field({ label: 'Name', name: 'name', pointer: '/name', required: true, hint: '1 to 63 of a-z, 0-9, _ and -.' });
  const kindField = field({
    label: 'Kind', name: 'kind', kind: 'select', pointer: '/kind', value: 'admin',
    options: [['admin', 'admin (this API and console)'], ['node', 'node (a data-plane node)']],
  });
  const tenantField = field({
    label: 'Tenant', name: 'tenant', kind: 'select', pointer: '/tenant', value: '',
    options: [['', 'none: global'], ...tenants.map((t) => t.name)],
    hint: 'An admin token for one tenant sees and changes only that tenant. Node tokens serve every tenant.',
  });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Create token');
  const result = h('div', { class: 'result' });
  const form = h('form', { class: 'card', id: 'token-create', 'aria-labelledby': 'token-create-title' },
    h('h2', { id: 'token-create-title' }, 'New token'), nameField, kindField, tenantField,
    h('div', { class: 'actions' }, submit), result);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(submit, form, async () => {
      const body = { name: control(nameField).value.trim(), kind: control(kindField).value };
      const tenant = control(tenantField).value;
      if (tenant && body.kind === 'admin') body.tenant = tenant;
      const { data } = await post('/tokens', body);
      await reload();
      notify(`Token ${data.name} created. Copy it now: it is shown once.`);
      const fresh = document.getElementById('token-create');
      replace(fresh.querySelector('.result'), secretBox(data));
      fresh.querySelector('.result input').focus();
    });
  });
  return form;
}

function secretBox(data) {
  const wrapper = field({ label: `Secret of ${data.name}`, name: 'secret', value: data.token, readonly: true, hint: 'Shown once; it is stored hashed.' });
  const input = control(wrapper);
  input.addEventListener('focus', () => input.select());
  const copy = h('button', { type: 'button' }, 'Copy');
  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(data.token);
      notify('Copied.');
    } catch {
      input.select();
      notify('Select the text and copy it.', 'error');
    }
  });
  return h('div', { class: 'secret' }, wrapper, copy);
}
