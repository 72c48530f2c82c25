// A tenant's event schemas (JSON Schema): names with their latest version, each name's
// immutable versions, adding a version (the API's validation errors shown at the field) and
// deleting a schema.

import { all, del, post, seg } from '../api.js';
import { busy, control, deleteButton, field, h, heading, jsonBlock, notify, replace, table } from '../dom.js';
import { InputError } from '../forms.js';
import { tenantTabs } from './tabs.js';

const EXAMPLE = '{\n  "type": "object",\n  "required": ["id"],\n  "properties": { "id": { "type": "integer" } }\n}';

/** `#/tenants/{t}/schemas`. */
export async function list(main, { tenant }) {
  const schemas = await all(`/tenants/${seg(tenant)}/schemas`);
  const reload = () => list(main, { tenant });
  const rows = schemas.map(({ name, latest }) => [
    h('a', { href: `#/tenants/${seg(tenant)}/schemas/${seg(name)}` }, name),
    String(latest),
    h('code', {}, `${name}@${latest}`),
    removeButton(tenant, name, reload),
  ]);
  replace(main, heading(`Schemas of ${tenant}`), tenantTabs(tenant, 'schemas'),
    table('Schemas', ['Name', 'Latest version', 'Reference', ''], rows),
    versionForm(tenant, null, EXAMPLE, () => list(main, { tenant })));
}

/** `#/tenants/{t}/schemas/{name}`. */
export async function versions(main, { tenant, schema }) {
  const items = await all(`/tenants/${seg(tenant)}/schemas/${seg(schema)}/versions`);
  const latest = items.reduce((a, b) => (b.version > a.version ? b : a), items[0]);
  const reload = () => versions(main, { tenant, schema });
  const blocks = items.map(({ version, schema: body }) => h('section', { class: 'card' },
    h('h2', {}, `Version ${version}`, ' ', h('code', { class: 'muted' }, `${schema}@${version}`)), jsonBlock(body)));
  replace(main, heading(`Schema ${schema} of ${tenant}`), tenantTabs(tenant, 'schemas'),
    h('p', {}, h('a', { href: `#/tenants/${seg(tenant)}/schemas` }, 'All schemas')),
    versionForm(tenant, schema, latest ? JSON.stringify(latest.schema, null, 2) : EXAMPLE, reload),
    ...blocks,
    h('section', { class: 'card danger-zone' }, h('h2', {}, 'Delete schema'),
      h('p', {}, 'Deletes every version. Refused while a route uses it.'),
      removeButton(tenant, schema, () => { window.location.hash = `#/tenants/${seg(tenant)}/schemas`; })));
}

function removeButton(tenant, name, after) {
  return deleteButton('Delete', async () => {
    try {
      await del(`/tenants/${seg(tenant)}/schemas/${seg(name)}`);
      notify(`Schema ${name} deleted.`);
      await after();
    } catch (error) {
      notify(error.message, 'error');
    }
  });
}

/** Adds a version of `name` (or of a name typed in, when `name` is null). */
function versionForm(tenant, name, initial, reload) {
  // Errors at "" (the schema name, which is in the URL) land on the name field.
  const nameField = name === null
    ? field({ label: 'Schema name', name: 'schema-name', pointer: '', required: true, placeholder: 'order', hint: 'Routes refer to it as name@version. No @ or spaces.' })
    : null;
  const schemaField = field({
    label: 'JSON Schema', name: 'schema', kind: 'textarea', pointer: '/schema', rows: 10, value: initial,
    hint: 'Checked by the control plane with the same validator the nodes use.',
  });
  const submit = h('button', { type: 'submit', class: 'primary' }, name === null ? 'Add schema' : 'Add version');
  const title = name === null ? 'New schema' : `New version of ${name}`;
  const form = h('form', { class: 'card', id: 'schema-add', 'aria-labelledby': 'schema-add-title' },
    h('h2', { id: 'schema-add-title' }, title), nameField, schemaField, h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(submit, form, async () => {
      const target = name ?? control(nameField).value.trim();
      if (!target) throw new InputError('', 'enter a schema name');
      let schema;
      try {
        schema = JSON.parse(control(schemaField).value);
      } catch (error) {
        throw new InputError('/schema', `not JSON: ${error.message}`);
      }
      const { data } = await post(`/tenants/${seg(tenant)}/schemas/${seg(target)}/versions`, { schema });
      notify(`Schema ${target}@${data.version} added.`);
      await reload();
    });
  });
  return form;
}
