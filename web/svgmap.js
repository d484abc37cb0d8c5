// An inline SVG "map": the fence (circle or GeoJSON Polygon) and a position with its accuracy circle,
// in metres on a local flat projection. No tiles needed (config.tileUrl is optional and unused here).
import { s } from './dom.js';

const M_LAT = 110540;
const mPerLon = (lat) => 111320 * Math.cos((lat * Math.PI) / 180);

function rings(fence) {
  if (!fence) return [];
  if (fence.type === 'Polygon') return fence.coordinates || [];
  if (fence.type === 'MultiPolygon') return (fence.coordinates || []).flat();
  return [];
}

/** fence: {type: 'circle', lat, lon, radius_m} | GeoJSON Polygon; pos: {lat, lon, accuracy} */
export function fenceMap(fence, pos, { label = '', testid } = {}) {
  const pts = [];
  if (fence && fence.type === 'circle') pts.push([fence.lat, fence.lon]);
  rings(fence).forEach((r) => r.forEach(([lon, lat]) => pts.push([lat, lon])));
  if (pos) pts.push([pos.lat, pos.lon]);
  const lat0 = pts.length ? pts.reduce((a, p) => a + p[0], 0) / pts.length : 0;
  const lon0 = pts.length ? pts.reduce((a, p) => a + p[1], 0) / pts.length : 0;
  const xy = (lat, lon) => [(lon - lon0) * mPerLon(lat0), -(lat - lat0) * M_LAT];
  const boxes = [];
  const shapes = [];
  if (fence && fence.type === 'circle') {
    const [x, y] = xy(fence.lat, fence.lon);
    const r = fence.radius_m;
    boxes.push([x - r, y - r, x + r, y + r]);
    shapes.push(s('circle', { cx: x, cy: y, r, class: 'fence' }));
  }
  for (const ring of rings(fence)) {
    const p = ring.map(([lon, lat]) => xy(lat, lon));
    p.forEach(([x, y]) => boxes.push([x, y, x, y]));
    shapes.push(s('polygon', { points: p.map((q) => q.join(',')).join(' '), class: 'fence' }));
  }
  if (pos) {
    const [x, y] = xy(pos.lat, pos.lon);
    const r = Math.max(pos.accuracy || 0, 1);
    boxes.push([x - r, y - r, x + r, y + r]);
    shapes.push(s('circle', { cx: x, cy: y, r, class: 'accuracy' }));
  }
  let [x0, y0, x1, y1] = boxes.length ? boxes.reduce((a, b) => [Math.min(a[0], b[0]), Math.min(a[1], b[1]),
    Math.max(a[2], b[2]), Math.max(a[3], b[3])]) : [-50, -50, 50, 50];
  const w = Math.max(x1 - x0, 20), hgt = Math.max(y1 - y0, 20);
  const pad = Math.max(w, hgt) * 0.12;
  x0 -= pad; y0 -= pad;
  const W = w + 2 * pad, H = hgt + 2 * pad;
  if (pos) {
    const [x, y] = xy(pos.lat, pos.lon);
    shapes.push(s('circle', { cx: x, cy: y, r: Math.max(W, H) / 60, class: 'dot' }));
  }
  const svg = s('svg', { viewBox: `${x0} ${y0} ${W} ${H}`, role: 'img', 'aria-label': label, class: 'map',
    testid, preserveAspectRatio: 'xMidYMid meet', 'vector-effect': 'non-scaling-stroke' },
  s('title', {}, label), ...shapes);
  svg.style.setProperty('--sw', String(Math.max(W, H) / 150));
  return svg;
}
