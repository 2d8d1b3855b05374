// Black-box tests of what an operator relies on (issue 6): rate limits
// (per IP and per subject, 429 + Retry-After in the family's shape,
// recovery, trusted proxies, bounded memory), CORS, SIGHUP reload and
// SIGTERM drain, the request log (and that it holds no secrets), probes and
// /metrics. The real binary runs on loopback with temp dirs.
//
// Run:  cd tests/interop && ROOMKEY_BIN=$PWD/../../build/roomkey node --test ops.test.mjs

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import {
  ADMIN_KEY,
  LK_KEY,
  LK_SECRET,
  SESSION_SECRET,
  canConnect,
  logLines,
  mintAs,
  opsEnv,
  opsServer,
  partialRequest,
  rssKiB,
  scrape,
  session,
  tokenHead,
  val,
  verifyToken,
  waitFor,
  waitInFlight,
  waitLog,
  waitRequestLine,
  waitRequestLines,
} from './ops-lib.mjs';
import {
  BIN,
  assertError,
  auditList,
  bearer,
  cleanEnv,
  rand,
  request,
  roomCreate,
  showRes,
  signJwt,
  sleep,
  startJwks,
  startServer,
  stopChecked,
  tempDir,
  toYaml,
} from './service-lib.mjs';

const IS_ASAN = fs.readFileSync(BIN).includes('__asan_init');

/** Send requests until one is refused (at most max); returns all responses. */
async function untilLimited(send, max) {
  const out = [];
  for (let i = 0; i < max; i++) {
    const r = await send(i);
    out.push(r);
    if (r.status === 429) break;
  }
  return out;
}

/** The Retry-After header as a whole number of seconds (asserted). */
function retryAfter(r) {
  const v = r.headers.get('retry-after');
  assert.match(v ?? '', /^[1-9]\d*$/, `Retry-After: ${showRes(r)}`);
  return Number(v);
}

