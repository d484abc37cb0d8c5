// Supervisor, admin and auditor screens.
import { api } from './api.js';
import { h, field } from './dom.js';
import { t, statusText, reasonText } from './i18n.js';
import { state, reasonList, errorBox, message, localIso } from './common.js';
import { fenceMap } from './svgmap.js';
import { requestCard } from './employee.js';

const serverToday = () => (state.me && state.me.sites_today && state.me.sites_today.date) || localIso().slice(0, 10);
const fail = (box) => (e) => box.replaceChildren(errorBox(e, 'error'));

// --- supervisor -------------------------------------------------------------------------------
export async function team(root) {
  const date = h('input', { type: 'date', value: serverToday() });
  const list = h('div', {});
  async function load() {
    const r = await api('GET', `/team/attendance?date=${date.value}`);
    list.replaceChildren(r.staff.length ? h('ul', { class: 'cards' }, r.staff.map((p) => h('li', { testid: 'team-row', class: `card s-${p.status}`, data: { nip: p.nip, status: p.status } },
      h('p', {}, h('strong', {}, p.name), ` (${p.nip})`),
      h('p', {}, h('span', { class: `status s-${p.status}` }, statusText(p.status)), p.work_mode ? ` · ${statusText(p.work_mode)}` : '',
        p.first_in ? ` · ${t('first_in', { t: p.first_in })}` : '', p.last_out ? ` · ${t('last_out', { t: p.last_out })}` : ''),
      p.reasons && p.reasons.length ? reasonList(p.reasons) : null))) : message(t('none')));
  }
  root.replaceChildren(h('section', {}, h('h1', {}, t('team_title')),
    h('div', { class: 'row' }, field(t('date'), date), h('button', { onclick: () => load().catch(fail(list)) }, t('show'))), list));
  await load();
}

function officeFence(c) {
  const offices = (state.me && state.me.offices) || [];
  const o = offices.find((x) => x.office_id === c.office_id || x.office_id === (c.geo && c.geo.site_id)) || offices[0];
  return (c.geofence) || (o && (o.geofence || (o.rules && o.rules.geofence))) || null;
}

async function siteFence(item) {
  const c = item.checkin;
  const sid = c.geo && c.geo.site_id;
  if (!sid || sid === c.office_id) return officeFence(c);
  try {
    const r = await api('GET', `/admin/employees/${item.nip}/sites`);
    const s = r.sites.find((x) => x.site_id === sid);
    return s ? s.geofence : officeFence(c);
  } catch { return officeFence(c); }
}

function reviewItem(item, reload) {
  const c = item.checkin;
  const ep = item.episode;
  const comment = h('textarea', { testid: 'review-comment', rows: 2, maxlength: 500 });
  const out = h('div', { 'aria-live': 'polite' });
  const mapBox = h('div', { class: 'map-box' });
  async function decide(decision) {
    try {
      await api('POST', `/team/reviews/${encodeURIComponent(item.review_id)}`, { body: { decision, comment: comment.value || null } });
      out.replaceChildren(message(t('decided'))); el.dataset.decided = decision;
      setTimeout(reload, 300);
    } catch (e) { out.replaceChildren(errorBox(e, 'error')); }
  }
  if (c) {
    siteFence(item).then((fence) => {
      const pos = c.position ? { lat: c.position.lat, lon: c.position.lon, accuracy: c.geo && c.geo.accuracy_m } : null;
      mapBox.replaceChildren(fenceMap(fence, pos, { label: t('review_map'), testid: 'review-map' }), fence ? '' : message(t('no_fence')));
    });
  }
  const el = h('li', { testid: 'review-item', class: 'card', data: { reviewId: item.review_id, kind: item.kind } },
    h('p', {}, h('strong', {}, item.name), ` (${item.nip}) · ${t('kind_' + item.kind)}`, c ? ` · ${c.local_date} ${c.local_time}` : ''),
    c && c.selfie_url ? h('img', { testid: 'review-selfie', src: c.selfie_url, alt: t('review_selfie', { name: item.name }), class: 'selfie' }) : null,
    item.photos && item.photos.length ? h('div', { class: 'photos' }, item.photos.map((u, i) =>
      h('img', { testid: 'review-photo', src: u, alt: `${t('review_selfie', { name: item.name })} ${i + 1}`, class: 'selfie' }))) : null,
    c ? [mapBox,
      h('p', { testid: 'review-distance', data: { value: c.geo && c.geo.distance_m } }, t('distance', { v: c.geo && c.geo.distance_m != null ? Math.round(c.geo.distance_m) : '-' })),
      h('p', { testid: 'review-accuracy', data: { value: c.geo && c.geo.accuracy_m } }, t('accuracy', { v: c.geo && c.geo.accuracy_m != null ? Math.round(c.geo.accuracy_m) : '-' })),
      reasonList(c.reasons, 'review-reason')] : null,
    ep ? [h('p', { testid: 'review-episode', data: { pings: ep.pings } }, t('review_episode', {
      kind: reasonText(ep.kind), from: ep.opened_at, to: ep.closed_at || t('episode_open'), n: ep.pings })),
      h('p', { testid: 'review-accuracy', data: { value: ep.first.accuracy_m } }, t('accuracy', { v: ep.first.accuracy_m != null ? Math.round(ep.first.accuracy_m) : '-' })),
      reasonList(ep.first.reasons || [], 'review-reason'), message(t('review_episode_hint'))] : null,
    field(t('comment'), comment),
    h('div', { class: 'row' },
      h('button', { testid: 'review-approve', class: 'primary', onclick: () => decide('approve') }, t('approve')),
      h('button', { testid: 'review-reject', class: 'danger', onclick: () => decide('reject') }, t('reject'))), out);
  return el;
}

