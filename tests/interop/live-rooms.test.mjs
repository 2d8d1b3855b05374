// Black-box tests of live rooms (docs/live-rooms.md): `roomkey serve` with
// LIVEKIT_HOST pointed at the LiveKit stand-in (livekit-standin.mjs, proven
// against livekit-server-sdk), whose webhooks go to RoomKey's
// /livekit/webhook. Every RoomService call RoomKey makes is checked by the
// stand-in with TokenVerifier and livekit-server's grant rules.
//
// Latencies (a decision reaching LiveKit, presence reaching the other
// instance: about a second by design, live_rooms.poll_interval 250 ms) are
// reported as test diagnostics, never asserted: the machines running the
// suites are shared; outcomes are asserted, with deadlines for liveness only.
//
// The suite runs on SQLite and on a throw-away PostgreSQL
// (scripts/pg-test-server.sh), and two instances on one PostgreSQL.
//
// Run:  cd tests/interop && ROOMKEY_BIN=$PWD/../../build/roomkey node --test live-rooms.test.mjs

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import * as jose from 'jose';
import { AccessToken } from 'livekit-server-sdk';

import { LiveKitStandin } from './livekit-standin.mjs';
import {
  auditList,
  bearer,
  cli,
  cliOk,
  memberAdd,
  nowSec,
  postToken,
  rand,
  request,
  roomCreate,
  sessionClaims,
  showRes,
  showRun,
  signJwt,
  sleep,
  startServer,
  stopChecked,
  tempDir,
  toYaml,
} from './service-lib.mjs';

const CTL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../scripts/pg-test-server.sh');
const LK_KEY = 'APIliveRoomsKey';
const LK_SECRET = `live-secret-${rand(20)}`;
const SESSION_SECRET = `session-secret-${rand(20)}`;
const ADMIN_KEY = `admin-key-${rand(16)}`;
const JOIN_DENIED = 'Insufficient permissions. Required: JOIN_CHANNEL';
const SEAT_ROOM = 'audition-room';
const CLOCK_SKEW = 5; // seconds LiveKit's joinedAt may be behind RoomKey's issued_at (docs/live-rooms.md)
// Every instance: a `judge` role granting what the built-in `member` grants
// (a role change between them changes no permission), and the Supabase Edge Function contract's
// audition room with one judge seat.
const BASE_CONFIG = {
  roles: { judge: { can_publish: true, can_subscribe: true, can_publish_data: true } },
  supabase: { room_types: { audition: { room: SEAT_ROOM, seats: 1, roles: { judge: 'judge' } } } },
};

