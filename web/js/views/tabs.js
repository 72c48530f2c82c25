// The links between one tenant's pages (settings, keys, schemas, routes) and the tester.

import { seg } from '../api.js';
import { h } from '../dom.js';

const TABS = [
  ['settings', 'Settings', ''],
  ['keys', 'Keys', '/keys'],
  ['schemas', 'Schemas', '/schemas'],
  ['routes', 'Routes', '/routes'],
];

/** The tenant's section links, `current` marked for assistive technology. */
export function tenantTabs(tenant, current) {
  const base = `#/tenants/${seg(tenant)}`;
  return h('nav', { class: 'tabs', 'aria-label': `Tenant ${tenant}` },
    h('ul', {},
      TABS.map(([key, label, suffix]) => h('li', {},
        h('a', { href: base + suffix, 'aria-current': key === current ? 'page' : null }, label))),
      h('li', {}, h('a', { href: `#/stream?tenant=${seg(tenant)}` }, 'Stream tester'))));
}
