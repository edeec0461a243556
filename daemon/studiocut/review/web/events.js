/* Live updates: the daemon's event stream (server-sent events), events.json polling while the
   stream is down, and a watchdog for a stream that went quiet. Every event reaches the page
   once, in the order of its id; what an event changes is the caller's business. */

import { API, api, isDead, onSessionLost } from './api.js';
import { $ } from './dom.js';
import { isNum } from './format.js';

const FEED_HISTORY = 50;                // past events shown on load
const POLL_EVERY = 2000;                // events.json polling (ms)
const STREAM_RETRY = 30000;             // try the event stream again (ms)
const STREAM_QUIET = 45000;             // silence after which the stream is probed (ms)
const EVENT_KINDS = ['queued', 'processing', 'done', 'failed', 'review', 'revision',
  'published', 'status'];

let es = null;
let lastId = 0;
const seen = new Set();
let streamSeen = 0;
let pollTimer = null;
let pollBusy = false;
let retryTimer = null;
let deliver = () => {};                  // what the page does with a new event

function setConn(state) {
  const c = $('#conn');
  if (c.dataset.state === state) return;
  c.dataset.state = state;
  c.textContent = state;
}

/** Apply one event (from the stream, a poll or a probe); duplicates are ignored. */
function handleEvent(ev) {
  if (!ev || typeof ev !== 'object') return;
  const id = Number(ev.id);
  if (isNum(id)) {
    if (seen.has(id)) return;
    seen.add(id);
    if (seen.size > 5000) {
      let drop = 1000;
      for (const old of seen) { if (drop-- <= 0) break; seen.delete(old); }
    }
    if (id > lastId) lastId = id;
  }
  deliver(ev);
}

/** A batch from events.json: apply the events and move the cursor. */
function applyEventBatch(r) {
  if (!r) return;
  if (isNum(r.last) && r.last < lastId) {
    lastId = r.last;                      // the daemon's event ids started over
    seen.clear();
  }
  for (const ev of Array.isArray(r.events) ? r.events : []) handleEvent(ev);
  if (isNum(r.last) && r.last > lastId) lastId = r.last;
}

function onStreamMessage(source, msg) {
  if (es !== source) return;
  streamSeen = Date.now();
  let ev;
  try {
    ev = JSON.parse(msg.data);
  } catch (err) {
    return;
  }
  if (!ev || typeof ev !== 'object') return;
  if (!ev.kind) ev.kind = msg.type;
  if ((ev.id === undefined || ev.id === null) && msg.lastEventId) ev.id = Number(msg.lastEventId);
  handleEvent(ev);
}

function openStream() {
  if (isDead()) return;
  clearTimeout(retryTimer);
  if (es) es.close();
  let source;
  try {
    source = new EventSource(`${API}events`);
  } catch (err) {
    startPolling();
    scheduleStreamRetry();
    return;
  }
  es = source;
  source.addEventListener('open', () => {
    if (es !== source) return;
    streamSeen = Date.now();
    setConn('live');
    stopPolling();
    pollOnce();                            // catch up on what happened while not connected
  });
  for (const kind of EVENT_KINDS) source.addEventListener(kind, (m) => onStreamMessage(source, m));
  source.addEventListener('message', (m) => onStreamMessage(source, m));
  source.addEventListener('error', () => {
    if (es !== source) return;
    startPolling();
    if (source.readyState === EventSource.CLOSED) {
      es = null;
      scheduleStreamRetry();
    }
    // CONNECTING: the browser retries by itself; poll meanwhile
  });
}

function closeStream() {
  if (es) es.close();
  es = null;
}

function scheduleStreamRetry() {
  clearTimeout(retryTimer);
  if (!isDead()) retryTimer = setTimeout(openStream, STREAM_RETRY);
}

function startPolling() {
  setConn('polling');
  if (pollTimer || isDead()) return;
  pollTimer = setInterval(pollOnce, POLL_EVERY);
  pollOnce();
}

function stopPolling() {
  clearInterval(pollTimer);
  pollTimer = null;
}

async function pollOnce() {
  if (pollBusy) return;
  pollBusy = true;
  try {
    applyEventBatch(await api(`events.json?after=${lastId}`));
  } catch (err) {
    /* the next poll tries again */
  } finally {
    pollBusy = false;
  }
}

/** Heartbeats are SSE comments, invisible to EventSource: after a long silence, ask
    events.json whether we missed anything; if the stream does not deliver it, drop it. */
export async function watchdog() {
  if (!es || pollTimer || Date.now() - streamSeen < STREAM_QUIET) return;
  const asked = Date.now();
  let r;
  try {
    r = await api(`events.json?after=${lastId}`);
  } catch (err) {
    return;
  }
  const missed = r && Array.isArray(r.events) ? r.events.filter((ev) => !seen.has(Number(ev.id))) : [];
  applyEventBatch(r);
  if (!missed.length) { streamSeen = Date.now(); return; }
  setTimeout(() => {
    if (es && streamSeen < asked) {
      closeStream();
      startPolling();
      scheduleStreamRetry();
    }
  }, 3000);
}

/** On load: show recent history (`past(ev)` for each) and learn the last event id, then
    connect; from then on `live(ev)` gets every new event once. */
export async function startEvents({ past, live }) {
  deliver = live;
  onSessionLost(() => {
    stopPolling();
    clearTimeout(retryTimer);
    closeStream();
  });
  try {
    const r = await api(`events.json?tail=${FEED_HISTORY}`);
    const events = r && Array.isArray(r.events) ? r.events : [];
    for (const ev of events.slice(-FEED_HISTORY)) past(ev);
    for (const ev of events) if (isNum(Number(ev.id))) seen.add(Number(ev.id));
    lastId = isNum(r.last) ? r.last : events.reduce((m, ev) => Math.max(m, Number(ev.id) || 0), 0);
  } catch (err) {
    if (isDead()) return;
  }
  openStream();
}
