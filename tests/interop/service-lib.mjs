// Helpers for the black-box tests of `roomkey serve` (service.test.mjs).
//
// The service is driven only from the outside: the real binary is spawned
// with a clean environment (no inherited LIVEKIT_* / ROOMKEY_*), the store is
// set up with the documented CLI (`roomkey room|member|audit`), and requests
// go over loopback HTTP (global fetch) or raw TCP (node:net) for the
// malformed-HTTP cases. Minted tokens are checked with livekit-server-sdk's
// TokenVerifier; session JWTs are made with jose.

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import * as jose from 'jose';
import { TokenVerifier } from 'livekit-server-sdk';

import { BIN } from './lib.mjs';
import { checkRaw, watchServer } from './openapi-lib.mjs';

export { BIN };

export const nowSec = () => Math.floor(Date.now() / 1000);
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Lookups are cached for at most 500 ms, so a change made by another process
 * (the CLI) is seen within that time: ask() until done(response) or 1.5 s
 * passed; returns the last response.
 */
export async function within1500(ask, done = (r) => r.status === 200) {
  const deadline = Date.now() + 1500;
  for (;;) {
    const r = await ask();
    if (done(r) || Date.now() > deadline) return r;
    await sleep(100);
  }
}
export const rand = (n = 16) => randomBytes(n).toString('hex');
const enc = new TextEncoder();

/** Grants each role must give (roomAdmin false = absent or false). */
export const ROLE_GRANTS = {
  member: { canPublish: true, canSubscribe: true, canPublishData: true, roomAdmin: false },
  listener: { canPublish: false, canSubscribe: true, canPublishData: false, roomAdmin: false },
  moderator: { canPublish: true, canSubscribe: true, canPublishData: true, roomAdmin: true },
  speaker: { canPublish: true, canSubscribe: true, canPublishData: false, roomAdmin: false },
};

export const REASON = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

// ---------------------------------------------------------------------------
// Environment, temp dirs, CLI
// ---------------------------------------------------------------------------

/** A clean child environment: PATH/HOME/locale only, plus `extra`. */
export function cleanEnv(extra = {}) {
  const env = {};
  for (const k of ['PATH', 'HOME', 'LANG', 'LC_ALL', 'TMPDIR', 'ASAN_OPTIONS', 'UBSAN_OPTIONS']) {
    if (process.env[k] !== undefined) env[k] = process.env[k];
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v !== undefined && v !== null) env[k] = String(v);
  }
  return env;
}

