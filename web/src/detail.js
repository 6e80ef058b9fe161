// One media in full: the picture or the video (signed URL: the browser seeks with Range), its
// detections drawn over it, a timeline of the video's detections, metadata, labels and note,
// clips and snapshots, share links, delete.

import { h, replace } from './dom.js';
import { createEditor } from './editor.js';
import {
  MEDIA_TERMINAL,
  formatBytes,
  formatCounts,
  formatMs,
  formatTime,
  statusLabel,
} from './format.js';
import { createJobs } from './jobs.js';
import { drawBoxes, frameAt, frameTimes, sampleWindowMs, stage, timeline } from './overlay.js';
import { createShares } from './shares.js';
import { confirmDialog, notice, showError } from './ui.js';

const VERIFIED_BYTES = new Set(['verified', 'processing', 'processed']);

function name(media) {
  return media.original_filename || `${media.camera_id} ${media.kind}`;
}

function metadata(media, navigate) {
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
    ['Found', formatCounts(media.counts) || (media.status === 'processed' ? 'nothing' : '–')],
    media.analysis && ['Detectors', (media.analysis.detectors || []).join(', ') || '–'],
    ['SHA-256', media.verified?.sha256_matches ? `${media.declared.sha256} (verified)` : media.declared?.sha256],
    media.reason && ['Reason', media.reason],
    ['Id', media.id],
  ].filter(Boolean);
  const list = h('dl', { class: 'meta' }, rows.map(([k, v]) => [h('dt', null, k), h('dd', null, v)]));
  if (media.parent_id) {
    list.append(
      h('dt', null, 'Cut from'),
      h('dd', null, h('a', { href: `/media/${media.parent_id}`, onclick: (e) => { e.preventDefault(); navigate(`/media/${media.parent_id}`); } }, media.parent_id)),
    );
  }
  return h('section', { class: 'metadata', 'aria-label': 'Metadata' }, h('h2', null, 'Details'), list);
}

/**
 * Render `/media/{id}` into `container`.
 * @returns {Promise<{destroy: () => void}>}
 */
