// A room's rules hold whichever route family reaches the room. The supabase
// family's room types give their rooms rules (the session-role mapping,
// signed-in user sessions only, anonymous sign-ins refused, judge seats and
// the "seat" attribute); each rule is tried here through every other family
// (livekit, voice_agent, token_source, meetings) and must hold: refused, or
// the same narrowed grants the supabase family gives. Then the per-subject
// limit: after repeated refused attempts every family answers 429 with
// Retry-After, in its own error shape.
//
// Run:  cd tests/interop && ROOMKEY_BIN=$PWD/../../build/roomkey node --test room-rules.test.mjs

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { verifyToken as verifySeed } from './seed-checks-lib.mjs';
import {
  auditList,
  bearer,
  cliOk,
  memberAdd,
  nowSec,
  rand,
  request,
  showRes,
  signJwt,
  startServer,
  stopChecked,
  tempDir,
  toYaml,
} from './service-lib.mjs';

const LK_KEY = 'APIroomRulesKey';
const LK_SECRET = `lk-secret-${rand(20)}`;
const LK_URL = 'wss://rules.livekit.test';
const SECRET = `project-jwt-secret-${rand(16)}`;
const BACKEND_KEY = `rk_backend_${rand(20)}`;
const AUDITION = 'audition-room';
const SHOW = 'main-show';
const PANEL = 'meeting-panel1'; // a meeting's room that is also a room type's room

const config = (db) => ({
  database: db,
  server: { listen: '127.0.0.1:0' },
  livekit: { api_key: LK_KEY, api_secret: LK_SECRET, url: LK_URL },
  issuers: [{ name: 'project', algorithms: ['HS256'], secret: SECRET, role_claim: 'app_metadata.role' }],
  api_keys: [{ id: 'backend', key: BACKEND_KEY, permissions: ['mint_any'] }],
  roles: {
    judge: { can_publish: true, can_subscribe: true, can_publish_data: true },
    performer: { can_publish: true, can_subscribe: true },
    viewer: { can_subscribe: true },
    host: { can_publish: true, can_subscribe: true, can_publish_data: true, room_admin: true, can_update_own_metadata: true },
    attendee: { can_publish: true, can_subscribe: true, can_publish_data: true, can_update_own_metadata: true },
  },
  voice_agent: { anonymous_rooms: [SHOW] },
  supabase: {
    room_types: {
      audition: { room: AUDITION, seats: 2, roles: { judge: 'judge', contestant: 'performer', chatty: 'attendee' } },
      main_show: { room: SHOW, roles: { judge: 'judge', contestant: 'performer', audience: 'viewer' } },
      panel: { room: PANEL, seats: 1, roles: { judge: 'judge' } },
    },
  },
});

/** A Supabase-shaped session: role "authenticated" unless claims say otherwise. */
function session(appRole, claims = {}) {
  const sub = `u-${rand(8)}`;
  const t = nowSec();
  const jwt = signJwt({ alg: 'HS256', key: SECRET, claims: {
    sub, role: 'authenticated', aud: 'authenticated', is_anonymous: false,
    app_metadata: appRole ? { role: appRole } : {}, iat: t, exp: t + 600, ...claims,
  } });
  return jwt.then((j) => ({ sub, jwt: j }));
}

