// The simulator's JSON API, relative to the page (…/sim/), so that it works
// wherever the server mounts it.
import { getLang } from './i18n.js';

export class APIError extends Error {
  constructor(status, body) {
    const e = body?.error || {};
    super(e.message || 'HTTP ' + status);
    this.status = status;
    this.code = e.code || '';
    this.fields = e.fields || [];
  }
}

export async function api(method, path, body) {
  const headers = { 'Accept-Language': getLang(), Accept: 'application/json' };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch('api/' + path, {
      method, headers, credentials: 'same-origin', cache: 'no-store',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new APIError(0, { error: { code: 'network', message: String(err.message || err) } });
  }
  let data = null;
  try { data = await res.json(); } catch { /* not JSON: the status says enough */ }
  if (!res.ok) throw new APIError(res.status, data);
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body);

// query builds a query string from the defined values of params.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  return q.toString();
}
