// Black-box tests of the server's hardening: HTTP/1.1 message framing
// (RFC 9112 sections 6.1-6.3: one answer, in the family's JSON shape, then
// close), NUL bytes in the request target, half-closed clients, the
// per-client-IP connection cap and head deadline (slowloris), and a port
// already in use. Raw sockets (node:net) talk to the real binary.
//
// Run:  cd tests/interop && ROOMKEY_BIN=$PWD/../../build/roomkey node --test hardening.test.mjs

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { ADMIN_KEY, LK_KEY, LK_SECRET, SESSION_SECRET, mintAs, opsEnv, opsServer, session, verifyToken, waitLog } from './ops-lib.mjs';
import { BIN, bearer, cliOk, request, roomCreate, startServer, stopChecked, tempDir } from './service-lib.mjs';
import { run } from './lib.mjs';

/**
 * Write data on a fresh connection (optionally half-closing after it) and
 * read until the server closes or timeoutMs passes. Returns {closed, text,
 * statuses}: every HTTP status line the server sent, in order.
 */
function exchange(port, data, { half = false, timeoutMs = 5000, host = '127.0.0.1', localAddress } = {}) {
  return new Promise((resolve) => {
    const sock = net.connect({ port, host, localAddress });
    const chunks = [];
    let closed = false;
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      const text = Buffer.concat(chunks).toString('latin1');
      resolve({ closed, text, statuses: [...text.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1])) });
    };
    const timer = setTimeout(done, timeoutMs);
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', () => {});
    sock.on('close', () => { closed = true; done(); });
    sock.on('connect', () => {
      sock.write(data);
      if (half) sock.end();
    });
  });
}

/** The JSON body of the first response in text. */
function firstBody(text) {
  const head = text.indexOf('\r\n\r\n');
  const m = /content-length: (\d+)/i.exec(text.slice(0, head));
  return JSON.parse(text.slice(head + 4, head + 4 + Number(m[1])));
}

/** An env-only server for the suite (before/after hooks) and a session JWT for alice. */
function suiteServer() {
  const ctx = {};
  before(async () => {
    ctx.env = await opsServer();
    ctx.jwt = await session('alice');
  });
  after(async () => {
    await stopChecked(ctx.env.srv);
    ctx.env.tmp.cleanup();
  });
  return ctx;
}

