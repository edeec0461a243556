/* Formatting: numbers, ages, clocks, paths and the messages of bulk actions, as the page shows
   them. Pure functions; nothing here touches the DOM. */

export const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
export const isNum = (v) => typeof v === 'number' && Number.isFinite(v);

/** Seconds as a short human age: "12 s", "3 min", "2 h 5 min", "3 d". */
export function fmtAge(s) {
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
export function fmtClock(t) {
  if (!isNum(t)) return '--:--:--';
  const d = new Date(t * 1000);
  const clock = `${pad2(d.getHours())}:${pad2(d.getMinutes())}:${pad2(d.getSeconds())}`;
  if (d.toDateString() === new Date().toDateString()) return clock;
  return `${d.toLocaleDateString(undefined, { day: 'numeric', month: 'short' })} ${clock}`;
}

export function fmtRate(v) {
  if (!isNum(v)) return '—';
  return Number.isInteger(v) ? String(v) : v.toFixed(1);
}

export const orDash = (v) => (v === null || v === undefined || v === '' ? '—' : String(v));

/** The end of a long folder path, which is the part that tells folders apart
    ("…/shoot-a/inbox"); the whole path is in the tooltip. */
export function tailOf(path, keep = 48) {
  if (!path || path.length <= keep) return path;
  const rest = path.slice(path.length - keep);
  const sep = rest.search(/[\\/]/);  // from a folder boundary, / or Windows' \
  return '…' + (sep >= 0 ? rest.slice(sep) : rest);
}

/** "folder/name" for a job, the name alone at the top of the watch folder. */
export function jobPath(job) {
  return job.folder ? `${job.folder}/${job.name}` : String(job.name || '');
}

/** What a bulk action did, for the toast. */
export function bulkDone(action, n) {
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