/** Wait until cond() is truthy (polled every 10 ms); returns {value, ms}. */
async function until(what, cond, ms = 10_000) {
  const t0 = Date.now();
  for (;;) {
    const v = await cond();
    if (v) return { value: v, ms: Date.now() - t0 };
    if (Date.now() - t0 > ms) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

const admin = (srv, method, p, body) =>
  request(srv, method, p, { body, headers: { authorization: `Bearer ${ADMIN_KEY}` } });

async function presence(srv, room) {
  const r = await admin(srv, 'GET', `/admin/v1/rooms/${room}/participants`);
  assert.equal(r.status, 200, showRes(r));
  return r.json.participants.map((p) => p.identity).sort();
}

const session = (sub) => signJwt({ alg: 'HS256', key: SESSION_SECRET, claims: sessionClaims({ sub }) });

/** A token for sub in room through the livekit family; returns the response. */
async function token(srv, sub, room) {
  return postToken(srv, { roomId: room }, bearer(await session(sub)));
}

/** The YAML of an instance whose live_rooms settings are config; livekit: its
 * YAML livekit section (the keys are in the environment without one). */
const liveYaml = (config = {}, livekit = undefined) =>
  toYaml({ ...BASE_CONFIG, ...(livekit && { livekit }), live_rooms: { reconcile_interval: '1s', ...config } });

/** Start the stand-in and a roomkey serve on db that it sends webhooks to;
 * livekit: a YAML livekit section with the keys (else LK_KEY in the environment). */
async function startPair(db, { config = {}, lk, livekit } = {}) {
  const standin = lk ?? await new LiveKitStandin({ keys: { [LK_KEY]: LK_SECRET } }).start();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rk-live-cfg-'));
  const configPath = path.join(dir, 'roomkey.yaml');
  fs.writeFileSync(configPath, liveYaml(config, livekit));
  const env = {
    ROOMKEY_LISTEN: '127.0.0.1:0',
    ROOMKEY_DATABASE: db,
    ROOMKEY_SESSION_SECRET: SESSION_SECRET,
    ROOMKEY_ADMIN_KEY: ADMIN_KEY,
    ...(!livekit && { LIVEKIT_API_KEY: LK_KEY, LIVEKIT_API_SECRET: LK_SECRET }),
    LIVEKIT_URL: 'wss://lk.example.test',
    LIVEKIT_HOST: standin.url,
  };
  const srv = await startServer({ env, configPath });
  standin.webhookUrls.push(`${srv.base}/livekit/webhook`);
  return { lk: standin, srv, configPath, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** A second instance on a store of its own (makeDb), with live_rooms config. */
async function withPair(makeDb, config, fn) {
  const db = await makeDb();
  const N = await startPair(db, { config });
  try {
    await fn(N, db);
  } finally {
    await stopChecked(N.srv);
    await N.lk.stop();
    N.cleanup();
  }
}

/** roomkey_live_kicks_total for reason, from /metrics. */
async function kicks(srv, reason) {
  const m = (await request(srv, 'GET', '/metrics')).text.match(new RegExp(`roomkey_live_kicks_total\\{reason="${reason}"\\} (\\d+)`));
  return Number(m?.[1] ?? 0);
}

/** Resolve once the clock reads a whole second after sec (no speed involved). */
async function afterSecond(sec) {
  while (nowSec() <= sec) await sleep(20);
}

/** The `iat` of a token. */
const iatOf = (tok) => JSON.parse(Buffer.from(tok.split('.')[1], 'base64url')).iat;

/** A supabase family token request (the Supabase Edge Function contract) by a signed-in user sub. */
async function supabaseToken(srv, sub, body) {
  const jwt = await signJwt({ alg: 'HS256', key: SESSION_SECRET, claims: sessionClaims({ sub, role: 'authenticated' }) });
  return request(srv, 'POST', '/functions/v1/livekit-token', { body, headers: bearer(jwt) });
}

/** A webhook signed like livekit-server's, with parts overridable. */
async function signedHook(body, { secret = LK_SECRET, sha, ttl = '5m', nbf } = {}) {
  const claims = { sha256: sha ?? createHash('sha256').update(body).digest('base64') };
  if (sha === null) delete claims.sha256;
  const jwt = new jose.SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).setIssuer(LK_KEY);
  const now = Math.floor(Date.now() / 1000);
  jwt.setNotBefore(nbf ?? now).setExpirationTime(nbf !== undefined ? nbf + 300 : ttl);
  return jwt.sign(new TextEncoder().encode(secret));
}

function liveSuite(name, makeDb) {
  describe(`live rooms (${name})`, () => {
    const M = {};
    before(async () => {
      M.db = await makeDb();
      roomCreate(M.db, 'blue', { mode: 'members' });
      memberAdd(M.db, 'blue', 'alice');
      memberAdd(M.db, 'blue', 'bob');
      roomCreate(M.db, 'open', { mode: 'authenticated', defaultRole: 'member' });
      Object.assign(M, await startPair(M.db));
    });
    after(async () => {
      await stopChecked(M.srv);
      await M.lk?.stop();
      M.cleanup?.();
    });

    test('alice: joins, her membership is removed, she is kicked and kicked again when her old token returns', async (t) => {
      const r = await token(M.srv, 'alice', 'blue');
      assert.equal(r.status, 200, showRes(r));
      const old = r.json.token;
      const joined = await M.lk.join(old);
      assert.equal(joined.ok, true, joined.reason);
      await until('alice in presence', async () => (await presence(M.srv, 'blue')).includes('alice'));

      const before = M.lk.callsOf('RemoveParticipant').length;
      const cliRun = cli(M.db, ['member', 'remove', 'blue', 'alice']);
      assert.equal(cliRun.status, 0, showRun(cliRun));
      const t0 = Date.now();
      const kicked = await until('RemoveParticipant(blue, alice)', () =>
        M.lk.callsOf('RemoveParticipant').slice(before).find((c) => c.body.identity === 'alice' && c.status === 200));
      t.diagnostic(`RemoveParticipant ${Date.now() - t0} ms after the CLI returned`);
      assert.deepEqual(kicked.value.claims.video, { roomAdmin: true, room: 'blue' }, 'only roomAdmin for that room');
      assert.match(kicked.value.body.revokeTokenTs, /^\d+$/);
      assert.ok(!M.lk.rooms.get('blue').participants.has('alice'));
      await until('alice gone from presence', async () => !(await presence(M.srv, 'blue')).includes('alice'));

      // the old token is still valid for LiveKit: she re-joins; RoomKey kicks her again
      const n = M.lk.callsOf('RemoveParticipant').length;
      assert.equal((await M.lk.join(old)).ok, true);
      await until('the second kick', () => M.lk.callsOf('RemoveParticipant').length > n);
      await until('alice gone again', () => !M.lk.rooms.get('blue').participants.has('alice'));
      await until('presence agrees', async () => !(await presence(M.srv, 'blue')).includes('alice'));

      const again = await token(M.srv, 'alice', 'blue');
      assert.equal(again.status, 403, showRes(again));
      assert.equal(again.json.message, JOIN_DENIED);
      const audit = auditList(M.db, { room: 'blue', subject: 'alice' });
      assert.equal(audit.length, 1, 'one token issued to alice, and it was her only way in');
      const metrics = (await request(M.srv, 'GET', '/metrics')).text;
      assert.match(metrics, /roomkey_live_kicks_total\{reason="membership_removed"\} 1\n/);
      assert.match(metrics, /roomkey_live_kicks_total\{reason="revoked_rejoin"\} [1-9]/);
      assert.match(metrics, /roomkey_livekit_calls_total\{method="RemoveParticipant",outcome="ok"\} [2-9]/);
      await until('one log line per kick, with its reason', () => /"event":"livekit_kick","room":"blue","identity":"alice","reason":"membership_removed","outcome":"ok"/.test(M.srv.stderr()));
    });

    test('`roomkey participant list` prints a display name\'s control and bidi characters as "?" (the name is the participant\'s)', async () => {
      const name = 'Eve\u001b]0;pwned\u0007\u202eevil';
      // RoomKey mints no token with such a name; LiveKit reports the name a
      // participant gave itself (e.g. with canUpdateOwnMetadata)
      const refused = await postToken(M.srv, { roomId: 'open', name }, bearer(await session('eve')));
      assert.equal(refused.status, 400, showRes(refused));
      const r = await postToken(M.srv, { roomId: 'open' }, bearer(await session('eve')));
      assert.equal(r.status, 200, showRes(r));
      const urls = M.lk.webhookUrls.splice(0);
      let joined;
      try {
        joined = await M.lk.join(r.json.token);
      } finally {
        M.lk.webhookUrls.push(...urls);
      }
      assert.equal(joined.ok, true);
      const renamed = joined.participant.clone();
      renamed.name = name;
      const w = await M.lk.buildWebhook('participant_joined', { room: M.lk.rooms.get('open').room, participant: renamed });
      assert.equal((await LiveKitStandin.deliver(urls[0], w.body, w.headers)).status, 200);
      await until('eve present', async () => (await presence(M.srv, 'open')).includes('eve'));
      const table = cliOk(M.db, ['participant', 'list', 'open']).stdout;
      assert.ok(table.includes('Eve?]0;pwned??evil'), table);
      assert.ok(!/[\u0007\u001b\u202e]/.test(table), 'printed raw');
      const rows = JSON.parse(cliOk(M.db, ['participant', 'list', 'open', '--json']).stdout);
      assert.equal(rows.find((p) => p.identity === 'eve').name, name, '--json keeps the name itself');
      assert.equal(await M.lk.leave('open', 'eve'), true);
    });

    test('presence: CLI, admin API, livekit family route and metric agree; a late leave never removes a rejoin', async () => {
      const t1 = (await token(M.srv, 'bob', 'blue')).json.token;
      const first = await M.lk.join(t1);
      await until('bob present', async () => (await presence(M.srv, 'blue')).includes('bob'));
      // a rejoin: LiveKit gives a new SID and sends left for the old one
      const second = await M.lk.join(t1);
      assert.notEqual(first.participant.sid, second.participant.sid);
      await until('bob present once', async () => {
        const r = await admin(M.srv, 'GET', '/admin/v1/rooms/blue/participants');
        return r.json.participants.length === 1 && r.json.participants[0].sid === second.participant.sid;
      });
      const list = cliOk(M.db, ['participant', 'list', 'blue', '--json']);
      const rows = JSON.parse(list.stdout);
      assert.deepEqual(rows.map((p) => [p.identity, p.sid, p.kind]), [['bob', second.participant.sid, 'standard']]);
      const metrics = (await request(M.srv, 'GET', '/metrics')).text;
      assert.match(metrics, /roomkey_live_participants\{room="blue"\} 1\n/);
      assert.match(metrics, /roomkey_live_webhooks_total\{event="participant_joined",outcome="applied"\} [1-9]/);
      const app = await request(M.srv, 'GET', '/api/livekit/rooms/blue/participants', { headers: bearer(await session('bob')) });
      assert.equal(app.status, 200, showRes(app));
      assert.deepEqual(app.json.participants.map((p) => p.identity), ['bob']);
      const outsider = await request(M.srv, 'GET', '/api/livekit/rooms/blue/participants', { headers: bearer(await session('mallory')) });
      assert.equal(outsider.status, 403, showRes(outsider));
      const anon = await request(M.srv, 'GET', '/api/livekit/rooms/blue/participants');
      assert.equal(anon.status, 401, showRes(anon));
    });

    test('admin kick with a ban, and the CLI kick', async () => {
      const tok = (await token(M.srv, 'carol', 'open')).json.token;
      await M.lk.join(tok);
      await until('carol present', async () => (await presence(M.srv, 'open')).includes('carol'));
      const k = await admin(M.srv, 'POST', '/admin/v1/rooms/open/participants/carol/kick', { ban: '10m' });
      assert.equal(k.status, 202, showRes(k));
      assert.ok(k.json.ban_until > Math.floor(Date.now() / 1000) + 500);
      await until('carol kicked', () => !M.lk.rooms.get('open').participants.has('carol'));
      await until('carol gone from presence', async () => !(await presence(M.srv, 'open')).includes('carol'));
      const n = M.lk.callsOf('RemoveParticipant').length;
      await M.lk.join(tok); // banned: back out at once
      await until('banned carol kicked again', () => M.lk.callsOf('RemoveParticipant').length > n && !M.lk.rooms.get('open').participants.has('carol'));

      const dtok = (await token(M.srv, 'dave', 'open')).json.token;
      assert.equal((await M.lk.join(dtok)).ok, true);
      await until('dave present', async () => (await presence(M.srv, 'open')).includes('dave'));
      const run = cli(M.db, ['participant', 'kick', 'open', 'dave']);
      assert.equal(run.status, 0, showRun(run));
      await until('dave kicked', () => !M.lk.rooms.get('open').participants.has('dave'));
      await until('one log line for the kick', () => /"event":"livekit_kick","room":"open","identity":"dave","reason":"admin_kick","outcome":"(ok|not_found)"/.test(M.srv.stderr()));
      const bad = await admin(M.srv, 'POST', '/admin/v1/rooms/open/participants/dave/kick', { ban: 'soon' });
      assert.equal(bad.status, 400, showRes(bad));
      const none = await admin(M.srv, 'POST', '/admin/v1/rooms/nowhere/participants/dave/kick');
      assert.equal(none.status, 404, showRes(none));
    });

    test('a role narrowed with the CLI reaches the live participant (UpdateParticipant)', async (t) => {
      memberAdd(M.db, 'blue', 'zoe');
      assert.equal((await M.lk.join((await token(M.srv, 'zoe', 'blue')).json.token)).ok, true);
      await until('zoe present', async () => (await presence(M.srv, 'blue')).includes('zoe'));
      const run = cli(M.db, ['member', 'add', 'blue', 'zoe', '--role', 'listener']);
      assert.equal(run.status, 0, showRun(run));
      const t0 = Date.now();
      const upd = await until('UpdateParticipant(blue, zoe)', () =>
        M.lk.callsOf('UpdateParticipant').find((c) => c.body.identity === 'zoe' && c.status === 200));
      t.diagnostic(`UpdateParticipant ${Date.now() - t0} ms after the CLI returned`);
      assert.deepEqual(upd.value.claims.video, { roomAdmin: true, room: 'blue' });
      assert.equal(upd.value.body.permission.canPublish, false);
      assert.equal(upd.value.body.permission.canSubscribe, true);
      const p = M.lk.rooms.get('blue').participants.get('zoe').info.permission;
      assert.equal(p.canPublish, false);
      assert.equal(p.canPublishData, false);
      assert.ok(M.lk.rooms.get('blue').participants.has('zoe'), 'narrowed, not kicked');
    });

    test('a role change that changes no permission sends no UpdateParticipant', async () => {
      memberAdd(M.db, 'blue', 'yan');
      assert.equal((await M.lk.join((await token(M.srv, 'yan', 'blue')).json.token)).ok, true);
      await until('yan present', async () => (await presence(M.srv, 'blue')).includes('yan'));
      cliOk(M.db, ['member', 'add', 'blue', 'yan', '--role', 'judge']); // member -> judge: the same grants
      const back = await admin(M.srv, 'PUT', '/admin/v1/rooms/blue/members/yan', { role: 'member' });
      assert.equal(back.status, 200, showRes(back));
      cliOk(M.db, ['member', 'add', 'blue', 'yan', '--role', 'listener']); // narrower: sent
      const upd = await until('UpdateParticipant(blue, yan)', () =>
        M.lk.callsOf('UpdateParticipant').find((c) => c.body.identity === 'yan' && c.status === 200));
      assert.equal(upd.value.body.permission.canPublish, false);
      // the decisions are carried out in order: the two before it were looked at first
      assert.equal(M.lk.callsOf('UpdateParticipant').filter((c) => c.body.identity === 'yan').length, 1,
        'only the change that changes permissions reaches LiveKit');
      await until('both unchanged roles logged', () =>
        (M.srv.stderr().match(/"event":"livekit_update","room":"blue","identity":"yan","reason":"role_changed","outcome":"unchanged"/g) ?? []).length === 2);
    });

    test('the Supabase Edge Function contract: a judge\'s seat is free for another judge as soon as the holder leaves the room', async () => {
      const [ja, jb] = [`judge-a-${rand(3)}`, `judge-b-${rand(3)}`];
      memberAdd(M.db, SEAT_ROOM, ja, 'judge');
      memberAdd(M.db, SEAT_ROOM, jb, 'judge');
      const seat1 = { roomType: 'audition', seat: 1 };
      const a = await supabaseToken(M.srv, ja, seat1);
      assert.equal(a.status, 200, showRes(a));
      const joined = await M.lk.join(a.json.token);
      assert.equal(joined.ok, true, joined.reason);
      assert.equal(joined.participant.attributes.seat, '1');
      await until('judge A in presence', async () => (await presence(M.srv, SEAT_ROOM)).includes(ja));
      const taken = await supabaseToken(M.srv, jb, seat1);
      assert.equal(taken.status, 409, showRes(taken));
      assert.deepEqual(taken.json, { error: 'Seat 1 is taken' });

      // participant_left: RoomKey has answered the webhook when leave() resolves
      assert.equal(await M.lk.leave(SEAT_ROOM, ja), true);
      const b = await supabaseToken(M.srv, jb, seat1);
      assert.equal(b.status, 200, `the seat is free at once: ${showRes(b)}`);
      assert.equal(JSON.parse(Buffer.from(b.json.token.split('.')[1], 'base64url')).attributes.seat, '1');
      await until('the release logged', () => M.srv.stderr().includes(`"event":"seat_released","room":"${SEAT_ROOM}","subject":"${ja}","reason":"participant_left"`));

      // a connection that drops (participant_connection_aborted) frees it too
      assert.equal((await M.lk.join(b.json.token)).ok, true);
      assert.equal((await supabaseToken(M.srv, ja, seat1)).status, 409);
      assert.equal(await M.lk.leave(SEAT_ROOM, jb, { aborted: true }), true);
      const again = await supabaseToken(M.srv, ja, seat1);
      assert.equal(again.status, 200, showRes(again));
    });

    test('re-kick: a join with a token from before the kick is kicked again, one with a token from after it is not', async () => {
      // its own instance, reconciling only at start: webhooks alone decide here
      await withPair(makeDb, { reconcile_interval: '0s' }, async (N, db) => {
        roomCreate(db, 'green', { mode: 'members' });
        memberAdd(db, 'green', 'rita');
        const old = (await token(N.srv, 'rita', 'green')).json.token;
        assert.equal((await N.lk.join(old)).ok, true);
        cliOk(db, ['member', 'remove', 'green', 'rita']);
        const removedAt = nowSec();
        await until('rita kicked', () => N.lk.callsOf('RemoveParticipant').find((c) => c.body.identity === 'rita' && c.status === 200));
        await until('rita out', () => !N.lk.rooms.get('green').participants.has('rita'));

        // the old token comes back; LiveKit's webhook for that join is late
        const urls = N.lk.webhookUrls.splice(0);
        let late;
        try {
          late = await N.lk.join(old);
        } finally {
          N.lk.webhookUrls.push(...urls);
        }
        assert.equal(late.ok, true, 'self-hosted LiveKit lets the old token in');
        // meanwhile rita is a member again and gets a fresh token, issued after
        // that join (beyond the clock allowance): it cannot be the one used
        await afterSecond(Math.max(removedAt, Number(late.participant.joinedAt) + CLOCK_SKEW));
        memberAdd(db, 'green', 'rita');
        const fresh = (await token(N.srv, 'rita', 'green')).json.token;
        const n0 = await kicks(N.srv, 'revoked_rejoin');
        const room = () => N.lk.rooms.get('green').room;
        const hook = await N.lk.buildWebhook('participant_joined', { room: room(), participant: late.participant });
        const r = await LiveKitStandin.deliver(urls[0], hook.body, hook.headers);
        assert.equal(r.status, 200, r.text);
        assert.equal(await kicks(N.srv, 'revoked_rejoin'), n0 + 1, 'the late join used the old token: kicked again');
        await until('rita (old token) out', () => !N.lk.rooms.get('green').participants.has('rita'));

        // the fresh token stays in, also when LiveKit's clock is a little behind RoomKey's
        const joined = await N.lk.join(fresh);
        assert.equal(joined.ok, true);
        assert.equal(await kicks(N.srv, 'revoked_rejoin'), n0 + 1, 'a token issued after the kick is not kicked');
        const behind = joined.participant.clone();
        behind.joinedAt = BigInt(iatOf(fresh) - CLOCK_SKEW + 1);
        const skewed = await N.lk.buildWebhook('participant_joined', { room: room(), participant: behind });
        assert.equal((await LiveKitStandin.deliver(urls[0], skewed.body, skewed.headers)).status, 200);
        assert.equal(await kicks(N.srv, 'revoked_rejoin'), n0 + 1, 'joinedAt a few seconds before the fresh token\'s iat: still not kicked');
        assert.ok(N.lk.rooms.get('green').participants.has('rita'));
        assert.deepEqual(await presence(N.srv, 'green'), ['rita']);
        assert.equal(auditList(db, { room: 'green', subject: 'rita' }).length, 2, 'two tokens: the old one and the fresh one');
      });
    });

    test('a join LiveKit delivers after its room session\'s room_finished (its left lost) is not counted as in the room', async () => {
      // its own instance, reconciling only at start: webhooks alone decide here
      await withPair(makeDb, { reconcile_interval: '0s' }, async (N, db) => {
        roomCreate(db, 'amber', { mode: 'members' });
        memberAdd(db, 'amber', 'ivy');
        const tok = (await token(N.srv, 'ivy', 'amber')).json.token;
        // the join, the leave and the room's end happen while no webhook is delivered
        const urls = N.lk.webhookUrls.splice(0);
        let joined, ended, who;
        try {
          joined = await N.lk.join(tok);
          ended = N.lk.rooms.get('amber').room.clone();
          who = joined.participant.clone();
          await N.lk.finish('amber');
        } finally {
          N.lk.webhookUrls.push(...urls);
        }
        assert.equal(joined.ok, true);
        // then room_finished arrives, and the session's join after it; its left never does
        for (const [event, fields] of [['room_finished', { room: ended }], ['participant_joined', { room: ended, participant: who }]]) {
          const w = await N.lk.buildWebhook(event, fields);
          const r = await LiveKitStandin.deliver(urls[0], w.body, w.headers);
          assert.equal(r.status, 200, `${event}: ${r.text}`);
        }
        assert.deepEqual(await presence(N.srv, 'amber'), [], 'a session of a finished room is not in it');
        // the room's next session (a new room SID) counts its joins
        assert.equal((await N.lk.join((await token(N.srv, 'ivy', 'amber')).json.token)).ok, true);
        await until('ivy in the next session', async () => (await presence(N.srv, 'amber')).includes('ivy'));
      });
    });

    test('a decision through the admin API reaches LiveKit without waiting for poll_interval or reconcile_interval', async (t) => {
      // both intervals an hour: only the immediate hand-over can carry the decisions out in time
      await withPair(makeDb, { reconcile_interval: '1h', poll_interval: 3_600_000 }, async (N, db) => {
        roomCreate(db, 'red', { mode: 'members' });
        memberAdd(db, 'red', 'sol');
        memberAdd(db, 'red', 'tam');
        for (const who of ['sol', 'tam']) assert.equal((await N.lk.join((await token(N.srv, who, 'red')).json.token)).ok, true);
        const t0 = Date.now();
        const del = await admin(N.srv, 'DELETE', '/admin/v1/rooms/red/members/sol');
        assert.equal(del.status, 204, showRes(del));
        await until('RemoveParticipant(red, sol)', () =>
          N.lk.callsOf('RemoveParticipant').find((c) => c.body.identity === 'sol' && c.status === 200), 60_000);
        t.diagnostic(`RemoveParticipant ${Date.now() - t0} ms after the admin API answered`);
        assert.ok(!N.lk.rooms.get('red').participants.has('sol'));
        const put = await admin(N.srv, 'PUT', '/admin/v1/rooms/red/members/tam', { role: 'listener' });
        assert.equal(put.status, 200, showRes(put));
        await until('UpdateParticipant(red, tam)', () =>
          N.lk.callsOf('UpdateParticipant').find((c) => c.body.identity === 'tam' && c.status === 200), 60_000);
        assert.equal((await admin(N.srv, 'POST', '/admin/v1/rooms/red/participants/tam/kick')).status, 202);
        await until('tam kicked', () => !N.lk.rooms.get('red').participants.has('tam'), 60_000);
        assert.equal(N.lk.callsOf('ListRooms').length, 1, 'no reconciliation ran but the one at start');
      });
    });

    test('a kick recorded with the CLI while no instance runs is carried out by the next one to start', async () => {
      const db = await makeDb();
      roomCreate(db, 'amber', { mode: 'members' });
      memberAdd(db, 'amber', 'uma');
      const A = await startPair(db, { config: { reconcile_interval: '0s' } });
      const lk = A.lk;
      try {
        try {
          assert.equal((await lk.join((await token(A.srv, 'uma', 'amber')).json.token)).ok, true);
          await until('uma in presence', async () => (await presence(A.srv, 'amber')).includes('uma'));
        } finally {
          await stopChecked(A.srv);
          A.cleanup();
          lk.webhookUrls.splice(0);
        }
        const run = cli(db, ['participant', 'kick', 'amber', 'uma']);
        assert.equal(run.status, 0, showRun(run));
        assert.equal(lk.callsOf('RemoveParticipant').length, 0, 'no instance ran to carry it out');
        // poll_interval an hour and no reconciliation: only the pass at start can carry it out
        const B = await startPair(db, { config: { reconcile_interval: '0s', poll_interval: 3_600_000 }, lk });
        try {
          await until('RemoveParticipant(amber, uma)', () =>
            lk.callsOf('RemoveParticipant').find((c) => c.body.identity === 'uma' && c.status === 200), 60_000);
          assert.ok(!lk.rooms.get('amber').participants.has('uma'));
        } finally {
          await stopChecked(B.srv);
          B.cleanup();
        }
      } finally {
        await lk.stop();
      }
    });

    test('live_rooms.kick_window bounds how long admin and CLI kicks are remembered; SIGHUP applies live_rooms', async () => {
      await withPair(makeDb, { kick_window: '1s', reconcile_interval: '0s' }, async (N, db) => {
        roomCreate(db, 'teal', { mode: 'authenticated', defaultRole: 'member' });
        const tok = { ann: (await token(N.srv, 'ann', 'teal')).json.token, ben: (await token(N.srv, 'ben', 'teal')).json.token };
        const inRoom = (who) => N.lk.rooms.get('teal').participants.has(who);
        for (const who of ['ann', 'ben']) assert.equal((await N.lk.join(tok[who])).ok, true);
        assert.equal((await admin(N.srv, 'POST', '/admin/v1/rooms/teal/participants/ann/kick')).status, 202);
        cliOk(db, ['participant', 'kick', 'teal', 'ben']);
        const kickedAt = nowSec();
        await until('both kicked', () => !inRoom('ann') && !inRoom('ben'));

        await afterSecond(kickedAt + 1); // the 1 s window has passed
        const n0 = await kicks(N.srv, 'revoked_rejoin');
        for (const who of ['ann', 'ben']) assert.equal((await N.lk.join(tok[who])).ok, true);
        assert.equal(await kicks(N.srv, 'revoked_rejoin'), n0, 'kicks older than kick_window are forgotten');
        assert.ok(inRoom('ann') && inRoom('ben'));

        // reload: the default window (livekit.max_ttl) again; the webhook path needs a restart
        fs.writeFileSync(N.configPath, liveYaml({ reconcile_interval: '0s', webhook_path: '/elsewhere' }));
        N.srv.proc.kill('SIGHUP');
        await until('reloaded', () => N.srv.stderr().includes('"event":"reloaded"'));
        assert.ok(N.srv.stderr().includes('"event":"reload_ignored","key":"live_rooms.webhook_path"'), N.srv.stderr());
        for (const who of ['ann', 'ben']) {
          assert.equal(await N.lk.leave('teal', who), true);
          assert.equal((await N.lk.join(tok[who])).ok, true); // its webhook still goes to the old path
        }
        assert.deepEqual(N.lk.webhooks.slice(-4).map((w) => w.status), [200, 200, 200, 200]);
        assert.equal(await kicks(N.srv, 'revoked_rejoin'), n0 + 2, 'the reloaded window holds for the admin and the CLI kick alike');
        await until('both kicked again', () => !inRoom('ann') && !inRoom('ben'));
      });
    });

    test('issuance: max_participants (presence + tokens not yet used) refuses, and goes into roomConfig; a ban refuses', async () => {
      cliOk(M.db, ['room', 'create', 'small', '--mode', 'authenticated', '--default-role', 'member', '--max-participants', '2']);
      const r1 = await token(M.srv, 'p1', 'small');
      assert.equal(r1.status, 200, showRes(r1));
      const claims = JSON.parse(Buffer.from(r1.json.token.split('.')[1], 'base64url'));
      assert.equal(claims.roomConfig.maxParticipants, 2, 'LiveKit applies it when it creates the room');
      assert.equal((await M.lk.join(r1.json.token)).ok, true);
      await until('p1 present', async () => (await presence(M.srv, 'small')).includes('p1'));
      assert.equal((await token(M.srv, 'p2', 'small')).status, 200); // not joined yet: holds a place
      const full = await token(M.srv, 'p3', 'small');
      assert.equal(full.status, 403, showRes(full));
      assert.equal(full.json.message, 'Room is full');
      assert.equal((await token(M.srv, 'p2', 'small')).status, 200, 'p2 already holds a place');
      assert.equal((await token(M.srv, 'p1', 'small')).status, 200, 'p1 is in the room');
      const seen = await request(M.srv, 'GET', '/api/livekit/rooms/small/participants', { headers: bearer(await session('p3')) });
      assert.equal(seen.status, 200, 'a full room still shows who is in it');

      const k = await admin(M.srv, 'POST', '/admin/v1/rooms/open/participants/banned-bo/kick', { ban: '1h' });
      assert.equal(k.status, 202);
      await until('the ban refuses a token', async () => (await token(M.srv, 'banned-bo', 'open')).status === 403);
      assert.equal((await token(M.srv, 'not-banned', 'open')).status, 200);
    });

    test('max_participants holds under concurrent requests: 40 subjects at once for 2 places get 2 tokens', async () => {
      const room = `cap-${rand(4)}`;
      cliOk(M.db, ['room', 'create', room, '--mode', 'authenticated', '--default-role', 'listener', '--max-participants', '2']);
      const subs = Array.from({ length: 40 }, (_, i) => `crowd-${i}-${rand(3)}`);
      const jwts = await Promise.all(subs.map((s) => session(s)));
      const res = await Promise.all(jwts.map((j) => postToken(M.srv, { roomId: room }, bearer(j))));
      const statuses = res.map((r) => r.status).join(' ');
      const ok = res.filter((r) => r.status === 200);
      const full = res.filter((r) => r.status === 403);
      assert.equal(ok.length, 2, `2 places, 2 tokens: ${statuses}`);
      assert.equal(full.length, 38, statuses);
      for (const r of full) assert.deepEqual(r.json, { statusCode: 403, message: 'Room is full', error: 'Forbidden' });
      const given = ok.map((r) => JSON.parse(Buffer.from(r.json.token.split('.')[1], 'base64url')).sub).sort();
      const audit = auditList(M.db, { room });
      assert.deepEqual(audit.map((a) => a.identity).sort(), given, 'one audit record per token handed out, no other');

      // the same identity asking at once holds one place, not one per request
      const room2 = `cap-${rand(4)}`;
      cliOk(M.db, ['room', 'create', room2, '--mode', 'authenticated', '--default-role', 'listener', '--max-participants', '2']);
      const twin = await session(`twin-${rand(3)}`);
      const twice = await Promise.all(Array.from({ length: 8 }, () => postToken(M.srv, { roomId: room2 }, bearer(twin))));
      assert.deepEqual(twice.map((r) => r.status), Array(8).fill(200), twice.map(showRes).join('\n'));
      assert.equal((await token(M.srv, `second-${rand(3)}`, room2)).status, 200, 'the second place is still free');
      assert.equal((await token(M.srv, `third-${rand(3)}`, room2)).status, 403);
    });

    test('meetings: room_started and room_finished move the status; a COMPLETED meeting gets 409', async () => {
      cliOk(M.db, ['meeting', 'create', 'weekly', '--creator', 'owner', '--heading', 'Weekly', '--status', 'SCHEDULED']);
      const show = () => JSON.parse(cliOk(M.db, ['meeting', 'show', 'weekly']).stdout).status;
      const get = async () => request(M.srv, 'GET', '/api/v1/meeting/token/weekly', { headers: bearer(await session('owner')) });
      const r = await get();
      assert.equal(r.status, 200, showRes(r));
      assert.equal((await M.lk.join(r.json.token)).ok, true); // LiveKit creates the room: room_started
      await until('PROCESSING', () => show() === 'PROCESSING');
      await M.lk.finish('meeting-weekly'); // everyone leaves, room_finished
      await until('COMPLETED', () => show() === 'COMPLETED');
      const ended = await get();
      assert.equal(ended.status, 409, showRes(ended));
      assert.deepEqual(ended.json, { success: false, message: 'This meeting has ended' });
    });

    test('a meeting ended through its status route, and a deleted room: everyone in the room is kicked, and kicked again on a rejoin with an old token', async (t) => {
      cliOk(M.db, ['meeting', 'create', 'retro', '--creator', 'host', '--heading', 'Retro', '--status', 'SCHEDULED']);
      const hostJwt = await session('host');
      const r = await request(M.srv, 'GET', '/api/v1/meeting/token/retro', { headers: bearer(hostJwt) });
      assert.equal(r.status, 200, showRes(r));
      const old = r.json.token;
      assert.equal((await M.lk.join(old)).ok, true);
      await until('host in presence', async () => (await presence(M.srv, 'meeting-retro')).includes('host'));
      const closedBefore = await kicks(M.srv, 'room_closed');

      // the creator ends it through the meetings contract's own route
      const put = await request(M.srv, 'PUT', '/api/v1/meeting/status/retro', { body: { status: 'CANCELED' }, headers: bearer(hostJwt) });
      assert.equal(put.status, 200, showRes(put));
      const kicked = await until('RemoveParticipant(meeting-retro, host)', () =>
        M.lk.callsOf('RemoveParticipant').find((c) => c.body.room === 'meeting-retro' && c.body.identity === 'host' && c.status === 200));
      assert.match(kicked.value.body.revokeTokenTs, /^\d+$/);
      await until('host gone', () => !M.lk.rooms.get('meeting-retro')?.participants.has('host'));
      // her token is still valid for LiveKit: the join is kicked at once
      const n = M.lk.callsOf('RemoveParticipant').length;
      assert.equal((await M.lk.join(old)).ok, true);
      await until('the second kick', () => M.lk.callsOf('RemoveParticipant').slice(n).some((c) => c.body.identity === 'host'));
      await until('host gone again', () => !M.lk.rooms.get('meeting-retro')?.participants.has('host'));
      assert.ok((await kicks(M.srv, 'room_closed')) >= closedBefore + 2, 'both kicks counted as room_closed');
      const refused = await request(M.srv, 'GET', '/api/v1/meeting/token/retro', { headers: bearer(hostJwt) });
      assert.equal(refused.status, 409, showRes(refused));

      // a room deleted through the admin API: its participants go the same way
      roomCreate(M.db, 'pop-up', { mode: 'authenticated', defaultRole: 'member' });
      const e = await token(M.srv, 'erin', 'pop-up');
      assert.equal(e.status, 200, showRes(e));
      assert.equal((await M.lk.join(e.json.token)).ok, true);
      await until('erin in presence', async () => (await presence(M.srv, 'pop-up')).includes('erin'));
      const del = await admin(M.srv, 'DELETE', '/admin/v1/rooms/pop-up');
      assert.equal(del.status, 204, showRes(del));
      await until('RemoveParticipant(pop-up, erin)', () =>
        M.lk.callsOf('RemoveParticipant').some((c) => c.body.room === 'pop-up' && c.body.identity === 'erin' && c.status === 200));
      await until('erin gone', () => !M.lk.rooms.get('pop-up')?.participants.has('erin'));
      const m = M.lk.callsOf('RemoveParticipant').length;
      assert.equal((await M.lk.join(e.json.token)).ok, true);
      await until('erin kicked again', () => M.lk.callsOf('RemoveParticipant').slice(m).some((c) => c.body.identity === 'erin'));
      assert.ok((await kicks(M.srv, 'room_deleted')) >= 2, 'both kicks counted as room_deleted');
      t.diagnostic(`room_closed ${await kicks(M.srv, 'room_closed')}, room_deleted ${await kicks(M.srv, 'room_deleted')}`);
    });

    test('webhook negatives: refused or ignored, nothing changed', async () => {
      // its own instance and store, reconciling only at start: the webhooks below
      // name a participant the stand-in does not have, which reconciliation removes
      const db = await makeDb(); // its own store: the suite's instance reconciles presence
      roomCreate(db, 'blue', { mode: 'members' });
      const N = await startPair(db, { config: { reconcile_interval: '0s' } });
      try {
        await webhookNegatives(N.srv);
      } finally {
        await stopChecked(N.srv);
        await N.lk.stop();
        N.cleanup();
      }
    });

    test('LiveKit down or slow: tokens keep their answers; the kick lands once it is back', async () => {
      const tok = (await token(M.srv, 'erin', 'open')).json.token;
      await M.lk.join(tok);
      await until('erin present', async () => (await presence(M.srv, 'open')).includes('erin'));
      await M.lk.setDown(true);
      try {
        const k = await admin(M.srv, 'POST', '/admin/v1/rooms/open/participants/erin/kick');
        assert.equal(k.status, 202, showRes(k));
        for (let i = 0; i < 5; i++) {
          const r = await token(M.srv, `user-${i}`, 'open');
          assert.equal(r.status, 200, showRes(r));
          assertJoinToken(r.json.token, 'open');
        }
      } finally {
        await M.lk.setDown(false);
      }
      await until('the kick, retried, lands', () => !M.lk.rooms.get('open').participants.has('erin'), 20_000);
      M.lk.delayMs = 1500;
      try {
        const fin = (await token(M.srv, 'fred', 'open')).json.token;
        const k2 = await admin(M.srv, 'POST', '/admin/v1/rooms/open/participants/fred/kick');
        assert.equal(k2.status, 202);
        const r = await token(M.srv, 'gina', 'open');
        assert.equal(r.status, 200, 'a slow LiveKit does not hold a token request');
        assert.ok(fin);
      } finally {
        M.lk.delayMs = 0;
      }
    });

    test('reconciliation: a participant whose webhooks were lost appears, one who left silently goes', async () => {
      const urls = M.lk.webhookUrls.splice(0); // webhooks lost
      try {
        await M.lk.join((await token(M.srv, 'hank', 'open')).json.token);
      } finally {
        M.lk.webhookUrls.push(...urls);
      }
      await until('hank from ListParticipants', async () => (await presence(M.srv, 'open')).includes('hank'));
      const lost = M.lk.webhookUrls.splice(0);
      try {
        await M.lk.leave('open', 'hank');
      } finally {
        M.lk.webhookUrls.push(...lost);
      }
      await until('hank gone after reconciliation', async () => !(await presence(M.srv, 'open')).includes('hank'));
    });
  });
}

/** Webhooks that must be refused (or ignored) by srv, and one replay. */
async function webhookNegatives(srv) {
  const url = `${srv.base}/livekit/webhook`;
  const ev = { event: 'participant_joined', id: `EV_${rand(6)}`, createdAt: '1', room: { name: 'blue', sid: 'RM_x' }, participant: { sid: `PA_${rand(6)}`, identity: 'mallory' } };
  const body = JSON.stringify(ev);
  const hdr = (auth, ct = 'application/webhook+json') => ({ 'Content-Type': ct, Authorization: auth });
  const post = (b, h) => LiveKitStandin.deliver(url, b, h);
  const cases = [
    ['bad signature', body, hdr(await signedHook(body, { secret: `${LK_SECRET}x` })), 401],
    ['tampered body', body.replace('mallory', 'mallorz'), hdr(await signedHook(body)), 401],
    ['absent sha256', body, hdr(await signedHook(body, { sha: null })), 401],
    ['wrong sha256', body, hdr(await signedHook(body, { sha: createHash('sha256').update('x').digest('base64') })), 401],
    ['unpadded sha256', body, hdr(await signedHook(body, { sha: createHash('sha256').update(body).digest('base64').replace(/=+$/, '') })), 401],
    ['stale token', body, hdr(await signedHook(body, { nbf: Math.floor(Date.now() / 1000) - 900 })), 401],
    ['Bearer prefix', body, hdr(`Bearer ${await signedHook(body)}`), 401],
    ['no Authorization', body, { 'Content-Type': 'application/webhook+json' }, 401],
    ['wrong content type', body, hdr(await signedHook(body), 'application/json'), 415],
    ['garbled body', '{"event":', hdr(await signedHook('{"event":')), 400],
    ['no id', '{"event":"participant_joined"}', hdr(await signedHook('{"event":"participant_joined"}')), 400],
  ];
  const big = JSON.stringify({ ...ev, pad: 'x'.repeat(300 * 1024) });
  cases.push(['oversized body', big, hdr(await signedHook(big)), 413]);
  for (const [what, b, h, status] of cases) {
    const r = await post(b, h);
    assert.equal(r.status, status, `${what}: ${r.text}`);
    if (status !== 413) assert.match(r.text, /"error":\{"code":/, `${what}: the error shape`);
  }
  assert.ok(!(await presence(srv, 'blue')).includes('mallory'), 'no refused webhook changed presence');

  // the genuine one is applied once; a replay of its id changes nothing
  const ok = await post(body, hdr(await signedHook(body)));
  assert.equal(ok.status, 200, ok.text);
  assert.equal(JSON.parse(ok.text).outcome, 'applied');
  const left = JSON.stringify({ ...ev, event: 'participant_left' });
  await post(left, hdr(await signedHook(left))); // same id as the join: a duplicate
  const dup = await post(body, hdr(await signedHook(body)));
  assert.equal(JSON.parse(dup.text).outcome, 'duplicate');
  assert.ok((await presence(srv, 'blue')).includes('mallory'), 'a replayed id did not undo the join');
  const fresh = JSON.stringify({ ...ev, id: `EV_${rand(6)}`, event: 'participant_left' });
  assert.equal((await post(fresh, hdr(await signedHook(fresh)))).status, 200);
  assert.ok(!(await presence(srv, 'blue')).includes('mallory'));
  const other = JSON.stringify({ event: 'track_published', id: `EV_${rand(6)}` });
  assert.equal(JSON.parse((await post(other, hdr(await signedHook(other)))).text).outcome, 'ignored');
}

function assertJoinToken(tok, room) {
  const claims = JSON.parse(Buffer.from(tok.split('.')[1], 'base64url'));
  assert.equal(claims.video.room, room);
  assert.equal(claims.video.roomJoin, true);
}

const sqliteDirs = [];
liveSuite('SQLite', async () => {
  const t = tempDir();
  sqliteDirs.push(t);
  return path.join(t.dir, 'roomkey.db');
});

describe('live rooms on PostgreSQL', () => {
  const P = {};
  before(() => {
    P.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rk-live-pg-'));
    P.url = execFileSync(CTL, ['start', P.dir], { encoding: 'utf8', timeout: 120_000 }).trim();
  });
  after(() => {
    for (const t of sqliteDirs) t.cleanup();
    if (P.dir) {
      try { execFileSync(CTL, ['stop', P.dir], { timeout: 120_000 }); } finally { fs.rmSync(P.dir, { recursive: true, force: true }); }
    }
  });

  /** Two instances A and B on the suite's PostgreSQL and one stand-in: fn(a, b). */
  async function withTwo(fn) {
    const a = await startPair(P.url);
    const b = await startPair(P.url, { lk: a.lk });
    try {
      await fn(a, b);
    } finally {
      await stopChecked(a.srv);
      await stopChecked(b.srv);
      await a.lk.stop();
      a.cleanup();
      b.cleanup();
    }
  }

  // a fresh database on the test server for each store the suite asks for
  liveSuite('PostgreSQL', async () => {
    const name = `rk_live_${rand(6)}`;
    execFileSync('psql', [P.url, '-X', '-q', '-v', 'ON_ERROR_STOP=1', '-c', `CREATE DATABASE ${name}`], { timeout: 30_000 });
    const u = new URL(P.url);
    u.pathname = `/${name}`;
    return u.toString();
  });

  test('two instances on one PostgreSQL: a burst split between them gets at most max_participants per instance (docs/live-rooms.md)', async (t) => {
    const room = `cap-${rand(4)}`;
    cliOk(P.url, ['room', 'create', room, '--mode', 'authenticated', '--default-role', 'listener', '--max-participants', '2']);
    await withTwo(async (a, b) => {
      const jwts = await Promise.all(Array.from({ length: 40 }, (_, i) => session(`split-${i}-${rand(3)}`)));
      const res = await Promise.all(jwts.map((j, i) => postToken(i % 2 ? a.srv : b.srv, { roomId: room }, bearer(j))));
      const okOn = (odd) => res.filter((r, i) => r.status === 200 && i % 2 === odd).length;
      t.diagnostic(`tokens: ${okOn(1)} from A, ${okOn(0)} from B`);
      assert.equal(res.filter((r) => r.status !== 200 && r.status !== 403).length, 0, res.map((r) => r.status).join(' '));
      assert.ok(okOn(1) <= 2 && okOn(0) <= 2, 'each instance alone holds the limit');
      assert.ok(okOn(1) + okOn(0) >= 2, 'no place is refused while free');
      assert.equal(auditList(P.url, { room }).length, okOn(1) + okOn(0));
      for (const srv of [a.srv, b.srv]) // committed: both count them
        assert.equal((await token(srv, `late-${rand(3)}`, room)).status, 403);
    });
  });

  test('two instances on one PostgreSQL: a webhook delivered to A is in presence on B', async (t) => {
    roomCreate(P.url, 'shared', { mode: 'authenticated', defaultRole: 'member' });
    await withTwo(async (a, b) => {
      a.lk.webhookUrls.splice(1); // webhooks go to A only
      const tok = (await token(b.srv, 'ivy', 'shared')).json.token;
      // every serving thread of B has its PostgreSQL connection open
      await Promise.all(Array.from({ length: 16 }, () => presence(b.srv, 'shared')));
      const t0 = Date.now();
      await a.lk.join(tok);
      const seen = await until('ivy on B', async () => (await presence(b.srv, 'shared')).includes('ivy'));
      t.diagnostic(`visible on B ${Date.now() - t0} ms after the webhook was sent`);
      // a kick asked of B is carried out once, by one of them
      const n = a.lk.callsOf('RemoveParticipant').length;
      const k = await admin(b.srv, 'POST', '/admin/v1/rooms/shared/participants/ivy/kick');
      assert.equal(k.status, 202);
      await until('ivy kicked', () => !a.lk.rooms.get('shared').participants.has('ivy'));
      await sleep(600); // both pollers have looked at least twice
      const calls = a.lk.callsOf('RemoveParticipant').slice(n).filter((c) => c.body.identity === 'ivy');
      assert.equal(calls.filter((c) => c.status === 200).length, 1, 'carried out once');
    });
  });
});

describe('live rooms: a LiveKit key rotation by reload', () => {
  test('after SIGHUP with a new signing key, RoomService calls are signed with it, so kicks still work once LiveKit drops the old key', async () => {
    const [oldKey, newKey] = ['APIrotateOld', 'APIrotateNew'];
    const secrets = { [oldKey]: `old-secret-${rand(24)}`, [newKey]: `new-secret-${rand(24)}` };
    const t = tempDir();
    const db = path.join(t.dir, 'roomkey.db');
    roomCreate(db, 'rota', { mode: 'authenticated', defaultRole: 'member' });
    const signer = (key) => ({ api_key: key, api_secret: secrets[key] });
    const config = { reconcile_interval: '0s' };
    const lk = await new LiveKitStandin({ keys: { ...secrets }, webhookKey: oldKey }).start();
    const { srv, configPath, cleanup } = await startPair(db, { config, lk, livekit: signer(oldKey) });
    const issuer = (tok) => JSON.parse(Buffer.from(tok.split('.')[1], 'base64url')).iss;
    try {
      const ann = (await token(srv, 'ann', 'rota')).json.token;
      assert.equal(issuer(ann), oldKey);
      assert.equal((await lk.join(ann)).ok, true);

      // the operator rotates: RoomKey reloads with the new key, then LiveKit drops the old one
      fs.writeFileSync(configPath, liveYaml(config, signer(newKey)));
      srv.proc.kill('SIGHUP');
      await until('reloaded', () => srv.stderr().includes('"event":"reloaded"'));
      lk.keys = { [newKey]: secrets[newKey] };
      lk.webhookKey = newKey;
      const ben = (await token(srv, 'ben', 'rota')).json.token;
      assert.equal(issuer(ben), newKey, 'tokens are minted with the new key');
      assert.equal((await lk.join(ben)).ok, true);

      const before = lk.callsOf('RemoveParticipant').length;
      assert.equal((await admin(srv, 'POST', '/admin/v1/rooms/rota/participants/ann/kick')).status, 202);
      const kick = await until('RemoveParticipant(rota, ann) answered', () =>
        lk.callsOf('RemoveParticipant').slice(before).find((c) => c.body?.identity === 'ann' || c.status === 401), 30_000);
      assert.equal(kick.value.status, 200, `LiveKit answered ${kick.value.status} ${kick.value.error ?? ''}: the call was not signed with the new key`);
      assert.equal(kick.value.claims.iss, newKey);
      assert.ok(!lk.rooms.get('rota').participants.has('ann'));
      assert.ok(!srv.stderr().includes('"event":"reload_ignored"'), srv.stderr());
    } finally {
      await stopChecked(srv);
      await lk.stop();
      cleanup();
      t.cleanup();
    }
  });
});
