// One media in full: the photo (display size, zoomable; the original only on zoom or download)
// or the video (player.js), its detections, a timeline with storyboard previews, metadata,
// labels and note, clips and snapshots, share links, delete. Keyboard: ← / → previous and next,
// Esc back to the grid (focus on the tile), space plays or pauses, + / - / 0 zoom a photo.

import { h, replace } from './dom.js';
import { createEditor } from './editor.js';
import { MEDIA_TERMINAL, formatBytes, formatCounts, formatMs, formatTime, statusLabel } from './format.js';
import { mediaName } from './tiles.js';
import { createJobs } from './jobs.js';
import { drawBoxes, stage } from './overlay.js';
import { createPlayer } from './player.js';
import { createShares } from './shares.js';
import { confirmDialog, notice, showError } from './ui.js';
import { makeZoomable } from './zoom.js';

const VERIFIED_BYTES = new Set(['verified', 'processing', 'processed']);
const GONE = new Set(['deleting', 'deleted']);

function metadata(media, link) {
  const p = media.properties || {};
  const rows = [
    ['Status', `${statusLabel(media.status)}${media.status_reason ? ` (${media.status_reason_code}: ${media.status_reason})` : ''}`],
    ['Kind', media.kind],
    ['Device', media.device_id],
    ['Camera', media.camera_id],
    ['Captured', formatTime(media.captured_at)],
    ['Declared', formatTime(media.created_at)],
    ['Type', media.mime_type],
    ['Size', formatBytes(media.size_bytes)],
    p.width_px && ['Dimensions', `${p.width_px} × ${p.height_px} px`],
    p.duration_ms != null && ['Duration', formatMs(p.duration_ms)],
    p.video_codec && ['Codec', `${p.video_codec}${p.frame_rate ? `, ${p.frame_rate.toFixed(2)} fps` : ''}`],
    media.playback && ['Plays', media.playback.state === 'rendition' ? `through a playable version (${media.playback.reason})` : media.playback.state],
    ['Found', formatCounts(media.counts) || (media.status === 'processed' ? 'nothing' : '–')],
    media.analysis && ['Detectors', (media.analysis.detectors || []).join(', ') || '–'],
    ['SHA-256', media.verified?.sha256_matches ? `${media.declared.sha256} (verified)` : media.declared?.sha256],
    media.reason && ['Reason', media.reason],
    ['Id', media.id],
  ].filter(Boolean);
  const list = h('dl', { class: 'meta' }, rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
  if (media.parent_id) list.append(h('dt', null, 'Cut from'), h('dd', null, link(`/media/${media.parent_id}`, media.parent_id)));
  return h('section', { class: 'metadata', 'aria-labelledby': 'details-title' }, h('h2', { id: 'details-title' }, 'Details'), list);
}

function photoAlt(media) {
  const found = formatCounts(media.counts);
  return `Photo from ${media.camera_id}, ${formatTime(media.captured_at)}${found ? `: ${found}` : ''}`;
}

/**
 * Render `/media/{id}` into `container`.
 * @returns {Promise<{destroy: () => void, keydown?: (event: KeyboardEvent) => boolean}>}
 */
export async function renderDetail({ api, streams, id, navigate, back, gallery, container, signal }) {
  const handles = [];
  let destroyed = false;
  const gone = { destroy() {} };
  const link = (path, text, extra = {}, options = {}) =>
    h('a', { href: path, ...extra, onclick: (e) => { if (e.metaKey || e.ctrlKey || e.shiftKey) return; e.preventDefault(); navigate(path, options); } }, text);
  const step = { replace: true }; // previous / next replace the history entry
  const backLink = h('a', { href: gallery.path(), class: 'back', onclick: (e) => { e.preventDefault(); back(id); } }, '← Gallery');
  replace(container, backLink, h('p', { class: 'muted', role: 'status' }, 'Loading…'));

  let loaded;
  try {
    loaded = await api.media(id);
  } catch (error) {
    if (signal?.aborted) return gone;
    replace(
      container,
      backLink,
      h('div', { class: 'error-page', role: 'alert', dataset: { code: error.code || 'internal' } },
        h('h1', { tabindex: '-1' }, error.status === 404 ? 'Not found' : 'This media could not be loaded'),
        h('p', null, h('strong', { class: 'error-code' }, error.code || 'internal'), ' ', error.message)),
    );
    container.querySelector('h1').focus();
    return gone;
  }
  if (signal?.aborted) return gone;
  const { media } = loaded;
  const name = mediaName(media);
  const deleted = GONE.has(media.status);

  const badge = h('span', { class: `badge status-${media.status}`, role: 'status', dataset: { status: media.status } }, statusLabel(media.status));
  const progress = h('progress', { max: 1, hidden: true, 'aria-label': 'Processing progress' });
  const reload = () => {
    if (!destroyed) navigate(`/media/${id}`, { replace: true });
  };
  if (!MEDIA_TERMINAL.has(media.status) && media.playback?.state !== 'preparing') {
    handles.push(
      streams.follow('media', id, (data) => {
        badge.className = `badge status-${data.status}`;
        badge.dataset.status = data.status;
        badge.textContent = statusLabel(data.status);
        if (data.progress != null && data.status === 'processing') {
          progress.hidden = false;
          progress.value = data.progress;
        }
        if (data.status !== media.status && ['verified', 'processed', 'rejected', 'failed'].includes(data.status)) {
          gallery.refreshItem(id);
          reload();
        }
      }),
    );
  }

  const download = async () => {
    try {
      const signed = await api.download(id);
      // The signed GET names the original file in its response-content-disposition: the
      // browser saves it under that name (the tab it opens closes itself).
      const anchor = h('a', { href: signed.url, target: '_blank', rel: 'noopener', hidden: true });
      document.body.append(anchor);
      anchor.click();
      anchor.remove();
    } catch (error) {
      showError(error, { context: 'Download' });
    }
  };

  // ------------------------------------------------------------------------ the picture
  const p = media.properties || {};
  const picture = h('div', { class: 'picture' });
  let player = null;
  let zoom = null;
  let jobs = null;
  if (VERIFIED_BYTES.has(media.status) && media.media_type === 'image') {
    const shown = ['display', 'web'].map((k) => (media.derivatives || []).find((d) => d.kind === k)).find(Boolean);
    let src = shown?.url;
    if (!src) {
      try {
        src = (await api.download(id, { inline: true })).url;
      } catch (error) {
        if (!signal?.aborted) showError(error, { context: 'Showing the photo' });
      }
    }
    if (signal?.aborted) return gone;
    const img = h('img', { src, alt: photoAlt(media), class: 'media', width: p.width_px, height: p.height_px, decoding: 'async', fetchpriority: 'high' });
    const view = stage(img, p.width_px, p.height_px);
    view.el.classList.add('zoomable');
    if (p.width_px) drawBoxes(view.layer, (media.detections || []).filter((d) => d.time_ms == null), p.width_px, p.height_px);
    zoom = makeZoomable({
      stage: view.el,
      img,
      layer: view.layer,
      needsOriginal: Boolean(shown),
      originalUrl: async () => (await api.download(id, { inline: true })).url,
    });
    picture.append(view.el, zoom.controls);
  } else if (VERIFIED_BYTES.has(media.status) && media.media_type === 'video') {
    player = createPlayer({ api, streams, media, onDownload: download, onReady: () => { gallery.refreshItem(id); reload(); } });
    picture.append(player.el);
    if (player.video && player.timeline) {
      jobs = createJobs({ api, streams, media, video: player.video, timeline: player.timeline, onResult: (resultId) => gallery.refreshItem(resultId), navigate });
    }
  } else {
    picture.append(h('div', { class: 'placeholder large', role: 'status' },
      media.status === 'pending_upload' ? 'Waiting for the upload…' : `This media is ${statusLabel(media.status)}.`));
  }

  // ------------------------------------------------------------------------ actions
  const { previous, next } = gallery.neighbours(id);
  const nav = h('nav', { class: 'pager', 'aria-label': 'Previous and next' },
    previous ? link(`/media/${previous.id}`, '← Previous', { rel: 'prev', 'aria-label': `Previous: ${mediaName(previous)}` }, step) : null,
    next ? link(`/media/${next.id}`, 'Next →', { rel: 'next', 'aria-label': `Next: ${mediaName(next)}` }, step) : null);
  const actions = h('div', { class: 'actions' });
  if (VERIFIED_BYTES.has(media.status)) actions.append(h('button', { type: 'button', onclick: download }, 'Download original'));
  if (!deleted) {
    actions.append(h('button', {
      type: 'button',
      class: 'danger',
      onclick: async () => {
        const ok = await confirmDialog({
          title: `Delete ${name}?`,
          body: 'Its bytes, renditions and share links stop working; this cannot be undone. Clips and snapshots cut from it stay.',
          confirm: 'Delete',
        });
        if (!ok) return;
        try {
          await api.remove(id);
          gallery.remove(id);
          notice(`${name} deleted.`);
          navigate('/');
        } catch (error) {
          showError(error, { context: 'Deleting' });
        }
      },
    }, 'Delete'));
  }

  const editor = deleted
    ? h('section', { class: 'editor', 'aria-labelledby': 'editor-title' }, h('h2', { id: 'editor-title' }, 'Labels and note'),
      h('p', { class: 'muted' }, `This media is ${statusLabel(media.status)}: it can no longer be changed.`))
    : createEditor({
      api,
      media,
      etag: loaded.etag,
      onSaved: (fresh) => gallery.upsert(fresh),
      onStale: reload,
    });

  const heading = h('h1', { tabindex: '-1' }, name);
  replace(
    container,
    h('div', { class: 'detail-top' }, backLink, nav),
    h('header', { class: 'detail-head' }, heading, badge, progress, actions),
    h('div', { class: 'detail-body' },
      h('div', { class: 'detail-main' }, picture, jobs),
      h('div', { class: 'detail-side' }, metadata(media, link), editor, VERIFIED_BYTES.has(media.status) && !deleted ? createShares({ api, media }) : null)),
  );
  container.dataset.mediaId = id;
  heading.focus({ preventScroll: true });

  return {
    /** Keys of the detail view; true when the key was used. */
    keydown(event) {
      const typing = event.target.closest?.('input, textarea, select, [contenteditable]');
      if (typing || event.altKey || event.ctrlKey || event.metaKey) return false;
      if (event.key === 'ArrowLeft' && previous) return navigate(`/media/${previous.id}`, step), true;
      if (event.key === 'ArrowRight' && next) return navigate(`/media/${next.id}`, step), true;
      if (event.key === 'Escape') return back(id), true;
      if (event.key === ' ' && player?.video && event.target.tagName !== 'BUTTON' && event.target.tagName !== 'VIDEO') {
        if (player.video.paused) player.video.play();
        else player.video.pause();
        return true;
      }
      if (zoom && (event.key === '+' || event.key === '=')) return zoom.zoomIn(), true;
      if (zoom && event.key === '-') return zoom.zoomOut(), true;
      if (zoom && event.key === '0') return zoom.reset(), true;
      return false;
    },
    destroy() {
      destroyed = true;
      for (const handle of handles) handle.close();
      player?.destroy();
    },
  };
}
