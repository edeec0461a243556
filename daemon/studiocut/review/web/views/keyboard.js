/* Keyboard: one keydown handler for the page. Keys go to the inspector while it is open,
   else to the review grid; a focused text field keeps its keys. */

import { isDead } from '../api.js';
import { isShown } from '../dom.js';
import { reviewCurrent, undoReview } from './actions.js';
import {
  closeInspector, inspReview, inspStep, inspUndo, isOpen, openInspector,
} from './inspector.js';
import { nudgeRadius, undoMark } from './marks.js';
import { clearSelection, currentId, move, selectAll } from './queue.js';
import { cycleBg, toggleOriginal } from './stage.js';

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
  if (isDead()) return;
  const kind = focusKind(e.target);
  if (kind === 'text') {
    if (e.key === 'Escape') e.target.blur();
    return;
  }
  const arrows = ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown'].includes(e.key);
  if (arrows && kind === 'range') return;
  if ((e.key === 'Enter' || e.key === ' ') && kind !== 'none') return;
  const handled = isOpen() ? inspectorKey(e) : (isShown('#review') && gridKey(e));
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
    case 'Enter': case ' ': if (currentId() !== null) openInspector(currentId()); return true;
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
    case 'u': case 'U': inspUndo(); return true;
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

export function wireKeyboard() {
  document.addEventListener('keydown', onKey);
}
