/* Review queue: the grid of cards for one view (flagged, all, held, approved, rejected) and
   profile, loaded a page at a time and kept current by job changes; the current card, the
   selection, and the chain of P/X reviews that U undoes. */

import { api, jobsQuery, report } from '../api.js';
import { $, $$, el, isShown, markReady } from '../dom.js';
import { isNum, jobPath } from '../format.js';
import { onJobChanged, onJobDropped, remember, withPending } from '../jobs.js';

const VIEWS = ['flagged', 'all', 'held', 'approved', 'rejected'];
const UNDO_MAX = 50;

let view = 'flagged';
let profile = '';
const cards = new Map();                 // id -> card element
let cursor = null;                       // next_cursor of the review list
let qGen = 0;                            // review list request generation
let listReady = false;
let listLoading = false;
const late = new Map();                  // jobs refreshed while the list was loading
let current = null;                      // current card id
let anchor = null;                       // shift-click range anchor
let selected = new Set();
const undo = [];                         // ids reviewed with P/X since the last manual move

// ---------------------------------------------------------------- list loading

/** Does a job belong in the review view being shown? Mirrors the server's views. */
function matchesView(job) {
  if (!job) return false;
  if (profile && job.profile !== profile) return false;
  switch (view) {
    case 'flagged': return job.state === 'done' && (job.review === 'flagged' || job.review === 'held');
    case 'all': return job.state === 'done';
    case 'held': return job.review === 'held';
    case 'approved': return job.review === 'approved';
    case 'rejected': return job.review === 'rejected';
    default: return false;
  }
}

/** Load the review list: reset = first page (view change / reload), else the next page. */
export async function loadQueue(reset) {
  const gen = ++qGen;
  listLoading = true;
  const more = $('#load-more');
  more.disabled = true;
  try {
    const r = await api(jobsQuery(view, profile, reset ? null : cursor));
    if (gen !== qGen) return;
    if (reset) clearGrid();
    const jobs = Array.isArray(r.jobs) ? r.jobs : [];
    for (const raw of jobs) {
      const job = withPending(raw);
      remember(job);
      if (cards.has(job.id)) syncCard(job);
      else appendCard(job);
    }
    cursor = r.next_cursor || null;
    listReady = true;
    listLoading = false;
    for (const job of late.values()) syncCard(job);
    late.clear();
    if (current === null || !cards.has(current)) {
      setCurrent(neighbour(null, 1), { focus: false });
    }
    updateQueueMeta();
    markReady('jobs');
  } catch (err) {
    if (gen === qGen) report(err);
  } finally {
    if (gen === qGen) {
      listLoading = false;
      more.disabled = false;
      more.hidden = !cursor;
    }
  }
}

function clearGrid() {
  $('#queue').replaceChildren();
  cards.clear();
  selected.clear();
  current = null;
  anchor = null;
  undo.length = 0;
  updateSelection();
}

function setView(name) {
  if (!VIEWS.includes(name)) return;
  view = name;
  for (const b of $$('button.view')) {
    const on = b.dataset.view === name;
    b.classList.toggle('active', on);
    b.setAttribute('aria-pressed', on ? 'true' : 'false');
  }
  loadQueue(true);
}

function updateQueueMeta() {
  const n = $$('#queue .card:not(.gone)').length;
  $('#queue-count').textContent = `${n}${cursor ? '+' : ''} job${n === 1 ? '' : 's'}`;
  $('#queue-empty').hidden = cards.size > 0;
  $('#queue-empty').textContent = view === 'flagged' ? 'Nothing to review. All clear.' : 'No jobs in this view.';
}

// ---------------------------------------------------------------- cards

function buildCard(job) {
  const card = el('div', 'card');
  card.tabIndex = -1;
  card.dataset.job = String(job.id);
  const thumb = el('div', 'thumb checker');
  const img = el('img');
  img.alt = '';
  img.loading = 'lazy';
  img.decoding = 'async';
  img.draggable = false;
  thumb.append(img, el('span', 'thumb-msg'));
  const meta = el('div', 'meta');
  const sub = el('div', 'sub');
  sub.append(el('span', 'profile'), el('span', 'tag rev-tag'), el('span', 'pill review'));
  meta.append(el('div', 'name'), sub, el('ul', 'reasons'));
  card.append(thumb, meta);
  fillCard(card, job);
  return card;
}

/** Update a card in place from a job. */
function fillCard(card, job) {
  card.dataset.review = job.review || 'none';
  card.dataset.state = job.state || '';
  const rev = job.revision;
  const url = rev && rev.media && rev.media.thumb;
  const img = $('img', card);
  if (url) {
    if (img.getAttribute('src') !== url) img.src = url;
    img.hidden = false;
  } else {
    img.removeAttribute('src');
    img.hidden = true;
  }
  $('.thumb-msg', card).textContent = url ? '' : (job.state === 'done' ? 'no result' : job.state || '');
  const name = $('.name', card);
  name.textContent = job.name || `#${job.id}`;
  name.title = jobPath(job);
  $('.profile', card).textContent = job.profile || '';
  const tag = $('.rev-tag', card);
  const candidate = rev && isNum(rev.number) && rev.number !== job.published;
  tag.textContent = candidate ? `r${rev.number} not live` : '';
  tag.hidden = !candidate;
  const pill = $('.pill.review', card);
  pill.textContent = job.review && job.review !== 'none' ? job.review : job.state || '';
  pill.className = `pill review review-${job.review || 'none'}`;
  const flags = Array.isArray(job.flags) ? job.flags : [];
  $('.reasons', card).replaceChildren(...flags.map((f) => el('li', null, f)));
}

