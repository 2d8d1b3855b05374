// A LiveKit server stand-in for the tests: no LiveKit server can run here.
//
// It speaks what RoomKey talks to on a real server, built from the official
// packages so that the two cannot drift apart:
// - the Twirp JSON RoomService (`POST /twirp/livekit.RoomService/<Method>`):
//   bodies parsed strictly with @livekit/protocol's message types (unknown
//   fields refused), answers in protojson (proto field names and defaults
//   emitted, as Twirp's Go server does; `jsonNames: 'camel'` answers in the
//   camelCase form instead), errors as Twirp error JSON {code, msg};
// - livekit-server's authorisation: `Authorization: Bearer <JWT>` verified
//   with livekit-server-sdk's TokenVerifier (a header without `Bearer ` or a
//   bad token is 401 in plain text, as its auth middleware answers), then the
//   grant each method requires: roomList for ListRooms, roomCreate for
//   CreateRoom and DeleteRoom, roomAdmin plus `room` equal to the request's
//   room for the participant and room-metadata methods (403
//   permission_denied otherwise);
// - webhooks exactly as livekit-server's notifier sends them: POST, body =
//   protojson of WebhookEvent (camelCase, defaults omitted, int64 as
//   strings), `Content-Type: application/webhook+json`, `Authorization: <JWT>`
//   without `Bearer`, the JWT made by AccessToken (5 minutes) carrying
//   `sha256` = standard padded base64 of SHA-256 over the body.
//
// State: rooms and their participants; every RoomService call is recorded
// (method, body, the verified claims, the answer's status). The stand-in can
// be made slow (`delayMs`), answer 503 (`mode = 'error'`) or refuse
// connections (`await setDown(true)`), and joins check the joiner's access
// token the way livekit-server does (roomJoin for that room, maxParticipants
// from the room or the token's roomConfig).

import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import {
  CreateRoomRequest,
  DeleteRoomRequest,
  DeleteRoomResponse,
  ListParticipantsRequest,
  ListParticipantsResponse,
  ListRoomsRequest,
  ListRoomsResponse,
  ParticipantInfo,
  ParticipantInfo_Kind,
  ParticipantInfo_State,
  ParticipantPermission,
  RemoveParticipantResponse,
  Room,
  RoomParticipantIdentity,
  UpdateParticipantRequest,
  UpdateRoomMetadataRequest,
  WebhookEvent,
} from '@livekit/protocol';
import { AccessToken, TokenVerifier } from 'livekit-server-sdk';

const TWIRP_PREFIX = '/twirp/livekit.RoomService/';
const MAX_BODY = 1 << 20;

const TWIRP_STATUS = {
  invalid_argument: 400,
  malformed: 400,
  unauthenticated: 401,
  permission_denied: 403,
  not_found: 404,
  bad_route: 404,
  already_exists: 409,
  resource_exhausted: 429,
  internal: 500,
  unavailable: 503,
};

class TwirpError extends Error {
  constructor(code, msg) {
    super(msg);
    this.code = code;
  }
}

const sec = () => BigInt(Math.floor(Date.now() / 1000));
const sid = (prefix) => `${prefix}_${randomBytes(6).toString('base64url')}`;

/** The grant checks of livekit-server's RoomService, by method. */
function requireGrant(method, video, room) {
  const v = video ?? {};
  const admin = () => {
    if (!v.roomAdmin || v.room !== room) throw new TwirpError('permission_denied', 'permissions denied');
  };
  const checks = {
    ListRooms: () => { if (!v.roomList) throw new TwirpError('permission_denied', 'permissions denied'); },
    CreateRoom: () => { if (!v.roomCreate) throw new TwirpError('permission_denied', 'permissions denied'); },
    DeleteRoom: () => { if (!v.roomCreate) throw new TwirpError('permission_denied', 'permissions denied'); },
    ListParticipants: admin,
    GetParticipant: admin,
    RemoveParticipant: admin,
    UpdateParticipant: admin,
    UpdateRoomMetadata: admin,
  };
  checks[method]();
}

