// A gallery tile: the link to the media (announced with its name, status, camera, time and what
// was found), its picture at the screen's density (WebP or JPEG), and its selection box.

import { h } from './dom.js';
import { formatCounts, formatMs, formatTime, statusLabel } from './format.js';

/** The name a media goes by: its file name, else what it is, where from and when. */
export function mediaName(item) {
  if (item.original_filename) return item.original_filename;
  const what = item.kind === 'upload' ? item.media_type : item.kind;
  return `${item.camera_id} ${what} ${formatTime(item.captured_at)}`;
}

/** A tile's description in one line: name, status, camera, time, what was found (for titles and tests). */
export function tileLabel(item) {
  const counts = formatCounts(item.counts);
  return [mediaName(item), statusLabel(item.status), item.camera_id, formatTime(item.captured_at), counts && `found ${counts}`]
    .filter(Boolean)
    .join(', ');
}

/** The `<picture>` of a tile: WebP and JPEG at 1x and 2x when the media has them. */
export function tilePicture(item, { eager = false } = {}) {
  const tiles = item.tiles || [];
  const pick = (mime, density) => tiles.find((t) => t.mime_type === mime && t.density === density);
  const jpeg1 = pick('image/jpeg', 1);
  if (!jpeg1) {
    if (!item.thumbnail_url) return null;
    return h('img', { src: item.thumbnail_url, alt: '', loading: eager ? 'eager' : 'lazy', decoding: 'async' });
  }
  const set = (mime) => [pick(mime, 1), pick(mime, 2)].filter(Boolean).map((t) => `${t.url} ${t.density}x`).join(', ');
  const small = jpeg1.width_px < 320;
  return h(
    'picture',
    null,
    h('source', { type: 'image/webp', srcset: set('image/webp') }),
    h('img', {
      src: jpeg1.url,
      srcset: set('image/jpeg'),
      alt: '',
      width: jpeg1.width_px,
      height: jpeg1.height_px,
      loading: eager ? 'eager' : 'lazy',
      fetchpriority: eager ? 'high' : null,
      decoding: 'async',
      class: small ? 'small' : null,
    }),
  );
}

/**
 * The `<li>` of one media.
 * @param {object} item a media summary
 * @param {{selected: boolean, onOpen: () => void, onSelect: (range: boolean) => void}} options
 */
export function tileElement(item, { selected, onOpen, onSelect, eager = false }) {
  const open = (event) => {
    if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
    event.preventDefault();
    onOpen();
  };
  const box = h('input', {
    type: 'checkbox',
    class: 'select',
    'aria-label': `Select ${mediaName(item)}`,
    // the browser ticks the box itself; the selection follows (shift: the whole range)
    onclick: (event) => onSelect(event.shiftKey),
  });
  box.checked = selected;
  const picture = tilePicture(item, { eager });
  const said = (text) => h('span', { class: 'visually-hidden' }, text);
  const counts = formatCounts(item.counts);
  const time = new Date(item.captured_at).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit' });
  // The link's name is its text, in reading order: "name, camera · time, found ..., labels,
  // status" (the caption comes first in the DOM; CSS shows the picture above it); the commas
  // are for listeners only.
  return h(
    'li',
    { class: selected ? 'tile-item selected' : 'tile-item', dataset: { id: item.id } },
    h(
      'a',
      { class: 'tile', href: `/media/${item.id}`, dataset: { id: item.id, status: item.status, kind: item.kind }, onclick: open },
      h(
        'div',
        { class: 'caption' },
        h('span', { class: 'name' }, mediaName(item)),
        said(','),
        h('span', { class: 'when' }, `${item.camera_id} · ${time}`),
        said(','),
        counts && [said('found'), h('span', { class: 'counts' }, counts), said(',')],
        (item.labels || []).length > 0 && [h('span', { class: 'labels' }, item.labels.map((l) => `#${l}`).join(' ')), said(',')],
      ),
      h(
        'div',
        { class: 'thumb' },
        picture || h('div', { class: 'placeholder', 'aria-hidden': 'true' }, item.media_type === 'video' ? '▶' : '▣'),
        h('span', { class: `badge status-${item.status}`, dataset: { status: item.status } }, statusLabel(item.status)),
        item.kind !== 'upload' && h('span', { class: 'kind' }, said(', '), item.kind),
        item.duration_ms != null && h('span', { class: 'duration' }, said(', '), formatMs(item.duration_ms)),
      ),
    ),
    box,
  );
}
