/* The profiles and models the daemon knows: the review grid's profile filter and the bulk
   bar's "rerun with" choice. */

import { api, report } from '../api.js';
import { $ } from '../dom.js';

let profiles = [];
let models = [];

/** Is `name` a profile the page has listed? A new one means: load the lists again. */
export const knownProfile = (name) => profiles.includes(name);

export async function loadProfiles() {
  try {
    const r = await api('profiles');
    profiles = Array.isArray(r.profiles) ? r.profiles : [];
    models = Array.isArray(r.models) ? r.models : [];
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
  for (const p of profiles) opts.push(new Option(p, p));
  sel.replaceChildren(...opts);
  sel.value = profiles.includes(keep) ? keep : '';
}

function fillBulkTarget() {
  const sel = $('#bulk-target');
  const keep = sel.value;
  const opts = [];
  for (const p of profiles) opts.push(new Option(`profile: ${p}`, `profile:${p}`));
  for (const m of models) opts.push(new Option(`model: ${m}`, `model:${m}`));
  sel.replaceChildren(...opts);
  if (opts.some((o) => o.value === keep)) sel.value = keep;
}
