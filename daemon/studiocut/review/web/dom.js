/* DOM helpers every view uses: look-ups, element creation, range inputs with their read-out,
   the page's ready mark, the toast, and a throttle for reloads that events ask for. All data
   reaches the DOM through textContent / attributes, never innerHTML. */

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

/** Create an element with an optional class and text (always textContent). */
export function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

/** Is a screen or overlay showing? Its hidden attribute is the one record of that. */
export const isShown = (sel) => !$(sel).hidden;

/** Set a range input and its <output id="<input id>-v">. */
export function setRange(sel, value) {
  const input = $(sel);
  input.value = String(value);
  showRangeValue(input);
}

export function showRangeValue(input) {
  const out = document.getElementById(`${input.id}-v`);
  if (out) out.textContent = input.value;
}

// ---------------------------------------------------------------- ready, toast

const loaded = new Set();

/** The page is ready for a person (and for whoever waits on body[data-ready]) once both the
    status and the review list have loaded at least once; `part` is one of them. */
export function markReady(part) {
  loaded.add(part);
  if (loaded.has('status') && loaded.has('jobs') && document.body.dataset.ready !== '1') {
    document.body.dataset.ready = '1';
  }
}

let toastTimer = null;

export function toast(message, kind = 'error') {
  const t = $('#toast');
  t.textContent = message;
  t.className = `toast toast-${kind}`;
  t.hidden = false;
  clearTimeout(toastTimer);
  if (kind !== 'sticky') {
    toastTimer = setTimeout(() => { t.hidden = true; }, kind === 'error' ? 8000 : 3500);
  }
}

// ---------------------------------------------------------------- timing

/** Call fn at most once every ms, with a trailing call so the last request is not lost. */
export function throttle(fn, ms) {
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
