// Entity forms built from a list of fields, each bound to a JSON Pointer (RFC 6901) of the
// document the API takes. Editing splits a document into the fields and an "advanced"
// JSON object holding everything else; saving joins them back, so settings the form has no
// field for survive an edit untouched.

import { control, field, h } from './dom.js';

/** A client-side input error shaped like an API problem, so it is shown the same way. */
export class InputError extends Error {
  constructor(path, message) {
    super(message);
    this.problem = { title: 'Invalid input', detail: message, errors: [{ path, message }] };
  }
}

/** The tokens of an RFC 6901 pointer. */
function tokens(pointer) {
  if (pointer === '') return [];
  return pointer.slice(1).split('/').map((t) => t.replaceAll('~1', '/').replaceAll('~0', '~'));
}

const isObject = (value) => value !== null && typeof value === 'object' && !Array.isArray(value);

/** The value at `pointer` in `doc`, or undefined. */
export function getAt(doc, pointer) {
  let node = doc;
  for (const token of tokens(pointer)) {
    if (!isObject(node) || !(token in node)) return undefined;
    node = node[token];
  }
  return node;
}

/** Sets `pointer` in `doc`, creating objects on the way. */
export function setAt(doc, pointer, value) {
  const path = tokens(pointer);
  let node = doc;
  for (const token of path.slice(0, -1)) {
    if (!isObject(node[token])) node[token] = {};
    node = node[token];
  }
  node[path[path.length - 1]] = value;
}

/** Removes `pointer` from `doc`, and any object it leaves empty. */
export function deleteAt(doc, pointer) {
  const path = tokens(pointer);
  const parents = [];
  let node = doc;
  for (const token of path.slice(0, -1)) {
    if (!isObject(node[token])) return;
    parents.push([node, token]);
    node = node[token];
  }
  delete node[path[path.length - 1]];
  for (const [parent, token] of parents.reverse()) {
    if (Object.keys(parent[token]).length > 0) break;
    delete parent[token];
  }
}

/** `over` merged into `base`: objects member by member, anything else replaced. */
export function deepMerge(base, over) {
  const out = isObject(base) ? structuredClone(base) : {};
  for (const [key, value] of Object.entries(over)) {
    out[key] = isObject(value) && isObject(out[key]) ? deepMerge(out[key], value) : value;
  }
  return out;
}

/** Splits a list typed as `a, b c` or one per line. */
export function splitList(text) {
  return text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
}

/** `type = schema@1` lines as an object. */
function parseMap(text, pointer) {
  const out = {};
  for (const [n, line] of text.split('\n').entries()) {
    if (!line.trim()) continue;
    const at = line.indexOf('=');
    if (at < 1) throw new InputError(pointer, `line ${n + 1}: write \`event type = schema@version\``);
    out[line.slice(0, at).trim()] = line.slice(at + 1).trim();
  }
  return out;
}

function showValue(spec, value) {
  if (value === undefined || value === null) return spec.kind === 'checkbox' ? false : '';
  if (spec.kind === 'list') return Array.isArray(value) ? value.join(', ') : String(value);
  if (spec.kind === 'map') return Object.entries(value).map(([k, v]) => `${k} = ${v}`).join('\n');
  if (spec.kind === 'checkbox') return Boolean(value);
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function readValue(spec, input) {
  if (spec.kind === 'checkbox') return input.checked ? true : undefined;
  const text = input.value.trim();
  if (!text) return undefined;
  if (spec.kind === 'list') return splitList(text);
  if (spec.kind === 'map') return parseMap(input.value, spec.pointer);
  if (spec.kind === 'number') return Number(text);
  return text;
}

/**
 * A form for `doc` (null to create). `specs`: `{pointer, label, kind, hint, createOnly,
 * required, placeholder, options}`. Returns `{element, fields, read()}`; `read()` gives the
 * document to send or throws `InputError`.
 */
export function entityForm(specs, doc, { create, advancedHint, hooks = {} } = {}) {
  const rest = structuredClone(doc ?? {});
  const values = {};
  for (const spec of specs) {
    values[spec.pointer] = getAt(rest, spec.pointer);
    deleteAt(rest, spec.pointer);
  }
  hooks.split?.(rest, values);
  const fields = {};
  const element = h('div', { class: 'entity-fields' });
  for (const spec of specs) {
    if (spec.createOnly && !create) continue;
    const initial = values[spec.pointer] ?? spec.initial;
    const { pointer, label, kind = 'text', hint, placeholder, required, options } = spec;
    const kindOf = kind === 'list' ? 'text' : kind === 'map' ? 'textarea' : kind;
    const wrapper = field({
      label, kind: kindOf, hint, pointer, options, placeholder, required,
      name: pointer.slice(1).replaceAll('/', '.'),
      value: showValue({ ...spec, kind }, initial),
      rows: kind === 'map' ? 3 : undefined,
    });
    fields[pointer] = wrapper;
    (spec.group ? groupIn(element, spec.group) : element).append(wrapper);
  }
  const advancedText = Object.keys(rest).length ? JSON.stringify(rest, null, 2) : '';
  const advanced = field({
    label: 'Advanced settings (JSON object)', kind: 'textarea', name: 'advanced', pointer: '',
    value: advancedText, rows: 4,
    hint: advancedHint ?? 'Other settings, merged under the fields above. Leave empty for none.',
  });
  element.append(h('details', { class: 'advanced', open: advancedText !== '' }, h('summary', {}, 'Advanced'), advanced));

  function read() {
    const text = control(advanced).value.trim();
    let out = {};
    if (text) {
      try {
        out = JSON.parse(text);
      } catch (error) {
        throw new InputError('', `advanced settings are not JSON: ${error.message}`);
      }
      if (!isObject(out)) throw new InputError('', 'advanced settings must be a JSON object');
    }
    for (const spec of specs) {
      const wrapper = fields[spec.pointer];
      if (!wrapper) continue;
      const value = readValue({ kind: 'text', ...spec }, control(wrapper));
      if (value === undefined) {
        if (spec.required) throw new InputError(spec.pointer, `${spec.label} is required`);
        continue;
      }
      const merged = isObject(value) && isObject(getAt(out, spec.pointer)) ? deepMerge(getAt(out, spec.pointer), value) : value;
      setAt(out, spec.pointer, merged);
    }
    hooks.join?.(out);
    return out;
  }

  return { element, fields, read };
}

function groupIn(element, legend) {
  let fieldset = [...element.querySelectorAll(':scope > fieldset')].find((f) => f.dataset.legend === legend);
  if (!fieldset) {
    fieldset = h('fieldset', { dataset: { legend } }, h('legend', {}, legend));
    element.append(fieldset);
  }
  return fieldset;
}
