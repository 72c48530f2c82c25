// The admin REST API client: same origin, `/api/v1/...`, a bearer admin token kept in
// sessionStorage (so it lasts for this tab and no longer). Errors arrive as problem details
// (RFC 9457) and are thrown as `ApiError` so forms can place `errors[].path` inline.

const TOKEN_KEY = 'sluice.adminToken';
const BASE = '/api/v1';

/** A failed API call: the HTTP status and the problem document (or a stand-in). */
export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }

  /** The field errors: `[{path, message}]`, possibly empty. */
  get errors() {
    return Array.isArray(this.problem.errors) ? this.problem.errors : [];
  }
}

/** The admin token of this tab's session, or null. */
export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

/** Keeps `value` as this tab's admin token. */
export function setToken(value) {
  sessionStorage.setItem(TOKEN_KEY, value);
}

/** Forgets the admin token. */
export function clearToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

/** Listeners told when the API answers 401 (the token was revoked or is wrong). */
const unauthorizedListeners = new Set();

export function onUnauthorized(listener) {
  unauthorizedListeners.add(listener);
}

/**
 * Calls `method path` (path below `/api/v1`). Resolves to `{status, data, etag}`; throws
 * `ApiError` for any answer that is not 2xx, and for a network failure (status 0).
 */
export async function call(method, path, { body, ifMatch, bearer } = {}) {
  const headers = { accept: 'application/json' };
  const secret = bearer ?? token();
  if (secret) headers.authorization = `Bearer ${secret}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (ifMatch) headers['if-match'] = ifMatch;
  let response;
  try {
    response = await fetch(BASE + path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
    });
  } catch (error) {
    throw new ApiError(0, { title: 'Network error', detail: `the control plane did not answer (${error.message})` });
  }
  const data = await readBody(response);
  if (!response.ok) {
    const problem = data && typeof data === 'object' ? data : { title: response.statusText, detail: String(data ?? '') };
    if (response.status === 401 && bearer === undefined) {
      unauthorizedListeners.forEach((listener) => listener());
    }
    throw new ApiError(response.status, problem);
  }
  return { status: response.status, data, etag: response.headers.get('etag') };
}

async function readBody(response) {
  if (response.status === 204) return null;
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export const get = (path, options) => call('GET', path, options);
export const post = (path, body, options = {}) => call('POST', path, { ...options, body });
export const put = (path, body, options = {}) => call('PUT', path, { ...options, body });
export const del = (path, options) => call('DELETE', path, options);

/** Encodes one path segment. */
export const seg = (value) => encodeURIComponent(value);

/** A page of `path`: `{items, next_cursor}` and any other top-level members. */
export async function page(path, cursor, limit = 100) {
  const join = path.includes('?') ? '&' : '?';
  const query = `limit=${limit}` + (cursor ? `&cursor=${encodeURIComponent(cursor)}` : '');
  const { data } = await get(`${path}${join}${query}`);
  return data;
}

/** Every item of a paged list, following cursors (bounded, for selects and small lists). */
export async function all(path, maxPages = 20) {
  const items = [];
  let cursor = null;
  for (let n = 0; n < maxPages; n += 1) {
    const data = await page(path, cursor, 1000);
    items.push(...data.items);
    cursor = data.next_cursor;
    if (!cursor) break;
  }
  return items;
}
