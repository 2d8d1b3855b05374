// The console in a real browser (Debian's chromium, headless, driven by
// playwright-core): sign-in (a wrong key refused, the right one accepted),
// rooms, members, the audit record of a token minted through the livekit
// family with its grants, role change, removal with confirmation, meetings,
// status. Every console response must carry the CSP header and no page may
// log a console error. Screenshots of the main views at 1280 and 390 px go
// to build/console-shots/.
//
// Run:  cd tests/interop && ROOMKEY_BIN=$PWD/../../build/roomkey node --test console-browser.test.mjs

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

import { LiveKitStandin } from './livekit-standin.mjs';

import { ADMIN_KEY, LK_KEY, LK_SECRET, mintAs, opsServer, SESSION_SECRET, verifyToken, waitFor } from './ops-lib.mjs';
import { rand, request, showRes, stopChecked } from './service-lib.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const SHOTS = path.resolve(here, '../../build/console-shots');
const CHROMIUM = '/usr/bin/chromium';
const WIDE = { width: 1280, height: 900 };
const NARROW = { width: 390, height: 844 };

const B = { errors: [], consoleResponses: 0, missingCsp: [] };
const admin = (method, p, body) => request(B.srv, method, p, { body, headers: { authorization: `Bearer ${ADMIN_KEY}` } });

before(async () => {
  B.opsKey = `rk_console_${rand(16)}`;
  // The LiveKit stand-in: RoomKey's RoomService calls go to it, its webhooks come back.
  B.lk = await new LiveKitStandin({ keys: { [LK_KEY]: LK_SECRET } }).start();
  ({ tmp: B.tmp, srv: B.srv } = await opsServer({
    env: { LIVEKIT_HOST: B.lk.url },
    yaml: {
      console: { enabled: true },
      api_keys: [{ id: 'console-ops', key: B.opsKey, permissions: ['admin'] }],
    },
  }));
  B.lk.webhookUrls.push(`${B.srv.base}/livekit/webhook`);
  B.profile = fs.mkdtempSync(path.join(os.tmpdir(), 'roomkey-chromium-'));
  B.ctx = await chromium.launchPersistentContext(B.profile, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: WIDE,
  });
  B.page = B.ctx.pages()[0] ?? (await B.ctx.newPage());
  B.page.on('console', (m) => { if (m.type() === 'error') B.errors.push(`console: ${m.text()}`); });
  B.page.on('pageerror', (e) => B.errors.push(`page error: ${e.message}`));
  B.page.on('response', (r) => {
    const u = new URL(r.url());
    if (!u.pathname.startsWith('/console')) return;
    B.consoleResponses++;
    if (r.headers()['content-security-policy'] !== "default-src 'self'") B.missingCsp.push(`${r.status()} ${u.pathname}`);
  });
  fs.mkdirSync(SHOTS, { recursive: true });
});

after(async () => {
  await B.ctx?.close();
  if (B.profile) fs.rmSync(B.profile, { recursive: true, force: true });
  await stopChecked(B.srv);
  await B.lk?.stop();
  B.tmp?.cleanup();
});

/** Takes the console errors logged so far; expected ones are matched and removed by the caller. */
function takeErrors() {
  const e = B.errors;
  B.errors = [];
  return e;
}

/** Waits for the view's h1 to read text. */
async function viewIs(text) {
  await B.page.locator('#view h1').filter({ hasText: text }).waitFor();
}

async function shot(name) {
  for (const [tag, size] of [['1280', WIDE], ['390', NARROW]]) {
    await B.page.setViewportSize(size);
    const overflow = await B.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(overflow <= 0, `${name} at ${tag} px is ${overflow} px wider than the window`);
    await B.page.screenshot({ path: path.join(SHOTS, `${name}-${tag}.png`), fullPage: true });
  }
  await B.page.setViewportSize(WIDE);
}

/** Follows a link of the console's navigation. */
async function nav(name) {
  await B.page.locator('#nav').getByRole('link', { name, exact: true }).click();
}