export async function renderDetail({ api, streams, id, navigate, gallery, container, signal }) {
  const handles = [];
  let destroyed = false;
  const gone = { destroy() {} };
  const back = h('a', { href: '/', class: 'back', onclick: (e) => { e.preventDefault(); navigate('/'); } }, '← Gallery');
  replace(container, back, h('p', { class: 'muted' }, 'Loading…'));

  let loaded;
  try {
    loaded = await api.media(id);
  } catch (error) {
    if (signal?.aborted) return gone;
    replace(
      container,
      back,
      h('div', { class: 'error-page', role: 'alert', dataset: { code: error.code || 'internal' } },
        h('h1', null, error.status === 404 ? 'Not found' : 'This media could not be loaded'),
        h('p', null, h('strong', { class: 'error-code' }, error.code || 'internal'), ' ', error.message),
      ),
    );
    return { destroy() {} };
  }
  if (signal?.aborted) return gone;
  const { media } = loaded;
  let etag = loaded.etag;

  const badge = h('span', { class: `badge status-${media.status}`, role: 'status', dataset: { status: media.status } }, statusLabel(media.status));
  const progress = h('progress', { max: 1, hidden: true, 'aria-label': 'Processing progress' });
  const reload = () => {
    if (!destroyed) navigate(`/media/${id}`, { replace: true });
  };

  if (!MEDIA_TERMINAL.has(media.status)) {
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

  // --------------------------------------------------------------------- the picture
  const p = media.properties || {};
  const picture = h('div', { class: 'picture' });
  let jobs = null;
  let timelineView = null;
  if (VERIFIED_BYTES.has(media.status)) {
    let signed;
    try {
      signed = await api.download(id);
    } catch (error) {
      if (!signal?.aborted) showError(error, { context: 'Signing the download' });
    }
    if (signal?.aborted) {
      for (const handle of handles) handle.close();
      return gone;
    }
    if (signed && media.media_type === 'image') {
      // GIF, BMP and TIFF originals are shown through their "web" rendition (same size, upright).
      const web = (media.derivatives || []).find((d) => d.kind === 'web');
      const img = h('img', { src: web ? web.url : signed.url, alt: name(media), class: 'media' });
      const view = stage(img, p.width_px, p.height_px);
      if (p.width_px) drawBoxes(view.layer, media.detections.filter((d) => d.time_ms == null), p.width_px, p.height_px);
      picture.append(view.el);
    } else if (signed) {
      const video = h('video', { src: signed.url, controls: true, preload: 'metadata', playsinline: true, class: 'media' });
      const view = stage(video, p.width_px, p.height_px);
      picture.append(view.el);
      const times = frameTimes(media.detections);
      const windowMs = sampleWindowMs(times);
      let shown;
      const draw = () => {
        const ms = video.currentTime * 1000;
        timelineView?.setPlayhead(ms);
        const frame = frameAt(times, ms, windowMs);
        if (frame === shown) return;
        shown = frame;
        drawBoxes(view.layer, frame == null ? [] : media.detections.filter((d) => d.time_ms === frame), p.width_px || 1, p.height_px || 1);
        view.el.dataset.frame = frame ?? '';
      };
      const onFrame = () => {
        draw();
        if (!destroyed && video.requestVideoFrameCallback) video.requestVideoFrameCallback(onFrame);
      };
      if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(onFrame);
      video.addEventListener('timeupdate', draw);
      video.addEventListener('seeked', draw);
      // A signed URL is short-lived: when the player's next range request fails, sign again.
      let resigned = false;
      video.addEventListener('error', async () => {
        if (resigned || destroyed) return;
        resigned = true;
        const at = video.currentTime;
        try {
          video.src = (await api.download(id)).url;
          video.currentTime = at;
        } catch (error) {
          showError(error, { context: 'Playing the video' });
        }
      });
      if (media.status === 'processed' && media.duration_ms) {
        timelineView = timeline({
          durationMs: media.duration_ms,
          tracks: media.tracks,
          detections: media.detections,
          motion: media.motion_segments,
          onSeek: (ms) => {
            video.pause();
            video.currentTime = ms / 1000;
          },
        });
        picture.append(timelineView.el);
        jobs = createJobs({
          api,
          streams,
          media,
          video,
          timeline: timelineView,
          onResult: (resultId) => gallery.refreshItem(resultId),
          navigate,
        });
      }
    }
  } else {
    picture.append(
      h('div', { class: 'placeholder large' }, media.status === 'pending_upload' ? 'Waiting for the upload…' : `This media is ${statusLabel(media.status)}.`),
    );
  }

  // ------------------------------------------------------------------------ actions
  const actions = h('div', { class: 'actions' });
  if (VERIFIED_BYTES.has(media.status)) {
    actions.append(
      h('button', {
        type: 'button',
        onclick: async () => {
          try {
            window.open((await api.download(id)).url, '_blank', 'noopener');
          } catch (error) {
            showError(error, { context: 'Download' });
          }
        },
      }, 'Download original'),
    );
  }
  actions.append(
    h('button', {
      type: 'button',
      class: 'danger',
      onclick: async () => {
        const ok = await confirmDialog({
          title: `Delete ${name(media)}?`,
          body: 'Its bytes, renditions and share links stop working; this cannot be undone. Clips and snapshots cut from it stay.',
          confirm: 'Delete',
        });
        if (!ok) return;
        try {
          await api.remove(id);
          gallery.remove(id);
          notice(`${name(media)} deleted.`);
          navigate('/');
        } catch (error) {
          showError(error, { context: 'Deleting' });
        }
      },
    }, 'Delete'),
  );

  const editor = createEditor({
    api,
    media,
    etag,
    onSaved: (fresh, freshEtag) => {
      etag = freshEtag;
      gallery.upsert(fresh);
    },
    onStale: reload,
  });

  replace(
    container,
    back,
    h('header', { class: 'detail-head' }, h('h1', null, name(media)), badge, progress, actions),
    h(
      'div',
      { class: 'detail-body' },
      h('div', { class: 'detail-main' }, picture, jobs),
      h('div', { class: 'detail-side' }, metadata(media, navigate), editor, VERIFIED_BYTES.has(media.status) ? createShares({ api, media }) : null),
    ),
  );
  container.dataset.mediaId = id;

  return {
    destroy() {
      destroyed = true;
      for (const handle of handles) handle.close();
      for (const video of container.querySelectorAll('video')) {
        video.pause();
        video.removeAttribute('src');
        video.load();
      }
    },
  };
}
