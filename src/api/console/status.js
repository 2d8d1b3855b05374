// status.js - the service's status: readiness, LiveKit URL and key ids,
// route families, version. The API never returns a secret.

import { call } from './api.js';
import { h, heading, table, when } from './ui.js';

export async function statusView(shell) {
  const s = await call('GET', '/status');
  shell.status = s;
  const checks = Object.entries(s.checks).map(([k, v]) =>
    h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, h(v === 'ok' ? 'span.ok' : 'span.bad', {}, v))));
  const keys = s.livekit.key_ids.map((id) => h('li', {}, h('code', {}, id), id === s.livekit.signing_key_id ? ' (signs new tokens)' : ''));
  const families = Object.entries(s.families).map(([k, on]) => h('li', {}, `${k}: `, h(on ? 'span.ok' : 'span.off', {}, on ? 'on' : 'off')));
  return h('section', {},
    heading('Status'),
    h('p', {}, 'RoomKey ', h('strong', {}, s.version), ` (commit ${s.commit}) is `, h(s.status === 'ready' ? 'strong.ok' : 'strong.bad', {}, s.status === 'ready' ? 'ready' : 'not ready'),
      ` (as of ${when(s.time)}).`),
    h('div.columns', {},
      h('section.card', { 'aria-labelledby': 'checks-title' }, h('h2#checks-title', {}, 'Readiness'), table('Readiness checks', ['Check', 'Result'], checks)),
      h('section.card', { 'aria-labelledby': 'lk-title' }, h('h2#lk-title', {}, 'LiveKit'),
        h('dl.facts', {}, h('dt', {}, 'URL'), h('dd', {}, s.livekit.url ?? '(not set)')),
        h('h3', {}, 'API key ids'), keys.length ? h('ul', {}, keys) : h('p.bad', {}, 'No LiveKit key configured.')),
      h('section.card', { 'aria-labelledby': 'fam-title' }, h('h2#fam-title', {}, 'Route families'), h('ul', {}, families),
        h('h3', {}, 'Roles'), h('p', {}, s.roles.join(', ')))));
}