describe('room rules hold on every route that reaches the room', () => {
  const M = {};
  const want = (over) => ({ key: LK_KEY, secret: LK_SECRET, ttl: 3600, ...over });

  /** The token request of each family for room (a supabase roomType for supabase). */
  const ask = {
    supabase: (s, { type, seat } = {}) => request(M.srv, 'POST', '/functions/v1/livekit-token',
      { body: { roomType: type, ...(seat ? { seat } : {}) }, headers: bearer(s.jwt) }),
    livekit: (s, room) => request(M.srv, 'POST', '/api/livekit/token', { body: { roomId: room }, headers: bearer(s.jwt) }),
    voice_agent: (s, room) => request(M.srv, 'POST', '/api/token',
      { body: { roomName: room, participantIdentity: s.sub }, headers: bearer(s.jwt) }),
    token_source: (s, room, extra = {}) => request(M.srv, 'POST', '/api/livekit/token-source',
      { body: { room_name: room, ...extra }, headers: bearer(s.jwt) }),
  };
  const OTHERS = ['livekit', 'voice_agent', 'token_source'];
  const TYPE_OF = { [AUDITION]: 'audition', [SHOW]: 'main_show', [PANEL]: 'panel' };
  const tokenOf = (r) => r.json?.token ?? r.json?.participant_token;
  const okStatus = (fam) => (fam === 'token_source' ? 201 : 200);

  /** Every other family refuses s for room with a 4xx, and mints nothing. */
  async function refusedEverywhere(s, room) {
    for (const fam of OTHERS) {
      const r = await ask[fam](s, room);
      assert.equal(r.status, 403, `${fam}: ${showRes(r)}`);
      assert.equal(tokenOf(r), undefined, `${fam} minted: ${showRes(r)}`);
    }
    assert.equal(auditList(M.db, { subject: s.sub }).length, 0, 'nothing audited');
  }

  /** Every family mints s the same role in room, without attributes. */
  async function sameGrantsEverywhere(s, room, role) {
    const sb = await ask.supabase(s, { type: TYPE_OF[room] });
    assert.equal(sb.status, 200, showRes(sb));
    await verifySeed(sb.json.token, want({ identity: s.sub, room, role, t0: sb.t0, t1: sb.t1 }));
    for (const fam of OTHERS) {
      const r = await ask[fam](s, room);
      assert.equal(r.status, okStatus(fam), `${fam}: ${showRes(r)}`);
      await verifySeed(tokenOf(r), want({ identity: s.sub, room, role, t0: r.t0, t1: r.t1 }));
    }
  }

  before(async () => {
    M.tmp = tempDir();
    M.db = path.join(M.tmp.dir, 'rk.db');
    // The meeting (and so its members-only room) exists before the server
    // starts; the panel room type then gives that room its rules.
    cliOk(M.db, ['meeting', 'create', 'panel1', '--creator', 'owner-judge', '--heading', 'Panel', '--creator-role', 'judge']);
    M.configPath = path.join(M.tmp.dir, 'roomkey.yaml');
    fs.writeFileSync(M.configPath, toYaml(config(M.db)));
    M.srv = await startServer({ configPath: M.configPath });
  });
  after(async () => {
    try { await stopChecked(M.srv); } finally { M.tmp?.cleanup(); }
  });

  test('role mapping: a role the room type does not map (moderator, with roomAdmin) is refused on every route', async () => {
    const s = await session('moderator');
    assert.equal((await ask.supabase(s, { type: 'audition' })).status, 403);
    await refusedEverywhere(s, AUDITION);
    // control: the same role claim gets moderator grants in a room without rules
    cliOk(M.db, ['room', 'create', 'plain', '--mode', 'authenticated']);
    const r = await ask.livekit(s, 'plain');
    assert.equal(r.status, 200, showRes(r));
    await verifySeed(r.json.token, want({ identity: s.sub, room: 'plain', role: 'moderator', t0: r.t0, t1: r.t1 }));
  });

  test('role mapping: a mapped session role gets the same narrowed grants on every route', async () => {
    await sameGrantsEverywhere(await session('contestant'), AUDITION, 'performer');
    await sameGrantsEverywhere(await session('audience'), SHOW, 'viewer');
    await sameGrantsEverywhere(await session('judge'), SHOW, 'judge');
  });

  test('an anonymous Supabase sign-in is refused on every route', async () => {
    const s = await session('judge', { is_anonymous: true });
    const r = await ask.supabase(s, { type: 'audition' });
    assert.equal(r.status, 401, showRes(r));
    assert.equal(r.json.error, 'Anonymous sessions are not allowed');
    await refusedEverywhere(s, AUDITION);
    await refusedEverywhere(s, SHOW);
  });

  test('a session that is not a signed-in user (role anon / service_role) is refused on every route', async () => {
    for (const role of ['anon', 'service_role']) {
      const s = await session('judge', { role });
      assert.equal((await ask.supabase(s, { type: 'audition' })).status, 401);
      await refusedEverywhere(s, AUDITION);
    }
    // A backend API key is no user session either: the room's rules refuse it.
    const r = await request(M.srv, 'POST', '/api/livekit/token', { body: { roomId: AUDITION, identity: 'bot' }, headers: { 'x-api-key': BACKEND_KEY } });
    assert.equal(r.status, 403, showRes(r));
  });

  test('voice_agent: a walk-in (no credentials) is refused in a room with rules, even when listed as anonymous', async () => {
    const r = await request(M.srv, 'POST', '/api/token', { body: { roomName: SHOW, participantIdentity: 'walker' } });
    assert.equal(r.status, 403, showRes(r));
    assert.equal(r.json.errorCode, 'FORBIDDEN');
    assert.equal(r.json.message, 'Not allowed in this room: this room admits signed-in user sessions only');
  });

  test('judge seats: a judge refused a seat gets no seat through another route, and the holder keeps it', async () => {
    const holder = await session('judge');
    const r0 = await ask.supabase(holder, { type: 'audition', seat: 1 });
    assert.equal(r0.status, 200, showRes(r0));
    const other = await session('judge');
    assert.equal((await ask.supabase(other, { type: 'audition', seat: 1 })).status, 409);
    // Other routes give the judge's grants without any seat, as the supabase
    // family does for a token without a seat.
    for (const fam of ['livekit', 'voice_agent']) {
      const r = await ask[fam](other, AUDITION);
      assert.equal(r.status, 200, `${fam}: ${showRes(r)}`);
      await verifySeed(r.json.token, want({ identity: other.sub, room: AUDITION, role: 'judge', t0: r.t0, t1: r.t1 }));
    }
    // ... and the seat attribute can't be asked for through token-source.
    const ts = await ask.token_source(other, AUDITION, { participant_attributes: { seat: '1' } });
    assert.equal(ts.status, 403, showRes(ts));
    assert.equal(ts.json.code, 'permission_denied');
    // The seat is still the holder's.
    const again = await ask.supabase(other, { type: 'audition', seat: 1 });
    assert.equal(again.status, 409, showRes(again));
    assert.equal(again.json.error, 'Seat 1 is taken');
  });

  test('the seat attribute cannot be forged through token-source, even by a role that may set its attributes', async () => {
    const s = await session('chatty'); // attendee in the audition room: can_update_own_metadata
    const forged = await ask.token_source(s, AUDITION, { participant_attributes: { seat: '2' } });
    assert.equal(forged.status, 403, showRes(forged));
    assert.deepEqual(forged.json, { code: 'permission_denied', msg: 'not allowed: the "seat" attribute is set by RoomKey only' });
    const ok = await ask.token_source(s, AUDITION, { participant_attributes: { colour: 'red' } });
    assert.equal(ok.status, 201, showRes(ok));
    // seat 2 was never taken: a judge gets it
    const judge = await session('judge');
    const r = await ask.supabase(judge, { type: 'audition', seat: 2 });
    assert.equal(r.status, 200, showRes(r));
    await verifySeed(r.json.token, want({ identity: judge.sub, room: AUDITION, role: 'judge', attributes: { seat: '2' }, t0: r.t0, t1: r.t1 }));
  });

  describe('through the meetings family (a meeting whose room is a room type\'s room)', () => {
    const meetingToken = (jwt) => request(M.srv, 'GET', '/api/v1/meeting/token/panel1', { headers: bearer(jwt) });
    const creator = (claims = {}) => session('judge', { sub: 'owner-judge', ...claims }).then((s) => ({ ...s, sub: 'owner-judge' }));

    test('the creator as a signed-in user: the same judge grants as the supabase family gives', async () => {
      const s = await creator();
      const r = await meetingToken(s.jwt);
      assert.equal(r.status, 200, showRes(r));
      await verifySeed(r.json.token, want({ identity: s.sub, room: PANEL, role: 'judge', t0: r.t0, t1: r.t1 }));
      const sb = await ask.supabase(s, { type: 'panel' });
      assert.equal(sb.status, 200, showRes(sb));
      await verifySeed(sb.json.token, want({ identity: s.sub, room: PANEL, role: 'judge', t0: sb.t0, t1: sb.t1 }));
    });

    test('the creator as an anonymous sign-in or a non-user session: refused', async () => {
      for (const claims of [{ is_anonymous: true }, { role: 'anon' }, { role: 'service_role' }]) {
        const r = await meetingToken((await creator(claims)).jwt);
        assert.equal(r.status, 403, `${JSON.stringify(claims)}: ${showRes(r)}`);
        assert.deepEqual(r.json, { success: false, message: "You don't have permission to join this meeting" });
      }
    });

    test('a participant whose seat was refused gets no seat through the meeting, and the holder keeps it', async () => {
      const holder = await session('judge');
      memberAdd(M.db, PANEL, holder.sub, 'judge');
      assert.equal((await ask.supabase(holder, { type: 'panel', seat: 1 })).status, 200);
      const other = await session('judge');
      memberAdd(M.db, PANEL, other.sub, 'judge');
      assert.equal((await ask.supabase(other, { type: 'panel', seat: 1 })).status, 409);
      const r = await meetingToken(other.jwt);
      assert.equal(r.status, 200, showRes(r));
      await verifySeed(r.json.token, want({ identity: other.sub, room: PANEL, role: 'judge', t0: r.t0, t1: r.t1 }));
      assert.equal((await ask.supabase(other, { type: 'panel', seat: 1 })).status, 409);
    });

    test('an ended or canceled meeting\'s room gives no token through any family, also to a mint_any API key; reopened, it does again', async () => {
      const s = await session('attendee');
      const room = 'meeting-retro';
      cliOk(M.db, ['meeting', 'create', 'retro', '--creator', s.sub, '--heading', 'Retro']);
      const status = (st) => request(M.srv, 'PUT', '/api/v1/meeting/status/retro', { body: { status: st }, headers: bearer(s.jwt) });
      const backend = { sub: 'api-key:backend', jwt: BACKEND_KEY };
      const allMint = async () => {
        for (const fam of OTHERS) {
          const r = await ask[fam](s, room);
          assert.equal(r.status, okStatus(fam), `${fam}: ${showRes(r)}`);
          await verifySeed(tokenOf(r), want({ identity: s.sub, room, role: 'member', t0: r.t0, t1: r.t1 }));
        }
        const m = await request(M.srv, 'GET', '/api/v1/meeting/token/retro', { headers: bearer(s.jwt) });
        assert.equal(m.status, 200, showRes(m));
      };
      await allMint();
      for (const [st, message] of [['COMPLETED', 'This meeting has ended'], ['CANCELED', 'This meeting was canceled']]) {
        assert.equal((await status(st)).status, 200);
        const before = auditList(M.db, { room }).length;
        for (const fam of OTHERS) {
          const r = await ask[fam](s, room);
          assert.equal(r.status, 403, `${st} ${fam}: ${showRes(r)}`);
          assert.equal(tokenOf(r), undefined, `${st} ${fam} minted: ${showRes(r)}`);
          assert.match(JSON.stringify(r.json), /closed/, `${st} ${fam}: ${showRes(r)}`);
        }
        const k = await request(M.srv, 'POST', '/api/livekit/token', { body: { roomId: room, identity: 'bot-1' }, headers: { 'x-api-key': backend.jwt } });
        assert.equal(k.status, 403, `${st} API key: ${showRes(k)}`);
        const m = await request(M.srv, 'GET', '/api/v1/meeting/token/retro', { headers: bearer(s.jwt) });
        assert.equal(m.status, 409, showRes(m));
        assert.deepEqual(m.json, { success: false, message });
        assert.equal(auditList(M.db, { room }).length, before, `${st}: nothing audited`);
      }
      assert.equal((await status('PROCESSING')).status, 200);
      await allMint();
    });
  });
});

