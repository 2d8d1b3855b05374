// Checks shared by the contract-family suites (supabase.test.mjs,
// meetings.test.mjs): verifying a minted token with livekit-server-sdk's
// TokenVerifier and checking its grants against the role it should carry.

import assert from 'node:assert/strict';

import * as jose from 'jose';
import { TokenVerifier } from 'livekit-server-sdk';

import { showRes } from './service-lib.mjs';

/** The video grants a role must give: true = granted, false = absent or false. */
export const GRANTS = {
  judge: { canPublish: true, canSubscribe: true, canPublishData: true, roomAdmin: false, canUpdateOwnMetadata: false },
  quickjudge: { canPublish: true, canSubscribe: true, canPublishData: true, roomAdmin: false, canUpdateOwnMetadata: false },
  performer: { canPublish: true, canSubscribe: true, canPublishData: false, roomAdmin: false, canUpdateOwnMetadata: false },
  viewer: { canPublish: false, canSubscribe: true, canPublishData: false, roomAdmin: false, canUpdateOwnMetadata: false },
  member: { canPublish: true, canSubscribe: true, canPublishData: true, roomAdmin: false, canUpdateOwnMetadata: false },
  moderator: { canPublish: true, canSubscribe: true, canPublishData: true, roomAdmin: true, canUpdateOwnMetadata: false },
  host: { canPublish: true, canSubscribe: true, canPublishData: true, roomAdmin: true, canUpdateOwnMetadata: true },
  attendee: { canPublish: true, canSubscribe: true, canPublishData: true, roomAdmin: false, canUpdateOwnMetadata: true },
};

/**
 * Verify a minted LiveKit token and check it end to end; returns its claims.
 * want: {key, secret, identity, room, role, ttl, name?, attributes?, t0, t1}
 * (t0/t1 bracket the request in Unix seconds).
 */
export async function verifyToken(token, want) {
  assert.equal(typeof token, 'string', 'token is a string');
  let claims;
  try {
    claims = await new TokenVerifier(want.key, want.secret).verify(token);
  } catch (e) {
    assert.fail(`TokenVerifier rejected the minted token: ${e.message}\ntoken=${token}`);
  }
  assert.equal(jose.decodeProtectedHeader(token).alg, 'HS256', 'token alg');
  assert.equal(claims.iss, want.key, 'iss = LiveKit API key');
  assert.equal(claims.sub, want.identity, 'sub = identity from the session');
  if (want.name !== undefined) assert.equal(claims.name, want.name, 'name claim');
  assert.equal(typeof claims.jti, 'string', 'jti');
  assert.ok(claims.jti.length > 0, 'jti non-empty');
  assert.equal(claims.sha256, undefined, 'no sha256 claim');
  assert.equal(claims.exp - claims.nbf, want.ttl, `exp - nbf = ttl (claims ${JSON.stringify(claims)})`);
  assert.ok(claims.nbf >= want.t0 - 5 && claims.nbf <= want.t1 + 5, `nbf ${claims.nbf} not ~ now`);
  const v = claims.video;
  assert.ok(v && typeof v === 'object', `video grant missing: ${JSON.stringify(claims)}`);
  assert.equal(v.roomJoin, true, 'video.roomJoin');
  assert.equal(v.room, want.room, 'video.room');
  const g = GRANTS[want.role];
  assert.ok(g, `unknown role in test: ${want.role}`);
  for (const [k, on] of Object.entries(g)) {
    if (on) assert.equal(v[k], true, `video.${k} for ${want.role} (video=${JSON.stringify(v)})`);
    else assert.notEqual(v[k], true, `video.${k} must not be granted to ${want.role} (video=${JSON.stringify(v)})`);
  }
  for (const k of ['roomCreate', 'roomList', 'roomRecord', 'ingressAdmin', 'hidden', 'recorder', 'agent']) {
    assert.notEqual(v[k], true, `video.${k} must never be granted here`);
  }
  if (want.attributes === undefined) assert.equal(claims.attributes, undefined, 'no attributes');
  else assert.deepEqual(claims.attributes, want.attributes, 'attributes');
  return claims;
}

/** Assert status and an exact JSON body. */
export function assertBody(r, status, body) {
  assert.equal(r.status, status, `expected ${status}: ${showRes(r)}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/, `content-type: ${showRes(r)}`);
  assert.deepEqual(r.json, body, `body: ${showRes(r)}`);
}

/**
 * Assert an error answer in a family's shape: status, JSON content type,
 * exactly the keys of `shape` (fixed values checked, the message key a
 * string), and the message (string or RegExp) when given.
 * shape: {fixed: {...}, messageKey}
 */
export function assertShape(r, status, shape, message) {
  assert.equal(r.status, status, `expected ${status}: ${showRes(r)}`);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/, `content-type: ${showRes(r)}`);
  assert.ok(r.json && typeof r.json === 'object' && !Array.isArray(r.json), `body: ${showRes(r)}`);
  assert.deepEqual(Object.keys(r.json), [...Object.keys(shape.fixed), shape.messageKey], `error body keys: ${showRes(r)}`);
  for (const [k, v] of Object.entries(shape.fixed)) assert.equal(r.json[k], v, `${k}: ${showRes(r)}`);
  const m = r.json[shape.messageKey];
  assert.equal(typeof m, 'string', showRes(r));
  if (message instanceof RegExp) assert.match(m, message, showRes(r));
  else if (message !== undefined) assert.equal(m, message, showRes(r));
}
