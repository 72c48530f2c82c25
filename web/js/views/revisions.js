// The revision history: who changed what and when, newest first, a page at a time.

import { page } from '../api.js';
import { h, heading, replace } from '../dom.js';

const PAGE = 50;

/** `#/revisions`. */
export async function render(main) {
  const tbody = h('tbody', {});
  const more = h('button', { type: 'button', hidden: true }, 'Older revisions');
  let cursor = null;
  const load = async () => {
    more.disabled = true;
    const data = await page('/revisions', cursor, PAGE);
    for (const r of data.items) {
      tbody.append(h('tr', { dataset: { revision: String(r.number) } },
        h('th', { scope: 'row' }, String(r.number)), h('td', {}, r.at), h('td', {}, r.actor),
        h('td', {}, r.tenant ?? ''), h('td', {}, r.summary)));
    }
    if (!tbody.children.length) {
      tbody.append(h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No changes yet.')));
    }
    cursor = data.next_cursor;
    more.hidden = !cursor;
    more.disabled = false;
  };
  more.addEventListener('click', load);
  replace(main, heading('Revisions'),
    h('table', {},
      h('caption', {}, 'Changes, newest first'),
      h('thead', {}, h('tr', {}, ['Revision', 'At', 'By', 'Tenant', 'Change'].map((c) => h('th', { scope: 'col' }, c)))),
      tbody),
    h('div', { class: 'actions' }, more));
  await load();
}
