// Black-box tests of the supabase route family (the Supabase Edge Function contract, a talent show
// whose token endpoint is a Supabase Edge Function):
//   POST /functions/v1/livekit-token {roomType, userName?, seat?} -> {token, livekitUrl}
//   POST /functions/v1/livekit-token/release-seat {roomType, seat?}
//   OPTIONS on both (CORS preflight)
//
// The real binary runs on a loopback port with a YAML config; session JWTs
// are Supabase-shaped (ES256/RS256 from a JWKS served here, and the legacy
// HS256 project secret), made with jose; every minted token is verified
// with livekit-server-sdk's TokenVerifier and its grants checked against
// the caller's role in that room.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { assertBody, assertShape, verifyToken } from './seed-checks-lib.mjs';
import { run } from './lib.mjs';
import { logLines } from './ops-lib.mjs';
import {
  BIN,
  auditList,
  bearer,
  cli,
  makeKey,
  memberAdd,
  nowSec,
  rand,
  request as rawRequest,
  showRes,
  signJwt,
  sleep,
  startJwks,
  startServer,
  stopChecked,
  tempDir,
  toYaml,
} from './service-lib.mjs';

const LK_KEY = 'APIsupabaseTestKey';
const LK_SECRET = `lk-secret-${rand(20)}`;
const LK_URL = 'wss://talent.livekit.test';
const PROJECT = 'https://talentproj.supabase.test/auth/v1';
const PROJECT_SECRET = `super-secret-jwt-token-${rand(16)}`;
const TOKEN = '/functions/v1/livekit-token';
const RELEASE = '/functions/v1/livekit-token/release-seat';
// A Supabase function answers CORS for every origin ("*"); RoomKey answers
// from its exact-match allow-list (cors: in the config), so the app's origin
// is configured and every request here comes from it.
const ORIGIN = 'https://talent.example';
const CORS_CONFIG = { origins: [ORIGIN], allow_headers: 'authorization, x-client-info, apikey, content-type' };
const CORS = { 'access-control-allow-origin': ORIGIN };
const request = (srv, method, p, o = {}) => rawRequest(srv, method, p, { ...o, headers: { origin: ORIGIN, ...(o.headers || {}) } });

const ROOMS = { audition: 'audition-room', main_show: 'main-show', quick: 'quick-room', panel: 'panel-room' };

const config = (db) => ({
  database: db,
  server: { listen: '127.0.0.1:0' },
  livekit: { api_key: LK_KEY, api_secret: LK_SECRET, default_ttl: '1h' },
  issuers: [], // filled in before()
  api_keys: [{ id: 'backend', key: 'rk_backend_supabase_test_key_0123456789', permissions: ['mint_any'] }],
  cors: CORS_CONFIG,
  roles: {
    judge: { can_publish: true, can_subscribe: true, can_publish_data: true },
    performer: { can_publish: true, can_subscribe: true },
    viewer: { can_subscribe: true },
    quickjudge: { can_publish: true, can_subscribe: true, can_publish_data: true, max_ttl: '3s' },
  },
  supabase: {
    room_types: {
      audition: { room: ROOMS.audition, seats: 3, roles: { judge: 'judge', contestant: 'performer' } },
      main_show: { room: ROOMS.main_show, roles: { judge: 'judge', contestant: 'performer', audience: 'viewer' } },
      quick: { room: ROOMS.quick, seats: 2, seat_role: 'quickjudge', roles: { judge: 'quickjudge' } },
      panel: { room: ROOMS.panel, seats: 1, roles: { judge: 'judge' } },
    },
  },
});

function checkCors(r) {
  for (const [k, v] of Object.entries(CORS)) assert.equal(r.headers.get(k), v, `${k}: ${showRes(r)}`);
}

/** {error} body with the CORS headers. */
function assertErr(r, status, message) {
  assertShape(r, status, { fixed: {}, messageKey: 'error' }, message);
  checkCors(r);
}

