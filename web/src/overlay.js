// Detections over the picture: labelled boxes over an image, and over a video where they are
// at the playhead (each track's box interpolated between its samples, shown only near one),
// with a timeline of tracks and frames to click and a storyboard preview while hovering it.
//
// Boxes are in pixels of the oriented full-resolution image or frame (`properties.width_px` x
// `height_px`); they are drawn as percentages of a stage whose aspect ratio is the media's, so
// they stay on the object at any size.

import { h, replace } from './dom.js';
import { formatMs } from './format.js';

const MIN_TARGET_PX = 24;

const SEEK_TOLERANCE_MS = 40;
const DEFAULT_INTERVAL_MS = 1000;
/** Consecutive samples of a track further apart than this many intervals are not bridged. */
const BRIDGE_INTERVALS = 1.5;

/** Sorted distinct frame times (ms) of a video's detections. */
export function frameTimes(detections) {
  return [...new Set(detections.filter((d) => d.time_ms != null).map((d) => d.time_ms))].sort(
    (a, b) => a - b,
  );
}

/** The shortest gap between sample times (the sampling interval where none is stated). */
export function sampleWindowMs(times, fallback = DEFAULT_INTERVAL_MS) {
  let gap = Infinity;
  for (let i = 1; i < times.length; i += 1) gap = Math.min(gap, times[i] - times[i - 1]);
  return Number.isFinite(gap) && gap > 0 ? gap : fallback;
}

/**
 * The samples of each track, in time order: track id (or a key of its own for a box without a
 * track) -> [{time_ms, detection}], the best box of each time.
 */
export function trackSamples(detections) {
  const tracks = new Map();
  detections.forEach((d, index) => {
    if (d.time_ms == null) return;
    const key = d.track_id != null ? `t${d.track_id}` : `d${index}`;
    const samples = tracks.get(key) || [];
    const same = samples.find((s) => s.time_ms === d.time_ms);
    if (!same) samples.push({ time_ms: d.time_ms, detection: d });
    else if (d.score > same.detection.score) same.detection = d;
    tracks.set(key, samples);
  });
  for (const samples of tracks.values()) samples.sort((a, b) => a.time_ms - b.time_ms);
  return tracks;
}

/**
 * The sampling interval of a video's detector: the analysis' `detect_interval_ms` when it says,
 * else the shortest gap between neighbouring samples of one track, else between any samples.
 */
export function samplingIntervalMs(detections, analysis) {
  const stated = analysis?.detect_interval_ms;
  if (Number.isFinite(stated) && stated > 0) return stated;
  let gap = Infinity;
  for (const samples of trackSamples(detections).values()) {
    for (let i = 1; i < samples.length; i += 1) gap = Math.min(gap, samples[i].time_ms - samples[i - 1].time_ms);
  }
  if (Number.isFinite(gap) && gap > 0) return gap;
  return sampleWindowMs(frameTimes(detections));
}

function lerp(a, b, f) {
  return a + (b - a) * f;
}

/**
 * The boxes to draw at playback time `ms`: a box is shown only within half a sampling interval
 * of its sample, and between two neighbouring samples of one track (at most 1.5 intervals
 * apart, or any two of a track in `stationary`, keys as `trackSamples` makes them) it moves
 * linearly from one to the other. A seek lands a few ms early, hence a small
 * tolerance. Each box is a detection (label, score, track_id) with the box at `ms`.
 */
