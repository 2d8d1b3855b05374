// Black-box tests of the admin API (/admin/v1/..., docs/admin-api.md) and
// `roomkey audit list`: who may call it, room and membership round trips
// (checked against the token route and the CLI), audit filters and paging,
// and the admin error shape.
//
// Run:  cd tests/interop && ROOMKEY_BIN=$PWD/../../build/roomkey node --test admin.test.mjs

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { ADMIN_KEY, mintAs, opsServer, session, verifyToken } from './ops-lib.mjs';
import { auditList, bearer, cli, cliOk, rand, request, roomCreate, showRes, stopChecked } from './service-lib.mjs';

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
    assertAdminError(await admin('PATCH', '/admin/v1/rooms'), 405, 'method_not_allowed');
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
});
