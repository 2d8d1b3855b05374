// ui.js - small DOM helpers: elements built with text only (never HTML
// from data), form errors next to their form, confirmation, formatting.

/**
 * h('tag.class#id', {attr: value, onclick: fn}, ...children): an element.
 * Children are nodes or text; null/false children are skipped.
 */
export function h(spec, attrs = {}, ...children) {
  const [, tag, rest = ''] = spec.match(/^([a-z0-9]+)(.*)$/);
  const el = document.createElement(tag);
  for (const part of rest.match(/[.#][^.#]+/g) ?? []) {
    if (part[0] === '.') el.classList.add(part.slice(1));
    else el.id = part.slice(1);
  }
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'value') el.value = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

let uid = 0;
/** A fresh id for label/input pairs. */
export const nextId = (p) => `${p}-${++uid}`;

/** A labelled input: returns {wrap, input}. */
export function field(label, attrs = {}, hint) {
  const id = nextId('f');
  const input = attrs.tag === 'select' ? select(id, attrs) : h('input', { id, ...attrs });
  const hintId = hint ? `${id}-hint` : null;
  if (hintId) input.setAttribute('aria-describedby', hintId);
  const wrap = h('div.field', {}, h('label', { for: id }, label), input, hint ? h('small', { id: hintId }, hint) : null);
  return { wrap, input };
}

function select(id, { options = [], value, tag, ...attrs }) {
  const el = h('select', { id, ...attrs });
  for (const o of options) {
    const [v, text] = Array.isArray(o) ? o : [o, o];
    el.append(h('option', { value: v }, text));
  }
  if (value !== undefined) el.value = value;
  return el;
}

/** An error line for a form (role=alert), hidden until set. */
export function errorLine() {
  return h('p.error', { role: 'alert', hidden: true });
}

/** Shows err (an ApiError or text) in line, or hides line for null. */
export function showError(line, err) {
  if (!err) {
    line.hidden = true;
    line.textContent = '';
    return;
  }
  line.textContent = typeof err === 'string' ? err : describe(err);
  line.hidden = false;
}

/** A person-readable account of an ApiError. */
export function describe(err) {
  if (err.status === 401) return `Refused: ${err.message}. Sign in again with a valid key.`;
  if (err.status === 403) return `Forbidden: ${err.message}.`;
  if (err.status === 0) return err.message;
  return `${err.message} (${err.status} ${err.code})`;
}

/**
 * Runs fn (async) for a form submit: disables the form's buttons, shows a
 * failure in line; resolves to true on success.
 */
export async function submitting(form, line, fn) {
  const buttons = [...form.querySelectorAll('button')];
  buttons.forEach((b) => { b.disabled = true; });
  showError(line, null);
  try {
    await fn();
    return true;
  } catch (e) {
    showError(line, e);
    return false;
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
}

/**
 * Runs fn (async: an API call), then done; a failure of either is shown
 * in line (hidden first).
 */
export async function attempt(line, fn, done) {
  showError(line, null);
  try {
    await fn();
    done();
  } catch (e) {
    showError(line, e);
  }
}

/** A select whose label only screen readers see (inline in a row): {wrap, input}. */
export function inlineSelect(label, options, value) {
  const f = field(label, { tag: 'select', options, value });
  f.wrap.classList.add('inline');
  f.wrap.querySelector('label').classList.add('sr-only');
  return f;
}

/** Asks for confirmation in the page's modal dialog; resolves to true/false. */
export function confirmAction(text, okLabel = 'Confirm') {
  const dlg = document.getElementById('confirm');
  document.getElementById('confirm-text').textContent = text;
  document.getElementById('confirm-ok').textContent = okLabel;
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
    dlg.returnValue = 'cancel';
    dlg.showModal();
    document.getElementById('confirm-cancel').focus();
  });
}

/** Unix seconds as local "YYYY-MM-DD HH:MM:SS". */
export function when(t) {
  if (!t) return '-';
  const d = new Date(t * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** Seconds as "2h", "90m", "45s"; 0 as the given word. */
export function span(s, zero = 'none') {
  if (!s) return zero;
  if (s % 3600 === 0) return `${s / 3600}h`;
  if (s % 60 === 0) return `${s / 60}m`;
  return `${s}s`;
}

/**
 * A table in a focusable region. Each cell carries its column's name
 * (data-label), so narrow screens show every row as a card.
 */
export function table(caption, headers, rows) {
  for (const tr of rows) [...tr.children].forEach((cell, i) => { if (headers[i]) cell.dataset.label = headers[i]; });
  return h('div.scroll', { role: 'region', 'aria-label': caption, tabindex: 0 },
    h('table', {},
      h('caption', {}, caption),
      h('thead', {}, h('tr', {}, headers.map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows)));
}

/** A view's heading, focused after navigation for screen readers. */
export function heading(text) {
  return h('h1', { tabindex: -1 }, text);
}
