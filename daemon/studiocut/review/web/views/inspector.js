/* Inspector: the overlay for one job. Its review state and flags, the list of revisions
   (show one, publish one), refine with the marks and edge settings, and stepping through
   the grid's jobs without closing it. The picture itself is the stage (stage.js). */

import { api, isDead, post, report } from '../api.js';
import { $, $$, el, setRange, toast } from '../dom.js';
import { fmtClock, isNum, jobPath } from '../format.js';
import { knownJob, onJobChanged, refreshJob, upsertJob } from '../jobs.js';
import { reviewJob, undoReview } from './actions.js';
import { clearMarks, marksBody, stopDrag } from './marks.js';
import {
  currentId, focusCurrent, forgetUndo, hasCard, neighbour, rememberUndo, setCurrent,
} from './queue.js';
import { showRenditions } from './renditions.js';
import { closeStage, openStage, setStageBusy, showOnStage, stageBusy } from './stage.js';

let open = false;
let jobId = null;
let job = null;                          // job with revisions
let shown = null;                        // revision on the stage
let shownNumber = null;
let gen = 0;
let returnFocus = null;

/** Is the inspector showing a job? */
export const isOpen = () => open;

// ---------------------------------------------------------------- open / close

export async function openInspector(id) {
  if (id === null || id === undefined || isDead()) return;
  const insp = $('#inspector');
  if (!open) {
    returnFocus = document.activeElement;
    insp.hidden = false;
    document.body.classList.add('inspecting');
    setBackgroundInert(true);
    insp.focus({ preventScroll: true });
  }
  open = true;
  jobId = id;
  job = null;
  shown = null;
  shownNumber = null;
  openStage();
  clearMarks();
  const mine = ++gen;
  const cached = knownJob(id);
  $('#insp-name').textContent = cached ? cached.name : `#${id}`;
  $('#revisions').replaceChildren();
  showRenditions(null);
  try {
    const loaded = await api(`jobs/${id}`);
    if (mine !== gen || !open) return;
    upsertJob(loaded);                   // calls inspJobUpdated
  } catch (err) {
    if (mine === gen) {
      $('#stage-msg').textContent = err.message;
      report(err);
    }
  }
}

export function closeInspector() {
  if (!open) return;
  open = false;
  gen++;
  closeStage();
  stopDrag();
  $('#inspector').hidden = true;
  document.body.classList.remove('inspecting');
  setBackgroundInert(false);
  setBusy(false);
  if (hasCard(currentId())) focusCurrent();
  else if (returnFocus && document.contains(returnFocus)) returnFocus.focus();
}

/** Keep Tab focus inside the inspector while it covers the page. */
function setBackgroundInert(on) {
  for (const node of [$('.topbar'), $('main')]) node.inert = on;
}

/** Arrow keys in the inspector: the neighbouring job in the grid. */
export function inspStep(dir) {
  const next = neighbour(jobId, dir);
  if (next === null) return;
  forgetUndo();
  setCurrent(next, { focus: false });
  openInspector(next);
}

/** P / X in the inspector: review this job and go to the next one still in view. */
export function inspReview(action) {
  const id = jobId;
  if (id === null) return;
  const next = neighbour(id, 1);
  rememberUndo(id);
  reviewJob(id, action);
  if (next !== null) {
    setCurrent(next, { focus: false });
    openInspector(next);
  } else {
    toast('That was the last job in this view', 'info');
  }
}

/** U in the inspector: undo the last P/X (and show that job), else unreview this one. */
export function inspUndo() {
  const id = undoReview(open ? jobId : null);
  if (id !== null && open && jobId !== id) openInspector(id);
}

// ---------------------------------------------------------------- job and revisions

