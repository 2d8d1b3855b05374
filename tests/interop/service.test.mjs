// Black-box tests for `roomkey serve`: the LiveKit token service
// (POST /api/livekit/token, GET /api/livekit/connection-info,
// GET /api/livekit/health) with NestJS-shaped errors.
//
// Run:  cd tests/interop && npm ci && ROOMKEY_BIN=$PWD/../../build/roomkey node --test service.test.mjs
//
// The real binary is started per suite on an ephemeral loopback port with a
// clean environment; the store is set up with the roomkey CLI on the same
// SQLite file; minted tokens are verified with livekit-server-sdk's
// TokenVerifier and their grants checked against the caller's role.

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import * as jose from 'jose';

import { b64u, forge, signSegments } from './lib.mjs';
import {
  BIN,
  UNAUTHORIZED,
  assert400List,
  assert401,
  assertError,
  assertMint,
  auditList,
  bearer,
  filesText,
  makeKey,
  memberAdd,
  memberRemove,
  within1500,
  nowSec,
  postToken,
  rand,
  rawExchange,
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

const LK_URL = 'wss://lk.example.test';
const JOIN_DENIED = 'Insufficient permissions. Required: JOIN_CHANNEL';

test('the roomkey binary exists and is executable', () => {
  assert.ok(fs.existsSync(BIN), `roomkey binary not found at ${BIN} (set ROOMKEY_BIN or run make build/roomkey)`);
  fs.accessSync(BIN, fs.constants.X_OK);
});

// ===========================================================================
// Main server: YAML config (asymmetric + HS issuers, roles, rooms, members,
// API keys) overlaid by environment variables.
// ===========================================================================

describe('roomkey serve with a YAML config', () => {
  const LK_KEY = 'APIserviceTestKey';
  const LK_SECRET = `lk-secret-${rand(20)}`;
  const SESSION_SECRET = `session-secret-${rand(20)}`;
  const SESSION_ISS = 'https://session.test';
  const SESSION_AUD = 'roomkey-api';
  const APP_SECRET = `app-secret-${rand(20)}`;
  const API_KEY = `rk_backend_${rand(20)}`;
  const API_KEY_LIMITED = `rk_limited_${rand(20)}`;
  const ALIAS = '64f7b1234567890abcdef123';

  const M = { minted: [], sessions: [] };
  const mintWant = (over) => ({ key: LK_KEY, secret: LK_SECRET, ...over });

  // --- session JWT factories (every JWT is remembered for the secrecy check)
  const remember = (t) => { M.sessions.push(t); return t; };
  /** env issuer (ROOMKEY_SESSION_SECRET / _ISSUER / _AUDIENCE), HS256 */
  const sess = async (sub, extra = {}) => remember(await signJwt({
    alg: 'HS256', key: SESSION_SECRET, claims: sessionClaims({ iss: SESSION_ISS, aud: SESSION_AUD, sub, ...extra }),
  }));
  /** YAML issuer "app", HS256, role_claim app_metadata.role */
  const appSess = async (sub, extra = {}) => remember(await signJwt({
    alg: 'HS256', key: APP_SECRET, claims: sessionClaims({ iss: 'https://app.test', aud: 'roomkey', sub, ...extra }),
  }));
  /** YAML issuer "rsa" (RS256/PS256 via HTTP JWKS) */
  const rsaSess = async (sub, k = M.rsa, extra = {}, kid = k.kid) => remember(await signJwt({
    alg: k.alg, key: k.privateKey, kid, claims: sessionClaims({ iss: 'https://idp.test', aud: 'roomkey', sub, ...extra }),
  }));
  /** YAML issuer "ec" (ES256/EdDSA via a JWKS file) */
  const ecSess = async (sub, k, extra = {}) => remember(await signJwt({
    alg: k.alg, key: k.privateKey, kid: k.kid, claims: sessionClaims({ iss: 'https://ec.test', aud: 'roomkey', sub, ...extra }),
  }));

  async function mintOk(body, headers, want) {
    const r = await postToken(M.srv, body, headers);
    if (r.json?.token) M.minted.push(r.json.token);
    const claims = await assertMint(r, mintWant({ roomId: body.roomId, room: body.roomId, ttl: 3600, ...want }));
    return { r, claims };
  }

  before(async () => {
    M.tmp = tempDir();
    M.db = path.join(M.tmp.dir, 'rk.db');
    M.rsa = await makeKey('RS256', 'rsa-1');
    M.rsaOther = await makeKey('RS256', 'rsa-1'); // same kid, different key: never published
    M.ps = await makeKey('PS256', 'ps-1');
    M.es = await makeKey('ES256', 'ec-1');
    M.ed = await makeKey('EdDSA', 'ed-1');
    M.jwks = await startJwks([M.rsa.jwk, M.ps.jwk]);
    const ecJwks = path.join(M.tmp.dir, 'ec-jwks.json');
    fs.writeFileSync(ecJwks, JSON.stringify({ keys: [M.es.jwk, M.ed.jwk] }));
    const config = {
      database: M.db,
      server: { listen: '127.0.0.1:0' },
      // url is overridden by LIVEKIT_URL from the environment
      livekit: { url: 'wss://yaml.example.test', api_key: LK_KEY, api_secret: LK_SECRET },
      issuers: [
        { name: 'rsa', algorithms: ['RS256', 'PS256'], jwks: M.jwks.url, allow_http_jwks: true,
          issuer: 'https://idp.test', audience: 'roomkey', leeway: '5s', subject_prefix: '' },
        { name: 'ec', algorithms: ['ES256', 'EdDSA'], jwks: ecJwks, issuer: 'https://ec.test', audience: 'roomkey', subject_prefix: '' },
        { name: 'app', algorithms: ['HS256'], secret: APP_SECRET, issuer: 'https://app.test', audience: 'roomkey',
          role_claim: 'app_metadata.role', subject_prefix: '' },
      ],
      api_keys: [
        { id: 'backend', key: API_KEY, permissions: ['mint_any'] },
        { id: 'limited', key: API_KEY_LIMITED, permissions: [] },
      ],
      roles: {
        speaker: { can_publish: true, can_subscribe: true, can_publish_data: false, max_ttl: '2h' },
      },
      rooms: [{ name: 'general', alias: ALIAS, mode: 'members', default_role: 'member' }],
      members: [{ room: 'general', subject: 'alice', role: 'moderator' }],
    };
    M.configPath = path.join(M.tmp.dir, 'roomkey.yaml');
    fs.writeFileSync(M.configPath, toYaml(config));
    const env = {
      LIVEKIT_URL: LK_URL,
      ROOMKEY_SESSION_SECRET: SESSION_SECRET,
      ROOMKEY_SESSION_ISSUER: SESSION_ISS,
      ROOMKEY_SESSION_AUDIENCE: SESSION_AUD,
    };
    // http:// JWKS on loopback with allow_http_jwks, and no dev_mode.
    M.srv = await startServer({ configPath: M.configPath, env });
    // Rooms and members added through the CLI while the server runs.
    memberAdd(M.db, 'general', 'carol', 'speaker');
    roomCreate(M.db, 'stage', { mode: 'members', defaultRole: 'member' });
    memberAdd(M.db, 'stage', 'frank', 'listener');
    roomCreate(M.db, 'lobby', { mode: 'authenticated', defaultRole: 'listener' });
    memberAdd(M.db, 'lobby', 'erin', 'moderator');
    roomCreate(M.db, 'open', { mode: 'authenticated', defaultRole: 'member' });
    roomCreate(M.db, 'capped', { mode: 'members', maxTtl: '30m' });
    memberAdd(M.db, 'capped', 'ivan', 'speaker');
  });

  after(async () => {
    try {
      await stopChecked(M.srv);
    } finally {
      await M.jwks?.close();
      M.tmp?.cleanup();
    }
  });

  test('prints exactly one "listening on http://127.0.0.1:PORT" line on stdout', () => {
    assert.match(M.srv.base, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.ok(M.srv.port > 0);
    assert.equal(M.srv.stdout(), `listening on ${M.srv.base}\n`);
  });

  // -------------------------------------------------------------------------
  describe('GET /api/livekit/health and /connection-info', () => {
    test('health needs no auth and reports healthy', async () => {
      const r = await request(M.srv, 'GET', '/api/livekit/health');
      assert.equal(r.status, 200, showRes(r));
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
      assert.deepEqual(r.json, { status: 'healthy', configured: true });
    });

    test('connection-info without Authorization -> 401', async () => {
      assert401(await request(M.srv, 'GET', '/api/livekit/connection-info'));
    });

    test('connection-info with a bad token -> 401', async () => {
      assert401(await request(M.srv, 'GET', '/api/livekit/connection-info', { headers: bearer('not.a.jwt') }));
      const expired = await sess('alice', { exp: nowSec() - 3600, iat: nowSec() - 7200 });
      assert401(await request(M.srv, 'GET', '/api/livekit/connection-info', { headers: bearer(expired) }));
    });

    test('connection-info with a session: url == serverUrl == LIVEKIT_URL (env overrides YAML)', async () => {
      const r = await request(M.srv, 'GET', '/api/livekit/connection-info', { headers: bearer(await sess('alice')) });
      assert.equal(r.status, 200, showRes(r));
      const b = r.json;
      assert.equal(b.url, LK_URL, showRes(r));
      assert.equal(b.serverUrl, LK_URL, showRes(r));
      assert.equal(typeof b.region, 'string', 'region is a string');
      assert.equal(b.configured, true);
      assert.ok(b.features && typeof b.features === 'object', showRes(r));
      for (const f of ['audio', 'video', 'screenShare', 'recording']) {
        assert.equal(typeof b.features[f], 'boolean', `features.${f}: ${showRes(r)}`);
      }
    });
  });

  // -------------------------------------------------------------------------
  describe('POST /api/livekit/token: success', () => {
    test('member of a members-only room, by name: identity = sub, name = session name claim, moderator grants', async () => {
      const { claims } = await mintOk({ roomId: 'general' }, bearer(await sess('alice', { name: 'Alice Liddell' })),
        { identity: 'alice', name: 'Alice Liddell', role: 'moderator' });
      M.aliceClaims = claims;
    });

    test('roomId may be the alias: response echoes the alias, token video.room is the room name', async () => {
      await mintOk({ roomId: ALIAS }, bearer(await sess('alice')),
        { roomId: ALIAS, room: 'general', identity: 'alice', name: 'alice', role: 'moderator' });
    });

    test('body name overrides the session name claim', async () => {
      await mintOk({ roomId: 'general', name: 'Queen of Hearts' }, bearer(await sess('alice', { name: 'Alice Liddell' })),
        { identity: 'alice', name: 'Queen of Hearts', role: 'moderator' });
    });

    test('no name anywhere: name defaults to the identity (speaker role from config)', async () => {
      await mintOk({ roomId: 'general' }, bearer(await sess('carol')), { identity: 'carol', name: 'carol', role: 'speaker' });
    });

    test('explicit ttl: exp - nbf = ttl and expiresAt = exp', async () => {
      await mintOk({ roomId: 'general', ttl: 7200 }, bearer(await sess('alice')),
        { identity: 'alice', name: 'alice', role: 'moderator', ttl: 7200 });
      await mintOk({ roomId: 'general', ttl: 1 }, bearer(await sess('alice')),
        { identity: 'alice', name: 'alice', role: 'moderator', ttl: 1 });
    });

    test('identity equal to the caller\'s sub is allowed', async () => {
      await mintOk({ roomId: 'general', identity: 'alice' }, bearer(await sess('alice')),
        { identity: 'alice', name: 'alice', role: 'moderator' });
    });

    test('every mint has a unique jti', async () => {
      const jwt = await sess('alice');
      const jtis = new Set();
      const tokens = new Set();
      for (let i = 0; i < 6; i++) {
        const { r, claims } = await mintOk({ roomId: 'general' }, bearer(jwt), { identity: 'alice', name: 'alice', role: 'moderator' });
        jtis.add(claims.jti);
        tokens.add(r.json.token);
      }
      assert.equal(jtis.size, 6, 'jti repeated');
      assert.equal(tokens.size, 6, 'token repeated');
    });

    test('50 concurrent mints all succeed with distinct jtis', async () => {
      const jwt = await sess('alice');
      const rs = await Promise.all(Array.from({ length: 50 }, () => postToken(M.srv, { roomId: 'general' }, bearer(jwt))));
      const jtis = new Set();
      for (const r of rs) {
        if (r.json?.token) M.minted.push(r.json.token);
        const c = await assertMint(r, mintWant({ roomId: 'general', room: 'general', identity: 'alice', name: 'alice', role: 'moderator', ttl: 3600 }));
        jtis.add(c.jti);
      }
      assert.equal(jtis.size, 50, 'jti repeated under concurrency');
    });

    test('Content-Type with parameters (application/json; charset=utf-8) is accepted', async () => {
      await mintOk({ roomId: 'general' }, { ...bearer(await sess('alice')), 'content-type': 'application/json; charset=utf-8' },
        { identity: 'alice', name: 'alice', role: 'moderator' });
    });

    test('name of exactly 256 characters is accepted', async () => {
      const name = 'n'.repeat(256);
      await mintOk({ roomId: 'general', name }, bearer(await sess('alice')), { identity: 'alice', name, role: 'moderator' });
    });

    test('non-ASCII name and identity survive intact', async () => {
      const sub = 'zoë-日本';
      memberAdd(M.db, 'stage', sub, 'member');
      await mintOk({ roomId: 'stage', name: 'Zoë 🎙️' }, bearer(await sess(sub)), { identity: sub, name: 'Zoë 🎙️', role: 'member' });
    });
  });

  // -------------------------------------------------------------------------
  describe('roles', () => {
    test('members-only room: the membership\'s role (listener)', async () => {
      await mintOk({ roomId: 'stage' }, bearer(await sess('frank')), { identity: 'frank', name: 'frank', role: 'listener' });
    });

    test('authenticated room: any caller gets the room\'s default role', async () => {
      await mintOk({ roomId: 'lobby' }, bearer(await sess('dave')), { identity: 'dave', name: 'dave', role: 'listener' });
      await mintOk({ roomId: 'open' }, bearer(await rsaSess('olga')), { identity: 'olga', name: 'olga', role: 'member' });
    });

    test('session role claim (app_metadata.role) naming a configured role is used', async () => {
      await mintOk({ roomId: 'lobby' }, bearer(await appSess('sam', { app_metadata: { role: 'speaker' } })),
        { identity: 'sam', name: 'sam', role: 'speaker' });
      await mintOk({ roomId: 'open' }, bearer(await appSess('sam', { app_metadata: { role: 'listener' } })),
        { identity: 'sam', name: 'sam', role: 'listener' });
    });

    test('role claim naming an unknown role falls back to the room default', async () => {
      await mintOk({ roomId: 'lobby' }, bearer(await appSess('sam', { app_metadata: { role: 'superuser' } })),
        { identity: 'sam', name: 'sam', role: 'listener' });
    });

    test('membership role wins over the role claim', async () => {
      await mintOk({ roomId: 'lobby' }, bearer(await appSess('erin', { app_metadata: { role: 'speaker' } })),
        { identity: 'erin', name: 'erin', role: 'moderator' });
    });

    test('a role claim does not grant access to a members-only room', async () => {
      const r = await postToken(M.srv, { roomId: 'general' }, bearer(await appSess('mallory', { app_metadata: { role: 'moderator' } })));
      assertError(r, 403, JOIN_DENIED);
    });

    test('a membership naming a role the config lacks gives no token, not the role claim\'s or the room default\'s', async () => {
      memberAdd(M.db, 'lobby', 'tina', 'listner'); // a typo of listener: the CLI can't know the server's roles
      memberAdd(M.db, 'general', 'tina', 'listner');
      const n = M.srv.stderr().split('"event":"membership_role_unknown"').length;
      for (const roomId of ['lobby', 'general']) {
        assertError(await postToken(M.srv, { roomId }, bearer(await appSess('tina', { app_metadata: { role: 'moderator' } }))), 403, JOIN_DENIED);
        assertError(await postToken(M.srv, { roomId }, bearer(await sess('tina'))), 403, JOIN_DENIED);
      }
      const seen = () => M.srv.stderr().split('"event":"membership_role_unknown"').length - n;
      for (let i = 0; i < 200 && seen() < 4; i++) await sleep(10); // log lines are written within 100 ms
      assert.equal(seen(), 4, M.srv.stderr().slice(-2000));
    });
  });

  // -------------------------------------------------------------------------
  describe('session issuers (positive controls)', () => {
    test('HS256 env issuer (ROOMKEY_SESSION_SECRET/ISSUER/AUDIENCE)', async () => {
      await mintOk({ roomId: 'lobby' }, bearer(await sess('hs-user')), { identity: 'hs-user', name: 'hs-user', role: 'listener' });
    });
    test('HS256 YAML issuer', async () => {
      await mintOk({ roomId: 'lobby' }, bearer(await appSess('app-user')), { identity: 'app-user', name: 'app-user', role: 'listener' });
    });
    test('RS256 via HTTP JWKS', async () => {
      await mintOk({ roomId: 'lobby' }, bearer(await rsaSess('rs-user')), { identity: 'rs-user', name: 'rs-user', role: 'listener' });
    });
    test('PS256 via HTTP JWKS', async () => {
      await mintOk({ roomId: 'lobby' }, bearer(await rsaSess('ps-user', M.ps)), { identity: 'ps-user', name: 'ps-user', role: 'listener' });
    });
    test('ES256 via JWKS file', async () => {
      await mintOk({ roomId: 'lobby' }, bearer(await ecSess('es-user', M.es)), { identity: 'es-user', name: 'es-user', role: 'listener' });
    });
    test('EdDSA via JWKS file', async () => {
      await mintOk({ roomId: 'lobby' }, bearer(await ecSess('ed-user', M.ed)), { identity: 'ed-user', name: 'ed-user', role: 'listener' });
    });
    test('the JWKS is cached, not fetched per request', async () => {
      // make sure it has been fetched once
      await mintOk({ roomId: 'lobby' }, bearer(await rsaSess('cache-user')), { identity: 'cache-user', name: 'cache-user', role: 'listener' });
      const before = M.jwks.count;
      for (let i = 0; i < 10; i++) {
        await mintOk({ roomId: 'lobby' }, bearer(await rsaSess(`cache-${i}`)), { identity: `cache-${i}`, name: `cache-${i}`, role: 'listener' });
      }
      assert.ok(before >= 1, 'the JWKS was never fetched from the test\'s HTTP server');
      assert.ok(M.jwks.count - before <= 1, `JWKS fetched ${M.jwks.count - before} times for 10 requests`);
    });
    test('unknown kids do not refetch the JWKS on every request', async () => {
      const before = M.jwks.count;
      for (let i = 0; i < 10; i++) {
        const t = await rsaSess('kid-user', M.rsa, {}, `unknown-kid-${i}`);
        assert401(await postToken(M.srv, { roomId: 'lobby' }, bearer(t)));
      }
      assert.ok(M.jwks.count - before < 5, `JWKS fetched ${M.jwks.count - before} times for 10 unknown-kid requests`);
    });
  });

  // -------------------------------------------------------------------------
  describe('401 Unauthorized', () => {
    const t = () => nowSec();
    const envClaims = (over = {}) => ({ iss: SESSION_ISS, aud: SESSION_AUD, sub: 'alice', iat: t(), exp: t() + 600, ...over });

    /** [title, async () => headers] */
    const cases = [
      ['no Authorization header', async () => ({})],
      ['Basic scheme', async () => ({ authorization: `Basic ${Buffer.from('alice:password').toString('base64')}` })],
      ['Bearer with an empty token', async () => ({ authorization: 'Bearer ' })],
      ['scheme only ("Bearer")', async () => ({ authorization: 'Bearer' })],
      ['malformed JWT (two segments)', async () => bearer('eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9')],
      ['bad signature (wrong secret)', async () => bearer(await signJwt({ alg: 'HS256', key: `wrong-${SESSION_SECRET}`, claims: envClaims() }))],
      ['payload swapped under a valid signature', async () => {
        const good = (await sess('alice')).split('.');
        const evil = b64u(JSON.stringify(envClaims({ sub: 'mallory' })));
        return bearer(`${good[0]}.${evil}.${good[2]}`);
      }],
      ['expired beyond leeway (HS256)', async () => bearer(await signJwt({ alg: 'HS256', key: SESSION_SECRET, claims: envClaims({ iat: t() - 7200, exp: t() - 3600 }) }))],
      ['expired beyond the issuer\'s 5s leeway (RS256)', async () => bearer(await rsaSess('alice', M.rsa, { iat: t() - 600, exp: t() - 60 }))],
      ['nbf in the future', async () => bearer(await signJwt({ alg: 'HS256', key: SESSION_SECRET, claims: envClaims({ nbf: t() + 3600, exp: t() + 7200 }) }))],
      ['wrong iss', async () => bearer(await signJwt({ alg: 'HS256', key: SESSION_SECRET, claims: envClaims({ iss: 'https://evil.test' }) }))],
      ['wrong aud', async () => bearer(await signJwt({ alg: 'HS256', key: SESSION_SECRET, claims: envClaims({ aud: 'someone-else' }) }))],
      ['missing aud', async () => bearer(await signJwt({ alg: 'HS256', key: SESSION_SECRET, claims: envClaims({ aud: undefined }) }))],
      ['wrong aud (RS256)', async () => bearer(await rsaSess('alice', M.rsa, { aud: 'other' }))],
      ['alg none', async () => bearer(`${b64u(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64u(JSON.stringify(envClaims()))}.`)],
      ['alg none against the RS256 issuer', async () => bearer(`${b64u(JSON.stringify({ alg: 'none', typ: 'JWT', kid: 'rsa-1' }))}.${b64u(JSON.stringify({ ...envClaims(), iss: 'https://idp.test', aud: 'roomkey' }))}.`)],
      ['HS256 signed with the RSA public key PEM (key confusion)', async () => {
        const pem = await jose.exportSPKI(M.rsa.publicKey);
        return bearer(forge({ header: { alg: 'HS256', typ: 'JWT', kid: 'rsa-1' },
          payload: { ...envClaims(), iss: 'https://idp.test', aud: 'roomkey' }, secret: pem }));
      }],
      ['RS256 signed by an unpublished key with a published kid', async () => bearer(await rsaSess('alice', M.rsaOther))],
      ['RS256 whose kid is not in the JWKS', async () => bearer(await rsaSess('alice', M.rsa, {}, 'nope-kid'))],
      ['ES256 with a DER-encoded signature', async () => {
        const [h, p, s] = (await ecSess('alice', M.es)).split('.');
        const der = rawToDer(Buffer.from(s, 'base64url'));
        return bearer(`${h}.${p}.${der.toString('base64url')}`);
      }],
      ['header with crit', async () => bearer(forge({ header: { alg: 'HS256', typ: 'JWT', crit: ['x-custom'], 'x-custom': true },
        payload: envClaims(), secret: SESSION_SECRET }))],
      ['duplicate keys in the JWT payload', async () => {
        const c = envClaims({ sub: undefined });
        const body = JSON.stringify(c).replace(/^\{/, '{"sub":"mallory","sub":"alice",');
        return bearer(forge({ payload: body, secret: SESSION_SECRET }));
      }],
      ['duplicate keys in the JWT header', async () => bearer(forge({ header: '{"alg":"none","alg":"HS256","typ":"JWT"}',
        payload: envClaims(), secret: SESSION_SECRET }))],
      ['non-canonical base64url: padded payload', async () => {
        let c = envClaims();
        while (JSON.stringify(c).length % 3 === 0) c = { ...c, x: `${c.x ?? ''}a` };
        const h = b64u(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
        const p = Buffer.from(JSON.stringify(c)).toString('base64').replaceAll('+', '-').replaceAll('/', '_');
        assert.ok(p.endsWith('='));
        return bearer(signSegments(h, p, SESSION_SECRET));
      }],
      ['non-canonical base64url: stray bits in the signature\'s last character', async () => {
        const [h, p, s] = (await sess('alice')).split('.');
        const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
        const last = A.indexOf(s.at(-1));
        const s2 = s.slice(0, -1) + A[last | 1]; // 32-byte HMAC: the last char's low 2 bits must be 0
        assert.notEqual(s2, s);
        return bearer(`${h}.${p}.${s2}`);
      }],
      ['token without exp', async () => bearer(await signJwt({ alg: 'HS256', key: SESSION_SECRET, claims: envClaims({ exp: undefined }) }))],
      ['exp that is not a number', async () => bearer(await signJwt({ alg: 'HS256', key: SESSION_SECRET, claims: envClaims({ exp: String(t() + 600) }) }))],
      ['HS256 token claiming the RS256/PS256-only issuer (alg not allowed)', async () => bearer(await signJwt({ alg: 'HS256', key: APP_SECRET,
        claims: { ...envClaims(), iss: 'https://idp.test', aud: 'roomkey' } }))],
      ['ES256 token (published key) claiming the RS256/PS256-only issuer', async () => bearer(await signJwt({ alg: 'ES256', key: M.es.privateKey, kid: M.es.kid,
        claims: { ...envClaims(), iss: 'https://idp.test', aud: 'roomkey' } }))],
      ['RS256 token claiming the HS256-only issuer', async () => bearer(await signJwt({ alg: 'RS256', key: M.rsa.privateKey, kid: M.rsa.kid,
        claims: { ...envClaims(), iss: 'https://app.test', aud: 'roomkey' } }))],
      ['unknown API key (Bearer)', async () => bearer(`rk_unknown_${rand(20)}`)],
      ['unknown API key (X-API-Key)', async () => ({ 'x-api-key': `rk_unknown_${rand(20)}` })],
    ];

    for (const [title, headers] of cases) {
      test(`${title} -> 401`, async () => {
        const h = await headers();
        if (h.authorization?.startsWith('Bearer ') && h.authorization.length > 20) M.sessions.push(h.authorization.slice(7));
        assert401(await postToken(M.srv, { roomId: 'lobby' }, h));
      });
    }

    test('a valid HS256 token signed with lib.forge is accepted (control for the forged cases)', async () => {
      const jwt = forge({ payload: envClaims({ sub: 'forge-user' }), secret: SESSION_SECRET });
      M.sessions.push(jwt);
      await mintOk({ roomId: 'lobby' }, bearer(jwt), { identity: 'forge-user', name: 'forge-user', role: 'listener' });
    });
  });

  // -------------------------------------------------------------------------
  describe('403 Forbidden', () => {
    test('not a member of a members-only room', async () => {
      assertError(await postToken(M.srv, { roomId: 'general' }, bearer(await sess('zed'))), 403, JOIN_DENIED);
      assertError(await postToken(M.srv, { roomId: ALIAS }, bearer(await rsaSess('zed'))), 403, JOIN_DENIED);
    });

    test('identity different from the caller\'s sub (authenticated room)', async () => {
      assertError(await postToken(M.srv, { roomId: 'lobby', identity: 'bob' }, bearer(await sess('dave'))), 403);
    });

    test('identity different from the caller\'s sub (even as a moderator member)', async () => {
      assertError(await postToken(M.srv, { roomId: 'general', identity: 'bob' }, bearer(await sess('alice'))), 403);
    });

    test('API key without mint_any may not pick another identity', async () => {
      assertError(await postToken(M.srv, { roomId: 'lobby', identity: 'someone' }, bearer(API_KEY_LIMITED)), 403);
    });

    test('API key without mint_any may not join a members-only room it is not a member of', async () => {
      assertError(await postToken(M.srv, { roomId: 'general' }, { 'x-api-key': API_KEY_LIMITED }), 403, JOIN_DENIED);
    });

    test('an "anon:" identity belongs to anonymous callers: not even a mint_any key takes one', async () => {
      assertError(await postToken(M.srv, { roomId: 'open', identity: 'anon:x' }, bearer(API_KEY)), 403);
    });
  });

  // -------------------------------------------------------------------------
  describe('API keys with mint_any', () => {
    test('Authorization: Bearer <key>: any identity, members-only room, room default role', async () => {
      const { claims } = await mintOk({ roomId: 'general', identity: 'bot-7', name: 'Bot Seven' }, bearer(API_KEY),
        { identity: 'bot-7', name: 'Bot Seven', role: 'member' });
      M.apiClaims = claims;
    });

    test('X-API-Key: <key> without identity: identity is the key\'s subject, api-key:<id>', async () => {
      await mintOk({ roomId: 'lobby' }, { 'x-api-key': API_KEY }, { identity: 'api-key:backend', name: 'api-key:backend', role: 'listener' });
    });
  });

  // -------------------------------------------------------------------------
  describe('404 / 405 / 415', () => {
    test('unknown room -> 404 "Channel with ID <roomId> not found"', async () => {
      const id = `nope-${rand(6)}`;
      assertError(await postToken(M.srv, { roomId: id }, bearer(await sess('alice'))), 404, `Channel with ID ${id} not found`);
    });

    test('unknown API key-authenticated room lookup -> 404 too', async () => {
      const id = `missing-${rand(6)}`;
      assertError(await postToken(M.srv, { roomId: id }, bearer(API_KEY)), 404, `Channel with ID ${id} not found`);
    });

    test('unknown path -> 404 in the error shape', async () => {
      assertError(await request(M.srv, 'GET', '/nope'), 404);
      assertError(await request(M.srv, 'GET', '/api/livekit/nope', { headers: bearer(await sess('alice')) }), 404);
    });

    test('GET /api/livekit/token -> 405 with Allow: POST', async () => {
      const r = await request(M.srv, 'GET', '/api/livekit/token', { headers: bearer(await sess('alice')) });
      assertError(r, 405);
      assert.equal(r.headers.get('allow'), 'POST'); // RFC 9110 section 15.5.6
    });

    test('PUT /api/livekit/token -> 405', async () => {
      assertError(await request(M.srv, 'PUT', '/api/livekit/token', { body: { roomId: 'general' }, headers: bearer(await sess('alice')) }), 405);
    });

    test('no Content-Type -> 415', async () => {
      assertError(await postToken(M.srv, { roomId: 'general' }, { ...bearer(await sess('alice')), 'content-type': null }), 415);
    });

    test('Content-Type text/plain -> 415', async () => {
      assertError(await postToken(M.srv, JSON.stringify({ roomId: 'general' }), { ...bearer(await sess('alice')), 'content-type': 'text/plain' }), 415);
    });

    test('Content-Type application/x-www-form-urlencoded -> 415', async () => {
      assertError(await postToken(M.srv, 'roomId=general', { ...bearer(await sess('alice')), 'content-type': 'application/x-www-form-urlencoded' }), 415);
    });
  });

  // -------------------------------------------------------------------------
  describe('400 Bad Request', () => {
    const alice = () => sess('alice');

    test('missing roomId -> "roomId should not be empty"', async () => {
      assert400List(await postToken(M.srv, {}, bearer(await alice())), 'roomId should not be empty');
    });

    test('empty roomId -> "roomId should not be empty"', async () => {
      assert400List(await postToken(M.srv, { roomId: '' }, bearer(await alice())), 'roomId should not be empty');
    });

    test('ttl 0 and negative ttl -> "ttl must not be less than 1"', async () => {
      assert400List(await postToken(M.srv, { roomId: 'general', ttl: 0 }, bearer(await alice())), 'ttl must not be less than 1');
      assert400List(await postToken(M.srv, { roomId: 'general', ttl: -5 }, bearer(await alice())), 'ttl must not be less than 1');
    });

    test('missing roomId and bad ttl: both messages in one response', async () => {
      assert400List(await postToken(M.srv, { ttl: -1 }, bearer(await alice())), 'roomId should not be empty', 'ttl must not be less than 1');
      assert400List(await postToken(M.srv, { roomId: '', ttl: 0 }, bearer(await alice())), 'roomId should not be empty', 'ttl must not be less than 1');
    });

    test('ttl not a number -> "ttl must be a number conforming to the specified constraints"', async () => {
      for (const ttl of ['abc', '60', true, [60], { n: 1 }]) {
        assert400List(await postToken(M.srv, { roomId: 'general', ttl }, bearer(await alice())),
          'ttl must be a number conforming to the specified constraints');
      }
    });

    test('roomId not a string -> "roomId must be a string"', async () => {
      for (const roomId of [123, true, ['general'], { id: 'general' }]) {
        assert400List(await postToken(M.srv, { roomId }, bearer(await alice())), 'roomId must be a string');
      }
    });

    test('identity / name not strings -> "<field> must be a string"', async () => {
      assert400List(await postToken(M.srv, { roomId: 'general', identity: 42 }, bearer(await alice())), 'identity must be a string');
      assert400List(await postToken(M.srv, { roomId: 'general', name: false }, bearer(await alice())), 'name must be a string');
    });

    test('strings longer than 256 characters', async () => {
      const long = 'x'.repeat(257);
      assert400List(await postToken(M.srv, { roomId: long }, bearer(await alice())), 'roomId must be shorter than or equal to 256 characters');
      assert400List(await postToken(M.srv, { roomId: 'general', identity: long }, bearer(await alice())), 'identity must be shorter than or equal to 256 characters');
      assert400List(await postToken(M.srv, { roomId: 'general', name: long }, bearer(await alice())), 'name must be shorter than or equal to 256 characters');
    });

    test('ttl above the global cap (86400) -> 400; at the cap -> 200', async () => {
      assert400List(await postToken(M.srv, { roomId: 'general', ttl: 86401 }, bearer(await alice())), 'ttl must not be greater than 86400');
      await mintOk({ roomId: 'general', ttl: 86400 }, bearer(await alice()), { identity: 'alice', name: 'alice', role: 'moderator', ttl: 86400 });
    });

    test('ttl above the role\'s max_ttl (speaker: 2h) -> 400; at it -> 200', async () => {
      assert400List(await postToken(M.srv, { roomId: 'general', ttl: 7201 }, bearer(await sess('carol'))), 'ttl must not be greater than 7200');
      await mintOk({ roomId: 'general', ttl: 7200 }, bearer(await sess('carol')), { identity: 'carol', name: 'carol', role: 'speaker', ttl: 7200 });
    });

    test('ttl above the room\'s max_ttl (30m, below the role\'s 2h) -> 400; at it -> 200', async () => {
      assert400List(await postToken(M.srv, { roomId: 'capped', ttl: 1801 }, bearer(await sess('ivan'))), 'ttl must not be greater than 1800');
      await mintOk({ roomId: 'capped', ttl: 1800 }, bearer(await sess('ivan')), { identity: 'ivan', name: 'ivan', role: 'speaker', ttl: 1800 });
    });

    test('body that is not JSON -> 400 with a string message', async () => {
      for (const body of ['{"roomId": ', 'roomId=general', '{roomId: "general"}', '\u00ff\u00fe']) {
        const r = await postToken(M.srv, body, bearer(await alice()));
        assertError(r, 400);
        assert.equal(typeof r.json.message, 'string', `message should be a string: ${showRes(r)}`);
      }
    });

    test('body that is a JSON array / string / number / null -> 400', async () => {
      for (const body of ['[{"roomId":"general"}]', '"general"', '42', 'null']) {
        assertError(await postToken(M.srv, body, bearer(await alice())), 400);
      }
    });

    test('duplicate keys in the JSON body -> 400', async () => {
      assertError(await postToken(M.srv, '{"roomId":"general","roomId":"stage"}', bearer(await alice())), 400);
      assertError(await postToken(M.srv, '{"roomId":"general","ttl":60,"ttl":99999999}', bearer(await alice())), 400);
    });

    test('empty body -> 400', async () => {
      assertError(await postToken(M.srv, '', bearer(await alice())), 400);
    });
  });

  // -------------------------------------------------------------------------
  describe('audit and secrecy', () => {
    test('audit list has the mint: jti, subject, identity, room, role, route "livekit.token"', () => {
      const c = M.aliceClaims;
      assert.ok(c, 'the first success test did not run');
      const list = auditList(M.db, { room: 'general', subject: 'alice' });
      const rec = list.find((x) => x.jti === c.jti);
      assert.ok(rec, `no audit record with jti ${c.jti}: ${JSON.stringify(list).slice(0, 1500)}`);
      for (const f of ['jti', 'subject', 'identity', 'room', 'role', 'grants', 'issued_at', 'exp', 'client_ip', 'route']) {
        assert.ok(f in rec, `audit record lacks ${f}: ${JSON.stringify(rec)}`);
      }
      assert.equal(rec.subject, 'alice');
      assert.equal(rec.identity, 'alice');
      assert.equal(rec.room, 'general');
      assert.equal(rec.role, 'moderator');
      assert.equal(rec.route, 'livekit.token');
      assert.equal(rec.exp, c.exp);
      assert.ok(Math.abs(rec.issued_at - c.nbf) <= 5, `issued_at ${rec.issued_at} vs nbf ${c.nbf}`);
      assert.match(String(rec.client_ip), /127\.0\.0\.1/);
      for (const x of list) assert.ok(x.subject === 'alice' && x.room === 'general', `filter leaked ${JSON.stringify(x)}`);
    });

    test('audit records the API key as subject and the chosen identity', () => {
      const c = M.apiClaims;
      assert.ok(c, 'the API key test did not run');
      const rec = auditList(M.db, { subject: 'api-key:backend' }).find((x) => x.jti === c.jti);
      assert.ok(rec, `no audit record with jti ${c.jti}`);
      assert.equal(rec.subject, 'api-key:backend');
      assert.equal(rec.identity, 'bot-7');
      assert.equal(rec.room, 'general');
      assert.equal(rec.role, 'member');
      assert.equal(rec.route, 'livekit.token');
    });

    test('every mint is audited once', () => {
      const all = auditList(M.db, {});
      const jtis = new Set(all.map((x) => x.jti));
      for (const tok of M.minted) {
        const { jti } = jose.decodeJwt(tok);
        assert.ok(jtis.has(jti), `minted jti ${jti} not in the audit`);
      }
      assert.equal(new Set(all.map((x) => x.jti)).size, all.length, 'duplicate jti in the audit');
    });

    test('no token, session JWT, secret or API key in the database files, stdout or stderr', () => {
      assert.ok(M.minted.length > 20, `expected many mints, got ${M.minted.length}`);
      const db = filesText(M.tmp.dir, 'rk.db');
      assert.ok(db.length > 0, 'database file not found');
      const logs = M.srv.stderr() + M.srv.stdout();
      const needles = [];
      for (const t of [...M.minted, ...M.sessions]) {
        needles.push([t, 'a JWT']);
        const sig = t.split('.')[2];
        if (sig && sig.length >= 20) needles.push([sig, 'a JWT signature']);
      }
      needles.push([LK_SECRET, 'the LiveKit API secret'], [SESSION_SECRET, 'the session secret'],
        [APP_SECRET, 'the app issuer secret'], [API_KEY, 'the API key'], [API_KEY_LIMITED, 'the limited API key']);
      for (const [n, what] of needles) {
        assert.ok(!db.includes(n), `the database contains ${what}: ${n.slice(0, 40)}...`);
        assert.ok(!logs.includes(n), `the server output contains ${what}: ${n.slice(0, 40)}...`);
      }
    });
  });

  // -------------------------------------------------------------------------
  describe('HTTP limits and malformed requests (the service must survive all)', () => {
    const bigBody = () => JSON.stringify({ roomId: 'general', name: 'x'.repeat(70 * 1024) });

    test('body over 64 KiB with Content-Length -> 413', async () => {
      const body = bigBody();
      const head = `POST /api/livekit/token HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${await sess('alice')}\r\n`
        + `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n`;
      const x = await rawExchange(M.srv.port, [head, { delay: 200 }, body], { timeoutMs: 10_000 });
      assert.ok(x.response, `no HTTP response (${x.how}, ${x.error?.code ?? ''}): ${x.text.slice(0, 300)}`);
      assert.equal(x.response.status, 413, x.text.slice(0, 500));
      if (x.response.body.length > 0) {
        assert.equal(x.response.json?.statusCode, 413, x.text.slice(0, 500));
        assert.equal(x.response.json?.error, 'Payload Too Large', x.text.slice(0, 500));
      }
    });

    test('body over 64 KiB chunked -> 413', async () => {
      const body = Buffer.from(bigBody());
      const parts = [`POST /api/livekit/token HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${await sess('alice')}\r\n`
        + 'Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n'];
      for (let i = 0; i < body.length; i += 8192) {
        const c = body.subarray(i, i + 8192);
        parts.push(`${c.length.toString(16)}\r\n`, c, '\r\n');
      }
      parts.push('0\r\n\r\n');
      const x = await rawExchange(M.srv.port, parts, { timeoutMs: 10_000 });
      assert.ok(x.response, `no HTTP response (${x.how}, ${x.error?.code ?? ''}): ${x.text.slice(0, 300)}`);
      assert.equal(x.response.status, 413, x.text.slice(0, 500));
    });

    test('a body just under the limit is read normally (400 for a too-long name, not 413)', async () => {
      const body = JSON.stringify({ roomId: 'general', name: 'x'.repeat(60 * 1024) });
      const r = await postToken(M.srv, body, bearer(await sess('alice')));
      assert400List(r, 'name must be shorter than or equal to 256 characters');
    });

    test('header block over 8 KiB -> 4xx or connection closed, no hang', async () => {
      const req = `GET /api/livekit/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Filler: ${'a'.repeat(16 * 1024)}\r\n\r\n`;
      const x = await rawExchange(M.srv.port, [req], { timeoutMs: 12_000 });
      assert.notEqual(x.how, 'timeout', 'the server neither answered nor closed');
      if (x.response) assert.ok(x.response.status >= 400 && x.response.status < 500, x.text.slice(0, 300));
    });

    test('many headers totalling over 8 KiB -> 4xx or connection closed', async () => {
      let req = 'GET /api/livekit/health HTTP/1.1\r\nHost: 127.0.0.1\r\n';
      for (let i = 0; i < 400; i++) req += `X-H${i}: ${'b'.repeat(40)}\r\n`;
      const x = await rawExchange(M.srv.port, [`${req}\r\n`], { timeoutMs: 12_000 });
      assert.notEqual(x.how, 'timeout', 'the server neither answered nor closed');
      if (x.response) assert.ok(x.response.status >= 400 && x.response.status < 500, x.text.slice(0, 300));
    });

    test('garbage bytes instead of HTTP -> 400 or close', async () => {
      const junk = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0xff, 0xfe]), randomBytes(200),
        Buffer.from('\r\n\r\n')]);
      const x = await rawExchange(M.srv.port, [junk], { timeoutMs: 15_000 });
      assert.notEqual(x.how, 'timeout', 'the server neither answered nor closed');
      if (x.response) assert.equal(x.response.status, 400, x.text.slice(0, 300));
    });

    test('a bad request line -> 400 or close', async () => {
      const x = await rawExchange(M.srv.port, ['GET\r\n\r\n'], { timeoutMs: 15_000 });
      assert.notEqual(x.how, 'timeout', 'the server neither answered nor closed');
      if (x.response) assert.ok(x.response.status >= 400 && x.response.status < 500, x.text.slice(0, 300));
    });

    test('HTTP/1.1 request without Host -> a single well-formed 400 (or close)', async () => {
      const x = await rawExchange(M.srv.port, ['GET /api/livekit/health HTTP/1.1\r\n\r\n'], { timeoutMs: 12_000 });
      assert.notEqual(x.how, 'timeout', 'the server neither answered nor closed');
      if (x.response) {
        assert.equal(x.response.status, 400, x.text.slice(0, 300));
        assert.doesNotMatch(x.response.body, /^HTTP\/1\.[01] \d{3}/, `the response body is another status line + headers: ${JSON.stringify(x.text.slice(0, 600))}`);
        assert.equal((x.text.match(/HTTP\/1\.[01] \d{3} /g) ?? []).length, 1, `more than one status line: ${JSON.stringify(x.text.slice(0, 600))}`);
      }
    });

    test('clients that stall mid-headers are disconnected; others are still served meanwhile', async () => {
      const partial = 'POST /api/livekit/token HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: appl';
      const stalled = [1, 2, 3].map(() => rawExchange(M.srv.port, [partial], { timeoutMs: 20_000 }));
      await sleep(300);
      const h = await request(M.srv, 'GET', '/api/livekit/health');
      assert.equal(h.status, 200, 'health while clients stall');
      for (const x of await Promise.all(stalled)) {
        assert.notEqual(x.how, 'timeout', 'a stalled client was not disconnected within 20 s');
        if (x.response) assert.ok(x.response.status >= 400, x.text.slice(0, 300));
      }
    });

    test('after all of the above the process is alive and healthy', async () => {
      assert.equal(M.srv.proc.exitCode, null, `server exited: ${M.srv.stderr().slice(-2000)}`);
      assert.equal(M.srv.proc.signalCode, null, `server killed by a signal: ${M.srv.stderr().slice(-2000)}`);
      const r = await request(M.srv, 'GET', '/api/livekit/health');
      assert.equal(r.status, 200);
      assert.deepEqual(r.json, { status: 'healthy', configured: true });
      await mintOk({ roomId: 'general' }, bearer(await sess('alice')), { identity: 'alice', name: 'alice', role: 'moderator' });
    });

    test('stderr is JSON log lines only (also after the malformed requests above)', () => {
      const lines = M.srv.stderr().split('\n').filter((l) => l.trim() !== '');
      assert.ok(lines.length > 0, 'no log lines at all');
      const bad = lines.filter((l) => { try { JSON.parse(l); return false; } catch { return true; } });
      assert.deepEqual(bad, [], `stderr lines that are not JSON:\n${bad.slice(0, 10).join('\n')}`);
    });
  });
});

