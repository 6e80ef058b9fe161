// Detections over the picture: labelled boxes over an image, and over a video at the sampled
// frames where they were found, with a timeline of tracks and frames to click.
//
// Boxes are in pixels of the oriented full-resolution image or frame (`properties.width_px` x
// `height_px`); they are drawn as percentages of a stage whose aspect ratio is the media's, so
// they stay on the object at any size.

import { h, replace } from './dom.js';
import { formatMs } from './format.js';

const SEEK_TOLERANCE_MS = 40;
const DEFAULT_WINDOW_MS = 1000;

/** Sorted distinct frame times (ms) of a video's detections. */
export function frameTimes(detections) {
  return [...new Set(detections.filter((d) => d.time_ms != null).map((d) => d.time_ms))].sort(
    (a, b) => a - b,
  );
}

/** How long a sampled frame's boxes stay on screen: the shortest gap between samples. */
export function sampleWindowMs(times, fallback = DEFAULT_WINDOW_MS) {
  let gap = Infinity;
  for (let i = 1; i < times.length; i += 1) gap = Math.min(gap, times[i] - times[i - 1]);
  return Number.isFinite(gap) && gap > 0 ? gap : fallback;
}

/**
 * The sampled frame shown at playback time `ms`: the last one at or before it (a frame seeked to
 * lands a few ms early, hence a tolerance), if it is no older than one sampling window.
 */
export function frameAt(times, ms, windowMs) {
  let found = null;
  for (const t of times) {
    if (t <= ms + SEEK_TOLERANCE_MS) found = t;
    else break;
  }
  if (found == null || ms - found >= windowMs) return null;
  return found;
}

/** A box as percentages of the picture. */
export function boxRect(box, width, height) {
  const pct = (value, of) => `${((value / of) * 100).toFixed(3)}%`;
  return { left: pct(box.x, width), top: pct(box.y, height), width: pct(box.w, width), height: pct(box.h, height) };
}

/** "face 98 %" */
export function boxLabel(detection) {
  return `${detection.label} ${Math.round(detection.score * 100)} %`;
}

/** Draw `detections` into `layer` (absolutely positioned over the picture). */
export function drawBoxes(layer, detections, width, height) {
  replace(
    layer,
    detections.map((d) =>
      h(
        'div',
        {
          // A box at the top edge carries its label inside, where it is not cut off.
          class: `box box-${d.label.replace(/[^a-z0-9_-]/gi, '')}${d.box.y < height * 0.08 ? ' label-inside' : ''}`,
          style: boxRect(d.box, width, height),
          role: 'img',
          'aria-label': `${d.label} box`,
          dataset: { label: d.label, time: d.time_ms ?? '' },
        },
        h('span', { class: 'box-label' }, boxLabel(d)),
      ),
    ),
  );
}

/** A stage (media + box layer) with the media's aspect ratio. */
export function stage(media, width, height) {
  const layer = h('div', { class: 'boxes' });
  const el = h('div', { class: 'stage' }, media, layer);
  if (width && height) {
    el.style.aspectRatio = `${width} / ${height}`;
    el.style.maxWidth = `min(100%, calc(70vh * ${(width / height).toFixed(4)}))`;
  }
  return { el, layer };
}

/**
 * The detections timeline of a video: motion, one row per track, a tick per sampled frame, the
 * playhead, and an optional range (the clip being cut). Clicking a tick or the bar seeks.
 * @returns {{el: HTMLElement, setPlayhead: (ms: number) => void,
 *   setRange: (startMs: number | null, endMs?: number) => void}}
 */
export function timeline({ durationMs, tracks, detections, motion, onSeek }) {
  const duration = Math.max(1, durationMs || 1);
  const at = (ms) => `${((Math.max(0, Math.min(duration, ms)) / duration) * 100).toFixed(3)}%`;
  const span = (start, end) => ({ left: at(start), width: at(Math.max(0, end - start)) });
  const playhead = h('div', { class: 'playhead', 'aria-hidden': 'true' });
  const range = h('div', { class: 'range', hidden: true, 'aria-hidden': 'true' });
  const bar = h(
    'div',
    {
      class: 'timeline-bar',
      title: 'click to seek',
      onclick: (event) => {
        const rect = bar.getBoundingClientRect();
        onSeek(Math.round(((event.clientX - rect.left) / rect.width) * duration));
      },
    },
    (motion || []).map((m) =>
      h('div', { class: 'motion', style: span(m.start_ms, m.end_ms), title: `motion ${formatMs(m.start_ms)}–${formatMs(m.end_ms)}` }),
    ),
    range,
    playhead,
  );
  const rows = (tracks || []).map((t) =>
    h(
      'div',
      { class: 'timeline-row' },
      h('span', { class: 'timeline-name' }, `${t.label} #${t.track_id}`),
      h(
        'div',
        { class: 'timeline-lane' },
        h('button', {
          type: 'button',
          class: `track box-${t.label}`,
          style: span(t.first_ms ?? 0, Math.max((t.last_ms ?? 0) + 1, (t.first_ms ?? 0) + duration / 200)),
          title: `${t.label} #${t.track_id}: ${formatMs(t.first_ms)}–${formatMs(t.last_ms)}, best at ${formatMs(t.best_time_ms)}`,
          'aria-label': `${t.label} track ${t.track_id}, best at ${formatMs(t.best_time_ms)}`,
          onclick: () => onSeek(t.best_time_ms ?? t.first_ms ?? 0),
        }),
      ),
    ),
  );
  const byTime = new Map();
  for (const d of detections) {
    if (d.time_ms == null) continue;
    byTime.set(d.time_ms, [...(byTime.get(d.time_ms) || []), d.label]);
  }
  const ticks = h(
    'div',
    { class: 'timeline-ticks' },
    [...byTime.entries()].map(([ms, labels]) =>
      h('button', {
        type: 'button',
        class: 'tick',
        style: { left: at(ms) },
        title: `${[...new Set(labels)].join(', ')} at ${formatMs(ms)}`,
        'aria-label': `${[...new Set(labels)].join(', ')} at ${formatMs(ms)}`,
        onclick: () => onSeek(ms),
      }),
    ),
  );
  const legend = h(
    'p',
    { class: 'timeline-legend muted' },
    h('span', { class: 'swatch motion-swatch' }), 'motion ',
    h('span', { class: 'swatch range-swatch' }), 'clip range ',
    h('span', { class: 'swatch tick-swatch' }), 'frame with detections: click a mark or a track to see its boxes',
  );
  const el = h(
    'section',
    { class: 'timeline', 'aria-label': 'Detections timeline' },
    h('div', { class: 'timeline-row' }, h('span', { class: 'timeline-name' }, 'frames'), h('div', { class: 'timeline-lane' }, bar, ticks)),
    rows,
    legend,
  );
  return {
    el,
    setPlayhead: (ms) => {
      playhead.style.left = at(ms);
    },
    setRange: (startMs, endMs) => {
      range.hidden = startMs == null;
      if (startMs != null) Object.assign(range.style, span(startMs, endMs));
    },
  };
}
