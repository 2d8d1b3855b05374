// The LiveKit stand-in, proven against the official SDK in both directions:
// livekit-server-sdk's RoomServiceClient pointed at it is served correctly
// (paths, bodies, auth, grants, errors), and every webhook it sends is
// accepted by the SDK's WebhookReceiver. The live-room suites rely on it.

import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { ParticipantInfo_Kind, TrackSource } from '@livekit/protocol';
import { AccessToken, RoomServiceClient, WebhookReceiver } from 'livekit-server-sdk';
import { LiveKitStandin } from './livekit-standin.mjs';

const KEY = 'APIstandinKey';
const SECRET = 'standin-secret-0123456789-abcdefghijklmnopqrstuvwxyz';

async function joinToken(room, identity, extra = {}) {
  const at = new AccessToken(KEY, SECRET, { identity, name: `${identity} N`, ttl: '10m' });
  at.addGrant({ roomJoin: true, room, canPublish: true, canSubscribe: true });
  if (extra.roomConfig) at.roomConfig = extra.roomConfig;
  return at.toJwt();
}

/** A webhook endpoint that checks each delivery with the SDK's WebhookReceiver. */
async function sdkReceiver() {
  const receiver = new WebhookReceiver(KEY, SECRET);
  const got = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', async () => {
      try {
        const ev = await receiver.receive(body, req.headers.authorization);
        got.push({ ok: true, ev, contentType: req.headers['content-type'], auth: req.headers.authorization, body });
        res.writeHead(200).end();
      } catch (e) {
        got.push({ ok: false, error: e.message });
        res.writeHead(401).end();
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { got, url: `http://127.0.0.1:${server.address().port}/hook`, close: () => server.close() };
}

for (const jsonNames of ['proto', 'camel']) {
  describe(`LiveKit stand-in vs livekit-server-sdk (answers in ${jsonNames} names)`, () => {
    let lk;
    let hook;
    let client;
    before(async () => {
      hook = await sdkReceiver();
      lk = await new LiveKitStandin({ keys: { [KEY]: SECRET }, webhookUrls: [hook.url], jsonNames }).start();
      client = new RoomServiceClient(lk.url, KEY, SECRET);
    });
    after(async () => {
      await lk.stop();
      hook.close();
    });

    test('RoomServiceClient: rooms and participants round-trip with the grants the SDK puts in', async () => {
      const created = await client.createRoom({ name: 'sdk-room', maxParticipants: 7, emptyTimeout: 60 });
      assert.equal(created.name, 'sdk-room');
      assert.equal(created.maxParticipants, 7);
      assert.match(created.sid, /^RM_/);
      const join = await lk.join(await joinToken('sdk-room', 'alice'));
      assert.equal(join.ok, true, join.reason);
      await lk.join(await joinToken('sdk-room', 'bob'));

      const rooms = await client.listRooms();
      assert.deepEqual(rooms.map((r) => [r.name, r.numParticipants]), [['sdk-room', 2]]);
      assert.deepEqual(await client.listRooms(['other']), []);
      const ps = await client.listParticipants('sdk-room');
      assert.deepEqual(ps.map((p) => p.identity).sort(), ['alice', 'bob']);
      assert.equal(ps.find((p) => p.identity === 'alice').name, 'alice N');
      assert.equal(ps[0].kind, ParticipantInfo_Kind.STANDARD);
      assert.ok(ps[0].joinedAt > 0n);

      const upd = await client.updateParticipant('sdk-room', 'bob', {
        permission: { canPublish: false, canSubscribe: true, canPublishData: false, canPublishSources: [TrackSource.MICROPHONE] },
      });
      assert.equal(upd.permission.canPublish, false);
      assert.equal(upd.permission.canSubscribe, true);
      assert.equal((await client.getParticipant('sdk-room', 'bob')).permission.canPublish, false);

      await client.removeParticipant('sdk-room', 'alice', { revokeTokenTs: 1700000000n });
      assert.deepEqual((await client.listParticipants('sdk-room')).map((p) => p.identity), ['bob']);
      const rm = lk.callsOf('RemoveParticipant').at(-1);
      assert.deepEqual(rm.body, { room: 'sdk-room', identity: 'alice', revokeTokenTs: '1700000000' });
      assert.deepEqual(rm.claims.video, { roomAdmin: true, room: 'sdk-room' });
      assert.equal(lk.callsOf('ListRooms')[0].claims.video.roomList, true);
      assert.equal(lk.callsOf('CreateRoom')[0].claims.video.roomCreate, true);

      await assert.rejects(client.removeParticipant('sdk-room', 'nobody'), (e) => e.status === 404 && e.code === 'not_found');
      await assert.rejects(client.listParticipants('no-room'), (e) => e.status === 404 && e.code === 'not_found');
      await client.deleteRoom('sdk-room');
      assert.deepEqual(await client.listRooms(), []);
    });

    test('auth: wrong secret is 401; a token without the method grant is 403 permission_denied', async () => {
      const bad = new RoomServiceClient(lk.url, KEY, 'wrong-secret-0123456789-abcdefghijklmnopqrstuvwxyz');
      await assert.rejects(bad.listRooms(), (e) => e.status === 401);
      const join = await joinToken('r1', 'mallory'); // a join grant is no admin grant
      const withJoin = new RoomServiceClient(lk.url, undefined, undefined, { token: join });
      await assert.rejects(withJoin.listRooms(), (e) => e.status === 403 && e.code === 'permission_denied');
      await assert.rejects(withJoin.listParticipants('r1'), (e) => e.status === 403 && e.code === 'permission_denied');
      const at = new AccessToken(KEY, SECRET, { ttl: '1m' });
      at.addGrant({ roomAdmin: true, room: 'r2' }); // admin of another room
      const other = new RoomServiceClient(lk.url, undefined, undefined, { token: await at.toJwt() });
      await assert.rejects(other.removeParticipant('r1', 'x'), (e) => e.status === 403);
      const noBearer = await fetch(`${lk.url}/twirp/livekit.RoomService/ListRooms`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: join },
        body: '{}',
      });
      assert.equal(noBearer.status, 401);
      const unknownField = await fetch(`${lk.url}/twirp/livekit.RoomService/ListRooms`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${await new RoomServiceClient(lk.url, KEY, SECRET).authHeader({ roomList: true }).then((h) => h.Authorization.slice(7))}` },
        body: '{"bogus":1}',
      });
      assert.equal(unknownField.status, 400);
      assert.equal((await unknownField.json()).code, 'malformed');
    });

    test('webhooks: every one the stand-in sends is accepted by WebhookReceiver', async () => {
      hook.got.length = 0;
      const t = await joinToken('hook-room', 'carol', { roomConfig: { maxParticipants: 1 } });
      assert.equal((await lk.join(t)).ok, true);
      const full = await lk.join(await joinToken('hook-room', 'dave'));
      assert.deepEqual(full, { ok: false, reason: 'room is full' });
      await lk.leave('hook-room', 'carol', { aborted: true });
      await lk.join(t);
      await lk.finish('hook-room');
      assert.ok(hook.got.every((g) => g.ok), JSON.stringify(hook.got.filter((g) => !g.ok)));
      assert.deepEqual(hook.got.map((g) => g.ev.event), [
        'room_started', 'participant_joined', 'participant_connection_aborted',
        'participant_joined', 'participant_left', 'room_finished',
      ]);
      for (const g of hook.got) {
        assert.equal(g.contentType, 'application/webhook+json');
        assert.doesNotMatch(g.auth, /^Bearer /);
        assert.match(g.ev.id, /^EV_/);
        assert.ok(g.ev.createdAt > 0n);
        assert.equal(g.ev.room.name, 'hook-room');
        assert.match(JSON.parse(g.body).createdAt, /^\d+$/, 'int64 as a string');
      }
      const joined = hook.got[1].ev;
      assert.equal(joined.participant.identity, 'carol');
      assert.equal(joined.room.maxParticipants, 1, "the token's roomConfig created the room");
      const sids = [hook.got[1].ev.participant.sid, hook.got[3].ev.participant.sid];
      assert.notEqual(sids[0], sids[1], 'a rejoin gets a new participant SID');
      // A tampered body is refused by the SDK as well (the check is real).
      const w = await lk.buildWebhook('room_started', {});
      await assert.rejects(new WebhookReceiver(KEY, SECRET).receive(w.body.replace('room_started', 'room_finished'), w.headers.Authorization));
    });

    test('slow, erroring and down modes', async () => {
      lk.mode = 'error';
      await assert.rejects(client.listRooms(), (e) => e.status === 503 && e.code === 'unavailable');
      lk.mode = 'ok';
      await lk.setDown(true);
      const down = new RoomServiceClient(lk.url, KEY, SECRET, { requestTimeout: 2, failover: false });
      await assert.rejects(down.listRooms());
      await lk.setDown(false);
      assert.deepEqual(await down.listRooms(), []);
      lk.delayMs = 300;
      await assert.rejects(new RoomServiceClient(lk.url, KEY, SECRET, { requestTimeout: 0.05, failover: false }).listRooms());
      lk.delayMs = 0;
    });
  });
}