/** ECDSA P-256 raw (r||s, 64 bytes) -> ASN.1 DER. */
function rawToDer(sig) {
  const int = (b) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    let v = b.subarray(i);
    if (v[0] & 0x80) v = Buffer.concat([Buffer.from([0]), v]);
    return Buffer.concat([Buffer.from([0x02, v.length]), v]);
  };
  const r = int(sig.subarray(0, 32));
  const s = int(sig.subarray(32, 64));
  return Buffer.concat([Buffer.from([0x30, r.length + s.length]), r, s]);
}

// ===========================================================================
// Env-only server: no YAML; rooms and members through the CLI.
// ===========================================================================

describe('roomkey serve configured by environment only', () => {
  const LK_KEY = 'APIenvOnly';
  const LK_SECRET = `env-lk-secret-${rand(20)}`;
  const SESSION_SECRET = `env-session-secret-${rand(20)}`;
  const E = {};
  const sess = (sub, extra = {}) => signJwt({ alg: 'HS256', key: SESSION_SECRET, claims: sessionClaims({ sub, ...extra }) });
  const want = (over) => ({ key: LK_KEY, secret: LK_SECRET, ...over });

  before(async () => {
    E.tmp = tempDir();
    E.db = path.join(E.tmp.dir, 'rk.db');
    // created before the server starts
    roomCreate(E.db, 'team', { mode: 'members' });
    memberAdd(E.db, 'team', 'gina');
    E.srv = await startServer({
      env: {
        ROOMKEY_LISTEN: '127.0.0.1:0',
        ROOMKEY_DATABASE: E.db,
        LIVEKIT_API_KEY: LK_KEY,
        LIVEKIT_API_SECRET: LK_SECRET,
        LIVEKIT_URL: LK_URL,
        ROOMKEY_SESSION_SECRET: SESSION_SECRET,
        LIVEKIT_DEFAULT_TOKEN_TTL: '15m',
      },
    });
  });

  after(async () => {
    try {
      await stopChecked(E.srv);
    } finally {
      E.tmp?.cleanup();
    }
  });

  test('prints exactly one listening line; health and connection-info', async () => {
    assert.equal(E.srv.stdout(), `listening on ${E.srv.base}\n`);
    const h = await request(E.srv, 'GET', '/api/livekit/health');
    assert.deepEqual(h.json, { status: 'healthy', configured: true });
    const c = await request(E.srv, 'GET', '/api/livekit/connection-info', { headers: bearer(await sess('gina')) });
    assert.equal(c.status, 200, showRes(c));
    assert.equal(c.json.url, LK_URL);
    assert.equal(c.json.serverUrl, LK_URL);
    assert.equal(c.json.configured, true);
  });

  test('LIVEKIT_DEFAULT_TOKEN_TTL=15m: default ttl is 900 s; body ttl overrides it', async () => {
    await assertMint(await postToken(E.srv, { roomId: 'team' }, bearer(await sess('gina'))),
      want({ roomId: 'team', room: 'team', identity: 'gina', name: 'gina', role: 'member', ttl: 900 }));
    await assertMint(await postToken(E.srv, { roomId: 'team', ttl: 60 }, bearer(await sess('gina'))),
      want({ roomId: 'team', room: 'team', identity: 'gina', name: 'gina', role: 'member', ttl: 60 }));
  });

  test('a room created through the CLI while running is seen within a second', async () => {
    const id = `live-${rand(4)}`;
    assertError(await postToken(E.srv, { roomId: id }, bearer(await sess('gina'))), 404, `Channel with ID ${id} not found`);
    roomCreate(E.db, id, { mode: 'authenticated', defaultRole: 'listener' });
    const jwt = await sess('gina');
    await assertMint(await within1500(() => postToken(E.srv, { roomId: id }, bearer(jwt))),
      want({ roomId: id, room: id, identity: 'gina', name: 'gina', role: 'listener', ttl: 900 }));
  });

  test('membership added through the CLI while running -> 200 within a second', async () => {
    assertError(await postToken(E.srv, { roomId: 'team' }, bearer(await sess('hank'))), 403, JOIN_DENIED);
    memberAdd(E.db, 'team', 'hank', 'moderator');
    const jwt = await sess('hank');
    await assertMint(await within1500(() => postToken(E.srv, { roomId: 'team' }, bearer(jwt))),
      want({ roomId: 'team', room: 'team', identity: 'hank', name: 'hank', role: 'moderator', ttl: 900 }));
  });

  test('membership removed through the CLI -> the next request is 403 (within 1.5 s)', async () => {
    memberAdd(E.db, 'team', 'ivy', 'listener');
    const jwt = await sess('ivy');
    await assertMint(await postToken(E.srv, { roomId: 'team' }, bearer(jwt)),
      want({ roomId: 'team', room: 'team', identity: 'ivy', name: 'ivy', role: 'listener', ttl: 900 }));
    memberRemove(E.db, 'team', 'ivy');
    const deadline = Date.now() + 1500;
    let r;
    for (;;) {
      r = await postToken(E.srv, { roomId: 'team' }, bearer(jwt));
      if (r.status !== 200 || Date.now() > deadline) break;
      await sleep(100);
    }
    assertError(r, 403, JOIN_DENIED);
  });

  test('sessions are checked against ROOMKEY_SESSION_SECRET (other secret -> 401)', async () => {
    const bad = await signJwt({ alg: 'HS256', key: `other-${SESSION_SECRET}`, claims: sessionClaims({ sub: 'gina' }) });
    assert401(await postToken(E.srv, { roomId: 'team' }, bearer(bad)));
  });

  test('audit has the env server\'s mints', () => {
    const list = auditList(E.db, { room: 'team', subject: 'gina' });
    assert.ok(list.length >= 2, JSON.stringify(list).slice(0, 500));
    for (const x of list) {
      assert.equal(x.route, 'livekit.token');
      assert.equal(x.identity, 'gina');
    }
  });

  test('a token whose audit record cannot be committed is never sent (500)', async () => {
    const sql = (q) => {
      const r = spawnSync('sqlite3', [E.db, q], { encoding: 'utf8' });
      assert.equal(r.status, 0, r.stderr);
    };
    const jwt = await sess('gina');
    const before = auditList(E.db, { room: 'team', subject: 'gina' }).length;
    sql("CREATE TRIGGER refuse_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'refused by test'); END;");
    try {
      const r = await postToken(E.srv, { roomId: 'team' }, bearer(jwt));
      assertError(r, 500, 'Internal server error');
      assert.ok(!/eyJ/.test(r.text), 'no token in the 500 body');
      assert.match(E.srv.stderr(), /"event":"audit_failed"/);
    } finally {
      sql('DROP TRIGGER refuse_audit;');
    }
    await assertMint(await postToken(E.srv, { roomId: 'team' }, bearer(jwt)),
      want({ roomId: 'team', room: 'team', identity: 'gina', name: 'gina', role: 'member', ttl: 900 }));
    assert.equal(auditList(E.db, { room: 'team', subject: 'gina' }).length, before + 1);
  });

  test('SIGTERM stops the server with exit code 0', async () => {
    const res = await stopChecked(E.srv);
    assert.deepEqual(res, { code: 0, signal: null }, `stderr: ${E.srv.stderr().slice(-1500)}`);
  });
});

