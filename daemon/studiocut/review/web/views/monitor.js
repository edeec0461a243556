/* Monitor: what the daemon is doing. The daemon line in the top bar, one row per profile
   (updated in place), the activity feed, and the Review tab's count of held jobs. */

import { api, isDead, jobsQuery } from '../api.js';
import { $, $$, el, markReady, throttle } from '../dom.js';
import { fmtAge, fmtClock, fmtRate, isNum, jobPath, orDash, tailOf } from '../format.js';
import { onJobSeen } from '../jobs.js';
import { knownProfile, loadProfiles } from './profiles.js';

const FEED_MAX = 200;                   // activity feed lines kept

const names = new Map();                // id -> display name, for the feed
const profileRows = new Map();          // profile name -> <tr>
let statusBusy = false;
let statusAgain = false;

// ---------------------------------------------------------------- status

/** Load the status soon, at most twice a second. */
export const statusSoon = throttle(() => loadStatus(), 500);

export async function loadStatus() {
  if (statusBusy) { statusAgain = true; return; }
  statusBusy = true;
  try {
    const st = await api('status');
    renderStatus(st || {});
    markReady('status');
  } catch (err) {
    $('#status-age').textContent = err.status === 0 ? 'daemon unreachable' : `status: ${err.message}`;
    $('#status-age').classList.add('stale');
  } finally {
    statusBusy = false;
    if (statusAgain && !isDead()) { statusAgain = false; loadStatus(); }
  }
}

function renderStatus(st) {
  const d = st.daemon || {};
  const bits = [];
  if (d.version) bits.push(`v${d.version}`);
  if (isNum(d.workers)) bits.push(`${d.workers} worker${d.workers === 1 ? '' : 's'}`);
  if (isNum(d.started)) bits.push(`up ${fmtAge(Date.now() / 1000 - d.started)}`);
  $('#daemon-info').textContent = bits.join(' · ');
  const age = $('#status-age');
  age.textContent = `updated ${fmtClock(Date.now() / 1000)}`;
  age.classList.remove('stale');
  const list = Array.isArray(st.profiles) ? st.profiles : [];
  renderProfiles(list);
  if (list.some((p) => !knownProfile(p.name))) loadProfiles();
}

/** Keep one row per profile, in the server's order, updated in place. */
function renderProfiles(list) {
  const body = $('#profiles');
  const seen = new Set();
  list.forEach((p, i) => {
    let row = profileRows.get(p.name);
    if (!row) {
      row = buildProfileRow(p.name);
      profileRows.set(p.name, row);
    }
    if (body.children[i] !== row) body.insertBefore(row, body.children[i] || null);
    fillProfileRow(row, p);
    seen.add(p.name);
  });
  for (const [name, row] of profileRows) {
    if (!seen.has(name)) { row.remove(); profileRows.delete(name); }
  }
  $('#profiles-empty').hidden = list.length > 0;
}

const PROFILE_COLS = ['name', 'state', 'folders', 'queued', 'processing', 'done', 'failed',
  'flagged', 'rate', 'oldest', 'error'];
const NUM_COLS = ['queued', 'done', 'failed', 'flagged', 'rate', 'oldest'];

function buildProfileRow(name) {
  const row = el('tr', 'profile-row');
  row.dataset.profile = name;
  for (const col of PROFILE_COLS) {
    const td = el('td', `c-${col}${NUM_COLS.includes(col) ? ' num' : ''}`);
    td.dataset.col = col;
    row.append(td);
  }
  return row;
}

const cell = (row, col) => row.querySelector(`td[data-col="${col}"]`);

