// The capture screen shared by enrolment and check-in: live front-camera preview, the challenge's
// steps one by one (a capture button per step grabs the current frame as JPEG), the position with its
// accuracy shown before sending, then `onSend(frames, fix, consent)`.
import { h } from './dom.js';
import { t } from './i18n.js';

let stream = null;
export function stopCamera() {
  if (stream) stream.getTracks().forEach((tr) => tr.stop());
  stream = null;
}

function grab(video) {
  const c = document.createElement('canvas');
  c.width = video.videoWidth || 640; c.height = video.videoHeight || 480;
  c.getContext('2d').drawImage(video, 0, 0, c.width, c.height);
  return new Promise((res) => c.toBlob(res, 'image/jpeg', 0.9));
}

export function locate() {
  return new Promise((res, rej) => {
    if (!navigator.geolocation) return rej(new Error('geolocation unavailable'));
    navigator.geolocation.getCurrentPosition(
      (p) => res({ lat: p.coords.latitude, lon: p.coords.longitude, accuracy: p.coords.accuracy,
        at: new Date(p.timestamp || Date.now()).toISOString() }),
      (e) => rej(new Error(e.message || 'position unavailable')),
      { enableHighAccuracy: true, timeout: 20000, maximumAge: 0 });
  });
}

/** steps: ['front', 'left', ...]; returns the screen element. */
export function captureScreen({ title, steps, enrol = false, note = null, onSend }) {
  const frames = [];
  let fix = null;
  const video = h('video', { testid: 'camera-preview', autoplay: true, muted: true, playsinline: true,
    'aria-label': t('camera_label'), class: 'preview' });
  video.muted = true;
  const stepEl = h('p', { testid: 'challenge-step', class: 'step', 'aria-live': 'polite' });
  const ticks = steps.map((p, i) => h('li', { testid: `capture-tick-${i}`, class: 'tick' }, `${i + 1}. ${t('pose_' + p)}`));
  const camErr = h('p', { class: 'error', role: 'alert', hidden: true });
  const captureBtn = h('button', { testid: 'capture', type: 'button', class: 'primary big', onclick: onCapture }, t('capture'));
  const retake = h('button', { type: 'button', onclick: restart }, t('retake'));
  const pos = h('p', { testid: 'position', class: 'position', 'aria-live': 'polite' }, t('position_wait'));
  const posRetry = h('button', { type: 'button', hidden: true, onclick: findPosition }, t('position_retry'));
  const consent = enrol ? h('input', { type: 'checkbox', testid: 'consent', id: 'consent', onchange: ready }) : null;
  const send = h('button', { testid: 'send', type: 'button', class: 'primary big', disabled: true, onclick: doSend }, t('send'));
  const result = h('div', { class: 'result', 'aria-live': 'polite' });

  function showStep() {
    const i = frames.length;
    if (i >= steps.length) {
      stepEl.textContent = t('all_captured'); stepEl.dataset.pose = ''; stepEl.dataset.step = String(i);
      captureBtn.disabled = true;
    } else {
      stepEl.textContent = `${t('step_of', { i: i + 1, n: steps.length })}: ${t('pose_' + steps[i])}`;
      stepEl.dataset.pose = steps[i]; stepEl.dataset.step = String(i);
      captureBtn.disabled = !stream;
    }
    ticks.forEach((el, j) => el.classList.toggle('ok', j < i));
    ready();
  }
  async function onCapture() {
    if (frames.length >= steps.length || !video.videoWidth) return;
    captureBtn.disabled = true;
    frames.push(await grab(video));
    showStep();
  }
  function restart() { frames.length = 0; showStep(); }
  function ready() {
    send.disabled = !(frames.length === steps.length && fix && (!enrol || consent.checked));
  }
  async function findPosition() {
    posRetry.hidden = true; pos.textContent = t('position_wait');
    try {
      fix = await locate();
      pos.dataset.lat = fix.lat; pos.dataset.lon = fix.lon; pos.dataset.accuracy = fix.accuracy;
      pos.textContent = t('position_ok', { lat: fix.lat.toFixed(5), lon: fix.lon.toFixed(5), acc: Math.round(fix.accuracy) });
    } catch (e) {
      fix = null; pos.textContent = t('position_error', { e: e.message }); posRetry.hidden = false;
    }
    ready();
  }
  async function doSend() {
    send.disabled = true; captureBtn.disabled = true; retake.disabled = true;
    send.textContent = t('sending');
    try {
      await onSend(frames.slice(), fix, consent && consent.checked, result);
    } finally {
      send.textContent = t('send'); retake.disabled = false;
      stopCamera();
    }
  }
  async function startCamera() {
    try {
      stopCamera();
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'user', width: { ideal: 640 }, height: { ideal: 480 } }, audio: false });
      if (!el.isConnected) { stopCamera(); return; } // the person left this screen meanwhile
      video.srcObject = stream;
      await video.play().catch(() => {});
    } catch (e) {
      camErr.hidden = false; camErr.textContent = t('camera_error', { e: e.message || e.name });
    }
    showStep();
  }
  const el = h('section', { class: 'capture' },
    h('h1', {}, title),
    note && h('p', { class: 'note' }, note),
    h('div', { class: 'video-wrap' }, video), camErr, stepEl,
    h('ol', { class: 'ticks' }, ticks),
    h('div', { class: 'row' }, captureBtn, retake),
    pos, posRetry,
    enrol && h('div', { class: 'consent' }, consent, h('label', { for: 'consent' }, t('consent'))),
    send, result);
  showStep();
  startCamera();
  findPosition();
  return el;
}