describe('LIVEKIT_DEFAULT_TOKEN_TTL in plain seconds', () => {
  const LK_KEY = 'APIttlSeconds';
  const LK_SECRET = `ttl-lk-secret-${rand(20)}`;
  const SESSION_SECRET = `ttl-session-secret-${rand(20)}`;
  const T = {};

  before(async () => {
    T.tmp = tempDir();
    T.db = path.join(T.tmp.dir, 'rk.db');
    roomCreate(T.db, 'r1', { mode: 'authenticated' });
    T.srv = await startServer({
      env: {
        ROOMKEY_LISTEN: '127.0.0.1:0', ROOMKEY_DATABASE: T.db, LIVEKIT_API_KEY: LK_KEY, LIVEKIT_API_SECRET: LK_SECRET,
        LIVEKIT_URL: LK_URL, ROOMKEY_SESSION_SECRET: SESSION_SECRET, LIVEKIT_DEFAULT_TOKEN_TTL: '120',
      },
    });
  });
  after(async () => { try { await stopChecked(T.srv); } finally { T.tmp?.cleanup(); } });

  test('default ttl 120 s; authenticated room default role is member', async () => {
    const jwt = await signJwt({ alg: 'HS256', key: SESSION_SECRET, claims: sessionClaims({ sub: 'u1', name: 'User One' }) });
    await assertMint(await postToken(T.srv, { roomId: 'r1' }, bearer(jwt)),
      { key: LK_KEY, secret: LK_SECRET, roomId: 'r1', room: 'r1', identity: 'u1', name: 'User One', role: 'member', ttl: 120 });
  });
});

