// Black-box tests of the admin API (/admin/v1/..., docs/admin-api.md) and
// `roomkey audit list`: who may call it, room and membership round trips
// (checked against the token route and the CLI), meetings of the meetings contract
// (checked against the meetings family and `roomkey meeting`), audit filters
// and paging, and the admin error shape.
//
// Run:  cd tests/interop && ROOMKEY_BIN=$PWD/../../build/roomkey node --test admin.test.mjs

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { ADMIN_KEY, LK_KEY, LK_SECRET, SESSION_SECRET, logLines, mintAs, opsEnv, opsServer, session, verifyToken, waitFor } from './ops-lib.mjs';
import {
  ROLE_GRANTS, auditList, bearer, checkAuditPrune, cli, cliOk, nowSec, rand, request, roomCreate, showRes, startServer, stopChecked, tempDir, toYaml,
} from './service-lib.mjs';
import { run } from './lib.mjs';

const M = {};
const admin = (method, p, body, headers = { authorization: `Bearer ${ADMIN_KEY}` }) =>
  request(M.srv, method, p, { body, headers });

/** Assert the admin error shape {"error":{"code","message"}}. */
function assertAdminError(r, status, code, message) {
  assert.equal(r.status, status, showRes(r));
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(Object.keys(r.json ?? {}), ['error'], showRes(r));
  assert.deepEqual(Object.keys(r.json.error).sort(), ['code', 'message'], showRes(r));
  assert.equal(r.json.error.code, code, showRes(r));
  assert.equal(typeof r.json.error.message, 'string');
  if (message) assert.match(r.json.error.message, message, showRes(r));
}

before(async () => {
  M.adminApiKey = `rk_ops_${rand(20)}`;
  M.mintKey = `rk_mint_${rand(20)}`;
  ({ tmp: M.tmp, db: M.db, srv: M.srv } = await opsServer({
    yaml: {
      api_keys: [
        { id: 'ops-tool', key: M.adminApiKey, permissions: ['admin'] },
        { id: 'backend', key: M.mintKey, permissions: ['mint_any'] },
      ],
      roles: { speaker: { can_publish: true, can_subscribe: true } },
    },
  }));
});

after(async () => {
  await stopChecked(M.srv);
  M.tmp.cleanup();
});

describe('who may call the admin API', () => {
  test('no credential, a wrong key, a session JWT, an API key without the admin permission: refused', async () => {
    const none = await admin('GET', '/admin/v1/rooms', undefined, {});
    assertAdminError(none, 401, 'unauthorized');
    assert.match(none.headers.get('www-authenticate') ?? '', /^Bearer/);
    assertAdminError(await admin('GET', '/admin/v1/rooms', undefined, bearer(`${ADMIN_KEY}x`)), 401, 'unauthorized');
    assertAdminError(await admin('GET', '/admin/v1/rooms', undefined, { 'x-api-key': 'rk_nope' }), 401, 'unauthorized');
    assertAdminError(await admin('GET', '/admin/v1/rooms', undefined, bearer(await session('alice'))), 403, 'forbidden');
    assertAdminError(await admin('GET', '/admin/v1/rooms', undefined, { 'x-api-key': M.mintKey }), 403, 'forbidden');
    // Mutations are refused the same way and change nothing.
    assertAdminError(await admin('POST', '/admin/v1/rooms', { name: 'sneaky' }, {}), 401, 'unauthorized');
    assertAdminError(await admin('DELETE', '/admin/v1/rooms/x', undefined, { 'x-api-key': M.mintKey }), 403, 'forbidden');
    assert.equal(cli(M.db, ['room', 'show', 'sneaky']).status, 1, 'no room was created');
  });

  test('the admin key (Bearer or X-API-Key) and an API key with the admin permission are accepted', async () => {
    assert.equal((await admin('GET', '/admin/v1/rooms')).status, 200);
    assert.equal((await admin('GET', '/admin/v1/rooms', undefined, { 'x-api-key': ADMIN_KEY })).status, 200);
    // one credential per request: in X-API-Key the admin key must come alone;
    // in Authorization it is the admin whatever else is sent (docs/security.md)
    const basic = `Basic ${Buffer.from('x:y').toString('base64')}`;
    assertAdminError(await admin('GET', '/admin/v1/rooms', undefined, { 'x-api-key': ADMIN_KEY, authorization: basic }), 401, 'unauthorized');
    assertAdminError(await admin('GET', '/admin/v1/rooms', undefined, { 'x-api-key': ADMIN_KEY, ...bearer(await session('alice')) }), 401, 'unauthorized');
    assert.equal((await admin('GET', '/admin/v1/rooms', undefined, { 'x-api-key': 'anything', ...bearer(ADMIN_KEY) })).status, 200);
    const r = await admin('GET', '/admin/v1/rooms', undefined, bearer(M.adminApiKey));
    assert.equal(r.status, 200, showRes(r));
    assert.ok(Array.isArray(r.json.rooms));
  });
});

