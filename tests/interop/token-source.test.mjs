// Black-box tests of the `token_source` route family: LiveKit's standard
// token endpoint, POST /api/livekit/token-source, the contract every client
// SDK calls through TokenSource.endpoint(url). The first tests drive it with
// livekit-client's own TokenSource.endpoint (the request the SDK really
// sends: TokenSourceRequest as JSON with proto field names); the rest replay
// raw bodies for every field, status and error, and the security cases:
// identity spoofing, other rooms, escalation through request fields (agent
// dispatch, metadata, attributes, room configuration), which are refused
// with a 4xx, never dropped. Every minted token is verified with
// livekit-server-sdk's TokenVerifier and its grants checked against the role.
//
// Run: cd tests/interop && ROOMKEY_BIN=$PWD/../../build/roomkey node --test token-source.test.mjs

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { TokenSource } from 'livekit-client';

import { assertAudited, assertGrants, assertKeys, credentials, session, startFamilyServer, stopFamilyServers, verifyToken } from './family-lib.mjs';
import { auditList, bearer, nowSec, rand, request, showRes } from './service-lib.mjs';

const PATH = '/api/livekit/token-source';
const MEMBER = ['canPublish', 'canSubscribe', 'canPublishData'];
const AGENT_USER = ['canPublish', 'canSubscribe', 'canPublishData', 'canUpdateOwnMetadata'];
const META_ONLY = ['canPublish', 'canSubscribe', 'canUpdateOwnMetadata'];

const post = (srv, body, headers = {}) => request(srv, 'POST', PATH, { body, headers });

/** Assert the Twirp-shaped error {code, msg}; returns it. */
function assertTsError(r, status, code, msg) {
  const b = assertKeys(r, status, ['code', 'msg']);
  assert.equal(b.code, code, `code: ${showRes(r)}`);
  assert.equal(typeof b.msg, 'string');
  if (msg instanceof RegExp) assert.match(b.msg, msg, `msg: ${showRes(r)}`);
  else if (msg !== undefined) assert.equal(b.msg, msg, `msg: ${showRes(r)}`);
  return b;
}

/**
 * Record the requests livekit-client's TokenSource makes (through global
 * fetch) while fn runs: [{url, init, status}].
 */
async function recordingFetch(fn) {
  const calls = [];
  const real = globalThis.fetch;
  globalThis.fetch = async (url, init) => {
    const res = await real(url, init);
    calls.push({ url: String(url), init, status: res.status });
    return res;
  };
  try {
    return { result: await fn(), calls };
  } finally {
    globalThis.fetch = real;
  }
}

