// soak.mjs - `make soak` (not in CI): RoomKey on PostgreSQL under full load
// for SOAK_SECONDS (default 600) with good and bad requests of every route
// family, a SIGHUP reload every 30 s and a PostgreSQL crash and restart in
// the middle. Passes when no answer is outside the expected set (a 503 with
// Retry-After is expected only around the database outage), RSS after the
// warm-up grows at most 2 MiB, the open file descriptor count is flat, and
// every jti handed to a client has its audit row. Prints the figures.
//
// Run:  make soak   (or: scripts/pg-test-server.sh run node tests/interop/soak.mjs
//        with ROOMKEY_BIN set; needs ROOMKEY_TEST_PG_URL and ROOMKEY_TEST_PG_DIR)

import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { cliOk, rand, signJwt, startServer, tempDir, toYaml } from './service-lib.mjs';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 600);
const WORKERS = Number(process.env.SOAK_WORKERS ?? 32);
const WARMUP_S = Math.min(60, SECONDS / 5);
const PG_URL = process.env.ROOMKEY_TEST_PG_URL;
const PG_DIR = process.env.ROOMKEY_TEST_PG_DIR;
assert.ok(PG_URL && PG_DIR, 'run under scripts/pg-test-server.sh run');
const CTL = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../scripts/pg-test-server.sh');
const ctl = (verb) => new Promise((resolve, reject) => {
  execFile(CTL, [verb, PG_DIR], { encoding: 'utf8', timeout: 120_000 }, (e, out) => (e ? reject(e) : resolve(out.trim())));
});

const LK_KEY = 'APIsoakKey';
const LK_SECRET = `soak-lk-secret-${rand(20)}`;
const SESSION_SECRET = `soak-session-secret-${rand(20)}`;
const ADMIN_KEY = `rk_admin_${rand(20)}`;
const ISS = 'https://soak.test';

const tmp = tempDir();
const configPath = path.join(tmp.dir, 'roomkey.yaml');
fs.writeFileSync(configPath, toYaml({
  database: PG_URL,
  server: { listen: '127.0.0.1:0', max_connections_per_ip: 0 },
  livekit: { url: 'wss://lk.soak.test', api_key: LK_KEY, api_secret: LK_SECRET },
  issuers: [{ name: 'app', algorithms: ['HS256'], secret: SESSION_SECRET, issuer: ISS }],
  admin_key: ADMIN_KEY,
  rate_limit: { enabled: false },
  supabase: { room_types: { main_show: { room: 'main-show' } } }, // the family is served once it has room types
}));
for (const r of ['soak-room', 'va-room', 'ts-room']) cliOk(PG_URL, ['room', 'create', r, '--mode', 'authenticated']);
cliOk(PG_URL, ['meeting', 'create', 'soak-meeting', '--creator', 'alice', '--heading', 'Soak']);

const srv = await startServer({ configPath, env: { ROOMKEY_RATE_LIMIT: null } });
const pid = srv.proc.pid;
const sessions = await Promise.all(Array.from({ length: 16 }, (_, i) =>
  signJwt({ alg: 'HS256', key: SESSION_SECRET, claims: { sub: i ? `user-${i}` : 'alice', iss: ISS, role: 'authenticated', iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 7200 } })));
const auth = (i) => ({ authorization: `Bearer ${sessions[i % sessions.length]}` });

// Each kind: method, path, body, headers, the statuses expected, and
// whether it needs the store (503 allowed around the outage).
const J = { 'content-type': 'application/json' };
const kinds = [
  ['livekit token', 'POST', '/api/livekit/token', { roomId: 'soak-room' }, (i) => ({ ...J, ...auth(i) }), [200], true],
  ['livekit no auth', 'POST', '/api/livekit/token', { roomId: 'soak-room' }, () => J, [401], false],
  ['livekit bad json', 'POST', '/api/livekit/token', '{"roomId":', (i) => ({ ...J, ...auth(i) }), [400], false],
  ['livekit unknown room', 'POST', '/api/livekit/token', { roomId: 'nope' }, (i) => ({ ...J, ...auth(i) }), [404], true],
  ['voice-agent token', 'POST', '/api/token', { roomName: 'va-room', participantIdentity: 'alice' }, () => ({ ...J, ...auth(0) }), [200], true],
  ['voice-agent invalid', 'POST', '/api/token', { roomName: '' }, (i) => ({ ...J, ...auth(i) }), [400], false],
  ['token-source', 'POST', '/api/livekit/token-source', { room_name: 'ts-room' }, (i) => ({ ...J, ...auth(i) }), [201], true],
  ['token-source bad field', 'POST', '/api/livekit/token-source', { room_name: 'ts-room', nope: 1 }, (i) => ({ ...J, ...auth(i) }), [400], false],
  ['supabase main_show', 'POST', '/functions/v1/livekit-token', { roomType: 'main_show' }, (i) => ({ ...J, ...auth(i) }), [200, 403], true],
  ['supabase bad roomType', 'POST', '/functions/v1/livekit-token', { roomType: 'x' }, (i) => ({ ...J, ...auth(i) }), [400], false],
  ['meetings token', 'GET', '/api/v1/meeting/token/soak-meeting', undefined, () => auth(0), [200], true],
  ['meetings unknown', 'GET', '/api/v1/meeting/token/nope', undefined, (i) => auth(i), [404], true],
  ['meetings %00', 'GET', '/api/v1/meeting/token/soak-meeting%00x', undefined, (i) => auth(i), [400], false],
  ['admin rooms', 'GET', '/admin/v1/rooms', undefined, () => ({ authorization: `Bearer ${ADMIN_KEY}` }), [200], true],
  ['admin bad key', 'GET', '/admin/v1/rooms', undefined, () => ({ authorization: 'Bearer rk_nope' }), [401], false],
  ['healthz', 'GET', '/healthz', undefined, () => ({}), [200], false],
  ['readyz', 'GET', '/readyz', undefined, () => ({}), [200], true],
  ['metrics', 'GET', '/metrics', undefined, () => ({}), [200], false],
  ['no route', 'GET', '/api/livekit/nope', undefined, () => ({}), [404], false],
];