export async function reviews(root) {
  const list = h('div', {});
  // an admin's queue is one unit's (the server refuses unit_required without one)
  const admin = state.me && (state.me.roles || []).includes('admin');
  const unit = h('input', { type: 'text', maxlength: 200, testid: 'reviews-unit' });
  async function load() {
    if (admin && !unit.value.trim()) { list.replaceChildren(message(t('reviews_unit'))); return; }
    const r = await api('GET', admin ? `/team/reviews?unit=${encodeURIComponent(unit.value.trim())}` : '/team/reviews');
    list.replaceChildren(r.items.length ? h('ul', { class: 'cards' }, r.items.map((i) => reviewItem(i, () => load().catch(fail(list))))) : message(t('none')));
  }
  root.replaceChildren(h('section', {}, h('h1', {}, t('reviews_title')),
    admin ? h('div', { class: 'row' }, field(t('unit'), unit), h('button', { onclick: () => load().catch(fail(list)) }, t('show'))) : null,
    list));
  await load();
}

export async function teamRequests(root) {
  const list = h('div', {});
  async function load() {
    const r = await api('GET', '/team/requests');
    list.replaceChildren(r.requests.length ? h('ul', { class: 'cards' }, r.requests.map((q) => {
      const comment = h('textarea', { rows: 2, maxlength: 500 });
      const out = h('div', { 'aria-live': 'polite' });
      const decide = (decision) => api('POST', `/team/requests/${encodeURIComponent(q.request_id)}`, { body: { decision, comment: comment.value || null } })
        .then(() => load()).catch(fail(out));
      return requestCard(q, null, 'team-request-row', [field(t('comment'), comment), h('div', { class: 'row' },
        h('button', { testid: 'request-approve', class: 'primary', onclick: () => decide('approve') }, t('approve')),
        h('button', { testid: 'request-reject', class: 'danger', onclick: () => decide('reject') }, t('reject'))), out]);
    })) : message(t('none')));
  }
  root.replaceChildren(h('section', {}, h('h1', {}, t('team_requests_title')), list));
  await load();
}

// --- admin ------------------------------------------------------------------------------------
export async function importer(root) {
  const csv = h('textarea', { testid: 'import-csv', rows: 8, spellcheck: false, class: 'mono' });
  const file = h('input', { type: 'file', testid: 'import-file', accept: '.csv,text/csv',
    onchange: async () => { if (file.files[0]) csv.value = await file.files[0].text(); } });
  const out = h('div', { 'aria-live': 'polite' });
  async function submit() {
    try {
      const r = await api('POST', '/admin/employees', { raw: csv.value, headers: { 'Content-Type': 'text/csv' } });
      out.replaceChildren(h('p', {}, t('import_summary', { c: r.created, f: r.failed })),
        h('ul', { class: 'rows' }, r.rows.map((x) => h('li', { testid: 'import-row', class: x.ok ? 'ok' : 'bad', data: { nip: x.nip ?? '', ok: String(x.ok), error: x.error && x.error.code } },
          x.ok ? t('row_ok', { r: x.row, nip: x.nip ?? '-' }) : t('row_bad', { r: x.row, nip: x.nip ?? '-', e: reasonText(x.error.code, x.error.details) + (x.error.message ? ` (${x.error.message})` : '') })))));
    } catch (e) { out.replaceChildren(errorBox(e, 'error')); }
  }
  root.replaceChildren(h('section', {}, h('h1', {}, t('import_title')), field(t('import_csv'), csv), field(t('import_file'), file),
    h('button', { testid: 'import-submit', class: 'primary', onclick: submit }, t('import_submit')), out));
}