function appendCard(job) {
  const card = buildCard(job);
  cards.set(job.id, card);
  $('#queue').append(card);
}

/** A job changed: update its card, dim it when it left the view, append it when it is new. */
function syncCard(job) {
  const card = cards.get(job.id);
  if (card) {
    fillCard(card, job);
    setGone(card, !matchesView(job));
  } else if (matchesView(job) && listReady && !listLoading) {
    appendCard(job);
  } else {
    return;
  }
  updateQueueMeta();
}

function setGone(card, gone) {
  if (card.classList.contains('gone') === gone) return;
  card.classList.toggle('gone', gone);
  if (gone && selected.delete(Number(card.dataset.job))) updateSelection();
}

// ---------------------------------------------------------------- current card

/** The current card's job id, or null. */
export const currentId = () => current;
/** Is the job on a card of the grid (in view or dimmed)? */
export const hasCard = (id) => cards.has(id);

/** The next (dir 1) or previous (dir -1) card still in view; from the start when id is null. */
export function neighbour(id, dir) {
  const all = $$('#queue .card');
  let i = id === null ? (dir > 0 ? -1 : all.length) : all.findIndex((c) => Number(c.dataset.job) === id);
  if (i < 0 && id !== null) i = dir > 0 ? -1 : all.length;
  for (let j = i + dir; j >= 0 && j < all.length; j += dir) {
    if (!all[j].classList.contains('gone')) return Number(all[j].dataset.job);
  }
  return null;
}

export function setCurrent(id, { focus = true } = {}) {
  const old = cards.get(current);
  if (old) old.classList.remove('current');
  current = id;
  const card = cards.get(id);
  if (!card) return;
  card.classList.add('current');
  if (focus) focusCurrent();
}

/** Give the current card keyboard focus and scroll it into view (review tab only, inspector
    closed). */
export function focusCurrent() {
  const card = cards.get(current);
  if (!card || isShown('#inspector') || !isShown('#review')) return;
  card.focus({ preventScroll: true });
  card.scrollIntoView({ block: 'nearest', inline: 'nearest' });
}

/** Arrow keys: move the current card; manual moves end the P/X undo chain. */
export function move(dir) {
  const next = current === null ? neighbour(null, 1) : neighbour(current, dir);
  if (next === null) return;
  undo.length = 0;
  setCurrent(next);
}

/** After a bulk action: when the current card left the view, the next one becomes current. */
export function leaveGone() {
  const cur = cards.get(current);
  if (cur && cur.classList.contains('gone')) {
    const next = neighbour(current, 1);
    if (next !== null) setCurrent(next);
  }
}

// ---------------------------------------------------------------- undo chain

export function rememberUndo(id) {
  undo.push(id);
  if (undo.length > UNDO_MAX) undo.shift();
}

/** The last job reviewed with P/X, taken off the chain; undefined when there is none. */
export const takeUndo = () => undo.pop();

/** A manual move ends the chain. */
export function forgetUndo() {
  undo.length = 0;
}

// ---------------------------------------------------------------- selection

/** The selected job ids, in the order they were selected. */
export const selectedIds = () => [...selected];

export function updateSelection() {
  for (const [id, card] of cards) card.classList.toggle('selected', selected.has(id));
  $('#bulk').hidden = selected.size === 0;
  $('#bulk-count').textContent = String(selected.size);
}

function toggleSelect(id) {
  if (!selected.delete(id)) selected.add(id);
  updateSelection();
}

/** Shift-click: select every card in view between a and b, inclusive. */
function selectRange(a, b) {
  const all = $$('#queue .card');
  const ids = all.map((c) => Number(c.dataset.job));
  let i = ids.indexOf(a);
  const j = ids.indexOf(b);
  if (i < 0) i = j;
  selected.clear();
  for (let k = Math.min(i, j); k <= Math.max(i, j); k++) {
    if (!all[k].classList.contains('gone')) selected.add(ids[k]);
  }
  updateSelection();
}

export function selectAll() {
  selected = new Set($$('#queue .card:not(.gone)').map((c) => Number(c.dataset.job)));
  updateSelection();
}

export function clearSelection() {
  if (!selected.size) return;
  selected.clear();
  updateSelection();
}

function onCardClick(e) {
  const card = e.target.closest('.card');
  if (!card) return;
  const id = Number(card.dataset.job);
  if (e.shiftKey) {
    selectRange(anchor !== null ? anchor : (current !== null ? current : id), id);
  } else if (e.ctrlKey || e.metaKey) {
    toggleSelect(id);
    anchor = id;
  } else {
    clearSelection();
    anchor = id;
  }
  undo.length = 0;
  setCurrent(id);
}

// ---------------------------------------------------------------- wiring

export function wireQueue() {
  for (const b of $$('button.view')) b.addEventListener('click', () => setView(b.dataset.view));
  $('#profile-filter').addEventListener('change', (e) => {
    profile = e.target.value;
    loadQueue(true);
  });
  $('#queue').addEventListener('click', onCardClick);
  $('#queue').addEventListener('mousedown', (e) => { if (e.shiftKey) e.preventDefault(); });
  $('#load-more').addEventListener('click', () => loadQueue(false));
  onJobChanged((job) => {
    if (listLoading) late.set(job.id, job);
    syncCard(job);
  });
  onJobDropped((id) => {
    const card = cards.get(id);
    if (card) setGone(card, true);
  });
  updateSelection();
}
