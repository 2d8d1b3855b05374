// Black-box tests of installing RoomKey: `make install` (PREFIX, DESTDIR),
// the man pages (mandoc -T lint), the systemd unit (systemd-analyze verify
// and its offline security exposure), and `make deb`: the package's metadata
// and contents, lintian without errors, and the binary unpacked from it
// (dpkg -x) serving a token that livekit-server-sdk's TokenVerifier accepts.
//
// Run:  cd tests/interop && node --test package.test.mjs   (needs dpkg-dev,
// lintian, mandoc and systemd; scripts/deps.sh installs them)

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';

import { TokenVerifier } from 'livekit-server-sdk';

import { bearer, cleanEnv, rand, request, sessionClaims, showRes, signJwt, startServer, stopChecked, tempDir } from './service-lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, '../..');
const VERSION = fs.readFileSync(path.join(REPO, 'VERSION'), 'utf8').trim();

/** Run a program (no shell); returns {status, stdout, stderr}. */
function sh(file, args, opts = {}) {
  const r = spawnSync(file, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024, timeout: 300_000, ...opts });
  if (r.error) throw r.error;
  return r;
}
const show = (r) => `exit=${r.status}\nstdout=${r.stdout.slice(0, 3000)}\nstderr=${r.stderr.slice(0, 3000)}`;