const EXAMPLE_OFFICE = { office_id: 'kantor-baru', name: 'Kantor Baru', timezone: 'Asia/Makassar',
  geofence: { type: 'circle', lat: -8.6705, lon: 115.2126, radius_m: 80 },
  checkin_window: '06:00-08:00', work_start: '08:00', work_end: '15:30', checkout_window: '15:30-18:00' };

export async function offices(root) {
  const json = h('textarea', { testid: 'office-json', rows: 10, spellcheck: false, class: 'mono' });
  json.value = JSON.stringify(EXAMPLE_OFFICE, null, 2);
  const preview = h('div', { class: 'map-box' });
  const out = h('div', { 'aria-live': 'polite' });
  const saved = JSON.parse(sessionStorage.getItem('hadir.offices') || '[]');
  const list = h('ul', { class: 'cards' });
  function draw() {
    try { const o = JSON.parse(json.value); preview.replaceChildren(fenceMap(o.geofence, null, { label: t('office_preview'), testid: 'office-map' })); } catch { /* typing */ }
  }
  function showList() {
    const known = [...saved, ...((state.me && state.me.offices) || []).filter((o) => !saved.some((s) => s.office_id === o.office_id))];
    list.replaceChildren(...known.map((o) => h('li', { testid: 'office-row', class: 'card', data: { officeId: o.office_id } },
      h('p', {}, h('strong', {}, o.name), ` (${o.office_id}, ${o.timezone})`),
      o.geofence ? fenceMap(o.geofence, null, { label: o.name, testid: 'office-fence' }) : null)));
  }
  async function submit() {
    try {
      const body = JSON.parse(json.value);
      const o = await api('POST', '/admin/offices', { body });
      saved.unshift(o); sessionStorage.setItem('hadir.offices', JSON.stringify(saved.slice(0, 20)));
      out.replaceChildren(message(t('office_saved'))); showList();
    } catch (e) { out.replaceChildren(e instanceof SyntaxError ? errorBox({ code: 'invalid_json' }, 'error') : errorBox(e, 'error')); }
  }
  json.addEventListener('input', draw);
  const nip = h('input', { type: 'text', inputmode: 'numeric', testid: 'reset-nip', maxlength: 18 });
  const reason = h('input', { type: 'text', testid: 'reset-reason' });
  const resetOut = h('div', { 'aria-live': 'polite' });
  async function reset() {
    try {
      await api('DELETE', `/admin/employees/${encodeURIComponent(nip.value.trim())}/enrollment?reason=${encodeURIComponent(reason.value)}`);
      resetOut.replaceChildren(message(t('reset_done', { nip: nip.value })));
    } catch (e) { resetOut.replaceChildren(errorBox(e, 'error')); }
  }
  root.replaceChildren(h('section', {}, h('h1', {}, t('offices_title')), list, sitesCard(),
    h('div', { class: 'card' }, field(t('office_json'), json), h('p', {}, t('office_preview')), preview,
      h('button', { testid: 'office-submit', class: 'primary', onclick: submit }, t('office_create')), out),
    h('div', { class: 'card' }, h('h2', {}, t('reset_title')), field(t('reset_nip'), nip), field(t('reset_reason'), reason),
      h('button', { testid: 'reset-submit', onclick: reset }, t('reset_submit')), resetOut)));
  draw(); showList();
}

const EXAMPLE_SITE = { site_id: 'rumah-baru', kind: 'home', geofence: { type: 'circle', lat: -8.54, lon: 115.125, radius_m: 60 },
  note: 'WFH' };

