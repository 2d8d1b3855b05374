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

import { ADMIN_KEY, LK_KEY, LK_SECRET, opsEnv, scrape, val, verifyToken } from './ops-lib.mjs';
import {
  BIN,
  assert400List,
  assert401,
  assertError,
  auditList,
  bearer,
  cleanEnv,
  makeKey,
  memberAdd,
  postToken,
  rand,
  request,
  roomCreate,
  sessionClaims,
  showRes,
  signJwt,
  sleep,
  startJwks,
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
const DOTTED_KEY = `rk.live.${rand(20)}`; // two dots, as a JWT has
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
 * A server with these issuers and API keys (no env issuer) over a database
 * with a room "stage": members-only with members as [subject, role] pairs,
 * or, without members, open to every caller as "member" (publish); env
 * is added to opsEnv's. Returns {srv, db, tmp, configPath}.
 */
async function serveWith({ issuers: list, apiKeys = [], members, env = {} }) {
  const tmp = tempDir();
  const db = path.join(tmp.dir, 'rk.db');
  roomCreate(db, 'stage', members ? { mode: 'members' } : { mode: 'authenticated', defaultRole: 'member' });
  for (const [sub, role] of members ?? []) memberAdd(db, 'stage', sub, role);
  const configPath = path.join(tmp.dir, 'rk.yaml');
  fs.writeFileSync(configPath, toYaml({ issuers: list, api_keys: apiKeys, roles: { speaker: SPEAKER } }));
  try {
    const srv = await startServer({ configPath, env: opsEnv(db, { ROOMKEY_SESSION_SECRET: null, ROOMKEY_ADMIN_KEY: null, ...env }) });
    return { srv, db, tmp, configPath };
  } catch (e) {
    tmp.cleanup();
    throw e;
  }
}

/** serveWith the app and partner issuers (prefixes as given) and the keys robot and limited (no permissions). */
function serve(ctx, { appPrefix, partnerPrefix, members }) {
  return serveWith({ issuers: issuers(ctx.jwksFile, appPrefix, partnerPrefix), members,
    apiKeys: [{ id: 'robot', key: ROBOT_KEY }, { id: 'limited', key: LIMITED_KEY }, { id: 'dotted', key: DOTTED_KEY }] });
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
      members: [['alice', 'speaker'], ['partner:bob', 'listener'], ['limited', 'speaker'], ['api-key:robot', 'listener'], ['api-key:dotted', 'listener']],
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

  test('a subject with a control or bidi control character is refused (401); other Unicode is kept', async () => {
    // each a member, so only the subject's text can refuse it
    const unsafe = ['eve\u001b]0;owned\u0007', 'del\u007f', 'c1\u0085', 'admin\u202e', 'lrm\u200e',
      'iso\u2066late', 'alm\u061c'];
    for (const sub of [...unsafe, 'zoë-ünï-名前']) memberAdd(ctx.s.db, 'stage', sub, 'speaker');
    for (const sub of unsafe) {
      assert401(await postToken(ctx.s.srv, { roomId: 'stage' }, bearer(await appSession(sub))));
    }
    await mintsAs(ctx.s.srv, bearer(await appSession('zoë-ünï-名前')), { identity: 'zoë-ünï-名前', canPublish: true });
  });

  test('a display name with a control or bidi control character: 401 from the session\'s claim, 400 from the request', async () => {
    memberAdd(ctx.s.db, 'stage', 'nia', 'speaker');
    const named = (name) => signJwt({ alg: 'HS256', key: APP_SECRET, claims: sessionClaims({ sub: 'nia', name }) });
    for (const name of ['admin\u202e', 'lrm\u200e', 'bell\u0007']) {
      assert401(await postToken(ctx.s.srv, { roomId: 'stage' }, bearer(await named(name))));
      assert400List(await postToken(ctx.s.srv, { roomId: 'stage', name: `\u202e${name}` }, bearer(await appSession('nia'))),
        'name holds a control or bidi control character');
    }
    const c = await mintsAs(ctx.s.srv, bearer(await named('Zoë Ünï 名前')), { identity: 'nia', canPublish: true });
    assert.equal(c.name, 'Zoë Ünï 名前');
  });

  test('an API key with dots works in Authorization as in X-API-Key; a dotted non-key is still 401', async () => {
    await mintsAs(ctx.s.srv, bearer(DOTTED_KEY), { identity: 'api-key:dotted', canPublish: false });
    await mintsAs(ctx.s.srv, { 'x-api-key': DOTTED_KEY }, { identity: 'api-key:dotted', canPublish: false });
    assert401(await postToken(ctx.s.srv, { roomId: 'stage' }, bearer(`${DOTTED_KEY}x`)));
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

describe('session token types (typ)', () => {
  const ctx = {};
  before(async () => {
    ctx.dir = tempDir();
    Object.assign(ctx, await partnerKeys(ctx.dir.dir));
    // The default issuer (typ [JWT]) and an access-token issuer (RFC 9068), each alone.
    ctx.plain = await serveWith({ issuers: [{ name: 'app', algorithms: ['HS256'], secret: APP_SECRET }] });
    ctx.at = await serveWith({ issuers: [{ name: 'idp', algorithms: ['ES256'], jwks: ctx.jwksFile, issuer: PARTNER_ISS, typ: ['at+jwt'] }] });
  });
  after(async () => {
    for (const s of [ctx.plain, ctx.at]) {
      await stopChecked(s?.srv);
      s?.tmp.cleanup();
    }
    ctx.dir.cleanup();
  });
  const appTyp = (typ) => signJwt({ alg: 'HS256', key: APP_SECRET, claims: sessionClaims({ sub: 'tara' }), header: { typ } });
  const idpTyp = (typ) => signJwt({ alg: 'ES256', key: ctx.key.privateKey, kid: ctx.key.kid,
    claims: sessionClaims({ sub: 'tara', iss: PARTNER_ISS }), header: { typ } });

  test('by default a session is typ JWT or has none; an access token (at+jwt) is refused in the family\'s shape', async () => {
    for (const typ of ['JWT', 'jwt', undefined]) {
      await mintsAs(ctx.plain.srv, bearer(await appTyp(typ)), { identity: 'tara', canPublish: true });
    }
    for (const typ of ['at+jwt', 'application/at+jwt']) {
      assert401(await postToken(ctx.plain.srv, { roomId: 'stage' }, bearer(await appTyp(typ))));
    }
  });

  test('an issuer with typ: [at+jwt] takes access tokens (any case, application/ or not) and nothing else', async () => {
    for (const typ of ['at+jwt', 'AT+JWT', 'application/at+jwt']) {
      await mintsAs(ctx.at.srv, bearer(await idpTyp(typ)), { identity: 'tara', canPublish: true });
    }
    for (const typ of ['JWT', undefined, 'id+jwt']) {
      assert401(await postToken(ctx.at.srv, { roomId: 'stage' }, bearer(await idpTyp(typ))));
    }
  });

  test('a typ list that is empty, repeated or not a media type is refused at start', () => {
    for (const [typ, want] of [[[], /issuers\[0\]\.typ: must list at least one type/],
      [['at+jwt', 'application/AT+JWT'], /issuers\[0\]\.typ\[1\]: AT\+JWT is listed twice/],
      [['at jwt'], /issuers\[0\]\.typ\[0\]: expected a media type/]]) {
      const p = path.join(ctx.dir.dir, `t-${rand(4)}.yaml`);
      fs.writeFileSync(p, toYaml({ issuers: [{ name: 'app', algorithms: ['HS256'], secret: APP_SECRET, typ }] }));
      const r = spawnSync(BIN, ['check-config', '--config', p], { env: cleanEnv(), encoding: 'utf8', timeout: 20_000 });
      assert.notEqual(r.status, 0, `accepted typ ${JSON.stringify(typ)}`);
      assert.match(r.stderr, want);
    }
  });
});

describe('JWKS key rotation: when a new key is accepted and an old one stops', () => {
  // jwks_refresh / jwks_cooldown are whole seconds; RoomKey's clock too, so
  // "after N s" below means after at least N s of real time plus one.
  test('with the defaults (cooldown 30 s), a new kid seen within 30 s of the last fetch is refused without a fetch', async () => {
    const a = await makeKey('ES256', 'rot-a');
    const b = await makeKey('ES256', 'rot-b');
    const jwks = await startJwks([a.jwk]);
    const t0 = Date.now();
    const s = await serveWith({ issuers: [{ name: 'idp', algorithms: ['ES256'], jwks: jwks.url, allow_http_jwks: true, issuer: PARTNER_ISS }] });
    try {
      const sign = (k) => signJwt({ alg: 'ES256', key: k.privateKey, kid: k.kid, claims: sessionClaims({ sub: 'tara', iss: PARTNER_ISS }) });
      await mintsAs(s.srv, bearer(await sign(a)), { identity: 'tara', canPublish: true });
      const fetched = jwks.count;
      assert.equal(fetched, 1, 'one fetch at start, none per request');
      jwks.setKeys([a.jwk, b.jwk]);
      const r = await postToken(s.srv, { roomId: 'stage' }, bearer(await sign(b)));
      if (Date.now() - t0 < 29_000) {
        assert401(r);
        assert.equal(jwks.count, fetched, 'no refetch inside the cooldown');
      } else { // this machine took 29 s or more since the fetch: the cooldown is over
        assert.equal(r.status, 200, showRes(r));
        assert.equal(jwks.count, fetched + 1);
      }
    } finally {
      await stopChecked(s.srv);
      s.tmp.cleanup();
      await jwks.close();
    }
  });

  test('a new kid is accepted on first use once the cooldown is over (one fetch); a removed key stops after jwks_refresh', async () => {
    const a = await makeKey('ES256', 'rot-a');
    const b = await makeKey('ES256', 'rot-b');
    const jwks = await startJwks([a.jwk]);
    const s = await serveWith({ issuers: [{ name: 'idp', algorithms: ['ES256'], jwks: jwks.url, allow_http_jwks: true, issuer: PARTNER_ISS,
      jwks_cooldown: '2s', jwks_refresh: '4s' }] });
    try {
      const sign = (k) => signJwt({ alg: 'ES256', key: k.privateKey, kid: k.kid, claims: sessionClaims({ sub: 'tara', iss: PARTNER_ISS }) });
      await mintsAs(s.srv, bearer(await sign(a)), { identity: 'tara', canPublish: true });
      jwks.setKeys([b.jwk]); // the IdP rotates: b in, a out
      await sleep(3_100); // past the 2 s cooldown, not yet the 4 s refresh
      const before = jwks.count;
      await mintsAs(s.srv, bearer(await sign(b)), { identity: 'tara', canPublish: true });
      assert.equal(jwks.count, before + 1, 'the unknown kid fetched the set once');
      // That fetch brought the set without a: a is refused from now on.
      assert401(await postToken(s.srv, { roomId: 'stage' }, bearer(await sign(a))));
      // Without an unknown kid, a removed key goes at the next refresh.
      jwks.setKeys([a.jwk, b.jwk]);
      await mintsAs(s.srv, bearer(await sign(b)), { identity: 'tara', canPublish: true });
      const c = jwks.count;
      await sleep(5_100); // past the 4 s refresh
      await mintsAs(s.srv, bearer(await sign(a)), { identity: 'tara', canPublish: true });
      assert.equal(jwks.count, c + 1, 'the stale set was refetched once');
    } finally {
      await stopChecked(s.srv);
      s.tmp.cleanup();
      await jwks.close();
    }
  });
});

describe('a session and an API key in one request', () => {
  const ctx = {};
  before(async () => {
    ctx.s = await serveWith({ issuers: [{ name: 'app', algorithms: ['HS256'], secret: APP_SECRET }],
      apiKeys: [{ id: 'backend', key: ROBOT_KEY, permissions: ['mint_any'] }], env: { ROOMKEY_ADMIN_KEY: ADMIN_KEY } });
  });
  after(async () => {
    await stopChecked(ctx.s?.srv);
    ctx.s?.tmp.cleanup();
  });

  test('is refused as ambiguous (401 in the family\'s shape), whichever credential is good, and counted', async () => {
    const before = val(await scrape(ctx.s.srv), 'roomkey_auth_failures_total{reason="ambiguous"}');
    const jwt = await appSession('tara');
    // each alone is fine
    await mintsAs(ctx.s.srv, bearer(jwt), { identity: 'tara', canPublish: true });
    await mintsAs(ctx.s.srv, { 'x-api-key': ROBOT_KEY }, { identity: 'api-key:backend', canPublish: true });
    const both = [
      { ...bearer(jwt), 'x-api-key': ROBOT_KEY },     // a user's session plus a backend key
      { ...bearer(ROBOT_KEY), 'x-api-key': ROBOT_KEY }, // the same key twice
      { ...bearer(jwt), 'x-api-key': `rk_bad_${rand(8)}` },
    ];
    for (const headers of both) {
      assert401(await postToken(ctx.s.srv, { roomId: 'stage', identity: 'mallory' }, headers));
      assert401(await postToken(ctx.s.srv, { roomId: 'stage' }, headers));
    }
    const r = await request(ctx.s.srv, 'POST', '/api/token', { body: { roomName: 'stage', participantIdentity: 'tara' },
      headers: { ...bearer(jwt), 'x-api-key': ROBOT_KEY } });
    assert.equal(r.status, 401, showRes(r));
    const after = val(await scrape(ctx.s.srv), 'roomkey_auth_failures_total{reason="ambiguous"}');
    assert.equal(after - before, 7);
  });

  test('the admin API: the admin key in Authorization is the admin whatever else is sent; otherwise both is 401', async () => {
    const admin = (headers) => request(ctx.s.srv, 'GET', '/admin/v1/rooms', { headers });
    const ok = await admin({ ...bearer(ADMIN_KEY), 'x-api-key': ROBOT_KEY });
    assert.equal(ok.status, 200, showRes(ok));
    const refused = await admin({ ...bearer(ROBOT_KEY), 'x-api-key': ADMIN_KEY });
    assert.equal(refused.status, 401, showRes(refused));
  });
});
