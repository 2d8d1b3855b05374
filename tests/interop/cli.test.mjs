// Black-box interop tests for the `roomkey token` CLI.
//
// Run:  cd tests/interop && npm ci && ROOMKEY_BIN=$PWD/../../build/roomkey node --test cli.test.mjs
//
// The reference implementations are livekit-server-sdk (AccessToken /
// TokenVerifier) and jose. roomkey is driven only through its command line.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';

import { RoomAgentDispatch, RoomConfiguration, TrackSource } from '@livekit/protocol';
import * as jose from 'jose';
import { AccessToken, TokenVerifier } from 'livekit-server-sdk';

import {
  B64URL_ALPHABET,
  BIN,
  KEY,
  SECRET,
  assertAccepted,
  assertRejected,
  assertUsageError,
  b64u,
  baseClaims,
  create,
  createToken,
  forge,
  hmacSig,
  keyArgs,
  nowSec,
  run,
  runProgram,
  segJson,
  show,
  signSegments,
  tempDir,
  verify,
} from './lib.mjs';

const enc = new TextEncoder();
const HEADER = { alg: 'HS256', typ: 'JWT' };
// jti: 9 characters of issue time (microseconds, in the base64url alphabet
// sorted by byte value), then 12 random bytes in base64url (16 characters).
const JTI_RE = /^[A-Za-z0-9_-]{25}$/;
const SORTED64 = '-0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz';

/** The jti's time prefix as microseconds since the epoch (a BigInt). */
function jtiMicros(jti) {
  let us = 0n;
  for (const ch of jti.slice(0, 9)) {
    const v = SORTED64.indexOf(ch);
    assert.ok(v >= 0, `jti time character ${ch}`);
    us = us * 64n + BigInt(v);
  }
  return us;
}

test('the roomkey binary exists and is executable', () => {
  assert.ok(fs.existsSync(BIN), `roomkey binary not found at ${BIN} (set ROOMKEY_BIN or run make build/roomkey)`);
  fs.accessSync(BIN, fs.constants.X_OK);
});

/** Claims minus the per-mint fields, with roomConfig in canonical protobuf JSON. */
function comparable(claims) {
  const c = structuredClone(claims);
  for (const k of ['iat', 'nbf', 'exp', 'jti']) delete c[k];
  if (c.roomConfig !== undefined) {
    // Strict parse: an unknown or misspelled field in the roomConfig throws here.
    c.roomConfig = RoomConfiguration.fromJson(c.roomConfig).toJson();
  }
  return c;
}

/** Build the livekit-server-sdk token for the same inputs as a CLI combo. */
async function sdkToken({ sdkOpts = {}, grants = [], agents, ttl }) {
  const at = new AccessToken(KEY, SECRET, { ...sdkOpts, ttl });
  for (const g of grants) at.addGrant(g);
  if (agents) {
    at.roomConfig = new RoomConfiguration({ agents: agents.map((a) => new RoomAgentDispatch(a)) });
  }
  return at.toJwt();
}

// ---------------------------------------------------------------------------
// Interop 1: roomkey-minted tokens vs livekit-server-sdk AccessToken
// ---------------------------------------------------------------------------