/** A fresh temporary directory and its cleanup. */
export function tempDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomkey-service-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Run the roomkey CLI against a database (no shell). */
export function cli(db, args) {
  const r = spawnSync(BIN, [...args, '--database', db], {
    env: cleanEnv(),
    encoding: 'utf8',
    timeout: 30_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

export function showRun(r) {
  return `exit=${r.status} signal=${r.signal}\nstdout=${JSON.stringify(r.stdout).slice(0, 2000)}\nstderr=${JSON.stringify(r.stderr).slice(0, 2000)}`;
}

/** Run the CLI and assert it succeeded. */
export function cliOk(db, args) {
  const r = cli(db, args);
  assert.equal(r.status, 0, `roomkey ${args.join(' ')} failed: ${showRun(r)}`);
  return r;
}

/** `roomkey room create NAME [opts...]` */
export function roomCreate(db, name, opts = {}) {
  const a = ['room', 'create', name];
  if (opts.alias) a.push('--alias', opts.alias);
  if (opts.mode) a.push('--mode', opts.mode);
  if (opts.defaultRole) a.push('--default-role', opts.defaultRole);
  if (opts.maxTtl) a.push('--max-ttl', opts.maxTtl);
  return cliOk(db, a);
}

export function memberAdd(db, room, subject, role) {
  return cliOk(db, ['member', 'add', room, subject, ...(role ? ['--role', role] : [])]);
}

export function memberRemove(db, room, subject) {
  return cliOk(db, ['member', 'remove', room, subject]);
}

/** `roomkey audit list --json [--room R] [--subject S]` parsed. */
export function auditList(db, { room, subject } = {}) {
  const a = ['audit', 'list', '--json'];
  if (room) a.push('--room', room);
  if (subject) a.push('--subject', subject);
  const r = cliOk(db, a);
  let list;
  assert.doesNotThrow(() => { list = JSON.parse(r.stdout); }, `audit list --json is not JSON: ${showRun(r)}`);
  assert.ok(Array.isArray(list), `audit list --json is not an array: ${r.stdout.slice(0, 500)}`);
  return list;
}

/**
 * `roomkey audit prune --before DATE` on the store at db, while a server
 * writes to it: mintOld(i) / mintNew(i) each get one token issued and
 * audited for subject oldSub / newSub. Records issued before the date go
 * (every one of them, in steps of one record), later ones stay, and a token
 * request made while the prune runs is served and audited.
 */
export async function checkAuditPrune(db, { oldSub, newSub, mint }) {
  const all = () => {
    const list = JSON.parse(cliOk(db, ['audit', 'list', '--json', '--limit', '10000']).stdout);
    assert.ok(list.length < 10000, 'the whole audit fits one page');
    return list;
  };
  for (let i = 0; i < 3; i++) assert.equal((await mint(oldSub)).status, 200);
  // the date: the second after the last old record was issued
  const date = Math.floor(Date.now() / 1000) + 1;
  while (Date.now() < date * 1000) await sleep(20);
  for (let i = 0; i < 2; i++) assert.equal((await mint(newSub)).status, 200);
  const iso = new Date(date * 1000).toISOString().replace('.000Z', 'Z');
  const older = all().filter((a) => a.issued_at < date).length;
  assert.ok(older >= 3, `${older} records before ${iso}`);

  const args = ['audit', 'prune', '--before', iso, '--batch', '1', '--database', db];
  const pruning = new Promise((resolve, reject) => {
    const p = spawn(BIN, args, { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    p.on('error', reject);
    p.on('close', (status) => resolve({ status, stdout: out, stderr: err }));
  });
  const during = await mint(newSub);
  const r = await pruning;
  assert.equal(r.status, 0, showRun(r));
  assert.equal(r.stdout, `deleted ${older} audit records issued before ${iso}\n`);
  assert.equal(during.status, 200, 'a token request during the prune is served');

  const left = all();
  assert.equal(left.filter((a) => a.issued_at < date).length, 0, 'every record before the date went');
  assert.equal(left.filter((a) => a.subject === oldSub).length, 0);
  assert.equal(left.filter((a) => a.subject === newSub).length, 3, 'the later records and the one issued meanwhile stay');

  const bad = cli(db, ['audit', 'prune', '--before', 'yesterday']);
  assert.equal(bad.status, 2, showRun(bad));
  assert.match(bad.stderr, /--before takes a UTC date/);
  const none = cliOk(db, ['audit', 'prune', '--before', iso]);
  assert.equal(none.stdout, `deleted 0 audit records issued before ${iso}\n`);
}

// ---------------------------------------------------------------------------
// YAML (a small block-style emitter; strings double-quoted JSON-style)
// ---------------------------------------------------------------------------

export function toYaml(obj) {
  const lines = [];
  const isScalar = (v) => v === null || typeof v !== 'object';
  const sc = (v) => (typeof v === 'string' ? JSON.stringify(v) : String(v));
  function map(o, ind) {
    const pad = ' '.repeat(ind);
    for (const [k, v] of Object.entries(o)) {
      if (v === undefined) continue;
      if (isScalar(v)) lines.push(`${pad}${k}: ${sc(v)}`);
      else if (Array.isArray(v)) {
        if (v.length === 0) lines.push(`${pad}${k}: []`);
        else { lines.push(`${pad}${k}:`); seq(v, ind + 2); }
      } else { lines.push(`${pad}${k}:`); map(v, ind + 2); }
    }
  }
  function seq(a, ind) {
    const pad = ' '.repeat(ind);
    for (const v of a) {
      if (isScalar(v)) { lines.push(`${pad}- ${sc(v)}`); continue; }
      if (Array.isArray(v)) throw new Error('nested sequences not supported');
      const start = lines.length;
      map(v, ind + 2);
      lines[start] = `${pad}- ${lines[start].slice(ind + 2)}`;
    }
  }
  map(obj, 0);
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------------------
// The server process
// ---------------------------------------------------------------------------

/**
 * Spawn `roomkey serve [--config FILE]` (bin: another binary than
 * ROOMKEY_BIN) with a clean env + `env`, wait for the
 * single "listening on http://HOST:PORT" line on stdout. Returns a handle:
 * {proc, base, port, stdout(), stderr(), stop()}.
 *
 * Rate limiting is switched off (ROOMKEY_RATE_LIMIT=off) unless `env` names
 * ROOMKEY_RATE_LIMIT itself (null: unset, so the YAML/defaults apply): the
 * suites send bursts from one IP and subject far above production limits.
 */
export function startServer({ env = {}, configPath, args = [], readyTimeoutMs = 15_000, bin = BIN } = {}) {
  const argv = ['serve', ...(configPath ? ['--config', configPath] : []), ...args];
  const limits = 'ROOMKEY_RATE_LIMIT' in env ? {} : { ROOMKEY_RATE_LIMIT: 'off' };
  const proc = spawn(bin, argv, { env: cleanEnv({ ...limits, ...env }), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (d) => { err += d; });
  const handle = {
    proc,
    base: null,
    port: null,
    stdout: () => out,
    stderr: () => err,
    alive: () => proc.exitCode === null && proc.signalCode === null,
    async stop() {
      if (proc.exitCode !== null || proc.signalCode !== null) return { code: proc.exitCode, signal: proc.signalCode };
      const exited = new Promise((r) => proc.once('exit', (code, signal) => r({ code, signal })));
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      const res = await exited;
      clearTimeout(t);
      return res;
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`roomkey serve did not print "listening on" within ${readyTimeoutMs} ms\nstdout=${out}\nstderr=${err.slice(0, 4000)}`));
    }, readyTimeoutMs);
    const onExit = (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`roomkey serve exited before ready (code=${code} signal=${signal})\nstdout=${out}\nstderr=${err.slice(0, 4000)}`));
    };
    proc.once('exit', onExit);
    proc.once('error', (e) => { clearTimeout(timer); reject(e); });
    proc.stdout.on('data', (d) => {
      out += d;
      if (handle.base) return;
      const m = /^listening on (http:\/\/(127\.0\.0\.1|\[::1\]|[^\s:]+):(\d+))\n/m.exec(out);
      if (m) {
        clearTimeout(timer);
        proc.off('exit', onExit);
        handle.base = m[1];
        handle.port = Number(m[3]);
        watchServer(handle.base);
        resolve(handle);
      }
    });
  });
}

const SANITIZER = /ERROR: (Address|Leak|Thread|Memory)Sanitizer|runtime error:|SUMMARY: \w+Sanitizer/;

/** Stop a server (SIGTERM) and fail on sanitizer reports in its stderr (ASan builds). */
export async function stopChecked(srv) {
  if (!srv) return undefined;
  const res = await srv.stop();
  const err = srv.stderr();
  const m = SANITIZER.exec(err);
  if (m) throw new Error(`sanitizer report in roomkey's stderr:\n${err.slice(Math.max(0, m.index - 200), m.index + 4000)}`);
  return res;
}

// ---------------------------------------------------------------------------
// JWKS over loopback HTTP
// ---------------------------------------------------------------------------

/** Serve {keys} at /jwks.json on 127.0.0.1:0; counts requests. */
export async function startJwks(keys) {
  const state = { keys, count: 0 };
  const server = http.createServer((req, res) => {
    state.count += 1;
    if (req.url !== '/jwks.json') { res.writeHead(404).end(); return; }
    const body = JSON.stringify({ keys: state.keys });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}/jwks.json`,
    get count() { return state.count; },
    setKeys(k) { state.keys = k; },
    close: () => new Promise((r) => { server.closeAllConnections?.(); server.close(() => r()); }),
  };
}

/** A signing key pair + its public JWK (kid, alg, use set). */
export async function makeKey(alg, kid) {
  const { publicKey, privateKey } = await jose.generateKeyPair(alg, { extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, publicKey, privateKey, jwk };
}

/**
 * Sign a session JWT with jose. claims are used as-is (set iat/exp yourself
 * or use the defaults below); undefined values are dropped.
 */
export async function signJwt({ alg, key, kid, claims, header = {} }) {
  const payload = Object.fromEntries(Object.entries(claims).filter(([, v]) => v !== undefined));
  const k = typeof key === 'string' ? enc.encode(key) : key;
  return new jose.SignJWT(payload).setProtectedHeader({ alg, typ: 'JWT', ...(kid ? { kid } : {}), ...header }).sign(k);
}

/** Default session claims: iat now, exp +10 min, random jti. */
export function sessionClaims(over = {}) {
  const t = nowSec();
  return { iat: t, exp: t + 600, jti: rand(8), ...over };
}

// ---------------------------------------------------------------------------
// HTTP
// ---------------------------------------------------------------------------

// How long one request may take before the test gives up on it: generous,
// because these machines are shared (a request that waits on a database
// restart under a load average of 15+ has taken over 10 s); a hang still
// fails the test, never a slow answer.
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * One HTTP request with fetch. body: object (JSON-encoded), string (raw) or
 * Uint8Array (raw, no content-type added). headers: content-type defaults to
 * application/json when a body is given; pass 'content-type': null to omit.
 */
export async function request(srv, method, p, { body, headers = {} } = {}) {
  const h = {};
  let raw;
  if (body !== undefined) {
    if (body instanceof Uint8Array) raw = body;
    else if (typeof body === 'string') raw = body;
    else raw = JSON.stringify(body);
    if (!(body instanceof Uint8Array)) h['content-type'] = 'application/json';
  }
  for (const [k, v] of Object.entries(headers)) {
    const lk = k.toLowerCase();
    if (v === null) delete h[lk];
    else h[lk] = v;
  }
  if (raw !== undefined && typeof raw === 'string' && h['content-type'] === undefined) {
    // fetch would add text/plain for a string body; send bytes instead.
    raw = Buffer.from(raw);
  }
  const t0 = nowSec();
  const res = await fetch(srv.base + p, { method, headers: h, body: raw, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
  const text = await res.text();
  const t1 = nowSec();
  let json;
  try { json = JSON.parse(text); } catch { json = undefined; }
  return { status: res.status, headers: res.headers, text, json, t0, t1, req: `${method} ${p} body=${typeof raw === 'string' ? raw.slice(0, 300) : (raw ? `<${raw.length} bytes>` : '')}` };
}

export const bearer = (t) => ({ authorization: `Bearer ${t}` });

/** POST /api/livekit/token */
export function postToken(srv, body, headers = {}) {
  return request(srv, 'POST', '/api/livekit/token', { body, headers });
}

export function showRes(r) {
  return `${r.req} -> ${r.status} ${r.text.slice(0, 1000)}`;
}

/** Assert the NestJS error shape {statusCode, message, error}. */
export function assertError(r, status, message) {
  assert.equal(r.status, status, `expected ${status}: ${showRes(r)}`);
  assert.ok(r.json && typeof r.json === 'object' && !Array.isArray(r.json), `error body is not a JSON object: ${showRes(r)}`);
  assert.deepEqual(Object.keys(r.json).sort(), ['error', 'message', 'statusCode'], `error keys: ${showRes(r)}`);
  assert.equal(r.json.statusCode, status, `statusCode field: ${showRes(r)}`);
  assert.equal(r.json.error, REASON[status], `error field: ${showRes(r)}`);
  assert.ok(typeof r.json.message === 'string' || (Array.isArray(r.json.message) && r.json.message.every((m) => typeof m === 'string')),
    `message must be a string or list of strings: ${showRes(r)}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/, `content-type: ${showRes(r)}`);
  if (message !== undefined) assert.equal(r.json.message, message, `message: ${showRes(r)}`);
  return r.json;
}

export const UNAUTHORIZED = { statusCode: 401, message: 'Unauthorized', error: 'Unauthorized' };

export function assert401(r) {
  assert.equal(r.status, 401, `expected 401: ${showRes(r)}`);
  assert.deepEqual(r.json, UNAUTHORIZED, `401 body: ${showRes(r)}`);
}

/** Assert a 400 whose message is a list containing every `expected` string. */
export function assert400List(r, ...expected) {
  assertError(r, 400);
  assert.ok(Array.isArray(r.json.message), `400 validation message must be a list: ${showRes(r)}`);
  for (const e of expected) {
    assert.ok(r.json.message.includes(e), `message list lacks ${JSON.stringify(e)}: ${showRes(r)}`);
  }
  return r.json.message;
}

const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * Check a 200 mint response end to end; returns the verified claims.
 * want: {key, secret, roomId, room, identity, name, role, ttl}
 */
export async function assertMint(r, want) {
  assert.equal(r.status, 200, `expected 200: ${showRes(r)}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/, `content-type: ${showRes(r)}`);
  const b = r.json;
  assert.ok(b && typeof b === 'object', `body not JSON: ${showRes(r)}`);
  assert.deepEqual(Object.keys(b).sort(), ['expiresAt', 'identity', 'name', 'roomId', 'token'], `response keys: ${showRes(r)}`);
  assert.equal(typeof b.token, 'string');
  assert.equal(b.identity, want.identity, 'identity');
  assert.equal(b.roomId, want.roomId, 'roomId echoes the request');
  assert.equal(b.name, want.name, 'name');
  assert.match(b.expiresAt, ISO_MS, 'expiresAt format');

  let claims;
  try {
    claims = await new TokenVerifier(want.key, want.secret).verify(b.token);
  } catch (e) {
    assert.fail(`TokenVerifier rejected the minted token: ${e.message}\ntoken=${b.token}`);
  }
  const header = jose.decodeProtectedHeader(b.token);
  assert.equal(header.alg, 'HS256', 'token alg');
  assert.equal(claims.iss, want.key, 'iss = LiveKit API key');
  assert.equal(claims.sub, want.identity, 'sub = identity');
  // The response's name must be the participant's name in the token; a
  // token without a name claim is accepted only when the name is the identity
  // (LiveKit clients then show the identity).
  if (claims.name !== undefined || b.name !== b.identity) assert.equal(claims.name, want.name, 'name claim');
  assert.equal(typeof claims.jti, 'string', 'jti');
  assert.ok(claims.jti.length > 0, 'jti non-empty');
  assert.equal(claims.sha256, undefined, 'no sha256 claim');
  assert.equal(typeof claims.nbf, 'number', 'nbf');
  assert.equal(typeof claims.exp, 'number', 'exp');
  assert.equal(claims.exp - claims.nbf, want.ttl, `exp - nbf = ttl (claims ${JSON.stringify(claims)})`);
  assert.ok(claims.nbf >= r.t0 - 5 && claims.nbf <= r.t1 + 5, `nbf ${claims.nbf} not ~ now [${r.t0}, ${r.t1}]`);
  assert.equal(b.expiresAt, new Date(claims.exp * 1000).toISOString(), 'expiresAt equals the token exp');

  const v = claims.video;
  assert.ok(v && typeof v === 'object', `video grant missing: ${JSON.stringify(claims)}`);
  assert.equal(v.roomJoin, true, 'video.roomJoin');
  assert.equal(v.room, want.room, 'video.room is the room NAME');
  const g = ROLE_GRANTS[want.role];
  assert.ok(g, `unknown role in test: ${want.role}`);
  for (const k of ['canPublish', 'canSubscribe', 'canPublishData']) {
    assert.equal(v[k], g[k], `video.${k} for role ${want.role} (video=${JSON.stringify(v)})`);
  }
  if (g.roomAdmin) assert.equal(v.roomAdmin, true, `video.roomAdmin for ${want.role}`);
  else assert.notEqual(v.roomAdmin, true, `video.roomAdmin must not be granted to ${want.role}`);
  return claims;
}

// ---------------------------------------------------------------------------
// Raw TCP
// ---------------------------------------------------------------------------

/** Parse an HTTP/1.x response out of a buffer (null if no header block yet). */
export function parseResponse(buf) {
  const s = buf.toString('latin1');
  const end = s.indexOf('\r\n\r\n');
  if (end < 0) return null;
  const head = s.slice(0, end).split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(head[0]);
  if (!m) return { status: null, complete: true, head: head[0] };
  const headers = {};
  for (const line of head.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
  }
  const body = s.slice(end + 4);
  let complete = false;
  if (headers['content-length'] !== undefined) complete = body.length >= Number(headers['content-length']);
  else if (/chunked/i.test(headers['transfer-encoding'] ?? '')) complete = /(^|\r\n)0\r\n\r\n$/.test(body);
  const status = Number(m[1]);
  if (status === 204 || status === 304) complete = true;
  let bodyText = body;
  if (/chunked/i.test(headers['transfer-encoding'] ?? '') && complete) {
    bodyText = '';
    let rest = body;
    for (;;) {
      const nl = rest.indexOf('\r\n');
      const n = parseInt(rest.slice(0, nl), 16);
      if (!n) break;
      bodyText += rest.slice(nl + 2, nl + 2 + n);
      rest = rest.slice(nl + 2 + n + 2);
    }
  }
  let json;
  try { json = JSON.parse(bodyText); } catch { json = undefined; }
  return { status, headers, body: bodyText, json, complete };
}

/**
 * Open a TCP connection and write `parts` in order (Buffer/string, or
 * {delay: ms}). Resolves with how it ended: 'response' (a complete response
 * was read), 'closed' (peer closed/reset), or 'timeout'.
 */
export function rawExchange(port, parts, { timeoutMs = 10_000 } = {}) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks = [];
    let done = false;
    let sockError = null;
    const t0 = Date.now();
    const finish = (how) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      const data = Buffer.concat(chunks);
      const response = parseResponse(data);
      try {
        checkRaw(parts.filter((p) => typeof p === 'string' || Buffer.isBuffer(p)).map(String).join(''), response);
      } catch (e) {
        reject(e);
        return;
      }
      resolve({ how, data, text: data.toString('latin1'), response, elapsedMs: Date.now() - t0, error: sockError });
    };
    const timer = setTimeout(() => finish('timeout'), timeoutMs);
    sock.on('data', (d) => {
      chunks.push(d);
      const p = parseResponse(Buffer.concat(chunks));
      if (p && p.complete) finish('response');
    });
    sock.on('end', () => finish('closed'));
    sock.on('close', () => finish('closed'));
    sock.on('error', (e) => { sockError = e; });
    sock.on('connect', async () => {
      for (const p of parts) {
        if (done || sock.destroyed) break;
        if (p && typeof p === 'object' && 'delay' in p) { await sleep(p.delay); continue; }
        await new Promise((r) => sock.write(p, () => r()));
      }
    });
  });
}

// ---------------------------------------------------------------------------
// Secrecy
// ---------------------------------------------------------------------------

/** Every file in dir whose name starts with prefix, concatenated (latin1). */
export function filesText(dir, prefix) {
  let s = '';
  for (const f of fs.readdirSync(dir)) {
    if (f.startsWith(prefix)) s += fs.readFileSync(path.join(dir, f)).toString('latin1');
  }
  return s;
}
