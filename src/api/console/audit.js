// audit.js - the audit of issued tokens: filters (room, subject, family,
// time), paging, one record's grants in full.

import { call } from './api.js';
import { errorLine, field, h, heading, showError, table, when } from './ui.js';

const FAMILIES = [['', 'all'], ['livekit', 'livekit'], ['voice_agent', 'voice-agent'], ['token_source', 'token-source'],
  ['supabase', 'supabase'], ['meetings', 'meetings']];
const SINCE = [['', 'any time'], ['15m', 'last 15 minutes'], ['1h', 'last hour'], ['24h', 'last 24 hours'], ['168h', 'last 7 days']];
const PAGE = 50;

/** The family of a record's route label ("livekit.token" -> "livekit"). */
const familyOf = (route) => (route ?? '').split('.')[0];

function record(r) {
  const facts = h('dl.facts', {},
    ...[['id', r.id], ['jti', r.jti], ['subject', r.subject], ['identity', r.identity], ['room', r.room],
      ['role', r.role], ['route', r.route], ['client IP', r.client_ip], ['issued', when(r.issued_at)],
      ['expires', when(r.exp)]].flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v ?? '-')]));
  const grants = h('pre.grants', { tabindex: 0, 'aria-label': `Grants of record ${r.id}` }, JSON.stringify(r.grants, null, 2));
  return h('tr', { 'data-jti': r.jti },
    h('td', {}, when(r.issued_at)),
    h('th', { scope: 'row' }, r.subject),
    h('td', {}, r.room),
    h('td', {}, r.role),
    h('td', {}, r.route),
    h('td', {}, h('details.record', {}, h('summary', {}, 'Grants'), facts, grants)));
}

export async function auditView(shell, query) {
  const q = Object.fromEntries(query);
  const room = field('Room', { name: 'room', value: q.room ?? '', autocomplete: 'off' });
  const subject = field('Subject', { name: 'subject', value: q.subject ?? '', autocomplete: 'off' });
  const family = field('Family', { tag: 'select', name: 'family', options: FAMILIES, value: q.family ?? '' });
  const since = field('Issued', { tag: 'select', name: 'since', options: SINCE, value: q.since ?? '' });
  const line = errorLine();
  const form = h('form.stack.card', { 'aria-label': 'Filter the audit', novalidate: true },
    h('div.grid', {}, room.wrap, subject.wrap, family.wrap, since.wrap), line,
    h('div.row', {}, h('button', { type: 'submit' }, 'Show'), h('a', { href: '#/audit' }, 'Clear filters')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const next = new URLSearchParams();
    for (const [k, v] of [['room', room], ['subject', subject], ['family', family], ['since', since]])
      if (v.input.value.trim()) next.set(k, v.input.value.trim());
    shell.go(`#/audit?${next}`);
  });
  let data = { records: [], next_before_id: null };
  try {
    data = await call('GET', '/audit', {
      query: { room: q.room, subject: q.subject, since: q.since, limit: PAGE, before_id: q.before_id },
    });
  } catch (e) {
    if (shell.fail(e)) throw e;
    showError(line, e);
  }
  const records = q.family ? data.records.filter((r) => familyOf(r.route) === q.family) : data.records;
  const pager = h('nav.row.pager', { 'aria-label': 'Audit pages' });
  if (q.before_id) {
    const first = new URLSearchParams(query);
    first.delete('before_id');
    pager.append(h('a', { href: `#/audit?${first}` }, 'Newest'));
  }
  if (data.next_before_id) {
    const older = new URLSearchParams(query);
    older.set('before_id', data.next_before_id);
    pager.append(h('a', { href: `#/audit?${older}`, rel: 'next' }, 'Older records'));
  }
  const note = q.family ? ` (${data.records.length - records.length} of other families hidden on this page)` : '';
  return h('section', {},
    heading('Audit'),
    h('p', {}, 'Every token RoomKey issued, newest first. A record never holds the token itself.'),
    form,
    h('p.count', {}, `${records.length} record${records.length === 1 ? '' : 's'}${note}`),
    records.length ? table('Issued tokens', ['Issued', 'Subject', 'Room', 'Role', 'Route', 'Record'], records.map(record))
      : h('p', {}, 'No records match.'),
    pager);
}
