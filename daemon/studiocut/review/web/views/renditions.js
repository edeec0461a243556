/* Renditions: every output the shown revision is delivered as (a white square, a
   transparent cut-out, a marketplace's portrait...), each as a thumbnail with its name,
   size and format, opening whole in a new tab. Approving or publishing the revision writes
   them all together, so a person looks at every one before deciding. */

import { $, el } from '../dom.js';

/** "400 × 300 px · JPG", or the format alone for a revision that did not record sizes. */
export function renditionFacts(r) {
  const size = Array.isArray(r.size) && r.size.length === 2 ? `${r.size[0]} × ${r.size[1]} px` : null;
  return [size, r.format || null].filter(Boolean).join(' · ');
}

/** Show the renditions of `rev` (none: the section hides; a photo of one output). */
export function showRenditions(rev) {
  const list = $('#insp-renditions');
  const renditions = rev && Array.isArray(rev.renditions) ? rev.renditions : [];
  const key = renditions.map((r) => r.thumb).join(' ');
  $('#insp-renditions-sec').hidden = renditions.length === 0;
  if (list.dataset.key === key) return;      // the same revision: keep loaded images
  list.dataset.key = key;
  list.replaceChildren(...renditions.map(buildRendition));
}

function buildRendition(r) {
  const facts = renditionFacts(r);
  const item = el('li', 'rendition');
  item.dataset.name = r.name;
  const link = el('a', 'rendition-link');
  link.href = r.url;
  link.target = '_blank';
  link.rel = 'noopener';
  link.title = `Open ${r.name} whole in a new tab (published as ${r.output})`;
  const figure = el('figure');
  const frame = el('span', 'rendition-thumb checker');
  const img = el('img');
  img.alt = `${r.name} rendition${facts ? `, ${facts}` : ''}`;
  img.decoding = 'async';
  img.draggable = false;
  img.addEventListener('error', () => {
    img.hidden = true;
    frame.append(el('span', 'thumb-msg', 'gone'));
  }, { once: true });
  img.src = r.thumb;
  frame.append(img);
  const caption = el('figcaption');
  caption.append(el('span', 'rendition-name', r.name), el('span', 'rendition-facts', facts),
    el('span', 'rendition-output', r.output));
  figure.append(frame, caption);
  link.append(figure);
  item.append(link);
  return item;
}
