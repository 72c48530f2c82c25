// The fleet: every node with the revision it applied and its drift from the revision in
// force (behind, or refusing a revision with the node's error), refreshed while shown.

import { ApiError, page } from '../api.js';
import { h, heading, replace, table } from '../dom.js';

const REFRESH_MS = 3000;

/** `#/fleet`. Returns a cleanup that stops the refresh. */
export async function render(main) {
  const body = h('div', { id: 'fleet-body' });
  const refresh = h('button', { type: 'button' }, 'Refresh now');
  replace(main, heading('Fleet'),
    h('p', { class: 'hint' }, `Refreshed every ${REFRESH_MS / 1000} seconds while this page is open.`),
    h('div', { class: 'actions' }, refresh), body);
  let stopped = false;
  const load = async () => {
    try {
      replace(body, ...view(await page('/nodes', null, 1000)));
    } catch (error) {
      replace(body, h('p', { class: 'problem', role: 'alert' }, describe(error)));
    }
  };
  refresh.addEventListener('click', load);
  await load();
  const timer = setInterval(() => { if (!stopped && !document.hidden) load(); }, REFRESH_MS);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}

function describe(error) {
  if (error instanceof ApiError && error.status === 403) return 'The fleet is visible to global admins only.';
  return error.message;
}

function view(data) {
  const current = data.current_revision;
  const rows = data.items.map((node) => {
    const row = [
      h('code', {}, node.id),
      node.connected ? 'connected' : h('span', { class: 'muted' }, 'disconnected'),
      node.version,
      String(node.applied_revision),
      drift(node),
      node.last_seen,
      streams(node.active_streams),
      Object.entries(node.labels ?? {}).map(([k, v]) => `${k}=${v}`).join(', '),
    ];
    return row;
  });
  const summary = h('p', { id: 'fleet-summary' }, `Revision in force: ${current}. Nodes: ${data.items.length}, in sync: ${data.items.filter((n) => n.in_sync).length}.`);
  const grid = table('Nodes', ['Node', 'Connection', 'Version', 'Applied revision', 'Drift', 'Last seen', 'Streams', 'Labels'], rows);
  grid.querySelectorAll('tbody tr').forEach((tr, i) => {
    const node = data.items[i];
    if (!node) return;
    tr.dataset.node = node.id;
    tr.dataset.applied = String(node.applied_revision);
    tr.dataset.inSync = String(node.in_sync);
  });
  return [summary, grid];
}

function drift(node) {
  if (node.in_sync) return h('span', { class: 'badge ok' }, 'in sync');
  const parts = [];
  if (node.behind > 0) parts.push(h('span', { class: 'badge warn' }, `${node.behind} behind`));
  if (node.refusing && node.last_nack) {
    parts.push(' ', h('span', { class: 'badge error' }, `refused revision ${node.last_nack.revision}`),
      h('div', { class: 'nack' }, node.last_nack.error));
  }
  return h('span', {}, parts);
}

function streams(active) {
  const entries = Object.entries(active ?? {});
  const total = entries.reduce((sum, [, n]) => sum + n, 0);
  if (!entries.length) return '0';
  return `${total} (${entries.map(([tenant, n]) => `${tenant}: ${n}`).join(', ')})`;
}
