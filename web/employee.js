// The employee's screens: home, enrolment, check-in/out (online and offline), history, requests,
// notifications; and the offline queue's sender.
import { api, uploadTo, deviceId, uuid, ApiError, NetworkError, getToken } from './api.js';
import { h, field } from './dom.js';
import { t, statusText, reasonText, getLang } from './i18n.js';
import { captureScreen } from './capture.js';
import { state, reasonList, errorBox, decisionBox, message, localIso } from './common.js';
import * as queue from './queue.js';

const OFFLINE_STEPS = ['front', 'left', 'right'];
const serverToday = () => (state.me && state.me.sites_today && state.me.sites_today.date) || localIso().slice(0, 10);

// --- home -------------------------------------------------------------------------------------
export async function home(root, go) {
  const me = state.me;
  const date = serverToday();
  let day = null;
  try {
    const a = await api('GET', `/me/attendance?from=${date}&to=${date}`);
    day = (a.days || [])[0] || null;
  } catch (e) { if (!(e instanceof NetworkError)) throw e; }
  const status = day ? day.status : 'no_record';
  const enr = me.enrollment.status;
  const last = JSON.parse(localStorage.getItem('hadir.lastQueued') || 'null');
  root.replaceChildren(h('section', {},
    h('h1', {}, t('hello', { name: me.name })),
    h('p', { testid: 'today-status', data: { status }, class: `status s-${status}` },
      t('today_is', { date, status: statusText(status) }),
      day && day.first_in ? ` · ${t('first_in', { t: day.first_in })}` : '',
      day && day.last_out ? ` · ${t('last_out', { t: day.last_out })}` : ''),
    day && day.reasons && day.reasons.length ? reasonList(day.reasons) : null,
    enr === 'not_enrolled'
      ? [message(t('enrol_needed')), h('button', { testid: 'enrol-start', class: 'primary big', onclick: () => go('enrol') }, t('enrol_start'))]
      : [enr === 'pending_approval' ? message(t('enrol_pending')) : null,
        h('div', { class: 'row' },
          h('button', { testid: 'checkin-in', class: 'primary big', onclick: () => go('checkin-in') }, t('checkin_in')),
          h('button', { testid: 'checkin-out', class: 'big', onclick: () => go('checkin-out') }, t('checkin_out')))],
    last ? h('div', { class: 'card' }, h('p', {}, t('last_queued')),
      h('div', { testid: 'queued-result', class: `decision ${last.decision || 'rejected'}`,
        data: { decision: last.decision, error: last.error } },
      h('p', { class: 'verdict' }, last.decision ? t('decision_' + last.decision) : reasonText(last.error)),
      reasonList(last.reasons))) : null));
}

// --- enrolment --------------------------------------------------------------------------------
export async function enrol(root, go) {
  const session = await api('POST', '/me/enrollment/uploads');
  const steps = session.challenge ? session.challenge.steps.map((s) => s.pose) : session.uploads.map(() => 'front');
  root.replaceChildren(captureScreen({ title: t('enrol_title'), steps, enrol: true, onSend: async (frames, fix, consent, out) => {
    try {
      for (let i = 0; i < frames.length; i++) await uploadTo(session.uploads[i], frames[i], 'image/jpeg');
      const res = await api('POST', '/me/enrollment', { body: { session_id: session.session_id, consent: !!consent },
        headers: { 'X-Device-Id': deviceId() } });
      out.replaceChildren(enrolResult(res.status, res.photos), h('button', { onclick: () => go('home') }, t('back_home')));
    } catch (e) {
      const photos = (e.details && e.details.photos) || null;
      out.replaceChildren(photos ? enrolResult('failed', photos, e) : errorBox(e, 'enrol-result'),
        h('button', { onclick: () => go('enrol') }, t('retake')));
    }
  } }));
}