const combos = [
  {
    title: 'join with identity and room',
    cli: ['--join', '-i', 'alice', '-r', 'room1'],
    sdkOpts: { identity: 'alice' },
    grants: [{ roomJoin: true, room: 'room1' }],
  },
  {
    title: 'join with identity, room, name, metadata and attributes',
    cli: ['--join', '--identity', 'alice', '--room', 'room-1', '--name', 'Alice Liddell',
      '--metadata', '{"role":"host","n":1}', '-a', 'team=red', '--attribute', 'level=3', '-a', 'empty='],
    sdkOpts: { identity: 'alice', name: 'Alice Liddell', metadata: '{"role":"host","n":1}',
      attributes: { team: 'red', level: '3', empty: '' } },
    grants: [{ roomJoin: true, room: 'room-1' }],
    validFor: ['10m', 600],
  },
  {
    title: 'admin of a room without identity',
    cli: ['--admin', '-r', 'room1'],
    grants: [{ roomAdmin: true, room: 'room1' }],
  },
  {
    title: 'admin and join',
    cli: ['--admin', '--join', '-i', 'host', '-r', 'room1'],
    sdkOpts: { identity: 'host' },
    grants: [{ roomAdmin: true, roomJoin: true, room: 'room1' }],
    validFor: ['1h30m', 5400],
  },
  {
    title: 'list + create',
    cli: ['--list', '--create'],
    grants: [{ roomList: true, roomCreate: true }],
    validFor: ['90s', 90],
  },
  {
    title: 'egress (roomRecord)',
    cli: ['--egress'],
    grants: [{ roomRecord: true }],
  },
  {
    title: 'ingress (ingressAdmin)',
    cli: ['--ingress'],
    grants: [{ ingressAdmin: true }],
    validFor: ['720h', 720 * 3600],
  },
  {
    title: 'all room-wide service grants with a room',
    cli: ['--admin', '--list', '--create', '--egress', '--ingress', '-r', 'ops'],
    grants: [{ roomAdmin: true, roomList: true, roomCreate: true, roomRecord: true, ingressAdmin: true, room: 'ops' }],
  },
  {
    title: 'allow-source camera',
    cli: ['--join', '-i', 'alice', '-r', 'room1', '--allow-source', 'camera'],
    sdkOpts: { identity: 'alice' },
    grants: [{ roomJoin: true, room: 'room1', canPublishSources: [TrackSource.CAMERA] }],
  },
  {
    title: 'allow-source camera,microphone (comma list)',
    cli: ['--join', '-i', 'alice', '-r', 'room1', '--allow-source', 'camera,microphone'],
    sdkOpts: { identity: 'alice' },
    grants: [{ roomJoin: true, room: 'room1', canPublishSources: [TrackSource.CAMERA, TrackSource.MICROPHONE] }],
  },
  {
    title: 'allow-source screen_share + screen_share_audio (repeated flag)',
    cli: ['--join', '-i', 'alice', '-r', 'room1', '--allow-source', 'screen_share', '--allow-source', 'screen_share_audio'],
    sdkOpts: { identity: 'alice' },
    grants: [{ roomJoin: true, room: 'room1',
      canPublishSources: [TrackSource.SCREEN_SHARE, TrackSource.SCREEN_SHARE_AUDIO] }],
  },
  {
    title: 'allow-source all four (comma list + repeated flag)',
    cli: ['--join', '-i', 'alice', '-r', 'room1', '--allow-source', 'camera,microphone',
      '--allow-source', 'screen_share,screen_share_audio'],
    sdkOpts: { identity: 'alice' },
    grants: [{ roomJoin: true, room: 'room1', canPublishSources: [TrackSource.CAMERA, TrackSource.MICROPHONE,
      TrackSource.SCREEN_SHARE, TrackSource.SCREEN_SHARE_AUDIO] }],
  },
  {
    title: 'allow-update-metadata',
    cli: ['--join', '-i', 'alice', '-r', 'room1', '--allow-update-metadata'],
    sdkOpts: { identity: 'alice' },
    grants: [{ roomJoin: true, room: 'room1', canUpdateOwnMetadata: true }],
  },
  {
    title: 'hidden participant',
    cli: ['--join', '-i', 'ghost', '-r', 'room1', '--hidden'],
    sdkOpts: { identity: 'ghost' },
    grants: [{ roomJoin: true, room: 'room1', hidden: true }],
  },
  {
    title: 'recorder participant',
    cli: ['--join', '-i', 'rec', '-r', 'room1', '--recorder', '--hidden'],
    sdkOpts: { identity: 'rec' },
    grants: [{ roomJoin: true, room: 'room1', recorder: true, hidden: true }],
  },
  {
    title: 'agent dispatch with job metadata',
    cli: ['--join', '-i', 'alice', '-r', 'room1', '--agent', 'support-bot', '--job-metadata', '{"lang":"en"}'],
    sdkOpts: { identity: 'alice' },
    grants: [{ roomJoin: true, room: 'room1' }],
    agents: [{ agentName: 'support-bot', metadata: '{"lang":"en"}' }],
    rawRoomConfig: { agents: [{ agentName: 'support-bot', metadata: '{"lang":"en"}' }] },
  },
  {
    title: 'agent dispatch without job metadata',
    cli: ['--join', '-i', 'alice', '-r', 'room1', '--agent', 'bot'],
    sdkOpts: { identity: 'alice' },
    grants: [{ roomJoin: true, room: 'room1' }],
    agents: [{ agentName: 'bot' }],
    rawRoomConfig: { agents: [{ agentName: 'bot' }] },
  },
  {
    title: '--grant canPublish:false, canSubscribe:true, canPublishData:false',
    cli: ['--join', '-i', 'viewer', '-r', 'room1', '--grant', '{"canPublish":false,"canSubscribe":true,"canPublishData":false}'],
    sdkOpts: { identity: 'viewer' },
    grants: [{ roomJoin: true, room: 'room1', canPublish: false, canSubscribe: true, canPublishData: false }],
    allowFalse: ['canPublish', 'canPublishData'],
  },
  {
    title: '--grant is merged over the flags',
    cli: ['--join', '-i', 'alice', '-r', 'room1', '--hidden', '--grant', '{"hidden":false,"canSubscribeMetrics":true}'],
    sdkOpts: { identity: 'alice' },
    grants: [{ roomJoin: true, room: 'room1', hidden: true }, { hidden: false, canSubscribeMetrics: true }],
    allowFalse: ['hidden'],
  },
  {
    title: '--grant with canPublishSources, agent, destinationRoom',
    cli: ['--join', '-i', 'agent-1', '-r', 'room1', '--grant',
      '{"canPublishSources":["camera","microphone"],"agent":true,"destinationRoom":"room2"}'],
    sdkOpts: { identity: 'agent-1' },
    grants: [{ roomJoin: true, room: 'room1', agent: true, destinationRoom: 'room2',
      canPublishSources: [TrackSource.CAMERA, TrackSource.MICROPHONE] }],
  },
  {
    title: 'everything at once',
    cli: ['--join', '--admin', '--list', '--create', '--egress', '--ingress', '-i', 'everyone', '-r', 'big room',
      '-n', 'Every One', '-m', 'md', '-a', 'a=1', '-a', 'b=2', '--allow-source', 'microphone',
      '--allow-update-metadata', '--hidden', '--recorder', '--agent', 'a1', '--job-metadata', 'jm',
      '--grant', '{"canSubscribe":false}', '--valid-for', '2h'],
    sdkOpts: { identity: 'everyone', name: 'Every One', metadata: 'md', attributes: { a: '1', b: '2' } },
    grants: [{ roomJoin: true, roomAdmin: true, roomList: true, roomCreate: true, roomRecord: true, ingressAdmin: true,
      room: 'big room', canPublishSources: [TrackSource.MICROPHONE], canUpdateOwnMetadata: true, hidden: true,
      recorder: true, canSubscribe: false }],
    agents: [{ agentName: 'a1', metadata: 'jm' }],
    allowFalse: ['canSubscribe'],
    ttlSeconds: 7200,
  },
];

describe('interop 1: roomkey token create matches livekit-server-sdk AccessToken', () => {
  for (const c of combos) {
    test(c.title, async () => {
      const validArgs = c.validFor ? ['--valid-for', c.validFor[0]] : [];
      const ttl = c.validFor ? c.validFor[1] : (c.ttlSeconds ?? 300);

      const before = nowSec();
      const token = createToken([...c.cli, ...validArgs]);
      const after = nowSec();

      // Header is exactly {"alg":"HS256","typ":"JWT"}.
      assert.deepEqual(segJson(token.split('.')[0]), HEADER);

      // The SDK's verifier accepts it.
      const verified = await new TokenVerifier(KEY, SECRET).verify(token);
      assert.equal(verified.iss, KEY);

      const cliClaims = jose.decodeJwt(token);
      const sdkClaims = jose.decodeJwt(await sdkToken({ ...c, ttl }));
      assert.deepEqual(comparable(cliClaims), comparable(sdkClaims));

      // Times.
      for (const k of ['iat', 'nbf', 'exp']) assert.ok(Number.isInteger(cliClaims[k]), `${k} must be an integer`);
      assert.notEqual(cliClaims.nbf, 0);
      assert.ok(cliClaims.nbf >= before - 1 && cliClaims.nbf <= after + 1,
        `nbf ${cliClaims.nbf} not within [${before}, ${after}]`);
      assert.ok(cliClaims.iat >= before - 1 && cliClaims.iat <= after + 1,
        `iat ${cliClaims.iat} not within [${before}, ${after}]`);
      assert.equal(cliClaims.exp - cliClaims.nbf, ttl);

      // jti: 22 chars of base64url (16 random bytes, canonical encoding).
      assert.match(cliClaims.jti, JTI_RE);
      const rand = cliClaims.jti.slice(9);
      assert.equal(Buffer.from(rand, 'base64url').length, 12);
      assert.equal(b64u(Buffer.from(rand, 'base64url')), rand);
      // the time prefix is the issue time: iat's second (or the next one,
      // when the clock ticked between reading iat and making the jti)
      const secs = Number(jtiMicros(cliClaims.jti) / 1000000n);
      assert.ok(secs >= cliClaims.iat && secs <= cliClaims.iat + 1, `${secs} vs iat ${cliClaims.iat}`);

      // No grant is written as false unless it was asked for; never sha256.
      for (const [k, v] of Object.entries(cliClaims.video ?? {})) {
        if (v === false) assert.ok((c.allowFalse ?? []).includes(k), `unrequested false grant video.${k}`);
      }
      assert.ok(!('sha256' in cliClaims), 'token must not carry a sha256 claim');

      if (c.rawRoomConfig) assert.deepEqual(cliClaims.roomConfig, c.rawRoomConfig);
    });
  }

  test('allow-source order and duplicates do not matter (set semantics)', async () => {
    const token = createToken(['--join', '-i', 'a', '-r', 'r', '--allow-source', 'microphone,camera',
      '--allow-source', 'camera']);
    const srcs = jose.decodeJwt(token).video.canPublishSources;
    assert.deepEqual([...srcs].sort(), ['camera', 'microphone']);
    await new TokenVerifier(KEY, SECRET).verify(token);
  });

  test('jti is unique across tokens', () => {
    const seen = new Set();
    let prev = '';
    for (let i = 0; i < 20; i++) {
      const { jti } = jose.decodeJwt(createToken(['--list']));
      assert.match(jti, JTI_RE);
      // one process after another: each jti sorts after the last (byte order)
      assert.ok(Buffer.compare(Buffer.from(prev), Buffer.from(jti)) < 0, `${prev} < ${jti}`);
      prev = jti;
      seen.add(jti);
    }
    assert.equal(seen.size, 20);
  });

  test('default validity is 5 minutes; identity-less tokens have no sub', () => {
    const c = jose.decodeJwt(createToken(['--list']));
    assert.equal(c.exp - c.nbf, 300);
    assert.ok(!('sub' in c));
    assert.deepEqual(c.video, { roomList: true });
    for (const k of ['name', 'metadata', 'attributes', 'roomConfig', 'sha256']) assert.ok(!(k in c), `unexpected ${k}`);
  });

  test('keys from LIVEKIT_API_KEY / LIVEKIT_API_SECRET', async () => {
    const token = createToken(['--list'], { noKeys: true, env: { LIVEKIT_API_KEY: 'envKey', LIVEKIT_API_SECRET: SECRET } });
    const claims = await new TokenVerifier('envKey', SECRET).verify(token);
    assert.equal(claims.iss, 'envKey');
  });
});

