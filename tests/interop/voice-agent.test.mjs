// Black-box tests of the `voice_agent` route family: the voice-agent contract's
// POST /api/token (a voice-agent app's Azure Functions backend), served by
// the real roomkey binary. Replays the contract's request and response examples,
// checks every documented field, status and error body, and the security
// cases: identity spoofing, other rooms, role escalation through request
// fields, anonymous access (off by default; on only for named rooms, with
// the room's default role and an "anon:" identity that can't take a user's
// seat). Every minted token is verified with livekit-server-sdk's
// TokenVerifier and its grants checked against the role.
//
// Run: cd tests/interop && ROOMKEY_BIN=$PWD/../../build/roomkey node --test voice-agent.test.mjs

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { ISO_MS, assertAudited, assertGrants, assertKeys, credentials, session, startFamilyServer, stopFamilyServers, verifyToken } from './family-lib.mjs';
import { waitRequestLine } from './ops-lib.mjs';
import { BIN, auditList, bearer, cleanEnv, nowSec, rand, request, showRes, tempDir, toYaml } from './service-lib.mjs';

const VOICE = ['canPublish', 'canSubscribe'];
const VOICE_SOURCES = ['microphone'];
const MODERATOR = ['canPublish', 'canSubscribe', 'canPublishData', 'roomAdmin'];
const SUCCESS_KEYS = ['token', 'expiresAt', 'roomName', 'participantIdentity'];

const post = (srv, body, headers = {}) => request(srv, 'POST', '/api/token', { body, headers });

/** Assert the contract's error shape; returns the body. validationErrors only on 400. */
function assertVaError(r, status, errorCode, message) {
  const keys = ['statusCode', 'errorCode', 'message', 'timestamp', ...(status === 400 ? ['validationErrors'] : [])];
  const b = assertKeys(r, status, keys);
  assert.equal(b.statusCode, status, `statusCode: ${showRes(r)}`);
  assert.equal(b.errorCode, errorCode, `errorCode: ${showRes(r)}`);
  assert.equal(typeof b.message, 'string');
  if (message !== undefined) assert.equal(b.message, message, `message: ${showRes(r)}`);
  assert.match(b.timestamp, ISO_MS, 'timestamp format');
  const ts = Date.parse(b.timestamp) / 1000;
  assert.ok(ts >= r.t0 - 5 && ts <= r.t1 + 5, `timestamp ${b.timestamp} is not now`);
  if (status === 400) {
    assert.ok(Array.isArray(b.validationErrors), 'validationErrors is a list');
    for (const e of b.validationErrors) {
      assert.deepEqual(Object.keys(e).sort(), ['field', 'message'], `validationErrors entry: ${JSON.stringify(e)}`);
      assert.equal(typeof e.field, 'string');
      assert.equal(typeof e.message, 'string');
    }
  }
  return b;
}

/** A 400 VALIDATION_ERROR listing exactly `errors` ([[field, message], ...]). */
function assertValidation(r, errors) {
  const b = assertVaError(r, 400, 'VALIDATION_ERROR', 'Request validation failed');
  assert.deepEqual(b.validationErrors.map((e) => [e.field, e.message]), errors, showRes(r));
}