const t0 = Date.now();
const end = t0 + SECONDS * 1000;
const outage = { from: Infinity, to: -Infinity }; // ms since t0, widened by a margin
const counts = new Map();
const unexpected = [];
const jtis = [];
let requests = 0;
let reloads = 0;
let pgDone = Promise.resolve();

function jtiOf(text) {
  const m = /"(eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)"/.exec(text);
  if (!m) return null;
  return JSON.parse(Buffer.from(m[1].split('.')[1], 'base64url').toString()).jti;
}

async function worker(w) {
  for (let i = w; Date.now() < end; i += WORKERS) {
    const [name, method, p, body, headers, want, store] = kinds[i % kinds.length];
    const at = Date.now() - t0;
    let status;
    let text = '';
    let retryAfter = null;
    try {
      const res = await fetch(srv.base + p, {
        method, headers: headers(i), body: body === undefined ? undefined : (typeof body === 'string' ? body : JSON.stringify(body)),
        signal: AbortSignal.timeout(30_000),
      });
      status = res.status;
      retryAfter = res.headers.get('retry-after');
      text = await res.text();
    } catch (e) {
      status = `error ${e.cause?.code ?? e.name}`;
    }
    requests += 1;
    const key = `${name} ${status}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
    const inOutage = at >= outage.from - 1000 && at <= outage.to + 15_000;
    const ok = want.includes(status) || (store && inOutage && status === 503 && retryAfter === '5');
    if (!ok) unexpected.push({ at, name, status, text: text.slice(0, 200) });
    if (typeof status === 'string') console.log(`soak: ${name} at ${at} ms: ${status}`);
    if (status === 200 || status === 201) {
      const j = jtiOf(text);
      if (j) jtis.push(j);
    }
  }
}

function sample() {
  const rss = Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]);
  const fds = fs.readdirSync(`/proc/${pid}/fd`).length;
  return { at: Math.round((Date.now() - t0) / 1000), rss, fds };
}

const samples = [];
const sampler = setInterval(() => samples.push(sample()), 5000);
const hup = setInterval(() => { srv.proc.kill('SIGHUP'); reloads += 1; }, 30_000);
const pgTimer = setTimeout(() => { pgDone = outageRun(); }, (SECONDS * 1000) / 2);
async function outageRun() {
  outage.from = Date.now() - t0;
  outage.to = Infinity;
  await ctl('kill');
  await new Promise((r) => setTimeout(r, 5000));
  await ctl('start');
  outage.to = Date.now() - t0;
}

await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
clearInterval(sampler);
clearInterval(hup);
clearTimeout(pgTimer);
await pgDone;
samples.push(sample());
await new Promise((r) => setTimeout(r, 1000)); // the last audit commits

const psql = spawnSync('psql', [PG_URL, '-X', '-A', '-t', '-c', 'SELECT jti FROM audit'], { encoding: 'utf8', maxBuffer: 1 << 30 });
assert.equal(psql.status, 0, psql.stderr);
const audited = new Set(psql.stdout.split('\n').filter(Boolean));
const missing = jtis.filter((j) => !audited.has(j));
const reloaded = srv.stderr().split('\n').filter((l) => l.includes('"event":"reloaded"')).length;
await srv.stop();
tmp.cleanup();

const warm = samples.find((s) => s.at >= WARMUP_S) ?? samples[0];
const last = samples[samples.length - 1];
const after = samples.filter((s) => s.at >= warm.at);
const rssGrowth = last.rss - warm.rss;
const maxFds = Math.max(...after.map((s) => s.fds));
console.log(`soak: ${SECONDS} s, ${WORKERS} connections, ${requests} requests (${Math.round(requests / SECONDS)}/s), ${jtis.length} tokens`);
console.log(`soak: reloads sent ${reloads}, logged ${reloaded}; PostgreSQL down from ${(outage.from / 1000).toFixed(1)} s to ${(outage.to / 1000).toFixed(1)} s`);
console.log(`soak: RSS ${samples[0].rss} KiB at ${samples[0].at} s, ${warm.rss} KiB after warm-up (${warm.at} s), ${last.rss} KiB at the end (+${rssGrowth} KiB), max ${Math.max(...after.map((s) => s.rss))} KiB`);
console.log(`soak: open fds ${warm.fds} after warm-up, ${last.fds} at the end, max ${maxFds}`);
console.log(`soak: answers: ${[...counts].sort().map(([k, v]) => `${k}: ${v}`).join('; ')}`);
console.log(`soak: ${unexpected.length} unexpected answers${unexpected.length ? `: ${JSON.stringify(unexpected.slice(0, 10))}` : ''}`);
console.log(`soak: ${missing.length} of ${jtis.length} jtis without an audit row`);
const fail = [];
if (unexpected.length) fail.push('unexpected answers');
if (rssGrowth > 2048) fail.push(`RSS grew ${rssGrowth} KiB after warm-up`);
if (last.fds > warm.fds + 4) fail.push(`open fds grew from ${warm.fds} to ${last.fds}`);
if (missing.length) fail.push('tokens without audit rows');
if (reloaded < reloads) fail.push('a reload was not logged');
console.log(fail.length ? `soak: FAILED: ${fail.join(', ')}` : 'soak: passed');
process.exit(fail.length ? 1 : 0);
