// Black-box test: two `roomkey serve` processes (instances A and B) on one
// PostgreSQL server, as behind a load balancer.
//
// Run:  cd tests/interop && ROOMKEY_BIN=$PWD/../../build/roomkey node --test multi.test.mjs
//
// The test starts its own throw-away PostgreSQL with scripts/pg-test-server.sh
// (it installs the Debian package when missing), so it can crash and restart
// it. The store is changed with the roomkey CLI (ROOMKEY_DATABASE = the URL)
// and with plain SQL (psql); every minted token is verified with
// livekit-server-sdk's TokenVerifier.

import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import {
  assertError,
  assertMint,
  bearer,
  checkAuditPrune,
  cliOk,
  memberAdd,
  memberRemove,
  postToken,
  rand,
  roomCreate,
  sessionClaims,
  showRes,
  signJwt,
  sleep,
  startServer,
  stopChecked,
} from './service-lib.mjs';

const CTL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../scripts/pg-test-server.sh');
const LK_KEY = 'APImultiTestKey';
const LK_SECRET = `lk-secret-${rand(20)}`;
const SESSION_SECRET = `session-secret-${rand(20)}`;
const JOIN_DENIED = 'Insufficient permissions. Required: JOIN_CHANNEL';
const ROOM = 'standup';

/** Run pg-test-server.sh VERB DIR; returns its stdout. */
function ctl(verb, dir) {
  return execFileSync(CTL, [verb, dir], { encoding: 'utf8', timeout: 120_000 }).trim();
}

