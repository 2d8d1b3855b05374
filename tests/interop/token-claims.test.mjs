// The current LiveKit claim set through `roomkey token create|verify`: the
// agent grant object, kindDetails, roomConfig.tags, agent dispatch attributes
// and deployment, the inference and observability grants; claims RoomKey does
// not know are tolerated by `token verify`, as LiveKit's verifier tolerates
// them, while known claims must have the types LiveKit decodes them into.
//
// Oracles: livekit-server-sdk (AccessToken, TokenVerifier) and
// @livekit/protocol (RoomConfiguration's strict protobuf JSON parser).
//
// Run:  cd tests/interop && ROOMKEY_BIN=$PWD/../../build/roomkey node --test token-claims.test.mjs

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { RoomAgentDispatch, RoomConfiguration } from '@livekit/protocol';
import * as jose from 'jose';
import { AccessToken, TokenVerifier } from 'livekit-server-sdk';

import { KEY, SECRET, assertAccepted, assertRejected, assertUsageError, baseClaims, create, createToken, forge, verify }
  from './lib.mjs';

/** Claims minus the per-mint fields, roomConfig through protobuf JSON (strict: unknown fields throw). */
function comparable(claims) {
  const c = structuredClone(claims);
  for (const k of ['iat', 'nbf', 'exp', 'jti']) delete c[k];
  if (c.roomConfig !== undefined) c.roomConfig = RoomConfiguration.fromJson(c.roomConfig).toJson();
  return c;
}

const CLI_2026 = ['--join', '-i', 'agent-7', '-r', 'support', '--kind', 'agent',
  '--kind-detail', 'cloud_agent', '--kind-detail', 'simulation',
  '--agent-grant', 'admin,databaseAdmin', '--agent-grant', 'simulationAdmin',
  '--agent', 'triage', '--job-metadata', '{"lang":"fr"}', '--agent-deployment', 'prod-eu',
  '--agent-attribute', 'tier=gold', '--agent-attribute', 'eq=a=b',
  '--room-tag', 'team=care', '--room-tag', 'région=ÎdF'];

/** The livekit-server-sdk token for the same inputs as CLI_2026. */
function sdk2026() {
  const at = new AccessToken(KEY, SECRET, { identity: 'agent-7', ttl: 300 });
  at.addGrant({ roomJoin: true, room: 'support' });
  at.kind = 'agent';
  at.roomConfig = new RoomConfiguration({
    agents: [new RoomAgentDispatch({ agentName: 'triage', metadata: '{"lang":"fr"}', deployment: 'prod-eu',
      attributes: { tier: 'gold', eq: 'a=b' } })],
    tags: { team: 'care', 'région': 'ÎdF' },
  });
  // The SDK has no setter for these two yet; ClaimGrants carries them as
  // livekit/protocol names them (auth.ClaimGrants: agent, kindDetails).
  at.grants.agent = { admin: true, databaseAdmin: true, simulationAdmin: true };
  at.grants.kindDetails = ['cloud_agent', 'simulation'];
  return at;
}

