/* Failed list: jobs the daemon could not process, with Retry and Dismiss per row and for
   all, and the count on the Failed tab. */

import { api, jobsQuery, post, report } from '../api.js';
import { $, $$, el, toast } from '../dom.js';
import { bulkDone, jobPath, orDash } from '../format.js';
import { onJobChanged, onJobDropped, refreshMany, remember, upsertJob } from '../jobs.js';
import { statusSoon } from './monitor.js';

const failedRows = new Map();            // id -> failed row element
let failedCursor = null;
let failedReady = false;
let fGen = 0;

function matchesFailed(job) {
  return job.state === 'failed' && job.review !== 'dismissed';
}

export async function loadFailed(reset) {
  const gen = ++fGen;
  try {
    const r = await api(jobsQuery('failed', '', reset ? null : failedCursor));
    if (gen !== fGen) return;
    if (reset) {
      $('#failed-list').replaceChildren();
      failedRows.clear();
    }
    for (const job of Array.isArray(r.jobs) ? r.jobs : []) {
      remember(job);
      if (failedRows.has(job.id)) fillFailedRow(failedRows.get(job.id), job);
      else appendFailedRow(job);
    }
    failedCursor = r.next_cursor || null;
    failedReady = true;
    $('#failed-more').hidden = !failedCursor;
    updateFailedMeta();
  } catch (err) {
    if (gen === fGen) report(err);
  }
}

function appendFailedRow(job) {
  const row = el('div', 'failed-row');
  row.dataset.job = String(job.id);
  const file = el('span', 'f-file');
  file.append(el('span', 'f-name'), el('span', 'f-folder dim'));
  const actions = el('span', 'f-actions');
  const retry = el('button', null, 'Retry');
  retry.type = 'button';
  retry.dataset.action = 'retry';
  const dismiss = el('button', 'ghost', 'Dismiss');
  dismiss.type = 'button';
  dismiss.dataset.action = 'dismiss';
  actions.append(retry, dismiss);
  row.append(file, el('span', 'f-profile'), el('span', 'f-reason'), el('span', 'f-message'),
    el('span', 'f-attempts num'), actions);
  fillFailedRow(row, job);
  failedRows.set(job.id, row);
  $('#failed-list').append(row);
}

/** A daemon message names the file first ("/in/a.jpg: truncated JPEG"); the row already
    shows the file, so show what happened. The full message stays in the tooltip. */
function withoutPath(message, name) {
  if (!message || !name) return message;
  const at = message.indexOf(name + ': ');
  return at >= 0 ? message.slice(at + name.length + 2) : message;
}

function fillFailedRow(row, job) {
  $('.f-name', row).textContent = job.name || `#${job.id}`;
  $('.f-folder', row).textContent = job.folder || '';
  $('.f-file', row).title = jobPath(job);
  $('.f-profile', row).textContent = job.profile || '';
  $('.f-reason', row).textContent = job.reason || '—';
  const msg = $('.f-message', row);
  msg.textContent = withoutPath(job.message, job.name) || '—';
  msg.title = job.message || '';
  $('.f-attempts', row).textContent = orDash(job.attempts);
}

function removeFailedRow(id) {
  const row = failedRows.get(id);
  if (!row) return;
  row.remove();
  failedRows.delete(id);
  updateFailedMeta();
}

function syncFailedRow(job) {
  const row = failedRows.get(job.id);
  if (matchesFailed(job)) {
    if (row) fillFailedRow(row, job);
    else if (failedReady) appendFailedRow(job);
    updateFailedMeta();
  } else if (row) {
    removeFailedRow(job.id);
  }
}

function updateFailedMeta() {
  const n = failedRows.size;
  const badge = $('#failed-count');
  badge.textContent = `${n}${failedCursor ? '+' : ''}`;
  badge.hidden = n === 0;
  $('#failed-empty').hidden = n > 0;
  $('#failed-retry-all').disabled = n === 0;
  $('#failed-dismiss-all').disabled = n === 0;
}

async function onFailedClick(e) {
  const b = e.target.closest('button[data-action]');
  const row = b && b.closest('.failed-row');
  if (!row) return;
  const id = Number(row.dataset.job);
  const action = b.dataset.action;
  if (action !== 'retry' && action !== 'dismiss') return;
  for (const x of $$('button', row)) x.disabled = true;
  try {
    const job = await post(`jobs/${id}/${action}`);
    removeFailedRow(id);
    if (job && job.id !== undefined) upsertJob(job);
    statusSoon();
  } catch (err) {
    report(err);
    for (const x of $$('button', row)) x.disabled = false;
  }
}

async function failedAll(action) {
  const ids = [...failedRows.keys()];
  if (!ids.length) return;
  try {
    const r = await post('bulk', { ids, action });
    const results = r && Array.isArray(r.results) ? r.results : [];
    for (const x of results) if (x.ok) removeFailedRow(x.id);
    const bad = results.filter((x) => !x.ok);
    if (bad.length) toast(`${bad.length} of ${ids.length} failed: ${bad[0].error || 'error'}`, 'error');
    else toast(bulkDone(action, ids.length), 'info');
    refreshMany(ids);
  } catch (err) {
    report(err);
  }
}

export function wireFailed() {
  $('#failed-list').addEventListener('click', onFailedClick);
  $('#failed-more').addEventListener('click', () => loadFailed(false));
  $('#failed-retry-all').addEventListener('click', () => failedAll('retry'));
  $('#failed-dismiss-all').addEventListener('click', () => failedAll('dismiss'));
  onJobChanged(syncFailedRow);
  onJobDropped(removeFailedRow);
}
