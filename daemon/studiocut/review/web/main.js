/* studiocut review page: monitor, review grid, failed list and inspector.
   Plain ES2020 modules, no framework, no build step; nothing is put on window. This entry
   wires the views together, switches the tabs, shows the session-expired screen, and starts
   the first loads and the live updates. */

import { isDead, onSessionLost } from './api.js';
import { $, $$, toast } from './dom.js';
import { startEvents, watchdog } from './events.js';
import { queueJobRefresh } from './jobs.js';
import { wireActions } from './views/actions.js';
import { loadFailed, wireFailed } from './views/failed.js';
import { wireInspector } from './views/inspector.js';
import { wireKeyboard } from './views/keyboard.js';
import { wireMarks } from './views/marks.js';
import {
  addFeed, heldSoon, loadHeldCount, loadStatus, statusSoon, wireMonitor,
} from './views/monitor.js';
import { loadProfiles } from './views/profiles.js';
import { focusCurrent, loadQueue, wireQueue } from './views/queue.js';
import { wireStage } from './views/stage.js';

const STATUS_EVERY = 2000;              // status refresh (ms)
const TABS = ['monitor', 'review', 'failed'];

const timers = [];

// ---------------------------------------------------------------- tabs

function showTab(name) {
  if (!TABS.includes(name)) name = 'review';
  for (const t of TABS) $(`#${t}`).hidden = t !== name;
  for (const b of $$('button.tab')) {
    const on = b.dataset.tab === name;
    b.classList.toggle('active', on);
    b.setAttribute('aria-selected', on ? 'true' : 'false');
  }
  if (location.hash !== `#${name}`) history.replaceState(null, '', `#${name}`);
  if (name === 'review') focusCurrent();
}

function wireTopbar() {
  for (const b of $$('button.tab')) b.addEventListener('click', () => showTab(b.dataset.tab));
  window.addEventListener('hashchange', () => showTab(location.hash.slice(1)));
}

// ---------------------------------------------------------------- session

/** A 401: stop everything and tell the user how to get back in. */
function sessionLost() {
  timers.forEach(clearInterval);
  const msg = $('#session-msg').textContent;
  $('#session').hidden = false;
  toast(msg, 'sticky');
}

// ---------------------------------------------------------------- live updates

/** One new event from the daemon: the feed shows it, its job is refreshed, counts follow. */
function onEvent(ev) {
  addFeed(ev);
  if (ev.job !== null && ev.job !== undefined) queueJobRefresh(ev.job);
  statusSoon();
  if (ev.kind !== 'processing' && ev.kind !== 'status') heldSoon();
}

function init() {
  wireTopbar();
  wireMonitor();
  wireQueue();
  wireActions();
  wireFailed();
  wireStage();
  wireMarks();
  wireInspector();
  wireKeyboard();
  onSessionLost(sessionLost);
  $('#toast').addEventListener('click', () => { if (!isDead()) $('#toast').hidden = true; });
  showTab(location.hash.slice(1) || 'review');

  loadProfiles();
  loadStatus();
  loadQueue(true);
  loadFailed(true);
  loadHeldCount();
  startEvents({ past: addFeed, live: onEvent });
  timers.push(setInterval(() => { if (!document.hidden) loadStatus(); }, STATUS_EVERY));
  timers.push(setInterval(watchdog, 10000));
}

init();
