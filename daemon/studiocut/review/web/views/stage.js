/* Stage: the inspector's picture of the shown revision. Background and layer modes, the
   before/after split, zoom (fit, 100%, 200%) around the last clicked point, and the busy
   overlay while a refine or publish runs. The marks canvas lies on top (see marks.js). */

import { $, $$ } from '../dom.js';
import { clamp } from '../format.js';

const BG_MODES = ['checker', 'white', 'black', 'grey'];
const FIT_MAX = 1600;                   // longest side of "fit" images

let active = false;                     // the inspector is open
let shown = null;                       // revision on the stage
let loaded = false;                     // the inspected job has loaded (else: "Loading…")
let loadGen = 0;
let mode = 'checker';
let lastBg = 'checker';
let beforeOriginal = 'checker';
let split = false;
let splitPos = 50;
let zoom = 'fit';
let focus = null;                       // last clicked point, canvas px
let view = null;                        // geometry on the stage (see computeView)
let busy = false;
let redraw = () => {};                  // draws the marks over a new view

/** The geometry on the stage (see computeView), or null while nothing is shown. */
export const stageView = () => view;
export const stageZoom = () => zoom;
export const stageBusy = () => busy;

/** The point to centre the next zoomed view on, in canvas px. */
export function setFocus(p) {
  focus = p;
}

/** fn() runs each time the stage shows a new view, to draw the marks over it. */
export function onView(fn) {
  redraw = fn;
}

/** Append a query parameter to a media URL that may already have one. */
function withQuery(url, query) {
  return url + (url.includes('?') ? '&' : '?') + query;
}

// ---------------------------------------------------------------- inspector: open, show, close

/** The inspector opens a job: nothing on the stage until its revision is shown. */
export function openStage() {
  active = true;
  shown = null;
  loaded = false;
  focus = null;
  view = null;
  loadGen++;
  $('#stage-msg').textContent = 'Loading…';
  $('#stage-msg').hidden = false;
  $('#frame').hidden = true;
}

/** Put the inspector's shown revision (or null: the job has none) on the stage; `load`:
    fetch its pictures now (a different revision), else keep the view. */
export function showOnStage(rev, load) {
  shown = rev;
  loaded = true;
  if (load) loadView();
}

export function closeStage() {
  active = false;
  loadGen++;
  $('#img-main').removeAttribute('src');
  $('#img-before').removeAttribute('src');
}

export function setStageBusy(on, text) {
  busy = on;
  $('#busy').hidden = !on;
  if (text) $('#busy-text').textContent = text;
  $('#stage').classList.toggle('is-busy', on);
}

// ---------------------------------------------------------------- modes and zoom

/** Which media a mode shows. */
function mediaKind(m) {
  if (m === 'mask') return 'mask';
  if (m === 'overlay') return 'overlay';
  if (m === 'original') return 'before';
  return 'cutout';
}

function setMode(next) {
  if (next === 'split') { setSplit(!split); return; }
  const before = mediaKind(mode);
  if (next === 'original' && split) split = false;
  if (BG_MODES.includes(next)) lastBg = next;
  mode = next;
  updateModeButtons();
  if (view && before === mediaKind(next) && !(next === 'original')) applyBackground();
  else loadView();
}

function setSplit(on) {
  split = on;
  if (on && mode === 'original') mode = lastBg;
  updateModeButtons();
  loadView();
}

/** F: the next background. */
export function cycleBg() {
  const i = BG_MODES.indexOf(mode);
  setMode(i < 0 ? 'checker' : BG_MODES[(i + 1) % BG_MODES.length]);
}

/** O: the original, or back to the mode before it. */
export function toggleOriginal() {
  if (mode === 'original') {
    setMode(beforeOriginal || lastBg);
  } else {
    beforeOriginal = mode;
    setMode('original');
  }
}

function updateModeButtons() {
  for (const b of $$('button.mode')) {
    const on = b.dataset.mode === 'split' ? split : b.dataset.mode === mode;
    b.classList.toggle('active', on);
    b.setAttribute('aria-pressed', on ? 'true' : 'false');
  }
  $('#split').closest('.split-field').classList.toggle('on', split);
}

function applyBackground() {
  const frame = $('#frame');
  for (const m of BG_MODES) frame.classList.remove(`bg-${m}`);
  frame.classList.remove('bg-none');
  frame.classList.add(BG_MODES.includes(mode) ? `bg-${mode}` : 'bg-none');
}

export function setZoom(next) {
  if (!['fit', '100', '200'].includes(next)) return;
  zoom = next;
  for (const b of $$('button.zoom')) {
    const on = b.dataset.zoom === next;
    b.classList.toggle('active', on);
    b.setAttribute('aria-pressed', on ? 'true' : 'false');
  }
  loadView();
}

// ---------------------------------------------------------------- loading a view

/** Geometry for the stage: which part of the canvas (x0, y0, w, h) is shown at k CSS px
    per canvas px, and the URL query that fetches exactly that. */
