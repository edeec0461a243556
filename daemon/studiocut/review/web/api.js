/* The daemon's HTTP API: JSON requests signed in by the session cookie (the token link set
   it), errors as ApiError, and the end of the session: a 401 stops the page. */

import { toast } from './dom.js';

export const API = '/api/v1/';
const PAGE = 200;                         // jobs per page

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

// ---------------------------------------------------------------- session

let dead = false;                         // session lost (401): everything stops
const lostHandlers = [];

/** Has the session been lost? Nothing should ask the daemon anything after that. */
export const isDead = () => dead;

/** Call fn once when the session is lost (each part stops its own timers). */
export function onSessionLost(fn) {
  lostHandlers.push(fn);
}

function sessionLost() {
  if (dead) return;
  dead = true;
  for (const fn of lostHandlers) fn();
}

// ---------------------------------------------------------------- requests

/** GET (no body) or POST JSON; resolves to the decoded JSON, throws ApiError. */
export async function api(path, body) {
  if (dead) throw new ApiError('session expired', 401);
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

export const post = (path, body = {}) => api(path, body);

/** The path that lists a view of jobs ("held", "failed", ...) from a cursor on. */
export function jobsQuery(view, profile, cursor) {
  const q = new URLSearchParams({ view, limit: String(PAGE) });
  if (profile) q.set('profile', profile);
  if (cursor) q.set('cursor', cursor);
  return `jobs?${q}`;
}

/** Show an API error to the user (401 already has its own screen). */
export function report(err) {
  if (!err || err.status === 401 || dead) return;
  toast(err.message || String(err), 'error');
}
