// Runs the documentation's examples as written. A fenced block right after
// one of these markers is taken from the page:
//
//   <!-- docs-test: run -->        a shell block, run; it must succeed
//   <!-- docs-test: serve -->      a shell block ending in `roomkey serve`: that
//                                  command runs in the background and the page
//                                  goes on once it prints "listening on"
//   <!-- docs-test: file NAME -->  any block, written to the file NAME
//
// Each page's blocks run in order as one bash script (`set -eo pipefail`,
// so exports carry from block to block), in a network namespace of its own
// (`unshare --net`, loopback up: the pages' port 8080 is free whatever else
// runs on the machine), with HOME a fresh temp dir and no LIVEKIT_* /
// ROOMKEY_* in the environment. The README runs with the PATH as given, so
// its own install step must put `roomkey` on it; the other pages get
// build/ first on PATH ("roomkey on your PATH").
//
// Run:  cd tests/interop && node --test docs.test.mjs

import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';

const here = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(here, '../..');

/** The marked blocks of a markdown page: [{kind, name, lang, text, line}]. */
export function markedBlocks(markdown) {
  const lines = markdown.split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const m = /^<!-- docs-test: (run|serve|file ([\w.-]+)) -->$/.exec(lines[i].trim());
    if (!m) continue;
    let j = i + 1;
    while (j < lines.length && lines[j].trim() === '') j++;
    const fence = /^```(\w*)$/.exec(lines[j] ?? '');
    if (!fence) throw new Error(`line ${i + 1}: a docs-test marker must be followed by a fenced block`);
    const body = [];
    for (j++; j < lines.length && lines[j] !== '```'; j++) body.push(lines[j]);
    out.push({ kind: m[2] ? 'file' : m[1], name: m[2], lang: fence[1], text: body.join('\n'), line: i + 1 });
  }
  return out;
}

/** One bash script running a page's blocks (see the top of this file). */
function script(blocks) {
  const s = [
    'set -eo pipefail',
    'RK_PIDS=""',
    'trap \'for p in $RK_PIDS; do kill "$p" 2>/dev/null || true; done; wait\' EXIT',
    'rk_wait() { for _ in $(seq 1 300); do grep -q "^listening on " "$1" && return 0;',
    '  kill -0 "$2" 2>/dev/null || { echo "roomkey serve exited:"; cat "$1"; return 1; }; sleep 0.1; done;',
    '  echo "roomkey serve did not start:"; cat "$1"; return 1; }',
  ];
  blocks.forEach((b, n) => {
    s.push(`echo "--- docs-test block at line ${b.line}" >&2`);
    if (b.kind === 'file') {
      s.push(`cat > ${b.name} <<'DOCS_TEST_EOF'`, b.text, 'DOCS_TEST_EOF');
    } else if (b.kind === 'run') {
      s.push(b.text);
    } else {
      const lines = b.text.trimEnd().split('\n');
      const last = lines.pop();
      assert.match(last, /^roomkey serve\b/, `block at line ${b.line}: a serve block ends in roomkey serve`);
      s.push(...lines, `${last} > "$HOME/.rk-serve-${n}.log" 2>&1 & RK_PIDS="$RK_PIDS $!"; rk_wait "$HOME/.rk-serve-${n}.log" $!`);
    }
  });
  return `${s.join('\n')}\n`;
}

/** Run a page's marked blocks; returns {status, stdout, stderr, blocks}. */
function runPage(page, { cwd, buildOnPath }) {
  const blocks = markedBlocks(fs.readFileSync(path.join(REPO, page), 'utf8'));
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'roomkey-docs-'));
  try {
    const work = cwd ?? home;
    fs.symlinkSync(path.join(here, 'node_modules'), path.join(home, 'node_modules'));
    const file = path.join(home, '.docs-test.sh');
    fs.writeFileSync(file, script(blocks));
    const env = {};
    for (const [k, v] of Object.entries(process.env)) {
      if (!/^(LIVEKIT_|ROOMKEY_)/.test(k)) env[k] = v;
    }
    env.HOME = home;
    if (buildOnPath) env.PATH = `${path.join(REPO, 'build')}:${env.PATH}`;
    const r = spawnSync('unshare', ['--net', 'bash', '-c', 'ip link set lo up && exec bash "$0"', file],
      { cwd: work, env, encoding: 'utf8', timeout: 600_000, maxBuffer: 64 * 1024 * 1024 });
    if (r.error) throw r.error;
    return { ...r, blocks };
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
}

const show = (r) => `exit=${r.status} signal=${r.signal}\nstdout=${r.stdout.slice(-4000)}\nstderr=${r.stderr.slice(-4000)}`;

describe('documentation examples run as written', () => {
  test('the marker parser takes run, serve and file blocks', () => {
    const b = markedBlocks('x\n<!-- docs-test: run -->\n```sh\necho 1\n```\n<!-- docs-test: file a.py -->\n\n```python\nprint(1)\n```\n');
    assert.deepEqual(b.map((x) => [x.kind, x.name, x.lang, x.text]), [['run', undefined, 'sh', 'echo 1'], ['file', 'a.py', 'python', 'print(1)']]);
    assert.throws(() => markedBlocks('<!-- docs-test: run -->\nno fence\n'), /fenced block/);
  });

  const pages = [
    // The README's env-only set-up: installs roomkey itself (no build/ on PATH).
    { page: 'README.md', cwd: REPO, buildOnPath: false, min: 2, expect: /"token":"eyJ/ },
    { page: 'docs/install.md', cwd: REPO, buildOnPath: true, min: 2, expect: /exposure level for roomkey\.service: \d+\.\d OK/ },
    { page: 'docs/first-token.md', buildOnPath: true, min: 5, expect: /^200$/m },
    { page: 'docs/admin-api.md', buildOnPath: true, min: 2, expect: /"meeting_id":"123"/ },
    { page: 'docs/api-livekit.md', cwd: REPO, buildOnPath: true, min: 2, expect: /"roomId":"64f7b1234567890abcdef123"/ },
    { page: 'docs/api-voice-agent.md', cwd: REPO, buildOnPath: true, min: 2, expect: /"roomName":"consultation-room-123"/ },
    { page: 'docs/api-token-source.md', cwd: REPO, buildOnPath: true, min: 2, expect: /"participant_token":"eyJ/ },
    { page: 'docs/api-meetings.md', cwd: REPO, buildOnPath: true, min: 2, expect: /"status":"COMPLETED"/ },
  ];
  for (const p of pages) {
    test(`${p.page}: every marked block succeeds`, () => {
      const r = runPage(p.page, p);
      assert.ok(r.blocks.length >= p.min, `${p.page} has ${r.blocks.length} marked blocks, expected at least ${p.min}`);
      assert.equal(r.status, 0, show(r));
      assert.match(r.stdout, p.expect, show(r));
    });
  }
});