// ---------------------------------------------------------------------------
// Interop 2: livekit-server-sdk tokens verify with roomkey
// ---------------------------------------------------------------------------

describe('interop 2: livekit-server-sdk tokens verify with roomkey token verify', () => {
  const sdkCases = [
    {
      title: 'join with identity, name, metadata, attributes',
      make: () => {
        const at = new AccessToken(KEY, SECRET, { identity: 'alice', name: 'Alice', metadata: 'm', attributes: { k: 'v' }, ttl: '10m' });
        at.addGrant({ roomJoin: true, room: 'room1' });
        return at;
      },
    },
    {
      title: 'room-wide service grants (no identity)',
      make: () => {
        const at = new AccessToken(KEY, SECRET, { ttl: 3600 });
        at.addGrant({ roomAdmin: true, roomList: true, roomCreate: true, roomRecord: true, ingressAdmin: true, room: 'ops' });
        return at;
      },
    },
    {
      title: 'publish sources and false-valued grants',
      make: () => {
        const at = new AccessToken(KEY, SECRET, { identity: 'bob' });
        at.addGrant({ roomJoin: true, room: 'r', canPublish: false, canPublishData: false, canSubscribe: true,
          canPublishSources: [TrackSource.CAMERA, TrackSource.SCREEN_SHARE_AUDIO], hidden: false });
        return at;
      },
    },
    {
      title: 'roomConfig with agent dispatch (SDK writes proto defaults)',
      make: () => {
        const at = new AccessToken(KEY, SECRET, { identity: 'carol' });
        at.addGrant({ roomJoin: true, room: 'r', canUpdateOwnMetadata: true });
        at.roomConfig = new RoomConfiguration({ agents: [new RoomAgentDispatch({ agentName: 'bot', metadata: 'x' })] });
        return at;
      },
    },
    {
      title: 'sip, kind and other non-video claims',
      make: () => {
        const at = new AccessToken(KEY, SECRET, { identity: 'sip-user', name: 'Ünïcødé 😀' });
        at.addGrant({ roomJoin: true, room: 'r', agent: true });
        at.addSIPGrant({ admin: true, call: true });
        at.kind = 'agent';
        return at;
      },
    },
    {
      title: 'default SDK ttl (6h), list only',
      make: () => {
        const at = new AccessToken(KEY, SECRET);
        at.addGrant({ roomList: true });
        return at;
      },
    },
  ];

  for (const c of sdkCases) {
    test(c.title, async () => {
      const token = await c.make().toJwt();
      const printed = assertAccepted(verify(token));
      assert.deepEqual(printed, jose.decodeJwt(token));
    });
  }

  test('SDK token verifies with keys from LIVEKIT_API_KEY/SECRET and from stdin', async () => {
    const at = new AccessToken(KEY, SECRET, { identity: 'dave' });
    at.addGrant({ roomJoin: true, room: 'r' });
    const token = await at.toJwt();
    const env = { LIVEKIT_API_KEY: KEY, LIVEKIT_API_SECRET: SECRET };
    assert.deepEqual(assertAccepted(verify(token, { noKeys: true, env })), jose.decodeJwt(token));
    const r = run(['token', 'verify', ...keyArgs(), '-'], { input: `${token}\n` });
    assert.deepEqual(assertAccepted(r), jose.decodeJwt(token));
  });

  test('roomkey verify prints the same claims for its own tokens', () => {
    const token = createToken(['--join', '-i', 'x', '-r', 'y', '-n', 'N', '-a', 'k=v']);
    assert.deepEqual(assertAccepted(verify(token)), jose.decodeJwt(token));
  });
});

// ---------------------------------------------------------------------------
// JSON escaping
// ---------------------------------------------------------------------------