/** The inspected job changed (first load, event, action): refresh the panel. */
function inspJobUpdated(raw) {
  const first = !job || job.id !== raw.id;
  const full = Array.isArray(raw.revisions) ? raw : { ...raw, revisions: job && !first ? job.revisions : [] };
  if (first && !Array.isArray(raw.revisions)) return;   // wait for the full job
  job = full;
  const revs = job.revisions || [];
  let next = revs.find((r) => r.number === shownNumber);
  if (first || !next) next = revs[revs.length - 1] || null;
  const changed = (shown && shown.id) !== (next && next.id);
  shown = next;
  shownNumber = next ? next.number : null;
  if (first) resetEdge(next);
  renderInspectorInfo();
  renderRevisions();
  showOnStage(shown, first || changed);
}

function renderInspectorInfo() {
  if (!job) return;
  $('#insp-name').textContent = job.name || `#${job.id}`;
  $('#insp-name').title = jobPath(job);
  $('#insp-sub').textContent = [job.profile, job.folder].filter(Boolean).join(' · ');
  const state = $('#insp-state');
  state.textContent = job.state || '—';
  state.className = `pill state-${job.state || 'none'}`;
  const review = $('#insp-review');
  review.textContent = job.review || 'none';
  review.className = `pill review review-${job.review || 'none'}`;
  $('#insp-published').textContent = isNum(job.published) ? `r${job.published}` : 'not published';
  const flags = Array.isArray(job.flags) ? job.flags : [];
  $('#insp-flags').replaceChildren(...flags.map((f) => el('li', null, f)));

  const rev = shown;
  const label = $('#shown-rev');
  if (rev) {
    const live = rev.number === job.published;
    label.textContent = `r${rev.number} · ${rev.kind || ''} · ${live ? 'live' : 'not live'}`;
    label.classList.toggle('candidate', !live);
  } else {
    label.textContent = 'no revision';
    label.classList.remove('candidate');
  }
  showRenditions(rev);
  updateInspectorButtons();
}

function updateInspectorButtons() {
  const rev = shown;
  const busy = stageBusy();
  $('#apply').disabled = busy || !rev || !job || rev.number === job.published;
  $('#refine-run').disabled = busy || !rev;
  for (const b of $$('#inspector button.tool')) b.disabled = !rev;
}

function renderRevisions() {
  const list = $('#revisions');
  const revs = job && Array.isArray(job.revisions) ? [...job.revisions].reverse() : [];
  list.replaceChildren(...revs.map(buildRevision));
}

function buildRevision(rev) {
  const live = rev.number === job.published;
  const li = el('li', 'revision');
  li.dataset.number = String(rev.number);
  li.dataset.id = String(rev.id);
  li.classList.toggle('published', live);
  li.classList.toggle('shown', rev.number === shownNumber);
  li.classList.toggle('discarded', rev.status === 'discarded');
  li.tabIndex = 0;
  li.title = 'Show this revision';
  const info = el('span', 'rev-info');
  info.append(el('span', 'rev-n', `r${rev.number}`), el('span', 'rev-kind', rev.kind || ''),
    el('time', 'rev-time', fmtClock(rev.created)));
  const bd = rev.params && typeof rev.params.backdrop === 'object' ? rev.params.backdrop : null;
  if (bd && typeof bd.path === 'string') {   // model: auto: which path, and why on hover
    const path = el('span', 'rev-backdrop', bd.path === 'studio' ? 'studio path' : 'model only');
    path.title = String(bd.decision || '');
    info.append(path);
  }
  const status = el('span', 'rev-status', live ? 'live' : (rev.status === 'discarded' ? 'discarded' : 'candidate'));
  const btn = el('button', 'small', live ? 'Live' : 'Publish');
  btn.type = 'button';
  btn.dataset.action = 'publish';
  btn.disabled = live || stageBusy();
  btn.title = live ? 'This revision is in the output folder' : 'Publish this revision to the output folder';
  const n = Array.isArray(rev.renditions) ? rev.renditions.length : 0;
  if (n) {   // shown as thumbnails under Renditions when this revision is on the stage
    const count = el('span', 'rev-renditions', `${n} renditions`);
    count.title = 'Published together: ' + rev.renditions.map((r) => r.name).join(', ');
    info.append(count);
  }
  li.append(info, status, btn);
  return li;
}