function enrolResult(status, photos, err) {
  return h('div', { testid: 'enrol-result', data: { status, error: err && err.code }, class: `decision ${status === 'failed' ? 'rejected' : 'accepted'}`, role: 'status' },
    h('p', { class: 'verdict' }, status === 'failed' ? `${t('enrol_failed')} ${reasonText(err.code)}` : t('enrol_' + status)),
    h('ul', {}, (photos || []).map((p) => h('li', { testid: `photo-result-${p.index}`, data: { ok: String(p.ok) }, class: p.ok ? 'ok' : 'bad' },
      t(p.ok ? 'photo_ok' : 'photo_bad', { i: p.index + 1 }),
      p.ok ? null : h('ul', {}, [p.reason, ...(p.checks || []).filter((c) => !c.ok).map((c) => c.reason || c.name)]
        .filter((c, i, a) => c && a.indexOf(c) === i).map((c) => h('li', { testid: 'reason', data: { code: c } }, reasonText(c))))))));
}

// --- check-in ---------------------------------------------------------------------------------
function location(fix) {
  return { lat: fix.lat, lon: fix.lon, accuracy_m: Math.round(fix.accuracy * 10) / 10, captured_at: fix.at, is_mock: false };
}

async function post(kind, session, frames, fix, key, extra = {}) {
  const n = Math.min(frames.length, session.uploads.length);
  for (let i = 0; i < n; i++) await uploadTo(session.uploads[i], frames[i], 'image/jpeg');
  try {
    return await api('POST', '/checkins', { body: { session_id: session.session_id, type: kind, location: location(fix), ...extra },
      headers: { 'X-Device-Id': deviceId(), 'Idempotency-Key': key } });
  } catch (e) {
    if (e instanceof ApiError && e.body && e.body.decision) return e.body; // rejected: 422 with the decision and its reasons
    throw e;
  }
}

export async function checkin(root, go, kind) {
  let session = null;
  if (navigator.onLine) {
    try { session = await api('POST', '/checkins/uploads'); } catch (e) { if (!(e instanceof NetworkError)) throw e; }
  }
  const offline = !session;
  const steps = offline ? OFFLINE_STEPS : (session.challenge ? session.challenge.steps.map((s) => s.pose) : ['front']);
  const key = uuid();
  root.replaceChildren(captureScreen({ title: t('checkin_title_' + kind), steps, note: offline ? t('offline_steps') : null,
    onSend: async (frames, fix, _c, out) => {
      const capturedAt = new Date().toISOString();
      if (!offline) {
        try {
          const res = await post(kind, session, frames, fix, key);
          return out.replaceChildren(decisionBox(res), h('button', { onclick: () => go('home') }, t('back_home')));
        } catch (e) {
          if (!(e instanceof NetworkError)) {
            const renew = e.code === 'enrolment_outdated' && e.details && e.details.reenrol;  // a face-model upgrade
            return out.replaceChildren(errorBox(e), renew ? h('button', { testid: 'enrol-renew', class: 'primary', onclick: () => go('enrol') }, t('enrol_renew')) : null,
              h('button', { onclick: () => go('home') }, t('back_home')));
          }
        }
      }
      await queue.put({ id: uuid(), kind, key: offline ? uuid() : key, captured_at: capturedAt, fix, steps,
        frames: await Promise.all(frames.map((f) => f.arrayBuffer())) });
      await refreshCount();
      out.replaceChildren(message(t('queued')), h('button', { onclick: () => go('home') }, t('back_home')));
      flushQueue();
    } }));
}

// --- offline queue ----------------------------------------------------------------------------
let flushing = false;
export async function refreshCount() {
  const n = await queue.count().catch(() => 0);
  const el = document.querySelector('[data-testid="queue-count"]');
  if (el) { el.dataset.count = String(n); el.textContent = t('queue_count', { n }); el.hidden = n === 0; }
  return n;
}

/** Send each queued check-in once: deleted on a 2xx or a 4xx (but 401/429: kept, tried again), kept on network errors. */
export async function flushQueue(after) {
  if (flushing || !navigator.onLine || !getToken()) return;
  flushing = true;
  let sent = 0;
  try {
    for (const item of await queue.all()) {
      let outcome;
      try {
        // a session for the poses followed offline: the server judges liveness against them
        // and flags the check-in delayed_capture for the supervisor
        const session = await api('POST', '/checkins/uploads', { body: { offline_steps: item.steps } });
        const frames = item.frames.map((b) => new Blob([b], { type: 'image/jpeg' }));
        const res = await post(item.kind, session, frames, item.fix, item.key,
          { offline_captured_at: item.captured_at, offline_steps: item.steps });
        outcome = { decision: res.decision, reasons: res.reasons, at: item.captured_at };
      } catch (e) {
        if (!(e instanceof ApiError) || e.status >= 500 || e.status === 401 || e.status === 429) break;
        outcome = { error: e.code, reasons: [], at: item.captured_at };
      }
      await queue.remove(item.id);
      localStorage.setItem('hadir.lastQueued', JSON.stringify(outcome));
      sent++;
    }
  } finally {
    flushing = false;
    await refreshCount();
    if (sent && after) after();
  }
}