describe('JSON escaping', () => {
  const injection = '","video":{"roomAdmin":true},"x":"';

  test('an injection attempt in --name stays the name', async () => {
    const token = createToken(['--join', '-i', 'alice', '-r', 'room1', '-n', injection]);
    const claims = jose.decodeJwt(token);
    assert.equal(claims.name, injection);
    assert.deepEqual(claims.video, { roomJoin: true, room: 'room1' });
    assert.ok(!('x' in claims));
    await new TokenVerifier(KEY, SECRET).verify(token);
  });

  test('injection attempts in identity, room, metadata and attributes stay data', async () => {
    const token = createToken(['--join', '-i', injection, '-r', injection, '-m', injection,
      '-a', `${injection}=${injection}`, '--agent', injection, '--job-metadata', injection]);
    const claims = jose.decodeJwt(token);
    assert.equal(claims.sub, injection);
    assert.equal(claims.metadata, injection);
    assert.deepEqual(claims.video, { roomJoin: true, room: injection });
    assert.deepEqual(claims.attributes, { [injection]: injection });
    assert.deepEqual(claims.roomConfig, { agents: [{ agentName: injection, metadata: injection }] });
    await new TokenVerifier(KEY, SECRET).verify(token);
  });

  const tricky = [
    ['double quotes', 'say "hi"'],
    ['backslashes', 'C:\\path\\to\\file \\u0041 \\'],
    ['newlines and tabs', 'line1\nline2\r\nline3\tend'],
    ['C0 control characters', 'a\u0001b\u0002c\u0007d\u0008e\u000bf\u000cg\u001bh\u001fi'],
    ['DEL', 'x\u007fy'],
    ['non-ASCII', 'Zoë Ünïcødé 中文 Ελληνικά עברית'],
    ['emoji and ZWJ sequences', '😀 👩‍💻 🇫🇷 🏳️‍🌈'],
    ['U+2028 / U+2029', 'a\u2028b\u2029c'],
    ['HTML-ish', '</script><script>alert(1)</script>&amp;'],
    ['slash and solidus', '/a/b/ \u00a0nbsp'],
  ];
  for (const [label, s] of tricky) {
    test(`round-trips exactly: ${label}`, async () => {
      const token = createToken(['--join', '-i', s, '-r', s, '-n', s, '-m', s, '-a', `key=${s}`]);
      const claims = jose.decodeJwt(token);
      assert.equal(claims.name, s);
      assert.equal(claims.sub, s);
      assert.equal(claims.metadata, s);
      assert.equal(claims.video.room, s);
      assert.deepEqual(claims.attributes, { key: s });
      await new TokenVerifier(KEY, SECRET).verify(token);
      // roomkey's own verifier prints the same strings back.
      assert.equal(assertAccepted(verify(token)).name, s);
    });
  }

  test('attribute value may contain "=" (split at the first one)', () => {
    const claims = jose.decodeJwt(createToken(['--list', '-a', 'eq=a=b=c']));
    assert.deepEqual(claims.attributes, { eq: 'a=b=c' });
  });

  test('invalid UTF-8 in argv is refused (python3 is installed by make test)', () => {
    // node cannot put raw invalid bytes into argv, so exec via python3 (no shell).
    const tramp = 'import os,sys\nb=sys.argv[1]\nos.execv(b,[b.encode()]+[bytes.fromhex(h) for h in sys.argv[2:]])';
    const hex = (s) => Buffer.from(s).toString('hex');
    const fields = { '--identity': 'id', '--room': 'room', '--name': 'n', '--metadata': 'm' };
    const argvWith = (flag, valueHex) => {
      const argv = ['token', 'create', ...keyArgs(), '--join', '--token-only'].map(hex);
      for (const [f, v] of Object.entries(fields)) argv.push(hex(f), f === flag ? valueHex : hex(v));
      return argv;
    };
    // Control: valid UTF-8 through the same trampoline is accepted.
    const good = runProgram('python3', ['-c', tramp, BIN, ...argvWith('--name', hex('Zoë'))]);
    assert.equal(good.status, 0, show(good));
    assert.equal(jose.decodeJwt(good.stdout.trim()).name, 'Zoë');
    // Lone 0xFF, overlong "/", UTF-16 surrogate, truncated sequence, code point > U+10FFFF.
    for (const b of ['ff', 'c0af', 'eda080', 'e282', '61f4908080']) {
      for (const flag of Object.keys(fields)) {
        const r = runProgram('python3', ['-c', tramp, BIN, ...argvWith(flag, b)]);
        assertUsageError(r, `${flag} with bytes ${b}`);
      }
      const r = runProgram('python3', ['-c', tramp, BIN, ...argvWith('--name', hex('x')), hex('-a'), hex('k=') + b]);
      assertUsageError(r, `attribute value with bytes ${b}`);
    }
  });
});

// ---------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------

describe('start-up', () => {
  // libmicrohttpd brings GnuTLS and eight more libraries: only `serve`
  // loads them (src/http/mhd_lib.h), so the other commands start faster.
  test('commands other than serve load neither libmicrohttpd nor GnuTLS', () => {
    const T = tempDir();
    try {
      const cmds = [['--version'], ['token', 'create', ...keyArgs(), '--identity', 'u', '--room', 'r', '--join']];
      for (const [i, args] of cmds.entries()) {
        const r = run(args, { env: { LD_DEBUG: 'files', LD_DEBUG_OUTPUT: path.join(T.dir, `ld${i}`) } });
        assert.equal(r.status, 0, show(r));
        const files = fs.readdirSync(T.dir).filter((f) => f.startsWith(`ld${i}.`));
        assert.equal(files.length, 1, `one loader trace for ${args[0]}: ${files}`);
        const trace = fs.readFileSync(path.join(T.dir, files[0]), 'utf8');
        assert.match(trace, /file=libjansson\.so\.4/, 'the trace lists the linked libraries');
        assert.doesNotMatch(trace, /libmicrohttpd|libgnutls/, `${args.join(' ')} loaded the HTTP library`);
      }
    } finally {
      T.cleanup();
    }
  });
});

describe('limits', () => {
  for (const [flag, claim] of [['--identity', 'sub'], ['--name', 'name'], ['--room', 'room']]) {
    test(`${flag}: 256 bytes accepted, 257 refused`, () => {
      const base = ['--join', '-i', 'id', '-r', 'room'];
      for (const ok of ['a'.repeat(256), 'é'.repeat(128), '😀'.repeat(64)]) {
        assert.equal(Buffer.byteLength(ok), 256);
        const claims = jose.decodeJwt(createToken([...base, flag, ok]));
        assert.equal(claim === 'room' ? claims.video.room : claims[claim], ok);
      }
      for (const bad of ['a'.repeat(257), `${'é'.repeat(128)}x`, `${'😀'.repeat(64)}x`, 'é'.repeat(129)]) {
        assert.ok(Buffer.byteLength(bad) > 256);
        assertUsageError(create([...base, flag, bad, '--token-only']), `${flag} of ${Buffer.byteLength(bad)} bytes`);
      }
    });
  }

  test('metadata of 100 KiB is accepted and round-trips (512 KiB bound is beyond argv limits)', async () => {
    // Linux caps one argv string at MAX_ARG_STRLEN = 128 KiB, so the 512 KiB
    // bound itself cannot be reached from the command line.
    const md = 'm'.repeat(100 * 1024 - 2) + 'é';
    const token = createToken(['--list', '-m', md]);
    assert.equal(jose.decodeJwt(token).metadata, md);
    await new TokenVerifier(KEY, SECRET).verify(token);
  });

  test('attributes: 48 KiB total accepted, > 64 KiB total refused', () => {
    const attr = (i, n) => ['-a', `k${i}=${'v'.repeat(n)}`];
    const ok = [0, 1, 2].flatMap((i) => attr(i, 16 * 1024));
    const claims = jose.decodeJwt(createToken(['--list', ...ok]));
    assert.equal(Object.keys(claims.attributes).length, 3);
    assert.equal(claims.attributes.k2.length, 16 * 1024);

    const tooMany = [0, 1, 2, 3, 4].flatMap((i) => attr(i, 16 * 1024)); // 80 KiB
    assertUsageError(create(['--list', ...tooMany, '--token-only']), 'attributes of 80 KiB');
    const many = Array.from({ length: 70 }, (_, i) => attr(i, 1024)).flat(); // 70 KiB in 70 flags
    assertUsageError(create(['--list', ...many, '--token-only']), 'attributes of 70 x 1 KiB');
    assertUsageError(create(['--list', '-a', `big=${'v'.repeat(65 * 1024)}`, '--token-only']), 'one 65 KiB attribute');
  });

  test('attributes: 256 entries accepted, 257 refused; duplicate keys refused (docs/token.md)', () => {
    const n = (count) => Array.from({ length: count }, (_, i) => ['-a', `k${i}=v`]).flat();
    const claims = jose.decodeJwt(createToken(['--list', ...n(256)]));
    assert.equal(Object.keys(claims.attributes).length, 256);
    assertUsageError(create(['--list', ...n(257), '--token-only']), '257 attributes');
    assertUsageError(create(['--list', '-a', 'k=1', '-a', 'k=2', '--token-only']), 'duplicate attribute key');
  });
});