// ===========================================================================
describe('rate limits', () => {
  test('per IP: 429 in the family shape with Retry-After once the bucket is empty; probes exempt', async () => {
    const { tmp, srv } = await opsServer({ env: { ROOMKEY_RATE_LIMIT: 'ip=1/1h:3' } });
    try {
      const before = await scrape(srv);
      const t0 = Date.now();
      const rs = await untilLimited(() => request(srv, 'GET', '/api/livekit/health'), 10);
      const oks = rs.filter((r) => r.status === 200).length;
      // 1 token an hour: the burst of 3 is all there is.
      assert.equal(oks, 3, `200s before the 429 (took ${Date.now() - t0} ms): ${rs.map((r) => r.status)}`);
      const limited = rs.at(-1);
      assertError(limited, 429);
      assert.match(limited.json.message, /^Too many requests/);
      const ra = retryAfter(limited);
      assert.ok(ra > 3000 && ra <= 3600, `Retry-After ${ra} s for 1 token an hour`);
      // Auth failures and unknown paths count too (every request).
      assertError(await request(srv, 'GET', '/api/livekit/connection-info'), 429);
      assertError(await request(srv, 'GET', '/api/livekit/nope'), 429);
      // Probes are not limited by default.
      for (let i = 0; i < 5; i++) {
        assert.equal((await request(srv, 'GET', '/healthz')).status, 200);
        assert.equal((await request(srv, 'GET', '/readyz')).status, 200);
      }
      const after = await scrape(srv);
      assert.equal(val(after, 'roomkey_rate_limited_total{scope="ip"}') - val(before, 'roomkey_rate_limited_total{scope="ip"}'), 3);
      const lines = await waitRequestLines(srv, 3, (l) => l.status === 429);
      assert.equal(lines.length, 3);
      assert.ok(lines.every((l) => l.rate_limited === 'ip'), JSON.stringify(lines));
    } finally {
      await stopChecked(srv);
      tmp.cleanup();
    }
  });

  test('per IP: the bucket refills (a request after Retry-After seconds succeeds)', async () => {
    const { tmp, srv } = await opsServer({ env: { ROOMKEY_RATE_LIMIT: 'ip=1/1s:2' } });
    try {
      const rs = await untilLimited(() => request(srv, 'GET', '/api/livekit/health'), 50);
      const limited = rs.at(-1);
      assertError(limited, 429);
      const ra = retryAfter(limited);
      assert.equal(ra, 1, 'one token a second: retry in 1 s');
      await sleep(ra * 1000 + 100);
      const r = await request(srv, 'GET', '/api/livekit/health');
      assert.equal(r.status, 200, showRes(r));
    } finally {
      await stopChecked(srv);
      tmp.cleanup();
    }
  });

  test('per subject: token routes only, one bucket per subject, no token and no audit when refused; refills', async () => {
    const backendKey = `rk_backend_${rand(20)}`;
    const { tmp, db, srv } = await opsServer({
      env: { ROOMKEY_RATE_LIMIT: 'subject=1/2s:2' },
      yaml: { api_keys: [{ id: 'backend', key: backendKey, permissions: ['mint_any'] }] },
    });
    try {
      roomCreate(db, 'open', { mode: 'authenticated' });
      const before = await scrape(srv);
      const rs = await untilLimited(() => mintAs(srv, 'alice', 'open'), 20);
      const limited = rs.at(-1);
      assertError(limited, 429);
      assert.equal(limited.json.token, undefined);
      assert.ok(rs.filter((r) => r.status === 200).length >= 2, rs.map((r) => r.status).join());
      // Another subject has its own bucket; connection-info is not a token route.
      assert.equal((await mintAs(srv, 'bob', 'open')).status, 200);
      const ci = await request(srv, 'GET', '/api/livekit/connection-info', { headers: bearer(await session('alice')) });
      assert.equal(ci.status, 200, showRes(ci));
      // A backend's mint_any key mints for many users: not limited per subject.
      for (let i = 0; i < 5; i++) {
        const b = await request(srv, 'POST', '/api/livekit/token', { body: { roomId: 'open', identity: `bot-${i}` }, headers: { 'x-api-key': backendKey } });
        assert.equal(b.status, 200, showRes(b));
      }
      // Refused requests leave no audit record.
      const minted = rs.filter((r) => r.status === 200).length;
      assert.equal(auditList(db, { subject: 'alice' }).length, minted);
      const after = await scrape(srv);
      assert.equal(val(after, 'roomkey_rate_limited_total{scope="subject"}') - val(before, 'roomkey_rate_limited_total{scope="subject"}'), 1);
      const line = (await waitRequestLines(srv, 1, (l) => l.status === 429))[0];
      assert.equal(line.rate_limited, 'subject');
      assert.equal(line.subject, 'alice');
      // Recovery.
      await sleep(retryAfter(limited) * 1000 + 100);
      const again = await mintAs(srv, 'alice', 'open');
      assert.equal(again.status, 200, showRes(again));
    } finally {
      await stopChecked(srv);
      tmp.cleanup();
    }
  });

  test('trusted proxies: X-Forwarded-For is believed only from them; the client IP reaches the audit record', async () => {
    const tmp = tempDir();
    const db = path.join(tmp.dir, 'rk.db');
    roomCreate(db, 'open', { mode: 'authenticated' });
    const trusting = await startServer({ env: opsEnv(db, { ROOMKEY_RATE_LIMIT: 'ip=1/1h:1', ROOMKEY_TRUSTED_PROXIES: '127.0.0.1/32, 10.9.0.0/16' }) });
    const plain = await startServer({ env: opsEnv(db, { ROOMKEY_RATE_LIMIT: 'ip=1/1h:1' }) });
    try {
      const xff = (v) => ({ 'x-forwarded-for': v });
      const get = (srv, h) => request(srv, 'GET', '/api/livekit/health', { headers: h });
      assert.equal((await get(trusting, xff('203.0.113.1'))).status, 200);
      assert.equal((await get(trusting, xff('203.0.113.1'))).status, 429);
      assert.equal((await get(trusting, xff('203.0.113.2'))).status, 200);
      // Walked from the right: trusted hops (10.9.x.x) are skipped; a
      // forged left part is not believed.
      assert.equal((await get(trusting, xff('198.51.100.7, 203.0.113.3, 10.9.1.1'))).status, 200);
      assert.equal((await get(trusting, xff('1.1.1.1, 203.0.113.3'))).status, 429, 'same client 203.0.113.3');
      // A proxy that adds a header line of its own after the client's (HAProxy's
      // option forwardfor): its line decides, however many lines the client sent.
      const lines = (vals) => new Promise((resolve, reject) => {
        http.get({ host: '127.0.0.1', port: trusting.port, path: '/api/livekit/health', headers: { 'x-forwarded-for': vals } }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        }).on('error', reject);
      });
      const forged = (k) => Array.from({ length: 12 }, (_, i) => `198.51.${k}.${i}`);
      assert.equal(await lines([...forged(1), '203.0.113.4']), 200);
      assert.equal(await lines([...forged(2), '203.0.113.4']), 429, 'the client is the proxy line\'s 203.0.113.4, not a line it sent');
      // Without trusted proxies the header is ignored: one bucket (the peer).
      assert.equal((await get(plain, xff('203.0.113.1'))).status, 200);
      assert.equal((await get(plain, xff('203.0.113.9'))).status, 429);
      const r = await mintAs(trusting, 'carol', 'open', xff('192.0.2.44'));
      assert.equal(r.status, 200, showRes(r));
      const rec = auditList(db, { subject: 'carol' });
      assert.equal(rec[0].client_ip, '192.0.2.44');
      const line = await waitRequestLine(trusting, r);
      assert.equal(line.client_ip, '192.0.2.44');
    } finally {
      await stopChecked(trusting);
      await stopChecked(plain);
      tmp.cleanup();
    }
  });

  test('ROOMKEY_RATE_LIMIT=off switches off limits set in the YAML', async () => {
    const { tmp, srv } = await opsServer({ yaml: { rate_limit: { ip: { requests: 1, per: '1h', burst: 1 } } }, env: { ROOMKEY_RATE_LIMIT: 'off' } });
    try {
      for (let i = 0; i < 10; i++) assert.equal((await request(srv, 'GET', '/api/livekit/health')).status, 200);
      assert.ok(logLines(srv).some((l) => l.event === 'rate_limit_off'));
    } finally {
      await stopChecked(srv);
      tmp.cleanup();
    }
  });

  test('memory stays bounded: 100k distinct client IPs (X-Forwarded-For) grow RSS by less than 1 MiB', { skip: IS_ASAN && 'RSS is meaningless under ASan (its quarantine keeps freed memory)', timeout: 600_000 }, async (t) => {
    // 4096 buckets per table: 16 shards x 32 sets x 8 ways x 32 bytes = 128 KiB.
    // One token an hour, bursts of 100: every request of a new IP passes.
    const { tmp, srv } = await opsServer({
      yaml: { rate_limit: { max_entries: 4096, ip: { requests: 1, per: '1h', burst: 100 } }, trusted_proxies: ['127.0.0.1'] },
      env: { ROOMKEY_RATE_LIMIT: null },
    });
    const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });
    const get = (ip) => new Promise((resolve, reject) => {
      const req = http.get({ host: '127.0.0.1', port: srv.port, path: '/api/livekit/health', agent, headers: { 'x-forwarded-for': ip } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
    });
    const ipOf = (i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
    const run = async (from, to) => {
      let next = from;
      const statuses = {};
      await Promise.all(Array.from({ length: 16 }, async () => {
        while (next < to) {
          const s = await get(ipOf(next++));
          statuses[s] = (statuses[s] ?? 0) + 1;
        }
      }));
      return statuses;
    };
    try {
      await run(0, 5000); // warm up: threads, pools, allocator arenas
      const rss0 = await rssKiB(srv.proc.pid);
      const st = await run(5000, 105_000);
      const rss1 = await rssKiB(srv.proc.pid);
      t.diagnostic(`RSS ${rss0} KiB after warm-up, ${rss1} KiB after 100k more distinct IPs`);
      assert.deepEqual(st, { 200: 100_000 }, 'every distinct IP gets its own full bucket');
      assert.ok(rss1 - rss0 < 1024, `RSS grew ${rss1 - rss0} KiB (from ${rss0} to ${rss1} KiB) over 100k distinct IPs`);
      // The limiter still works for a key it holds.
      const fresh = '172.16.0.1';
      for (let i = 0; i < 100; i++) await get(fresh);
      assert.equal(await get(fresh), 429, 'burst 100 from one IP then 429');
    } finally {
      agent.destroy();
      await stopChecked(srv);
      tmp.cleanup();
    }
  });
});

