// Black-box tests of who a caller is: the subjects of several session
// issuers and of API keys each live in their own namespace (docs/security.md),
// checked with the real binary, session JWTs signed by jose (HS256 and ES256
// issuers with the same `sub`) and minted tokens verified by
// livekit-server-sdk.
//
// Run:  cd tests/interop && ROOMKEY_BIN=$PWD/../../build/roomkey node --test identity.test.mjs

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { LK_KEY, LK_SECRET, opsEnv, verifyToken } from './ops-lib.mjs';
import {
  BIN,
  assert401,
  assertError,
  auditList,
  bearer,
  cleanEnv,
  makeKey,
  memberAdd,
  postToken,
  rand,
  roomCreate,
  sessionClaims,
  showRes,
  signJwt,
  startServer,
  stopChecked,
  tempDir,
  toYaml,
} from './service-lib.mjs';

const JOIN_DENIED = 'Insufficient permissions. Required: JOIN_CHANNEL';
const APP_SECRET = `identity-app-secret-${rand(20)}`;
const PARTNER_ISS = 'https://partner.test';
const ROBOT_KEY = `rk_robot_${rand(20)}`;
const LIMITED_KEY = `rk_limited_${rand(20)}`;
const SPEAKER = { can_publish: true, can_subscribe: true, can_publish_data: true };

/** The two issuers: an app's HS256 sessions and a partner's ES256 ones (JWKS file). */
function issuers(jwksFile, appPrefix, partnerPrefix) {
  const prefix = (p) => (p === undefined ? {} : { subject_prefix: p });
  return [
    { name: 'app', algorithms: ['HS256'], secret: APP_SECRET, ...prefix(appPrefix) },
    { name: 'partner', algorithms: ['ES256'], jwks: jwksFile, issuer: PARTNER_ISS, ...prefix(partnerPrefix) },
  ];
}

/**
 * A server with the two issuers (prefixes as given) and two API keys, over a
 * database with a members-only room "stage" whose members are given as
 * [subject, role] pairs. Returns {srv, db, tmp, configPath}.
 */
async function serve(ctx, { appPrefix, partnerPrefix, members }) {
  const tmp = tempDir();
  const db = path.join(tmp.dir, 'rk.db');
  roomCreate(db, 'stage', { mode: 'members' });
  for (const [sub, role] of members) memberAdd(db, 'stage', sub, role);
  const configPath = path.join(tmp.dir, 'rk.yaml');
  fs.writeFileSync(configPath, toYaml({
    issuers: issuers(ctx.jwksFile, appPrefix, partnerPrefix),
    api_keys: [{ id: 'robot', key: ROBOT_KEY }, { id: 'limited', key: LIMITED_KEY }],
    roles: { speaker: SPEAKER },
  }));
  try {
    const srv = await startServer({ configPath, env: opsEnv(db, { ROOMKEY_SESSION_SECRET: null, ROOMKEY_ADMIN_KEY: null }) });
    return { srv, db, tmp, configPath };
  } catch (e) {
    tmp.cleanup();
    throw e;
  }
}

/** The ES256 partner key and its JWKS file, shared by the suites. */
async function partnerKeys(dir) {
  const key = await makeKey('ES256', 'partner-1');
  const jwksFile = path.join(dir, 'partner-jwks.json');
  fs.writeFileSync(jwksFile, JSON.stringify({ keys: [key.jwk] }));
  return { key, jwksFile };
}

const appSession = (sub) => signJwt({ alg: 'HS256', key: APP_SECRET, claims: sessionClaims({ sub }) });
const partnerSession = (ctx, sub) => signJwt({ alg: 'ES256', key: ctx.key.privateKey, kid: ctx.key.kid,
  claims: sessionClaims({ sub, iss: PARTNER_ISS }) });

/** POST /api/livekit/token for stage: 200 with identity and the role's publish grant, checked by livekit-server-sdk. */
async function mintsAs(srv, headers, { identity, canPublish }) {
  const r = await postToken(srv, { roomId: 'stage' }, headers);
  assert.equal(r.status, 200, showRes(r));
  assert.equal(r.json.identity, identity, showRes(r));
  const claims = await verifyToken(r.json.token, LK_SECRET, LK_KEY);
  assert.equal(claims.sub, identity);
  assert.equal(claims.video.room, 'stage');
  assert.equal(claims.video.canPublish, canPublish, `canPublish in ${JSON.stringify(claims.video)}`);
  return claims;
}

