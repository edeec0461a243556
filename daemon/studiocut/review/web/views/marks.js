/* Marks: the refine tools (keep and remove points, a subject box, keep and remove brush
   strokes), drawn on the canvas over the stage in canvas px of the full-resolution result,
   with their own undo. Without a tool, a drag pans a zoomed view and a click recentres it. */

import { $, $$, setRange, showRangeValue } from '../dom.js';
import { clamp } from '../format.js';
import { loadView, onView, setFocus, setZoom, stageBusy, stageView, stageZoom } from './stage.js';

const KEEP = 'rgba(52, 199, 89, 0.45)';
const REMOVE = 'rgba(255, 69, 58, 0.45)';
const KEEP_DOT = '#34c759';
const REMOVE_DOT = '#ff453a';

let tool = null;
let marks = { points: [], box: null, strokes: [] };
let markHistory = [];                   // for undoing marks
let drag = null;
let hover = null;

const roundPt = (x) => Math.round(x);

/** The marks as the refine request sends them: whole canvas px. */
export function marksBody() {
  const m = marks;
  return {
    points: m.points.map((p) => ({ x: roundPt(p.x), y: roundPt(p.y), label: p.label })),
    box: m.box ? m.box.map(roundPt) : null,
    strokes: m.strokes.map((s) => ({
      mode: s.mode,
      radius: Math.round(s.radius),
      points: s.points.map(([x, y]) => [roundPt(x), roundPt(y)]),
    })),
  };
}

export function clearMarks() {
  marks = { points: [], box: null, strokes: [] };
  markHistory = [];
  drag = null;
  drawMarks();
  updateMarksCount();
}

/** The inspector closed: a drag in progress ends. */
export function stopDrag() {
  drag = null;
}

export function undoMark() {
  const last = markHistory.pop();
  if (!last) return;
  if (last.type === 'point') marks.points.pop();
  else if (last.type === 'stroke') marks.strokes.pop();
  else if (last.type === 'box') marks.box = last.prev;
  drawMarks();
  updateMarksCount();
}

function updateMarksCount() {
  const m = marks;
  const keep = m.points.filter((p) => p.label === 1).length;
  const remove = m.points.length - keep;
  const parts = [];
  if (keep) parts.push(`${keep} keep`);
  if (remove) parts.push(`${remove} remove`);
  if (m.box) parts.push('box');
  if (m.strokes.length) parts.push(`${m.strokes.length} stroke${m.strokes.length === 1 ? '' : 's'}`);
  $('#marks-count').textContent = parts.length ? `Marks: ${parts.join(', ')}` : 'No marks: refine applies the edge settings only';
}

function setTool(next) {
  tool = tool === next ? null : next;
  for (const b of $$('button.tool')) {
    const on = b.dataset.tool === tool;
    b.classList.toggle('active', on);
    b.setAttribute('aria-pressed', on ? 'true' : 'false');
  }
  const stage = $('#stage');
  stage.dataset.tool = tool || 'pan';
  hover = null;
  drawMarks();
}

/** [ and ]: a smaller or larger brush. */
export function nudgeRadius(dir) {
  const input = $('#brush-radius');
  const r = Number(input.value);
  setRange('#brush-radius', clamp(r + dir * Math.max(1, Math.round(r * 0.15)), 2, 200));
  drawMarks();
}

// ---------------------------------------------------------------- drawing

/** Draw every mark (kept in canvas px of the full result) for the current view. */
function drawMarks() {
  const c = $('#marks');
  const ctx = c.getContext('2d');
  const v = stageView();
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.clearRect(0, 0, c.width, c.height);
  if (!v) return;
  const s = c.width / v.w;               // backing px per canvas px
  const dpr = window.devicePixelRatio || 1;
  const px = dpr / s;                    // one CSS px, in canvas px
  ctx.setTransform(s, 0, 0, s, -v.x0 * s, -v.y0 * s);
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';

  for (const st of marks.strokes) drawStroke(ctx, st);

  const box = drag && drag.type === 'box' ? boxFrom(drag.start, drag.cur) : marks.box;
  if (box) drawBox(ctx, box, px);

  for (const p of marks.points) {
    ctx.beginPath();
    ctx.arc(p.x, p.y, 5 * px, 0, Math.PI * 2);
    ctx.fillStyle = p.label === 1 ? KEEP_DOT : REMOVE_DOT;
    ctx.fill();
    ctx.lineWidth = 1.5 * px;
    ctx.strokeStyle = '#fff';
    ctx.stroke();
  }

  if (hover && tool && tool.startsWith('brush')) {
    ctx.beginPath();
    ctx.arc(hover.x, hover.y, Number($('#brush-radius').value), 0, Math.PI * 2);
    ctx.lineWidth = 1 * px;
    ctx.strokeStyle = 'rgba(255,255,255,0.9)';
    ctx.setLineDash([4 * px, 3 * px]);
    ctx.stroke();
    ctx.setLineDash([]);
  }
}

function drawStroke(ctx, st) {
  const color = st.mode === 'keep' ? KEEP : REMOVE;
  if (st.points.length === 1) {
    const [x, y] = st.points[0];
    ctx.beginPath();
    ctx.arc(x, y, st.radius, 0, Math.PI * 2);
    ctx.fillStyle = color;
    ctx.fill();
    return;
  }
  ctx.beginPath();
  st.points.forEach(([x, y], i) => (i ? ctx.lineTo(x, y) : ctx.moveTo(x, y)));
  ctx.lineWidth = st.radius * 2;
  ctx.strokeStyle = color;
  ctx.stroke();
}