const REQUEST_TYPES = {
  ListRooms: ListRoomsRequest,
  CreateRoom: CreateRoomRequest,
  DeleteRoom: DeleteRoomRequest,
  ListParticipants: ListParticipantsRequest,
  GetParticipant: RoomParticipantIdentity,
  RemoveParticipant: RoomParticipantIdentity,
  UpdateParticipant: UpdateParticipantRequest,
  UpdateRoomMetadata: UpdateRoomMetadataRequest,
};

export class LiveKitStandin {
  /**
   * keys: { apiKey: secret, ... } the server accepts; webhookKey names the one
   * that signs webhooks (default: the first). webhookUrls: where webhooks go.
   */
  constructor({ keys, webhookKey, webhookUrls = [], jsonNames = 'proto' }) {
    this.keys = keys;
    this.webhookKey = webhookKey ?? Object.keys(keys)[0];
    this.webhookUrls = webhookUrls;
    this.jsonNames = jsonNames;
    this.rooms = new Map(); // name -> { room: Room, participants: Map identity -> {info, claims} }
    this.calls = [];
    this.webhooks = []; // { event, status, body }
    this.delayMs = 0;
    this.mode = 'ok'; // 'ok' | 'error' (503 unavailable)
    this.server = null;
    this.sockets = new Set();
    this.port = 0;
  }

  get url() {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(port = 0) {
    this.server = http.createServer((req, res) => this.#serve(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', resolve);
    });
    this.port = this.server.address().port;
    return this;
  }

  async stop() {
    if (!this.server) return;
    const s = this.server;
    this.server = null;
    for (const sock of this.sockets) sock.destroy();
    await new Promise((resolve) => s.close(resolve));
  }

  /** down: refuse connections (the port is closed); up again on the same port. */
  async setDown(down) {
    if (down) await this.stop();
    else if (!this.server) await this.start(this.port);
  }

  /** Calls recorded for method (all when omitted). */
  callsOf(method) {
    return this.calls.filter((c) => !method || c.method === method);
  }

