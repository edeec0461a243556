/* What the page knows about jobs: the latest copy of each, reviews shown before the daemon
   confirms them, and refreshes from the API. A changed job is applied in one place,
   upsertJob, which hands it to every view that listens (grid, failed list, inspector). */

import { api, isDead } from './api.js';

const jobs = new Map();                  // id -> latest known job
const pending = new Map();               // id -> {review, token}: optimistic review in flight
const inflight = new Set();
const dirty = new Set();
const refreshQueue = new Set();
let refreshTimer = null;
const known = [];                        // listeners: a job was seen (named)
const changed = [];                      // listeners: a job changed
const dropped = [];                      // listeners: a job is gone

/** fn(job) for every job the page sees, listed or changed. */
export const onJobSeen = (fn) => known.push(fn);
/** fn(job) for every change of a job, in the order the listeners were added. */
export const onJobChanged = (fn) => changed.push(fn);
/** fn(id) when a job no longer exists. */
export const onJobDropped = (fn) => dropped.push(fn);

/** The latest known copy of a job, or undefined. */
export const knownJob = (id) => jobs.get(id);

/** Keep a job listed by the API as the latest copy. */
export function remember(job) {
  jobs.set(job.id, job);
  for (const fn of known) fn(job);
}

/** Apply a still-pending optimistic review on top of a job fetched from the server. */
export function withPending(job) {
  const p = pending.get(job.id);
  return p ? { ...job, review: p.review } : job;
}

/** Show `review` on a job at once, before the daemon confirms it; returns the token that
    owns this review until settleReview. */
export function expectReview(id, review) {
  const token = {};
  pending.set(id, { review, token });
  const job = jobs.get(id);
  if (job) upsertJob(job);
  return token;
}

/** The action behind `token` got its answer: forget its optimistic review. False when a
    newer action on this job is in flight (its review stays). */
export function settleReview(id, token) {
  const p = pending.get(id);
  if (p && p.token !== token) return false;
  pending.delete(id);
  return true;
}

/** Fetch one job and apply it everywhere; coalesces events for the same job. */
export async function refreshJob(id) {
  if (inflight.has(id)) { dirty.add(id); return; }
  inflight.add(id);
  try {
    upsertJob(await api(`jobs/${id}`));
  } catch (err) {
    if (err.status === 404) dropJob(id);
  } finally {
    inflight.delete(id);
    if (dirty.delete(id) && !isDead()) refreshJob(id);
  }
}

/** Refresh many jobs, a few at a time. */
export async function refreshMany(ids) {
  const queue = [...ids];
  const worker = async () => {
    while (queue.length) await refreshJob(queue.shift());
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

export function queueJobRefresh(id) {
  refreshQueue.add(Number(id));
  if (!refreshTimer) {
    refreshTimer = setTimeout(() => {
      refreshTimer = null;
      const ids = [...refreshQueue];
      refreshQueue.clear();
      ids.forEach(refreshJob);
    }, 100);
  }
}

/** The single place a changed job is applied: grid, failed list, inspector, feed names. */
export function upsertJob(raw) {
  if (!raw || raw.id === undefined || raw.id === null) return;
  const job = withPending(raw);
  remember(job);
  for (const fn of changed) fn(job);
}

function dropJob(id) {
  for (const fn of dropped) fn(id);
  jobs.delete(id);
}
