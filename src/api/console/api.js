// api.js - the admin API client. The key lives in this module's memory
// only (never in a URL, a cookie or web storage): a reload signs out.

let key = null;

/** An admin API failure: HTTP status, the API's error code and message. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export function signIn(k) {
  key = k;
}

export function signOut() {
  key = null;
}

export const signedIn = () => key !== null;

/** Percent-encodes one path segment. */
export const seg = (s) => encodeURIComponent(s);

/**
 * Calls the admin API: method, path under /admin/v1, optional JSON body,
 * optional query object (empty values left out). Resolves to the parsed
 * JSON (null for 204); rejects with ApiError.
 */
export async function call(method, path, { body, query } = {}) {
  if (key === null) throw new ApiError(401, 'unauthorized', 'Sign in first.');
  let url = `/admin/v1${path}`;
  if (query) {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
    if ([...q].length) url += `?${q}`;
  }
  const headers = { authorization: `Bearer ${key}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      cache: 'no-store',
      credentials: 'omit',
      referrerPolicy: 'no-referrer',
    });
  } catch (e) {
    throw new ApiError(0, 'network', `RoomKey could not be reached (${e.message}).`);
  }
  if (res.status === 204) return null;
  let data = null;
  try {
    data = await res.json();
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = data && data.error ? data.error : {};
    throw new ApiError(res.status, err.code ?? 'error', err.message ?? `HTTP ${res.status}`);
  }
  return data;
}