describe('supabase family (the Supabase Edge Function contract)', () => {
  const M = {};
  const want = (over) => ({ key: LK_KEY, secret: LK_SECRET, ttl: 3600, ...over });

  /** A Supabase user session: role authenticated, app_metadata.role, signed with the JWKS key. */
  async function userJwt({ sub = randomUUID(), role, alg = 'ES256', claims = {} } = {}) {
    const k = alg === 'ES256' ? M.es : M.rs;
    const t = nowSec();
    return signJwt({
      alg, key: k.privateKey, kid: k.kid,
      claims: {
        iss: PROJECT, aud: 'authenticated', sub, role: 'authenticated', email: `${sub}@example.test`,
        app_metadata: { provider: 'email', ...(role ? { role } : {}) }, user_metadata: {},
        is_anonymous: false, aal: 'aal1', session_id: randomUUID(), iat: t, exp: t + 3600, ...claims,
      },
    });
  }
  /** The same, signed with the legacy HS256 project secret. */
  async function legacyJwt(claims) {
    const t = nowSec();
    return signJwt({ alg: 'HS256', key: PROJECT_SECRET, claims: { iat: t, exp: t + 3600, ...claims } });
  }
  async function session(role, extra = {}) {
    const sub = extra.sub ?? randomUUID();
    return { sub, jwt: await userJwt({ sub, role, ...extra }) };
  }

  const post = (p, body, jwt, headers = {}) => request(M.srv, 'POST', p, { body, headers: { ...(jwt ? bearer(jwt) : {}), ...headers } });

  async function mintOk(s, body, w) {
    const r = await post(TOKEN, body, s.jwt);
    assert.equal(r.status, 200, showRes(r));
    assert.deepEqual(Object.keys(r.json).sort(), ['livekitUrl', 'token'], `response is exactly {token, livekitUrl}: ${showRes(r)}`);
    assert.equal(r.json.livekitUrl, LK_URL);
    checkCors(r);
    const claims = await verifyToken(r.json.token, want({ identity: s.sub, t0: r.t0, t1: r.t1, ...w }));
    return { r, claims };
  }

  before(async () => {
    M.tmp = tempDir();
    M.db = path.join(M.tmp.dir, 'rk.db');
    M.es = await makeKey('ES256', 'sb-es-1');
    M.rs = await makeKey('RS256', 'sb-rs-1');
    M.jwks = await startJwks([M.es.jwk, M.rs.jwk]);
    const c = config(M.db);
    c.issuers = [
      { name: 'supabase', algorithms: ['ES256', 'RS256'], jwks: M.jwks.url, allow_http_jwks: true,
        issuer: PROJECT, audience: 'authenticated', role_claim: 'app_metadata.role', name_claim: 'user_metadata.full_name',
        subject_prefix: '' },
      // The legacy project secret; no iss/aud check, so the project's
      // anon/service_role keys reach the family's own session checks.
      // One project, one user base: both issuers' subjects are its users'.
      { name: 'legacy', algorithms: ['HS256'], secret: PROJECT_SECRET, role_claim: 'app_metadata.role', subject_prefix: '' },
    ];
    M.configPath = path.join(M.tmp.dir, 'roomkey.yaml');
    fs.writeFileSync(M.configPath, toYaml(c));
    M.srv = await startServer({ configPath: M.configPath, env: { LIVEKIT_URL: LK_URL } });
  });

  after(async () => {
    try {
      await stopChecked(M.srv);
    } finally {
      await M.jwks?.close();
      M.tmp?.cleanup();
    }
  });

  test('the binary exists', () => assert.ok(fs.existsSync(BIN)));

  test('the room types\' rooms were created at start (authenticated mode, no default role)', () => {
    for (const room of Object.values(ROOMS)) {
      const r = cli(M.db, ['room', 'show', room]);
      assert.equal(r.status, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.equal(j.mode, 'authenticated');
      assert.equal(j.default_role, null);
    }
  });

  describe('the contract\'s contract', () => {
    test('CORS preflight from the app\'s origin: 2xx with the function\'s headers; another origin is refused', async () => {
      const ask = { 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, x-client-info, apikey, content-type' };
      for (const p of [TOKEN, RELEASE]) {
        const r = await request(M.srv, 'OPTIONS', p, { headers: ask });
        assert.equal(r.status, 204, showRes(r));
        checkCors(r);
        assert.match(r.headers.get('access-control-allow-methods'), /\bPOST\b/);
        assert.equal(r.headers.get('access-control-allow-headers'), CORS_CONFIG.allow_headers);
        const bad = await request(M.srv, 'OPTIONS', p, { headers: { ...ask, origin: 'https://evil.example' } });
        assert.equal(bad.status, 403, showRes(bad));
        assert.equal(bad.headers.get('access-control-allow-origin'), null);
      }
      // a plain OPTIONS (no CORS) is answered as the function does
      const plain = await rawRequest(M.srv, 'OPTIONS', TOKEN);
      assert.equal(plain.status, 200, showRes(plain));
      assert.equal(plain.text, 'ok');
      // an answer to another origin carries no CORS headers, so a browser there can't read it
      const other = await request(M.srv, 'POST', TOKEN, { body: { roomType: 'audition' }, headers: { origin: 'https://evil.example' } });
      assert.equal(other.headers.get('access-control-allow-origin'), null);
    });

    test('contract example: {"roomType":"audition"} as a judge -> {token, livekitUrl}, 1 hour TTL, judge grants', async () => {
      const s = await session('judge');
      await mintOk(s, { roomType: 'audition' }, { room: ROOMS.audition, role: 'judge' });
    });

    test('getLiveKitToken(roomType, userName): the display name becomes the token name', async () => {
      const s = await session('judge');
      await mintOk(s, { roomType: 'audition', userName: 'Judge Name' }, { room: ROOMS.audition, role: 'judge', name: 'Judge Name' });
    });

    test('no userName: the session\'s name claim (user_metadata.full_name) is used', async () => {
      const s = await session('contestant', { claims: { user_metadata: { full_name: 'Ana Singer' } } });
      await mintOk(s, { roomType: 'main_show' }, { room: ROOMS.main_show, role: 'performer', name: 'Ana Singer' });
    });

    test('Room Types: judges publish in the audition room, contestants join and perform', async () => {
      await mintOk(await session('judge'), { roomType: 'audition' }, { room: ROOMS.audition, role: 'judge' });
      await mintOk(await session('contestant'), { roomType: 'audition' }, { room: ROOMS.audition, role: 'performer' });
    });

    test('Room Types: main show - performers and judges publish, the audience only subscribes', async () => {
      await mintOk(await session('judge'), { roomType: 'main_show' }, { room: ROOMS.main_show, role: 'judge' });
      await mintOk(await session('contestant'), { roomType: 'main_show' }, { room: ROOMS.main_show, role: 'performer' });
      const { claims } = await mintOk(await session('audience'), { roomType: 'main_show' }, { room: ROOMS.main_show, role: 'viewer' });
      assert.notEqual(claims.video.canPublish, true);
      assert.equal(claims.video.canSubscribe, true);
    });

    test('RS256 sessions from the JWKS and legacy HS256 project-secret sessions work too', async () => {
      const sub = randomUUID();
      await mintOk({ sub, jwt: await userJwt({ sub, role: 'judge', alg: 'RS256' }) }, { roomType: 'audition' }, { room: ROOMS.audition, role: 'judge' });
      const sub2 = randomUUID();
      const jwt = await legacyJwt({ iss: PROJECT, aud: 'authenticated', sub: sub2, role: 'authenticated', app_metadata: { role: 'audience' } });
      await mintOk({ sub: sub2, jwt }, { roomType: 'main_show' }, { room: ROOMS.main_show, role: 'viewer' });
    });

    test('every token is audited (jti, subject, room, role; never the token)', async () => {
      const s = await session('judge');
      const { claims, r } = await mintOk(s, { roomType: 'audition' }, { room: ROOMS.audition, role: 'judge' });
      const recs = auditList(M.db, { subject: s.sub });
      assert.equal(recs.length, 1);
      assert.equal(recs[0].jti, claims.jti);
      assert.equal(recs[0].room, ROOMS.audition);
      assert.equal(recs[0].role, 'judge');
      assert.equal(recs[0].identity, s.sub);
      assert.equal(recs[0].route, 'supabase.livekit-token');
      assert.equal(recs[0].exp, claims.exp);
      assert.ok(!JSON.stringify(recs).includes(r.json.token));
    });

    test('a membership in the room wins over the session role', async () => {
      const s = await session('contestant');
      memberAdd(M.db, ROOMS.audition, s.sub, 'judge');
      await mintOk(s, { roomType: 'audition' }, { room: ROOMS.audition, role: 'judge' });
    });
  });

  describe('400 Missing required parameters', () => {
    test('no roomType, null, empty', async () => {
      const s = await session('judge');
      for (const body of [{}, { roomType: null }, { roomType: '' }, { userName: 'x' }]) {
        assertErr(await post(TOKEN, body, s.jwt), 400, 'Missing required parameters: roomType');
      }
    });

    test('unknown or non-string roomType', async () => {
      const s = await session('judge');
      for (const roomType of ['backstage', 'AUDITION', 7, ['audition'], { t: 'audition' }, 'audition-room']) {
        assertErr(await post(TOKEN, { roomType }, s.jwt), 400, 'Invalid roomType. Must be one of: audition, main_show, quick, panel');
      }
    });

    test('body not JSON, not an object, duplicate keys', async () => {
      const s = await session('judge');
      assertErr(await post(TOKEN, '{"roomType":', s.jwt), 400);
      assertErr(await post(TOKEN, '["audition"]', s.jwt), 400);
      assertErr(await post(TOKEN, '"audition"', s.jwt), 400);
      assertErr(await post(TOKEN, '{"roomType":"main_show","roomType":"audition"}', s.jwt), 400);
    });

    test('userName not a string or longer than 256', async () => {
      const s = await session('judge');
      assertErr(await post(TOKEN, { roomType: 'audition', userName: 42 }, s.jwt), 400, /userName/);
      assertErr(await post(TOKEN, { roomType: 'audition', userName: 'x'.repeat(257) }, s.jwt), 400, /userName/);
      await mintOk(s, { roomType: 'audition', userName: 'y'.repeat(256) }, { room: ROOMS.audition, role: 'judge', name: 'y'.repeat(256) });
    });
  });

  describe('401: only signed-in Supabase users', () => {
    test('no Authorization header', async () => {
      assertErr(await post(TOKEN, { roomType: 'audition' }), 401, 'Missing authorization header');
    });

    const anonKey = () => legacyJwt({ iss: 'supabase', ref: 'talentproj', role: 'anon' });
    const serviceKey = () => legacyJwt({ iss: 'supabase', ref: 'talentproj', role: 'service_role' });
    const cases = [
      ['garbage', async () => 'not-a-jwt.at.all'],
      ['wrong signature', async () => { const [h, p] = (await userJwt({ role: 'judge' })).split('.'); return `${h}.${p}.${'A'.repeat(86)}`; }],
      ['expired session', async () => userJwt({ role: 'judge', claims: { iat: nowSec() - 7200, exp: nowSec() - 3600 } })],
      ['wrong audience', async () => userJwt({ role: 'judge', claims: { aud: 'anon' } })],
      ['the project\'s anon key (role anon, no sub)', anonKey],
      ['the project\'s service_role key (role service_role, no sub)', serviceKey],
      ['role anon even with a sub', async () => legacyJwt({ sub: randomUUID(), role: 'anon', app_metadata: { role: 'judge' } })],
      ['role service_role even with a sub', async () => legacyJwt({ sub: randomUUID(), role: 'service_role', app_metadata: { role: 'judge' } })],
      ['role service_role from the JWKS issuer', async () => userJwt({ role: 'judge', claims: { role: 'service_role' } })],
      ['no role claim at all', async () => userJwt({ role: 'judge', claims: { role: undefined } })],
      ['a RoomKey API key as Bearer', async () => 'rk_backend_supabase_test_key_0123456789'],
    ];
    for (const [title, mk] of cases) {
      test(`${title} -> 401`, async () => {
        const r = await post(TOKEN, { roomType: 'audition' }, await mk());
        assertErr(r, 401);
        assert.notEqual(r.json.error, 'Missing authorization header');
      });
    }

    test('an API key in X-API-Key (with the anon key as Bearer, as supabase-js sends) -> 401', async () => {
      const r = await post(TOKEN, { roomType: 'audition' }, await anonKey(), { 'x-api-key': 'rk_backend_supabase_test_key_0123456789', apikey: await anonKey() });
      assertErr(r, 401);
    });

    test('anonymous sign-ins (is_anonymous) are refused while supabase.allow_anonymous is off', async () => {
      const r = await post(TOKEN, { roomType: 'main_show' }, await userJwt({ role: 'audience', claims: { is_anonymous: true } }));
      assertErr(r, 401, 'Anonymous sessions are not allowed');
    });

    test('401s name no reason beyond the message and mint nothing', async () => {
      const before = auditList(M.db, {}).length;
      await post(TOKEN, { roomType: 'audition' }, await anonKey());
      assert.equal(auditList(M.db, {}).length, before);
    });
  });

  describe('403: identity and roles come from the session', () => {
    test('identity spoofing: a body identity or userId naming someone else', async () => {
      const s = await session('judge');
      for (const body of [{ identity: 'someone-else' }, { userId: 'someone-else' }, { userId: 7 }, { identity: s.sub, userId: 'x' }]) {
        assertErr(await post(TOKEN, { roomType: 'audition', ...body }, s.jwt), 403, 'identity must be the authenticated user');
      }
      await mintOk(s, { roomType: 'audition', userId: s.sub, identity: s.sub }, { room: ROOMS.audition, role: 'judge' });
    });

    test('role escalation through request fields is ignored: the audience stays viewer', async () => {
      const s = await session('audience');
      await mintOk(s, { roomType: 'main_show', role: 'judge', app_metadata: { role: 'judge' }, canPublish: true, grants: { roomAdmin: true } },
        { room: ROOMS.main_show, role: 'viewer' });
    });

    test('user_metadata.role (user-editable) never grants a role', async () => {
      const s = await session(undefined, { claims: { user_metadata: { role: 'judge' } } });
      assertErr(await post(TOKEN, { roomType: 'main_show' }, s.jwt), 403, 'Not allowed to join this room');
    });

    test('another room: the audience has no role in the audition room', async () => {
      const s = await session('audience');
      assertErr(await post(TOKEN, { roomType: 'audition' }, s.jwt), 403, 'Not allowed to join this room');
    });

    test('a role claim that names a configured role but is not mapped for the room gets nothing', async () => {
      // "viewer" is a configured role, but main_show maps only judge/contestant/audience
      assertErr(await post(TOKEN, { roomType: 'main_show' }, (await session('viewer')).jwt), 403);
      assertErr(await post(TOKEN, { roomType: 'audition' }, (await session('performer')).jwt), 403);
    });

    test('no role claim: 403', async () => {
      assertErr(await post(TOKEN, { roomType: 'audition' }, (await session(undefined)).jwt), 403);
    });
  });

  describe('judge seats', () => {
    test('a judge takes seat N: the token carries attributes {seat: "N"}', async () => {
      const s = await session('judge');
      await mintOk(s, { roomType: 'audition', seat: 1 }, { room: ROOMS.audition, role: 'judge', attributes: { seat: '1' } });
      M.seatHolder = s;
    });

    test('the same judge asking again keeps the seat', async () => {
      await mintOk(M.seatHolder, { roomType: 'audition', seat: 1 }, { room: ROOMS.audition, role: 'judge', attributes: { seat: '1' } });
    });

    test('another judge gets 409 for a held seat, and another seat is fine', async () => {
      const other = await session('judge');
      assertErr(await post(TOKEN, { roomType: 'audition', seat: 1 }, other.jwt), 409, 'Seat 1 is taken');
      await mintOk(other, { roomType: 'audition', seat: 2 }, { room: ROOMS.audition, role: 'judge', attributes: { seat: '2' } });
      M.seat2 = other;
    });

    test('a conflict mints nothing', async () => {
      const other = await session('judge');
      assertErr(await post(TOKEN, { roomType: 'audition', seat: 1 }, other.jwt), 409);
      assert.equal(auditList(M.db, { subject: other.sub }).length, 0);
    });

    test('only judges take seats: a contestant (or an escalating body) gets 403', async () => {
      const s = await session('contestant');
      assertErr(await post(TOKEN, { roomType: 'audition', seat: 3 }, s.jwt), 403, 'Only a judge can take a seat');
      assertErr(await post(TOKEN, { roomType: 'audition', seat: 3, role: 'judge' }, s.jwt), 403);
    });

    test('seat numbers are 1..seats of that room type; rooms without seats refuse a seat', async () => {
      const s = await session('judge');
      for (const seat of [0, 4, -1, 1.5, '1', true, [1]]) {
        assertErr(await post(TOKEN, { roomType: 'audition', seat }, s.jwt), 400, 'seat must be an integer from 1 to 3');
      }
      assertErr(await post(TOKEN, { roomType: 'main_show', seat: 1 }, s.jwt), 400, 'This room has no judge seats');
    });

    test('a token without a seat carries no attributes and keeps the judge\'s seat', async () => {
      await mintOk(M.seatHolder, { roomType: 'audition' }, { room: ROOMS.audition, role: 'judge' });
      assertErr(await post(TOKEN, { roomType: 'audition', seat: 1 }, (await session('judge')).jwt), 409);
    });

    test('release: the holder gives the seat back, then another judge takes it', async () => {
      const other = await session('judge');
      assertErr(await post(RELEASE, { roomType: 'audition', seat: 1 }, other.jwt), 404, 'No seat held');
      const r = await post(RELEASE, { roomType: 'audition', seat: 1 }, M.seatHolder.jwt);
      assertBody(r, 200, { released: true });
      checkCors(r);
      assertErr(await post(RELEASE, { roomType: 'audition', seat: 1 }, M.seatHolder.jwt), 404, 'No seat held');
      await mintOk(other, { roomType: 'audition', seat: 1 }, { room: ROOMS.audition, role: 'judge', attributes: { seat: '1' } });
      // without a seat number: whatever seat the caller holds in that room
      assertBody(await post(RELEASE, { roomType: 'audition' }, other.jwt), 200, { released: true });
      await mintOk(M.seatHolder, { roomType: 'audition', seat: 1 }, { room: ROOMS.audition, role: 'judge', attributes: { seat: '1' } });
    });

    test('release needs a user session and a valid roomType', async () => {
      assertErr(await post(RELEASE, { roomType: 'audition' }), 401, 'Missing authorization header');
      assertErr(await post(RELEASE, { roomType: 'nope' }, M.seatHolder.jwt), 400);
      assertErr(await post(RELEASE, { roomType: 'audition', seat: 9 }, M.seatHolder.jwt), 400);
    });

    test('one seat per judge: moving to another seat frees the old one', async () => {
      await mintOk(M.seat2, { roomType: 'audition', seat: 3 }, { room: ROOMS.audition, role: 'judge', attributes: { seat: '3' } });
      await mintOk(await session('judge'), { roomType: 'audition', seat: 2 }, { room: ROOMS.audition, role: 'judge', attributes: { seat: '2' } });
    });

    test('a seat taken for a token whose audit record fails is free again at once (the token is never sent)', async () => {
      const sql = (q) => {
        const r = spawnSync('sqlite3', [M.db, q], { encoding: 'utf8' });
        assert.equal(r.status, 0, r.stderr);
      };
      const first = await session('judge');
      sql("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'refused by test'); END;");
      try {
        const r = await post(TOKEN, { roomType: 'quick', seat: 1 }, first.jwt);
        assert.equal(r.status, 500, showRes(r));
        assert.ok(!/eyJ/.test(r.text ?? JSON.stringify(r.json)), 'no token in the 500 body');
      } finally {
        sql('DROP TRIGGER refuse_audit;');
      }
      // another judge takes the seat the failed request had claimed
      const other = await session('judge');
      await mintOk(other, { roomType: 'quick', seat: 1 }, { room: ROOMS.quick, role: 'quickjudge', ttl: 3, attributes: { seat: '1' } });
      assert.match(M.srv.stderr(), /"event":"seat_released"[^\n]*"reason":"audit_failed"/);
    });

    test('a race of 8 judges for one free seat: exactly one wins', async () => {
      const judges = await Promise.all(Array.from({ length: 8 }, () => session('judge')));
      const rs = await Promise.all(judges.map((j) => post(TOKEN, { roomType: 'panel', seat: 1 }, j.jwt)));
      const won = rs.filter((r) => r.status === 200);
      const lost = rs.filter((r) => r.status === 409);
      assert.equal(won.length, 1, rs.map((r) => r.status).join(','));
      assert.equal(lost.length, 7, rs.map((r) => r.status).join(','));
      for (const r of lost) assertErr(r, 409, 'Seat 1 is taken');
      const i = rs.indexOf(won[0]);
      await verifyToken(won[0].json.token, want({ identity: judges[i].sub, room: ROOMS.panel, role: 'judge', attributes: { seat: '1' }, t0: won[0].t0, t1: won[0].t1 }));
      // the losers minted nothing
      for (const [k, j] of judges.entries()) if (k !== i) assert.equal(auditList(M.db, { subject: j.sub }).length, 0);
    });

    test('a seat expires with the token: another judge gets it once the holder\'s token exp has passed', async () => {
      const a = await session('judge');
      const b = await session('judge');
      const r0 = await post(TOKEN, { roomType: 'quick', seat: 2 }, a.jwt);
      assert.equal(r0.status, 200, showRes(r0));
      const claims = await verifyToken(r0.json.token, want({ identity: a.sub, room: ROOMS.quick, role: 'quickjudge', ttl: 3, attributes: { seat: '2' }, t0: r0.t0, t1: r0.t1 }));
      // Poll until b gets the seat; every answer must agree with a's exp:
      // 409 only while a's token is valid, 200 only once it has expired.
      for (const deadline = Date.now() + 30_000; ;) {
        const r = await post(TOKEN, { roomType: 'quick', seat: 2 }, b.jwt);
        if (r.status === 200) {
          assert.ok(r.t1 >= claims.exp, `seat handed over at ${r.t1}, before the holder's exp ${claims.exp}`);
          await verifyToken(r.json.token, want({ identity: b.sub, room: ROOMS.quick, role: 'quickjudge', ttl: 3, attributes: { seat: '2' }, t0: r.t0, t1: r.t1 }));
          break;
        }
        assertErr(r, 409, 'Seat 2 is taken');
        assert.ok(r.t0 < claims.exp, `still 409 at ${r.t0}, after the holder's exp ${claims.exp}`);
        assert.ok(Date.now() < deadline, 'the seat never expired');
        await sleep(200);
      }
    });
  });

  describe('errors in the function\'s shape, with CORS headers', () => {
    test('unknown path under /functions/v1 -> 404 {error}', async () => {
      assertErr(await request(M.srv, 'POST', '/functions/v1/other-function', { body: {} }), 404);
    });

    test('GET -> 405 {error}', async () => {
      assertErr(await request(M.srv, 'GET', TOKEN, { headers: bearer((await session('judge')).jwt) }), 405);
    });

    test('not application/json -> 415 {error}', async () => {
      const s = await session('judge');
      assertErr(await post(TOKEN, 'roomType=audition', s.jwt, { 'content-type': 'application/x-www-form-urlencoded' }), 415);
    });

    test('body over the limit -> 413 {error}', async () => {
      const s = await session('judge');
      assertErr(await post(TOKEN, { roomType: 'audition', pad: 'x'.repeat(70_000) }, s.jwt), 413);
    });
  });
});

describe('supabase family: configuration', () => {
  const M = {};
  // Room types without a role mapping: the session role is used as it is.
  const PLAIN_TYPES = { audition: { room: 'audition-room' }, main_show: { room: 'main-show' } };
  before(() => { M.tmp = tempDir(); });
  after(() => M.tmp?.cleanup());

  async function serve(extra, env = {}) {
    const db = path.join(M.tmp.dir, `rk-${rand(4)}.db`);
    const cfg = { database: db, server: { listen: '127.0.0.1:0' }, cors: CORS_CONFIG,
      issuers: [{ name: 'legacy', algorithms: ['HS256'], secret: PROJECT_SECRET, role_claim: 'app_metadata.role' }],
      supabase: { room_types: PLAIN_TYPES }, ...extra };
    const p = path.join(M.tmp.dir, `c-${rand(4)}.yaml`);
    fs.writeFileSync(p, toYaml(cfg));
    return startServer({ configPath: p, env });
  }
  const jwt = async (role) => {
    const t = nowSec();
    return signJwt({ alg: 'HS256', key: PROJECT_SECRET, claims: { sub: randomUUID(), role: 'authenticated', app_metadata: { role }, iat: t, exp: t + 600 } });
  };

  test('500 when LiveKit keys are not configured', async () => {
    const srv = await serve({ roles: { judge: { can_publish: true } } }, { LIVEKIT_URL: LK_URL });
    try {
      assertErr(await request(srv, 'POST', TOKEN, { body: { roomType: 'audition' }, headers: bearer(await jwt('judge')) }), 500, 'LiveKit credentials not configured on server');
    } finally { await stopChecked(srv); }
  });

  test('500 when LIVEKIT_URL is not set (the response needs livekitUrl)', async () => {
    const srv = await serve({ roles: { judge: { can_publish: true } } }, { LIVEKIT_API_KEY: LK_KEY, LIVEKIT_API_SECRET: LK_SECRET });
    try {
      assertErr(await request(srv, 'POST', TOKEN, { body: { roomType: 'audition' }, headers: bearer(await jwt('judge')) }), 500);
    } finally { await stopChecked(srv); }
  });

  test('room types without roles: the session role used as it is', async () => {
    const srv = await serve({ roles: { judge: { can_publish: true, can_subscribe: true, can_publish_data: true } } },
      { LIVEKIT_API_KEY: LK_KEY, LIVEKIT_API_SECRET: LK_SECRET, LIVEKIT_URL: LK_URL });
    try {
      const j = await jwt('judge');
      const r = await request(srv, 'POST', TOKEN, { body: { roomType: 'main_show' }, headers: bearer(j) });
      assert.equal(r.status, 200, showRes(r));
      await verifyToken(r.json.token, { key: LK_KEY, secret: LK_SECRET, identity: JSON.parse(Buffer.from(j.split('.')[1], 'base64url')).sub,
        room: 'main-show', role: 'judge', ttl: 3600, t0: r.t0, t1: r.t1 });
      assertErr(await request(srv, 'POST', TOKEN, { body: { roomType: 'audition' }, headers: bearer(await jwt('audience')) }), 403);
      assertErr(await request(srv, 'POST', TOKEN, { body: { roomType: 'audition', seat: 1 }, headers: bearer(j) }), 400, 'This room has no judge seats');
    } finally { await stopChecked(srv); }
  });

  test('allow_anonymous: true lets anonymous sign-ins in', async () => {
    const srv = await serve({ roles: { audience: { can_subscribe: true } }, supabase: { allow_anonymous: true, room_types: PLAIN_TYPES } },
      { LIVEKIT_API_KEY: LK_KEY, LIVEKIT_API_SECRET: LK_SECRET, LIVEKIT_URL: LK_URL });
    try {
      const t = nowSec();
      const sub = randomUUID();
      const j = await signJwt({ alg: 'HS256', key: PROJECT_SECRET, claims: { sub, role: 'authenticated', is_anonymous: true, app_metadata: { role: 'audience' }, iat: t, exp: t + 600 } });
      const r = await request(srv, 'POST', TOKEN, { body: { roomType: 'main_show' }, headers: bearer(j) });
      assert.equal(r.status, 200, showRes(r));
      await verifyToken(r.json.token, { key: LK_KEY, secret: LK_SECRET, identity: sub, room: 'main-show', role: 'viewer', ttl: 3600, t0: r.t0, t1: r.t1 });
    } finally { await stopChecked(srv); }
  });

  test('families: {supabase: false} -> the paths are not served', async () => {
    const srv = await serve({ families: { supabase: false } }, { LIVEKIT_API_KEY: LK_KEY, LIVEKIT_API_SECRET: LK_SECRET, LIVEKIT_URL: LK_URL });
    try {
      const r = await request(srv, 'POST', TOKEN, { body: { roomType: 'audition' }, headers: bearer(await jwt('judge')) });
      assert.equal(r.status, 404, showRes(r));
    } finally { await stopChecked(srv); }
  });

  test('no room types: the family is off (404) and no room is created for it; switching it on is refused', async () => {
    const env = { LIVEKIT_API_KEY: LK_KEY, LIVEKIT_API_SECRET: LK_SECRET, LIVEKIT_URL: LK_URL };
    const db = path.join(M.tmp.dir, `rk-${rand(4)}.db`);
    for (const supabase of [undefined, { allow_anonymous: true }]) {
      const srv = await serve({ database: db, roles: { judge: { can_publish: true } }, supabase }, env);
      try {
        const started = logLines(srv).find((l) => l.event === 'families');
        assert.deepEqual([started?.served, started?.off], ['livekit, voice_agent, token_source, meetings',
          'supabase (not configured: set supabase.room_types)']);
        for (const p of [TOKEN, RELEASE]) {
          const r = await request(srv, 'POST', p, { body: { roomType: 'audition' }, headers: bearer(await jwt('judge')) });
          assert.equal(r.status, 404, showRes(r));
        }
      } finally { await stopChecked(srv); }
    }
    assert.equal(cli(db, ['room', 'show', 'audition-room']).status, 1, 'no audition-room in the store');
    assert.equal(cli(db, ['room', 'show', 'main-show']).status, 1, 'no main-show in the store');
    const p = path.join(M.tmp.dir, `on-${rand(4)}.yaml`);
    fs.writeFileSync(p, toYaml({ families: { supabase: true } }));
    const r = run(['check-config', '--config', p]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /families\.supabase is true, but the supabase family is not configured: set supabase\.room_types/);
  });

  test('check-config refuses bad supabase: settings, naming the key', () => {
    const bad = [
      [{ supabase: { room_types: { audition: { room: 'a', roles: { judge: 'nope' } } } } }, /supabase\.room_types\.audition\.roles\.judge: no role named "nope"/],
      [{ supabase: { room_types: { audition: { room: 'a', seats: 2 } } } }, /no role named "judge" \(seat_role\)/],
      [{ supabase: { room_types: { audition: { room: 'a', seats: 65 } } } }, /seats: must be between 0 and 64/],
      [{ supabase: { room_types: { audition: { seats: 0 } } } }, /audition\.room: required/],
      [{ supabase: { room_types: { audition: { room: 'a', colour: 'x' } } } }, /unknown key "supabase\.room_types\.audition\.colour"/],
      [{ supabase: { allow_anonymous: 'yes' } }, /supabase\.allow_anonymous/],
      [{ supabase: { room_types: {} } }, /supabase\.room_types/],
    ];
    for (const [cfg, re] of bad) {
      const p = path.join(M.tmp.dir, `bad-${rand(4)}.yaml`);
      fs.writeFileSync(p, toYaml(cfg));
      const r = run(['check-config', '--config', p]);
      assert.equal(r.status, 1, `${JSON.stringify(cfg)}: ${r.stderr}`);
      assert.match(r.stderr, re);
    }
  });
});