function fillProfileRow(row, p) {
  const state = ['active', 'paused', 'standby'].includes(p.state) ? p.state : 'standby';
  row.dataset.state = state;

  const name = cell(row, 'name');
  const sub = [p.model, p.provider].filter(Boolean).join(' · ');
  const hold = p.hold && p.hold !== 'none' ? `hold ${p.hold}` : '';
  const c = p.cluster && typeof p.cluster === 'object' ? p.cluster : null;
  const remote = c ? `cluster ${c.queue}: ${orDash(c.in_flight)} out` : '';
  name.replaceChildren(el('strong', null, p.name),
    el('div', 'dim small', [sub, hold, remote].filter(Boolean).join(' · ')));

  const st = cell(row, 'state');
  const pill = el('span', `pill state-${state}`, state);
  st.replaceChildren(pill);
  if (p.reason) st.append(el('div', 'reason small', p.reason));
  if (c && c.broker === 'down') {
    const since = isNum(c.broker_since) ? ` since ${fmtClock(c.broker_since)}` : '';
    st.append(el('div', 'reason small', `cluster broker down${since}`));
  }

  const folders = cell(row, 'folders');
  const watch = el('div', 'path', tailOf(p.watch) || '—');
  watch.title = `watch: ${p.watch || ''}`;
  const out = el('div', 'path', tailOf(p.output) || '—');
  out.title = `output: ${p.output || ''}`;
  watch.prepend(el('span', 'path-k', 'in'));
  out.prepend(el('span', 'path-k', 'out'));
  folders.replaceChildren(watch, out);

  cell(row, 'queued').textContent = orDash(p.queued);
  const processing = Array.isArray(p.processing) ? p.processing : [];
  const proc = cell(row, 'processing');
  proc.textContent = processing.length ? processing.join(', ') : '—';
  proc.title = processing.join('\n');
  cell(row, 'done').textContent = orDash(p.done_today);
  const failed = cell(row, 'failed');
  failed.textContent = orDash(p.failed_today);
  failed.classList.toggle('hot', p.failed_today > 0);
  const flagged = cell(row, 'flagged');
  flagged.textContent = orDash(p.flagged_today);
  flagged.classList.toggle('warm', p.flagged_today > 0);
  cell(row, 'rate').textContent = fmtRate(p.per_minute);
  const oldest = cell(row, 'oldest');
  oldest.textContent = fmtAge(p.oldest_pending_s);
  oldest.classList.toggle('warm', isNum(p.oldest_pending_s) && p.oldest_pending_s >= 300);
  const err = cell(row, 'error');
  err.textContent = p.last_error || '—';
  err.title = p.last_error || '';
  err.classList.toggle('hot', Boolean(p.last_error));
}

// ---------------------------------------------------------------- activity feed

/** Something short about an event without a job (or a failure): state, reason, message. */
function eventDetail(ev) {
  const d = ev.data && typeof ev.data === 'object' ? ev.data : {};
  const parts = [];
  for (const key of ['state', 'review', 'reason', 'message', 'error']) {
    if (typeof d[key] === 'string' && d[key]) parts.push(d[key]);
  }
  if (isNum(d.number)) parts.push(`r${d.number}`);
  return parts.join(': ');
}

export function addFeed(ev) {
  const feed = $('#feed');
  const li = el('li', `feed-line kind-${String(ev.kind || 'event').replace(/[^a-z-]/g, '')}`);
  const id = Number(ev.id);
  li.dataset.id = isNum(id) ? String(id) : '0';
  li.dataset.kind = ev.kind || '';
  const name = el('span', 'fn');
  if (ev.job !== null && ev.job !== undefined) {
    li.dataset.job = String(ev.job);
    const d = ev.data && typeof ev.data === 'object' ? ev.data : {};
    const known = names.get(Number(ev.job)) || (typeof d.name === 'string' ? d.name : '');
    name.textContent = known || `#${ev.job}`;
    if (!known) name.classList.add('unnamed');
  }
  const detail = eventDetail(ev);
  li.append(el('time', 'ft', fmtClock(ev.time)), el('span', 'fk', ev.kind || 'event'), name,
    el('span', 'fp', ev.profile || ''), el('span', 'fd', detail));
  if (detail) li.title = detail;
  // newest on top: keep the list ordered by event id even when a catch-up arrives late
  let ref = feed.firstElementChild;
  while (ref && Number(ref.dataset.id) > id) ref = ref.nextElementSibling;
  feed.insertBefore(li, ref);
  while (feed.children.length > FEED_MAX) feed.lastElementChild.remove();
}

function rememberName(job) {
  if (job && job.id !== undefined && job.name) {
    names.set(job.id, jobPath(job));
    fillFeedNames(job.id);
  }
}

/** Put a job's name on feed lines that only had its id. */
function fillFeedNames(id) {
  const name = names.get(id);
  for (const n of $$(`#feed li[data-job="${id}"] .fn.unnamed`)) {
    n.textContent = name;
    n.classList.remove('unnamed');
  }
}

// ---------------------------------------------------------------- held count badge

/** Count the held jobs soon, at most every two seconds. */
export const heldSoon = throttle(() => loadHeldCount(), 2000);

export async function loadHeldCount() {
  try {
    const r = await api(jobsQuery('held', '', null));
    const n = Array.isArray(r.jobs) ? r.jobs.length : 0;
    const badge = $('#held-count');
    badge.textContent = `${n}${r.next_cursor ? '+' : ''}`;
    badge.hidden = n === 0;
    badge.title = `${badge.textContent} held for review`;
  } catch (err) {
    /* a badge is not worth a toast */
  }
}

export function wireMonitor() {
  onJobSeen(rememberName);
}