// ===========================================================================
describe('CORS', () => {
  const APP = 'https://app.example.test';
  const M = {};
  before(async () => {
    ({ tmp: M.tmp, srv: M.srv, db: M.db } = await opsServer({ yaml: { cors: { origins: [APP, 'http://localhost:4200'] } } }));
    roomCreate(M.db, 'open', { mode: 'authenticated' });
  });
  after(async () => {
    await stopChecked(M.srv);
    M.tmp.cleanup();
  });

  const preflight = (origin, method, p = '/api/livekit/token', headers = 'authorization, content-type') =>
    request(M.srv, 'OPTIONS', p, { headers: { origin, 'access-control-request-method': method, 'access-control-request-headers': headers } });

  test('preflight from a listed origin: 204 with that origin, the path\'s methods and the allowed headers, no credentials', async () => {
    const r = await preflight(APP, 'POST');
    assert.equal(r.status, 204, showRes(r));
    assert.equal(r.headers.get('access-control-allow-origin'), APP);
    assert.equal(r.headers.get('access-control-allow-methods'), 'POST');
    assert.match(r.headers.get('access-control-allow-headers') ?? '', /Authorization/);
    assert.match(r.headers.get('access-control-allow-headers') ?? '', /Content-Type/);
    assert.match(r.headers.get('access-control-max-age') ?? '', /^\d+$/);
    assert.equal(r.headers.get('access-control-allow-credentials'), null);
    assert.match(r.headers.get('vary') ?? '', /Origin/);
  });

  test('preflight from an unlisted origin is refused (403, family shape, no CORS headers)', async () => {
    for (const o of ['https://evil.example', `${APP}.evil.example`, 'https://APP.example.test', `${APP}/`, 'null']) {
      const r = await preflight(o, 'POST');
      assertError(r, 403, 'CORS: origin not allowed');
      assert.equal(r.headers.get('access-control-allow-origin'), null, o);
    }
  });

  test('preflight for a method the path lacks -> 403; for an unknown path -> 404', async () => {
    assertError(await preflight(APP, 'DELETE'), 403, 'CORS: method not allowed for this path');
    assertError(await preflight(APP, 'POST', '/api/livekit/nope'), 404);
  });

  test('actual requests: a listed origin is echoed exactly (Retry-After exposed); others get no CORS headers', async () => {
    const jwt = await session('dora');
    const ok = await request(M.srv, 'POST', '/api/livekit/token', { body: { roomId: 'open' }, headers: { ...bearer(jwt), origin: APP } });
    assert.equal(ok.status, 200, showRes(ok));
    assert.equal(ok.headers.get('access-control-allow-origin'), APP);
    assert.match(ok.headers.get('access-control-expose-headers') ?? '', /Retry-After/);
    const err = await request(M.srv, 'POST', '/api/livekit/token', { body: { roomId: 'open' }, headers: { origin: 'http://localhost:4200' } });
    assert.equal(err.status, 401);
    assert.equal(err.headers.get('access-control-allow-origin'), 'http://localhost:4200', 'errors are readable by listed origins');
    const evil = await request(M.srv, 'POST', '/api/livekit/token', { body: { roomId: 'open' }, headers: { ...bearer(jwt), origin: 'https://evil.example' } });
    assert.equal(evil.headers.get('access-control-allow-origin'), null, 'never reflected');
    // a shared cache must key every answer on Origin: refused and absent ones too
    assert.match(evil.headers.get('vary') ?? '', /Origin/, 'Vary: Origin on a refused origin');
    const none = await request(M.srv, 'GET', '/api/livekit/health');
    assert.equal(none.headers.get('access-control-allow-origin'), null);
    assert.match(none.headers.get('vary') ?? '', /Origin/, 'Vary: Origin without an Origin header');
  });

  test('allow_credentials: true sends Access-Control-Allow-Credentials to listed origins only', async () => {
    const { tmp, srv } = await opsServer({ yaml: { cors: { origins: [APP], allow_credentials: true } } });
    try {
      const r = await request(srv, 'OPTIONS', '/api/livekit/token', { headers: { origin: APP, 'access-control-request-method': 'POST' } });
      assert.equal(r.status, 204, showRes(r));
      assert.equal(r.headers.get('access-control-allow-credentials'), 'true');
      const g = await request(srv, 'GET', '/api/livekit/health', { headers: { origin: APP } });
      assert.equal(g.headers.get('access-control-allow-credentials'), 'true');
      const o = await request(srv, 'GET', '/api/livekit/health', { headers: { origin: 'https://other.example' } });
      assert.equal(o.headers.get('access-control-allow-credentials'), null);
    } finally {
      await stopChecked(srv);
      tmp.cleanup();
    }
  });

  test('check-config refuses malformed origins and "*" with credentials, naming the key', () => {
    const tmp = tempDir();
    try {
      const check = (yaml) => {
        const f = path.join(tmp.dir, `c${rand(4)}.yaml`);
        fs.writeFileSync(f, toYaml(yaml));
        // a LiveKit key and a session issuer: the config can issue tokens (check-config's exit 0)
        return spawnSync(BIN, ['check-config', '--config', f], { env: cleanEnv({ LIVEKIT_API_KEY: 'APIx',
          LIVEKIT_API_SECRET: 'x'.repeat(40), ROOMKEY_SESSION_SECRET: 'y'.repeat(40) }), encoding: 'utf8' });
      };
      let r = check({ cors: { origins: ['https://app.example.test/path'] } });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /cors\.origins\[0\]/);
      r = check({ cors: { origins: ['*'], allow_credentials: true } });
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /cors\.allow_credentials/);
      r = check({ cors: { origins: ['*'] }, trusted_proxies: ['10.0.0.0/8'], rate_limit: { subject: { requests: 5, per: '1m' } } });
      assert.equal(r.status, 0, r.stderr);
      r = check({ trusted_proxies: ['10.0.0.0/33'] });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /trusted_proxies\[0\]/);
      r = check({ rate_limit: { ip: { per: '1s' } } });
      assert.equal(r.status, 1);
      assert.match(r.stderr, /rate_limit\.ip\.requests/);
    } finally {
      tmp.cleanup();
    }
  });
});