  /** Wait until pred() holds, polling every 10 ms up to timeoutMs; returns its value. */
  async until(pred, timeoutMs = 5000, what = 'condition') {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = pred();
      if (v) return v;
      if (Date.now() > deadline) throw new Error(`stand-in: timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  #serve(req, res) {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', async () => {
      if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs));
      if (res.destroyed) return;
      const body = Buffer.concat(chunks).toString('utf8');
      const call = { method: null, body: null, claims: null, status: 0, at: Date.now() };
      try {
        const out = await this.#twirp(req, body, size, call);
        call.status = 200;
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify(out));
      } catch (e) {
        if (e instanceof TwirpError) {
          call.status = TWIRP_STATUS[e.code] ?? 500;
          call.error = e.code;
          res.writeHead(call.status, { 'Content-Type': 'application/json' });
          res.end(JSON.stringify({ code: e.code, msg: e.message }));
        } else {
          call.status = 401;
          call.error = 'unauthenticated';
          res.writeHead(401, { 'Content-Type': 'text/plain' });
          res.end(String(e.message));
        }
      }
      if (call.method) this.calls.push(call);
    });
  }

  async #twirp(req, body, size, call) {
    if (req.method !== 'POST' || !req.url.startsWith(TWIRP_PREFIX))
      throw new TwirpError('bad_route', `no handler for path ${req.url}`);
    const method = req.url.slice(TWIRP_PREFIX.length);
    if (!Object.hasOwn(REQUEST_TYPES, method)) throw new TwirpError('bad_route', `no handler for path ${req.url}`);
    call.method = method;
    if (this.mode === 'error') throw new TwirpError('unavailable', 'service unavailable');
    const ct = (req.headers['content-type'] ?? '').split(';')[0].trim();
    if (ct !== 'application/json') throw new TwirpError('bad_route', `unexpected Content-Type: ${ct}`);
    if (size > MAX_BODY) throw new TwirpError('malformed', 'body too large');
    call.claims = await this.#authorize(req.headers.authorization);
    let msg;
    try {
      msg = REQUEST_TYPES[method].fromJson(JSON.parse(body));
    } catch (e) {
      throw new TwirpError('malformed', `the json request could not be decoded: ${e.message}`);
    }
    call.body = JSON.parse(body);
    requireGrant(method, call.claims?.video, msg.room);
    const out = await this[`rpc${method}`](msg);
    return out.toJson(this.jsonNames === 'camel' ? {} : { useProtoFieldName: true, emitDefaultValues: true });
  }

  /** livekit-server's auth middleware: no header = no grants; else Bearer + valid token. */
  async #authorize(header) {
    if (header === undefined || header === '') return null;
    if (!header.startsWith('Bearer ')) throw new Error('invalid authorization header. Must start with Bearer ');
    const token = header.slice(7);
    let iss;
    try {
      iss = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).iss;
    } catch {
      throw new Error('invalid authorization token');
    }
    const secret = this.keys[iss];
    if (!secret) throw new Error(`invalid API key: ${iss}`);
    return new TokenVerifier(iss, secret).verify(token);
  }

  #room(name) {
    const r = this.rooms.get(name);
    if (!r) throw new TwirpError('not_found', 'requested room does not exist');
    return r;
  }

  #participant(room, identity) {
    const p = this.#room(room).participants.get(identity);
    if (!p) throw new TwirpError('not_found', 'participant not found');
    return p;
  }

  rpcListRooms(req) {
    const rooms = [...this.rooms.values()]
      .filter((r) => req.names.length === 0 || req.names.includes(r.room.name))
      .map((r) => this.#roomInfo(r));
    return new ListRoomsResponse({ rooms });
  }

  async rpcCreateRoom(req) {
    const existing = this.rooms.get(req.name);
    if (existing) return this.#roomInfo(existing);
    return this.#roomInfo(await this.#createRoom(req.name, req));
  }

  async rpcDeleteRoom(req) {
    const r = this.rooms.get(req.room);
    if (r) await this.#finishRoom(r);
    return new DeleteRoomResponse({});
  }

  rpcListParticipants(req) {
    const r = this.#room(req.room);
    return new ListParticipantsResponse({ participants: [...r.participants.values()].map((p) => p.info) });
  }

  rpcGetParticipant(req) {
    return this.#participant(req.room, req.identity).info;
  }

  async rpcRemoveParticipant(req) {
    this.#participant(req.room, req.identity);
    await this.leave(req.room, req.identity);
    return new RemoveParticipantResponse({});
  }

  rpcUpdateParticipant(req) {
    const p = this.#participant(req.room, req.identity);
    if (req.permission) p.info.permission = new ParticipantPermission(req.permission);
    if (req.metadata) p.info.metadata = req.metadata;
    if (req.name) p.info.name = req.name;
    return p.info;
  }

  rpcUpdateRoomMetadata(req) {
    const r = this.#room(req.room);
    r.room.metadata = req.metadata;
    return r.room;
  }

  #roomInfo(r) {
    r.room.numParticipants = r.participants.size;
    return r.room;
  }

  async #createRoom(name, cfg = {}) {
    const room = new Room({
      sid: sid('RM'),
      name,
      emptyTimeout: cfg.emptyTimeout ?? 300,
      departureTimeout: cfg.departureTimeout ?? 20,
      maxParticipants: cfg.maxParticipants ?? 0,
      creationTime: sec(),
      metadata: cfg.metadata ?? '',
    });
    const r = { room, participants: new Map() };
    this.rooms.set(name, r);
    await this.#notify('room_started', { room });
    return r;
  }

  async #finishRoom(r) {
    for (const identity of [...r.participants.keys()]) await this.leave(r.room.name, identity);
    this.rooms.delete(r.room.name);
    await this.#notify('room_finished', { room: r.room });
  }

  /**
   * A client joins with an access token, checked as livekit-server checks it:
   * valid signature by a known key, roomJoin for this room, the room's (or,
   * when this join creates the room, the token's roomConfig) maxParticipants.
   * Returns { ok: true, participant } or { ok: false, reason }. A second join
   * of the same identity replaces the first (a new SID), as LiveKit does.
   */
  async join(token, { kind } = {}) {
    let claims;
    try {
      const iss = JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).iss;
      if (!this.keys[iss]) return { ok: false, reason: 'unknown API key' };
      claims = await new TokenVerifier(iss, this.keys[iss]).verify(token);
    } catch (e) {
      return { ok: false, reason: `invalid token: ${e.message}` };
    }
    const v = claims.video ?? {};
    if (!v.roomJoin || !v.room) return { ok: false, reason: 'permissions denied' };
    let r = this.rooms.get(v.room);
    if (!r) r = await this.#createRoom(v.room, claims.roomConfig ?? {});
    const max = r.room.maxParticipants;
    if (max > 0 && r.participants.size >= max && !r.participants.has(claims.sub))
      return { ok: false, reason: 'room is full' };
    if (r.participants.has(claims.sub)) await this.leave(v.room, claims.sub);
    const info = new ParticipantInfo({
      sid: sid('PA'),
      identity: claims.sub,
      name: claims.name ?? '',
      metadata: claims.metadata ?? '',
      state: ParticipantInfo_State.ACTIVE,
      joinedAt: sec(),
      joinedAtMs: BigInt(Date.now()),
      kind: kind ?? (claims.kind === 'agent' ? ParticipantInfo_Kind.AGENT : ParticipantInfo_Kind.STANDARD),
      permission: new ParticipantPermission({
        canSubscribe: v.canSubscribe ?? true,
        canPublish: v.canPublish ?? true,
        canPublishData: v.canPublishData ?? true,
        canUpdateMetadata: v.canUpdateOwnMetadata ?? false,
      }),
      attributes: claims.attributes ?? {},
    });
    r.participants.set(claims.sub, { info, claims });
    await this.#notify('participant_joined', { room: this.#roomInfo(r), participant: info });
    return { ok: true, participant: info };
  }

  /** The participant leaves (participant_left webhook); the room stays. */
  async leave(room, identity, { aborted = false } = {}) {
    const r = this.rooms.get(room);
    const p = r?.participants.get(identity);
    if (!p) return false;
    r.participants.delete(identity);
    p.info.state = ParticipantInfo_State.DISCONNECTED;
    await this.#notify(aborted ? 'participant_connection_aborted' : 'participant_left', {
      room: this.#roomInfo(r),
      participant: p.info,
    });
    return true;
  }

  /** The room closes (everyone leaves, then room_finished). */
  async finish(room) {
    const r = this.rooms.get(room);
    if (r) await this.#finishRoom(r);
  }

  /** Build a webhook as livekit-server does: { body, headers, event }. */
  async buildWebhook(event, fields = {}) {
    const ev = new WebhookEvent({ event, id: sid('EV'), createdAt: sec(), ...fields });
    const body = ev.toJsonString();
    const sha = createHash('sha256').update(body).digest('base64');
    const at = new AccessToken(this.webhookKey, this.keys[this.webhookKey], { ttl: '5m' });
    at.sha256 = sha;
    const token = await at.toJwt();
    return { event: ev, body, headers: { 'Content-Type': 'application/webhook+json', Authorization: token } };
  }

  /** POST a built (or hand-made) webhook to url; resolves to { status, text }. */
  static async deliver(url, body, headers) {
    const r = await fetch(url, { method: 'POST', headers, body });
    return { status: r.status, text: await r.text() };
  }

  /** Send event to every webhook URL, in order; returns the deliveries. */
  async #notify(event, fields) {
    const w = await this.buildWebhook(event, fields);
    const out = [];
    for (const url of this.webhookUrls) {
      let status = 0;
      try {
        status = (await LiveKitStandin.deliver(url, w.body, w.headers)).status;
      } catch {
        status = -1;
      }
      const rec = { event, id: w.event.id, url, status, body: w.body };
      this.webhooks.push(rec);
      out.push(rec);
    }
    return out;
  }

  /** Resend a delivered webhook's exact bytes with a fresh signature (a retry). */
  async resend(rec) {
    const sha = createHash('sha256').update(rec.body).digest('base64');
    const at = new AccessToken(this.webhookKey, this.keys[this.webhookKey], { ttl: '5m' });
    at.sha256 = sha;
    const headers = { 'Content-Type': 'application/webhook+json', Authorization: await at.toJwt() };
    return LiveKitStandin.deliver(rec.url, rec.body, headers);
  }
}

/** Start a stand-in; see the constructor for options. */
export async function startLiveKit(opts) {
  return new LiveKitStandin(opts).start();
}
