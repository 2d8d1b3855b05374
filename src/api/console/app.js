// app.js - the console's shell: sign-in, navigation by the URL's hash
// (#/rooms, #/rooms/NAME, #/audit, #/meetings, #/status), and the views.

import { ApiError, call, signIn, signOut, signedIn } from './api.js';
import { auditView } from './audit.js';
import { meetingsView } from './meetings.js';
import { roomView } from './room.js';
import { roomsView } from './rooms.js';
import { statusView } from './status.js';
import { describe, h, showError } from './ui.js';

const $ = (id) => document.getElementById(id);

/** What every view may ask of the shell. */
const shell = {
  status: null, // GET /admin/v1/status, read at sign-in
  roles: () => shell.status?.roles ?? ['member', 'listener', 'moderator'],
  go: (hash) => {
    if (location.hash === hash) render();
    else location.hash = hash;
  },
  fail: (err) => {
    if (err instanceof ApiError && err.status === 401) {
      showSignIn(describe(err));
      return true;
    }
    return false;
  },
};

/** Parses the hash: {view, arg, query}. */
function route() {
  const [path, qs = ''] = location.hash.replace(/^#/, '').split('?');
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  return { view: parts[0] ?? 'rooms', arg: parts[1], query: new URLSearchParams(qs) };
}

const VIEWS = {
  rooms: (r) => (r.arg === undefined ? roomsView(shell, r.query) : roomView(shell, r.arg)),
  audit: (r) => auditView(shell, r.query),
  meetings: (r) => meetingsView(shell, r.query),
  status: () => statusView(shell),
};

let rendering = 0;

async function render() {
  if (!signedIn()) return showSignIn();
  const r = route();
  const make = VIEWS[r.view] ?? VIEWS.rooms;
  for (const a of $('nav').querySelectorAll('a')) {
    if (a.dataset.view === r.view) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const ticket = ++rendering;
  const view = $('view');
  view.setAttribute('aria-busy', 'true');
  let node;
  try {
    node = await make(r);
  } catch (e) {
    if (shell.fail(e)) return;
    node = h('section', {}, h('h1', { tabindex: -1 }, 'Something went wrong'),
      h('p.error', { role: 'alert' }, e instanceof ApiError ? describe(e) : String(e)));
  }
  if (ticket !== rendering) return; // a later navigation won
  view.replaceChildren(node);
  view.removeAttribute('aria-busy');
  view.hidden = false;
  document.title = `${node.querySelector('h1')?.textContent ?? 'Console'} - RoomKey`;
  node.querySelector('h1')?.focus();
}

function showSignIn(message) {
  signOut();
  shell.status = null;
  $('nav').hidden = true;
  $('view').hidden = true;
  $('view').replaceChildren();
  $('signin').hidden = false;
  showError($('signin-error'), message ?? null);
  document.title = 'Sign in - RoomKey';
  $('signin-key').focus();
}

async function onSignIn(ev) {
  ev.preventDefault();
  const input = $('signin-key');
  const k = input.value.trim();
  const line = $('signin-error');
  if (!k) return showError(line, 'Enter the admin key.');
  signIn(k);
  const button = ev.target.querySelector('button');
  button.disabled = true;
  try {
    shell.status = await call('GET', '/status');
  } catch (e) {
    signOut();
    button.disabled = false;
    input.focus();
    input.select();
    if (e instanceof ApiError && e.status === 401) return showError(line, 'That key was refused: it is neither the admin key nor an API key with the admin permission.');
    if (e instanceof ApiError && e.status === 403) return showError(line, 'That key is valid but lacks the admin permission.');
    return showError(line, describe(e));
  }
  button.disabled = false;
  input.value = '';
  showError(line, null);
  $('signin').hidden = true;
  $('nav').hidden = false;
  if (!location.hash || location.hash === '#') location.hash = '#/rooms';
  else render();
}

$('signin-form').addEventListener('submit', onSignIn);
$('signout').addEventListener('click', () => {
  showSignIn();
  history.replaceState(null, '', location.pathname);
});
window.addEventListener('hashchange', render);
showSignIn();