// --- history ----------------------------------------------------------------------------------
export async function history(root) {
  const monthInput = h('input', { type: 'month', value: serverToday().slice(0, 7) });
  const list = h('div', {});
  async function load() {
    const [y, m] = monthInput.value.split('-').map(Number);
    const last = new Date(Date.UTC(y, m, 0)).getUTCDate();
    const mm = String(m).padStart(2, '0');
    const a = await api('GET', `/me/attendance?from=${y}-${mm}-01&to=${y}-${mm}-${last}`);
    list.replaceChildren(a.days.length ? h('table', { class: 'days' },
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, t('date')), h('th', { scope: 'col' }, t('status')), h('th', { scope: 'col' }, t('times')))),
      h('tbody', {}, a.days.map((d) => h('tr', { testid: 'history-day', data: { date: d.date, status: d.status } },
        h('td', {}, d.date), h('td', {}, h('span', { class: `status s-${d.status}` }, statusText(d.status))),
        h('td', {}, [d.first_in, d.last_out].filter(Boolean).join(' - '), d.work_mode ? ` (${statusText(d.work_mode)})` : ''))))) : message(t('none')));
  }
  root.replaceChildren(h('section', {}, h('h1', {}, t('history_title')),
    h('div', { class: 'row' }, field(t('month'), monthInput), h('button', { onclick: () => load().catch((e) => list.replaceChildren(errorBox(e, 'error'))) }, t('show'))), list));
  await load();
}

// --- requests ---------------------------------------------------------------------------------
const SUBTYPES = { excuse: ['sick', 'important_reason'], leave: ['annual', 'sick', 'important_reason', 'maternity', 'big', 'unpaid'],
  official_travel: [], wfh: [], leave_region: [] };

export async function requests(root) {
  const list = h('div', {});
  const out = h('div', { 'aria-live': 'polite' });
  const type = h('select', { testid: 'request-type' }, Object.keys(SUBTYPES).map((k) => h('option', { value: k }, t('type_' + k))));
  const subtype = h('select', { testid: 'request-subtype' });
  const date = serverToday();
  const start = h('input', { type: 'date', testid: 'request-start', value: date, required: true });
  const end = h('input', { type: 'date', testid: 'request-end', value: date, required: true });
  const reason = h('textarea', { testid: 'request-reason', rows: 2, maxlength: 500 });
  const dest = h('input', { type: 'text', testid: 'request-destination', placeholder: '-6.9147, 107.6098, 300', inputmode: 'decimal' });
  const destName = h('input', { type: 'text', testid: 'request-destination-name' });
  const destBox = h('div', { hidden: true }, field(t('request_destination'), dest), field(t('request_destination_name'), destName));
  const file = h('input', { type: 'file', testid: 'request-attachment', accept: 'application/pdf,image/jpeg,image/png' });
  function subtypes() {
    const subs = SUBTYPES[type.value];
    subtype.replaceChildren(...(subs.length ? subs : ['']).map((s) => h('option', { value: s }, s ? t('sub_' + s) : t('sub_none'))));
    subtype.disabled = !subs.length;
    destBox.hidden = type.value !== 'official_travel';
  }
  type.addEventListener('change', subtypes);
  subtypes();
  async function submit(ev) {
    ev.preventDefault();
    const body = { type: type.value, subtype: subtype.value || null, start: start.value, end: end.value, reason: reason.value };
    if (type.value === 'official_travel' && dest.value) {
      const [lat, lon, r] = dest.value.split(',').map((x) => Number(x.trim()));
      body.destination = { type: 'circle', lat, lon, radius_m: r || 200 };
      body.destination_name = destName.value || null;
    }
    try {
      const req = await api('POST', '/me/requests', { body });
      if (file.files[0]) await attach(req.request_id, file.files[0]);
      out.replaceChildren(message(t('request_sent') + (file.files[0] ? ' ' + t('attachment_sent') : '')));
      form.reset(); subtypes(); await load();
    } catch (e) { out.replaceChildren(errorBox(e, 'error')); }
  }
  const form = h('form', { class: 'card', onsubmit: submit }, h('h2', {}, t('request_new')),
    field(t('request_type'), type), field(t('request_subtype'), subtype),
    h('div', { class: 'row' }, field(t('request_start'), start), field(t('request_end'), end)),
    field(t('request_reason'), reason), destBox, field(t('request_attachment'), file),
    h('button', { type: 'submit', testid: 'request-submit', class: 'primary' }, t('request_submit')), out);
  const newBtn = h('button', { testid: 'request-new', onclick: () => { form.hidden = false; type.focus(); } }, t('request_new'));
  form.hidden = true;
  async function load() {
    const r = await api('GET', '/me/requests');
    list.replaceChildren(h('p', {}, t('leave_balance', { n: r.leave_balance.remaining })),
      r.requests.length ? h('ul', { class: 'cards' }, r.requests.map((q) => requestCard(q, async () => {
        try { await api('DELETE', `/me/requests/${encodeURIComponent(q.request_id)}`); await load(); } catch (e) { out.replaceChildren(errorBox(e, 'error')); }
      }))) : message(t('none')));
  }
  root.replaceChildren(h('section', {}, h('h1', {}, t('requests_title')), newBtn, form, list));
  await load();
}

