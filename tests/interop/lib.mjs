// Helpers for the roomkey black-box interop tests (cli.test.mjs).
//
// Everything here talks to the roomkey binary only through its command line
// (spawnSync, no shell) and forges JWTs with node:crypto, so the tests depend
// on nothing but the documented CLI contract.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHmac, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** Absolute path of the binary under test: $ROOMKEY_BIN or ../../build/roomkey. */
export const BIN = process.env.ROOMKEY_BIN
  ? path.resolve(process.env.ROOMKEY_BIN)
  : path.resolve(here, '../../build/roomkey');

/** Default key pair used by most tests (secret is >= 32 bytes). */
export const KEY = 'APIinteropTestKey';
export const SECRET = 'interop-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

/** The environment for the child: ours, minus any LIVEKIT_* that would leak in. */
function baseEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) {
    if (k.startsWith('LIVEKIT_')) delete env[k];
  }
  return env;
}

/**
 * Run roomkey with the given argv (no shell). Returns {status, stdout, stderr}.
 * opts.env is merged over a LIVEKIT_*-free copy of process.env;
 * opts.input is fed on stdin.
 */
export function run(args, opts = {}) {
  const r = spawnSync(BIN, args, {
    env: { ...baseEnv(), ...(opts.env ?? {}) },
    input: opts.input ?? '',
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 30_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

/** Run an arbitrary program (no shell) - used for the python3 exec trampoline. */
export function runProgram(file, args, opts = {}) {
  const r = spawnSync(file, args, {
    env: { ...baseEnv(), ...(opts.env ?? {}) },
    input: opts.input ?? '',
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    timeout: 30_000,
  });
  if (r.error) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr };
}

export const keyArgs = (key = KEY, secret = SECRET) => ['--api-key', key, '--api-secret', secret];

/** Format a failed run for assertion messages. */
export function show(r) {
  return `exit=${r.status} signal=${r.signal}\nstdout=${JSON.stringify(r.stdout).slice(0, 2000)}\nstderr=${JSON.stringify(r.stderr).slice(0, 2000)}`;
}

/** `roomkey token create <keys> <args> --token-only`; asserts success, returns the JWT. */
export function createToken(args, opts = {}) {
  const keys = opts.noKeys ? [] : keyArgs(opts.key ?? KEY, opts.secret ?? SECRET);
  const r = run(['token', 'create', ...keys, ...args, '--token-only'], opts);
  assert.equal(r.status, 0, `token create failed: ${show(r)}`);
  assert.match(r.stdout, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\n$/, `not a single JWT line: ${show(r)}`);
  return r.stdout.trimEnd();
}

/** `roomkey token create ...` without --token-only; returns the raw run. */
export function create(args, opts = {}) {
  const keys = opts.noKeys ? [] : keyArgs(opts.key ?? KEY, opts.secret ?? SECRET);
  return run(['token', 'create', ...keys, ...args], opts);
}

/** `roomkey token verify <keys?> <extra> TOKEN`. */
export function verify(token, opts = {}) {
  const keys = opts.noKeys ? [] : keyArgs(opts.key ?? KEY, opts.secret ?? SECRET);
  return run(['token', 'verify', ...keys, ...(opts.args ?? []), token], opts);
}

/** Assert a verify run accepted the token; returns the printed claims. */
export function assertAccepted(r) {
  assert.equal(r.status, 0, `expected token to be accepted: ${show(r)}`);
  let claims;
  assert.doesNotThrow(() => { claims = JSON.parse(r.stdout); }, `verify stdout is not JSON: ${show(r)}`);
  return claims;
}

/** Assert a verify run rejected the token the documented way. */
export function assertRejected(r, what = '') {
  assert.equal(r.status, 1, `expected rejection (exit 1) ${what}: ${show(r)}`);
  assert.equal(r.stdout, '', `rejected token must print nothing on stdout ${what}: ${show(r)}`);
  assert.match(r.stderr, /roomkey: token rejected: \S/, `missing rejection reason ${what}: ${show(r)}`);
}

/** Assert a usage error: exit 2, nothing on stdout, a message on stderr. */
export function assertUsageError(r, what = '') {
  assert.equal(r.status, 2, `expected usage error (exit 2) ${what}: ${show(r)}`);
  assert.equal(r.stdout, '', `usage error must print nothing on stdout ${what}: ${show(r)}`);
  assert.ok(r.stderr.trim().length > 0, `usage error must explain itself on stderr ${what}: ${show(r)}`);
}

export const nowSec = () => Math.floor(Date.now() / 1000);

export const b64u = (data) => Buffer.from(data).toString('base64url');

/** Decode one base64url JWT segment as JSON. */
export function segJson(seg) {
  return JSON.parse(Buffer.from(seg, 'base64url').toString('utf8'));
}

/** HMAC of `${h}.${p}` as base64url (canonical, unpadded). */
export function hmacSig(signingInput, secret = SECRET, hash = 'sha256') {
  return createHmac(hash, secret).update(signingInput).digest('base64url');
}

/**
 * Forge a compact JWS. header/payload may be objects (JSON-encoded) or raw
 * JSON text (strings, used verbatim so duplicates and odd layouts survive).
 * The signature is a correct HMAC over the exact segments produced.
 */
export function forge({ header = { alg: 'HS256', typ: 'JWT' }, payload, secret = SECRET, hash = 'sha256' }) {
  const h = b64u(typeof header === 'string' ? header : JSON.stringify(header));
  const p = b64u(typeof payload === 'string' ? payload : JSON.stringify(payload));
  return `${h}.${p}.${hmacSig(`${h}.${p}`, secret, hash)}`;
}

/** Re-sign already-encoded (possibly non-canonical) header/payload segments. */
export function signSegments(h, p, secret = SECRET, hash = 'sha256') {
  return `${h}.${p}.${hmacSig(`${h}.${p}`, secret, hash)}`;
}

/** A valid claims set for the default key, overridable. */
export function baseClaims(over = {}) {
  const t = nowSec();
  return {
    iss: KEY,
    sub: 'alice',
    iat: t,
    nbf: t,
    exp: t + 600,
    jti: randomBytes(16).toString('base64url'),
    video: { roomJoin: true, room: 'room1' },
    ...over,
  };
}

export const B64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** A fresh temporary directory, removed by the returned cleanup function. */
export function tempDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomkey-interop-'));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