// ===========================================================================
// LiveKit not configured: no LIVEKIT_API_KEY / SECRET / URL.
// ===========================================================================

describe('roomkey serve without LiveKit credentials', () => {
  const SESSION_SECRET = `nolk-session-secret-${rand(20)}`;
  const U = {};
  const sess = (sub) => signJwt({ alg: 'HS256', key: SESSION_SECRET, claims: sessionClaims({ sub }) });

  before(async () => {
    U.tmp = tempDir();
    U.db = path.join(U.tmp.dir, 'rk.db');
    roomCreate(U.db, 'room1', { mode: 'members' });
    memberAdd(U.db, 'room1', 'alice', 'member');
    roomCreate(U.db, 'room2', { mode: 'authenticated' });
    U.srv = await startServer({
      env: { ROOMKEY_LISTEN: '127.0.0.1:0', ROOMKEY_DATABASE: U.db, ROOMKEY_SESSION_SECRET: SESSION_SECRET },
    });
  });
  after(async () => { try { await stopChecked(U.srv); } finally { U.tmp?.cleanup(); } });

  test('health -> 200 {"status":"unhealthy","configured":false}', async () => {
    const r = await request(U.srv, 'GET', '/api/livekit/health');
    assert.equal(r.status, 200, showRes(r));
    assert.deepEqual(r.json, { status: 'unhealthy', configured: false });
  });

  test('token -> 500 "LiveKit service not configured properly"', async () => {
    assertError(await postToken(U.srv, { roomId: 'room1' }, bearer(await sess('alice'))), 500, 'LiveKit service not configured properly');
    assertError(await postToken(U.srv, { roomId: 'room2' }, bearer(await sess('bob'))), 500, 'LiveKit service not configured properly');
  });

  test('token still requires auth -> 401 without it', async () => {
    assert.deepEqual((await postToken(U.srv, { roomId: 'room1' }, {})).json, UNAUTHORIZED);
  });

  test('connection-info -> 500 with auth, 401 without', async () => {
    assertError(await request(U.srv, 'GET', '/api/livekit/connection-info', { headers: bearer(await sess('alice')) }), 500);
    assert401(await request(U.srv, 'GET', '/api/livekit/connection-info'));
  });

  test('nothing was audited', () => {
    assert.deepEqual(auditList(U.db, {}), []);
  });
});

