// The API client: same-origin JSON calls, the id token in memory and sessionStorage, 401 -> login.
import config from './config.js';

let token = sessionStorage.getItem('hadir.token');
let refreshToken = sessionStorage.getItem('hadir.refresh');
export const getToken = () => token;
/** The id token (and the refresh token /auth/login gave; null signs out). */
export function setToken(t, refresh) {
  token = t;
  if (t) sessionStorage.setItem('hadir.token', t); else sessionStorage.removeItem('hadir.token');
  if (refresh !== undefined || !t) {
    refreshToken = t ? refresh : null;
    if (refreshToken) sessionStorage.setItem('hadir.refresh', refreshToken); else sessionStorage.removeItem('hadir.refresh');
  }
}

/** An expired id token is renewed once through /auth/refresh (no password, no sign-in). */
async function renewed() {
  if (!refreshToken) return false;
  try {
    const r = await fetch(config.apiBase + '/auth/refresh', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, cache: 'no-store',
      body: JSON.stringify({ refresh_token: refreshToken }) });
    if (!r.ok) return false;
    setToken((await r.json()).id_token);
    return true;
  } catch { return false; }
}

export class ApiError extends Error {
  constructor(status, body) {
    const e = (body && body.error) || {};
    super(e.message || `HTTP ${status}`);
    this.status = status; this.code = e.code || `http_${status}`; this.details = e.details || {};
    this.body = body; // a rejected check-in is a 422 whose body is the decision itself
  }
}
export class NetworkError extends Error { constructor(e) { super(String(e)); this.code = 'network'; } }

export function deviceId() {
  let id = localStorage.getItem('hadir.device');
  if (!id) { id = 'web-' + uuid(); localStorage.setItem('hadir.device', id); }
  return id;
}
export function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
}

let onUnauthorized = () => {};
export const whenUnauthorized = (f) => { onUnauthorized = f; };

/** fetch JSON: resolves the body on 2xx; throws ApiError (4xx/5xx) or NetworkError. */
export async function api(method, path, { body, headers = {}, raw } = {}, retried = false) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let payload;
  if (raw !== undefined) payload = raw;
  else if (body !== undefined) { h['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
  let r;
  try {
    r = await fetch(config.apiBase + path, { method, headers: h, body: payload, cache: 'no-store' });
  } catch (e) { throw new NetworkError(e); }
  const text = await r.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (r.status === 401 && !path.startsWith('/auth/')) {
    if (!retried && data && data.error && data.error.code === 'token_expired' && await renewed()) {
      return api(method, path, { body, headers, raw }, true);
    }
    onUnauthorized();
  }
  if (!r.ok) throw new ApiError(r.status, data);
  return data;
}

/** A presigned S3 POST: the fields, then the file last. Returns the status. */
export async function uploadTo(target, blob, contentType) {
  const fd = new FormData();
  for (const [k, v] of Object.entries(target.fields)) fd.append(k, v);
  fd.append('Content-Type', contentType);
  fd.append('file', blob, 'upload');
  let r;
  try { r = await fetch(target.url, { method: 'POST', body: fd }); } catch (e) { throw new NetworkError(e); }
  if (!r.ok) throw new ApiError(r.status, { error: { code: 'upload_failed', message: `upload ${r.status}` } });
  return r.status;
}