describe('roomkey token create: the current claim set', () => {
  test('matches livekit-server-sdk for the same inputs, and TokenVerifier reads the same values', async () => {
    const token = createToken(CLI_2026);
    const claims = await new TokenVerifier(KEY, SECRET).verify(token);
    assert.deepEqual(claims.agent, { admin: true, databaseAdmin: true, simulationAdmin: true });
    assert.deepEqual(claims.kindDetails, ['cloud_agent', 'simulation']);
    assert.equal(claims.kind, 'agent');
    assert.deepEqual(claims.roomConfig.tags, { team: 'care', 'région': 'ÎdF' });
    assert.deepEqual(claims.roomConfig.agents, [{ agentName: 'triage', metadata: '{"lang":"fr"}',
      deployment: 'prod-eu', attributes: { tier: 'gold', eq: 'a=b' } }]);
    const sdkClaims = jose.decodeJwt(await sdk2026().toJwt());
    assert.deepEqual(comparable(claims), comparable(sdkClaims));
  });

  test('the agent grant alone is a grant; room tags alone make a roomConfig', async () => {
    const claims = await new TokenVerifier(KEY, SECRET).verify(createToken(['--agent-grant', 'admin']));
    assert.deepEqual(claims.agent, { admin: true });
    assert.ok(!('video' in claims) && !('roomConfig' in claims));
    const tagged = jose.decodeJwt(createToken(['--create', '--room-tag', 'k=v']));
    assert.deepEqual(tagged.roomConfig, { tags: { k: 'v' } });
    assert.deepEqual(comparable(tagged).roomConfig, new RoomConfiguration({ tags: { k: 'v' } }).toJson());
  });

  test('refused: unknown kind detail or agent permission, duplicates, agent fields without --agent', () => {
    const cases = [
      ['--list', '--kind-detail', 'cloud-agent'],
      ['--list', '--kind-detail', 'CLOUD_AGENT'],
      ['--list', '--kind-detail', 'forwarded,forwarded'],
      ['--agent-grant', 'superuser'],
      ['--agent-grant', 'Admin'],
      ['--list', '--agent-attribute', 'a=b'],
      ['--list', '--agent-deployment', 'prod'],
      ['--list', '--room-tag', 'novalue'],
      ['--list', '--room-tag', 'k=1', '--room-tag', 'k=2'],
      ['--agent', 'a', '--agent-attribute', 'k=1', '--agent-attribute', 'k=2'],
      ['--list', ...Array.from({ length: 9 }, () => ['--kind-detail', 'forwarded']).flat()],
      ['--kind', 'agent'], // a kind grants nothing
    ];
    for (const args of cases) assertUsageError(create([...args, '--token-only']), args.join(' '));
  });

  test('roomConfig.tags: 64 KiB in total accepted, more refused (the attributes limit)', () => {
    const tag = (i, n) => ['--room-tag', `t${i}=${'v'.repeat(n)}`];
    const ok = [0, 1, 2].flatMap((i) => tag(i, 16 * 1024));
    assert.equal(Object.keys(jose.decodeJwt(createToken(['--list', ...ok])).roomConfig.tags).length, 3);
    const big = [0, 1, 2, 3, 4].flatMap((i) => tag(i, 16 * 1024));
    assertUsageError(create(['--list', ...big, '--token-only']), 'tags of 80 KiB');
  });
});