// ===========================================================================
describe('lifecycle: SIGHUP reload and SIGTERM drain', () => {
  test('SIGHUP with a good config swaps it in atomically, keeping open connections; a bad one is refused and the old keeps serving', async () => {
    const tmp = tempDir();
    const db = path.join(tmp.dir, 'rk.db');
    const cfg = path.join(tmp.dir, 'rk.yaml');
    const secret2 = `ops-lk-secret-two-${rand(20)}`;
    const base = {
      database: db,
      server: { listen: '127.0.0.1:0' },
      livekit: { url: 'wss://lk.ops.test', api_key: LK_KEY, api_secret: LK_SECRET },
      issuers: [{ name: 'app', algorithms: ['HS256'], secret: SESSION_SECRET }],
      rooms: [{ name: 'open', mode: 'authenticated', default_role: 'member' }],
    };
    fs.writeFileSync(cfg, toYaml(base));
    const srv = await startServer({ configPath: cfg });
    try {
      const mintTok = async (sub, room = 'open') => {
        const r = await mintAs(srv, sub, room);
        assert.equal(r.status, 200, showRes(r));
        return r.json.token;
      };
      await verifyToken(await mintTok('ann'));
      // A request in flight across the reload keeps the snapshot it began with.
      const body = JSON.stringify({ roomId: 'open' });
      const held = await partialRequest(srv.port, tokenHead(await session('ann'), body.length), body, 5);
      await waitInFlight(srv, 1);
      // New secret, a new room and a new role in the file.
      fs.writeFileSync(cfg, toYaml({
        ...base,
        livekit: { ...base.livekit, api_secret: secret2 },
        roles: { stage: { can_subscribe: true } },
        rooms: [...base.rooms, { name: 'stage', mode: 'authenticated', default_role: 'stage' }],
      }));
      srv.proc.kill('SIGHUP');
      await waitLog(srv, 'reloaded');
      const old = await held.finish();
      assert.equal(old.response?.status, 200, JSON.stringify(old));
      await verifyToken(old.response.json.token, LK_SECRET);
      const t2 = await mintTok('ann');
      await verifyToken(t2, secret2);
      await assert.rejects(verifyToken(t2, LK_SECRET), /signature/, 'new tokens are signed with the new secret only');
      const staged = await verifyToken(await mintTok('ann', 'stage'), secret2);
      assert.equal(staged.video.canPublish ?? false, false, 'new role in force');

      // A bad config: refused, the key named, the running one kept.
      fs.writeFileSync(cfg, toYaml({ ...base, rate_limt: { enabled: false } }));
      srv.proc.kill('SIGHUP');
      const refused = await waitLog(srv, 'reload_refused');
      assert.match(refused.reason, /rate_limt/);
      await verifyToken(await mintTok('ann'), secret2);
      // A valid config that changes the listen address: the change is ignored and said so.
      fs.writeFileSync(cfg, toYaml({ ...base, livekit: { ...base.livekit, api_secret: secret2 }, server: { listen: '127.0.0.1:1' } }));
      srv.proc.kill('SIGHUP');
      await waitLog(srv, 'reloaded', 1);
      const ignored = logLines(srv).find((l) => l.event === 'reload_ignored');
      assert.equal(ignored?.key, 'server.listen');
      await verifyToken(await mintTok('ann'), secret2);
      assert.ok(srv.alive());
    } finally {
      await stopChecked(srv);
      tmp.cleanup();
    }
  });

  test('SIGHUP keeps keep-alive connections open', async () => {
    const { tmp, srv } = await opsServer();
    try {
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
      const sockets = new Set();
      const get = () => new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port: srv.port, path: '/healthz', agent }, (res) => {
          sockets.add(req.socket);
          res.resume();
          res.on('end', () => resolve(res.statusCode));
        });
        req.on('error', reject);
      });
      assert.equal(await get(), 200);
      srv.proc.kill('SIGHUP');
      await waitLog(srv, 'reloaded');
      assert.equal(await get(), 200);
      assert.equal(sockets.size, 1, 'the same connection served both requests');
      agent.destroy();
    } finally {
      await stopChecked(srv);
      tmp.cleanup();
    }
  });

  test('SIGTERM: stops accepting, answers every request in flight, exits 0', async () => {
    const { tmp, db, srv } = await opsServer();
    try {
      roomCreate(db, 'open', { mode: 'authenticated' });
      const body = JSON.stringify({ roomId: 'open' });
      const held = [];
      for (let i = 0; i < 5; i++) held.push(await partialRequest(srv.port, tokenHead(await session(`u${i}`), body.length), body, 3));
      // The server has begun all five (headers read, body pending).
      await waitInFlight(srv, 5);
      const exited = new Promise((r) => srv.proc.once('exit', (code, signal) => r({ code, signal })));
      srv.proc.kill('SIGTERM');
      await waitLog(srv, 'stopping');
      await waitFor(async () => !(await canConnect(srv.port)), 'the listener to close');
      const answers = await Promise.all(held.map((h) => h.finish()));
      for (const [i, a] of answers.entries()) {
        assert.equal(a.response?.status, 200, `request ${i}: ${JSON.stringify(a).slice(0, 400)}`);
        await verifyToken(a.response.json.token);
        assert.equal(a.response.headers.connection, 'close');
      }
      const { code, signal } = await exited;
      assert.equal(signal, null);
      assert.equal(code, 0);
      assert.ok(logLines(srv).some((l) => l.event === 'stopped'));
      assert.ok(!logLines(srv).some((l) => l.event === 'shutdown_timeout'));
    } finally {
      await stopChecked(srv);
      tmp.cleanup();
    }
  });

  test('request log lines are written in batches, and every one is out once SIGTERM ends the process', async () => {
    const { tmp, db, srv } = await opsServer();
    try {
      roomCreate(db, 'open', { mode: 'authenticated' });
      const rs = await Promise.all(Array.from({ length: 40 }, (_, i) =>
        (i % 2 ? mintAs(srv, `w${i}`, 'open') : request(srv, 'GET', '/healthz'))));
      const ids = rs.map((r) => {
        assert.equal(r.status, 200, showRes(r));
        return r.headers.get('x-request-id');
      });
      const closed = new Promise((r) => srv.proc.once('close', (code) => r(code)));
      srv.proc.kill('SIGTERM');
      assert.equal(await closed, 0);
      const lines = logLines(srv).filter((l) => l.event === 'request');
      assert.deepEqual(lines.map((l) => l.request_id).sort(), [...ids].sort());
    } finally {
      await stopChecked(srv);
      tmp.cleanup();
    }
  });

  test('SIGINT exits 0 too', async () => {
    const { tmp, srv } = await opsServer();
    try {
      const exited = new Promise((r) => srv.proc.once('exit', (code, signal) => r({ code, signal })));
      srv.proc.kill('SIGINT');
      assert.deepEqual(await exited, { code: 0, signal: null });
    } finally {
      await stopChecked(srv);
      tmp.cleanup();
    }
  });
});