/** Run one SQL statement with psql (a change made outside RoomKey). */
function psql(url, sql) {
  const r = spawnSync('psql', [url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', sql], { encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, `psql failed: ${r.stderr}`);
}

/** Wait until cond() holds; the bound is for liveness only. */
async function until(what, cond, ms = 30_000) {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

describe('two instances on one PostgreSQL', () => {
  const M = { returned: [] }; // every token handed to a caller: {jti, by}
  const sess = (sub) => signJwt({ alg: 'HS256', key: SESSION_SECRET, claims: sessionClaims({ sub }) });
  const want = (identity, role) => ({ key: LK_KEY, secret: LK_SECRET, roomId: ROOM, room: ROOM, identity, name: identity, role, ttl: 3600 });

  /** POST a token request to srv for sub; a 200 must be a correct token, and is remembered. */
  async function mint(srv, sub, role = 'member') {
    const r = await postToken(srv, { roomId: ROOM }, bearer(await sess(sub)));
    if (r.status === 200) {
      const claims = await assertMint(r, want(sub, role));
      M.returned.push({ jti: claims.jti, by: srv === M.A ? 'A' : 'B' });
    }
    return r;
  }

  /** Poll srv for sub (role: what a 200 must grant) until the answer's status is `status`; returns {r, ms} timed from `t0`. */
  async function pollUntil(srv, sub, role, status, t0) {
    let r;
    do {
      r = await mint(srv, sub, role);
    } while (r.status !== status && Date.now() - t0 < 10_000);
    return { r, ms: Date.now() - t0 };
  }

  /** All audit records of the room, through the CLI. */
  function audit() {
    const r = cliOk(M.url, ['audit', 'list', '--json', '--room', ROOM, '--limit', '10000']);
    return JSON.parse(r.stdout);
  }

  before(async () => {
    // Not inside a private temp dir: the server runs as the postgres user.
    M.pgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rk-multi-pg-'));
    M.url = ctl('start', M.pgDir);
    M.password = new URL(M.url).password;
    assert.ok(M.password.length >= 16, 'the test server has a password');
    roomCreate(M.url, ROOM, { mode: 'members' });
    memberAdd(M.url, ROOM, 'alice');
    memberAdd(M.url, ROOM, 'bob');
    const env = {
      ROOMKEY_LISTEN: '127.0.0.1:0',
      ROOMKEY_DATABASE: M.url,
      ROOMKEY_SESSION_SECRET: SESSION_SECRET,
      LIVEKIT_API_KEY: LK_KEY,
      LIVEKIT_API_SECRET: LK_SECRET,
      LIVEKIT_URL: 'wss://lk.example.test',
      // this test sends far more token requests per caller than a person would
      ROOMKEY_RATE_LIMIT: 'off',
    };
    M.env = env;
    [M.A, M.B] = await Promise.all([startServer({ env }), startServer({ env })]);
  });

  after(async () => {
    try {
      await stopChecked(M.A);
      await stopChecked(M.B);
    } finally {
      if (M.pgDir) {
        try { ctl('stop', M.pgDir); } finally { fs.rmSync(M.pgDir, { recursive: true, force: true }); }
      }
    }
  });

  test('both instances serve members from the shared database', async () => {
    for (const srv of [M.A, M.B]) {
      const r = await mint(srv, 'alice');
      assert.equal(r.status, 200, showRes(r));
      assertError(await mint(srv, 'mallory'), 403, JOIN_DENIED);
    }
  });

  test('a member removed with the CLI is refused by both instances within one second', async (t) => {
    for (const srv of [M.A, M.B]) assert.equal((await mint(srv, 'bob')).status, 200); // now cached
    memberRemove(M.url, ROOM, 'bob');
    const t0 = Date.now();
    const [b, a] = await Promise.all([pollUntil(M.B, 'bob', 'member', 403, t0), pollUntil(M.A, 'bob', 'member', 403, t0)]);
    assertError(b.r, 403, JOIN_DENIED);
    assertError(a.r, 403, JOIN_DENIED);
    t.diagnostic(`refused after ${a.ms} ms (A), ${b.ms} ms (B)`);
    assert.ok(b.ms <= 1000, `instance B still admitted bob ${b.ms} ms after the removal`);
    assert.ok(a.ms <= 1000, `instance A still admitted bob ${a.ms} ms after the removal`);
  });

  test('a membership added with plain SQL reaches both instances within one second', async (t) => {
    for (const srv of [M.A, M.B]) assertError(await mint(srv, 'bob'), 403, JOIN_DENIED); // cached "no"
    psql(M.url, `INSERT INTO members (room, subject, role, created_at) VALUES ('${ROOM}', 'bob', 'listener', 0)`);
    const t0 = Date.now();
    const [b, a] = await Promise.all([pollUntil(M.B, 'bob', 'listener', 200, t0), pollUntil(M.A, 'bob', 'listener', 200, t0)]);
    assert.equal(b.r.status, 200, showRes(b.r));
    assert.equal(a.r.status, 200, showRes(a.r));
    t.diagnostic(`admitted after ${a.ms} ms (A), ${b.ms} ms (B)`);
    assert.ok(b.ms <= 1000 && a.ms <= 1000, `bob admitted after ${a.ms} ms (A), ${b.ms} ms (B)`);
  });

  test('audit records of both instances are in the one database', () => {
    const list = audit();
    const logged = new Map(list.map((a) => [a.jti, a]));
    assert.ok(M.returned.some((t) => t.by === 'A') && M.returned.some((t) => t.by === 'B'));
    for (const t of M.returned) {
      const a = logged.get(t.jti);
      assert.ok(a, `token ${t.jti} from instance ${t.by} has no audit record`);
      assert.equal(a.room, ROOM);
      assert.equal(a.route, 'livekit.token');
    }
    const ids = list.map((a) => a.id);
    assert.deepEqual(ids, [...ids].sort((x, y) => y - x), 'newest first');
  });

  test('PostgreSQL crashes and restarts under load: requests fail closed meanwhile, both instances recover, no returned token lacks its audit record', async (t) => {
    let phase = 'before';
    const seen = { A: [], B: [] }; // {start, end, status}
    let stop = false;
    const loop = async (srv, name) => {
      while (!stop) {
        const start = phase;
        const r = await mint(srv, 'alice');
        // Fail closed, in the family's shape: while the database is down a
        // 503 with Retry-After; a request caught by the crash or the
        // restart itself may still end in a 500.
        if (r.status !== 200 && start === 'down' && phase === 'down') {
          assertError(r, 503);
          assert.equal(r.headers.get('retry-after'), '5');
        } else if (r.status !== 200) {
          assertError(r, r.status === 503 ? 503 : 500);
        }
        seen[name].push({ start, end: phase, status: r.status });
        await sleep(2);
      }
    };
    const count = (name, start, end, ok) => seen[name].filter((s) => s.start === start && s.end === end && (s.status === 200) === ok).length;
    // three callers per instance, so commits are in flight when the server dies
    const loops = [M.A, M.A, M.A, M.B, M.B, M.B].map((srv) => loop(srv, srv === M.A ? 'A' : 'B'));
    try {
      await until('tokens before the crash', () => count('A', 'before', 'before', true) >= 5 && count('B', 'before', 'before', true) >= 5);
      ctl('kill', M.pgDir); // SIGKILL the postmaster
      phase = 'down';
      await until('refusals while the database is down', () => count('A', 'down', 'down', false) >= 3 && count('B', 'down', 'down', false) >= 3);
      ctl('start', M.pgDir); // crash recovery, same port
      phase = 'after';
      await until('tokens after the restart', () => count('A', 'after', 'after', true) >= 5 && count('B', 'after', 'after', true) >= 5);
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    for (const name of ['A', 'B']) {
      assert.equal(count(name, 'down', 'down', true), 0, `instance ${name} returned a token while the database was down`);
    }

    t.diagnostic(`A: ${seen.A.length} requests, B: ${seen.B.length}; refused while down: ${count('A', 'down', 'down', false)} (A), ${count('B', 'down', 'down', false)} (B)`);
    // Every token a caller received has its record; the feeds came back.
    const logged = new Set(audit().map((a) => a.jti));
    const missing = M.returned.filter((t) => !logged.has(t.jti));
    assert.deepEqual(missing, [], `${missing.length} of ${M.returned.length} returned tokens have no audit record`);
    await until('both change feeds back', () => [M.A, M.B].every((s) => s.stderr().includes('"store_feed_restored"')));
    for (const s of [M.A, M.B]) assert.match(s.stderr(), /"event":"store_feed_down"/);

    // Correct answers afterwards, and changes still reach both at once.
    for (const srv of [M.A, M.B]) {
      assert.equal((await mint(srv, 'alice')).status, 200);
      assertError(await mint(srv, 'mallory'), 403, JOIN_DENIED);
    }
    memberRemove(M.url, ROOM, 'bob');
    const t0 = Date.now();
    const [b, a] = await Promise.all([pollUntil(M.B, 'bob', 'listener', 403, t0), pollUntil(M.A, 'bob', 'listener', 403, t0)]);
    assertError(b.r, 403, JOIN_DENIED);
    assertError(a.r, 403, JOIN_DENIED);
    assert.ok(b.ms <= 1000 && a.ms <= 1000, `bob still admitted after ${a.ms} ms (A), ${b.ms} ms (B)`);
  });

  test('a database server that stops answering: requests fail after database_timeout instead of hanging, and tokens come back', async (t) => {
    memberAdd(M.url, ROOM, 'frozen-1');
    memberAdd(M.url, ROOM, 'frozen-2');
    const C = await startServer({ env: { ...M.env, ROOMKEY_DATABASE_TIMEOUT: '1s' } });
    try {
      assert.equal((await mint(C, 'alice')).status, 200);
      ctl('freeze', M.pgDir); // connections are accepted by the kernel; nothing answers
      let refused;
      try {
        // frozen-1's membership was never looked up, so it is not cached:
        // the lookup waits on the server until the watchdog cuts it
        refused = await mint(C, 'frozen-1');
        await until('the timeout logged', () => C.stderr().includes('"event":"store_statement_timeout"'));
        const ready = await fetch(`${C.base}/readyz`, { signal: AbortSignal.timeout(60_000) });
        assert.equal(ready.status, 503, '/readyz while the database does not answer');
      } finally {
        ctl('thaw', M.pgDir);
      }
      assert.notEqual(refused.status, 200, 'no token while the database did not answer');
      assertError(refused, refused.status === 503 ? 503 : 500);
      const line = C.stderr().split('\n').find((l) => l.includes('"store_statement_timeout"'));
      assert.match(line, /"level":"warn".*"timeout_ms":"1000"/);
      // Back: the next requests reconnect and are answered, and audited.
      let r;
      const t0 = Date.now();
      do r = await mint(C, 'frozen-2');
      while (r.status !== 200 && Date.now() - t0 < 30_000);
      assert.equal(r.status, 200, `no token after the server answered again: ${showRes(r)}`);
      const claims = JSON.parse(Buffer.from(r.json.token.split('.')[1], 'base64url'));
      assert.ok(audit().some((a) => a.jti === claims.jti), 'the token after the thaw has its audit record');
      t.diagnostic(`refused with ${refused.status} while frozen`);
    } finally {
      await stopChecked(C);
    }
  });

  test('`roomkey audit prune --before DATE` on PostgreSQL: older records go, later ones stay, tokens keep coming', async () => {
    memberAdd(M.url, ROOM, 'pruned-old');
    memberAdd(M.url, ROOM, 'kept-new');
    await checkAuditPrune(M.url, { oldSub: 'pruned-old', newSub: 'kept-new', mint: (sub) => mint(M.A, sub) });
  });

  test('the database password never reaches the instances\' output', () => {
    for (const s of [M.A, M.B]) {
      assert.ok(!s.stdout().includes(M.password) && !s.stderr().includes(M.password), 'password in roomkey output');
      assert.match(s.stderr(), /"event":"started","database":"postgresql:\/\/roomkey:\*\*\*@127\.0\.0\.1:\d+\/roomkey"/);
    }
    const bad = M.url.replace(M.password, 'not-the-password');
    const r = spawnSync(M.A.proc.spawnfile, ['room', 'list', '--database', bad], { encoding: 'utf8', timeout: 30_000 });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /cannot open database "postgresql:\/\/roomkey:\*\*\*@/);
    assert.ok(!r.stderr.includes('not-the-password'), r.stderr);
  });
});
