// Black-box tests of what an operator asks a running RoomKey: which build
// it is (`roomkey version`, roomkey_build_info), whether it is ready
// (`roomkey healthcheck`), and what its API is (GET /openapi.json, the
// document every suite's answers are checked against).
//
// Run:  cd tests/interop && ROOMKEY_BIN=$PWD/../../build/roomkey node --test operator.test.mjs

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { ADMIN_KEY, mintAs, opsEnv, opsServer, scrape, session, waitLog } from './ops-lib.mjs';
import { SPEC, checkResponse } from './openapi-lib.mjs';
import { BIN, cleanEnv, cliOk, request, roomCreate, showRes, showRun, startServer, stopChecked, tempDir } from './service-lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const VERSION = fs.readFileSync(path.resolve(here, '../../VERSION'), 'utf8').trim();

/** Run roomkey with args and env (async: the server under test runs in this process's loop). */
function runAsync(args, env = {}) {
  return new Promise((resolve, reject) => {
    const p = spawn(BIN, args, { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => { stdout += d; });
    p.stderr.on('data', (d) => { stderr += d; });
    p.on('error', reject);
    p.on('close', (status, signal) => resolve({ status, signal, stdout, stderr }));
  });
}

describe('roomkey version and roomkey_build_info', () => {
  let X;
  before(async () => { X = await opsServer(); });
  after(async () => { await stopChecked(X?.srv); X?.tmp.cleanup(); });

  test('`roomkey version` and `--version` print the VERSION file and a commit', async () => {
    for (const arg of ['version', '--version']) {
      const r = await runAsync([arg]);
      assert.equal(r.status, 0, showRun(r));
      assert.match(r.stdout, new RegExp(`^roomkey ${VERSION.replace(/\./g, '\\.')} \\(commit ([0-9a-f]{7,40}|unknown)\\)\\n$`), showRun(r));
    }
  });

  test('/metrics carries roomkey_build_info{version,commit} 1, the same build', async () => {
    const m = await scrape(X.srv);
    const v = await runAsync(['version']);
    const commit = /\(commit (\S+)\)/.exec(v.stdout)[1];
    assert.equal(m.get(`roomkey_build_info{version="${VERSION}",commit="${commit}"}`), 1,
      `build_info sample missing: ${[...m.keys()].filter((k) => k.startsWith('roomkey_build')).join(', ')}`);
  });
});

describe('roomkey healthcheck', () => {
  let ready;
  let notReady;
  before(async () => {
    ready = await opsServer();
    notReady = await opsServer({ env: { LIVEKIT_API_KEY: null, LIVEKIT_API_SECRET: null } });
  });
  after(async () => {
    for (const X of [ready, notReady]) { await stopChecked(X?.srv); X?.tmp.cleanup(); }
  });

  test('exits 0 when /readyz answers ready (--url and ROOMKEY_LISTEN)', async () => {
    let r = await runAsync(['healthcheck', '--url', `${ready.srv.base}/readyz`]);
    assert.equal(r.status, 0, showRun(r));
    assert.match(r.stdout, /^ready: /);
    r = await runAsync(['healthcheck'], { ROOMKEY_LISTEN: `0.0.0.0:${ready.srv.port}` });
    assert.equal(r.status, 0, `0.0.0.0 is asked on loopback: ${showRun(r)}`);
  });

  test('exits 1 naming the failing check when not ready (no LiveKit key)', async () => {
    const probe = await request(notReady.srv, 'GET', '/readyz');
    assert.equal(probe.status, 503, showRes(probe));
    const r = await runAsync(['healthcheck', `--url=${notReady.srv.base}/readyz`]);
    assert.equal(r.status, 1, showRun(r));
    assert.match(r.stderr, /not ready \(HTTP 503, status "not_ready"\).*no LiveKit API key configured/, showRun(r));
  });

  test('exits 1 when nothing answers, and 1 for an answer that is not /readyz', async () => {
    const closed = await runAsync(['healthcheck', '--url', 'http://127.0.0.1:1/readyz']);
    assert.equal(closed.status, 1, showRun(closed));
    assert.match(closed.stderr, /127\.0\.0\.1:1\/readyz: /);
    const wrong = await runAsync(['healthcheck', '--url', `${ready.srv.base}/healthz`]);
    assert.equal(wrong.status, 1, `/healthz has no readiness status: ${showRun(wrong)}`);
  });

  test('bad arguments are a usage error (exit 2)', async () => {
    for (const args of [['healthcheck', '--url'], ['healthcheck', 'extra']]) {
      const r = await runAsync(args);
      assert.equal(r.status, 2, showRun(r));
      assert.equal(r.stdout, '');
    }
    const r = await runAsync(['healthcheck'], { ROOMKEY_LISTEN: 'no-port' });
    assert.equal(r.status, 2, showRun(r));
  });
});

describe('GET /openapi.json and the response validator', () => {
  let X;
  before(async () => { X = await opsServer(); });
  after(async () => { await stopChecked(X?.srv); X?.tmp.cleanup(); });

  test('serves docs/openapi.yaml as JSON, compiled in (same document, key order included)', async () => {
    const r = await request(X.srv, 'GET', '/openapi.json');
    assert.equal(r.status, 200, showRes(r));
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(r.json.openapi, '3.1.0');
    assert.deepEqual(r.json, SPEC);
    assert.equal(JSON.stringify(r.json), JSON.stringify(SPEC), 'key order');
  });

  test('documents every route family, the probes and the admin API', () => {
    for (const p of ['/api/livekit/token', '/api/livekit/connection-info', '/api/livekit/health', '/api/token',
      '/api/livekit/token-source', '/functions/v1/livekit-token', '/functions/v1/livekit-token/release-seat',
      '/api/v1/meeting/token/{meeting_id}', '/api/v1/meeting/get/{meeting_id}', '/api/v1/meeting/status/{meeting_id}',
      '/healthz', '/readyz', '/metrics', '/openapi.json', '/admin/v1/rooms', '/admin/v1/rooms/{room}',
      '/admin/v1/rooms/{room}/members', '/admin/v1/rooms/{room}/members/{subject}', '/admin/v1/meetings',
      '/admin/v1/meetings/{meeting_id}', '/admin/v1/meetings/{meeting_id}/participants/{subject}', '/admin/v1/audit',
      '/admin/v1/status', '/console', '/console/', '/console/{file}']) {
      assert.ok(SPEC.paths[p], `${p} is not in docs/openapi.yaml`);
    }
  });

  test('the validator refuses what the document does not say', () => {
    const json = 'application/json; charset=utf-8';
    const ok = JSON.stringify({ status: 'ok' });
    assert.equal(checkResponse('GET', '/healthz', 200, json, ok), '');
    assert.match(checkResponse('GET', '/healthz', 201, json, ok), /status 201 is not documented/);
    assert.match(checkResponse('GET', '/healthz', 200, json, JSON.stringify({ status: 'ok', extra: 1 })), /additional properties/);
    assert.match(checkResponse('GET', '/healthz', 200, 'text/plain', 'ok'), /content-type/);
    assert.match(checkResponse('GET', '/no-such-path', 200, json, ok), /undocumented path/);
    assert.match(checkResponse('POST', '/api/livekit/token', 401, json, JSON.stringify({ error: 'x' })), /required property/);
    assert.equal(checkResponse('DELETE', '/api/token', 405, json, JSON.stringify({ statusCode: 405,
      errorCode: 'METHOD_NOT_ALLOWED', message: 'Method DELETE not allowed', timestamp: '2026-01-01T00:00:00.000Z' })), '');
    assert.match(checkResponse('DELETE', '/api/token', 405, json, JSON.stringify({ statusCode: 405, message: 'x', error: 'y' })),
      /required property 'errorCode'/, 'a 405 comes in the path\'s own family shape');
    assert.match(checkResponse('DELETE', '/api/token', 200, json, '{}'), /DELETE is not documented/);
  });
});

describe('the Grafana dashboard (deploy/grafana/roomkey.json)', () => {
  const dash = JSON.parse(fs.readFileSync(path.resolve(here, '../../deploy/grafana/roomkey.json'), 'utf8'));
  /** Every PromQL expression of the dashboard: panel targets and template queries. */
  const exprs = [
    ...dash.panels.flatMap((p) => p.targets.map((t) => t.expr)),
    ...dash.templating.list.filter((v) => v.type === 'query').map((v) => v.definition),
  ];
  const used = [...new Set(exprs.flatMap((e) => e.match(/\broomkey_[a-z_]+/g) ?? []))].sort();
  let X;
  before(async () => { X = await opsServer(); });
  after(async () => { await stopChecked(X?.srv); X?.tmp.cleanup(); });

  test('covers requests, latency, tokens, auth failures, rate limiting and JWKS fetches', () => {
    for (const name of ['roomkey_http_requests_total', 'roomkey_http_request_duration_seconds_bucket',
      'roomkey_tokens_issued_total', 'roomkey_auth_failures_total', 'roomkey_rate_limited_total',
      'roomkey_jwks_fetches_total']) {
      assert.ok(used.includes(name), `the dashboard does not use ${name}: ${used.join(', ')}`);
    }
    const titles = dash.panels.map((p) => p.title).join(' | ');
    assert.match(titles, /by route/);
    assert.match(titles, /family and role/);
    assert.match(titles, /by reason/);
  });

  test('every metric name it uses is on /metrics of a running instance', async () => {
    roomCreate(X.db, 'dash-room', { mode: 'authenticated' });
    const ok = await mintAs(X.srv, 'dash-user', 'dash-room');
    assert.equal(ok.status, 200, showRes(ok));
    const bad = await request(X.srv, 'POST', '/api/livekit/token', { body: { roomId: 'dash-room' } });
    assert.equal(bad.status, 401, showRes(bad));
    const names = new Set([...(await scrape(X.srv)).keys()].map((k) => k.replace(/\{.*$/, '')));
    for (const name of used) assert.ok(names.has(name), `${name} (used by the dashboard) is not on /metrics`);
  });
});

describe('a database in a folder that is not there', () => {
  test('the store commands and serve name the missing folder (not just "unable to open")', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'roomkey-nodir-'));
    try {
      const db = path.join(dir, 'missing', 'rk.db');
      const r = await runAsync(['room', 'list', '--database', db]);
      assert.equal(r.status, 1, showRun(r));
      assert.match(r.stderr, new RegExp(`the folder ${path.join(dir, 'missing').replace(/[.*+?^$()|[\]\\]/g, '\\$&')} does not exist`), showRun(r));
      const s = await runAsync(['serve'], { ROOMKEY_DATABASE: db, ROOMKEY_LISTEN: '127.0.0.1:0' });
      assert.notEqual(s.status, 0, showRun(s));
      assert.match(s.stderr, /does not exist: create it first \(mkdir -p /, showRun(s));
      assert.equal(fs.existsSync(path.join(dir, 'missing')), false, 'nothing is created');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('route families an env-only set-up serves', () => {
  const admin = (srv, p) => request(srv, 'GET', p, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  /** Every family's token route, with a body that reaches the family. */
  const TOKEN_ROUTES = {
    livekit: ['POST', '/api/livekit/token', { roomId: 'general' }],
    voice_agent: ['POST', '/api/token', { roomName: 'general', participantIdentity: 'user-42' }],
    token_source: ['POST', '/api/livekit/token-source', { room_name: 'general', participant_identity: 'user-42' }],
    supabase: ['POST', '/functions/v1/livekit-token', { roomType: 'audition' }],
    meetings: ['GET', '/api/v1/meeting/token/m1', undefined],
  };
  /** Which families srv (its database db) answers on: anything but 404 from
   * its token route, with the room and meeting asked for in the store. */
  async function answering(srv, db) {
    roomCreate(db, 'general', { mode: 'authenticated' });
    cliOk(db, ['meeting', 'create', 'm1', '--creator', 'user-42', '--heading', 'Stand-up']);
    const jwt = await session('user-42');
    const out = {};
    for (const [name, [method, p, body]] of Object.entries(TOKEN_ROUTES)) {
      const r = await request(srv, method, p, { body, headers: { authorization: `Bearer ${jwt}` } });
      out[name] = r.status !== 404;
    }
    return out;
  }

  test('by default: every family but supabase (no room types); no supabase room is created', async () => {
    const X = await opsServer();
    try {
      assert.deepEqual(await answering(X.srv, X.db), { livekit: true, voice_agent: true, token_source: true, supabase: false, meetings: true });
      const r = await mintAs(X.srv, 'user-42', 'general');
      assert.equal(r.status, 200, showRes(r));
      assert.equal((await admin(X.srv, '/admin/v1/status')).json.families.supabase, false);
      const rooms = await admin(X.srv, '/admin/v1/rooms');
      assert.deepEqual(rooms.json.rooms.map((x) => x.name), ['general', 'meeting-m1'], 'no audition-room, no main-show');
    } finally { await stopChecked(X.srv); X.tmp.cleanup(); }
  });

  test('ROOMKEY_FAMILIES=livekit,voice_agent serves exactly those; the others answer 404', async () => {
    const X = await opsServer({ env: { ROOMKEY_FAMILIES: 'livekit,voice_agent' } });
    try {
      assert.deepEqual(await answering(X.srv, X.db), { livekit: true, voice_agent: true, token_source: false, supabase: false, meetings: false });
      const line = await waitLog(X.srv, 'families');
      assert.deepEqual([line.served, line.off], ['livekit, voice_agent',
        'token_source, supabase (not configured: set supabase.room_types), meetings']);
    } finally { await stopChecked(X.srv); X.tmp.cleanup(); }
  });

  test('ROOMKEY_FAMILIES replaces `families:`, and supabase is served once it has room types', async () => {
    const yaml = { families: { livekit: false }, supabase: { room_types: { audition: { room: 'audition-room' } } } };
    const X = await opsServer({ yaml, env: { ROOMKEY_FAMILIES: 'livekit, supabase' } });
    try {
      assert.deepEqual(await answering(X.srv, X.db), { livekit: true, voice_agent: false, token_source: false, supabase: true, meetings: false });
    } finally { await stopChecked(X.srv); X.tmp.cleanup(); }
  });

  test('an unknown family, or supabase without room types, is refused at start naming the variable', async () => {
    for (const [value, re] of [
      ['livekit,zoom', /env: ROOMKEY_FAMILIES: no route family named "zoom" \(known: livekit, voice_agent, token_source, supabase, meetings\)/],
      ['supabase', /env: ROOMKEY_FAMILIES names supabase, but the supabase family is not configured: set supabase\.room_types/],
    ]) {
      const T = tempDir();
      try {
        const r = await runAsync(['serve'], opsEnv(path.join(T.dir, 'rk.db'), { ROOMKEY_FAMILIES: value }));
        assert.equal(r.status, 1, showRun(r));
        assert.match(r.stderr, re, showRun(r));
        const c = await runAsync(['check-config'], { ROOMKEY_FAMILIES: value });
        assert.equal(c.status, 1, showRun(c));
        assert.match(c.stderr, re, showRun(c));
      } finally { T.cleanup(); }
    }
  });
});

// What a configuration needs to issue tokens (besides the LiveKit URL).
const USABLE = { LIVEKIT_API_KEY: 'APIx', LIVEKIT_API_SECRET: 'x'.repeat(40), ROOMKEY_SESSION_SECRET: 'y'.repeat(40) };

describe('messages a newcomer meets', () => {
  test('check-config with nothing set says what is missing and exits 1: no token could be issued', async () => {
    const r = await runAsync(['check-config']);
    assert.equal(r.status, 1, showRun(r));
    assert.equal(r.stdout, '', 'no "config ok"');
    assert.equal(r.stderr, [
      'roomkey: the configuration is valid, but it can issue no token:',
      '  no LiveKit API key: every token request fails until LIVEKIT_API_KEY and LIVEKIT_API_SECRET (or livekit.api_key and livekit.api_secret) are set',
      '  no session issuer and no API key: every caller is refused (401); set ROOMKEY_SESSION_SECRET (or issuers:, api_keys:)',
      'roomkey: warning: no LiveKit URL: token_source, meetings answer 500 until LIVEKIT_URL (or livekit.url), the server clients connect to, is set',
      ''].join('\n'));
    const ok = await runAsync(['check-config'], { ...USABLE, LIVEKIT_URL: 'wss://lk.test' });
    assert.equal(ok.status, 0, showRun(ok));
    assert.equal(ok.stderr, '', 'a usable config gets no warning');
    assert.equal(ok.stdout, ['config ok: 1 issuer(s), 0 API key(s), 3 role(s), 0 room(s) seeded, 1 LiveKit key(s)',
      'families served: livekit, voice_agent, token_source, meetings',
      'families not served: supabase (not configured: set supabase.room_types)', ''].join('\n'));
  });

  test('check-config: each gap alone; 0 while some route can still issue a token', async () => {
    const T = tempDir();
    const check = async (env, yaml) => {
      let file;
      if (yaml) { file = path.join(T.dir, `c${Math.random().toString(36).slice(2)}.yaml`); fs.writeFileSync(file, yaml); }
      return runAsync(['check-config', ...(file ? ['--config', file] : [])], env);
    };
    try {
      const noKey = await check({ ROOMKEY_SESSION_SECRET: USABLE.ROOMKEY_SESSION_SECRET, LIVEKIT_URL: 'wss://lk.test' });
      assert.equal(noKey.status, 1, showRun(noKey));
      assert.match(noKey.stderr, /can issue no token:\n {2}no LiveKit API key: [^\n]*\n$/);
      const noCaller = await check({ LIVEKIT_API_KEY: 'APIx', LIVEKIT_API_SECRET: USABLE.LIVEKIT_API_SECRET, LIVEKIT_URL: 'wss://lk.test' });
      assert.equal(noCaller.status, 1, showRun(noCaller));
      assert.match(noCaller.stderr, /can issue no token:\n {2}no session issuer and no API key: every caller is refused \(401\)[^\n]*\n$/);
      // callers without credentials get tokens in voice_agent's anonymous rooms: usable without an issuer
      const anon = await check({ LIVEKIT_API_KEY: 'APIx', LIVEKIT_API_SECRET: USABLE.LIVEKIT_API_SECRET, LIVEKIT_URL: 'wss://lk.test' },
        'voice_agent: { anonymous_rooms: [kiosk] }\n');
      assert.equal(anon.status, 0, showRun(anon));
      const apiKey = await check({ LIVEKIT_API_KEY: 'APIx', LIVEKIT_API_SECRET: USABLE.LIVEKIT_API_SECRET, LIVEKIT_URL: 'wss://lk.test' },
        `api_keys: [{ id: backend, key: ${'k'.repeat(40)} }]\n`);
      assert.equal(apiKey.status, 0, showRun(apiKey));
      assert.match(apiKey.stdout, /^config ok: 0 issuer\(s\), 1 API key\(s\), /);
      // no URL: a warning while a family that does not need it is served, a gap when every one needs it
      const urlSome = await check(USABLE);
      assert.equal(urlSome.status, 0, showRun(urlSome));
      assert.match(urlSome.stderr, /^roomkey: warning: no LiveKit URL: token_source, meetings answer 500 until LIVEKIT_URL/);
      const urlAll = await check({ ...USABLE, ROOMKEY_FAMILIES: 'token_source,meetings' });
      assert.equal(urlAll.status, 1, showRun(urlAll));
      assert.match(urlAll.stderr, /can issue no token:\n {2}no LiveKit URL: every route family served \(token_source, meetings\) answers with it; set LIVEKIT_URL/);
      const none = await check({ ...USABLE, LIVEKIT_URL: 'wss://lk.test' },
        'families: { livekit: false, voice_agent: false, token_source: false, meetings: false }\n');
      assert.equal(none.status, 1, showRun(none));
      assert.match(none.stderr, /can issue no token:\n {2}no route family is served: see families: or ROOMKEY_FAMILIES\n$/);
    } finally { T.cleanup(); }
  });

  test('the reloaded log line names the file read, also when it came from ROOMKEY_CONFIG', async () => {
    const T = tempDir();
    let srv;
    try {
      const file = path.join(T.dir, 'rk.yaml');
      fs.writeFileSync(file, 'shutdown_timeout: 5s\n');
      srv = await startServer({ env: { ...opsEnv(path.join(T.dir, 'rk.db')), ROOMKEY_CONFIG: file } });
      srv.proc.kill('SIGHUP');
      const line = await waitLog(srv, 'reloaded');
      assert.equal(line.config, file);
    } finally {
      await stopChecked(srv);
      T.cleanup();
    }
  });

  test('token create with a key but no secret names the missing secret', async () => {
    const r = await runAsync(['token', 'create', '--join', '--room', 'r', '--identity', 'a'], { LIVEKIT_API_KEY: 'devkey' });
    assert.equal(r.status, 1, showRun(r));
    assert.match(r.stderr, /LIVEKIT_API_KEY is set but LIVEKIT_API_SECRET is not/, showRun(r));
    const s = await runAsync(['token', 'create', '--join', '--room', 'r', '--identity', 'a'], { LIVEKIT_API_SECRET: 'x'.repeat(40) });
    assert.match(s.stderr, /LIVEKIT_API_SECRET is set but LIVEKIT_API_KEY is not/, showRun(s));
  });

  test('a short secret names the --dev flag and dev_mode, and `livekit-server --dev`\'s pair works with --dev', async () => {
    const env = { LIVEKIT_API_KEY: 'devkey', LIVEKIT_API_SECRET: 'secret' };
    const r = await runAsync(['token', 'create', '--join', '--room', 'r', '--identity', 'a'], env);
    assert.equal(r.status, 1, showRun(r));
    assert.match(r.stderr, /6 bytes; at least 32 are required \(for development only: the --dev flag, or dev_mode: true/, showRun(r));
    const sess = await runAsync(['check-config'], { ROOMKEY_SESSION_SECRET: 'short' });
    assert.equal(sess.status, 1, showRun(sess));
    assert.match(sess.stderr, /ROOMKEY_SESSION_SECRET is 5 bytes; at least 32 are required \(for development only: ROOMKEY_DEV_MODE=1 or dev_mode: true/, showRun(sess));
    const ok = await runAsync(['token', 'create', '--dev', '--join', '--room', 'r', '--identity', 'a', '--token-only'], env);
    assert.equal(ok.status, 0, showRun(ok));
    const { TokenVerifier } = await import('livekit-server-sdk');
    const claims = await new TokenVerifier('devkey', 'secret').verify(ok.stdout.trim());
    assert.equal(claims.sub, 'a');
  });

  test('config/dev.yaml (make run) uses livekit-server --dev\'s devkey / secret', () => {
    const dev = fs.readFileSync(path.resolve(here, '../../config/dev.yaml'), 'utf8');
    assert.match(dev, /^\s+api_key: devkey\b/m);
    assert.match(dev, /^\s+api_secret: secret\b/m);
    assert.match(dev, /^dev_mode: true$/m);
  });
});
