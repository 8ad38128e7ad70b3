// The REST client: bearer token in sessionStorage, JSON requests with
// readable errors, uploads with progress (XHR) and downloads via blob: URLs.
// Every answer or failure to connect feeds reachability.js.

import { markReachable, markUnreachable } from './reachability.js';

const BASE = '/api/v1';
const TOKEN_KEY = 'holdfast.token';

export class ApiError extends Error {
  constructor(status, message, body = {}) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

export function getToken() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

let onUnauthorized = () => {};
/**
 * fn(reason) runs when the session ends: 'expired' when the bearer is no
 * longer accepted, 'logout' after endSession().
 */
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

/** Log out: tell the daemon, forget the bearer, back to the login page. */
export async function endSession() {
  try {
    await request('POST', '/auth/logout');
  } catch {
    /* the bearer stops working either way */
  }
  onUnauthorized('logout');
}

/** Encode a vault path for a `*path` route: "/a b/c" → "/a%20b/c". */
export function encodePath(path) {
  return `/${path.split('/').filter(Boolean).map(encodeURIComponent).join('/')}`;
}

function messageFor(status, body) {
  if (body && typeof body.error === 'string' && body.error) return body.error;
  // The agent hub's routes (under /agent-hub) answer {"detail": …}.
  if (body && typeof body.detail === 'string' && body.detail) return body.detail;
  if (status === 0) return 'Holdfast is not answering. Is the daemon running?';
  return `Something went wrong (HTTP ${status}).`;
}

async function readBody(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { error: text.slice(0, 200) };
  }
}

/** A 401 means the session is gone (wrong passwords answer 403). */
async function handle401(opts) {
  if (opts.anonymous) return;
  onUnauthorized('expired');
}

/**
 * request('POST', '/vaults', {body: {name}}) → parsed JSON (or null on 204).
 * Options: query (object), body (JSON), anonymous (no bearer, 401 is just an
 * error).
 */
export async function request(method, path, opts = {}) {
  const url = new URL(BASE + path, location.origin);
  for (const [k, v] of Object.entries(opts.query || {})) {
    if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, v);
  }
  const headers = {};
  const token = getToken();
  if (token && !opts.anonymous) headers.authorization = `Bearer ${token}`;
  let body;
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body });
  } catch {
    markUnreachable();
    throw new ApiError(0, messageFor(0));
  }
  markReachable();
  const data = await readBody(response);
  if (!response.ok) {
    if (response.status === 401) await handle401(opts);
    throw new ApiError(response.status, messageFor(response.status, data), data || {});
  }
  return data;
}

/** The agent hub's own routes, served to the pages under /agent-hub. */
export const hubApi = {
  get: (path, query, opts) => request('GET', `/agent-hub${path}`, { ...opts, query }),
  post: (path, body = {}, opts) => request('POST', `/agent-hub${path}`, { ...opts, body }),
  patch: (path, body, opts) => request('PATCH', `/agent-hub${path}`, { ...opts, body }),
  del: (path, opts) => request('DELETE', `/agent-hub${path}`, opts),
};

export const api = {
  get: (path, query, opts) => request('GET', path, { ...opts, query }),
  post: (path, body = {}, opts) => request('POST', path, { ...opts, body }),
  patch: (path, body, opts) => request('PATCH', path, { ...opts, body }),
  put: (path, body, opts) => request('PUT', path, { ...opts, body }),
  del: (path, opts) => request('DELETE', path, opts),
};

/**
 * Upload one file's raw bytes to `path` in a vault. Returns
 * {promise, abort}; onProgress(loaded, total) fires as bytes go out.
 */
export function upload(vaultId, path, file, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open('POST', `${BASE}/vaults/${encodeURIComponent(vaultId)}/upload${encodePath(path)}`);
    xhr.setRequestHeader('authorization', `Bearer ${getToken()}`);
    xhr.setRequestHeader('content-type', 'application/octet-stream');
    xhr.upload.addEventListener('progress', (e) => {
      if (onProgress) onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
    });
    xhr.addEventListener('load', () => {
      let data = null;
      try {
        data = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(data);
      if (xhr.status === 401) handle401({});
      reject(new ApiError(xhr.status, messageFor(xhr.status, data), data || {}));
    });
    xhr.addEventListener('error', () => {
      markUnreachable();
      reject(new ApiError(0, messageFor(0)));
    });
    xhr.addEventListener('abort', () => reject(new ApiError(-1, 'Upload cancelled.')));
    xhr.send(file);
  });
  return { promise, abort: () => xhr.abort() };
}

/** Fetch a file with the bearer and save it under `filename`. */
export async function download(path, filename, query) {
  const url = new URL(BASE + path, location.origin);
  for (const [k, v] of Object.entries(query || {})) url.searchParams.set(k, v);
  let response;
  try {
    response = await fetch(url, { headers: { authorization: `Bearer ${getToken()}` } });
  } catch {
    markUnreachable();
    throw new ApiError(0, messageFor(0));
  }
  markReachable();
  if (!response.ok) {
    const data = await readBody(response);
    if (response.status === 401) await handle401({});
    throw new ApiError(response.status, messageFor(response.status, data), data || {});
  }
  saveBlob(await response.blob(), filename);
}

/** Offer a Blob as a download. */
export function saveBlob(blob, filename) {
  const href = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = href;
  a.download = filename;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(href), 60_000);
}

/** A URL for routes that take ?token= (EventSource, <a download>). */
export function tokenUrl(path) {
  return `${BASE}${path}?token=${encodeURIComponent(getToken() || '')}`;
}
