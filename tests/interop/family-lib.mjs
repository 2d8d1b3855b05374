// Helpers shared by the black-box suites of the voice-agent (the voice-agent contract) and
// token-source (LiveKit's standard endpoint) route families: one server per
// suite from a YAML config, HS256 session factories, and the checks every
// minted token goes through (livekit-server-sdk's TokenVerifier, then the
// grants against the role that policy should have chosen).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

import * as jose from 'jose';
import { TokenVerifier } from 'livekit-server-sdk';

import { auditList, rand, sessionClaims, showRes, signJwt, startServer, stopChecked, tempDir, toYaml } from './service-lib.mjs';

export const ISO_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** LiveKit credentials and the session issuer every family suite uses. */
export function credentials() {
  return {
    lkKey: 'APIfamilyTestKey',
    lkSecret: `lk-secret-${rand(20)}`,
    sessionSecret: `session-secret-${rand(20)}`,
    iss: 'https://app.test',
    aud: 'roomkey',
    apiKey: `rk_backend_${rand(20)}`,
    apiKeyLimited: `rk_limited_${rand(20)}`,
    lkUrl: 'wss://lk.family.test',
  };
}

/**
 * Start `roomkey serve` on config `extra` merged over the base config made
 * from creds (LiveKit key and URL, the HS256 issuer "app", API keys
 * "backend" (mint_any) and "limited"). Returns {srv, db, tmp}.
 */
export async function startFamilyServer(creds, extra, { env = {} } = {}) {
  const tmp = tempDir();
  const db = path.join(tmp.dir, 'rk.db');
  const config = {
    database: db,
    server: { listen: '127.0.0.1:0' },
    livekit: { url: creds.lkUrl, api_key: creds.lkKey, api_secret: creds.lkSecret },
    issuers: [{ name: 'app', algorithms: ['HS256'], secret: creds.sessionSecret, issuer: creds.iss,
      audience: creds.aud, role_claim: 'app_metadata.role' }],
    api_keys: [
      { id: 'backend', key: creds.apiKey, permissions: ['mint_any'] },
      { id: 'limited', key: creds.apiKeyLimited, permissions: [] },
    ],
    ...extra,
  };
  for (const [k, v] of Object.entries(config)) if (v === null) delete config[k];
  const configPath = path.join(tmp.dir, 'roomkey.yaml');
  fs.writeFileSync(configPath, toYaml(config));
  const srv = await startServer({ configPath, env });
  return { srv, db, tmp, configPath };
}

/**
 * Stop servers from startFamilyServer (SIGTERM, failing on sanitizer
 * reports) and remove their temp dirs; all are stopped even when one fails.
 */
export async function stopFamilyServers(...servers) {
  let failure;
  for (const X of servers) {
    if (!X) continue;
    try {
      await stopChecked(X.srv);
    } catch (e) {
      failure ??= e;
    } finally {
      X.tmp.cleanup();
    }
  }
  if (failure) throw failure;
}

/** A session JWT for subject sub from creds' issuer (extra claims merged). */
export function session(creds, sub, extra = {}) {
  return signJwt({ alg: 'HS256', key: creds.sessionSecret,
    claims: sessionClaims({ iss: creds.iss, aud: creds.aud, sub, ...extra }) });
}

/**
 * Verify a minted LiveKit token with livekit-server-sdk's TokenVerifier and
 * check what every RoomKey token must be: HS256, iss = API key, a jti, nbf
 * about now (within the request's [t0, t1] when r is given), exp - nbf = ttl
 * (when given), no sha256. Returns the claims.
 */
export async function verifyToken(creds, token, { ttl, r } = {}) {
  let claims;
  try {
    claims = await new TokenVerifier(creds.lkKey, creds.lkSecret).verify(token);
  } catch (e) {
    assert.fail(`TokenVerifier rejected the token: ${e.message}\ntoken=${token}`);
  }
  assert.equal(jose.decodeProtectedHeader(token).alg, 'HS256', 'alg');
  assert.equal(claims.iss, creds.lkKey, 'iss = LiveKit API key');
  assert.equal(typeof claims.jti, 'string');
  assert.ok(claims.jti.length > 0, 'jti');
  assert.equal(claims.sha256, undefined, 'no sha256 claim');
  assert.equal(typeof claims.nbf, 'number', 'nbf');
  if (r) assert.ok(claims.nbf >= r.t0 - 5 && claims.nbf <= r.t1 + 5, `nbf ${claims.nbf} not ~ now`);
  if (ttl !== undefined) assert.equal(claims.exp - claims.nbf, ttl, `exp - nbf = ${ttl}`);
  return claims;
}

/**
 * Check claims.video against a role: exactly these grants are true, every
 * other boolean grant is absent or false; room and roomJoin set; sources as
 * the role says (undefined = canPublishSources absent).
 */
export function assertGrants(claims, room, grants, sources) {
  const v = claims.video;
  assert.ok(v && typeof v === 'object', `video grant missing: ${JSON.stringify(claims)}`);
  assert.equal(v.roomJoin, true, 'roomJoin');
  assert.equal(v.room, room, 'video.room');
  const bools = ['canPublish', 'canSubscribe', 'canPublishData', 'canUpdateOwnMetadata', 'roomAdmin',
    'roomCreate', 'roomList', 'roomRecord', 'ingressAdmin', 'hidden', 'recorder', 'agent',
    'canSubscribeMetrics', 'canManageAgentSession'];
  for (const k of bools) {
    if (grants.includes(k)) assert.equal(v[k], true, `video.${k} must be granted (${JSON.stringify(v)})`);
    else assert.notEqual(v[k], true, `video.${k} must not be granted (${JSON.stringify(v)})`);
  }
  for (const k of Object.keys(v)) {
    assert.ok([...bools, 'roomJoin', 'room', 'canPublishSources'].includes(k), `unexpected video field ${k}`);
  }
  assert.deepEqual(v.canPublishSources, sources, 'canPublishSources');
}

/** Assert r is JSON with exactly these top-level keys; returns the body. */
export function assertKeys(r, status, keys) {
  assert.equal(r.status, status, `expected ${status}: ${showRes(r)}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/, `content-type: ${showRes(r)}`);
  assert.ok(r.json && typeof r.json === 'object' && !Array.isArray(r.json), `body is not a JSON object: ${showRes(r)}`);
  assert.deepEqual(Object.keys(r.json).sort(), [...keys].sort(), `keys: ${showRes(r)}`);
  return r.json;
}

/**
 * Check that every token in minted has exactly one audit record in db, with
 * route `route`; returns the records by jti.
 */
export function assertAudited(db, minted, route) {
  const all = auditList(db);
  const byJti = new Map(all.map((x) => [x.jti, x]));
  assert.equal(byJti.size, all.length, 'duplicate jti in the audit');
  for (const t of minted) {
    const { jti } = jose.decodeJwt(t);
    assert.equal(byJti.get(jti)?.route, route, `audit record of jti ${jti}`);
  }
  return byJti;
}