describe('HTTP framing (RFC 9112 6.1-6.3)', () => {
  const ctx = suiteServer();

  const body = '{"roomId":"r1"}';
  const post = () => `POST /api/livekit/token HTTP/1.1\r\nHost: rk.test\r\nAuthorization: Bearer ${ctx.jwt}\r\n` +
    'Content-Type: application/json\r\n';
  const next = 'GET /healthz HTTP/1.1\r\nHost: rk.test\r\n\r\n';
  // Each shape: the request bytes, the status wanted. A pipelined /healthz
  // follows where a server that kept the connection would answer it.
  const shapes = {
    'Content-Length twice, differing': () => [post() + `Content-Length: ${body.length}\r\nContent-Length: 0\r\n\r\n${body}${next}`, 400],
    'Content-Length twice, reversed': () => [post() + `Content-Length: 0\r\nContent-Length: ${body.length}\r\n\r\n${body}${next}`, 400],
    'Content-Length twice, equal': () => [post() + `Content-Length: ${body.length}\r\nContent-Length: ${body.length}\r\n\r\n${body}${next}`, 400],
    'Transfer-Encoding with Content-Length': () => [post() + `Transfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n` +
      `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n${next}`, 400],
    'Transfer-Encoding: xchunked': () => [post() + `Transfer-Encoding: xchunked\r\n\r\n${body}${next}`, 501],
    'Transfer-Encoding: chunked, identity': () => [post() + `Transfer-Encoding: chunked, identity\r\n\r\n${body}${next}`, 501],
    'Transfer-Encoding twice': () => [post() + `Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n${next}`, 400],
    'a declared body over max_body': () => [post() + `Content-Length: 999999999\r\n\r\n${body}${next}`, 413],
    'two Host headers': () => [`GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n${next}`, 400],
    // two credentials are two callers: the first one is not taken
    'two Authorization headers': () => [post() + `Authorization: Bearer ${ctx.jwt}x\r\nContent-Length: ${body.length}\r\n\r\n${body}${next}`, 400],
    'two X-API-Key headers': () => [`POST /api/livekit/token HTTP/1.1\r\nHost: rk.test\r\nX-API-Key: a\r\nx-api-key: b\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}${next}`, 400],
    'a method that is not a token': () => [`X","a":1,"b":" /nope HTTP/1.1\r\nHost: a\r\n\r\n${next}`, 400],
    'a bare CR in a value': () => [`GET /healthz HTTP/1.1\r\nHost: a\r\nX-A: b\rc\r\n\r\n${next}`, 400],
    'a NUL in a value': () => [`GET /healthz HTTP/1.1\r\nHost: a\r\nX-A: b\0c\r\n\r\n${next}`, 400],
    'a NUL in the Content-Length value': () => [post() + `Content-Length: 0\0${body.length}\r\n\r\n${body}${next}`, 400],
    'a space in a header name': () => [`GET /healthz HTTP/1.1\r\nHost: a\r\nX A: b\r\n\r\n${next}`, 400],
    'a space before the colon': () => [post() + `Content-Length : ${body.length}\r\n\r\n${body}${next}`, 400],
    'a folded header line': () => [`GET /healthz HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n${next}`, 400],
    'bare LF line ends': () => [`GET /healthz HTTP/1.1\nHost: a\n\n${next}`, 400],
    'header fields over max_header': () => [`GET /healthz HTTP/1.1\r\nHost: a\r\nX-A: ${'a'.repeat(9000)}\r\n\r\n${next}`, 431],
    // max_header + 4 KiB is the connection's memory: a head that nearly fills
    // it left libmicrohttpd no room for the answer (it closed without one).
    'header fields nearly filling the connection memory': () =>
      [`GET /healthz HTTP/1.1\r\nHost: a\r\nX-A: ${'a'.repeat(12_000)}\r\n\r\n${next}`, 431],
    'header fields nearly filling it, on the livekit route': () => {
      const head = post() + `Content-Length: ${body.length}\r\nX-A: `;
      return [head + `${'a'.repeat(11_800 - head.length)}\r\n\r\n${body}${next}`, 431];
    },
  };
  for (const [name, make] of Object.entries(shapes)) {
    test(`${name}: one answer in the family's shape, then close`, async () => {
      const [data, status] = make();
      const r = await exchange(ctx.env.srv.port, data);
      assert.deepEqual(r.statuses, [status], r.text.slice(0, 600));
      assert.ok(r.closed, 'the connection must be closed after the answer');
      assert.equal(typeof firstBody(r.text), 'object');
      assert.match(r.text, /content-type: application\/json/i);
    });
  }

  test('the livekit family answers in its own shape', async () => {
    const r = await exchange(ctx.env.srv.port, post() + `Content-Length: ${body.length}\r\nContent-Length: 0\r\n\r\n${body}${next}`);
    assert.deepEqual(firstBody(r.text), { statusCode: 400, message: 'More than one Content-Length header', error: 'Bad Request' });
  });

  test('two Authorization headers: a 400 naming them, no token, whichever comes first', async () => {
    for (const [first, second] of [[`Bearer ${ctx.jwt}`, 'Bearer someone-else'], ['Bearer someone-else', `Bearer ${ctx.jwt}`]]) {
      const r = await exchange(ctx.env.srv.port, `POST /api/livekit/token HTTP/1.1\r\nHost: rk.test\r\nAuthorization: ${first}\r\n` +
        `Authorization: ${second}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
      assert.deepEqual(firstBody(r.text), { statusCode: 400, message: 'More than one Authorization header', error: 'Bad Request' });
      assert.doesNotMatch(r.text, /"token"/);
    }
  });

  test('a method that is not a token gets a 400 whose body is the three fields of the shape', async () => {
    const r = await exchange(ctx.env.srv.port, `X","a":1,"b":" /nope HTTP/1.1\r\nHost: a\r\n\r\n`);
    assert.deepEqual(firstBody(r.text), { statusCode: 400, message: 'Malformed request method', error: 'Bad Request' });
  });

  test('the livekit family names 431 and 501 by their own reason phrases', async () => {
    const big = await exchange(ctx.env.srv.port, post() + `X-A: ${'a'.repeat(9000)}\r\nContent-Length: ${body.length}\r\n\r\n${body}`);
    assert.deepEqual(firstBody(big.text), { statusCode: 431, message: 'Request header fields too large', error: 'Request Header Fields Too Large' });
    const te = await exchange(ctx.env.srv.port, post() + `Transfer-Encoding: xchunked\r\n\r\n${body}`);
    assert.equal(firstBody(te.text).statusCode, 501, te.text.slice(0, 300));
    assert.equal(firstBody(te.text).error, 'Not Implemented');
  });

  // libmicrohttpd 0.9.75 refuses a Content-Length that is not a number
  // itself, before RoomKey sees the request (docs/operations.md): what is
  // asserted is that nothing is served and the connection is closed.
  for (const cl of ['17, 17', '+17', '-1', '0x11', '99999999999999999999999']) {
    test(`Content-Length: ${cl} serves nothing and closes`, async () => {
      const r = await exchange(ctx.env.srv.port, post() + `Content-Length: ${cl}\r\n\r\n${body}${next}`);
      assert.ok(r.closed);
      assert.ok(r.statuses.length > 0 && r.statuses.every((s) => s === 400 || s === 413), r.text.slice(0, 300));
    });
  }

  // A head larger than the connection's memory (max_header + 4 KiB) never
  // reaches RoomKey: libmicrohttpd 0.9.75 answers it itself, once, in HTML.
  test('a head larger than the connection memory: one 431, then close', async () => {
    const r = await exchange(ctx.env.srv.port, `GET /healthz HTTP/1.1\r\nHost: a\r\nX-A: ${'a'.repeat(20_000)}\r\n\r\n${next}`);
    assert.deepEqual(r.statuses, [431], r.text.slice(0, 300));
    assert.ok(r.closed);
  });

  test('a well-framed request on the same connection still works (keep-alive)', async () => {
    const r = await exchange(ctx.env.srv.port, next + next, { timeoutMs: 1500 });
    assert.deepEqual(r.statuses, [200, 200]);
  });
});

describe('NUL in the request target', () => {
  const ctx = suiteServer();
  const cases = {
    '%00 in a path segment': '/api/v1/meeting/token/m1%00x',
    '%00 at the end of the path': '/api/v1/meeting/token/m1%00',
    'a raw NUL in the path': '/api/v1/meeting/token/m1\0x',
    '%00 in a query parameter': '/api/livekit/connection-info?x=a%00b',
    '%00 in a query name': '/api/livekit/connection-info?a%00b=1',
  };
  for (const [name, target] of Object.entries(cases)) {
    test(`${name}: 400`, async () => {
      const r = await exchange(ctx.env.srv.port, `GET ${target} HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ${ctx.jwt}\r\n\r\n`);
      assert.deepEqual(r.statuses, [400], r.text.slice(0, 400));
      const json = firstBody(r.text);
      assert.match(JSON.stringify(json), /NUL/);
    });
  }
  test('the meetings family answers in its shape', async () => {
    const r = await exchange(ctx.env.srv.port, `GET /api/v1/meeting/token/m1%00x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ${ctx.jwt}\r\n\r\n`);
    assert.deepEqual(firstBody(r.text), { success: false, message: 'The request target must not contain a NUL byte' });
  });
});

describe('connections over the per-IP cap', () => {
  let env;
  const PER_IP = 4;
  before(async () => {
    env = await opsServer({ yaml: { server: { max_connections_per_ip: PER_IP, head_timeout: '60s', connection_timeout: '60s' } } });
  });
  after(async () => {
    await stopChecked(env.srv);
    env.tmp.cleanup();
  });

  /** The value of an unlabelled counter on /metrics, asked from 127.0.0.2. */
  async function counter(name) {
    const r = await exchange(env.srv.port, 'GET /metrics HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
      { localAddress: '127.0.0.2' });
    const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(r.text);
    assert.ok(m, `${name} missing from /metrics: ${r.text.slice(0, 200)}`);
    return Number(m[1]);
  }

  test('are answered 503 in JSON, closed and counted; the ones within the cap stay', async () => {
    assert.equal(await counter('roomkey_http_connections_refused_total'), 0);
    const EXTRA = 3;
    // Idle sockets (nothing sent): PER_IP are kept, the others refused.
    const socks = Array.from({ length: PER_IP + EXTRA }, () => {
      const t = { closed: false, text: '' };
      t.sock = net.connect({ port: env.srv.port, host: '127.0.0.1' });
      t.sock.on('error', () => {});
      t.sock.on('data', (d) => { t.text += d.toString('latin1'); });
      t.sock.on('close', () => { t.closed = true; });
      return t;
    });
    try {
      const until = Date.now() + 30_000;
      while (socks.filter((t) => t.closed).length < EXTRA) {
        if (Date.now() > until) assert.fail('timed out waiting for the refused connections to close');
        await new Promise((r) => setTimeout(r, 50));
      }
      const refused = socks.filter((t) => t.closed);
      assert.equal(refused.length, EXTRA);
      for (const t of refused) {
        assert.match(t.text, /^HTTP\/1\.1 503 Service Unavailable\r\n/, t.text);
        assert.equal((t.text.match(/HTTP\/1\.1 /g) ?? []).length, 1, t.text);
        assert.match(t.text, /\r\nconnection: close\r\n/i);
        assert.match(t.text, /\r\ncontent-type: application\/json/i);
        assert.match(t.text, /\r\nretry-after: 1\r\n/i);
        assert.deepEqual(firstBody(t.text),
          { statusCode: 503, message: 'Too many connections from this client address', error: 'Service Unavailable' });
      }
      assert.equal(await counter('roomkey_http_connections_refused_total'), EXTRA);
      assert.equal(socks.filter((t) => !t.closed).length, PER_IP, 'the connections within the cap stay open');
    } finally {
      for (const t of socks) t.sock.destroy();
    }
  });
});

describe('half-closed clients', () => {
  let env;
  before(async () => {
    // 200 connections from one address: above the default per-IP cap.
    env = await opsServer({ yaml: { server: { max_connections_per_ip: 256 } } });
    roomCreate(env.db, 'half', { mode: 'authenticated' });
  });
  after(async () => {
    await stopChecked(env.srv);
    env.tmp.cleanup();
  });

  test('200 concurrent token requests, each followed by shutdown(SHUT_WR), all get their token', async () => {
    const N = 200;
    const body = '{"roomId":"half"}';
    const reqs = await Promise.all(Array.from({ length: N }, async (_, i) => {
      const jwt = await session(`half-${i}`);
      return `POST /api/livekit/token HTTP/1.1\r\nHost: rk.test\r\nAuthorization: Bearer ${jwt}\r\n` +
        `Content-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
    }));
    const res = await Promise.all(reqs.map((r) => exchange(env.srv.port, r, { half: true, timeoutMs: 30_000 })));
    const jtis = [];
    for (const r of res) {
      assert.deepEqual(r.statuses, [200], r.text.slice(0, 300));
      const claims = await verifyToken(firstBody(r.text).token);
      jtis.push(claims.jti);
    }
    const rows = JSON.parse(cliOk(env.db, ['audit', 'list', '--json', '--room', 'half', '--limit', '1000']).stdout);
    const audited = new Set(rows.map((a) => a.jti));
    for (const j of jtis) assert.ok(audited.has(j), `jti ${j} has no audit row`);
  });
});

