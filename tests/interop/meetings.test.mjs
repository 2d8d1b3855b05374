// Black-box tests of the meetings route family (the meetings contract, project meetings):
//   GET /api/v1/meeting/token/:meeting_id    {success, token, roomName, serverUrl, meeting}
//   GET /api/v1/meeting/get/:meeting_id      details (getMeetingDetails / validateMeetingAccess)
//   PUT /api/v1/meeting/status/:meeting_id   {status}, creator only
// and the `roomkey meeting` CLI that creates meetings and participants.
//
// The main server is set up the way the original app is, from the environment
// only (LIVEKIT_* and the app's HS256 login secret). Every minted token is
// verified with livekit-server-sdk's TokenVerifier and its grants checked
// against the caller's role in the meeting.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { assertShape, verifyToken } from './seed-checks-lib.mjs';
import {
  BIN,
  auditList,
  bearer,
  cli,
  cliOk,
  nowSec,
  rand,
  rawExchange,
  request,
  sessionClaims,
  showRes,
  signJwt,
  startServer,
  stopChecked,
  tempDir,
  toYaml,
  within1500,
} from './service-lib.mjs';

const LK_KEY = 'APImeetingsTestKey';
const LK_SECRET = `lk-secret-${rand(20)}`;
const LK_URL = 'wss://meet.livekit.test';
const SESSION_SECRET = `project-plus-jwt-secret-${rand(16)}`;
const STATUSES = ['PENDING', 'SCHEDULED', 'PROCESSING', 'COMPLETED', 'CANCELED'];

/** {success:false, message} with the status. */
const assertFail = (r, status, message) => assertShape(r, status, { fixed: { success: false }, messageKey: 'message' }, message);

const meetingCreate = (db, id, creator, opts = {}) => {
  const a = ['meeting', 'create', id, '--creator', creator, '--heading', opts.heading ?? `Heading ${id}`];
  if (opts.description !== undefined) a.push('--description', opts.description);
  if (opts.status) a.push('--status', opts.status);
  if (opts.creatorRole) a.push('--creator-role', opts.creatorRole);
  if (opts.participantRole) a.push('--participant-role', opts.participantRole);
  return cliOk(db, a);
};
const participantAdd = (db, id, subject, role) =>
  cliOk(db, ['meeting', 'participant', 'add', id, subject, ...(role ? ['--role', role] : [])]);