function sitesCard() {
  const nip = h('input', { type: 'text', inputmode: 'numeric', testid: 'sites-nip', maxlength: 18 });
  const json = h('textarea', { testid: 'site-json', rows: 6, spellcheck: false, class: 'mono' });
  json.value = JSON.stringify(EXAMPLE_SITE, null, 2);
  const list = h('ul', { class: 'cards' });
  const out = h('div', { 'aria-live': 'polite' });
  const base = () => `/admin/employees/${encodeURIComponent(nip.value.trim())}/sites`;
  async function load() {
    try {
      const r = await api('GET', base());
      list.replaceChildren(...r.sites.map((x) => h('li', { testid: 'site-row', class: 'card', data: { siteId: x.site_id, status: x.status } },
        h('p', {}, h('strong', {}, x.site_id), ` · ${x.kind} · ${statusText(x.work_mode)}`, x.valid_from ? ` · ${x.valid_from} - ${x.valid_to || ''}` : '', x.status ? ` · ${x.status}` : ''),
        fenceMap(x.geofence, null, { label: x.site_id }),
        x.removed_by ? null : h('button', { class: 'danger', onclick: () => api('DELETE', `${base()}/${encodeURIComponent(x.site_id)}`).then(load).catch(fail(out)) }, t('site_remove')))));
      if (!r.sites.length) list.replaceChildren(message(t('none')));
    } catch (e) { out.replaceChildren(errorBox(e, 'error')); }
  }
  async function add() {
    try { await api('POST', base(), { body: JSON.parse(json.value) }); out.replaceChildren(message(t('site_saved'))); await load(); } catch (e) {
      out.replaceChildren(errorBox(e instanceof SyntaxError ? { code: 'invalid_json' } : e, 'error'));
    }
  }
  return h('div', { class: 'card' }, h('h2', {}, t('sites_title')), h('div', { class: 'row' }, field(t('reset_nip'), nip),
    h('button', { testid: 'sites-load', onclick: load }, t('show'))), list, field(t('site_json'), json),
  h('button', { testid: 'site-submit', class: 'primary', onclick: add }, t('site_add')), out);
}

// --- auditor ----------------------------------------------------------------------------------
export async function exportsView(root) {
  const date = h('input', { type: 'date', testid: 'export-date', value: serverToday() });
  const out = h('div', { 'aria-live': 'polite' });
  async function load() {
    try {
      const r = await api('GET', `/audit/exports?date=${date.value}`);
      const manifest = h('pre', { testid: 'export-manifest', class: 'mono' });
      out.replaceChildren(h('ul', {}, r.files.map((f) => {
        const name = f.key.split('/').pop();
        return h('li', {}, h('a', { testid: 'export-file', data: { name }, href: f.url, download: name, rel: 'noopener' }, name), ` (${f.bytes} B)`);
      })), manifest);
      const m = r.files.find((f) => f.key.endsWith('manifest.json'));
      if (m) fetch(m.url).then((x) => x.json()).then((j) => { manifest.textContent = JSON.stringify(j, null, 2); }).catch(() => {});
    } catch (e) { out.replaceChildren(errorBox(e, 'error')); }
  }
  root.replaceChildren(h('section', {}, h('h1', {}, t('exports_title')),
    h('div', { class: 'row' }, field(t('date'), date), h('button', { testid: 'export-load', class: 'primary', onclick: load }, t('export_load'))), out));
}

export async function audit(root) {
  // empty dates: the server's today (UTC), as GET /audit/log defaults
  const from = h('input', { type: 'date', testid: 'audit-from' });
  const to = h('input', { type: 'date', testid: 'audit-to' });
  const actor = h('input', { type: 'text', testid: 'audit-actor' });
  const subject = h('input', { type: 'text', testid: 'audit-subject' });
  const rows = h('ul', { class: 'rows' });
  const out = h('div', { 'aria-live': 'polite' });
  let cursor = null;
  const more = h('button', { testid: 'audit-more', hidden: true, onclick: () => load(false) }, t('audit_more'));
  async function load(fresh = true) {
    if (fresh) { rows.replaceChildren(); cursor = null; }
    const q = new URLSearchParams({ limit: '50' });
    if (from.value) q.set('from', from.value);
    if (to.value) q.set('to', to.value);
    if (actor.value) q.set('actor', actor.value);
    if (subject.value) q.set('subject', subject.value);
    if (cursor) q.set('cursor', cursor);
    try {
      const r = await api('GET', `/audit/log?${q}`);
      out.replaceChildren();
      rows.append(...r.entries.map((e) => h('li', { testid: 'audit-row', data: { action: e.action, subject: e.subject } },
        h('p', {}, h('strong', {}, e.action), ` · ${e.subject} · ${e.actor} · ${e.at}`),
        h('details', {}, h('summary', {}, t('details')), h('pre', { class: 'mono' }, JSON.stringify({ details: e.details, before: e.before, after: e.after }, null, 2))))));
      cursor = r.next_cursor; more.hidden = !cursor;
    } catch (e) { out.replaceChildren(errorBox(e, 'error')); }
  }
  root.replaceChildren(h('section', {}, h('h1', {}, t('audit_title')),
    h('div', { class: 'row wrap' }, field(t('from'), from), field(t('to'), to), field(t('actor'), actor), field(t('subject'), subject)),
    h('button', { testid: 'audit-load', class: 'primary', onclick: () => load(true) }, t('show')), out, rows, more));
  await load(true);
}