function onRevisionsClick(e) {
  const li = e.target.closest('li.revision');
  if (!li || !job) return;
  const rev = (job.revisions || []).find((r) => String(r.number) === li.dataset.number);
  if (!rev) return;
  if (e.target.closest('button[data-action="publish"]')) publishRevision(rev);
  else showRevision(rev.number);
}

function onRevisionsKey(e) {
  if ((e.key === 'Enter' || e.key === ' ') && e.target.matches('li.revision')) {
    e.preventDefault();
    e.stopPropagation();
    showRevision(Number(e.target.dataset.number));
  }
}

function showRevision(number) {
  const rev = job && (job.revisions || []).find((r) => r.number === number);
  if (!rev) return;
  const changed = !shown || shown.id !== rev.id;
  shown = rev;
  shownNumber = rev.number;
  renderInspectorInfo();
  renderRevisions();
  showOnStage(shown, changed);
}

async function publishRevision(rev) {
  if (!rev || stageBusy()) return;
  const id = jobId;
  setBusy(true, 'Publishing…');
  try {
    const published = await post(`revisions/${rev.id}/publish`);
    if (published && published.id !== undefined) upsertJob(published);
    toast(`r${rev.number} is live`, 'info');
  } catch (err) {
    report(err);
  } finally {
    setBusy(false);
    refreshJob(id);
  }
}

function setBusy(on, text) {
  setStageBusy(on, text);
  $('#inspector').setAttribute('aria-busy', on ? 'true' : 'false');
  updateInspectorButtons();
  for (const b of $$('#revisions button[data-action="publish"]')) {
    b.disabled = on || b.closest('li').classList.contains('published');
  }
}

// ---------------------------------------------------------------- refine

function resetEdge(rev) {
  const e = rev && rev.params && typeof rev.params.edge === 'object' && rev.params.edge ? rev.params.edge : {};
  setRange('#edge-shift', isNum(e.shift) ? e.shift : 0);
  setRange('#edge-feather', isNum(e.feather) ? e.feather : 0);
  $('#edge-matting').checked = typeof e.matting === 'boolean' ? e.matting : false;
  $('#edge-decontaminate').checked = typeof e.decontaminate === 'boolean' ? e.decontaminate : true;
}

function readEdge() {
  return {
    shift: Number($('#edge-shift').value) || 0,
    feather: Number($('#edge-feather').value) || 0,
    matting: $('#edge-matting').checked,
    decontaminate: $('#edge-decontaminate').checked,
  };
}

async function runRefine() {
  if (!shown || stageBusy()) return;
  const id = jobId;
  const body = { base: shown.number, ...marksBody(), edge: readEdge() };
  setBusy(true, 'Refining…');
  try {
    const rev = await post(`jobs/${id}/refine`, body);
    if (!open || jobId !== id || !rev) return;
    if (job && !(job.revisions || []).some((r) => r.id === rev.id)) {
      job = { ...job, revisions: [...(job.revisions || []), rev] };
    }
    clearMarks();
    showRevision(rev.number);
  } catch (err) {
    report(err);
  } finally {
    setBusy(false);
    refreshJob(id);
  }
}

export function wireInspector() {
  $('#insp-close').addEventListener('click', closeInspector);
  for (const b of $$('#inspector .side-sec button[data-action]')) {
    const action = b.dataset.action;
    if (action === 'unreview') b.addEventListener('click', inspUndo);
    else if (action === 'approve' || action === 'reject') b.addEventListener('click', () => inspReview(action));
  }
  $('#refine-run').addEventListener('click', runRefine);
  $('#apply').addEventListener('click', () => publishRevision(shown));
  $('#revisions').addEventListener('click', onRevisionsClick);
  $('#revisions').addEventListener('keydown', onRevisionsKey);
  $('#queue').addEventListener('dblclick', (e) => {
    const card = e.target.closest('.card');
    if (card) openInspector(Number(card.dataset.job));
  });
  onJobChanged((changed) => { if (open && jobId === changed.id) inspJobUpdated(changed); });
}