describe('meetings family (the meetings contract), env-only set-up', () => {
  const M = {};
  const sess = (sub, extra = {}) => signJwt({ alg: 'HS256', key: SESSION_SECRET, claims: sessionClaims({ sub, ...extra }) });
  const get = async (p, sub, headers = {}) => request(M.srv, 'GET', p, { headers: { ...(sub ? bearer(await sess(sub)) : {}), ...headers } });
  const put = async (p, body, sub, headers = {}) => request(M.srv, 'PUT', p, { body, headers: { ...(sub ? bearer(await sess(sub)) : {}), ...headers } });

  /** GET the token as sub and check the contract's exact response and the token. */
  async function tokenOk(id, sub, role, meeting, extra = {}) {
    const r = await get(`/api/v1/meeting/token/${id}`, sub);
    assert.equal(r.status, 200, showRes(r));
    assert.deepEqual(Object.keys(r.json), ['success', 'token', 'roomName', 'serverUrl', 'meeting'], showRes(r));
    assert.equal(r.json.success, true);
    assert.equal(r.json.roomName, `meeting-${id}`);
    assert.equal(r.json.serverUrl, LK_URL);
    assert.deepEqual(r.json.meeting, { meeting_id: id, ...meeting });
    assert.deepEqual(Object.keys(r.json.meeting), ['meeting_id', 'heading', 'description', 'status']);
    const claims = await verifyToken(r.json.token, { key: LK_KEY, secret: LK_SECRET, identity: sub, room: `meeting-${id}`, role, ttl: 3600, t0: r.t0, t1: r.t1, ...extra });
    return { r, claims };
  }

  before(async () => {
    M.tmp = tempDir();
    M.db = path.join(M.tmp.dir, 'rk.db');
    M.srv = await startServer({
      env: {
        ROOMKEY_LISTEN: '127.0.0.1:0', ROOMKEY_DATABASE: M.db, ROOMKEY_SESSION_SECRET: SESSION_SECRET,
        LIVEKIT_URL: LK_URL, LIVEKIT_HOST: 'https://meet.livekit.test', LIVEKIT_API_KEY: LK_KEY, LIVEKIT_API_SECRET: LK_SECRET,
      },
    });
    meetingCreate(M.db, '123', 'owner-1', { heading: 'Meeting Title', description: 'Meeting Description' });
    participantAdd(M.db, '123', 'dev-2');
    participantAdd(M.db, '123', 'guest-3', 'listener');
    meetingCreate(M.db, 'host-led', 'host-1', { creatorRole: 'moderator', status: 'SCHEDULED', description: '' });
  });

  after(async () => {
    try {
      await stopChecked(M.srv);
    } finally {
      M.tmp?.cleanup();
    }
  });

  test('the binary exists', () => assert.ok(fs.existsSync(BIN)));

  describe('GET /api/v1/meeting/token/:meeting_id', () => {
    const M123 = { heading: 'Meeting Title', description: 'Meeting Description', status: 'PROCESSING' };

    test('contract example (curl .../token/123 with a Bearer token): the exact response shape, for the creator', async () => {
      await tokenOk('123', 'owner-1', 'member', M123);
    });

    test('a participant gets a token with the participant role', async () => {
      await tokenOk('123', 'dev-2', 'member', M123);
    });

    test('a participant added with a narrower role gets only its grants (listener: subscribe only)', async () => {
      const { claims } = await tokenOk('123', 'guest-3', 'viewer', M123);
      assert.notEqual(claims.video.canPublish, true);
    });

    test('a creator made with --creator-role moderator gets roomAdmin; an empty description stays ""', async () => {
      await tokenOk('host-led', 'host-1', 'moderator', { heading: 'Heading host-led', description: '', status: 'SCHEDULED' });
    });

    test('the session\'s name claim becomes the token name', async () => {
      const r = await request(M.srv, 'GET', '/api/v1/meeting/token/123', { headers: bearer(await sess('dev-2', { name: 'Dev Two' })) });
      assert.equal(r.status, 200, showRes(r));
      await verifyToken(r.json.token, { key: LK_KEY, secret: LK_SECRET, identity: 'dev-2', name: 'Dev Two', room: 'meeting-123', role: 'member', ttl: 3600, t0: r.t0, t1: r.t1 });
    });

    test('every token is audited and has its own jti (20 at once)', async () => {
      const jwt = await sess('dev-2');
      const rs = await Promise.all(Array.from({ length: 20 }, () => request(M.srv, 'GET', '/api/v1/meeting/token/123', { headers: bearer(jwt) })));
      const jtis = new Set();
      for (const r of rs) {
        assert.equal(r.status, 200, showRes(r));
        jtis.add((await verifyToken(r.json.token, { key: LK_KEY, secret: LK_SECRET, identity: 'dev-2', room: 'meeting-123', role: 'member', ttl: 3600, t0: r.t0, t1: r.t1 })).jti);
      }
      assert.equal(jtis.size, 20);
      const recs = auditList(M.db, { room: 'meeting-123', subject: 'dev-2' });
      for (const j of jtis) assert.ok(recs.some((a) => a.jti === j && a.route === 'meetings.token'), `jti ${j} not audited`);
    });

    test('401 without a session, with a bad one, with an expired one', async () => {
      assertFail(await get('/api/v1/meeting/token/123'), 401, 'Authentication required');
      assertFail(await get('/api/v1/meeting/token/123', null, bearer('not.a.jwt')), 401);
      const forged = await signJwt({ alg: 'HS256', key: `wrong-${SESSION_SECRET}`, claims: sessionClaims({ sub: 'owner-1' }) });
      assertFail(await get('/api/v1/meeting/token/123', null, bearer(forged)), 401);
      const expired = await signJwt({ alg: 'HS256', key: SESSION_SECRET, claims: sessionClaims({ sub: 'owner-1', iat: nowSec() - 7200, exp: nowSec() - 3600 }) });
      assertFail(await get('/api/v1/meeting/token/123', null, bearer(expired)), 401);
      assertFail(await get('/api/v1/meeting/token/123', null, { authorization: 'Basic b3duZXItMTpwdw==' }), 401);
    });

    test('403 for a non-participant: the security hole the contract closes', async () => {
      assertFail(await get('/api/v1/meeting/token/123', 'outsider-9'), 403, 'You don\'t have permission to join this meeting');
      assert.equal(auditList(M.db, { subject: 'outsider-9' }).length, 0);
    });

    test('identity spoofing: query strings, headers and claims other than sub name nobody', async () => {
      const r = await get('/api/v1/meeting/token/123?identity=owner-1&user_id=owner-1', 'dev-2', { 'x-user-id': 'owner-1' });
      assert.equal(r.status, 200, showRes(r));
      await verifyToken(r.json.token, { key: LK_KEY, secret: LK_SECRET, identity: 'dev-2', room: 'meeting-123', role: 'member', ttl: 3600, t0: r.t0, t1: r.t1 });
      const jwt = await sess('outsider-9', { user_id: 'owner-1', email: 'owner-1@example.test', name: 'owner-1' });
      assertFail(await request(M.srv, 'GET', '/api/v1/meeting/token/123', { headers: bearer(jwt) }), 403);
    });

    test('another meeting\'s participant gets nothing here', async () => {
      assertFail(await get('/api/v1/meeting/token/host-led', 'dev-2'), 403);
      assertFail(await get('/api/v1/meeting/token/123', 'host-1'), 403);
    });

    test('404 for an unknown meeting', async () => {
      assertFail(await get('/api/v1/meeting/token/999', 'owner-1'), 404, 'Meeting not found');
    });

    test('400 for a malformed meeting id (charset, length)', async () => {
      // (fetch resolves dot segments such as %2e and %2e%2e itself, so they never arrive as ids)
      for (const id of ['a.b', 'a%20b', '.x', 'x'.repeat(65), 'caf%C3%A9', "o'1"]) {
        assertFail(await get(`/api/v1/meeting/token/${id}`, 'owner-1'), 400, 'Invalid meeting ID');
      }
      // an encoded slash splits the path: no route, 404
      assertFail(await get('/api/v1/meeting/token/a%2Fb', 'owner-1'), 404);
      // 64 characters is fine (unknown -> 404)
      assertFail(await get(`/api/v1/meeting/token/${'x'.repeat(64)}`, 'owner-1'), 404);
    });

    test('a removed participant loses access; a deleted meeting is gone', async () => {
      meetingCreate(M.db, 'short-lived', 'owner-1');
      participantAdd(M.db, 'short-lived', 'temp-4');
      await tokenOk('short-lived', 'temp-4', 'member', { heading: 'Heading short-lived', description: '', status: 'PROCESSING' });
      // the CLI is another process: the server sees its changes within 500 ms
      cliOk(M.db, ['meeting', 'participant', 'remove', 'short-lived', 'temp-4']);
      assertFail(await within1500(() => get('/api/v1/meeting/token/short-lived', 'temp-4'), (r) => r.status !== 200), 403);
      cliOk(M.db, ['meeting', 'delete', 'short-lived']);
      assertFail(await within1500(() => get('/api/v1/meeting/token/short-lived', 'owner-1'), (r) => r.status !== 200), 404);
    });

    test('wrong method -> 405, unknown path -> 404, in the family\'s shape', async () => {
      assertFail(await request(M.srv, 'POST', '/api/v1/meeting/token/123', { body: {}, headers: bearer(await sess('owner-1')) }), 405);
      // a path outside every route's prefix gets the server's default 404 shape
      assert.equal((await get('/api/v1/meeting/nope/123', 'owner-1')).status, 404);
      assertFail(await get('/api/v1/meeting/token/', 'owner-1'), 404);
      assertFail(await get('/api/v1/meeting/token/123/extra', 'owner-1'), 404);
    });

    test('a path segment over the server\'s limits is refused cleanly, never crashes', async () => {
      const r = await rawExchange(M.srv.port, [`GET /api/v1/meeting/token/${'a'.repeat(6000)} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${await sess('owner-1')}\r\n\r\n`]);
      assert.ok(r.how === 'response' || r.how === 'closed', r.how);
      if (r.response?.status) assert.ok(r.response.status >= 400 && r.response.status < 500, `status ${r.response.status}`);
      assert.ok(M.srv.alive(), 'the server died');
    });
  });

  describe('GET /api/v1/meeting/get/:meeting_id (details, access check)', () => {
    test('creator and participants get {success, meeting}', async () => {
      for (const sub of ['owner-1', 'dev-2', 'guest-3']) {
        const r = await get('/api/v1/meeting/get/123', sub);
        assert.equal(r.status, 200, showRes(r));
        assert.deepEqual(Object.keys(r.json), ['success', 'meeting']);
        assert.equal(r.json.success, true);
        const m = r.json.meeting;
        assert.deepEqual(Object.keys(m), ['meeting_id', 'heading', 'description', 'status', 'user_id', 'created_at', 'updated_at']);
        assert.equal(m.meeting_id, '123');
        assert.equal(m.heading, 'Meeting Title');
        assert.equal(m.description, 'Meeting Description');
        assert.equal(m.user_id, 'owner-1');
        assert.match(m.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/);
        assert.match(m.updated_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.000Z$/);
      }
    });

    test('validateMeetingAccess: a non-participant is refused (403), an unknown id is 404, no session 401', async () => {
      assertFail(await get('/api/v1/meeting/get/123', 'outsider-9'), 403, 'You don\'t have access to this meeting');
      assertFail(await get('/api/v1/meeting/get/404-me', 'owner-1'), 404, 'Meeting not found');
      assertFail(await get('/api/v1/meeting/get/123'), 401);
      assertFail(await get('/api/v1/meeting/get/bad.id', 'owner-1'), 400);
    });
  });

  describe('PUT /api/v1/meeting/status/:meeting_id (creator only)', () => {
    test('the creator sets each documented status; the token and details show it', async () => {
      meetingCreate(M.db, 'lifecycle', 'owner-1', { status: 'PENDING' });
      participantAdd(M.db, 'lifecycle', 'dev-2');
      for (const status of STATUSES) {
        const r = await put('/api/v1/meeting/status/lifecycle', { status }, 'owner-1');
        assert.equal(r.status, 200, showRes(r));
        assert.deepEqual(Object.keys(r.json), ['success', 'message', 'meeting']);
        assert.equal(r.json.success, true);
        assert.equal(r.json.message, 'Meeting status updated successfully');
        assert.equal(r.json.meeting.meeting_id, 'lifecycle');
        assert.equal(r.json.meeting.status, status);
        assert.equal(r.json.meeting.user_id, 'owner-1');
        const d = await get('/api/v1/meeting/get/lifecycle', 'dev-2');
        assert.equal(d.json.meeting.status, status);
      }
      // issue 14: an ended meeting gets no tokens (409 in the contract's shape)
      assertFail(await get('/api/v1/meeting/token/lifecycle', 'dev-2'), 409, 'This meeting was canceled');
      assert.equal((await put('/api/v1/meeting/status/lifecycle', { status: 'COMPLETED' }, 'owner-1')).status, 200);
      assertFail(await get('/api/v1/meeting/token/lifecycle', 'owner-1'), 409, 'This meeting has ended');
      assert.equal((await put('/api/v1/meeting/status/lifecycle', { status: 'PROCESSING' }, 'owner-1')).status, 200);
      await tokenOk('lifecycle', 'dev-2', 'member', { heading: 'Heading lifecycle', description: '', status: 'PROCESSING' });
    });

    test('400 for an unknown status, with the valid ones listed; the status is unchanged', async () => {
      const list = 'Invalid status. Must be one of: PENDING, SCHEDULED, PROCESSING, COMPLETED, CANCELED';
      for (const status of ['DONE', 'processing', 'PROCESSING ', 7, true, ['PENDING'], { s: 'PENDING' }]) {
        assertFail(await put('/api/v1/meeting/status/123', { status }, 'owner-1'), 400, list);
      }
      for (const body of [{}, { status: null }, { status: '' }]) {
        assertFail(await put('/api/v1/meeting/status/123', body, 'owner-1'), 400, 'status is required');
      }
      assertFail(await put('/api/v1/meeting/status/123', '["PENDING"]', 'owner-1'), 400);
      assertFail(await put('/api/v1/meeting/status/123', '{"status":', 'owner-1'), 400);
      assertFail(await put('/api/v1/meeting/status/123', '{"status":"PENDING","status":"CANCELED"}', 'owner-1'), 400);
      assert.equal((await get('/api/v1/meeting/get/123', 'owner-1')).json.meeting.status, 'PROCESSING');
    });

    test('403 for participants and outsiders; role escalation through body fields changes nothing', async () => {
      assertFail(await put('/api/v1/meeting/status/123', { status: 'CANCELED' }, 'dev-2'), 403, 'Only the meeting creator can update its status');
      assertFail(await put('/api/v1/meeting/status/123', { status: 'CANCELED', user_id: 'owner-1', creator: 'dev-2', role: 'moderator' }, 'outsider-9'), 403);
      assert.equal((await get('/api/v1/meeting/get/123', 'owner-1')).json.meeting.status, 'PROCESSING');
    });

    test('401 / 404 / 415', async () => {
      assertFail(await put('/api/v1/meeting/status/123', { status: 'CANCELED' }), 401);
      assertFail(await put('/api/v1/meeting/status/none-such', { status: 'CANCELED' }, 'owner-1'), 404);
      assertFail(await put('/api/v1/meeting/status/123', 'status=CANCELED', 'owner-1', { 'content-type': 'application/x-www-form-urlencoded' }), 415);
    });
  });
});