// ---------------------------------------------------------------------------
// Secret length
// ---------------------------------------------------------------------------

describe('API secret length', () => {
  const short = 's'.repeat(31);

  test('a 31-byte secret is refused without --dev', () => {
    const r = create(['--list', '--token-only'], { secret: short });
    assert.equal(r.status, 1, show(r));
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /32/);
    const e = create(['--list', '--token-only'], { noKeys: true, env: { LIVEKIT_API_KEY: KEY, LIVEKIT_API_SECRET: short } });
    assert.equal(e.status, 1, show(e));
    assert.equal(e.stdout, '');
    assert.match(e.stderr, /32/);
  });

  test('a 32-byte secret is accepted', async () => {
    const s32 = 'S'.repeat(32);
    const token = createToken(['--list'], { secret: s32 });
    await new TokenVerifier(KEY, s32).verify(token);
  });

  test('a 31-byte secret is accepted with --dev, and verifies with --dev', async () => {
    const token = createToken(['--list', '--dev'], { secret: short });
    await new TokenVerifier(KEY, short).verify(token);
    assertAccepted(verify(token, { secret: short, args: ['--dev'] }));
    const r = verify(token, { secret: short });
    assert.notEqual(r.status, 0, `short secret accepted by verify without --dev: ${show(r)}`);
    assert.equal(r.stdout, '');
  });
});

// ---------------------------------------------------------------------------
// Negative verify tests
// ---------------------------------------------------------------------------

