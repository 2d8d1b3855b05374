// Helpers for the operations suites (ops.test.mjs, admin.test.mjs): an
// env-only server set-up, the structured log, /metrics parsing, and raw TCP
// requests that can be held half-sent (to have requests in flight at a
// chosen moment).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';

import { TokenVerifier } from 'livekit-server-sdk';

import { checkRaw } from './openapi-lib.mjs';
import {
  bearer,
  parseResponse,
  postToken,
  rand,
  request,
  sessionClaims,
  showRes,
  signJwt,
  sleep,
  startServer,
  tempDir,
  toYaml,
} from './service-lib.mjs';

export const LK_KEY = 'APIopsTestKey';
export const LK_SECRET = `ops-lk-secret-${rand(20)}`;
export const SESSION_SECRET = `ops-session-secret-${rand(20)}`;
export const ADMIN_KEY = `rk_admin_${rand(20)}`;

/** Env-only configuration (no YAML) of a server on an ephemeral port. */
export function opsEnv(db, extra = {}) {
  return {
    LIVEKIT_API_KEY: LK_KEY,
    LIVEKIT_API_SECRET: LK_SECRET,
    LIVEKIT_URL: 'wss://lk.ops.test',
    ROOMKEY_SESSION_SECRET: SESSION_SECRET,
    ROOMKEY_DATABASE: db,
    ROOMKEY_LISTEN: '127.0.0.1:0',
    ROOMKEY_ADMIN_KEY: ADMIN_KEY,
    ...extra,
  };
}

/**
 * A temp dir with a database (rk.db) and, when yaml is given, a config file
 * (rk.yaml) written from it; a server started with both and opsEnv + env.
 */
export async function opsServer({ env = {}, yaml } = {}) {
  const tmp = tempDir();
  const db = path.join(tmp.dir, 'rk.db');
  const configPath = yaml ? path.join(tmp.dir, 'rk.yaml') : undefined;
  if (yaml) fs.writeFileSync(configPath, toYaml(yaml));
  try {
    const srv = await startServer({ configPath, env: opsEnv(db, env) });
    return { tmp, db, srv, configPath };
  } catch (e) {
    tmp.cleanup();
    throw e;
  }
}

/** Wait until the server has n requests in flight (its gauge; the scrape itself included). */
export function waitInFlight(srv, n) {
  return waitFor(async () => val(await scrape(srv), 'roomkey_http_requests_in_flight') >= n + 1, `${n} requests in flight`);
}

/** A session JWT of the env issuer for sub. */
export function session(sub, extra = {}) {
  return signJwt({ alg: 'HS256', key: SESSION_SECRET, claims: sessionClaims({ sub, ...extra }) });
}

/** POST /api/livekit/token for sub in room; returns the response. */
export async function mintAs(srv, sub, roomId, headers = {}) {
  return postToken(srv, { roomId }, { ...bearer(await session(sub)), ...headers });
}

/** Verify a minted token with livekit-server-sdk (secret defaults to LK_SECRET). */
export function verifyToken(token, secret = LK_SECRET, key = LK_KEY) {
  return new TokenVerifier(key, secret).verify(token);
}

/** The server's JSON log lines (stderr), parsed; non-JSON lines fail the test. */
export function logLines(srv) {
  return srv.stderr().split('\n').filter(Boolean).map((l) => {
    try {
      return JSON.parse(l);
    } catch {
      assert.fail(`log line is not JSON: ${l.slice(0, 300)}`);
    }
    return undefined;
  });
}

/** Poll fn until it returns a truthy value (liveness only: generous limit). */
export async function waitFor(fn, what, timeoutMs = 15_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
}

/**
 * Wait for the request log line of response r (by its X-Request-Id): the
 * server writes request lines in batches, at most 100 ms late.
 */
export function waitRequestLine(srv, r) {
  const id = r.headers.get('x-request-id');
  assert.ok(id, 'X-Request-Id header');
  return waitFor(() => logLines(srv).find((l) => l.event === 'request' && l.request_id === id), `the log line of request ${id}`);
}

/** Wait until `n` request log lines match pred; returns them. */
export function waitRequestLines(srv, n, pred) {
  return waitFor(() => {
    const lines = logLines(srv).filter((l) => l.event === 'request' && pred(l));
    return lines.length >= n && lines;
  }, `${n} request log lines`);
}

/** Wait for a log line with this event (after `skip` such lines). */
export function waitLog(srv, event, skip = 0) {
  return waitFor(() => logLines(srv).filter((l) => l.event === event)[skip], `log event ${event}`);
}

/**
 * GET /metrics parsed: a Map from `name{label="v",...}` (labels as sent)
 * to its number; also checks every sample line's syntax.
 */
export async function scrape(srv) {
  const r = await request(srv, 'GET', '/metrics');
  assert.equal(r.status, 200, showRes(r));
  assert.match(r.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
  const m = new Map();
  for (const line of r.text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const mm = /^([a-z_]+(?:\{[^}]*\})?) ([0-9.e+-]+)$/.exec(line);
    assert.ok(mm, `bad metrics line: ${line}`);
    m.set(mm[1], Number(mm[2]));
  }
  return m;
}

/** A sample's value (0 when absent). */
export const val = (m, key) => m.get(key) ?? 0;

/**
 * Open a TCP connection and send `head` (request line + headers) and the
 * first `sent` bytes of body; resolves once connected and written. Returns
 * {finish(): Promise<response>} which sends the rest and reads the response.
 */
export function partialRequest(port, head, body, sent) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks = [];
    let onData = null;
    sock.on('data', (d) => { chunks.push(d); onData?.(); });
    sock.on('error', (e) => { if (!onData) reject(e); });
    sock.on('connect', () => {
      sock.write(head + body.slice(0, sent), () => resolve({
        sock,
        finish: () => new Promise((res, rej) => {
          const done = (how) => {
            sock.destroy();
            const response = parseResponse(Buffer.concat(chunks));
            try {
              checkRaw(head + body, response);
            } catch (e) {
              rej(e);
              return;
            }
            res({ how, response });
          };
          onData = () => {
            const p = parseResponse(Buffer.concat(chunks));
            if (p && p.complete) done('response');
          };
          sock.on('close', () => done('closed'));
          sock.write(body.slice(sent));
          onData();
        }),
      }));
    });
  });
}

/** The head of a POST /api/livekit/token with a JSON body of len bytes. */
export function tokenHead(jwt, len, extra = '') {
  return `POST /api/livekit/token HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${jwt}\r\n` +
    `Content-Type: application/json\r\nContent-Length: ${len}\r\n${extra}\r\n`;
}

/** Whether a TCP connect to port succeeds. */
export function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    s.on('connect', () => { s.destroy(); resolve(true); });
    s.on('error', () => resolve(false));
  });
}

/** The process's resident set size in KiB (Linux /proc). */
export function rssKiB(pid) {
  const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m[1]);
}