describe('meetings family: configuration and API keys', () => {
  const M = {};
  before(async () => {
    M.tmp = tempDir();
    M.db = path.join(M.tmp.dir, 'rk.db');
    const cfg = {
      database: M.db,
      server: { listen: '127.0.0.1:0' },
      livekit: { url: LK_URL, api_key: LK_KEY, api_secret: LK_SECRET, default_ttl: '2h' },
      issuers: [{ name: 'app', algorithms: ['HS256'], secret: SESSION_SECRET }],
      api_keys: [
        { id: 'backend', key: 'rk_backend_meetings_test_0123456789', permissions: ['mint_any'] },
        { id: 'limited', key: 'rk_limited_meetings_test_0123456789' },
      ],
      // the contract's grants: publish, subscribe, data, update own metadata; 2 h
      roles: { attendee: { can_publish: true, can_subscribe: true, can_publish_data: true, can_update_own_metadata: true },
        host: { can_publish: true, can_subscribe: true, can_publish_data: true, can_update_own_metadata: true, room_admin: true } },
    };
    M.cfg = path.join(M.tmp.dir, 'c.yaml');
    fs.writeFileSync(M.cfg, toYaml(cfg));
    M.srv = await startServer({ configPath: M.cfg });
    meetingCreate(M.db, 'cfg-1', 'lead', { creatorRole: 'host', participantRole: 'attendee' });
    participantAdd(M.db, 'cfg-1', 'member-a');
  });
  after(async () => {
    try {
      await stopChecked(M.srv);
    } finally {
      M.tmp?.cleanup();
    }
  });
  const tok = (sub) => signJwt({ alg: 'HS256', key: SESSION_SECRET, claims: sessionClaims({ sub }) });

  test('configured roles give the contract\'s grants (canUpdateOwnMetadata) and the configured 2 h lifetime', async () => {
    for (const [sub, role] of [['lead', 'host'], ['member-a', 'attendee']]) {
      const r = await request(M.srv, 'GET', '/api/v1/meeting/token/cfg-1', { headers: bearer(await tok(sub)) });
      assert.equal(r.status, 200, showRes(r));
      await verifyToken(r.json.token, { key: LK_KEY, secret: LK_SECRET, identity: sub, room: 'meeting-cfg-1', role, ttl: 7200, t0: r.t0, t1: r.t1 });
    }
  });

  test('API keys: mint_any may mint (identity = key id); a key without it is an outsider', async () => {
    const r = await request(M.srv, 'GET', '/api/v1/meeting/token/cfg-1', { headers: { 'x-api-key': 'rk_backend_meetings_test_0123456789' } });
    assert.equal(r.status, 200, showRes(r));
    await verifyToken(r.json.token, { key: LK_KEY, secret: LK_SECRET, identity: 'api-key:backend', room: 'meeting-cfg-1', role: 'attendee', ttl: 7200, t0: r.t0, t1: r.t1 });
    assertFail(await request(M.srv, 'GET', '/api/v1/meeting/token/cfg-1', { headers: bearer('rk_limited_meetings_test_0123456789') }), 403);
    assertFail(await request(M.srv, 'GET', '/api/v1/meeting/get/cfg-1', { headers: bearer('rk_limited_meetings_test_0123456789') }), 403);
    assertFail(await request(M.srv, 'PUT', '/api/v1/meeting/status/cfg-1', { body: { status: 'COMPLETED' }, headers: bearer('rk_backend_meetings_test_0123456789') }), 403);
  });

  test('500 when LiveKit is not configured', async () => {
    const db = path.join(M.tmp.dir, 'nolk.db');
    meetingCreate(db, 'x1', 'lead');
    const srv = await startServer({ env: { ROOMKEY_LISTEN: '127.0.0.1:0', ROOMKEY_DATABASE: db, ROOMKEY_SESSION_SECRET: SESSION_SECRET } });
    try {
      assertFail(await request(srv, 'GET', '/api/v1/meeting/token/x1', { headers: bearer(await tok('lead')) }), 500, 'LiveKit is not configured');
    } finally {
      await stopChecked(srv);
    }
  });

  test('families: {meetings: false} -> not served', async () => {
    const p = path.join(M.tmp.dir, 'off.yaml');
    fs.writeFileSync(p, toYaml({ database: M.db, server: { listen: '127.0.0.1:0' }, families: { meetings: false },
      issuers: [{ name: 'app', algorithms: ['HS256'], secret: SESSION_SECRET }] }));
    const srv = await startServer({ configPath: p });
    try {
      const r = await request(srv, 'GET', '/api/v1/meeting/token/cfg-1', { headers: bearer(await tok('lead')) });
      assert.equal(r.status, 404, showRes(r));
      assert.notEqual(r.json?.success, false, 'answered by the meetings family although it is off');
    } finally {
      await stopChecked(srv);
    }
  });
});