// ===========================================================================
describe('request log, probes and metrics', () => {
  const M = {};
  before(async () => {
    M.jwks = await startJwks([]);
    M.apiKey = `rk_backend_${rand(20)}`;
    ({ tmp: M.tmp, srv: M.srv, db: M.db } = await opsServer({
      yaml: {
        issuers: [{ name: 'idp', algorithms: ['RS256'], jwks: M.jwks.url, allow_http_jwks: true, issuer: 'https://idp.test', subject_prefix: 'idp:' }],
        api_keys: [{ id: 'backend', key: M.apiKey, permissions: ['mint_any'] }],
      },
    }));
    roomCreate(M.db, 'open', { mode: 'authenticated' });
  });
  after(async () => {
    await stopChecked(M.srv);
    await M.jwks.close();
    M.tmp.cleanup();
  });

  test('/healthz and /readyz', async () => {
    const h = await request(M.srv, 'GET', '/healthz');
    assert.equal(h.status, 200);
    assert.deepEqual(h.json, { status: 'ok' });
    const r = await request(M.srv, 'GET', '/readyz');
    assert.equal(r.status, 200, showRes(r));
    assert.deepEqual(r.json, { checks: { keys: 'ok', store: 'ok', jwks: 'ok' }, status: 'ready' });
  });

  test('/readyz is 503 without LiveKit keys and with a JWKS that never loaded', async () => {
    const tmp = tempDir();
    const cfg = path.join(tmp.dir, 'rk.yaml');
    fs.writeFileSync(cfg, toYaml({ issuers: [{ name: 'down', algorithms: ['ES256'], jwks: 'http://127.0.0.1:9/jwks.json', allow_http_jwks: true, issuer: 'https://down.test', subject_prefix: 'down:' }] }));
    const srv = await startServer({ configPath: cfg, env: { ...opsEnv(path.join(tmp.dir, 'rk.db')), LIVEKIT_API_KEY: null, LIVEKIT_API_SECRET: null } });
    try {
      const r = await request(srv, 'GET', '/readyz');
      assert.equal(r.status, 503, showRes(r));
      assert.equal(r.json.status, 'not_ready');
      assert.equal(r.json.checks.store, 'ok');
      assert.match(r.json.checks.keys, /LiveKit/);
      assert.match(r.json.checks.jwks, /down/);
      assert.equal((await request(srv, 'GET', '/healthz')).status, 200, 'alive all the same');
      const m = await scrape(srv);
      assert.ok(val(m, 'roomkey_jwks_fetches_total{result="error"}') >= 1);
    } finally {
      await stopChecked(srv);
      tmp.cleanup();
    }
  });

  test('metrics counters move as expected', async () => {
    const m0 = await scrape(M.srv);
    for (let i = 0; i < 3; i++) assert.equal((await mintAs(M.srv, 'mia', 'open')).status, 200);
    await request(M.srv, 'POST', '/api/livekit/token', { body: { roomId: 'open' } }); // missing
    const forged = await signJwt({ alg: 'HS256', key: `wrong-${SESSION_SECRET}`, claims: { sub: 'x', exp: 9999999999 } });
    await request(M.srv, 'POST', '/api/livekit/token', { body: { roomId: 'open' }, headers: bearer(forged) }); // signature
    await request(M.srv, 'GET', '/api/livekit/connection-info', { headers: { 'x-api-key': 'nope' } }); // api_key
    const byKey = await request(M.srv, 'POST', '/api/livekit/token', { body: { roomId: 'open', identity: 'bot-1' }, headers: { 'x-api-key': M.apiKey } });
    assert.equal(byKey.status, 200, showRes(byKey));
    const m1 = await scrape(M.srv);
    const d = (k) => val(m1, k) - val(m0, k);
    assert.equal(d('roomkey_http_requests_total{route="livekit.token",code="200"}'), 4);
    assert.equal(d('roomkey_http_requests_total{route="livekit.token",code="401"}'), 2);
    assert.equal(d('roomkey_http_requests_total{route="livekit.connection-info",code="401"}'), 1);
    assert.equal(d('roomkey_tokens_issued_total{route="livekit.token",role="member"}'), 4);
    assert.equal(d('roomkey_auth_failures_total{reason="missing"}'), 1);
    assert.equal(d('roomkey_auth_failures_total{reason="signature"}'), 1);
    assert.equal(d('roomkey_auth_failures_total{reason="api_key"}'), 1);
    assert.equal(d('roomkey_http_request_duration_seconds_count{route="livekit.token"}'), 6);
    // Buckets are cumulative and end at the count.
    const les = [...m1.keys()].filter((k) => k.startsWith('roomkey_http_request_duration_seconds_bucket{route="livekit.token"'));
    const counts = les.map((k) => m1.get(k));
    assert.deepEqual(counts, [...counts].sort((a, b) => a - b), 'buckets are cumulative');
    assert.equal(counts.at(-1), m1.get('roomkey_http_request_duration_seconds_count{route="livekit.token"}'));
    assert.ok(val(m1, 'roomkey_jwks_fetches_total{result="ok"}') >= 1, 'the JWKS was fetched at start');
    assert.equal(d('roomkey_http_requests_total{route="ops.metrics",code="200"}'), 1, 'the first scrape is counted');
  });

  test('one JSON line per request with id, route, status, duration, subject and jti; no token, JWT or secret anywhere', async () => {
    const jwt = await session('nina');
    const r = await mintWith(M.srv, jwt);
    assert.equal(r.status, 200, showRes(r));
    const claims = await verifyToken(r.json.token);
    const id = r.headers.get('x-request-id');
    assert.ok(id, 'X-Request-Id header');
    const line = await waitRequestLine(M.srv, r);
    assert.ok(line, `no log line for request ${id}`);
    assert.equal(line.event, 'request');
    assert.equal(line.route, 'livekit.token');
    assert.equal(line.status, 200);
    assert.equal(typeof line.duration_us, 'number');
    assert.equal(line.subject, 'nina');
    assert.equal(line.jti, claims.jti);
    assert.equal(line.client_ip, '127.0.0.1');
    const fail = await request(M.srv, 'GET', '/api/livekit/connection-info', { headers: bearer(jwt.slice(0, -3) + 'AAA') });
    const fline = await waitRequestLine(M.srv, fail);
    assert.equal(fline.auth_fail, 'signature');
    assert.equal(logLines(M.srv).filter((l) => l.event === 'token_issued').length, 0, 'one line per request, not two');
    // Every request got exactly one line.
    const ids = logLines(M.srv).filter((l) => l.event === 'request').map((l) => l.request_id);
    assert.equal(new Set(ids).size, ids.length);
    // Secrecy: the session JWT (and its signature alone), the minted
    // token, and every configured secret are absent from the log.
    const log = M.srv.stderr();
    for (const [what, s] of [['session JWT', jwt], ['JWT signature', jwt.split('.')[2]], ['minted token', r.json.token],
      ['token signature', r.json.token.split('.')[2]], ['LiveKit secret', LK_SECRET], ['session secret', SESSION_SECRET],
      ['admin key', ADMIN_KEY], ['API key', M.apiKey]]) {
      assert.ok(!log.includes(s), `${what} found in the log`);
    }
  });
});

/** POST /api/livekit/token for room open with jwt. */
function mintWith(srv, jwt) {
  return request(srv, 'POST', '/api/livekit/token', { body: { roomId: 'open' }, headers: bearer(jwt) });
}

test('the roomkey binary under test', () => {
  assert.ok(fs.existsSync(BIN), BIN);
  assert.equal(typeof LK_KEY, 'string');
});
