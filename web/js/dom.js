// Small DOM helpers: building elements without innerHTML (every value is text, never markup),
// labelled form fields, inline problem details, a polite status line, two-step delete buttons.

let nextId = 0;

/** A fresh element id with `prefix`. */
export function uid(prefix = 'f') {
  nextId += 1;
  return `${prefix}-${nextId}`;
}

/**
 * `h('button', {type: 'button', onclick}, 'Save')`: attributes (`on*` become listeners,
 * `class`, `dataset`, booleans) and children (strings become text nodes; null is skipped).
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'dataset') {
      Object.assign(el.dataset, value);
    } else if (name === 'value' || name === 'checked') {
      el[name] = value;
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

/**
 * Shows `message` in the status line (read out by screen readers). It stays through the next
 * navigation (a creation usually moves to the new entity's page) and is cleared after that.
 */
export function notify(message, kind = 'ok') {
  const notice = document.getElementById('notice');
  notice.className = `notice ${kind}`;
  notice.textContent = message;
  notice.dataset.fresh = 'true';
}

/** Called on each navigation: a notice from before the last one is no longer news. */
export function ageNotice() {
  const notice = document.getElementById('notice');
  if (notice.dataset.fresh === 'true') {
    notice.dataset.fresh = 'false';
  } else {
    notice.textContent = '';
  }
}

/** A page heading that receives focus after navigation, so keyboard users start there. */
export function heading(text, level = 1) {
  return h(`h${level}`, { tabindex: '-1', class: 'page-title' }, text);
}

/**
 * A labelled field. `kind`: text, url, password, number, textarea, checkbox, select (with
 * `options`), file. `pointer` is the JSON Pointer of the request body it fills: an API
 * error at that path (or below it) is shown under it.
 */
export function field({ label, name, kind = 'text', value = '', hint, pointer, options, ...rest }) {
  const id = uid(name || 'field');
  const hintId = hint ? `${id}-hint` : null;
  const errorId = `${id}-error`;
  const describedBy = [hintId, errorId].filter(Boolean).join(' ');
  const common = { id, name, 'aria-describedby': describedBy, ...rest };
  let input;
  if (kind === 'textarea') {
    input = h('textarea', { ...common, rows: rest.rows ?? 6, spellcheck: 'false' });
    input.value = value;
  } else if (kind === 'select') {
    input = h('select', common, options.map((option) => {
      const [optionValue, text] = Array.isArray(option) ? option : [option, option];
      return h('option', { value: optionValue, selected: optionValue === value }, text);
    }));
  } else if (kind === 'checkbox') {
    input = h('input', { ...common, type: 'checkbox', checked: Boolean(value) });
  } else {
    input = h('input', { ...common, type: kind, value });
  }
  const wrapper = h('div', { class: `field field-${kind}`, dataset: pointer !== undefined ? { pointer } : {} });
  const labelEl = h('label', { for: id }, label);
  if (kind === 'checkbox') {
    wrapper.append(input, labelEl);
  } else {
    wrapper.append(labelEl, input);
  }
  if (hint) wrapper.append(h('p', { class: 'hint', id: hintId }, hint));
  wrapper.append(h('p', { class: 'field-error', id: errorId, hidden: true }));
  return wrapper;
}

/** The input, select or textarea inside a field wrapper. */
export function control(wrapper) {
  return wrapper.querySelector('input, select, textarea');
}

/** Removes every inline error from `form`. */
export function clearErrors(form) {
  form.querySelectorAll('.field-error').forEach((p) => {
    p.hidden = true;
    p.textContent = '';
  });
  form.querySelectorAll('[aria-invalid]').forEach((el) => el.removeAttribute('aria-invalid'));
  const summary = form.querySelector('.problem');
  if (summary) summary.remove();
}

/**
 * Shows a failure inside `form`: a summary (title, detail and every `errors[]` entry with its
 * path) at the top, and each error under the field whose pointer is the longest prefix of
 * the error's path. Focus moves to the summary so the message is read out.
 */
export function showProblem(form, error) {
  clearErrors(form);
  const problem = error.problem ?? { title: 'Error', detail: error.message };
  const errors = Array.isArray(problem.errors) ? problem.errors : [];
  const items = errors.map((e) => h('li', {}, e.path ? h('code', {}, e.path) : null, e.path ? ' ' : null, e.message,
    e.config_path ? h('span', { class: 'muted' }, ` (${e.config_path})`) : null));
  const title = problem.title || 'Error';
  const summary = h('div', { class: 'problem', role: 'alert', tabindex: '-1' },
    h('strong', {}, error.status ? `${title} (${error.status})` : title),
    problem.detail ? h('p', {}, problem.detail) : null,
    items.length ? h('ul', {}, items) : null);
  form.prepend(summary);
  for (const e of errors) placeError(form, e);
  summary.focus();
}

function placeError(form, error) {
  const path = error.path ?? '';
  let best = null;
  for (const wrapper of form.querySelectorAll('[data-pointer]')) {
    const pointer = wrapper.dataset.pointer;
    const covers = path === pointer || (pointer === '' ? true : path.startsWith(`${pointer}/`));
    if (covers && (!best || pointer.length > best.dataset.pointer.length)) best = wrapper;
  }
  if (!best) return;
  const slot = best.querySelector('.field-error');
  const text = path && path !== best.dataset.pointer ? `${path}: ${error.message}` : error.message;
  slot.textContent = slot.textContent ? `${slot.textContent} ${text}` : text;
  slot.hidden = false;
  const input = control(best);
  if (input) input.setAttribute('aria-invalid', 'true');
}

/**
 * A delete button that asks once more in place (no modal dialog): the first press turns it
 * into "Confirm" and "Cancel"; the second runs `action`.
 */
export function deleteButton(label, action) {
  const box = h('span', { class: 'confirm' });
  const start = h('button', { type: 'button', class: 'danger' }, label);
  const confirm = h('button', { type: 'button', class: 'danger' }, `Confirm: ${label.toLowerCase()}`);
  const cancel = h('button', { type: 'button' }, 'Cancel');
  start.addEventListener('click', () => {
    replace(box, confirm, cancel);
    confirm.focus();
  });
  cancel.addEventListener('click', () => {
    replace(box, start);
    start.focus();
  });
  confirm.addEventListener('click', async () => {
    confirm.disabled = true;
    try {
      await action();
    } finally {
      confirm.disabled = false;
    }
  });
  box.append(start);
  return box;
}

/** A table with a caption, `columns` headers and `rows` (arrays of cells). */
export function table(caption, columns, rows) {
  return h('table', {},
    h('caption', {}, caption),
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col' }, c)))),
    h('tbody', {}, rows.length
      ? rows.map((cells) => h('tr', {}, cells.map((c, i) => (i === 0 ? h('th', { scope: 'row' }, c) : h('td', {}, c)))))
      : h('tr', {}, h('td', { colspan: columns.length, class: 'muted' }, 'None yet.'))));
}

/** Runs `work` with `button` disabled, showing any failure in `form`. */
export async function busy(button, form, work) {
  button.disabled = true;
  clearErrors(form);
  try {
    await work();
  } catch (error) {
    showProblem(form, error);
  } finally {
    button.disabled = false;
  }
}

/** `<pre>` of JSON, for read-only views. */
export function jsonBlock(value) {
  return h('pre', { class: 'json' }, JSON.stringify(value, null, 2));
}
