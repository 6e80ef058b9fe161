// The review view (`/review`): the events of the user's cameras, unreviewed first, newest first,
// grouped by camera and hour; each with its snapshot, label and score. Opening one plays its
// recording at the event's best moment with the object's box drawn; "Mark reviewed" for one or
// all; a "N new" pill when events arrive while the view is open.
//
// New events are noticed by asking `GET /v1/events?start_after=<newest shown>` every `pollMs`,
// and at once when the per-user stream (`GET /v1/events/stream`, `event: event`, where the
// deployment serves it: `config.liveArrivals`) announces an event the view does not show
// (docs/CONTRACTS.md, "Events", "Live status"); the polling also finds the events of devices
// owned after the stream opened.

import { followArrivals } from './arrivals.js';
import { h, replace } from './dom.js';
import { formatTime } from './format.js';
import { drawBoxes, stage } from './overlay.js';
import { showError } from './ui.js';

export const REVIEW_PATH = '/review';
const PAGE_SIZE = 100;
const MAX_PAGES = 5;
const BOX_SHOWN_MS = 1500;

/** "cam-1 · 7 Dec 2026, 14:00" key and title of the hour an event starts in, per camera. */
export function hourGroup(event) {
  const start = new Date(event.start_at);
  const hour = new Date(start);
  hour.setMinutes(0, 0, 0);
  const title = `${event.camera_id} · ${hour.toLocaleString(undefined, {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
  })}`;
  return { key: `${event.device_id}/${event.camera_id}/${hour.toISOString()}`, title, hour: hour.getTime() };
}

/**
 * Events in the order the view shows them: unreviewed first, then reviewed; within each, groups
 * of one camera and one hour, newest hour first (cameras by name within an hour); within a
 * group, newest first.
 * @returns {{reviewed: boolean, groups: {key: string, title: string, events: object[]}[]}[]}
 */
export function arrange(events) {
  const sections = [];
  for (const reviewed of [false, true]) {
    const groups = new Map();
    const chosen = events
      .filter((e) => Boolean(e.reviewed_at) === reviewed)
      .sort((a, b) => (a.start_at < b.start_at ? 1 : a.start_at > b.start_at ? -1 : 0));
    for (const event of chosen) {
      const group = hourGroup(event);
      if (!groups.has(group.key)) groups.set(group.key, { ...group, camera: event.camera_id, events: [] });
      groups.get(group.key).events.push(event);
    }
    const ordered = [...groups.values()].sort((a, b) => b.hour - a.hour || a.camera.localeCompare(b.camera));
    sections.push({ reviewed, groups: ordered });
  }
  return sections;
}

/** "person 62 %" */
export function scoreText(event) {
  return `${event.label} ${Math.round(event.best_score * 100)} %`;
}

/**
 * The review view.
 * @param {{api: object, pollMs?: number}} options
 */