describe('roomkey meeting (CLI)', () => {
  const M = {};
  before(() => {
    M.tmp = tempDir();
    M.db = path.join(M.tmp.dir, 'cli.db');
  });
  after(() => M.tmp?.cleanup());

  test('create, show, list, participants, delete', () => {
    const r = meetingCreate(M.db, 'c-1', 'alice', { heading: 'Planning', description: 'Q3 ☀', status: 'SCHEDULED' });
    assert.equal(r.stdout, 'created meeting c-1 (room meeting-c-1)\n');
    participantAdd(M.db, 'c-1', 'bob');
    participantAdd(M.db, 'c-1', 'carol', 'listener');
    const show = JSON.parse(cliOk(M.db, ['meeting', 'show', 'c-1']).stdout);
    assert.equal(show.meeting_id, 'c-1');
    assert.equal(show.room, 'meeting-c-1');
    assert.equal(show.heading, 'Planning');
    assert.equal(show.description, 'Q3 ☀');
    assert.equal(show.status, 'SCHEDULED');
    assert.equal(show.creator, 'alice');
    assert.deepEqual(show.participants, [{ subject: 'alice', role: 'member' }, { subject: 'bob', role: 'member' }, { subject: 'carol', role: 'listener' }]);
    // the room is an ordinary members-only room
    const room = JSON.parse(cliOk(M.db, ['room', 'show', 'meeting-c-1']).stdout);
    assert.equal(room.mode, 'members');
    assert.equal(room.member_count, 3);
    meetingCreate(M.db, 'c-0', 'zed');
    const list = JSON.parse(cliOk(M.db, ['meeting', 'list', '--json']).stdout);
    assert.deepEqual(list.map((m) => m.meeting_id), ['c-0', 'c-1']);
    assert.deepEqual(JSON.parse(cliOk(M.db, ['meeting', 'list', '--json', '--after', 'c-0']).stdout).map((m) => m.meeting_id), ['c-1']);
    assert.match(cliOk(M.db, ['meeting', 'list']).stdout, /^ID\s+STATUS\s+CREATOR\s+HEADING\n/);
    cliOk(M.db, ['meeting', 'participant', 'remove', 'c-1', 'bob']);
    assert.equal(JSON.parse(cliOk(M.db, ['meeting', 'show', 'c-1']).stdout).participants.length, 2);
    assert.equal(cliOk(M.db, ['meeting', 'delete', 'c-1']).stdout, 'deleted meeting c-1\n');
    assert.equal(cli(M.db, ['room', 'show', 'meeting-c-1']).status, 1);
  });

  test('refusals: exit 2 for bad input, 1 for conflicts and absent things', () => {
    const cases = [
      [['meeting', 'create', 'bad id', '--creator', 'a', '--heading', 'h'], 2, /not a meeting id/],
      [['meeting', 'create', 'x'.repeat(65), '--creator', 'a', '--heading', 'h'], 2, /not a meeting id/],
      [['meeting', 'create', 'ok', '--heading', 'h'], 2, /--creator and --heading/],
      [['meeting', 'create', 'ok', '--creator', 'a', '--heading', ''], 2, /--heading is empty/],
      [['meeting', 'create', 'ok', '--creator', 'a', '--heading', 'h'.repeat(257)], 2, /longer than 256/],
      [['meeting', 'create', 'ok', '--creator', 'a', '--heading', 'h', '--status', 'DONE'], 2, /PENDING, SCHEDULED, PROCESSING, COMPLETED, CANCELED/],
      [['meeting', 'create', 'ok', '--creator', 'a', '--heading', 'h', '--creator-role', 'Bad Role'], 2, /not a role name/],
      [['meeting', 'show', 'nope'], 1, /not found/],
      [['meeting', 'delete', 'nope'], 1, /not found/],
      [['meeting', 'participant', 'add', 'nope', 'x'], 1, /not found/],
      [['meeting', 'frobnicate'], 2, /unknown meeting command/],
    ];
    meetingCreate(M.db, 'dup', 'alice');
    cases.push([['meeting', 'create', 'dup', '--creator', 'a', '--heading', 'h'], 1, /already exists/]);
    cases.push([['meeting', 'participant', 'remove', 'dup', 'alice'], 1, /can't be removed/]);
    cases.push([['meeting', 'participant', 'remove', 'dup', 'nobody'], 1, /not a participant/]);
    cliOk(M.db, ['room', 'create', 'meeting-taken']);
    cases.push([['meeting', 'create', 'taken', '--creator', 'a', '--heading', 'h'], 1, /room "meeting-taken" already exists/]);
    for (const [args, code, re] of cases) {
      const r = cli(M.db, args);
      assert.equal(r.status, code, `${args.join(' ')}: ${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
    }
    assert.equal(cli(M.db, ['meeting', 'show', 'taken']).status, 1, 'a refused create wrote nothing');
  });
});