describe('token verify rejects', () => {
  const OTHER_SECRET = 'another-secret-that-is-long-enough-0123456789';

  test('wrong secret', () => {
    const token = createToken(['--list']);
    assertRejected(verify(token, { secret: OTHER_SECRET }));
  });

  test('unknown key (iss not configured)', () => {
    const token = createToken(['--list']);
    assertRejected(verify(token, { key: 'someOtherKey' }));
  });

  test('expired token (beyond leeway)', async () => {
    const t = nowSec();
    const token = await new jose.SignJWT({ video: { roomList: true } })
      .setProtectedHeader(HEADER).setIssuer(KEY).setIssuedAt(t - 7200).setNotBefore(t - 7200).setExpirationTime(t - 3600)
      .sign(enc.encode(SECRET));
    assertRejected(verify(token));
  });

  test('not yet valid (nbf = now + 3600)', async () => {
    const t = nowSec();
    const token = await new jose.SignJWT({ video: { roomList: true } })
      .setProtectedHeader(HEADER).setIssuer(KEY).setIssuedAt(t).setNotBefore(t + 3600).setExpirationTime(t + 7200)
      .sign(enc.encode(SECRET));
    assertRejected(verify(token));
  });

  test('tampered header (alg re-encoded as HS512, signature kept)', () => {
    const [, p, s] = createToken(['--list']).split('.');
    assertRejected(verify(`${b64u(JSON.stringify({ alg: 'HS512', typ: 'JWT' }))}.${p}.${s}`));
    assertRejected(verify(`${b64u(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'x' }))}.${p}.${s}`));
  });

  test('tampered payload (sub changed, signature kept)', () => {
    const token = createToken(['--join', '-i', 'alice', '-r', 'room1']);
    const [h, p, s] = token.split('.');
    const claims = segJson(p);
    claims.sub = 'mallory';
    assertRejected(verify(`${h}.${b64u(JSON.stringify(claims))}.${s}`));
  });

  test('tampered signature (one character flipped)', () => {
    const token = createToken(['--list']);
    const [h, p, s] = token.split('.');
    const flipped = (s[0] === 'A' ? 'B' : 'A') + s.slice(1);
    assertRejected(verify(`${h}.${p}.${flipped}`));
    // Truncated and extended signatures too.
    assertRejected(verify(`${h}.${p}.${s.slice(0, -1)}`));
    assertRejected(verify(`${h}.${p}.${s}AAAA`));
  });

  test('alg none (empty signature and with a signature part)', () => {
    const p = b64u(JSON.stringify(baseClaims()));
    for (const alg of ['none', 'None', 'NONE']) {
      const h = b64u(JSON.stringify({ alg, typ: 'JWT' }));
      assertRejected(verify(`${h}.${p}.`), `alg ${alg} unsigned`);
      assertRejected(verify(`${h}.${p}.${hmacSig(`${h}.${p}`)}`), `alg ${alg} with HS256 signature`);
    }
  });

  test('HS512 / HS384 signed with the right secret', async () => {
    const claims = baseClaims();
    assertRejected(verify(forge({ header: { alg: 'HS512', typ: 'JWT' }, payload: claims, hash: 'sha512' })), 'HS512');
    assertRejected(verify(forge({ header: { alg: 'HS384', typ: 'JWT' }, payload: claims, hash: 'sha384' })), 'HS384');
    const viaJose = await new jose.SignJWT({ video: { roomList: true } })
      .setProtectedHeader({ alg: 'HS512', typ: 'JWT' }).setIssuer(KEY).setNotBefore(nowSec()).setExpirationTime('5m')
      .sign(enc.encode(SECRET));
    assertRejected(verify(viaJose), 'HS512 via jose');
  });

  test('alg other than exactly "HS256" (hs256, missing alg, RS256) even if HMAC-SHA256 signed', () => {
    const claims = baseClaims();
    assertAccepted(verify(forge({ payload: claims }))); // control
    for (const header of [{ alg: 'hs256', typ: 'JWT' }, { typ: 'JWT' }, { alg: 'RS256', typ: 'JWT' },
      { alg: ['HS256'], typ: 'JWT' }, { alg: 'HS256 ', typ: 'JWT' }]) {
      assertRejected(verify(forge({ header, payload: claims })), JSON.stringify(header));
    }
  });

  test('typ other than "JWT" (correctly signed)', () => {
    const claims = baseClaims();
    assertAccepted(verify(forge({ header: { alg: 'HS256' }, payload: claims }))); // typ is optional
    for (const typ of ['JWS', 'jwt ', 'at+jwt', 1]) {
      assertRejected(verify(forge({ header: { alg: 'HS256', typ }, payload: claims })), `typ ${JSON.stringify(typ)}`);
    }
  });

  test('non-canonical base64url: "=" padding', () => {
    const token = createToken(['--list']);
    assertAccepted(verify(token));
    const [h, p, s] = token.split('.');
    assert.equal(s.length, 43);
    assertRejected(verify(`${h}.${p}.${s}=`), 'padded signature');

    // Payload padding, re-signed over the padded text.
    let claims = baseClaims();
    let pp = b64u(JSON.stringify(claims));
    for (let i = 0; pp.length % 4 === 0; i++) {
      claims = baseClaims({ pad: 'x'.repeat(i + 1) });
      pp = b64u(JSON.stringify(claims));
    }
    assertAccepted(verify(signSegments(h, pp))); // control: unpadded, correctly signed
    const padded = pp + '='.repeat((4 - (pp.length % 4)) % 4);
    assertRejected(verify(signSegments(h, padded)), 'padded payload');

    // Header padding: 28-byte header -> 38 chars -> "==".
    const hh = b64u('{"alg":"HS256", "typ":"JWT"}');
    assert.equal(hh.length % 4, 2);
    assertAccepted(verify(signSegments(hh, pp))); // control
    assertRejected(verify(signSegments(`${hh}==`, pp)), 'padded header');
  });

  test('non-canonical base64url: "+" or "/" instead of "-" or "_"', () => {
    // Signature: find tokens whose signature contains "-" / "_".
    for (const [from, to] of [['-', '+'], ['_', '/']]) {
      let token;
      for (let i = 0; i < 1000; i++) {
        token = forge({ payload: baseClaims({ n: i }) });
        if (token.split('.')[2].includes(from)) break;
      }
      const [h, p, s] = token.split('.');
      assert.ok(s.includes(from), 'could not find a signature to mangle');
      assertAccepted(verify(token)); // control
      const mangled = s.replace(from, to);
      assert.ok(Buffer.from(mangled, 'base64').equals(Buffer.from(s, 'base64url')), 'premise: same bytes');
      assertRejected(verify(`${h}.${p}.${mangled}`), `signature with ${to}`);
    }
    // Payload: find a payload encoding containing "-" / "_", re-sign the mangled text.
    const h = b64u(JSON.stringify(HEADER));
    for (const [from, to] of [['-', '+'], ['_', '/']]) {
      let p;
      for (let i = 0; i < 5000; i++) {
        p = b64u(JSON.stringify(baseClaims({ name: `~?>${'~'.repeat(i % 7)}${i}` })));
        if (p.includes(from)) break;
      }
      assert.ok(p.includes(from), 'could not find a payload to mangle');
      assertAccepted(verify(signSegments(h, p))); // control
      const mangled = p.replace(from, to);
      assert.ok(Buffer.from(mangled, 'base64').equals(Buffer.from(p, 'base64url')), 'premise: same bytes');
      assertRejected(verify(signSegments(h, mangled)), `payload with ${to}`);
    }
  });

  test('non-canonical base64url: unused trailing bits set', () => {
    const token = createToken(['--list']);
    const [h, p, s] = token.split('.');
    // 32 bytes -> 43 chars: the last char carries 4 data bits and 2 unused low bits.
    assert.equal(s.length, 43);
    const last = B64URL_ALPHABET.indexOf(s[42]);
    assert.equal(last & 0b11, 0, 'canonical signature has zero trailing bits');
    const sig2 = s.slice(0, 42) + B64URL_ALPHABET[last | 0b01];
    assert.ok(Buffer.from(sig2, 'base64url').equals(Buffer.from(s, 'base64url')), 'premise: same bytes');
    assertRejected(verify(`${h}.${p}.${sig2}`), 'signature trailing bits');

    // Payload: lengths 2 and 3 mod 4 leave 4 resp. 2 unused bits; set the lowest.
    for (const want of [2, 3]) {
      let pp;
      for (let i = 0; ; i++) {
        pp = b64u(JSON.stringify(baseClaims({ pad: 'y'.repeat(i) })));
        if (pp.length % 4 === want) break;
      }
      assertAccepted(verify(signSegments(h, pp))); // control
      const idx = B64URL_ALPHABET.indexOf(pp.at(-1));
      const pp2 = pp.slice(0, -1) + B64URL_ALPHABET[idx | 1];
      assert.notEqual(pp2, pp);
      assert.ok(Buffer.from(pp2, 'base64url').equals(Buffer.from(pp, 'base64url')), 'premise: same bytes');
      assertRejected(verify(signSegments(h, pp2)), `payload trailing bits (len % 4 = ${want})`);
    }
  });

  test('characters outside base64url in a segment', () => {
    const [h, p] = createToken(['--list']).split('.');
    for (const bad of [`${p}!`, `${p.slice(0, 10)} ${p.slice(10)}`, `${p}\n`]) {
      assertRejected(verify(signSegments(h, bad)), JSON.stringify(bad.slice(-3)));
    }
  });

  test('duplicate keys in the payload JSON (top level and nested)', () => {
    const t = nowSec();
    const head = `"iss":"${KEY}","iat":${t},"nbf":${t},"exp":${t + 600}`;
    const control = `{${head},"sub":"alice","video":{"roomJoin":true,"room":"room1"}}`;
    assertAccepted(verify(forge({ payload: control })));
    const dups = [
      `{${head},"sub":"alice","sub":"mallory","video":{"roomJoin":true,"room":"room1"}}`,
      `{${head},"sub":"alice","video":{"roomJoin":true,"room":"room1","room":"other"}}`,
      `{${head},"sub":"alice","video":{"roomJoin":true,"room":"room1"},"video":{"roomAdmin":true,"room":"room1"}}`,
      `{${head},"exp":${t + 999999},"sub":"alice","video":{"roomJoin":true,"room":"room1"}}`,
      `{${head},"sub":"alice","video":{"roomJoin":true,"room":"room1"},"attributes":{"a":"1","a":"2"}}`,
    ];
    for (const payload of dups) assertRejected(verify(forge({ payload })), payload);
  });

  test('duplicate keys in the header JSON', () => {
    const payload = baseClaims();
    assertRejected(verify(forge({ header: '{"alg":"HS256","typ":"JWT","alg":"HS256"}', payload })));
    assertRejected(verify(forge({ header: '{"alg":"none","alg":"HS256","typ":"JWT"}', payload })));
  });

  test('missing exp (correctly signed)', () => {
    const claims = baseClaims();
    assertAccepted(verify(forge({ payload: claims }))); // control
    delete claims.exp;
    assertRejected(verify(forge({ payload: claims })));
  });

  test('crit header (correctly signed)', () => {
    const payload = baseClaims();
    assertRejected(verify(forge({ header: { alg: 'HS256', typ: 'JWT', crit: ['exp'] }, payload })));
    assertRejected(verify(forge({ header: { alg: 'HS256', typ: 'JWT', crit: ['b64'], b64: true }, payload })));
  });

  test('wrong number of parts and empty input', () => {
    const token = createToken(['--list']);
    const [h, p, s] = token.split('.');
    for (const bad of [`${h}.${p}`, `${h}.${p}.${s}.${s}`, `${token}.`, `.${token}`, h, '', '..', '...',
      `${h}..${s}`, `.${p}.${s}`]) {
      assertRejected(verify(bad), JSON.stringify(bad.slice(0, 20)));
    }
    assertRejected(run(['token', 'verify', ...keyArgs(), '-'], { input: '' }), 'empty stdin');
  });

  test('payload that is not a JSON object', () => {
    const h = b64u(JSON.stringify(HEADER));
    for (const text of ['[]', '"str"', '42', 'null', '{', '{"exp":1}x', '']) {
      assertRejected(verify(signSegments(h, b64u(text))), JSON.stringify(text));
    }
  });
});