function computeView(rev) {
  const stage = $('#stage');
  const sw = Math.max(1, stage.clientWidth);
  const sh = Math.max(1, stage.clientHeight);
  const W = rev.size[0];
  const H = rev.size[1];
  let v;
  if (zoom === 'fit') {
    const k = Math.min(sw / W, sh / H);
    v = { x0: 0, y0: 0, w: W, h: H, k, query: `max=${FIT_MAX}` };
  } else {
    const dpr = window.devicePixelRatio || 1;
    const k = Number(zoom) / 100 / dpr;   // 1 or 2 device px per canvas px
    const w = clamp(Math.ceil(sw / k), 1, W);
    const h = clamp(Math.ceil(sh / k), 1, H);
    const f = focus || { x: W / 2, y: H / 2 };
    const x0 = clamp(Math.round(f.x - w / 2), 0, W - w);
    const y0 = clamp(Math.round(f.y - h / 2), 0, H - h);
    v = { x0, y0, w, h, k, query: `crop=${x0},${y0},${w},${h}` };
  }
  v.W = W;
  v.H = H;
  v.fw = v.w * v.k;
  v.fh = v.h * v.k;
  v.left = Math.round((sw - v.fw) / 2);
  v.top = Math.round((sh - v.fh) / 2);
  return v;
}

/** Resolve when an image has loaded (or failed), so the swap happens in one step. */
function preload(url) {
  if (!url) return Promise.resolve();
  return new Promise((resolve) => {
    const img = new Image();
    const done = () => resolve();
    img.addEventListener('load', done);
    img.addEventListener('error', done);
    setTimeout(done, 20000);
    img.src = url;
  });
}

/** (Re)load the stage for the shown revision, mode, split and zoom. */
export function loadView() {
  if (!active) return;
  const rev = shown;
  const msg = $('#stage-msg');
  if (!rev || !rev.media || !Array.isArray(rev.size)) {
    loadGen++;
    view = null;
    $('#frame').hidden = true;
    $('#split-line').hidden = true;
    msg.textContent = loaded ? 'No result for this job yet' : 'Loading…';
    msg.hidden = false;
    return;
  }
  const v = computeView(rev);
  const main = withQuery(rev.media[mediaKind(mode)] || '', v.query);
  const before = split ? withQuery(rev.media.before || '', v.query) : null;
  const gen = ++loadGen;
  $('#stage').classList.add('is-loading');
  Promise.all([preload(main), preload(before)]).then(() => {
    if (gen !== loadGen || !active) return;
    applyView(v, main, before);
  });
}

function applyView(v, main, before) {
  view = v;
  const frame = $('#frame');
  frame.hidden = false;
  frame.style.left = `${v.left}px`;
  frame.style.top = `${v.top}px`;
  frame.style.width = `${v.fw}px`;
  frame.style.height = `${v.fh}px`;
  frame.style.transform = '';
  frame.classList.toggle('zoomed', zoom !== 'fit');
  applyBackground();
  const imgMain = $('#img-main');
  imgMain.src = main;
  imgMain.dataset.kind = mediaKind(mode);
  const imgBefore = $('#img-before');
  if (before) {
    imgBefore.src = before;
    imgBefore.hidden = false;
  } else {
    imgBefore.removeAttribute('src');
    imgBefore.hidden = true;
  }
  $('#stage-msg').hidden = true;
  $('#stage').classList.remove('is-loading');
  applySplit();
  sizeCanvas();
  redraw();
}

/** Clip the before image to the left of the split and the result to the right. */
function applySplit() {
  const imgMain = $('#img-main');
  const imgBefore = $('#img-before');
  const line = $('#split-line');
  const v = view;
  if (!split || !v) {
    imgMain.style.clipPath = '';
    imgBefore.style.clipPath = '';
    line.hidden = true;
    return;
  }
  const p = clamp(splitPos, 0, 100);
  imgMain.style.clipPath = `inset(0 0 0 ${p}%)`;
  imgBefore.style.clipPath = `inset(0 ${100 - p}% 0 0)`;
  line.hidden = false;
  line.style.left = `${v.left + (v.fw * p) / 100}px`;
  line.style.top = `${v.top}px`;
  line.style.height = `${v.fh}px`;
}

function onSplitInput() {
  splitPos = Number($('#split').value);
  if (!split) setSplit(true);
  else applySplit();
}

/** The marks canvas covers the view at the screen's pixel density. */
function sizeCanvas() {
  const c = $('#marks');
  const v = view;
  if (!v) return;
  const dpr = window.devicePixelRatio || 1;
  c.width = Math.max(1, Math.round(v.fw * dpr));
  c.height = Math.max(1, Math.round(v.fh * dpr));
}

export function wireStage() {
  for (const b of $$('#inspector button.mode')) b.addEventListener('click', () => setMode(b.dataset.mode));
  for (const b of $$('#inspector button.zoom')) b.addEventListener('click', () => setZoom(b.dataset.zoom));
  const range = $('#split');
  range.addEventListener('input', onSplitInput);
  range.addEventListener('change', onSplitInput);
  let resizeTimer = null;
  const onResize = () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => { if (active && view) loadView(); }, 150);
  };
  if (window.ResizeObserver) new ResizeObserver(onResize).observe($('#stage'));
  else window.addEventListener('resize', onResize);
  setZoom('fit');
  updateModeButtons();
}