export function boxesAt(tracks, ms, intervalMs, stationary = new Set()) {
  const half = intervalMs / 2;
  const shown = [];
  for (const [key, samples] of tracks.entries()) {
    let next = samples.findIndex((s) => s.time_ms > ms + SEEK_TOLERANCE_MS);
    if (next === -1) next = samples.length;
    const before = samples[next - 1];
    const after = samples[next];
    // a stationary track (it stayed in place) is sampled sparsely: its box stays between samples
    const bridged = stationary.has(key) || (after && before && after.time_ms - before.time_ms <= intervalMs * BRIDGE_INTERVALS);
    if (before && after && bridged) {
      const f = Math.min(1, Math.max(0, (ms - before.time_ms) / (after.time_ms - before.time_ms)));
      const a = before.detection.box;
      const b = after.detection.box;
      shown.push({
        ...before.detection,
        time_ms: Math.round(ms),
        sample_ms: before.time_ms,
        box: { x: lerp(a.x, b.x, f), y: lerp(a.y, b.y, f), w: lerp(a.w, b.w, f), h: lerp(a.h, b.h, f) },
      });
      continue;
    }
    const near = [before, after]
      .filter((s) => s && Math.abs(ms - s.time_ms) <= half + SEEK_TOLERANCE_MS)
      .sort((x, y) => Math.abs(ms - x.time_ms) - Math.abs(ms - y.time_ms))[0];
    if (near) shown.push({ ...near.detection, sample_ms: near.time_ms });
  }
  return shown;
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
export function timeline({ durationMs, tracks, detections, motion, onSeek, storyboard }) {
  const duration = Math.max(1, durationMs || 1);
  const at = (ms) => `${((Math.max(0, Math.min(duration, ms)) / duration) * 100).toFixed(3)}%`;
  const span = (start, end) => ({ left: at(start), width: at(Math.max(0, end - start)) });
  const playhead = h('div', { class: 'playhead', 'aria-hidden': 'true' });
  const preview = storyboardPreview(storyboard);
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
    preview?.el,
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
  // One mark per sampled frame, merged with the frames after it where marks would sit closer
  // than a touch target (24 px, WCAG 2.2 target size) at the timeline's width: a mark seeks to
  // the first frame it stands for, is named after that frame, and says how many more it holds.
  const times = [...byTime.keys()].sort((a, b) => a - b);
  const ticks = h('div', { class: 'timeline-ticks' });
  const mark = ({ ms, labels, more }) => {
    const also = more ? ` (and ${more} more ${more === 1 ? 'frame' : 'frames'})` : '';
    const said = `${[...new Set(labels)].join(', ')} at ${formatMs(ms)}${also}`;
    return h('button', {
      type: 'button',
      class: 'tick',
      style: { left: at(ms) },
      title: said,
      'aria-label': said,
      onclick: () => onSeek(ms),
    });
  };
  const renderTicks = (widthPx) => {
    const groups = [];
    for (const ms of times) {
      const last = groups[groups.length - 1];
      if (last && ((ms - last.ms) / duration) * widthPx < MIN_TARGET_PX) last.more += 1;
      else groups.push({ ms, labels: byTime.get(ms), more: 0 });
    }
    ticks.replaceChildren(...groups.map(mark));
  };
  renderTicks(Infinity); // until laid out: every frame its mark
  if (typeof ResizeObserver !== 'undefined') {
    new ResizeObserver((entries) => {
      const width = entries[entries.length - 1].contentRect.width;
      if (width > 0) renderTicks(width);
    }).observe(ticks);
  }
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
    h('div', { class: 'timeline-row' }, h('span', { class: 'timeline-name' }, 'frames'),
      // the whole lane (bar and frame marks) previews the storyboard frame under the pointer
      h('div', {
        class: 'timeline-lane',
        onpointermove: (event) => {
          const rect = bar.getBoundingClientRect();
          const fraction = Math.min(1, Math.max(0, (event.clientX - rect.left) / rect.width));
          preview?.show(fraction * duration, fraction);
        },
        onpointerleave: () => preview?.hide(),
      }, bar, ticks)),
    rows,
    legend,
  );
  return {
    el,
    setPlayhead: (ms) => {
      playhead.style.left = at(ms);
    },
    /** Show the storyboard frame of `ms` above the bar (scrubbing), or hide it (null). */
    preview: (ms) => (ms == null ? preview?.hide() : preview?.show(ms, ms / duration)),
    setRange: (startMs, endMs) => {
      range.hidden = startMs == null;
      if (startMs != null) Object.assign(range.style, span(startMs, endMs));
    },
  };
}

/**
 * The storyboard tile of time `ms` (docs/CONTRACTS.md, "Renditions"): the last tile whose time
 * is at or before it. Returns its index and its offset in the sprite, in pixels.
 */
export function storyboardTile(index, ms) {
  const times = index.times_ms || [];
  let tile = 0;
  for (let i = 0; i < times.length; i += 1) {
    if (times[i] <= ms) tile = i;
    else break;
  }
  const columns = Math.max(1, index.columns || 1);
  return {
    tile,
    x: (tile % columns) * index.tile_width_px,
    y: Math.floor(tile / columns) * index.tile_height_px,
  };
}

function storyboardPreview(storyboard) {
  const index = storyboard?.details;
  if (!storyboard?.url || !index?.times_ms?.length) return null;
  const picture = h('div', { class: 'storyboard-frame' });
  Object.assign(picture.style, {
    width: `${index.tile_width_px}px`,
    height: `${index.tile_height_px}px`,
    backgroundImage: `url("${storyboard.url}")`,
  });
  const label = h('span', { class: 'storyboard-time' });
  const el = h('div', { class: 'storyboard-preview', hidden: true, 'aria-hidden': 'true' }, picture, label);
  return {
    el,
    show(ms, fraction) {
      const { x, y } = storyboardTile(index, ms);
      picture.style.backgroundPosition = `-${x}px -${y}px`;
      label.textContent = formatMs(ms);
      el.style.left = `${(Math.min(1, Math.max(0, fraction)) * 100).toFixed(2)}%`;
      el.hidden = false;
      el.dataset.ms = String(Math.round(ms));
    },
    hide() {
      el.hidden = true;
    },
  };
}

/** The `trackSamples` keys of the tracks that stood still (`stationary` in the track records). */
export function stationaryKeys(tracks) {
  return new Set((tracks || []).filter((t) => t.stationary).map((t) => `t${t.track_id}`));
}
