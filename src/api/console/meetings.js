// meetings.js - the meetings of the meetings family: list (paged),
// create, change status, delete.

import { call, seg } from './api.js';
import { attempt, confirmAction, errorLine, field, h, heading, inlineSelect, submitting, table, when } from './ui.js';

const STATUSES = ['PENDING', 'SCHEDULED', 'PROCESSING', 'COMPLETED', 'CANCELED'];
const PAGE = 50;

function createForm(shell) {
  const id = field('Meeting id', { name: 'meeting_id', required: true, autocomplete: 'off', maxlength: 64, pattern: '[A-Za-z0-9_-]+' }, 'A-Z, a-z, 0-9, _ and -');
  const headingF = field('Heading', { name: 'heading', required: true, autocomplete: 'off', maxlength: 256 });
  const creator = field('Creator', { name: 'creator', required: true, autocomplete: 'off', maxlength: 256 }, 'the creator\'s session subject');
  const status = field('Status', { tag: 'select', name: 'status', options: STATUSES, value: 'PROCESSING' });
  const desc = field('Description', { name: 'description', autocomplete: 'off', maxlength: 2048 });
  const line = errorLine();
  const form = h('form.stack.card', { 'aria-labelledby': 'create-meeting-title', novalidate: true },
    h('h2#create-meeting-title', {}, 'Create a meeting'),
    h('div.grid', {}, id.wrap, headingF.wrap, creator.wrap, status.wrap, desc.wrap), line,
    h('button', { type: 'submit' }, 'Create meeting'));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {
      meeting_id: id.input.value.trim(), heading: headingF.input.value.trim(), creator: creator.input.value.trim(),
      status: status.input.value, description: desc.input.value,
    };
    if (await submitting(form, line, () => call('POST', '/meetings', { body }))) shell.go(location.hash);
  });
  return form;
}

function row(shell, m, line) {
  const reload = () => shell.go(location.hash);
  const status = inlineSelect(`Status of meeting ${m.meeting_id}`, STATUSES, m.status);
  const set = h('button', { type: 'button' }, 'Set');
  set.addEventListener('click', () =>
    attempt(line, () => call('PUT', `/meetings/${seg(m.meeting_id)}`, { body: { status: status.input.value } }), reload));
  const del = h('button.danger', { type: 'button' }, 'Delete');
  del.addEventListener('click', async () => {
    if (!(await confirmAction(`Delete meeting ${m.meeting_id} with its room ${m.room} and participants?`, 'Delete meeting'))) return;
    await attempt(line, () => call('DELETE', `/meetings/${seg(m.meeting_id)}`), reload);
  });
  return h('tr', { 'data-meeting': m.meeting_id },
    h('th', { scope: 'row' }, m.meeting_id),
    h('td', {}, m.heading),
    h('td', {}, h('div.row', {}, status.wrap, set)),
    h('td', {}, m.creator),
    h('td', {}, h('a', { href: `#/rooms/${seg(m.room)}` }, m.room)),
    h('td', {}, when(m.updated_at)),
    h('td', {}, del));
}

export async function meetingsView(shell, query) {
  const after = query.get('after_id') ?? '';
  const data = await call('GET', '/meetings', { query: { limit: PAGE, after_id: after } });
  const line = errorLine();
  const pager = h('nav.row.pager', { 'aria-label': 'Meeting pages' });
  if (after) pager.append(h('a', { href: '#/meetings' }, 'First page'));
  if (data.next_after_id) pager.append(h('a', { href: `#/meetings?after_id=${seg(data.next_after_id)}`, rel: 'next' }, 'Next page'));
  const list = data.meetings;
  return h('section', {},
    heading('Meetings'),
    list.length ? table('Meetings', ['Id', 'Heading', 'Status', 'Creator', 'Room', 'Updated', ''], list.map((m) => row(shell, m, line)))
      : h('p', {}, 'No meetings.'),
    line, pager, createForm(shell));
}
