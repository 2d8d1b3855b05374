// room.js - one room: settings (edit, delete), members (add, change role,
// remove), who is in the call (kick) when RoomKey tracks presence.

import { call, seg } from './api.js';
import { roomFields } from './rooms.js';
import { attempt, confirmAction, errorLine, field, h, heading, inlineSelect, showError, span, submitting, table, when } from './ui.js';

function settings(shell, room) {
  const dl = h('dl.facts', {},
    h('dt', {}, 'Alias'), h('dd', {}, room.alias ?? '-'),
    h('dt', {}, 'Who may join'), h('dd', {}, room.mode === 'members' ? 'members only' : 'anyone signed in'),
    h('dt', {}, 'Default role'), h('dd', {}, room.default_role ?? '(none)'),
    h('dt', {}, 'Max participants'), h('dd', {}, room.max_participants || 'no limit'),
    h('dt', {}, 'Max token lifetime'), h('dd', {}, span(room.max_ttl, 'the global cap')),
    h('dt', {}, 'Members'), h('dd', {}, room.member_count),
    h('dt', {}, 'Created'), h('dd', {}, when(room.created_at)));
  const f = roomFields(shell, room);
  const line = errorLine();
  const form = h('form.stack', { 'aria-label': 'Edit room settings', novalidate: true },
    h('div.grid', {}, f.nodes), line, h('button', { type: 'submit' }, 'Save settings'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (await submitting(form, line, () => call('PUT', `/rooms/${seg(room.name)}`, { body: f.read() }))) shell.go(location.hash);
  });
  const delLine = errorLine();
  const del = h('button.danger', { type: 'button' }, 'Delete room');
  del.addEventListener('click', async () => {
    if (!(await confirmAction(`Delete room "${room.name}" and its ${room.member_count} membership(s)? Tokens already issued stay valid until they expire.`, 'Delete room'))) return;
    try {
      await call('DELETE', `/rooms/${seg(room.name)}`);
      shell.go('#/rooms');
    } catch (e) {
      showError(delLine, e);
    }
  });
  return h('section.card', { 'aria-labelledby': 'settings-title' },
    h('h2#settings-title', {}, 'Settings'), dl,
    h('details', {}, h('summary', {}, 'Edit settings'), form),
    h('div.row', {}, del, h('a', { href: `#/audit?room=${seg(room.name)}` }, 'Tokens issued for this room')), delLine);
}

function memberRow(shell, room, m, line) {
  const reload = () => shell.go(location.hash);
  const role = inlineSelect(`Role of ${m.subject}`, shell.roles(), m.role);
  const save = h('button', { type: 'button' }, 'Change role');
  save.addEventListener('click', () =>
    attempt(line, () => call('PUT', `/rooms/${seg(room.name)}/members/${seg(m.subject)}`, { body: { role: role.input.value } }), reload));
  const remove = h('button.danger', { type: 'button' }, 'Remove');
  remove.addEventListener('click', async () => {
    if (!(await confirmAction(`Remove ${m.subject} from "${room.name}"? If they are in the call, RoomKey takes them out.`, 'Remove member'))) return;
    await attempt(line, () => call('DELETE', `/rooms/${seg(room.name)}/members/${seg(m.subject)}`), reload);
  });
  return h('tr', { 'data-subject': m.subject },
    h('th', { scope: 'row' }, m.subject),
    h('td', {}, h('div.row', {}, role.wrap, save)),
    h('td', {}, when(m.created_at)),
    h('td', {}, remove));
}

function members(shell, room, list) {
  const line = errorLine();
  const subject = field('Subject', { name: 'subject', required: true, autocomplete: 'off', maxlength: 256 }, 'the user id of the app\'s session (its "sub")');
  const role = field('Role', { tag: 'select', name: 'role', options: shell.roles(), value: room.default_role ?? 'member' });
  const addLine = errorLine();
  const form = h('form.stack', { 'aria-labelledby': 'add-member-title', novalidate: true },
    h('h3#add-member-title', {}, 'Add a member'), h('div.grid', {}, subject.wrap, role.wrap), addLine,
    h('button', { type: 'submit' }, 'Add member'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { subject: subject.input.value.trim(), role: role.input.value };
    if (await submitting(form, addLine, () => call('POST', `/rooms/${seg(room.name)}/members`, { body }))) shell.go(location.hash);
  });
  return h('section.card', { 'aria-labelledby': 'members-title' },
    h('h2#members-title', {}, `Members (${list.length})`),
    list.length ? table(`Members of ${room.name}`, ['Subject', 'Role', 'Since', ''], list.map((m) => memberRow(shell, room, m, line)))
      : h('p', {}, 'No members yet.'),
    line, form);
}

const BANS = [['', 'no ban'], ['10m', '10 minutes'], ['1h', '1 hour'], ['24h', '24 hours']];

/** Who is in the call now (from LiveKit's webhooks), with kick. */
async function participants(shell, room) {
  const { participants: list } = await call('GET', `/rooms/${seg(room.name)}/participants`);
  const line = errorLine();
  const ban = field('After a kick, keep them out for', { tag: 'select', options: BANS, value: '' });
  ban.wrap.classList.add('ban');
  const rows = list.map((p) => {
    const kick = h('button.danger', { type: 'button' }, 'Kick');
    kick.addEventListener('click', async () => {
      const banned = ban.input.value;
      const text = `Kick ${p.identity} out of the call in "${room.name}"?` +
        (banned ? ` They cannot join again for ${ban.input.selectedOptions[0].textContent}.` : ' Their membership stays.');
      if (!(await confirmAction(text, 'Kick'))) return;
      await attempt(line, () => call('POST', `/rooms/${seg(room.name)}/participants/${seg(p.identity)}/kick`, banned ? { body: { ban: banned } } : {}),
        () => shell.go(location.hash));
    });
    return h('tr', { 'data-identity': p.identity },
      h('th', { scope: 'row' }, p.identity), h('td', {}, p.name || '-'), h('td', {}, p.kind ?? '-'),
      h('td', {}, when(p.joined_at)), h('td', {}, kick));
  });
  const refresh = h('button.quiet', { type: 'button' }, 'Refresh');
  refresh.addEventListener('click', () => shell.go(location.hash));
  return h('section.card', { 'aria-labelledby': 'live-title' },
    h('div.row.spread', {}, h('h2#live-title', {}, `In the call (${list.length})`), refresh),
    list.length ? table(`Participants in ${room.name}`, ['Identity', 'Name', 'Kind', 'Joined', ''], rows) : h('p', {}, 'Nobody is in the call.'),
    list.length ? ban.wrap : null, line);
}

export async function roomView(shell, name) {
  const room = await call('GET', `/rooms/${seg(name)}`);
  const { members: list } = await call('GET', `/rooms/${seg(room.name)}/members`);
  const live = await participants(shell, room);
  return h('section', {},
    h('p.crumbs', {}, h('a', { href: '#/rooms' }, 'Rooms'), ' / '),
    heading(room.name),
    h('div.columns', {}, settings(shell, room), members(shell, room, list)),
    live);
}
