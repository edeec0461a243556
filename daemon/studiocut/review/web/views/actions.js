/* Review actions: approve, reject or undo one job (approve and reject show at once, before
   the daemon answers), P/X/U on the grid, and the bulk bar for the selection. */

import { post, report } from '../api.js';
import { $, $$, toast } from '../dom.js';
import { bulkDone } from '../format.js';
import {
  expectReview, knownJob, refreshJob, refreshMany, settleReview, upsertJob,
} from '../jobs.js';
import { heldSoon } from './monitor.js';
import {
  clearSelection, currentId, hasCard, leaveGone, neighbour, rememberUndo, selectedIds,
  setCurrent, takeUndo, updateSelection,
} from './queue.js';

const REVIEW_TARGET = { approve: 'approved', reject: 'rejected' };

/** POST approve/reject/unreview for one job; approve and reject show at once (optimistic). */
export async function reviewJob(id, action) {
  const target = REVIEW_TARGET[action];
  const token = target ? expectReview(id, target) : {};
  try {
    const job = await post(`jobs/${id}/${action}`);
    if (!settleReview(id, token)) return;  // a newer action on this job is in flight
    if (job && job.id !== undefined) upsertJob(job);
    else refreshJob(id);
  } catch (err) {
    settleReview(id, token);
    report(err);
    refreshJob(id);
  }
  heldSoon();
}

/** P / X from the grid: the selection in bulk, or the current card then auto-advance. */
export function reviewCurrent(action) {
  const ids = selectedIds();
  if (ids.length) { runBulk(action, ids); return; }
  const id = currentId();
  if (id === null) return;
  const next = neighbour(id, 1);
  rememberUndo(id);
  reviewJob(id, action);
  if (next !== null) setCurrent(next);
}

/** U: undo the last P/X (and go back to it), else unreview the current job. `inspected` is
    the inspector's job while it is open, else null. Returns the job it unreviewed (the
    inspector shows that one), or null. */
export function undoReview(inspected = null) {
  const open = inspected !== null;
  const ids = selectedIds();
  if (!open && ids.length) { runBulk('unreview', ids); return null; }
  const undone = takeUndo();
  const id = undone !== undefined ? undone : (open ? inspected : currentId());
  if (id === null || id === undefined) return null;
  reviewJob(id, 'unreview');
  if (hasCard(id)) setCurrent(id, { focus: !open });
  return id;
}

async function runBulk(action, ids, extra = {}) {
  if (!ids.length) return;
  const bar = $('#bulk');
  bar.classList.add('busy');
  for (const b of $$('button, select', bar)) b.disabled = true;
  try {
    const r = await post('bulk', { ids, action, ...extra });
    const results = r && Array.isArray(r.results) ? r.results : [];
    const bad = results.filter((x) => !x.ok);
    const target = REVIEW_TARGET[action];
    for (const x of results) {
      const job = knownJob(x.id);
      if (x.ok && target && job) upsertJob({ ...job, review: target });
    }
    if (bad.length) {
      toast(`${bad.length} of ${ids.length} failed: ${bad[0].error || 'error'}`, 'error');
    } else {
      toast(bulkDone(action, ids.length), 'info');
    }
    if (action !== 'rerun') clearSelection();
    updateSelection();
    leaveGone();
    refreshMany(ids);
  } catch (err) {
    report(err);
  } finally {
    bar.classList.remove('busy');
    for (const b of $$('button, select', bar)) b.disabled = false;
    heldSoon();
  }
}

function onBulkClick(e) {
  const b = e.target.closest('button[data-bulk]');
  if (!b) return;
  const ids = selectedIds();
  const action = b.dataset.bulk;
  if (action !== 'rerun') { runBulk(action, ids); return; }
  const value = $('#bulk-target').value;
  const cut = value.indexOf(':');
  if (cut < 0) { toast('Choose a profile or model to rerun with', 'error'); return; }
  const kind = value.slice(0, cut);
  runBulk('rerun', ids, { [kind]: value.slice(cut + 1) });
}

export function wireActions() {
  $('#bulk').addEventListener('click', onBulkClick);
  $('#bulk-clear').addEventListener('click', clearSelection);
}
