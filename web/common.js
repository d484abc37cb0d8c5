// Shared rendering: the decision with its reasons, errors in plain words, the app's state.
import { h } from './dom.js';
import { t, reasonText } from './i18n.js';

export const state = { me: null };

export function reasonList(reasons, testid = 'reason') {
  const items = (reasons || []).filter((r) => r && r.code).map((r) =>
    h('li', { testid, data: { code: r.code, effect: r.effect }, class: 'reason ' + (r.effect || '') }, reasonText(r.code, r)));
  return h('ul', { class: 'reasons' }, items);
}

/** An API error as a `decision` box with data-error and its reason in plain words. */
export function errorBox(e, testid = 'decision') {
  const code = e.code === 'network' ? 'network' : e.code;
  const text = code === 'network' ? t('network_error') : reasonText(code, e.details || {});
  const photos = (e.details && e.details.problems) || [];
  return h('div', { testid, class: 'decision rejected', role: 'alert', data: { error: code } },
    h('p', { class: 'verdict' }, code === 'network' ? text : t('decision_rejected')),
    h('ul', { class: 'reasons' }, h('li', { testid: 'reason', class: 'reason reject', data: { code } }, text)),
    photos.length ? h('ul', {}, photos.map((p) => h('li', {}, `${p.field}: ${reasonText(p.code, p)}`))) : null);
}

export function decisionBox(res, testid = 'decision') {
  return h('div', { testid, class: `decision ${res.decision}`, data: { decision: res.decision }, role: 'status' },
    h('p', { class: 'verdict' }, t('decision_' + res.decision)),
    reasonList(res.reasons));
}

export function message(text, cls = 'note') { return h('p', { class: cls, role: cls === 'error' ? 'alert' : 'status' }, text); }
export function safe(el, f) {
  return f().catch((e) => { el.replaceChildren(errorBox(e, 'error')); });
}
export function localIso(d = new Date()) {
  const p = (n) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}` +
    `${sign}${p(Math.floor(Math.abs(off) / 60))}:${p(Math.abs(off) % 60)}`;
}
