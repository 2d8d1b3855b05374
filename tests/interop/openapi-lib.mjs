// Checks every HTTP answer a suite gets from a RoomKey server against the
// OpenAPI document (docs/openapi.yaml), so the document cannot drift from
// the behaviour.
//
// Importing this module wraps globalThis.fetch: an answer from a server that
// startServer registered (watchServer) is checked before the caller sees it,
// whoever called fetch (the suites' request(), livekit-client's
// TokenSource, ...). A path, method or status the document does not list,
// or a body its schema refuses, makes that fetch throw, which fails the
// test. Schemas are checked with Ajv's JSON Schema 2020-12 validator (the
// dialect of OpenAPI 3.1) and ajv-formats.

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The OpenAPI document, parsed from docs/openapi.yaml. */
export const SPEC = YAML.parse(fs.readFileSync(path.resolve(here, '../../docs/openapi.yaml'), 'utf8'));

const SPEC_ID = 'roomkey-openapi';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(SPEC, SPEC_ID);
const compiled = new Map();

/** A path template ("/a/{b}") as an anchored regex; tail is appended. */
function templateRegex(template, tail = '$') {
  const esc = template.split(/(\{[^}]+\})/).map((p) => (p.startsWith('{') ? '[^/]+' : p.replace(/[.*+?^$()|[\]\\]/g, '\\$&')));
  return new RegExp(`^${esc.join('')}${tail}`);
}

const PATHS = Object.keys(SPEC.paths).map((t) => ({ t, re: templateRegex(t) }));
const SERVER = SPEC['x-roomkey-server'];
const PREFIXES = Object.entries(SERVER.prefixes).map(([p, ref]) => ({ p, ref, re: templateRegex(p, '/') }));

const escPointer = (s) => s.replace(/~/g, '~0').replace(/\//g, '~1');

/** Follow a local $ref ("#/a/b"); returns {obj, ptr} (ptr: where obj lives). */
function deref(obj, ptr) {
  while (obj && obj.$ref) {
    ptr = obj.$ref;
    obj = ptr.slice(2).split('/').reduce((o, k) => o?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], SPEC);
  }
  return { obj, ptr };
}

/** Validate value against the schema at JSON pointer ptr; returns error text or ''. */
function schemaErrors(ptr, value) {
  let v = compiled.get(ptr);
  if (!v) {
    v = ajv.compile({ $ref: `${SPEC_ID}${ptr}` });
    compiled.set(ptr, v);
  }
  return v(value) ? '' : ajv.errorsText(v.errors, { dataVar: 'body' });
}

/** The error response (pointer) of the family owning pathname (longest prefix). */
function prefixResponse(pathname) {
  let best = null;
  for (const x of PREFIXES) if (x.re.test(pathname) && (!best || x.p.length > best.p.length)) best = x;
  return best ? best.ref : SERVER.prefixes[''];
}

/** Check an answer against the response object at pointer ptr ("#/components/responses/X"). */
function responseErrors(ptr, ctype, text) {
  const { obj, ptr: at } = deref({ $ref: ptr }, ptr);
  return checkContent(obj.content, `${at}/content`, ctype, text);
}

/** Check a body against a media type map {type: {schema}}; returns error text or ''. */
function checkContent(content, contentPtr, ctype, text) {
  if (!content) return text === '' ? '' : `the document lists no body, got ${JSON.stringify(text.slice(0, 200))}`;
  const base = (ctype ?? '').split(';')[0].trim().toLowerCase();
  if (!(base in content)) return `content-type ${JSON.stringify(ctype)} is not one of ${Object.keys(content).join(', ')}`;
  let value = text;
  if (base === 'application/json') {
    try { value = JSON.parse(text); } catch { return `body is not JSON: ${JSON.stringify(text.slice(0, 200))}`; }
  }
  return schemaErrors(`${contentPtr}/${escPointer(base)}/schema`, value);
}

/** Check an error in the shape of path item's family: what its operations answer a 429 with. */
function familyErrors(item, itemPtr, ctype, text) {
  const first = METHODS.find((k) => item[k]);
  const { obj, ptr } = deref(item[first].responses['429'], `${itemPtr}/${first}/responses/429`);
  return checkContent(obj.content, `${ptr}/content`, ctype, text);
}

