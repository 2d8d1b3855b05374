// RoomKey's LiveKit server API client (src/livekit/roomservice.c), driven
// through `roomkey livekit ...` against the LiveKit stand-in, which checks
// every call's token with livekit-server-sdk's TokenVerifier and the grants
// livekit-server requires.

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { AccessToken } from 'livekit-server-sdk';
import { BIN } from './lib.mjs';
import { LiveKitStandin } from './livekit-standin.mjs';

const KEY = 'APIlkApiKey';
const SECRET = 'lk-api-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

/** Run roomkey without blocking the event loop (the stand-in lives in it). */
function roomkey(args, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, {
      env: { PATH: process.env.PATH, LIVEKIT_API_KEY: KEY, LIVEKIT_API_SECRET: SECRET, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

async function joinToken(room, identity) {
  const at = new AccessToken(KEY, SECRET, { identity, name: `${identity} N` });
  at.addGrant({ roomJoin: true, room });
  return at.toJwt();
}

for (const jsonNames of ['proto', 'camel']) {
  describe(`roomkey livekit vs the stand-in (answers in ${jsonNames} names)`, () => {
    let lk;
    before(async () => {
      lk = await new LiveKitStandin({ keys: { [KEY]: SECRET }, jsonNames }).start();
      await lk.join(await joinToken('blue', 'alice'));
      await lk.join(await joinToken('blue', 'bob'));
      await lk.join(await joinToken('green', 'carol'));
    });
    after(() => lk.stop());

    test('rooms and participants are listed with service tokens carrying only the needed grant', async () => {
      const r = await roomkey(['livekit', 'rooms', '--host', lk.url]);
      assert.equal(r.status, 0, r.stderr);
      const rows = r.stdout.trim().split('\n').map((l) => l.split('\t'));
      assert.deepEqual(rows.map((x) => [x[0], x[2]]).sort(), [['blue', '2'], ['green', '1']]);
      const p = await roomkey(['livekit', 'participants', 'blue'], { LIVEKIT_HOST: lk.url });
      assert.equal(p.status, 0, p.stderr);
      const ps = p.stdout.trim().split('\n').map((l) => l.split('\t'));
      assert.deepEqual(ps.map((x) => [x[0], x[2], x[3]]).sort(), [['alice', 'standard', 'alice N'], ['bob', 'standard', 'bob N']]);
      assert.match(ps[0][1], /^PA_/);

      const list = lk.callsOf('ListRooms').at(-1);
      assert.deepEqual(list.claims.video, { roomList: true });
      const lp = lk.callsOf('ListParticipants').at(-1);
      assert.deepEqual(lp.claims.video, { roomAdmin: true, room: 'blue' });
      assert.deepEqual(lp.body, { room: 'blue' });
      for (const c of [list, lp]) {
        assert.equal(c.claims.iss, KEY);
        assert.equal(c.claims.sub, undefined, 'a service token names no participant');
        assert.ok(c.claims.exp - c.claims.nbf <= 60, 'service tokens live at most 60 s');
        assert.ok(!c.claims.video.roomJoin, 'never a join grant');
      }
    });

    test('remove sends revoke_token_ts as an int64 string; a missing participant is not_found', async () => {
      const r = await roomkey(['livekit', 'remove', 'blue', 'bob', '--revoke-before', '1700000000', '--host', lk.url]);
      assert.equal(r.status, 0, r.stderr);
      const call = lk.callsOf('RemoveParticipant').at(-1);
      assert.deepEqual(call.body, { room: 'blue', identity: 'bob', revokeTokenTs: '1700000000' });
      assert.deepEqual(call.claims.video, { roomAdmin: true, room: 'blue' });
      assert.deepEqual([...lk.rooms.get('blue').participants.keys()], ['alice']);
      const again = await roomkey(['livekit', 'remove', 'blue', 'bob', '--host', lk.url]);
      assert.equal(again.status, 1);
      assert.match(again.stderr, /not_found/);
      assert.deepEqual(lk.callsOf('RemoveParticipant').at(-1).body, { room: 'blue', identity: 'bob' });
    });

    test('a key LiveKit does not know is denied; a server that is down or erroring is unavailable', async () => {
      const bad = await roomkey(['livekit', 'rooms', '--host', lk.url], {
        LIVEKIT_API_KEY: 'APIother', LIVEKIT_API_SECRET: SECRET,
      });
      assert.equal(bad.status, 1);
      assert.match(bad.stderr, /denied/);
      lk.mode = 'error';
      const err = await roomkey(['livekit', 'rooms', '--host', lk.url]);
      lk.mode = 'ok';
      assert.equal(err.status, 1);
      assert.match(err.stderr, /unavailable: ListRooms: HTTP 503 service unavailable/);
      await lk.setDown(true);
      const down = await roomkey(['livekit', 'rooms', '--host', lk.url, '--timeout', '2000']);
      await lk.setDown(false);
      assert.equal(down.status, 1);
      assert.match(down.stderr, /unavailable/);
      const none = await roomkey(['livekit', 'rooms']);
      assert.equal(none.status, 2, 'no host: a usage error, nothing called');
      assert.match(none.stderr, /LIVEKIT_HOST/);
    });
  });
}