async function attach(id, f) {
  const up = await api('POST', `/me/requests/${encodeURIComponent(id)}/attachment`, { body: { content_type: f.type } });
  await uploadTo(up.upload, f, f.type);
  return api('PUT', `/me/requests/${encodeURIComponent(id)}/attachment`, { body: { upload_id: up.upload_id } });
}

export function requestCard(q, onCancel, testid = 'request-row', extra = null) {
  return h('li', { testid, class: 'card', data: { requestId: q.request_id, status: q.status } },
    h('p', {}, h('strong', {}, t('type_' + q.type)), q.subtype ? ` (${t('sub_' + q.subtype)})` : '', ` · ${q.start} - ${q.end}`),
    q.name && testid !== 'request-row' ? h('p', {}, `${q.name} (${q.nip})`) : null,
    h('p', {}, h('span', { class: `status r-${q.status}` }, t('rstatus_' + q.status)), ' · ', q.reason),
    q.destination_name ? h('p', {}, q.destination_name) : null,
    q.attachment ? h('p', {}, h('a', { href: q.attachment.url, rel: 'noopener', target: '_blank' }, `${t('attachment')} (${q.attachment.content_type}, ${q.attachment.bytes} B)`)) : null,
    (q.decisions || []).map((d) => h('p', { class: 'note' }, `${t('rstatus_' + d.decision)}: ${d.by}${d.comment ? ' - ' + d.comment : ''}`)),
    onCancel && q.status === 'pending' ? h('button', { onclick: onCancel }, t('request_cancel')) : null,
    extra);
}

// --- notifications ---
function noticeText(x) {
  const d = x.details || {};
  const kinds = { c: 'kind_checkin', e: 'kind_enrolment', w: 'kind_episode' };
  const what = t(kinds[x.ref.split('.')[0]] || 'nav_requests');
  if (!d.decision || !['review_decided', 'request_decided'].includes(x.topic)) return x.message;
  return t('notice_decided', { what, decision: t('rstatus_' + d.decision), day: d.day_status ? ` (${statusText(d.day_status)})` : '' });
}
// ---------------------------------------------------------------------------------------------
export async function notifications(root) {
  const n = await api('GET', '/me/notifications?limit=50');
  root.replaceChildren(h('section', {}, h('h1', {}, t('notifications_title')),
    n.items.length ? h('ul', { class: 'cards' }, n.items.map((x) => h('li', { testid: 'notification', class: 'card', data: { ref: x.ref, topic: x.topic } },
      h('p', { class: 'note' }, new Date(x.at).toLocaleString(getLang() === 'en' ? 'en-GB' : 'id-ID')), h('p', {}, noticeText(x)),
      x.details && x.details.comment ? h('p', {}, `"${x.details.comment}"`) : null,
      x.details && x.details.reasons ? reasonList(x.details.reasons) : null))) : message(t('none'))));
}