function drawBox(ctx, [x0, y0, x1, y1], px) {
  ctx.lineWidth = 1.5 * px;
  ctx.setLineDash([6 * px, 4 * px]);
  ctx.strokeStyle = '#ffd60a';
  ctx.strokeRect(x0, y0, x1 - x0, y1 - y0);
  ctx.setLineDash([]);
}

function boxFrom(a, b) {
  return [Math.min(a.x, b.x), Math.min(a.y, b.y), Math.max(a.x, b.x), Math.max(a.y, b.y)];
}

// ---------------------------------------------------------------- pointer

/** A pointer position as canvas px of the full-resolution result. */
function toCanvas(e) {
  const v = stageView();
  const r = $('#marks').getBoundingClientRect();
  const x = v.x0 + ((e.clientX - r.left) * v.w) / r.width;
  const y = v.y0 + ((e.clientY - r.top) * v.h) / r.height;
  return { x: clamp(x, 0, v.W), y: clamp(y, 0, v.H) };
}

function onMarksDown(e) {
  if (e.button !== 0 || !stageView() || stageBusy()) return;
  const p = toCanvas(e);
  setFocus(p);                          // "last clicked point" for the next zoom
  const c = $('#marks');
  if (tool === 'keep' || tool === 'remove') {
    marks.points.push({ x: p.x, y: p.y, label: tool === 'keep' ? 1 : 0 });
    markHistory.push({ type: 'point' });
    updateMarksCount();
    drawMarks();
    return;
  }
  try { c.setPointerCapture(e.pointerId); } catch (err) { /* synthetic pointer */ }
  if (tool === 'box') {
    drag = { type: 'box', start: p, cur: p };
  } else if (tool === 'brush-keep' || tool === 'brush-remove') {
    const stroke = { mode: tool === 'brush-keep' ? 'keep' : 'remove', radius: Number($('#brush-radius').value), points: [[p.x, p.y]] };
    marks.strokes.push(stroke);
    markHistory.push({ type: 'stroke' });
    drag = { type: 'stroke', stroke };
    updateMarksCount();
  } else {
    drag = { type: 'pan', sx: e.clientX, sy: e.clientY, dx: 0, dy: 0, moved: false };
    $('#stage').classList.add('panning');
  }
  drawMarks();
}

function onMarksMove(e) {
  if (!stageView()) return;
  const p = toCanvas(e);
  hover = p;
  const d = drag;
  if (d && d.type === 'box') {
    d.cur = p;
  } else if (d && d.type === 'stroke') {
    const last = d.stroke.points[d.stroke.points.length - 1];
    const step = Math.max(1, d.stroke.radius / 4);
    if (Math.hypot(p.x - last[0], p.y - last[1]) >= step) d.stroke.points.push([p.x, p.y]);
  } else if (d && d.type === 'pan') {
    d.dx = e.clientX - d.sx;
    d.dy = e.clientY - d.sy;
    if (Math.hypot(d.dx, d.dy) > 3) d.moved = true;
    if (d.moved && stageZoom() !== 'fit') $('#frame').style.transform = `translate(${d.dx}px, ${d.dy}px)`;
    return;
  } else if (!tool || !tool.startsWith('brush')) {
    return;
  }
  drawMarks();
}

function onMarksUp(e) {
  const d = drag;
  const v = stageView();
  drag = null;
  $('#stage').classList.remove('panning');
  if (!d || !v) return;
  if (d.type === 'box') {
    const b = boxFrom(d.start, toCanvas(e));
    if ((b[2] - b[0]) * v.k >= 4 && (b[3] - b[1]) * v.k >= 4) {
      markHistory.push({ type: 'box', prev: marks.box });
      marks.box = b;
      updateMarksCount();
    }
    drawMarks();
  } else if (d.type === 'pan' && stageZoom() !== 'fit') {
    if (d.moved) {
      // drag: the new centre is the old one moved against the drag
      setFocus({ x: v.x0 + v.w / 2 - d.dx / v.k, y: v.y0 + v.h / 2 - d.dy / v.k });
    }
    loadView();                          // a click recentres on the focus (set on down)
  }
}

function onMarksCancel() {
  drag = null;
  $('#frame').style.transform = '';
  $('#stage').classList.remove('panning');
  drawMarks();
}

function onMarksLeave() {
  hover = null;
  if (!drag) drawMarks();
}

function onMarksDblClick() {
  if (tool) return;
  setZoom(stageZoom() === 'fit' ? '100' : 'fit');
}

export function wireMarks() {
  for (const b of $$('#inspector button.tool')) b.addEventListener('click', () => setTool(b.dataset.tool));
  for (const id of ['#brush-radius', '#edge-shift', '#edge-feather']) {
    $(id).addEventListener('input', (e) => { showRangeValue(e.target); drawMarks(); });
  }
  $('#clear-marks').addEventListener('click', clearMarks);
  const c = $('#marks');
  c.addEventListener('pointerdown', onMarksDown);
  c.addEventListener('pointermove', onMarksMove);
  c.addEventListener('pointerup', onMarksUp);
  c.addEventListener('pointercancel', onMarksCancel);
  c.addEventListener('pointerleave', onMarksLeave);
  c.addEventListener('dblclick', onMarksDblClick);
  onView(drawMarks);
  setTool(null);
  updateMarksCount();
}