// ---------------------------------------------------------------------------
// Multiple keys
// ---------------------------------------------------------------------------

describe('multiple keys', () => {
  const S1 = 'first-secret-0123456789abcdefghijklmnopqrstuv';
  const S2 = 'second-secret-0123456789abcdefghijklmnopqrstu';
  const S3 = 'third-secret-0123456789abcdefghijklmnopqrstuv';

  async function tokens() {
    const t1 = createToken(['--join', '-i', 'one', '-r', 'r'], { key: 'k1', secret: S1 });
    const at = new AccessToken('k2', S2, { identity: 'two' });
    at.addGrant({ roomJoin: true, room: 'r' });
    const t2 = await at.toJwt();
    const t3 = createToken(['--list'], { key: 'k3', secret: S3 });
    // A token that claims k1 but is signed with k2's secret.
    const mixed = forge({ payload: baseClaims({ iss: 'k1' }), secret: S2 });
    return { t1, t2, t3, mixed };
  }

  test('LIVEKIT_KEYS: either key verifies; iss picks the secret; others fail', async () => {
    const { t1, t2, t3, mixed } = await tokens();
    const env = { LIVEKIT_KEYS: `k1: ${S1}, k2: ${S2}` };
    assert.equal(assertAccepted(verify(t1, { noKeys: true, env })).sub, 'one');
    assert.equal(assertAccepted(verify(t2, { noKeys: true, env })).sub, 'two');
    assertRejected(verify(t3, { noKeys: true, env }), 'key k3 not configured');
    assertRejected(verify(mixed, { noKeys: true, env }), 'iss k1 signed with k2 secret');
  });

  test('--keys-file with "key: secret" lines', async () => {
    const { t1, t2, t3, mixed } = await tokens();
    const { dir, cleanup } = tempDir();
    try {
      const file = path.join(dir, 'keys.yaml');
      fs.writeFileSync(file, `k1: ${S1}\nk2: ${S2}\n`);
      const args = ['--keys-file', file];
      assert.equal(assertAccepted(verify(t1, { noKeys: true, args })).sub, 'one');
      assert.equal(assertAccepted(verify(t2, { noKeys: true, args })).sub, 'two');
      assertRejected(verify(t3, { noKeys: true, args }), 'key k3 not in file');
      assertRejected(verify(mixed, { noKeys: true, args }), 'iss k1 signed with k2 secret');
    } finally {
      cleanup();
    }
  });
});

// ---------------------------------------------------------------------------
// Leeway
// ---------------------------------------------------------------------------

describe('leeway', () => {
  test('exp = now - 5 passes with the default leeway and fails with --leeway 0', () => {
    const t = nowSec();
    const token = forge({ payload: baseClaims({ iat: t - 60, nbf: t - 60, exp: t - 5 }) });
    assertAccepted(verify(token));
    assertRejected(verify(token, { args: ['--leeway', '0'] }), '--leeway 0');
  });

  test('nbf = now + 5 passes with the default leeway and fails with --leeway 0', () => {
    const t = nowSec();
    const token = forge({ payload: baseClaims({ iat: t, nbf: t + 5, exp: t + 600 }) });
    assertAccepted(verify(token));
    assertRejected(verify(token, { args: ['--leeway', '0'] }), '--leeway 0');
  });

  test('a larger --leeway accepts an older token (leeway is capped at 300 s)', () => {
    const t = nowSec();
    const token = forge({ payload: baseClaims({ iat: t - 600, nbf: t - 600, exp: t - 60 }) });
    assertRejected(verify(token));
    assertAccepted(verify(token, { args: ['--leeway', '120'] }));
    for (const bad of ['301', '-1', 'abc', '']) {
      assertUsageError(verify(token, { args: ['--leeway', bad] }), `--leeway ${JSON.stringify(bad)}`);
    }
  });
});

// ---------------------------------------------------------------------------
// decode
// ---------------------------------------------------------------------------

describe('token decode', () => {
  test('prints verified:false, header and claims; warns on stderr', () => {
    const token = createToken(['--join', '-i', 'alice', '-r', 'room1', '-n', 'Alice']);
    const r = run(['token', 'decode', token]);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stderr, /WARNING/);
    const out = JSON.parse(r.stdout);
    assert.deepEqual(out, { verified: false, header: HEADER, claims: jose.decodeJwt(token) });
  });

  test('does not check the signature, and reads stdin with "-"', async () => {
    const at = new AccessToken('whatever', 'a-secret-roomkey-does-not-know-at-all', { identity: 'z' });
    at.addGrant({ roomList: true });
    const token = await at.toJwt();
    const [h, p, s] = token.split('.');
    const bad = `${h}.${p}.${s[0] === 'A' ? 'B' : 'A'}${s.slice(1)}`;
    const r = run(['token', 'decode', '-'], { input: `${bad}\n` });
    assert.equal(r.status, 0, show(r));
    assert.match(r.stderr, /WARNING/);
    assert.deepEqual(JSON.parse(r.stdout),
      { verified: false, header: jose.decodeProtectedHeader(token), claims: jose.decodeJwt(token) });
  });

  test('refuses malformed input (parsing as strict as verify)', () => {
    const token = createToken(['--list']);
    const [h, p, s] = token.split('.');
    for (const bad of [`${h}.${p}`, '', `${h}.${p}.${s}=`, forge({ payload: '{"exp":1,"exp":2}' })]) {
      const r = run(['token', 'decode', bad]);
      assert.notEqual(r.status, 0, `decode accepted ${JSON.stringify(bad.slice(-12))}: ${show(r)}`);
      assert.equal(r.stdout, '');
    }
  });
});

