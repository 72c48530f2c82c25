// The console's entry point: a hash router over the views in js/views, the sign-in gate
// (an admin token kept in sessionStorage) and the header navigation.

import { clearToken, onUnauthorized, token } from './js/api.js';
import { ageNotice, h, notify, replace } from './js/dom.js';
import * as fleet from './js/views/fleet.js';
import * as keys from './js/views/keys.js';
import * as revisions from './js/views/revisions.js';
import * as routes from './js/views/routes.js';
import * as schemas from './js/views/schemas.js';
import * as signin from './js/views/signin.js';
import * as stream from './js/views/stream.js';
import * as tenants from './js/views/tenants.js';
import * as tokens from './js/views/tokens.js';

/** Path patterns (segments; `:name` binds a parameter) and the view that draws them. */
const ROUTES = [
  [[], tenants.list, 'tenants'],
  [['tenants'], tenants.list, 'tenants'],
  [['tenants', ':tenant'], tenants.detail, 'tenants'],
  [['tenants', ':tenant', 'keys'], keys.render, 'tenants'],
  [['tenants', ':tenant', 'schemas'], schemas.list, 'tenants'],
  [['tenants', ':tenant', 'schemas', ':schema'], schemas.versions, 'tenants'],
  [['tenants', ':tenant', 'routes'], routes.list, 'tenants'],
  [['tenants', ':tenant', 'routes', ':route'], routes.edit, 'tenants'],
  [['tokens'], tokens.render, 'tokens'],
  [['fleet'], fleet.render, 'fleet'],
  [['revisions'], revisions.render, 'revisions'],
  [['stream'], stream.render, 'stream'],
];

let cleanup = null;

/** `#/a/b?x=1` as segments and query parameters. */
function currentRoute() {
  const hash = window.location.hash.replace(/^#\/?/, '');
  const [path, query = ''] = hash.split('?');
  const segments = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { segments, query: new URLSearchParams(query) };
}

function match(segments) {
  for (const [pattern, view, section] of ROUTES) {
    if (pattern.length !== segments.length) continue;
    const params = {};
    const ok = pattern.every((part, i) => {
      if (part.startsWith(':')) {
        params[part.slice(1)] = segments[i];
        return true;
      }
      return part === segments[i];
    });
    if (ok) return { view, section, params };
  }
  return null;
}

async function navigate() {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  ageNotice();
  const main = document.getElementById('main');
  const signedIn = Boolean(token());
  showChrome(signedIn);
  if (!signedIn) {
    cleanup = (await signin.render(main)) ?? null;
    focusTitle(main);
    return;
  }
  const { segments, query } = currentRoute();
  const found = match(segments);
  markSection(found?.section);
  if (!found) {
    replace(main, h('h1', { tabindex: '-1', class: 'page-title' }, 'Not found'),
      h('p', {}, 'No page here. ', h('a', { href: '#/tenants' }, 'Go to tenants'), '.'));
    focusTitle(main);
    return;
  }
  replace(main, h('p', { class: 'muted' }, 'Loading…'));
  try {
    cleanup = (await found.view(main, { ...found.params, query })) ?? null;
  } catch (error) {
    replace(main, h('h1', { tabindex: '-1', class: 'page-title' }, 'Something went wrong'),
      h('p', { class: 'problem', role: 'alert' }, error.message));
  }
  focusTitle(main);
}

/** Moves focus to the new page's heading, so keyboard and screen reader users start there. */
function focusTitle(main) {
  const title = main.querySelector('.page-title');
  if (title && !main.contains(document.activeElement)) title.focus({ preventScroll: true });
}

function showChrome(signedIn) {
  document.getElementById('nav').hidden = !signedIn;
  document.getElementById('sign-out').hidden = !signedIn;
}

function markSection(section) {
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.dataset.section === section) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
}

function signOut(message, kind = 'ok') {
  clearToken();
  notify(message, kind);
  if (window.location.hash === '' || window.location.hash === '#/') navigate();
  else window.location.hash = '#/';
}

document.getElementById('sign-out').addEventListener('click', () => signOut('Signed out.'));
onUnauthorized(() => signOut('The admin token was refused; sign in again.', 'error'));
window.addEventListener('hashchange', navigate);
window.addEventListener('sluice:signed-in', navigate);
navigate();
