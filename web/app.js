// The shell: login, navigation by role, hash routes, language, offline banner and queue.
import { api, setToken, getToken, whenUnauthorized, NetworkError } from './api.js';
import { h, field } from './dom.js';
import { t, getLang, setLang, reasonText } from './i18n.js';
import { state, errorBox, message } from './common.js';
import { stopCamera } from './capture.js';
import * as emp from './employee.js';
import * as staff from './staff.js';

const NAV = [
  ['home', ['employee']], ['history', ['employee']], ['requests', ['employee']], ['notifications', ['employee', 'supervisor']],
  ['team', ['supervisor']], ['reviews', ['supervisor', 'admin']], ['team-requests', ['supervisor', 'admin']],
  ['import', ['admin']], ['offices', ['admin']], ['exports', ['auditor', 'admin']], ['audit', ['auditor', 'admin']],
];
const ROUTES = {
  home: emp.home, enrol: emp.enrol, 'checkin-in': (r, g) => emp.checkin(r, g, 'in'), 'checkin-out': (r, g) => emp.checkin(r, g, 'out'),
  history: emp.history, requests: emp.requests, notifications: emp.notifications,
  team: staff.team, reviews: staff.reviews, 'team-requests': staff.teamRequests,
  import: staff.importer, offices: staff.offices, exports: staff.exportsView, audit: staff.audit,
};

const main = document.getElementById('main');
const nav = document.getElementById('nav');
const go = (name) => { if (location.hash === '#/' + name) render(); else location.hash = '#/' + name; };

function roles() {
  try {
    const p = JSON.parse(atob(getToken().split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
    return p['cognito:groups'] || [];
  } catch { return []; }
}
const allowed = (name) => NAV.some(([n, rs]) => n === name && rs.some((r) => state.me.roles.includes(r)));
const firstRoute = () => (NAV.find(([n]) => allowed(n)) || ['home'])[0];

function shell() {
  document.getElementById('lang-toggle').textContent = t('lang_toggle');
  document.getElementById('offline-banner').textContent = t('offline');
  document.title = t('app_name');
  const lo = document.getElementById('logout');
  lo.textContent = t('logout'); lo.hidden = !getToken();
  nav.replaceChildren(...(state.me ? NAV.filter(([n]) => allowed(n)).map(([n]) =>
    h('a', { href: '#/' + n, testid: 'nav-' + n, 'aria-current': route() === n ? 'page' : null }, t('nav_' + n))) : []));
  emp.refreshCount();
}

let renderSeq = 0;
const route = () => (location.hash.replace(/^#\/?/, '') || '').split('?')[0];

async function loadMe() {
  try { state.me = await api('GET', '/me'); } catch (e) {
    if (e instanceof NetworkError || (e.status && e.status < 500 && e.status !== 401)) {
      const cached = JSON.parse(sessionStorage.getItem('hadir.me') || 'null');
      state.me = cached || { name: '', roles: roles(), enrollment: { status: 'unknown' }, offices: [] };
    } else throw e;
  }
  state.me.roles = [...new Set([...(state.me.roles || []), ...roles()])];
  sessionStorage.setItem('hadir.me', JSON.stringify(state.me));
}

async function render() {
  stopCamera();
  if (!getToken()) { state.me = null; shell(); return login(); }
  if (!state.me) {
    main.replaceChildren(message(t('loading')));
    try { await loadMe(); } catch (e) {
      if (!getToken()) return; // 401: logout() shows the login already
      shell(); return main.replaceChildren(errorBox(e, 'error'));
    }
  }
  let name = route();
  if (!ROUTES[name] || (['home', 'history', 'requests', 'enrol', 'checkin-in', 'checkin-out'].includes(name) && !state.me.roles.includes('employee'))
      || (NAV.some(([n]) => n === name) && !allowed(name))) name = firstRoute();
  if (route() !== name) { history.replaceState(null, '', '#/' + name); }
  shell();
  main.replaceChildren(message(t('loading')));
  // each render fills its own view; only the latest one is shown (a slow screen never overwrites a newer one)
  const mine = ++renderSeq;
  const view = h('div', { class: 'view' });
  try { await ROUTES[name](view, go); } catch (e) { view.replaceChildren(errorBox(e, 'error')); }
  if (mine !== renderSeq || !getToken()) return;
  main.replaceChildren(view);
  const h1 = main.querySelector('h1');
  if (h1) { h1.tabIndex = -1; h1.focus({ preventScroll: true }); }
}

function login(notice) {
  const nip = h('input', { testid: 'login-nip', name: 'username', autocomplete: 'username', required: true, inputmode: 'text' });
  const pw = h('input', { testid: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const err = h('p', { testid: 'login-error', class: 'error', role: 'alert', hidden: true });
  const submit = h('button', { testid: 'login-submit', type: 'submit', class: 'primary big' }, t('login_submit'));
  async function onSubmit(ev) {
    ev.preventDefault();
    err.hidden = true; submit.disabled = true;
    try {
      const tok = await api('POST', '/auth/login', { body: { username: nip.value.trim(), password: pw.value } });
      setToken(tok.id_token, tok.refresh_token); state.me = null;
      location.hash = '#/';
      await render();
    } catch (e) {
      err.hidden = false; err.dataset.code = e.code;
      err.textContent = e instanceof NetworkError ? t('network_error') : reasonText(e.code, e.details);
    } finally { submit.disabled = false; }
  }
  main.replaceChildren(h('section', { class: 'login' }, h('h1', {}, t('login_title')),
    notice ? message(notice) : null,
    h('form', { onsubmit: onSubmit }, field(t('login_nip'), nip), field(t('login_password'), pw), err, submit)));
  nip.focus();
}

function logout(notice) {
  setToken(null); state.me = null; sessionStorage.removeItem('hadir.me');
  history.replaceState(null, '', '#/');
  shell(); login(notice);
}

function online() {
  document.getElementById('offline-banner').hidden = navigator.onLine;
  if (navigator.onLine) emp.flushQueue(() => { if (route() === 'home') render(); });
}

whenUnauthorized(() => logout(t('session_over')));
document.getElementById('lang-toggle').addEventListener('click', () => { setLang(getLang() === 'id' ? 'en' : 'id'); render(); });
document.getElementById('logout').addEventListener('click', () => logout());
window.addEventListener('hashchange', render);
window.addEventListener('online', online);
window.addEventListener('offline', online);
// a queue kept after a server error is tried again now and then, not only when `online` fires
setInterval(() => { if (navigator.onLine) emp.flushQueue(() => { if (route() === 'home') render(); }); }, 30000);
setLang(getLang());
online();
render();
if ('serviceWorker' in navigator) navigator.serviceWorker.register('sw.js').catch(() => {});