describe('rooms and members', () => {
  test('room create / show / list / delete round trip (seen by the CLI and the token route)', async () => {
    const c = await admin('POST', '/admin/v1/rooms', { name: 'town-hall', alias: 'th-1', mode: 'members', default_role: 'speaker', max_ttl: '2h' });
    assert.equal(c.status, 201, showRes(c));
    assert.deepEqual({ ...c.json, created_at: 0 }, {
      name: 'town-hall', alias: 'th-1', mode: 'members', default_role: 'speaker', max_participants: 0, max_ttl: 7200, created_at: 0,
    });
    const shown = JSON.parse(cliOk(M.db, ['room', 'show', 'town-hall']).stdout);
    assert.equal(shown.alias, 'th-1');
    assert.equal(shown.max_ttl, 7200);
    const g = await admin('GET', '/admin/v1/rooms/th-1');
    assert.equal(g.status, 200, showRes(g));
    assert.equal(g.json.name, 'town-hall');
    assert.equal(g.json.member_count, 0);
    const l = await admin('GET', '/admin/v1/rooms');
    assert.ok(l.json.rooms.some((r) => r.name === 'town-hall'), showRes(l));
    // Members-only and no membership yet: the token route refuses.
    assert.equal((await mintAs(M.srv, 'zoe', 'town-hall')).status, 403);
    // Delete by alias is refused; by name works; then it is gone.
    assertAdminError(await admin('DELETE', '/admin/v1/rooms/th-1'), 404, 'not_found', /alias/);
    const d = await admin('DELETE', '/admin/v1/rooms/town-hall');
    assert.equal(d.status, 204, showRes(d));
    assert.equal(d.text, '');
    assertAdminError(await admin('GET', '/admin/v1/rooms/town-hall'), 404, 'not_found');
    assertAdminError(await admin('DELETE', '/admin/v1/rooms/town-hall'), 404, 'not_found');
    assert.equal((await mintAs(M.srv, 'zoe', 'town-hall')).status, 404);
  });

  test('room create refusals: 400 for bad fields, 409 for a taken name or alias, 415 without JSON', async () => {
    assert.equal((await admin('POST', '/admin/v1/rooms', { name: 'dup', alias: 'dup-alias' })).status, 201);
    for (const [body, msg] of [
      [{}, /name is required/],
      [{ name: null }, /name is required/],
      [{ name: '' }, /name/],
      [{ name: 'x', mode: 'everyone' }, /mode/],
      [{ name: 'x', default_role: 'nope' }, /not a configured role/],
      [{ name: 'x', default_role: 'Bad Role' }, /default_role/],
      [{ name: 'x', max_ttl: -5 }, /max_ttl/],
      [{ name: 'x', max_participants: 1.5 }, /max_participants/],
      [{ name: 'x', colour: 'red' }, /unknown field/],
      [{ name: 'x'.repeat(257) }, /256/],
      [[], /JSON object/],
    ]) {
      assertAdminError(await admin('POST', '/admin/v1/rooms', body), 400, 'invalid_request', msg);
    }
    assertAdminError(await admin('POST', '/admin/v1/rooms', '{"name":"a","name":"b"}'), 400, 'invalid_request');
    assertAdminError(await admin('POST', '/admin/v1/rooms', { name: 'dup' }), 409, 'conflict');
    assertAdminError(await admin('POST', '/admin/v1/rooms', { name: 'dup-alias' }), 409, 'conflict');
    const noType = await request(M.srv, 'POST', '/admin/v1/rooms', { body: '{"name":"t"}', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': null } });
    assertAdminError(noType, 415, 'unsupported_media_type');
  });

  test('member add / change / show / list / remove round trip, enforced by the token route', async () => {
    roomCreate(M.db, 'studio', { mode: 'members', defaultRole: 'member' });
    const a = await admin('POST', '/admin/v1/rooms/studio/members', { subject: 'zoe' });
    assert.equal(a.status, 201, showRes(a));
    assert.deepEqual({ ...a.json, created_at: 0 }, { room: 'studio', subject: 'zoe', role: 'member', created_at: 0 });
    let t = await mintAs(M.srv, 'zoe', 'studio');
    assert.equal(t.status, 200, showRes(t));
    assert.equal((await verifyToken(t.json.token)).video.canPublishData, true, 'member grants');
    // Change the role (POST again, then PUT): 200, and the token follows.
    const ch = await admin('POST', '/admin/v1/rooms/studio/members', { subject: 'zoe', role: 'listener' });
    assert.equal(ch.status, 200, showRes(ch));
    assert.equal(ch.json.role, 'listener');
    t = await mintAs(M.srv, 'zoe', 'studio');
    assert.equal((await verifyToken(t.json.token)).video.canPublish ?? false, false, 'listener grants');
    const put = await admin('PUT', '/admin/v1/rooms/studio/members/yann', { role: 'speaker' });
    assert.equal(put.status, 201, showRes(put));
    const show = await admin('GET', '/admin/v1/rooms/studio/members/yann');
    assert.equal(show.status, 200);
    assert.equal(show.json.role, 'speaker');
    const list = await admin('GET', '/admin/v1/rooms/studio/members');
    assert.deepEqual(list.json.members.map((m) => [m.subject, m.role]), [['yann', 'speaker'], ['zoe', 'listener']]);
    const cliList = JSON.parse(cliOk(M.db, ['member', 'list', 'studio', '--json']).stdout);
    assert.deepEqual(cliList.map((m) => m.subject), ['yann', 'zoe']);
    assert.equal((await admin('GET', '/admin/v1/rooms/studio')).json.member_count, 2);
    // Remove: 204, then 404, and the token route refuses again.
    const rm = await admin('DELETE', '/admin/v1/rooms/studio/members/zoe');
    assert.equal(rm.status, 204, showRes(rm));
    assertAdminError(await admin('DELETE', '/admin/v1/rooms/studio/members/zoe'), 404, 'not_found');
    assertAdminError(await admin('GET', '/admin/v1/rooms/studio/members/zoe'), 404, 'not_found');
    assert.equal((await mintAs(M.srv, 'zoe', 'studio')).status, 403);
    // Refusals.
    assertAdminError(await admin('POST', '/admin/v1/rooms/studio/members', { role: 'member' }), 400, 'invalid_request', /subject is required/);
    assertAdminError(await admin('POST', '/admin/v1/rooms/studio/members', { subject: null }), 400, 'invalid_request', /subject is required/);
    assertAdminError(await admin('POST', '/admin/v1/rooms/studio/members', { subject: 'q', role: 'ghost' }), 400, 'invalid_request', /role/);
    assertAdminError(await admin('PUT', '/admin/v1/rooms/studio/members/q', { role: 'member', extra: 1 }), 400, 'invalid_request', /unknown field/);
    assertAdminError(await admin('POST', '/admin/v1/rooms/nowhere/members', { subject: 'q' }), 404, 'not_found');
  });

  test('unknown admin paths and methods answer in the admin shape', async () => {
    assertAdminError(await admin('GET', '/admin/v1/nope'), 404, 'not_found');
    const r = await admin('PATCH', '/admin/v1/rooms');
    assertAdminError(r, 405, 'method_not_allowed');
    // the Allow header lists every method the path has (RFC 9110 section 15.5.6)
    assert.deepEqual((r.headers.get('allow') ?? '').split(', ').sort(), ['GET', 'POST']);
  });

  test('an encoded slash (%2F) in the path names no route: a room called "x/members/y" cannot reach x\'s member y', async () => {
    assert.equal((await admin('POST', '/admin/v1/rooms', { name: 'crew', mode: 'members', default_role: 'member' })).status, 201);
    assert.equal((await admin('POST', '/admin/v1/rooms/crew/members', { subject: 'yuri' })).status, 201);
    const odd = 'crew/members/yuri';
    assert.equal((await admin('POST', '/admin/v1/rooms', { name: odd, mode: 'members' })).status, 201);
    for (const [method, p] of [
      ['DELETE', '/admin/v1/rooms/crew%2Fmembers%2Fyuri'],
      ['DELETE', '/admin/v1/rooms/crew%2fmembers%2fyuri'],
      ['GET', '/admin/v1/rooms/crew%2Fmembers%2Fyuri'],
      ['PUT', '/admin/v1/rooms/crew%2Fmembers/yuri'],
    ]) {
      assertAdminError(await admin(method, p, method === 'PUT' ? { role: 'member' } : undefined), 404, 'not_found');
    }
    // yuri is still crew's member, and the odd room is still there (the CLI reaches it)
    assert.equal((await admin('GET', '/admin/v1/rooms/crew/members/yuri')).status, 200);
    assert.equal(cli(M.db, ['room', 'show', odd]).status, 0);
  });
});

describe('audit', () => {
  before(async () => {
    roomCreate(M.db, 'plaza', { mode: 'authenticated' });
    roomCreate(M.db, 'annex', { mode: 'authenticated' });
    for (const [sub, room] of [['ada', 'plaza'], ['ada', 'plaza'], ['bo', 'plaza'], ['ada', 'annex'], ['cy', 'annex']]) {
      const r = await mintAs(M.srv, sub, room);
      assert.equal(r.status, 200, showRes(r));
    }
  });

  const audit = async (q) => {
    const r = await admin('GET', `/admin/v1/audit${q}`);
    assert.equal(r.status, 200, showRes(r));
    return r.json;
  };

  test('filters match `roomkey audit list` (room, subject, since, limit, before_id)', async () => {
    const ids = (list) => list.map((x) => x.id);
    for (const [q, f] of [
      ['?room=plaza', { room: 'plaza' }],
      ['?subject=ada', { subject: 'ada' }],
      ['?room=annex&subject=cy', { room: 'annex', subject: 'cy' }],
    ]) {
      const a = await audit(q);
      assert.deepEqual(ids(a.records), ids(auditList(M.db, f)), q);
      assert.ok(a.records.length > 0, q);
      for (const rec of a.records) {
        if (f.room) assert.equal(rec.room, f.room);
        if (f.subject) assert.equal(rec.subject, f.subject);
        assert.equal(typeof rec.jti, 'string');
        assert.equal(typeof rec.grants, 'object');
        assert.equal(rec.token, undefined, 'never the token');
      }
    }
    const recent = await audit('?since=1h&subject=ada');
    assert.equal(recent.records.length, 3);
    const cliSince = JSON.parse(cliOk(M.db, ['audit', 'list', '--json', '--since', '1h', '--subject', 'ada']).stdout);
    assert.deepEqual(ids(recent.records), ids(cliSince));
  });

  test('paging: limit and before_id walk the records newest first; next_before_id ends with null', async () => {
    const all = (await audit('?room=plaza')).records;
    assert.equal(all.length, 3);
    const p1 = await audit('?room=plaza&limit=2');
    assert.deepEqual(p1.records.map((r) => r.id), all.slice(0, 2).map((r) => r.id));
    assert.equal(p1.next_before_id, all[1].id);
    const p2 = await audit(`?room=plaza&limit=2&before_id=${p1.next_before_id}`);
    assert.deepEqual(p2.records.map((r) => r.id), [all[2].id]);
    assert.equal(p2.next_before_id, null);
    const cliPage = JSON.parse(cliOk(M.db, ['audit', 'list', '--json', '--room', 'plaza', '--limit', '2', '--before-id', String(p1.next_before_id)]).stdout);
    assert.deepEqual(cliPage.map((r) => r.id), [all[2].id]);
  });

  test('bad queries: 400 naming the parameter; and the audit needs the admin key', async () => {
    for (const [q, msg] of [
      ['?limit=0', /limit/], ['?limit=10001', /limit/], ['?limit=abc', /limit/], ['?before_id=-1', /before_id/],
      ['?since=yesterday', /since/], ['?rooom=plaza', /unknown query parameter/],
    ]) {
      assertAdminError(await admin('GET', `/admin/v1/audit${q}`), 400, 'invalid_request', msg);
    }
    assertAdminError(await admin('GET', '/admin/v1/audit', undefined, {}), 401, 'unauthorized');
  });

  test('audit.retain_days: roomkey serve prunes what is older at start, and again when a reload shortens it', async () => {
    const tmp = tempDir();
    const db = path.join(tmp.dir, 'rk.db');
    const conf = path.join(tmp.dir, 'rk.yaml');
    roomCreate(db, 'kept', { mode: 'authenticated' });
    /** Records issued `days` ago, written straight into the file (nothing else makes old ones). */
    const aged = (jti, days) => {
      const at = nowSec() - days * 86400;
      const r = spawnSync('sqlite3', [db, `INSERT INTO audit (jti, subject, identity, room, role, grants, issued_at, exp, client_ip, route)
        VALUES ('${jti}', 'old-sub', 'old-sub', 'kept', 'member', '{}', ${at}, ${at + 3600}, '192.0.2.1', 'livekit.token')`], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    };
    for (const [jti, days] of [['d40a', 40], ['d40b', 40], ['d31', 31], ['d10', 10], ['d1', 1]]) aged(jti, days);
    fs.writeFileSync(conf, toYaml({ audit: { retain_days: 30 } }));
    const srv = await startServer({ configPath: conf, env: opsEnv(db) });
    try {
      const pruned = (skip) => waitFor(() => logLines(srv).filter((l) => l.event === 'audit_pruned')[skip], 'audit_pruned');
      assert.equal((await pruned(0)).deleted, '3');
      assert.deepEqual(auditList(db).map((a) => a.jti).sort(), ['d1', 'd10']);
      const r = await mintAs(srv, 'fresh', 'kept');
      assert.equal(r.status, 200, showRes(r));
      fs.writeFileSync(conf, toYaml({ audit: { retain_days: 5 } }));
      srv.proc.kill('SIGHUP');
      assert.equal((await pruned(1)).deleted, '1');
      assert.deepEqual(auditList(db).map((a) => a.subject).sort(), ['fresh', 'old-sub']);
      assert.equal(auditList(db).find((a) => a.subject === 'old-sub').jti, 'd1');
    } finally {
      await stopChecked(srv);
      tmp.cleanup();
    }
  });

  test('`roomkey audit prune --before DATE`: older records go, later ones stay, tokens keep coming (SQLite)', async () => {
    await checkAuditPrune(M.db, { oldSub: 'pruned-ada', newSub: 'kept-ada', mint: (sub) => mintAs(M.srv, sub, 'plaza') });
  });
});

describe('meetings (the meetings contract): managed through the admin API', () => {
  const ID = 'standup-1';
  const meetingPath = (id, rest = '') => `/admin/v1/meetings/${id}${rest}`;
  const zeroTimes = (m) => ({ ...m, created_at: 0, updated_at: 0, participants: m.participants?.map((p) => ({ ...p, created_at: 0 })) });
  const cliShow = (id) => JSON.parse(cliOk(M.db, ['meeting', 'show', id]).stdout);
  const meetingToken = async (sub, id) => request(M.srv, 'GET', `/api/v1/meeting/token/${id}`, { headers: bearer(await session(sub)) });

  /** The meetings family mints for sub in meeting id, with role's grants. */
  async function tokenOk(sub, id, role) {
    const r = await meetingToken(sub, id);
    assert.equal(r.status, 200, showRes(r));
    assert.equal(r.json.success, true);
    assert.equal(r.json.roomName, `meeting-${id}`);
    const claims = await verifyToken(r.json.token);
    assert.equal(claims.sub, sub);
    assert.equal(claims.sha256, undefined);
    assert.equal(claims.video.room, `meeting-${id}`);
    assert.equal(claims.video.roomJoin, true);
    for (const [k, on] of Object.entries(ROLE_GRANTS[role])) {
      assert.equal(claims.video[k] === true, on, `${role}: video.${k} (${JSON.stringify(claims.video)})`);
    }
    return r.json;
  }

  /** The meetings family refuses sub a token for meeting id with status. */
  async function tokenRefused(sub, id, status) {
    const r = await meetingToken(sub, id);
    assert.equal(r.status, status, showRes(r));
    assert.equal(r.json.success, false);
  }

  test('create with roles / show / list: the creator gets a token, the CLI sees what the API wrote', async () => {
    const c = await admin('POST', '/admin/v1/meetings', {
      meeting_id: ID, heading: 'Daily standup', description: 'Team sync', status: 'SCHEDULED', creator: 'owner-a',
      creator_role: 'moderator', participant_role: 'speaker',
    });
    assert.equal(c.status, 201, showRes(c));
    const want = {
      meeting_id: ID, room: `meeting-${ID}`, heading: 'Daily standup', description: 'Team sync', status: 'SCHEDULED',
      creator: 'owner-a', created_at: 0, updated_at: 0,
      participants: [{ room: `meeting-${ID}`, subject: 'owner-a', role: 'moderator', created_at: 0 }],
    };
    assert.deepEqual(zeroTimes(c.json), want);
    assert.ok(c.json.created_at > 0 && c.json.updated_at === c.json.created_at, showRes(c));
    const g = await admin('GET', meetingPath(ID));
    assert.equal(g.status, 200, showRes(g));
    assert.deepEqual(g.json, c.json);
    // The CLI reads the same meeting, room and participants from the store.
    const shown = cliShow(ID);
    const { participants, ...fields } = c.json;
    assert.deepEqual({ ...shown, participants: undefined }, { ...fields, participants: undefined });
    assert.deepEqual(shown.participants, [{ subject: 'owner-a', role: 'moderator' }]);
    // Its room is a members-only room whose default role is the participant role.
    const room = await admin('GET', `/admin/v1/rooms/meeting-${ID}`);
    assert.equal(room.status, 200, showRes(room));
    assert.equal(room.json.mode, 'members');
    assert.equal(room.json.default_role, 'speaker');
    const l = await admin('GET', '/admin/v1/meetings');
    assert.equal(l.status, 200, showRes(l));
    assert.deepEqual(l.json.meetings.find((m) => m.meeting_id === ID), fields, 'listed without participants');
    assert.equal(l.json.next_after_id, null);
    // The token route: the creator with the creator role; nobody else yet.
    const t = await tokenOk('owner-a', ID, 'moderator');
    assert.deepEqual(t.meeting, { meeting_id: ID, heading: 'Daily standup', description: 'Team sync', status: 'SCHEDULED' });
    await tokenRefused('dev-b', ID, 403);
  });

  test('create with only the required fields takes the CLI\'s defaults (PROCESSING, member, member, no description)', async () => {
    const c = await admin('POST', '/admin/v1/meetings', { meeting_id: 'Quick_2', heading: 'Quick call', creator: 'owner-q' });
    assert.equal(c.status, 201, showRes(c));
    assert.equal(c.json.status, 'PROCESSING');
    assert.equal(c.json.description, '');
    assert.deepEqual(c.json.participants.map((p) => [p.subject, p.role]), [['owner-q', 'member']]);
    assert.equal((await admin('GET', '/admin/v1/rooms/meeting-Quick_2')).json.default_role, 'member');
    // The CLI's own create gives the same result (its defaults are the same).
    cliOk(M.db, ['meeting', 'create', 'Quick_3', '--creator', 'owner-q', '--heading', 'Quick call']);
    const viaCli = await admin('GET', meetingPath('Quick_3'));
    assert.equal(viaCli.status, 200, showRes(viaCli));
    const same = ({ heading, description, status, creator, participants }) =>
      ({ heading, description, status, creator, participants: participants.map((p) => [p.subject, p.role]) });
    assert.deepEqual(same(viaCli.json), same(c.json));
    await tokenOk('owner-q', 'Quick_2', 'member');
  });

  test('participants: added via the admin API get tokens with their role; removed ones get 403; the creator stays', async () => {
    // PUT without a role: the meeting's participant role (speaker).
    const a = await admin('PUT', meetingPath(ID, '/participants/dev-b'), {});
    assert.equal(a.status, 201, showRes(a));
    assert.deepEqual({ ...a.json, created_at: 0 }, { room: `meeting-${ID}`, subject: 'dev-b', role: 'speaker', created_at: 0 });
    await tokenOk('dev-b', ID, 'speaker');
    // PUT again with a role changes it: 200, and the next token follows.
    const ch = await admin('PUT', meetingPath(ID, '/participants/dev-b'), { role: 'member' });
    assert.equal(ch.status, 200, showRes(ch));
    assert.equal(ch.json.role, 'member');
    await tokenOk('dev-b', ID, 'member');
    assert.equal((await admin('PUT', meetingPath(ID, '/participants/guest-c'), { role: 'listener' })).status, 201);
    await tokenOk('guest-c', ID, 'listener');
    const g = await admin('GET', meetingPath(ID));
    const roles = [['dev-b', 'member'], ['guest-c', 'listener'], ['owner-a', 'moderator']];
    assert.deepEqual(g.json.participants.map((p) => [p.subject, p.role]), roles);
    assert.deepEqual(cliShow(ID).participants.map((p) => [p.subject, p.role]), roles, 'the CLI sees the same participants');
    // Remove: 204, then the token route refuses at once (same server, its cache dropped).
    const rm = await admin('DELETE', meetingPath(ID, '/participants/dev-b'));
    assert.equal(rm.status, 204, showRes(rm));
    assert.equal(rm.text, '');
    await tokenRefused('dev-b', ID, 403);
    assertAdminError(await admin('DELETE', meetingPath(ID, '/participants/dev-b')), 404, 'not_found', /not a participant/);
    assert.deepEqual(cliShow(ID).participants.map((p) => p.subject), ['guest-c', 'owner-a']);
    // The creator can't be removed (as with `roomkey meeting participant remove`).
    assertAdminError(await admin('DELETE', meetingPath(ID, '/participants/owner-a')), 409, 'conflict', /created meeting/);
    await tokenOk('owner-a', ID, 'moderator');
    const cliRm = cli(M.db, ['meeting', 'participant', 'remove', ID, 'owner-a']);
    assert.equal(cliRm.status, 1, 'the CLI refuses the same');
    // Refusals of participant changes.
    assertAdminError(await admin('PUT', meetingPath(ID, '/participants/q'), { role: 'ghost' }), 400, 'invalid_request', /not a configured role/);
    assertAdminError(await admin('PUT', meetingPath(ID, '/participants/q'), { role: 'member', subject: 'x' }), 400, 'invalid_request', /unknown field/);
    assertAdminError(await admin('PUT', meetingPath('no-such', '/participants/q'), {}), 404, 'not_found', /meeting "no-such" not found/);
    assertAdminError(await admin('DELETE', meetingPath('bad%20id', '/participants/q')), 404, 'not_found', /meeting not found/);
    assert.ok(!cliShow(ID).participants.some((p) => p.subject === 'q'), 'q was never added');
  });

  test('status: PUT {status} changes it (the family and the CLI see it); bad statuses are 400', async () => {
    const before = (await admin('GET', meetingPath(ID))).json;
    const u = await admin('PUT', meetingPath(ID), { status: 'COMPLETED' });
    assert.equal(u.status, 200, showRes(u));
    assert.deepEqual(zeroTimes(u.json), zeroTimes({ ...before, status: 'COMPLETED' }));
    assert.ok(u.json.updated_at >= before.updated_at);
    assert.equal(cliShow(ID).status, 'COMPLETED');
    // issue 14: a COMPLETED meeting gets no tokens (409 in the meetings contract's shape)
    const ended = await meetingToken('owner-a', ID);
    assert.equal(ended.status, 409, showRes(ended));
    assert.deepEqual(ended.json, { success: false, message: 'This meeting has ended' });
    for (const [body, msg] of [
      [{}, /status is required/],
      [{ status: null }, /status is required/],
      [{ status: 'DONE' }, /status must be one of PENDING, SCHEDULED, PROCESSING, COMPLETED, CANCELED/],
      [{ status: 'completed' }, /status must be one of/],
      [{ status: 3 }, /status must be one of/],
      [{ status: 'CANCELED', heading: 'x' }, /unknown field/],
      ['{"status":"PENDING","status":"CANCELED"}', /JSON object/],
    ]) {
      assertAdminError(await admin('PUT', meetingPath(ID), body), 400, 'invalid_request', msg);
    }
    assert.equal(cliShow(ID).status, 'COMPLETED', 'unchanged by the refusals');
    assertAdminError(await admin('PUT', meetingPath('no-such'), { status: 'PENDING' }), 404, 'not_found');
  });

  test('list pages like `roomkey meeting list` (after_id + limit, next_after_id)', async () => {
    for (const id of ['page-a', 'page-b', 'page-c']) {
      assert.equal((await admin('POST', '/admin/v1/meetings', { meeting_id: id, heading: id, creator: 'pager' })).status, 201);
    }
    const all = JSON.parse(cliOk(M.db, ['meeting', 'list', '--json']).stdout).map((m) => m.meeting_id);
    assert.ok(all.length >= 5, JSON.stringify(all));
    const seen = [];
    let after = null;
    for (let pages = 0; pages <= all.length; pages++) {
      const r = await admin('GET', `/admin/v1/meetings?limit=2${after ? `&after_id=${after}` : ''}`);
      assert.equal(r.status, 200, showRes(r));
      assert.ok(r.json.meetings.length <= 2);
      seen.push(...r.json.meetings.map((m) => m.meeting_id));
      assert.equal(r.json.next_after_id, r.json.meetings.length === 2 ? seen.at(-1) : null, showRes(r));
      after = r.json.next_after_id;
      if (!after) break;
    }
    assert.deepEqual(seen, all);
    const cliPage = JSON.parse(cliOk(M.db, ['meeting', 'list', '--json', '--after', 'page-a', '--limit', '2']).stdout);
    const apiPage = await admin('GET', '/admin/v1/meetings?after_id=page-a&limit=2');
    assert.deepEqual(apiPage.json.meetings.map((m) => m.meeting_id), cliPage.map((m) => m.meeting_id));
    for (const [q, msg] of [
      ['?limit=0', /limit/], ['?limit=1001', /limit/], ['?limit=x', /limit/],
      ['?after_id=bad%20id', /after_id/], ['?after=page-a', /unknown query parameter "after" \(known: after_id, limit\)/],
    ]) {
      assertAdminError(await admin('GET', `/admin/v1/meetings${q}`), 400, 'invalid_request', msg);
    }
  });

  test('create refusals: 400 naming the field, 409 for a taken id or room, 415 without JSON; nothing is written', async () => {
    const ok = { meeting_id: 'refused-1', heading: 'H', creator: 'c' };
    for (const [body, msg] of [
      [{ heading: 'H', creator: 'c' }, /meeting_id is required/],
      [{ meeting_id: 'refused-1', creator: 'c' }, /heading is required/],
      [{ meeting_id: 'refused-1', heading: 'H' }, /creator is required/],
      [{ ...ok, meeting_id: null }, /meeting_id is required/],
      [{ ...ok, meeting_id: 'bad id' }, /meeting_id must be 1-64 of A-Z, a-z, 0-9/],
      [{ ...ok, meeting_id: 'x'.repeat(65) }, /meeting_id/],
      [{ ...ok, meeting_id: 7 }, /meeting_id must be a string/],
      [{ ...ok, heading: '' }, /heading must not be empty/],
      [{ ...ok, heading: 'h'.repeat(257) }, /heading is longer than 256 bytes/],
      [{ ...ok, description: 'd'.repeat(2049) }, /description is longer than 2048 bytes/],
      [{ ...ok, creator: '' }, /creator must not be empty/],
      [{ ...ok, status: 'DONE' }, /status must be one of/],
      [{ ...ok, creator_role: 'ghost' }, /creator_role "ghost" is not a configured role/],
      [{ ...ok, participant_role: 'Bad Role' }, /participant_role/],
      [{ ...ok, user_id: 'c' }, /unknown field "user_id"/],
      [[], /JSON object/],
    ]) {
      assertAdminError(await admin('POST', '/admin/v1/meetings', body), 400, 'invalid_request', msg);
    }
    assertAdminError(await admin('POST', '/admin/v1/meetings', { meeting_id: ID, heading: 'again', creator: 'x' }), 409, 'conflict', /meeting "standup-1" exists/);
    // A plain room already named like the meeting's room: 409, and no meeting.
    roomCreate(M.db, 'meeting-taken', { mode: 'authenticated' });
    assertAdminError(await admin('POST', '/admin/v1/meetings', { meeting_id: 'taken', heading: 'H', creator: 'c' }), 409, 'conflict', /room "meeting-taken" exists/);
    const noType = await request(M.srv, 'POST', '/admin/v1/meetings', { body: JSON.stringify(ok), headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': null } });
    assertAdminError(noType, 415, 'unsupported_media_type');
    for (const id of ['refused-1', 'taken']) assert.equal(cli(M.db, ['meeting', 'show', id]).status, 1, `no meeting ${id}`);
    assert.equal(cli(M.db, ['room', 'show', 'meeting-refused-1']).status, 1, 'no room either');
    assertAdminError(await admin('GET', meetingPath('bad%20id')), 404, 'not_found', /the meeting_id must be 1-64/);
    assertAdminError(await admin('GET', meetingPath('no-such')), 404, 'not_found', /meeting "no-such" not found/);
    assertAdminError(await admin('PATCH', meetingPath(ID), { status: 'PENDING' }), 405, 'method_not_allowed');
  });

  test('who may manage meetings: only the admin key or an admin API key; refused calls change nothing', async () => {
    const jwt = await session('owner-a');
    const calls = [
      ['GET', '/admin/v1/meetings'],
      ['POST', '/admin/v1/meetings', { meeting_id: 'sneaky', heading: 'H', creator: 'owner-a' }],
      ['GET', meetingPath(ID)],
      ['PUT', meetingPath(ID), { status: 'CANCELED' }],
      ['DELETE', meetingPath(ID)],
      ['PUT', meetingPath(ID, '/participants/intruder'), {}],
      ['DELETE', meetingPath(ID, '/participants/guest-c')],
    ];
    for (const [method, p, body] of calls) {
      assertAdminError(await admin(method, p, body, {}), 401, 'unauthorized');
      assertAdminError(await admin(method, p, body, bearer(`${ADMIN_KEY}x`)), 401, 'unauthorized');
      // The meeting's own creator, with a valid session JWT: still not an admin.
      assertAdminError(await admin(method, p, body, bearer(jwt)), 403, 'forbidden');
      assertAdminError(await admin(method, p, body, { 'x-api-key': M.mintKey }), 403, 'forbidden');
    }
    assert.equal(cli(M.db, ['meeting', 'show', 'sneaky']).status, 1);
    const shown = cliShow(ID);
    assert.equal(shown.status, 'COMPLETED');
    assert.deepEqual(shown.participants.map((p) => p.subject), ['guest-c', 'owner-a']);
    const viaKey = await admin('GET', meetingPath(ID), undefined, { 'x-api-key': M.adminApiKey });
    assert.equal(viaKey.status, 200, showRes(viaKey));
  });

  test('delete: 204, then 404 from the admin API, the token route and the CLI; its room is gone too', async () => {
    const d = await admin('DELETE', meetingPath(ID));
    assert.equal(d.status, 204, showRes(d));
    assert.equal(d.text, '');
    assertAdminError(await admin('GET', meetingPath(ID)), 404, 'not_found');
    assertAdminError(await admin('DELETE', meetingPath(ID)), 404, 'not_found');
    assertAdminError(await admin('PUT', meetingPath(ID, '/participants/guest-c'), {}), 404, 'not_found');
    assertAdminError(await admin('GET', `/admin/v1/rooms/meeting-${ID}`), 404, 'not_found');
    await tokenRefused('owner-a', ID, 404);
    await tokenRefused('guest-c', ID, 404);
    assert.equal(cli(M.db, ['meeting', 'show', ID]).status, 1);
    assert.ok(!(await admin('GET', '/admin/v1/meetings')).json.meetings.some((m) => m.meeting_id === ID));
  });
});

describe('status', () => {
  test('GET /admin/v1/status: version, readiness, LiveKit URL and key ids, families, roles; never a secret', async () => {
    const r = await admin('GET', '/admin/v1/status');
    assert.equal(r.status, 200, showRes(r));
    assert.deepEqual(Object.keys(r.json), ['version', 'commit', 'checks', 'status', 'livekit', 'families', 'roles', 'console', 'time']);
    assert.match(r.json.version, /^\d+\.\d+\.\d+/);
    const built = run(['version']).stdout.trim();
    assert.equal(built, `roomkey ${r.json.version} (commit ${r.json.commit})`, 'the same build as roomkey version');
    assert.deepEqual(r.json.checks, { keys: 'ok', store: 'ok', jwks: 'ok' });
    assert.equal(r.json.status, 'ready');
    assert.deepEqual(r.json.livekit, { url: 'wss://lk.ops.test', key_ids: [LK_KEY], signing_key_id: LK_KEY });
    assert.deepEqual(r.json.families, { livekit: true, voice_agent: true, supabase: false, meetings: true, token_source: true }, 'supabase: no room types configured');
    assert.deepEqual(r.json.roles, ['member', 'listener', 'moderator', 'speaker']);
    assert.equal(r.json.console, false);
    assert.ok(Math.abs(r.json.time - Date.now() / 1000) < 600, String(r.json.time));
    for (const secret of [LK_SECRET, SESSION_SECRET, ADMIN_KEY, M.adminApiKey, M.mintKey]) assert.ok(!r.text.includes(secret), 'a secret leaked');
    // The same checks as /readyz.
    const ready = await request(M.srv, 'GET', '/readyz');
    assert.deepEqual(ready.json, { checks: r.json.checks, status: r.json.status });
    const viaKey = await admin('GET', '/admin/v1/status', undefined, { 'x-api-key': M.adminApiKey });
    assert.equal(viaKey.status, 200, showRes(viaKey));
  });

  test('status needs the admin key like every admin route', async () => {
    assertAdminError(await admin('GET', '/admin/v1/status', undefined, {}), 401, 'unauthorized');
    assertAdminError(await admin('GET', '/admin/v1/status', undefined, bearer(await session('alice'))), 403, 'forbidden');
    assertAdminError(await admin('GET', '/admin/v1/status', undefined, { 'x-api-key': M.mintKey }), 403, 'forbidden');
    assertAdminError(await admin('POST', '/admin/v1/status', {}), 405, 'method_not_allowed');
  });
});

describe('room settings (PUT /admin/v1/rooms/{room})', () => {
  test('changes mode, default role and limits; the rest stays; the token route sees it at once', async () => {
    assert.equal((await admin('POST', '/admin/v1/rooms', { name: 'tunable', alias: 'tn-1', max_ttl: '1h' })).status, 201);
    assert.equal((await admin('POST', '/admin/v1/rooms/tunable/members', { subject: 'tia' })).status, 201);
    const before = (await admin('GET', '/admin/v1/rooms/tunable')).json;
    assert.equal((await mintAs(M.srv, 'outsider', 'tunable')).status, 403, 'members only at first');
    const r = await admin('PUT', '/admin/v1/rooms/tn-1', { mode: 'authenticated', default_role: 'speaker', max_participants: 5, max_ttl: '2h' });
    assert.equal(r.status, 200, showRes(r));
    assert.deepEqual(r.json, { ...before, mode: 'authenticated', default_role: 'speaker', max_participants: 5, max_ttl: 7200 });
    const t = await mintAs(M.srv, 'outsider', 'tunable');
    assert.equal(t.status, 200, showRes(t));
    const claims = await verifyToken(t.json.token);
    assert.equal(claims.video.canPublish, true, 'the new default role (speaker)');
    assert.ok(claims.exp - claims.nbf <= 7200);
    // Absent fields stay; null clears the default role.
    const partial = await admin('PUT', '/admin/v1/rooms/tunable', { default_role: null });
    assert.equal(partial.status, 200, showRes(partial));
    assert.equal(partial.json.default_role, null);
    assert.equal(partial.json.mode, 'authenticated');
    assert.equal(partial.json.max_ttl, 7200);
    assert.equal(partial.json.member_count, 1);
    const shown = JSON.parse(cliOk(M.db, ['room', 'show', 'tunable']).stdout);
    assert.equal(shown.mode, 'authenticated');
    assert.equal((await admin('PUT', '/admin/v1/rooms/tunable', {})).status, 200, 'an empty body changes nothing');
  });

  test('refusals: 400 for bad or unknown fields (name and alias do not change), 404, 401/403, 415', async () => {
    assertAdminError(await admin('PUT', '/admin/v1/rooms/tunable', { mode: 'everyone' }), 400, 'invalid_request', /mode must be/);
    assertAdminError(await admin('PUT', '/admin/v1/rooms/tunable', { default_role: 'nobody' }), 400, 'invalid_request', /not a configured role/);
    assertAdminError(await admin('PUT', '/admin/v1/rooms/tunable', { max_participants: -1 }), 400, 'invalid_request', /max_participants/);
    assertAdminError(await admin('PUT', '/admin/v1/rooms/tunable', { max_ttl: '31d' }), 400, 'invalid_request', /max_ttl/);
    assertAdminError(await admin('PUT', '/admin/v1/rooms/tunable', { name: 'renamed' }), 400, 'invalid_request', /unknown field "name"/);
    assertAdminError(await admin('PUT', '/admin/v1/rooms/tunable', { alias: 'x' }), 400, 'invalid_request', /unknown field "alias"/);
    assertAdminError(await admin('PUT', '/admin/v1/rooms/tunable', '[1]'), 400, 'invalid_request');
    assertAdminError(await admin('PUT', '/admin/v1/rooms/no-such-room', { mode: 'members' }), 404, 'not_found');
    assertAdminError(await admin('PUT', '/admin/v1/rooms/tunable', { mode: 'members' }, {}), 401, 'unauthorized');
    assertAdminError(await admin('PUT', '/admin/v1/rooms/tunable', { mode: 'members' }, { 'x-api-key': M.mintKey }), 403, 'forbidden');
    const raw = await request(M.srv, 'PUT', '/admin/v1/rooms/tunable', {
      body: '{"mode":"members"}', headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'text/plain' },
    });
    assertAdminError(raw, 415, 'unsupported_media_type');
    const after = (await admin('GET', '/admin/v1/rooms/tunable')).json;
    assert.equal(after.mode, 'authenticated', 'a refused change changes nothing');
    assert.equal((await admin('DELETE', '/admin/v1/rooms/tunable')).status, 204);
  });
});

describe('the CLI\'s tables: stored text can\'t drive the terminal', () => {
  test('control characters (C0, DEL, C1) and bidi controls in a subject print as "?"; --json keeps them, escaped', () => {
    const t = tempDir();
    try {
      const db = path.join(t.dir, 'roomkey.db');
      roomCreate(db, 'tty', { mode: 'members', defaultRole: 'member' });
      // bell, escape, DEL, NEL (C1), right-to-left override, first-strong isolate, Arabic letter mark
      const subject = 'a\u0007b\u001b[2Jc\u007fd\u0085e\u202ef\u2068g\u061ch';
      cliOk(db, ['member', 'add', 'tty', subject, '--role', 'member']);
      const table = cliOk(db, ['member', 'list', 'tty']).stdout;
      assert.ok(table.includes('a?b?[2Jc?d?e?f?g?h'), table);
      for (const ch of ['\u0007', '\u001b', '\u007f', '\u0085', '\u202e', '\u2068', '\u061c'])
        assert.ok(!table.includes(ch), `U+${ch.codePointAt(0).toString(16)} printed raw`);
      cliOk(db, ['member', 'add', 'tty', 'zoë-\u05e9\u05dc\u05d5\u05dd', '--role', 'member']); // other non-ASCII text stays
      assert.ok(cliOk(db, ['member', 'list', 'tty']).stdout.includes('zoë-\u05e9\u05dc\u05d5\u05dd'));
      const json = JSON.parse(cliOk(db, ['member', 'list', 'tty', '--json']).stdout);
      assert.ok(json.some((m) => m.subject === subject), JSON.stringify(json));
    } finally {
      t.cleanup();
    }
  });
});