export function createReview({ api, pollMs = 5000 }) {
  let events = [];
  let fresh = 0;
  let timer = null;
  let stream = null;
  let pending = null;
  let player = null;
  let visible = false;
  const list = h('div', { class: 'review-list' });
  const pill = h('button', { type: 'button', class: 'pill', hidden: true, onclick: () => load() });
  const markAll = h('button', { type: 'button', onclick: () => reviewAll() }, 'Mark all reviewed');
  const summary = h('p', { class: 'muted', role: 'status' });
  const pane = h('section', { class: 'review-player', 'aria-label': 'Event', hidden: true });
  const el = h(
    'section',
    { class: 'review', 'aria-label': 'Review', hidden: true },
    h('div', { class: 'review-head' }, h('h1', null, 'Review'), pill, h('div', { class: 'spacer' }), markAll),
    summary,
    pane,
    list,
  );

  async function load() {
    fresh = 0;
    pill.hidden = true;
    const found = [];
    for (const reviewed of [false, true]) {
      let cursor = null;
      for (let page = 0; page < MAX_PAGES; page += 1) {
        const body = await api.events({ reviewed }, cursor, PAGE_SIZE);
        found.push(...body.items);
        cursor = body.next_cursor;
        if (!cursor) break;
      }
    }
    events = found;
    render();
  }

  function render() {
    const unreviewed = events.filter((e) => !e.reviewed_at).length;
    summary.textContent = `${events.length} events, ${unreviewed} unreviewed`;
    markAll.disabled = unreviewed === 0;
    const sections = arrange(events).map(({ reviewed, groups }) =>
      h(
        'section',
        { class: 'review-section', 'aria-label': reviewed ? 'Reviewed' : 'Unreviewed' },
        h('h2', null, reviewed ? 'Reviewed' : 'Unreviewed'),
        groups.length ? null : h('p', { class: 'muted' }, reviewed ? 'Nothing reviewed yet.' : 'All caught up.'),
        groups.map((group) =>
          h(
            'section',
            { class: 'review-group', 'aria-label': group.title },
            h('h3', null, group.title),
            h('ul', { class: 'review-cards', 'aria-label': `Events of ${group.title}` }, group.events.map(card)),
          ),
        ),
      ),
    );
    replace(list, sections);
  }

  function card(event) {
    const open = h(
      'button',
      { type: 'button', class: 'review-open', 'aria-label': `Open ${event.label} at ${formatTime(event.start_at)}`, onclick: () => openEvent(event) },
      event.snapshot_url
        ? h('img', { src: event.snapshot_url, alt: `${event.label} snapshot`, loading: 'lazy' })
        : h('span', { class: 'no-snapshot' }, 'no snapshot'),
    );
    const mark = h(
      'button',
      { type: 'button', onclick: () => review(event, !event.reviewed_at) },
      event.reviewed_at ? 'Mark unreviewed' : 'Mark reviewed',
    );
    return h(
      'li',
      { class: `review-card${event.reviewed_at ? ' reviewed' : ''}`, dataset: { event: event.event_id } },
      open,
      h(
        'div',
        { class: 'review-meta' },
        h('span', { class: `chip label-chip label-${event.label.replace(/[^a-z0-9_-]/gi, '')}` }, event.label),
        h('span', { class: 'score' }, `${Math.round(event.best_score * 100)} %`),
        h('time', { datetime: event.start_at }, formatTime(event.start_at)),
      ),
      mark,
    );
  }

  async function review(event, reviewed) {
    try {
      const updated = await api.reviewEvent(event.event_id, reviewed);
      // The answer carries no snapshot URL (the review route signs none): keep the one shown.
      events = events.map((e) =>
        e.event_id === updated.event_id ? { ...updated, snapshot_url: e.snapshot_url } : e,
      );
      render();
    } catch (error) {
      showError(error, { context: 'Review' });
    }
  }

  async function reviewAll() {
    markAll.disabled = true;
    try {
      while ((await api.reviewEvents({})).updated > 0);
      await load();
    } catch (error) {
      showError(error, { context: 'Review' });
      markAll.disabled = false;
    }
  }

  async function openEvent(event) {
    player?.stop();
    const { media } = await api.media(event.best_media_id);
    const width = media.properties?.width_px;
    const height = media.properties?.height_px;
    const { url } = await api.download(event.best_media_id);
    const video = media.media_type === 'video';
    const element = video
      ? h('video', { class: 'media', src: url, controls: true, muted: true, playsinline: true, preload: 'auto' })
      : h('img', { class: 'media', src: url, alt: `${event.label} in ${event.camera_id}` });
    const { el: shown, layer } = stage(element, width, height);
    const boxed = [{ label: event.label, score: event.best_score, box: event.box, time_ms: event.best_time_ms }];
    const atMs = event.best_time_ms ?? 0;
    const sync = () => {
      const near = !video || Math.abs(element.currentTime * 1000 - atMs) <= BOX_SHOWN_MS;
      drawBoxes(layer, near && event.box ? boxed : [], width, height);
    };
    if (video) {
      element.addEventListener('loadedmetadata', () => {
        element.currentTime = atMs / 1000;
      });
      element.addEventListener('timeupdate', sync);
      element.addEventListener('seeked', sync);
    }
    sync();
    const close = h('button', { type: 'button', onclick: () => player?.stop() }, 'Close');
    replace(
      pane,
      h('h2', null, `${scoreText(event)} · ${event.camera_id} · ${formatTime(event.start_at)}`),
      shown,
      h('div', { class: 'review-actions' },
        h('a', { href: `/media/${encodeURIComponent(event.media_id)}` }, 'Open the recording'),
        event.clip_media_id && h('a', { href: `/media/${encodeURIComponent(event.clip_media_id)}` }, 'Open the event clip'),
        close),
    );
    pane.hidden = false;
    player = {
      stop: () => {
        if (video) element.pause();
        replace(pane);
        pane.hidden = true;
        player = null;
      },
    };
    pane.scrollIntoView({ block: 'nearest' });
  }

  async function poll() {
    if (!visible) return;
    try {
      const newest = events.reduce((max, e) => (e.start_at > max ? e.start_at : max), '');
      const known = new Set(events.map((e) => e.event_id));
      const body = await api.events(newest ? { start_after: newest } : {}, null, PAGE_SIZE);
      fresh = body.items.filter((e) => !known.has(e.event_id)).length;
      pill.hidden = fresh === 0;
      pill.textContent = `${fresh} new`;
    } catch (error) {
      showError(error, { context: 'New events' });
    }
  }

  /** Ask for new events soon (one request for a burst of announcements). */
  function pollSoon() {
    if (pending) return;
    pending = setTimeout(() => {
      pending = null;
      poll();
    }, 250);
  }

  function follow() {
    // the stream follows the devices owned when it opened: polling still finds the others
    timer = setInterval(poll, pollMs);
    if (!api.config?.liveArrivals) return;
    stream = followArrivals({
      api,
      onEvent: (doc) => {
        if (!events.some((e) => e.event_id === doc.event_id)) pollSoon();
      },
      onUnavailable: () => {
        stream = null;
      },
    });
  }

  function stop() {
    clearInterval(timer);
    timer = null;
    clearTimeout(pending);
    pending = null;
    stream?.close();
    stream = null;
  }

  return {
    el,
    /** Show (and load) or hide the view. */
    show(on) {
      visible = on;
      el.hidden = !on;
      stop();
      if (!on) {
        player?.stop();
        return;
      }
      load().catch((error) => showError(error, { context: 'Review' }));
      follow();
    },
    destroy() {
      visible = false;
      stop();
      player?.stop();
    },
  };
}

/**
 * The review view as a route's view (`views.js`): rendered into `container`.
 * @param {{api: object, container: HTMLElement, pollMs?: number}} options
 * @returns {{destroy: () => void}}
 */
export function renderReview({ api, container, pollMs }) {
  const review = createReview({ api, pollMs: pollMs || undefined });
  container.replaceChildren(review.el);
  review.show(true);
  return { destroy: () => review.destroy() };
}