/**
 * Check one answer: method, URL path, status, content-type and body text.
 * Returns '' when the document describes it, else what is wrong.
 */
export function checkResponse(method, pathname, status, ctype, text) {
  const m = method.toLowerCase();
  const code = String(status);
  const hit = PATHS.find((x) => x.re.test(pathname));
  if (!hit) {
    if (!SERVER.unmatched_path.includes(code)) return `undocumented path (answered ${code})`;
    return responseErrors(prefixResponse(pathname), ctype, text);
  }
  if (code === '404' && text.includes(`Cannot ${method.toUpperCase()} ${pathname}`)) {
    // The path's family is switched off in this server's config: the path
    // answers as an unmatched one, in the shape of a family still on.
    const shapes = [...new Set(Object.values(SERVER.prefixes))];
    const errs = shapes.map((p) => responseErrors(p, ctype, text));
    return errs.includes('') ? '' : `family-off 404 in no known error shape: ${errs.join('; ')}`;
  }
  const item = SPEC.paths[hit.t];
  const itemPtr = `#/paths/${escPointer(hit.t)}`;
  const op = item[m];
  if (!op) {
    const allowed = m === 'options' ? SERVER.preflight : SERVER.other_method;
    if (!allowed.includes(code)) return `${method} is not documented on ${hit.t} (answered ${code})`;
    if (code === '204') return text === '' ? '' : `a 204 carries a body: ${text.slice(0, 200)}`;
    return familyErrors(item, itemPtr, ctype, text);
  }
  const opPtr = `${itemPtr}/${m}`;
  const raw = op.responses[code] ?? op.responses[`${code[0]}XX`] ?? op.responses.default;
  if (!raw && code === '431' && SERVER.malformed_request.includes(code)) {
    return !ctype || /^text\/html/.test(ctype) ? '' : `431 is libmicrohttpd's HTML page, got ${ctype}`;
  }
  if (!raw && SERVER.malformed_request.includes(code)) return familyErrors(item, itemPtr, ctype, text);
  if (!raw) return `status ${code} is not documented for ${method.toUpperCase()} ${hit.t}`;
  const { obj: resp, ptr } = deref(raw, `${opPtr}/responses/${code}`);
  const err = checkContent(resp.content, `${ptr}/content`, ctype, text);
  return err ? `${code}: ${err}` : '';
}

/**
 * Check an answer read off a raw socket (the suites' malformed-HTTP cases):
 * sent is the request text, res a parsed response {status, headers, body}.
 * Throws like the fetch wrapper when the document does not describe it; a
 * request line that is not HTTP/1.x is not an API call and is not checked.
 */
export function checkRaw(sent, res) {
  const m = /^([A-Z]+) (\/\S*) HTTP\/1\.[01]\r\n/.exec(sent);
  if (!m || !res || !res.status || !res.complete) return;
  const pathname = new URL(m[2], 'http://x').pathname;
  const err = checkResponse(m[1], pathname, res.status, res.headers['content-type'], res.body);
  if (err) throw new Error(`OpenAPI (docs/openapi.yaml): ${m[1]} ${pathname} -> ${res.status}: ${err}\nbody: ${res.body.slice(0, 500)}`);
}

const bases = new Set();

/** Check every later answer from the server at base ("http://host:port"). */
export function watchServer(base) {
  bases.add(base);
}

const realFetch = globalThis.fetch;
globalThis.fetch = async function checkedFetch(input, init = {}) {
  const res = await realFetch(input, init);
  const url = new URL(input instanceof Request ? input.url : String(input));
  if (!bases.has(url.origin)) return res;
  const method = init.method ?? (input instanceof Request ? input.method : 'GET');
  const text = await res.clone().text();
  const err = checkResponse(method, url.pathname, res.status, res.headers.get('content-type'), text);
  if (err) {
    throw new Error(`OpenAPI (docs/openapi.yaml): ${method.toUpperCase()} ${url.pathname} -> ${res.status}: ${err}\nbody: ${text.slice(0, 500)}`);
  }
  return res;
};
