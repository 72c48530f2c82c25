// Sign in: an admin token (global or for one tenant), checked against the API before it is
// kept in sessionStorage for this tab.

import { get, setToken } from '../api.js';
import { busy, control, field, h, heading, notify, replace } from '../dom.js';
import { InputError } from '../forms.js';

export async function render(main) {
  const tokenField = field({
    label: 'Admin token', name: 'token', kind: 'password', pointer: '/token',
    autocomplete: 'off', required: true,
    hint: 'Printed by sluice dev, or created under Tokens. Kept for this tab only.',
  });
  const submit = h('button', { type: 'submit', class: 'primary' }, 'Sign in');
  const form = h('form', { class: 'card narrow', id: 'signin-form' }, tokenField, h('div', { class: 'actions' }, submit));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    busy(submit, form, async () => {
      const secret = control(tokenField).value.trim();
      if (!secret) throw new InputError('/token', 'enter an admin token');
      await get('/tenants?limit=1', { bearer: secret }).catch((error) => {
        if (error.status === 401) throw new InputError('/token', 'this token is not a valid admin token');
        throw error;
      });
      setToken(secret);
      notify('Signed in.');
      if (window.location.hash && window.location.hash !== '#/') {
        window.dispatchEvent(new Event('sluice:signed-in'));
      } else {
        window.location.hash = '#/tenants';
      }
    });
  });
  replace(main, heading('Sign in'), form);
  control(tokenField).focus();
}
