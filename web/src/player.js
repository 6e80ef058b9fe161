// A video in the detail view, as the API says it plays (`playback`, docs/CONTRACTS.md,
// "Renditions"): the original or its playable rendition with the detections over it; "preparing a
// playable version" with that step's progress while processing makes one; and an explanation
// with a download, never an endless spinner, when no browser can play it.

import { h, replace } from './dom.js';
import { formatPercent } from './format.js';
import { boxesAt, drawBoxes, samplingIntervalMs, stage, stationaryKeys, timeline, trackSamples } from './overlay.js';

/** What the person is told about a video that does not play here. */
export function unplayableText(media, reason) {
  const codec = media.properties?.video_codec;
  const what = codec ? `This ${codec.toUpperCase()} video` : 'This video';
  return `${what} cannot be played in this browser${reason ? ` (${reason})` : ''}. Download the original to watch it.`;
}

/**
 * @param {{api: any, streams: any, media: object, onDownload: () => void,
 *   onReady: () => void}} deps onReady: processing finished (reload the view)
 * @returns {{el: HTMLElement, video: HTMLVideoElement | null, timeline: any, destroy: () => void}}
 */
export function createPlayer({ api, streams, media, onDownload, onReady }) {
  const p = media.properties || {};
  const playback = media.playback || { state: 'unknown', url: null };
  const poster = (media.derivatives || []).find((d) => d.kind === 'poster');
  const storyboard = (media.derivatives || []).find((d) => d.kind === 'storyboard');
  const el = h('div', { class: 'player', dataset: { playback: playback.state } });
  const handles = [];
  let destroyed = false;

  const explain = (reason) => {
    el.dataset.playback = 'unavailable';
    replace(
      el,
      h('div', { class: 'placeholder large unplayable', role: 'status' },
        h('p', null, unplayableText(media, reason)),
        h('button', { type: 'button', class: 'primary', onclick: onDownload }, 'Download original')),
    );
  };

  if (playback.state === 'preparing') {
    const bar = h('progress', { max: 1, value: 0, 'aria-label': 'Preparing a playable version' });
    const text = h('span', { class: 'step-text' }, 'Preparing a playable version…');
    const box = h('div', { class: 'placeholder large preparing', role: 'status' }, text, bar);
    if (poster) Object.assign(box.style, { backgroundImage: `url("${poster.url}")` });
    replace(el, box);
    handles.push(
      streams.follow('media', media.id, (data) => {
        if (data.step === 'playback' && data.step_progress != null) {
          bar.value = data.step_progress;
          text.textContent = `Preparing a playable version… ${formatPercent(data.step_progress)}`;
        }
        if (data.status === 'processed' || data.status === 'failed') onReady();
      }),
    );
    return { el, video: null, timeline: null, destroy: () => handles.forEach((x) => x.close()) };
  }
  if (playback.state === 'unavailable' || !playback.url) {
    explain(playback.reason);
    return { el, video: null, timeline: null, destroy() {} };
  }

  const video = h('video', {
    src: playback.url,
    controls: true,
    preload: 'metadata',
    playsinline: true,
    class: 'media',
    poster: poster?.url,
    'aria-label': `Video ${media.original_filename || ''}`.trim(),
  });
  const view = stage(video, p.width_px, p.height_px);
  el.append(view.el);
  const tracks = trackSamples(media.detections || []);
  const interval = samplingIntervalMs(media.detections || [], media.analysis);
  const still = stationaryKeys(media.tracks);
  let timelineView = null;
  let shownKey = '';
  const draw = () => {
    const ms = video.currentTime * 1000;
    timelineView?.setPlayhead(ms);
    const boxes = boxesAt(tracks, ms, interval, still);
    const key = boxes.map((b) => `${b.track_id}:${Math.round(b.box.x)},${Math.round(b.box.y)}`).join('|');
    if (key === shownKey) return;
    shownKey = key;
    drawBoxes(view.layer, boxes, p.width_px || 1, p.height_px || 1);
    view.el.dataset.frame = boxes.length ? String(Math.min(...boxes.map((b) => b.sample_ms))) : '';
  };
  const onFrame = () => {
    draw();
    if (!destroyed && video.requestVideoFrameCallback) video.requestVideoFrameCallback(onFrame);
  };
  if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(onFrame);
  video.addEventListener('timeupdate', draw);
  video.addEventListener('seeked', draw);
  // A signed URL is short-lived: when the player's next range request fails, ask for a fresh
  // one; when the browser cannot decode what it got, say so instead of spinning.
  let retried = false;
  video.addEventListener('error', async () => {
    if (destroyed) return;
    if (retried) return explain(playback.reason);
    retried = true;
    const at = video.currentTime;
    try {
      const fresh = (await api.media(media.id)).media.playback;
      if (!fresh?.url) return explain(fresh?.reason || playback.reason);
      video.src = fresh.url;
      video.currentTime = at;
    } catch {
      explain(playback.reason);
    }
  });
  if (media.status === 'processed' && media.duration_ms) {
    timelineView = timeline({
      durationMs: media.duration_ms,
      tracks: media.tracks,
      detections: media.detections,
      motion: media.motion_segments,
      storyboard,
      onSeek: (ms) => {
        video.pause();
        video.currentTime = ms / 1000;
      },
    });
    el.append(timelineView.el);
  }
  return {
    el,
    video,
    timeline: timelineView,
    destroy() {
      destroyed = true;
      video.pause();
      video.removeAttribute('src');
      video.load();
    },
  };
}
