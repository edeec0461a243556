/* studiocut review page: monitor, review grid, failed list and inspector.
   Plain ES2020, no framework. Everything lives in this closure; nothing is put on window.
   All data reaches the DOM through textContent / attributes, never innerHTML. */
(() => {
  'use strict';

  // ---------------------------------------------------------------- constants

  const API = '/api/v1/';
  const PAGE = 200;                       // jobs per page
  const FEED_MAX = 200;                   // activity feed lines kept
  const FEED_HISTORY = 50;                // past events shown on load
  const STATUS_EVERY = 2000;              // status refresh (ms)
  const POLL_EVERY = 2000;                // events.json polling (ms)
  const STREAM_RETRY = 30000;             // try the event stream again (ms)
  const STREAM_QUIET = 45000;             // silence after which the stream is probed (ms)
  const EVENT_KINDS = ['queued', 'processing', 'done', 'failed', 'review', 'revision',
    'published', 'status'];
  const VIEWS = ['flagged', 'all', 'held', 'approved', 'rejected'];
  const TABS = ['monitor', 'review', 'failed'];
  const BG_MODES = ['checker', 'white', 'black', 'grey'];
  const FIT_MAX = 1600;                   // longest side of "fit" images
  const UNDO_MAX = 50;

  // ---------------------------------------------------------------- state

  const S = {
    dead: false,                 // session lost (401): everything stops
    tab: 'review',
    view: 'flagged',
    profile: '',
    profiles: [],
    models: [],
    jobs: new Map(),             // id -> latest known job
    names: new Map(),            // id -> display name, for the feed
    cards: new Map(),            // id -> card element
    cursor: null,                // next_cursor of the review list
    qGen: 0,                     // review list request generation
    listReady: false,
    listLoading: false,
    late: new Map(),             // jobs refreshed while the list was loading
    current: null,               // current card id
    anchor: null,                // shift-click range anchor
    selected: new Set(),
    undo: [],                    // ids reviewed with P/X since the last manual move
    pending: new Map(),          // id -> {review, token}: optimistic review in flight
    failedRows: new Map(),       // id -> failed row element
    failedCursor: null,
    failedReady: false,
    fGen: 0,
    profileRows: new Map(),      // profile name -> <tr>
    statusOk: false,
    jobsOk: false,
    statusBusy: false,
    statusAgain: false,
    statusAt: 0,
    // live updates
    es: null,
    lastId: 0,
    seen: new Set(),
    streamSeen: 0,
    pollTimer: null,
    pollBusy: false,
    retryTimer: null,
    timers: [],
    refreshQueue: new Set(),
    refreshTimer: null,
    inflight: new Set(),
    dirty: new Set(),
    toastTimer: null,
  };

  // inspector state
  const I = {
    open: false,
    jobId: null,
    job: null,                   // job with revisions
    shown: null,                 // revision on the stage
    shownNumber: null,
    gen: 0,
    loadGen: 0,
    mode: 'checker',
    lastBg: 'checker',
    beforeOriginal: 'checker',
    split: false,
    splitPos: 50,
    zoom: 'fit',
    focus: null,                 // last clicked point, canvas px
    view: null,                  // geometry on the stage (see computeView)
    tool: null,
    marks: { points: [], box: null, strokes: [] },
    history: [],                 // for undoing marks
    drag: null,
    hover: null,
    busy: false,
    returnFocus: null,
  };

  // ---------------------------------------------------------------- DOM helpers

  const $ = (sel, root = document) => root.querySelector(sel);
  const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

  /** Create an element with an optional class and text (always textContent). */
  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

  /** Append a query parameter to a media URL that may already have one. */
  function withQuery(url, query) {
    return url + (url.includes('?') ? '&' : '?') + query;
  }

  // ---------------------------------------------------------------- formatting

  /** Seconds as a short human age: "12 s", "3 min", "2 h 5 min", "3 d". */
  function fmtAge(s) {
    if (!isNum(s)) return '—';
    s = Math.max(0, s);
    if (s < 60) return `${Math.floor(s)} s`;
    if (s < 3600) return `${Math.floor(s / 60)} min`;
    if (s < 86400) {
      const h = Math.floor(s / 3600);
      const m = Math.floor((s % 3600) / 60);
      return m ? `${h} h ${m} min` : `${h} h`;
    }
    return `${Math.floor(s / 86400)} d`;
  }

  const pad2 = (n) => String(n).padStart(2, '0');

  /** Unix seconds as local HH:MM:SS, prefixed by the date when not today. */
  function fmtClock(t) {
    if (!isNum(t)) return '--:--:--';
    const d = new Date(t * 1000);
    const clock = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
    if (d.toDateString() === new Date().toDateString()) return clock;
    return `${d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' })} ${clock}`;
  }

  function fmtRate(v) {
    if (!isNum(v)) return '—';
    return Number.isInteger(v) ? String(v) : v.toFixed(1);
  }

  const orDash = (v) => (v === null || v === undefined || v === '' ? '—' : String(v));

  /** The end of a long folder path, which is the part that tells folders apart
      ("…/shoot-a/inbox"); the whole path is in the tooltip. */
  function tailOf(path, keep = 48) {
    if (!path || path.length <= keep) return path;
    const rest = path.slice(path.length - keep);
    const sep = rest.search(/[\\/]/);  // from a folder boundary, / or Windows' \
    return '…' + (sep >= 0 ? rest.slice(sep) : rest);
  }

  /** "folder/name" for a job, the name alone at the top of the watch folder. */
  function jobPath(job) {
    return job.folder ? `${job.folder}/${job.name}` : String(job.name || '');
  }

  // ---------------------------------------------------------------- API

  class ApiError extends Error {
    constructor(message, status) {
      super(message);
      this.status = status;
    }
  }

  /** GET (no body) or POST JSON; resolves to the decoded JSON, throws ApiError. */
  async function api(path, body) {
    if (S.dead) throw new ApiError('session expired', 401);
    const init = { credentials: 'same-origin', headers: { Accept: 'application/json' } };
    if (body !== undefined) {
      init.method = 'POST';
      init.headers['Content-Type'] = 'application/json';
      init.body = JSON.stringify(body);
    }
    let res;
    try {
      res = await fetch(API + path, init);
    } catch (err) {
      throw new ApiError('The daemon cannot be reached', 0);
    }
    if (res.status === 401) {
      sessionLost();
      throw new ApiError('session expired', 401);
    }
    let data = null;
    try {
      data = await res.json();
    } catch (err) {
      data = null;
    }
    if (!res.ok) {
      const msg = data && typeof data.error === 'string' ? data.error : `HTTP ${res.status}`;
      throw new ApiError(msg, res.status);
    }
    return data;
  }

  const post = (path, body = {}) => api(path, body);

  /** Show an API error to the user (401 already has its own screen). */
  function report(err) {
    if (!err || err.status === 401 || S.dead) return;
    toast(err.message || String(err), 'error');
  }

  // ---------------------------------------------------------------- toast / session

  function toast(message, kind = 'error') {
    const t = $('#toast');
    t.textContent = message;
    t.className = `toast toast-${kind}`;
    t.hidden = false;
    clearTimeout(S.toastTimer);
    if (kind !== 'sticky') {
      S.toastTimer = setTimeout(() => { t.hidden = true; }, kind === 'error' ? 8000 : 3500);
    }
  }

  /** A 401: stop everything and tell the user how to get back in. */
  function sessionLost() {
    if (S.dead) return;
    S.dead = true;
    S.timers.forEach(clearInterval);
    stopPolling();
    clearTimeout(S.retryTimer);
    if (S.es) S.es.close();
    S.es = null;
    const msg = $('#session-msg').textContent;
    $('#session').hidden = false;
    toast(msg, 'sticky');
  }

  // ---------------------------------------------------------------- small utilities

  /** Call fn at most once every ms, with a trailing call so the last request is not lost. */
  function throttle(fn, ms) {
    let last = 0;
    let timer = null;
    return () => {
      if (timer) return;
      const wait = last + ms - Date.now();
      if (wait <= 0) {
        last = Date.now();
        fn();
      } else {
        timer = setTimeout(() => { timer = null; last = Date.now(); fn(); }, wait);
      }
    };
  }

  function markReady() {
    if (S.statusOk && S.jobsOk && document.body.dataset.ready !== '1') {
      document.body.dataset.ready = '1';
    }
  }

  function rememberName(job) {
    if (job && job.id !== undefined && job.name) {
      S.names.set(job.id, jobPath(job));
      fillFeedNames(job.id);
    }
  }

  /** Apply a still-pending optimistic review on top of a job fetched from the server. */
  function withPending(job) {
    const p = S.pending.get(job.id);
    return p ? { ...job, review: p.review } : job;
  }

  // ---------------------------------------------------------------- tabs

  function showTab(name) {
    if (!TABS.includes(name)) name = 'review';
    S.tab = name;
    for (const t of TABS) $(`#${t}`).hidden = t !== name;
    for (const b of $$('button.tab')) {
      const on = b.dataset.tab === name;
      b.classList.toggle('active', on);
      b.setAttribute('aria-selected', on ? 'true' : 'false');
    }
    if (location.hash !== `#${name}`) history.replaceState(null, '', `#${name}`);
    if (name === 'review') focusCurrent();
  }

  // ---------------------------------------------------------------- monitor: status

  const statusSoon = throttle(() => loadStatus(), 500);

  async function loadStatus() {
    if (S.statusBusy) { S.statusAgain = true; return; }
    S.statusBusy = true;
    try {
      const st = await api('status');
      renderStatus(st || {});
      S.statusAt = Date.now();
      S.statusOk = true;
      markReady();
    } catch (err) {
      $('#status-age').textContent = err.status === 0 ? 'daemon unreachable' : `status: ${err.message}`;
      $('#status-age').classList.add('stale');
    } finally {
      S.statusBusy = false;
      if (S.statusAgain && !S.dead) { S.statusAgain = false; loadStatus(); }
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
    if (list.some((p) => !S.profiles.includes(p.name))) loadProfiles();
  }

  /** Keep one row per profile, in the server's order, updated in place. */
  function renderProfiles(list) {
    const body = $('#profiles');
    const seen = new Set();
    list.forEach((p, i) => {
      let row = S.profileRows.get(p.name);
      if (!row) {
        row = buildProfileRow(p.name);
        S.profileRows.set(p.name, row);
      }
      if (body.children[i] !== row) body.insertBefore(row, body.children[i] || null);
      fillProfileRow(row, p);
      seen.add(p.name);
    });
    for (const [name, row] of S.profileRows) {
      if (!seen.has(name)) { row.remove(); S.profileRows.delete(name); }
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
    name.replaceChildren(el('strong', null, p.name), el('div', 'dim small', [sub, hold].filter(Boolean).join(' · ')));

    const st = cell(row, 'state');
    const pill = el('span', `pill state-${state}`, state);
    st.replaceChildren(pill);
    if (p.reason) st.append(el('div', 'reason small', p.reason));

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

  // ---------------------------------------------------------------- monitor: activity feed

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

  function addFeed(ev) {
    const feed = $('#feed');
    const li = el('li', `feed-line kind-${String(ev.kind || 'event').replace(/[^a-z-]/g, '')}`);
    const id = Number(ev.id);
    li.dataset.id = isNum(id) ? String(id) : '0';
    li.dataset.kind = ev.kind || '';
    const name = el('span', 'fn');
    if (ev.job !== null && ev.job !== undefined) {
      li.dataset.job = String(ev.job);
      const d = ev.data && typeof ev.data === 'object' ? ev.data : {};
      const known = S.names.get(Number(ev.job)) || (typeof d.name === 'string' ? d.name : '');
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

  /** Put a job's name on feed lines that only had its id. */
  function fillFeedNames(id) {
    const name = S.names.get(id);
    for (const n of $$(`#feed li[data-job="${id}"] .fn.unnamed`)) {
      n.textContent = name;
      n.classList.remove('unnamed');
    }
  }

  // ---------------------------------------------------------------- profiles (filter, bulk target)

  async function loadProfiles() {
    try {
      const r = await api('profiles');
      S.profiles = Array.isArray(r.profiles) ? r.profiles : [];
      S.models = Array.isArray(r.models) ? r.models : [];
      fillProfileFilter();
      fillBulkTarget();
    } catch (err) {
      report(err);
    }
  }

  function fillProfileFilter() {
    const sel = $('#profile-filter');
    const keep = sel.value;
    const opts = [new Option('all profiles', '')];
    for (const p of S.profiles) opts.push(new Option(p, p));
    sel.replaceChildren(...opts);
    sel.value = S.profiles.includes(keep) ? keep : '';
  }

  function fillBulkTarget() {
    const sel = $('#bulk-target');
    const keep = sel.value;
    const opts = [];
    for (const p of S.profiles) opts.push(new Option(`profile: ${p}`, `profile:${p}`));
    for (const m of S.models) opts.push(new Option(`model: ${m}`, `model:${m}`));
    sel.replaceChildren(...opts);
    if (opts.some((o) => o.value === keep)) sel.value = keep;
  }

  // ---------------------------------------------------------------- review: list loading

  /** Does a job belong in the review view being shown? Mirrors the server's views. */
  function matchesView(job) {
    if (!job) return false;
    if (S.profile && job.profile !== S.profile) return false;
    switch (S.view) {
      case 'flagged': return job.state === 'done' && (job.review === 'flagged' || job.review === 'held');
      case 'all': return job.state === 'done';
      case 'held': return job.review === 'held';
      case 'approved': return job.review === 'approved';
      case 'rejected': return job.review === 'rejected';
      default: return false;
    }
  }

  function jobsQuery(view, profile, cursor) {
    const q = new URLSearchParams({ view, limit: String(PAGE) });
    if (profile) q.set('profile', profile);
    if (cursor) q.set('cursor', cursor);
    return `jobs?${q}`;
  }

  /** Load the review list: reset = first page (view change / reload), else the next page. */
  async function loadQueue(reset) {
    const gen = ++S.qGen;
    S.listLoading = true;
    const more = $('#load-more');
    more.disabled = true;
    try {
      const r = await api(jobsQuery(S.view, S.profile, reset ? null : S.cursor));
      if (gen !== S.qGen) return;
      if (reset) clearGrid();
      const jobs = Array.isArray(r.jobs) ? r.jobs : [];
      for (const raw of jobs) {
        const job = withPending(raw);
        S.jobs.set(job.id, job);
        rememberName(job);
        if (S.cards.has(job.id)) syncCard(job);
        else appendCard(job);
      }
      S.cursor = r.next_cursor || null;
      S.listReady = true;
      S.listLoading = false;
      for (const job of S.late.values()) syncCard(job);
      S.late.clear();
      if (S.current === null || !S.cards.has(S.current)) {
        setCurrent(neighbour(null, 1), { focus: false });
      }
      updateQueueMeta();
      S.jobsOk = true;
      markReady();
    } catch (err) {
      if (gen === S.qGen) report(err);
    } finally {
      if (gen === S.qGen) {
        S.listLoading = false;
        more.disabled = false;
        more.hidden = !S.cursor;
      }
    }
  }

  function clearGrid() {
    $('#queue').replaceChildren();
    S.cards.clear();
    S.selected.clear();
    S.current = null;
    S.anchor = null;
    S.undo.length = 0;
    updateSelection();
  }

  function setView(view) {
    if (!VIEWS.includes(view)) return;
    S.view = view;
    for (const b of $$('button.view')) {
      const on = b.dataset.view === view;
      b.classList.toggle('active', on);
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
    }
    loadQueue(true);
  }

  function updateQueueMeta() {
    const n = $$('#queue .card:not(.gone)').length;
    $('#queue-count').textContent = `${n}${S.cursor ? '+' : ''} job${n === 1 ? '' : 's'}`;
    $('#queue-empty').hidden = S.cards.size > 0;
    $('#queue-empty').textContent = S.view === 'flagged' ? 'Nothing to review. All clear.' : 'No jobs in this view.';
  }

  // ---------------------------------------------------------------- review: cards

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
    S.cards.set(job.id, card);
    $('#queue').append(card);
  }

  /** A job changed: update its card, dim it when it left the view, append it when it is new. */
  function syncCard(job) {
    const card = S.cards.get(job.id);
    if (card) {
      fillCard(card, job);
      setGone(card, !matchesView(job));
    } else if (matchesView(job) && S.listReady && !S.listLoading) {
      appendCard(job);
    } else {
      return;
    }
    updateQueueMeta();
  }

  function setGone(card, gone) {
    if (card.classList.contains('gone') === gone) return;
    card.classList.toggle('gone', gone);
    if (gone && S.selected.delete(Number(card.dataset.job))) updateSelection();
  }

  /** The next (dir 1) or previous (dir -1) card still in view; from the start when id is null. */
  function neighbour(id, dir) {
    const cards = $$('#queue .card');
    let i = id === null ? (dir > 0 ? -1 : cards.length) : cards.findIndex((c) => Number(c.dataset.job) === id);
    if (i < 0 && id !== null) i = dir > 0 ? -1 : cards.length;
    for (let j = i + dir; j >= 0 && j < cards.length; j += dir) {
      if (!cards[j].classList.contains('gone')) return Number(cards[j].dataset.job);
    }
    return null;
  }

  function setCurrent(id, { focus = true } = {}) {
    const old = S.cards.get(S.current);
    if (old) old.classList.remove('current');
    S.current = id;
    const card = S.cards.get(id);
    if (!card) return;
    card.classList.add('current');
    if (focus) focusCurrent();
  }

  /** Give the current card keyboard focus and scroll it into view (review tab only). */
  function focusCurrent() {
    const card = S.cards.get(S.current);
    if (!card || I.open || S.tab !== 'review') return;
    card.focus({ preventScroll: true });
    card.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }

  /** Arrow keys: move the current card; manual moves end the P/X undo chain. */
  function move(dir) {
    const next = S.current === null ? neighbour(null, 1) : neighbour(S.current, dir);
    if (next === null) return;
    S.undo.length = 0;
    setCurrent(next);
  }

  // ---------------------------------------------------------------- review: selection

  function updateSelection() {
    for (const [id, card] of S.cards) card.classList.toggle('selected', S.selected.has(id));
    $('#bulk').hidden = S.selected.size === 0;
    $('#bulk-count').textContent = String(S.selected.size);
  }

  function toggleSelect(id) {
    if (!S.selected.delete(id)) S.selected.add(id);
    updateSelection();
  }

  /** Shift-click: select every card in view between a and b, inclusive. */
  function selectRange(a, b) {
    const cards = $$('#queue .card');
    const ids = cards.map((c) => Number(c.dataset.job));
    let i = ids.indexOf(a);
    const j = ids.indexOf(b);
    if (i < 0) i = j;
    S.selected.clear();
    for (let k = Math.min(i, j); k <= Math.max(i, j); k++) {
      if (!cards[k].classList.contains('gone')) S.selected.add(ids[k]);
    }
    updateSelection();
  }

  function selectAll() {
    S.selected = new Set($$('#queue .card:not(.gone)').map((c) => Number(c.dataset.job)));
    updateSelection();
  }

  function clearSelection() {
    if (!S.selected.size) return;
    S.selected.clear();
    updateSelection();
  }

  function onCardClick(e) {
    const card = e.target.closest('.card');
    if (!card) return;
    const id = Number(card.dataset.job);
    if (e.shiftKey) {
      selectRange(S.anchor !== null ? S.anchor : (S.current !== null ? S.current : id), id);
    } else if (e.ctrlKey || e.metaKey) {
      toggleSelect(id);
      S.anchor = id;
    } else {
      clearSelection();
      S.anchor = id;
    }
    S.undo.length = 0;
    setCurrent(id);
  }

  function onCardDblClick(e) {
    const card = e.target.closest('.card');
    if (card) openInspector(Number(card.dataset.job));
  }

  // ---------------------------------------------------------------- review: actions

  const REVIEW_TARGET = { approve: 'approved', reject: 'rejected' };

  /** POST approve/reject/unreview for one job; approve and reject show at once (optimistic). */
  async function reviewJob(id, action) {
    const target = REVIEW_TARGET[action];
    const token = {};
    if (target) {
      S.pending.set(id, { review: target, token });
      const job = S.jobs.get(id);
      if (job) upsertJob(job);
    }
    try {
      const job = await post(`jobs/${id}/${action}`);
      const p = S.pending.get(id);
      if (p && p.token !== token) return;      // a newer action on this job is in flight
      S.pending.delete(id);
      if (job && job.id !== undefined) upsertJob(job);
      else refreshJob(id);
    } catch (err) {
      const p = S.pending.get(id);
      if (p && p.token === token) S.pending.delete(id);
      report(err);
      refreshJob(id);
    }
    heldSoon();
  }

  /** P / X from the grid: the selection in bulk, or the current card then auto-advance. */
  function reviewCurrent(action) {
    if (S.selected.size) { runBulk(action, [...S.selected]); return; }
    const id = S.current;
    if (id === null) return;
    const next = neighbour(id, 1);
    rememberUndo(id);
    reviewJob(id, action);
    if (next !== null) setCurrent(next);
  }

  function rememberUndo(id) {
    S.undo.push(id);
    if (S.undo.length > UNDO_MAX) S.undo.shift();
  }

  /** U: undo the last P/X (and go back to it), else unreview the current job. */
  function undoReview() {
    if (!I.open && S.selected.size) { runBulk('unreview', [...S.selected]); return; }
    const id = S.undo.length ? S.undo.pop() : (I.open ? I.jobId : S.current);
    if (id === null || id === undefined) return;
    reviewJob(id, 'unreview');
    if (S.cards.has(id)) setCurrent(id, { focus: !I.open });
    if (I.open && I.jobId !== id) openInspector(id);
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
        const job = S.jobs.get(x.id);
        if (x.ok && target && job) upsertJob({ ...job, review: target });
      }
      if (bad.length) {
        toast(`${bad.length} of ${ids.length} failed: ${bad[0].error || 'error'}`, 'error');
      } else {
        toast(bulkDone(action, ids.length), 'info');
      }
      if (action !== 'rerun') S.selected.clear();
      updateSelection();
      const cur = S.cards.get(S.current);
      if (cur && cur.classList.contains('gone')) {
        const next = neighbour(S.current, 1);
        if (next !== null) setCurrent(next);
      }
      refreshMany(ids);
    } catch (err) {
      report(err);
    } finally {
      bar.classList.remove('busy');
      for (const b of $$('button, select', bar)) b.disabled = false;
      heldSoon();
    }
  }

  function bulkDone(action, n) {
    const jobs = `${n} job${n === 1 ? '' : 's'}`;
    switch (action) {
      case 'approve': return `Approved ${jobs}`;
      case 'reject': return `Rejected ${jobs}`;
      case 'unreview': return `Review undone for ${jobs}`;
      case 'retry': return `Retrying ${jobs}`;
      case 'dismiss': return `Dismissed ${jobs}`;
      case 'rerun': return `Rerun done for ${jobs}: open a job to compare and apply`;
      default: return `Done: ${jobs}`;
    }
  }

  function onBulkClick(e) {
    const b = e.target.closest('button[data-bulk]');
    if (!b) return;
    const ids = [...S.selected];
    const action = b.dataset.bulk;
    if (action !== 'rerun') { runBulk(action, ids); return; }
    const value = $('#bulk-target').value;
    const cut = value.indexOf(':');
    if (cut < 0) { toast('Choose a profile or model to rerun with', 'error'); return; }
    const kind = value.slice(0, cut);
    runBulk('rerun', ids, { [kind]: value.slice(cut + 1) });
  }

  // ---------------------------------------------------------------- failed list

  function matchesFailed(job) {
    return job.state === 'failed' && job.review !== 'dismissed';
  }

  async function loadFailed(reset) {
    const gen = ++S.fGen;
    try {
      const r = await api(jobsQuery('failed', '', reset ? null : S.failedCursor));
      if (gen !== S.fGen) return;
      if (reset) {
        $('#failed-list').replaceChildren();
        S.failedRows.clear();
      }
      for (const job of Array.isArray(r.jobs) ? r.jobs : []) {
        S.jobs.set(job.id, job);
        rememberName(job);
        if (S.failedRows.has(job.id)) fillFailedRow(S.failedRows.get(job.id), job);
        else appendFailedRow(job);
      }
      S.failedCursor = r.next_cursor || null;
      S.failedReady = true;
      $('#failed-more').hidden = !S.failedCursor;
      updateFailedMeta();
    } catch (err) {
      if (gen === S.fGen) report(err);
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
    S.failedRows.set(job.id, row);
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
    const row = S.failedRows.get(id);
    if (!row) return;
    row.remove();
    S.failedRows.delete(id);
    updateFailedMeta();
  }

  function syncFailedRow(job) {
    const row = S.failedRows.get(job.id);
    if (matchesFailed(job)) {
      if (row) fillFailedRow(row, job);
      else if (S.failedReady) appendFailedRow(job);
      updateFailedMeta();
    } else if (row) {
      removeFailedRow(job.id);
    }
  }

  function updateFailedMeta() {
    const n = S.failedRows.size;
    const badge = $('#failed-count');
    badge.textContent = `${n}${S.failedCursor ? '+' : ''}`;
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
    const ids = [...S.failedRows.keys()];
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

  // ---------------------------------------------------------------- held count badge

  const heldSoon = throttle(() => loadHeldCount(), 2000);

  async function loadHeldCount() {
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

  // ---------------------------------------------------------------- job updates

  /** Fetch one job and apply it everywhere; coalesces events for the same job. */
  async function refreshJob(id) {
    if (S.inflight.has(id)) { S.dirty.add(id); return; }
    S.inflight.add(id);
    try {
      upsertJob(await api(`jobs/${id}`));
    } catch (err) {
      if (err.status === 404) dropJob(id);
    } finally {
      S.inflight.delete(id);
      if (S.dirty.delete(id) && !S.dead) refreshJob(id);
    }
  }

  /** Refresh many jobs, a few at a time. */
  async function refreshMany(ids) {
    const queue = [...ids];
    const worker = async () => {
      while (queue.length) await refreshJob(queue.shift());
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
  }

  function queueJobRefresh(id) {
    S.refreshQueue.add(Number(id));
    if (!S.refreshTimer) {
      S.refreshTimer = setTimeout(() => {
        S.refreshTimer = null;
        const ids = [...S.refreshQueue];
        S.refreshQueue.clear();
        ids.forEach(refreshJob);
      }, 100);
    }
  }

  /** The single place a changed job is applied: grid, failed list, inspector, feed names. */
  function upsertJob(raw) {
    if (!raw || raw.id === undefined || raw.id === null) return;
    const job = withPending(raw);
    S.jobs.set(job.id, job);
    rememberName(job);
    if (S.listLoading) S.late.set(job.id, job);
    syncCard(job);
    syncFailedRow(job);
    if (I.open && I.jobId === job.id) inspJobUpdated(job);
  }

  function dropJob(id) {
    const card = S.cards.get(id);
    if (card) setGone(card, true);
    removeFailedRow(id);
    S.jobs.delete(id);
  }

  // ---------------------------------------------------------------- live updates

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
      if (S.seen.has(id)) return;
      S.seen.add(id);
      if (S.seen.size > 5000) {
        let drop = 1000;
        for (const old of S.seen) { if (drop-- <= 0) break; S.seen.delete(old); }
      }
      if (id > S.lastId) S.lastId = id;
    }
    addFeed(ev);
    if (ev.job !== null && ev.job !== undefined) queueJobRefresh(ev.job);
    statusSoon();
    if (ev.kind !== 'processing' && ev.kind !== 'status') heldSoon();
  }

  /** A batch from events.json: apply the events and move the cursor. */
  function applyEventBatch(r) {
    if (!r) return;
    if (isNum(r.last) && r.last < S.lastId) {
      S.lastId = r.last;                  // the daemon's event ids started over
      S.seen.clear();
    }
    for (const ev of Array.isArray(r.events) ? r.events : []) handleEvent(ev);
    if (isNum(r.last) && r.last > S.lastId) S.lastId = r.last;
  }

  function onStreamMessage(es, msg) {
    if (S.es !== es) return;
    S.streamSeen = Date.now();
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
    if (S.dead) return;
    clearTimeout(S.retryTimer);
    if (S.es) S.es.close();
    let es;
    try {
      es = new EventSource(`${API}events`);
    } catch (err) {
      startPolling();
      scheduleStreamRetry();
      return;
    }
    S.es = es;
    es.addEventListener('open', () => {
      if (S.es !== es) return;
      S.streamSeen = Date.now();
      setConn('live');
      stopPolling();
      pollOnce();                          // catch up on what happened while not connected
    });
    for (const kind of EVENT_KINDS) es.addEventListener(kind, (m) => onStreamMessage(es, m));
    es.addEventListener('message', (m) => onStreamMessage(es, m));
    es.addEventListener('error', () => {
      if (S.es !== es) return;
      startPolling();
      if (es.readyState === EventSource.CLOSED) {
        S.es = null;
        scheduleStreamRetry();
      }
      // CONNECTING: the browser retries by itself; poll meanwhile
    });
  }

  function closeStream() {
    if (S.es) S.es.close();
    S.es = null;
  }

  function scheduleStreamRetry() {
    clearTimeout(S.retryTimer);
    if (!S.dead) S.retryTimer = setTimeout(openStream, STREAM_RETRY);
  }

  function startPolling() {
    setConn('polling');
    if (S.pollTimer || S.dead) return;
    S.pollTimer = setInterval(pollOnce, POLL_EVERY);
    pollOnce();
  }

  function stopPolling() {
    clearInterval(S.pollTimer);
    S.pollTimer = null;
  }

  async function pollOnce() {
    if (S.pollBusy) return;
    S.pollBusy = true;
    try {
      applyEventBatch(await api(`events.json?after=${S.lastId}`));
    } catch (err) {
      /* the next poll tries again */
    } finally {
      S.pollBusy = false;
    }
  }

  /** Heartbeats are SSE comments, invisible to EventSource: after a long silence, ask
      events.json whether we missed anything; if the stream does not deliver it, drop it. */
  async function watchdog() {
    if (!S.es || S.pollTimer || Date.now() - S.streamSeen < STREAM_QUIET) return;
    const asked = Date.now();
    let r;
    try {
      r = await api(`events.json?after=${S.lastId}`);
    } catch (err) {
      return;
    }
    const missed = r && Array.isArray(r.events) ? r.events.filter((ev) => !S.seen.has(Number(ev.id))) : [];
    applyEventBatch(r);
    if (!missed.length) { S.streamSeen = Date.now(); return; }
    setTimeout(() => {
      if (S.es && S.streamSeen < asked) {
        closeStream();
        startPolling();
        scheduleStreamRetry();
      }
    }, 3000);
  }

  /** On load: show recent history in the feed and learn the last event id, then connect. */
  async function startEvents() {
    try {
      const r = await api(`events.json?tail=${FEED_HISTORY}`);
      const events = r && Array.isArray(r.events) ? r.events : [];
      for (const ev of events.slice(-FEED_HISTORY)) addFeed(ev);
      for (const ev of events) if (isNum(Number(ev.id))) S.seen.add(Number(ev.id));
      S.lastId = isNum(r.last) ? r.last : events.reduce((m, ev) => Math.max(m, Number(ev.id) || 0), 0);
    } catch (err) {
      if (S.dead) return;
    }
    openStream();
  }

  // ---------------------------------------------------------------- keyboard

  /** What has focus: a text field (leave all keys alone), a control, or nothing special. */
  function focusKind(target) {
    if (!target || target === document.body) return 'none';
    if (target.isContentEditable || target.tagName === 'TEXTAREA' || target.tagName === 'SELECT') return 'text';
    if (target.tagName === 'INPUT') {
      return ['checkbox', 'radio', 'range', 'button', 'submit'].includes(target.type) ? target.type : 'text';
    }
    if (target.tagName === 'BUTTON' || target.tagName === 'A') return 'button';
    return 'none';
  }

  function onKey(e) {
    if (S.dead) return;
    const kind = focusKind(e.target);
    if (kind === 'text') {
      if (e.key === 'Escape') e.target.blur();
      return;
    }
    const arrows = ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown'].includes(e.key);
    if (arrows && kind === 'range') return;
    if ((e.key === 'Enter' || e.key === ' ') && kind !== 'none') return;
    const handled = I.open ? inspectorKey(e) : (S.tab === 'review' && gridKey(e));
    if (handled) e.preventDefault();
  }

  const plainKey = (e) => !e.ctrlKey && !e.metaKey && !e.altKey;

  /** Keys on the review grid; returns true when handled. */
  function gridKey(e) {
    const k = e.key;
    if ((e.ctrlKey || e.metaKey) && !e.altKey && (k === 'a' || k === 'A')) { selectAll(); return true; }
    if (!plainKey(e)) return false;
    switch (k) {
      case 'p': case 'P': reviewCurrent('approve'); return true;
      case 'x': case 'X': reviewCurrent('reject'); return true;
      case 'u': case 'U': undoReview(); return true;
      case 'ArrowRight': case 'ArrowDown': move(1); return true;
      case 'ArrowLeft': case 'ArrowUp': move(-1); return true;
      case 'Enter': case ' ': if (S.current !== null) openInspector(S.current); return true;
      case 'Escape': clearSelection(); return true;
      default: return false;
    }
  }

  /** Keys in the inspector; returns true when handled. */
  function inspectorKey(e) {
    const k = e.key;
    if ((e.ctrlKey || e.metaKey) && (k === 'z' || k === 'Z')) { undoMark(); return true; }
    if (!plainKey(e)) return false;
    switch (k) {
      case 'Escape': closeInspector(); return true;
      case 'p': case 'P': inspReview('approve'); return true;
      case 'x': case 'X': inspReview('reject'); return true;
      case 'u': case 'U': undoReview(); return true;
      case 'f': case 'F': cycleBg(); return true;
      case 'o': case 'O': toggleOriginal(); return true;
      case 'ArrowRight': case 'ArrowDown': inspStep(1); return true;
      case 'ArrowLeft': case 'ArrowUp': inspStep(-1); return true;
      case '[': nudgeRadius(-1); return true;
      case ']': nudgeRadius(1); return true;
      case 'Backspace': undoMark(); return true;
      default: return false;
    }
  }

  // ---------------------------------------------------------------- inspector: open / close

  async function openInspector(id) {
    if (id === null || id === undefined || S.dead) return;
    const insp = $('#inspector');
    if (!I.open) {
      I.returnFocus = document.activeElement;
      insp.hidden = false;
      document.body.classList.add('inspecting');
      setBackgroundInert(true);
      insp.focus({ preventScroll: true });
    }
    I.open = true;
    I.jobId = id;
    I.job = null;
    I.shown = null;
    I.shownNumber = null;
    I.focus = null;
    I.view = null;
    I.loadGen++;
    clearMarks();
    const gen = ++I.gen;
    const cached = S.jobs.get(id);
    $('#insp-name').textContent = cached ? cached.name : `#${id}`;
    $('#stage-msg').textContent = 'Loading…';
    $('#stage-msg').hidden = false;
    $('#frame').hidden = true;
    $('#revisions').replaceChildren();
    try {
      const job = await api(`jobs/${id}`);
      if (gen !== I.gen || !I.open) return;
      upsertJob(job);                     // calls inspJobUpdated
    } catch (err) {
      if (gen === I.gen) {
        $('#stage-msg').textContent = err.message;
        report(err);
      }
    }
  }

  function closeInspector() {
    if (!I.open) return;
    I.open = false;
    I.gen++;
    I.loadGen++;
    I.drag = null;
    $('#inspector').hidden = true;
    document.body.classList.remove('inspecting');
    setBackgroundInert(false);
    $('#img-main').removeAttribute('src');
    $('#img-before').removeAttribute('src');
    setBusy(false);
    if (S.cards.has(S.current)) focusCurrent();
    else if (I.returnFocus && document.contains(I.returnFocus)) I.returnFocus.focus();
  }

  /** Keep Tab focus inside the inspector while it covers the page. */
  function setBackgroundInert(on) {
    for (const node of [$('.topbar'), $('main')]) node.inert = on;
  }

  /** Arrow keys in the inspector: the neighbouring job in the grid. */
  function inspStep(dir) {
    const next = neighbour(I.jobId, dir);
    if (next === null) return;
    S.undo.length = 0;
    setCurrent(next, { focus: false });
    openInspector(next);
  }

  /** P / X in the inspector: review this job and go to the next one still in view. */
  function inspReview(action) {
    const id = I.jobId;
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

  // ---------------------------------------------------------------- inspector: job and revisions

  /** The inspected job changed (first load, event, action): refresh the panel. */
  function inspJobUpdated(raw) {
    const first = !I.job || I.job.id !== raw.id;
    const job = Array.isArray(raw.revisions) ? raw : { ...raw, revisions: I.job && !first ? I.job.revisions : [] };
    if (first && !Array.isArray(raw.revisions)) return;   // wait for the full job
    I.job = job;
    const revs = job.revisions || [];
    let shown = revs.find((r) => r.number === I.shownNumber);
    if (first || !shown) shown = revs[revs.length - 1] || null;
    const changed = (I.shown && I.shown.id) !== (shown && shown.id);
    I.shown = shown;
    I.shownNumber = shown ? shown.number : null;
    if (first) resetEdge(shown);
    renderInspectorInfo();
    renderRevisions();
    if (first || changed) loadView();
  }

  function renderInspectorInfo() {
    const job = I.job;
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

    const rev = I.shown;
    const label = $('#shown-rev');
    if (rev) {
      const live = rev.number === job.published;
      label.textContent = `r${rev.number} · ${rev.kind || ''} · ${live ? 'live' : 'not live'}`;
      label.classList.toggle('candidate', !live);
    } else {
      label.textContent = 'no revision';
      label.classList.remove('candidate');
    }
    updateInspectorButtons();
  }

  function updateInspectorButtons() {
    const rev = I.shown;
    const job = I.job;
    $('#apply').disabled = I.busy || !rev || !job || rev.number === job.published;
    $('#refine-run').disabled = I.busy || !rev;
    for (const b of $$('#inspector button.tool')) b.disabled = !rev;
  }

  function renderRevisions() {
    const list = $('#revisions');
    const job = I.job;
    const revs = job && Array.isArray(job.revisions) ? [...job.revisions].reverse() : [];
    list.replaceChildren(...revs.map((rev) => buildRevision(rev, job)));
  }

  function buildRevision(rev, job) {
    const live = rev.number === job.published;
    const li = el('li', 'revision');
    li.dataset.number = String(rev.number);
    li.dataset.id = String(rev.id);
    li.classList.toggle('published', live);
    li.classList.toggle('shown', rev.number === I.shownNumber);
    li.classList.toggle('discarded', rev.status === 'discarded');
    li.tabIndex = 0;
    li.title = 'Show this revision';
    const info = el('span', 'rev-info');
    info.append(el('span', 'rev-n', `r${rev.number}`), el('span', 'rev-kind', rev.kind || ''),
      el('time', 'rev-time', fmtClock(rev.created)));
    const status = el('span', 'rev-status', live ? 'live' : (rev.status === 'discarded' ? 'discarded' : 'candidate'));
    const btn = el('button', 'small', live ? 'Live' : 'Publish');
    btn.type = 'button';
    btn.dataset.action = 'publish';
    btn.disabled = live || I.busy;
    btn.title = live ? 'This revision is in the output folder' : 'Publish this revision to the output folder';
    li.append(info, status, btn);
    return li;
  }

  function onRevisionsClick(e) {
    const li = e.target.closest('li.revision');
    if (!li || !I.job) return;
    const rev = (I.job.revisions || []).find((r) => String(r.number) === li.dataset.number);
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
    const rev = I.job && (I.job.revisions || []).find((r) => r.number === number);
    if (!rev) return;
    const changed = !I.shown || I.shown.id !== rev.id;
    I.shown = rev;
    I.shownNumber = rev.number;
    renderInspectorInfo();
    renderRevisions();
    if (changed) loadView();
  }

  async function publishRevision(rev) {
    if (!rev || I.busy) return;
    const jobId = I.jobId;
    setBusy(true, 'Publishing…');
    try {
      const job = await post(`revisions/${rev.id}/publish`);
      if (job && job.id !== undefined) upsertJob(job);
      toast(`r${rev.number} is live`, 'info');
    } catch (err) {
      report(err);
    } finally {
      setBusy(false);
      refreshJob(jobId);
    }
  }

  function setBusy(on, text) {
    I.busy = on;
    $('#busy').hidden = !on;
    if (text) $('#busy-text').textContent = text;
    $('#inspector').setAttribute('aria-busy', on ? 'true' : 'false');
    $('#stage').classList.toggle('is-busy', on);
    updateInspectorButtons();
    for (const b of $$('#revisions button[data-action="publish"]')) {
      b.disabled = on || b.closest('li').classList.contains('published');
    }
  }

  // ---------------------------------------------------------------- inspector: refine

  function resetEdge(rev) {
    const e = rev && rev.params && typeof rev.params.edge === 'object' && rev.params.edge ? rev.params.edge : {};
    setRange('#edge-shift', isNum(e.shift) ? e.shift : 0);
    setRange('#edge-feather', isNum(e.feather) ? e.feather : 0);
    $('#edge-matting').checked = typeof e.matting === 'boolean' ? e.matting : false;
    $('#edge-decontaminate').checked = typeof e.decontaminate === 'boolean' ? e.decontaminate : true;
  }

  function setRange(sel, value) {
    const input = $(sel);
    input.value = String(value);
    showRangeValue(input);
  }

  function showRangeValue(input) {
    const out = document.getElementById(`${input.id}-v`);
    if (out) out.textContent = input.value;
  }

  function readEdge() {
    return {
      shift: Number($('#edge-shift').value) || 0,
      feather: Number($('#edge-feather').value) || 0,
      matting: $('#edge-matting').checked,
      decontaminate: $('#edge-decontaminate').checked,
    };
  }

  const roundPt = (x) => Math.round(x);

  function refineBody() {
    const m = I.marks;
    return {
      base: I.shown.number,
      points: m.points.map((p) => ({ x: roundPt(p.x), y: roundPt(p.y), label: p.label })),
      box: m.box ? m.box.map(roundPt) : null,
      strokes: m.strokes.map((s) => ({
        mode: s.mode,
        radius: Math.round(s.radius),
        points: s.points.map(([x, y]) => [roundPt(x), roundPt(y)]),
      })),
      edge: readEdge(),
    };
  }

  async function runRefine() {
    if (!I.shown || I.busy) return;
    const jobId = I.jobId;
    const body = refineBody();
    setBusy(true, 'Refining…');
    try {
      const rev = await post(`jobs/${jobId}/refine`, body);
      if (!I.open || I.jobId !== jobId || !rev) return;
      if (I.job && !(I.job.revisions || []).some((r) => r.id === rev.id)) {
        I.job = { ...I.job, revisions: [...(I.job.revisions || []), rev] };
      }
      clearMarks();
      showRevision(rev.number);
    } catch (err) {
      report(err);
    } finally {
      setBusy(false);
      refreshJob(jobId);
    }
  }

  function clearMarks() {
    I.marks = { points: [], box: null, strokes: [] };
    I.history = [];
    I.drag = null;
    drawMarks();
    updateMarksCount();
  }

  function undoMark() {
    const last = I.history.pop();
    if (!last) return;
    if (last.type === 'point') I.marks.points.pop();
    else if (last.type === 'stroke') I.marks.strokes.pop();
    else if (last.type === 'box') I.marks.box = last.prev;
    drawMarks();
    updateMarksCount();
  }

  function updateMarksCount() {
    const m = I.marks;
    const keep = m.points.filter((p) => p.label === 1).length;
    const remove = m.points.length - keep;
    const parts = [];
    if (keep) parts.push(`${keep} keep`);
    if (remove) parts.push(`${remove} remove`);
    if (m.box) parts.push('box');
    if (m.strokes.length) parts.push(`${m.strokes.length} stroke${m.strokes.length === 1 ? '' : 's'}`);
    $('#marks-count').textContent = parts.length ? `Marks: ${parts.join(', ')}` : 'No marks: refine applies the edge settings only';
  }

  function setTool(tool) {
    I.tool = I.tool === tool ? null : tool;
    for (const b of $$('button.tool')) {
      const on = b.dataset.tool === I.tool;
      b.classList.toggle('active', on);
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
    }
    const stage = $('#stage');
    stage.dataset.tool = I.tool || 'pan';
    I.hover = null;
    drawMarks();
  }

  function nudgeRadius(dir) {
    const input = $('#brush-radius');
    const r = Number(input.value);
    setRange('#brush-radius', clamp(r + dir * Math.max(1, Math.round(r * 0.15)), 2, 200));
    drawMarks();
  }

  // ---------------------------------------------------------------- inspector: modes and zoom

  /** Which media a mode shows. */
  function mediaKind(mode) {
    if (mode === 'mask') return 'mask';
    if (mode === 'overlay') return 'overlay';
    if (mode === 'original') return 'before';
    return 'cutout';
  }

  function setMode(mode) {
    if (mode === 'split') { setSplit(!I.split); return; }
    const before = mediaKind(I.mode);
    if (mode === 'original' && I.split) I.split = false;
    if (BG_MODES.includes(mode)) I.lastBg = mode;
    I.mode = mode;
    updateModeButtons();
    if (I.view && before === mediaKind(mode) && !(mode === 'original')) applyBackground();
    else loadView();
  }

  function setSplit(on) {
    I.split = on;
    if (on && I.mode === 'original') I.mode = I.lastBg;
    updateModeButtons();
    loadView();
  }

  function cycleBg() {
    const i = BG_MODES.indexOf(I.mode);
    setMode(i < 0 ? 'checker' : BG_MODES[(i + 1) % BG_MODES.length]);
  }

  function toggleOriginal() {
    if (I.mode === 'original') {
      setMode(I.beforeOriginal || I.lastBg);
    } else {
      I.beforeOriginal = I.mode;
      setMode('original');
    }
  }

  function updateModeButtons() {
    for (const b of $$('button.mode')) {
      const on = b.dataset.mode === 'split' ? I.split : b.dataset.mode === I.mode;
      b.classList.toggle('active', on);
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
    }
    $('#split').closest('.split-field').classList.toggle('on', I.split);
  }

  function applyBackground() {
    const frame = $('#frame');
    for (const m of BG_MODES) frame.classList.remove(`bg-${m}`);
    frame.classList.remove('bg-none');
    frame.classList.add(BG_MODES.includes(I.mode) ? `bg-${I.mode}` : 'bg-none');
  }

  function setZoom(zoom) {
    if (!['fit', '100', '200'].includes(zoom)) return;
    I.zoom = zoom;
    for (const b of $$('button.zoom')) {
      const on = b.dataset.zoom === zoom;
      b.classList.toggle('active', on);
      b.setAttribute('aria-pressed', on ? 'true' : 'false');
    }
    loadView();
  }

  /** Geometry for the stage: which part of the canvas (x0, y0, w, h) is shown at k CSS px
      per canvas px, and the URL query that fetches exactly that. */
  function computeView(rev) {
    const stage = $('#stage');
    const sw = Math.max(1, stage.clientWidth);
    const sh = Math.max(1, stage.clientHeight);
    const W = rev.size[0];
    const H = rev.size[1];
    let v;
    if (I.zoom === 'fit') {
      const k = Math.min(sw / W, sh / H);
      v = { x0: 0, y0: 0, w: W, h: H, k, query: `max=${FIT_MAX}` };
    } else {
      const dpr = window.devicePixelRatio || 1;
      const k = Number(I.zoom) / 100 / dpr;   // 1 or 2 device px per canvas px
      const w = clamp(Math.ceil(sw / k), 1, W);
      const h = clamp(Math.ceil(sh / k), 1, H);
      const f = I.focus || { x: W / 2, y: H / 2 };
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
  function loadView() {
    if (!I.open) return;
    const rev = I.shown;
    const msg = $('#stage-msg');
    if (!rev || !rev.media || !Array.isArray(rev.size)) {
      I.loadGen++;
      I.view = null;
      $('#frame').hidden = true;
      $('#split-line').hidden = true;
      msg.textContent = I.job ? 'No result for this job yet' : 'Loading…';
      msg.hidden = false;
      return;
    }
    const v = computeView(rev);
    const main = withQuery(rev.media[mediaKind(I.mode)] || '', v.query);
    const before = I.split ? withQuery(rev.media.before || '', v.query) : null;
    const gen = ++I.loadGen;
    $('#stage').classList.add('is-loading');
    Promise.all([preload(main), preload(before)]).then(() => {
      if (gen !== I.loadGen || !I.open) return;
      applyView(v, main, before);
    });
  }

  function applyView(v, main, before) {
    I.view = v;
    const frame = $('#frame');
    frame.hidden = false;
    frame.style.left = `${v.left}px`;
    frame.style.top = `${v.top}px`;
    frame.style.width = `${v.fw}px`;
    frame.style.height = `${v.fh}px`;
    frame.style.transform = '';
    frame.classList.toggle('zoomed', I.zoom !== 'fit');
    applyBackground();
    const imgMain = $('#img-main');
    imgMain.src = main;
    imgMain.dataset.kind = mediaKind(I.mode);
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
    drawMarks();
  }

  /** Clip the before image to the left of the split and the result to the right. */
  function applySplit() {
    const imgMain = $('#img-main');
    const imgBefore = $('#img-before');
    const line = $('#split-line');
    const v = I.view;
    if (!I.split || !v) {
      imgMain.style.clipPath = '';
      imgBefore.style.clipPath = '';
      line.hidden = true;
      return;
    }
    const p = clamp(I.splitPos, 0, 100);
    imgMain.style.clipPath = `inset(0 0 0 ${p}%)`;
    imgBefore.style.clipPath = `inset(0 ${100 - p}% 0 0)`;
    line.hidden = false;
    line.style.left = `${v.left + (v.fw * p) / 100}px`;
    line.style.top = `${v.top}px`;
    line.style.height = `${v.fh}px`;
  }

  function onSplitInput() {
    I.splitPos = Number($('#split').value);
    if (!I.split) setSplit(true);
    else applySplit();
  }

  // ---------------------------------------------------------------- inspector: marks canvas

  function sizeCanvas() {
    const c = $('#marks');
    const v = I.view;
    if (!v) return;
    const dpr = window.devicePixelRatio || 1;
    c.width = Math.max(1, Math.round(v.fw * dpr));
    c.height = Math.max(1, Math.round(v.fh * dpr));
  }

  const KEEP = 'rgba(52, 199, 89, 0.45)';
  const REMOVE = 'rgba(255, 69, 58, 0.45)';
  const KEEP_DOT = '#34c759';
  const REMOVE_DOT = '#ff453a';

  /** Draw every mark (kept in canvas px of the full result) for the current view. */
  function drawMarks() {
    const c = $('#marks');
    const ctx = c.getContext('2d');
    const v = I.view;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, c.width, c.height);
    if (!v) return;
    const s = c.width / v.w;               // backing px per canvas px
    const dpr = window.devicePixelRatio || 1;
    const px = dpr / s;                    // one CSS px, in canvas px
    ctx.setTransform(s, 0, 0, s, -v.x0 * s, -v.y0 * s);
    ctx.lineCap = 'round';
    ctx.lineJoin = 'round';

    for (const st of I.marks.strokes) drawStroke(ctx, st);

    const box = I.drag && I.drag.type === 'box' ? boxFrom(I.drag.start, I.drag.cur) : I.marks.box;
    if (box) drawBox(ctx, box, px);

    for (const p of I.marks.points) {
      ctx.beginPath();
      ctx.arc(p.x, p.y, 5 * px, 0, Math.PI * 2);
      ctx.fillStyle = p.label === 1 ? KEEP_DOT : REMOVE_DOT;
      ctx.fill();
      ctx.lineWidth = 1.5 * px;
      ctx.strokeStyle = '#fff';
      ctx.stroke();
    }

    if (I.hover && I.tool && I.tool.startsWith('brush')) {
      ctx.beginPath();
      ctx.arc(I.hover.x, I.hover.y, Number($('#brush-radius').value), 0, Math.PI * 2);
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

  /** A pointer position as canvas px of the full-resolution result. */
  function toCanvas(e) {
    const v = I.view;
    const r = $('#marks').getBoundingClientRect();
    const x = v.x0 + ((e.clientX - r.left) * v.w) / r.width;
    const y = v.y0 + ((e.clientY - r.top) * v.h) / r.height;
    return { x: clamp(x, 0, v.W), y: clamp(y, 0, v.H) };
  }

  function onMarksDown(e) {
    if (e.button !== 0 || !I.view || I.busy) return;
    const p = toCanvas(e);
    I.focus = p;                          // "last clicked point" for the next zoom
    const c = $('#marks');
    const tool = I.tool;
    if (tool === 'keep' || tool === 'remove') {
      I.marks.points.push({ x: p.x, y: p.y, label: tool === 'keep' ? 1 : 0 });
      I.history.push({ type: 'point' });
      updateMarksCount();
      drawMarks();
      return;
    }
    try { c.setPointerCapture(e.pointerId); } catch (err) { /* synthetic pointer */ }
    if (tool === 'box') {
      I.drag = { type: 'box', start: p, cur: p };
    } else if (tool === 'brush-keep' || tool === 'brush-remove') {
      const stroke = { mode: tool === 'brush-keep' ? 'keep' : 'remove', radius: Number($('#brush-radius').value), points: [[p.x, p.y]] };
      I.marks.strokes.push(stroke);
      I.history.push({ type: 'stroke' });
      I.drag = { type: 'stroke', stroke };
      updateMarksCount();
    } else {
      I.drag = { type: 'pan', sx: e.clientX, sy: e.clientY, dx: 0, dy: 0, moved: false };
      $('#stage').classList.add('panning');
    }
    drawMarks();
  }

  function onMarksMove(e) {
    if (!I.view) return;
    const p = toCanvas(e);
    I.hover = p;
    const d = I.drag;
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
      if (d.moved && I.zoom !== 'fit') $('#frame').style.transform = `translate(${d.dx}px, ${d.dy}px)`;
      return;
    } else if (!I.tool || !I.tool.startsWith('brush')) {
      return;
    }
    drawMarks();
  }

  function onMarksUp(e) {
    const d = I.drag;
    I.drag = null;
    $('#stage').classList.remove('panning');
    if (!d || !I.view) return;
    if (d.type === 'box') {
      const b = boxFrom(d.start, toCanvas(e));
      if ((b[2] - b[0]) * I.view.k >= 4 && (b[3] - b[1]) * I.view.k >= 4) {
        I.history.push({ type: 'box', prev: I.marks.box });
        I.marks.box = b;
        updateMarksCount();
      }
      drawMarks();
    } else if (d.type === 'pan' && I.zoom !== 'fit') {
      const v = I.view;
      if (d.moved) {
        // drag: the new centre is the old one moved against the drag
        I.focus = { x: v.x0 + v.w / 2 - d.dx / v.k, y: v.y0 + v.h / 2 - d.dy / v.k };
      }
      loadView();                          // a click recentres on I.focus (set on down)
    }
  }

  function onMarksCancel() {
    I.drag = null;
    $('#frame').style.transform = '';
    $('#stage').classList.remove('panning');
    drawMarks();
  }

  function onMarksLeave() {
    I.hover = null;
    if (!I.drag) drawMarks();
  }

  function onMarksDblClick() {
    if (I.tool) return;
    setZoom(I.zoom === 'fit' ? '100' : 'fit');
  }

  // ---------------------------------------------------------------- wiring

  function wireTopbar() {
    for (const b of $$('button.tab')) b.addEventListener('click', () => showTab(b.dataset.tab));
    window.addEventListener('hashchange', () => showTab(location.hash.slice(1)));
  }

  function wireReview() {
    for (const b of $$('button.view')) b.addEventListener('click', () => setView(b.dataset.view));
    $('#profile-filter').addEventListener('change', (e) => {
      S.profile = e.target.value;
      loadQueue(true);
    });
    $('#queue').addEventListener('click', onCardClick);
    $('#queue').addEventListener('dblclick', onCardDblClick);
    $('#queue').addEventListener('mousedown', (e) => { if (e.shiftKey) e.preventDefault(); });
    $('#load-more').addEventListener('click', () => loadQueue(false));
    $('#bulk').addEventListener('click', onBulkClick);
    $('#bulk-clear').addEventListener('click', clearSelection);
  }

  function wireFailed() {
    $('#failed-list').addEventListener('click', onFailedClick);
    $('#failed-more').addEventListener('click', () => loadFailed(false));
    $('#failed-retry-all').addEventListener('click', () => failedAll('retry'));
    $('#failed-dismiss-all').addEventListener('click', () => failedAll('dismiss'));
  }

  function wireInspector() {
    $('#insp-close').addEventListener('click', closeInspector);
    for (const b of $$('#inspector button.mode')) b.addEventListener('click', () => setMode(b.dataset.mode));
    for (const b of $$('#inspector button.zoom')) b.addEventListener('click', () => setZoom(b.dataset.zoom));
    for (const b of $$('#inspector button.tool')) b.addEventListener('click', () => setTool(b.dataset.tool));
    for (const b of $$('#inspector .side-sec button[data-action]')) {
      const action = b.dataset.action;
      if (action === 'unreview') b.addEventListener('click', undoReview);
      else if (action === 'approve' || action === 'reject') b.addEventListener('click', () => inspReview(action));
    }
    const split = $('#split');
    split.addEventListener('input', onSplitInput);
    split.addEventListener('change', onSplitInput);
    for (const id of ['#brush-radius', '#edge-shift', '#edge-feather']) {
      $(id).addEventListener('input', (e) => { showRangeValue(e.target); drawMarks(); });
    }
    $('#refine-run').addEventListener('click', runRefine);
    $('#clear-marks').addEventListener('click', clearMarks);
    $('#apply').addEventListener('click', () => publishRevision(I.shown));
    $('#revisions').addEventListener('click', onRevisionsClick);
    $('#revisions').addEventListener('keydown', onRevisionsKey);
    const c = $('#marks');
    c.addEventListener('pointerdown', onMarksDown);
    c.addEventListener('pointermove', onMarksMove);
    c.addEventListener('pointerup', onMarksUp);
    c.addEventListener('pointercancel', onMarksCancel);
    c.addEventListener('pointerleave', onMarksLeave);
    c.addEventListener('dblclick', onMarksDblClick);
    let resizeTimer = null;
    const onResize = () => {
      clearTimeout(resizeTimer);
      resizeTimer = setTimeout(() => { if (I.open && I.view) loadView(); }, 150);
    };
    if (window.ResizeObserver) new ResizeObserver(onResize).observe($('#stage'));
    else window.addEventListener('resize', onResize);
  }

  function init() {
    wireTopbar();
    wireReview();
    wireFailed();
    wireInspector();
    document.addEventListener('keydown', onKey);
    $('#toast').addEventListener('click', () => { if (!S.dead) $('#toast').hidden = true; });

    setZoom('fit');
    updateModeButtons();
    setTool(null);
    updateMarksCount();
    updateSelection();
    showTab(location.hash.slice(1) || 'review');

    loadProfiles();
    loadStatus();
    loadQueue(true);
    loadFailed(true);
    loadHeldCount();
    startEvents();
    S.timers.push(setInterval(() => { if (!document.hidden) loadStatus(); }, STATUS_EVERY));
    S.timers.push(setInterval(watchdog, 10000));
  }

  init();
})();