describe('per-subject limit: refused attempts count in every family', () => {
  const M = {};
  before(async () => {
    M.tmp = tempDir();
    M.db = path.join(M.tmp.dir, 'rk.db');
    const c = config(M.db);
    M.configPath = path.join(M.tmp.dir, 'roomkey.yaml');
    fs.writeFileSync(M.configPath, toYaml(c));
    // Three attempts per subject, then one an hour.
    M.srv = await startServer({ configPath: M.configPath, env: { ROOMKEY_RATE_LIMIT: 'subject=1/1h:3' } });
  });
  after(async () => {
    try { await stopChecked(M.srv); } finally { M.tmp?.cleanup(); }
  });

  // Each family: a refused attempt, and its 429 body shape.
  const FAMILIES = {
    livekit: {
      send: (s) => request(M.srv, 'POST', '/api/livekit/token', { body: { roomId: 'no-such-room' }, headers: bearer(s.jwt) }),
      refused: 404,
      shape: (j) => assert.deepEqual(Object.keys(j), ['statusCode', 'message', 'error']) || assert.equal(j.statusCode, 429),
    },
    voice_agent: {
      send: (s) => request(M.srv, 'POST', '/api/token', { body: { roomName: 'no-such-room', participantIdentity: s.sub }, headers: bearer(s.jwt) }),
      refused: 404,
      shape: (j) => assert.equal(j.errorCode, 'TOO_MANY_REQUESTS'),
    },
    token_source: {
      send: (s) => request(M.srv, 'POST', '/api/livekit/token-source', { body: { room_name: 'no-such-room' }, headers: bearer(s.jwt) }),
      refused: 404,
      shape: (j) => assert.equal(j.code, 'resource_exhausted'),
    },
    supabase: {
      send: (s) => request(M.srv, 'POST', '/functions/v1/livekit-token', { body: { roomType: 'audition' }, headers: bearer(s.jwt) }),
      refused: 403, // the audience has no role in the audition room
      shape: (j) => assert.deepEqual(Object.keys(j), ['error']),
    },
    meetings: {
      send: (s) => request(M.srv, 'GET', '/api/v1/meeting/token/no-such-meeting', { headers: bearer(s.jwt) }),
      refused: 404,
      shape: (j) => assert.equal(j.success, false),
    },
  };

  for (const [name, fam] of Object.entries(FAMILIES)) {
    test(`${name}: three refused attempts, then 429 with Retry-After in the family's shape`, async () => {
      const s = await session('audience');
      for (let i = 0; i < 3; i++) {
        const r = await fam.send(s);
        assert.equal(r.status, fam.refused, `attempt ${i + 1}: ${showRes(r)}`);
      }
      const r = await fam.send(s);
      assert.equal(r.status, 429, showRes(r));
      assert.match(r.headers.get('retry-after') ?? '', /^[1-9]\d*$/, showRes(r));
      fam.shape(r.json);
      // Another subject is not limited by this one's attempts.
      const fresh = await fam.send(await session('audience'));
      assert.equal(fresh.status, fam.refused, showRes(fresh));
    });
  }

  test('voice_agent without credentials: limited by client address, whatever identity each attempt asks for', async () => {
    // SHOW is an anonymous room of the voice-agent family whose supabase rules refuse callers
    // without a user session: each attempt is refused, and a new participantIdentity per attempt
    // (the identity is generated by RoomKey anyway) gives no fresh allowance.
    const send = (i) => request(M.srv, 'POST', '/api/token', { body: { roomName: SHOW, participantIdentity: `walk-in-${i}` } });
    for (let i = 0; i < 3; i++) {
      const r = await send(i);
      assert.equal(r.status, 403, `attempt ${i + 1}: ${showRes(r)}`);
    }
    const r = await send(3);
    assert.equal(r.status, 429, showRes(r));
    assert.match(r.headers.get('retry-after') ?? '', /^[1-9]\d*$/, showRes(r));
    assert.equal(r.json.errorCode, 'TOO_MANY_REQUESTS');
  });
});