// ---------------------------------------------------------------------------
// CLI behaviour and errors
// ---------------------------------------------------------------------------

describe('CLI usage', () => {
  test('unknown flag / command -> exit 2', () => {
    assertUsageError(create(['--list', '--bogus-flag']), '--bogus-flag');
    assertUsageError(create(['--list', '-Z']), '-Z');
    assertUsageError(run(['token', 'bogus']), 'token bogus');
    assertUsageError(run(['bogus']), 'bogus command');
    assertUsageError(run(['token', 'verify', ...keyArgs(), '--bogus', 'x.y.z']), 'verify --bogus');
  });

  test('--valid-for garbage, zero, negative or too long -> exit 2', () => {
    for (const v of ['garbage', '0s', '0', '-5m', '-5', '1000h', '721h', '720h1s', '2592001', '', '5 m', '1x', 'h', 'm5']) {
      assertUsageError(create(['--list', '--valid-for', v, '--token-only']), `--valid-for ${JSON.stringify(v)}`);
    }
    assertUsageError(create(['--list', '--valid-for']), '--valid-for without value');
  });

  test('--valid-for Go-style durations', () => {
    // A bare number is seconds and fractions are allowed (docs/token.md).
    for (const [v, secs] of [['90s', 90], ['10m', 600], ['1h30m', 5400], ['1h0m30s', 3630], ['720h', 2592000],
      ['1.5h', 5400], ['45', 45], ['1s', 1]]) {
      const c = jose.decodeJwt(createToken(['--list', '--valid-for', v]));
      assert.equal(c.exp - c.nbf, secs, `--valid-for ${v}`);
    }
  });

  test('no grant at all -> exit 2', () => {
    assertUsageError(create(['--token-only']), 'no flags');
    assertUsageError(create(['-i', 'alice', '--token-only']), 'identity only');
    assertUsageError(create(['--grant', '{}', '--token-only']), 'empty --grant');
  });

  test('room/identity/name/metadata without any permission flag -> exit 2', () => {
    assertUsageError(create(['-r', 'room1', '--token-only']), 'room only');
    assertUsageError(create(['-i', 'alice', '-r', 'room1', '-n', 'A', '-m', 'm', '--token-only']), 'participant fields only');
  });

  test('--join/--admin requirements -> exit 2', () => {
    assertUsageError(create(['--join', '-r', 'room1', '--token-only']), '--join without identity');
    assertUsageError(create(['--join', '-i', 'alice', '--token-only']), '--join without room');
    assertUsageError(create(['--admin', '--token-only']), '--admin without room');
    assertUsageError(create(['--join', '-i', 'alice', '-r', '', '--token-only']), '--join with empty room');
  });

  test('bad --grant / --allow-source / --attribute -> exit 2', () => {
    for (const g of ['{"noSuchGrant":true}', '{"canPublish":1}', '{"canPublish":"true"}', '{"room":5}',
      '{"canPublishSources":"camera"}', '{"canPublishSources":["bogus"]}', 'not json', '[]', '5', '{"canPublish":true',
      '{"canPublish":false,"canPublish":true}']) {
      assertUsageError(create(['--list', '--grant', g, '--token-only']), `--grant ${g}`);
    }
    assertUsageError(create(['--list', '--allow-source', 'bogus', '--token-only']), '--allow-source bogus');
    assertUsageError(create(['--list', '-a', 'noequals', '--token-only']), '-a without =');
    assertUsageError(create(['--list', '--job-metadata', 'x', '--token-only']), '--job-metadata without --agent');
  });

  test('--token-only prints exactly one line: the token', async () => {
    const r = create(['--join', '-i', 'alice', '-r', 'room1', '--token-only']);
    assert.equal(r.status, 0, show(r));
    assert.match(r.stdout, /^[^\n]+\n$/);
    const token = r.stdout.slice(0, -1);
    assert.equal(token.split('.').length, 3);
    await new TokenVerifier(KEY, SECRET).verify(token);
  });

  test('default output ends with "token:      <jwt>"', async () => {
    const r = create(['--join', '-i', 'alice', '-r', 'room1']);
    assert.equal(r.status, 0, show(r));
    const lines = r.stdout.trimEnd().split('\n');
    const m = /^token:\s+(\S+)$/.exec(lines.at(-1));
    assert.ok(m, `last line is not "token: <jwt>": ${JSON.stringify(lines.at(-1))}`);
    const claims = await new TokenVerifier(KEY, SECRET).verify(m[1]);
    assert.equal(claims.sub, 'alice');
  });

  test('--json prints an object whose token verifies', async () => {
    const before = nowSec();
    const r = create(['--join', '-i', 'alice', '-r', 'room1', '-n', 'Alice', '--json', '--valid-for', '10m']);
    assert.equal(r.status, 0, show(r));
    const out = JSON.parse(r.stdout);
    const claims = await new TokenVerifier(KEY, SECRET).verify(out.token);
    assert.equal(out.jti, claims.jti);
    assert.equal(out.exp, claims.exp);
    assert.ok(out.exp >= before + 600 - 1);
    assert.match(out.expires_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/);
    assert.equal(Date.parse(out.expires_at) / 1000, out.exp);
    assert.equal(out.api_key, KEY);
    assert.equal(out.identity, 'alice');
    assert.equal(out.name, 'Alice');
    assert.equal(out.room, 'room1');
    assert.ok(!('server_url' in out), 'server_url without LIVEKIT_URL');
  });

  test('--json includes server_url when LIVEKIT_URL is set', async () => {
    const url = 'wss://example.livekit.test';
    const r = create(['--list', '--json'], { env: { LIVEKIT_URL: url } });
    assert.equal(r.status, 0, show(r));
    const out = JSON.parse(r.stdout);
    assert.equal(out.server_url, url);
    await new TokenVerifier(KEY, SECRET).verify(out.token);
  });

  test('roomkey --help and token create --help', () => {
    const top = run(['--help']);
    assert.equal(top.status, 0, show(top));
    for (const s of ['token create', 'token verify', 'token decode']) assert.ok(top.stdout.includes(s), `--help lacks ${s}`);

    const h = run(['token', 'create', '--help']);
    assert.equal(h.status, 0, show(h));
    for (const flag of ['--api-key', '--api-secret', '--dev', '--room', '--identity', '--name', '--metadata',
      '--attribute', '--valid-for', '--join', '--admin', '--list', '--create', '--egress', '--ingress',
      '--allow-source', '--allow-update-metadata', '--hidden', '--recorder', '--agent', '--job-metadata',
      '--grant', '--json', '--token-only']) {
      assert.ok(h.stdout.includes(flag), `token create --help lacks ${flag}`);
    }
  });
});