describe('roomkey token verify: the current claim set and unknown claims', () => {
  test('an SDK token with agent, kindDetails, tags, dispatch attributes, inference and observability', async () => {
    const at = sdk2026();
    at.addInferenceGrant({ perform: true });
    at.addObservabilityGrant({ write: true });
    const token = await at.toJwt();
    // The SDK writes roomConfig with every protobuf default (restartPolicy as its enum name).
    assert.equal(jose.decodeJwt(token).roomConfig.agents[0].restartPolicy, 'JRP_ON_FAILURE');
    assert.deepEqual(assertAccepted(verify(token)), jose.decodeJwt(token));
  });

  test('claims and fields LiveKit does not know are tolerated and printed', async () => {
    const at = sdk2026();
    at.grants.futureGrant = { anything: [1, { deep: null }] };
    at.grants.video.someNewPermission = 42;
    at.grants.agent.notYetDefined = 'x';
    at.grants.unknownNumber = 3.5;
    const token = await at.toJwt();
    assert.deepEqual(assertAccepted(verify(token)), jose.decodeJwt(token));
    const raw = baseClaims({ roomConfig: { agents: [{ agentName: 'a', futureField: { x: 1 } }], futureRoomField: [1] },
      kindDetails: ['some_future_detail'] });
    assert.deepEqual(assertAccepted(verify(forge({ payload: raw }))), raw);
  });

  test('null means unset, as in LiveKit (Go and protobuf JSON)', () => {
    const raw = baseClaims({ kindDetails: null, agent: null, roomConfig: { tags: null, agents: null, name: null },
      video: { roomJoin: true, room: 'r', canPublish: null }, attributes: { a: null } });
    assert.deepEqual(assertAccepted(verify(forge({ payload: raw }))), raw);
  });

  test('protobuf JSON forms of roomConfig are accepted (field names, quoted integers, enum numbers)', () => {
    const raw = baseClaims({ roomConfig: { empty_timeout: '30', maxParticipants: 5,
      agents: [{ agent_name: 'a', restart_policy: 1, attributes: { k: 'v' } }] } });
    assert.deepEqual(assertAccepted(verify(forge({ payload: raw }))), raw);
    // the SDK's own parser agrees these are one RoomConfiguration
    const rc = RoomConfiguration.fromJson(raw.roomConfig);
    assert.equal(rc.emptyTimeout, 30);
    assert.equal(rc.agents[0].agentName, 'a');
  });

  test('known claims with a type LiveKit cannot decode are refused, naming the claim', () => {
    const bad = [
      [{ kindDetails: 'cloud_agent' }, 'kindDetails'],
      [{ kindDetails: [1] }, 'kindDetails'],
      [{ agent: true }, 'agent'],
      [{ agent: { admin: 'yes' } }, 'agent.admin'],
      [{ Agent: { SimulationAdmin: 1 } }, 'Agent.SimulationAdmin'], // Go's decoder folds case
      [{ inference: { perform: 1 } }, 'inference.perform'],
      [{ observability: [] }, 'observability'],
      [{ sip: { call: 'true' } }, 'sip.call'],
      [{ video: { roomJoin: 'true', room: 'r' } }, 'video.roomJoin'],
      [{ VIDEO: { Room: 7 } }, 'video.room'],
      [{ video: { canPublishSources: 'camera' } }, 'video.canPublishSources'],
      [{ roomConfig: { tags: { t: 1 } } }, 'roomConfig.tags'],
      [{ roomConfig: { tags: { t: null } } }, 'roomConfig.tags'],
      [{ roomConfig: { tags: ['a'] } }, 'roomConfig.tags'],
      [{ roomConfig: { agents: [{ agentName: 'a', attributes: 'k=v' }] } }, 'roomConfig.agents[].attributes'],
      [{ roomConfig: { agents: [{ agentName: 'a', deployment: 3 }] } }, 'roomConfig.agents[].deployment'],
      [{ roomConfig: { agents: [{ agent_name: false }] } }, 'roomConfig.agents[].agentName'],
      [{ roomConfig: { agents: {} } }, 'roomConfig.agents'],
      [{ roomConfig: { emptyTimeout: -1 } }, 'roomConfig.emptyTimeout'],
      [{ roomConfig: { maxParticipants: 4294967296 } }, 'roomConfig.maxParticipants'],
      [{ roomConfig: { departureTimeout: '1.5' } }, 'roomConfig.departureTimeout'],
      [{ roomConfig: 'name' }, 'roomConfig'],
      [{ attributes: { a: 1 } }, 'attributes'],
      [{ metadata: {} }, 'metadata'],
      [{ kind: 1 }, 'kind'],
      [{ name: ['x'] }, 'name'],
      [{ jti: 5 }, 'jti'],
    ];
    for (const [over, claim] of bad) {
      const r = verify(forge({ payload: baseClaims(over) }));
      assertRejected(r, JSON.stringify(over));
      assert.ok(r.stderr.includes(`claim ${claim}`), `${JSON.stringify(over)}: ${r.stderr}`);
      // the SDK's protobuf parser refuses the same roomConfig
      if (over.roomConfig !== undefined) assert.throws(() => RoomConfiguration.fromJson(over.roomConfig));
    }
  });
});