describe('POST /api/livekit/token-source (token_source family)', () => {
  const C = credentials();
  const S = { minted: [] };
  const sess = (sub, extra) => session(C, sub, extra);

  /** Mint with a raw body: 201 {server_url, participant_token}; returns verified claims. */
  async function mintOk(body, headers, { identity, room = body.room_name, grants = MEMBER, ttl = 3600 } = {}) {
    const r = await post(S.srv, body, headers);
    const b = assertKeys(r, 201, ['server_url', 'participant_token']);
    assert.equal(b.server_url, C.lkUrl, 'server_url = LIVEKIT_URL');
    S.minted.push(b.participant_token);
    const claims = await verifyToken(C, b.participant_token, { ttl, r });
    if (identity !== undefined) assert.equal(claims.sub, identity, 'sub');
    assertGrants(claims, room, grants, undefined);
    return claims;
  }

  before(async () => {
    Object.assign(S, await startFamilyServer(C, {
      roles: {
        'agent-user': { can_publish: true, can_subscribe: true, can_publish_data: true, can_update_own_metadata: true,
          may_dispatch_agents: true },
        'meta-only': { can_publish: true, can_subscribe: true, can_update_own_metadata: true },
      },
      rooms: [
        { name: 'support', mode: 'authenticated', default_role: 'member' },
        { name: 'agents', alias: 'agents-alias', mode: 'authenticated', default_role: 'agent-user' },
        { name: 'meta', mode: 'authenticated', default_role: 'meta-only' },
        { name: 'private', mode: 'members', default_role: 'member' },
      ],
      members: [{ room: 'private', subject: 'alice', role: 'agent-user' }],
      token_source: { max_metadata: 64, max_attributes: 64 },
    }));
    S.url = S.srv.base + PATH;
  });

  after(() => stopFamilyServers(S.srv && S));

  describe('livekit-client TokenSource.endpoint against RoomKey', () => {
    test('agent dispatch: the SDK\'s snake_case request, 201, and a token carrying roomConfig.agents', async () => {
      const ts = TokenSource.endpoint(S.url, { headers: bearer(await sess('alice')) });
      const { result, calls } = await recordingFetch(() => ts.fetch({
        roomName: 'agents', participantName: 'Alice', agentName: 'support-agent', agentMetadata: '{"lang":"en"}',
      }));
      assert.equal(calls.length, 1);
      assert.equal(calls[0].status, 201);
      assert.equal(calls[0].init.method, 'POST');
      assert.deepEqual(JSON.parse(calls[0].init.body), {
        room_name: 'agents', participant_name: 'Alice',
        room_config: { agents: [{ agent_name: 'support-agent', metadata: '{"lang":"en"}' }] },
      }, 'the body livekit-client sends');
      assert.equal(result.serverUrl, C.lkUrl);
      S.minted.push(result.participantToken);
      const claims = await verifyToken(C, result.participantToken, { ttl: 3600 });
      assert.equal(claims.sub, 'alice');
      assert.equal(claims.name, 'Alice');
      assert.deepEqual(claims.roomConfig, { agents: [{ agentName: 'support-agent', metadata: '{"lang":"en"}' }] });
      assertGrants(claims, 'agents', AGENT_USER, undefined);
      S.agentClaims = claims;
    });

    test('agent dispatch with a deployment: the SDK\'s room_config.agents[0].deployment lands in the token', async () => {
      const ts = TokenSource.endpoint(S.url, { headers: bearer(await sess('alice')) });
      const { result, calls } = await recordingFetch(() => ts.fetch({
        roomName: 'agents', agentName: 'support-agent', deployment: 'production',
      }));
      assert.equal(calls.length, 1);
      assert.equal(calls[0].status, 201);
      assert.deepEqual(JSON.parse(calls[0].init.body), {
        room_name: 'agents', room_config: { agents: [{ agent_name: 'support-agent', deployment: 'production' }] },
      }, 'the body livekit-client sends');
      S.minted.push(result.participantToken);
      const claims = await verifyToken(C, result.participantToken, { ttl: 3600 });
      assert.deepEqual(claims.roomConfig, { agents: [{ agentName: 'support-agent', deployment: 'production' }] });
      // a role without may_dispatch_agents still can't, deployment or not
      const bob = TokenSource.endpoint(S.url, { headers: bearer(await sess('bob')) });
      await assert.rejects(bob.fetch({ roomName: 'support', agentName: 'x', deployment: 'production' }), /403.*may not dispatch agents/s);
    });

    test('identity, metadata and attributes through the SDK land in the token', async () => {
      const ts = TokenSource.endpoint(S.url, { headers: bearer(await sess('bob')) });
      const res = await ts.fetch({ roomName: 'meta', participantIdentity: 'bob', participantMetadata: '{"tier":"gold"}',
        participantAttributes: { lang: 'de', seat: '12' } });
      S.minted.push(res.participantToken);
      const claims = await verifyToken(C, res.participantToken, { ttl: 3600 });
      S.metaClaims = claims;
      assert.equal(claims.sub, 'bob');
      assert.equal(claims.metadata, '{"tier":"gold"}');
      assert.deepEqual(claims.attributes, { lang: 'de', seat: '12' });
      assert.equal(claims.roomConfig, undefined, 'no roomConfig without agents');
      assertGrants(claims, 'meta', META_ONLY, undefined);
    });

    test('the SDK surfaces RoomKey\'s refusals: 401 without a session, 403 for agent dispatch the role lacks', async () => {
      await assert.rejects(TokenSource.endpoint(S.url).fetch({ roomName: 'support' }), /401.*unauthenticated/s);
      const ts = TokenSource.endpoint(S.url, { headers: bearer(await sess('bob')) });
      await assert.rejects(ts.fetch({ roomName: 'support', agentName: 'x' }), /403.*may not dispatch agents/s);
    });
  });

  describe('the contract', () => {
    test('201 with exactly server_url and participant_token; name defaults to the session\'s name claim', async () => {
      const claims = await mintOk({ room_name: 'support' }, bearer(await sess('carol', { name: 'Carol C' })), { identity: 'carol' });
      assert.equal(claims.name, 'Carol C');
      assert.equal(claims.metadata, undefined);
      assert.equal(claims.attributes, undefined);
      assert.equal(claims.roomConfig, undefined);
    });

    test('participant_name and an identity equal to the caller', async () => {
      const claims = await mintOk({ room_name: 'support', participant_identity: 'carol', participant_name: 'C.' },
        bearer(await sess('carol')), { identity: 'carol' });
      assert.equal(claims.name, 'C.');
    });

    test('nulls, empty strings and empty maps set nothing', async () => {
      const claims = await mintOk({ room_name: 'support', participant_identity: null, participant_name: '', participant_metadata: '',
        participant_attributes: {}, room_config: { agents: [], max_participants: 0, empty_timeout: 0, sync_streams: false, tags: {} } },
      bearer(await sess('carol')), { identity: 'carol' });
      assert.equal(claims.metadata, undefined);
      assert.equal(claims.attributes, undefined);
      assert.equal(claims.roomConfig, undefined);
    });

    test('room_config.name equal to the room (or its alias used as room_name) is accepted', async () => {
      await mintOk({ room_name: 'agents', room_config: { name: 'agents' } }, bearer(await sess('carol')), { grants: AGENT_USER });
      await mintOk({ room_name: 'agents-alias', room_config: { name: 'agents' } }, bearer(await sess('carol')),
        { room: 'agents', grants: AGENT_USER });
    });

    test('metadata and attributes exactly at the configured limits (64 bytes)', async () => {
      const claims = await mintOk({ room_name: 'meta', participant_metadata: 'm'.repeat(64), participant_attributes: { k: 'v'.repeat(63) } },
        bearer(await sess('carol')), { grants: META_ONLY });
      assert.equal(claims.metadata.length, 64);
      assert.equal(claims.attributes.k.length, 63);
    });

    test('an empty body counts as {} (then room_name is required)', async () => {
      assertTsError(await post(S.srv, '', bearer(await sess('carol'))), 400, 'invalid_argument', /room_name is required/);
      assertTsError(await post(S.srv, {}, bearer(await sess('carol'))), 400, 'invalid_argument', /room_name is required/);
    });

    test('membership role in a members-only room; an API key with mint_any for any identity', async () => {
      await mintOk({ room_name: 'private' }, bearer(await sess('alice')), { identity: 'alice', grants: AGENT_USER });
      await mintOk({ room_name: 'private', participant_identity: 'agent-worker-1' }, { 'x-api-key': C.apiKey },
        { identity: 'agent-worker-1' });
    });
  });

  describe('security: refused with a 4xx, never silently dropped', () => {
    test('identity spoofing -> 403 permission_denied', async () => {
      assertTsError(await post(S.srv, { room_name: 'support', participant_identity: 'alice' }, bearer(await sess('mallory'))),
        403, 'permission_denied', 'participant_identity must be the authenticated caller');
      assertTsError(await post(S.srv, { room_name: 'support', participant_identity: 'alice' }, { 'x-api-key': C.apiKeyLimited }),
        403, 'permission_denied');
    });

    test('another room: members-only without a membership -> 403; unknown room -> 404', async () => {
      assertTsError(await post(S.srv, { room_name: 'private' }, bearer(await sess('mallory'))), 403, 'permission_denied', /not a member/);
      assertTsError(await post(S.srv, { room_name: 'private' }, bearer(await sess('mallory', { app_metadata: { role: 'agent-user' } }))),
        403, 'permission_denied');
      assertTsError(await post(S.srv, { room_name: 'nowhere' }, bearer(await sess('mallory'))), 404, 'not_found');
    });

    test('agent dispatch by a role without may_dispatch_agents -> 403', async () => {
      for (const room of ['support', 'meta']) {
        assertTsError(await post(S.srv, { room_name: room, room_config: { agents: [{ agent_name: 'x' }] } }, bearer(await sess('bob'))),
          403, 'permission_denied', 'not allowed: the role may not dispatch agents');
      }
    });

    test('a role claim from the session issuer (never the body) naming a dispatching role allows dispatch', async () => {
      // The role claim (from the trusted issuer, not the body) picks the role in an authenticated room.
      const claims = await mintOk({ room_name: 'support', room_config: { agents: [{ agent_name: 'helper' }] } },
        bearer(await sess('dora', { app_metadata: { role: 'agent-user' } })), { identity: 'dora', room: 'support', grants: AGENT_USER });
      assert.deepEqual(claims.roomConfig, { agents: [{ agentName: 'helper' }] });
    });

    test('metadata or attributes by a role without can_update_own_metadata -> 403', async () => {
      assertTsError(await post(S.srv, { room_name: 'support', participant_metadata: 'x' }, bearer(await sess('bob'))),
        403, 'permission_denied', 'not allowed: the role may not set participant metadata or attributes');
      assertTsError(await post(S.srv, { room_name: 'support', participant_attributes: { admin: 'true' } }, bearer(await sess('bob'))),
        403, 'permission_denied');
    });

    test('metadata and attributes beyond the limits -> 400', async () => {
      assertTsError(await post(S.srv, { room_name: 'meta', participant_metadata: 'm'.repeat(65) }, bearer(await sess('bob'))),
        400, 'invalid_argument', 'participant_metadata is longer than 64 bytes');
      assertTsError(await post(S.srv, { room_name: 'meta', participant_attributes: { k: 'v'.repeat(64) } }, bearer(await sess('bob'))),
        400, 'invalid_argument', 'participant_attributes is longer than 64 bytes');
      assertTsError(await post(S.srv, { room_name: 'meta', participant_attributes: { k: 1 } }, bearer(await sess('bob'))),
        400, 'invalid_argument', 'participant_attributes values must be strings');
      assertTsError(await post(S.srv, { room_name: 'meta', participant_attributes: { '': 'x' } }, bearer(await sess('bob'))),
        400, 'invalid_argument', 'participant_attributes keys must not be empty');
    });

    for (const [field, value] of [
      ['max_participants', 1000], ['empty_timeout', 3600], ['departure_timeout', 60], ['metadata', 'room md'],
      ['egress', { room: { room_name: 'agents', file_outputs: [{ filepath: 's3://x' }] } }], ['min_playout_delay', 100],
      ['max_playout_delay', 100], ['sync_streams', true], ['tags', { k: 'v' }],
    ]) {
      test(`room_config.${field} (shapes the room) -> 403, even for a dispatching role`, async () => {
        assertTsError(await post(S.srv, { room_name: 'agents', room_config: { [field]: value } }, bearer(await sess('bob'))),
          403, 'permission_denied', new RegExp(`^room_config\\.${field} may not be requested`));
      });
    }

    test('room_config.name naming another room -> 400', async () => {
      assertTsError(await post(S.srv, { room_name: 'agents', room_config: { name: 'private' } }, bearer(await sess('bob'))),
        400, 'invalid_argument', 'room_config.name must be the room of room_name');
    });

    test('unknown fields -> 400 (camelCase names, grant-looking fields, unknown room_config and agent fields)', async () => {
      const h = bearer(await sess('bob'));
      const cases = [
        [{ roomName: 'support' }, /unknown field roomName .*snake_case/],
        [{ room_name: 'support', video: { roomAdmin: true } }, /unknown field video/],
        [{ room_name: 'support', ttl: 999999 }, /unknown field ttl/],
        [{ room_name: 'agents', room_config: { agents: [{ agent_name: 'a' }], roomAdmin: true } }, /room_config: unknown field roomAdmin/],
        [{ room_name: 'agents', room_config: { agents: [{ agentName: 'a' }] } }, /room_config.agents\[0\]: unknown field agentName/],
        [{ room_name: 'agents', 'a"b\\': 1 }, /unknown field \(unnamed\)/],
      ];
      for (const [body, msg] of cases) assertTsError(await post(S.srv, body, h), 400, 'invalid_argument', msg);
    });

    test('agent dispatch fields RoomKey does not support, and malformed agents -> 400', async () => {
      const h = bearer(await sess('bob'));
      const cases = [
        [{ agents: [{ agent_name: 'a', deployment: 5 }] }, 'room_config.agents.deployment must be a string'],
        [{ agents: [{ agent_name: 'a', deployment: 'd'.repeat(257) }] }, 'room_config.agents.deployment is longer than 256 bytes'],
        [{ agents: [{ agent_name: 'a', attributes: ['k'] }] }, 'room_config.agents.attributes must be an object of strings'],
        [{ agents: [{ agent_name: 'a', attributes: { k: 1 } }] }, 'room_config.agents.attributes values must be strings'],
        [{ agents: [{ agent_name: 'a', attributes: { '': 'v' } }] }, 'room_config.agents.attributes keys must not be empty'],
        [{ agents: [{ agent_name: 'a', attributes: { k: 'v'.repeat(64) } }] }, 'room_config.agents.attributes is longer than 64 bytes'],
        [{ agents: [{ agent_name: 'a', restart_policy: 'JRP_NEVER' }] }, 'room_config.agents[0].restart_policy is not supported by RoomKey'],
        [{ agents: [{ metadata: 'x' }] }, 'room_config.agents[0].agent_name is required'],
        [{ agents: [{ agent_name: '' }] }, 'room_config.agents[0].agent_name is required'],
        [{ agents: [{ agent_name: 5 }] }, 'room_config.agents.agent_name must be a string'],
        [{ agents: 'a' }, 'room_config.agents must be a list'],
        [{ agents: ['a'] }, 'room_config.agents[0] must be an object'],
        [{ agents: Array.from({ length: 17 }, (_, i) => ({ agent_name: `a${i}` })) }, 'room_config.agents has more than 16 entries'],
      ];
      for (const [rc, msg] of cases) {
        assertTsError(await post(S.srv, { room_name: 'agents', room_config: rc }, h), 400, 'invalid_argument', msg);
      }
      // deployment "" is the protobuf default: accepted.
      await mintOk({ room_name: 'agents', room_config: { agents: [{ agent_name: 'a', deployment: '' }] } }, h, { grants: AGENT_USER });
    });

    test('agent dispatch deployment and attributes (LiveKit\'s RoomAgentDispatch) land in the token as LiveKit reads them', async () => {
      const h = bearer(await sess('carol'));
      const claims = await mintOk({ room_name: 'agents', room_config: { agents: [
        { agent_name: 'a', deployment: 'staging', attributes: { lang: 'de', tier: 'x' } },
        { agent_name: 'b', attributes: { k: 'v' } },
      ] } }, h, { grants: AGENT_USER });
      assert.deepEqual(claims.roomConfig, { agents: [
        { agentName: 'a', deployment: 'staging', attributes: { lang: 'de', tier: 'x' } },
        { agentName: 'b', attributes: { k: 'v' } },
      ] });
    });

    test('wrong types and oversized strings -> 400', async () => {
      const h = bearer(await sess('bob'));
      for (const [body, msg] of [
        [{ room_name: 5 }, 'room_name must be a string'],
        [{ room_name: 'r'.repeat(257) }, 'room_name is longer than 256 bytes'],
        [{ room_name: 'support', participant_identity: 'i'.repeat(257) }, 'participant_identity is longer than 256 bytes'],
        [{ room_name: 'support', participant_name: ['x'] }, 'participant_name must be a string'],
        [{ room_name: 'support', participant_attributes: ['x'] }, 'participant_attributes must be an object of strings'],
        [{ room_name: 'support', room_config: [] }, 'room_config must be an object'],
      ]) assertTsError(await post(S.srv, body, h), 400, 'invalid_argument', msg);
    });

    test('no or bad credentials -> 401 unauthenticated', async () => {
      const expired = await sess('bob', { exp: nowSec() - 3600, iat: nowSec() - 7200 });
      for (const h of [{}, bearer('x.y.z'), bearer(expired), { 'x-api-key': `rk_${rand(8)}` }]) {
        assertTsError(await post(S.srv, { room_name: 'support' }, h), 401, 'unauthenticated');
      }
    });
  });

  describe('HTTP errors', () => {
    test('GET -> 405 bad_route; wrong Content-Type -> 415 bad_route', async () => {
      assertTsError(await request(S.srv, 'GET', PATH), 405, 'bad_route');
      assertTsError(await request(S.srv, 'POST', PATH, { body: '{}', headers: { ...bearer(await sess('bob')), 'content-type': 'text/plain' } }),
        415, 'bad_route');
    });

    test('not JSON, not an object, duplicate keys -> 400 invalid_argument', async () => {
      const h = bearer(await sess('bob'));
      for (const raw of ['{', '[]', '"x"', '{"room_name":"support","room_name":"private"}']) {
        assertTsError(await post(S.srv, raw, h), 400, 'invalid_argument');
      }
    });

    test('body over 64 KiB -> 413', async () => {
      const r = await post(S.srv, JSON.stringify({ room_name: 'meta', participant_metadata: 'x'.repeat(70 * 1024) }), bearer(await sess('bob')));
      assertTsError(r, 413, 'invalid_argument');
    });
  });

  describe('audit', () => {
    test('every mint is audited once with route token_source.token', () => {
      assert.ok(S.minted.length >= 10, `few mints: ${S.minted.length}`);
      const byJti = assertAudited(S.db, S.minted, 'token_source.token');
      const rec = byJti.get(S.agentClaims.jti);
      assert.equal(rec.subject, 'alice');
      assert.equal(rec.identity, 'alice');
      assert.equal(rec.room, 'agents');
      assert.equal(rec.role, 'agent-user');
      // what the request added is on record: the agents dispatched, metadata size, attribute count
      assert.deepEqual(rec.grants.extras, { agents: ['support-agent'] });
      assert.deepEqual(byJti.get(S.metaClaims.jti).grants.extras, { metadataBytes: 15, attributes: 2 });
      const logs = S.srv.stderr() + S.srv.stdout();
      for (const t of S.minted) assert.ok(!logs.includes(t.split('.')[2]), 'a token signature is in the logs');
    });
  });
});

describe('token_source: LiveKit URL required; the family can be switched off', () => {
  const C = credentials();
  let A;
  let B;
  before(async () => {
    const rooms = [{ name: 'support', mode: 'authenticated', default_role: 'member' }];
    A = await startFamilyServer(C, { rooms, livekit: { api_key: C.lkKey, api_secret: C.lkSecret } });
    B = await startFamilyServer(C, { rooms, families: { token_source: false } });
  });
  after(() => stopFamilyServers(A, B));

  test('no livekit.url: 500 internal (server_url is part of the contract), nothing audited', async () => {
    assertTsError(await post(A.srv, { room_name: 'support' }, bearer(await session(C, 'bob'))), 500, 'internal', /LIVEKIT_URL/);
    assert.deepEqual(auditList(A.db), []);
  });

  test('families.token_source: false -> 404, while /api/livekit/token still serves', async () => {
    const r = await post(B.srv, { room_name: 'support' }, bearer(await session(C, 'bob')));
    assert.equal(r.status, 404, showRes(r));
    const ok = await request(B.srv, 'POST', '/api/livekit/token', { body: { roomId: 'support' }, headers: bearer(await session(C, 'bob')) });
    assert.equal(ok.status, 200, showRes(ok));
  });
});