/** Every file under dir, as sorted paths relative to it. */
function tree(dir) {
  const out = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else out.push(path.relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
}

describe('make install', () => {
  let T;
  before(() => { T = tempDir(); });
  after(() => T?.cleanup());

  test('lays out binary, man pages, example config, docs, unit and /etc config under DESTDIR', () => {
    const r = sh('make', ['-s', '--no-print-directory', '-C', REPO, 'install', `DESTDIR=${T.dir}`, 'PREFIX=/opt/rk']);
    assert.equal(r.status, 0, show(r));
    const files = tree(T.dir);
    for (const f of ['opt/rk/bin/roomkey', 'opt/rk/share/man/man1/roomkey.1', 'opt/rk/share/man/man5/roomkey.yaml.5',
      'opt/rk/share/doc/roomkey/roomkey.example.yaml', 'opt/rk/share/doc/roomkey/install.md',
      'opt/rk/lib/systemd/system/roomkey.service', 'opt/rk/etc/roomkey/roomkey.yaml']) {
      assert.ok(files.includes(f), `${f} not installed; got:\n${files.join('\n')}`);
    }
    assert.equal(fs.statSync(path.join(T.dir, 'opt/rk/bin/roomkey')).mode & 0o777, 0o755);
    assert.equal(fs.statSync(path.join(T.dir, 'opt/rk/etc/roomkey/credentials')).mode & 0o777, 0o700, 'credentials dir is root-only');
    const unit = fs.readFileSync(path.join(T.dir, 'opt/rk/lib/systemd/system/roomkey.service'), 'utf8');
    assert.match(unit, /^ExecStart=\/opt\/rk\/bin\/roomkey serve --config \/opt\/rk\/etc\/roomkey\/roomkey\.yaml$/m);
    assert.doesNotMatch(unit, /@[A-Z]+@/, 'every placeholder filled in');
    const v = sh(path.join(T.dir, 'opt/rk/bin/roomkey'), ['version']);
    assert.match(v.stdout, new RegExp(`^roomkey ${VERSION.replace(/\./g, '\\.')} `));
  });

  test('a second install keeps an edited /etc/roomkey/roomkey.yaml', () => {
    const conf = path.join(T.dir, 'opt/rk/etc/roomkey/roomkey.yaml');
    fs.writeFileSync(conf, '# edited\n');
    const r = sh('make', ['-s', '--no-print-directory', '-C', REPO, 'install', `DESTDIR=${T.dir}`, 'PREFIX=/opt/rk']);
    assert.equal(r.status, 0, show(r));
    assert.equal(fs.readFileSync(conf, 'utf8'), '# edited\n');
  });

  test('the man pages pass mandoc -T lint (warnings and up)', () => {
    for (const m of ['man/roomkey.1', 'man/roomkey.yaml.5']) {
      const r = sh('mandoc', ['-T', 'lint', '-W', 'warning', path.join(REPO, m)]);
      assert.equal(r.status, 0, `${m}: ${show(r)}`);
      const html = sh('mandoc', ['-T', 'html', path.join(REPO, m)]);
      assert.match(html.stdout, /id="SYNOPSIS"/, `${m} renders with a SYNOPSIS`);
    }
  });

  test('the unit passes systemd-analyze verify, and its offline exposure is OK or better', () => {
    // Installed with PREFIX (no DESTDIR) so the unit's ExecStart= exists on
    // this host, and its man pages are found through MANPATH: verify checks
    // both. systemd need not be running (offline analysis of the file).
    const prefix = path.join(T.dir, 'prefix');
    const i = sh('make', ['-s', '--no-print-directory', '-C', REPO, 'install', `PREFIX=${prefix}`]);
    assert.equal(i.status, 0, show(i));
    const unit = path.join(prefix, 'lib/systemd/system/roomkey.service');
    const r = sh('systemd-analyze', ['verify', unit], { env: { ...process.env, MANPATH: path.join(prefix, 'share/man') } });
    assert.equal(r.status, 0, show(r));
    assert.equal(r.stderr.trim(), '', `verify printed warnings: ${show(r)}`);
    const s = sh('systemd-analyze', ['security', '--offline=true', unit]);
    assert.equal(s.status, 0, show(s));
    const m = /Overall exposure level for roomkey\.service: (\d+\.\d) (\S+)/.exec(s.stdout);
    assert.ok(m, show(s));
    assert.ok(Number(m[1]) < 5.0 && ['PERFECT', 'SAFE', 'OK'].includes(m[2]), `exposure ${m[1]} ${m[2]}`);
    const doc = fs.readFileSync(path.join(REPO, 'docs/install.md'), 'utf8');
    assert.ok(doc.includes(`exposure level ${m[1]} ${m[2]}`), `docs/install.md must state "exposure level ${m[1]} ${m[2]}"`);
  });
});

describe('make deb', () => {
  let deb;
  let X;
  let srv;
  before(() => {
    const r = sh('make', ['-s', '--no-print-directory', '-C', REPO, 'deb']);
    assert.equal(r.status, 0, show(r));
    deb = path.resolve(REPO, r.stdout.trim().split('\n').pop());
    X = tempDir();
  });
  after(async () => { await stopChecked(srv); X?.cleanup(); });

  test(`is roomkey_${VERSION}_amd64.deb with the right metadata`, () => {
    assert.equal(path.basename(deb), `roomkey_${VERSION}_amd64.deb`);
    const f = (field) => sh('dpkg-deb', ['-f', deb, field]).stdout.trim();
    assert.equal(f('Package'), 'roomkey');
    assert.equal(f('Version'), VERSION);
    assert.equal(f('Architecture'), 'amd64');
    const depends = f('Depends');
    for (const lib of ['libc6', 'libssl3', 'libjansson4', 'libmicrohttpd12', 'libsqlite3-0', 'libcurl4', 'libyaml-0-2', 'libpq5']) {
      assert.match(depends, new RegExp(`(^|, )${lib}( \\(>= [^)]+\\))?(,|$)`), `Depends lacks ${lib}: ${depends}`);
    }
    const info = sh('dpkg-deb', ['-I', deb, 'conffiles']);
    assert.equal(info.stdout.trim(), '/etc/roomkey/roomkey.yaml');
  });

  test('holds the binary, the unit, man pages, docs and nothing else', () => {
    const list = sh('dpkg-deb', ['-c', deb]).stdout.split('\n').filter(Boolean);
    const files = list.filter((l) => !l.startsWith('d')).map((l) => l.split(/\s+/).pop().replace(/^\.\//, '')).sort();
    for (const f of ['usr/bin/roomkey', 'lib/systemd/system/roomkey.service', 'etc/roomkey/roomkey.yaml',
      'usr/share/man/man1/roomkey.1.gz', 'usr/share/man/man5/roomkey.yaml.5.gz', 'usr/share/doc/roomkey/copyright',
      'usr/share/doc/roomkey/changelog.gz', 'usr/share/doc/roomkey/roomkey.example.yaml']) {
      assert.ok(files.includes(f), `${f} missing from the package:\n${files.join('\n')}`);
    }
    for (const l of list) {
      assert.match(l, / root\/root /, `owned by root: ${l}`);
      assert.doesNotMatch(l.slice(0, 10), /^-.{7}w|s|S/, `no world-writable or setuid file: ${l}`);
    }
    const cred = list.find((l) => l.endsWith('./etc/roomkey/credentials/'));
    assert.ok(cred?.startsWith('drwx------'), `credentials dir must be 0700: ${cred}`);
    const unit = sh('dpkg-deb', ['--fsys-tarfile', deb]);
    assert.equal(unit.status, 0);
  });

  test('the maintainer scripts create no user, file or directory', () => {
    const dir = path.join(X.dir, 'control');
    assert.equal(sh('dpkg-deb', ['-e', deb, dir]).status, 0);
    for (const s of ['postinst', 'postrm']) {
      const text = fs.readFileSync(path.join(dir, s), 'utf8');
      const code = text.split('\n').filter((l) => !l.trim().startsWith('#')).join('\n');
      assert.doesNotMatch(code, /useradd|adduser|mkdir|install |chmod|chown|touch|>\s*\/(?!dev\/null)/, `${s} must create nothing:\n${text}`);
      assert.equal(sh('sh', ['-n', path.join(dir, s)]).status, 0, `${s} is valid sh`);
    }
  });

  test('lintian finds no errors', () => {
    const r = sh('lintian', ['--no-tag-display-limit', deb]);
    const errors = r.stdout.split('\n').filter((l) => l.startsWith('E:'));
    assert.deepEqual(errors, [], show(r));
  });

  test('the binary unpacked from it (dpkg -x) serves a token TokenVerifier accepts', async () => {
    const root = path.join(X.dir, 'root');
    assert.equal(sh('dpkg', ['-x', deb, root]).status, 0);
    const bin = path.join(root, 'usr/bin/roomkey');
    const lk = { key: 'APIdebTestKey', secret: `deb-lk-secret-${rand(16)}` };
    const sessionSecret = `deb-session-secret-${rand(16)}`;
    const db = path.join(X.dir, 'rk.db');
    const env = cleanEnv({ ROOMKEY_DATABASE: db });
    assert.equal(sh(bin, ['room', 'create', 'deb-room', '--mode', 'authenticated'], { env }).status, 0);
    srv = await startServer({
      env: { LIVEKIT_API_KEY: lk.key, LIVEKIT_API_SECRET: lk.secret, LIVEKIT_URL: 'wss://lk.deb.test',
        ROOMKEY_SESSION_SECRET: sessionSecret, ROOMKEY_DATABASE: db, ROOMKEY_LISTEN: '127.0.0.1:0' },
      bin,
    });
    const jwt = await signJwt({ alg: 'HS256', key: sessionSecret, claims: sessionClaims({ sub: 'dana' }) });
    const r = await request(srv, 'POST', '/api/livekit/token', { body: { roomId: 'deb-room' }, headers: bearer(jwt) });
    assert.equal(r.status, 200, showRes(r));
    const claims = await new TokenVerifier(lk.key, lk.secret).verify(r.json.token);
    assert.equal(claims.sub, 'dana');
    assert.equal(claims.video.room, 'deb-room');
    assert.equal(claims.video.roomJoin, true);
  });
});