/** Opens url in a fresh document (a reload: the tab forgets the key). */
async function reopen(url) {
  await B.page.goto('about:blank');
  await B.page.goto(url);
}

/** Clicks the confirm dialog's button (ok or cancel) after checking its text. */
async function answerConfirm(pattern, ok) {
  const dlg = B.page.locator('dialog#confirm');
  await dlg.waitFor();
  assert.match(await dlg.locator('#confirm-text').textContent(), pattern);
  await dlg.locator(ok ? '#confirm-ok' : '#confirm-cancel').click();
  await dlg.waitFor({ state: 'hidden' });
}

describe('the console in chromium', () => {
  const room = `studio-${rand(3)}`;
  const subject = `user-${rand(3)}`;

  test('a wrong key is refused with a clear message; the right key signs in', async () => {
    const p = B.page;
    await p.goto(`${B.srv.base}/console/`);
    await p.getByLabel('Admin key').fill(`${ADMIN_KEY}-wrong`);
    await p.getByRole('button', { name: 'Sign in' }).click();
    const err = p.locator('#signin-error');
    await err.waitFor();
    assert.match(await err.textContent(), /refused: it is neither the admin key nor an API key with the admin permission/);
    assert.equal(await p.locator('#nav').isVisible(), false);
    // The browser logs the refused request itself (a 401 from /admin/v1/status); nothing else.
    const logged = takeErrors();
    assert.equal(logged.length, 1, logged.join('\n'));
    assert.match(logged[0], /status of 401/);
    await shot('signin');

    // Keyboard only: the key field is focused, Enter submits.
    assert.equal(await p.evaluate(() => document.activeElement.id), 'signin-key');
    await p.keyboard.type(ADMIN_KEY);
    await p.keyboard.press('Enter');
    await viewIs('Rooms');
    assert.equal(await p.locator('#signin').isVisible(), false);
    assert.doesNotMatch(p.url(), new RegExp(ADMIN_KEY));
    const stored = await p.evaluate(() => [document.cookie, localStorage.length, sessionStorage.length]);
    assert.deepEqual(stored, ['', 0, 0], 'the key is held in memory only');
    assert.deepEqual(await B.ctx.cookies(), []);
  });

  test('create a room (a refused one shows its error next to the form)', async () => {
    const p = B.page;
    const form = p.locator('form', { has: p.getByRole('heading', { name: 'Create a room' }) });
    await form.getByLabel('Name').fill(room);
    await form.getByLabel('Max token lifetime').fill('forever');
    await form.getByRole('button', { name: 'Create room' }).click();
    const err = form.locator('.error');
    await err.waitFor();
    assert.match(await err.textContent(), /max_ttl must be seconds/);
    assert.match(takeErrors().join('\n'), /status of 400/);
    await form.getByLabel('Max token lifetime').fill('2h');
    await form.getByLabel('Alias (optional)').fill(`${room}-alias`);
    await form.getByLabel('Default role').selectOption('listener');
    await form.getByRole('button', { name: 'Create room' }).click();
    await viewIs(room);
    const r = await admin('GET', `/admin/v1/rooms/${room}`);
    assert.equal(r.status, 200, showRes(r));
    assert.equal(r.json.alias, `${room}-alias`);
    assert.equal(r.json.default_role, 'listener');
    assert.equal(r.json.max_ttl, 7200);
  });

  test('the rooms list finds it by search', async () => {
    const p = B.page;
    await nav('Rooms');
    await viewIs('Rooms');
    await p.getByLabel('Search rooms').fill(`${room}-ali`);
    const rows = p.locator('tbody tr:not([hidden])');
    assert.equal(await rows.count(), 1);
    assert.equal(await rows.first().getAttribute('data-room'), room);
    await p.getByLabel('Search rooms').fill('no-such-room-anywhere');
    assert.equal(await p.locator('tbody tr:not([hidden])').count(), 0);
    await p.getByLabel('Search rooms').fill('');
    await shot('rooms');
    await p.getByRole('link', { name: room, exact: true }).click();
    await viewIs(room);
  });

  test('edit the room\'s settings', async () => {
    const p = B.page;
    await p.getByText('Edit settings').click();
    const form = p.getByRole('form', { name: 'Edit room settings' });
    await form.getByLabel('Who may join').selectOption('authenticated');
    await form.getByLabel('Max participants').fill('3');
    await form.getByRole('button', { name: 'Save settings' }).click();
    await p.locator('dl.facts dd', { hasText: 'anyone signed in' }).waitFor();
    const r = await admin('GET', `/admin/v1/rooms/${room}`);
    assert.equal(r.json.mode, 'authenticated');
    assert.equal(r.json.max_participants, 3);
    assert.equal(r.json.max_ttl, 7200, 'what was not changed stays');
    assert.equal(r.json.default_role, 'listener');
    assert.equal(r.json.alias, `${room}-alias`);
    // Back to members only, for the membership steps below.
    await p.getByText('Edit settings').click();
    await p.getByRole('form', { name: 'Edit room settings' }).getByLabel('Who may join').selectOption('members');
    await p.getByRole('form', { name: 'Edit room settings' }).getByRole('button', { name: 'Save settings' }).click();
    await p.locator('dl.facts dd', { hasText: 'members only' }).waitFor();
    assert.equal((await admin('GET', `/admin/v1/rooms/${room}`)).json.mode, 'members');
  });

  test('add a member', async () => {
    const p = B.page;
    const form = p.locator('form', { has: p.getByRole('heading', { name: 'Add a member' }) });
    await form.getByLabel('Subject').fill(subject);
    await form.getByLabel('Role').selectOption('member');
    await form.getByRole('button', { name: 'Add member' }).click();
    await p.locator(`tr[data-subject="${subject}"]`).waitFor();
    const m = await admin('GET', `/admin/v1/rooms/${room}/members/${subject}`);
    assert.equal(m.status, 200, showRes(m));
    assert.equal(m.json.role, 'member');
    await shot('room');
  });

  test('a token minted for the member through the livekit family appears in the audit with its grants', async () => {
    const p = B.page;
    const res = await mintAs(B.srv, subject, room);
    assert.equal(res.status, 200, showRes(res));
    const claims = await verifyToken(res.json.token);
    await nav('Audit');
    await viewIs('Audit');
    await p.getByLabel('Room').fill(room);
    await p.getByRole('button', { name: 'Show' }).click();
    const row = p.locator(`tr[data-jti="${claims.jti}"]`);
    await row.waitFor();
    assert.equal(await row.locator('th').textContent(), subject);
    assert.match(await row.textContent(), /livekit\.token/);
    await row.getByText('Grants').click();
    const shown = JSON.parse(await row.locator('pre.grants').textContent());
    assert.deepEqual(shown.video, JSON.parse(JSON.stringify(claims.video)), 'the record shows the token\'s grants in full');
    assert.equal(shown.video.canPublish, true);
    assert.match(await row.locator('dl').textContent(), new RegExp(claims.jti));
    assert.doesNotMatch(await p.content(), new RegExp(res.json.token.split('.')[2]), 'never the token');
    await shot('audit');
  });

  test('the audit filters by subject, family and time, and pages', async () => {
    const p = B.page;
    for (let i = 0; i < 50; i++) assert.equal((await mintAs(B.srv, subject, room)).status, 200);
    await reopen(`${B.srv.base}/console/#/audit?room=${room}&since=1h`);
    await p.locator('#signin').waitFor();
    await p.getByLabel('Admin key').fill(B.opsKey); // an API key with the admin permission
    await p.getByRole('button', { name: 'Sign in' }).click();
    await viewIs('Audit');
    assert.equal(await p.locator('tbody tr').count(), 50);
    await p.getByRole('link', { name: 'Older records' }).click();
    await p.locator('a', { hasText: 'Newest' }).waitFor();
    assert.equal(await p.locator('tbody tr').count(), 1, 'the 51st record on the second page');
    await p.getByRole('link', { name: 'Newest' }).click();
    await p.getByRole('link', { name: 'Older records' }).waitFor();
    await p.getByLabel('Subject').fill('somebody-else');
    await p.getByRole('button', { name: 'Show' }).click();
    await p.getByText('No records match.').waitFor();
    await p.getByLabel('Subject').fill(subject);
    await p.getByLabel('Family').selectOption('supabase');
    await p.getByRole('button', { name: 'Show' }).click();
    await p.getByText(/0 records \(50 of other families hidden/).waitFor();
    await p.getByLabel('Family').selectOption('livekit');
    await p.getByRole('button', { name: 'Show' }).click();
    await p.getByText(/^50 records \(0 of other families/).waitFor();
  });

  test('change the member\'s role', async () => {
    const p = B.page;
    await reopen(`${B.srv.base}/console/#/rooms/${room}`);
    await p.getByLabel('Admin key').fill(ADMIN_KEY);
    await p.getByRole('button', { name: 'Sign in' }).click();
    await viewIs(room);
    const row = p.locator(`tr[data-subject="${subject}"]`);
    await row.getByLabel(`Role of ${subject}`).selectOption('moderator');
    await row.getByRole('button', { name: 'Change role' }).click();
    await p.waitForFunction(async ([r, s, k]) => {
      const res = await fetch(`/admin/v1/rooms/${r}/members/${s}`, { headers: { authorization: `Bearer ${k}` } });
      return (await res.json()).role === 'moderator';
    }, [room, subject, ADMIN_KEY]);
    const res = await mintAs(B.srv, subject, room);
    const claims = await verifyToken(res.json.token);
    assert.equal(claims.video.roomAdmin, true, 'the next token carries the new role');
  });

  test('see who is in the call (a participant joined through the LiveKit stand-in) and kick them', async () => {
    const p = B.page;
    const res = await mintAs(B.srv, subject, room);
    assert.equal(res.status, 200, showRes(res));
    const joined = await B.lk.join(res.json.token);
    assert.equal(joined.ok, true, joined.reason);
    const row = p.locator(`section[aria-labelledby="live-title"] tr[data-identity="${subject}"]`);
    await waitFor(async () => {
      await p.getByRole('button', { name: 'Refresh' }).click();
      await viewIs(room);
      return (await row.count()) === 1;
    }, 'the participant in the room view');
    assert.match(await row.textContent(), /standard|STANDARD|\d{4}-\d\d-\d\d/i);
    await shot('room-live');
    const before = B.lk.callsOf('RemoveParticipant').length;
    await row.getByRole('button', { name: 'Kick' }).click();
    await answerConfirm(new RegExp(`Kick ${subject} out of the call in "${room}"`), false);
    assert.equal(B.lk.callsOf('RemoveParticipant').length, before, 'cancel kicks nobody');
    await row.getByRole('button', { name: 'Kick' }).click();
    await answerConfirm(/Kick/, true);
    await waitFor(() => B.lk.callsOf('RemoveParticipant').slice(before).some((c) => c.body.identity === subject && c.status === 200),
      'RemoveParticipant for the kicked identity');
    await waitFor(async () => {
      await p.getByRole('button', { name: 'Refresh' }).click();
      await viewIs(room);
      return (await row.count()) === 0;
    }, 'the participant gone from the room view');
    const m = await admin('GET', `/admin/v1/rooms/${room}/members/${subject}`);
    assert.equal(m.status, 200, 'a kick keeps the membership');
  });

  test('remove the member, after a confirmation (cancel keeps them)', async () => {
    const p = B.page;
    const row = p.locator(`tr[data-subject="${subject}"]`);
    await row.getByRole('button', { name: 'Remove' }).click();
    await answerConfirm(new RegExp(`Remove ${subject} from "${room}"`), false);
    assert.equal((await admin('GET', `/admin/v1/rooms/${room}/members/${subject}`)).status, 200, 'cancel removes nobody');
    await row.getByRole('button', { name: 'Remove' }).click();
    await answerConfirm(/Remove/, true);
    await row.waitFor({ state: 'detached' });
    assert.equal((await admin('GET', `/admin/v1/rooms/${room}/members/${subject}`)).status, 404);
    assert.equal((await mintAs(B.srv, subject, room)).status, 403, 'a removed member gets no token');
    assert.match(takeErrors().join('\n'), /^$/);
  });

  test('meetings: create, change status, delete', async () => {
    const p = B.page;
    const id = `m${rand(3)}`;
    await nav('Meetings');
    await viewIs('Meetings');
    const form = p.locator('form', { has: p.getByRole('heading', { name: 'Create a meeting' }) });
    await form.getByLabel('Meeting id').fill(id);
    await form.getByLabel('Heading').fill('Weekly sync');
    await form.getByLabel('Creator').fill('owner-1');
    await form.getByRole('button', { name: 'Create meeting' }).click();
    const row = p.locator(`tr[data-meeting="${id}"]`);
    await row.waitFor();
    await row.getByLabel(`Status of meeting ${id}`).selectOption('COMPLETED');
    await row.getByRole('button', { name: 'Set' }).click();
    await p.waitForFunction(async ([m, k]) => {
      const res = await fetch(`/admin/v1/meetings/${m}`, { headers: { authorization: `Bearer ${k}` } });
      return (await res.json()).status === 'COMPLETED';
    }, [id, ADMIN_KEY]);
    await shot('meetings');
    await p.locator(`tr[data-meeting="${id}"]`).getByRole('button', { name: 'Delete' }).click();
    await answerConfirm(new RegExp(`Delete meeting ${id}`), true);
    await p.locator(`tr[data-meeting="${id}"]`).waitFor({ state: 'detached' });
    assert.equal((await admin('GET', `/admin/v1/meetings/${id}`)).status, 404);
  });

  test('status shows readiness, the LiveKit URL and key id, never a secret', async () => {
    const p = B.page;
    await nav('Status');
    await viewIs('Status');
    const text = await p.locator('#view').textContent();
    assert.match(text, /ready/);
    assert.match(text, /wss:\/\/lk\.ops\.test/);
    assert.match(text, /APIopsTestKey/);
    assert.match(text, /0\.\d+\.\d+/);
    const html = await p.content();
    for (const secret of [LK_SECRET, SESSION_SECRET, ADMIN_KEY, B.opsKey]) assert.ok(!html.includes(secret), 'no secret on the page');
    await shot('status');
  });

  test('keyboard: the navigation is reachable with Tab and works with Enter', async () => {
    const p = B.page;
    await p.locator('#view h1').focus();
    let label = '';
    for (let i = 0; i < 20 && label !== 'Audit'; i++) {
      await p.keyboard.press('Shift+Tab');
      label = await p.evaluate(() => document.activeElement.textContent.trim());
    }
    assert.equal(label, 'Audit');
    await p.keyboard.press('Enter');
    await viewIs('Audit');
    assert.equal(await p.evaluate(() => document.activeElement.tagName), 'H1', 'focus moves to the new view');
  });

  test('sign out forgets the key', async () => {
    const p = B.page;
    await p.getByRole('button', { name: 'Sign out' }).click();
    await p.locator('#signin').waitFor();
    await reopen(`${B.srv.base}/console/#/rooms`);
    await p.locator('#signin').waitFor();
    assert.equal(await p.locator('#view').isVisible(), false);
  });

  test('no console error on any page; every console response had the CSP header', () => {
    assert.deepEqual(takeErrors(), []);
    assert.ok(B.consoleResponses >= 10, `${B.consoleResponses} console responses seen`);
    assert.deepEqual(B.missingCsp, []);
  });
});