describe('a port already in use', () => {
  test('a second roomkey serve on the same port refuses to start, and the first keeps the port', async () => {
    const first = await opsServer();
    const tmp = tempDir();
    try {
      const env = opsEnv(`${tmp.dir}/rk.db`, { ROOMKEY_LISTEN: `127.0.0.1:${first.srv.port}` });
      await assert.rejects(startServer({ env }).then(async (second) => {
        await second.stop();
        throw new Error('the second server started');
      }), (e) => {
        assert.match(e.message, /exited before ready \(code=1/);
        assert.match(e.message, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${first.srv.port}: the address is already in use`));
        return true;
      });
      // Every connection still reaches the first server.
      for (let i = 0; i < 20; i++) {
        const r = await exchange(first.srv.port, 'GET /readyz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n');
        assert.deepEqual(r.statuses, [200], r.text);
      }
    } finally {
      tmp.cleanup();
      await stopChecked(first.srv);
      first.tmp.cleanup();
    }
  });
});

describe('slow clients (slowloris)', () => {
  let env;
  const PER_IP = 32;
  before(async () => {
    env = await opsServer({
      yaml: { server: { max_connections: 256, max_connections_per_ip: PER_IP, head_timeout: '2s', body_timeout: '2s' } },
    });
  });
  after(async () => {
    await stopChecked(env.srv);
    env.tmp.cleanup();
  });

  /** A socket from 127.0.0.1 that sends a request line, then a header line every 300 ms, forever. */
  function trickler(port, localAddress = '127.0.0.1') {
    const t = { closed: false, refused: false, sent: 0 };
    t.sock = net.connect({ port, host: '127.0.0.1', localAddress });
    t.sock.on('error', () => {});
    // Read what comes (a refused one gets a 503, then the close): a socket
    // that never reads would not see the end of the stream behind it.
    t.sock.on('data', (d) => { if (d.toString('latin1').startsWith('HTTP/1.1 503 ')) t.refused = true; });
    t.sock.on('close', () => { t.closed = true; clearInterval(t.timer); });
    t.sock.on('connect', () => {
      t.sock.write('GET /healthz HTTP/1.1\r\nHost: a\r\n');
      t.timer = setInterval(() => { t.sent += 1; t.sock.write(`X-Slow-${t.sent}: x\r\n`); }, 300);
    });
    return t;
  }
  const waitUntil = async (fn, what, ms = 30_000) => {
    const until = Date.now() + ms;
    while (!fn()) {
      if (Date.now() > until) assert.fail(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  };

  test('1,000 trickling sockets from 127.0.0.1 hold at most the per-IP cap; 127.0.0.2 is answered', async () => {
    const socks = Array.from({ length: 1000 }, () => trickler(env.srv.port));
    try {
      // Every socket is refused (a 503, then closed) or kept and trickling.
      // The server accepts at its own pace, so a socket neither refused nor
      // closed yet may still be waiting for its turn: wait until those number
      // at most the cap. With the cap broken the kept ones never drop to it.
      const kept = () => socks.filter((t) => !t.closed && !t.refused);
      await waitUntil(() => socks.every((t) => t.closed || t.refused || t.sent > 0) && kept().length <= PER_IP,
        `at most ${PER_IP} trickling connections kept`);
      const open = kept().length;
      assert.ok(open <= PER_IP, `${open} trickling connections kept, cap ${PER_IP}`);
      for (let i = 0; i < 20; i++) {
        const r = await exchange(env.srv.port, 'GET /healthz HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n',
          { localAddress: '127.0.0.2' });
        assert.deepEqual(r.statuses, [200], r.text);
      }
      // The kept ones go at the head deadline although each sends a line every 300 ms.
      await waitUntil(() => socks.every((t) => t.closed), 'the head deadline to close every trickling socket');
    } finally {
      for (const t of socks) { clearInterval(t.timer); t.sock.destroy(); }
    }
  });

  test('a head trickled a line at a time is cut at the head deadline, not kept by each line', async () => {
    // The idle timeout (10 s) never fires: a line comes every 300 ms.
    const t = trickler(env.srv.port, '127.0.0.3');
    try {
      await waitUntil(() => t.closed, 'the head deadline');
      assert.ok(t.sent >= 1, 'the socket was accepted and trickled before it was cut');
    } finally {
      clearInterval(t.timer);
      t.sock.destroy();
    }
  });

  test('a body trickled a byte at a time is cut at the body deadline', async () => {
    const t = { closed: false };
    const sock = net.connect({ port: env.srv.port, host: '127.0.0.1' });
    sock.on('error', () => {});
    sock.on('close', () => { t.closed = true; });
    let timer;
    sock.on('connect', () => {
      sock.write('POST /api/livekit/token HTTP/1.1\r\nHost: a\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n');
      timer = setInterval(() => sock.write(' '), 300);
    });
    try {
      await waitUntil(() => t.closed, 'the body deadline');
    } finally {
      clearInterval(timer);
      sock.destroy();
    }
  });
});

describe('secrets do not linger', () => {
  test('env-only secrets leave /proc/PID/environ; a reload keeps them working', async () => {
    const env = await opsServer();
    try {
      roomCreate(env.db, 'env-room', { mode: 'authenticated' });
      const environ = fs.readFileSync(`/proc/${env.srv.proc.pid}/environ`).toString('latin1');
      assert.ok(environ.includes(`LIVEKIT_API_KEY=${LK_KEY}`), 'non-secret variables stay');
      for (const secret of [LK_SECRET, SESSION_SECRET, ADMIN_KEY]) assert.ok(!environ.includes(secret), 'a secret is still in the environment');
      for (let round = 0; round < 2; round++) {
        const r = await mintAs(env.srv, 'alice', 'env-room');
        assert.equal(r.status, 200, JSON.stringify(r.json ?? r.text));
        await verifyToken(r.json.token);
        const a = await request(env.srv, 'GET', '/admin/v1/rooms', { headers: bearer(ADMIN_KEY) });
        assert.equal(a.status, 200);
        if (round === 0) {
          env.srv.proc.kill('SIGHUP');
          await waitLog(env.srv, 'reloaded');
        }
      }
    } finally {
      await stopChecked(env.srv);
      env.tmp.cleanup();
    }
  });

  test('token create --api-secret-file signs with the file\'s secret; --help points to it', () => {
    const tmp = tempDir();
    try {
      const file = path.join(tmp.dir, 'secret');
      fs.writeFileSync(file, `${LK_SECRET}\n`, { mode: 0o600 });
      const r = run(['token', 'create', '--api-key', LK_KEY, '--api-secret-file', file, '--join', '-r', 'r', '-i', 'u', '--token-only']);
      assert.equal(r.status, 0, r.stderr);
      return verifyToken(r.stdout.trim()).then((claims) => {
        assert.equal(claims.sub, 'u');
        const both = run(['token', 'create', '--api-key', LK_KEY, '--api-secret-file', file, '--api-secret', LK_SECRET, '--join', '-r', 'r', '-i', 'u']);
        assert.equal(both.status, 1);
        assert.match(both.stderr, /exclude each other/);
        const help = run(['token', 'create', '--help']).stdout;
        assert.match(help, /--api-secret-file FILE/);
        assert.match(help, /--api-secret SECRET +the secret on the command line: every user of the machine/);
      });
    } finally {
      tmp.cleanup();
    }
  });
});

describe('the database down', () => {
  const CTL = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../scripts/pg-test-server.sh');
  const ctl = (verb, dir) => execFileSync(CTL, [verb, dir], { encoding: 'utf8', timeout: 120_000 }).trim();
  let pgDir;
  let url;
  let srv;
  before(async () => {
    // Not inside a private temp dir: the server runs as the postgres user.
    pgDir = fs.mkdtempSync(path.join(os.tmpdir(), 'rk-hard-pg-'));
    url = ctl('start', pgDir);
    roomCreate(url, 'pg-room', { mode: 'authenticated' });
    srv = await startServer({ env: opsEnv(url) });
  });
  after(async () => {
    await stopChecked(srv);
    try { ctl('stop', pgDir); } finally { fs.rmSync(pgDir, { recursive: true, force: true }); }
  });

  test('answers 503 with Retry-After in each family\'s shape and /readyz is unready; back to 200 after a restart', async () => {
    assert.equal((await mintAs(srv, 'alice', 'pg-room')).status, 200);
    assert.equal((await request(srv, 'GET', '/readyz')).status, 200);
    ctl('kill', pgDir);
    const lk = await mintAs(srv, 'alice', 'pg-room');
    assert.equal(lk.status, 503, JSON.stringify(lk.json));
    assert.equal(lk.headers.get('retry-after'), '5');
    assert.deepEqual(Object.keys(lk.json).sort(), ['error', 'message', 'statusCode']);
    assert.equal(lk.json.statusCode, 503);
    const adm = await request(srv, 'GET', '/admin/v1/rooms', { headers: bearer(ADMIN_KEY) });
    assert.equal(adm.status, 503, JSON.stringify(adm.json));
    assert.equal(adm.headers.get('retry-after'), '5');
    assert.equal(typeof adm.json.error?.message, 'string');
    const mt = await request(srv, 'GET', '/api/v1/meeting/token/some-meeting', { headers: bearer(await session('alice')) });
    assert.equal(mt.status, 503, JSON.stringify(mt.json));
    assert.equal(mt.headers.get('retry-after'), '5');
    assert.equal(mt.json.success, false);
    const ready = await request(srv, 'GET', '/readyz');
    assert.equal(ready.status, 503);
    assert.equal(ready.json.status, 'not_ready');
    ctl('start', pgDir);
    let ok;
    for (let i = 0; i < 100 && !(ok = (await mintAs(srv, 'alice', 'pg-room')).status === 200); i++) await new Promise((r) => setTimeout(r, 100));
    assert.ok(ok, 'tokens again after the restart');
    assert.equal((await request(srv, 'GET', '/readyz')).status, 200);
  });
});
