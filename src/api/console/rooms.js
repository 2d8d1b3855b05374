// rooms.js - the rooms view: list, search, create.

import { call, seg } from './api.js';
import { errorLine, field, h, heading, span, submitting, table, when } from './ui.js';

/** Room form fields (create, and edit in room.js); room prefills them. */
export function roomFields(shell, room) {
  const roles = [['', '(none)'], ...shell.roles().map((r) => [r, r])];
  const f = {
    mode: field('Who may join', {
      tag: 'select', name: 'mode', value: room?.mode ?? 'members',
      options: [['members', 'members only'], ['authenticated', 'anyone signed in']],
    }),
    role: field('Default role', { tag: 'select', name: 'default_role', options: roles, value: room ? room.default_role ?? '' : 'member' }),
    maxp: field('Max participants', { name: 'max_participants', type: 'number', min: 0, step: 1, inputmode: 'numeric', value: room?.max_participants ?? 0 }, '0 = no limit'),
    ttl: field('Max token lifetime', { name: 'max_ttl', value: room ? span(room.max_ttl, '0') : '0', autocomplete: 'off' }, 'seconds or a duration such as 2h; 0 = the global cap'),
  };
  const read = () => {
    const ttl = f.ttl.input.value.trim();
    return {
      mode: f.mode.input.value,
      default_role: f.role.input.value || null,
      max_participants: Number(f.maxp.input.value || 0),
      max_ttl: /^\d+$/.test(ttl) ? Number(ttl) : ttl,
    };
  };
  return { nodes: [f.mode.wrap, f.role.wrap, f.maxp.wrap, f.ttl.wrap], read };
}

function createForm(shell) {
  const name = field('Name', { name: 'name', required: true, autocomplete: 'off', maxlength: 256 });
  const alias = field('Alias (optional)', { name: 'alias', autocomplete: 'off', maxlength: 256 });
  const rest = roomFields(shell);
  const line = errorLine();
  const form = h('form.stack.card', { 'aria-labelledby': 'create-room-title', novalidate: true },
    h('h2#create-room-title', {}, 'Create a room'),
    h('div.grid', {}, name.wrap, alias.wrap, rest.nodes), line, h('button', { type: 'submit' }, 'Create room'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = { name: name.input.value.trim(), ...rest.read() };
    if (alias.input.value.trim()) body.alias = alias.input.value.trim();
    let created;
    const ok = await submitting(form, line, async () => { created = await call('POST', '/rooms', { body }); });
    if (ok) shell.go(`#/rooms/${seg(created.name)}`);
  });
  return form;
}

function row(r) {
  return h('tr', { 'data-room': r.name },
    h('th', { scope: 'row' }, h('a', { href: `#/rooms/${seg(r.name)}` }, r.name)),
    h('td', {}, r.alias ?? '-'),
    h('td', {}, r.mode),
    h('td', {}, r.default_role ?? '-'),
    h('td.num', {}, r.max_participants || 'no limit'),
    h('td.num', {}, span(r.max_ttl, 'global')),
    h('td', {}, when(r.created_at)));
}

export async function roomsView(shell, query) {
  const { rooms } = await call('GET', '/rooms');
  const search = field('Search rooms', { type: 'search', name: 'q', value: query.get('q') ?? '', autocomplete: 'off' }, 'by name or alias');
  const tbody = [];
  const rows = rooms.map((r) => ({ r, tr: row(r) }));
  const count = h('p.count', { 'aria-live': 'polite' });
  const filter = () => {
    const q = search.input.value.trim().toLowerCase();
    let shown = 0;
    for (const { r, tr } of rows) {
      tr.hidden = q !== '' && !r.name.toLowerCase().includes(q) && !(r.alias ?? '').toLowerCase().includes(q);
      if (!tr.hidden) shown++;
    }
    count.textContent = `${shown} of ${rooms.length} room${rooms.length === 1 ? '' : 's'}`;
  };
  search.input.addEventListener('input', filter);
  rows.forEach(({ tr }) => tbody.push(tr));
  filter();
  return h('section', {},
    heading('Rooms'),
    h('div.toolbar', { role: 'search' }, search.wrap, count),
    rooms.length ? table('Rooms', ['Name', 'Alias', 'Mode', 'Default role', 'Max participants', 'Max TTL', 'Created'], tbody)
      : h('p', {}, 'No rooms yet.'),
    createForm(shell));
}
