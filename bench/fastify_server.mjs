// fastify_server.mjs - the comparison server for `make bench`: what a
// typical hand-written Node token endpoint does for POST /api/livekit/token:
// verify the HS256 session JWT (jose), look up the caller's membership in
// memory, mint with livekit-server-sdk. No audit record is kept (RoomKey
// commits one per token; the peers are measured without that work).
// Prints "listening on http://127.0.0.1:PORT" when ready.
import Fastify from 'fastify';
import { jwtVerify } from 'jose';
import { AccessToken } from 'livekit-server-sdk';

const secret = new TextEncoder().encode(process.env.ROOMKEY_SESSION_SECRET);
const apiKey = process.env.LIVEKIT_API_KEY;
const apiSecret = process.env.LIVEKIT_API_SECRET;
const members = new Map([['general', new Map([[process.env.BENCH_SUBJECT, 'member']])]]);

const app = Fastify({ logger: false });
app.post('/api/livekit/token', async (req, reply) => {
  const auth = req.headers.authorization || '';
  let session;
  try {
    ({ payload: session } = await jwtVerify(auth.replace(/^Bearer /, ''), secret, { algorithms: ['HS256'] }));
  } catch {
    return reply.code(401).send({ statusCode: 401, message: 'Unauthorized', error: 'Unauthorized' });
  }
  const roomId = req.body?.roomId;
  if (typeof roomId !== 'string' || !roomId) {
    return reply.code(400).send({ statusCode: 400, message: ['roomId should not be empty'], error: 'Bad Request' });
  }
  const role = members.get(roomId)?.get(session.sub);
  if (!role) return reply.code(403).send({ statusCode: 403, message: 'Insufficient permissions. Required: JOIN_CHANNEL', error: 'Forbidden' });
  const ttl = 3600;
  const at = new AccessToken(apiKey, apiSecret, { identity: session.sub, name: session.name, ttl });
  at.addGrant({ roomJoin: true, room: roomId, canPublish: true, canSubscribe: true, canPublishData: true });
  const token = await at.toJwt();
  return reply.code(200).send({
    token, identity: session.sub, roomId, name: session.name ?? session.sub,
    expiresAt: new Date(Date.now() + ttl * 1000).toISOString(),
  });
});
await app.listen({ host: '127.0.0.1', port: 0 });
console.log(`listening on http://127.0.0.1:${app.server.address().port}`);
