// Black-box tests of the console's static files (/console/, docs/console.md):
// off by default, every compiled-in file served byte for byte with its type,
// security headers on every answer (errors too), ETag revalidation, 404 for
// unknown files and no way out of the file table (raw request paths).
//
// Run:  cd tests/interop && ROOMKEY_BIN=$PWD/../../build/roomkey node --test console.test.mjs

import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { opsServer } from './ops-lib.mjs';
import { parseResponse, request, showRes, stopChecked } from './service-lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SOURCE = path.resolve(here, '../../src/api/console');
const FILES = fs.readdirSync(SOURCE).sort();
const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.svg': 'image/svg+xml',
};

/** The security headers every console answer carries. */
function assertSecured(r, what) {
  assert.equal(r.headers.get('content-security-policy'), "default-src 'self'", `CSP on ${what}: ${showRes(r)}`);
  assert.equal(r.headers.get('x-frame-options'), 'DENY', what);
  assert.equal(r.headers.get('referrer-policy'), 'no-referrer', what);
  assert.equal(r.headers.get('x-content-type-options'), 'nosniff', what);
}

/** A raw GET of target exactly as written (no client-side normalisation). */
function rawGet(port, target) {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, '127.0.0.1');
    const chunks = [];
    sock.on('data', (d) => chunks.push(d));
    sock.on('error', reject);
    sock.on('close', () => resolve(parseResponse(Buffer.concat(chunks))));
    sock.on('connect', () => sock.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
  });
}

const S = {};

before(async () => {
  S.on = await opsServer({ yaml: { console: { enabled: true } } });
  S.off = await opsServer();
  S.offExplicit = await opsServer({ yaml: { console: { enabled: false } } });
});

after(async () => {
  for (const s of [S.on, S.off, S.offExplicit]) {
    if (!s) continue;
    await stopChecked(s.srv);
    s.tmp.cleanup();
  }
});

describe('console switched off', () => {
  test('off by default and when console.enabled is false: every console path is 404', async () => {
    for (const s of [S.off, S.offExplicit]) {
      for (const p of ['/console', '/console/', '/console/index.html', '/console/app.js']) {
        const r = await request(s.srv, 'GET', p);
        assert.equal(r.status, 404, showRes(r));
        assert.doesNotMatch(r.text, /<html|import /, 'no console content when off');
        assertSecured(r, p);
      }
    }
  });

  test('the admin API is there either way', async () => {
    const r = await request(S.off.srv, 'GET', '/admin/v1/rooms');
    assert.equal(r.status, 401, showRes(r));
  });
});

describe('console switched on', () => {
  test('every file of src/api/console is served byte for byte with its content type', async () => {
    assert.ok(FILES.includes('index.html') && FILES.includes('app.js'), FILES.join(','));
    for (const name of FILES) {
      const res = await fetch(`${S.on.srv.base}/console/${name}`);
      const body = Buffer.from(await res.arrayBuffer());
      assert.equal(res.status, 200, name);
      assert.deepEqual(body, fs.readFileSync(path.join(SOURCE, name)), `${name} differs from the source`);
      assert.equal(res.headers.get('content-type'), TYPES[path.extname(name)], name);
      assert.match(res.headers.get('etag') ?? '', /^"[0-9a-f]{16}"$/, name);
      assert.equal(res.headers.get('cache-control'), 'no-cache', name);
      assertSecured({ headers: res.headers, req: name, status: res.status, text: '' }, name);
    }
  });

  test('/console/ is index.html; /console redirects to it', async () => {
    const index = await request(S.on.srv, 'GET', '/console/');
    assert.equal(index.status, 200);
    assert.equal(index.text, fs.readFileSync(path.join(SOURCE, 'index.html'), 'utf8'));
    assertSecured(index, '/console/');
    const res = await fetch(`${S.on.srv.base}/console`, { redirect: 'manual' });
    assert.equal(res.status, 308);
    assert.equal(res.headers.get('location'), '/console/');
    assert.equal(res.headers.get('content-security-policy'), "default-src 'self'");
  });

  test('ETag revalidation: 304 without a body when unchanged, 200 when the tag differs', async () => {
    const first = await request(S.on.srv, 'GET', '/console/app.js');
    const etag = first.headers.get('etag');
    const again = await request(S.on.srv, 'GET', '/console/app.js', { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304, showRes(again));
    assert.equal(again.text, '');
    assert.equal(again.headers.get('etag'), etag);
    assertSecured(again, '304');
    const other = await request(S.on.srv, 'GET', '/console/app.js', { headers: { 'if-none-match': '"0000000000000000"' } });
    assert.equal(other.status, 200);
    assert.equal(other.text, first.text);
    const index = await request(S.on.srv, 'GET', '/console/index.html');
    assert.notEqual(index.headers.get('etag'), etag, 'each file has its own tag');
  });

  test('unknown files are 404 with the security headers', async () => {
    for (const p of ['/console/nope.js', '/console/INDEX.HTML', '/console/index.htm', '/console/a/b', '/console/app.js/', '/console/.git']) {
      const r = await request(S.on.srv, 'GET', p);
      assert.equal(r.status, 404, showRes(r));
      assert.match(r.headers.get('content-type') ?? '', /^text\/plain/);
      assertSecured(r, p);
    }
  });

  test('no directory traversal: raw dot segments and encoded slashes reach no other file', async () => {
    const port = S.on.srv.port;
    const targets = [
      '/console/../admin/v1/status',
      '/console/../../etc/passwd',
      '/console/..%2f..%2fetc%2fpasswd',
      '/console/%2e%2e/%2e%2e/etc/passwd',
      '/console/..%2fconsole.h',
      '/console/%2e%2e%2fapp.js',
      '/console/./index.html',
      '/console//index.html',
      '/console/..',
    ];
    for (const t of targets) {
      const r = await rawGet(port, t);
      assert.ok(r && r.status === 404, `${t} -> ${r?.status} ${r?.head ?? ''}`);
      assert.doesNotMatch(r.body ?? '', /root:|<html|#include/, t);
    }
  });

  test('methods other than GET are refused (405 with Allow) and change nothing', async () => {
    const r = await request(S.on.srv, 'POST', '/console/index.html', { body: {} });
    assert.equal(r.status, 405, showRes(r));
    assert.match(r.headers.get('allow') ?? '', /GET/);
    assertSecured(r, 'POST');
  });

  test('the files need no key, the data behind them does', async () => {
    const page = await request(S.on.srv, 'GET', '/console/status.js');
    assert.equal(page.status, 200);
    const data = await request(S.on.srv, 'GET', '/admin/v1/status');
    assert.equal(data.status, 401, showRes(data));
  });
});