describe('POST /api/token (voice_agent family, the voice-agent contract)', () => {
  const C = credentials();
  const S = { minted: [] };
  const sess = (sub, extra) => session(C, sub, extra);

  /** Mint, check the 200 body against the request and verify the token. */
  // An identity RoomKey generates for a caller without credentials (issue:
  // anonymous identities are never chosen by the caller); SUB: "the name is
  // the token's own identity".
  const ANON_ID = /^anon:[A-Za-z0-9_-]{22}$/;
  const SUB = Symbol('sub');

  async function mintOk(body, headers, { identity = body.participantIdentity, room = body.roomName, name, ttl = 3600,
    grants = VOICE, sources = VOICE_SOURCES } = {}) {
    const r = await post(S.srv, body, headers);
    const b = assertKeys(r, 200, SUCCESS_KEYS);
    S.minted.push(b.token);
    assert.equal(b.roomName, body.roomName, 'roomName echoes the request');
    if (identity instanceof RegExp) assert.match(b.participantIdentity, identity, 'participantIdentity');
    else assert.equal(b.participantIdentity, identity, 'participantIdentity');
    assert.match(b.expiresAt, ISO_MS, 'expiresAt format');
    const claims = await verifyToken(C, b.token, { ttl, r });
    assert.equal(claims.sub, b.participantIdentity, 'sub = participantIdentity');
    assert.equal(claims.name, name === SUB ? claims.sub : name ?? body.participantName ?? body.participantIdentity, 'name claim');
    assert.equal(b.expiresAt, new Date(claims.exp * 1000).toISOString(), 'expiresAt = exp');
    assertGrants(claims, room, grants, sources ?? undefined); // null: no canPublishSources
    return { r, b, claims };
  }

  before(async () => {
    Object.assign(S, await startFamilyServer(C, {
      roles: { voice: { can_publish: true, can_subscribe: true, sources: ['microphone'] } },
      rooms: [
        { name: 'consultation-room-123', alias: 'consult-alias', mode: 'authenticated', default_role: 'voice' },
        { name: 'private-room', mode: 'members', default_role: 'voice' },
        { name: 'lobby', mode: 'authenticated', default_role: 'voice' },
        { name: 'anon-members', mode: 'members', default_role: 'voice' },
        { name: 'capped', mode: 'authenticated', default_role: 'voice', max_ttl: '30m' },
        // "hall" is listed as anonymous but is only another room's alias.
        { name: 'secret-room', alias: 'hall', mode: 'members', default_role: 'moderator' },
        // listed as anonymous, but its default role is too powerful for walk-in callers
        { name: 'stage', mode: 'authenticated', default_role: 'moderator' },
      ],
      members: [
        { room: 'private-room', subject: 'user-abc-456', role: 'voice' },
        { room: 'lobby', subject: 'alice', role: 'moderator' },
        { room: 'anon-members', subject: 'alice', role: 'moderator' },
      ],
      voice_agent: { anonymous_rooms: ['lobby', 'anon-members', 'hall', 'stage'] },
    }));
  });

  after(() => stopFamilyServers(S.srv && S));

  describe('the contract\'s examples', () => {
    test('its request example -> 200 with token, expiresAt, roomName, participantIdentity', async () => {
      const body = { roomName: 'consultation-room-123', participantIdentity: 'user-abc-456', expirationSeconds: 3600,
        participantName: 'Dr. Smith' };
      const { claims } = await mintOk(body, bearer(await sess('user-abc-456')));
      S.first = claims;
    });

    test('its validation error example: roomName with invalid characters', async () => {
      const r = await post(S.srv, { roomName: 'consultation room/123', participantIdentity: 'user-abc-456' },
        bearer(await sess('user-abc-456')));
      assertValidation(r, [['roomName', 'Room name contains invalid characters']]);
    });

    test('its 500 MISSING_CREDENTIALS example (a server without LiveKit keys)', async () => {
      const D = await startFamilyServer(C, {
        livekit: null,
        rooms: [{ name: 'consultation-room-123', mode: 'authenticated', default_role: 'member' }],
      });
      try {
        const r = await post(D.srv, { roomName: 'consultation-room-123', participantIdentity: 'user-abc-456' },
          bearer(await sess('user-abc-456')));
        const b = assertVaError(r, 500, 'MISSING_CREDENTIALS');
        assert.match(b.message, /^LiveKit API credentials are not configured/);
        assert.deepEqual(auditList(D.db), [], 'nothing audited');
      } finally {
        await stopFamilyServers(D);
      }
    });
  });

  describe('success cases', () => {
    test('defaults: expirationSeconds 3600, participantName = participantIdentity', async () => {
      await mintOk({ roomName: 'lobby', participantIdentity: 'bob' }, bearer(await sess('bob', { name: 'Bobby' })),
        { name: 'bob', ttl: 3600 });
    });

    test('expirationSeconds at its bounds: 60 and 86400', async () => {
      await mintOk({ roomName: 'lobby', participantIdentity: 'bob', expirationSeconds: 60 }, bearer(await sess('bob')), { ttl: 60 });
      await mintOk({ roomName: 'lobby', participantIdentity: 'bob', expirationSeconds: 86400 }, bearer(await sess('bob')), { ttl: 86400 });
    });

    test('255-character room name, identity and participant name; non-ASCII name', async () => {
      const long = `a${'b'.repeat(253)}c`;
      assert.equal(long.length, 255);
      // No such room: validation passes and policy answers 404.
      assertVaError(await post(S.srv, { roomName: long, participantIdentity: long, participantName: 'n'.repeat(255) },
        bearer(await sess(long))), 404, 'NOT_FOUND', 'Room not found');
      await mintOk({ roomName: 'lobby', participantIdentity: long, participantName: 'é'.repeat(128) }, bearer(await sess(long)));
    });

    test('a room alias works: roomName echoes it, the token names the room', async () => {
      await mintOk({ roomName: 'consult-alias', participantIdentity: 'bob' }, bearer(await sess('bob')),
        { room: 'consultation-room-123' });
    });

    test('unknown fields are ignored, as the contract\'s schema does, and widen nothing', async () => {
      await mintOk({ roomName: 'lobby', participantIdentity: 'bob', canPublishData: true, roomAdmin: true, role: 'moderator',
        grants: { roomAdmin: true, canPublishData: true }, video: { roomAdmin: true }, metadata: 'x' }, bearer(await sess('bob')));
    });

    test('the membership\'s role applies (moderator member of lobby)', async () => {
      await mintOk({ roomName: 'lobby', participantIdentity: 'alice' }, bearer(await sess('alice')),
        { grants: MODERATOR, sources: null });
    });

    test('a member of a members-only room', async () => {
      await mintOk({ roomName: 'private-room', participantIdentity: 'user-abc-456' }, bearer(await sess('user-abc-456')));
    });

    test('an API key with mint_any may mint for any identity (X-API-Key and Bearer)', async () => {
      await mintOk({ roomName: 'private-room', participantIdentity: 'agent-7' }, { 'x-api-key': C.apiKey });
      await mintOk({ roomName: 'lobby', participantIdentity: 'agent-8' }, bearer(C.apiKey));
    });

    test('Content-Type with parameters is accepted', async () => {
      const r = await request(S.srv, 'POST', '/api/token', { body: JSON.stringify({ roomName: 'lobby', participantIdentity: 'bob' }),
        headers: { ...bearer(await sess('bob')), 'content-type': 'application/json; charset=utf-8' } });
      assert.equal(r.status, 200, showRes(r));
      S.minted.push(r.json.token);
    });
  });

  describe('400 VALIDATION_ERROR: every bad field at once', () => {
    test('empty object: both required fields', async () => {
      assertValidation(await post(S.srv, {}, bearer(await sess('bob'))), [
        ['roomName', 'Room name is required'],
        ['participantIdentity', 'Participant identity is required'],
      ]);
    });

    test('empty strings and nulls count as missing', async () => {
      assertValidation(await post(S.srv, { roomName: '', participantIdentity: null }, bearer(await sess('bob'))), [
        ['roomName', 'Room name is required'],
        ['participantIdentity', 'Participant identity is required'],
      ]);
    });

    test('wrong types in all four fields', async () => {
      assertValidation(await post(S.srv, { roomName: 5, participantIdentity: ['x'], expirationSeconds: '3600', participantName: {} },
        bearer(await sess('bob'))), [
        ['roomName', 'Room name must be a string'],
        ['participantIdentity', 'Participant identity must be a string'],
        ['expirationSeconds', 'Expiration must be a number'],
        ['participantName', 'Participant name must be a string'],
      ]);
    });

    test('too long (256 characters) and invalid characters', async () => {
      assertValidation(await post(S.srv, { roomName: 'r'.repeat(256), participantIdentity: 'bob smith', participantName: 'n'.repeat(256) },
        bearer(await sess('bob'))), [
        ['roomName', 'Room name must be at most 255 characters'],
        ['participantIdentity', 'Participant identity contains invalid characters'],
        ['participantName', 'Participant name must be at most 255 characters'],
      ]);
    });

    for (const [title, v, message] of [
      ['59 seconds', 59, 'Expiration must be at least 60 seconds'],
      ['86401 seconds', 86401, 'Expiration must be at most 86400 seconds'],
      ['a fraction', 60.5, 'Expiration must be a whole number of seconds'],
      ['negative', -3600, 'Expiration must be at least 60 seconds'],
      ['null', null, 'Expiration must be a number'],
    ]) {
      test(`expirationSeconds ${title}`, async () => {
        assertValidation(await post(S.srv, { roomName: 'lobby', participantIdentity: 'bob', expirationSeconds: v }, bearer(await sess('bob'))),
          [['expirationSeconds', message]]);
      });
    }

    test('characters outside letters, digits, - and _ (dots, unicode, slashes)', async () => {
      for (const bad of ['a.b', 'ä', 'a/b', 'a b', '../x', 'a%00b', 'a\tb']) {
        assertValidation(await post(S.srv, { roomName: bad, participantIdentity: 'bob' }, bearer(await sess('bob'))),
          [['roomName', 'Room name contains invalid characters']]);
      }
    });

    test('the caller\'s own subject is accepted whatever its characters (Auth0 "auth0|123", e-mail); others are not', async () => {
      for (const sub of ['auth0|123', 'ann@example.com']) {
        await mintOk({ roomName: 'lobby', participantIdentity: sub }, bearer(await sess(sub)));
        assertValidation(await post(S.srv, { roomName: 'lobby', participantIdentity: `${sub}x` }, bearer(await sess(sub))),
          [['participantIdentity', 'Participant identity contains invalid characters']]);
      }
    });

    test('participant name of 255 multi-byte characters (over 256 bytes)', async () => {
      assertValidation(await post(S.srv, { roomName: 'lobby', participantIdentity: 'bob', participantName: 'é'.repeat(255) },
        bearer(await sess('bob'))), [['participantName', 'Participant name must be at most 256 bytes in UTF-8']]);
    });

    test('expirationSeconds above the room\'s max_ttl (30m) -> 400 on that field; at it -> 200', async () => {
      assertValidation(await post(S.srv, { roomName: 'capped', participantIdentity: 'bob', expirationSeconds: 3600 }, bearer(await sess('bob'))),
        [['expirationSeconds', 'Expiration must be at most 1800 seconds in this room']]);
      await mintOk({ roomName: 'capped', participantIdentity: 'bob', expirationSeconds: 1800 }, bearer(await sess('bob')), { ttl: 1800 });
      // The default (3600) is cut to the room's cap rather than refused.
      await mintOk({ roomName: 'capped', participantIdentity: 'bob' }, bearer(await sess('bob')), { ttl: 1800 });
    });

    test('bodies that are not a JSON object, and duplicate keys', async () => {
      const h = bearer(await sess('bob'));
      for (const raw of ['not json', '[1]', '"x"', '{"roomName":"lobby","roomName":"private-room","participantIdentity":"bob"}', '']) {
        const b = assertVaError(await post(S.srv, raw, h), 400, 'VALIDATION_ERROR');
        assert.deepEqual(b.validationErrors, []);
      }
    });
  });

  describe('401 / 403 / 404: the security model', () => {
    test('no credentials for a room that is not anonymous -> 401', async () => {
      assertVaError(await post(S.srv, { roomName: 'consultation-room-123', participantIdentity: 'bob' }), 401, 'UNAUTHORIZED', 'Unauthorized');
    });

    test('bad credentials -> 401, even for an anonymous room (no fallback to anonymous)', async () => {
      const body = { roomName: 'lobby', participantIdentity: 'bob' };
      const expired = await sess('bob', { exp: nowSec() - 3600, iat: nowSec() - 7200 });
      const otherKey = await session({ ...C, sessionSecret: `other-${rand(20)}` }, 'bob');
      for (const h of [bearer('not.a.jwt'), bearer(expired), bearer(otherKey), { 'x-api-key': `rk_${rand(10)}` }, bearer('')]) {
        assertVaError(await post(S.srv, body, h), 401, 'UNAUTHORIZED');
      }
    });

    test('identity spoofing: participantIdentity other than the session subject -> 403', async () => {
      const r = await post(S.srv, { roomName: 'lobby', participantIdentity: 'alice' }, bearer(await sess('mallory')));
      assertVaError(r, 403, 'FORBIDDEN', 'participantIdentity must be the authenticated user');
    });

    test('an API key without mint_any may not pick an identity -> 403', async () => {
      assertVaError(await post(S.srv, { roomName: 'lobby', participantIdentity: 'alice' }, { 'x-api-key': C.apiKeyLimited }), 403, 'FORBIDDEN');
    });

    test('another room: members-only room without a membership -> 403', async () => {
      const r = await post(S.srv, { roomName: 'private-room', participantIdentity: 'mallory' }, bearer(await sess('mallory')));
      const b = assertVaError(r, 403, 'FORBIDDEN');
      assert.match(b.message, /not a member/);
    });

    test('a session role claim does not open a members-only room', async () => {
      const r = await post(S.srv, { roomName: 'private-room', participantIdentity: 'mallory' },
        bearer(await sess('mallory', { app_metadata: { role: 'moderator' } })));
      assertVaError(r, 403, 'FORBIDDEN');
    });

    test('unknown room -> 404 NOT_FOUND', async () => {
      assertVaError(await post(S.srv, { roomName: 'no-such-room', participantIdentity: 'bob' }, bearer(await sess('bob'))),
        404, 'NOT_FOUND', 'Room not found');
    });
  });

  describe('anonymous rooms (voice_agent.anonymous_rooms)', () => {
    test('the start-up log warns once per anonymous room', () => {
      const warns = S.srv.stderr().split('\n').filter((l) => l.includes('anonymous_access_enabled')).map((l) => JSON.parse(l));
      assert.deepEqual(warns.map((w) => [w.level, w.room]),
        [['warn', 'lobby'], ['warn', 'anon-members'], ['warn', 'hall'], ['warn', 'stage']]);
      assert.match(warns[0].note, /ANONYMOUS/);
    });

    test('no credentials, listed room: a generated identity "anon:<128 random bits>" (never the requested one), default name that identity, the room\'s default role, audited as that identity', async () => {
      const { b, claims } = await mintOk({ roomName: 'lobby', participantIdentity: 'guest-1', participantName: 'Guest' }, {},
        { identity: ANON_ID });
      assert.notEqual(b.participantIdentity, 'anon:guest-1');
      const rec = auditList(S.db, { subject: b.participantIdentity }).find((x) => x.jti === claims.jti);
      assert.ok(rec, 'audit record');
      assert.equal(rec.identity, b.participantIdentity);
      assert.equal(rec.room, 'lobby');
      assert.equal(rec.role, 'voice');
      assert.equal(rec.route, 'voice_agent.token');
      await mintOk({ roomName: 'lobby', participantIdentity: 'guest-1' }, {}, { identity: ANON_ID, name: SUB });
    });

    test('takeover: an anonymous caller can\'t ask for an identity in use — the same request twice gives two identities', async () => {
      const first = await mintOk({ roomName: 'lobby', participantIdentity: 'guest-7' }, {}, { identity: ANON_ID, name: SUB });
      const second = await mintOk({ roomName: 'lobby', participantIdentity: 'guest-7' }, {}, { identity: ANON_ID, name: SUB });
      assert.notEqual(first.b.participantIdentity, second.b.participantIdentity);
      // nor the identity the first one was given
      const again = await mintOk({ roomName: 'lobby', participantIdentity: first.b.participantIdentity.replace(/[^A-Za-z0-9_-]/g, '') }, {},
        { identity: ANON_ID, name: SUB });
      assert.notEqual(again.b.participantIdentity, first.b.participantIdentity);
    });

    test('seat conflict: an anonymous "alice" gets neither alice\'s identity, name nor her moderator membership', async () => {
      const { b } = await mintOk({ roomName: 'lobby', participantIdentity: 'alice' }, {}, { identity: ANON_ID, name: SUB });
      assert.notEqual(b.participantIdentity, 'alice');
    });

    test('a listed members-only room still admits members only: anonymous -> 403', async () => {
      assertVaError(await post(S.srv, { roomName: 'anon-members', participantIdentity: 'guest-2' }), 403, 'FORBIDDEN');
    });

    test('a listed room whose default role is a moderator\'s -> 403 for anonymous callers', async () => {
      assertVaError(await post(S.srv, { roomName: 'stage', participantIdentity: 'guest-3' }), 403, 'FORBIDDEN');
    });

    test('the request log line names the subject, or why the caller was refused', async () => {
      const ok = await post(S.srv, { roomName: 'lobby', participantIdentity: 'bob' }, bearer(await sess('bob')));
      const bad = await post(S.srv, { roomName: 'lobby', participantIdentity: 'bob' }, { authorization: 'Bearer not.a.jwt' });
      assert.equal(ok.status, 200);
      assert.equal(bad.status, 401);
      const okLine = await waitRequestLine(S.srv, ok);
      const badLine = await waitRequestLine(S.srv, bad);
      assert.equal(okLine?.subject, 'bob', 'subject on the success line');
      assert.ok(okLine?.jti, 'jti on the success line');
      assert.equal(badLine?.route, 'voice_agent.token');
      assert.ok(badLine?.auth_fail, 'auth_fail on the 401 line');
    });

    test('empty credentials are bad credentials, not none: 401 even in an anonymous room', async () => {
      const body = { roomName: 'lobby', participantIdentity: 'guest-4' };
      for (const headers of [{ authorization: 'Bearer ' }, { authorization: 'Bearer    ' }, { 'x-api-key': '' },
        { authorization: 'Bearer ', 'x-api-key': 'wrong' }]) {
        assertVaError(await post(S.srv, body, headers), 401, 'UNAUTHORIZED');
      }
    });

    test('a session whose subject starts with "anon:" can\'t take the anonymous namespace -> 403', async () => {
      assertVaError(await post(S.srv, { roomName: 'lobby', participantIdentity: 'anon:bob' }, bearer(await sess('anon:bob'))),
        403, 'FORBIDDEN');
    });

    test('no credentials, unlisted room -> 401 (names, aliases, other letter case)', async () => {
      for (const room of ['consultation-room-123', 'consult-alias', 'private-room', 'no-such-room', 'LOBBY']) {
        assertVaError(await post(S.srv, { roomName: room, participantIdentity: 'guest' }), 401, 'UNAUTHORIZED');
      }
    });

    test('another room: a listed name that is only some other room\'s alias -> 404, never that room', async () => {
      assertVaError(await post(S.srv, { roomName: 'hall', participantIdentity: 'guest' }), 404, 'NOT_FOUND', 'Room not found');
    });

    test('anonymous callers are validated like everyone else (400 before anything else)', async () => {
      assertValidation(await post(S.srv, { roomName: 'lobby' }), [['participantIdentity', 'Participant identity is required']]);
      assertValidation(await post(S.srv, { roomName: 'lobby', participantIdentity: 'x'.repeat(256) }),
        [['participantIdentity', 'Participant identity must be at most 255 characters']]);
      await mintOk({ roomName: 'lobby', participantIdentity: 'x'.repeat(255) }, {}, { identity: ANON_ID, name: SUB });
    });

    test('authenticated callers in an anonymous room keep their own identity and role', async () => {
      await mintOk({ roomName: 'lobby', participantIdentity: 'alice' }, bearer(await sess('alice')), { grants: MODERATOR, sources: null });
    });
  });

  describe('routing and HTTP errors in the contract\'s shape', () => {
    test('GET /api/token -> 405 METHOD_NOT_ALLOWED', async () => {
      assertVaError(await request(S.srv, 'GET', '/api/token'), 405, 'METHOD_NOT_ALLOWED');
    });

    test('unknown path under /api -> 404 NOT_FOUND', async () => {
      assertVaError(await request(S.srv, 'POST', '/api/tokens', { body: {} }), 404, 'NOT_FOUND');
    });

    test('no or wrong Content-Type -> 415 UNSUPPORTED_MEDIA_TYPE', async () => {
      const h = bearer(await sess('bob'));
      assertVaError(await request(S.srv, 'POST', '/api/token', { body: '{}', headers: { ...h, 'content-type': 'text/plain' } }),
        415, 'UNSUPPORTED_MEDIA_TYPE');
      assertVaError(await request(S.srv, 'POST', '/api/token', { body: new Uint8Array([123, 125]), headers: h }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    });

    test('body over 64 KiB -> 413 PAYLOAD_TOO_LARGE', async () => {
      const big = JSON.stringify({ roomName: 'lobby', participantIdentity: 'bob', pad: 'x'.repeat(70 * 1024) });
      assertVaError(await post(S.srv, big, bearer(await sess('bob'))), 413, 'PAYLOAD_TOO_LARGE');
    });
  });

  describe('audit and secrecy', () => {
    test('every mint is audited once, with route voice_agent.token', () => {
      assert.ok(S.minted.length >= 15, `few mints: ${S.minted.length}`);
      const byJti = assertAudited(S.db, S.minted, 'voice_agent.token');
      const first = byJti.get(S.first.jti);
      assert.equal(first.subject, 'user-abc-456');
      assert.equal(first.role, 'voice');
    });

    test('no minted token or LiveKit secret in the logs', () => {
      const logs = S.srv.stderr() + S.srv.stdout();
      for (const t of S.minted) assert.ok(!logs.includes(t.split('.')[2]), 'a token signature is in the logs');
      assert.ok(!logs.includes(C.lkSecret), 'LiveKit secret in the logs');
      for (const line of S.srv.stderr().split('\n').filter(Boolean)) assert.doesNotThrow(() => JSON.parse(line), line);
    });
  });
});

describe('voice_agent: anonymous access off by default; the family can be switched off', () => {
  const C = credentials();
  let A;
  let B;
  before(async () => {
    const rooms = [{ name: 'lobby', mode: 'authenticated', default_role: 'member' }];
    A = await startFamilyServer(C, { rooms });
    B = await startFamilyServer(C, { rooms, families: { voice_agent: false } });
  });
  after(() => stopFamilyServers(A, B));

  test('without anonymous_rooms: no credentials -> 401, and no anonymous warning at start-up', async () => {
    assertVaError(await post(A.srv, { roomName: 'lobby', participantIdentity: 'guest' }), 401, 'UNAUTHORIZED');
    assert.ok(!A.srv.stderr().includes('anonymous_access'), A.srv.stderr());
  });

  test('the built-in member role: publish, subscribe, data', async () => {
    const r = await post(A.srv, { roomName: 'lobby', participantIdentity: 'bob' }, bearer(await session(C, 'bob')));
    const b = assertKeys(r, 200, SUCCESS_KEYS);
    assertGrants(await verifyToken(C, b.token, { ttl: 3600, r }), 'lobby', ['canPublish', 'canSubscribe', 'canPublishData'], undefined);
  });

  test('families.voice_agent: false -> POST /api/token is 404', async () => {
    const r = await post(B.srv, { roomName: 'lobby', participantIdentity: 'bob' }, bearer(await session(C, 'bob')));
    assert.equal(r.status, 404, showRes(r));
    assert.deepEqual(auditList(B.db), []);
  });
});

describe('voice_agent config is checked at start-up', () => {
  const T = tempDir();
  after(() => T.cleanup());
  const check = (yaml) => {
    const p = path.join(T.dir, `c-${rand(4)}.yaml`);
    fs.writeFileSync(p, yaml);
    // a LiveKit key and a session issuer: the config can issue tokens (check-config's exit 0)
    return spawnSync(BIN, ['check-config', '--config', p], { env: cleanEnv({ LIVEKIT_API_KEY: 'APIx',
      LIVEKIT_API_SECRET: 'x'.repeat(40), ROOMKEY_SESSION_SECRET: 'y'.repeat(40) }), encoding: 'utf8' });
  };

  for (const [title, rooms, want] of [
    ['a room name with a dot', ['a.b'], /voice_agent\.anonymous_rooms\[0\]: a room name of letters, digits/],
    ['an empty room name', ['lobby', ''], /voice_agent\.anonymous_rooms\[1\]: must not be empty/],
    ['a 256-byte room name', ['r'.repeat(256)], /voice_agent\.anonymous_rooms\[0\]: longer than 255 bytes/],
  ]) {
    test(`refused: ${title}`, () => {
      const r = check(toYaml({ voice_agent: { anonymous_rooms: rooms } }));
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, want);
    });
  }

  test('refused: an unknown key under voice_agent', () => {
    const r = check('voice_agent: { anonymous: [lobby] }\n');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /unknown key "voice_agent\.anonymous"/);
  });

  test('accepted: a list of names, and an empty list', () => {
    assert.equal(check(toYaml({ voice_agent: { anonymous_rooms: ['lobby', 'Room_2-b'] } })).status, 0);
    assert.equal(check('voice_agent: { anonymous_rooms: [] }\n').status, 0);
  });
});