describe('subjects of two issuers with the same sub', () => {
  const ctx = {};
  before(async () => {
    ctx.dir = tempDir();
    Object.assign(ctx, await partnerKeys(ctx.dir.dir));
    ctx.s = await serve(ctx, {
      appPrefix: undefined, // the app's issuer config as it was alone
      partnerPrefix: 'partner:',
      members: [['alice', 'speaker'], ['partner:bob', 'listener'], ['limited', 'speaker'], ['api-key:robot', 'listener']],
    });
  });
  after(async () => {
    await stopChecked(ctx.s?.srv);
    ctx.s?.tmp.cleanup();
    ctx.dir.cleanup();
  });

  test("the app's alice (bare subject, as with one issuer) is the member", async () => {
    await mintsAs(ctx.s.srv, bearer(await appSession('alice')), { identity: 'alice', canPublish: true });
  });

  test("the partner's alice is not the app's alice: not a member, no speaker grants", async () => {
    assertError(await postToken(ctx.s.srv, { roomId: 'stage' }, bearer(await partnerSession(ctx, 'alice'))), 403, JOIN_DENIED);
  });

  test("the partner's bob is member partner:bob, and that is his identity", async () => {
    await mintsAs(ctx.s.srv, bearer(await partnerSession(ctx, 'bob')), { identity: 'partner:bob', canPublish: false });
    assertError(await postToken(ctx.s.srv, { roomId: 'stage' }, bearer(await appSession('bob'))), 403, JOIN_DENIED);
  });

  test("an app session can't enter the partner's namespace or the API keys' (401)", async () => {
    for (const sub of ['partner:bob', 'api-key:robot']) {
      assert401(await postToken(ctx.s.srv, { roomId: 'stage' }, bearer(await appSession(sub))));
    }
  });

  test('an API key acts as api-key:<id>, never as the session user of the same name', async () => {
    assertError(await postToken(ctx.s.srv, { roomId: 'stage' }, { 'x-api-key': LIMITED_KEY }), 403, JOIN_DENIED);
    await mintsAs(ctx.s.srv, bearer(await appSession('limited')), { identity: 'limited', canPublish: true });
    await mintsAs(ctx.s.srv, { 'x-api-key': ROBOT_KEY }, { identity: 'api-key:robot', canPublish: false });
    const list = auditList(ctx.s.db, { subject: 'api-key:robot' });
    assert.ok(list.length >= 1 && list.every((a) => a.subject === 'api-key:robot' && a.identity === 'api-key:robot'), JSON.stringify(list));
  });
});

describe('several issuers must say how their subjects map', () => {
  const ctx = {};
  before(async () => {
    ctx.dir = tempDir();
    Object.assign(ctx, await partnerKeys(ctx.dir.dir));
  });
  after(() => ctx.dir.cleanup());

  /** roomkey ARGS --config (the two issuers with these prefixes); bounded in time. */
  function withConfig(args, appPrefix, partnerPrefix, env = {}) {
    const configPath = path.join(ctx.dir.dir, `c-${rand(4)}.yaml`);
    fs.writeFileSync(configPath, toYaml({ issuers: issuers(ctx.jwksFile, appPrefix, partnerPrefix) }));
    const db = path.join(ctx.dir.dir, 'rk.db');
    const r = spawnSync(BIN, [...args, '--config', configPath], {
      // a LiveKit key: the config can issue tokens (check-config's exit 0 is about the issuers)
      env: cleanEnv({ ROOMKEY_DATABASE: db, ROOMKEY_LISTEN: '127.0.0.1:0', LIVEKIT_API_KEY: 'APIidentity',
        LIVEKIT_API_SECRET: 'x'.repeat(40), ...env }), encoding: 'utf8', timeout: 20_000,
    });
    return r;
  }

  test('two issuers that would share subjects unsaid: check-config and serve refuse, naming the key', () => {
    for (const args of [['check-config'], ['serve']]) {
      const r = withConfig(args, undefined, undefined);
      assert.equal(r.signal, null, `roomkey ${args[0]} did not exit: ${r.stderr}`);
      assert.notEqual(r.status, 0, `roomkey ${args[0]} accepted merged issuers: ${r.stdout}`);
      assert.match(r.stderr, /issuers\[1\]\.subject_prefix: required: issuers "partner" and "app" would share subjects/);
    }
    assert.equal(withConfig(['check-config'], undefined, 'partner:').status, 0);
  });

  test('ROOMKEY_SESSION_SECRET next to a YAML issuer with bare subjects needs ROOMKEY_SESSION_SUBJECT_PREFIX', () => {
    const env = { ROOMKEY_SESSION_SECRET: APP_SECRET };
    const refused = withConfig(['check-config'], undefined, 'partner:', env);
    assert.notEqual(refused.status, 0);
    assert.match(refused.stderr, /ROOMKEY_SESSION_SUBJECT_PREFIX is required: the issuer "env" and "app" would share subjects/);
    const ok = withConfig(['check-config'], undefined, 'partner:', { ...env, ROOMKEY_SESSION_SUBJECT_PREFIX: 'env:' });
    assert.equal(ok.status, 0, ok.stderr);
  });

  test('an issuer given the same prefix as another shares its subjects, as the config says', async () => {
    const s = await serve(ctx, { appPrefix: undefined, partnerPrefix: '', members: [['alice', 'speaker']] });
    try {
      await mintsAs(s.srv, bearer(await appSession('alice')), { identity: 'alice', canPublish: true });
      await mintsAs(s.srv, bearer(await partnerSession(ctx, 'alice')), { identity: 'alice', canPublish: true });
    } finally {
      await stopChecked(s.srv);
      s.tmp.cleanup();
    }
  });
});
